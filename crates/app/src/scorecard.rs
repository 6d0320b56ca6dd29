//! The Decision 766 scorecard computed from egov's own records, live, for any period and any
//! scope (the province, an agency with those under it, a group of agencies): every indicator
//! of the definitions in force with its numerator, denominator, value and points, and the
//! dossiers, procedures or feedback behind each figure. What each count reads is in
//! `docs/scorecard.md`; the dossier counts are conditions in `egov_store::scorecard`, the
//! procedure and feedback counts facts of each item computed here — one definition serves a
//! count and its list.

use std::collections::{BTreeMap, BTreeSet};

use egov_domain::calendar::WorkCalendar;
use egov_domain::onestop::procedure::{FeeRule, ImplementingLevel, OnlineService};
use egov_domain::scorecard::{DefinitionError, Definitions, Indicator, Kind};
use egov_store::agencies::{self, Agency};
pub use egov_store::scorecard::ListFilter;
use egov_store::scorecard::{self as store, Grouping, ListedDossier, Selection};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::onestop::reports::STAFF;
use crate::{Actor, App, AppError, Code};

/// A period of whole days, both included (Vietnam's days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

const DAY: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl Period {
    /// Reads `YYYY-MM-DD` days and checks the period: it must not end before it starts nor
    /// be longer than `max_days`.
    pub fn parse(from: &str, to: &str, max_days: u32) -> Result<Period, AppError> {
        let day = |s: &str| {
            Date::parse(s.trim(), DAY).map_err(|_| {
                AppError::invalid(Code::BadDate, "A day is written YYYY-MM-DD.")
                    .arg("value", s.trim().to_owned())
            })
        };
        Period::new(day(from)?, day(to)?, max_days)
    }

    /// Checks a period (see [`Period::parse`]).
    pub fn new(from: Date, to: Date, max_days: u32) -> Result<Period, AppError> {
        if to < from {
            return Err(AppError::invalid(
                Code::BadPeriod,
                "The period ends before it starts.",
            ));
        }
        if (to - from).whole_days() + 1 > i64::from(max_days) {
            return Err(AppError::invalid(
                Code::PeriodTooLong,
                format!("A period is at most {max_days} days."),
            )
            .arg("max", max_days));
        }
        Ok(Period { from, to })
    }

    /// The month holding `day`, from its first day to `day` (month to date).
    pub fn month_to(day: Date) -> Period {
        Period {
            from: day.replace_day(1).unwrap_or(day),
            to: day,
        }
    }

    /// The whole month holding `day`.
    pub fn month_of(day: Date) -> Period {
        let from = day.replace_day(1).unwrap_or(day);
        let to = from
            .replace_day(from.month().length(from.year()))
            .unwrap_or(day);
        Period { from, to }
    }

    /// The instants the period starts and ends (exclusive) in Vietnam.
    pub fn bounds(&self) -> (OffsetDateTime, OffsetDateTime) {
        let at = |d: Date| d.midnight().assume_offset(egov_domain::VN_OFFSET);
        (at(self.from), at(self.to.next_day().unwrap_or(self.to)))
    }

    fn contains(&self, d: Date) -> bool {
        self.from <= d && d <= self.to
    }
}

/// An agency a scorecard is asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScopeAgency {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// What a scorecard counts: the agencies asked for (none: the whole province) and, resolved,
/// the competent agencies whose dossiers count (they and those under them).
#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    pub agencies: Vec<ScopeAgency>,
    /// The competent agencies counted; `None`: every agency.
    #[serde(skip)]
    pub ids: Option<Vec<i64>>,
    /// The agencies whose procedures count; `None`: the whole catalogue.
    #[serde(skip)]
    procedure_agencies: Option<Vec<Agency>>,
}

impl Scope {
    /// The whole province, unchecked: for the system and the public figures.
    pub fn province() -> Scope {
        Scope {
            agencies: Vec::new(),
            ids: None,
            procedure_agencies: None,
        }
    }

    pub fn is_province(&self) -> bool {
        self.agencies.is_empty()
    }
}

/// Which agencies an official may see figures of.
#[derive(Debug, Clone)]
pub struct Visible {
    /// The whole province (a system administrator, or staff of a top-level agency).
    pub province: bool,
    /// The agencies they hold a role in and those under them.
    pub ids: BTreeSet<i64>,
}

