//! Registering applicants and reading their records. Identifiers are validated (a citizen's
//! 12-digit personal number, an organisation's tax code with its check digit, a foreigner's
//! passport); every read of an applicant's record by an official is logged.

use crate::Code;
use egov_domain::identity::{ApplicantId, Passport, PersonalId, TaxCode};
use egov_domain::org::Role;
use egov_store::applicants::{self, Applicant, NewApplicant};
use serde::{Deserialize, Serialize};
use time::Date;

use crate::error::OrNotFound;
use crate::{Actor, App, AppError, audit, authz};

/// Roles that deal with applicants at a counter or in the office.
const FRONT_DESK: [Role; 4] = [
    Role::OneStopOfficer,
    Role::RecordsClerk,
    Role::Specialist,
    Role::Administrator,
];

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewApplicantCmd {
    /// `citizen`, `organisation` or `foreigner`.
    pub kind: String,
    /// Personal number (citizen), tax code (organisation) or passport number (foreigner).
    pub identifier: String,
    /// ISO 3166 alpha-3 country of a foreigner's passport.
    pub country: Option<String>,
    pub name: String,
    pub birth_date: Option<Date>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// Why an official reads a person's data: one of a fixed set, each tied to the object that
/// justifies it. The set grows with the integrations that send personal data out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessPurpose {
    /// Handling a dossier the person applied with.
    Dossier { dossier_id: i64 },
    /// Receiving a new dossier at a counter: the person presented their number.
    Receipt,
}

impl AccessPurpose {
    /// Parses `purpose` (`dossier`, `receipt`) with the id of its object.
    pub fn parse(purpose: Option<&str>, dossier_id: Option<i64>) -> Result<Self, AppError> {
        match (purpose.map(str::trim), dossier_id) {
            (Some("dossier"), Some(dossier_id)) => Ok(AccessPurpose::Dossier { dossier_id }),
            (Some("dossier"), None) => Err(AppError::invalid(
                Code::PurposeObjectRequired,
                "Reading for a dossier names the dossier (dossier_id).",
            )),
            (Some("receipt"), _) => Ok(AccessPurpose::Receipt),
            (None, _) | (Some(""), _) => Err(AppError::invalid(
                Code::PurposeRequired,
                "Say why the personal data is read: purpose=dossier with dossier_id.",
            )),
            (Some(other), _) => Err(AppError::invalid(
                Code::BadPurpose,
                "The purpose is one of: dossier, receipt.",
            )
            .arg("value", other.chars().take(40).collect::<String>())),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            AccessPurpose::Dossier { .. } => "dossier",
            AccessPurpose::Receipt => "receipt",
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            AccessPurpose::Dossier { dossier_id } => {
                serde_json::json!({"purpose": self.as_str(), "dossier_id": dossier_id})
            }
            AccessPurpose::Receipt => serde_json::json!({"purpose": self.as_str()}),
        }
    }
}

/// An applicant as a list shows it: the identifier masked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicantSummary {
    pub id: i64,
    pub kind: String,
    pub masked_identifier: String,
    pub name: String,
}

/// Parses an identifier of the given kind.
pub fn parse_applicant_id(
    kind: &str,
    identifier: &str,
    country: Option<&str>,
    this_year: i32,
) -> Result<ApplicantId, AppError> {
    use egov_domain::identity::{PassportError, PersonalIdError, TaxCodeError};
    match kind {
        "citizen" => PersonalId::parse(identifier, this_year)
            .map(|personal_id| ApplicantId::Citizen { personal_id })
            .map_err(|e| {
                let code = match &e {
                    PersonalIdError::Format => Code::PersonalIdFormat,
                    PersonalIdError::UnknownProvince(_) => Code::PersonalIdProvince,
                    PersonalIdError::FutureBirthYear(_) => Code::PersonalIdCentury,
                };
                let detail = match &e {
                    PersonalIdError::UnknownProvince(p) => p.clone(),
                    PersonalIdError::FutureBirthYear(y) => y.to_string(),
                    PersonalIdError::Format => String::new(),
                };
                AppError::invalid(code, e.to_string()).arg("value", detail)
            }),
        "organisation" => TaxCode::parse(identifier)
            .map(|tax_code| ApplicantId::Organisation { tax_code })
            .map_err(|e| {
                let code = match e {
                    TaxCodeError::Format => Code::TaxCodeFormat,
                    TaxCodeError::CheckDigit => Code::TaxCodeCheckDigit,
                    TaxCodeError::Branch => Code::TaxCodeBranch,
                };
                AppError::invalid(code, e.to_string())
            }),
        "foreigner" => Passport::parse(country.unwrap_or(""), identifier)
            .map(|passport| ApplicantId::Foreigner { passport })
            .map_err(|e| {
                let code = match e {
                    PassportError::Country => Code::PassportCountry,
                    PassportError::Number => Code::PassportNumber,
                };
                AppError::invalid(code, e.to_string())
            }),
        _ => Err(AppError::invalid(
            Code::BadApplicantKind,
            "An applicant is a citizen, an organisation or a foreigner.",
        )),
    }
}

