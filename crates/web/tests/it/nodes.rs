//! Two egov nodes on one database and one bucket (issue 24): what one node stores, the other
//! serves; neither keeps the file on its own disk.

use egov_app::settings::S3Settings;
use hyper::http::{Method, StatusCode};
use serde_json::json;

use super::client::Part;
use super::{both, second_node, second_node_with_clock, start};

const PDF: &[u8] = include_bytes!("draft.pdf");

both!(
    a_file_stored_through_one_node_is_served_by_the_other,
    |db| {
        let s3 = egov_store::testing::s3_config().await;
        let bucket = S3Settings {
            endpoint: s3.endpoint.clone(),
            bucket: s3.bucket.clone(),
            region: s3.region.clone(),
            path_style: true,
            prefix: s3.prefix.clone(),
            access_key_id: s3.access_key_id.clone(),
            secret_access_key: s3.secret_access_key.clone(),
            ..S3Settings::default()
        };
        let shared = |s: &mut egov_app::Settings| {
            s.blobs.store = "s3".into();
            s.blobs.s3 = bucket.clone();
        };
        let a = start(db.clone(), shared).await;
        let b = second_node(&a, db, shared).await;
        for node in [&a, &b] {
            let ready = node.client().get("/readyz").await;
            assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
        }
        // The clerk signs in on A and registers a paper document with its scan.
        let mut on_a = a.client();
        let s = on_a
            .json(
                Method::POST,
                "/api/v1/sessions",
                json!({"username": "vanthu.snv", "password": a.password("vanthu.snv")}),
            )
            .await;
        assert_eq!(s.status, StatusCode::CREATED, "{}", s.body);
        let token = s.json()["token"].as_str().unwrap().to_owned();
        on_a.bearer = Some(token.clone());
        let scan = on_a
            .post_multipart(
                "/api/v1/scans",
                &[Part::File("file", "cv.pdf", "application/pdf", PDF)],
            )
            .await;
        assert_eq!(scan.status, StatusCode::CREATED, "{}", scan.body);
        let sha = scan.json()["sha256"].as_str().unwrap().to_owned();
        let clerk = egov_store::people::find_by_username(&mut a.app.db(), "vanthu.snv")
            .await
            .unwrap()
            .unwrap();
        let snv = egov_store::org::postings_of(&mut a.app.db(), clerk.id, None)
            .await
            .unwrap()[0]
            .agency_id;
        let paper = on_a
            .json(
                Method::POST,
                "/api/v1/incoming",
                json!({"agency_id": snv, "issuer_name": "Bộ Nội vụ", "notation": "77/BNV-TCBC",
                   "issued_on": "2026-11-20", "subject": "Về việc thử hai máy chủ",
                   "scan": sha}),
            )
            .await;
        assert_eq!(paper.status, StatusCode::CREATED, "{}", paper.body);
        let document = paper.json()["copy"]["document_id"].as_i64().unwrap();
        // On B, with the same session: the document and its file, byte for byte.
        let mut on_b = b.client();
        on_b.bearer = Some(token);
        let detail = on_b.get(&format!("/api/v1/documents/{document}")).await;
        assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
        let files = detail.json()["attachments"].as_array().unwrap().clone();
        assert_eq!(files.len(), 1, "{}", detail.body);
        assert_eq!(files[0]["sha256"], sha.as_str());
        let f = on_b
            .get(&format!(
                "/api/v1/documents/{document}/files/{}",
                files[0]["id"]
            ))
            .await;
        assert_eq!(f.status, StatusCode::OK);
        assert!(f.bytes == PDF, "B serves the bytes A stored");
        // Sign-in attempts are counted for both nodes together: 6 a minute from one address (the
        // clerk's above among them), whichever node is asked. Alternating between the nodes, the
        // refusals start within the allowance — not at twice it — and both nodes refuse.
        let mut statuses = Vec::new();
        for i in 0..8 {
            let node = if i % 2 == 0 { &b } else { &a };
            let r = node
                .client()
                .json(
                    Method::POST,
                    "/api/v1/sessions",
                    json!({"username": "nobody", "password": "x"}),
                )
                .await;
            statuses.push(r.status);
        }
        let allowed = statuses
            .iter()
            .take_while(|s| **s == StatusCode::UNAUTHORIZED)
            .count();
        assert!((1..=5).contains(&allowed), "{statuses:?}");
        assert!(
            statuses[allowed..]
                .iter()
                .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
            "{statuses:?}"
        );
        assert!(
            allowed <= 6 && statuses.len() - allowed >= 2,
            "both nodes refuse"
        );
        // In the bucket, on neither node's disk.
        assert!(b.app.blobs.exists(&sha).await.unwrap());
        for node in [&a, &b] {
            let local = node
                .app
                .settings
                .blob_dir()
                .join(&sha[..2])
                .join(&sha[2..4])
                .join(&sha);
            assert!(!local.exists(), "{}", local.display());
        }
        // Audit checkpoints: both nodes keep theirs in the bucket, and either node holds the
        // chain against all of them; none is in a node's folder.
        a.app.write_audit_checkpoint().await.unwrap();
        b.app.write_audit_checkpoint().await.unwrap();
        let report = b.app.verify_audit().await.unwrap();
        assert!(report.broken.is_none(), "{:?}", report.broken);
        assert_eq!(report.checkpoints, 2);
        for node in [&a, &b] {
            let s = &node.app.settings;
            assert!(!s.in_data_dir(&s.audit.checkpoint_file).exists());
        }
        // A checkpoint changed in the bucket (to hide a rewrite of the chain) is caught.
        let egov_store::blobs::Blobs::S3 { bucket, .. } = &a.app.blobs else {
            panic!("the nodes keep their files in the bucket");
        };
        let (name, bytes) = bucket.records("audit/checkpoints").await.unwrap().remove(0);
        let mut cp: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        cp["hash"] = json!("0".repeat(64));
        bucket
            .put_record("audit/checkpoints", &name, cp.to_string().into_bytes())
            .await
            .unwrap();
        let broken = a.app.verify_audit().await.unwrap().broken.expect("caught");
        assert!(
            broken.reason.contains(&name)
                && broken.reason.contains("not written with this audit key"),
            "{}",
            broken.reason
        );
    }
);