/// An indicator's figure in a scorecard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorFigure {
    pub id: String,
    pub name: String,
    pub group: u8,
    /// The counts the numerator and denominator are.
    pub numerator_count: String,
    pub denominator_count: String,
    pub numerator: f64,
    pub denominator: f64,
    /// Percent (or the average), two decimals; `None`: not applicable or no data.
    pub value: Option<f64>,
    /// Points earned, two decimals; `None`: not applicable, not scored or no data.
    pub points: Option<f64>,
    pub weight: f64,
    /// The rate from which it earns all its points (percent).
    pub threshold: f64,
    /// `rate` or `average`.
    pub kind: &'static str,
    /// egov cannot have this indicator's data yet (`docs/scorecard.md` says why).
    pub no_data: bool,
    /// What its list holds: `dossiers`, `procedures` or `feedback`.
    pub items: &'static str,
}

/// A group's points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigure {
    pub id: u8,
    pub name: String,
    pub max: f64,
    /// Points earned by its indicators that apply.
    pub points: f64,
    /// The points its applicable indicators are worth.
    pub applicable: f64,
}

/// A scorecard: every indicator for a period and a scope.
#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    pub period: Period,
    pub scope: Scope,
    /// The figures are computed from the records at this instant.
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    /// Where the weights and thresholds come from.
    pub source: String,
    pub total: f64,
    pub groups: Vec<GroupFigure>,
    pub indicators: Vec<IndicatorFigure>,
    /// Points earned, of `applicable` (the points of the indicators that apply).
    pub points: f64,
    pub applicable: f64,
}

impl Scorecard {
    pub fn indicator(&self, id: &str) -> Option<&IndicatorFigure> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

/// The counts egov has no data for (see `docs/scorecard.md`).
pub const NO_DATA: &[&str] = &["dossiers.in_citizen_store"];

/// What a count is taken over: `dossiers`, `procedures` or `feedback`.
fn items_of(count: &str) -> &'static str {
    match count.split('.').next() {
        Some("procedures") => "procedures",
        Some("feedback") => "feedback",
        _ => "dossiers",
    }
}

/// One side of a figure's list: the items counted in its numerator, or those of its
/// denominator that are not (the late, the not synchronised …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Counted,
    Missing,
}

impl Side {
    pub fn parse(s: &str) -> Side {
        if s == "missing" {
            Side::Missing
        } else {
            Side::Counted
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Counted => "counted",
            Side::Missing => "missing",
        }
    }
}

/// A procedure version behind a figure and the counts it is in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcedureItem {
    pub code: String,
    pub version: i64,
    pub name: String,
    #[serde(skip)]
    pub counts: BTreeSet<&'static str>,
}

/// A piece of feedback behind a figure (no personal data: its content is not listed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackItem {
    pub national_id: String,
    pub agency_code: String,
    pub procedure_code: String,
    pub category: String,
    pub satisfied: Option<bool>,
    #[serde(with = "time::serde::rfc3339")]
    pub sent_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub handled_at: Option<OffsetDateTime>,
    #[serde(skip)]
    pub counts: BTreeSet<&'static str>,
}

/// The items behind one side of a figure.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "items", rename_all = "snake_case")]
pub enum Items {
    Dossiers {
        rows: Vec<ListedDossier>,
        /// All the dossiers of this side (the rows are one page of them).
        total: i64,
    },
    Procedures {
        rows: Vec<ProcedureItem>,
        total: i64,
    },
    Feedback {
        rows: Vec<FeedbackItem>,
        total: i64,
    },
    /// egov has no data for this indicator.
    NoData,
}

impl Items {
    pub fn total(&self) -> i64 {
        match self {
            Items::Dossiers { total, .. }
            | Items::Procedures { total, .. }
            | Items::Feedback { total, .. } => *total,
            Items::NoData => 0,
        }
    }
}

/// A list behind a figure: which figure, which side, and a page of its items.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreList {
    pub indicator: IndicatorFigure,
    pub side: Side,
    pub period: Period,
    pub scope: Scope,
    pub items: Items,
    pub offset: i64,
    pub limit: i64,
}

/// Working days after `a`'s day up to `b`'s (0 when `b` is not after `a`); outside the
/// calendar's years, weekdays.
fn working_days(cal: &WorkCalendar, a: Date, b: Date) -> u32 {
    if b <= a {
        return 0;
    }
    cal.working_days_between(a, b).unwrap_or_else(|_| {
        let mut n = 0;
        let mut d = a;
        while d < b {
            d = d.next_day().unwrap_or(b);
            if !matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday) {
                n += 1;
            }
        }
        n
    })
}

