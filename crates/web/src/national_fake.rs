//! A local stand-in for the National Public Service Portal (`egov national-portal fake`), with
//! the shapes of `crates/app/tests/fixtures/national/`: it signs clients in, validates what it
//! receives as the portal would (required fields, codes, date formats, an appointment not
//! before receipt, progress only for a dossier it holds, no change after a final status),
//! stores it, answers look-ups, and can be told to be down, slow, refuse a field, or store a
//! call and then never answer (the lost-answer path). `GET /` shows what it holds; `GET
//! /_state` gives it as JSON; `POST /_mode` sets its behaviour.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use egov_domain::national::{DateStyle, Envelope};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How the stand-in behaves; every field may be set alone through `POST /_mode`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Mode {
    /// Answer every service call with a gateway's 503 page.
    pub down: bool,
    /// Wait this long before handling a call.
    pub delay_ms: u64,
    /// Refuse any record or entry that carries this field (with `reject_value`, only when it
    /// has that value).
    pub reject_field: Option<String>,
    pub reject_value: Option<String>,
    /// Store the next this-many calls and then never answer them.
    pub store_then_hang: u32,
    /// Forget every session: the next call is refused with 401.
    pub expire_sessions: bool,
    /// Offer submissions for agencies the caller did not ask for (as a careless portal might).
    pub offer_all: bool,
    /// Never answer a request for a file.
    pub files_hang: bool,
}

#[derive(Debug, Default, Serialize)]
struct Held {
    /// Records by dossier code, as last accepted.
    dossiers: BTreeMap<String, Value>,
    /// Progress entries by dossier code, in the order accepted.
    progress: BTreeMap<String, Vec<Value>>,
    /// The result files fetched through the links of the records, by dossier code: (link,
    /// SHA-256 of what it served).
    results: BTreeMap<String, Vec<(String, String)>>,
    /// What was refused, newest last: (service, code, message).
    rejected: Vec<(String, String, String)>,
    calls: u64,
    creates: u64,
    updates: u64,
    /// Citizens' ratings and feedback, in order (pulled by index, like submissions).
    ratings: Vec<Value>,
    feedback: Vec<Value>,
    /// The national procedure catalogue served (`LayThuTuc` entries by code).
    #[serde(skip)]
    catalogue: BTreeMap<String, Value>,
    /// Submissions citizens made here, in order (the pull's cursor is an index into them).
    submissions: Vec<Value>,
    /// Submitted files by id (shared, not copied, when served).
    #[serde(skip)]
    files: BTreeMap<String, axum::body::Bytes>,
    #[serde(skip)]
    sessions: HashSet<String>,
    #[serde(skip)]
    mode: Mode,
}

/// The stand-in's state, shared by its handlers.
#[derive(Clone, Default)]
pub struct FakePortal {
    held: Arc<Mutex<Held>>,
    /// Accepted usernames and passwords; empty: anyone.
    accounts: Arc<Vec<(String, String)>>,
    /// Where its pages read the time of a submission (the system's unless told).
    clock: Option<Arc<dyn egov_app::clock::Clock>>,
}

impl FakePortal {
    pub fn new(accounts: Vec<(String, String)>) -> Self {
        FakePortal {
            held: Arc::default(),
            accounts: Arc::new(accounts),
            clock: None,
        }
    }

