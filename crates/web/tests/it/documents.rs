use hyper::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::client::{Client, Part};
use super::{Running, both, start};

/// A one-page draft with a blank for the number ("So:      /SNV-VP").
const PDF: &[u8] = include_bytes!("draft.pdf");

async fn signed_in(r: &Running, user: &str) -> Client {
    let mut c = r.client();
    let s = c
        .json(
            Method::POST,
            "/api/v1/sessions",
            json!({"username": user, "password": r.password(user)}),
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED, "{user}: {}", s.body);
    c.bearer = Some(s.json()["token"].as_str().unwrap().to_owned());
    c
}

async fn act(c: &mut Client, id: i64, event: &str, version: i64) -> Value {
    let r = c
        .json(
            Method::POST,
            &format!("/api/v1/documents/{id}/actions"),
            json!({"event": event, "version": version}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{event}: {}", r.body);
    r.json()
}

both!(documents_over_the_api, |db| {
    let r = start(db, |_| {}).await;
    let province = egov_store::agencies::find_by_code(&mut r.app.db(), "000.00.00.H56")
        .await
        .unwrap()
        .unwrap()
        .id;
    let mut drafter = signed_in(&r, "chuyenvien.snv").await;
    let kinds = drafter.get("/api/v1/document-kinds").await.json();
    assert_eq!(kinds.as_array().unwrap().len(), 29);
    let person = egov_store::people::find_by_username(&mut r.app.db(), "chuyenvien.snv")
        .await
        .unwrap()
        .unwrap();
    let snv = egov_store::org::postings_of(&mut r.app.db(), person.id, None)
        .await
        .unwrap()[0]
        .agency_id;

    let d = drafter
        .json(
            Method::POST,
            "/api/v1/documents",
            json!({"agency_id": snv, "kind": "report", "subject": "Báo cáo kết quả sắp xếp bộ máy",
                   "recipients": [{"agency_id": province}]}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.body);
    let id = d.json()["id"].as_i64().unwrap();
    // The document itself must be a PDF: a PNG named .pdf is refused, a PDF accepted.
    let bad = drafter
        .post_multipart(
            &format!("/api/v1/documents/{id}/files?role=main"),
            &[Part::File(
                "file",
                "bao-cao.pdf",
                "application/pdf",
                &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0],
            )],
        )
        .await;
    assert_eq!(bad.error_code(), "disguised_file");
    let up = drafter
        .post_multipart(
            &format!("/api/v1/documents/{id}/files?role=main"),
            &[Part::File("file", "bao-cao.pdf", "application/pdf", PDF)],
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let file_id = up.json()["id"].as_i64().unwrap();

    let v = drafter.get(&format!("/api/v1/documents/{id}")).await.json()["document"]["version"]
        .as_i64()
        .unwrap();
    let doc = act(&mut drafter, id, "submit", v).await;
    let mut head = signed_in(&r, "truongphong.snv").await;
    let doc = act(&mut head, id, "approve", doc["version"].as_i64().unwrap()).await;
    let mut clerk = signed_in(&r, "vanthu.snv").await;
    // Issue before sign-off: refused with a clear code.
    let early = clerk
        .json(
            Method::POST,
            &format!("/api/v1/documents/{id}/actions"),
            json!({"event": "issue", "version": doc["version"]}),
        )
        .await;
    assert_eq!(
        (early.status, early.error_code().as_str()),
        (StatusCode::CONFLICT, "illegal_transition")
    );
    // An action that does not exist is refused before the use case, naming it; so is a work
    // file's.
    let unknown = clerk
        .json(
            Method::POST,
            &format!("/api/v1/documents/{id}/actions"),
            json!({"event": "publish", "version": doc["version"]}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.error_code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "bad_event")
    );
    let unknown = clerk
        .json(
            Method::POST,
            "/api/v1/work-files/1/actions",
            json!({"action": "shred"}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.error_code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "bad_event")
    );
    let mut leader = signed_in(&r, "giamdoc.snv").await;
    let doc = act(
        &mut leader,
        id,
        "sign_off",
        doc["version"].as_i64().unwrap(),
    )
    .await;
    assert_eq!(doc["notation"], "01/BC-SNV");
    let doc = act(&mut clerk, id, "issue", doc["version"].as_i64().unwrap()).await;
    assert_eq!(doc["state"], "issued");

    // The province's records clerk sees it arrive, registers it; the sender sees 03.
    let mut tinh = signed_in(&r, "vanthu.tinh").await;
    let arrived = tinh
        .get(&format!(
            "/api/v1/agencies/{province}/incoming?state=arrived"
        ))
        .await
        .json();
    let copy = arrived
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["document_id"] == id)
        .expect("delivered")
        .clone();
    let reg = tinh
        .json(
            Method::POST,
            &format!("/api/v1/incoming/{}/actions", copy["id"]),
            json!({"event": "register", "version": copy["version"]}),
        )
        .await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.body);
    assert_eq!(reg.json()["arrival_number"], 1);
    let detail = drafter.get(&format!("/api/v1/documents/{id}")).await.json();
    assert_eq!(detail["recipients"][0]["status"], "03");
    // The province reads the issued file (numbered at sign-off), not the drafter's upload;
    // someone of another agency reads neither.
    let theirs = tinh.get(&format!("/api/v1/documents/{id}")).await.json();
    let issued = theirs["attachments"].as_array().unwrap();
    assert_eq!(issued.len(), 1, "{theirs}");
    assert_eq!(issued[0]["sha256"], theirs["document"]["main_sha"]);
    let f = tinh
        .get(&format!("/api/v1/documents/{id}/files/{}", issued[0]["id"]))
        .await;
    assert_eq!(f.status, StatusCode::OK);
    let draft = tinh
        .get(&format!("/api/v1/documents/{id}/files/{file_id}"))
        .await;
    assert_eq!(draft.status, StatusCode::NOT_FOUND);
    let mut stranger = signed_in(&r, "chuyenvien.stp").await;
    let f = stranger
        .get(&format!("/api/v1/documents/{id}/files/{file_id}"))
        .await;
    assert_eq!(f.status, StatusCode::NOT_FOUND);
    // Search without diacritics, by notation.
    let hits = drafter
        .get("/api/v1/documents?q=01%20bc%20snv")
        .await
        .json();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert!(
        stranger
            .get("/api/v1/documents?q=sap%20xep%20bo%20may")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A paper document with its scan, registered by hand; the register lists it.
    let scan = clerk
        .post_multipart(
            "/api/v1/scans",
            &[Part::File("file", "cv.pdf", "application/pdf", PDF)],
        )
        .await;
    assert_eq!(scan.status, StatusCode::CREATED, "{}", scan.body);
    let paper = clerk
        .json(
            Method::POST,
            "/api/v1/incoming",
            json!({"agency_id": snv, "issuer_name": "Bộ Nội vụ", "notation": "1234/BNV-TCBC",
                   "issued_on": "2026-11-20", "subject": "Về việc hướng dẫn sắp xếp",
                   "scan": scan.json()["sha256"]}),
        )
        .await;
    assert_eq!(paper.status, StatusCode::CREATED, "{}", paper.body);
    assert_eq!(paper.json()["copy"]["arrival_number"], 1);
    let year = paper.json()["copy"]["arrival_year"].as_i64().unwrap();
    let register = clerk
        .get(&format!(
            "/api/v1/agencies/{snv}/registers/incoming?year={year}"
        ))
        .await
        .json();
    assert_eq!(register.as_array().unwrap().len(), 1);
    let xlsx = clerk
        .get(&format!(
            "/api/v1/agencies/{snv}/registers/incoming?year={year}&format=xlsx"
        ))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let sheet = read_workbook(&xlsx.bytes);
    assert_eq!(sheet["sheet"], format!("Sổ văn bản đến {year}"));
    assert_eq!(sheet["header"][1], "Số đến");
    assert_eq!(sheet["header_bold"], true);
    assert_eq!(sheet["freeze"], "A5", "the heading stays on screen");
    assert_eq!(sheet["print_titles"], "$4:$4", "and on every printed page");
    assert_eq!(sheet["orientation"], "landscape");
    assert_eq!(sheet["paper"], "9", "A4");
    assert_eq!(sheet["fit"], json!([1, 0, true]), "fitted to the width");
    // Arrival date a date, arrival number a number, the document's date a date.
    assert_eq!(sheet["first_row_types"][0], "datetime");
    assert_eq!(sheet["first_row_formats"][0], "dd/mm/yyyy");
    assert_eq!(sheet["first_row_types"][1], "int");
    assert_eq!(sheet["first_row"][4], "2026-11-20T00:00:00");
    // A year with nothing registered: the empty register, with its columns.
    let empty = clerk
        .get(&format!(
            "/api/v1/agencies/{snv}/registers/outgoing?year=2019&format=xlsx"
        ))
        .await;
    assert_eq!(empty.status, StatusCode::OK);
    let e = read_workbook(&empty.bytes);
    assert_eq!(e["sheet"], "Sổ văn bản đi 2019");
    assert_eq!(e["header"][4], "Nơi nhận văn bản");
    assert_eq!(e["rows"], 0);
    let pdf = clerk
        .get(&format!(
            "/documents/registers?agency={snv}&year={year}&format=pdf"
        ))
        .await;
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.body.starts_with("%PDF-"));
    // The OpenAPI document describes it all.
    let doc = clerk.get("/api/v1/openapi.json").await.json();
    for p in [
        "/api/v1/documents",
        "/api/v1/incoming/{id}/actions",
        "/api/v1/work-files",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} in the OpenAPI document");
    }
});

