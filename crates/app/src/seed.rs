//! Seed data: the position catalogue every deployment needs, and the demo province.

use crate::Code;
use egov_domain::admin_unit::{Structure, SuccessionKind};
use egov_domain::org::OrgUnitKind;
use egov_store::org::{self, Position};
use egov_store::{Exec, args, people};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::macros::date;

use crate::agencies::NewBody;
use crate::error::OrNotFound;
use crate::org::{GrantRole, NewDelegationCmd, NewOrgUnit};
use crate::people::NewOfficial;
use crate::{Actor, App, AppError, audit, data};

/// The position catalogue: (key, Vietnamese, English, rank).
pub const POSITIONS: [(&str, &str, &str, &str); 15] = [
    ("chu_tich", "Chủ tịch", "Chairperson", "head"),
    ("pho_chu_tich", "Phó Chủ tịch", "Vice-chairperson", "deputy"),
    ("giam_doc", "Giám đốc", "Director", "head"),
    ("pho_giam_doc", "Phó Giám đốc", "Deputy director", "deputy"),
    ("truong_ban", "Trưởng ban", "Head of board", "head"),
    (
        "pho_truong_ban",
        "Phó Trưởng ban",
        "Deputy head of board",
        "deputy",
    ),
    (
        "chanh_thanh_tra",
        "Chánh Thanh tra",
        "Chief inspector",
        "head",
    ),
    (
        "chanh_van_phong",
        "Chánh Văn phòng",
        "Chief of office",
        "unit_head",
    ),
    (
        "pho_chanh_van_phong",
        "Phó Chánh Văn phòng",
        "Deputy chief of office",
        "unit_deputy",
    ),
    (
        "truong_phong",
        "Trưởng phòng",
        "Head of division",
        "unit_head",
    ),
    (
        "pho_truong_phong",
        "Phó Trưởng phòng",
        "Deputy head of division",
        "unit_deputy",
    ),
    ("chuyen_vien", "Chuyên viên", "Specialist", "staff"),
    ("cong_chuc", "Công chức", "Civil servant", "staff"),
    (
        "cong_chuc_mot_cua",
        "Công chức Bộ phận Một cửa",
        "One-stop officer",
        "staff",
    ),
    ("van_thu", "Văn thư", "Records clerk", "staff"),
];

/// Adds or updates the position catalogue (idempotent).
pub async fn seed_positions(ex: &mut impl Exec) -> Result<(), AppError> {
    for (i, (key, vi, en, rank)) in POSITIONS.iter().enumerate() {
        org::upsert_position(
            ex,
            &Position {
                key: (*key).into(),
                name_vi: (*vi).into(),
                name_en: (*en).into(),
                rank: (*rank).into(),
                sort: i as i64 + 1,
            },
        )
        .await?;
    }
    Ok(())
}

/// A demo account, printed when the demo starts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub full_name: String,
    pub what: String,
    pub totp_secret: Option<String>,
}

/// Departments of the demo province: (name, abbreviation, valid until 28 Feb 2025?, successors).
const BODIES: [(&str, &str, bool); 22] = [
    ("Văn phòng Ủy ban nhân dân tỉnh", "VP", false),
    ("Sở Nội vụ", "SNV", false),
    ("Sở Tư pháp", "STP", false),
    ("Sở Tài chính", "STC", false),
    ("Sở Công Thương", "SCT", false),
    ("Sở Xây dựng", "SXD", false),
    ("Sở Khoa học và Công nghệ", "SKHCN", false),
    ("Sở Văn hóa, Thể thao và Du lịch", "SVHTTDL", false),
    ("Sở Giáo dục và Đào tạo", "SGDĐT", false),
    ("Sở Y tế", "SYT", false),
    ("Thanh tra tỉnh", "TTr", false),
    (
        "Ban Quản lý Khu kinh tế Nghi Sơn và các khu công nghiệp",
        "BQLKKTNS",
        false,
    ),
    ("Trung tâm Phục vụ hành chính công tỉnh", "TTPVHCC", false),
    ("Sở Kế hoạch và Đầu tư", "SKHĐT", true),
    ("Sở Giao thông vận tải", "SGTVT", true),
    ("Sở Thông tin và Truyền thông", "STTTT", true),
    ("Sở Lao động - Thương binh và Xã hội", "SLĐTBXH", true),
    ("Sở Nông nghiệp và Phát triển nông thôn", "SNNPTNT", true),
    ("Sở Tài nguyên và Môi trường", "STNMT", true),
    ("Ban Dân tộc", "BDT", true),
    ("Sở Nông nghiệp và Môi trường", "SNNMT", false),
    ("Sở Dân tộc và Tôn giáo", "SDTTG", false),
];

