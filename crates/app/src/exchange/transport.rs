//! How packets travel: one trait for every transport — the national document exchange hub
//! (shaped like its public SDK's calls: send, list received, get, update transport status,
//! the directory of connected agencies), and later the provinces' LGSPs — so that sending and
//! polling do not care which one reaches a recipient.
//!
//! The hub's calls carry small parameters as HTTP headers (`from`, `servicetype`,
//! `messagetype`, `docid`, `status`) and an HMAC-SHA256 signature over a canonical string. The
//! exact string the real hub signs is not public: it is a template in configuration
//! ([`HubConfig::canonical`]), `{systemid}`, `{timestamp}`, `{method}`, `{path}`, `{from}`,
//! `{messagetype}`, `{docid}` and `{status}` filled in.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};

/// What a packet is to the transport: a document or a status report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Edoc,
    Status,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Edoc => "edoc",
            MessageType::Status => "status",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "edoc" => Some(MessageType::Edoc),
            "status" => Some(MessageType::Status),
            _ => None,
        }
    }
}

/// A packet waiting for an agency, as the transport lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// The transport's own id for this delivery (not the packet's `DocumentId`).
    pub id: String,
    /// The sender's identifier, as the transport knows it.
    pub from: String,
    #[serde(rename = "messagetype")]
    pub message_type: MessageType,
    /// When the transport took it, as it says it.
    pub created: String,
}

/// A packet the transport took from one of our agencies, as it lists them: how a sender
/// whose answer was lost finds out whether the packet went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taken {
    /// The transport's id for the delivery.
    pub id: String,
    /// The recipients' identifiers.
    pub to: Vec<String>,
    #[serde(rename = "messagetype")]
    pub message_type: MessageType,
    /// The packet's `DocumentId` (a status packet: the `DocumentId` it answers for).
    #[serde(rename = "documentId")]
    pub document_id: String,
    /// The business action (`new`, `revocation`…) or the status code (`01`…).
    pub action: String,
    pub created: String,
}

/// An agency the transport can reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connected {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub parent: Option<String>,
}

/// Why a call did not go through, and so what may be done next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Nothing reached the transport: safe to send again.
    #[error("not sent: {0}")]
    NotSent(String),
    /// The call may have been handled but no answer came: look before sending again.
    #[error("no answer: {0}")]
    NoAnswer(String),
    /// The transport answered and refused, with its code.
    #[error("refused ({code}): {message}")]
    Refused { code: String, message: String },
}

impl TransportError {
    /// A stable code for the message log.
    pub fn code(&self) -> &str {
        match self {
            TransportError::NotSent(_) => "not_sent",
            TransportError::NoAnswer(_) => "no_answer",
            TransportError::Refused { code, .. } => code,
        }
    }
}

/// One way packets travel between agencies.
pub trait Transport: Send + Sync {
    /// The route's name in the message log and the directory: `hub`, or an LGSP's name.
    fn route(&self) -> &str {
        "hub"
    }

    /// Sends a packet on behalf of `from`; answers the transport's id for it.
    fn send(
        &self,
        from: &str,
        message_type: MessageType,
        packet: Bytes,
    ) -> impl Future<Output = Result<String, TransportError>> + Send;

    /// The packets waiting for `agency` that it has not yet marked done.
    fn received(
        &self,
        agency: &str,
        message_type: MessageType,
    ) -> impl Future<Output = Result<Vec<Waiting>, TransportError>> + Send;

    /// One waiting packet's bytes.
    fn get(
        &self,
        agency: &str,
        id: &str,
    ) -> impl Future<Output = Result<Bytes, TransportError>> + Send;

    /// Tells the transport that `agency` took the packet (`done`) or could not (`fail`).
    fn update_status(
        &self,
        agency: &str,
        id: &str,
        done: bool,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// The agencies the transport reaches.
    fn agencies(&self) -> impl Future<Output = Result<Vec<Connected>, TransportError>> + Send;

    /// The packets of `message_type` the transport took from `from` (recent ones, as the
    /// transport keeps them): looked up before sending again after a lost answer.
    fn taken(
        &self,
        from: &str,
        message_type: MessageType,
    ) -> impl Future<Output = Result<Vec<Taken>, TransportError>> + Send;
}

/// Where the hub is and how to sign calls to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    /// The hub's base address, e.g. `http://127.0.0.1:8090`.
    pub url: String,
    /// This deployment's system id at the hub.
    pub system_id: String,
    /// The secret the hub gave this system (signs every call).
    pub secret: String,
    /// The signed string's template (see the module's documentation).
    pub canonical: String,
    pub timeout_seconds: u64,
}

