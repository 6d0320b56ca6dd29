//! Two egov nodes on one database and one bucket (issue 24): what one node stores, the other
//! serves; neither keeps the file on its own disk.

use egov_app::settings::S3Settings;
use hyper::http::{Method, StatusCode};
use serde_json::json;

use super::client::Part;
use super::{both, second_node, start};

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
    }
);