    /// The same stand-in, stamping what its pages submit with `clock`'s time (a test's).
    pub fn with_clock(mut self, clock: Arc<dyn egov_app::clock::Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    fn now(&self) -> time::OffsetDateTime {
        self.clock
            .as_ref()
            .map_or_else(time::OffsetDateTime::now_utc, |c| c.now())
    }

    pub fn set_mode(&self, mode: Mode) {
        self.lock().mode = mode;
    }

    /// A citizen's submission (in the shape of `layhosomoi-answer.json`'s items) or supplement
    /// (`layhosomoi-answer-supplement.json`) with its files by id: offered to the next pull; a
    /// submission is also held as the portal's own dossier (status 1) so that the province's
    /// updates of it are accepted.
    pub fn submit(&self, item: Value, files: Vec<(String, Vec<u8>)>) {
        let mut h = self.lock();
        // A supplement (`MaBoSung`) is to a dossier the portal already holds.
        if let Some(code) = item["MaHoSo"]
            .as_str()
            .filter(|_| item.get("MaBoSung").is_none())
        {
            h.dossiers.insert(
                code.to_owned(),
                json!({
                    "MaHoSo": code,
                    "MaTTHC": item["MaTTHC"],
                    "KenhThucHien": "2",
                    "TrangThaiHoSo": "1",
                    "NgayNopHoSo": item["NgayNop"],
                }),
            );
        }
        h.files.extend(
            files
                .into_iter()
                .map(|(id, b)| (id, axum::body::Bytes::from(b))),
        );
        h.submissions.push(item);
    }

    /// A citizen's rating of a dossier (`laydanhgia-answer.json`'s items).
    pub fn rate(&self, item: Value) {
        self.lock().ratings.push(item);
    }

    /// A citizen's feedback (`layphananh-answer.json`'s items).
    pub fn send_feedback(&self, item: Value) {
        self.lock().feedback.push(item);
    }

    /// Puts a procedure (a `LayThuTuc` entry, `laythutuc-answer.json`'s shape) in the
    /// national catalogue it serves.
    pub fn publish_procedure(&self, entry: Value) {
        let code = entry["MATTHC"].as_str().unwrap_or_default().to_owned();
        self.lock().catalogue.insert(code, entry);
    }

    /// Forgets a dossier and its progress (the portal lost them).
    pub fn forget(&self, code: &str) {
        let mut h = self.lock();
        h.dossiers.remove(code);
        h.progress.remove(code);
    }

    /// Changes a field of a dossier it holds (the portal's copy went stale).
    pub fn alter(&self, code: &str, field: &str, value: &str) {
        if let Some(d) = self.lock().dossiers.get_mut(code) {
            d[field] = Value::String(value.to_owned());
        }
    }

    /// What the stand-in holds, as `GET /_state` shows it.
    pub fn state(&self) -> Value {
        serde_json::to_value(&*self.lock()).unwrap_or(Value::Null)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Serves the stand-in on `listener` until `shutdown` completes.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(page))
            .route("/login", post(login))
            .route("/token", post(token))
            .route("/service", post(service))
            .route("/files/{id}", get(file))
            .route("/submit", get(submit_form).post(submit_page))
            .route(
                "/supplement/{code}",
                get(supplement_form).post(supplement_page),
            )
            .route("/_mode", post(set_mode))
            .route("/_state", get(state))
            .with_state(self.clone())
    }
}

