//! A local hub (`egov exchange hub`) that behaves like the national document exchange hub, so
//! that two egov deployments — or egov and a test — exchange packets as they would through the
//! real one: calls shaped like the public SDK's (`sendEdoc`, `getReceivedEdocList`, `getEdoc`,
//! `updateStatus` with `done`/`fail`, `getAgenciesList`, `getSentEdocList`), parameters in headers, every call
//! signed (HMAC-SHA256 over the configured canonical string, within five minutes of the hub's
//! clock), a queue per agency, and the directory of connected agencies.
//!
//! Like the real hub it **re-serialises** what passes through (`vn-standards.md` §1.10): the
//! packet is read and written again, with `DocumentId` moved up after the recipients, an empty
//! `ResponseFor` and `Direction` added, and a `TraceHeader` of its own — without `OrganId` —
//! appended after the business block; comments are gone. So a receiver never gets the bytes
//! that were sent, and must recognise a packet by its `DocumentId`.
//!
//! `GET /_state` shows the queues as JSON; `POST /_mode` makes it fail as a real hub may: down
//! (503), hanging, or handling the next sends and then losing their answers.

mod lgsp;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use egov_app::exchange::transport::{
    CallParams, Connected, DEFAULT_CANONICAL, MessageType, Taken, Waiting, sign,
};
use egov_edxml::{Limits, MemorySink, Packet};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How the hub misbehaves, when asked to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HubMode {
    /// Answer every call with a gateway's 503.
    pub down: bool,
    /// Never answer.
    pub hang: bool,
    /// Handle this many sends, then drop the connection without answering.
    pub lose_answers: u32,
}

#[derive(Debug, Clone, Serialize)]
struct Item {
    id: String,
    from: String,
    #[serde(rename = "messagetype")]
    message_type: MessageType,
    created: String,
    /// `initial`, then `done` or `fail` as the receiver says.
    status: String,
    #[serde(skip)]
    bytes: Bytes,
    size: usize,
}

#[derive(Debug, Default, Serialize)]
struct Held {
    agencies: BTreeMap<String, Connected>,
    /// What each sending agency sent, in order (`getSentEdocList`).
    #[serde(skip)]
    taken: BTreeMap<String, Vec<Taken>>,
    /// Deliveries by receiving agency, in order.
    queues: BTreeMap<String, Vec<Item>>,
    next: u64,
    sent: u64,
    /// Calls answered in the LGSP dialect.
    lgsp_calls: u64,
    /// The agencies the LGSP dialect's directory lists (all the hub's when empty): the
    /// province's platform connects its own agencies.
    #[serde(skip)]
    lgsp_lists: Vec<String>,
    /// Bearer tokens of systems calling in the LGSP dialect (a system without one may present
    /// any non-empty token).
    #[serde(skip)]
    tokens: BTreeMap<String, String>,
    /// Agencies the hub answers for, as their systems would (a demonstration's ministries):
    /// a document to one is taken at once and answered with statuses.
    #[serde(skip)]
    answering: std::collections::BTreeSet<String>,
    refused: Vec<(String, String)>,
    #[serde(skip)]
    mode: HubMode,
}

/// The hub's state, shared by its handlers.
#[derive(Clone)]
pub struct LocalHub {
    held: Arc<Mutex<Held>>,
    /// System ids and their secrets; empty: every caller is taken on its word (tests only).
    secrets: Arc<BTreeMap<String, String>>,
    canonical: Arc<String>,
    limits: Arc<Limits>,
}

/// A refusal: the HTTP status, a stable code, a message.
struct Refusal(StatusCode, &'static str, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (
            self.0,
            axum::Json(json!({"status": "FAIL", "code": self.1, "message": self.2})),
        )
            .into_response()
    }
}

fn ok(v: serde_json::Value) -> Response {
    let mut body = json!({"status": "OK"});
    if let (Some(b), Some(extra)) = (body.as_object_mut(), v.as_object()) {
        for (k, x) in extra {
            b.insert(k.clone(), x.clone());
        }
    }
    axum::Json(body).into_response()
}

impl LocalHub {
    /// A hub knowing these systems (id → secret) and these agencies.
    pub fn new(secrets: BTreeMap<String, String>, agencies: Vec<Connected>) -> Self {
        let held = Held {
            agencies: agencies.into_iter().map(|a| (a.code.clone(), a)).collect(),
            ..Held::default()
        };
        LocalHub {
            held: Arc::new(Mutex::new(held)),
            secrets: Arc::new(secrets),
            canonical: Arc::new(DEFAULT_CANONICAL.to_string()),
            limits: Arc::new(Limits {
                max_packet: 64 * 1024 * 1024,
                ..Limits::default()
            }),
        }
    }