/// Hides all but the last three characters.
pub fn mask(identifier: &str) -> String {
    let n = identifier.chars().count();
    identifier
        .chars()
        .enumerate()
        .map(|(i, c)| if i + 3 < n { '*' } else { c })
        .collect()
}

/// A new applicant's details, checked: the identifier parsed, the name cleaned, empty contact
/// fields dropped.
pub(crate) struct ValidApplicant {
    pub id: ApplicantId,
    pub key: String,
    pub name: String,
    birth_date: Option<Date>,
    pub phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
}

impl ValidApplicant {
    pub fn check(cmd: &NewApplicantCmd) -> Result<ValidApplicant, AppError> {
        let this_year = time::OffsetDateTime::now_utc()
            .to_offset(egov_domain::VN_OFFSET)
            .year();
        let id = parse_applicant_id(
            &cmd.kind,
            &cmd.identifier,
            cmd.country.as_deref(),
            this_year,
        )?;
        let name = crate::people::check_name(&cmd.name, Code::BadFullName)?;
        if let (ApplicantId::Citizen { personal_id }, Some(b)) = (&id, cmd.birth_date)
            && b.year() != personal_id.birth_year()
        {
            return Err(AppError::invalid(
                Code::BirthYearMismatch,
                format!(
                    "the personal number says born in {}, the date of birth says {}",
                    personal_id.birth_year(),
                    b.year()
                ),
            ));
        }
        let clean = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(ValidApplicant {
            key: id.key(),
            id,
            name,
            birth_date: cmd.birth_date,
            phone: clean(&cmd.phone),
            email: clean(&cmd.email),
            address: clean(&cmd.address),
        })
    }

    /// Inserts the applicant in the caller's transaction; `None` when one with the same
    /// identifier is already registered (or was, a moment ago, by a concurrent transaction).
    pub async fn insert(&self, ex: &mut impl egov_store::Exec) -> Result<Option<i64>, AppError> {
        Ok(applicants::insert_if_absent(
            ex,
            &NewApplicant {
                kind: self.id.kind(),
                identifier: &self.key,
                name: &self.name,
                birth_date: self.birth_date,
                phone: self.phone.as_deref(),
                email: self.email.as_deref(),
                address: self.address.as_deref(),
            },
            egov_store::now(),
        )
        .await?)
    }

    /// The audit entry of a registration: it records the registration, not the personal data.
    pub fn audit(&self, id: i64) -> audit::Event {
        audit::event("applicant.create", "applicant", id)
            .after(&serde_json::json!({"kind": self.id.kind(), "identifier": mask(&self.key)}))
    }

    fn summary(&self, id: i64) -> ApplicantSummary {
        ApplicantSummary {
            id,
            kind: self.id.kind().into(),
            masked_identifier: mask(&self.key),
            name: self.name.clone(),
        }
    }
}

impl App {
    /// Registers an applicant; an applicant already registered with the same identifier is a
    /// conflict that names the existing record.
    pub async fn register_applicant(
        &self,
        actor: &Actor,
        cmd: NewApplicantCmd,
    ) -> Result<ApplicantSummary, AppError> {
        let v = ValidApplicant::check(&cmd)?;
        let mut tx = self.db.begin().await?;
        self.require_somewhere(&mut tx, actor, &FRONT_DESK).await?;
        let Some(new_id) = v.insert(&mut tx).await? else {
            let existing = applicants::find(&mut tx, v.id.kind(), &v.key).await?;
            return Err(AppError::conflict(
                Code::ApplicantExists,
                "An applicant with this identifier is already registered.",
            )
            .arg("id", existing.map(|a| a.id).unwrap_or_default()));
        };
        v.audit(new_id).write(&mut tx, actor).await?;
        tx.commit().await?;
        Ok(v.summary(new_id))
    }

