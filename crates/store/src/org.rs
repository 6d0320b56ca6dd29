//! Organisation inside agencies: internal units, positions, postings, role grants and
//! delegations. Rows are never deleted; an ended posting, grant or delegation keeps its history
//! with an end time.

use egov_domain::org::{Governance, OrgUnitKind};
use time::{Date, OffsetDateTime};

use crate::db::Exec;
use crate::units::valid_on;
use crate::{StoreError, args};

/// An internal unit (phòng, văn phòng, bộ phận một cửa).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrgUnit {
    pub id: i64,
    pub agency_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: OrgUnitKind,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

pub async fn insert_org_unit(
    ex: &mut impl Exec,
    agency_id: i64,
    parent_id: Option<i64>,
    name: &str,
    kind: OrgUnitKind,
    valid_from: Option<Date>,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO org_units (agency_id, parent_id, name, name_fold, kind, valid_from, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        args![agency_id, parent_id, name, egov_domain::text::fold(name), kind.as_str(), valid_from, now],
    )
    .await
}

pub async fn get_org_unit(ex: &mut impl Exec, id: i64) -> Result<OrgUnit, StoreError> {
    ex.fetch_one(
        "SELECT id, agency_id, parent_id, name, kind, valid_from, valid_to FROM org_units \
         WHERE id = $1",
        args![id],
    )
    .await
}

pub async fn org_units_of(
    ex: &mut impl Exec,
    agency_id: i64,
    on: Date,
) -> Result<Vec<OrgUnit>, StoreError> {
    ex.fetch_all(
        &format!(
            "SELECT id, agency_id, parent_id, name, kind, valid_from, valid_to FROM org_units \
             WHERE agency_id = $2 AND {} ORDER BY kind, name",
            valid_on("", 1)
        ),
        args![on, agency_id],
    )
    .await
}

pub async fn close_org_unit(
    ex: &mut impl Exec,
    id: i64,
    last_day: Date,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE org_units SET valid_to = $2 WHERE id = $1 AND valid_to IS NULL",
        args![id, last_day],
    )
    .await
}

/// A position (chức vụ) from the catalogue.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Position {
    pub key: String,
    pub name_vi: String,
    pub name_en: String,
    /// `head`, `deputy`, `unit_head`, `unit_deputy` or `staff`.
    pub rank: String,
    pub sort: i64,
}

pub async fn upsert_position(ex: &mut impl Exec, p: &Position) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO positions (key, name_vi, name_en, rank, sort) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (key) DO UPDATE SET name_vi = excluded.name_vi, name_en = excluded.name_en, \
         rank = excluded.rank, sort = excluded.sort",
        args![
            p.key.as_str(),
            p.name_vi.as_str(),
            p.name_en.as_str(),
            p.rank.as_str(),
            p.sort
        ],
    )
    .await?;
    Ok(())
}

pub async fn positions(ex: &mut impl Exec) -> Result<Vec<Position>, StoreError> {
    ex.fetch_all(
        "SELECT key, name_vi, name_en, rank, sort FROM positions ORDER BY sort",
        args![],
    )
    .await
}

pub async fn position(ex: &mut impl Exec, key: &str) -> Result<Option<Position>, StoreError> {
    ex.fetch_optional(
        "SELECT key, name_vi, name_en, rank, sort FROM positions WHERE key = $1",
        args![key],
    )
    .await
}

/// A person's posting: the position they hold in an agency (and unit) from one time to another.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Posting {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub agency_id: i64,
    pub agency_name: String,
    pub org_unit_id: Option<i64>,
    pub org_unit_name: Option<String>,
    pub position_key: String,
    pub position_name: String,
    pub rank: String,
    #[sqlx(try_from = "String")]
    pub governance: Governance,
    /// An acting head (Q.).
    pub acting: bool,
    pub valid_from: OffsetDateTime,
    pub valid_to: Option<OffsetDateTime>,
}

const POSTING_SELECT: &str = "SELECT p.id, p.person_id, pe.full_name AS person_name, p.agency_id, \
    a.name AS agency_name, \
    p.org_unit_id, u.name AS org_unit_name, p.position_key, pos.name_vi AS position_name, \
    pos.rank, a.governance, p.acting, p.valid_from, p.valid_to \
    FROM postings p JOIN agencies a ON a.id = p.agency_id JOIN people pe ON pe.id = p.person_id \
    JOIN positions pos ON pos.key = p.position_key \
    LEFT JOIN org_units u ON u.id = p.org_unit_id";

