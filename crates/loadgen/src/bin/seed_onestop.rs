//! `egov-seed-onestop`: fills a demo database with a year of a province's one-stop work —
//! by default 1,000,000 dossiers across Thanh Hóa's 166 communes and the provincial centre,
//! every procedure of the catalogue, with applicants, components, steps and events — and
//! creates benchmark officers. Writes `bench-accounts.json` (officers, passwords, sample
//! dossiers) next to the database for `egov-loadgen`. Not part of CI; see `scripts/bench.sh`.
//!
//! The rows are written in bulk, as the use cases would have left them; the counter, the
//! queue and the statistics then see a realistic database.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use egov_app::{Actor, App, Settings};
use egov_domain::calendar::{Limit, OfficeHours, WorkCalendar};
use egov_domain::onestop::procedure::ProcedureVersion;
use egov_domain::onestop::process::{Process, StepAgency};
use egov_store::{Arg, Db, Exec};
use time::{Duration, OffsetDateTime};

#[derive(Parser)]
struct Args {
    /// The data directory of a database seeded with `egov demo --seed-only`.
    #[arg(long)]
    data_dir: String,
    /// PostgreSQL instead of the SQLite file in the data directory.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 1_000_000)]
    dossiers: usize,
    /// Communes that get a benchmark one-stop officer and specialist.
    #[arg(long, default_value_t = 40)]
    officers: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// What became of a dossier: state, step, finished, returned, closed, timeliness.
type Fate = (
    &'static str,
    usize,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
    Option<&'static str>,
);

/// SplitMix64: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() as f64 / u64::MAX as f64) < p
    }

    /// Picks by weight.
    fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|i| i.1).sum();
        let mut r = (self.next() % u64::from(total)) as u32;
        for (item, w) in items {
            if r < *w {
                return item;
            }
            r -= w;
        }
        &items[items.len() - 1].0
    }
}

// Family names by their share of the population (per mille), middle and given names.
const SURNAMES: &[(&str, u32)] = &[
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 50),
    ("Vũ", 39),
    ("Phan", 45),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Trịnh", 20),
    ("Mai", 10),
    ("Lương", 8),
    ("Cao", 8),
];
const MIDDLE_M: &[&str] = &[
    "Văn", "Hữu", "Đức", "Minh", "Quang", "Xuân", "Ngọc", "Đình", "Công", "Thanh",
];
const MIDDLE_F: &[&str] = &[
    "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Phương", "Minh", "Kim", "Hồng",
];
const GIVEN_M: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hải", "Hùng", "Huy", "Khánh", "Long", "Minh",
    "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tài", "Thắng", "Thành", "Toàn", "Trung",
    "Tuấn", "Việt", "Vinh", "Bảo", "Hiếu", "Hoàng", "Kiên",
];
const GIVEN_F: &[&str] = &[
    "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Huyền", "Lan", "Linh",
    "Loan", "Mai", "My", "Nga", "Ngọc", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo", "Thủy",
    "Trang", "Tuyết", "Vân", "Yến", "Hồng", "Thu", "Liên",
];

fn person_name(r: &mut Rng) -> String {
    let s = r.weighted(SURNAMES);
    if r.chance(0.5) {
        format!(
            "{s} {} {}",
            MIDDLE_M[r.below(MIDDLE_M.len())],
            GIVEN_M[r.below(GIVEN_M.len())]
        )
    } else {
        format!(
            "{s} {} {}",
            MIDDLE_F[r.below(MIDDLE_F.len())],
            GIVEN_F[r.below(GIVEN_F.len())]
        )
    }
}

struct Catalogue {
    procedure_id: i64,
    process_id: i64,
    p: ProcedureVersion,
    process: Process,
}

struct Counter {
    id: i64,
    code: String,
    /// The competent agency for department procedures received here (the centre).
    department: bool,
}

/// Rows for a multi-row INSERT, flushed every `per` rows.
struct Batch<'a> {
    db: &'a Db,
    head: String,
    cols: usize,
    per: usize,
    rows: usize,
    args: Vec<Arg>,
    written: u64,
}

