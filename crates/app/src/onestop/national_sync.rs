//! The synchronisation with the National Public Service Portal.
//!
//! Two halves. The **subscriber** ([`NationalSync`]) follows the dossiers' domain events and,
//! in each event's own transaction, records what is owed: the dossier's record is due
//! (several changes waiting are one record, the latest), and a progress entry for each step
//! done, built then and kept as sent. The **sender** ([`App::push_national`]) pays what is owed
//! outside any transaction, through a [`Portal`]: a record before anything else of its
//! dossier; progress entries in order, each only after the dossier's create was accepted,
//! never merged. Before a call the row is marked `uncertain`; an answer settles it. A row left
//! `uncertain` (the answer was lost, or the process stopped mid-call) is looked up on the
//! portal (`TraCuuHoSo`) before it is sent again, so a progress entry — which the portal
//! cannot recognise as a repeat — is never there twice.

use std::collections::HashSet;
use std::future::Future;

use bytes::Bytes;
use egov_domain::events::{Aggregate, EventKind};
use egov_domain::national::{Answer, DateStyle, Envelope, StatusMap};
use egov_domain::onestop::dossier::State;
use egov_store::national as sync;
use egov_store::onestop as store;
use egov_store::{Exec, Tx};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::national::{
    ApplicantFacts, ComponentFacts, DossierFacts, FeeFacts, ResultFacts, StepFacts, Style,
    SupplementFacts, dossier_record, progress_entry,
};
use crate::events::{Event, Subscriber};
use crate::settings::NationalPortal;
use crate::{Actor, App, AppError};

/// The subscriber's name in the event log.
/// The code of a record egov refused to send itself: its procedure has no national code.
pub const NO_NATIONAL_CODE: &str = "no_national_code";

pub const SUBSCRIBER: &str = "national_portal";

/// A call that brought no answer the sender can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// It never reached the portal (no connection): safe to send again.
    #[error("the national portal cannot be reached: {0}")]
    NotSent(String),
    /// It may have reached the portal (a timeout, a connection cut, an answer that is not
    /// the portal's envelope): look it up before sending again.
    #[error("no usable answer from the national portal: {0}")]
    NoAnswer(String),
}

impl CallError {
    /// What the row is tried again as: `pending` when the call surely did not arrive,
    /// `uncertain` (look it up first) when it may have.
    fn retry_state(&self) -> &'static str {
        match self {
            CallError::NotSent(_) => "pending",
            CallError::NoAnswer(_) => "uncertain",
        }
    }
}

/// The code the portal knows a dossier by: its own for a dossier submitted there, egov's
/// otherwise.
fn portal_code(d: &store::DossierRow) -> String {
    d.national_code.clone().unwrap_or_else(|| d.code.clone())
}

/// A refusal as the operator reads it: the field the portal named, then its message.
fn refusal_text(message: String, field: Option<String>) -> String {
    match field {
        Some(f) => format!("{f}: {message}"),
        None => message,
    }
}

/// The national portal, or a stand-in for it.
pub trait Portal: Send + Sync {
    fn call(&self, envelope: &Envelope) -> impl Future<Output = Result<Answer, CallError>> + Send;

    /// A submitted file, as a stream (`None`: the portal has no such file).
    fn fetch_file(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<egov_store::blobs::BlobReader>, CallError>> + Send;
}

/// The portal over HTTP: signs in (username and password → session, or client id and secret
/// → access token), posts each envelope with the token, and signs in again once when the
/// token is refused.
pub struct HttpPortal {
    settings: NationalPortal,
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    token: tokio::sync::Mutex<Option<String>>,
}

impl HttpPortal {
    pub fn new(settings: NationalPortal) -> Self {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        HttpPortal {
            settings,
            client,
            token: tokio::sync::Mutex::new(None),
        }
    }

    async fn post(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> Result<(u16, Vec<u8>), CallError> {
        let url = format!("{}{path}", self.settings.url.trim_end_matches('/'));
        let mut req = hyper::Request::post(url.as_str()).header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| CallError::NotSent(format!("bad address {url}: {e}")))?;
        let timeout = std::time::Duration::from_secs(self.settings.timeout_seconds);
        let resp = match tokio::time::timeout(timeout, self.client.request(req)).await {
            Err(_) => return Err(CallError::NoAnswer(format!("no answer within {timeout:?}"))),
            Ok(Err(e)) if e.is_connect() => return Err(CallError::NotSent(e.to_string())),
            Ok(Err(e)) => return Err(CallError::NoAnswer(e.to_string())),
            Ok(Ok(r)) => r,
        };
        let status = resp.status().as_u16();
        let body = tokio::time::timeout(timeout, resp.into_body().collect())
            .await
            .map_err(|_| CallError::NoAnswer("the answer was cut off".into()))?
            .map_err(|e| CallError::NoAnswer(e.to_string()))?
            .to_bytes();
        Ok((status, body.to_vec()))
    }

    /// The session or access token, signing in first when there is none.
    async fn token(&self) -> Result<String, CallError> {
        let mut held = self.token.lock().await;
        if held.is_none() {
            *held = Some(self.sign_in().await?);
        }
        Ok(held.clone().unwrap_or_default())
    }