/// The default signed string: the call's parameters one per line.
pub const DEFAULT_CANONICAL: &str =
    "{systemid}\n{timestamp}\n{method}\n{path}\n{from}\n{messagetype}\n{docid}\n{status}";

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            url: String::new(),
            system_id: String::new(),
            secret: String::new(),
            canonical: DEFAULT_CANONICAL.into(),
            timeout_seconds: 30,
        }
    }
}

/// The parameters of one call, as headers and as the signed string sees them.
#[derive(Debug, Clone, Default)]
pub struct CallParams<'a> {
    pub system_id: &'a str,
    pub timestamp: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub from: &'a str,
    pub message_type: &'a str,
    pub doc_id: &'a str,
    pub status: &'a str,
}

/// The string a call's signature covers, from the template.
pub fn canonical(template: &str, p: &CallParams<'_>) -> String {
    template
        .replace("{systemid}", p.system_id)
        .replace("{timestamp}", p.timestamp)
        .replace("{method}", p.method)
        .replace("{path}", p.path)
        .replace("{from}", p.from)
        .replace("{messagetype}", p.message_type)
        .replace("{docid}", p.doc_id)
        .replace("{status}", p.status)
}

/// A call's signature: HMAC-SHA256 of the canonical string under the system's secret, in hex.
pub fn sign(secret: &str, template: &str, p: &CallParams<'_>) -> String {
    use hmac::{KeyInit, Mac};
    let mut m = <hmac::Hmac<sha2_11::Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    m.update(canonical(template, p).as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// An HTTP client of a transport.
pub(crate) type Http = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

/// A new HTTP client of a transport.
pub(crate) fn http() -> Http {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

/// Sends `req` and reads the whole answer, each within `timeout_seconds`: the status and the
/// body. Not reaching the transport is `NotSent`; no (whole) answer is `NoAnswer`.
pub(crate) async fn round_trip(
    client: &Http,
    req: hyper::Request<Full<Bytes>>,
    timeout_seconds: u64,
) -> Result<(u16, Bytes), TransportError> {
    let timeout = Duration::from_secs(timeout_seconds.max(1));
    let resp = match tokio::time::timeout(timeout, client.request(req)).await {
        Err(_) => {
            return Err(TransportError::NoAnswer(format!(
                "no answer within {timeout:?}"
            )));
        }
        Ok(Err(e)) if e.is_connect() => return Err(TransportError::NotSent(e.to_string())),
        Ok(Err(e)) => return Err(TransportError::NoAnswer(e.to_string())),
        Ok(Ok(r)) => r,
    };
    let status = resp.status().as_u16();
    let body = tokio::time::timeout(timeout, resp.into_body().collect())
        .await
        .map_err(|_| TransportError::NoAnswer("the answer was cut off".into()))?
        .map_err(|e| TransportError::NoAnswer(e.to_string()))?
        .to_bytes();
    Ok((status, body))
}

/// The hub over HTTP.
pub struct HubClient {
    config: HubConfig,
    client: Http,
}

/// What a call is about: the parameters that travel as headers besides the signature's own.
#[derive(Clone, Copy, Default)]
struct On<'a> {
    from: &'a str,
    message_type: &'a str,
    doc_id: &'a str,
    status: &'a str,
}

/// The hub's answer to a call that is not a packet.
#[derive(Debug, Deserialize)]
struct HubAnswer {
    status: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default, rename = "docId")]
    doc_id: String,
    #[serde(default)]
    data: serde_json::Value,
}