#[allow(clippy::too_many_arguments)]
pub async fn insert_posting(
    ex: &mut impl Exec,
    person_id: i64,
    agency_id: i64,
    org_unit_id: Option<i64>,
    position_key: &str,
    acting: bool,
    from: OffsetDateTime,
    created_by: Option<i64>,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO postings (person_id, agency_id, org_unit_id, position_key, acting, \
         valid_from, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        args![
            person_id,
            agency_id,
            org_unit_id,
            position_key,
            acting,
            from,
            created_by,
            now
        ],
    )
    .await
}

/// Postings of a person; with `at`, only those in force then.
pub async fn postings_of(
    ex: &mut impl Exec,
    person_id: i64,
    at: Option<OffsetDateTime>,
) -> Result<Vec<Posting>, StoreError> {
    ex.fetch_all(
        &format!(
            "{POSTING_SELECT} WHERE p.person_id = $1 AND ($2 IS NULL OR \
             (p.valid_from <= $2 AND (p.valid_to IS NULL OR p.valid_to > $2))) \
             ORDER BY p.valid_from DESC, p.id DESC"
        ),
        args![person_id, at],
    )
    .await
}

/// Postings in force in an agency at an instant.
pub async fn postings_in(
    ex: &mut impl Exec,
    agency_id: i64,
    at: OffsetDateTime,
) -> Result<Vec<Posting>, StoreError> {
    ex.fetch_all(
        &format!(
            "{POSTING_SELECT} WHERE p.agency_id = $1 AND p.valid_from <= $2 \
             AND (p.valid_to IS NULL OR p.valid_to > $2) ORDER BY pos.sort, p.id"
        ),
        args![agency_id, at],
    )
    .await
}

/// Ends every open posting of a person at `at`. Returns how many were ended.
pub async fn end_postings(
    ex: &mut impl Exec,
    person_id: i64,
    at: OffsetDateTime,
    by: Option<i64>,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE postings SET valid_to = $2, ended_by = $3 WHERE person_id = $1 \
         AND (valid_to IS NULL OR valid_to > $2)",
        args![person_id, at, by],
    )
    .await
}

/// A role granted to a person in an agency or an internal unit.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RoleGrant {
    pub id: i64,
    pub person_id: i64,
    pub role: String,
    /// None for a deployment-wide administrator.
    pub agency_id: Option<i64>,
    pub agency_name: Option<String>,
    pub org_unit_id: Option<i64>,
    pub org_unit_name: Option<String>,
    pub valid_from: OffsetDateTime,
    pub valid_to: Option<OffsetDateTime>,
    pub granted_by: Option<i64>,
    pub revoked_by: Option<i64>,
    pub reason: String,
}

const GRANT_SELECT: &str = "SELECT g.id, g.person_id, g.role, g.agency_id, a.name AS agency_name, \
    g.org_unit_id, u.name AS org_unit_name, g.valid_from, g.valid_to, g.granted_by, g.revoked_by, \
    g.reason FROM role_grants g LEFT JOIN agencies a ON a.id = g.agency_id \
    LEFT JOIN org_units u ON u.id = g.org_unit_id";

#[allow(clippy::too_many_arguments)]
pub async fn insert_grant(
    ex: &mut impl Exec,
    person_id: i64,
    role: &str,
    agency_id: Option<i64>,
    org_unit_id: Option<i64>,
    from: OffsetDateTime,
    granted_by: Option<i64>,
    reason: &str,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO role_grants (person_id, role, agency_id, org_unit_id, valid_from, granted_by, \
         reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        args![
            person_id,
            role,
            agency_id,
            org_unit_id,
            from,
            granted_by,
            reason,
            now
        ],
    )
    .await
}

pub async fn get_grant(ex: &mut impl Exec, id: i64) -> Result<RoleGrant, StoreError> {
    ex.fetch_one(&format!("{GRANT_SELECT} WHERE g.id = $1"), args![id])
        .await
}