    async fn sign_in(&self) -> Result<String, CallError> {
        let s = &self.settings;
        let (path, body, field) = if s.auth == "token" {
            (
                &s.token_path,
                json!({"grant_type": "client_credentials", "client_id": s.client_id, "client_secret": s.client_secret}),
                "access_token",
            )
        } else {
            (
                &s.login_path,
                json!({"username": s.username, "password": s.password}),
                "session",
            )
        };
        let (status, body) = self.post(path, &body, None).await?;
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        match v.get(field).and_then(Value::as_str) {
            Some(t) if (200..300).contains(&status) && !t.is_empty() => Ok(t.to_owned()),
            _ => Err(CallError::NotSent(format!(
                "signing in to the national portal failed (HTTP {status}): {}",
                v.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no token in the answer")
            ))),
        }
    }
}

impl Portal for HttpPortal {
    async fn call(&self, envelope: &Envelope) -> Result<Answer, CallError> {
        let body = serde_json::to_value(envelope).map_err(|e| CallError::NotSent(e.to_string()))?;
        for attempt in 0..2 {
            let token = self.token().await?;
            let (status, answer) = self
                .post(&self.settings.service_path, &body, Some(&token))
                .await?;
            if (status == 401 || status == 403) && attempt == 0 {
                // The token expired mid-run: sign in again, once. (The portal refused the
                // call before handling it.)
                *self.token.lock().await = None;
                continue;
            }
            return Answer::read(&answer)
                .map_err(|e| CallError::NoAnswer(format!("HTTP {status}: {e}")));
        }
        Err(CallError::NotSent(
            "the national portal refused the new sign-in".into(),
        ))
    }

    async fn fetch_file(
        &self,
        id: &str,
    ) -> Result<Option<egov_store::blobs::BlobReader>, CallError> {
        let s = &self.settings;
        let url = format!(
            "{}{}/{id}",
            s.url.trim_end_matches('/'),
            s.file_path.trim_end_matches('/')
        );
        for attempt in 0..2 {
            let token = self.token().await?;
            let req = hyper::Request::get(url.as_str())
                .header("authorization", format!("Bearer {token}"))
                .body(Full::new(Bytes::new()))
                .map_err(|e| CallError::NotSent(format!("bad address {url}: {e}")))?;
            let timeout = std::time::Duration::from_secs(s.timeout_seconds);
            let resp = match tokio::time::timeout(timeout, self.client.request(req)).await {
                Err(_) => return Err(CallError::NoAnswer(format!("no answer within {timeout:?}"))),
                Ok(Err(e)) if e.is_connect() => return Err(CallError::NotSent(e.to_string())),
                Ok(Err(e)) => return Err(CallError::NoAnswer(e.to_string())),
                Ok(Ok(r)) => r,
            };
            match resp.status().as_u16() {
                200 => {
                    return Ok(Some(Box::pin(super::national_intake::BodyReader::new(
                        resp.into_body(),
                    ))));
                }
                404 | 410 => return Ok(None),
                401 | 403 if attempt == 0 => *self.token.lock().await = None,
                other => return Err(CallError::NoAnswer(format!("HTTP {other} for file {id}"))),
            }
        }
        Err(CallError::NotSent(
            "the national portal refused the new sign-in".into(),
        ))
    }
}

/// Follows the dossiers' events and records what the national portal is owed.
pub struct NationalSync {
    statuses: StatusMap,
    progress_dates: DateStyle,
    /// The agencies reported; `None`: every agency.
    agencies: Option<HashSet<i64>>,
}

impl Subscriber for NationalSync {
    fn name(&self) -> &str {
        SUBSCRIBER
    }

