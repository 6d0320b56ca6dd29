//! A small HTTP/1 client with a cookie jar, enough to drive the app like a browser or a script.

use std::collections::BTreeMap;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::http::{HeaderMap, Method, Request, StatusCode};
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub struct Client {
    base: String,
    http: Hyper<HttpConnector, Full<Bytes>>,
    pub cookies: BTreeMap<String, String>,
    pub bearer: Option<String>,
    pub lang: Option<&'static str>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The body as it came (files).
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The value of the first hidden `csrf` field on the page.
    pub fn csrf(&self) -> String {
        let i = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF field");
        let rest = &self.body[i + 19..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// A part of a multipart body: a text field, or a file (name, content type, bytes).
pub enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a str, &'a [u8]),
}

/// A `multipart/form-data` body and its content type.
pub fn multipart(parts: &[Part]) -> (String, Vec<u8>) {
    let boundary = "egovtestboundary7d1f";
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match p {
            Part::Text(k, v) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                        .as_bytes(),
                );
            }
            Part::File(k, name, ct, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                egov_web::ctx::percent_encode(k),
                egov_web::ctx::percent_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    pub fn new(base: &str) -> Self {
        Client {
            base: base.to_owned(),
            http: Hyper::builder(TokioExecutor::new()).build_http(),
            cookies: BTreeMap::new(),
            bearer: None,
            lang: None,
        }
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Resp {
        self.try_send(method, path, content_type, body, extra)
            .await
            .expect("request")
    }

    /// Like `send`, but a transport error (the server may close the connection on a request it
    /// refuses before reading it all) is returned, not a panic.
    pub async fn try_send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Result<Resp, hyper_util::client::legacy::Error> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path));
        if !self.cookies.is_empty() {
            let c = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header("cookie", c);
        }
        if let Some(t) = &self.bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(l) = self.lang {
            req = req.header("accept-language", l);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let resp = self
            .http
            .request(req.body(Full::new(Bytes::from(body))).unwrap())
            .await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        for sc in headers.get_all("set-cookie") {
            let s = sc.to_str().unwrap();
            let (kv, attrs) = s.split_once(';').unwrap_or((s, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Ok(Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            bytes: body.to_vec(),
        })
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None, vec![], &[]).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.send(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            form(fields).into_bytes(),
            &[],
        )
        .await
    }

    pub async fn post_multipart(&mut self, path: &str, parts: &[Part<'_>]) -> Resp {
        let (ct, body) = multipart(parts);
        self.send(Method::POST, path, Some(&ct), body, &[]).await
    }

    pub async fn json(&mut self, method: Method, path: &str, body: serde_json::Value) -> Resp {
        self.send(
            method,
            path,
            Some("application/json"),
            body.to_string().into_bytes(),
            &[],
        )
        .await
    }

    /// Signs in through the form (and the TOTP page when the account has one).
    pub async fn sign_in(&mut self, user: &str, password: &str, totp_secret: Option<&str>) -> Resp {
        let page = self.get("/sign-in").await;
        let csrf = page.csrf();
        let r = self
            .post_form(
                "/sign-in",
                &[("csrf", &csrf), ("username", user), ("password", password)],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "sign-in of {user}: {}",
            r.body
        );
        if let Some(secret) = totp_secret {
            assert_eq!(r.location(), "/sign-in/totp");
            let page = self.get("/sign-in/totp").await;
            let code = egov_app::auth::totp_code(secret, egov_store::now()).unwrap();
            let r = self
                .post_form("/sign-in/totp", &[("csrf", &page.csrf()), ("code", &code)])
                .await;
            assert_eq!(r.location(), "/office", "{}", r.body);
            return r;
        }
        r
    }
}