impl HubClient {
    pub fn new(config: HubConfig) -> Self {
        HubClient {
            config,
            client: http(),
        }
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        on: On<'_>,
        body: Bytes,
    ) -> Result<(u16, Bytes), TransportError> {
        let On {
            from,
            message_type,
            doc_id,
            status,
        } = on;
        let url = format!("{}{path}", self.config.url.trim_end_matches('/'));
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp().to_string();
        let params = CallParams {
            system_id: &self.config.system_id,
            timestamp: &timestamp,
            method,
            path,
            from,
            message_type,
            doc_id,
            status,
        };
        let signature = sign(&self.config.secret, &self.config.canonical, &params);
        let req = hyper::Request::builder()
            .method(method)
            .uri(url.as_str())
            .header("systemid", &self.config.system_id)
            .header("timestamp", &timestamp)
            .header("signature", signature)
            .header("servicetype", "eDoc")
            .header("from", from)
            .header("messagetype", message_type)
            .header("docid", doc_id)
            .header("status", status)
            .body(Full::new(body))
            .map_err(|e| TransportError::NotSent(format!("bad address {url}: {e}")))?;
        round_trip(&self.client, req, self.config.timeout_seconds).await
    }

    /// A list call about agency `from`'s packets of one message type: its `data`, read.
    async fn list<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        from: &str,
        message_type: MessageType,
    ) -> Result<Vec<T>, TransportError> {
        let (status, body) = self
            .call(
                "GET",
                path,
                On {
                    from,
                    message_type: message_type.as_str(),
                    ..On::default()
                },
                Bytes::new(),
            )
            .await?;
        let a = Self::answer(status, &body)?;
        serde_json::from_value(a.data)
            .map_err(|e| TransportError::NoAnswer(format!("the list cannot be read: {e}")))
    }

    /// A JSON answer: OK, or the hub's refusal with its code.
    fn answer(status: u16, body: &[u8]) -> Result<HubAnswer, TransportError> {
        let a: HubAnswer = serde_json::from_slice(body).map_err(|_| {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            if status >= 500 {
                TransportError::NoAnswer(format!("HTTP {status}: {text}"))
            } else {
                TransportError::Refused {
                    code: format!("http_{status}"),
                    message: text,
                }
            }
        })?;
        if a.status == "OK" && (200..300).contains(&status) {
            Ok(a)
        } else {
            Err(TransportError::Refused {
                code: if a.code.is_empty() {
                    format!("http_{status}")
                } else {
                    a.code
                },
                message: a.message,
            })
        }
    }
}

impl Transport for HubClient {
    async fn send(
        &self,
        from: &str,
        message_type: MessageType,
        packet: Bytes,
    ) -> Result<String, TransportError> {
        let (status, body) = self
            .call(
                "POST",
                "/sendEdoc",
                On {
                    from,
                    message_type: message_type.as_str(),
                    ..On::default()
                },
                packet,
            )
            .await?;
        Ok(Self::answer(status, &body)?.doc_id)
    }

    async fn received(
        &self,
        agency: &str,
        message_type: MessageType,
    ) -> Result<Vec<Waiting>, TransportError> {
        self.list("/getReceivedEdocList", agency, message_type)
            .await
    }

    async fn get(&self, agency: &str, id: &str) -> Result<Bytes, TransportError> {
        let (status, body) = self
            .call(
                "GET",
                "/getEdoc",
                On {
                    from: agency,
                    doc_id: id,
                    ..On::default()
                },
                Bytes::new(),
            )
            .await?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        Err(Self::answer(status, &body)
            .err()
            .unwrap_or_else(|| TransportError::NoAnswer(format!("HTTP {status}"))))
    }

    async fn update_status(
        &self,
        agency: &str,
        id: &str,
        done: bool,
    ) -> Result<(), TransportError> {
        let status_text = if done { "done" } else { "fail" };
        let (status, body) = self
            .call(
                "POST",
                "/updateStatus",
                On {
                    from: agency,
                    doc_id: id,
                    status: status_text,
                    ..On::default()
                },
                Bytes::new(),
            )
            .await?;
        Self::answer(status, &body).map(|_| ())
    }

    async fn taken(
        &self,
        from: &str,
        message_type: MessageType,
    ) -> Result<Vec<Taken>, TransportError> {
        self.list("/getSentEdocList", from, message_type).await
    }

    async fn agencies(&self) -> Result<Vec<Connected>, TransportError> {
        let (status, body) = self
            .call("GET", "/getAgenciesList", On::default(), Bytes::new())
            .await?;
        let a = Self::answer(status, &body)?;
        serde_json::from_value(a.data)
            .map_err(|e| TransportError::NoAnswer(format!("the directory cannot be read: {e}")))
    }
}