    async fn handle(&self, tx: &mut Tx, event: &Event) -> Result<(), AppError> {
        if event.aggregate != Aggregate::Dossier {
            return Ok(());
        }
        let d = store::get_dossier(tx, event.aggregate_id).await?;
        let in_scope = |a: i64| self.agencies.as_ref().is_none_or(|s| s.contains(&a));
        if !in_scope(d.competent_agency_id) && !in_scope(d.receiving_agency_id) {
            return Ok(());
        }
        let at = event.occurred_at;
        sync::record_due(tx, d.id, d.competent_agency_id, event.version, at).await?;
        if event.kind == EventKind::StepDone {
            let state = event
                .payload
                .get("state")
                .and_then(Value::as_str)
                .and_then(State::parse)
                .unwrap_or(d.state);
            // The event moved the dossier on to `step`: the one done is the step before it.
            let done = event
                .payload
                .get("step")
                .and_then(Value::as_i64)
                .map(|s| s - 1);
            let step = done_step(tx, &d, done, at, state).await?;
            let style = Style {
                dates: self.progress_dates,
                statuses: &self.statuses,
            };
            sync::add_progress(tx, d.id, event.version, &progress_entry(&step, style), at).await?;
        }
        Ok(())
    }
}

/// The step an event's `step_done` is about: step `seq` when the event says which, otherwise
/// the latest finished at or before the event.
async fn done_step(
    ex: &mut impl Exec,
    d: &store::DossierRow,
    seq: Option<i64>,
    at: OffsetDateTime,
    state: State,
) -> Result<StepFacts, AppError> {
    let steps = store::steps(ex, d.id).await?;
    let step = steps
        .iter()
        .filter(|s| s.finished_at.is_some_and(|f| f <= at))
        .filter(|s| seq.is_none_or(|q| s.seq == q))
        .max_by_key(|s| (s.finished_at, s.seq))
        .ok_or_else(|| AppError::internal(format!("dossier {} has no finished step", d.code)))?;
    let handler = step.handed_by.or(step.assignee_id);
    let position = match handler {
        Some(p) => egov_store::org::postings_of(ex, p, Some(at))
            .await?
            .into_iter()
            .max_by_key(|x| Some(x.agency_id) == step.agency_id)
            .map(|x| x.position_name)
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(StepFacts {
        dossier_code: portal_code(d),
        handler: step
            .handed_by_name
            .clone()
            .or_else(|| step.assignee_name.clone())
            .unwrap_or_default(),
        position,
        unit: step.agency_name.clone().unwrap_or_default(),
        what: step.name.clone(),
        state,
        started_at: step.started_at,
        done_at: step.finished_at.unwrap_or(at),
        due_at: step.due_at,
    })
}

/// What one round of [`App::push_national`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncRound {
    pub records: usize,
    pub progress: usize,
    pub rejected: usize,
    pub failed: usize,
    /// Rows a look-up found already on the portal.
    pub found: usize,
}

impl SyncRound {
    /// Calls the portal answered (accepting or refusing, or finding on a look-up).
    pub fn answered(&self) -> usize {
        self.records + self.progress + self.rejected + self.found
    }
}

impl std::ops::AddAssign for SyncRound {
    fn add_assign(&mut self, o: SyncRound) {
        self.records += o.records;
        self.progress += o.progress;
        self.rejected += o.rejected;
        self.failed += o.failed;
        self.found += o.found;
    }
}

/// The wait before the next try after `attempts` failures: 10 s, doubling, at most 30 minutes.
pub fn backoff(attempts: i64) -> Duration {
    Duration::seconds((10_i64 << attempts.clamp(0, 8)).min(1800))
}

impl App {
    /// The subscriber for this deployment's settings (the agencies in scope resolved).
    pub async fn national_subscriber(&self) -> Result<NationalSync, AppError> {
        let s = &self.settings.national_portal;
        let statuses = s
            .status_map()
            .map_err(|e| AppError::invalid(crate::Code::BadConfig, e))?;
        let agencies = if s.agencies.is_empty() {
            None
        } else {
            let mut ids = HashSet::new();
            for code in &s.agencies {
                let a = egov_store::agencies::find_by_code(&mut self.db(), code)
                    .await?
                    .ok_or_else(|| {
                        AppError::invalid(
                            crate::Code::BadConfig,
                            format!("national_portal.agencies: no agency {code}"),
                        )
                    })?;
                ids.insert(a.id);
            }
            Some(ids)
        };
        Ok(NationalSync {
            statuses,
            progress_dates: s.progress_dates,
            agencies,
        })
    }

    /// The dossier's record as the portal is sent it now.
    pub async fn national_record(&self, dossier_id: i64) -> Result<Value, AppError> {
        let facts = self.national_facts(dossier_id).await?;
        let statuses = self
            .settings
            .national_portal
            .status_map()
            .map_err(|e| AppError::invalid(crate::Code::BadConfig, e))?;
        Ok(dossier_record(
            &facts,
            Style {
                dates: self.settings.national_portal.record_dates,
                statuses: &statuses,
            },
        ))
    }

    async fn national_facts(&self, dossier_id: i64) -> Result<DossierFacts, AppError> {
        let mut ex = self.db();
        let d = store::get_dossier(&mut ex, dossier_id).await?;
        let applicant = egov_store::applicants::get(&mut ex, d.applicant_id).await?;
        let procedure = store::get_procedure(&mut ex, d.procedure_id).await?;
        let version = super::catalogue::parse_procedure(&procedure)?;
        let components = store::components(&mut ex, d.id).await?;
        let events = store::events(&mut ex, d.id).await?;
        let fees = version
            .fees
            .iter()
            .map(|f| FeeFacts {
                code: f.code.clone(),
                name: f.name.clone(),
                kind: f.kind.clone(),
                amount: f.amount(1, false),
                online: d.paid_online,
            })
            .collect();
        Ok(DossierFacts {
            code: portal_code(&d),
            procedure_code: self
                .settings
                .national_portal
                .procedure_code(&d.procedure_code)
                .to_owned(),
            procedure_name: d.procedure_name.clone(),
            field_code: procedure.field_code.clone(),
            field_name: procedure.field_name.clone(),
            applicant: ApplicantFacts {
                kind: applicant.kind,
                identifier: applicant.identifier,
                name: applicant.name,
                email: applicant.email,
                phone: applicant.phone,
            },
            subject: d.subject.clone(),
            channel: d.channel,
            state: d.state,
            submitted_at: d.submitted_at,
            received_at: d.received_at,
            appointment: d.appointment,
            finished_at: d.finished_at,
            returned_at: d.returned_at,
            competent_agency_name: d.competent_agency_name.clone(),
            by_post: false,
            components: components
                .iter()
                .map(|c| ComponentFacts {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    provided: c.provided,
                    scanned: c.blob_sha.is_some(),
                    reused: c.reused,
                })
                .collect(),
            fees,
            digitised: d.digitised,
            eid_verified: d.eid_verified,
            time_limit: time_limit(&version.statutory_limit),
            supplements: supplements(&events),
            results: self.result_facts(&d).await?,
            note: String::new(),
        })
    }