fn ok(extra: Value) -> Value {
    let mut v = json!({"error_code": "00", "message": "Thành công"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

fn refused(message: &str, field: Option<&str>) -> Value {
    json!({"error_code": "-1", "message": message, "field": field})
}

fn new_token() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).ok();
    hex::encode(b)
}

async fn login(State(f): State<FakePortal>, Json(body): Json<Value>) -> Json<Value> {
    let user = body["username"].as_str().unwrap_or_default();
    let pass = body["password"].as_str().unwrap_or_default();
    if user.is_empty()
        || (!f.accounts.is_empty() && !f.accounts.iter().any(|(u, p)| u == user && p == pass))
    {
        return Json(json!({"error_code": 1, "message": "Sai tên đăng nhập hoặc mật khẩu"}));
    }
    let t = new_token();
    f.lock().sessions.insert(t.clone());
    Json(json!({"error_code": 0, "message": "Thành công", "session": t}))
}

async fn token(State(f): State<FakePortal>, Json(body): Json<Value>) -> Response {
    if body["client_id"].as_str().unwrap_or_default().is_empty() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let t = new_token();
    f.lock().sessions.insert(t.clone());
    Json(json!({"access_token": t, "token_type": "Bearer", "expires_in": 3600})).into_response()
}

async fn set_mode(State(f): State<FakePortal>, Json(mode): Json<Mode>) -> Json<Value> {
    let mut h = f.lock();
    if mode.expire_sessions {
        h.sessions.clear();
    }
    h.mode = Mode {
        expire_sessions: false,
        ..mode
    };
    Json(json!({"ok": true}))
}

async fn state(State(f): State<FakePortal>) -> Json<Value> {
    Json(f.state())
}

async fn service(State(f): State<FakePortal>, headers: HeaderMap, body: String) -> Response {
    let mode = f.lock().mode.clone();
    if mode.delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(mode.delay_ms)).await;
    }
    if mode.down {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Html("<html><body>503 Service Unavailable</body></html>"),
        )
            .into_response();
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !f.lock().sessions.contains(token) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error_code": 401, "message": "Phiên đã hết hạn"})),
        )
            .into_response();
    }
    let envelope: Envelope = match serde_json::from_str(&body) {
        Ok(e) => e,
        Err(e) => return Json(refused(&format!("Sai cấu trúc: {e}"), None)).into_response(),
    };
    // A record's result files are fetched through their links, as the portal does to put them
    // in the citizen's data store; a link that serves nothing is refused.
    let mut fetched = Vec::new();
    if envelope.service == "DongBoHoSoMC" {
        for item in &envelope.data {
            let code = item["MaHoSo"].as_str().unwrap_or_default().to_owned();
            let links = item["DanhSachGiayToKetQua"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for l in links {
                let url = l["DuongDanTepTinKetQua"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                match fetch(&url).await {
                    Ok(sha) => fetched.push((code.clone(), url, sha)),
                    Err(e) => {
                        let msg = format!("Không tải được tệp kết quả {url}: {e}");
                        let mut h = f.lock();
                        h.calls += 1;
                        h.rejected
                            .push((envelope.service.clone(), "-1".into(), msg.clone()));
                        return Json(refused(&msg, Some("DuongDanTepTinKetQua"))).into_response();
                    }
                }
            }
        }
    }
    let answer = {
        let mut h = f.lock();
        h.calls += 1;
        let answer = handle(&mut h, &envelope);
        if answer["error_code"] == "00" {
            for (code, url, sha) in fetched {
                let files = h.results.entry(code).or_default();
                if !files.iter().any(|(u, s)| *u == url && *s == sha) {
                    files.push((url, sha));
                }
            }
        }
        answer
    };
    let hang = {
        let mut h = f.lock();
        if h.mode.store_then_hang > 0 {
            h.mode.store_then_hang -= 1;
            true
        } else {
            false
        }
    };
    if hang {
        // Stored; the answer is lost.
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
    Json(answer).into_response()
}

/// Fetches a result link and returns the SHA-256 of what it served.
async fn fetch(url: &str) -> Result<String, String> {
    use http_body_util::BodyExt;
    use sha2::Digest;
    if !url.starts_with("http://") {
        return Err("not an http:// link".into());
    }
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{e}"))?;
    let call = async {
        let resp = client.get(uri).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if !status.is_success() || body.is_empty() {
            return Err(format!("HTTP {status}"));
        }
        Ok(hex::encode(sha2::Sha256::digest(&body)))
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), call)
        .await
        .map_err(|_| "no answer".to_string())?
}

fn handle(h: &mut Held, e: &Envelope) -> Value {
    let Some(item) = e.data.first() else {
        return refused("Không có dữ liệu", None);
    };
    if let Some(f) = h.mode.reject_field.clone()
        && item.get(&f).is_some_and(|v| {
            h.mode
                .reject_value
                .as_deref()
                .is_none_or(|want| v.as_str() == Some(want))
        })
        && e.service != "TraCuuHoSo"
    {
        let msg = format!("Trường {f} không hợp lệ");
        h.rejected
            .push((e.service.clone(), "-1".into(), msg.clone()));
        return refused(&msg, Some(&f));
    }
    let answer = match e.service.as_str() {
        "DongBoHoSoMC" => record(h, item, e.is_updating),
        "CapNhatTienDoHoSoMC" => progress(h, item),
        "TraCuuHoSo" => return look_up(h, item),
        "LayDanhSachHoSoMoi" => return submissions(h, item),
        "LayDanhGiaHoSo" => return after_cursor(&h.ratings, item),
        "LayPhanAnhKienNghi" => return after_cursor(&h.feedback, item),
        "LayDanhSachTTHC" => {
            let list: Vec<Value> = h
                .catalogue
                .iter()
                .map(|(code, p)| json!({"MATTHC": code, "TENTTHC": p["TENTTHC"]}))
                .collect();
            return ok(json!({ "result": list }));
        }
        "LayThuTuc" => {
            let code = item["MaTTHC"].as_str().unwrap_or_default();
            return match h.catalogue.get(code) {
                Some(p) => ok(json!({ "result": [p] })),
                None => refused(&format!("Không có thủ tục {code}"), Some("MaTTHC")),
            };
        }
        other => Err((format!("Dịch vụ {other} không tồn tại"), None)),
    };
    match answer {
        Ok(()) => ok(json!({})),
        Err((msg, field)) => {
            h.rejected
                .push((e.service.clone(), "-1".into(), msg.clone()));
            refused(&msg, field)
        }
    }
}

type Refusal = (String, Option<&'static str>);

fn text<'a>(item: &'a Value, field: &'static str) -> Result<&'a str, Refusal> {
    item.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| (format!("Thiếu trường {field}"), Some(field)))
}

fn required<'a>(item: &'a Value, field: &'static str) -> Result<&'a str, Refusal> {
    let v = text(item, field)?;
    if v.trim().is_empty() {
        return Err((format!("Trường {field} không được để trống"), Some(field)));
    }
    Ok(v)
}

fn one_of(item: &Value, field: &'static str, allowed: &[&str]) -> Result<(), Refusal> {
    let v = required(item, field)?;
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err((format!("Giá trị {v} của {field} không hợp lệ"), Some(field)))
    }
}

