//! A provincial LGSP (the province's integration platform) as a transport: REST calls as one
//! province's platform publishes them (`vn-standards.md` §1.10) — the packet sent as a
//! multipart upload, the received list synchronised by a date range, one packet fetched, its
//! transport status reported — authenticated by a system id and secret in two headers plus a
//! bearer token, answering JSON with a numeric error code.
//!
//! Every LGSP differs. What may differ — the paths, the two header names, the date format of
//! the range, how far back a synchronisation reaches — is configuration ([`LgspConfig`]); the
//! answer's shape (`errorCode`, `message`, `data`, with their capitalised spellings accepted)
//! and the multipart field names are assumptions, said so in `docs/exchange.md`.

use bytes::Bytes;
use http_body_util::Full;
use serde::{Deserialize, Serialize};

use super::transport::{
    Connected, Http, MessageType, Taken, Transport, TransportError, Waiting, http, round_trip,
};

/// The paths of an LGSP's calls.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LgspPaths {
    pub send: String,
    pub received: String,
    pub get: String,
    pub status: String,
    pub sent: String,
    pub agencies: String,
}

impl Default for LgspPaths {
    fn default() -> Self {
        LgspPaths {
            send: "/v1/sendEdoc".into(),
            received: "/v1/syncReceivedEdocList".into(),
            get: "/v1/getEdoc".into(),
            status: "/v1/updateStatus".into(),
            sent: "/v1/getSentEdocList".into(),
            agencies: "/v1/getAgenciesList".into(),
        }
    }
}

/// Where an LGSP is and how to call it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LgspConfig {
    /// The platform's base address.
    pub url: String,
    pub system_id: String,
    pub secret: String,
    /// The bearer token the platform issued to this system.
    pub token: String,
    /// The header carrying the system id.
    pub system_header: String,
    /// The header carrying the secret.
    pub secret_header: String,
    pub paths: LgspPaths,
    /// How the date range's ends are written (`time`'s format description; the platform's
    /// `YYYY/MM/DD` by default).
    pub date_format: String,
    /// How many days back each synchronisation asks for (a packet missed once is asked for
    /// again until then; duplicates are recognised by their `DocumentId`).
    pub sync_days: u32,
    pub timeout_seconds: u64,
}

impl Default for LgspConfig {
    fn default() -> Self {
        LgspConfig {
            url: String::new(),
            system_id: String::new(),
            secret: String::new(),
            token: String::new(),
            system_header: "X-SystemId".into(),
            secret_header: "X-SecretKey".into(),
            paths: LgspPaths::default(),
            date_format: "[year]/[month]/[day]".into(),
            sync_days: 7,
            timeout_seconds: 30,
        }
    }
}

/// An LGSP's JSON answer.
#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default, alias = "ErrorCode", alias = "error_code")]
    #[serde(rename = "errorCode")]
    error_code: Option<serde_json::Value>,
    #[serde(default, alias = "Message", alias = "ErrorDesc", alias = "errorDesc")]
    message: String,
    #[serde(default, alias = "Data")]
    data: serde_json::Value,
}

/// A received item as an LGSP lists it: a delivery, with the transport status it has.
#[derive(Debug, Deserialize)]
struct Listed {
    #[serde(flatten)]
    waiting: Waiting,
    #[serde(default)]
    status: String,
}

/// An LGSP over HTTP, named as its route (`exchange.lgsp.<name>`).
pub struct LgspClient {
    name: String,
    config: LgspConfig,
    client: Http,
}

/// A query string's value, percent-encoded (everything but the unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

const BOUNDARY: &str = "egov-edxml-7f3a9c1d";