    /// The dossier's result file as the portal fetches it: a link with a token bound to that
    /// file (none before a result with a file exists).
    async fn result_facts(&self, d: &store::DossierRow) -> Result<Vec<ResultFacts>, AppError> {
        let Some(result) = d
            .result_json
            .as_deref()
            .and_then(|r| serde_json::from_str::<Value>(r).ok())
        else {
            return Ok(Vec::new());
        };
        let Some(sha) = result.get("file").and_then(Value::as_str) else {
            return Ok(Vec::new());
        };
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| AppError::internal(e.to_string()))?;
        let token =
            sync::result_token(&mut self.db(), d.id, sha, &hex::encode(random), self.now()).await?;
        let name = match result.get("number").and_then(Value::as_str) {
            Some(n) => format!("Kết quả giải quyết số {n}"),
            None => "Kết quả giải quyết".to_owned(),
        };
        Ok(vec![ResultFacts {
            id: format!("KQ-{}", d.id),
            name,
            component_code: "KQ".into(),
            url: format!(
                "{}/national/results/{token}",
                self.settings.server.public_url()
            ),
        }])
    }

    /// A result file fetched by the national portal through its link: only the file the token
    /// is bound to, only while it is the dossier's result; every fetch audited.
    pub async fn national_result_file(
        &self,
        token: &str,
        ip: Option<String>,
    ) -> Result<(Vec<u8>, String, String), AppError> {
        let well_formed = token.len() == 32
            && token
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let not_found = || AppError::not_found("file");
        if !well_formed {
            return Err(not_found());
        }
        let mut tx = self.db.begin().await?;
        let (dossier_id, sha) = sync::result_of_token(&mut tx, token)
            .await?
            .ok_or_else(not_found)?;
        let d = store::get_dossier(&mut tx, dossier_id).await?;
        let result: Value = d
            .result_json
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default();
        if result.get("file").and_then(Value::as_str) != Some(sha.as_str()) {
            return Err(not_found());
        }
        let text = |k: &str, default: &str| {
            result
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_owned()
        };
        let actor =
            crate::Actor::integration(crate::Integration::NationalPortal).with_request(ip, None);
        sync::result_fetched(&mut tx, token, self.now()).await?;
        crate::audit::event("national.result_fetch", "dossier", dossier_id)
            .agency(Some(d.competent_agency_id))
            .write(&mut tx, &actor)
            .await?;
        tx.commit().await?;
        let bytes = self.read_blob(&sha).await?;
        Ok((
            bytes,
            text("media_type", "application/pdf"),
            text("file_name", "ket-qua.pdf"),
        ))
    }

    /// Pays what is owed to the portal, up to the configured batch of calls: due records
    /// first, then progress entries in order.
    ///
    /// A portal that stops answering (twice `concurrency` calls in a row without an answer)
    /// ends the round; the rounds after only probe it with one call (the row owed the longest,
    /// even if its back-off has not ended) until it answers, and then everything that was
    /// failing is due at once instead of each at the end of its own back-off.
    pub async fn push_national<P: Portal>(&self, portal: &P) -> Result<SyncRound, AppError> {
        use std::sync::atomic::Ordering;
        let s = &self.settings.national_portal;
        let mut round = SyncRound::default();
        if self.national_down.load(Ordering::Relaxed) {
            sync::wake_one(&mut self.db(), self.now(), self.lease()).await?;
            let (probe, down) = self.push_round(portal, 1, 1).await?;
            round += probe;
            if down {
                return Ok(round);
            }
            self.national_down.store(false, Ordering::Relaxed);
            sync::wake_failing(&mut self.db(), self.now(), self.lease()).await?;
        }
        let (rest, down) = self.push_round(portal, s.batch, 2 * s.concurrency).await?;
        round += rest;
        if down {
            self.national_down.store(true, Ordering::Relaxed);
        }
        Ok(round)
    }

    /// Up to `limit` records, then up to `limit` progress entries, `concurrency` calls at a
    /// time to different dossiers (a query gives at most the next entry of each dossier).
    /// Stops early, and says so, after `trip_after` calls in a row without an answer.
    async fn push_round<P: Portal>(
        &self,
        portal: &P,
        limit: i64,
        trip_after: usize,
    ) -> Result<(SyncRound, bool), AppError> {
        use futures_util::StreamExt;
        use futures_util::stream::FuturesUnordered;
        let s = &self.settings.national_portal;
        let mut round = SyncRound::default();
        let mut silent = 0;
        // Feeds calls made by `$call` for the rows of `$rows`, counting the silent ones in a row.
        macro_rules! drain {
            ($rows:expr, $call:ident) => {{
                let mut next = $rows.iter();
                let mut calls = FuturesUnordered::new();
                loop {
                    while calls.len() < s.concurrency && silent < trip_after {
                        let Some(row) = next.next() else { break };
                        calls.push(self.$call(portal, row));
                    }
                    let Some(one) = calls.next().await else { break };
                    let one = one?;
                    silent = if one.failed > 0 && one.answered() == 0 {
                        silent + 1
                    } else {
                        0
                    };
                    round += one;
                }
            }};
        }
        let records = sync::due_records(&mut self.db(), self.now(), limit).await?;
        drain!(records, record_round);
        // Each query gives the next entry of every dossier; ask again while entries go through.
        let mut budget = limit;
        while budget > 0 && silent < trip_after {
            let due = sync::due_progress(&mut self.db(), self.now(), budget).await?;
            let before = round.progress + round.found;
            drain!(due, progress_round);
            budget -= due.len() as i64;
            if due.is_empty() || round.progress + round.found == before {
                break;
            }
        }
        Ok((round, silent >= trip_after))
    }

