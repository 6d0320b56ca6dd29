use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};

use egov_app::App;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    /// Sign-in attempts per client address.
    pub sign_in_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    pub metrics: PrometheusHandle,
}

impl AppState {
    pub fn new(app: Arc<App>) -> Self {
        let per_minute =
            NonZeroU32::new(app.settings.auth.sign_in_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        AppState {
            sign_in_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            metrics: metrics_handle(),
            app,
        }
    }
}

/// The process-wide Prometheus recorder (installed once, shared by every router).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests); ours still renders its own.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