/// A `multipart/form-data` body: text fields, then the packet as the file `file`.
fn multipart(fields: &[(&str, &str)], packet: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(packet.len() + 512);
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"packet.edxml\"\r\nContent-Type: application/xml\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(packet);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl LgspClient {
    pub fn new(name: &str, config: LgspConfig) -> Self {
        LgspClient {
            name: name.to_string(),
            config,
            client: http(),
        }
    }

    /// The range a synchronisation asks for: `sync_days` back to today, in the configured
    /// format.
    fn range(&self) -> Result<(String, String), TransportError> {
        let format = time::format_description::parse_borrowed::<1>(&self.config.date_format)
            .map_err(|e| {
                TransportError::NotSent(format!(
                    "exchange.lgsp.{}.date_format is not a date format: {e}",
                    self.name
                ))
            })?;
        let today = time::OffsetDateTime::now_utc()
            .to_offset(egov_domain::VN_OFFSET)
            .date();
        let from = today - time::Duration::days(i64::from(self.config.sync_days));
        let text = |d: time::Date| {
            d.format(&format)
                .map_err(|e| TransportError::NotSent(format!("a date cannot be written: {e}")))
        };
        Ok((text(from)?, text(today)?))
    }

    async fn call(
        &self,
        method: &str,
        path_and_query: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<(u16, Bytes), TransportError> {
        let url = format!("{}{path_and_query}", self.config.url.trim_end_matches('/'));
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(url.as_str())
            .header(self.config.system_header.as_str(), &self.config.system_id)
            .header(self.config.secret_header.as_str(), &self.config.secret)
            .header("authorization", format!("Bearer {}", self.config.token));
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| TransportError::NotSent(format!("bad address {url}: {e}")))?;
        round_trip(&self.client, req, self.config.timeout_seconds).await
    }

    /// A JSON answer: error code 0, or a refusal named `lgsp_<code>` (`unauthorized` when the
    /// platform refuses this system).
    fn answer(status: u16, body: &[u8]) -> Result<serde_json::Value, TransportError> {
        if status == 401 || status == 403 {
            return Err(TransportError::Refused {
                code: "unauthorized".into(),
                message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
            });
        }
        let a: Answer = serde_json::from_slice(body).map_err(|_| {
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
        let code = match &a.error_code {
            None | Some(serde_json::Value::Null) => "0".to_string(),
            Some(serde_json::Value::String(s)) => s.trim().to_string(),
            Some(v) => v.to_string(),
        };
        if code == "0" && (200..300).contains(&status) {
            Ok(a.data)
        } else if status >= 500 {
            Err(TransportError::NoAnswer(format!(
                "HTTP {status}: {}",
                a.message
            )))
        } else {
            Err(TransportError::Refused {
                code: format!("lgsp_{code}"),
                message: a.message,
            })
        }
    }

    /// A list of agency `from`'s packets of one message type over the synchronised range of
    /// days, read.
    async fn synchronise<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        from: &str,
        message_type: MessageType,
    ) -> Result<Vec<T>, TransportError> {
        let (from_date, to_date) = self.range()?;
        let path = format!(
            "{path}?{}",
            query(&[
                ("from", from),
                ("messagetype", message_type.as_str()),
                ("fromDate", &from_date),
                ("toDate", &to_date),
            ])
        );
        let (status, body) = self.call("GET", &path, None, Bytes::new()).await?;
        Self::list(Self::answer(status, &body)?)
    }

    fn list<T: serde::de::DeserializeOwned>(data: serde_json::Value) -> Result<T, TransportError> {
        serde_json::from_value(data)
            .map_err(|e| TransportError::NoAnswer(format!("the list cannot be read: {e}")))
    }
}

impl Transport for LgspClient {
    fn route(&self) -> &str {
        &self.name
    }

    async fn send(
        &self,
        from: &str,
        message_type: MessageType,
        packet: Bytes,
    ) -> Result<String, TransportError> {
        let body = multipart(
            &[("from", from), ("messagetype", message_type.as_str())],
            &packet,
        );
        let (status, body) = self
            .call(
                "POST",
                &self.config.paths.send,
                Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
                Bytes::from(body),
            )
            .await?;
        let data = Self::answer(status, &body)?;
        let id = data
            .get("docId")
            .or_else(|| data.get("DocId"))
            .or_else(|| data.get("id"))
            .and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        id.ok_or_else(|| TransportError::NoAnswer("the answer names no docId".into()))
    }

    async fn received(
        &self,
        agency: &str,
        message_type: MessageType,
    ) -> Result<Vec<Waiting>, TransportError> {
        let listed: Vec<Listed> = self
            .synchronise(&self.config.paths.received, agency, message_type)
            .await?;
        // A synchronisation lists the range whatever became of each; only what was not yet
        // marked is taken.
        Ok(listed
            .into_iter()
            .filter(|l| !matches!(l.status.as_str(), "done" | "fail"))
            .map(|l| l.waiting)
            .collect())
    }

    async fn get(&self, agency: &str, id: &str) -> Result<Bytes, TransportError> {
        let path = format!(
            "{}?{}",
            self.config.paths.get,
            query(&[("docId", id), ("from", agency)])
        );
        let (status, body) = self.call("GET", &path, None, Bytes::new()).await?;
        if (200..300).contains(&status) && !body.starts_with(b"{") {
            return Ok(body);
        }
        Err(Self::answer(status, &body)
            .err()
            .unwrap_or_else(|| TransportError::NoAnswer(format!("HTTP {status}: not a packet"))))
    }

    async fn update_status(
        &self,
        agency: &str,
        id: &str,
        done: bool,
    ) -> Result<(), TransportError> {
        let body = serde_json::json!({
            "docId": id, "from": agency, "status": if done { "done" } else { "fail" },
        });
        let (status, body) = self
            .call(
                "POST",
                &self.config.paths.status,
                Some("application/json"),
                Bytes::from(body.to_string()),
            )
            .await?;
        Self::answer(status, &body).map(|_| ())
    }

    async fn agencies(&self) -> Result<Vec<Connected>, TransportError> {
        let (status, body) = self
            .call("GET", &self.config.paths.agencies, None, Bytes::new())
            .await?;
        Self::list(Self::answer(status, &body)?)
    }

    async fn taken(
        &self,
        from: &str,
        message_type: MessageType,
    ) -> Result<Vec<Taken>, TransportError> {
        self.synchronise(&self.config.paths.sent, from, message_type)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            query(&[("from", "000.00.00.G09"), ("fromDate", "2026/12/01")]),
            "from=000.00.00.G09&fromDate=2026%2F12%2F01"
        );
        assert_eq!(encode("Bộ"), "B%E1%BB%99");
    }

    #[test]
    fn answers_are_read_with_either_spelling_and_numeric_codes() {
        let ok = LgspClient::answer(200, br#"{"ErrorCode":0,"Data":{"docId":"7"}}"#).unwrap();
        assert_eq!(ok["docId"], "7");
        let refused =
            LgspClient::answer(200, br#"{"errorCode":2,"message":"khong co"}"#).unwrap_err();
        assert_eq!(
            refused,
            TransportError::Refused {
                code: "lgsp_2".into(),
                message: "khong co".into()
            }
        );
        assert!(matches!(
            LgspClient::answer(401, b"no"),
            Err(TransportError::Refused { code, .. }) if code == "unauthorized"
        ));
        assert!(matches!(
            LgspClient::answer(502, b"<html>bad gateway</html>"),
            Err(TransportError::NoAnswer(_))
        ));
    }

    #[test]
    fn the_range_follows_the_configured_format() {
        let c = LgspClient::new(
            "tinh",
            LgspConfig {
                date_format: "[day]/[month]/[year]".into(),
                sync_days: 3,
                ..LgspConfig::default()
            },
        );
        let (from, to) = c.range().unwrap();
        assert_eq!(from.len(), 10);
        assert_eq!(&from[2..3], "/");
        assert_ne!(from, to);
        let bad = LgspClient::new(
            "tinh",
            LgspConfig {
                date_format: "[nonsense".into(),
                ..LgspConfig::default()
            },
        );
        assert!(matches!(bad.range(), Err(TransportError::NotSent(_))));
    }
}
