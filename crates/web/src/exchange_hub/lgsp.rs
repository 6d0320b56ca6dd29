//! The local hub's second dialect: a provincial LGSP's REST calls (`/v1/sendEdoc` as a
//! multipart upload, `/v1/syncReceivedEdocList` by a date range, `/v1/getEdoc`,
//! `/v1/updateStatus`, `/v1/getSentEdocList`, `/v1/getAgenciesList`), a system id and secret
//! in `X-SystemId` / `X-SecretKey` and a bearer token, answers with a numeric `errorCode`.
//! It shares the hub's queues, so a deployment reaching an agency through its LGSP and another
//! reaching it through the hub meet, as they do when a real LGSP forwards to the hub.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use egov_app::exchange::lgsp::LgspPaths;
use egov_app::exchange::transport::MessageType;
use serde::Deserialize;
use serde_json::json;

use super::{LocalHub, Refusal, constant_time_eq, header, in_range};

/// The LGSP's numeric code for one of the hub's refusals.
fn numeric(code: &str) -> u32 {
    match code {
        "bad_packet" | "bad_messagetype" | "messagetype_mismatch" | "bad_status" => 1,
        "unknown_recipient" => 2,
        "unknown_sender" | "from_mismatch" => 3,
        "unknown_doc" => 4,
        _ => 9,
    }
}

fn answer(data: serde_json::Value) -> Response {
    axum::Json(json!({"errorCode": 0, "message": "OK", "data": data})).into_response()
}

fn refused(r: Refusal) -> Response {
    let Refusal(status, code, message) = r;
    if status == StatusCode::UNAUTHORIZED {
        return (
            status,
            axum::Json(json!({"errorCode": 401, "message": message})),
        )
            .into_response();
    }
    // Business refusals come back as 200 with their code, as such platforms answer.
    axum::Json(json!({"errorCode": numeric(code), "message": format!("{code}: {message}")}))
        .into_response()
}

impl LocalHub {
    /// The LGSP dialect's routes (merged into [`LocalHub::router`]).
    pub(super) fn lgsp_routes(&self, paths: &LgspPaths) -> Router<LocalHub> {
        Router::new()
            .route(&paths.send, post(send))
            .route(&paths.received, get(received))
            .route(&paths.get, get(get_edoc))
            .route(&paths.status, post(update_status))
            .route(&paths.sent, get(taken))
            .route(&paths.agencies, get(agencies))
    }

    /// The platform's authentication: the system's id and secret, and its bearer token.
    async fn admit_lgsp(&self, h: &HeaderMap) -> Result<(), Response> {
        if let Some(r) = self.misbehave().await {
            return Err(r);
        }
        if self.secrets.is_empty() {
            return Ok(());
        }
        let (system, secret) = (header(h, "x-systemid"), header(h, "x-secretkey"));
        let token = header(h, "authorization");
        let token = token.strip_prefix("Bearer ").unwrap_or_default();
        let known = self
            .secrets
            .get(&system)
            .is_some_and(|s| constant_time_eq(s.as_bytes(), secret.as_bytes()));
        let token_ok = match self.lock().tokens.get(&system) {
            Some(t) => constant_time_eq(t.as_bytes(), token.as_bytes()),
            None => !token.is_empty(),
        };
        if known && token_ok {
            self.lock().lgsp_calls += 1;
            Ok(())
        } else {
            Err(refused(Refusal(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                format!("The system {system:?} is not known, or its secret or token is wrong."),
            )))
        }
    }
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    messagetype: String,
    #[serde(default, rename = "fromDate")]
    from_date: String,
    #[serde(default, rename = "toDate")]
    to_date: String,
}