both!(documents_through_the_pages, |db| {
    let r = start(db, |_| {}).await;
    // The clerk registers a paper document with its scan on one page.
    let mut clerk = r.client();
    clerk
        .sign_in("vanthu.snv", &r.password("vanthu.snv"), None)
        .await;
    let form = clerk.get("/documents/incoming/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.csrf();
    let agency = form
        .body
        .split("name=\"agency\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the agency field")
        .to_owned();
    let action = "/documents/incoming/new";
    let sent = clerk
        .post_multipart(
            action,
            &[
                Part::Text("csrf", &csrf),
                Part::Text("agency", &agency),
                Part::Text("issuer_name", "Bộ Nội vụ"),
                Part::Text("notation", "1234/BNV-TCBC"),
                Part::Text("issued_on", "2026-11-20"),
                Part::Text("subject", "Về việc hướng dẫn sắp xếp"),
                Part::File("scan", "cv.pdf", "application/pdf", PDF),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let next = clerk.get("/documents/incoming/new").await;
    assert!(
        next.body.contains("số đến 1") || next.body.contains("arrival number 1"),
        "{}",
        next.body
    );
    // A disguised scan: the form comes back with the error and what was typed.
    let bad = clerk
        .post_multipart(
            action,
            &[
                Part::Text("csrf", &csrf),
                Part::Text("agency", &agency),
                Part::Text("issuer_name", "Bộ Tài chính"),
                Part::Text("notation", "99/BTC-NSNN"),
                Part::Text("subject", "Về dự toán"),
                Part::File("scan", "cv.pdf", "application/pdf", b"MZ\x90\0"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("99/BTC-NSNN"),
        "the form keeps what was typed"
    );
    let n: i64 = egov_store::Exec::scalar(
        &mut r.app.db(),
        "SELECT COUNT(*) FROM documents WHERE notation = '99/BTC-NSNN'",
        egov_store::args![],
    )
    .await
    .unwrap();
    assert_eq!(n, 0, "nothing half-written");

    // The leader directs it from the list: choose the lead, press the button.
    let mut leader = r.client();
    leader
        .sign_in("giamdoc.snv", &r.password("giamdoc.snv"), None)
        .await;
    let list = leader.get("/documents").await;
    assert!(list.body.contains("1234/BNV-TCBC"), "{}", list.body);
    let copy: i64 = egov_store::Exec::scalar(
        &mut r.app.db(),
        "SELECT i.id FROM incoming i JOIN documents d ON d.id = i.document_id WHERE d.notation = '1234/BNV-TCBC'",
        egov_store::args![],
    )
    .await
    .unwrap();
    let c = egov_store::documents::get_incoming(&mut r.app.db(), copy)
        .await
        .unwrap();
    let specialist = egov_store::people::find_by_username(&mut r.app.db(), "chuyenvien.snv")
        .await
        .unwrap()
        .unwrap();
    let done = leader
        .post_form(
            &format!("/documents/{}/act", c.document_id),
            &[
                ("csrf", &list.csrf()),
                ("copy", &c.id.to_string()),
                ("version", &c.version.to_string()),
                ("event", "direct"),
                ("lead_person_id", &specialist.id.to_string()),
                ("working_days", "10"),
                ("back", "/documents"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let mut sp = r.client();
    sp.sign_in("chuyenvien.snv", &r.password("chuyenvien.snv"), None)
        .await;
    let mine = sp.get("/documents").await;
    assert!(
        mine.body.contains("1234/BNV-TCBC"),
        "the specialist handles it"
    );
    let page = sp.get(&format!("/documents/{}", c.document_id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Bắt đầu xử lý") || page.body.contains("Start handling"));
    let found = sp.get("/documents/search?q=huong+dan+sap+xep").await;
    assert!(found.body.contains("1234/BNV-TCBC"));
});

/// A blue signature stroke on a transparent background (120×48).
const SIGNATURE_PNG: &[u8] = include_bytes!("signature.png");

both!(signature_images_over_the_api, |db| {
    let r = start(db, |_| {}).await;
    let mut leader = signed_in(&r, "giamdoc.snv").await;
    let person = egov_store::people::find_by_username(&mut r.app.db(), "giamdoc.snv")
        .await
        .unwrap()
        .unwrap();
    let snv = egov_store::org::postings_of(&mut r.app.db(), person.id, None)
        .await
        .unwrap()[0]
        .agency_id;
    let agency = snv.to_string();
    let fields = |png: &'static [u8]| {
        vec![
            Part::Text("kind", "signature"),
            Part::Text("agency_id", ""),
            Part::File("png", "chu-ky.png", "image/png", png),
        ]
    };
    let mut parts = fields(b"GIF89a not a png");
    parts[1] = Part::Text("agency_id", &agency);
    let bad = leader
        .post_multipart("/api/v1/signature-images", &parts)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_code(), "image_not_png");
    let mut parts = fields(SIGNATURE_PNG);
    parts[1] = Part::Text("agency_id", &agency);
    parts.push(Part::Text("width_mm", "35"));
    let up = leader
        .post_multipart("/api/v1/signature-images", &parts)
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.body);
    let id = up.json()["id"].as_i64().unwrap();
    assert_eq!(up.json()["state"], "pending");
    assert_eq!(up.json()["width_mm"], 35.0);
    let png = leader.get(&format!("/api/v1/signature-images/{id}")).await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(png.headers["content-type"], "image/png");
    // The owner cannot approve their own image; the agency's administrator can, once.
    let own = leader
        .json(
            Method::POST,
            &format!("/api/v1/signature-images/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    let mut admin = signed_in(&r, "quantri.snv").await;
    let code = egov_app::auth::totp_code(&r.totp_secret("quantri.snv"), egov_store::now()).unwrap();
    admin
        .json(Method::POST, "/api/v1/sessions/totp", json!({"code": code}))
        .await;
    let listed = admin.get("/api/v1/signature-images").await.json();
    assert!(
        listed.as_array().unwrap().iter().any(|i| i["id"] == id),
        "{listed}"
    );
    let ok = admin
        .json(
            Method::POST,
            &format!("/api/v1/signature-images/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["state"], "approved");
    let again = admin
        .json(
            Method::POST,
            &format!("/api/v1/signature-images/{id}/reject"),
            json!({"note": "đổi ý"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error_code(), "image_decided");
    // The approval is in the audit log.
    let actions: Vec<(String,)> = {
        use egov_store::Exec;
        (r.app.db())
            .fetch_all(
                "SELECT action FROM audit_log WHERE object_type = 'signature_image' AND object_id = $1 ORDER BY id",
                egov_store::args![id.to_string()],
            )
            .await
            .unwrap()
    };
    let actions: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        actions,
        ["signature_image.uploaded", "signature_image.approved"]
    );
});

/// The id of the demo agency a user works in.
async fn agency_of(r: &Running, user: &str) -> i64 {
    let p = egov_store::people::find_by_username(&mut r.app.db(), user)
        .await
        .unwrap()
        .unwrap();
    egov_store::org::postings_of(&mut r.app.db(), p.id, None)
        .await
        .unwrap()[0]
        .agency_id
}

async fn documents_count(r: &Running) -> i64 {
    egov_store::Exec::scalar(
        &mut r.app.db(),
        "SELECT COUNT(*) FROM documents",
        egov_store::args![],
    )
    .await
    .unwrap()
}

/// Presses one of the buttons of a document's page, with a comment.
async fn press(
    c: &mut Client,
    r: &Running,
    id: i64,
    event: &str,
    note: &str,
) -> super::client::Resp {
    let page = c.get(&format!("/documents/{id}")).await;
    assert!(
        page.body
            .contains(&format!("name=\"event\" value=\"{event}\"")),
        "{event} is offered: {}",
        page.body
    );
    let d = egov_store::documents::get_document(&mut r.app.db(), id)
        .await
        .unwrap();
    c.post_form(
        &format!("/documents/{id}/act"),
        &[
            ("csrf", &page.csrf()),
            ("version", &d.version.to_string()),
            ("event", event),
            ("note", note),
        ],
    )
    .await
}

both!(
    a_document_is_drafted_reviewed_and_signed_on_the_pages,
    |db| {
        let r = start(db, |_| {}).await;
        let hac_thanh = agency_of(&r, "chutich.hacthanh").await.to_string();
        let stp = agency_of(&r, "giamdoc.stp").await.to_string();
        let snv = agency_of(&r, "chuyenvien.snv").await.to_string();
        let mut sp = r.client();
        sp.sign_in("chuyenvien.snv", &r.password("chuyenvien.snv"), None)
            .await;
        let home = sp.get("/documents").await;
        assert!(
            home.body.contains("href=\"/documents/drafts/new"),
            "{}",
            home.body
        );
        assert!(
            !home.body.contains("href=\"/documents/incoming/new"),
            "a specialist is not offered the incoming register"
        );
        let form = sp.get("/documents/drafts/new").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        assert!(
            form.body.contains("name=\"main\""),
            "a file field for the document"
        );
        let csrf = form.csrf();
        let before = documents_count(&r).await;
        // Without the document itself: said in Vietnamese, nothing written.
        let parts = |main: bool, twice: bool| {
            let mut v = vec![
                Part::Text("csrf", &csrf),
                Part::Text("agency", &snv),
                Part::Text("kind", "official_letter"),
                Part::Text("subject", "Về việc rà soát biên chế năm 2027"),
                Part::Text("urgency", "normal"),
                Part::Text("recipient", &hac_thanh),
                Part::Text("recipient", &stp),
                Part::Text("recipients_text", "Lưu: VT, TCBC."),
            ];
            if twice {
                v.push(Part::Text("recipient", &stp));
            }
            if main {
                v.push(Part::File("main", "du-thao.pdf", "application/pdf", PDF));
            }
            v.push(Part::File(
                "attachment",
                "phu-luc.pdf",
                "application/pdf",
                PDF,
            ));
            v
        };
        let none = sp
            .post_multipart("/documents/drafts/new", &parts(false, false))
            .await;
        assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(none.body.contains("Tải lên văn bản chính"), "{}", none.body);
        assert!(
            none.body.contains("Về việc rà soát biên chế năm 2027"),
            "the form keeps what was typed"
        );
        let twice = sp
            .post_multipart("/documents/drafts/new", &parts(true, true))
            .await;
        assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(twice.body.contains("được chọn hai lần"), "{}", twice.body);
        assert_eq!(documents_count(&r).await, before, "nothing half-written");
        // The draft with its files, in one press.
        let made = sp
            .post_multipart("/documents/drafts/new", &parts(true, false))
            .await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
        let id: i64 = made
            .location()
            .trim_start_matches("/documents/")
            .parse()
            .unwrap();
        let files = egov_store::documents::attachments(&mut r.app.db(), id)
            .await
            .unwrap();
        assert_eq!(
            files.iter().map(|f| f.role.as_str()).collect::<Vec<_>>(),
            ["main", "attachment"]
        );
        assert_eq!(
            egov_store::documents::recipients(&mut r.app.db(), id)
                .await
                .unwrap()
                .len(),
            2
        );
        let page = sp.get(&format!("/documents/{id}")).await;
        assert!(
            page.body.contains(
                "action=\"/documents/{id}/files\""
                    .replace("{id}", &id.to_string())
                    .as_str()
            )
        );
        assert!(
            !page.body.contains("value=\"approve\""),
            "not one's own approval"
        );
        let sent = press(&mut sp, &r, id, "submit", "").await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
        // The head of division returns it with a comment the drafter reads in the timeline.
        let mut head = r.client();
        head.sign_in("truongphong.snv", &r.password("truongphong.snv"), None)
            .await;
        let back = press(&mut head, &r, id, "return", "Bổ sung số liệu phụ lục").await;
        assert_eq!(back.status, StatusCode::SEE_OTHER);
        let page = sp.get(&format!("/documents/{id}")).await;
        assert!(
            page.body.contains("Bổ sung số liệu phụ lục"),
            "{}",
            page.body
        );
        assert!(page.body.contains("Đỗ Hữu Quyết"), "the reviewer by name");
        assert!(
            !page.body.contains("truongphong.snv"),
            "never an account name"
        );
        // A new version of the attachment, then submit, approve, sign off, issue.
        let up = sp
            .post_multipart(
                &format!("/documents/{id}/files"),
                &[
                    Part::Text("csrf", &page.csrf()),
                    Part::Text("role", "attachment"),
                    Part::File("file", "phu-luc-2.pdf", "application/pdf", PDF),
                ],
            )
            .await;
        assert_eq!(up.status, StatusCode::SEE_OTHER, "{}", up.body);
        press(&mut sp, &r, id, "submit", "Đã bổ sung").await;
        press(&mut head, &r, id, "approve", "").await;
        let mut leader = r.client();
        leader
            .sign_in("giamdoc.snv", &r.password("giamdoc.snv"), None)
            .await;
        let signed = press(&mut leader, &r, id, "sign_off", "").await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER);
        let mut clerk = r.client();
        clerk
            .sign_in("vanthu.snv", &r.password("vanthu.snv"), None)
            .await;
        press(&mut clerk, &r, id, "issue", "").await;
        let d = egov_store::documents::get_document(&mut r.app.db(), id)
            .await
            .unwrap();
        assert_eq!(d.state, "issued");
        // The outgoing register names the agencies it went to, the file copies, and the count.
        let register = clerk.get("/documents/registers?outgoing=true").await;
        assert!(
            register
                .body
                .contains("Ủy ban nhân dân phường Hạc Thành; Sở Tư pháp"),
            "{}",
            register.body
        );
        assert!(
            register.body.contains("<td>Lưu: VT, TCBC.</td><td>4</td>"),
            "two recipients and two file copies"
        );
        // The ward's records clerk picks it up; the ward's chairman is not offered the register.
        let mut ward = r.client();
        ward.sign_in("vanthu.hacthanh", &r.password("vanthu.hacthanh"), None)
            .await;
        let arrived = ward.get(&format!("/documents/{id}")).await;
        assert!(
            arrived.body.contains("value=\"register\""),
            "{}",
            arrived.body
        );
        let mut chair = r.client();
        chair
            .sign_in("chutich.hacthanh", &r.password("chutich.hacthanh"), None)
            .await;
        let seen = chair.get(&format!("/documents/{id}")).await;
        assert!(!seen.body.contains("value=\"register\""));
    }
);

#[test]
fn no_page_carries_the_csrf_token_in_an_address() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut stack = vec![dir];
    let mut forms = 0;
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(
                !text.contains("csrf="),
                "{} puts the token in an address",
                p.display()
            );
            for form in text.split("<form").skip(1) {
                if form.split('>').next().unwrap().contains("method=\"post\"") {
                    forms += 1;
                    let first = form.split_once('>').unwrap().1.trim_start();
                    assert!(
                        first.starts_with("<input type=\"hidden\" name=\"csrf\""),
                        "{}: a posted form starts with its token",
                        p.display()
                    );
                }
            }
        }
    }
    assert!(forms > 10);
}

/// What openpyxl (not egov) reads in a register workbook: the sheet's name, heading and its
/// font, frozen panes, print setup, and the first data row's values, types and formats.
pub(crate) fn read_workbook(bytes: &[u8]) -> Value {
    let python = std::env::var("EGOV_PYTHON").expect(
        "openpyxl judges egov's spreadsheets: run scripts/test.sh (it installs it), or set EGOV_PYTHON to a Python with openpyxl",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.xlsx");
    std::fs::write(&path, bytes).unwrap();
    let script = r#"
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.worksheets[0]
head = [c.value for c in ws[4]]
first = [c for c in ws[5]] if ws.max_row >= 5 else []
ps = ws.page_setup
print(json.dumps({
  "sheet": ws.title,
  "header": head,
  "header_bold": all(c.font.b for c in ws[4] if c.value),
  "freeze": ws.freeze_panes,
  "print_titles": ws.print_title_rows,
  "orientation": ps.orientation,
  "paper": str(ps.paperSize),
  # An absent fitToWidth is 1 (the standard's default); fitToPage turns fitting on.
  "fit": [1 if ps.fitToWidth is None else ps.fitToWidth, ps.fitToHeight, bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)],
  "rows": max(0, ws.max_row - 4),
  "first_row": [c.value.isoformat() if hasattr(c.value, "isoformat") else c.value for c in first],
  "first_row_types": [type(c.value).__name__ for c in first],
  "first_row_formats": [c.number_format for c in first],
}))
"#;
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    assert!(
        out.status.success(),
        "openpyxl could not read the workbook: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

both!(
    direction_with_coordinators_and_completion_with_the_reply,
    |db| {
        let r = start(db, |_| {}).await;
        // A paper document registered at the Department of Home Affairs.
        let clerk_actor = {
            let p = egov_store::people::find_by_username(&mut r.app.db(), "vanthu.snv")
                .await
                .unwrap()
                .unwrap();
            egov_app::Actor::person(p.id, "vanthu.snv")
        };
        let snv = agency_of(&r, "vanthu.snv").await;
        let reg = r
            .app
            .register_paper_incoming(
                &clerk_actor,
                serde_json::from_value(json!({
                    "agency_id": snv, "issuer_name": "Bộ Nội vụ", "notation": "88/BNV-CQĐP",
                    "subject": "Về việc rà soát đơn vị hành chính", "issued_on": "2026-11-20"
                }))
                .unwrap(),
            )
            .await
            .unwrap();
        let copy = reg.copy;
        let id = copy.document_id;
        let person = |u: &'static str| {
            let db = r.app.db().clone();
            async move {
                egov_store::people::find_by_username(&mut &db, u)
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            }
        };
        let lead = person("chuyenvien.snv").await.to_string();
        let helper = person("truongphong.snv").await.to_string();
        let units = egov_store::org::org_units_of(
            &mut r.app.db(),
            snv,
            egov_store::now().to_offset(egov_domain::VN_OFFSET).date(),
        )
        .await
        .unwrap();
        let unit = units[0].id.to_string();
        let mut leader = r.client();
        leader
            .sign_in("giamdoc.snv", &r.password("giamdoc.snv"), None)
            .await;
        let page = leader.get(&format!("/documents/{id}")).await;
        assert!(page.body.contains("name=\"coordinator\""), "{}", page.body);
        // A unit of another agency is refused with a message, nothing changed.
        let other_unit = egov_store::org::org_units_of(
            &mut r.app.db(),
            agency_of(&r, "chutich.hacthanh").await,
            egov_store::now().to_offset(egov_domain::VN_OFFSET).date(),
        )
        .await
        .unwrap()[0]
            .id
            .to_string();
        let version = copy.version.to_string();
        let copy_id = copy.id.to_string();
        let direct = |coordinator_unit: String| {
            vec![
                ("csrf".to_owned(), page.csrf()),
                ("copy".to_owned(), copy_id.clone()),
                ("version".to_owned(), version.clone()),
                ("event".to_owned(), "direct".to_owned()),
                ("lead_person_id".to_owned(), lead.clone()),
                ("coordinator".to_owned(), helper.clone()),
                ("coordinator_unit".to_owned(), coordinator_unit),
                ("working_days".to_owned(), "5".to_owned()),
                ("note".to_owned(), "Chủ trì, phối hợp rà soát".to_owned()),
            ]
        };
        fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
            v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
        }
        let refused = leader
            .post_form(&format!("/documents/{id}/act"), &pairs(&direct(other_unit)))
            .await;
        let shown = leader.get(refused.location()).await;
        assert!(shown.body.contains("thuộc cơ quan khác"), "{}", shown.body);
        let done = leader
            .post_form(&format!("/documents/{id}/act"), &pairs(&direct(unit)))
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let coordinators = egov_store::documents::coordinators(&mut r.app.db(), copy.id)
            .await
            .unwrap();
        assert_eq!(coordinators.len(), 2, "a coordinating person and unit");
        let seen = leader.get(&format!("/documents/{id}")).await;
        assert!(seen.body.contains("Đỗ Hữu Quyết"), "coordinators by name");
        // The incoming register says who it was directed to.
        let register = leader.get("/documents/registers").await;
        assert!(
            register.body.contains("<td>Ngô Thị Thu</td>"),
            "{}",
            register.body
        );
        // The reply: the specialist's issued letter; completion links it and writes the outcome.
        let reply = {
            let d = r
                .app
                .register_paper_outgoing(
                    &clerk_actor,
                    serde_json::from_value(json!({
                        "agency_id": snv, "kind": "official_letter",
                        "subject": "Về việc báo cáo kết quả rà soát",
                        "signer_name": "Phạm Minh Tuấn"
                    }))
                    .unwrap(),
                )
                .await
                .unwrap();
            d.id
        };
        let mut sp = r.client();
        sp.sign_in("chuyenvien.snv", &r.password("chuyenvien.snv"), None)
            .await;
        let c = egov_store::documents::get_incoming(&mut r.app.db(), copy.id)
            .await
            .unwrap();
        let page = sp.get(&format!("/documents/{id}")).await;
        assert!(
            page.body.contains(&format!("value=\"{reply}\"")),
            "the reply to choose"
        );
        let finished = sp
            .post_form(
                &format!("/documents/{id}/act"),
                &[
                    ("csrf", &page.csrf()),
                    ("copy", &c.id.to_string()),
                    ("version", &c.version.to_string()),
                    ("event", "complete"),
                    ("reply_document_id", &reply.to_string()),
                    ("note", "Đã báo cáo kết quả rà soát"),
                ],
            )
            .await;
        assert_eq!(finished.status, StatusCode::SEE_OTHER);
        let c = egov_store::documents::get_incoming(&mut r.app.db(), copy.id)
            .await
            .unwrap();
        assert_eq!(
            (c.state.as_str(), c.reply_document_id),
            ("completed", Some(reply))
        );
        let page = sp.get(&format!("/documents/{id}")).await;
        assert!(
            page.body.contains("Đã báo cáo kết quả rà soát"),
            "the outcome in the timeline"
        );
    }
);
