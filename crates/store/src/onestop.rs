//! One-stop storage: procedures and processes, dossiers with their components, steps, pauses and
//! events, gapless counters, and the queries officers need (queue, search, register,
//! statistics), all scoped by permission inside SQL.

use egov_domain::onestop::dossier::{Channel, State};
use time::{Date, OffsetDateTime};

use crate::db::{Arg, Batch, Dialect, Exec};
use crate::{StoreError, args};

/// The next value of a gapless counter. It is incremented inside the caller's transaction: a
/// rollback gives the number back, and concurrent transactions queue on the counter's row.
pub async fn next_counter(ex: &mut impl Exec, scope: &str, key: &str) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO counters (scope, key, value) VALUES ($1, $2, 1) \
         ON CONFLICT (scope, key) DO UPDATE SET value = counters.value + 1 RETURNING value",
        args![scope, key],
    )
    .await
}

/// The next number of a dossier code (the gapless counter `dossier`/`key`) and the id the
/// dossier will have, in one statement. Taken inside the receipt's write transaction: on SQLite
/// writers take turns, so the next row id is free; on PostgreSQL it comes from the sequence.
pub async fn next_dossier_number(ex: &mut impl Exec, key: &str) -> Result<(i64, i64), StoreError> {
    let next_id = match ex.dialect() {
        Dialect::Sqlite => "(SELECT COALESCE(MAX(id), 0) + 1 FROM dossiers)",
        Dialect::Postgres => "nextval(pg_get_serial_sequence('dossiers', 'id'))",
    };
    let row: (i64, i64) = ex
        .fetch_one(
            &format!(
                "INSERT INTO counters (scope, key, value) VALUES ('dossier', $1, 1) \
                 ON CONFLICT (scope, key) DO UPDATE SET value = counters.value + 1 RETURNING value, {next_id}"
            ),
            args![key],
        )
        .await?;
    Ok(row)
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProcedureRow {
    pub id: i64,
    pub code: String,
    pub version: i64,
    pub name: String,
    pub field_code: String,
    pub field_name: String,
    /// Comma-separated implementing levels.
    pub levels: String,
    pub online: String,
    /// The full version (see the procedure endpoint); not repeated in lists.
    pub data_json: String,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
}

const PROC_COLS: &str = "id, code, version, name, field_code, field_name, levels, online, data_json, effective_from, effective_to";

pub struct NewProcedure<'a> {
    pub code: &'a str,
    pub version: i64,
    pub name: &'a str,
    pub field_code: &'a str,
    pub field_name: &'a str,
    pub levels: &'a str,
    pub online: &'a str,
    pub data_json: &'a str,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
}

pub async fn insert_procedure(
    ex: &mut impl Exec,
    p: &NewProcedure<'_>,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO procedures (code, version, name, name_fold, field_code, field_name, levels, online, \
         data_json, effective_from, effective_to, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        args![
            p.code,
            p.version,
            p.name,
            egov_domain::text::fold(&format!("{} {}", p.code, p.name)),
            p.field_code,
            p.field_name,
            p.levels,
            p.online,
            p.data_json,
            p.effective_from,
            p.effective_to,
            now
        ],
    )
    .await
}

/// Ends the open version of a procedure (or process) the day before a new one starts.
pub async fn close_procedure_version(
    ex: &mut impl Exec,
    code: &str,
    last_day: Date,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE procedures SET effective_to = $2 WHERE code = $1 AND effective_to IS NULL AND effective_from <= $2",
        args![code, last_day],
    )
    .await
}

pub async fn get_procedure(ex: &mut impl Exec, id: i64) -> Result<ProcedureRow, StoreError> {
    ex.fetch_one(
        &format!("SELECT {PROC_COLS} FROM procedures WHERE id = $1"),
        args![id],
    )
    .await
}

/// The version of a procedure in force on a date.
pub async fn procedure_in_force(
    ex: &mut impl Exec,
    code: &str,
    on: Date,
) -> Result<Option<ProcedureRow>, StoreError> {
    ex.fetch_optional(
        &format!(
            "SELECT {PROC_COLS} FROM procedures WHERE code = $1 AND effective_from <= $2 \
             AND (effective_to IS NULL OR effective_to >= $2) ORDER BY version DESC LIMIT 1"
        ),
        args![code, on],
    )
    .await
}

pub async fn procedure_versions(
    ex: &mut impl Exec,
    code: &str,
) -> Result<Vec<ProcedureRow>, StoreError> {
    ex.fetch_all(
        &format!("SELECT {PROC_COLS} FROM procedures WHERE code = $1 ORDER BY version"),
        args![code],
    )
    .await
}

pub async fn max_procedure_version(ex: &mut impl Exec, code: &str) -> Result<i64, StoreError> {
    let v: Option<i64> = ex
        .scalar(
            "SELECT MAX(version) FROM procedures WHERE code = $1",
            args![code],
        )
        .await?;
    Ok(v.unwrap_or(0))
}

