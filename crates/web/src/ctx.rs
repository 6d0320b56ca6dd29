//! The request context: language, session, CSRF token, request id. One middleware builds it,
//! checks CSRF on every unsafe request, logs the request, and renders errors.

use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use egov_app::auth::{SignedIn, random_token};
use egov_app::{Actor, AppError, ErrorKind};

use crate::error::{ErrorPayload, WebError, from_status};
use crate::i18n::Lang;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "egov_session";
pub const PRE_CSRF_COOKIE: &str = "egov_csrf";
pub const LANG_COOKIE: &str = "egov_lang";
pub const FLASH_COOKIE: &str = "egov_flash";

/// A one-time message shown on the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

#[derive(Clone)]
pub struct Ctx {
    pub lang: Lang,
    /// The session, whether or not its second factor is done.
    pub signed_in: Option<SignedIn>,
    pub token: Option<String>,
    pub via_bearer: bool,
    /// The CSRF token forms must carry.
    pub csrf: String,
    pub request_id: String,
    pub ip: String,
    pub path: String,
    pub query: String,
    pub flash: Option<Flash>,
    pub secure_cookies: bool,
}

impl Ctx {
    /// The signed-in official (second factor done), or `not_signed_in`.
    pub fn official(&self) -> Result<&SignedIn, AppError> {
        match &self.signed_in {
            Some(s) if s.session.mfa_passed => Ok(s),
            _ => Err(AppError::new(
                ErrorKind::Unauthenticated,
                egov_app::Code::NotSignedIn,
                "Please sign in first.",
            )),
        }
    }

    pub fn actor(&self) -> Result<Actor, AppError> {
        Ok(self
            .official()?
            .actor()
            .with_request(Some(self.ip.clone()), Some(self.request_id.clone())))
    }

    pub fn is_api(&self) -> bool {
        self.path.starts_with("/api/")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| WebError(AppError::internal("the request context is missing")))
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value. Session and CSRF cookies are HttpOnly; all are SameSite=Lax.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<i64>,
    http_only: bool,
    secure: bool,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; SameSite=Lax");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// A text field of a multipart form that comes before its files (the CSRF token): only the
/// beginning of the body is parsed.
pub(crate) async fn multipart_field(
    headers: &HeaderMap,
    body: &axum::body::Bytes,
    name: &str,
) -> Option<String> {
    use axum::extract::FromRequest;
    let head = body.slice(..body.len().min(64 * 1024));
    let mut req = Request::new(Body::from(head));
    req.headers_mut().insert(
        header::CONTENT_TYPE,
        headers.get(header::CONTENT_TYPE)?.clone(),
    );
    let mut form = axum::extract::Multipart::from_request(req, &())
        .await
        .ok()?;
    while let Ok(Some(field)) = form.next_field().await {
        if field.file_name().is_some() {
            return None;
        }
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_decode(v))
}

pub fn percent_decode(s: &str) -> String {
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    let s = s.replace('+', " ");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn accept_language(headers: &HeaderMap) -> Option<Lang> {
    let v = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    v.split(',')
        .filter_map(|p| Lang::parse(p.split(';').next()?.split('-').next()?))
        .next()
}

pub(crate) fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Builds the context, enforces CSRF, logs, and renders errors.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    let method = parts.method.clone();
    let built = context(&state, &parts).await;
    let ctx = built.ctx;
    parts.extensions.insert(ctx.clone());

    let (body, refused) = check_csrf(&state, &ctx, &parts, body).await;
    let mut guard = None;
    let refused = match built.failed {
        Some(e) => Some((crate::error::status_of(e.kind), e)),
        None => refused,
    };
    let mut response = match refused {
        Some((status, e)) => {
            let mut r = status.into_response();
            r.extensions_mut().insert(ErrorPayload(e));
            r
        }
        None => match crate::idempotency::begin(&state, &ctx, &parts, body).await {
            crate::idempotency::Begin::Answer(r) => r,
            crate::idempotency::Begin::Handle(body, g) => {
                guard = g;
                crate::idempotency::handle(
                    guard.as_ref(),
                    next.run(Request::from_parts(parts, body)),
                )
                .await
            }
        },
    };
    render_errors(&ctx, &mut response).await;
    if let Some(g) = guard {
        response = crate::idempotency::finish(&state, g, response).await;
    }
    finish_headers(
        &ctx,
        &mut response,
        built.new_pre_csrf,
        built.lang_from_query,
    );
    record(&ctx, &method, response.status(), started.elapsed());
    response
}

/// What the middleware learns from a request before the handler runs.
struct Built {
    ctx: Ctx,
    /// A new CSRF token for a visitor without a session (set as a cookie on the way out).
    new_pre_csrf: Option<String>,
    /// The language asked for in the address (remembered in a cookie on the way out).
    lang_from_query: Option<Lang>,
    /// Why the request cannot be served at all (its session could not be looked up).
    failed: Option<AppError>,
}

/// The client's address: the peer's, or — when the peer is a trusted proxy (a load balancer,
/// `server.trusted_proxies`) — the last address in `X-Forwarded-For` that is not a trusted
/// proxy itself. A client cannot forge its way past this: addresses it writes into the header
/// sit before the ones the trusted proxies appended.
pub fn client_address(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[String],
) -> std::net::IpAddr {
    let is_trusted = |a: &std::net::IpAddr| trusted.iter().any(|t| t.trim() == a.to_string());
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !is_trusted(a))
        .unwrap_or(peer)
}