/// A date in `yyyyMMddHHmmss` (or empty when `optional`).
fn date(item: &Value, field: &'static str, optional: bool) -> Result<Option<String>, Refusal> {
    let v = text(item, field)?;
    if v.is_empty() && optional {
        return Ok(None);
    }
    match DateStyle::Compact.parse(v) {
        Some(_) => Ok(Some(v.to_owned())),
        None => Err((
            format!("Ngày {v} của {field} sai định dạng yyyyMMddHHmmss"),
            Some(field),
        )),
    }
}

const STATUSES: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
const FINAL: [&str; 4] = ["3", "7", "8", "10"];

fn record(h: &mut Held, item: &Value, updating: bool) -> Result<(), Refusal> {
    let code = required(item, "MaHoSo")?.to_owned();
    let procedure = required(item, "MaTTHC")?;
    let b = procedure.as_bytes();
    if !(b.len() == 8
        && b[1] == b'.'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 1 || c.is_ascii_digit()))
    {
        return Err((
            format!("Mã thủ tục {procedure} không tồn tại"),
            Some("MaTTHC"),
        ));
    }
    required(item, "TenTTHC")?;
    required(item, "ChuHoSo")?;
    one_of(item, "LoaiDoiTuong", &["1", "2"])?;
    one_of(item, "KenhThucHien", &["1", "2", "3"])?;
    one_of(item, "TrangThaiHoSo", &STATUSES)?;
    let status = text(item, "TrangThaiHoSo")?.to_owned();
    date(item, "NgayNopHoSo", false)?;
    // Not yet received: submitted, refused, or asked for a supplement before acceptance.
    let unreceived = ["1", "3", "5"].contains(&status.as_str());
    let received = date(item, "NgayTiepNhan", unreceived)?;
    let appointment = date(item, "NgayHenTra", unreceived)?;
    date(item, "NgayTra", true)?;
    date(item, "NgayKetThucXuLy", true)?;
    if let (Some(r), Some(a)) = (&received, &appointment)
        && a < r
    {
        return Err((
            "Ngày hẹn trả trước ngày tiếp nhận".into(),
            Some("NgayHenTra"),
        ));
    }
    match (h.dossiers.get(&code), updating) {
        (Some(_), false) => return Err((format!("Hồ sơ {code} đã tồn tại"), Some("MaHoSo"))),
        (None, true) => return Err((format!("Hồ sơ {code} không tồn tại"), Some("MaHoSo"))),
        (Some(old), true) => {
            let was = old["TrangThaiHoSo"].as_str().unwrap_or_default();
            if FINAL.contains(&was) && was != status {
                return Err((
                    format!("Hồ sơ đã kết thúc (trạng thái {was}), không chuyển sang {status}"),
                    Some("TrangThaiHoSo"),
                ));
            }
            h.updates += 1;
        }
        (None, false) => h.creates += 1,
    }
    h.dossiers.insert(code, item.clone());
    Ok(())
}