/// Procedures in force on a date, searched by folded words.
pub async fn search_procedures(
    ex: &mut impl Exec,
    words: &[String],
    on: Date,
    limit: i64,
) -> Result<Vec<ProcedureRow>, StoreError> {
    let mut sql = format!(
        "SELECT {PROC_COLS} FROM procedures WHERE effective_from <= $1 AND (effective_to IS NULL OR effective_to >= $1)"
    );
    let mut a: Vec<Arg> = args![on];
    for w in words {
        a.push(Arg::from(format!("%{w}%")));
        sql.push_str(&format!(" AND name_fold LIKE ${}", a.len()));
    }
    a.push(Arg::from(limit));
    sql.push_str(&format!(" ORDER BY field_name, name LIMIT ${}", a.len()));
    ex.fetch_all(&sql, a).await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProcessRow {
    pub id: i64,
    pub procedure_code: String,
    pub version: i64,
    pub data_json: String,
    pub effective_from: Date,
    pub effective_to: Option<Date>,
}

pub async fn insert_process(
    ex: &mut impl Exec,
    code: &str,
    version: i64,
    data_json: &str,
    from: Date,
    to: Option<Date>,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO processes (procedure_code, version, data_json, effective_from, effective_to, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        args![code, version, data_json, from, to, now],
    )
    .await
}

pub async fn close_process_version(
    ex: &mut impl Exec,
    code: &str,
    last_day: Date,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE processes SET effective_to = $2 WHERE procedure_code = $1 AND effective_to IS NULL AND effective_from <= $2",
        args![code, last_day],
    )
    .await
}

pub async fn process_in_force(
    ex: &mut impl Exec,
    code: &str,
    on: Date,
) -> Result<Option<ProcessRow>, StoreError> {
    ex.fetch_optional(
        "SELECT id, procedure_code, version, data_json, effective_from, effective_to FROM processes \
         WHERE procedure_code = $1 AND effective_from <= $2 AND (effective_to IS NULL OR effective_to >= $2) \
         ORDER BY version DESC LIMIT 1",
        args![code, on],
    )
    .await
}

pub async fn get_process(ex: &mut impl Exec, id: i64) -> Result<ProcessRow, StoreError> {
    ex.fetch_one(
        "SELECT id, procedure_code, version, data_json, effective_from, effective_to FROM processes WHERE id = $1",
        args![id],
    )
    .await
}

pub async fn max_process_version(ex: &mut impl Exec, code: &str) -> Result<i64, StoreError> {
    let v: Option<i64> = ex
        .scalar(
            "SELECT MAX(version) FROM processes WHERE procedure_code = $1",
            args![code],
        )
        .await?;
    Ok(v.unwrap_or(0))
}

/// A dossier with the names officers need.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DossierRow {
    pub id: i64,
    pub code: String,
    pub national_code: Option<String>,
    pub procedure_id: i64,
    pub process_id: i64,
    pub procedure_code: String,
    pub procedure_name: String,
    pub field_code: String,
    pub receiving_agency_id: i64,
    pub receiving_agency_name: String,
    pub competent_agency_id: i64,
    pub competent_agency_name: String,
    pub applicant_id: i64,
    pub applicant_name: String,
    pub applicant_phone: Option<String>,
    /// 1 counter, 2 online, 3 post.
    #[sqlx(try_from = "i64")]
    pub channel: Channel,
    #[sqlx(try_from = "String")]
    pub state: State,
    pub national_status: i64,
    pub step: i64,
    pub steps: i64,
    pub current_agency_id: Option<i64>,
    pub step_role: Option<String>,
    pub assignee_id: Option<i64>,
    pub step_due: Option<OffsetDateTime>,
    pub supplement_before_receipt: bool,
    pub supplements: i64,
    pub apologies: i64,
    pub counts_late: bool,
    pub subject: String,
    pub submitted_at: OffsetDateTime,
    pub received_at: Option<OffsetDateTime>,
    pub appointment: Option<OffsetDateTime>,
    pub original_appointment: Option<OffsetDateTime>,
    pub extended_to: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
    pub returned_at: Option<OffsetDateTime>,
    pub closed_at: Option<OffsetDateTime>,
    pub timeliness: Option<String>,
    pub fee_total: i64,
    pub paid: bool,
    pub digitised: bool,
    pub reused_data: bool,
    pub eid_verified: bool,
    pub paid_online: bool,
    pub result_json: Option<String>,
    pub lookup_token: String,
    pub month: String,
    pub version: i64,
}

const DOSSIER_SELECT: &str = "SELECT d.id, d.code, d.national_code, d.procedure_id, d.process_id, d.procedure_code, \
    p.name AS procedure_name, d.field_code, d.receiving_agency_id, ra.name AS receiving_agency_name, \
    d.competent_agency_id, ca.name AS competent_agency_name, d.applicant_id, d.applicant_name, d.applicant_phone, \
    d.channel, d.state, d.national_status, d.step, d.steps, d.current_agency_id, d.step_role, d.assignee_id, \
    d.step_due, d.supplement_before_receipt, d.supplements, d.apologies, d.counts_late, d.subject, \
    d.submitted_at, d.received_at, d.appointment, d.original_appointment, d.extended_to, d.finished_at, \
    d.returned_at, d.closed_at, d.timeliness, d.fee_total, d.paid, d.digitised, d.reused_data, d.eid_verified, \
    d.paid_online, d.result_json, d.lookup_token, d.month, d.version \
    FROM dossiers d JOIN procedures p ON p.id = d.procedure_id \
    JOIN agencies ra ON ra.id = d.receiving_agency_id JOIN agencies ca ON ca.id = d.competent_agency_id";