fn local_day(t: OffsetDateTime) -> Date {
    t.to_offset(egov_domain::VN_OFFSET).date()
}

fn definition_error(e: DefinitionError) -> AppError {
    let code = match e {
        DefinitionError::Unreadable(_) => Code::ScorecardUnreadable,
        DefinitionError::Duplicate(_) => Code::ScorecardDuplicate,
        DefinitionError::NoSuchGroup { .. } => Code::ScorecardNoSuchGroup,
        DefinitionError::UnknownCount { .. } => Code::ScorecardUnknownCount,
        DefinitionError::OutOfRange { .. } => Code::ScorecardOutOfRange,
        DefinitionError::GroupSum { .. } => Code::ScorecardGroupSum,
        DefinitionError::TotalSum { .. } => Code::ScorecardTotalSum,
    };
    AppError::invalid(code, e.to_string()).arg("reason", e)
}

/// Whether an agency carries out a procedure version (as the counter decides it).
fn carries_out(a: &Agency, p: &egov_domain::onestop::procedure::ProcedureVersion) -> bool {
    p.levels.iter().any(|l| {
        l.is_carried_out_by(a.kind, a.parent_id.is_some())
            && (*l != ImplementingLevel::Department
                || p.department.as_deref().is_none_or(|d| d == a.short_name))
    })
}

fn has_fee(p: &egov_domain::onestop::procedure::ProcedureVersion) -> bool {
    p.fees.iter().any(|f| match &f.rule {
        FeeRule::Fixed { amount } | FeeRule::PerUnit { amount, .. } => *amount > 0,
        FeeRule::Free => false,
    })
}

impl App {
    /// The definitions in force: those an administrator saved last, else the shipped ones.
    pub async fn scorecard_definitions(&self) -> Result<Definitions, AppError> {
        match store::saved_definitions(&mut &self.db).await? {
            Some(json) => match Definitions::parse(&json) {
                Ok(d) => Ok(d),
                Err(e) => {
                    tracing::warn!(error = %e, "the saved scorecard definitions no longer hold; the shipped ones are used");
                    Ok(Definitions::shipped())
                }
            },
            None => Ok(Definitions::shipped()),
        }
    }

    /// Saves definitions in place of those in force (system administrators), refused with a
    /// stable code when they do not hold.
    pub async fn save_scorecard_definitions(
        &self,
        actor: &Actor,
        json: &str,
    ) -> Result<Definitions, AppError> {
        self.require_system_admin(&mut &self.db, actor).await?;
        let d = Definitions::parse(json).map_err(definition_error)?;
        let canonical =
            serde_json::to_string_pretty(&d).map_err(|e| AppError::internal(e.to_string()))?;
        let mut tx = self.db.begin().await?;
        store::save_definitions(&mut tx, &canonical, actor.person_id, self.now()).await?;
        crate::audit::event("scorecard.definitions", "scorecard", "definitions")
            .after(&serde_json::json!({ "source": d.source, "total": d.total }))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(d)
    }

    /// The agencies whose figures the actor may see.
    pub async fn scorecard_visible(&self, actor: &Actor) -> Result<Visible, AppError> {
        let mut ex = &self.db;
        let Some(held) = crate::authz::agencies_with(&mut ex, actor, &STAFF, self.now()).await?
        else {
            return Ok(Visible {
                province: true,
                ids: BTreeSet::new(),
            });
        };
        let mut v = Visible {
            province: false,
            ids: BTreeSet::new(),
        };
        for id in held {
            let a = agencies::get(&mut ex, id).await?;
            if a.parent_id.is_none() {
                v.province = true;
            }
            v.ids.extend(agencies::with_descendants(&mut ex, id).await?);
        }
        Ok(v)
    }

