//! egov's web layer: server-rendered pages, the JSON API, health and metrics.

pub mod api;
pub mod charts;
pub mod ctx;
pub mod error;
pub mod exchange_hub;
pub mod export;
pub mod i18n;
pub mod idempotency;
pub mod national_fake;
pub mod pages;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use egov_app::App;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use state::AppState;

const CSS: &str = include_str!("../static/egov.css");

/// The largest document file request: a 50 MiB PDF and the multipart framing.
pub(crate) const DOCUMENT_UPLOAD: usize = (50 << 20) + (64 << 10);

/// The whole HTTP application.
pub fn router(app: Arc<App>) -> Router {
    router_with(AppState::new(app))
}

fn router_with(state: AppState) -> Router {
    let limit = state.app.settings.server.max_body_bytes;
    // Scans are larger than anything else people send.
    let upload = state.app.settings.server.max_upload_bytes.max(limit);
    let timeout = Duration::from_secs(state.app.settings.server.request_timeout_secs.max(1));
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .route("/metrics", get(metrics))
        .route(
            "/static/egov.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    CSS,
                )
            }),
        )
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(RequestBodyLimitLayer::new(limit))
        .merge(
            api::onestop::upload_routes()
                .merge(api::signing::upload_routes())
                .merge(pages::onestop::upload_routes())
                .merge(pages::documents::upload_routes())
                .merge(pages::signatures::upload_routes())
                .layer(axum::extract::DefaultBodyLimit::max(upload))
                .layer(RequestBodyLimitLayer::new(upload)),
        )
        .merge(
            // Document files: PDFs up to 50 MiB (each type has its own limit inside).
            api::documents::upload_routes()
                .layer(axum::extract::DefaultBodyLimit::max(DOCUMENT_UPLOAD))
                .layer(RequestBodyLimitLayer::new(DOCUMENT_UPLOAD)),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ctx::middleware,
        ))
        .with_state(state)
}

/// `/metrics` on the main address: only with the configured bearer token. Without a token
/// configured it is not there (it may be served on `server.metrics_listen` instead).
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use sha2::{Digest, Sha256};
    let want = state.app.settings.server.metrics_token.trim();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim();
    // Compared as digests, so the time taken says nothing about the token.
    if want.is_empty() || Sha256::digest(want) != Sha256::digest(given) {
        return StatusCode::NOT_FOUND.into_response();
    }
    metrics_text(&state).into_response()
}

fn metrics_text(state: &AppState) -> impl IntoResponse + use<> {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// The router of `server.metrics_listen`: `/metrics` and nothing else.
fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(
                |axum::extract::State(s): axum::extract::State<AppState>| async move {
                    metrics_text(&s)
                },
            ),
        )
        .with_state(state)
}

/// Serves until `shutdown` completes.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::new(app);
    let metrics = match state.app.settings.server.metrics_listen.trim() {
        "" => None,
        addr => {
            let l = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(address = %l.local_addr()?, "metrics served apart");
            let r = metrics_router(state.clone());
            Some(tokio::spawn(async move {
                let _ = axum::serve(l, r).await;
            }))
        }
    };
    let router = router_with(state);
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    if let Some(m) = metrics {
        m.abort();
    }
    served
}