pub struct NewDossier<'a> {
    pub code: &'a str,
    pub procedure_id: i64,
    pub process_id: i64,
    pub procedure_code: &'a str,
    pub field_code: &'a str,
    pub receiving_agency_id: i64,
    pub competent_agency_id: i64,
    pub applicant_id: i64,
    pub applicant_name: &'a str,
    pub applicant_phone: Option<&'a str>,
    pub channel: Channel,
    pub steps: i64,
    pub subject: &'a str,
    pub submitted_at: OffsetDateTime,
    pub fee_total: i64,
    pub digitised: bool,
    pub reused_data: bool,
    /// The National Public Service Portal's code of a dossier submitted there.
    pub national_code: Option<&'a str>,
    /// The applicant's portal account was verified with the national e-ID.
    pub eid_verified: bool,
    /// The fees were paid on the national payment platform.
    pub paid_online: bool,
    pub lookup_token: &'a str,
    pub search_fold: &'a str,
    pub month: &'a str,
    /// Where the reception left it (received, waiting for a supplement, refused).
    pub state: &'a DossierUpdate,
}

impl NewDossier<'_> {
    /// The row [`add_dossier`] writes, as [`get_dossier`] would read it back; the names are
    /// those of the procedure and of the receiving and competent agencies.
    pub fn row(&self, id: i64, names: [&str; 3]) -> DossierRow {
        let [procedure, receiving, competent] = names.map(str::to_owned);
        let u = self.state;
        DossierRow {
            id,
            code: self.code.into(),
            national_code: self.national_code.map(str::to_owned),
            procedure_id: self.procedure_id,
            process_id: self.process_id,
            procedure_code: self.procedure_code.into(),
            procedure_name: procedure,
            field_code: self.field_code.into(),
            receiving_agency_id: self.receiving_agency_id,
            receiving_agency_name: receiving,
            competent_agency_id: self.competent_agency_id,
            competent_agency_name: competent,
            applicant_id: self.applicant_id,
            applicant_name: self.applicant_name.into(),
            applicant_phone: self.applicant_phone.map(str::to_owned),
            channel: self.channel,
            state: u.state,
            national_status: u.national_status,
            step: u.step,
            steps: self.steps,
            current_agency_id: u.current_agency_id,
            step_role: u.step_role.clone(),
            assignee_id: u.assignee_id,
            step_due: u.step_due,
            supplement_before_receipt: u.supplement_before_receipt,
            supplements: u.supplements,
            apologies: u.apologies,
            counts_late: u.counts_late,
            subject: self.subject.into(),
            submitted_at: self.submitted_at,
            received_at: u.received_at,
            appointment: u.appointment,
            original_appointment: u.original_appointment,
            extended_to: u.extended_to,
            finished_at: u.finished_at,
            returned_at: u.returned_at,
            closed_at: u.closed_at,
            timeliness: u.timeliness.clone(),
            fee_total: self.fee_total,
            paid: u.paid,
            digitised: self.digitised,
            reused_data: self.reused_data,
            eid_verified: self.eid_verified,
            paid_online: self.paid_online,
            result_json: u.result_json.clone(),
            lookup_token: self.lookup_token.into(),
            month: self.month.into(),
            version: 0,
        }
    }
}

/// Adds a new dossier (with the id [`next_dossier_number`] gave it) to a batch.
pub fn add_dossier(b: &mut Batch, id: i64, d: &NewDossier<'_>, now: OffsetDateTime) {
    let mut row = args![
        id,
        d.code,
        d.procedure_id,
        d.process_id,
        d.procedure_code,
        d.field_code,
        d.receiving_agency_id,
        d.competent_agency_id,
        d.applicant_id,
        d.applicant_name,
        d.applicant_phone,
        d.channel.code(),
        d.steps,
        d.subject,
        d.submitted_at,
        d.fee_total,
        d.digitised,
        d.reused_data,
        d.lookup_token,
        d.search_fold,
        d.month,
        now,
        now,
        d.national_code,
        d.eid_verified,
        d.paid_online
    ];
    let (names, values): (Vec<&str>, Vec<Arg>) = d.state.columns().into_iter().unzip();
    row.extend(values);
    b.insert(
        &format!(
            "INSERT INTO dossiers (id, code, procedure_id, process_id, procedure_code, field_code, \
             receiving_agency_id, competent_agency_id, applicant_id, applicant_name, applicant_phone, channel, \
             steps, subject, submitted_at, fee_total, digitised, reused_data, lookup_token, search_fold, month, \
             created_at, updated_at, national_code, eid_verified, paid_online, {})",
            names.join(", ")
        ),
        [row],
    );
}

pub async fn get_dossier(ex: &mut impl Exec, id: i64) -> Result<DossierRow, StoreError> {
    ex.fetch_one(&format!("{DOSSIER_SELECT} WHERE d.id = $1"), args![id])
        .await
}

pub async fn find_dossier_by_code(
    ex: &mut impl Exec,
    code: &str,
) -> Result<Option<DossierRow>, StoreError> {
    ex.fetch_optional(&format!("{DOSSIER_SELECT} WHERE d.code = $1"), args![code])
        .await
}

pub async fn find_dossier_by_national_code(
    ex: &mut impl Exec,
    code: &str,
) -> Result<Option<DossierRow>, StoreError> {
    ex.fetch_optional(
        &format!("{DOSSIER_SELECT} WHERE d.national_code = $1"),
        args![code],
    )
    .await
}

pub async fn find_dossier_by_token(
    ex: &mut impl Exec,
    token: &str,
) -> Result<Option<DossierRow>, StoreError> {
    ex.fetch_optional(
        &format!("{DOSSIER_SELECT} WHERE d.lookup_token = $1"),
        args![token],
    )
    .await
}

