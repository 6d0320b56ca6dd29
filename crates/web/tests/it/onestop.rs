use hyper::http::{Method, StatusCode};
use serde_json::json;

use super::client::{Part, multipart};
use super::{both, start};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

both!(dossiers_over_the_api, |db| {
    let r = start(db, |s| s.server.max_upload_bytes = 64 * 1024).await;
    let mut c = r.client();
    let s = c
        .json(
            Method::POST,
            "/api/v1/sessions",
            json!({"username": "motcua.hacthanh", "password": r.password("motcua.hacthanh")}),
        )
        .await;
    c.bearer = Some(s.json()["token"].as_str().unwrap().to_owned());

    // Scans: the content decides; disguises and oversized files are refused.
    let up = c
        .post_multipart(
            "/api/v1/scans",
            &[Part::File("file", "cccd.pdf", "application/pdf", PDF)],
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let sha = up.json()["sha256"].as_str().unwrap().to_owned();
    let exe = c
        .post_multipart(
            "/api/v1/scans",
            &[Part::File(
                "file",
                "cccd.pdf",
                "application/pdf",
                b"MZ\x90\0\x03",
            )],
        )
        .await;
    assert_eq!(
        (exe.status, exe.error_code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unsupported_file_type")
    );
    let png_as_pdf = c
        .post_multipart(
            "/api/v1/scans",
            &[Part::File(
                "file",
                "giay-to.pdf",
                "application/pdf",
                &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0],
            )],
        )
        .await;
    assert_eq!(png_as_pdf.error_code(), "disguised_file");
    let mut big = PDF.to_vec();
    big.resize(100 * 1024, b' ');
    let too_big = c
        .try_send(
            Method::POST,
            "/api/v1/scans",
            Some(&multipart(&[Part::File("file", "big.pdf", "application/pdf", &big)]).0),
            multipart(&[Part::File("file", "big.pdf", "application/pdf", &big)]).1,
            &[],
        )
        .await;
    if let Ok(t) = too_big {
        assert_eq!(t.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", t.body);
    }
    // The server may have closed that connection: go on with a fresh one.
    let bearer = c.bearer.clone();
    let mut c = r.client();
    c.bearer = bearer;

    // Receive with the scan; the receipt carries code and appointment.
    let hac_thanh = r
        .app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap();
    let body = json!({
        "procedure_code": "2.000815",
        "receiving_agency_id": hac_thanh,
        "applicant": {"new": {"kind": "citizen", "identifier": "038190004567", "name": "Phạm Văn Nam", "phone": "0987654321"}},
        "components": [{"code": "TP1", "provided": true, "scan": sha}, {"code": "TP2", "provided": true}],
        "fee_units": 2
    });
    let rec = c.json(Method::POST, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(rec.status, StatusCode::CREATED, "{}", rec.body);
    let d = rec.json()["dossier"].clone();
    assert_eq!(rec.json()["outcome"], "received");
    assert_eq!(d["national_status"], 2);
    let id = d["id"].as_i64().unwrap();
    let code = d["code"].as_str().unwrap().to_owned();
    // A scan nobody uploaded is refused, and nothing is written.
    let mut bad = body.clone();
    bad["components"][0]["scan"] = json!("0".repeat(64));
    let refused = c.json(Method::POST, "/api/v1/dossiers", bad).await;
    assert_eq!(refused.error_code(), "unknown_scan");

    // Lists mask the phone number; the detail is complete and its read audited.
    let found = c.get(&format!("/api/v1/dossiers?q={code}")).await;
    assert_eq!(found.json()[0]["applicant_phone"], "*******321");
    let detail = c.get(&format!("/api/v1/dossiers/{id}")).await;
    assert_eq!(detail.json()["dossier"]["applicant_phone"], "0987654321");
    assert!(
        detail.json()["actions"]
            .as_array()
            .unwrap()
            .contains(&json!("transfer"))
    );
    let scan = c
        .get(&format!("/api/v1/dossiers/{id}/components/TP1/scan"))
        .await;
    assert_eq!(scan.status, StatusCode::OK);
    assert_eq!(scan.headers["content-type"], "application/pdf");

    // Two officers with the same version: the second gets a conflict.
    let version = d["version"].as_i64().unwrap();
    let first = c
        .json(
            Method::POST,
            &format!("/api/v1/dossiers/{id}/actions"),
            json!({"event": "transfer", "version": version}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let second = c
        .json(
            Method::POST,
            &format!("/api/v1/dossiers/{id}/actions"),
            json!({"event": "transfer", "version": version}),
        )
        .await;
    assert_eq!(
        (second.status, second.error_code().as_str()),
        (StatusCode::CONFLICT, "dossier_changed")
    );
    let unknown = c
        .json(
            Method::POST,
            &format!("/api/v1/dossiers/{id}/actions"),
            json!({"event": "teleport", "version": version + 1}),
        )
        .await;
    assert_eq!(unknown.error_code(), "bad_event");

    // Statistics, the register (JSON and xlsx), the national status mapping.
    let stats = c
        .get(&format!("/api/v1/agencies/{hac_thanh}/onestop-stats"))
        .await;
    assert_eq!(stats.json()["total"]["received"], 1, "{}", stats.body);
    let reg = c
        .get(&format!("/api/v1/agencies/{hac_thanh}/register"))
        .await;
    assert_eq!(reg.json().as_array().unwrap().len(), 1);
    let xlsx = c
        .send(
            Method::GET,
            &format!("/api/v1/agencies/{hac_thanh}/register?format=xlsx"),
            None,
            vec![],
            &[],
        )
        .await;
    assert_eq!(xlsx.headers["content-type"], egov_web::export::XLSX);
    let book = crate::documents::read_workbook(&xlsx.bytes);
    assert_eq!(book["sheet"], "Sổ theo dõi hồ sơ");
    assert_eq!(book["header_bold"], true);
    assert_eq!(book["freeze"], "A5");
    assert_eq!(book["orientation"], "landscape");
    assert_eq!(
        book["first_row_types"][0], "int",
        "the sequence is a number"
    );
    assert_eq!(
        book["first_row_types"][6], "datetime",
        "received is a date and time"
    );
    let receipt = c.get(&format!("/api/v1/dossiers/{id}/forms/receipt")).await;
    assert_eq!(receipt.headers["content-type"], "application/pdf");
    assert!(receipt.body.starts_with("%PDF-"));
    let none = c
        .get(&format!("/api/v1/dossiers/{id}/forms/refusal-letter"))
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    let reg_pdf = c
        .get(&format!("/api/v1/agencies/{hac_thanh}/register?format=pdf"))
        .await;
    assert_eq!(reg_pdf.headers["content-type"], "application/pdf");
    let statuses = c.get("/api/v1/national-statuses").await;
    assert_eq!(statuses.json().as_array().unwrap().len(), 10);

    // The public look-up needs no account, and a wrong phone number learns nothing.
    let mut anon = r.client();
    let ok = anon
        .json(
            Method::POST,
            "/api/v1/public/dossier-status",
            json!({"code": code, "phone": "0987654321"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["applicant"], "P. V. Nam");
    assert_eq!(ok.json()["national_status"], 4);
    assert!(!ok.body.contains("0987654321"));
    let wrong = anon
        .json(
            Method::POST,
            "/api/v1/public/dossier-status",
            json!({"code": code, "phone": "0987000000"}),
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.error_code().as_str()),
        (StatusCode::NOT_FOUND, "lookup_no_match")
    );

    // Another agency's officer: not found, not forbidden.
    let mut other = r.client();
    let s = other
        .json(
            Method::POST,
            "/api/v1/sessions",
            json!({"username": "chuyenvien.snv", "password": r.password("chuyenvien.snv")}),
        )
        .await;
    other.bearer = Some(s.json()["token"].as_str().unwrap().to_owned());
    assert_eq!(
        other
            .get(&format!("/api/v1/dossiers/{id}"))
            .await
            .error_code(),
        "not_found"
    );
    assert!(
        other
            .get(&format!("/api/v1/dossiers?q={code}"))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Every one-stop path is in the OpenAPI document.
    let doc = c.get("/api/v1/openapi.json").await.json();
    for p in [
        "/api/v1/dossiers",
        "/api/v1/dossiers/{id}/actions",
        "/api/v1/scans",
        "/api/v1/national-statuses",
        "/api/v1/public/dossier-status",
        "/api/v1/agencies/{id}/onestop-stats",
        "/api/v1/catalogue/national",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
    // A dossier action is one of the events, each with exactly its own fields.
    let command = &doc["components"]["schemas"]["DossierCommand"];
    let variants = command["oneOf"]
        .as_array()
        .expect("DossierCommand is a oneOf");
    assert_eq!(variants.len(), 13, "{command}");
    let assign = variants
        .iter()
        .find(|v| v.to_string().contains("\"assign\""))
        .expect("an assign variant");
    let required: Vec<&str> = assign["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    assert!(
        required.contains(&"person_id") && required.contains(&"event"),
        "{assign}"
    );
    // So is an outgoing document's: seven events, the mark only on sign-off.
    let out = &doc["components"]["schemas"]["OutCommand"];
    let variants = out["oneOf"].as_array().expect("OutCommand is a oneOf");
    assert_eq!(variants.len(), 7, "{out}");
    let with_mark: Vec<_> = variants
        .iter()
        .filter(|v| v.to_string().contains("\"mark\""))
        .collect();
    assert_eq!(with_mark.len(), 1, "{out}");
    assert!(with_mark[0].to_string().contains("\"sign_off\""), "{out}");
    // And an incoming copy's: seven events, the direction's fields only on `direct`.
    let incoming = &doc["components"]["schemas"]["InCommand"];
    let variants = incoming["oneOf"].as_array().expect("InCommand is a oneOf");
    assert_eq!(variants.len(), 7, "{incoming}");
});

both!(the_counter_and_a_dossier_in_the_browser, |db| {
    let r = start(db, |_| {}).await;
    let mut c = r.client();
    c.sign_in("motcua.hacthanh", &r.password("motcua.hacthanh"), None)
        .await;
    // Words find procedures; a code opens the form with the components.
    let list = c.get("/onestop/counter?procedure=chung+thuc").await;
    assert!(list.body.contains("2.000815"), "{}", list.body);
    let form = c.get("/onestop/counter?procedure=2.000815").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"provided_TP1\""));
    let csrf = form.csrf();
    let hac_thanh = r
        .app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap()
        .to_string();
    let action = "/onestop/counter";
    // A mistake keeps everything typed.
    let bad = c
        .post_multipart(
            action,
            &[
                Part::Text("csrf", &csrf),
                Part::Text("agency", &hac_thanh),
                Part::Text("procedure", "2.000815"),
                Part::Text("kind", "citizen"),
                Part::Text("identifier", "12345"),
                Part::Text("name", "Trịnh Thị Lan"),
                Part::Text("phone", "0911222333"),
                Part::Text("provided_TP1", "on"),
                Part::Text("decision", "receive"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("value=\"Trịnh Thị Lan\""));
    assert!(bad.body.contains("name=\"provided_TP1\" checked"));
    let ok = c
        .post_multipart(
            action,
            &[
                Part::Text("csrf", &csrf),
                Part::Text("agency", &hac_thanh),
                Part::Text("procedure", "2.000815"),
                Part::Text("kind", "citizen"),
                Part::Text("identifier", "038190007788"),
                Part::Text("name", "Trịnh Thị Lan"),
                Part::Text("phone", "0911222333"),
                Part::Text("provided_TP1", "on"),
                Part::File("scan_TP2", "ban-sao.pdf", "application/pdf", PDF),
                Part::Text("fee_units", "4"),
                Part::Text("decision", "receive"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let page = c.get(ok.location()).await;
    assert!(page.body.contains("Trịnh Thị Lan"));
    assert!(page.body.contains("8.000 đ"), "4 pages at 2.000 đ");
    assert!(page.body.contains("/scans/TP2"), "the scan is linked");
    assert!(
        page.body.contains("/forms/receipt.pdf"),
        "the receipt is linked"
    );
    let pdf = c.get(&format!("{}/forms/receipt.pdf", ok.location())).await;
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    // Hand over through the page's own form.
    let version = {
        let i = page.body.find("name=\"version\" value=\"").unwrap();
        let rest = &page.body[i + 22..];
        rest[..rest.find('"').unwrap()].to_owned()
    };
    let acted = c
        .post_form(
            &format!("{}/act", ok.location()),
            &[
                ("csrf", &page.csrf()),
                ("version", &version),
                ("event", "transfer"),
            ],
        )
        .await;
    assert_eq!(acted.status, StatusCode::SEE_OTHER);
    let again = c
        .post_form(
            &format!("{}/act", ok.location()),
            &[
                ("csrf", &page.csrf()),
                ("version", &version),
                ("event", "transfer"),
            ],
        )
        .await;
    let after = c.get(again.location()).await;
    assert!(
        after.body.contains("Hồ sơ vừa được người khác xử lý"),
        "a stale form gets a clear message"
    );
    assert!(after.body.contains("Đang xử lý"));
    // The register page and its spreadsheet; the statistics page.
    let reg = c.get("/onestop/register").await;
    assert!(reg.body.contains("*******333"));
    assert!(!reg.body.contains("0911222333"));
    let stats = c.get("/onestop/stats").await;
    assert_eq!(stats.status, StatusCode::OK);
    // The queue of the commune's specialist has it now.
    let mut sp = r.client();
    sp.sign_in("congchuc.hacthanh", &r.password("congchuc.hacthanh"), None)
        .await;
    assert!(sp.get("/onestop").await.body.contains("Trịnh Thị Lan"));
    // The public look-up page.
    let code = {
        let i = page.body.find("<h1><span class=\"code\">").unwrap();
        let rest = &page.body[i + 23..];
        rest[..rest.find('<').unwrap()].to_owned()
    };
    let mut anon = r.client();
    let form = anon.get(&format!("/tra-cuu?code={code}")).await;
    assert!(form.body.contains(&format!("value=\"{code}\"")));
    let found = anon
        .post_form(
            "/tra-cuu",
            &[
                ("csrf", &form.csrf()),
                ("code", &code),
                ("phone", "0911 222 333"),
            ],
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(found.body.contains("T. T. Lan"));
    assert!(!found.body.contains("0911222333") && !found.body.contains("0911 222 333"));
    let not = anon
        .post_form(
            "/tra-cuu",
            &[
                ("csrf", &form.csrf()),
                ("code", &code),
                ("phone", "0911000000"),
            ],
        )
        .await;
    assert_eq!(not.status, StatusCode::NOT_FOUND);
    // The receipt's QR code leads straight to the status.
    let token: String = egov_store::Exec::scalar(
        &mut r.app.db(),
        "SELECT lookup_token FROM dossiers WHERE code = $1",
        egov_store::args![code.as_str()],
    )
    .await
    .unwrap();
    let qr = anon.get(&format!("/tra-cuu?token={token}")).await;
    assert!(qr.body.contains("T. T. Lan"), "{}", qr.body);
});

/// Uploads a small PDF of the test's own as a scan; its hash.
async fn upload(c: &mut crate::client::Client, tag: &str) -> String {
    let bytes = format!("%PDF-1.4\n% {tag}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
    let up = c
        .post_multipart(
            "/api/v1/scans",
            &[Part::File(
                "file",
                "f.pdf",
                "application/pdf",
                bytes.as_bytes(),
            )],
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    up.json()["sha256"].as_str().unwrap().to_owned()
}

/// Every property of a request body in the OpenAPI document that holds a file's hash: the
/// schemas reachable from a request body, and their properties named or described as a hash.
fn hash_fields(doc: &serde_json::Value) -> Vec<String> {
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x.as_str()) {
                        ("$ref", Some(r)) => out.push(r.rsplit('/').next().unwrap().to_owned()),
                        _ => refs(x, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut todo = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            refs(&op["requestBody"], &mut todo);
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let schema = &schemas[&name];
        refs(schema, &mut todo);
        for (prop, p) in schema["properties"].as_object().into_iter().flatten() {
            let text = format!("{prop} {}", p["description"].as_str().unwrap_or(""));
            if text.contains("SHA-256") || prop.contains("scan") || prop.contains("sha") {
                out.push(format!("{name}.{prop}"));
            }
        }
    }
    out.sort();
    out
}

both!(
    another_persons_hash_is_answered_as_an_unknown_one_in_every_field,
    |db| {
        let r = start(db, |_| {}).await;
        let session = |user: &'static str| {
            let base = r.client();
            let password = r.password(user);
            async move {
                let mut c = base;
                let s = c
                    .json(
                        Method::POST,
                        "/api/v1/sessions",
                        json!({"username": user, "password": password}),
                    )
                    .await;
                c.bearer = Some(s.json()["token"].as_str().unwrap().to_owned());
                c
            }
        };
        let mut officer = session("motcua.hacthanh").await;
        let mut clerk = session("vanthu.snv").await;
        let officers = upload(&mut officer, "the officer's").await;
        let clerks = upload(&mut clerk, "the clerk's internal draft").await;
        let unknown = "ab".repeat(32);
        let hac_thanh = r
            .app
            .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
            .await
            .unwrap();
        let snv = clerk.get("/api/v1/me").await.json()["postings"][0]["agency_id"].clone();

        // The fields that hold a hash, as the OpenAPI document declares them: each is tried below.
        let doc = officer.get("/api/v1/openapi.json").await.json();
        assert_eq!(
            hash_fields(&doc),
            ["ComponentInput.scan", "PaperInCmd.scan"],
            "a new field that takes a hash must be added to this test"
        );
        let answer = |resp: crate::client::Resp| {
            (
                resp.status,
                resp.json()["error"]["code"].clone(),
                resp.json()["error"]["message"].clone(),
            )
        };
        // ComponentInput.scan, on receipt.
        let receipt = |sha: &str| {
            json!({
                "procedure_code": "2.000815",
                "receiving_agency_id": hac_thanh,
                "applicant": {"new": {"kind": "citizen", "identifier": "038190004567", "name": "Phạm Văn Nam", "phone": "0987654321"}},
                "components": [{"code": "TP1", "provided": true, "scan": sha}, {"code": "TP2", "provided": true}]
            })
        };
        let a = answer(
            officer
                .json(Method::POST, "/api/v1/dossiers", receipt(&unknown))
                .await,
        );
        let b = answer(
            officer
                .json(Method::POST, "/api/v1/dossiers", receipt(&clerks))
                .await,
        );
        assert_eq!(a.1, "unknown_scan");
        assert_eq!(a, b);
        // ComponentInput.scan, when a supplement is provided.
        let pending = officer
        .json(
            Method::POST,
            "/api/v1/dossiers",
            json!({
                "procedure_code": "2.000815",
                "receiving_agency_id": hac_thanh,
                "applicant": {"new": {"kind": "citizen", "identifier": "038190004567", "name": "Phạm Văn Nam", "phone": "0987654321"}},
                "components": []
            }),
        )
        .await;
        assert_eq!(pending.status, StatusCode::CREATED, "{}", pending.body);
        let d = pending.json()["dossier"].clone();
        let supplement = |sha: &str| json!({"event": "supplement_provided", "version": d["version"], "components": [{"code": "TP1", "provided": true, "scan": sha}]});
        let path = format!("/api/v1/dossiers/{}/actions", d["id"]);
        let a = answer(
            officer
                .json(Method::POST, &path, supplement(&unknown))
                .await,
        );
        let b = answer(officer.json(Method::POST, &path, supplement(&clerks)).await);
        assert_eq!(a.1, "unknown_scan");
        assert_eq!(a, b);
        // PaperInCmd.scan: the clerk names the officer's file.
        let incoming = |sha: &str| json!({"agency_id": snv, "issuer_name": "Bộ Nội vụ", "notation": "9/BNV-TCBC", "subject": "Về việc thử", "scan": sha});
        let a = answer(
            clerk
                .json(Method::POST, "/api/v1/incoming", incoming(&unknown))
                .await,
        );
        let b = answer(
            clerk
                .json(Method::POST, "/api/v1/incoming", incoming(&officers))
                .await,
        );
        assert_eq!(a.1, "unknown_scan");
        assert_eq!(a, b);
        // Their own files are accepted in the same fields.
        let ok = officer
            .json(Method::POST, "/api/v1/dossiers", receipt(&officers))
            .await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
        let ok = clerk
            .json(Method::POST, "/api/v1/incoming", incoming(&clerks))
            .await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    }
);

both!(
    the_result_is_recorded_with_its_date_and_file_on_the_page,
    |db| {
        let r = start(db, |_| {}).await;
        let person = |u: &'static str| {
            let app = r.app.clone();
            async move { app.actor_by_username(u).await.unwrap() }
        };
        let officer = person("motcua.hacthanh").await;
        let specialist = person("congchuc.hacthanh").await;
        let hac_thanh = r
            .app
            .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
            .await
            .unwrap();
        let reception: egov_app::onestop::dossiers::Reception = serde_json::from_value(json!({
            "procedure_code": "9.000004", "receiving_agency_id": hac_thanh,
            "applicant": {"new": {"kind": "citizen", "identifier": "038185001234",
                "name": "Lê Thị Hồng", "phone": "0912345678"}},
            "components": [{"code": "TP1", "provided": true}, {"code": "GTTT", "provided": true}],
        }))
        .unwrap();
        let d = r
            .app
            .receive_dossier(&officer, reception)
            .await
            .unwrap()
            .dossier;
        let step = |event: &str, version: i64| -> egov_app::onestop::dossiers::Action {
            serde_json::from_value(json!({"event": event, "version": version})).unwrap()
        };
        let d = r
            .app
            .act_on_dossier(&officer, d.id, step("transfer", d.version))
            .await
            .unwrap();
        let d = r
            .app
            .act_on_dossier(&specialist, d.id, step("transfer", d.version))
            .await
            .unwrap();
        // The chairman finishes it on the page: number, date and the signed decision.
        let mut chair = r.client();
        chair
            .sign_in("chutich.hacthanh", &r.password("chutich.hacthanh"), None)
            .await;
        let page = chair.get(&format!("/onestop/dossiers/{}", d.id)).await;
        assert!(page.body.contains("name=\"result_file\""), "{}", page.body);
        let today = egov_store::now()
            .to_offset(egov_domain::VN_OFFSET)
            .date()
            .to_string();
        let version = d.version.to_string();
        let sent = chair
            .post_multipart(
                &format!("/onestop/dossiers/{}/finish", d.id),
                &[
                    Part::Text("csrf", &page.csrf()),
                    Part::Text("version", &version),
                    Part::Text("result_number", "15/XN-UBND"),
                    Part::Text("result_date", &today),
                    Part::File("result_file", "15-XN-UBND.pdf", "application/pdf", PDF),
                ],
            )
            .await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
        let done = chair.get(&format!("/onestop/dossiers/{}", d.id)).await;
        assert!(done.body.contains("15/XN-UBND"), "{}", done.body);
        assert!(
            done.body
                .contains(&format!("href=\"/onestop/dossiers/{}/result\"", d.id))
        );
        // The officer at the counter opens the file to hand it over; another agency may not.
        let mut desk = r.client();
        desk.sign_in("motcua.hacthanh", &r.password("motcua.hacthanh"), None)
            .await;
        let file = desk
            .get(&format!("/onestop/dossiers/{}/result", d.id))
            .await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(file.bytes, PDF);
        let mut stranger = r.client();
        stranger
            .sign_in("chuyenvien.snv", &r.password("chuyenvien.snv"), None)
            .await;
        assert_eq!(
            stranger
                .get(&format!("/onestop/dossiers/{}/result", d.id))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
);
