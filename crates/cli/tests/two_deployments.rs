//! Two egov deployments — two `egov serve` processes, one on SQLite and one on PostgreSQL, each
//! with its own data directory — exchange documents through the local hub (`egov exchange
//! hub`, a third process), driven as their people would through the HTTP API: Thanh Hóa's
//! Department of Home Affairs writes to Nghệ An's, Nghệ An's clerk and leader work on it and
//! every step's status comes back; the hub goes down in the middle and nothing is lost or
//! delivered twice; a revocation is agreed to and another refused; a replacement names what it
//! replaces; and Nghệ An writes back.

mod common;
use common::{Body, Killed, egov, free_port, http, wait_port};

use std::process::Command;
use std::time::{Duration, Instant};

use egov_store::testing::{Backend, TestDb};
use egov_store::{Exec, args};
use serde_json::{Value, json};

const PDF: &[u8] = include_bytes!("../../web/tests/it/draft.pdf");

/// A deployment: its server process, its port, its database and its people's sessions.
struct Deployment {
    name: &'static str,
    port: u16,
    db: TestDb,
    dir: tempfile::TempDir,
    tokens: std::collections::HashMap<String, String>,
    _server: Option<Killed>,
}

impl Deployment {
    /// A data directory with the demo seeded on a fresh database.
    async fn seeded(name: &'static str, backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let out = egov(dir.path(), &db.url)
            .args(["demo", "--seed-only"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "seeding {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Deployment {
            name,
            port: free_port(),
            db,
            dir,
            tokens: Default::default(),
            _server: None,
        }
    }

    fn start(&mut self, hub: u16, system: &str, secret: &str) {
        let server = egov(self.dir.path(), &self.db.url)
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .env("EGOV__EXCHANGE__ENABLED", "true")
            .env("EGOV__EXCHANGE__POLL_SECONDS", "1")
            .env(
                "EGOV__EXCHANGE__HUB__URL",
                format!("http://127.0.0.1:{hub}"),
            )
            .env("EGOV__EXCHANGE__HUB__SYSTEM_ID", system)
            .env("EGOV__EXCHANGE__HUB__SECRET", secret)
            .env("EGOV__EXCHANGE__HUB__TIMEOUT_SECONDS", "2")
            .env("EGOV__WORKER__POLL_MS", "100")
            .env("EGOV__SERVER__SECURE_COOKIES", "false")
            .spawn()
            .unwrap();
        self._server = Some(Killed(server));
        wait_port(self.port);
    }

    fn password(&self, user: &str) -> String {
        let accounts: Value = serde_json::from_slice(
            &std::fs::read(self.dir.path().join("demo-accounts.json")).unwrap(),
        )
        .unwrap();
        accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == user)
            .and_then(|a| a["password"].as_str())
            .unwrap_or_else(|| panic!("no demo account {user}"))
            .to_string()
    }