both!(
    a_node_whose_clock_is_off_is_not_ready_and_takes_no_job,
    |db| {
        let a = start(db.clone(), |_| {}).await;
        // Node B's clock is five minutes ahead of the database server's.
        let off = std::sync::Arc::new(egov_app::clock::OffClock(time::Duration::minutes(5)));
        let b = second_node_with_clock(&a, db.clone(), |_| {}, off).await;
        let on_a = a.client().get("/readyz").await;
        assert_eq!(on_a.status, StatusCode::OK, "{}", on_a.body);
        assert!(on_a.json()["clock_error"].is_null());
        let on_b = b.client().get("/readyz").await;
        let postgres = db.dialect() == egov_store::Dialect::Postgres;
        if !postgres {
            // SQLite: one machine, one clock; nothing to compare.
            assert_eq!(on_b.status, StatusCode::OK, "{}", on_b.body);
            return;
        }
        assert_eq!(
            on_b.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            on_b.body
        );
        let why = on_b.json()["clock_error"].as_str().unwrap().to_owned();
        assert!(why.contains("ahead of the database"), "{why}");
        assert!(why.starts_with("this node's clock is 300 s"), "{why}");
        assert!(on_b.json()["database_error"].is_null());
        // A job due now: B's worker, running, leaves it alone; A's takes it.
        let id = egov_store::jobs::enqueue(
            &mut b.app.db(),
            "http.post",
            &json!({"url": "http://127.0.0.1:9/", "body": {}}),
            "clock-test-job",
            egov_store::now() - time::Duration::seconds(1),
            3,
        )
        .await
        .unwrap();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(egov_app::jobs::Worker::new(b.app.clone()).run(stopped));
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let _ = stop.send(true);
        worker.await.unwrap();
        let job = egov_store::jobs::get(&mut a.app.db(), id).await.unwrap();
        assert_eq!((job.state.as_str(), job.attempts), ("queued", 0));
        assert!(job.locked_by.is_none());
        let worker_a = egov_app::jobs::Worker::new(a.app.clone());
        while worker_a.run_once().await.unwrap() {}
        let job = egov_store::jobs::get(&mut a.app.db(), id).await.unwrap();
        assert_eq!(job.attempts, 1);
    }
);

both!(
    a_database_out_of_reach_fails_requests_it_does_not_sign_people_out,
    |db| {
        let r = start(db.clone(), |_| {}).await;
        let mut c = r.client();
        let s = c
            .json(
                Method::POST,
                "/api/v1/sessions",
                json!({"username": "vanthu.snv", "password": r.password("vanthu.snv")}),
            )
            .await;
        c.bearer = Some(s.json()["token"].as_str().unwrap().to_owned());
        assert_eq!(c.get("/api/v1/me").await.status, StatusCode::OK);
        // The database goes away (a restart, a fail-over): the session cannot be looked up.
        db.close().await;
        let me = c.get("/api/v1/me").await;
        assert_eq!(
            (me.status, me.error_code().as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
            "{}",
            me.body
        );
        let ready = c.get("/readyz").await;
        assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(ready.json()["database_error"].is_string());
    }
);
