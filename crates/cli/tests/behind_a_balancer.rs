//! Two `egov serve` nodes on one PostgreSQL and one bucket, behind haproxy (from Debian), as a
//! province would run them: scans uploaded through the balancer land on both nodes; sign-in
//! attempts spread over both get one allowance; a dossier received on node A is acted on, and
//! its scan downloaded, through the balancer once A is killed; readiness takes a node out and
//! the other serves on.

mod common;
use common::{Body, Killed, egov, free_port, http, wait_port};

use std::process::Command;
use std::time::{Duration, Instant};

use egov_store::testing::{Backend, TestDb};
use serde_json::{Value, json};

const PDF: &[u8] = include_bytes!("../../web/tests/it/draft.pdf");

fn haproxy() -> String {
    for p in ["/usr/sbin/haproxy", "/usr/bin/haproxy"] {
        if std::path::Path::new(p).exists() {
            return p.to_owned();
        }
    }
    panic!("haproxy is not installed: the test command installs it (apt-get install haproxy)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_behind_haproxy_lose_nothing_when_one_dies() {
    let db = TestDb::new(Backend::Postgres).await;
    let s3 = egov_store::testing::s3_config().await;
    let a_dir = tempfile::tempdir().unwrap();
    let b_dir = tempfile::tempdir().unwrap();
    let node = |dir: &std::path::Path| {
        let mut c = egov(dir, &db.url);
        c.env("EGOV__BLOBS__STORE", "s3")
            .env("EGOV__BLOBS__S3__ENDPOINT", &s3.endpoint)
            .env("EGOV__BLOBS__S3__BUCKET", &s3.bucket)
            .env("EGOV__BLOBS__S3__PREFIX", &s3.prefix)
            .env("EGOV__BLOBS__S3__ACCESS_KEY_ID", &s3.access_key_id)
            .env("EGOV__BLOBS__S3__SECRET_ACCESS_KEY", &s3.secret_access_key)
            .env("EGOV__SERVER__SECURE_COOKIES", "false");
        c
    };
    let seeded = node(a_dir.path())
        .args(["demo", "--seed-only"])
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    // Every node needs the audit key (docs/operations.md, "Several nodes").
    std::fs::copy(
        a_dir.path().join("audit.key"),
        b_dir.path().join("audit.key"),
    )
    .unwrap();
    let (pa, pb, lb) = (free_port(), free_port(), free_port());
    let start = |dir: &std::path::Path, port: u16| {
        Killed(
            node(dir)
                .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                .spawn()
                .unwrap(),
        )
    };
    let mut a = Some(start(a_dir.path(), pa));
    let _b = start(b_dir.path(), pb);
    wait_port(pa);
    wait_port(pb);
    let cfg = a_dir.path().join("haproxy.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 2s\n    \
             timeout client 30s\n    timeout server 30s\n    retries 2\n    option redispatch\n\
             frontend egov\n    bind 127.0.0.1:{lb}\n    default_backend nodes\n\
             backend nodes\n    balance roundrobin\n    option httpchk GET /readyz\n    \
             http-check expect status 200\n    retry-on conn-failure empty-response\n    \
             default-server inter 300ms fall 2 rise 2\n    \
             server a 127.0.0.1:{pa} check\n    server b 127.0.0.1:{pb} check\n"
        ),
    )
    .unwrap();
    let check = Command::new(haproxy())
        .args(["-c", "-f"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let _balancer = Killed(
        Command::new(haproxy())
            .args(["-db", "-f"])
            .arg(&cfg)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(lb);
    std::thread::sleep(Duration::from_secs(1)); // both checked up
    let accounts: Value =
        serde_json::from_slice(&std::fs::read(a_dir.path().join("demo-accounts.json")).unwrap())
            .unwrap();
    let password = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "vanthu.snv")
        .and_then(|a| a["password"].as_str())
        .unwrap()
        .to_owned();
    let (status, body) = http(
        lb,
        "POST",
        "/api/v1/sessions",
        None,
        Body::Json(json!({"username": "vanthu.snv", "password": password})),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let token = serde_json::from_slice::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Four scans through the balancer: round robin puts them on both nodes.
    let mut shas = Vec::new();
    for i in 0..4 {
        let mut pdf = PDF.to_vec();
        pdf.extend_from_slice(format!("\n% scan {i}\n").as_bytes());
        let (status, body) = http(
            lb,
            "POST",
            "/api/v1/scans",
            Some(&token),
            Body::File("s.pdf", &pdf),
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        shas.push(
            serde_json::from_slice::<Value>(&body).unwrap()["sha256"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // A counter officer receives a dossier on node A itself.
    let officer = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "motcua.hacthanh")
        .and_then(|a| a["password"].as_str())
        .unwrap()
        .to_owned();
    let (status, body) = http(
        pa,
        "POST",
        "/api/v1/sessions",
        None,
        Body::Json(json!({"username": "motcua.hacthanh", "password": officer})),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let officer = serde_json::from_slice::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let ward: i64 = egov_store::Exec::scalar(
        &mut &db.db,
        "SELECT p.agency_id FROM postings p JOIN people u ON u.id = p.person_id \
         WHERE u.username = 'motcua.hacthanh'",
        egov_store::args![],
    )
    .await
    .unwrap();
    let mut scan = PDF.to_vec();
    scan.extend_from_slice(b"\n% the applicant's form\n");
    let (status, body) = http(
        pa,
        "POST",
        "/api/v1/scans",
        Some(&officer),
        Body::File("don.pdf", &scan),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let scan_sha = serde_json::from_slice::<Value>(&body).unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = http(
        pa,
        "POST",
        "/api/v1/dossiers",
        Some(&officer),
        Body::Json(json!({
            "procedure_code": "2.000815",
            "receiving_agency_id": ward,
            "applicant": {"new": {"kind": "citizen", "identifier": "038190004567",
                                  "name": "Phạm Văn Nam", "phone": "0987654321"}},
            "components": [{"code": "TP1", "provided": true, "scan": scan_sha},
                           {"code": "TP2", "provided": true}],
            "fee_units": 2
        })),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let dossier = serde_json::from_slice::<Value>(&body).unwrap()["dossier"].clone();
    // Sign-in attempts are counted in the database: through the balancer, which sends them to
    // A and B in turn, one address gets one allowance (10 a minute, two used above), not one
    // per node.
    let mut statuses = Vec::new();
    for _ in 0..14 {
        let (status, _) = http(
            lb,
            "POST",
            "/api/v1/sessions",
            None,
            Body::Json(json!({"username": "nobody", "password": "x"})),
        );
        statuses.push(status);
    }
    let allowed = statuses.iter().take_while(|s| **s == 401).count();
    assert!((1..=8).contains(&allowed), "{statuses:?}");
    assert!(
        statuses[allowed..].iter().all(|s| *s == 429),
        "{statuses:?}"
    );
    // Node A dies (SIGKILL): the balancer's checks take it out, B serves every scan.
    drop(a.take());
    let deadline = Instant::now() + Duration::from_secs(20);
    let bucket = egov_store::objects::S3Blobs::new(&s3).unwrap();
    for sha in &shas {
        assert!(bucket.exists(sha).await.unwrap(), "{sha} is in the bucket");
    }
    // What a client sees through the balancer: sessions and readiness keep answering.
    let mut answered = 0;
    while answered < 6 {
        let (status, _) = http(lb, "GET", "/readyz", None, Body::None);
        if status == 200 {
            answered += 1;
        } else {
            assert!(Instant::now() < deadline, "the balancer answered {status}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let (status, body) = http(lb, "GET", "/api/v1/me/handling", Some(&token), Body::None);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // The dossier A received is acted on through the balancer (B alone now): the officer's
    // session, the dossier and its scan are all there.
    let id = dossier["id"].as_i64().unwrap();
    let (status, body) = http(
        lb,
        "POST",
        &format!("/api/v1/dossiers/{id}/actions"),
        Some(&officer),
        Body::Json(json!({"event": "transfer", "version": dossier["version"]})),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let (status, body) = http(
        lb,
        "GET",
        &format!("/api/v1/dossiers/{id}"),
        Some(&officer),
        Body::None,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let detail: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(dossier["state"], "received");
    assert_eq!(detail["dossier"]["state"], "processing", "{detail}");
    assert!(detail["dossier"]["version"].as_i64() > dossier["version"].as_i64());
    let (status, body) = http(
        lb,
        "GET",
        &format!("/api/v1/dossiers/{id}/components/TP1/scan"),
        Some(&officer),
        Body::None,
    );
    assert_eq!(status, 200);
    assert!(body == scan, "the scan A took in, served by B");
}
