//! The official's home page.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use egov_app::org::SigningAuthorityView;
use egov_store::org::{self, Posting, RoleGrant};
use egov_store::people::Person;

use super::{Page, html};
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "office.html")]
struct Office {
    page: Page,
    person: Person,
    postings: Vec<Posting>,
    roles: Vec<RoleGrant>,
    signing: Vec<SigningAuthorityView>,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/office", get(office))
}

async fn office(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    let me = ctx.official()?.person.clone();
    let page = Page::official(&ctx, &state, "office-title", "office").await?;
    let now = state.app.now();
    let mut ex = &state.app.db;
    Ok(html(&Office {
        page,
        postings: org::postings_of(&mut ex, me.id, Some(now)).await?,
        roles: org::grants_of(&mut ex, me.id, Some(now)).await?,
        signing: state.app.signing_authorities(me.id, now).await?,
        person: me,
    }))
}
