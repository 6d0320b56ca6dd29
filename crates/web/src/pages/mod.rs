//! Server-rendered pages: Vietnamese first, usable without JavaScript.

pub mod admin;
pub mod agencies;
pub mod auth;
pub mod calendar;
pub mod documents;
pub mod office;
pub mod onestop;
pub mod scorecard;
pub mod signatures;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use egov_app::AppError;
use time::{Date, OffsetDateTime};

use crate::ctx::{Ctx, Flash};
use crate::i18n::Lang;
use crate::state::AppState;

/// What every page template needs: language, CSRF token, the signed-in person, messages.
pub struct Page {
    pub lang: Lang,
    pub csrf: String,
    pub title: String,
    pub section: &'static str,
    pub user_name: Option<String>,
    pub show_admin: bool,
    /// In the documents section: whether the person registers incoming documents (a records
    /// clerk somewhere) and drafts (a specialist or leader somewhere), for the links shown.
    pub may_register_in: bool,
    pub may_draft: bool,
    pub flash: Option<Flash>,
    /// A fresh key for a form that creates something (`idempotency_key`): sent twice — a
    /// double click, a resend — it is handled once (`crate::idempotency`).
    pub form_key: String,
    path: String,
    query: String,
}

impl Page {
    pub fn new(ctx: &Ctx, title_key: &str, section: &'static str) -> Page {
        Page {
            lang: ctx.lang,
            csrf: ctx.csrf.clone(),
            title: ctx.lang.t(title_key),
            section,
            user_name: ctx
                .signed_in
                .as_ref()
                .filter(|s| s.session.mfa_passed)
                .map(|s| s.person.full_name.clone()),
            show_admin: false,
            may_register_in: false,
            may_draft: false,
            flash: ctx.flash.clone(),
            form_key: egov_app::auth::random_token(16),
            path: ctx.path.clone(),
            query: ctx.query.clone(),
        }
    }

    /// The page for an official: shows the administration link to administrators.
    pub async fn official(
        ctx: &Ctx,
        state: &AppState,
        title_key: &str,
        section: &'static str,
    ) -> Result<Page, AppError> {
        let actor = ctx.actor()?;
        let mut p = Page::new(ctx, title_key, section);
        p.show_admin = state.app.is_any_admin(&actor).await?;
        if section == "documents" {
            use egov_domain::org::Role;
            let any = |v: Option<Vec<i64>>| v.is_none_or(|v| !v.is_empty());
            p.may_register_in = any(state
                .app
                .agencies_where(&actor, &[Role::RecordsClerk])
                .await?);
            p.may_draft = any(state
                .app
                .agencies_where(
                    &actor,
                    &[Role::Specialist, Role::UnitLeader, Role::AgencyLeader],
                )
                .await?);
        }
        Ok(p)
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    pub fn signed_in(&self) -> bool {
        self.user_name.is_some()
    }

    pub fn t(&self, key: impl AsRef<str>) -> String {
        self.lang.t(key.as_ref())
    }

    pub fn t1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.lang.t_args(key, &[(name, value.to_string())])
    }

    pub fn role(&self, role: &str) -> String {
        self.t(format!("role-{}", role.replace('_', "-")))
    }

    pub fn succession(&self, kind: &egov_domain::admin_unit::SuccessionKind) -> String {
        self.t(format!("succession-{kind}"))
    }

    pub fn unit_kind(&self, kind: &egov_domain::org::OrgUnitKind) -> String {
        self.t(format!("unit-kind-{}", kind.as_str().replace('_', "-")))
    }

    pub fn day_kind(&self, kind: &str) -> String {
        self.t(format!("day-kind-{}", kind.replace('_', "-")))
    }

    pub fn weekday(&self, d: &Date) -> String {
        self.t(format!("weekday-{}", d.weekday().number_from_monday()))
    }

    pub fn job_state(&self, state: &str) -> String {
        self.t(format!("job-state-{state}"))
    }

    pub fn position_name(&self, p: &egov_app::views::Position) -> String {
        match self.lang {
            Lang::Vi => p.name_vi.clone(),
            Lang::En => p.name_en.clone(),
        }
    }

    /// A date as people write it: 01/07/2025.
    pub fn date(&self, d: &Date) -> String {
        format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
    }

    /// An instant in Vietnam time: 01/07/2025 08:30.
    pub fn dt(&self, t: &OffsetDateTime) -> String {
        let l = t.to_offset(egov_domain::VN_OFFSET);
        format!("{} {:02}:{:02}", self.date(&l.date()), l.hour(), l.minute())
    }

    /// This page in the other language.
    pub fn other_lang_href(&self) -> String {
        let kept: Vec<&str> = self
            .query
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
            .collect();
        let mut q = kept.join("&");
        if !q.is_empty() {
            q.push('&');
        }
        format!("{}?{}lang={}", self.path, q, self.lang.other().code())
    }
}

/// The names of the people behind some person ids (timelines show names, never accounts).
pub async fn people_names(
    state: &AppState,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>, AppError> {
    state.app.person_names(ids).await
}

/// Renders a template into an HTML response.
pub fn html(t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    heading: String,
    message: String,
    code: String,
    request_id: String,
    signed_in: bool,
}

/// An error as the client wants it: JSON under `/api/`, an HTML page elsewhere.
pub fn render_error(ctx: &Ctx, status: StatusCode, e: &AppError) -> Response {
    let message = ctx.lang.error(e);
    if ctx.is_api() {
        let body = serde_json::json!({
            "error": { "code": e.code, "message": message, "request_id": ctx.request_id }
        });
        return (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    if e.code == "not_signed_in" && ctx.signed_in.is_none() && status == StatusCode::UNAUTHORIZED {
        return axum::response::Redirect::to("/sign-in").into_response();
    }
    let heading_key = match status.as_u16() {
        401 => "error-401",
        403 => "error-403",
        404 => "error-404",
        409 => "error-409",
        413 => "error-413",
        429 => "error-429",
        s if s >= 500 => "error-500",
        _ => "error-400",
    };
    let page = Page::new(ctx, heading_key, "error");
    let t = ErrorPage {
        heading: page.t(heading_key),
        page,
        message,
        code: e.code.as_str().to_owned(),
        request_id: ctx.request_id.clone(),
        signed_in: ctx.signed_in.as_ref().is_some_and(|s| s.session.mfa_passed),
    };
    let mut r = html(&t);
    *r.status_mut() = status;
    r
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(office::routes())
        .merge(agencies::routes())
        .merge(admin::routes())
        .merge(calendar::routes())
        .merge(onestop::routes())
        .merge(documents::routes())
        .merge(signatures::routes())
        .merge(scorecard::routes())
}

/// Today in Vietnam, for the helpers that have no application at hand.
pub fn today() -> Date {
    egov_domain::vn_date(time::OffsetDateTime::now_utc())
}

/// Parses an `as_of` date from a query (YYYY-MM-DD), defaulting to today.
pub fn parse_date(s: Option<&str>) -> Result<Date, AppError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(today()),
        Some(s) => {
            let fmt = time::macros::format_description!("[year]-[month]-[day]");
            let d = Date::parse(s, &fmt).map_err(|_| {
                AppError::invalid(
                    egov_app::Code::BadDate,
                    format!("{s:?} is not a date (YYYY-MM-DD)"),
                )
                .arg("value", s)
            })?;
            if d.year() < 1945 || d.year() > 2200 {
                return Err(AppError::invalid(
                    egov_app::Code::DateOutOfRange,
                    "The date is out of range.",
                )
                .arg("value", s));
            }
            Ok(d)
        }
    }
}