/// Which old body went into which new one on 1 March 2025: (old, new, kind, default).
const MERGERS: [(&str, &str, &str, bool); 9] = [
    ("SKHĐT", "STC", "merged", true),
    ("SGTVT", "SXD", "merged", true),
    ("STTTT", "SKHCN", "merged", true),
    ("SLĐTBXH", "SNV", "split", true),
    ("SLĐTBXH", "SYT", "split", false),
    ("SLĐTBXH", "SGDĐT", "split", false),
    ("SNNPTNT", "SNNMT", "merged", true),
    ("STNMT", "SNNMT", "merged", true),
    ("BDT", "SDTTG", "merged", true),
];

/// A demo official: where they work (an agency's short name, `province` or `hac_thanh`; an
/// internal unit's key from `seed_demo_units`), their position and roles.
struct DemoPerson {
    user: &'static str,
    name: &'static str,
    agency: &'static str,
    unit: Option<&'static str>,
    position: &'static str,
    roles: &'static [&'static str],
    what: &'static str,
}

const DEMO_PEOPLE: [DemoPerson; 20] = [
    DemoPerson {
        user: "chutich.tinh",
        name: "Nguyễn Văn Hùng",
        agency: "province",
        unit: None,
        position: "chu_tich",
        roles: &["agency_leader"],
        what: "Chủ tịch UBND tỉnh",
    },
    DemoPerson {
        user: "phochutich.tinh",
        name: "Lê Thị Mai",
        agency: "province",
        unit: None,
        position: "pho_chu_tich",
        roles: &["agency_leader"],
        what: "Phó Chủ tịch UBND tỉnh",
    },
    DemoPerson {
        user: "vanthu.tinh",
        name: "Trần Thị Hoa",
        agency: "province",
        unit: Some("ubnd_office"),
        position: "van_thu",
        roles: &["records_clerk"],
        what: "Văn thư UBND tỉnh",
    },
    DemoPerson {
        user: "bientap.tinh",
        name: "Phan Thu Trang",
        agency: "province",
        unit: Some("ubnd_office"),
        position: "chuyen_vien",
        roles: &["editor"],
        what: "Biên tập Cổng thông tin tỉnh",
    },
    DemoPerson {
        user: "giamdoc.snv",
        name: "Phạm Minh Tuấn",
        agency: "SNV",
        unit: None,
        position: "giam_doc",
        roles: &["agency_leader"],
        what: "Giám đốc Sở Nội vụ",
    },
    DemoPerson {
        user: "phogiamdoc.snv",
        name: "Hoàng Thị Lan",
        agency: "SNV",
        unit: None,
        position: "pho_giam_doc",
        roles: &["agency_leader"],
        what: "Phó Giám đốc Sở Nội vụ",
    },
    DemoPerson {
        user: "chanhvanphong.snv",
        name: "Vũ Đức Thắng",
        agency: "SNV",
        unit: Some("snv_office"),
        position: "chanh_van_phong",
        roles: &["unit_leader"],
        what: "Chánh Văn phòng Sở Nội vụ",
    },
    DemoPerson {
        user: "truongphong.snv",
        name: "Đỗ Hữu Quyết",
        agency: "SNV",
        unit: Some("snv_tcbc"),
        position: "truong_phong",
        roles: &["unit_leader"],
        what: "Trưởng phòng Tổ chức - Biên chế",
    },
    DemoPerson {
        user: "chuyenvien.snv",
        name: "Ngô Thị Thu",
        agency: "SNV",
        unit: Some("snv_tcbc"),
        position: "chuyen_vien",
        roles: &["specialist"],
        what: "Chuyên viên Sở Nội vụ",
    },
    DemoPerson {
        user: "vanthu.snv",
        name: "Bùi Văn Nam",
        agency: "SNV",
        unit: Some("snv_office"),
        position: "van_thu",
        roles: &["records_clerk"],
        what: "Văn thư Sở Nội vụ",
    },
    DemoPerson {
        user: "quantri.snv",
        name: "Đặng Quốc Việt",
        agency: "SNV",
        unit: Some("snv_office"),
        position: "chuyen_vien",
        roles: &["administrator"],
        what: "Quản trị hệ thống Sở Nội vụ (TOTP)",
    },
    DemoPerson {
        user: "chutich.hacthanh",
        name: "Lê Văn Sơn",
        agency: "hac_thanh",
        unit: None,
        position: "chu_tich",
        roles: &["agency_leader"],
        what: "Chủ tịch UBND phường Hạc Thành",
    },
    DemoPerson {
        user: "motcua.hacthanh",
        name: "Nguyễn Thị Hằng",
        agency: "hac_thanh",
        unit: Some("hac_thanh_onestop"),
        position: "cong_chuc_mot_cua",
        roles: &["one_stop_officer"],
        what: "Công chức Một cửa phường Hạc Thành",
    },
    DemoPerson {
        user: "vanthu.hacthanh",
        name: "Mai Thị Nhung",
        agency: "hac_thanh",
        unit: Some("hac_thanh_office"),
        position: "van_thu",
        roles: &["records_clerk"],
        what: "Văn thư UBND phường Hạc Thành",
    },
    DemoPerson {
        user: "motcua.tinh",
        name: "Trịnh Văn Long",
        agency: "TTPVHCC",
        unit: Some("center_desk"),
        position: "cong_chuc_mot_cua",
        roles: &["one_stop_officer"],
        what: "Công chức Trung tâm Phục vụ hành chính công tỉnh",
    },
    DemoPerson {
        user: "congchuc.hacthanh",
        name: "Lê Thị Thanh",
        agency: "hac_thanh",
        unit: Some("hac_thanh_vhxh"),
        position: "cong_chuc",
        roles: &["specialist"],
        what: "Công chức Văn hóa - Xã hội phường Hạc Thành",
    },
    DemoPerson {
        user: "chuyenvien.stp",
        name: "Hoàng Văn Bình",
        agency: "STP",
        unit: None,
        position: "chuyen_vien",
        roles: &["specialist"],
        what: "Chuyên viên Sở Tư pháp",
    },
    DemoPerson {
        user: "vanthu.stp",
        name: "Lương Văn Khải",
        agency: "STP",
        unit: None,
        position: "van_thu",
        roles: &["records_clerk"],
        what: "Văn thư Sở Tư pháp",
    },
    DemoPerson {
        user: "vanthu.ttpvhcc",
        name: "Tạ Thị Huyền",
        agency: "TTPVHCC",
        unit: None,
        position: "van_thu",
        roles: &["records_clerk"],
        what: "Văn thư Trung tâm Phục vụ hành chính công tỉnh",
    },
    DemoPerson {
        user: "giamdoc.stp",
        name: "Cao Thị Ngọc",
        agency: "STP",
        unit: None,
        position: "giam_doc",
        roles: &["agency_leader", "unit_leader"],
        what: "Giám đốc Sở Tư pháp",
    },
];