    /// Resolves and checks a scope: none asked for is the whole province (for those who may
    /// see it); each agency asked for must be visible to the actor (`forbidden` otherwise).
    pub async fn scorecard_scope(&self, actor: &Actor, asked: &[i64]) -> Result<Scope, AppError> {
        let visible = self.scorecard_visible(actor).await?;
        if asked.is_empty() {
            return if visible.province {
                Ok(Scope::province())
            } else {
                Err(AppError::forbidden())
            };
        }
        let mut ex = &self.db;
        let mut asked_agencies = Vec::new();
        let mut ids = BTreeSet::new();
        let mut whole_catalogue = false;
        for &id in asked.iter().collect::<BTreeSet<_>>() {
            // Permission first: an id outside the reader's agencies is refused alike whether
            // or not it exists.
            if !visible.province && !visible.ids.contains(&id) {
                return Err(AppError::forbidden());
            }
            let a = agencies::get(&mut ex, id).await.map_err(|e| match e {
                egov_store::StoreError::NotFound => AppError::not_found("agency"),
                e => e.into(),
            })?;
            whole_catalogue |= a.parent_id.is_none();
            ids.extend(agencies::with_descendants(&mut ex, id).await?);
            asked_agencies.push(ScopeAgency {
                id,
                code: a.code,
                name: a.name,
            });
        }
        // The agencies' rows decide which procedures count, unless a top-level agency brings
        // the whole catalogue in.
        let procedure_agencies = if whole_catalogue {
            None
        } else {
            let mut rows = Vec::with_capacity(ids.len());
            for u in &ids {
                rows.push(agencies::get(&mut ex, *u).await?);
            }
            Some(rows)
        };
        Ok(Scope {
            agencies: asked_agencies,
            ids: Some(ids.into_iter().collect()),
            procedure_agencies,
        })
    }

    /// The scorecard of a period and a scope, as the actor may see it.
    pub async fn scorecard(
        &self,
        actor: &Actor,
        period: Period,
        agencies: &[i64],
    ) -> Result<Scorecard, AppError> {
        let scope = self.scorecard_scope(actor, agencies).await?;
        self.scorecard_of(period, scope).await
    }

    /// The scorecard of a resolved scope (no permission asked: the caller resolved it).
    pub async fn scorecard_of(&self, period: Period, scope: Scope) -> Result<Scorecard, AppError> {
        let defs = self.scorecard_definitions().await?;
        let now = self.now();
        let counts = self.scorecard_counts(&period, &scope, now).await?;
        Ok(score(&defs, &counts, period, scope, now))
    }

