//! Administrative units of both structures and the successions between them.

use egov_domain::admin_unit::{SuccessionKind, UnitLevel};
use time::Date;

use crate::db::{Arg, Exec};
use crate::{StoreError, args};

/// One administrative unit of one structure.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AdminUnit {
    pub id: i64,
    pub structure: String,
    pub code: String,
    #[sqlx(try_from = "String")]
    pub level: UnitLevel,
    pub name: String,
    pub division_type: String,
    pub parent_id: Option<i64>,
    pub province_code: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

/// A unit as read from an import file.
#[derive(Debug, Clone)]
pub struct NewUnit {
    pub structure: &'static str,
    pub code: String,
    pub level: &'static str,
    pub name: String,
    pub division_type: String,
    pub parent_code: Option<String>,
    pub province_code: String,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

const COLS: &str = "id, structure, code, level, name, division_type, parent_id, province_code, \
                    valid_from, valid_to";

/// The SQL condition "valid on `$n`" for a table with date validity columns.
pub(crate) fn valid_on(alias: &str, n: usize) -> String {
    format!(
        "({a}valid_from IS NULL OR {a}valid_from <= ${n}) AND ({a}valid_to IS NULL OR {a}valid_to >= ${n})",
        a = if alias.is_empty() {
            String::new()
        } else {
            format!("{alias}.")
        },
    )
}

/// Inserts or updates units by (structure, code), then links each to its parent. Returns the
/// number of rows written.
pub async fn upsert_units(ex: &mut impl Exec, units: &[NewUnit]) -> Result<u64, StoreError> {
    let mut written = 0;
    for chunk in units.chunks(400) {
        let mut sql = String::from(
            "INSERT INTO admin_units (structure, code, level, name, name_fold, division_type, \
             parent_code, province_code, valid_from, valid_to) VALUES ",
        );
        let mut args: Vec<Arg> = Vec::with_capacity(chunk.len() * 10);
        for (i, u) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            let b = i * 10;
            sql.push_str(&format!(
                "(${},${},${},${},${},${},${},${},${},${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 10
            ));
            args.extend(args![
                u.structure,
                u.code.as_str(),
                u.level,
                u.name.as_str(),
                egov_domain::text::fold(&u.name),
                u.division_type.as_str(),
                u.parent_code.as_deref(),
                u.province_code.as_str(),
                u.valid_from,
                u.valid_to
            ]);
        }
        sql.push_str(
            " ON CONFLICT (structure, code) DO UPDATE SET level = excluded.level, \
             name = excluded.name, name_fold = excluded.name_fold, \
             division_type = excluded.division_type, parent_code = excluded.parent_code, \
             province_code = excluded.province_code, valid_from = excluded.valid_from, \
             valid_to = excluded.valid_to",
        );
        written += ex.execute(&sql, args).await?;
    }
    ex.execute(
        "UPDATE admin_units SET parent_id = (SELECT p.id FROM admin_units p \
         WHERE p.structure = admin_units.structure AND p.code = admin_units.parent_code) \
         WHERE parent_code IS NOT NULL",
        args![],
    )
    .await?;
    Ok(written)
}

pub async fn get(ex: &mut impl Exec, id: i64) -> Result<AdminUnit, StoreError> {
    ex.fetch_one(
        &format!("SELECT {COLS} FROM admin_units WHERE id = $1"),
        args![id],
    )
    .await
}

pub async fn find(
    ex: &mut impl Exec,
    structure: &str,
    code: &str,
) -> Result<Option<AdminUnit>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {COLS} FROM admin_units WHERE structure = $1 AND code = $2"),
        args![structure, code],
    )
    .await
}

/// All units of a structure, optionally of one province, ordered by code.
pub async fn list(
    ex: &mut impl Exec,
    structure: &str,
    province_code: Option<&str>,
) -> Result<Vec<AdminUnit>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT {COLS} FROM admin_units WHERE structure = $1 \
             AND ($2 IS NULL OR province_code = $2) ORDER BY code"
        ),
        args![structure, province_code],
    )
    .await
}

