//! The leaders' Decision 766 scorecard: every indicator of a period and a scope, each figure
//! linking to the dossiers, procedures or feedback behind it (a page at a time, or all of them
//! as a workbook).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use egov_app::scorecard::{
    Dashboard, IndicatorFigure, Items, ListFilter, Period, ScoreList, Scorecard, Side,
};
use egov_app::{AppError, Code};
use serde::Deserialize;

use super::{Page, html};
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scorecard", get(scorecard))
        .route("/scorecard/list", get(list))
        .route("/dashboard", get(dashboard))
        .route("/scorecard/what-if", get(what_if))
        .route("/admin/scorecard", get(definitions).post(save_definitions))
        .route("/thong-ke", get(open_stats))
        .route("/thong-ke.csv", get(open_csv))
        .route("/thong-ke.json", get(open_json))
}

/// A period and a scope as a page's query gives them.
#[derive(Debug, Default, Deserialize)]
pub struct ScopeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// Agency ids, comma-separated; empty: the whole province (for those who may see it).
    pub agency: Option<String>,
}

impl ScopeQuery {
    /// The period asked for (this month to date when not given).
    pub fn period(&self, state: &AppState) -> Result<Period, AppError> {
        let today = state.app.today();
        fn given(s: &Option<String>) -> Option<&str> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let default = Period::month_to(today);
        let from = given(&self.from)
            .map(str::to_owned)
            .unwrap_or_else(|| default.from.to_string());
        let to = given(&self.to)
            .map(str::to_owned)
            .unwrap_or_else(|| default.to.to_string());
        Period::parse(&from, &to, state.app.settings.scorecard.max_days)
    }

    /// The agencies asked for.
    pub fn agencies(&self) -> Result<Vec<i64>, AppError> {
        self.agency
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<i64>().map_err(|_| {
                    AppError::invalid(Code::BadId, "An agency is given by its number.")
                        .arg("value", s.to_owned())
                })
            })
            .collect()
    }
}

/// The agencies an official may pick, and whether the whole province is among the choices.
pub struct Choices {
    pub province: bool,
    pub agencies: Vec<(i64, String)>,
}

/// What the official may pick, and the scope to show when they picked nothing: the
/// province when they may see it, else their first agency.
pub async fn choices(
    state: &AppState,
    ctx: &Ctx,
    q: &ScopeQuery,
) -> Result<(Choices, Vec<i64>), AppError> {
    let actor = ctx.actor()?;
    let visible = state.app.scorecard_visible(&actor).await?;
    let all = state.app.agencies_in_force(state.app.today()).await?;
    let agencies: Vec<(i64, String)> = if visible.province {
        all
    } else {
        all.into_iter()
            .filter(|(id, _)| visible.ids.contains(id))
            .collect()
    };
    let mut asked = q.agencies()?;
    if asked.is_empty() && !visible.province {
        match agencies.first() {
            Some((id, _)) => asked.push(*id),
            None => return Err(AppError::forbidden()),
        }
    }
    Ok((
        Choices {
            province: visible.province,
            agencies,
        },
        asked,
    ))
}

/// The query string of a period and a scope, for links.
pub fn scope_query(period: &Period, agencies: &[i64]) -> String {
    let ids: Vec<String> = agencies.iter().map(i64::to_string).collect();
    format!(
        "from={}&to={}&agency={}",
        period.from,
        period.to,
        ids.join("%2C")
    )
}

/// A number however deeply a template borrowed it.
pub trait Figure {
    fn get(&self) -> f64;
}

impl Figure for f64 {
    fn get(&self) -> f64 {
        *self
    }
}

impl<T: Figure + ?Sized> Figure for &T {
    fn get(&self) -> f64 {
        (**self).get()
    }
}

/// Two decimals, as the portal shows figures (whole numbers without them).
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[derive(Template)]
#[template(path = "scorecard/card.html")]
struct CardPage {
    page: Page,
    card: Scorecard,
    choices: Choices,
    asked: Vec<i64>,
    query: String,
}