/// The state a transition writes. Applied only if the dossier's version is still `version`
/// (two officers acting at once: the second gets a conflict).
#[derive(Debug, Clone, Default)]
pub struct DossierUpdate {
    pub state: State,
    pub national_status: i64,
    pub step: i64,
    pub current_agency_id: Option<i64>,
    pub step_role: Option<String>,
    pub assignee_id: Option<i64>,
    pub step_due: Option<OffsetDateTime>,
    pub supplement_before_receipt: bool,
    pub supplements: i64,
    pub apologies: i64,
    pub counts_late: bool,
    pub received_at: Option<OffsetDateTime>,
    pub appointment: Option<OffsetDateTime>,
    pub original_appointment: Option<OffsetDateTime>,
    pub extended_to: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
    pub returned_at: Option<OffsetDateTime>,
    pub closed_at: Option<OffsetDateTime>,
    pub timeliness: Option<String>,
    pub paid: bool,
    pub result_json: Option<String>,
}

impl DossierUpdate {
    /// The columns a transition writes, each beside its value: one list, so that no column can
    /// be paired with another's value (the INSERT of a receipt and the UPDATE of a transition
    /// both read it).
    fn columns(&self) -> [(&'static str, Arg); 21] {
        [
            ("state", Arg::from(self.state.as_str())),
            ("national_status", Arg::from(self.national_status)),
            ("step", Arg::from(self.step)),
            ("current_agency_id", Arg::from(self.current_agency_id)),
            ("step_role", Arg::from(self.step_role.as_deref())),
            ("assignee_id", Arg::from(self.assignee_id)),
            ("step_due", Arg::from(self.step_due)),
            (
                "supplement_before_receipt",
                Arg::from(self.supplement_before_receipt),
            ),
            ("supplements", Arg::from(self.supplements)),
            ("apologies", Arg::from(self.apologies)),
            ("counts_late", Arg::from(self.counts_late)),
            ("received_at", Arg::from(self.received_at)),
            ("appointment", Arg::from(self.appointment)),
            ("original_appointment", Arg::from(self.original_appointment)),
            ("extended_to", Arg::from(self.extended_to)),
            ("finished_at", Arg::from(self.finished_at)),
            ("returned_at", Arg::from(self.returned_at)),
            ("closed_at", Arg::from(self.closed_at)),
            ("timeliness", Arg::from(self.timeliness.as_deref())),
            ("paid", Arg::from(self.paid)),
            ("result_json", Arg::from(self.result_json.as_deref())),
        ]
    }

    pub fn from_row(d: &DossierRow) -> DossierUpdate {
        DossierUpdate {
            state: d.state,
            national_status: d.national_status,
            step: d.step,
            current_agency_id: d.current_agency_id,
            step_role: d.step_role.clone(),
            assignee_id: d.assignee_id,
            step_due: d.step_due,
            supplement_before_receipt: d.supplement_before_receipt,
            supplements: d.supplements,
            apologies: d.apologies,
            counts_late: d.counts_late,
            received_at: d.received_at,
            appointment: d.appointment,
            original_appointment: d.original_appointment,
            extended_to: d.extended_to,
            finished_at: d.finished_at,
            returned_at: d.returned_at,
            closed_at: d.closed_at,
            timeliness: d.timeliness.clone(),
            paid: d.paid,
            result_json: d.result_json.clone(),
        }
    }
}

/// Writes a transition; returns false when someone else changed the dossier first.
pub async fn update_dossier(
    ex: &mut impl Exec,
    id: i64,
    version: i64,
    u: &DossierUpdate,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut a = args![id, version];
    let sets: Vec<String> = u
        .columns()
        .into_iter()
        .map(|(c, v)| {
            a.push(v);
            format!("{c} = ${}", a.len())
        })
        .collect();
    a.push(Arg::from(now));
    let n = ex
        .execute(
            &format!(
                "UPDATE dossiers SET {}, version = version + 1, updated_at = ${} WHERE id = $1 AND version = $2",
                sets.join(", "),
                a.len()
            ),
            a,
        )
        .await?;
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ComponentRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub quantity: i64,
    pub required: bool,
    pub provided: bool,
    pub blob_sha: Option<String>,
    pub reused: bool,
    pub note: String,
}

#[allow(clippy::too_many_arguments)]
/// A component as the counter recorded it.
pub struct NewComponent<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub quantity: i64,
    pub required: bool,
    pub provided: bool,
    pub blob_sha: Option<&'a str>,
    pub reused: bool,
}

/// Adds a dossier's components to a batch.
pub fn add_components(b: &mut Batch, dossier_id: i64, cs: &[NewComponent<'_>]) {
    b.insert(
        "INSERT INTO dossier_components (dossier_id, code, name, kind, quantity, required, provided, \
         blob_sha, reused)",
        cs.iter().map(|c| {
            args![
                dossier_id, c.code, c.name, c.kind, c.quantity, c.required, c.provided, c.blob_sha,
                c.reused
            ]
        }),
    );
}

pub async fn components(
    ex: &mut impl Exec,
    dossier_id: i64,
) -> Result<Vec<ComponentRow>, StoreError> {
    ex.fetch_all(
        "SELECT id, code, name, kind, quantity, required, provided, blob_sha, reused, note FROM dossier_components \
         WHERE dossier_id = $1 ORDER BY id",
        args![dossier_id],
    )
    .await
}

pub async fn mark_component(
    ex: &mut impl Exec,
    dossier_id: i64,
    code: &str,
    blob_sha: Option<&str>,
    reused: bool,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE dossier_components SET provided = TRUE, blob_sha = COALESCE($3, blob_sha), reused = reused OR $4 \
         WHERE dossier_id = $1 AND code = $2",
        args![dossier_id, code, blob_sha, reused],
    )
    .await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StepRow {
    pub id: i64,
    pub seq: i64,
    pub name: String,
    pub agency_id: Option<i64>,
    pub agency_name: Option<String>,
    pub role: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub started_at: Option<OffsetDateTime>,
    pub due_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
    pub handed_by: Option<i64>,
    pub handed_by_name: Option<String>,
    pub timeliness: Option<String>,
}

/// A process step as a new dossier gets it; the first one may start at once.
pub struct NewStep<'a> {
    pub seq: i64,
    pub name: &'a str,
    pub agency_id: Option<i64>,
    pub role: &'a str,
    pub started_at: Option<OffsetDateTime>,
    pub due_at: Option<OffsetDateTime>,
}