    /// Every count of the scorecard for a period and a scope.
    pub async fn scorecard_counts(
        &self,
        period: &Period,
        scope: &Scope,
        now: OffsetDateTime,
    ) -> Result<BTreeMap<&'static str, f64>, AppError> {
        let (from, to) = period.bounds();
        let sel = Selection {
            from,
            to,
            agencies: scope.ids.as_deref(),
            now,
        };
        store::refresh_summaries(&self.db).await?;
        let mut ex = &self.db;
        let mut out: BTreeMap<&'static str, f64> = BTreeMap::new();
        for c in egov_domain::scorecard::COUNTS {
            out.insert(c, 0.0);
        }
        let rows = store::dossier_counts(&mut ex, &sel, Grouping::Total).await?;
        if let Some(r) = rows.first() {
            for (name, n) in store::DOSSIER_COUNTS.iter().zip(&r.counts) {
                out.insert(name, *n as f64);
            }
            out.insert(
                "dossiers.handling_hours",
                egov_domain::scorecard::round2(r.handling_seconds as f64 / 3600.0),
            );
        }
        tally(&self.procedure_items(period, scope, &sel).await?, &mut out);
        tally(&self.feedback_items(&sel).await?, &mut out);
        Ok(out)
    }

    /// The procedure versions of the scope with the counts each is in.
    async fn procedure_items(
        &self,
        period: &Period,
        scope: &Scope,
        sel: &Selection<'_>,
    ) -> Result<Vec<ProcedureItem>, AppError> {
        let mut ex = &self.db;
        let rows = store::procedure_versions(&mut ex).await?;
        let used: BTreeSet<String> = store::procedures_used(&mut ex, sel)
            .await?
            .into_iter()
            .collect();
        let cal = self.work_calendar().await?;
        let s = &self.settings.scorecard;
        let mut items: Vec<ProcedureItem> = Vec::new();
        // The latest version of each code in force during the period carries the catalogue's
        // counts; any version announced in the period carries the announcement's.
        let mut latest: BTreeMap<String, usize> = BTreeMap::new();
        for row in &rows {
            let Ok(p) = crate::onestop::catalogue::parse_procedure(row) else {
                continue;
            };
            if let Some(list) = &scope.procedure_agencies
                && !list.iter().any(|a| carries_out(a, &p))
            {
                continue;
            }
            let mut counts = BTreeSet::new();
            let an = &p.announcement;
            if let Some(decided) = an.decision_date.filter(|d| period.contains(*d)) {
                counts.insert("procedures.announced");
                counts.insert("procedures.to_publish");
                if an
                    .legal_effective
                    .is_some_and(|e| working_days(&cal, decided, e) >= s.announce_days)
                {
                    counts.insert("procedures.announced_on_time");
                }
                if an
                    .published_nationally
                    .is_some_and(|p| working_days(&cal, decided, p) <= s.publish_days)
                {
                    counts.insert("procedures.published_on_time");
                }
            }
            let overlaps =
                p.effective_from <= period.to && p.effective_to.is_none_or(|t| t >= period.from);
            items.push(ProcedureItem {
                code: row.code.clone(),
                version: row.version,
                name: row.name.clone(),
                counts,
            });
            if overlaps {
                let i = items.len() - 1;
                if let Some(prev) = latest.insert(row.code.clone(), i) {
                    items[prev].counts.retain(|c| !in_force_count(c));
                }
                let c = &mut items[i].counts;
                c.insert("procedures.in_force");
                if an.published_nationally.is_some() {
                    c.insert("procedures.published");
                    let complete = an.missing_parts().is_empty()
                        && !p.name.trim().is_empty()
                        && !p.components.is_empty();
                    if complete {
                        c.insert("procedures.published_complete");
                    }
                }
                if p.online != OnlineService::None {
                    c.insert("procedures.online");
                    if used.contains(p.code.as_str()) {
                        c.insert("procedures.online_used");
                    }
                }
                if has_fee(&p) {
                    c.insert("procedures.with_fee");
                    if an.online_payment {
                        c.insert("procedures.fee_paid_online");
                    }
                }
            }
        }
        items.retain(|i| !i.counts.is_empty());
        Ok(items)
    }

    /// The feedback of the selection with the counts each is in.
    async fn feedback_items(&self, sel: &Selection<'_>) -> Result<Vec<FeedbackItem>, AppError> {
        let rows = store::feedback(&mut &self.db, sel).await?;
        let cal = self.work_calendar().await?;
        let limit = self.settings.scorecard.feedback_days;
        let today = local_day(sel.now);
        Ok(rows
            .into_iter()
            .map(|f| {
                let mut counts = BTreeSet::from(["feedback.received"]);
                if !f.category.trim().is_empty() {
                    counts.insert("feedback.classified");
                }
                let sent = local_day(f.sent_at);
                let by = f.handled_at.map(local_day).unwrap_or(today);
                let on_time = working_days(&cal, sent, by) <= limit;
                if on_time {
                    counts.insert("feedback.handled_on_time");
                    if f.satisfied != Some(false) {
                        counts.insert("feedback.satisfied");
                    }
                }
                FeedbackItem {
                    national_id: f.national_id,
                    agency_code: f.agency_code,
                    procedure_code: f.procedure_code,
                    category: f.category,
                    satisfied: f.satisfied,
                    sent_at: f.sent_at,
                    handled_at: f.handled_at,
                    counts,
                }
            })
            .collect())
    }

    /// The items behind one side of an indicator's figure (dossiers a page at a time).
    #[allow(clippy::too_many_arguments)]
    pub async fn scorecard_list(
        &self,
        actor: &Actor,
        period: Period,
        agencies: &[i64],
        indicator: &str,
        side: Side,
        filter: &ListFilter,
        offset: i64,
        limit: i64,
    ) -> Result<ScoreList, AppError> {
        let scope = self.scorecard_scope(actor, agencies).await?;
        let defs = self.scorecard_definitions().await?;
        let def = defs
            .indicators
            .iter()
            .find(|i| i.id == indicator)
            .ok_or_else(|| {
                AppError::invalid(Code::UnknownIndicator, "There is no such indicator.")
                    .arg("indicator", indicator.to_owned())
            })?;
        let now = self.now();
        let (from, to) = period.bounds();
        let sel = Selection {
            from,
            to,
            agencies: scope.ids.as_deref(),
            now,
        };
        let (offset, limit) = (offset.max(0), limit.clamp(1, 100_000));
        // The counts a side takes (`include`) and leaves out (`exclude`).
        let (include, exclude) = match (side, def.kind) {
            (Side::Counted, Kind::Rate) => (def.numerator.as_str(), None),
            (Side::Counted, Kind::Average) => (def.denominator.as_str(), None),
            (Side::Missing, Kind::Rate) => (def.denominator.as_str(), Some(def.numerator.as_str())),
            (Side::Missing, Kind::Average) => {
                (def.denominator.as_str(), Some(def.denominator.as_str()))
            }
        };
        let no_data = NO_DATA.contains(&def.numerator.as_str());
        let items = if no_data {
            Items::NoData
        } else {
            match items_of(&def.denominator) {
                "procedures" => {
                    let all = self.procedure_items(&period, &scope, &sel).await?;
                    let (rows, total) = side_page(all, include, exclude, offset, limit);
                    Items::Procedures { rows, total }
                }
                "feedback" => {
                    let all = self.feedback_items(&sel).await?;
                    let (rows, total) = side_page(all, include, exclude, offset, limit);
                    Items::Feedback { rows, total }
                }
                _ => {
                    let (rows, total) = store::list_dossiers(
                        &mut &self.db,
                        &sel,
                        include,
                        exclude,
                        filter,
                        offset,
                        limit,
                    )
                    .await?;
                    Items::Dossiers { rows, total }
                }
            }
        };
        let counts = self.scorecard_counts(&period, &scope, now).await?;
        let figure = figure_of(def, &defs, &counts);
        Ok(ScoreList {
            indicator: figure,
            side,
            period,
            scope,
            items,
            offset,
            limit,
        })
    }
}