impl CardPage {
    fn in_group(&self, group: &u8) -> Vec<&IndicatorFigure> {
        self.card
            .indicators
            .iter()
            .filter(|i| i.group == *group)
            .collect()
    }

    fn chosen(&self, id: &i64) -> bool {
        self.asked == [*id]
    }

    fn number(&self, v: impl Figure) -> String {
        number(v.get())
    }

    fn missing(&self, i: &IndicatorFigure) -> f64 {
        (i.denominator - i.numerator).max(0.0)
    }
}

async fn scorecard(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ScopeQuery>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let period = q.period(&state)?;
    let (choices, asked) = choices(&state, &ctx, &q).await?;
    let card = state.app.scorecard(&actor, period, &asked).await?;
    let page = Page::official(&ctx, &state, "scorecard-title", "scorecard").await?;
    let query = scope_query(&period, &asked);
    Ok(html(&CardPage {
        page,
        card,
        choices,
        asked,
        query,
    }))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    scope: ScopeQuery,
    indicator: String,
    side: Option<String>,
    procedure: Option<String>,
    within: Option<i64>,
    offset: Option<i64>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "scorecard/list.html")]
struct ListPage {
    page: Page,
    l: ScoreList,
    query: String,
    filter_query: String,
    procedure: String,
    within: Option<i64>,
}

impl ListPage {
    fn number(&self, v: impl Figure) -> String {
        number(v.get())
    }

    fn next(&self) -> Option<i64> {
        let next = self.l.offset + self.l.limit;
        (next < self.l.items.total()).then_some(next)
    }

    fn previous(&self) -> Option<i64> {
        (self.l.offset > 0).then(|| (self.l.offset - self.l.limit).max(0))
    }

    fn last_shown(&self) -> i64 {
        (self.l.offset + self.l.limit).min(self.l.items.total())
    }
}

/// The list behind a figure: 50 a page, or all of it as a workbook (`format=xlsx`).
async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let period = q.scope.period(&state)?;
    let (_, asked) = choices(&state, &ctx, &q.scope).await?;
    let side = Side::parse(q.side.as_deref().unwrap_or(""));
    let procedure = q
        .procedure
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let filter = ListFilter {
        procedure_code: procedure.clone(),
        agency_id: q.within,
    };
    let xlsx = q.format.as_deref() == Some("xlsx");
    let (offset, limit) = if xlsx {
        (0, crate::export::MAX_ROWS)
    } else {
        (q.offset.unwrap_or(0), 50)
    };
    let l = state
        .app
        .scorecard_list(
            &actor,
            period,
            &asked,
            q.indicator.trim(),
            side,
            &filter,
            offset,
            limit,
        )
        .await?;
    if xlsx {
        let bytes = crate::export::scorecard_list_xlsx(ctx.lang, &l)?;
        let name = format!(
            "chi-tieu-{}-{}-{}-{}.xlsx",
            l.indicator.id,
            side.as_str(),
            period.from,
            period.to
        );
        return Ok(crate::export::private_file(
            crate::export::XLSX,
            Some(("attachment", &name)),
            bytes,
        ));
    }
    let query = scope_query(&period, &asked);
    let filter_query = format!(
        "{query}&indicator={}&side={}&procedure={}{}",
        l.indicator.id,
        side.as_str(),
        procedure.as_deref().unwrap_or(""),
        q.within.map(|w| format!("&within={w}")).unwrap_or_default()
    );
    let page = Page::official(&ctx, &state, "scorecard-list-title", "scorecard")
        .await?
        .with_title(format!("{} {}", l.indicator.id, l.indicator.name));
    Ok(html(&ListPage {
        page,
        l,
        query,
        filter_query,
        procedure: procedure.unwrap_or_default(),
        within: q.within,
    }))
}