fn demo_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut b = [0u8; 14];
    getrandom::fill(&mut b).expect("randomness");
    b.iter()
        .map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char)
        .collect()
}

impl App {
    pub async fn is_demo_seeded(&self) -> Result<bool, AppError> {
        let n: i64 = (&self.db)
            .scalar(
                "SELECT COUNT(*) FROM settings WHERE key = 'demo.seeded'",
                args![],
            )
            .await?;
        Ok(n > 0)
    }

    /// Records a succession between two agencies (an administrator completing history).
    pub async fn link_agencies(
        &self,
        actor: &Actor,
        old: i64,
        new: i64,
        kind: &str,
        is_default: bool,
    ) -> Result<(), AppError> {
        let Some(kind) = SuccessionKind::parse(kind) else {
            return Err(AppError::invalid(
                Code::BadSuccessionKind,
                "A succession is merged or split.",
            ));
        };
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        egov_store::agencies::get(&mut tx, old)
            .await
            .or_not_found("agency")?;
        egov_store::agencies::get(&mut tx, new)
            .await
            .or_not_found("agency")?;
        egov_store::units::link_succession(
            &mut tx,
            egov_store::units::Lineage::Agencies,
            old,
            new,
            kind,
            is_default,
        )
        .await?;
        audit::event("agency.succession", "agency", old)
            .agency(Some(old))
            .after(&serde_json::json!({"successor": new, "kind": kind.as_str(), "default": is_default}))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Seeds Thanh Hóa in both structures, its departments and demo officials. Returns the demo
    /// accounts with their passwords (only known now: the store keeps hashes).
    pub async fn seed_demo(&self) -> Result<Vec<DemoAccount>, AppError> {
        let sys = Actor::system("demo");
        seed_positions(&mut &self.db).await?;
        self.import_units(
            &sys,
            Structure::ThreeTier,
            data::UNITS_THREE_TIER,
            Some("38"),
        )
        .await?;
        self.import_units(&sys, Structure::TwoTier, data::UNITS_TWO_TIER, Some("38"))
            .await?;
        self.import_succession(&sys, data::SUCCESSION_2025).await?;
        let agencies = self.seed_demo_agencies(&sys).await?;
        let units = self.seed_demo_units(&agencies).await?;
        let (accounts, ids) = self.seed_demo_people(&sys, &agencies, &units).await?;
        // The director lets the chief of office sign "TL." for a year.
        let now = self.now();
        self.create_delegation(
            &sys,
            NewDelegationCmd {
                agency_id: agencies["SNV"],
                kind: "by_order".into(),
                delegator_id: ids["giamdoc.snv"],
                delegate_id: ids["chanhvanphong.snv"],
                valid_from: now,
                valid_to: now + time::Duration::days(365),
                scope: "Văn bản hành chính thông thường".into(),
                reference: "Quy chế công tác văn thư".into(),
            },
        )
        .await?;
        self.import_catalogue(&sys, data::DEMO_CATALOGUE).await?;
        self.ensure_calendar_seeded().await?;
        (&self.db)
            .execute(
                "INSERT INTO settings (key, value) VALUES ('demo.seeded', $1)",
                args![egov_store::ts_text(now)],
            )
            .await?;
        Ok(accounts)
    }

    /// The province's People's Committee, its departments and bodies (with the 2025 mergers) and
    /// the Hạc Thành ward's committee, by short name (`province`, `hac_thanh`, `SNV` …).
    async fn seed_demo_agencies(
        &self,
        sys: &Actor,
    ) -> Result<HashMap<&'static str, i64>, AppError> {
        let province = egov_store::agencies::find_by_code(&mut &self.db, "000.00.00.H56")
            .await?
            .ok_or_else(|| AppError::internal("the Thanh Hóa People's Committee is missing"))?;
        let mut by_short = HashMap::new();
        for (name, short, ended) in BODIES {
            let succeeds: Vec<i64> = MERGERS
                .iter()
                .filter(|m| m.1 == short && m.2 == "merged")
                .filter_map(|m| by_short.get(m.0).copied())
                .collect();
            let new_in_2025 = ["SNNMT", "SDTTG"].contains(&short);
            let a = self
                .create_body(
                    sys,
                    NewBody {
                        name: name.into(),
                        short_name: short.into(),
                        parent_id: province.id,
                        code: None,
                        valid_from: new_in_2025.then_some(date!(2025 - 03 - 01)),
                        succeeds,
                    },
                )
                .await?;
            if ended {
                let mut tx = self.db.begin().await?;
                egov_store::agencies::set_validity(
                    &mut tx,
                    a.id,
                    None,
                    Some(date!(2025 - 02 - 28)),
                )
                .await?;
                tx.commit().await?;
            }
            by_short.insert(short, a.id);
        }
        for (old, new, kind, default) in MERGERS
            .iter()
            .filter(|m| m.2 == "split" || !["SNNMT", "SDTTG"].contains(&m.1))
        {
            self.link_agencies(sys, by_short[old], by_short[new], kind, *default)
                .await?;
        }
        by_short.insert("province", province.id);
        by_short.insert(
            "hac_thanh",
            self.committee_by_unit(Structure::TwoTier, "14797").await?,
        );
        Ok(by_short)
    }