/// An item behind a figure, with the counts it is in.
trait Counted {
    fn counts(&self) -> &BTreeSet<&'static str>;
}

impl Counted for ProcedureItem {
    fn counts(&self) -> &BTreeSet<&'static str> {
        &self.counts
    }
}

impl Counted for FeedbackItem {
    fn counts(&self) -> &BTreeSet<&'static str> {
        &self.counts
    }
}

/// The items in `include` and not in `exclude`, a page of them and how many in all.
fn side_page<T: Counted>(
    all: Vec<T>,
    include: &str,
    exclude: Option<&str>,
    offset: i64,
    limit: i64,
) -> (Vec<T>, i64) {
    let chosen: Vec<T> = all
        .into_iter()
        .filter(|i| i.counts().contains(include) && exclude.is_none_or(|e| !i.counts().contains(e)))
        .collect();
    let total = chosen.len() as i64;
    let page = chosen
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(0))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    (page, total)
}

/// Adds each item's counts to `out`.
fn tally<T: Counted>(items: &[T], out: &mut BTreeMap<&'static str, f64>) {
    for item in items {
        for c in item.counts() {
            *out.entry(c).or_default() += 1.0;
        }
    }
}

/// The counts of the catalogue's latest version in force (moved when a later one is found).
fn in_force_count(c: &str) -> bool {
    !matches!(
        c,
        "procedures.announced"
            | "procedures.to_publish"
            | "procedures.announced_on_time"
            | "procedures.published_on_time"
    )
}

/// An indicator's figure from the counts.
fn figure_of(
    def: &Indicator,
    defs: &Definitions,
    counts: &BTreeMap<&'static str, f64>,
) -> IndicatorFigure {
    let n = counts.get(def.numerator.as_str()).copied().unwrap_or(0.0);
    let d = counts.get(def.denominator.as_str()).copied().unwrap_or(0.0);
    let no_data = NO_DATA.contains(&def.numerator.as_str());
    let f = def.figure(n, d, defs.zero_denominator);
    let (value, points) = if no_data {
        (None, None)
    } else {
        (f.value, f.points)
    };
    IndicatorFigure {
        id: def.id.clone(),
        name: def.name.clone(),
        group: def
            .id
            .split('.')
            .next()
            .and_then(|g| g.parse().ok())
            .unwrap_or(0),
        numerator_count: def.numerator.clone(),
        denominator_count: def.denominator.clone(),
        numerator: f.numerator,
        denominator: f.denominator,
        value,
        points,
        weight: def.weight,
        threshold: def.threshold.unwrap_or(100.0),
        kind: match def.kind {
            Kind::Rate => "rate",
            Kind::Average => "average",
        },
        no_data,
        items: items_of(&def.denominator),
    }
}