impl<'a> Batch<'a> {
    fn new(db: &'a Db, table: &str, columns: &str) -> Batch<'a> {
        let cols = columns.split(',').count();
        Batch {
            db,
            head: format!("INSERT INTO {table} ({columns}) VALUES "),
            cols,
            per: (30_000 / cols).min(1000),
            rows: 0,
            args: Vec::new(),
            written: 0,
        }
    }

    /// Adds a row; the caller flushes (parents before children) once a batch is full.
    async fn push(&mut self, row: Vec<Arg>) -> Result<()> {
        debug_assert_eq!(row.len(), self.cols);
        self.args.extend(row);
        self.rows += 1;
        Ok(())
    }

    /// Full, with room for one more dossier's rows.
    fn full(&self) -> bool {
        self.rows + 16 >= self.per
    }

    async fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut sql = self.head.clone();
        let mut n = 0;
        for r in 0..self.rows {
            sql.push_str(if r == 0 { "(" } else { ",(" });
            for c in 0..self.cols {
                n += 1;
                if c > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("${n}"));
            }
            sql.push(')');
        }
        let args = std::mem::take(&mut self.args);
        let mut ex = self.db;
        ex.execute(&sql, args).await?;
        self.written += self.rows as u64;
        self.rows = 0;
        Ok(())
    }
}

