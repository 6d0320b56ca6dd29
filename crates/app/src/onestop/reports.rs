//! Statistics and the tracking register of an agency. Both are computed from the dossiers
//! themselves at the moment of the request (no separately maintained aggregates): the figures
//! are as fresh as the last committed transition.

use crate::Code;
use egov_domain::org::Role;
use egov_store::onestop::{self as store, DossierRow, StatRow};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Actor, App, AppError};

/// The roles that may read an agency's one-stop figures and register.
pub const STAFF: [Role; 6] = [
    Role::AgencyLeader,
    Role::UnitLeader,
    Role::Specialist,
    Role::OneStopOfficer,
    Role::RecordsClerk,
    Role::Administrator,
];

/// Sums of [`StatRow`] and the rates leaders are judged by.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StatTotals {
    /// The field (lĩnh vực) code, or empty for the agency's total.
    pub field_code: String,
    pub received: i64,
    pub online: i64,
    pub counter: i64,
    pub post: i64,
    pub finished: i64,
    pub finished_early: i64,
    pub finished_on_time: i64,
    pub finished_late: i64,
    pub open_on_time: i64,
    pub open_overdue: i64,
    pub digitised: i64,
    pub reused_data: i64,
    /// Mean time from receipt to result, in hours (calendar time).
    pub average_handling_hours: f64,
    /// Online share of received dossiers, 0–100.
    pub online_rate: f64,
    /// Finished early or on time, of all finished, 0–100.
    pub on_time_rate: f64,
    /// Dossiers whose components were digitised, of all received, 0–100.
    pub digitised_rate: f64,
}

impl StatTotals {
    fn add(&mut self, r: &StatRow, seconds: &mut i64) {
        self.received += r.received;
        self.online += r.online;
        self.counter += r.counter;
        self.post += r.post;
        self.finished += r.finished;
        self.finished_early += r.finished_early;
        self.finished_on_time += r.finished_on_time;
        self.finished_late += r.finished_late;
        self.open_on_time += r.open_on_time;
        self.open_overdue += r.open_overdue;
        self.digitised += r.digitised;
        self.reused_data += r.reused_data;
        *seconds += r.handling_seconds;
    }

    fn finish(mut self, seconds: i64) -> Self {
        let pct = |a: i64, b: i64| {
            if b == 0 {
                0.0
            } else {
                (a as f64 * 1000.0 / b as f64).round() / 10.0
            }
        };
        self.average_handling_hours = if self.finished == 0 {
            0.0
        } else {
            (seconds as f64 / self.finished as f64 / 360.0).round() / 10.0
        };
        self.online_rate = pct(self.online, self.received);
        self.on_time_rate = pct(self.finished_early + self.finished_on_time, self.finished);
        self.digitised_rate = pct(self.digitised, self.received);
        self
    }
}

/// An agency's month: per procedure, per field and in total.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthlyStats {
    pub agency_id: i64,
    /// `YYYY-MM` (the month of receipt, Asia/Ho_Chi_Minh).
    pub month: String,
    /// The figures are computed from the dossiers at this instant.
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    pub procedures: Vec<crate::views::ProcedureStats>,
    pub fields: Vec<StatTotals>,
    pub total: StatTotals,
    /// What citizens said on the national portal (the scorecard's satisfaction group).
    pub satisfaction: Satisfaction,
}

/// Citizens' ratings of the agency's dossiers received in the month, and their feedback about
/// the agency sent in the month, as pulled from the national portal.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Satisfaction {
    pub rated: i64,
    /// The mean score (1–5), to two decimals; 0 when nothing was rated.
    pub average_score: f64,
    /// Ratings of 1 or 2.
    pub dissatisfied: i64,
    pub feedback_received: i64,
    pub feedback_handled: i64,
    /// The month's feedback, newest first (at most 200).
    pub feedback: Vec<Feedback>,
}

/// A piece of feedback (phản ánh, kiến nghị) about the agency.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Feedback {
    pub national_id: String,
    /// The procedure it is about; empty when it is about the agency or an official.
    pub procedure_code: String,
    pub content: String,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub handled_at: Option<OffsetDateTime>,
}

/// The instants a month (`YYYY-MM`, already checked) starts and ends in Vietnam.
fn month_bounds(month: &str) -> Result<(OffsetDateTime, OffsetDateTime), AppError> {
    let bad = || AppError::invalid(Code::BadMonth, "A month is written YYYY-MM.");
    let (y, m) = month.split_once('-').ok_or_else(bad)?;
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m = time::Month::try_from(m.parse::<u8>().map_err(|_| bad())?).map_err(|_| bad())?;
    let start = |y: i32, m: time::Month| {
        time::Date::from_calendar_date(y, m, 1)
            .map(|d| d.midnight().assume_offset(egov_domain::VN_OFFSET))
            .map_err(|_| bad())
    };
    let (ny, nm) = if m == time::Month::December {
        (y + 1, time::Month::January)
    } else {
        (y, m.next())
    };
    Ok((start(y, m)?, start(ny, nm)?))
}