pub async fn children(ex: &mut impl Exec, parent_id: i64) -> Result<Vec<AdminUnit>, StoreError> {
    ex.fetch_all(
        &format!("SELECT {COLS} FROM admin_units WHERE parent_id = $1 ORDER BY code"),
        args![parent_id],
    )
    .await
}

pub async fn count(ex: &mut impl Exec, structure: &str) -> Result<i64, StoreError> {
    ex.scalar(
        "SELECT COUNT(*) FROM admin_units WHERE structure = $1",
        args![structure],
    )
    .await
}

/// One succession link between an old unit and a new one.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UnitLink {
    #[sqlx(try_from = "String")]
    pub kind: SuccessionKind,
    pub is_default: bool,
    #[sqlx(flatten)]
    pub unit: AdminUnit,
}

/// Which succession table a link goes in: between administrative units, or between the
/// agencies that succeed one another with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lineage {
    Units,
    Agencies,
}

/// Records that `old` went (wholly or partly) into `new`; an existing link is updated.
pub async fn link_succession(
    ex: &mut impl Exec,
    lineage: Lineage,
    old: i64,
    new: i64,
    kind: SuccessionKind,
    is_default: bool,
) -> Result<(), StoreError> {
    let of = match lineage {
        Lineage::Units => "unit",
        Lineage::Agencies => "agency",
    };
    ex.execute(
        &format!(
            "INSERT INTO {of}_successions (old_{of}_id, new_{of}_id, kind, is_default) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (old_{of}_id, new_{of}_id) \
             DO UPDATE SET kind = excluded.kind, is_default = excluded.is_default"
        ),
        args![old, new, kind.as_str(), is_default],
    )
    .await?;
    Ok(())
}

/// The units that went into this one.
pub async fn predecessors(ex: &mut impl Exec, unit_id: i64) -> Result<Vec<UnitLink>, StoreError> {
    ex.fetch_all(
        "SELECT s.kind, s.is_default, u.id, u.structure, u.code, u.level, u.name, \
         u.division_type, u.parent_id, u.province_code, u.valid_from, u.valid_to \
         FROM unit_successions s JOIN admin_units u ON u.id = s.old_unit_id \
         WHERE s.new_unit_id = $1 ORDER BY u.level, u.code",
        args![unit_id],
    )
    .await
}

/// The units this one went into.
pub async fn successors(ex: &mut impl Exec, unit_id: i64) -> Result<Vec<UnitLink>, StoreError> {
    ex.fetch_all(
        "SELECT s.kind, s.is_default, u.id, u.structure, u.code, u.level, u.name, \
         u.division_type, u.parent_id, u.province_code, u.valid_from, u.valid_to \
         FROM unit_successions s JOIN admin_units u ON u.id = s.new_unit_id \
         WHERE s.old_unit_id = $1 ORDER BY s.is_default DESC, u.code",
        args![unit_id],
    )
    .await
}

pub async fn count_successions(ex: &mut impl Exec) -> Result<i64, StoreError> {
    ex.scalar("SELECT COUNT(*) FROM unit_successions", args![])
        .await
}

/// A published identifier for the People's Committee of a unit.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MappedIdentifier {
    pub identifier: String,
    /// `official` (published by the authority) or `derived`.
    pub status: String,
}

pub async fn map_identifier(
    ex: &mut impl Exec,
    structure: &str,
    unit_code: &str,
    identifier: &str,
    status: &str,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO identifier_map (structure, unit_code, identifier, status) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (structure, unit_code) \
         DO UPDATE SET identifier = excluded.identifier, status = excluded.status",
        args![structure, unit_code, identifier, status],
    )
    .await?;
    Ok(())
}

pub async fn mapped_identifier(
    ex: &mut impl Exec,
    structure: &str,
    unit_code: &str,
) -> Result<Option<MappedIdentifier>, StoreError> {
    ex.fetch_optional(
        "SELECT identifier, status FROM identifier_map WHERE structure = $1 AND unit_code = $2",
        args![structure, unit_code],
    )
    .await
}
