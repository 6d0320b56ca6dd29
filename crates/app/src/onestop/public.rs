//! What anyone may learn about a dossier: its status and appointment, given the dossier code
//! with the applicant's phone number or personal number, or the receipt's QR token. Dossier
//! codes are sequential and guessable, so look-ups are rate-limited per address and per code,
//! a wrong second factor looks exactly like an unknown code, and every successful look-up is
//! audited (it reads a citizen's dossier).

use crate::Code;
use egov_domain::onestop::dossier::State;
use egov_store::onestop::{self as store, DossierRow};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Actor, App, AppError, ErrorKind, audit};

/// A national status code and its meaning (`TrangThaiHoSo`, §8.1 of the reference).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NationalStatus {
    pub code: u8,
    /// Our state that maps to it.
    pub state: String,
    pub name_vi: String,
    pub name_en: String,
}

/// Every state and the national portal's status code it is reported as.
pub fn national_statuses() -> Vec<NationalStatus> {
    State::ALL
        .into_iter()
        .map(|s| {
            let (vi, en) = status_names(s);
            NationalStatus {
                code: s.national_code(),
                state: s.as_str().to_owned(),
                name_vi: vi.to_owned(),
                name_en: en.to_owned(),
            }
        })
        .collect()
}

fn status_names(s: State) -> (&'static str, &'static str) {
    match s {
        State::Submitted => ("Mới đăng ký", "Submitted"),
        State::Received => ("Được tiếp nhận", "Received"),
        State::Rejected => ("Không được tiếp nhận", "Not accepted"),
        State::Processing => ("Đang xử lý", "Being processed"),
        State::AwaitingSupplement => ("Yêu cầu bổ sung giấy tờ", "Supplement requested"),
        State::AwaitingPayment => (
            "Yêu cầu thực hiện nghĩa vụ tài chính",
            "Financial obligation requested",
        ),
        State::Withdrawn => ("Công dân yêu cầu rút hồ sơ", "Withdrawn by the applicant"),
        State::Stopped => ("Dừng xử lý", "Processing stopped"),
        State::ResultReady => ("Đã xử lý xong", "Processing completed"),
        State::Returned => ("Đã trả kết quả", "Result returned"),
    }
}

/// What the public sees. No personal data beyond a masked name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicStatus {
    pub code: String,
    pub national_code: Option<String>,
    pub procedure_code: String,
    pub procedure_name: String,
    /// Initials only: "L. T. Hồng".
    pub applicant: String,
    pub receiving_agency: String,
    pub competent_agency: String,
    pub state: String,
    pub national_status: u8,
    pub status_vi: String,
    pub status_en: String,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub received_at: Option<OffsetDateTime>,
    /// The appointment in force (the extended one after an apology).
    #[serde(with = "time::serde::rfc3339::option")]
    pub appointment: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub returned_at: Option<OffsetDateTime>,
    /// Processing steps done, of all.
    pub step: i64,
    pub steps: i64,
    /// Where the result is collected (the front office that received the dossier).
    pub collect_at: String,
}

/// A status look-up: `token` alone, or `code` with `phone` or `personal_number`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    pub code: Option<String>,
    pub phone: Option<String>,
    pub personal_number: Option<String>,
    /// The token printed as a QR code on the receipt.
    pub token: Option<String>,
}

/// Only the digits of a phone number, `+84`/`84` written as the domestic `0`.
pub fn normalize_phone(p: &str) -> String {
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("84") {
        Some(rest) if digits.len() >= 11 => format!("0{rest}"),
        _ => digits,
    }
}

/// "Lê Thị Hồng" → "L. T. Hồng": enough for the applicant to recognise their dossier.
pub fn initials(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.split_last() {
        Some((last, rest)) => rest
            .iter()
            .filter_map(|w| w.chars().next())
            .map(|c| format!("{c}. "))
            .chain(std::iter::once((*last).to_owned()))
            .collect(),
        None => String::new(),
    }
}

fn no_match() -> AppError {
    AppError::new(
        ErrorKind::NotFound,
        Code::LookupNoMatch,
        "No dossier matches these details.",
    )
}

fn too_many_for_code() -> AppError {
    AppError::new(
        ErrorKind::TooMany,
        Code::TooManyLookupsForCode,
        "Too many wrong details for this dossier code: scan the QR code on the receipt (or open its link), or try again in a quarter of an hour.",
    )
}

fn too_many() -> AppError {
    AppError::new(
        ErrorKind::TooMany,
        Code::TooManyLookups,
        "Too many look-ups: try again in a quarter of an hour.",
    )
}

