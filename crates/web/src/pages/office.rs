//! The official's home page.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use egov_app::org::SigningAuthorityView;
use egov_app::views::Person;
use egov_app::views::{Posting, RoleGrant};

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
    Ok(html(&Office {
        page,
        postings: state.app.postings_of(me.id).await?,
        roles: state.app.grants_of(me.id).await?,
        signing: state.app.signing_authorities(me.id, now).await?,
        person: me.into(),
    }))
}