fn progress(h: &mut Held, item: &Value) -> Result<(), Refusal> {
    let code = required(item, "MaHoSo")?.to_owned();
    if !h.dossiers.contains_key(&code) {
        return Err((format!("Hồ sơ {code} chưa được đồng bộ"), Some("MaHoSo")));
    }
    required(item, "NoiDungXuLy")?;
    date(item, "ThoiDiemXuLy", false)?;
    date(item, "NgayBatDau", true)?;
    date(item, "NgayKetThucTheoQuyDinh", true)?;
    one_of(item, "TrangThai", &STATUSES)?;
    h.progress.entry(code).or_default().push(item.clone());
    Ok(())
}

fn look_up(h: &Held, item: &Value) -> Value {
    let code = item["MaHoSo"].as_str().unwrap_or_default();
    match h.dossiers.get(code) {
        Some(d) => {
            let mut found = d.clone();
            found["TienDo"] = Value::Array(h.progress.get(code).cloned().unwrap_or_default());
            ok(json!({ "result": [found] }))
        }
        None => json!({"error_code": "-1", "message": format!("Không tìm thấy hồ sơ {code}")}),
    }
}

/// New submissions after the cursor (an index), at most `SoLuong`.
fn submissions(h: &Held, item: &Value) -> Value {
    let from: usize = item["ViTri"].as_str().unwrap_or("").parse().unwrap_or(0);
    let size: usize = item["SoLuong"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let agencies: Vec<&str> = item["DanhSachMaDonVi"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let to = (from + size).min(h.submissions.len());
    let page: Vec<Value> = h.submissions[from.min(to)..to]
        .iter()
        .filter(|s| {
            agencies.is_empty()
                || h.mode.offer_all
                || s["MaDonViTiepNhan"]
                    .as_str()
                    .is_some_and(|a| agencies.contains(&a))
        })
        .cloned()
        .collect();
    ok(json!({ "result": page, "ViTriTiepTheo": to.to_string() }))
}

/// The items of `list` after the cursor (an index), at most `SoLuong`.
fn after_cursor(list: &[Value], item: &Value) -> Value {
    let from: usize = item["ViTri"].as_str().unwrap_or("").parse().unwrap_or(0);
    let size: usize = item["SoLuong"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let to = (from + size).min(list.len());
    let page = list[from.min(to)..to].to_vec();
    ok(json!({ "result": page, "ViTriTiepTheo": to.to_string() }))
}

/// A submitted file, to a signed-in caller.
async fn file(
    State(f): State<FakePortal>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let (known, hang, file) = {
        let h = f.lock();
        (
            h.sessions.contains(token),
            h.mode.files_hang,
            h.files.get(&id).cloned(),
        )
    };
    if !known {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if hang {
        std::future::pending::<()>().await;
    }
    match file {
        Some(bytes) => bytes.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn page(State(f): State<FakePortal>) -> Html<String> {
    let h = f.lock();
    let mut rows = String::new();
    for (code, d) in &h.dossiers {
        let answer = match open_request(d) {
            Some(_) => format!("<a href=\"/supplement/{}\">Bổ sung hồ sơ</a>", esc(code)),
            None => String::new(),
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{answer}</td></tr>",
            esc(code),
            esc(d["TenTTHC"].as_str().unwrap_or_default()),
            esc(d["TrangThaiHoSo"].as_str().unwrap_or_default()),
            esc(d["NgayHenTra"].as_str().unwrap_or_default()),
            h.progress.get(code).map_or(0, Vec::len)
        ));
    }
    let mut refusals = String::new();
    for (service, code, msg) in h.rejected.iter().rev().take(50) {
        refusals.push_str(&format!(
            "<li>{} {}: {}</li>",
            esc(service),
            esc(code),
            esc(msg)
        ));
    }
    Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Cổng DVCQG (giả lập)</title></head>\
         <body><h1>Cổng Dịch vụ công quốc gia — giả lập</h1>\
         <p>{} lời gọi; {} hồ sơ tạo mới, {} cập nhật.</p>\
         <table><thead><tr><th>Mã hồ sơ</th><th>Thủ tục</th><th>Trạng thái</th><th>Hẹn trả</th><th>Tiến độ</th><th>Yêu cầu bổ sung</th></tr></thead>\
         <tbody>{rows}</tbody></table><p><a href=\"/submit\">Nộp hồ sơ trực tuyến (như công dân)</a> — \
         {} hồ sơ đã nộp.</p><h2>Bị từ chối</h2><ul>{refusals}</ul></body></html>",
        h.calls,
        h.creates,
        h.updates,
        h.submissions.len()
    ))
}

const SUBMIT_FORM: &str = "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Nộp hồ sơ trực tuyến (giả lập)</title></head><body><main><h1>Nộp hồ sơ trực tuyến</h1>\
<p>Như công dân nộp trên Cổng Dịch vụ công quốc gia: hệ thống của tỉnh sẽ lấy hồ sơ về.</p>\
<form method=\"post\" enctype=\"multipart/form-data\">\
<p><label for=\"agency\">Mã định danh cơ quan tiếp nhận</label><br><input id=\"agency\" name=\"agency\" required value=\"000.02.90.H56\"></p>\
<p><label for=\"procedure\">Mã thủ tục</label><br><input id=\"procedure\" name=\"procedure\" required value=\"9.000004\"></p>\
<p><label for=\"subject\">Trích yếu</label><br><input id=\"subject\" name=\"subject\" value=\"Xác nhận tình trạng hôn nhân\"></p>\
<p><label for=\"name\">Họ và tên</label><br><input id=\"name\" name=\"name\" required></p>\
<p><label for=\"id\">Số định danh cá nhân</label><br><input id=\"id\" name=\"id\" required inputmode=\"numeric\"></p>\
<p><label for=\"phone\">Số điện thoại</label><br><input id=\"phone\" name=\"phone\" inputmode=\"tel\"></p>\
<p><label for=\"c1\">Mã thành phần 1</label><br><input id=\"c1\" name=\"c1\" value=\"TP1\"> <label for=\"f1\">Tệp</label> <input id=\"f1\" name=\"f1\" type=\"file\"></p>\
<p><label for=\"c2\">Mã thành phần 2</label><br><input id=\"c2\" name=\"c2\" value=\"GTTT\"> <label for=\"f2\">Tệp</label> <input id=\"f2\" name=\"f2\" type=\"file\"></p>\
<p><label><input type=\"checkbox\" name=\"vneid\" value=\"1\" checked> Tài khoản xác thực bằng VNeID</label></p>\
<p><label><input type=\"checkbox\" name=\"paid\" value=\"1\"> Đã thanh toán phí, lệ phí trực tuyến</label></p>\
<p><button type=\"submit\">Nộp hồ sơ</button></p></form></main></body></html>";

async fn submit_form() -> Html<&'static str> {
    Html(SUBMIT_FORM)
}

/// A tester's submission from the page: made into the shape of `layhosomoi-answer.json`'s
/// items, with a new national code, and offered to the next pull.
/// A tester's form: its text fields and its files (field name → file name, bytes).
struct Filled {
    fields: BTreeMap<String, String>,
    uploads: BTreeMap<String, (String, Vec<u8>)>,
}

impl Filled {
    async fn read(mut form: axum::extract::Multipart) -> Result<Filled, Response> {
        let mut filled = Filled {
            fields: BTreeMap::new(),
            uploads: BTreeMap::new(),
        };
        while let Ok(Some(field)) = form.next_field().await {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let Ok(bytes) = field.bytes().await else {
                return Err((StatusCode::BAD_REQUEST, "Tệp tải lên bị lỗi").into_response());
            };
            match file_name {
                Some(n) if !bytes.is_empty() => {
                    filled.uploads.insert(name, (n, bytes.to_vec()));
                }
                Some(_) => {}
                None => {
                    filled
                        .fields
                        .insert(name, String::from_utf8_lossy(&bytes).trim().to_owned());
                }
            }
        }
        Ok(filled)
    }

    fn get(&self, k: &str) -> String {
        self.fields.get(k).cloned().unwrap_or_default()
    }

    /// The components named by the `(code field, file field)` pairs, in the shape of
    /// `ThanhPhanHoSo[]`, and their files by the ids given them (`TT-{tag}-{file field}`).
    fn components(
        &mut self,
        tag: &str,
        pairs: &[(&str, &str)],
    ) -> (Vec<Value>, Vec<(String, Vec<u8>)>) {
        use sha2::Digest;
        let mut files = Vec::new();
        let mut components = Vec::new();
        for (c, file) in pairs {
            let mut attached = Vec::new();
            if let Some((name, bytes)) = self.uploads.remove(*file) {
                let id = format!("TT-{tag}-{file}");
                attached.push(json!({
                    "IdGiayTo": id,
                    "TenGiayTo": name,
                    "HashTepTin": hex::encode(sha2::Sha256::digest(&bytes)),
                }));
                files.push((id, bytes));
            }
            let code = self.get(c);
            if !code.is_empty() {
                components.push(
                    json!({"MaThanhPhanHoSo": code, "SoLuong": "1", "GiayToDinhKem": attached}),
                );
            }
        }
        (components, files)
    }
}

async fn submit_page(State(f): State<FakePortal>, form: axum::extract::Multipart) -> Response {
    let mut filled = match Filled::read(form).await {
        Ok(filled) => filled,
        Err(refused) => return refused,
    };
    let now = f.now();
    let n = f.lock().submissions.len() + 1;
    let code = format!(
        "G22.99-{}-{n:07}",
        DateStyle::Compact.format(now).get(..8).unwrap_or("")
    );
    let (components, files) = filled.components(&format!("{n:07}"), &[("c1", "f1"), ("c2", "f2")]);
    let v = |k: &str| filled.get(k);
    let flag = |k: &str| if v(k) == "1" { "1" } else { "0" };
    let item = json!({
        "MaHoSo": code,
        "MaTTHC": v("procedure"),
        "MaDonViTiepNhan": v("agency"),
        "NgayNop": DateStyle::Compact.format(now),
        "TrichYeu": v("subject"),
        "TaiKhoanDuocXacThucVoiVNeID": flag("vneid"),
        "DuocThanhToanTrucTuyen": flag("paid"),
        "ThongTinNguoiNop": {
            "LoaiDoiTuong": "1",
            "HoVaTen": v("name"),
            "SoDinhDanh": v("id"),
            "SoDienThoai": v("phone"),
        },
        "ThanhPhanHoSo": components,
    });
    f.submit(item, files);
    Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Đã nộp</title></head>\
         <body><main><h1>Đã nộp hồ sơ</h1><p>Mã hồ sơ: <strong>{code}</strong></p>\
         <p><a href=\"/\">Xem Cổng</a> · <a href=\"/submit\">Nộp hồ sơ khác</a></p></main></body></html>"
    ))
    .into_response()
}