    /// The demo agencies' internal units that people are posted to, by key.
    async fn seed_demo_units(
        &self,
        agencies: &HashMap<&'static str, i64>,
    ) -> Result<HashMap<&'static str, i64>, AppError> {
        let unit = |agency: i64, name: &str, kind: OrgUnitKind| {
            let name = name.to_owned();
            let kind = kind.as_str().to_owned();
            async move {
                self.create_org_unit(
                    &sys_actor(),
                    agency,
                    NewOrgUnit {
                        name,
                        kind,
                        parent_id: None,
                    },
                )
                .await
                .map(|u| u.id)
            }
        };
        let ubnd_office = unit(agencies["province"], "Văn phòng", OrgUnitKind::Office).await?;
        let snv_office = unit(agencies["SNV"], "Văn phòng Sở", OrgUnitKind::Office).await?;
        let snv_tcbc = unit(
            agencies["SNV"],
            "Phòng Tổ chức - Biên chế",
            OrgUnitKind::Division,
        )
        .await?;
        unit(
            agencies["SNV"],
            "Phòng Cải cách hành chính",
            OrgUnitKind::Division,
        )
        .await?;
        unit(agencies["SNV"], "Bộ phận Một cửa", OrgUnitKind::OneStop).await?;
        let hac_thanh_office = unit(
            agencies["hac_thanh"],
            "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân",
            OrgUnitKind::Office,
        )
        .await?;
        unit(
            agencies["hac_thanh"],
            "Phòng Kinh tế, Hạ tầng và Đô thị",
            OrgUnitKind::Division,
        )
        .await?;
        let hac_thanh_vhxh = unit(
            agencies["hac_thanh"],
            "Phòng Văn hóa - Xã hội",
            OrgUnitKind::Division,
        )
        .await?;
        let hac_thanh_onestop = unit(
            agencies["hac_thanh"],
            "Bộ phận Một cửa",
            OrgUnitKind::OneStop,
        )
        .await?;
        let center_desk = unit(
            agencies["TTPVHCC"],
            "Bộ phận Tiếp nhận và Trả kết quả",
            OrgUnitKind::OneStop,
        )
        .await?;

