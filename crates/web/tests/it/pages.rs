use hyper::http::StatusCode;

use super::{both, start};

both!(sign_in_browse_and_scope, |db| {
    let r = start(db, |_| {}).await;
    let mut c = r.client();

    let home = c.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("<html lang=\"vi\">"));
    assert_eq!(c.get("/office").await.location(), "/sign-in");

    // No CSRF token: refused, nothing happens.
    let page = c.get("/sign-in").await;
    let no_csrf = c
        .post_form(
            "/sign-in",
            &[
                ("username", "chuyenvien.snv"),
                ("password", &r.password("chuyenvien.snv")),
            ],
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert!(no_csrf.body.contains("csrf_failed"));
    assert!(!c.cookies.contains_key("egov_session"));
    // A wrong password: the form again, with the error and the user name kept.
    let wrong = c
        .post_form(
            "/sign-in",
            &[
                ("csrf", &page.csrf()),
                ("username", "chuyenvien.snv"),
                ("password", "sai mật khẩu"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .body
            .contains("Tên đăng nhập hoặc mật khẩu không đúng")
    );
    assert!(wrong.body.contains("value=\"chuyenvien.snv\""));

    c.sign_in("chuyenvien.snv", &r.password("chuyenvien.snv"), None)
        .await;
    let office = c.get("/office").await;
    assert_eq!(office.status, StatusCode::OK);
    assert!(office.body.contains("Ngô Thị Thu"));
    assert!(office.body.contains("Phòng Tổ chức - Biên chế"));

    // The tree as of 2024 (three tiers) and today (two tiers).
    let y2024 = c.get("/agencies?as_of=2024-06-01").await;
    assert!(y2024.body.contains("chính quyền ba cấp"));
    let pc = r
        .app
        .search_agencies("000.00.00.H56", None, 1, 0)
        .await
        .unwrap()[0]
        .agency
        .id;
    let districts = c
        .get(&format!("/agencies?as_of=2024-06-01&parent={pc}"))
        .await;
    assert!(
        districts
            .body
            .contains("Ủy ban nhân dân thành phố Thanh Hóa")
    );
    assert!(districts.body.contains("Sở Kế hoạch và Đầu tư"));
    assert!(!districts.body.contains("Ủy ban nhân dân phường Hạc Thành"));
    let today = c.get(&format!("/agencies?parent={pc}")).await;
    assert!(today.body.contains("Ủy ban nhân dân phường Hạc Thành"));
    assert!(!today.body.contains("Ủy ban nhân dân thành phố Thanh Hóa"));
    assert!(!today.body.contains("Sở Kế hoạch và Đầu tư"));

    // Search ignores diacritics; without a date it covers history.
    let s = c.get("/agencies?q=dong+son").await;
    assert_eq!(
        s.body.matches("Ủy ban nhân dân phường Đông Sơn").count(),
        3,
        "{}",
        s.body
    );
    let s = c.get("/agencies?q=thanh+hoa").await;
    assert!(s.body.contains("Ủy ban nhân dân tỉnh Thanh Hóa"));

    // A new commune shows the old communes it succeeded.
    let unit = egov_store::units::find(&mut r.app.db(), "two_tier", "14797")
        .await
        .unwrap()
        .unwrap();
    let u = c.get(&format!("/units/{}", unit.id)).await;
    assert!(u.body.contains("Hình thành từ"));
    let preds = egov_store::units::predecessors(&mut r.app.db(), unit.id)
        .await
        .unwrap();
    assert!(u.body.contains(&preds[0].unit.name));

    // English on request, remembered in a cookie.
    let en = c.get("/office?lang=en").await;
    assert!(en.body.contains("<html lang=\"en\">"));
    assert!(en.body.contains("Current positions"));
    assert_eq!(c.cookies.get("egov_lang").map(String::as_str), Some("en"));
    assert!(c.get("/agencies").await.body.contains("Structure in force"));
    c.get("/office?lang=vi").await;

    // A specialist administers nothing; bad input gets a page with a stable code.
    let admin = c.get("/admin").await;
    assert_eq!(admin.status, StatusCode::FORBIDDEN);
    assert!(admin.body.contains("forbidden"));
    let other = egov_store::people::find_by_username(&mut r.app.db(), "motcua.hacthanh")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        c.get(&format!("/admin/people/{}", other.id)).await.status,
        StatusCode::NOT_FOUND,
        "someone one may not administer looks like nobody"
    );
    let bad = c.get("/agencies?as_of=2024-02-30").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("bad_date"));
    assert_eq!(
        c.get("/agencies/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(c.get("/no/such/page").await.status, StatusCode::NOT_FOUND);

    // Sign out: the session is gone.
    let csrf = c.get("/office").await.csrf();
    let out = c.post_form("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(c.get("/office").await.location(), "/sign-in");
});

both!(administrators_manage_their_agency, |db| {
    let r = start(db, |_| {}).await;
    let mut c = r.client();
    c.sign_in(
        "quantri.snv",
        &r.password("quantri.snv"),
        Some(&r.totp_secret("quantri.snv")),
    )
    .await;
    let admin = c.get("/admin").await;
    assert_eq!(admin.status, StatusCode::OK);
    let people = c.get("/admin/people?q=ngo+thi").await;
    assert!(people.body.contains("Ngô Thị Thu"));
    assert!(
        !people.body.contains("Nguyễn Thị Hằng"),
        "another agency's people are not listed"
    );

    // Create a person in Sở Nội vụ through the form.
    let snv = r
        .app
        .search_agencies("so noi vu", None, 1, 0)
        .await
        .unwrap()[0]
        .agency
        .id;
    let form = c.get("/admin/people/new").await;
    let snv_s = snv.to_string();
    let created = c
        .post_form(
            "/admin/people",
            &[
                ("csrf", &form.csrf()),
                ("full_name", "Lý Thị Ngọc"),
                ("username", "ngoc.snv"),
                ("email", ""),
                ("phone", ""),
                ("password", "mật khẩu đủ dài"),
                ("agency_id", &snv_s),
                ("position_key", "chuyen_vien"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let detail = c.get(created.location()).await;
    assert!(detail.body.contains("Lý Thị Ngọc"));
    assert!(
        detail.body.contains("Đã lưu thay đổi"),
        "a confirmation is shown once"
    );
    // A bad form comes back with the reason.
    let again = c
        .post_form(
            "/admin/people",
            &[
                ("csrf", &form.csrf()),
                ("full_name", "X"),
                ("username", "ngoc.snv"),
                ("password", "mật khẩu đủ dài"),
                ("agency_id", &snv_s),
                ("position_key", "chuyen_vien"),
            ],
        )
        .await;
    assert_eq!(again.location(), "/admin/people/new");
    assert!(
        c.get("/admin/people/new")
            .await
            .body
            .contains("đã có người dùng")
    );

    // Grant a role, then revoke it.
    let person = egov_store::people::find_by_username(&mut r.app.db(), "ngoc.snv")
        .await
        .unwrap()
        .unwrap();
    let page = c.get(&format!("/admin/people/{}", person.id)).await;
    let g = c
        .post_form(
            &format!("/admin/people/{}/roles", person.id),
            &[
                ("csrf", &page.csrf()),
                ("role", "records_clerk"),
                ("agency_id", &snv_s),
                ("org_unit_id", ""),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(g.status, StatusCode::SEE_OTHER);
    let grants = egov_store::org::grants_of(&mut r.app.db(), person.id, None)
        .await
        .unwrap();
    assert_eq!(grants[0].role, "records_clerk");
    let rv = c
        .post_form(
            &format!("/admin/role-grants/{}/revoke", grants[0].id),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(rv.status, StatusCode::SEE_OTHER);
    assert!(
        egov_store::org::grants_of(&mut r.app.db(), person.id, None)
            .await
            .unwrap()[0]
            .valid_to
            .is_some()
    );

    // Add an internal unit on the agency page.
    let ap = c.get(&format!("/agencies/{snv}")).await;
    assert!(ap.body.contains("Thêm đơn vị nội bộ"));
    c.post_form(
        &format!("/admin/agencies/{snv}/org-units"),
        &[
            ("csrf", &ap.csrf()),
            ("name", "Phòng Quản lý văn thư, lưu trữ"),
            ("kind", "division"),
        ],
    )
    .await;
    assert!(
        c.get(&format!("/agencies/{snv}"))
            .await
            .body
            .contains("Phòng Quản lý văn thư, lưu trữ")
    );
    // But not in another agency.
    let hac_thanh = r
        .app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap();
    let no = c
        .post_form(
            &format!("/admin/agencies/{hac_thanh}/org-units"),
            &[
                ("csrf", &ap.csrf()),
                ("name", "Phòng X"),
                ("kind", "division"),
            ],
        )
        .await;
    assert!(c.get(no.location()).await.body.contains("không có quyền"));
    // System pages are for the system administrator only.
    assert_eq!(c.get("/admin/jobs").await.status, StatusCode::FORBIDDEN);
});

both!(system_administrator_sees_audit_and_jobs, |db| {
    let r = start(db, |s| s.server.metrics_token = "doc-chi-so".into()).await;
    let mut c = r.client();
    c.sign_in("admin", &r.password("admin"), Some(&r.totp_secret("admin")))
        .await;
    let audit = c.get("/admin/audit").await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(audit.body.contains("Chuỗi nhật ký nguyên vẹn"));
    assert!(audit.body.contains("session.sign_in"));
    let jobs = c.get("/admin/jobs").await;
    assert_eq!(jobs.status, StatusCode::OK);
    // /metrics needs its bearer token, even for a signed-in administrator.
    assert_eq!(c.get("/metrics").await.status, StatusCode::NOT_FOUND);
    let metrics = c
        .send(
            hyper::http::Method::GET,
            "/metrics",
            None,
            vec![],
            &[("authorization", "Bearer doc-chi-so")],
        )
        .await;
    assert!(metrics.body.contains("egov_http_requests_total"));
    let wrong = r
        .client()
        .send(
            hyper::http::Method::GET,
            "/metrics",
            None,
            vec![],
            &[("authorization", "Bearer doc-chi-s")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(c.get("/healthz").await.json()["status"], "ok");
});

both!(
    readiness_fails_while_a_dependency_does_or_the_node_drains,
    |db| {
        let r = start(db, |_| {}).await;
        let mut c = r.client();
        let ready = c.get("/readyz").await;
        assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
        assert_eq!(ready.json()["status"], "ready");
        // The blob store cannot take a file: its temporary folder's place is taken by a file.
        let incoming = r.app.blobs.staging().root().join(".incoming");
        let _ = std::fs::remove_dir_all(&incoming);
        std::fs::create_dir_all(r.app.blobs.staging().root()).unwrap();
        std::fs::write(&incoming, b"not a folder").unwrap();
        let broken = c.get("/readyz").await;
        assert_eq!(broken.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(broken.json()["status"], "unavailable");
        assert!(broken.json()["blobs_error"].is_string(), "{}", broken.body);
        assert!(broken.json()["database_error"].is_null());
        // Liveness asks nothing of the dependencies.
        assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
        std::fs::remove_file(&incoming).unwrap();
        assert_eq!(c.get("/readyz").await.status, StatusCode::OK);
        // Shutting down: not ready, still serving.
        r.app.start_draining();
        let draining = c.get("/readyz").await;
        assert_eq!(draining.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(draining.json()["draining"], true);
        assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    }
);

both!(totp_is_required_and_locks_out, |db| {
    let r = start(db, |s| s.auth.sign_in_per_minute = 100).await;
    let mut c = r.client();
    let page = c.get("/sign-in").await;
    let p = c
        .post_form(
            "/sign-in",
            &[
                ("csrf", &page.csrf()),
                ("username", "admin"),
                ("password", &r.password("admin")),
            ],
        )
        .await;
    assert_eq!(p.location(), "/sign-in/totp");
    // Half signed in: nothing but the code page.
    assert_eq!(c.get("/office").await.status, StatusCode::UNAUTHORIZED);
    let totp = c.get("/sign-in/totp").await;
    for _ in 0..4 {
        let w = c
            .post_form(
                "/sign-in/totp",
                &[("csrf", &totp.csrf()), ("code", "000000")],
            )
            .await;
        assert_eq!(w.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let locked = c
        .post_form(
            "/sign-in/totp",
            &[("csrf", &totp.csrf()), ("code", "000000")],
        )
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("tạm khóa"));
});

both!(sign_in_is_rate_limited, |db| {
    let r = start(db, |s| s.auth.sign_in_per_minute = 3).await;
    let mut c = r.client();
    let page = c.get("/sign-in").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            c.post_form(
                "/sign-in",
                &[
                    ("csrf", &page.csrf()),
                    ("username", "nobody"),
                    ("password", "x"),
                ],
            )
            .await
            .status,
        );
    }
    assert_eq!(statuses[..3], [StatusCode::UNAUTHORIZED; 3]);
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
});

both!(calendar_administration_page, |db| {
    let r = start(db, |_| {}).await;
    let mut c = r.client();
    c.sign_in("admin", &r.password("admin"), Some(&r.totp_secret("admin")))
        .await;
    let list = c.get("/admin/calendar").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("chờ xác nhận"));
    let calc = c
        .get("/admin/calendar?received=2026-02-12T09%3A00&limit_kind=working_days&amount=5")
        .await;
    assert!(
        calc.body.contains("Hạn xử lý: 2026-02-26 17:00"),
        "{}",
        calc.body
    );
    let year = c.get("/admin/calendar/2026").await;
    assert!(year.body.contains("Giỗ Tổ Hùng Vương"));
    // The unverified Vietnam Culture Day is proposed for later years, not put into 2026.
    assert!(!year.body.contains("Ngày Văn hóa Việt Nam"));
    assert!(
        c.get("/admin/calendar/2027")
            .await
            .body
            .contains("Ngày Văn hóa Việt Nam")
    );
    let bad = c
        .post_form(
            "/admin/calendar/2026/days",
            &[
                ("csrf", &year.csrf()),
                ("date", "2026-03-04"),
                ("kind", "makeup_workday"),
                ("name", "Làm bù"),
            ],
        )
        .await;
    assert_eq!(bad.location(), "/admin/calendar/2026");
    assert!(
        c.get("/admin/calendar/2026")
            .await
            .body
            .contains("ngày làm bù phải là thứ Bảy hoặc Chủ nhật")
    );
    let ok = c
        .post_form("/admin/calendar/2026/confirm", &[("csrf", &year.csrf())])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert!(
        c.get("/admin/calendar/2026")
            .await
            .body
            .contains("đã xác nhận")
    );
    // Not for a specialist.
    let mut s = r.client();
    s.sign_in("chuyenvien.snv", &r.password("chuyenvien.snv"), None)
        .await;
    assert_eq!(s.get("/admin/calendar").await.status, StatusCode::FORBIDDEN);
});

both!(
    the_signatures_page_takes_images_and_explains_refusals,
    |db| {
        use crate::client::Part;
        let r = start(db, |_| {}).await;
        let mut c = r.client();
        c.sign_in("giamdoc.snv", &r.password("giamdoc.snv"), None)
            .await;
        let page = c.get("/signatures").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Mẫu chữ ký và con dấu"), "{}", page.body);
        // The leader is not a records clerk: no seal in the form.
        assert!(!page.body.contains("value=\"seal\""));
        let person = egov_store::people::find_by_username(&mut r.app.db(), "giamdoc.snv")
            .await
            .unwrap()
            .unwrap();
        let agency = egov_store::org::postings_of(&mut r.app.db(), person.id, None)
            .await
            .unwrap()[0]
            .agency_id
            .to_string();
        let csrf = page.csrf();
        let path = "/signatures/images";
        let upload = |png: &'static [u8]| {
            vec![
                Part::Text("csrf", &csrf),
                Part::Text("kind", "signature"),
                Part::Text("agency_id", ""),
                Part::File("png", "chu-ky.png", "image/png", png),
            ]
        };
        let mut parts = upload(b"GIF89a");
        parts[2] = Part::Text("agency_id", &agency);
        let refused = c.post_multipart(path, &parts).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains("Hình phải là tệp PNG nền trong suốt"),
            "{}",
            refused.body
        );
        let mut parts = upload(include_bytes!("signature.png"));
        parts[2] = Part::Text("agency_id", &agency);
        let sent = c.post_multipart(path, &parts).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
        let page = c.get("/signatures").await;
        assert!(page.body.contains("Chờ phê duyệt"), "{}", page.body);
        assert!(
            page.body.contains("Ngừng sử dụng"),
            "the owner may withdraw it"
        );
    }
);

both!(metrics_can_be_served_on_an_address_of_their_own, |db| {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = start(db, |s| {
        s.server.metrics_listen = format!("127.0.0.1:{port}")
    })
    .await;
    // Not on the main address (no token configured) …
    assert_eq!(
        r.client().get("/metrics").await.status,
        StatusCode::NOT_FOUND
    );
    // … but on its own, which serves nothing else.
    let mut m = crate::client::Client::new(&format!("http://127.0.0.1:{port}"));
    let mut body = String::new();
    for _ in 0..50 {
        if let Ok(resp) = m
            .try_send(hyper::http::Method::GET, "/metrics", None, vec![], &[])
            .await
        {
            body = resp.body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(body.contains("egov_http_requests_total"), "{body}");
    assert_eq!(m.get("/sign-in").await.status, StatusCode::NOT_FOUND);
    assert_eq!(m.get("/metrics").await.status, StatusCode::OK);
});

both!(the_audit_page_filters_pages_links_and_exports, |db| {
    let r = start(db, |_| {}).await;
    // A specialist's draft: something to find.
    let p = egov_store::people::find_by_username(&mut r.app.db(), "chuyenvien.snv")
        .await
        .unwrap()
        .unwrap();
    let snv = egov_store::org::postings_of(&mut r.app.db(), p.id, None)
        .await
        .unwrap()[0]
        .agency_id;
    let d = r
        .app
        .create_draft(
            &egov_app::Actor::person(p.id, "chuyenvien.snv"),
            serde_json::from_value(serde_json::json!({
                "agency_id": snv, "kind": "official_letter",
                "subject": "Về việc kiểm tra nhật ký"
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let mut c = r.client();
    c.sign_in("admin", &r.password("admin"), Some(&r.totp_secret("admin")))
        .await;
    // Everything, newest first, fifty at a time.
    let all = c.get("/admin/audit").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.body.contains("rel=\"next\""), "more than a page");
    assert!(!all.body.contains("rel=\"prev\""));
    let second = c.get("/admin/audit?page=2").await;
    assert!(second.body.contains("rel=\"prev\""));
    // By person (name without diacritics) and action: the draft, named and linked.
    let mine = c
        .get("/admin/audit?actor=ngo+thi+thu&action=document.")
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains("document.draft"), "{}", mine.body);
    assert!(mine.body.contains(&format!("href=\"/documents/{}\"", d.id)));
    assert!(
        mine.body.contains("Về việc kiểm tra nhật ký"),
        "the object by name"
    );
    assert!(
        !mine.body.contains("session.sign_in"),
        "only what was asked for"
    );
    // By object.
    let obj = c
        .get(&format!(
            "/admin/audit?object_type=document&object_id={}",
            d.id
        ))
        .await;
    assert!(obj.body.contains("document.draft"));
    assert!(!obj.body.contains("person.create"));
    // By date: nothing in the future; a malformed date is said.
    let none = c.get("/admin/audit?from=2099-01-01").await;
    assert!(
        none.body.contains("Không có mục nhật ký nào khớp"),
        "{}",
        none.body
    );
    let bad = c.get("/admin/audit?from=01-2026").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Exported as a workbook.
    let x = c.get("/admin/audit?actor=ngo+thi+thu&format=xlsx").await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.body.starts_with("PK"));
    // Not for an agency's administrator.
    let mut a = r.client();
    a.sign_in(
        "quantri.snv",
        &r.password("quantri.snv"),
        Some(&r.totp_secret("quantri.snv")),
    )
    .await;
    assert_eq!(a.get("/admin/audit").await.status, StatusCode::FORBIDDEN);
});