async fn send(State(hub): State<LocalHub>, headers: HeaderMap, mut form: Multipart) -> Response {
    if let Err(r) = hub.admit_lgsp(&headers).await {
        return r;
    }
    let (mut from, mut message_type, mut file) = (String::new(), String::new(), None::<Bytes>);
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let Ok(bytes) = field.bytes().await else {
                    return refused(Refusal(
                        StatusCode::BAD_REQUEST,
                        "bad_packet",
                        "The upload was cut off.".into(),
                    ));
                };
                match name.as_str() {
                    "from" => from = String::from_utf8_lossy(&bytes).into_owned(),
                    "messagetype" => message_type = String::from_utf8_lossy(&bytes).into_owned(),
                    "file" => file = Some(bytes),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => {
                return refused(Refusal(
                    StatusCode::BAD_REQUEST,
                    "bad_packet",
                    format!("The upload cannot be read: {e}"),
                ));
            }
        }
    }
    let (Some(message_type), Some(file)) = (MessageType::parse(&message_type), file) else {
        return refused(Refusal(
            StatusCode::BAD_REQUEST,
            "bad_messagetype",
            "An upload needs messagetype (edoc or status) and the packet as file.".into(),
        ));
    };
    match hub.accept(&from, message_type, &file) {
        Ok((id, lose)) => {
            if lose {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
            answer(json!({"docId": id}))
        }
        Err(r) => refused(r),
    }
}

async fn received(
    State(hub): State<LocalHub>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Err(r) = hub.admit_lgsp(&headers).await {
        return r;
    }
    let wanted = MessageType::parse(&q.messagetype);
    let held = hub.lock();
    let list: Vec<serde_json::Value> = held
        .queues
        .get(&q.from)
        .map(|items| {
            items
                .iter()
                .filter(|i| wanted.is_none_or(|w| w == i.message_type))
                .filter(|i| in_range(&i.created, &q.from_date, &q.to_date))
                .map(|i| {
                    json!({"id": i.id, "from": i.from, "messagetype": i.message_type,
                           "created": i.created, "status": i.status})
                })
                .collect()
        })
        .unwrap_or_default();
    answer(json!(list))
}

#[derive(Deserialize)]
struct GetQuery {
    #[serde(default, rename = "docId")]
    doc_id: String,
    #[serde(default)]
    from: String,
}

async fn get_edoc(
    State(hub): State<LocalHub>,
    headers: HeaderMap,
    Query(q): Query<GetQuery>,
) -> Response {
    if let Err(r) = hub.admit_lgsp(&headers).await {
        return r;
    }
    match hub.packet_for(&q.from, &q.doc_id) {
        Ok(bytes) => (
            [(axum::http::header::CONTENT_TYPE, "application/xml")],
            bytes,
        )
            .into_response(),
        Err(r) => refused(r),
    }
}

#[derive(Deserialize)]
struct StatusBody {
    #[serde(default, rename = "docId")]
    doc_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    status: String,
}

async fn update_status(
    State(hub): State<LocalHub>,
    headers: HeaderMap,
    axum::Json(b): axum::Json<StatusBody>,
) -> Response {
    if let Err(r) = hub.admit_lgsp(&headers).await {
        return r;
    }
    match hub.mark(&b.from, &b.doc_id, &b.status) {
        Ok(()) => answer(json!({})),
        Err(r) => refused(r),
    }
}

async fn taken(
    State(hub): State<LocalHub>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    if let Err(r) = hub.admit_lgsp(&headers).await {
        return r;
    }
    let wanted = MessageType::parse(&q.messagetype);
    answer(json!(hub.sent_by(
        &q.from,
        wanted,
        (&q.from_date, &q.to_date)
    )))
}

async fn agencies(State(hub): State<LocalHub>, headers: HeaderMap) -> Response {
    if let Err(r) = hub.admit_lgsp(&headers).await {
        return r;
    }
    let held = hub.lock();
    let list: Vec<_> = held
        .agencies
        .values()
        .filter(|a| held.lgsp_lists.is_empty() || held.lgsp_lists.contains(&a.code))
        .cloned()
        .collect();
    answer(json!(list))
}