/// Adds a dossier's process steps to a batch.
pub fn add_steps(b: &mut Batch, dossier_id: i64, steps: &[NewStep<'_>]) {
    b.insert(
        "INSERT INTO dossier_steps (dossier_id, seq, name, agency_id, role, started_at, due_at)",
        steps.iter().map(|s| {
            args![
                dossier_id,
                s.seq,
                s.name,
                s.agency_id,
                s.role,
                s.started_at,
                s.due_at
            ]
        }),
    );
}

pub async fn start_step(
    ex: &mut impl Exec,
    dossier_id: i64,
    seq: i64,
    at: OffsetDateTime,
    due: Option<OffsetDateTime>,
    assignee: Option<i64>,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE dossier_steps SET started_at = $3, due_at = $4, assignee_id = COALESCE($5, assignee_id) \
         WHERE dossier_id = $1 AND seq = $2",
        args![dossier_id, seq, at, due, assignee],
    )
    .await?;
    Ok(())
}

pub async fn finish_step(
    ex: &mut impl Exec,
    dossier_id: i64,
    seq: i64,
    at: OffsetDateTime,
    by: Option<i64>,
    timeliness: &str,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE dossier_steps SET finished_at = $3, handed_by = $4, timeliness = $5 WHERE dossier_id = $1 AND seq = $2",
        args![dossier_id, seq, at, by, timeliness],
    )
    .await?;
    Ok(())
}

pub async fn assign_step(
    ex: &mut impl Exec,
    dossier_id: i64,
    seq: i64,
    person: i64,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE dossier_steps SET assignee_id = $3 WHERE dossier_id = $1 AND seq = $2",
        args![dossier_id, seq, person],
    )
    .await?;
    Ok(())
}

pub async fn shift_step_due(
    ex: &mut impl Exec,
    dossier_id: i64,
    seq: i64,
    due: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE dossier_steps SET due_at = $3 WHERE dossier_id = $1 AND seq = $2",
        args![dossier_id, seq, due],
    )
    .await?;
    Ok(())
}

pub async fn steps(ex: &mut impl Exec, dossier_id: i64) -> Result<Vec<StepRow>, StoreError> {
    ex.fetch_all(
        "SELECT s.id, s.seq, s.name, s.agency_id, a.name AS agency_name, s.role, s.assignee_id, \
         pa.full_name AS assignee_name, s.started_at, s.due_at, s.finished_at, s.handed_by, \
         pb.full_name AS handed_by_name, s.timeliness FROM dossier_steps s \
         LEFT JOIN agencies a ON a.id = s.agency_id LEFT JOIN people pa ON pa.id = s.assignee_id \
         LEFT JOIN people pb ON pb.id = s.handed_by WHERE s.dossier_id = $1 ORDER BY s.seq",
        args![dossier_id],
    )
    .await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PauseRow {
    pub id: i64,
    pub kind: String,
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
}

pub async fn open_pause(
    ex: &mut impl Exec,
    dossier_id: i64,
    kind: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO dossier_pauses (dossier_id, kind, started_at) VALUES ($1, $2, $3)",
        args![dossier_id, kind, at],
    )
    .await?;
    Ok(())
}

pub async fn close_pause(
    ex: &mut impl Exec,
    dossier_id: i64,
    at: OffsetDateTime,
) -> Result<Option<PauseRow>, StoreError> {
    let open: Option<PauseRow> = ex
        .fetch_optional(
            "SELECT id, kind, started_at, ended_at FROM dossier_pauses WHERE dossier_id = $1 AND ended_at IS NULL",
            args![dossier_id],
        )
        .await?;
    if let Some(p) = &open {
        ex.execute(
            "UPDATE dossier_pauses SET ended_at = $2 WHERE id = $1",
            args![p.id, at],
        )
        .await?;
    }
    Ok(open.map(|p| PauseRow {
        ended_at: Some(at),
        ..p
    }))
}

pub async fn pauses(ex: &mut impl Exec, dossier_id: i64) -> Result<Vec<PauseRow>, StoreError> {
    ex.fetch_all(
        "SELECT id, kind, started_at, ended_at FROM dossier_pauses WHERE dossier_id = $1 ORDER BY id",
        args![dossier_id],
    )
    .await
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub event: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub step: i64,
    pub data_json: String,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_event(
    ex: &mut impl Exec,
    dossier_id: i64,
    at: OffsetDateTime,
    actor_id: Option<i64>,
    actor: &str,
    event: &str,
    from: Option<&str>,
    to: &str,
    step: i64,
    data: &serde_json::Value,
) -> Result<(), StoreError> {
    let mut b = Batch::default();
    add_events(
        &mut b,
        dossier_id,
        &[NewEvent {
            at,
            actor_id,
            actor,
            event,
            from,
            to,
            step,
            data,
        }],
    );
    b.run(ex).await
}

/// An entry of a dossier's process-control log.
pub struct NewEvent<'a> {
    pub at: OffsetDateTime,
    pub actor_id: Option<i64>,
    pub actor: &'a str,
    pub event: &'a str,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub step: i64,
    pub data: &'a serde_json::Value,
}

