//! The signatures screen: what waits for the signed-in person's digital signature (made with
//! `egov signer` on their own computer), their signature images and their office's seal images
//! (upload, withdraw), and, for an agency's administrator, the images waiting for approval.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Multipart, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use egov_app::ErrorKind;
use egov_app::views::Agency;
use egov_app::views::SignatureImage;
use egov_app::views::WaitingSignature;
use egov_domain::org::Role;
use serde::Deserialize;

use super::{Page, html};
use crate::ctx::{Ctx, redirect_with_flash};
use crate::error::WebResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signatures", get(home))
        .route("/signatures/images/{id}", get(image))
        .route("/signatures/images/{id}/decide", post(decide))
        .route("/signatures/images/{id}/withdraw", post(withdraw))
}

/// Routes that take uploads (their own, larger limit).
pub fn upload_routes() -> Router<AppState> {
    Router::new().route("/signatures/images", post(upload))
}

/// An image as listed, with what the viewer may do with it.
struct Listed {
    row: SignatureImage,
    owner: String,
    agency: String,
    can_decide: bool,
    can_withdraw: bool,
}

#[derive(Template)]
#[template(path = "documents/signatures.html")]
struct SignaturesPage {
    page: Page,
    waiting: Vec<WaitingSignature>,
    /// Where each waiting signature will go, in words, told before signing.
    placements: Vec<String>,
    images: Vec<Listed>,
    agencies: Vec<Agency>,
    seal_agencies: Vec<Agency>,
    error: Option<String>,
}

impl SignaturesPage {
    fn kind(&self, k: &str) -> String {
        self.page.t(format!("image-kind-{k}"))
    }

    fn state(&self, s: &str) -> String {
        self.page.t(format!("image-state-{s}"))
    }
}

async fn agencies(
    state: &AppState,
    ids: Option<Vec<i64>>,
) -> Result<Vec<Agency>, egov_app::AppError> {
    Ok(egov_app::views::all(
        state.app.agencies_by_id(&ids.unwrap_or_default()).await?,
    ))
}

async fn render(state: &AppState, ctx: &Ctx, error: Option<String>) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let page = Page::official(ctx, state, "signatures-title", "documents").await?;
    let waiting = state.app.signatures_waiting(&actor).await?;
    let mut placements = Vec::with_capacity(waiting.len());
    for w in &waiting {
        placements.push(match state.app.signature_placement(&actor, w.id).await {
            Ok((how, page_no)) => ctx.lang.t_args(
                &format!("placement-{}", how.replace('_', "-")),
                &[("page", page_no.unwrap_or(1).to_string())],
            ),
            Err(e) if e.kind == egov_app::ErrorKind::Internal => return Err(e.into()),
            Err(e) => ctx.lang.error(&e),
        });
    }
    let mine = state.app.agencies_where(&actor, &Role::ALL).await?;
    let clerk = state
        .app
        .agencies_where(&actor, &[Role::RecordsClerk])
        .await?;
    let mut images = Vec::new();
    for row in state.app.signature_images(&actor).await? {
        let owner = match row.person_id {
            Some(p) => state
                .app
                .person_names([p])
                .await?
                .remove(&p)
                .unwrap_or_default(),
            None => String::new(),
        };
        let agency = state.app.agency(row.agency_id).await?.name;
        let own = egov_app::signature_images::owns(&actor, &row);
        let can_decide = row.state == "pending"
            && !own
            && state.app.may_administer(&actor, row.agency_id).await?;
        let can_withdraw = matches!(row.state.as_str(), "pending" | "approved")
            && (own
                || (row.kind == "seal"
                    && clerk.as_ref().is_some_and(|c| c.contains(&row.agency_id))));
        images.push(Listed {
            row: row.into(),
            owner,
            agency,
            can_decide,
            can_withdraw,
        });
    }
    let mut r = html(&SignaturesPage {
        page,
        waiting: egov_app::views::all(waiting),
        placements,
        images,
        agencies: agencies(state, mine).await?,
        seal_agencies: agencies(state, clerk).await?,
        error: error.clone(),
    });
    if error.is_some() {
        *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(r)
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> WebResult<Response> {
    render(&state, &ctx, None).await
}

async fn upload(State(state): State<AppState>, ctx: Ctx, m: Multipart) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let outcome = async {
        let cmd = crate::api::signing::read_image_upload(m).await?;
        state.app.upload_signature_image(&actor, cmd).await
    }
    .await;
    match outcome {
        Ok(_) => Ok(redirect_with_flash(
            &ctx,
            "/signatures",
            true,
            &ctx.lang.t("image-uploaded"),
        )),
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::TooLarge) => {
            render(&state, &ctx, Some(ctx.lang.error(&e))).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn image(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    let (_, bytes) = state.app.signature_image_png(&ctx.actor()?, id).await?;
    Ok(crate::export::private_file("image/png", None, bytes))
}

#[derive(Deserialize)]
struct DecideForm {
    decision: String,
    #[serde(default)]
    note: String,
}

async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> WebResult<Response> {
    let actor = ctx.actor()?;
    let approve = f.decision == "approve";
    match state
        .app
        .decide_signature_image(&actor, id, approve, &f.note)
        .await
    {
        Ok(row) => Ok(redirect_with_flash(
            &ctx,
            "/signatures",
            true,
            &ctx.lang.t(if row.state == "approved" {
                "image-approved"
            } else {
                "image-rejected"
            }),
        )),
        Err(e) if e.kind == ErrorKind::Invalid => {
            render(&state, &ctx, Some(ctx.lang.error(&e))).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> WebResult<Response> {
    state
        .app
        .withdraw_signature_image(&ctx.actor()?, id)
        .await?;
    Ok(redirect_with_flash(
        &ctx,
        "/signatures",
        true,
        &ctx.lang.t("image-withdrawn"),
    ))
}