/// The supplement a dossier's record asks for and has not had yet (`DanhSachHoSoBoSung[]` with
/// `TrangThaiBoSung` 0), as the province last reported it.
fn open_request(record: &Value) -> Option<&Value> {
    record["DanhSachHoSoBoSung"]
        .as_array()?
        .iter()
        .rev()
        .find(|s| s["TrangThaiBoSung"] == "0")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn not_asked(code: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(format!(
            "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Không có yêu cầu bổ sung</title></head>\
             <body><main><h1>Không có yêu cầu bổ sung</h1><p>Hồ sơ {} không được yêu cầu bổ sung.</p>\
             <p><a href=\"/\">Xem Cổng</a></p></main></body></html>",
            esc(code)
        )),
    )
        .into_response()
}

/// The page where the applicant answers the province's request for a supplement.
async fn supplement_form(
    State(f): State<FakePortal>,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Response {
    let h = f.lock();
    let Some(request) = h.dossiers.get(&code).and_then(open_request) else {
        return not_asked(&code);
    };
    Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Bổ sung hồ sơ {code}</title></head><body><main><h1>Bổ sung hồ sơ {code}</h1>\
         <p>Cơ quan yêu cầu bổ sung ({by}, {day}):</p><blockquote>{what}</blockquote>\
         <form method=\"post\" enctype=\"multipart/form-data\">\
         <p><label for=\"c1\">Mã thành phần</label><br><input id=\"c1\" name=\"c1\" required value=\"GTTT\"> \
         <label for=\"f1\">Tệp</label> <input id=\"f1\" name=\"f1\" type=\"file\" required></p>\
         <p><label for=\"c2\">Mã thành phần khác (nếu có)</label><br><input id=\"c2\" name=\"c2\"> \
         <label for=\"f2\">Tệp</label> <input id=\"f2\" name=\"f2\" type=\"file\"></p>\
         <p><button type=\"submit\">Gửi bổ sung</button></p></form></main></body></html>",
        code = esc(&code),
        by = esc(request["NguoiYeuCauBoSung"].as_str().unwrap_or_default()),
        day = esc(request["NgayBoSung"].as_str().unwrap_or_default()),
        what = esc(request["NoiDungBoSung"].as_str().unwrap_or_default()),
    ))
    .into_response()
}