/// The request's context: request id, client address, language, session and CSRF token,
/// and the one-time message.
async fn context(state: &AppState, parts: &axum::http::request::Parts) -> Built {
    let query = parts.uri.query().unwrap_or("").to_owned();
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .map(str::to_owned)
        .unwrap_or_else(|| random_token(12));
    let peer = parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let ip = client_address(
        peer,
        &parts.headers,
        &state.app.settings.server.trusted_proxies,
    )
    .to_string();
    let lang_from_query = query_param(&query, "lang").and_then(|l| Lang::parse(&l));
    let lang = lang_from_query
        .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse))
        .or_else(|| accept_language(&parts.headers))
        .unwrap_or_default();

    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let via_bearer = bearer.is_some();
    let token = bearer.or_else(|| cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned));
    // A session that cannot be looked up (the database restarting) is not "signed out": the
    // request fails with the database's error rather than send the person to sign in again.
    let mut failed = None;
    // Probes and static files have nothing to do with sessions (and must answer while the
    // database does not).
    let path = parts.uri.path();
    let sessionless =
        matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/static/");
    let signed_in = match &token {
        Some(_) if sessionless => None,
        Some(t) => state.app.session(t).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "session lookup failed");
            failed = Some(e);
            None
        }),
        None => None,
    };
    let mut new_pre_csrf = None;
    let csrf = match &signed_in {
        Some(s) => s.session.csrf_token.clone(),
        None => cookie(&parts.headers, PRE_CSRF_COOKIE)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let t = random_token(24);
                new_pre_csrf = Some(t.clone());
                t
            }),
    };
    let flash = cookie(&parts.headers, FLASH_COOKIE).and_then(|v| {
        let v = percent_decode(v);
        let (kind, text) = v.split_once(':')?;
        Some(Flash {
            ok: kind == "ok",
            text: text.to_owned(),
        })
    });
    Built {
        ctx: Ctx {
            lang,
            signed_in,
            token,
            via_bearer,
            csrf,
            request_id,
            ip,
            path: parts.uri.path().to_owned(),
            query,
            flash,
            secure_cookies: state.app.settings.server.cookies_secure(),
        },
        new_pre_csrf,
        lang_from_query,
        failed,
    }
}

