//! Browsing the agency tree "as of" a date, searching it, agency and unit pages.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use egov_app::agencies::{AgencyDetail, UnitDetail};
use egov_app::views::{Agency, SearchHit, TreeNode};
use egov_app::views::{Delegation, Posting};
use egov_domain::admin_unit::Structure;
use serde::Deserialize;

use super::{Page, html, parse_date};
use crate::ctx::Ctx;
use crate::error::WebResult;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct TreeQuery {
    as_of: Option<String>,
    q: Option<String>,
    parent: Option<i64>,
}

#[derive(Template)]
#[template(path = "agencies.html")]
struct Tree {
    page: Page,
    as_of: String,
    q: String,
    structure_key: &'static str,
    searching: bool,
    hits: Vec<SearchHit>,
    nodes: Vec<TreeNode>,
    parent: Option<Agency>,
    ancestors: Vec<Agency>,
}

#[derive(Template)]
#[template(path = "agency.html")]
struct AgencyPage {
    page: Page,
    d: AgencyDetail,
    as_of: String,
    on: String,
    source_key: &'static str,
    can_admin: bool,
    people: Vec<Posting>,
    delegations: Vec<Delegation>,
    today: String,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    page: Page,
    d: UnitDetail,
    structure_key: &'static str,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/agencies", get(tree))
        .route("/agencies/{id}", get(agency))
        .route("/units/{id}", get(unit))
}

pub fn structure_key(s: Structure) -> &'static str {
    match s {
        Structure::ThreeTier => "structure-three-tier",
        Structure::TwoTier => "structure-two-tier",
    }
}

async fn tree(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TreeQuery>,
) -> WebResult<Response> {
    let page = Page::official(&ctx, &state, "agencies-title", "agencies").await?;
    let on = parse_date(q.as_of.as_deref())?;
    // A search without a date looks through all of history (ended agencies are marked).
    let explicit_date = q.as_of.as_deref().is_some_and(|s| !s.trim().is_empty());
    let text = q.q.unwrap_or_default();
    let searching = !text.trim().is_empty();
    let (hits, nodes, parent, ancestors) = if searching {
        (
            state
                .app
                .search_agencies(&text, explicit_date.then_some(on), 100, 0)
                .await?,
            vec![],
            None,
            vec![],
        )
    } else {
        let parent = match q.parent {
            Some(p) => Some(state.app.agency(p).await?),
            None => None,
        };
        let mut ancestors = match &parent {
            Some(p) => state.app.agency_ancestors(p.id).await?,
            None => vec![],
        };
        ancestors.pop();
        let nodes = state
            .app
            .agency_children(parent.as_ref().map(|p| p.id), on)
            .await?;
        (vec![], nodes, parent, ancestors)
    };
    Ok(html(&Tree {
        page,
        // Links keep the date only when one was chosen, so that a search from them still
        // covers all of history.
        as_of: if explicit_date {
            on.to_string()
        } else {
            String::new()
        },
        q: text,
        structure_key: structure_key(Structure::as_of(on)),
        searching,
        hits: egov_app::views::all(hits),
        nodes: egov_app::views::all(nodes),
        parent: parent.map(Into::into),
        ancestors: egov_app::views::all(ancestors),
    }))
}

async fn agency(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<TreeQuery>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let on = parse_date(q.as_of.as_deref())?;
    let d = state.app.agency_detail(id, on).await?;
    let can_admin = state.app.may_administer(&actor, id).await?;
    let member = state
        .app
        .require_role(&actor, &egov_domain::org::Role::ALL, Some(id))
        .await
        .is_ok();
    // Who works here is shown to the agency's own people and administrators.
    let people = if member || can_admin {
        state.app.postings_in(id).await?
    } else {
        vec![]
    };
    let delegations = if member || can_admin {
        state
            .app
            .agency_delegations(&actor, id)
            .await
            .unwrap_or_default()
    } else {
        vec![]
    };
    let source_key = match d.agency.code_source.as_str() {
        "official" => "code-official",
        "derived" => "code-derived",
        _ => "code-local",
    };
    let page = Page::official(&ctx, &state, "agency-details", "agencies")
        .await?
        .with_title(d.agency.name.clone());
    let explicit = q.as_of.as_deref().is_some_and(|s| !s.trim().is_empty());
    Ok(html(&AgencyPage {
        page,
        d,
        as_of: if explicit {
            on.to_string()
        } else {
            String::new()
        },
        on: on.to_string(),
        source_key,
        can_admin,
        people,
        delegations: egov_app::views::all(delegations),
        today: state.app.today().to_string(),
    }))
}

async fn unit(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> WebResult<Response> {
    let d = state.app.unit_detail(id).await?;
    let s = Structure::parse(&d.unit.structure).unwrap_or(Structure::TwoTier);
    let page = Page::official(&ctx, &state, "unit-details", "agencies")
        .await?
        .with_title(d.unit.name.clone());
    Ok(html(&UnitPage {
        page,
        d,
        structure_key: structure_key(s),
    }))
}