/// The applicant's supplement from the page: made into the shape of
/// `layhosomoi-answer-supplement.json`'s items and offered to the next pull.
async fn supplement_page(
    State(f): State<FakePortal>,
    axum::extract::Path(code): axum::extract::Path<String>,
    form: axum::extract::Multipart,
) -> Response {
    let mut filled = match Filled::read(form).await {
        Ok(filled) => filled,
        Err(refused) => return refused,
    };
    let (agency, n) = {
        let h = f.lock();
        if h.dossiers.get(&code).and_then(open_request).is_none() {
            return not_asked(&code);
        }
        let agency = h
            .submissions
            .iter()
            .find(|s| s["MaHoSo"] == code.as_str() && s.get("MaBoSung").is_none())
            .map(|s| s["MaDonViTiepNhan"].clone())
            .unwrap_or(Value::Null);
        (agency, h.submissions.len() + 1)
    };
    let (components, files) =
        filled.components(&format!("BS{n:07}"), &[("c1", "f1"), ("c2", "f2")]);
    if files.is_empty() {
        return (StatusCode::BAD_REQUEST, "Chưa chọn tệp bổ sung").into_response();
    }
    let now = f.now();
    let supplement = format!("BS-{n:07}");
    f.submit(
        json!({
            "MaHoSo": code,
            "MaBoSung": supplement,
            "MaDonViTiepNhan": agency,
            "NgayNop": DateStyle::Compact.format(now),
            "ThanhPhanHoSo": components,
        }),
        files,
    );
    Html(format!(
        "<!doctype html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Đã gửi bổ sung</title></head>\
         <body><main><h1>Đã gửi bổ sung</h1><p>Hồ sơ <strong>{}</strong>, mã bổ sung {supplement}.</p>\
         <p><a href=\"/\">Xem Cổng</a></p></main></body></html>",
        esc(&code)
    ))
    .into_response()
}