/// The scorecard from its counts.
pub fn score(
    defs: &Definitions,
    counts: &BTreeMap<&'static str, f64>,
    period: Period,
    scope: Scope,
    as_of: OffsetDateTime,
) -> Scorecard {
    let indicators: Vec<IndicatorFigure> = defs
        .indicators
        .iter()
        .map(|i| figure_of(i, defs, counts))
        .collect();
    let round2 = egov_domain::scorecard::round2;
    let groups: Vec<GroupFigure> = defs
        .groups
        .iter()
        .map(|g| {
            let mine = indicators.iter().filter(|i| i.group == g.id);
            let (mut points, mut applicable) = (0.0, 0.0);
            for i in mine {
                if let Some(p) = i.points {
                    points += p;
                    applicable += i.weight;
                }
            }
            GroupFigure {
                id: g.id,
                name: g.name.clone(),
                max: g.max,
                points: round2(points),
                applicable: round2(applicable),
            }
        })
        .collect();
    Scorecard {
        period,
        scope,
        as_of,
        source: defs.source.clone(),
        total: defs.total,
        points: round2(groups.iter().map(|g| g.points).sum()),
        applicable: round2(groups.iter().map(|g| g.applicable).sum()),
        groups,
        indicators,
    }
}

/// A month of the on-time trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthFigure {
    /// `YYYY-MM`.
    pub month: String,
    pub received: i64,
    pub on_time: i64,
    pub online: i64,
    /// 2.1's rate, percent, two decimals (None: nothing received).
    pub on_time_rate: Option<f64>,
}

/// The operations dashboard of a scope at this moment.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub scope: Scope,
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    #[serde(skip)]
    pub operations: store::Operations,
    /// The last twelve months, oldest first.
    pub trend: Vec<MonthFigure>,
    /// The month to date's scorecard.
    pub card: Scorecard,
}

impl Dashboard {
    /// The indicators that cost the most points this month, most first (those that apply).
    pub fn movers(&self) -> Vec<&IndicatorFigure> {
        let mut v: Vec<&IndicatorFigure> = self
            .card
            .indicators
            .iter()
            .filter(|i| i.points.is_some() && i.weight > 0.0)
            .collect();
        v.sort_by(|a, b| {
            let lost = |i: &IndicatorFigure| i.weight - i.points.unwrap_or(0.0);
            lost(b).total_cmp(&lost(a))
        });
        v.truncate(5);
        v
    }
}

impl App {
    /// The operations dashboard for the agencies asked for (none: the province).
    pub async fn dashboard(&self, actor: &Actor, agencies: &[i64]) -> Result<Dashboard, AppError> {
        let scope = self.scorecard_scope(actor, agencies).await?;
        let now = self.now();
        let today = Period {
            from: local_day(now),
            to: local_day(now),
        };
        let operations =
            store::operations(&mut &self.db, scope.ids.as_deref(), today.bounds(), now).await?;
        // Twelve months back from this one.
        let this = Period::month_of(today.from);
        let mut first = this.from;
        for _ in 0..11 {
            first = Period::month_of(first.previous_day().unwrap_or(first)).from;
        }
        let (from, to) = Period {
            from: first,
            to: this.to,
        }
        .bounds();
        let sel = Selection {
            from,
            to,
            agencies: scope.ids.as_deref(),
            now,
        };
        store::refresh_summaries(&self.db).await?;
        let rows = store::dossier_counts(&mut &self.db, &sel, Grouping::Month).await?;
        let mut trend = Vec::new();
        let mut m = first;
        while m <= this.to {
            let key = format!("{:04}-{:02}", m.year(), u8::from(m.month()));
            let row = rows
                .iter()
                .find(|r| r.month.as_deref() == Some(key.as_str()));
            let get = |c: &str| row.map_or(0, |r| r.get(c));
            let (received, on_time) = (get("dossiers.received"), get("dossiers.on_time"));
            trend.push(MonthFigure {
                month: key,
                received,
                on_time,
                online: get("dossiers.online"),
                on_time_rate: (received > 0).then(|| {
                    egov_domain::scorecard::round2(100.0 * on_time as f64 / received as f64)
                }),
            });
            m = match Period::month_of(m).to.next_day() {
                Some(next) => next,
                None => break,
            };
        }
        let card = self
            .scorecard_of(Period::month_to(today.from), scope.clone())
            .await?;
        Ok(Dashboard {
            scope,
            as_of: now,
            operations,
            trend,
            card,
        })
    }
}