/// Grants of a person; with `at`, only those in force then.
pub async fn grants_of(
    ex: &mut impl Exec,
    person_id: i64,
    at: Option<OffsetDateTime>,
) -> Result<Vec<RoleGrant>, StoreError> {
    ex.fetch_all(
        &format!(
            "{GRANT_SELECT} WHERE g.person_id = $1 AND ($2 IS NULL OR \
             (g.valid_from <= $2 AND (g.valid_to IS NULL OR g.valid_to > $2))) \
             ORDER BY g.valid_from DESC, g.id DESC"
        ),
        args![person_id, at],
    )
    .await
}

/// Ends one grant at `at`; returns 0 when it was already ended.
pub async fn revoke_grant(
    ex: &mut impl Exec,
    id: i64,
    at: OffsetDateTime,
    by: Option<i64>,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE role_grants SET valid_to = $2, revoked_by = $3 WHERE id = $1 \
         AND (valid_to IS NULL OR valid_to > $2)",
        args![id, at, by],
    )
    .await
}

/// Ends every open grant of a person at `at` (a staff move).
pub async fn revoke_all_grants(
    ex: &mut impl Exec,
    person_id: i64,
    at: OffsetDateTime,
    by: Option<i64>,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE role_grants SET valid_to = $2, revoked_by = $3 WHERE person_id = $1 \
         AND (valid_to IS NULL OR valid_to > $2)",
        args![person_id, at, by],
    )
    .await
}

/// The SQL condition "person `$p` holds one of `roles` covering agency column `agency_col` at
/// `$t`", for scoping queries by permission inside the database.
pub fn holds_role_sql(person: usize, at: usize, roles: &[&str], agency_col: &str) -> String {
    let roles = roles
        .iter()
        .map(|r| format!("'{r}'"))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "EXISTS (SELECT 1 FROM role_grants rg WHERE rg.person_id = ${person} \
         AND rg.role IN ({roles}) AND rg.valid_from <= ${at} \
         AND (rg.valid_to IS NULL OR rg.valid_to > ${at}) \
         AND (rg.agency_id = {agency_col} OR (rg.agency_id IS NULL AND rg.role = 'administrator')))"
    )
}

/// True if the person holds one of `roles` for the agency at `at` (an agency-wide grant, a grant
/// in the given internal unit, or — for `administrator` — a deployment-wide grant).
pub async fn has_role(
    ex: &mut impl Exec,
    person_id: i64,
    roles: &[&str],
    agency_id: Option<i64>,
    org_unit_id: Option<i64>,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut a = args![person_id, at, agency_id, org_unit_id];
    let list = crate::push_list(&mut a, roles);
    let sql = format!(
        "SELECT COUNT(*) FROM role_grants g WHERE g.person_id = $1 AND g.role IN ({list}) \
         AND g.valid_from <= $2 AND (g.valid_to IS NULL OR g.valid_to > $2) AND ( \
           (g.agency_id IS NULL AND g.role = 'administrator') \
           OR (g.agency_id = $3 AND (g.org_unit_id IS NULL OR g.org_unit_id = $4)))"
    );
    let n: i64 = ex.scalar(&sql, a).await?;
    Ok(n > 0)
}

/// Whether the person holds one of `roles` in the agency at `at`: a grant for the whole agency,
/// or one limited to a unit when that unit is `unit` (any unit when `unit` is None).
pub async fn holds_in(
    ex: &mut impl Exec,
    person_id: i64,
    roles: &[&str],
    agency_id: i64,
    unit: Option<i64>,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut a = args![person_id, agency_id, at];
    let list = crate::push_list(&mut a, roles);
    let unit_cond = match unit {
        Some(u) => format!(
            "AND (g.org_unit_id IS NULL OR g.org_unit_id = {})",
            crate::bind(&mut a, u)
        ),
        None => String::new(),
    };
    let n: i64 = ex
        .scalar(
            &format!(
                "SELECT COUNT(*) FROM role_grants g WHERE g.person_id = $1 AND g.role IN ({list}) \
                 AND g.agency_id = $2 AND g.valid_from <= $3 \
                 AND (g.valid_to IS NULL OR g.valid_to > $3) {unit_cond}"
            ),
            a,
        )
        .await?;
    Ok(n > 0)
}