    fn token(&mut self, user: &str) -> String {
        if let Some(t) = self.tokens.get(user) {
            return t.clone();
        }
        let (status, body) = http(
            self.port,
            "POST",
            "/api/v1/sessions",
            None,
            Body::Json(json!({"username": user, "password": self.password(user)})),
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let t = serde_json::from_slice::<Value>(&body).unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string();
        self.tokens.insert(user.to_string(), t.clone());
        t
    }

    /// A JSON call as `user`; panics unless it succeeds.
    fn call(&mut self, user: &str, method: &str, path: &str, body: Body) -> Value {
        let token = self.token(user);
        let (status, out) = http(self.port, method, path, Some(&token), body);
        assert!(
            (200..300).contains(&status),
            "{} {method} {path} as {user}: {status} {}",
            self.name,
            String::from_utf8_lossy(&out)
        );
        if out.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&out).unwrap()
        }
    }

    async fn agency_id(&self, code: &str) -> i64 {
        (&self.db.db)
            .scalar("SELECT id FROM agencies WHERE code = $1", args![code])
            .await
            .unwrap()
    }

    /// Drafts, approves, signs off and issues a letter from the department to `to`.
    fn issue(
        &mut self,
        agency: i64,
        to: (&str, &str),
        subject: &str,
        replaces: Option<i64>,
    ) -> i64 {
        let d = self.call(
            "chuyenvien.snv",
            "POST",
            "/api/v1/documents",
            Body::Json(json!({
                "agency_id": agency, "kind": "official_letter", "subject": subject,
                "recipients": [{"external_code": to.0, "name": to.1}],
                "recipients_text": format!("- {};\n- Lưu: VT.", to.1),
                "replaces_id": replaces,
            })),
        );
        let id = d["document"]["id"]
            .as_i64()
            .or_else(|| d["id"].as_i64())
            .unwrap();
        self.call(
            "chuyenvien.snv",
            "POST",
            &format!("/api/v1/documents/{id}/files?role=main"),
            Body::File("cong-van.pdf", PDF),
        );
        for (user, event) in [
            ("chuyenvien.snv", "submit"),
            ("truongphong.snv", "approve"),
            ("giamdoc.snv", "sign_off"),
            ("vanthu.snv", "issue"),
        ] {
            self.act_out(user, id, event, "");
        }
        id
    }

    fn act_out(&mut self, user: &str, id: i64, event: &str, note: &str) {
        let v = self.document(user, id)["document"]["version"]
            .as_i64()
            .unwrap();
        self.call(
            user,
            "POST",
            &format!("/api/v1/documents/{id}/actions"),
            Body::Json(json!({"event": event, "version": v, "note": note})),
        );
    }

    fn document(&mut self, user: &str, id: i64) -> Value {
        self.call(user, "GET", &format!("/api/v1/documents/{id}"), Body::None)
    }

    /// The status the outside recipient last reported on document `id`.
    fn status_of(&mut self, id: i64) -> Option<String> {
        self.document("vanthu.snv", id)["recipients"][0]["status"]
            .as_str()
            .map(str::to_string)
    }

    /// The department's incoming copies, in any state.
    fn incoming(&mut self, agency: i64) -> Vec<Value> {
        self.call(
            "vanthu.snv",
            "GET",
            &format!(
                "/api/v1/agencies/{agency}/incoming?state=arrived,registered,directed,processing,completed,rejected,cancelled"
            ),
            Body::None,
        )
        .as_array()
        .unwrap()
        .clone()
    }

    fn act_in(&mut self, user: &str, copy: &Value, command: Value) {
        let mut command = command;
        command["version"] = copy["version"].clone();
        self.call(
            user,
            "POST",
            &format!("/api/v1/incoming/{}/actions", copy["id"]),
            Body::Json(command),
        );
    }
}