fn a<T: Into<Arg>>(v: T) -> Arg {
    v.into()
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut settings = Settings {
        data_dir: args.data_dir.clone().into(),
        ..Settings::default()
    };
    if let Some(u) = &args.database_url {
        settings.database.url = u.clone();
    }
    let app = App::open(settings)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = app.db().clone();
    let mut ex = &db;
    let seeded: Option<String> = ex
        .fetch_optional(
            "SELECT value FROM settings WHERE key = 'demo.seeded'",
            vec![],
        )
        .await?
        .map(|r: (String,)| r.0);
    if seeded.is_none() {
        bail!(
            "seed the demo first: egov --data-dir {} demo --seed-only",
            args.data_dir
        );
    }
    let existing: i64 = ex.scalar("SELECT COUNT(*) FROM dossiers", vec![]).await?;
    if existing > 1000 {
        bail!("the database already has {existing} dossiers");
    }
    let started = Instant::now();
    let mut rng = Rng(args.seed);

    // The catalogue in force.
    let mut catalogue = Vec::new();
    let rows: Vec<(i64, String, String)> = ex
        .fetch_all(
            "SELECT id, code, data_json FROM procedures WHERE effective_to IS NULL ORDER BY code",
            vec![],
        )
        .await?;
    for (id, code, json) in rows {
        let p: ProcedureVersion = serde_json::from_str(&json)?;
        let (pid, pjson): (i64, String) = ex
            .fetch_one(
                "SELECT id, data_json FROM processes WHERE procedure_code = $1 AND effective_to IS NULL",
                vec![a(code.clone())],
            )
            .await?;
        catalogue.push(Catalogue {
            procedure_id: id,
            process_id: pid,
            p,
            process: serde_json::from_str(&pjson)?,
        });
    }
    let commune_procs: Vec<usize> = (0..catalogue.len())
        .filter(|i| {
            catalogue[*i].p.levels.iter().any(|l| {
                matches!(
                    l,
                    egov_domain::onestop::procedure::ImplementingLevel::Commune
                )
            })
        })
        .collect();
    let dept_procs: Vec<usize> = (0..catalogue.len())
        .filter(|i| !commune_procs.contains(i))
        .collect();

    // Counters: the 166 communes and the provincial centre; agencies by short name.
    let communes: Vec<(i64, String)> = ex
        .fetch_all(
            "SELECT a.id, a.code FROM agencies a JOIN admin_units u ON u.id = a.admin_unit_id \
             WHERE u.structure = 'two_tier' AND u.level = 'commune' ORDER BY u.code",
            vec![],
        )
        .await?;
    let bodies: Vec<(i64, String, String)> = ex
        .fetch_all(
            "SELECT id, code, short_name FROM agencies WHERE kind = 'department' AND valid_to IS NULL",
            vec![],
        )
        .await?;
    let by_short: HashMap<String, i64> = bodies.iter().map(|b| (b.2.clone(), b.0)).collect();
    let centre = bodies
        .iter()
        .find(|b| b.2 == "TTPVHCC")
        .context("the provincial centre is missing")?;
    let mut counters: Vec<(Counter, u32)> = communes
        .iter()
        .map(|(id, code)| {
            (
                Counter {
                    id: *id,
                    code: code.clone(),
                    department: false,
                },
                // Wards and big communes receive more.
                1 + (rng.below(4) as u32),
            )
        })
        .collect();
    counters.push((
        Counter {
            id: centre.0,
            code: centre.1.clone(),
            department: true,
        },
        60,
    ));

    // Benchmark officers for the first communes.
    let sys = Actor::system("bench");
    let mut accounts = Vec::new();
    for (i, (id, _)) in communes.iter().take(args.officers).enumerate() {
        for (role, user) in [
            ("one_stop_officer", format!("motcua.b{i}")),
            ("specialist", format!("chuyenvien.b{i}")),
        ] {
            let password = format!("bench-{user}-{}", args.seed);
            let p = app
                .create_person(
                    &sys,
                    egov_app::people::NewOfficial {
                        username: user.clone(),
                        full_name: person_name(&mut rng),
                        email: None,
                        phone: None,
                        password: password.clone(),
                        agency_id: Some(*id),
                        org_unit_id: None,
                        position_key: None,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            app.grant_role(
                &sys,
                p.id,
                egov_app::org::GrantRole {
                    role: role.into(),
                    agency_id: Some(*id),
                    org_unit_id: None,
                    reason: "benchmark".into(),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            accounts.push((user, password, *id, role));
        }
    }
    let bench_people: HashMap<(i64, &str), i64> = {
        let mut m = HashMap::new();
        for (user, _, agency, role) in &accounts {
            let p = egov_store::people::find_by_username(&mut ex, user)
                .await?
                .context("bench officer")?;
            m.insert((*agency, *role), p.id);
        }
        m
    };
    eprintln!(
        "officers: {} in {:.1}s",
        accounts.len(),
        started.elapsed().as_secs_f64()
    );

    // Applicants: about 0.6 per dossier (people come back).
    let applicants_n = (args.dossiers * 6 / 10).max(1);
    let first_applicant: i64 = ex
        .scalar("SELECT COALESCE(MAX(id), 0) FROM applicants", vec![])
        .await?;
    let now = egov_store::now();
    let mut people = Vec::with_capacity(applicants_n);
    {
        let mut b = Batch::new(
            &db,
            "applicants",
            "id, kind, identifier, name, name_fold, phone, created_at",
        );
        let mut seen = std::collections::HashSet::new();
        for i in 0..applicants_n {
            let name = person_name(&mut rng);
            let ident = loop {
                // Province 038, the century-and-sex digit, the year of birth, six digits.
                let century = rng.below(4);
                let year = if century < 2 {
                    40 + rng.below(60)
                } else {
                    rng.below(8)
                };
                let v = format!("038{century}{year:02}{:06}", rng.below(1_000_000));
                if seen.insert(v.clone()) {
                    break v;
                }
            };
            let phone = format!("09{:08}", rng.below(100_000_000));
            let id = first_applicant + 1 + i as i64;
            if b.full() {
                b.flush().await?;
            }
            b.push(vec![
                a(id),
                a("citizen"),
                a(ident),
                a(name.clone()),
                a(egov_domain::text::fold(&name)),
                a(phone.clone()),
                a(now),
            ])
            .await?;
            people.push((id, name, phone));
        }
        b.flush().await?;
    }
    eprintln!(
        "applicants: {} in {:.1}s",
        people.len(),
        started.elapsed().as_secs_f64()
    );

    // Dossiers over the past year, in order of receipt.
    let cal: std::sync::Arc<WorkCalendar> = app
        .work_calendar()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let hours: OfficeHours = app
        .office_hours(None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let year_ago = now - Duration::days(365);
    let mut times: Vec<OffsetDateTime> = (0..args.dossiers)
        .map(|_| {
            // Office hours of a working day, in Vietnam time.
            loop {
                let day = year_ago + Duration::days(rng.below(365) as i64);
                let local = day.to_offset(egov_domain::VN_OFFSET);
                if cal.is_working(local.date()) != Some(true) {
                    continue;
                }
                let minute = 7 * 60 + 30 + rng.below(9 * 60) as i64;
                let t = local
                    .date()
                    .midnight()
                    .assume_offset(egov_domain::VN_OFFSET)
                    + Duration::minutes(minute);
                if t < now {
                    break t;
                }
            }
        })
        .collect();
    times.sort();
    let first_dossier: i64 = ex
        .scalar("SELECT COALESCE(MAX(id), 0) FROM dossiers", vec![])
        .await?;
    let mut seq: HashMap<(i64, time::Date), u32> = HashMap::new();
    let mut d_batch = Batch::new(
        &db,
        "dossiers",
        "id, code, procedure_id, process_id, procedure_code, field_code, receiving_agency_id, \
         competent_agency_id, applicant_id, applicant_name, applicant_phone, channel, state, \
         national_status, step, steps, current_agency_id, step_role, assignee_id, step_due, \
         supplements, counts_late, subject, submitted_at, received_at, appointment, \
         original_appointment, finished_at, returned_at, closed_at, timeliness, fee_total, paid, \
         digitised, reused_data, lookup_token, search_fold, month, version, created_at, updated_at, \
         eid_verified, paid_online, result_json",
    );
    // What the scorecard reads besides: the national portal's acceptance, citizens' ratings.
    let mut n_batch = Batch::new(
        &db,
        "national_dossiers",
        "dossier_id, agency_id, due_version, sent_version, created, state, next_at, first_due_at, \
         synced_at, updated_at",
    );
    let mut r_batch = Batch::new(
        &db,
        "national_ratings",
        "dossier_code, dossier_id, score, comment, rated_at, pulled_at",
    );
    let mut c_batch = Batch::new(
        &db,
        "dossier_components",
        "dossier_id, code, name, kind, quantity, required, provided, reused",
    );
    let mut s_batch = Batch::new(
        &db,
        "dossier_steps",
        "dossier_id, seq, name, agency_id, role, assignee_id, started_at, due_at, finished_at, timeliness",
    );
    let mut e_batch = Batch::new(
        &db,
        "dossier_events",
        "dossier_id, at, actor_id, actor, event, from_state, to_state, step, data_json",
    );
    let channels = [(1i64, 55u32), (2, 40), (3, 5)];
    let mut samples: HashMap<i64, Vec<(i64, String, String)>> = HashMap::new();
    for (i, submitted) in times.iter().enumerate() {
        let id = first_dossier + 1 + i as i64;
        let counter = &rng.weighted(&counters).clone_ref();
        let proc_idx = if counter.department {
            dept_procs[rng.below(dept_procs.len())]
        } else {
            commune_procs[rng.below(commune_procs.len())]
        };
        let c = &catalogue[proc_idx];
        let competent = if counter.department {
            c.p.department
                .as_deref()
                .and_then(|s| by_short.get(s).copied())
                .unwrap_or(counter.id)
        } else {
            counter.id
        };
        let local = submitted.to_offset(egov_domain::VN_OFFSET);
        let n = seq.entry((counter.id, local.date())).or_insert(0);
        *n += 1;
        let code = egov_domain::onestop::code::format_code(
            egov_domain::onestop::code::DEFAULT_FORMAT,
            &counter.code,
            local.date(),
            u64::from(*n),
        );
        let (applicant_id, name, phone) = &people[rng.below(people.len())];
        let channel = *rng.weighted(&channels);
        let limit = match c.p.same_day_cutoff {
            Some(cut) => Limit::SameDay { cutoff: cut },
            None => c
                .process
                .published_limit
                .to_limit()
                .unwrap_or(Limit::WorkingDays { halves: 6 }),
        };
        let appointment = cal
            .due_with(&hours, *submitted, limit, &[])
            .map(|d| d.at)
            .unwrap_or(*submitted + Duration::days(7));
        // What happened since: older dossiers are finished; recent ones still move.
        let age_days = (now - *submitted).whole_days();
        let roll = rng.below(1000);
        let steps = c.process.steps.len();
        let agency_of = |s: &StepAgency| match s {
            StepAgency::Receiving => counter.id,
            StepAgency::Competent => competent,
            StepAgency::Agency(x) => by_short.get(x).copied().unwrap_or(competent),
        };
        let span = appointment - *submitted;
        // Finished: early 70 %, on time 22 %, late 8 %.
        let finish_at = |r: &mut Rng| -> (OffsetDateTime, &'static str) {
            let t = r.below(100);
            if t < 70 {
                (
                    *submitted + span * (0.3 + 0.6 * (r.below(1000) as f64 / 1000.0)),
                    "early",
                )
            } else if t < 92 {
                (
                    appointment - Duration::minutes(r.below(30) as i64),
                    "on_time",
                )
            } else {
                (
                    appointment + Duration::hours(2 + r.below(72) as i64),
                    "late",
                )
            }
        };
        let (state, step, finished, returned, closed, timeliness): Fate = if roll < 15 {
            ("rejected", 0, None, None, Some(*submitted), None)
        } else if age_days > 20 || roll < 300 {
            let (f, t) = finish_at(&mut rng);
            if f > now {
                (
                    "processing",
                    1 + rng.below(steps.saturating_sub(2).max(1)),
                    None,
                    None,
                    None,
                    None,
                )
            } else if roll < 25 {
                ("withdrawn", 1, None, None, Some(f), None)
            } else {
                let r = f + Duration::hours(1 + rng.below(48) as i64);
                if r > now {
                    ("result_ready", steps - 1, Some(f), None, None, Some(t))
                } else {
                    ("returned", steps - 1, Some(f), Some(r), Some(r), Some(t))
                }
            }
        } else if roll < 340 {
            ("awaiting_supplement", 1, None, None, None, None)
        } else {
            (
                "processing",
                1 + rng.below(steps.saturating_sub(2).max(1)),
                None,
                None,
                None,
                None,
            )
        };
        let open = closed.is_none() && finished.is_none();
        let cur = &c.process.steps[step.min(steps - 1)];
        let cur_agency = agency_of(&cur.agency);
        let role = cur.role.as_str();
        let assignee = if open {
            bench_people.get(&(cur_agency, role)).copied()
        } else {
            None
        };
        let step_due = if open {
            Some((*submitted + span * ((step as f64 + 1.0) / steps as f64)).min(appointment))
        } else {
            None
        };
        let national = egov_domain::onestop::dossier::State::parse(state)
            .map(|s| i64::from(s.national_code()))
            .unwrap_or(4);
        let fee: i64 = c.p.fees.iter().map(|f| f.amount(1, false)).sum();
        let digitised = rng.chance(0.7);
        // Online dossiers: most signed in with the national e-ID, many paid on the portal;
        // finished ones mostly with an electronic result.
        let eid = channel == 2 && rng.chance(0.85);
        let paid_online = channel == 2 && fee > 0 && rng.chance(0.6);
        let result_json = finished
            .filter(|_| rng.chance(0.55))
            .map(|_| format!("{{\"file\":\"{:064x}\"}}", id));
        let month = format!("{:04}-{:02}", local.year(), u8::from(local.month()));
        let fold = format!(
            "{} {}",
            egov_domain::text::fold(&format!("{code} {name} {}", c.p.name)),
            egov_store::fts::agency_words(&[counter.id, competent])
        );
        d_batch
            .push(vec![
                a(id),
                a(code.clone()),
                a(c.procedure_id),
                a(c.process_id),
                a(c.p.code.as_str().to_owned()),
                a(c.p.field_code.clone()),
                a(counter.id),
                a(competent),
                a(*applicant_id),
                a(name.clone()),
                a(phone.clone()),
                a(channel),
                a(state),
                a(national),
                a(step as i64),
                a(steps as i64),
                a(if open { Some(cur_agency) } else { None }),
                a(if open { Some(role.to_owned()) } else { None }),
                a(assignee),
                a(step_due),
                a(i64::from(state == "awaiting_supplement")),
                a(timeliness == Some("late")),
                a(String::new()),
                a(*submitted),
                a(if state == "rejected" {
                    None
                } else {
                    Some(*submitted)
                }),
                a(if state == "rejected" {
                    None
                } else {
                    Some(appointment)
                }),
                a(if state == "rejected" {
                    None
                } else {
                    Some(appointment)
                }),
                a(finished),
                a(returned),
                a(closed),
                a(timeliness.map(str::to_owned)),
                a(fee),
                a(fee == 0 || finished.is_some()),
                a(digitised),
                a(rng.chance(0.2)),
                a(egov_app::auth::random_token(18)),
                a(fold),
                a(month),
                a(3i64),
                a(*submitted),
                a(returned.or(finished).unwrap_or(*submitted)),
                a(eid),
                a(paid_online),
                a(result_json),
            ])
            .await?;
        if state != "rejected" && rng.chance(0.93) {
            let at = returned.or(finished).unwrap_or(*submitted);
            n_batch
                .push(vec![
                    a(id),
                    a(competent),
                    a(3i64),
                    a(3i64),
                    a(true),
                    a("synced"),
                    a(at),
                    a(*submitted),
                    a(Some(at)),
                    a(at),
                ])
                .await?;
        }
        if let Some(done) = finished.filter(|_| rng.chance(0.08)) {
            let score = *rng.weighted(&[(5i64, 60u32), (4, 25), (3, 8), (2, 4), (1, 3)]);
            r_batch
                .push(vec![
                    a(code.clone()),
                    a(id),
                    a(score),
                    a(String::new()),
                    a(done),
                    a(done),
                ])
                .await?;
        }
        for comp in &c.p.components {
            c_batch
                .push(vec![
                    a(id),
                    a(comp.code.clone()),
                    a(comp.name.clone()),
                    a(serde_json::to_value(comp.kind)?
                        .as_str()
                        .unwrap_or("copy")
                        .to_owned()),
                    a(i64::from(comp.quantity)),
                    a(comp.required),
                    a(true),
                    a(false),
                ])
                .await?;
        }
        if state != "rejected" {
            let last = if open { step } else { steps - 1 };
            for (k, st) in c.process.steps.iter().enumerate().take(last + 1) {
                let started = *submitted + span * (k as f64 / steps as f64);
                let due = *submitted + span * ((k as f64 + 1.0) / steps as f64);
                let done = k < last || !open;
                s_batch
                    .push(vec![
                        a(id),
                        a(k as i64),
                        a(st.name.clone()),
                        a(agency_of(&st.agency)),
                        a(st.role.as_str().to_owned()),
                        a(None::<i64>),
                        a(started),
                        a(due),
                        a(if done {
                            Some(due - Duration::minutes(5))
                        } else {
                            None
                        }),
                        a(if done { Some("early".to_owned()) } else { None }),
                    ])
                    .await?;
            }
        }
        let mut ev = vec![("submit", None, "submitted", *submitted)];
        if state == "rejected" {
            ev.push(("refuse", Some("submitted"), "rejected", *submitted));
        } else {
            ev.push(("receive", Some("submitted"), "received", *submitted));
            for k in 1..=step.min(steps - 1) {
                ev.push((
                    "transfer",
                    Some("processing"),
                    "processing",
                    *submitted + span * (k as f64 / steps as f64),
                ));
            }
            if let Some(f) = finished {
                ev.push(("finish", Some("processing"), "result_ready", f));
            }
            if let Some(r) = returned {
                ev.push(("return_result", Some("result_ready"), "returned", r));
            }
        }
        for (event, from, to, at) in ev {
            e_batch
                .push(vec![
                    a(id),
                    a(at),
                    a(None::<i64>),
                    a("system:bench"),
                    a(event),
                    a(from.map(str::to_owned)),
                    a(to),
                    a(0i64),
                    a("{}"),
                ])
                .await?;
        }
        if d_batch.full() || c_batch.full() || s_batch.full() || e_batch.full() {
            d_batch.flush().await?;
            c_batch.flush().await?;
            s_batch.flush().await?;
            e_batch.flush().await?;
            n_batch.flush().await?;
            r_batch.flush().await?;
        }
        let s = samples.entry(competent).or_default();
        if s.len() < 200 && rng.chance(0.05) {
            s.push((id, code, name.clone()));
        }
        if (i + 1) % 100_000 == 0 {
            eprintln!(
                "dossiers: {} in {:.1}s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    d_batch.flush().await?;
    c_batch.flush().await?;
    s_batch.flush().await?;
    e_batch.flush().await?;
    n_batch.flush().await?;
    r_batch.flush().await?;
    // Counters continue after the seeded sequences; identity columns after the seeded ids.
    for ((agency, day), n) in &seq {
        ex.execute(
            "INSERT INTO counters (scope, key, value) VALUES ('dossier', $1, $2) \
             ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
            vec![a(format!("{agency}:{day}")), a(i64::from(*n))],
        )
        .await?;
    }
    if db.dialect_name() == "postgres" {
        for t in ["applicants", "dossiers"] {
            ex.execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"
                ),
                vec![],
            )
            .await?;
        }
        ex.execute("ANALYZE", vec![]).await?;
    } else {
        ex.execute("ANALYZE", vec![]).await?;
    }
    let out = serde_json::json!({
        "dossiers": d_batch.written,
        "components": c_batch.written,
        "steps": s_batch.written,
        "events": e_batch.written,
        "applicants": people.len(),
        "seconds": started.elapsed().as_secs_f64(),
    });
    let bench = serde_json::json!({
        "officers": accounts.iter().map(|(u, p, agency, role)| serde_json::json!({
            "username": u, "password": p, "agency_id": agency, "role": role,
            "samples": samples.get(agency).map(|s| s.iter().map(|(id, code, name)| serde_json::json!({"id": id, "code": code, "name": name})).collect::<Vec<_>>()).unwrap_or_default(),
        })).collect::<Vec<_>>(),
    });
    let path = std::path::Path::new(&args.data_dir).join("bench-accounts.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&bench)?)?;
    println!("{out}");
    Ok(())
}

impl Counter {
    fn clone_ref(&self) -> Counter {
        Counter {
            id: self.id,
            code: self.code.clone(),
            department: self.department,
        }
    }
}