#[derive(Template)]
#[template(path = "scorecard/dashboard.html")]
struct DashboardPage {
    page: Page,
    d: Dashboard,
    choices: Choices,
    asked: Vec<i64>,
    query: String,
    trend_svg: String,
    channels_svg: String,
    heat_svg: String,
}

impl DashboardPage {
    fn number(&self, v: impl Figure) -> String {
        number(v.get())
    }

    fn chosen(&self, id: &i64) -> bool {
        self.asked == [*id]
    }

    fn lost(&self, i: &IndicatorFigure) -> String {
        number(egov_domain::scorecard::round2(
            i.weight - i.points.unwrap_or(0.0),
        ))
    }
}

/// The operations dashboard: today, the month, the trend, integration health, the index.
async fn dashboard(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ScopeQuery>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let (choices, asked) = choices(&state, &ctx, &q).await?;
    let d = state.app.dashboard(&actor, &asked).await?;
    let page = Page::official(&ctx, &state, "dashboard-title", "scorecard").await?;
    let lang = ctx.lang;
    let trend_svg = crate::charts::percent_bars(
        &lang.t("dashboard-trend"),
        &d.trend
            .iter()
            .map(|m| (m.month.clone(), m.on_time_rate))
            .collect::<Vec<_>>(),
    );
    let c = d.operations.today_by_channel;
    let channels_svg = crate::charts::shares(
        &lang.t("dashboard-today"),
        &[
            (lang.t("channel-counter"), c[0], "#1d70b8"),
            (lang.t("channel-online"), c[1], "#00703c"),
            (lang.t("channel-post"), c[2], "#f47738"),
        ],
    );
    let heat_svg = crate::charts::heat_map(
        &lang.t("dashboard-overdue"),
        &d.operations
            .overdue_by_agency
            .iter()
            .map(|(_, name, open, overdue)| (name.clone(), *open, *overdue))
            .collect::<Vec<_>>(),
    );
    let query = scope_query(&d.card.period, &asked);
    Ok(html(&DashboardPage {
        page,
        d,
        choices,
        asked,
        query,
        trend_svg,
        channels_svg,
        heat_svg,
    }))
}

struct WhatIfQuery {
    agency: Option<String>,
    /// The dossiers selected (`d=1&d=2`), read from the raw query.
    d: Vec<i64>,
}

#[derive(Template)]
#[template(path = "scorecard/whatif.html")]
struct WhatIfPage {
    page: Page,
    w: egov_app::whatif::WhatIf,
    choices: Choices,
    asked: Vec<i64>,
}

impl WhatIfPage {
    fn number(&self, v: impl Figure) -> String {
        number(v.get())
    }

    fn chosen(&self, id: &i64) -> bool {
        self.asked == [*id]
    }

    fn projections(&self) -> [(&'static str, egov_app::whatif::Projection); 3] {
        [
            ("whatif-now", self.w.now),
            ("whatif-if-nothing", self.w.if_nothing),
            ("whatif-if-selected", self.w.if_selected),
        ]
    }
}

/// What-if: select this month's open dossiers and see the month's end with them finished today.
async fn what_if(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let q = parse_what_if(raw.as_deref().unwrap_or(""))?;
    let scope = ScopeQuery {
        agency: q.agency,
        ..ScopeQuery::default()
    };
    let (choices, asked) = choices(&state, &ctx, &scope).await?;
    let w = state.app.what_if(&actor, &asked, &q.d).await?;
    let page = Page::official(&ctx, &state, "whatif-title", "scorecard").await?;
    Ok(html(&WhatIfPage {
        page,
        w,
        choices,
        asked,
    }))
}

/// Reads `agency=…&d=1&d=2` (a key repeated, which the usual query reader refuses).
fn parse_what_if(raw: &str) -> Result<WhatIfQuery, AppError> {
    let mut q = WhatIfQuery {
        agency: None,
        d: Vec::new(),
    };
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = crate::ctx::percent_decode(v);
        match k {
            "agency" => q.agency = Some(v),
            "d" => q.d.push(v.trim().parse().map_err(|_| {
                AppError::invalid(Code::BadId, "A dossier is given by its number.")
                    .arg("value", v.clone())
            })?),
            _ => {}
        }
        if q.d.len() > 5_000 {
            return Err(AppError::invalid(
                Code::BadId,
                "Too many dossiers selected.",
            ));
        }
    }
    Ok(q)
}

