//! What-if for leaders: which open dossiers decide this month's on-time rate, what the rate and
//! group 2's points would be if chosen ones were finished today, and the ten actions that would
//! keep the most points — "12 dossiers due tomorrow in Phường Hạc Thành".
//!
//! The month is the period of receipt (the portal counts a dossier in the month it was
//! received): the dossiers that matter are this month's still open. An open dossier not yet
//! overdue counts as on time now; if nothing is done it is late at the month's end when its
//! appointment falls before then. Finishing an overdue one today does not make it on time.

use std::collections::{BTreeMap, BTreeSet};

use egov_store::scorecard::{self as store, OpenDossier, Selection};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::scorecard::{Period, Scope};
use crate::{Actor, App, AppError};

/// The on-time rate (2.1) and group 2's points under one assumption.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Projection {
    pub on_time: f64,
    pub received: f64,
    /// Percent, two decimals (None: nothing received).
    pub rate: Option<f64>,
    /// 2.1's points.
    pub points: Option<f64>,
    /// Group 2's points (2.1 and 2.2; 2.2 is not scored by default).
    pub group_points: f64,
}

/// An action: finish `count` dossiers due on `due` at an agency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    pub agency_id: i64,
    pub agency_name: String,
    pub due: Date,
    pub count: i64,
    /// Points kept this month (2.1 and 5.4) by finishing them in time.
    pub points: f64,
    /// Their ids, for the list.
    pub ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WhatIf {
    pub period: Period,
    pub scope: Scope,
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    /// This month's open dossiers due before the month ends, or overdue, soonest first.
    pub candidates: Vec<OpenDossier>,
    pub selected: BTreeSet<i64>,
    pub now: Projection,
    /// At the month's end if nothing more is finished.
    pub if_nothing: Projection,
    /// At the month's end if the selected are finished today (and nothing else).
    pub if_selected: Projection,
    /// The ten actions that keep the most points, most first.
    pub actions: Vec<Action>,
}

impl WhatIf {
    pub fn is_selected(&self, id: &i64) -> bool {
        self.selected.contains(id)
    }

    pub fn is_overdue(&self, d: &OpenDossier) -> bool {
        d.counts_late || d.appointment < self.as_of
    }
}

impl App {
    /// What-if for the month holding today, for a scope the actor may see.
    pub async fn what_if(
        &self,
        actor: &Actor,
        agencies: &[i64],
        selected: &[i64],
    ) -> Result<WhatIf, AppError> {
        let scope = self.scorecard_scope(actor, agencies).await?;
        let now = self.now();
        let today = egov_domain::vn_date(now);
        let period = Period::month_of(today);
        let defs = self.scorecard_definitions().await?;
        let counts = self.scorecard_counts(&period, &scope, now).await?;
        let (from, to) = period.bounds();
        let sel = Selection {
            from,
            to,
            agencies: scope.ids.as_deref(),
            now,
        };
        let candidates = store::open_due(&mut &self.db, &sel, to, 5_000).await?;
        let selected: BTreeSet<i64> = selected
            .iter()
            .copied()
            .filter(|id| candidates.iter().any(|c| c.id == *id))
            .collect();
        let find = |id: &str| defs.indicators.iter().find(|i| i.id == id);
        let count = |name: &str| counts.get(name).copied().unwrap_or(0.0);
        let (on_time, received) = (count("dossiers.on_time"), count("dossiers.received"));
        let satisfactory = count("dossiers.satisfactory");
        let project = |on_time: f64| {
            let mut group_points = 0.0;
            let mut p21 = (None, None);
            for i in defs.indicators.iter().filter(|i| i.id.starts_with("2.")) {
                let (n, d) = if i.id == "2.1" {
                    (on_time, received)
                } else {
                    (count(&i.numerator), count(&i.denominator))
                };
                let f = i.figure(n, d, defs.zero_denominator);
                group_points += f.points.unwrap_or(0.0);
                if i.id == "2.1" {
                    p21 = (f.value, f.points);
                }
            }
            Projection {
                on_time,
                received,
                rate: p21.0,
                points: p21.1,
                group_points: egov_domain::scorecard::round2(group_points),
            }
        };
        // Not yet overdue: on time now, late at the month's end unless finished.
        let pending: Vec<&OpenDossier> = candidates
            .iter()
            .filter(|c| !(c.counts_late || c.appointment < now))
            .collect();
        let lapsing = pending.len() as f64;
        let kept = pending.iter().filter(|c| selected.contains(&c.id)).count() as f64;
        // The points an indicator loses when `n` of its numerator lapse.
        let loss = |id: &str, numerator: f64, n: f64| {
            find(id).map_or(0.0, |i| {
                let d = count(&i.denominator);
                let before = i.figure(numerator, d, defs.zero_denominator).points;
                let after = i.figure(numerator - n, d, defs.zero_denominator).points;
                before.unwrap_or(0.0) - after.unwrap_or(0.0)
            })
        };
        let mut groups: BTreeMap<(Date, i64), Action> = BTreeMap::new();
        for c in &pending {
            let due = egov_domain::vn_date(c.appointment);
            let a = groups
                .entry((due, c.competent_agency_id))
                .or_insert(Action {
                    agency_id: c.competent_agency_id,
                    agency_name: c.agency_name.clone(),
                    due,
                    count: 0,
                    points: 0.0,
                    ids: Vec::new(),
                });
            a.count += 1;
            a.ids.push(c.id);
        }
        let mut actions: Vec<Action> = groups
            .into_values()
            .map(|mut a| {
                let n = a.count as f64;
                let dislikes = pending
                    .iter()
                    .filter(|c| a.ids.contains(&c.id) && c.disliked)
                    .count() as f64;
                a.points = egov_domain::scorecard::round2(
                    loss("2.1", on_time, n) + loss("5.4", satisfactory, n - dislikes),
                );
                a
            })
            .collect();
        actions.sort_by(|x, y| y.points.total_cmp(&x.points).then(x.due.cmp(&y.due)));
        actions.truncate(10);
        Ok(WhatIf {
            period,
            scope,
            as_of: now,
            now: project(on_time),
            if_nothing: project(on_time - lapsing),
            if_selected: project(on_time - lapsing + kept),
            candidates,
            selected,
            actions,
        })
    }
}
