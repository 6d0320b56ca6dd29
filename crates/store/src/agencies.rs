//! Agencies (cơ quan): People's Committees of units, departments and other bodies, with their
//! identifiers, validity and successors.

use egov_domain::admin_unit::SuccessionKind;
use egov_domain::org::{AgencyKind, Governance};
use time::{Date, OffsetDateTime};

use crate::db::{Arg, Exec};
use crate::units::valid_on;
use crate::{StoreError, args};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Agency {
    pub id: i64,
    /// Agency identifier, QCVN 102:2016 (`000.00.00.H56`).
    pub code: String,
    /// `official`, `derived` or `local` (allocated by egov's scheme).
    pub code_source: String,
    pub name: String,
    pub short_name: String,
    #[sqlx(try_from = "String")]
    pub kind: AgencyKind,
    #[sqlx(try_from = "String")]
    pub governance: Governance,
    pub admin_unit_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

#[derive(Debug, Clone)]
pub struct NewAgency {
    pub code: String,
    pub code_source: &'static str,
    pub name: String,
    pub short_name: String,
    pub kind: AgencyKind,
    pub governance: Governance,
    pub admin_unit_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

const COLS: &str = "a.id, a.code, a.code_source, a.name, a.short_name, a.kind, a.governance, \
                    a.admin_unit_id, a.parent_id, a.valid_from, a.valid_to";

pub async fn insert(
    ex: &mut impl Exec,
    a: &NewAgency,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO agencies (code, code_source, name, name_fold, short_name, kind, governance, \
         admin_unit_id, parent_id, valid_from, valid_to, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        args![
            a.code.as_str(),
            a.code_source,
            a.name.as_str(),
            egov_domain::text::fold(&format!("{} {}", a.name, a.code)),
            a.short_name.as_str(),
            a.kind.as_str(),
            a.governance.as_str(),
            a.admin_unit_id,
            a.parent_id,
            a.valid_from,
            a.valid_to,
            now
        ],
    )
    .await
}

pub async fn get(ex: &mut impl Exec, id: i64) -> Result<Agency, StoreError> {
    ex.fetch_one(
        &format!("SELECT {COLS} FROM agencies a WHERE a.id = $1"),
        args![id],
    )
    .await
}

/// The identifiers of every agency that has one.
pub async fn all_codes(ex: &mut impl Exec) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = ex
        .fetch_all(
            "SELECT code FROM agencies WHERE code IS NOT NULL ORDER BY code",
            args![],
        )
        .await?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

pub async fn find_by_short_name(
    ex: &mut impl Exec,
    short_name: &str,
) -> Result<Option<Agency>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {COLS} FROM agencies a WHERE a.short_name = $1 ORDER BY a.id LIMIT 1"),
        args![short_name],
    )
    .await
}

pub async fn find_by_code(ex: &mut impl Exec, code: &str) -> Result<Option<Agency>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {COLS} FROM agencies a WHERE a.code = $1"),
        args![code],
    )
    .await
}

/// The People's Committee of an administrative unit.
pub async fn find_by_unit(ex: &mut impl Exec, unit_id: i64) -> Result<Option<Agency>, StoreError> {
    ex.fetch_optional(
        &format!(
            "SELECT {COLS} FROM agencies a WHERE a.admin_unit_id = $1 \
             AND a.kind = 'people_committee'"
        ),
        args![unit_id],
    )
    .await
}

/// Every identifier in use under one level-1 code (`…H56`), for allocation.
pub async fn codes_under(ex: &mut impl Exec, root_suffix: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = ex
        .fetch_all(
            "SELECT code FROM agencies WHERE code LIKE $1",
            args![format!("%.{root_suffix}")],
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn set_validity(
    ex: &mut impl Exec,
    id: i64,
    from: Option<Date>,
    to: Option<Date>,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE agencies SET valid_from = $2, valid_to = $3 WHERE id = $1",
        args![id, from, to],
    )
    .await?;
    Ok(())
}

pub async fn set_code(
    ex: &mut impl Exec,
    id: i64,
    code: &str,
    source: &str,
) -> Result<(), StoreError> {
    let name: String = ex
        .scalar("SELECT name FROM agencies WHERE id = $1", args![id])
        .await?;
    ex.execute(
        "UPDATE agencies SET code = $2, code_source = $3, name_fold = $4 WHERE id = $1",
        args![
            id,
            code,
            source,
            egov_domain::text::fold(&format!("{name} {code}"))
        ],
    )
    .await?;
    Ok(())
}

pub async fn set_parent(
    ex: &mut impl Exec,
    id: i64,
    parent: Option<i64>,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE agencies SET parent_id = $2 WHERE id = $1",
        args![id, parent],
    )
    .await?;
    Ok(())
}

/// A row of the agency tree: the agency and how many children it has on the same date.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TreeNode {
    #[sqlx(flatten)]
    pub agency: Agency,
    pub child_count: i64,
}