/// Adds entries of a dossier's log to a batch.
pub fn add_events(b: &mut Batch, dossier_id: i64, events: &[NewEvent<'_>]) {
    b.insert(
        "INSERT INTO dossier_events (dossier_id, at, actor_id, actor, event, from_state, to_state, step, \
         data_json)",
        events.iter().map(|e| {
            args![
                dossier_id,
                e.at,
                e.actor_id,
                e.actor,
                e.event,
                e.from,
                e.to,
                e.step,
                e.data.to_string()
            ]
        }),
    );
}

pub async fn events(ex: &mut impl Exec, dossier_id: i64) -> Result<Vec<EventRow>, StoreError> {
    ex.fetch_all(
        "SELECT id, at, actor_id, actor, event, from_state, to_state, step, data_json FROM dossier_events \
         WHERE dossier_id = $1 ORDER BY id",
        args![dossier_id],
    )
    .await
}

/// The condition "the person may see dossier `d`" at `at`, binding its own arguments into `a`:
/// received or decided by an agency where they hold a role then.
pub fn visible(a: &mut Vec<Arg>, person: i64, at: OffsetDateTime) -> String {
    let (person, at) = (crate::bind(a, person), crate::bind(a, at));
    format!(
        "EXISTS (SELECT 1 FROM role_grants g WHERE g.person_id = {person} AND g.valid_from <= {at} \
         AND (g.valid_to IS NULL OR g.valid_to > {at}) \
         AND (g.agency_id IS NULL AND g.role = 'administrator' \
              OR g.agency_id = d.receiving_agency_id OR g.agency_id = d.competent_agency_id))"
    )
}

/// Open dossiers waiting for the person: at a step of an agency and role they hold, or
/// assigned to them. Soonest step deadline first.
pub async fn queue(
    ex: &mut impl Exec,
    person: i64,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<DossierRow>, StoreError> {
    // Two indexed paths, united: assigned to the person, or at a step of a role they hold
    // (an OR over both would scan every open dossier).
    ex.fetch_all(
        &format!(
            "{DOSSIER_SELECT} WHERE d.id IN (\
             SELECT q.id FROM dossiers q WHERE q.assignee_id = $1 AND q.closed_at IS NULL \
             UNION SELECT q.id FROM role_grants g JOIN dossiers q ON q.current_agency_id = g.agency_id \
             AND q.step_role = g.role AND q.closed_at IS NULL \
             WHERE g.person_id = $1 AND g.valid_from <= $2 AND (g.valid_to IS NULL OR g.valid_to > $2)) \
             ORDER BY d.step_due IS NULL, d.step_due, d.id LIMIT $3"
        ),
        args![person, now, limit],
    )
    .await
}

/// The online dossiers waiting for the person's check before acceptance (submitted, at a step
/// of a role they hold or assigned to them), oldest submission first — its own query, so a long
/// general queue never hides them.
pub async fn online_queue(
    ex: &mut impl Exec,
    person: i64,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<DossierRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "{DOSSIER_SELECT} WHERE d.id IN (\
             SELECT q.id FROM dossiers q WHERE q.assignee_id = $1 AND q.closed_at IS NULL \
             AND q.channel = 2 AND q.state = 'submitted' \
             UNION SELECT q.id FROM role_grants g JOIN dossiers q ON q.current_agency_id = g.agency_id \
             AND q.step_role = g.role AND q.closed_at IS NULL AND q.channel = 2 AND q.state = 'submitted' \
             WHERE g.person_id = $1 AND g.valid_from <= $2 AND (g.valid_to IS NULL OR g.valid_to > $2)) \
             ORDER BY d.submitted_at, d.id LIMIT $3"
        ),
        args![person, now, limit],
    )
    .await
}

/// The agencies whose dossiers the person sees (`None`: every agency, an administrator).
pub(crate) async fn visible_agencies(
    ex: &mut impl Exec,
    person: i64,
    now: OffsetDateTime,
) -> Result<Option<Vec<i64>>, StoreError> {
    let rows: Vec<(Option<i64>, String)> = ex
        .fetch_all(
            "SELECT DISTINCT agency_id, role FROM role_grants WHERE person_id = $1 AND valid_from <= $2 \
             AND (valid_to IS NULL OR valid_to > $2)",
            args![person, now],
        )
        .await?;
    if rows
        .iter()
        .any(|(a, r)| a.is_none() && r == "administrator")
    {
        return Ok(None);
    }
    let mut ids: Vec<i64> = rows.into_iter().filter_map(|r| r.0).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(Some(ids))
}

/// The order of a PostgreSQL full-text search within some agencies: newest first, by an
/// expression so that the planner cannot walk the primary key backwards and test each row. It
/// picks that walk when it expects many matches, and when they are few it reads the whole table:
/// 6.4 s for `thi & xuan:*` over the provincial centre at a million dossiers, against 33 ms
/// through the GIN index. The walk wins only for very common words (80 against 285 ms for
/// `nguyen:*` there). A search of the whole province (an administrator's) keeps the walk: its
/// matches are spread over every row, so the walk finds a page soon (`nguyen & van:*`: 338 ms
/// walking, 2.8 s sorted).
fn pg_newest_first(within_agencies: bool) -> &'static str {
    if within_agencies {
        "d.id + 0 DESC"
    } else {
        "d.id DESC"
    }
}