    async fn record_round<P: Portal>(
        &self,
        portal: &P,
        r: &sync::DossierSync,
    ) -> Result<SyncRound, AppError> {
        let mut one = SyncRound::default();
        self.push_record(portal, r, &mut one).await?;
        Ok(one)
    }

    async fn progress_round<P: Portal>(
        &self,
        portal: &P,
        p: &sync::ProgressSync,
    ) -> Result<SyncRound, AppError> {
        let mut one = SyncRound::default();
        self.push_progress(portal, p, &mut one).await?;
        Ok(one)
    }

    async fn push_record<P: Portal>(
        &self,
        portal: &P,
        r: &sync::DossierSync,
        round: &mut SyncRound,
    ) -> Result<(), AppError> {
        let s = &self.settings.national_portal;
        if !sync::claim_record(
            &mut self.db(),
            r.dossier_id,
            &r.state,
            self.now(),
            self.lease(),
        )
        .await?
        {
            return Ok(());
        }
        let record = self.national_record(r.dossier_id).await?;
        let procedure = record["MaTTHC"].as_str().unwrap_or_default();
        if !egov_domain::national::is_procedure_code(procedure) {
            // Not sent: the portal knows no such procedure. Listed until mapped and retried.
            let message = format!(
                "Thủ tục {procedure} không có mã trên Cổng Dịch vụ công quốc gia: ánh xạ nó trong [national_portal.procedure_codes] rồi gửi lại."
            );
            sync::record_rejected(
                &mut self.db(),
                r.dossier_id,
                NO_NATIONAL_CODE,
                &message,
                self.now(),
            )
            .await?;
            round.rejected += 1;
            return Ok(());
        }
        let mut created = r.created;
        if r.state == "uncertain" && !created {
            // The create may have arrived: if the portal knows the dossier, update it.
            let code = record["MaHoSo"].as_str().unwrap_or_default();
            match self.look_up(portal, code).await {
                Ok(Some(_)) => {
                    sync::record_created(&mut self.db(), r.dossier_id).await?;
                    created = true;
                    round.found += 1;
                }
                Ok(None) => {}
                Err(e) => return self.record_failed(r, "uncertain", &e, round).await,
            }
        }
        let envelope = Envelope {
            service: s.services.record.clone(),
            is_updating: created,
            data: vec![record],
        };
        match portal.call(&envelope).await {
            Ok(Answer::Accepted(_)) => {
                sync::record_accepted(&mut self.db(), r.dossier_id, r.due_version, self.now())
                    .await?;
                round.records += 1;
            }
            Ok(Answer::Rejected {
                code,
                message,
                field,
            }) => {
                let message = refusal_text(message, field);
                sync::record_rejected(&mut self.db(), r.dossier_id, &code, &message, self.now())
                    .await?;
                round.rejected += 1;
            }
            Err(e) => return self.record_failed(r, e.retry_state(), &e, round).await,
        }
        Ok(())
    }

    async fn record_failed(
        &self,
        r: &sync::DossierSync,
        state: &str,
        e: &CallError,
        round: &mut SyncRound,
    ) -> Result<(), AppError> {
        let next = self.now() + backoff(r.attempts);
        sync::record_failed(&mut self.db(), r.dossier_id, state, &e.to_string(), next).await?;
        round.failed += 1;
        Ok(())
    }

