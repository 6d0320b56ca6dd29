//! Requests a client may send twice, handled once (issue 24): the keys the web layer claims
//! for them and the responses it keeps (`egov_store::replays`; the HTTP side is
//! `egov_web::idempotency`).

pub use egov_store::replays::{CURRENT, Claim, Replay};

use crate::{App, AppError};

impl App {
    /// Claims `key` for `scope` (the caller) and a request of hash `request_hash`. A claim
    /// left unfinished longer than the request timeout and half a minute (its node died) is
    /// taken over.
    pub async fn claim_request(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<Claim, AppError> {
        let now = self.now();
        let stale = now
            - time::Duration::seconds(self.settings.server.request_timeout_secs.max(1) as i64 + 30);
        Ok(egov_store::replays::claim(&mut &self.db, scope, key, request_hash, now, stale).await?)
    }

    /// Keeps the response of a claimed request, for its repetitions.
    pub async fn keep_response(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        content_type: Option<&str>,
        location: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(), AppError> {
        Ok(egov_store::replays::finish(
            &mut &self.db,
            scope,
            key,
            status,
            content_type,
            location,
            body,
        )
        .await?)
    }

    /// Gives a claim up: the next arrival of the request runs again.
    pub async fn release_request(&self, scope: &str, key: &str) -> Result<(), AppError> {
        Ok(egov_store::replays::release(&mut &self.db, scope, key).await?)
    }
}