/// CSRF: every unsafe request made with cookies carries the token, in a form field `csrf`
/// (the first field of a form with files) or the `x-csrf-token` header, never the address.
/// Bearer-token API calls are exempt: a browser never adds that header by itself. Gives the
/// body back (read whole when the token was in it) and the refusal, if any.
async fn check_csrf(
    state: &AppState,
    ctx: &Ctx,
    parts: &axum::http::request::Parts,
    body: Body,
) -> (Body, Option<(StatusCode, AppError)>) {
    // The API without a session cookie has no ambient authority to protect (it takes JSON,
    // which a foreign page cannot send without a CORS preflight we never grant).
    let has_cookie_session = cookie(&parts.headers, SESSION_COOKIE).is_some();
    if !is_unsafe(&parts.method)
        || ctx.via_bearer
        || (ctx.path.starts_with("/api/") && !has_cookie_session)
    {
        return (body, None);
    }
    let mut body = body;
    let mut presented = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    // A form with files carries the token as its first field, never in its address (an
    // address with the token would show in the bar, in history and in logs).
    let is_multipart = content_type.starts_with("multipart/form-data");
    if presented.is_none() && (is_form || is_multipart) {
        let settings = &state.app.settings.server;
        let limit = if is_multipart {
            settings.max_upload_bytes.max(settings.max_body_bytes)
        } else {
            settings.max_body_bytes
        };
        match to_bytes(body, limit).await {
            Ok(bytes) => {
                presented = if is_multipart {
                    multipart_field(&parts.headers, &bytes, "csrf").await
                } else {
                    query_param(&String::from_utf8_lossy(&bytes), "csrf")
                };
                body = Body::from(bytes);
            }
            Err(_) => {
                let e = from_status(StatusCode::PAYLOAD_TOO_LARGE, "");
                return (Body::empty(), Some((StatusCode::PAYLOAD_TOO_LARGE, e)));
            }
        }
    }
    if presented
        .as_deref()
        .is_some_and(|p| constant_time_eq(p, &ctx.csrf))
    {
        return (body, None);
    }
    let e = AppError::new(
        ErrorKind::Forbidden,
        egov_app::Code::CsrfFailed,
        "The form has expired or did not come from this site. Go back, reload the page and try again.",
    );
    (body, Some((StatusCode::FORBIDDEN, e)))
}

/// Renders errors as a page or JSON in the request's language: ours (with a payload) and bare
/// ones from extractors or the router.
async fn render_errors(ctx: &Ctx, response: &mut Response) {
    let status = response.status();
    let payload = response.extensions_mut().remove::<ErrorPayload>();
    if payload.is_none() && !(status.is_client_error() || status.is_server_error()) {
        return;
    }
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if payload.is_none() && !plain {
        return;
    }
    let e = match payload {
        Some(p) => p.0,
        None => {
            let detail = to_bytes(std::mem::take(response.body_mut()), 4096)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            from_status(status, &detail)
        }
    };
    if e.kind == ErrorKind::Internal {
        tracing::error!(request_id = %ctx.request_id, code = e.code.as_str(), message = %e.message, "request failed");
    }
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    *response = crate::pages::render_error(ctx, status, &e);
    if let Some(v) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

/// The request id, the cookies the request asked for (a new CSRF token, the language, the
/// one-time message cleared once shown) and the security headers.
fn finish_headers(
    ctx: &Ctx,
    response: &mut Response,
    new_pre_csrf: Option<String>,
    lang_from_query: Option<Lang>,
) {
    let secure = ctx.secure_cookies;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
        headers.insert("x-request-id", v);
    }
    if let Some(t) = new_pre_csrf {
        headers.append(
            header::SET_COOKIE,
            set_cookie(PRE_CSRF_COOKIE, &t, None, true, secure),
        );
    }
    if let Some(l) = lang_from_query {
        headers.append(
            header::SET_COOKIE,
            set_cookie(LANG_COOKIE, l.code(), Some(31_536_000), false, secure),
        );
    }
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if ctx.flash.is_some()
        && is_html
        && !headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| c.as_bytes().starts_with(FLASH_COOKIE.as_bytes()))
    {
        headers.append(
            header::SET_COOKIE,
            set_cookie(FLASH_COOKIE, "", Some(0), true, secure),
        );
    }
    if !ctx.is_api() {
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        headers.insert(
            "content-security-policy",
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"),
        );
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
}