/// How many dossiers the whole words of a PostgreSQL search may match before the search gives
/// the prefix to the index instead ([`pg_search_by_whole_words`]).
const PG_WHOLE_WORD_CANDIDATES: i64 = 5_000;

/// A PostgreSQL search of several words, given the placeholders its caller bound: `all` every
/// word, the last a prefix; `whole` the whole words only (both with the reader's agencies);
/// `cap` the candidate cap; `page` the limit; `scope` the reader's visibility condition.
///
/// A GIN index expands a prefix (`hoa:*`) into every indexed word that starts so and gathers all
/// their rows before it can intersect anything: for "Hoàng Thị Hoa" in one commune that is most
/// of the 28 ms the search took at a million dossiers. The whole words and the agency are
/// intersected by the index alone (posting lists are skipped through, 4 ms), and the prefix is
/// checked on those candidates. When the whole words are too common (more than `cap` candidates,
/// "Nguyễn" across the provincial centre, say) the prefix goes to the index as before; a gating
/// condition keeps the branch not taken from running.
fn pg_search_by_whole_words(scope: &str, all: &str, whole: &str, cap: &str, page: &str) -> String {
    let order = pg_newest_first(true);
    format!(
        "WITH c AS MATERIALIZED (SELECT id, search_tsv, receiving_agency_id, competent_agency_id \
         FROM dossiers WHERE search_tsv @@ to_tsquery('simple', {whole}) LIMIT {cap}), \
         capped AS (SELECT count(*) >= {cap} AS v FROM c) \
         {DOSSIER_SELECT} WHERE d.id IN (\
         (SELECT d.id FROM c d WHERE NOT (SELECT v FROM capped) \
         AND d.search_tsv @@ to_tsquery('simple', {all}) AND {scope} ORDER BY d.id DESC LIMIT {page}) \
         UNION ALL \
         (SELECT d.id FROM dossiers d WHERE (SELECT v FROM capped) \
         AND d.search_tsv @@ to_tsquery('simple', {all}) AND {scope} ORDER BY {order} LIMIT {page})) \
         ORDER BY d.id DESC LIMIT {page}"
    )
}

