//! Applicants (người nộp hồ sơ): citizens, organisations and foreigners, keyed by their
//! validated identifier. Personal data: every read through a use case is logged.

use time::{Date, OffsetDateTime};

use crate::db::Exec;
use crate::{StoreError, args};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Applicant {
    pub id: i64,
    /// `citizen`, `organisation` or `foreigner`.
    pub kind: String,
    /// Personal number, tax code, or `COUNTRY:PASSPORT`.
    pub identifier: String,
    pub name: String,
    pub birth_date: Option<Date>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub created_at: OffsetDateTime,
}

pub struct NewApplicant<'a> {
    pub kind: &'a str,
    pub identifier: &'a str,
    pub name: &'a str,
    pub birth_date: Option<Date>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub address: Option<&'a str>,
}

const COLS: &str = "id, kind, identifier, name, birth_date, phone, email, address, created_at";

/// Inserts an applicant unless one with the same kind and identifier exists (then `None`). On
/// PostgreSQL a concurrent insert of the same identifier is waited for, not failed.
pub async fn insert_if_absent(
    ex: &mut impl Exec,
    a: &NewApplicant<'_>,
    now: OffsetDateTime,
) -> Result<Option<i64>, StoreError> {
    ex.scalar_optional(
        "INSERT INTO applicants (kind, identifier, name, name_fold, birth_date, phone, email, \
         address, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (kind, identifier) DO NOTHING RETURNING id",
        args![
            a.kind,
            a.identifier,
            a.name,
            egov_domain::text::fold(a.name),
            a.birth_date,
            a.phone,
            a.email,
            a.address,
            now
        ],
    )
    .await
}

pub async fn get(ex: &mut impl Exec, id: i64) -> Result<Applicant, StoreError> {
    ex.fetch_one(
        &format!("SELECT {COLS} FROM applicants WHERE id = $1"),
        args![id],
    )
    .await
}

pub async fn find(
    ex: &mut impl Exec,
    kind: &str,
    identifier: &str,
) -> Result<Option<Applicant>, StoreError> {
    ex.fetch_optional(
        &format!("SELECT {COLS} FROM applicants WHERE kind = $1 AND identifier = $2"),
        args![kind, identifier],
    )
    .await
}