/// The request's metrics (by a bounded area label) and its log line.
fn record(ctx: &Ctx, method: &Method, status: StatusCode, elapsed: std::time::Duration) {
    const AREAS: [&str; 12] = [
        "api", "admin", "agencies", "units", "office", "sign-in", "sign-out", "account", "healthz",
        "readyz", "metrics", "static",
    ];
    let first = ctx.path.split('/').nth(1).unwrap_or("");
    let area: &'static str = if first.is_empty() {
        "home"
    } else {
        AREAS
            .iter()
            .find(|a| **a == first)
            .copied()
            .unwrap_or("other")
    };
    metrics::counter!("egov_http_requests_total", "method" => method.to_string(), "area" => area, "status" => status.as_u16().to_string()).increment(1);
    metrics::histogram!("egov_http_request_seconds", "area" => area).record(elapsed.as_secs_f64());
    tracing::info!(
        request_id = %ctx.request_id,
        method = %method,
        path = %ctx.path,
        status = status.as_u16(),
        ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
}

/// A redirect that also sets a one-time message.
pub fn redirect_with_flash(ctx: &Ctx, to: &str, ok: bool, text: &str) -> Response {
    let mut r = axum::response::Redirect::to(to).into_response();
    let v = percent_encode(&format!("{}:{text}", if ok { "ok" } else { "err" }));
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(FLASH_COOKIE, &v, Some(120), true, ctx.secure_cookies),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_round_trip() {
        let s = "err:Mật khẩu sai; thử lại=1";
        assert_eq!(percent_decode(&percent_encode(s)), s);
        assert_eq!(percent_decode("a+b%2Fc%zz"), "a b/c%zz");
    }

    #[test]
    fn cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; egov_lang=en; b=2"),
        );
        assert_eq!(cookie(&h, LANG_COOKIE), Some("en"));
        assert_eq!(cookie(&h, "c"), None);
        let c = set_cookie(SESSION_COOKIE, "x", None, true, true);
        assert_eq!(
            c.to_str().unwrap(),
            "egov_session=x; Path=/; SameSite=Lax; HttpOnly; Secure"
        );
    }
}

#[cfg(test)]
mod client_address_tests {
    use super::client_address;
    use axum::http::HeaderMap;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_forwarded_address_counts_only_from_a_trusted_proxy() {
        let lb = "10.0.0.5".parse().unwrap();
        let trusted = vec!["10.0.0.5".to_owned()];
        // From the balancer: the client it saw, not what the client wrote before it.
        assert_eq!(
            client_address(lb, &headers(&["1.2.3.4, 203.0.113.9"]), &trusted).to_string(),
            "203.0.113.9"
        );
        assert_eq!(
            client_address(lb, &headers(&["1.2.3.4", "203.0.113.9"]), &trusted).to_string(),
            "203.0.113.9"
        );
        // From anyone else, or with nothing usable: the peer.
        let stranger = "198.51.100.7".parse().unwrap();
        assert_eq!(
            client_address(stranger, &headers(&["1.2.3.4"]), &trusted).to_string(),
            "198.51.100.7"
        );
        assert_eq!(
            client_address(lb, &headers(&["not an address"]), &trusted).to_string(),
            "10.0.0.5"
        );
        assert_eq!(
            client_address(lb, &headers(&["1.2.3.4"]), &[]).to_string(),
            "10.0.0.5"
        );
    }
}