    /// Signs with another canonical string (as the real hub's may differ).
    pub fn with_canonical(mut self, template: &str) -> Self {
        self.canonical = Arc::new(template.to_string());
        self
    }

    /// The bearer tokens the LGSP dialect expects (system id → token).
    pub fn with_tokens(self, tokens: BTreeMap<String, String>) -> Self {
        self.lock().tokens = tokens;
        self
    }

    /// Answers for these agencies as their systems would: a document to one is taken at once
    /// (marked `done`) and answered — arrived (01) and registered (03) for a new document or
    /// a replacement, agreed (15) for a revocation or an update.
    pub fn answer_for(&self, codes: impl IntoIterator<Item = String>) {
        self.lock().answering.extend(codes);
    }

    /// Lists only these agencies in the LGSP dialect's directory.
    pub fn lgsp_lists(&self, codes: Vec<String>) {
        self.lock().lgsp_lists = codes;
    }

    pub fn set_mode(&self, mode: HubMode) {
        self.lock().mode = mode;
    }

    /// Connects an agency.
    pub fn register(&self, agency: Connected) {
        self.lock().agencies.insert(agency.code.clone(), agency);
    }

    /// The queues, as `GET /_state` shows them.
    pub fn state(&self) -> serde_json::Value {
        serde_json::to_value(&*self.lock()).unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/sendEdoc", post(send))
            .route("/getReceivedEdocList", get(received))
            .route("/getEdoc", get(get_edoc))
            .route("/getSentEdocList", get(taken))
            .route("/updateStatus", post(update_status))
            .route("/getAgenciesList", get(agencies))
            .route("/_state", get(state))
            .route("/_mode", post(set_mode))
            .merge(self.lgsp_routes(&egov_app::exchange::lgsp::LgspPaths::default()))
            .layer(axum::extract::DefaultBodyLimit::max(
                self.limits.max_packet as usize,
            ))
            .with_state(self.clone())
    }