/// The children of an agency (or the top-level agencies) valid on a date.
pub async fn children_on(
    ex: &mut impl Exec,
    parent: Option<i64>,
    on: Date,
) -> Result<Vec<TreeNode>, StoreError> {
    let parent_cond = if parent.is_some() {
        "a.parent_id = $2"
    } else {
        "a.parent_id IS NULL AND $2 IS NULL"
    };
    let sql = format!(
        "SELECT {COLS}, (SELECT COUNT(*) FROM agencies c WHERE c.parent_id = a.id AND {child_valid}) \
         AS child_count FROM agencies a WHERE {parent_cond} AND {valid} \
         ORDER BY CASE a.kind WHEN 'people_committee' THEN 1 ELSE 0 END, a.code",
        child_valid = valid_on("c", 1),
        valid = valid_on("a", 1),
    );
    ex.fetch_all(&sql, args![on, parent]).await
}

/// A search hit with the name of the parent, to tell apart agencies of the same name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SearchHit {
    #[sqlx(flatten)]
    pub agency: Agency,
    pub parent_name: Option<String>,
}

/// Agencies whose folded name or identifier contains every word, optionally only those valid
/// on a date.
pub async fn search(
    ex: &mut impl Exec,
    words: &[String],
    on: Option<Date>,
    limit: i64,
    offset: i64,
) -> Result<Vec<SearchHit>, StoreError> {
    let mut sql = format!(
        "SELECT {COLS}, p.name AS parent_name FROM agencies a \
         LEFT JOIN agencies p ON p.id = a.parent_id WHERE ($1 IS NULL OR ({})) ",
        valid_on("a", 1)
    );
    let mut args: Vec<Arg> = args![on];
    for w in words {
        args.push(Arg::from(format!("%{w}%")));
        sql.push_str(&format!(" AND a.name_fold LIKE ${}", args.len()));
    }
    args.push(Arg::from(limit));
    args.push(Arg::from(offset));
    sql.push_str(&format!(
        " ORDER BY a.name, a.code LIMIT ${} OFFSET ${}",
        args.len() - 1,
        args.len()
    ));
    ex.fetch_all(&sql, args).await
}

/// The chain from the top-level agency down to this one.
pub async fn ancestors(ex: &mut impl Exec, id: i64) -> Result<Vec<Agency>, StoreError> {
    let mut out = Vec::new();
    let mut next = Some(id);
    while let Some(cur) = next {
        let a = get(ex, cur).await?;
        next = a.parent_id;
        out.push(a);
        if out.len() > 16 {
            return Err(StoreError::Invalid("agency parents form a cycle".into()));
        }
    }
    out.reverse();
    Ok(out)
}

/// The agency and every agency under it, at any depth (whatever their validity: a merged
/// commune's dossiers still count for its district's or province's history).
pub async fn with_descendants(ex: &mut impl Exec, id: i64) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(i64,)> = ex
        .fetch_all(
            "WITH RECURSIVE under(id, depth) AS (SELECT id, 0 FROM agencies WHERE id = $1 \
             UNION SELECT a.id, u.depth + 1 FROM agencies a JOIN under u ON a.parent_id = u.id \
             WHERE u.depth < 16) SELECT DISTINCT id FROM under ORDER BY id",
            args![id],
        )
        .await?;
    Ok(rows.into_iter().map(|(i,)| i).collect())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AgencyLink {
    #[sqlx(try_from = "String")]
    pub succession: SuccessionKind,
    pub is_default: bool,
    #[sqlx(flatten)]
    pub agency: Agency,
}

pub async fn predecessors(ex: &mut impl Exec, id: i64) -> Result<Vec<AgencyLink>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT s.kind AS succession, s.is_default, {COLS} FROM agency_successions s \
             JOIN agencies a ON a.id = s.old_agency_id WHERE s.new_agency_id = $1 ORDER BY a.code"
        ),
        args![id],
    )
    .await
}

pub async fn successors(ex: &mut impl Exec, id: i64) -> Result<Vec<AgencyLink>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT s.kind AS succession, s.is_default, {COLS} FROM agency_successions s \
             JOIN agencies a ON a.id = s.new_agency_id WHERE s.old_agency_id = $1 \
             ORDER BY s.is_default DESC, a.code"
        ),
        args![id],
    )
    .await
}

pub async fn count(ex: &mut impl Exec) -> Result<i64, StoreError> {
    ex.scalar("SELECT COUNT(*) FROM agencies", args![]).await
}

/// (admin unit id, agency id, identifier) of every People's Committee linked to a unit.
pub async fn committees(ex: &mut impl Exec) -> Result<Vec<(i64, i64, String)>, StoreError> {
    ex.fetch_all(
        "SELECT admin_unit_id, id, code FROM agencies WHERE kind = 'people_committee' \
         AND admin_unit_id IS NOT NULL",
        args![],
    )
    .await
}

pub async fn set_unit(ex: &mut impl Exec, id: i64, unit: Option<i64>) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE agencies SET admin_unit_id = $2 WHERE id = $1",
        args![id, unit],
    )
    .await?;
    Ok(())
}