        Ok(HashMap::from([
            ("ubnd_office", ubnd_office),
            ("snv_office", snv_office),
            ("snv_tcbc", snv_tcbc),
            ("hac_thanh_office", hac_thanh_office),
            ("hac_thanh_vhxh", hac_thanh_vhxh),
            ("hac_thanh_onestop", hac_thanh_onestop),
            ("center_desk", center_desk),
        ]))
    }

    /// The system administrator and the demo officials with their postings and roles; their
    /// accounts (with the passwords made up for them) and ids by username.
    async fn seed_demo_people(
        &self,
        sys: &Actor,
        agencies: &HashMap<&'static str, i64>,
        units: &HashMap<&'static str, i64>,
    ) -> Result<(Vec<DemoAccount>, HashMap<&'static str, i64>), AppError> {
        let mut accounts = Vec::new();
        // The system administrator comes first: a deployment-wide grant.
        let admin_pw = demo_password();
        let admin = self
            .create_person(
                sys,
                NewOfficial {
                    username: "admin".into(),
                    full_name: "Quản trị hệ thống".into(),
                    email: None,
                    phone: None,
                    password: admin_pw.clone(),
                    agency_id: None,
                    org_unit_id: None,
                    position_key: None,
                },
            )
            .await?;
        self.grant_role(
            sys,
            admin.id,
            GrantRole {
                role: "administrator".into(),
                agency_id: None,
                org_unit_id: None,
                reason: "demo".into(),
            },
        )
        .await?;
        let secret = self.enrol_totp_directly(admin.id).await?;
        accounts.push(DemoAccount {
            username: "admin".into(),
            password: admin_pw,
            full_name: admin.full_name,
            what: "Quản trị hệ thống (toàn tỉnh, TOTP)".into(),
            totp_secret: Some(secret),
        });
        let mut ids = HashMap::new();
        for p in &DEMO_PEOPLE {
            let pw = demo_password();
            let person = self
                .create_person(
                    sys,
                    NewOfficial {
                        username: p.user.into(),
                        full_name: p.name.into(),
                        email: Some(format!("{}@thanhhoa.demo.egov.vn", p.user)),
                        phone: None,
                        password: pw.clone(),
                        agency_id: Some(agencies[p.agency]),
                        org_unit_id: p.unit.map(|u| units[u]),
                        position_key: Some(p.position.into()),
                    },
                )
                .await?;
            for r in p.roles {
                let unit = if *r == "unit_leader" {
                    p.unit.map(|u| units[u])
                } else {
                    None
                };
                self.grant_role(
                    sys,
                    person.id,
                    GrantRole {
                        role: (*r).into(),
                        agency_id: Some(agencies[p.agency]),
                        org_unit_id: unit,
                        reason: "demo".into(),
                    },
                )
                .await?;
            }
            let totp_secret = if p.roles.contains(&"administrator") {
                Some(self.enrol_totp_directly(person.id).await?)
            } else {
                None
            };
            ids.insert(p.user, person.id);
            accounts.push(DemoAccount {
                username: p.user.into(),
                password: pw,
                full_name: p.name.into(),
                what: p.what.into(),
                totp_secret,
            });
        }
        Ok((accounts, ids))
    }

    /// The People's Committee of a unit given by structure and statistical code.
    pub async fn committee_by_unit(
        &self,
        structure: Structure,
        code: &str,
    ) -> Result<i64, AppError> {
        let u = egov_store::units::find(&mut &self.db, structure.as_str(), code)
            .await?
            .ok_or_else(|| AppError::not_found("administrative unit"))?;
        self.committee_of(&mut &self.db, u.id)
            .await?
            .ok_or_else(|| AppError::not_found("agency"))
    }

    /// Enables TOTP with a fresh secret without a confirming code (seeding and `egov user add
    /// --totp`, where the operator hands the secret over).
    pub async fn enrol_totp_directly(&self, person_id: i64) -> Result<String, AppError> {
        let secret = totp_rs::Secret::generate().to_base32();
        people::set_totp(&mut &self.db, person_id, Some(&secret), true, self.now()).await?;
        Ok(secret)
    }
}

fn sys_actor() -> Actor {
    Actor::system("demo")
}