impl App {
    /// Looks a dossier up for the public. `client` is the caller's address (the rate-limit key).
    pub async fn public_lookup(
        &self,
        q: &LookupQuery,
        client: &str,
    ) -> Result<PublicStatus, AppError> {
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let (code, phone, pid, token) = (
            nonempty(&q.code),
            nonempty(&q.phone),
            nonempty(&q.personal_number),
            nonempty(&q.token),
        );
        if token.is_none() && (code.is_none() || (phone.is_none() && pid.is_none())) {
            return Err(AppError::invalid(
                Code::LookupIncomplete,
                "Give the dossier code and the applicant's phone number or personal number, or scan the receipt's QR code.",
            ));
        }
        // Every attempt from an address counts against the address, in its own transaction so
        // that a refused attempt counts too. A dossier code counts only the failed matches of a
        // second factor (a phone number can be guessed), never the look-ups by the receipt's
        // token: someone else's wrong guesses can close the code-and-phone door for a while,
        // but never the QR code's.
        let now = self.now();
        let limits = &self.settings.onestop;
        let since = now - time::Duration::minutes(limits.lookup_window_minutes);
        let code_key = code
            .as_ref()
            .filter(|_| token.is_none())
            .map(|c| format!("fail:{}", c.to_uppercase()));
        {
            let mut tx = self.db.begin().await?;
            let by_address =
                store::count_lookup(&mut tx, &format!("ip:{client}"), now, since).await?;
            let failures = match &code_key {
                Some(k) => store::recent_lookups(&mut tx, k, since).await?,
                None => 0,
            };
            tx.commit().await?;
            if by_address > limits.lookup_per_address {
                return Err(too_many());
            }
            if failures >= limits.lookup_per_code {
                return Err(too_many_for_code());
            }
        }
        let mut ex = &self.db;
        let d = match (&token, &code) {
            (Some(t), _) => store::find_dossier_by_token(&mut ex, t).await?,
            // Codes are written in capitals ("…H56-…"); a citizen may type them in any case.
            (None, Some(c)) => store::find_dossier_by_code(&mut ex, &c.to_uppercase()).await?,
            (None, None) => None,
        };
        let matched = match d {
            Some(d) if token.is_some() || self.second_factor_matches(&d, phone, pid).await? => {
                Some(d)
            }
            _ => None,
        };
        // A wrong phone and an unknown code are the same failure, with the same answer.
        let Some(d) = matched else {
            if let Some(k) = &code_key {
                store::record_lookup(&mut &self.db, k, now).await?;
            }
            return Err(no_match());
        };
        let mut tx = self.db.begin().await?;
        let how = if token.is_some() { "qr" } else { "code+factor" };
        audit::event("dossier.public_lookup", "dossier", d.id)
            .agency(Some(d.competent_agency_id))
            .after(&serde_json::json!({ "via": how }))
            .write(
                &mut tx,
                &Actor::system("public").with_request(Some(client.to_owned()), None),
            )
            .await?;
        tx.commit().await?;
        let mut view = public_view(&d);
        let receiving = egov_store::agencies::get(&mut &self.db, d.receiving_agency_id).await?;
        let parent = match receiving.parent_id {
            Some(p) => Some(egov_store::agencies::get(&mut &self.db, p).await?.name),
            None => None,
        };
        let set = super::forms::FormSet::for_day(
            d.received_at
                .unwrap_or(d.submitted_at)
                .to_offset(egov_domain::VN_OFFSET)
                .date(),
        );
        view.collect_at =
            super::forms::FrontOffice::of(set, &receiving.name, parent.as_deref()).full;
        Ok(view)
    }

    async fn second_factor_matches(
        &self,
        d: &DossierRow,
        phone: Option<String>,
        pid: Option<String>,
    ) -> Result<bool, AppError> {
        if let Some(p) = phone {
            let given = normalize_phone(&p);
            if given.len() >= 9 && d.applicant_phone.as_deref().map(normalize_phone) == Some(given)
            {
                return Ok(true);
            }
        }
        if let Some(n) = pid {
            let a = egov_store::applicants::get(&mut &self.db, d.applicant_id).await?;
            let given: String = n.chars().filter(|c| !c.is_whitespace()).collect();
            // A foreigner's identifier is `COUNTRY:PASSPORT`; the passport number alone will do.
            let passport = a.identifier.rsplit(':').next().unwrap_or_default();
            if a.identifier.eq_ignore_ascii_case(&given) || passport.eq_ignore_ascii_case(&given) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn public_view(d: &DossierRow) -> PublicStatus {
    let state = d.state;
    let (vi, en) = status_names(state);
    PublicStatus {
        code: d.code.clone(),
        national_code: d.national_code.clone(),
        procedure_code: d.procedure_code.clone(),
        procedure_name: d.procedure_name.clone(),
        applicant: initials(&d.applicant_name),
        receiving_agency: d.receiving_agency_name.clone(),
        competent_agency: d.competent_agency_name.clone(),
        state: d.state.as_str().into(),
        national_status: state.national_code(),
        status_vi: vi.to_owned(),
        status_en: en.to_owned(),
        submitted_at: d.submitted_at,
        received_at: d.received_at,
        appointment: d.extended_to.or(d.appointment),
        finished_at: d.finished_at,
        returned_at: d.returned_at,
        step: d.step,
        steps: d.steps,
        collect_at: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_compare_by_digits() {
        assert_eq!(normalize_phone("+84 912 345 678"), "0912345678");
        assert_eq!(normalize_phone("0912.345.678"), "0912345678");
        assert_eq!(normalize_phone("84912345678"), "0912345678");
    }

    #[test]
    fn names_keep_only_initials() {
        assert_eq!(initials("Lê Thị Hồng"), "L. T. Hồng");
        assert_eq!(initials("Hồng"), "Hồng");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn every_state_has_a_distinct_national_code() {
        let mut codes: Vec<u8> = national_statuses().iter().map(|s| s.code).collect();
        codes.sort();
        assert_eq!(codes, (1..=10).collect::<Vec<_>>());
    }
}
