//! Administration of the working-day calendar: years (confirm, add and remove days), the step
//! deadlines a change moved, and a deadline calculator.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use egov_app::AppError;
use egov_app::calendar::{DaySpec, DeadlineRequest, DueView, LimitSpec, YearView};
use egov_app::views::DeadlineReview;
use serde::Deserialize;
use time::PrimitiveDateTime;

use super::{Page, html, parse_date};
use crate::ctx::{Ctx, redirect_with_flash};
use crate::error::WebResult;
use crate::state::AppState;

pub struct YearLine {
    pub year: i32,
    pub status: String,
    pub tet: Option<time::Date>,
    pub days_off: usize,
}

impl YearLine {
    pub fn status_key(&self) -> String {
        format!("cal-status-{}", self.status)
    }
}

#[derive(Template)]
#[template(path = "admin/calendar.html")]
struct Years {
    page: Page,
    years: Vec<YearLine>,
    reviews: usize,
    calc_received: String,
    calc_kind: String,
    calc_amount: String,
    result: Option<DueView>,
    calc_error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/calendar_year.html")]
struct YearPage {
    page: Page,
    y: YearView,
    status_key: String,
}

#[derive(Template)]
#[template(path = "admin/calendar_reviews.html")]
struct Reviews {
    page: Page,
    reviews: Vec<DeadlineReview>,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/calendar", get(years))
        .route("/admin/calendar/go", get(go))
        .route("/admin/calendar/reviews", get(reviews))
        .route("/admin/calendar/{year}", get(year))
        .route("/admin/calendar/{year}/days", post(add_day))
        .route(
            "/admin/calendar/{year}/days/{date}/delete",
            post(remove_day),
        )
        .route("/admin/calendar/{year}/confirm", post(confirm))
}

async fn calendar_page(ctx: &Ctx, state: &AppState, title: &str) -> Result<Page, AppError> {
    let actor = ctx.actor()?;
    if !state.app.is_system_admin(&actor).await? {
        return Err(AppError::forbidden());
    }
    Page::official(ctx, state, title, "admin").await
}

#[derive(Deserialize, Default)]
struct Calc {
    received: Option<String>,
    limit_kind: Option<String>,
    amount: Option<String>,
}

async fn years(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(c): Query<Calc>,
) -> WebResult<Response> {
    let page = calendar_page(&ctx, &state, "calendar-title").await?;
    let this = state.app.today().year();
    let mut years = Vec::new();
    for y in this - 1..=this + 2 {
        let v = state.app.calendar_year(y).await?;
        years.push(YearLine {
            year: y,
            days_off: v.days.iter().filter(|d| d.kind.is_day_off()).count(),
            status: v.status,
            tet: v.tet,
        });
    }
    let reviews = state.app.deadline_reviews(&ctx.actor()?).await?.len();
    let (mut result, mut calc_error) = (None, None);
    if let (Some(r), Some(k), Some(a)) = (&c.received, &c.limit_kind, &c.amount) {
        match compute(&state, r, k, a).await {
            Ok(d) => result = Some(d),
            Err(e) => calc_error = Some(ctx.lang.error(&e)),
        }
    }
    Ok(html(&Years {
        page,
        years,
        reviews,
        calc_received: c.received.unwrap_or_default(),
        calc_kind: c.limit_kind.unwrap_or_else(|| "working_days".into()),
        calc_amount: c.amount.unwrap_or_default(),
        result,
        calc_error,
    }))
}

async fn compute(
    state: &AppState,
    received: &str,
    kind: &str,
    amount: &str,
) -> Result<DueView, AppError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let local = PrimitiveDateTime::parse(received.trim(), &fmt).map_err(|_| {
        AppError::invalid(egov_app::Code::BadDate, "not a date and time").arg("value", received)
    })?;
    let n: f64 = amount
        .trim()
        .replace(',', ".")
        .parse()
        .map_err(|_| AppError::invalid(egov_app::Code::BadLimit, "not a number"))?;
    let mut limit = LimitSpec::default();
    match kind {
        "working_hours" => limit.working_hours = Some(n),
        "calendar_days" => limit.calendar_days = Some(n as u32),
        "months" => limit.months = Some(n as u32),
        _ => limit.working_days = Some(n),
    }
    if matches!(kind, "calendar_days" | "months") && n.fract() != 0.0 {
        return Err(AppError::invalid(
            egov_app::Code::BadLimit,
            "whole days or months",
        ));
    }
    state
        .app
        .compute_deadline(&DeadlineRequest {
            received: local.assume_offset(egov_domain::VN_OFFSET),
            limit,
            pauses: vec![],
            agency_id: None,
        })
        .await
}

#[derive(Deserialize)]
struct Go {
    year: i32,
}

async fn go(Query(g): Query<Go>) -> Response {
    Redirect::to(&format!("/admin/calendar/{}", g.year)).into_response()
}

async fn year(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(year): Path<i32>,
) -> WebResult<Response> {
    let page = calendar_page(&ctx, &state, "calendar-title").await?;
    let y = state.app.calendar_year(year).await?;
    let status_key = format!("cal-status-{}", y.status);
    let page = page.with_title(
        ctx.lang
            .t_args("calendar-of", &[("year", year.to_string())]),
    );
    Ok(html(&YearPage {
        page,
        y,
        status_key,
    }))
}

async fn reviews(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let page = calendar_page(&ctx, &state, "reviews-title").await?;
    Ok(html(&Reviews {
        page,
        reviews: egov_app::views::all(state.app.deadline_reviews(&ctx.actor()?).await?),
    }))
}

fn back(ctx: &Ctx, year: i32, r: Result<impl Sized, AppError>) -> Response {
    let to = format!("/admin/calendar/{year}");
    match r {
        Ok(_) => redirect_with_flash(ctx, &to, true, &ctx.lang.t("saved")),
        Err(e) => redirect_with_flash(ctx, &to, false, &ctx.lang.error(&e)),
    }
}

#[derive(Deserialize)]
struct DayForm {
    date: String,
    kind: String,
    name: String,
}

async fn add_day(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(year): Path<i32>,
    Form(f): Form<DayForm>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = async {
        let d = parse_date(Some(&f.date))?;
        if d.year() != year {
            return Err(
                AppError::invalid(egov_app::Code::DayOutsideYear, "wrong year").arg("value", d),
            );
        }
        state
            .app
            .set_calendar_day(
                &actor,
                d,
                &DaySpec {
                    kind: f.kind,
                    name: f.name,
                },
            )
            .await
    }
    .await;
    Ok(back(&ctx, year, r))
}

async fn remove_day(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((year, date)): Path<(i32, String)>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = async {
        state
            .app
            .remove_calendar_day(&actor, parse_date(Some(&date))?)
            .await
    }
    .await;
    Ok(back(&ctx, year, r))
}

async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(year): Path<i32>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let r = state.app.confirm_calendar_year(&actor, year).await;
    Ok(back(&ctx, year, r))
}