/// Checks `YYYY-MM`.
pub fn parse_month(m: &str) -> Result<String, AppError> {
    let bad = || {
        AppError::invalid(Code::BadMonth, "A month is written YYYY-MM.").arg("value", m.to_owned())
    };
    let (y, mo) = m.trim().split_once('-').ok_or_else(bad)?;
    let y: i32 = y.parse().map_err(|_| bad())?;
    let mo: u8 = mo.parse().map_err(|_| bad())?;
    if !(1900..=2100).contains(&y) || !(1..=12).contains(&mo) {
        return Err(bad());
    }
    Ok(format!("{y:04}-{mo:02}"))
}

/// Masks the applicant's phone number in a list (lists and exports never show it whole).
pub fn mask_list(mut rows: Vec<DossierRow>) -> Vec<DossierRow> {
    for r in &mut rows {
        r.applicant_phone = r.applicant_phone.as_deref().map(crate::applicants::mask);
    }
    rows
}

impl App {
    /// The month's figures of an agency, as the competent agency.
    pub async fn monthly_stats(
        &self,
        actor: &Actor,
        agency_id: i64,
        month: &str,
    ) -> Result<MonthlyStats, AppError> {
        let month = parse_month(month)?;
        self.require_role(actor, &STAFF, Some(agency_id)).await?;
        let as_of = self.now();
        let procedures = store::monthly_stats(&mut &self.db, agency_id, &month, as_of).await?;
        let mut total = StatTotals::default();
        let mut total_secs = 0;
        let mut fields: Vec<(StatTotals, i64)> = Vec::new();
        for r in &procedures {
            total.add(r, &mut total_secs);
            match fields
                .iter_mut()
                .find(|(f, _)| f.field_code == r.field_code)
            {
                Some((f, secs)) => f.add(r, secs),
                None => {
                    let mut f = StatTotals {
                        field_code: r.field_code.clone(),
                        ..StatTotals::default()
                    };
                    let mut secs = 0;
                    f.add(r, &mut secs);
                    fields.push((f, secs));
                }
            }
        }
        let satisfaction = self.satisfaction(agency_id, &month).await?;
        Ok(MonthlyStats {
            agency_id,
            month,
            as_of,
            procedures: crate::views::all(procedures),
            fields: fields.into_iter().map(|(f, s)| f.finish(s)).collect(),
            total: total.finish(total_secs),
            satisfaction,
        })
    }

    async fn satisfaction(&self, agency_id: i64, month: &str) -> Result<Satisfaction, AppError> {
        let mut ex = self.db();
        let (rated, sum, dissatisfied) =
            egov_store::national_feedback::agency_ratings(&mut ex, agency_id, month).await?;
        let (from, to) = month_bounds(month)?;
        let (received, handled) =
            egov_store::national_feedback::agency_feedback_counts(&mut ex, agency_id, from, to)
                .await?;
        let feedback: Vec<Feedback> =
            egov_store::national_feedback::agency_feedback(&mut ex, agency_id, from, to, 200)
                .await?
                .into_iter()
                .map(|f| Feedback {
                    national_id: f.national_id,
                    procedure_code: f.procedure_code,
                    content: f.content,
                    sent_at: f.sent_at,
                    handled_at: f.handled_at,
                })
                .collect();
        Ok(Satisfaction {
            rated,
            average_score: if rated == 0 {
                0.0
            } else {
                (sum as f64 * 100.0 / rated as f64).round() / 100.0
            },
            dissatisfied,
            feedback_received: received,
            feedback_handled: handled,
            feedback,
        })
    }

    /// The tracking register (sổ theo dõi hồ sơ) of an agency: dossiers it received or decides,
    /// submitted within `[from, to)`, phone numbers masked.
    pub async fn tracking_register(
        &self,
        actor: &Actor,
        agency_id: i64,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<DossierRow>, AppError> {
        self.require_role(actor, &STAFF, Some(agency_id)).await?;
        if to <= from {
            return Err(AppError::invalid(
                Code::BadPeriod,
                "The end of the period must come after its start.",
            ));
        }
        let rows = store::register(
            &mut &self.db,
            agency_id,
            from,
            to,
            limit.clamp(1, 100_000),
            offset.max(0),
        )
        .await?;
        Ok(mask_list(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_checked() {
        assert_eq!(parse_month("2026-3").unwrap(), "2026-03");
        for bad in ["2026", "2026-13", "x-01", "2026-00", ""] {
            assert_eq!(parse_month(bad).unwrap_err().code, "bad_month", "{bad}");
        }
    }

    #[test]
    fn totals_compute_rates() {
        let row = StatRow {
            procedure_code: "1.000001".into(),
            field_code: "HT".into(),
            received: 10,
            online: 4,
            counter: 5,
            post: 1,
            finished_early: 3,
            finished_on_time: 3,
            finished_late: 2,
            open_on_time: 1,
            open_overdue: 1,
            digitised: 7,
            reused_data: 2,
            handling_seconds: 8 * 7200,
            finished: 8,
        };
        let mut t = StatTotals::default();
        let mut secs = 0;
        t.add(&row, &mut secs);
        let t = t.finish(secs);
        assert_eq!(
            (
                t.online_rate,
                t.on_time_rate,
                t.digitised_rate,
                t.average_handling_hours
            ),
            (40.0, 75.0, 70.0, 2.0)
        );
        assert_eq!(StatTotals::default().finish(0).on_time_rate, 0.0);
    }
}