#[derive(Debug, Deserialize)]
struct YearQuery {
    year: Option<String>,
}

impl YearQuery {
    fn year(&self, state: &AppState) -> Result<i32, AppError> {
        match self
            .year
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(state.app.today().year()),
            Some(y) => y.parse().map_err(|_| {
                AppError::invalid(Code::BadPeriod, "A year is written with four digits.")
                    .arg("value", y.to_owned())
            }),
        }
    }
}

#[derive(Template)]
#[template(path = "scorecard/open.html")]
struct OpenPage {
    page: Page,
    s: std::sync::Arc<egov_app::open_data::OpenStats>,
}

impl OpenPage {
    fn number(&self, v: impl Figure) -> String {
        number(v.get())
    }
}

/// The public statistics page: no sign-in, no personal data.
async fn open_stats(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<YearQuery>,
) -> WebResult<Response> {
    let s = state.app.open_statistics(q.year(&state)?).await?;
    let page = Page::new(&ctx, "open-stats-title", "open-stats");
    Ok(html(&OpenPage { page, s }))
}

async fn open_csv(
    State(state): State<AppState>,
    Query(q): Query<YearQuery>,
) -> WebResult<Response> {
    use axum::response::IntoResponse;
    let s = state.app.open_statistics(q.year(&state)?).await?;
    let name = format!("attachment; filename=\"thong-ke-{}.csv\"", s.year);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        s.csv(),
    )
        .into_response())
}

async fn open_json(
    State(state): State<AppState>,
    Query(q): Query<YearQuery>,
) -> WebResult<Response> {
    use axum::response::IntoResponse;
    let s = state.app.open_statistics(q.year(&state)?).await?;
    Ok(axum::Json(s.as_ref().clone()).into_response())
}

#[derive(Template)]
#[template(path = "scorecard/definitions.html")]
struct DefinitionsPage {
    page: Page,
    json: String,
    error: Option<String>,
}

/// The definitions in force, to correct (system administrators).
async fn definitions(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let actor = ctx.actor()?;
    if !state.app.is_system_admin(&actor).await? {
        return Err(AppError::forbidden().into());
    }
    let d = state.app.scorecard_definitions().await?;
    let json = serde_json::to_string_pretty(&d).map_err(|e| AppError::internal(e.to_string()))?;
    let page = Page::official(&ctx, &state, "definitions-title", "admin").await?;
    Ok(html(&DefinitionsPage {
        page,
        json,
        error: None,
    }))
}

#[derive(Deserialize)]
struct DefinitionsForm {
    definitions: String,
}

/// Saves corrected definitions, or shows why they are refused with the text as sent.
async fn save_definitions(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Form(f): axum::extract::Form<DefinitionsForm>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    match state
        .app
        .save_scorecard_definitions(&actor, &f.definitions)
        .await
    {
        Ok(_) => Ok(crate::ctx::redirect_with_flash(
            &ctx,
            "/admin/scorecard",
            true,
            &ctx.lang.t("definitions-saved"),
        )),
        Err(e) if e.code == "forbidden" => Err(e.into()),
        Err(e) => {
            let page = Page::official(&ctx, &state, "definitions-title", "admin").await?;
            let mut r = html(&DefinitionsPage {
                page,
                json: f.definitions,
                error: Some(format!("{} ({})", ctx.lang.error(&e), e.code.as_str())),
            });
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
    }
}