    /// An applicant's full record, read for a stated purpose tied to the object that justifies
    /// it; the read is logged with both (Law 91/2025 on personal data). Without such an object
    /// the answer is the one an unknown id gets, so ids cannot be walked.
    pub async fn applicant(
        &self,
        actor: &Actor,
        id: i64,
        purpose: &AccessPurpose,
    ) -> Result<Applicant, AppError> {
        let mut tx = self.db.begin().await?;
        self.require_somewhere(&mut tx, actor, &FRONT_DESK).await?;
        let allowed = match purpose {
            AccessPurpose::Dossier { dossier_id } => {
                match egov_store::onestop::get_dossier(&mut tx, *dossier_id).await {
                    Ok(d) => d.applicant_id == id && self.can_see(&mut tx, actor, &d).await?,
                    Err(_) => false,
                }
            }
            // A receipt in progress finds the applicant by the number presented (see
            // `find_applicant`); it never reads a record by id.
            AccessPurpose::Receipt => false,
        };
        if !allowed && !authz::is_system_admin(&mut tx, actor, self.now()).await? {
            return Err(AppError::not_found("applicant"));
        }
        let a = applicants::get(&mut tx, id)
            .await
            .or_not_found("applicant")?;
        audit::event("applicant.read", "applicant", id)
            .after(&purpose.to_json())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(a)
    }

    /// Who read an applicant's personal data, when and why: the access log of one person,
    /// newest first (for the administrator answering the person's request).
    pub async fn applicant_access_log(
        &self,
        actor: &Actor,
        id: i64,
        limit: i64,
    ) -> Result<Vec<egov_store::audit::Entry>, AppError> {
        let mut ex = &self.db;
        if !authz::is_system_admin(&mut ex, actor, self.now()).await? {
            return Err(AppError::forbidden());
        }
        Ok(egov_store::audit::for_object(
            &mut ex,
            "applicant",
            &id.to_string(),
            limit.clamp(1, 1000),
        )
        .await?)
    }

    /// Looks an applicant up by identifier (as typed at a counter); the answer is masked.
    pub async fn find_applicant(
        &self,
        actor: &Actor,
        kind: &str,
        identifier: &str,
        country: Option<&str>,
    ) -> Result<Option<ApplicantSummary>, AppError> {
        let this_year = time::OffsetDateTime::now_utc()
            .to_offset(egov_domain::VN_OFFSET)
            .year();
        let id = parse_applicant_id(kind, identifier, country, this_year)?;
        let mut tx = self.db.begin().await?;
        self.require_somewhere(&mut tx, actor, &FRONT_DESK).await?;
        let found = applicants::find(&mut tx, id.kind(), &id.key()).await?;
        if let Some(a) = &found {
            audit::event("applicant.lookup", "applicant", a.id)
                .after(&AccessPurpose::Receipt.to_json())
                .write(&mut tx, actor)
                .await?;
        }
        tx.commit().await?;
        Ok(found.map(|a| ApplicantSummary {
            id: a.id,
            kind: a.kind,
            masked_identifier: mask(&a.identifier),
            name: a.name,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask("038085123456"), "*********456");
        assert_eq!(mask("ab"), "ab");
    }

    #[test]
    fn parses_each_kind() {
        assert!(parse_applicant_id("citizen", "038085123456", None, 2026).is_ok());
        assert_eq!(
            parse_applicant_id("citizen", "003085123456", None, 2026)
                .unwrap_err()
                .code,
            "personal_id_province"
        );
        assert_eq!(
            parse_applicant_id("citizen", "03808512345", None, 2026)
                .unwrap_err()
                .code,
            "personal_id_format"
        );
        assert_eq!(
            parse_applicant_id("citizen", "038299123456", None, 2026)
                .unwrap_err()
                .code,
            "personal_id_century"
        );
        assert_eq!(
            parse_applicant_id("organisation", "0100109107", None, 2026)
                .unwrap_err()
                .code,
            "tax_code_check_digit"
        );
        assert!(parse_applicant_id("organisation", "0100109106", None, 2026).is_ok());
        assert_eq!(
            parse_applicant_id("foreigner", "C1234567", Some("FR"), 2026)
                .unwrap_err()
                .code,
            "passport_country"
        );
        assert_eq!(
            parse_applicant_id("alien", "x", None, 2026)
                .unwrap_err()
                .code,
            "bad_applicant_kind"
        );
    }
}