/// Dossiers visible to the person, by exact code, code prefix or folded words of the applicant's
/// name and the procedure.
pub async fn search_dossiers(
    ex: &mut impl Exec,
    person: Option<i64>,
    q: &str,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<DossierRow>, StoreError> {
    search_dossiers_within(ex, person, q, now, limit, PG_WHOLE_WORD_CANDIDATES).await
}

/// [`search_dossiers`] with the candidate cap of [`pg_search_by_whole_words`] given, so that
/// tests can take both of its branches.
#[doc(hidden)]
pub async fn search_dossiers_within(
    ex: &mut impl Exec,
    person: Option<i64>,
    q: &str,
    now: OffsetDateTime,
    limit: i64,
    candidates: i64,
) -> Result<Vec<DossierRow>, StoreError> {
    let mut a: Vec<Arg> = Vec::new();
    let scope = match person {
        Some(p) => visible(&mut a, p, now),
        None => "TRUE".to_owned(),
    };
    let words = egov_domain::text::query_words(q);
    let trimmed = q.trim();
    let looks_like_code = trimmed.contains('-') && trimmed.bytes().any(|b| b.is_ascii_digit());
    let mut order = "d.id DESC";
    let cond = if looks_like_code {
        let from = crate::bind(&mut a, trimmed.to_owned());
        let to = crate::bind(&mut a, format!("{trimmed}~"));
        format!("d.code >= {from} AND d.code < {to}")
    } else {
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let agencies = match person {
            Some(p) => visible_agencies(ex, p, now).await?,
            None => None,
        };
        if agencies.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let agencies = agencies.unwrap_or_default();
        match ex.dialect() {
            Dialect::Sqlite => {
                let mut m = crate::fts::sqlite_all(&words);
                if !agencies.is_empty() {
                    m.push_str(&format!(
                        " AND ({})",
                        crate::fts::any_agency(&agencies, " OR ")
                    ));
                }
                let m = crate::bind(&mut a, m);
                format!("d.id IN (SELECT rowid FROM dossiers_fts WHERE dossiers_fts MATCH {m})")
            }
            Dialect::Postgres => {
                let within_agencies = !agencies.is_empty();
                let within = if within_agencies {
                    format!(" & ({})", crate::fts::any_agency(&agencies, " | "))
                } else {
                    String::new()
                };
                let all = crate::bind(&mut a, format!("{}{within}", crate::fts::pg_all(&words)));
                // Whole words narrow nothing without the agencies (an administrator's search of
                // the whole province): "nguyen & thi" alone is a third of all dossiers.
                if words.len() > 1 && within_agencies {
                    let whole =
                        crate::bind(&mut a, format!("{}{within}", crate::fts::pg_whole(&words)));
                    let cap = crate::bind(&mut a, candidates);
                    let page = crate::bind(&mut a, limit);
                    let sql = pg_search_by_whole_words(&scope, &all, &whole, &cap, &page);
                    return ex.fetch_all(&sql, a).await;
                }
                order = pg_newest_first(within_agencies);
                format!("d.search_tsv @@ to_tsquery('simple', {all})")
            }
        }
    };
    let limit = crate::bind(&mut a, limit);
    let sql = format!("{DOSSIER_SELECT} WHERE {cond} AND {scope} ORDER BY {order} LIMIT {limit}");
    ex.fetch_all(&sql, a).await
}

/// The tracking register (sổ theo dõi) of an agency for a period of receipt.
pub async fn register(
    ex: &mut impl Exec,
    agency_id: i64,
    from: OffsetDateTime,
    to: OffsetDateTime,
    limit: i64,
    offset: i64,
) -> Result<Vec<DossierRow>, StoreError> {
    ex.fetch_all(
        &format!(
            "{DOSSIER_SELECT} WHERE (d.receiving_agency_id = $1 OR d.competent_agency_id = $1) \
             AND d.submitted_at >= $2 AND d.submitted_at < $3 ORDER BY d.submitted_at, d.id LIMIT $4 OFFSET $5"
        ),
        args![agency_id, from, to, limit, offset],
    )
    .await
}

/// When each dossier of an agency's register left the counter (the start of its first
/// processing step).
pub async fn first_transfers(
    ex: &mut impl Exec,
    agency_id: i64,
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Result<Vec<(i64, Option<OffsetDateTime>)>, StoreError> {
    ex.fetch_all(
        "SELECT d.id, s.started_at FROM dossiers d JOIN dossier_steps s ON s.dossier_id = d.id AND s.seq = 1 \
         WHERE (d.receiving_agency_id = $1 OR d.competent_agency_id = $1) \
         AND d.submitted_at >= $2 AND d.submitted_at < $3",
        args![agency_id, from, to],
    )
    .await
}

/// Monthly figures of an agency (as competent agency), by procedure.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StatRow {
    pub procedure_code: String,
    pub field_code: String,
    pub received: i64,
    pub online: i64,
    pub counter: i64,
    pub post: i64,
    pub finished_early: i64,
    pub finished_on_time: i64,
    pub finished_late: i64,
    pub open_on_time: i64,
    pub open_overdue: i64,
    pub digitised: i64,
    pub reused_data: i64,
    pub handling_seconds: i64,
    pub finished: i64,
}

pub async fn monthly_stats(
    ex: &mut impl Exec,
    agency_id: i64,
    month: &str,
    now: OffsetDateTime,
) -> Result<Vec<StatRow>, StoreError> {
    let secs = match ex.dialect() {
        Dialect::Sqlite => {
            "CAST((julianday(d.finished_at) - julianday(d.received_at)) * 86400 AS INTEGER)"
        }
        Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM (d.finished_at - d.received_at)) AS BIGINT)",
    };
    ex.fetch_all(
        &format!(
            "SELECT d.procedure_code, d.field_code, COUNT(*) AS received, \
             SUM(CASE WHEN d.channel = 2 THEN 1 ELSE 0 END) AS online, \
             SUM(CASE WHEN d.channel = 1 THEN 1 ELSE 0 END) AS counter, \
             SUM(CASE WHEN d.channel = 3 THEN 1 ELSE 0 END) AS post, \
             SUM(CASE WHEN d.timeliness = 'early' THEN 1 ELSE 0 END) AS finished_early, \
             SUM(CASE WHEN d.timeliness = 'on_time' THEN 1 ELSE 0 END) AS finished_on_time, \
             SUM(CASE WHEN d.timeliness = 'late' THEN 1 ELSE 0 END) AS finished_late, \
             SUM(CASE WHEN d.finished_at IS NULL AND d.closed_at IS NULL AND (d.appointment IS NULL OR d.appointment >= $3) THEN 1 ELSE 0 END) AS open_on_time, \
             SUM(CASE WHEN d.finished_at IS NULL AND d.closed_at IS NULL AND d.appointment < $3 THEN 1 ELSE 0 END) AS open_overdue, \
             SUM(CASE WHEN d.digitised THEN 1 ELSE 0 END) AS digitised, \
             SUM(CASE WHEN d.reused_data THEN 1 ELSE 0 END) AS reused_data, \
             CAST(COALESCE(SUM(CASE WHEN d.finished_at IS NOT NULL AND d.received_at IS NOT NULL THEN {secs} END), 0) AS BIGINT) AS handling_seconds, \
             SUM(CASE WHEN d.finished_at IS NOT NULL THEN 1 ELSE 0 END) AS finished \
             FROM dossiers d WHERE d.competent_agency_id = $1 AND d.month = $2 \
             GROUP BY d.procedure_code, d.field_code ORDER BY d.field_code, d.procedure_code"
        ),
        args![agency_id, month, now],
    )
    .await
}

/// Records a status look-up attempt and returns how many there were for `key` since `since`.
pub async fn count_lookup(
    ex: &mut impl Exec,
    key: &str,
    now: OffsetDateTime,
    since: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.execute(
        "INSERT INTO lookup_attempts (key, at) VALUES ($1, $2)",
        args![key, now],
    )
    .await?;
    ex.scalar(
        "SELECT COUNT(*) FROM lookup_attempts WHERE key = $1 AND at > $2",
        args![key, since],
    )
    .await
}

/// Records one attempt under `key` (a failed match, say) without counting.
pub async fn record_lookup(
    ex: &mut impl Exec,
    key: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO lookup_attempts (key, at) VALUES ($1, $2)",
        args![key, now],
    )
    .await?;
    Ok(())
}

/// The attempts recorded under `key` since `since`.
pub async fn recent_lookups(
    ex: &mut impl Exec,
    key: &str,
    since: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "SELECT COUNT(*) FROM lookup_attempts WHERE key = $1 AND at > $2",
        args![key, since],
    )
    .await
}

pub async fn purge_lookups(ex: &mut impl Exec, before: OffsetDateTime) -> Result<u64, StoreError> {
    ex.execute("DELETE FROM lookup_attempts WHERE at < $1", args![before])
        .await
}