    async fn push_progress<P: Portal>(
        &self,
        portal: &P,
        p: &sync::ProgressSync,
        round: &mut SyncRound,
    ) -> Result<(), AppError> {
        let s = &self.settings.national_portal;
        let entry: Value = serde_json::from_str(&p.entry)
            .map_err(|e| AppError::internal(format!("stored progress entry {}: {e}", p.id)))?;
        let failed = |e: &CallError, state: &'static str| {
            let next = self.now() + backoff(p.attempts);
            (state, e.to_string(), next)
        };
        if !sync::claim_progress(&mut self.db(), p.id, &p.state, self.now(), self.lease()).await? {
            return Ok(());
        }
        if p.state == "uncertain" {
            let code = entry["MaHoSo"].as_str().unwrap_or_default().to_owned();
            match self.look_up(portal, &code).await {
                Ok(Some(found)) if holds_entry(&found, &entry) => {
                    sync::progress_state(&mut self.db(), p.id, "sent", None, None, self.now())
                        .await?;
                    round.found += 1;
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) => {
                    let (state, err, next) = failed(&e, "uncertain");
                    sync::progress_state(&mut self.db(), p.id, state, Some(&err), None, next)
                        .await?;
                    round.failed += 1;
                    return Ok(());
                }
            }
        }
        let envelope = Envelope {
            service: s.services.progress.clone(),
            is_updating: false,
            data: vec![entry],
        };
        match portal.call(&envelope).await {
            Ok(Answer::Accepted(_)) => {
                sync::progress_state(&mut self.db(), p.id, "sent", None, None, self.now()).await?;
                round.progress += 1;
            }
            Ok(Answer::Rejected {
                code,
                message,
                field,
            }) => {
                let message = refusal_text(message, field);
                sync::progress_state(
                    &mut self.db(),
                    p.id,
                    "rejected",
                    Some(&message),
                    Some(&code),
                    self.now(),
                )
                .await?;
                round.rejected += 1;
            }
            Err(e) => {
                let (state, err, next) = failed(&e, e.retry_state());
                sync::progress_state(&mut self.db(), p.id, state, Some(&err), None, next).await?;
                round.failed += 1;
            }
        }
        Ok(())
    }

    /// How long a claimed row stays out of the other workers' reach: three calls' time (a
    /// worker that stops mid-call leaves it `uncertain`, looked up when the lease ends).
    fn lease(&self) -> OffsetDateTime {
        let t = self.settings.national_portal.timeout_seconds as i64;
        self.now() + Duration::seconds(3 * t + 5)
    }

    /// What the portal holds of a dossier (`None`: it does not know it).
    async fn look_up<P: Portal>(&self, portal: &P, code: &str) -> Result<Option<Value>, CallError> {
        let envelope = Envelope {
            service: self.settings.national_portal.services.lookup.clone(),
            is_updating: false,
            data: vec![json!({ "MaHoSo": code })],
        };
        match portal.call(&envelope).await? {
            Answer::Accepted(v) => Ok(v
                .get("result")
                .and_then(Value::as_array)
                .and_then(|r| r.first())
                .cloned()),
            Answer::Rejected { .. } => Ok(None),
        }
    }

    /// Subscribes the synchronisation (once) and runs one round (the command line, tests).
    pub async fn sync_national<P: Portal>(&self, portal: &P) -> Result<SyncRound, AppError> {
        let sub = self.national_subscriber().await?;
        self.subscribe(SUBSCRIBER).await?;
        self.sync_national_with(&sub, portal).await
    }

    /// One round with a subscriber built once (the worker): the events to what is owed, then
    /// what is owed to the portal.
    pub async fn sync_national_with<P: Portal>(
        &self,
        sub: &NationalSync,
        portal: &P,
    ) -> Result<SyncRound, AppError> {
        self.deliver_events(sub, self.settings.national_portal.batch)
            .await?;
        self.push_national(portal).await
    }
}

/// The synchronisation's health for the operator's page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct NationalHealth {
    pub enabled: bool,
    pub url: String,
    /// This process's last round found the portal not answering: it is only probed.
    pub down: bool,
    /// Dossiers: waiting, sent without a known answer, synchronised, refused.
    pub records: StateCounts,
    /// Progress entries: waiting, sent without a known answer, sent, refused.
    pub progress: StateCounts,
    /// Since when the oldest record still owed has waited (the lag).
    pub oldest_due: Option<OffsetDateTime>,
    pub last_success: Option<OffsetDateTime>,
    /// Decision 766 indicator 1.4: dossiers synchronised ÷ dossiers that should be, in percent.
    pub synced_rate: f64,
    /// Refused by the portal: waiting for an operator to retry or set aside.
    pub rejected: Vec<Trouble>,
    /// The refusals counted by the portal's code (the reason), most first.
    pub rejected_by_code: Vec<(String, i64)>,
    /// Still retried, after at least one failed call (the portal down, slow or answering
    /// nonsense): the last failure and the next try.
    pub failing: Vec<Trouble>,
    /// Set aside by an operator: no longer sent until retried (the dead letters).
    pub set_aside: Vec<Trouble>,
    /// The status map in force: egov's state, the national status, its meaning.
    pub statuses: Vec<(String, u8, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct StateCounts {
    pub pending: i64,
    pub uncertain: i64,
    pub done: i64,
    pub rejected: i64,
    pub set_aside: i64,
}

/// A record or entry that needs an operator's eye.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Trouble {
    pub dossier_id: i64,
    pub dossier_code: String,
    /// `dossier` or `progress`.
    pub what: String,
    /// The portal's code for a refusal (empty otherwise).
    pub code: String,
    /// The portal's message, the operator's reason, or the last failure.
    pub message: String,
    pub attempts: i64,
    /// The next try of a failing call.
    pub next_at: OffsetDateTime,
}