    /// Checks the call's signature and freshness; answers the calling agency.
    fn check(&self, method: &Method, uri: &Uri, h: &HeaderMap) -> Result<String, Refusal> {
        let get = |name: &str| header(h, name);
        let (system, timestamp, signature) = (get("systemid"), get("timestamp"), get("signature"));
        if !self.secrets.is_empty() {
            let Some(secret) = self.secrets.get(&system) else {
                return Err(Refusal(
                    StatusCode::UNAUTHORIZED,
                    "unknown_system",
                    format!("The system {system:?} is not connected to this hub."),
                ));
            };
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let fresh = timestamp
                .parse::<i64>()
                .is_ok_and(|t| (now - t).abs() <= 300);
            if !fresh {
                return Err(Refusal(
                    StatusCode::UNAUTHORIZED,
                    "stale_request",
                    "The call's timestamp is missing or more than five minutes off.".into(),
                ));
            }
            let (from, message_type, doc_id, status) =
                (get("from"), get("messagetype"), get("docid"), get("status"));
            let expected = sign(
                secret,
                &self.canonical,
                &CallParams {
                    system_id: &system,
                    timestamp: &timestamp,
                    method: method.as_str(),
                    path: uri.path(),
                    from: &from,
                    message_type: &message_type,
                    doc_id: &doc_id,
                    status: &status,
                },
            );
            if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
                return Err(Refusal(
                    StatusCode::UNAUTHORIZED,
                    "bad_signature",
                    "The call's signature does not match.".into(),
                ));
            }
        }
        Ok(get("from"))
    }

    /// Takes a packet `from` an agency (either dialect): read, checked, re-serialised and
    /// queued for its recipients; answers its id and whether its answer is to be lost.
    fn accept(
        &self,
        from: &str,
        message_type: MessageType,
        body: &[u8],
    ) -> Result<(String, bool), Refusal> {
        let mut sink = MemorySink::default();
        let reading = match egov_edxml::read_slice(body, &self.limits, &mut sink) {
            Ok(r) => r,
            Err(e) => {
                self.lock()
                    .refused
                    .push((e.code().to_string(), e.to_string()));
                return Err(Refusal(
                    StatusCode::BAD_REQUEST,
                    "bad_packet",
                    format!("The packet cannot be read: {e} ({})", e.code()),
                ));
            }
        };
        let sender = reading.packet.from().organ_id.clone();
        let recipients: Vec<String> = match (&reading.packet, message_type) {
            (Packet::Document(d), MessageType::Edoc) => {
                d.header.to.iter().map(|o| o.organ_id.clone()).collect()
            }
            (Packet::Status(s), MessageType::Status) => vec![s.response_for.organ_id.clone()],
            _ => {
                return Err(Refusal(
                    StatusCode::BAD_REQUEST,
                    "messagetype_mismatch",
                    "The packet is not of the declared messagetype.".into(),
                ));
            }
        };
        if sender != from {
            return Err(Refusal(
                StatusCode::FORBIDDEN,
                "from_mismatch",
                format!("The packet is from {sender}, the call from {from}."),
            ));
        }
        let what = match &reading.packet {
            Packet::Document(d) => (
                d.header.document_id.clone(),
                d.business.action.name().to_string(),
            ),
            Packet::Status(s) => (
                s.response_for.document_id.clone(),
                s.status.wire().to_string(),
            ),
        };
        let bytes = Bytes::from(reserialise(&reading.packet, &sink.files, body));
        let queued = self.enqueue(from, message_type, recipients, what, bytes)?;
        if let Packet::Document(d) = &reading.packet {
            self.answer(&queued.0, d);
        }
        Ok(queued)
    }

    /// The statuses an answering agency sends back for document delivery `id`.
    fn answer(&self, id: &str, d: &egov_edxml::DocumentPacket) {
        use egov_edxml::{BusinessAction, Organ, ResponseFor, StatusCode, StatusPacket};
        let answering: Vec<Organ> = {
            let held = self.lock();
            d.header
                .to
                .iter()
                .filter(|o| held.answering.contains(&o.organ_id))
                .map(|o| {
                    let name = held
                        .agencies
                        .get(&o.organ_id)
                        .map(|a| a.name.clone())
                        .unwrap_or_default();
                    Organ::new(o.organ_id.clone(), name)
                })
                .collect()
        };
        let codes: &[(StatusCode, &str)] = match d.business.action {
            BusinessAction::Revocation | BusinessAction::Update => {
                &[(StatusCode::ChangeAccepted, "Đồng ý")]
            }
            _ => &[
                (StatusCode::Arrived, "Đã đến"),
                (StatusCode::Registered, "Đã vào sổ văn bản đến"),
            ],
        };
        let now = time::OffsetDateTime::now_utc().to_offset(egov_domain::VN_OFFSET);
        for organ in answering {
            let _ = self.mark(&organ.organ_id, id, "done");
            for (status, description) in codes {
                let packet = StatusPacket {
                    from: organ.clone(),
                    response_for: ResponseFor {
                        organ_id: d.header.from.organ_id.clone(),
                        code: d.header.code.joined(),
                        promulgation_date: d.header.promulgation_date,
                        document_id: d.header.document_id.clone(),
                    },
                    staff: egov_edxml::StaffInfo::default(),
                    status: status.clone(),
                    description: (*description).to_string(),
                    timestamp: Some(time::PrimitiveDateTime::new(now.date(), now.time())),
                };
                if let Ok(bytes) = egov_edxml::status_to_vec(&packet) {
                    let what = (d.header.document_id.clone(), status.wire().to_string());
                    let _ = self.enqueue(
                        &organ.organ_id,
                        MessageType::Status,
                        vec![d.header.from.organ_id.clone()],
                        what,
                        Bytes::from(bytes),
                    );
                }
            }
        }
    }

    /// What `agency` sent (`getSentEdocList`, either dialect): of one message type or all,
    /// created within the range of days (`YYYY/MM/DD` ends, inclusive; an empty end is open).
    fn sent_by(
        &self,
        agency: &str,
        wanted: Option<MessageType>,
        (from, to): (&str, &str),
    ) -> Vec<Taken> {
        self.lock()
            .taken
            .get(agency)
            .map(|l| {
                l.iter()
                    .filter(|t| wanted.is_none_or(|w| w == t.message_type))
                    .filter(|t| in_range(&t.created, from, to))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A delivery's bytes, for the agency it waits for only.
    fn packet_for(&self, agency: &str, id: &str) -> Result<Bytes, Refusal> {
        let held = self.lock();
        held.queues
            .get(agency)
            .and_then(|q| q.iter().find(|i| i.id == id))
            .map(|i| i.bytes.clone())
            .ok_or_else(|| {
                Refusal(
                    StatusCode::NOT_FOUND,
                    "unknown_doc",
                    format!("Nothing with the id {id:?} waits for {agency}."),
                )
            })
    }

    /// Marks a delivery `done` or `fail`, for the agency it waits for only.
    fn mark(&self, agency: &str, id: &str, status: &str) -> Result<(), Refusal> {
        if status != "done" && status != "fail" {
            return Err(Refusal(
                StatusCode::BAD_REQUEST,
                "bad_status",
                "status must be done or fail.".into(),
            ));
        }
        let mut held = self.lock();
        match held
            .queues
            .get_mut(agency)
            .and_then(|q| q.iter_mut().find(|i| i.id == id))
        {
            Some(i) => {
                i.status = status.to_string();
                Ok(())
            }
            None => Err(Refusal(
                StatusCode::NOT_FOUND,
                "unknown_doc",
                format!("Nothing with the id {id:?} waits for {agency}."),
            )),
        }
    }

    /// Queues a delivery for each recipient; answers its id and whether its answer is to be
    /// lost.
    fn enqueue(
        &self,
        from: &str,
        message_type: MessageType,
        recipients: Vec<String>,
        (document_id, action): (String, String),
        bytes: Bytes,
    ) -> Result<(String, bool), Refusal> {
        let mut held = self.lock();
        for r in &recipients {
            if !held.agencies.contains_key(r) {
                let message = format!("The agency {r} is not connected to this hub.");
                held.refused
                    .push(("unknown_recipient".into(), message.clone()));
                return Err(Refusal(
                    StatusCode::BAD_REQUEST,
                    "unknown_recipient",
                    message,
                ));
            }
        }
        if !held.agencies.contains_key(from) {
            return Err(Refusal(
                StatusCode::FORBIDDEN,
                "unknown_sender",
                format!("The agency {from} is not connected to this hub."),
            ));
        }
        held.next += 1;
        let id = format!("hub-{:08}", held.next);
        held.taken.entry(from.to_string()).or_default().push(Taken {
            id: id.clone(),
            to: recipients.clone(),
            message_type,
            document_id,
            action,
            created: now_text(),
        });
        for r in recipients {
            held.queues.entry(r).or_default().push(Item {
                id: id.clone(),
                from: from.to_string(),
                message_type,
                created: now_text(),
                status: "initial".into(),
                size: bytes.len(),
                bytes: bytes.clone(),
            });
        }
        held.sent += 1;
        let lose = held.mode.lose_answers > 0;
        if lose {
            held.mode.lose_answers -= 1;
        }
        Ok((id, lose))
    }

    /// What every call goes through: the hub's mood, then the signature. Answers the calling
    /// agency (`from`).
    async fn admit(&self, method: &Method, uri: &Uri, h: &HeaderMap) -> Result<String, Response> {
        if let Some(r) = self.misbehave().await {
            return Err(r);
        }
        self.check(method, uri, h)
            .map_err(IntoResponse::into_response)
    }

    async fn misbehave(&self) -> Option<Response> {
        let mode = self.lock().mode.clone();
        if mode.hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        mode.down
            .then(|| (StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable").into_response())
    }
}

/// Whether a delivery's creation time falls in the range of days (`YYYY/MM/DD` ends,
/// inclusive); an empty end is open.
fn in_range(created: &str, from: &str, to: &str) -> bool {
    let day = created.get(..10).unwrap_or(created);
    (from.is_empty() || day >= from) && (to.is_empty() || day <= to)
}

/// A header's value, or empty.
fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Now, as the wire writes times (Vietnam's local time).
fn now_text() -> String {
    let t = time::OffsetDateTime::now_utc().to_offset(egov_domain::VN_OFFSET);
    egov_edxml::dates::format_timestamp(time::PrimitiveDateTime::new(t.date(), t.time()))
}

/// The packet as the hub passes it on: read, written again in the hub's own order, with what
/// the hub adds. A packet its writer will not write (another system's identifiers, say) goes
/// on as it came.
fn reserialise(packet: &Packet, files: &[Vec<u8>], original: &[u8]) -> Vec<u8> {
    let written = match packet {
        Packet::Document(d) => {
            let mut d = (**d).clone();
            // The hub's own hops are written back after the strict writer has had its say.
            let hub_hops = d.trace.iter().filter(|t| t.organ_id.is_none()).count();
            d.trace.retain(|t| t.organ_id.is_some());
            let contents: Vec<&[u8]> = files.iter().map(|f| f.as_slice()).collect();
            egov_edxml::document_to_vec(&d, &contents)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .map(|text| hub_order(&text, hub_hops + 1))
        }
        Packet::Status(s) => egov_edxml::status_to_vec(s)
            .ok()
            .and_then(|b| String::from_utf8(b).ok()),
    };
    written
        .map(String::into_bytes)
        .unwrap_or_else(|| original.to_vec())
}

/// Moves `DocumentId` after the last `To`, adds `Direction` and an empty `ResponseFor`, and
/// appends `hops` trace entries without `OrganId` after the business block.
fn hub_order(text: &str, hops: usize) -> String {
    let mut s = text.to_string();
    if let (Some(start), Some(end)) = (
        s.find("        <edXML:DocumentId>"),
        s.find("</edXML:DocumentId>\n      </edXML:MessageHeader>"),
    ) {
        let line_end = end + "</edXML:DocumentId>\n".len();
        let line = s[start..line_end].to_string();
        s.replace_range(start..line_end, "");
        if let Some(code) = s.find("        <edXML:Code>") {
            s.insert_str(code, &line);
        }
    }
    if !s.contains("<edXML:Direction>") {
        s = s.replacen(
            "        </edXML:OtherInfo>",
            "          <edXML:Direction>false</edXML:Direction>\n        </edXML:OtherInfo>",
            1,
        );
    }
    s = s.replacen(
        "        <edXML:SteeringType>",
        "        <edXML:ResponseFor/>\n        <edXML:SteeringType>",
        1,
    );
    let hop = format!(
        "        <edXML:TraceHeader>\n          <edXML:Timestamp>{}</edXML:Timestamp>\n        </edXML:TraceHeader>\n",
        now_text()
    );
    s.replacen(
        "      </edXML:TraceHeaderList>",
        &format!("{}      </edXML:TraceHeaderList>", hop.repeat(hops)),
        1,
    )
}

async fn send(
    State(hub): State<LocalHub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let from = match hub.admit(&method, &uri, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let message_type = headers
        .get("messagetype")
        .and_then(|v| v.to_str().ok())
        .and_then(MessageType::parse);
    let Some(message_type) = message_type else {
        return Refusal(
            StatusCode::BAD_REQUEST,
            "bad_messagetype",
            "messagetype must be edoc or status.".into(),
        )
        .into_response();
    };
    let (id, lose) = match hub.accept(&from, message_type, &body) {
        Ok(queued) => queued,
        Err(r) => return r.into_response(),
    };
    if lose {
        // Handled, then the answer is lost on the way back.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    ok(json!({"docId": id}))
}

async fn received(
    State(hub): State<LocalHub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let agency = match hub.admit(&method, &uri, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let wanted = headers
        .get("messagetype")
        .and_then(|v| v.to_str().ok())
        .and_then(MessageType::parse);
    let held = hub.lock();
    let list: Vec<Waiting> = held
        .queues
        .get(&agency)
        .map(|q| {
            q.iter()
                // Marked `done` or `fail`, a delivery is listed no more (the hub keeps it).
                .filter(|i| i.status == "initial")
                .filter(|i| wanted.is_none_or(|w| w == i.message_type))
                .map(|i| Waiting {
                    id: i.id.clone(),
                    from: i.from.clone(),
                    message_type: i.message_type,
                    created: i.created.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    ok(json!({"data": list}))
}

/// What the calling agency sent (`getSentEdocList`), of one message type or all.
async fn taken(
    State(hub): State<LocalHub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let agency = match hub.admit(&method, &uri, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let wanted = MessageType::parse(&header(&headers, "messagetype"));
    ok(json!({"data": hub.sent_by(&agency, wanted, ("", ""))}))
}

async fn get_edoc(
    State(hub): State<LocalHub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let agency = match hub.admit(&method, &uri, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let id = header(&headers, "docid");
    match hub.packet_for(&agency, &id) {
        Ok(bytes) => (
            [(axum::http::header::CONTENT_TYPE, "application/xml")],
            bytes,
        )
            .into_response(),
        Err(r) => r.into_response(),
    }
}

async fn update_status(
    State(hub): State<LocalHub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let agency = match hub.admit(&method, &uri, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let (id, status) = (header(&headers, "docid"), header(&headers, "status"));
    match hub.mark(&agency, &id, &status) {
        Ok(()) => ok(json!({})),
        Err(r) => r.into_response(),
    }
}

async fn agencies(
    State(hub): State<LocalHub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = hub.admit(&method, &uri, &headers).await {
        return r;
    }
    let list: Vec<Connected> = hub.lock().agencies.values().cloned().collect();
    ok(json!({"data": list}))
}

async fn state(State(hub): State<LocalHub>) -> Response {
    axum::Json(hub.state()).into_response()
}

async fn set_mode(State(hub): State<LocalHub>, axum::Json(mode): axum::Json<HubMode>) -> Response {
    hub.set_mode(mode);
    ok(json!({}))
}