/// Waits until `f` answers `Some`, or fails naming `what`.
fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn hub_mode(port: u16, mode: Value) {
    let (status, body) = http(port, "POST", "/_mode", None, Body::Json(mode));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deployments_exchange_documents_through_the_local_hub() {
    let mut th = Deployment::seeded("Thanh Hóa", Backend::Sqlite).await;
    let mut na = Deployment::seeded("Nghệ An", Backend::Postgres).await;
    // Nghệ An's deployment is the same demo with the province's own identifiers (H41).
    (&na.db.db)
        .execute(
            "UPDATE agencies SET code = REPLACE(code, '.H56', '.H41')",
            args![],
        )
        .await
        .unwrap();
    let mut snv_codes = Vec::new();
    for d in [&th, &na] {
        let code: String = (&d.db.db)
            .scalar(
                "SELECT code FROM agencies WHERE short_name = 'SNV' ORDER BY id LIMIT 1",
                args![],
            )
            .await
            .unwrap();
        (&d.db.db)
            .execute(
                "UPDATE agencies SET code_source = 'official' WHERE code = $1",
                args![code.as_str()],
            )
            .await
            .unwrap();
        snv_codes.push(code);
    }
    let (th_code, na_code) = (snv_codes[0].clone(), snv_codes[1].clone());
    let th_snv = th.agency_id(&th_code).await;
    let na_snv = na.agency_id(&na_code).await;

    // The hub, a process of its own, connecting both departments.
    let hub_dir = tempfile::tempdir().unwrap();
    let agencies = hub_dir.path().join("agencies.json");
    std::fs::write(
        &agencies,
        json!([
            {"code": th_code, "name": "Sở Nội vụ tỉnh Thanh Hóa"},
            {"code": na_code, "name": "Sở Nội vụ tỉnh Nghệ An"},
        ])
        .to_string(),
    )
    .unwrap();
    let hub_port = free_port();
    let hub = Killed(
        Command::new(env!("CARGO_BIN_EXE_egov"))
            .args([
                "exchange",
                "hub",
                "--listen",
                &format!("127.0.0.1:{hub_port}"),
            ])
            .args([
                "--system",
                "egov-thanhhoa=secret-th",
                "--system",
                "egov-nghean=secret-na",
            ])
            .arg("--agencies")
            .arg(&agencies)
            .env("EGOV__LOG__LEVEL", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(hub_port);
    th.start(hub_port, "egov-thanhhoa", "secret-th");
    na.start(hub_port, "egov-nghean", "secret-na");

    // --- Thanh Hóa writes to Nghệ An ------------------------------------------------------
    let to_na = (na_code.as_str(), "Sở Nội vụ tỉnh Nghệ An");
    let first = th.issue(
        th_snv,
        to_na,
        "V/v trao đổi kinh nghiệm sắp xếp đơn vị hành chính",
        None,
    );
    let copy = until("the letter in Nghệ An's queue", || {
        na.incoming(na_snv)
            .into_iter()
            .find(|c| c["state"] == "arrived")
    });
    assert_eq!(copy["channel"], "exchange");
    until("status 01 at Thanh Hóa", || {
        (th.status_of(first).as_deref() == Some("01")).then_some(())
    });
    // Registered (03), directed (04), in progress (05), completed (06): each seen by the
    // sender in turn.
    na.act_in("vanthu.snv", &copy, json!({"event": "register"}));
    until("status 03 at Thanh Hóa", || {
        (th.status_of(first).as_deref() == Some("03")).then_some(())
    });
    let lead: i64 = na.call("chuyenvien.snv", "GET", "/api/v1/me", Body::None)["person"]["id"]
        .as_i64()
        .unwrap();
    let copy = na
        .incoming(na_snv)
        .into_iter()
        .find(|c| c["id"] == copy["id"])
        .unwrap();
    na.act_in(
        "giamdoc.snv",
        &copy,
        json!({"event": "direct", "lead_person_id": lead, "working_days": 5}),
    );
    until("status 04 at Thanh Hóa", || {
        (th.status_of(first).as_deref() == Some("04")).then_some(())
    });

    // The hub goes down: the start of the work (05) and a second letter wait, retried.
    hub_mode(hub_port, json!({"down": true}));
    let copy = na
        .incoming(na_snv)
        .into_iter()
        .find(|c| c["id"] == copy["id"])
        .unwrap();
    na.act_in("chuyenvien.snv", &copy, json!({"event": "start"}));
    let second = th.issue(th_snv, to_na, "V/v cử cán bộ dự hội nghị", None);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        th.status_of(first).as_deref(),
        Some("04"),
        "nothing through a hub that is down"
    );
    assert_eq!(na.incoming(na_snv).len(), 1);
    // Back up: everything arrives, once.
    hub_mode(hub_port, json!({"down": false}));
    until("status 05 at Thanh Hóa after the outage", || {
        (th.status_of(first).as_deref() == Some("05")).then_some(())
    });
    let second_copy = until("the second letter after the outage", || {
        na.incoming(na_snv)
            .into_iter()
            .find(|c| c["id"] != copy["id"])
    });
    let copy = na
        .incoming(na_snv)
        .into_iter()
        .find(|c| c["id"] == copy["id"])
        .unwrap();
    na.act_in("chuyenvien.snv", &copy, json!({"event": "complete"}));
    until("status 06 at Thanh Hóa", || {
        (th.status_of(first).as_deref() == Some("06")).then_some(())
    });
    // The sender's page lists every status with its time, in order.
    let seen: Vec<String> = th.document("vanthu.snv", first)["outside_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen, ["01", "03", "04", "05", "06"]);

    // Revocations: the second letter taken back and Nghệ An agrees (15); a third taken back
    // and Nghệ An refuses (16).
    th.act_out("vanthu.snv", second, "recall", "Gửi nhầm nơi nhận");
    let recalled = until("the revocation at Nghệ An", || {
        na.incoming(na_snv)
            .into_iter()
            .find(|c| c["id"] == second_copy["id"] && c["recall_status"] == "13")
    });
    na.act_in("vanthu.snv", &recalled, json!({"event": "accept_recall"}));
    until("status 15 at Thanh Hóa", || {
        (th.status_of(second).as_deref() == Some("15")).then_some(())
    });
    let third = th.issue(th_snv, to_na, "V/v báo cáo số liệu biên chế", None);
    let third_copy = until("the third letter", || {
        na.incoming(na_snv).into_iter().find(|c| {
            c["id"] != copy["id"] && c["id"] != second_copy["id"] && c["state"] == "arrived"
        })
    });
    th.act_out("vanthu.snv", third, "recall", "Đề nghị thu hồi");
    let asked = until("the second revocation at Nghệ An", || {
        na.incoming(na_snv)
            .into_iter()
            .find(|c| c["id"] == third_copy["id"] && c["recall_status"] == "13")
    });
    na.act_in(
        "vanthu.snv",
        &asked,
        json!({"event": "refuse_recall", "note": "Văn bản đã được xử lý"}),
    );
    until("status 16 at Thanh Hóa", || {
        (th.status_of(third).as_deref() == Some("16")).then_some(())
    });

    // A replacement of the first letter: a document of its own, tied to the copy it
    // replaces.
    let replacement = th.issue(
        th_snv,
        to_na,
        "V/v trao đổi kinh nghiệm sắp xếp đơn vị hành chính (thay thế)",
        Some(first),
    );
    let replaced_copy = until("the replacement at Nghệ An", || {
        na.incoming(na_snv)
            .into_iter()
            .find(|c| ![&copy["id"], &second_copy["id"], &third_copy["id"]].contains(&&c["id"]))
    });
    let doc = na.document("vanthu.snv", replaced_copy["document_id"].as_i64().unwrap());
    assert_eq!(doc["document"]["replaces_id"], copy["document_id"]);
    until("status 01 of the replacement", || {
        (th.status_of(replacement).as_deref() == Some("01")).then_some(())
    });

    // --- Nghệ An writes back ----------------------------------------------------------------
    let to_th = (th_code.as_str(), "Sở Nội vụ tỉnh Thanh Hóa");
    let answer = na.issue(
        na_snv,
        to_th,
        "V/v phúc đáp công văn trao đổi kinh nghiệm",
        None,
    );
    let back = until("Nghệ An's letter in Thanh Hóa's queue", || {
        th.incoming(th_snv)
            .into_iter()
            .find(|c| c["state"] == "arrived")
    });
    th.act_in("vanthu.snv", &back, json!({"event": "register"}));
    until("status 03 at Nghệ An", || {
        (na.status_of(answer).as_deref() == Some("03")).then_some(())
    });

    // Nothing twice: four letters and a replacement reached Nghệ An once each; every
    // message of both logs went once, and both logs verify.
    assert_eq!(na.incoming(na_snv).len(), 4);
    for d in [&th, &na] {
        let twice: i64 = (&d.db.db)
            .scalar(
                "SELECT COUNT(*) FROM (SELECT document_id FROM incoming WHERE channel = 'exchange' \
                 GROUP BY agency_id, document_id HAVING COUNT(*) > 1) t",
                args![],
            )
            .await
            .unwrap();
        assert_eq!(twice, 0, "{}", d.name);
        let stuck: i64 = (&d.db.db)
            .scalar(
                "SELECT COUNT(*) FROM exchange_messages WHERE state IN ('sending', 'failed', 'refused')",
                args![],
            )
            .await
            .unwrap();
        assert_eq!(stuck, 0, "{}: every message went", d.name);
        // Receiving ran as claimed jobs, one per poll interval.
        let rounds: i64 = (&d.db.db)
            .scalar(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'exchange.poll' AND state = 'done'",
                args![],
            )
            .await
            .unwrap();
        assert!(rounds > 5, "{}: {rounds} receiving rounds", d.name);
        let out = egov(d.dir.path(), &d.db.url)
            .args(["exchange", "verify"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}{}",
            d.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    drop(hub);
}