impl App {
    /// The synchronisation's health (system administrators).
    pub async fn national_health(&self, actor: &Actor) -> Result<NationalHealth, AppError> {
        let mut ex = self.db();
        self.require_system_admin(&mut ex, actor).await?;
        let s = &self.settings.national_portal;
        let mut h = NationalHealth {
            enabled: s.enabled,
            url: s.url.clone(),
            down: self
                .national_down
                .load(std::sync::atomic::Ordering::Relaxed),
            ..NationalHealth::default()
        };
        for (table, state, n) in sync::counts(&mut ex).await? {
            let c = if table == "dossier" {
                &mut h.records
            } else {
                &mut h.progress
            };
            match state.as_str() {
                "pending" => c.pending += n,
                "uncertain" => c.uncertain += n,
                "rejected" => c.rejected += n,
                "set_aside" => c.set_aside += n,
                _ => c.done += n,
            }
        }
        let (oldest, last) = sync::times(&mut ex).await?;
        h.oldest_due = oldest;
        h.last_success = last;
        let owed = h.records.pending
            + h.records.uncertain
            + h.records.rejected
            + h.records.set_aside
            + h.records.done;
        h.synced_rate = if owed == 0 {
            100.0
        } else {
            (h.records.done as f64 * 1000.0 / owed as f64).round() / 10.0
        };
        h.rejected_by_code = sync::rejected_by_code(&mut ex).await?;
        for t in sync::troubles(&mut ex, 300).await? {
            let list = match t.state.as_str() {
                "rejected" => &mut h.rejected,
                "set_aside" => &mut h.set_aside,
                _ => &mut h.failing,
            };
            list.push(Trouble {
                dossier_id: t.dossier_id,
                dossier_code: t.dossier_code,
                what: t.what,
                code: t.reject_code.unwrap_or_default(),
                message: t.last_error.unwrap_or_default(),
                attempts: t.attempts,
                next_at: t.next_at,
            });
        }
        let map = s
            .status_map()
            .map_err(|e| AppError::invalid(crate::Code::BadConfig, e))?;
        h.statuses = map
            .rows()
            .into_iter()
            .map(|(st, code, meaning)| (st.as_str().to_owned(), code, meaning.to_owned()))
            .collect();
        Ok(h)
    }

    /// Sends a refused or set-aside dossier's record and entries again (an operator who fixed
    /// the cause).
    pub async fn retry_national(&self, actor: &Actor, dossier_id: i64) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        if !sync::retry(&mut tx, dossier_id, self.now()).await? {
            return Err(AppError::conflict(
                crate::Code::NothingRefused,
                "Nothing of this dossier was refused by the national portal or set aside.",
            ));
        }
        crate::audit::event("national.retry", "dossier", dossier_id)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An operator's decision to stop sending what is still owed of a dossier (a test dossier,
    /// one the portal will never accept), with their reason; listed as set aside until retried.
    pub async fn set_aside_national(
        &self,
        actor: &Actor,
        dossier_id: i64,
        reason: &str,
    ) -> Result<(), AppError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(AppError::invalid(
                crate::Code::ReasonRequired,
                "Say why this dossier is set aside (at most 500 characters).",
            ));
        }
        let mut tx = self.db.begin().await?;
        self.require_system_admin(&mut tx, actor).await?;
        if !sync::set_aside(&mut tx, dossier_id, reason, self.now()).await? {
            return Err(AppError::conflict(
                crate::Code::NothingOwed,
                "Nothing of this dossier is still owed to the national portal.",
            ));
        }
        crate::audit::event("national.set_aside", "dossier", dossier_id)
            .after(&serde_json::json!({ "reason": reason }))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What a reconciliation found for a period.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Reconciliation {
    /// Dossiers looked up.
    pub checked: usize,
    /// Not on the portal at all.
    pub missing: Vec<String>,
    /// On the portal with other values: (dossier code, the fields that differ).
    pub stale: Vec<(String, Vec<String>)>,
    /// Progress entries the portal lacks, by dossier code.
    pub lost_progress: Vec<(String, usize)>,
    /// Refused by the portal (as on the operator's page).
    pub rejected: Vec<String>,
    /// Set aside by an operator: not compared.
    pub set_aside: Vec<String>,
    /// Still owed (waiting or in flight): not compared.
    pub waiting: Vec<String>,
    /// Look-ups that brought no answer.
    pub unanswered: Vec<String>,
    /// Whether what was found was queued to be sent again.
    pub requeued: bool,
}

/// The record's fields a reconciliation compares.
const COMPARED: [&str; 5] = [
    "TrangThaiHoSo",
    "NgayTiepNhan",
    "NgayHenTra",
    "NgayTra",
    "NgayKetThucXuLy",
];

