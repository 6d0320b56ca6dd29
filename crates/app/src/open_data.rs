//! Public statistics (open data): per agency and month, the dossiers received, the online rate,
//! the on-time rate and the satisfaction rate — from the scorecard's own counts, with no
//! personal data. Kept for ten minutes per year: a public page must not recount a province's
//! year for every visitor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use egov_store::scorecard::{self as store, Grouping, Selection};
use serde::Serialize;
use time::{Date, Duration, Month, OffsetDateTime};

use crate::scorecard::Period;
use crate::{App, AppError, Code};

/// An agency's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenRow {
    pub agency_code: String,
    pub agency_name: String,
    /// `YYYY-MM`.
    pub month: String,
    pub received: i64,
    pub online: i64,
    pub on_time: i64,
    pub satisfactory: i64,
    /// Percent, two decimals.
    pub online_rate: f64,
    pub on_time_rate: f64,
    /// Received and neither late nor disliked (indicator 5.4's rate).
    pub satisfaction_rate: f64,
}

/// A year of public statistics.
#[derive(Debug, Clone, Serialize)]
pub struct OpenStats {
    pub year: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    pub rows: Vec<OpenRow>,
}

/// The years computed lately, with when.
pub(crate) type OpenCache = Mutex<HashMap<i32, (OffsetDateTime, Arc<OpenStats>)>>;

const KEEP: Duration = Duration::minutes(10);

impl App {
    /// The public statistics of a year (from 2015 to this one).
    pub async fn open_statistics(&self, year: i32) -> Result<Arc<OpenStats>, AppError> {
        let now = self.now();
        let this_year = egov_domain::vn_date(now).year();
        if !(2015..=this_year).contains(&year) {
            return Err(AppError::invalid(
                Code::BadPeriod,
                format!("Statistics are published for the years 2015 to {this_year}."),
            )
            .arg("value", year));
        }
        if let Some((at, s)) = self
            .open_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&year)
            && now - *at < KEEP
        {
            return Ok(s.clone());
        }
        let first = Date::from_calendar_date(year, Month::January, 1)
            .map_err(|e| AppError::internal(e.to_string()))?;
        let last = Date::from_calendar_date(year, Month::December, 31)
            .map_err(|e| AppError::internal(e.to_string()))?;
        let (from, to) = Period {
            from: first,
            to: last,
        }
        .bounds();
        let sel = Selection {
            from,
            to,
            agencies: None,
            now,
        };
        store::refresh_summaries(&self.db).await?;
        let counts = store::dossier_counts(&mut &self.db, &sel, Grouping::AgencyMonth).await?;
        let mut ids: Vec<i64> = counts.iter().filter_map(|c| c.agency_id).collect();
        ids.dedup();
        let agencies: HashMap<i64, egov_store::agencies::Agency> = self
            .agencies_by_id(&ids)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let pct = |a: i64, b: i64| {
            if b == 0 {
                0.0
            } else {
                egov_domain::scorecard::round2(100.0 * a as f64 / b as f64)
            }
        };
        let mut rows: Vec<OpenRow> = counts
            .into_iter()
            .filter_map(|c| {
                let a = agencies.get(&c.agency_id?)?;
                let received = c.get("dossiers.received");
                let (online, on_time) = (c.get("dossiers.online"), c.get("dossiers.on_time"));
                let satisfactory = c.get("dossiers.satisfactory");
                Some(OpenRow {
                    agency_code: a.code.clone(),
                    agency_name: a.name.clone(),
                    month: c.month.clone()?,
                    received,
                    online,
                    on_time,
                    satisfactory,
                    online_rate: pct(online, received),
                    on_time_rate: pct(on_time, received),
                    satisfaction_rate: pct(satisfactory, received),
                })
            })
            .collect();
        rows.sort_by(|x, y| {
            x.agency_name
                .cmp(&y.agency_name)
                .then(x.month.cmp(&y.month))
        });
        let stats = Arc::new(OpenStats {
            year,
            as_of: now,
            rows,
        });
        self.open_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(year, (now, stats.clone()));
        Ok(stats)
    }
}

impl OpenStats {
    /// The rows as CSV (UTF-8 with a byte-order mark, so spreadsheets read the Vietnamese).
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "\u{feff}agency_code,agency_name,month,received,online,on_time,satisfactory,online_rate,on_time_rate,satisfaction_rate\r\n",
        );
        let field = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        for r in &self.rows {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{:.2},{:.2},{:.2}\r\n",
                field(&r.agency_code),
                field(&r.agency_name),
                r.month,
                r.received,
                r.online,
                r.on_time,
                r.satisfactory,
                r.online_rate,
                r.on_time_rate,
                r.satisfaction_rate
            ));
        }
        out
    }
}