/// The people holding `role` in an agency now, by name: (id, full name).
pub async fn holders(
    ex: &mut impl Exec,
    agency_id: i64,
    role: &str,
    at: OffsetDateTime,
) -> Result<Vec<(i64, String)>, StoreError> {
    ex.fetch_all(
        "SELECT DISTINCT p.id, p.full_name FROM role_grants g JOIN people p ON p.id = g.person_id \
         WHERE g.agency_id = $1 AND g.role = $2 AND p.active AND g.valid_from <= $3 \
         AND (g.valid_to IS NULL OR g.valid_to > $3) ORDER BY p.full_name, p.id",
        args![agency_id, role, at],
    )
    .await
}

/// A delegation of signing authority (TL. or TUQ.).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Delegation {
    pub id: i64,
    pub agency_id: i64,
    /// `by_order` (TL.) or `authorised` (TUQ.).
    pub kind: String,
    pub delegator_id: i64,
    pub delegator_name: String,
    pub delegate_id: i64,
    pub delegate_name: String,
    pub valid_from: OffsetDateTime,
    pub valid_to: OffsetDateTime,
    pub scope: String,
    pub reference: String,
    pub revoked_at: Option<OffsetDateTime>,
}

const DELEGATION_SELECT: &str = "SELECT d.id, d.agency_id, d.kind, d.delegator_id, \
    f.full_name AS delegator_name, d.delegate_id, t.full_name AS delegate_name, d.valid_from, \
    d.valid_to, d.scope, d.reference, d.revoked_at FROM delegations d \
    JOIN people f ON f.id = d.delegator_id JOIN people t ON t.id = d.delegate_id";

pub struct NewDelegation<'a> {
    pub agency_id: i64,
    pub kind: &'a str,
    pub delegator_id: i64,
    pub delegate_id: i64,
    pub valid_from: OffsetDateTime,
    pub valid_to: OffsetDateTime,
    pub scope: &'a str,
    pub reference: &'a str,
    pub created_by: Option<i64>,
}

pub async fn insert_delegation(
    ex: &mut impl Exec,
    d: &NewDelegation<'_>,
    now: OffsetDateTime,
) -> Result<i64, StoreError> {
    ex.scalar(
        "INSERT INTO delegations (agency_id, kind, delegator_id, delegate_id, valid_from, \
         valid_to, scope, reference, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        args![
            d.agency_id,
            d.kind,
            d.delegator_id,
            d.delegate_id,
            d.valid_from,
            d.valid_to,
            d.scope,
            d.reference,
            d.created_by,
            now
        ],
    )
    .await
}

pub async fn get_delegation(ex: &mut impl Exec, id: i64) -> Result<Delegation, StoreError> {
    ex.fetch_one(&format!("{DELEGATION_SELECT} WHERE d.id = $1"), args![id])
        .await
}

/// Delegations of an agency that are not revoked (past, present and future).
pub async fn delegations_in(
    ex: &mut impl Exec,
    agency_id: i64,
) -> Result<Vec<Delegation>, StoreError> {
    ex.fetch_all(
        &format!(
            "{DELEGATION_SELECT} WHERE d.agency_id = $1 AND d.revoked_at IS NULL \
             ORDER BY d.valid_from DESC, d.id DESC"
        ),
        args![agency_id],
    )
    .await
}

/// Delegations a person gave or received, including revoked ones.
pub async fn delegations_of(
    ex: &mut impl Exec,
    person_id: i64,
) -> Result<Vec<Delegation>, StoreError> {
    ex.fetch_all(
        &format!(
            "{DELEGATION_SELECT} WHERE d.delegator_id = $1 OR d.delegate_id = $1 \
             ORDER BY d.valid_from DESC, d.id DESC"
        ),
        args![person_id],
    )
    .await
}

/// Revokes a delegation from `at` on: it stays in history, ending at `at`.
pub async fn revoke_delegation(
    ex: &mut impl Exec,
    id: i64,
    at: OffsetDateTime,
    by: Option<i64>,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE delegations SET revoked_at = $2, revoked_by = $3, \
         valid_to = CASE WHEN valid_to > $2 THEN $2 ELSE valid_to END \
         WHERE id = $1 AND revoked_at IS NULL",
        args![id, at, by],
    )
    .await
}
