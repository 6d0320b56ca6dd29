//! Sign-in, second factor, sign-out.

use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use egov_app::auth::TotpSetup;
use egov_app::{AppError, ErrorKind};
use serde::Deserialize;

use super::{Page, html};
use crate::ctx::{Ctx, SESSION_COOKIE, set_cookie};
use crate::error::{WebResult, status_of};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    page: Page,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignIn {
    page: Page,
    error: Option<String>,
    username: String,
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    page: Page,
    error: Option<String>,
    setup: Option<TotpSetup>,
    action: &'static str,
}

#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-in/totp", get(totp_form).post(totp))
        .route("/account/totp-setup", get(totp_setup_form).post(totp_setup))
        .route("/sign-out", axum::routing::post(sign_out))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// Liveness: the process serves requests. Asks nothing of the database or the file store, so
/// that a database outage does not get every node restarted.
async fn healthz() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

/// Readiness: the database answers, files can be written and the node is not shutting down;
/// 503 with the reasons otherwise, so that a load balancer sends requests elsewhere.
async fn readyz(State(state): State<AppState>) -> Response {
    let r = state.app.readiness().await;
    let body = serde_json::json!({
        "status": if r.ready() { "ready" } else { "unavailable" },
        "database": r.backend,
        "database_error": r.database,
        "blobs_error": r.blobs,
        "clock_error": r.clock,
        "draining": r.draining,
    });
    if r.ready() {
        axum::Json(body).into_response()
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(body),
        )
            .into_response()
    }
}

async fn home(ctx: Ctx) -> Response {
    if ctx.official().is_ok() {
        return Redirect::to("/office").into_response();
    }
    html(&Home {
        page: Page::new(&ctx, "home-title", "home"),
    })
}

fn next_step(pending_totp: bool, setup: bool) -> &'static str {
    if setup {
        "/account/totp-setup"
    } else if pending_totp {
        "/sign-in/totp"
    } else {
        "/office"
    }
}

async fn sign_in_form(ctx: Ctx) -> Response {
    if let Some(s) = &ctx.signed_in {
        let to = if s.session.mfa_passed {
            "/office"
        } else {
            "/sign-in/totp"
        };
        return Redirect::to(to).into_response();
    }
    html(&SignIn {
        page: Page::new(&ctx, "sign-in-title", "sign-in"),
        error: None,
        username: String::new(),
    })
}

async fn sign_in(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let result = if let Err(e) = state.app.sign_in_attempt(&ctx.ip).await {
        Err(e)
    } else {
        let ua = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        state
            .app
            .sign_in(&f.username, &f.password, &ctx.ip, ua)
            .await
    };
    match result {
        Ok(out) => {
            let mut r =
                Redirect::to(next_step(out.needs_totp, out.needs_totp_setup)).into_response();
            let max_age = state.app.settings.auth.session_hours * 3600;
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    &out.token,
                    Some(max_age),
                    true,
                    ctx.secure_cookies,
                ),
            );
            r
        }
        Err(e) => {
            let mut r = html(&SignIn {
                page: Page::new(&ctx, "sign-in-title", "sign-in").with_title(format!(
                    "{}: {}",
                    ctx.lang.t("error-prefix"),
                    ctx.lang.t("sign-in-title")
                )),
                error: Some(ctx.lang.error(&e)),
                username: f.username.chars().take(60).collect(),
            });
            *r.status_mut() = status_of(e.kind);
            r
        }
    }
}

fn pending(ctx: &Ctx) -> Result<&str, AppError> {
    ctx.token
        .as_deref()
        .filter(|_| ctx.signed_in.is_some())
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::Unauthenticated,
                egov_app::Code::NotSignedIn,
                "Please sign in first.",
            )
        })
}

async fn totp_form(ctx: Ctx) -> WebResult<Response> {
    pending(&ctx)?;
    Ok(html(&TotpPage {
        page: Page::new(&ctx, "totp-title", "sign-in"),
        error: None,
        setup: None,
        action: "/sign-in/totp",
    }))
}

async fn totp(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CodeForm>,
) -> WebResult<Response> {
    let token = pending(&ctx)?;
    match state.app.verify_totp(token, &f.code).await {
        Ok(()) => Ok(Redirect::to("/office").into_response()),
        Err(e) if e.code == "account_locked" => Err(e.into()),
        Err(e) => {
            let mut r = html(&TotpPage {
                page: Page::new(&ctx, "totp-title", "sign-in"),
                error: Some(ctx.lang.error(&e)),
                setup: None,
                action: "/sign-in/totp",
            });
            *r.status_mut() = status_of(e.kind);
            Ok(r)
        }
    }
}

async fn totp_setup_form(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let token = pending(&ctx)?;
    let setup = state.app.begin_totp_setup(token).await?;
    Ok(html(&TotpPage {
        page: Page::new(&ctx, "totp-setup-title", "sign-in"),
        error: None,
        setup: Some(setup),
        action: "/account/totp-setup",
    }))
}

async fn totp_setup(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CodeForm>,
) -> WebResult<Response> {
    let token = pending(&ctx)?;
    match state.app.confirm_totp_setup(token, &f.code).await {
        Ok(()) => Ok(Redirect::to("/office").into_response()),
        Err(e) if e.code == "account_locked" => Err(e.into()),
        Err(e) => {
            let setup = state.app.begin_totp_setup(token).await?;
            let mut r = html(&TotpPage {
                page: Page::new(&ctx, "totp-setup-title", "sign-in"),
                error: Some(ctx.lang.error(&e)),
                setup: Some(setup),
                action: "/account/totp-setup",
            });
            *r.status_mut() = status_of(e.kind);
            Ok(r)
        }
    }
}

async fn sign_out(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    if let Some(t) = &ctx.token {
        state.app.sign_out(t).await?;
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), true, ctx.secure_cookies),
    );
    Ok(r)
}