impl App {
    /// Looks up on the portal every dossier submitted in `[from, to)` and lists what is
    /// missing there, stale, lacking progress entries or refused; with `requeue`, what is
    /// missing or stale is sent again (a missing dossier as a create, then its progress).
    pub async fn reconcile_national<P: Portal>(
        &self,
        actor: &Actor,
        portal: &P,
        from: OffsetDateTime,
        to: OffsetDateTime,
        requeue: bool,
    ) -> Result<Reconciliation, AppError> {
        self.require_system_admin(&mut self.db(), actor).await?;
        let mut out = Reconciliation {
            requeued: requeue,
            ..Reconciliation::default()
        };
        let mut after = 0;
        loop {
            let page = sync::dossiers_between(&mut self.db(), from, to, after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.0;
            for (id, code, agency) in page {
                out.checked += 1;
                let row = sync::get_record(&mut self.db(), id).await?;
                match row.as_ref().map(|r| r.state.as_str()) {
                    Some("rejected") => {
                        out.rejected.push(code);
                        continue;
                    }
                    Some("set_aside") => {
                        out.set_aside.push(code);
                        continue;
                    }
                    Some("pending" | "uncertain") => {
                        out.waiting.push(code);
                        continue;
                    }
                    _ => {}
                }
                let found = match self.look_up(portal, &code).await {
                    Ok(f) => f,
                    Err(_) => {
                        out.unanswered.push(code);
                        continue;
                    }
                };
                let sent = sync::progress_of(&mut self.db(), id).await?;
                let Some(found) = found else {
                    out.missing.push(code);
                    if requeue {
                        sync::requeue(&mut self.db(), id, agency, false, self.now()).await?;
                        for p in sent.iter().filter(|p| p.state == "sent") {
                            sync::progress_again(&mut self.db(), p.id, self.now()).await?;
                        }
                    }
                    continue;
                };
                let want = self.national_record(id).await?;
                let differ: Vec<String> = COMPARED
                    .iter()
                    .filter(|f| found.get(**f) != want.get(**f))
                    .map(|f| (*f).to_owned())
                    .collect();
                if !differ.is_empty() {
                    out.stale.push((code.clone(), differ));
                    if requeue {
                        sync::requeue(&mut self.db(), id, agency, true, self.now()).await?;
                    }
                }
                let lost: Vec<&sync::ProgressSync> = sent
                    .iter()
                    .filter(|p| p.state == "sent")
                    .filter(|p| {
                        serde_json::from_str::<Value>(&p.entry)
                            .map(|e| !holds_entry(&found, &e))
                            .unwrap_or(false)
                    })
                    .collect();
                if !lost.is_empty() {
                    out.lost_progress.push((code.clone(), lost.len()));
                    if requeue {
                        for p in lost {
                            sync::progress_again(&mut self.db(), p.id, self.now()).await?;
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Whether a looked-up dossier already holds the progress entry (same content and time).
fn holds_entry(found: &Value, entry: &Value) -> bool {
    found
        .get("TienDo")
        .and_then(Value::as_array)
        .is_some_and(|list| {
            list.iter().any(|e| {
                e.get("NoiDungXuLy") == entry.get("NoiDungXuLy")
                    && e.get("ThoiDiemXuLy") == entry.get("ThoiDiemXuLy")
            })
        })
}

/// The statutory limit as `ThoiGianGiaiQuyet` and `DonViTinh` state it.
fn time_limit(l: &egov_domain::onestop::procedure::TimeLimit) -> (String, String) {
    use egov_domain::onestop::procedure::LimitUnit;
    let unit = match l.unit {
        LimitUnit::WorkingDays => "ngày làm việc",
        LimitUnit::WorkingHours => "giờ làm việc",
        LimitUnit::CalendarDays => "ngày",
        LimitUnit::Months => "tháng",
    };
    let value = if l.value.fract() == 0.0 {
        format!("{}", l.value as i64)
    } else {
        format!("{}", l.value)
    };
    (value, unit.to_owned())
}

/// The supplements asked for and provided, paired in order, each with the appointment it moved
/// (the `appointment_reissued` recorded just before the supplement was provided).
fn supplements(events: &[store::EventRow]) -> Vec<SupplementFacts> {
    let mut out: Vec<SupplementFacts> = Vec::new();
    let mut reissued: Option<(Option<OffsetDateTime>, Option<OffsetDateTime>)> = None;
    for e in events {
        let moved = reissued.take();
        match e.event.as_str() {
            "appointment_reissued" => {
                let data: Value = serde_json::from_str(&e.data_json).unwrap_or(Value::Null);
                let at = |k: &str| {
                    data.get(k)
                        .and_then(Value::as_str)
                        .and_then(egov_store::parse_ts)
                };
                reissued = Some((at("old"), at("new")));
            }
            "request_supplement" => {
                let data: Value = serde_json::from_str(&e.data_json).unwrap_or(Value::Null);
                let what = data
                    .get("items")
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .unwrap_or_default();
                out.push(SupplementFacts {
                    id: e.id,
                    asked_by: e.actor.clone(),
                    what,
                    asked_at: e.at,
                    received_by: None,
                    received_at: None,
                    appointment_before: None,
                    appointment_after: None,
                });
            }
            "supplement_provided" => {
                if let Some(open) = out.iter_mut().rev().find(|s| s.received_at.is_none()) {
                    open.received_by = Some(e.actor.clone());
                    open.received_at = Some(e.at);
                    if let Some((before, after)) = moved {
                        open.appointment_before = before;
                        open.appointment_after = after;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_half_an_hour() {
        assert_eq!(backoff(0), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(40));
        assert_eq!(backoff(20), Duration::minutes(30));
    }

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/national/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_looked_up_dossier_holds_an_entry_by_content_and_time() {
        let found = fixture("tracuuhoso-answer.json")["result"][0].clone();
        let entry = fixture("capnhattiendohosomc.json")["data"][0].clone();
        assert!(holds_entry(&found, &entry));
        let mut other = entry.clone();
        other["ThoiDiemXuLy"] = "20261207110000".into();
        assert!(!holds_entry(&found, &other));
    }
}
