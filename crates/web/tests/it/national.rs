//! Reporting to the National Public Service Portal, against the stand-in over HTTP: a dossier's
//! whole life reported once and in order, the portal down and back, an answer lost after the
//! portal stored the call, and a refused record that holds back only its own dossier.

use std::sync::Arc;

use egov_app::clock::TestClock;
use egov_app::onestop::dossiers::{Action, Reception};
use egov_app::onestop::national_sync::{HttpPortal, SUBSCRIBER, SyncRound};
use egov_app::settings::NationalPortal;
use egov_app::{Actor, App};
use egov_web::national_fake::{FakePortal, Mode};
use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

use crate::both;

/// A result file as the chair scans it.
const RESULT: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

/// The stand-in on a free port: its base address and the handle that stops it.
async fn serve_fake(fake: &FakePortal) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = fake.router();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (url, stop)
}

fn national_settings(url: String) -> NationalPortal {
    NationalPortal {
        enabled: true,
        url,
        username: "thanhhoa.egov".into(),
        password: "mat-khau-dong-bo".into(),
        timeout_seconds: 1,
        // A procedure the province defined itself, reported under a national one.
        procedure_codes: [("TH.HT.01".to_owned(), "9.000004".to_owned())].into(),
        intake: true,
        // The demo's provincial public administration centre (TTPVHCC).
        department_centre: "000.00.13.H56".into(),
        ..NationalPortal::default()
    }
}

struct Setup {
    app: Arc<App>,
    fake: FakePortal,
    portal: HttpPortal,
    clock: Arc<TestClock>,
    hac_thanh: i64,
    /// The stand-in's own pages (the citizen's side).
    fake_url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn setup(db: egov_store::Db) -> Setup {
    // A Monday morning in office hours, on both sides.
    let clock = Arc::new(TestClock::at(datetime!(2026-12-07 08:30 +7)));
    let fake = FakePortal::new(vec![("thanhhoa.egov".into(), "mat-khau-dong-bo".into())])
        .with_clock(clock.clone());
    let (url, stop) = serve_fake(&fake).await;
    let fake_url = url.clone();
    let national = national_settings(url);
    // egov serves too: the portal fetches result files through their links.
    let web = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = egov_app::Settings {
        data_dir: std::env::temp_dir().join(format!("egov-national-{}", std::process::id())),
        national_portal: national.clone(),
        ..Default::default()
    };
    settings.server.public_url = format!("http://{}", web.local_addr().unwrap());
    settings.validate().unwrap();
    let app = App::with_clock(db, settings, clock.clone());
    app.seed_demo().await.unwrap();
    assert!(app.subscribe(SUBSCRIBER).await.unwrap());
    let served = app.clone();
    tokio::spawn(async move {
        egov_web::serve(served, web, std::future::pending())
            .await
            .unwrap();
    });
    let hac_thanh = app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap();
    Setup {
        app,
        fake,
        portal: HttpPortal::new(national),
        clock,
        hac_thanh,
        fake_url,
        _stop: stop,
    }
}

impl Setup {
    async fn who(&self, user: &str) -> Actor {
        self.app.actor_by_username(user).await.unwrap()
    }

    async fn receive(&self, identifier: &str) -> (i64, String, i64) {
        let officer = self.who("motcua.hacthanh").await;
        let r: Reception = serde_json::from_value(json!({
            "procedure_code": "9.000004",
            "receiving_agency_id": self.hac_thanh,
            "applicant": {"new": {"kind": "citizen", "identifier": identifier, "name": "Phạm Văn Nam", "phone": "0987654321"}},
            "components": [{"code": "TP1", "provided": true}, {"code": "GTTT", "provided": true}],
            "subject": "Xác nhận tình trạng hôn nhân",
        }))
        .unwrap();
        let out = self.app.receive_dossier(&officer, r).await.unwrap();
        (out.dossier.id, out.dossier.code, out.dossier.version)
    }

    async fn act(&self, user: &str, id: i64, version: i64, action: Value) -> i64 {
        let mut a = action;
        a["version"] = version.into();
        let a: Action = serde_json::from_value(a).unwrap();
        self.app
            .act_on_dossier(&self.who(user).await, id, a)
            .await
            .unwrap()
            .version
    }

    /// The chair scans the result and finishes the dossier with it: the new version and the
    /// scan's hash.
    async fn finish_with_result(&self, id: i64, version: i64, number: &str) -> (i64, String) {
        let chair = self.who("chutich.hacthanh").await;
        let scan = self
            .app
            .store_scan(
                &chair,
                "xac-nhan.pdf",
                Some("application/pdf"),
                RESULT.to_vec(),
            )
            .await
            .unwrap()
            .sha256;
        let finish = json!({"event": "finish", "result": {"number": number, "file": scan}});
        (
            self.act("chutich.hacthanh", id, version, finish).await,
            scan,
        )
    }

    async fn sync(&self) -> SyncRound {
        self.app.sync_national(&self.portal).await.unwrap()
    }

    fn held(&self) -> Value {
        self.fake.state()
    }

    fn progress(&self, code: &str) -> Vec<Value> {
        self.held()["progress"][code]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

both!(a_dossiers_life_reaches_the_portal_once_and_in_order, |db| {
    let s = setup(db).await;
    let (id, code, v) = s.receive("038190004567").await;
    let round = s.sync().await;
    assert_eq!((round.records, round.progress, round.failed), (1, 0, 0));
    let d = &s.held()["dossiers"][&code];
    assert_eq!(d["TrangThaiHoSo"], "2");
    assert_eq!(d["MaTTHC"], "9.000004");
    assert_eq!(d["ChuHoSo"], "Phạm Văn Nam");
    assert_eq!(d["MaDoiTuong"], "038190004567");
    assert_eq!(d["KenhThucHien"], "1");
    assert_eq!(d["NgayTiepNhan"], "20261207083000");
    assert_eq!(d["TaiLieuNop"].as_array().unwrap().len(), 2);
    assert_eq!(d["DonViTinh"], "ngày làm việc");

    // The counter hands over; the specialist asks for a supplement, which comes back.
    let v = s
        .act("motcua.hacthanh", id, v, json!({"event": "transfer"}))
        .await;
    s.clock.advance(Duration::hours(1));
    let v = s
        .act(
            "congchuc.hacthanh",
            id,
            v,
            json!({"event": "request_supplement", "items": ["Bản sao trích lục ly hôn"]}),
        )
        .await;
    s.sync().await;
    assert_eq!(s.held()["dossiers"][&code]["TrangThaiHoSo"], "5");
    s.clock.advance(Duration::hours(1));
    let v = s
        .act(
            "motcua.hacthanh",
            id,
            v,
            json!({"event": "supplement_provided"}),
        )
        .await;
    // Processed, decided and returned.
    s.clock.advance(Duration::hours(1));
    let v = s
        .act("congchuc.hacthanh", id, v, json!({"event": "transfer"}))
        .await;
    s.clock.advance(Duration::hours(1));
    let (v, scan) = s.finish_with_result(id, v, "15/XN-UBND").await;
    s.act(
        "motcua.hacthanh",
        id,
        v,
        json!({"event": "return_result", "returned_to": "Phạm Văn Nam"}),
    )
    .await;
    let round = s.sync().await;
    assert_eq!((round.rejected, round.failed), (0, 0), "{round:?}");

    let held = s.held();
    let d = &held["dossiers"][&code];
    assert_eq!(d["TrangThaiHoSo"], "10");
    assert_ne!(d["NgayTra"], "");
    let supplement = &d["DanhSachHoSoBoSung"][0];
    assert_eq!(supplement["NoiDungBoSung"], "Bản sao trích lục ly hôn");
    assert_eq!(supplement["TrangThaiBoSung"], "1");
    assert_eq!(held["creates"], 1, "created once, updated after");
    // One entry a step done, in the process's order, each once.
    let steps = egov_store::onestop::steps(&mut s.app.db(), id)
        .await
        .unwrap();
    let entries = s.progress(&code);
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["NoiDungXuLy"].as_str().unwrap())
        .collect();
    let done: Vec<&str> = steps
        .iter()
        .filter(|st| st.finished_at.is_some())
        .take(entries.len())
        .map(|st| st.name.as_str())
        .collect();
    assert_eq!(entries.len(), 3, "{names:?}");
    assert_eq!(names, done);
    assert_eq!(entries[0]["NguoiXuLy"], "Nguyễn Thị Hằng");
    assert_eq!(entries[0]["TrangThai"], "4");
    assert_eq!(entries[2]["TrangThai"], "9");
    // The result was published with a link the portal fetched: exactly the file, and only it.
    let link = d["DanhSachGiayToKetQua"][0]["DuongDanTepTinKetQua"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(held["results"][&code][0], json!([link, scan]));
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(token.len(), 32, "a 128-bit token");
    let (bytes, _, _) = s.app.national_result_file(token, None).await.unwrap();
    assert_eq!(bytes, RESULT);
    for wrong in [
        "0".repeat(32),
        "../../etc/passwd".into(),
        format!("{token}0"),
    ] {
        assert_eq!(
            s.app
                .national_result_file(&wrong, None)
                .await
                .unwrap_err()
                .code,
            "not_found"
        );
    }
    let fetches: i64 = egov_store::Exec::scalar(
        &mut s.app.db(),
        "SELECT COUNT(*) FROM audit_log WHERE action = 'national.result_fetch'",
        egov_store::args![],
    )
    .await
    .unwrap();
    assert_eq!(fetches, 2, "each fetch is audited");
    // Nothing is owed any more: another round calls nobody.
    let calls = s.held()["calls"].clone();
    assert_eq!(s.sync().await, SyncRound::default());
    assert_eq!(s.held()["calls"], calls);
});

both!(
    the_portal_down_and_a_lost_answer_lose_nothing_and_repeat_nothing,
    |db| {
        let s = setup(db).await;
        let (id, code, v) = s.receive("038190004568").await;
        s.act("motcua.hacthanh", id, v, json!({"event": "transfer"}))
            .await;
        s.fake.set_mode(Mode {
            down: true,
            ..Mode::default()
        });
        let round = s.sync().await;
        assert_eq!((round.records, round.failed), (0, 1));
        assert!(s.held()["dossiers"].as_object().unwrap().is_empty());
        // The operator sees it failing, still retried, with the cause and the next try.
        let h = s.app.national_health(&s.who("admin").await).await.unwrap();
        let failing = h.failing.iter().find(|t| t.dossier_code == code).unwrap();
        assert_eq!((failing.what.as_str(), failing.attempts), ("dossier", 1));
        assert!(!failing.message.is_empty() && failing.next_at > s.clock_now());
        assert!(h.rejected.is_empty() && h.set_aside.is_empty());
        // Back up: nothing is tried before its back-off, everything after it.
        s.fake.set_mode(Mode::default());
        assert_eq!(s.sync().await, SyncRound::default());
        s.clock.advance(Duration::minutes(1));
        let round = s.sync().await;
        assert_eq!((round.records, round.progress), (1, 1), "{round:?}");

        // The portal stores the next calls and never answers: the record update and the progress
        // entry of the next step are both left uncertain.
        let (v2, _) = {
            let d = egov_store::onestop::get_dossier(&mut s.app.db(), id)
                .await
                .unwrap();
            (d.version, ())
        };
        s.clock.advance(Duration::hours(1));
        s.act("congchuc.hacthanh", id, v2, json!({"event": "transfer"}))
            .await;
        s.fake.set_mode(Mode {
            store_then_hang: 2,
            ..Mode::default()
        });
        let round = s.sync().await;
        assert_eq!(round.failed, 2, "{round:?}");
        assert_eq!(s.progress(&code).len(), 2, "the portal stored the entry");
        // The next round looks the dossier up before sending again: the entry is not repeated.
        s.fake.set_mode(Mode::default());
        s.clock.advance(Duration::minutes(1));
        let round = s.sync().await;
        assert_eq!(round.found, 1, "{round:?}");
        assert_eq!(round.failed, 0, "{round:?}");
        let entries = s.progress(&code);
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_ne!(entries[0]["NoiDungXuLy"], entries[1]["NoiDungXuLy"]);

        // Credentials that expire mid-run: signed in again, once.
        s.fake.set_mode(Mode {
            expire_sessions: true,
            ..Mode::default()
        });
        let (_, code3, _) = s.receive("038190004569").await;
        let round = s.sync().await;
        assert_eq!(round.records, 1, "{round:?}");
        assert_eq!(s.held()["dossiers"][&code3]["TrangThaiHoSo"], "2");
    }
);

both!(
    a_refused_record_holds_back_only_its_dossier_until_retried,
    |db| {
        let s = setup(db).await;
        s.fake.set_mode(Mode {
            reject_field: Some("MaDoiTuong".into()),
            reject_value: Some("038190009999".into()),
            ..Mode::default()
        });
        let (bad, bad_code, _) = s.receive("038190009999").await;
        let (_, good_code, _) = s.receive("038190004570").await;
        let round = s.sync().await;
        assert_eq!((round.records, round.rejected), (1, 1), "{round:?}");
        assert!(s.held()["dossiers"].get(&good_code).is_some());
        assert!(s.held()["dossiers"].get(&bad_code).is_none());
        let row = egov_store::national::get_record(&mut s.app.db(), bad)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.state, "rejected");
        assert_eq!(row.reject_code.as_deref(), Some("-1"));
        assert!(row.last_error.unwrap().starts_with("MaDoiTuong:"));
        // Left alone until an operator retries it (or the dossier changes).
        s.clock.advance(Duration::hours(1));
        assert_eq!(s.sync().await.records, 0);
        s.fake.set_mode(Mode::default());
        assert!(
            egov_store::national::retry(&mut s.app.db(), bad, s.clock_now())
                .await
                .unwrap()
        );
        assert_eq!(s.sync().await.records, 1);
        assert!(s.held()["dossiers"].get(&bad_code).is_some());
    }
);

both!(
    a_procedure_without_a_national_code_is_held_back_and_a_mapped_one_is_sent_under_its_code,
    |db| {
        let s = setup(db).await;
        let (local, local_code, _) = s.receive("038190004580").await;
        let (mapped, mapped_code, _) = s.receive("038190004581").await;
        // As if both were received under procedures the province defined for itself.
        for (id, code) in [(local, "TH.HT.99"), (mapped, "TH.HT.01")] {
            egov_store::Exec::execute(
                &mut s.app.db(),
                "UPDATE dossiers SET procedure_code = $1 WHERE id = $2",
                egov_store::args![code, id],
            )
            .await
            .unwrap();
        }
        let round = s.sync().await;
        assert_eq!((round.records, round.rejected), (1, 1), "{round:?}");
        let held = s.held();
        assert_eq!(held["dossiers"][&mapped_code]["MaTTHC"], "9.000004");
        assert!(held["dossiers"].get(&local_code).is_none());
        assert_eq!(held["calls"], 1, "the unmapped one was never sent");
        let h = s.app.national_health(&s.who("admin").await).await.unwrap();
        let refused = h.rejected.iter().find(|t| t.dossier_id == local).unwrap();
        assert_eq!(refused.code, "no_national_code");
        assert_eq!(h.rejected_by_code, vec![("no_national_code".to_owned(), 1)]);
        assert!(refused.message.contains("TH.HT.99"), "{}", refused.message);
    }
);

both!(
    a_portal_that_stops_answering_is_only_probed_and_everything_goes_when_it_is_back,
    |db| {
        let s = setup(db).await;
        let mut codes = Vec::new();
        for i in 0..16 {
            codes.push(s.receive(&format!("0381900046{i:02}")).await.1);
        }
        s.fake.set_mode(Mode {
            down: true,
            ..Mode::default()
        });
        // Eight calls in a row without an answer (twice the calls in flight) end the round; the
        // calls already in flight then (at most three) still finish.
        let round = s.sync().await;
        assert!((8..12).contains(&round.failed), "{round:?}");
        assert_eq!(round.answered(), 0);
        // While it stays down, each round is one probe, whatever the back-offs.
        for minutes in [1, 30] {
            s.clock.advance(Duration::minutes(minutes));
            let round = s.sync().await;
            assert_eq!((round.failed, round.answered()), (1, 0), "{round:?}");
        }
        let admin = s.who("admin").await;
        assert!(s.app.national_health(&admin).await.unwrap().down);
        // Back: the probe answers and everything owed goes at once, though back-offs run on.
        s.fake.set_mode(Mode::default());
        let round = s.sync().await;
        assert_eq!((round.records, round.failed), (16, 0), "{round:?}");
        let held = s.held();
        assert!(codes.iter().all(|c| held["dossiers"].get(c).is_some()));
        assert_eq!(held["creates"], 16, "each created once");
        let h = s.app.national_health(&admin).await.unwrap();
        assert!(h.failing.is_empty() && !h.down, "{:?}", h.failing);
    }
);

impl Setup {
    fn clock_now(&self) -> time::OffsetDateTime {
        use egov_app::clock::Clock;
        self.clock.now()
    }
}

both!(the_operator_sees_the_health_and_retries_a_refusal, |db| {
    let fake = FakePortal::new(vec![("thanhhoa.egov".into(), "mat-khau-dong-bo".into())]);
    let (url, _stop) = serve_fake(&fake).await;
    let r = crate::start(db, |s| s.national_portal = national_settings(url.clone())).await;
    r.app.subscribe(SUBSCRIBER).await.unwrap();
    fake.set_mode(Mode {
        reject_field: Some("MaTTHC".into()),
        ..Mode::default()
    });
    let officer = r.app.actor_by_username("motcua.hacthanh").await.unwrap();
    let hac_thanh = r
        .app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap();
    let rec: Reception = serde_json::from_value(json!({
        "procedure_code": "9.000004",
        "receiving_agency_id": hac_thanh,
        "applicant": {"new": {"kind": "citizen", "identifier": "038190004571", "name": "Phạm Văn Nam"}},
        "components": [{"code": "TP1", "provided": true}, {"code": "GTTT", "provided": true}],
    }))
    .unwrap();
    let d = r.app.receive_dossier(&officer, rec).await.unwrap().dossier;
    let portal = HttpPortal::new(national_settings(url));
    assert_eq!(r.app.sync_national(&portal).await.unwrap().rejected, 1);

    // Only the system administrator sees the page.
    let mut c = r.client();
    c.sign_in("motcua.hacthanh", &r.password("motcua.hacthanh"), None)
        .await;
    assert_eq!(
        c.get("/admin/national-portal").await.status,
        axum::http::StatusCode::FORBIDDEN
    );
    let mut c = r.client();
    c.sign_in("admin", &r.password("admin"), Some(&r.totp_secret("admin")))
        .await;
    let page = c.get("/admin/national-portal").await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&d.code), "{}", page.body);
    assert!(page.body.contains("Trường MaTTHC không hợp lệ"));
    assert!(page.body.contains("0 %"), "nothing synchronised yet");
    assert!(
        page.body.contains("10 — đã trả kết quả"),
        "the status map is shown"
    );
    // Setting it aside needs a reason; then nothing of it is sent, and it is listed with it.
    let blank = c
        .post_form(
            &format!("/admin/national-portal/{}/set-aside", d.id),
            &[("csrf", &page.csrf()), ("reason", " ")],
        )
        .await;
    let flash = c.get(blank.location()).await;
    assert!(flash.body.contains("Ghi rõ lý do."), "{}", flash.body);
    let aside = c
        .post_form(
            &format!("/admin/national-portal/{}/set-aside", d.id),
            &[("csrf", &page.csrf()), ("reason", "Chờ Bộ cấp mã thủ tục")],
        )
        .await;
    let page = c.get(aside.location()).await;
    assert!(page.body.contains("Đã tạm gác hồ sơ"), "{}", page.body);
    assert!(page.body.contains("Chờ Bộ cấp mã thủ tục"));
    assert!(!page.body.contains("Trường MaTTHC không hợp lệ"));
    fake.set_mode(Mode::default());
    let round = r.app.sync_national(&portal).await.unwrap();
    assert_eq!(
        (round.records, round.rejected),
        (0, 0),
        "set aside: not sent"
    );
    assert_eq!(
        egov_store::national::get_record(&mut r.app.db(), d.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        "set_aside"
    );
    // The cause fixed, the operator retries; the next round sends it.
    let retry = c
        .post_form(
            &format!("/admin/national-portal/{}/retry", d.id),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(retry.status, axum::http::StatusCode::SEE_OTHER);
    assert_eq!(r.app.sync_national(&portal).await.unwrap().records, 1);
    let page = c.get("/admin/national-portal").await;
    assert!(page.body.contains("100 %"), "{}", page.body);
    assert!(!page.body.contains("Trường MaTTHC không hợp lệ"));
    // A reconciliation from the page: the portal holds the period's one dossier, up to date.
    let today = time::OffsetDateTime::now_utc()
        .to_offset(egov_domain::VN_OFFSET)
        .date();
    let rec = c
        .post_form(
            "/admin/national-portal/reconcile",
            &[
                ("csrf", &page.csrf()),
                ("from", &today.previous_day().unwrap().to_string()),
                ("to", &today.next_day().unwrap().to_string()),
            ],
        )
        .await;
    assert_eq!(rec.status, axum::http::StatusCode::OK, "{}", rec.body);
    assert!(rec.body.contains("Đã tra cứu 1 hồ sơ"), "{}", rec.body);
    assert!(rec.body.contains("Cổng có đủ và đúng mọi hồ sơ của kỳ."));
    let backwards = c
        .post_form(
            "/admin/national-portal/reconcile",
            &[
                ("csrf", &page.csrf()),
                ("from", &today.to_string()),
                ("to", &today.previous_day().unwrap().to_string()),
            ],
        )
        .await;
    assert_eq!(
        backwards.status,
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(
        backwards
            .body
            .contains("Ngày kết thúc phải sau ngày bắt đầu.")
    );
    // A second retry has nothing to send again.
    let again = c
        .post_form(
            &format!("/admin/national-portal/{}/retry", d.id),
            &[("csrf", &page.csrf())],
        )
        .await;
    let flash = c.get(again.location()).await;
    assert!(
        flash.body.contains("không có nội dung nào bị tạm gác"),
        "{}",
        flash.body
    );
});

both!(
    a_reconciliation_finds_what_the_portal_lost_and_sends_it_again,
    |db| {
        let s = setup(db).await;
        let (lost_id, lost, v) = s.receive("038190004580").await;
        s.act("motcua.hacthanh", lost_id, v, json!({"event": "transfer"}))
            .await;
        let (_, stale, _) = s.receive("038190004581").await;
        let (_, fine, _) = s.receive("038190004582").await;
        s.sync().await;
        assert_eq!(s.progress(&lost).len(), 1);
        // The portal loses one dossier and holds another with an older status.
        s.fake.forget(&lost);
        s.fake.alter(&stale, "TrangThaiHoSo", "1");
        let admin = s.who("admin").await;
        let (from, to) = (
            datetime!(2026-12-01 00:00 +7),
            datetime!(2027-01-01 00:00 +7),
        );
        let r = s
            .app
            .reconcile_national(&admin, &s.portal, from, to, false)
            .await
            .unwrap();
        assert_eq!(r.checked, 3);
        assert_eq!(r.missing, vec![lost.clone()]);
        assert_eq!(
            r.stale,
            vec![(stale.clone(), vec!["TrangThaiHoSo".to_owned()])]
        );
        assert!(!r.missing.contains(&fine) && r.rejected.is_empty());
        // Only a system administrator reconciles.
        let officer = s.who("motcua.hacthanh").await;
        assert_eq!(
            s.app
                .reconcile_national(&officer, &s.portal, from, to, false)
                .await
                .unwrap_err()
                .code,
            "forbidden"
        );
        // Sent again: the lost dossier as a create with its progress, the stale one as an update.
        let r = s
            .app
            .reconcile_national(&admin, &s.portal, from, to, true)
            .await
            .unwrap();
        assert!(r.requeued);
        let round = s.sync().await;
        assert_eq!((round.records, round.progress), (2, 1), "{round:?}");
        let r = s
            .app
            .reconcile_national(&admin, &s.portal, from, to, false)
            .await
            .unwrap();
        assert!(
            r.missing.is_empty() && r.stale.is_empty() && r.lost_progress.is_empty(),
            "{r:?}"
        );
        assert_eq!(s.held()["dossiers"][&stale]["TrangThaiHoSo"], "2");
        assert_eq!(s.progress(&lost).len(), 1);
    }
);

both!(
    a_result_file_that_disappeared_is_a_refusal_the_operator_sees,
    |db| {
        let s = setup(db).await;
        let (id, code, v) = s.receive("038190004590").await;
        let v = s
            .act("motcua.hacthanh", id, v, json!({"event": "transfer"}))
            .await;
        let v = s
            .act("congchuc.hacthanh", id, v, json!({"event": "transfer"}))
            .await;
        let (_, scan) = s.finish_with_result(id, v, "16/XN-UBND").await;
        // The file is gone from the disk before the portal fetches it.
        let path = egov_store::blobs::BlobStore::new(s.app.settings.blob_dir())
            .path(&scan)
            .unwrap();
        std::fs::remove_file(path).unwrap();
        let round = s.sync().await;
        assert_eq!(round.rejected, 1, "{round:?}");
        let row = egov_store::national::get_record(&mut s.app.db(), id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.state, "rejected");
        assert!(
            row.last_error
                .as_deref()
                .unwrap()
                .starts_with("DuongDanTepTinKetQua:"),
            "{row:?}"
        );
        let admin = s.who("admin").await;
        let h = s.app.national_health(&admin).await.unwrap();
        assert!(h.rejected.iter().any(|r| r.dossier_code == code && r.message.contains("Không tải được tệp kết quả")));
        // Refused whole: the portal keeps nothing of the record until the file is back.
        assert!(s.held()["dossiers"].get(&code).is_none());
    }
);

/// A file of `crates/app/tests/fixtures/national/`.
fn fixture_file(name: &str) -> Vec<u8> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../app/tests/fixtures/national"
    );
    std::fs::read(format!("{dir}/{name}")).unwrap()
}

/// The first record of a fixture's answer (`result[0]`).
fn fixture_record(name: &str) -> Value {
    let answer: Value = serde_json::from_slice(&fixture_file(name)).unwrap();
    answer["result"][0].clone()
}

/// The fixture's submission and its two files, as a citizen makes it on the portal.
fn submission() -> (Value, Vec<(String, Vec<u8>)>) {
    let files = [
        ("TT-20261207-000456", "to-khai.pdf"),
        ("TT-20261207-000457", "can-cuoc.pdf"),
    ]
    .into_iter()
    .map(|(id, name)| (id.to_owned(), fixture_file(&format!("files/{name}"))))
    .collect();
    (fixture_record("layhosomoi-answer.json"), files)
}

both!(
    a_submission_on_the_portal_is_taken_in_once_accepted_and_reported_back,
    |db| {
        let s = setup(db).await;
        let (item, files) = submission();
        let code = egov_store::agencies::get(&mut s.app.db(), s.hac_thanh)
            .await
            .unwrap()
            .code;
        assert_eq!(
            item["MaDonViTiepNhan"],
            code.as_str(),
            "the fixture names Hạc Thành"
        );
        s.fake.submit(item.clone(), files.clone());
        let round = s.app.intake_national(&s.portal).await.unwrap();
        let troubles = egov_store::national_inbox::troubles(&mut s.app.db(), 5)
            .await
            .unwrap();
        assert_eq!(
            (round.pulled, round.taken, round.held),
            (1, 1, 0),
            "{round:?} {troubles:?}"
        );
        let d = egov_store::onestop::find_dossier_by_national_code(
            &mut s.app.db(),
            "G22.31-20261207-0000123",
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(d.state.as_str(), "submitted");
        assert_eq!(d.channel.as_str(), "online");
        assert!(d.eid_verified && d.paid_online);
        assert_eq!(d.receiving_agency_id, s.hac_thanh);
        // It waits in the Hạc Thành one-stop officer's queue.
        let officer = s.who("motcua.hacthanh").await;
        let queue = s.app.my_queue(&officer, 50).await.unwrap();
        assert!(queue.iter().any(|q| q.id == d.id), "in the officer's queue");
        let online = s.app.online_queue(&officer, 50).await.unwrap();
        assert_eq!(
            online.iter().map(|q| q.id).collect::<Vec<_>>(),
            vec![d.id],
            "and among the online ones to check"
        );
        // Its files are in the file store, as announced.
        let comps = egov_store::onestop::components(&mut s.app.db(), d.id)
            .await
            .unwrap();
        let shas: Vec<_> = comps.iter().filter_map(|c| c.blob_sha.clone()).collect();
        assert_eq!(
            shas,
            vec![
                item["ThanhPhanHoSo"][0]["GiayToDinhKem"][0]["HashTepTin"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                item["ThanhPhanHoSo"][1]["GiayToDinhKem"][0]["HashTepTin"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ]
        );
        // The same submission again (the portal offers it twice): recognised, nothing made.
        s.fake.submit(item, files);
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!(
            (round.pulled, round.duplicates, round.taken),
            (0, 1, 0),
            "{round:?}"
        );
        // The officer accepts it; the portal's own dossier is updated (never created twice).
        s.act(
            "motcua.hacthanh",
            d.id,
            d.version,
            json!({"event": "receive"}),
        )
        .await;
        let round = s.sync().await;
        assert_eq!(round.rejected, 0, "{round:?}");
        let held = s.held();
        let on_portal = &held["dossiers"]["G22.31-20261207-0000123"];
        assert_eq!(on_portal["TrangThaiHoSo"], "2");
        assert_eq!(on_portal["KenhThucHien"], "2");
        assert_eq!(on_portal["TaiKhoanDuocXacThucVoiVNeID"], "1");
        assert_eq!(
            held["creates"], 0,
            "the portal's dossier is updated, not created again"
        );
        assert!(held["dossiers"].get(&d.code).is_none());
    }
);

both!(
    a_submission_that_cannot_be_taken_in_is_held_with_its_reason_and_the_rest_go_on,
    |db| {
        let s = setup(db).await;
        let (item, files) = submission();
        let variant = |code: &str, f: &dyn Fn(&mut Value)| {
            let mut v = item.clone();
            v["MaHoSo"] = json!(code);
            f(&mut v);
            v
        };
        s.fake.submit(
            variant("G22.31-20261207-0000201", &|v| {
                v["MaDonViTiepNhan"] = json!("000.00.99.H56")
            }),
            files.clone(),
        );
        s.fake.submit(
            variant("G22.31-20261207-0000202", &|v| {
                v["MaTTHC"] = json!("1.999999")
            }),
            files.clone(),
        );
        s.fake.submit(
            variant("G22.31-20261207-0000203", &|v| {
                v["ThongTinNguoiNop"]["SoDinhDanh"] = json!(null)
            }),
            files.clone(),
        );
        // A file that is not the one announced.
        s.fake.submit(
            variant("G22.31-20261207-0000204", &|v| {
                v["ThanhPhanHoSo"][1]["GiayToDinhKem"][0]["IdGiayTo"] = json!("TT-20261207-000999")
            }),
            vec![(
                "TT-20261207-000999".into(),
                b"%PDF-1.4\n% another file\n%%EOF\n".to_vec(),
            )],
        );
        // A form that does not match the procedure's version: a component it does not have.
        s.fake.submit(
            variant("G22.31-20261207-0000205", &|v| {
                v["ThanhPhanHoSo"][1]["MaThanhPhanHoSo"] = json!("GIAYKETHON")
            }),
            files.clone(),
        );
        // The portal also offers one for an agency egov did not ask about.
        s.fake.set_mode(Mode {
            offer_all: true,
            ..Mode::default()
        });
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!((round.pulled, round.held), (5, 5), "{round:?}");
        let held: std::collections::BTreeMap<String, String> =
            egov_store::national_inbox::troubles(&mut s.app.db(), 10)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.national_code, r.problem_code.unwrap()))
                .collect();
        assert_eq!(held["G22.31-20261207-0000201"], "unknown_agency");
        assert_eq!(held["G22.31-20261207-0000202"], "procedure_not_in_force");
        assert_eq!(held["G22.31-20261207-0000203"], "malformed_submission");
        assert_eq!(held["G22.31-20261207-0000204"], "file_hash_mismatch");
        assert_eq!(held["G22.31-20261207-0000205"], "unknown_component");
        // Nothing half-made: no dossier for any of them.
        for code in held.keys() {
            assert!(
                egov_store::onestop::find_dossier_by_national_code(&mut s.app.db(), code)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
        // The next good one goes through.
        s.fake.submit(item, files);
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!((round.taken, round.held), (1, 0), "{round:?}");
    }
);

both!(
    a_departments_online_dossier_waits_at_the_provinces_centre,
    |db| {
        let s = setup(db).await;
        let (mut item, files) = submission();
        let stc = egov_store::agencies::find_by_short_name(&mut s.app.db(), "STC")
            .await
            .unwrap()
            .unwrap();
        item["MaHoSo"] = json!("G22.31-20261207-0000301");
        item["MaTTHC"] = json!("9.000016");
        item["MaDonViTiepNhan"] = json!(stc.code);
        item["ThanhPhanHoSo"][1]["MaThanhPhanHoSo"] = json!("TP2");
        s.fake.submit(item, files);
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!(round.taken, 1, "{round:?}");
        let d = egov_store::onestop::find_dossier_by_national_code(
            &mut s.app.db(),
            "G22.31-20261207-0000301",
        )
        .await
        .unwrap()
        .unwrap();
        let centre = egov_store::agencies::find_by_short_name(&mut s.app.db(), "TTPVHCC")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(centre.code, "000.00.13.H56");
        assert_eq!(
            (d.receiving_agency_id, d.competent_agency_id),
            (centre.id, stc.id)
        );
    }
);

/// The fixture's supplement to the submission, and its file.
fn supplement() -> (Value, Vec<(String, Vec<u8>)>) {
    (
        fixture_record("layhosomoi-answer-supplement.json"),
        vec![(
            "TT-20261207-000512".into(),
            fixture_file("files/can-cuoc-bo-sung.pdf"),
        )],
    )
}

both!(
    an_online_dossier_asked_for_a_supplement_gets_it_through_the_portal,
    |db| {
        let s = setup(db).await;
        let (item, files) = submission();
        s.fake.submit(item, files);
        s.app.intake_national(&s.portal).await.unwrap();
        let code = "G22.31-20261207-0000123";
        let d = egov_store::onestop::find_dossier_by_national_code(&mut s.app.db(), code)
            .await
            .unwrap()
            .unwrap();
        // A supplement the officer did not ask for is held, and changes nothing.
        let (sup, sup_files) = supplement();
        s.fake.submit(sup.clone(), sup_files.clone());
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!((round.pulled, round.held), (1, 1), "{round:?}");
        let held = egov_store::national_inbox::troubles(&mut s.app.db(), 5)
            .await
            .unwrap();
        assert_eq!(
            held[0].problem_code.as_deref(),
            Some("no_supplement_requested")
        );
        // The officer checks it and asks for a clearer copy before accepting; the portal hears it.
        s.clock.advance(Duration::minutes(20));
        let v = s
            .act(
                "motcua.hacthanh",
                d.id,
                d.version,
                json!({"event": "request_supplement", "items": ["Bản chụp căn cước rõ nét"]}),
            )
            .await;
        s.sync().await;
        assert_eq!(s.held()["dossiers"][code]["TrangThaiHoSo"], "5");
        // The citizen supplements on the portal (the held one, retried, now applies).
        let id = held[0].id;
        s.app
            .retry_submission(&s.who("admin").await, id)
            .await
            .unwrap();
        s.clock.advance(Duration::minutes(20));
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!(round.taken, 1, "{round:?}");
        let after = egov_store::onestop::get_dossier(&mut s.app.db(), d.id)
            .await
            .unwrap();
        assert_eq!(
            after.state.as_str(),
            "submitted",
            "back to the officer's check"
        );
        assert!(after.version > v);
        let comps = egov_store::onestop::components(&mut s.app.db(), d.id)
            .await
            .unwrap();
        let gttt = comps.iter().find(|c| c.code == "GTTT").unwrap();
        assert_eq!(
            gttt.blob_sha.as_deref(),
            sup["ThanhPhanHoSo"][0]["GiayToDinhKem"][0]["HashTepTin"].as_str()
        );
        // Accepted: the portal's dossier is received, its supplement answered.
        s.act(
            "motcua.hacthanh",
            d.id,
            after.version,
            json!({"event": "receive"}),
        )
        .await;
        s.sync().await;
        let on_portal = &s.held()["dossiers"][code];
        assert_eq!(on_portal["TrangThaiHoSo"], "2");
        assert_eq!(on_portal["DanhSachHoSoBoSung"][0]["TrangThaiBoSung"], "1");
        // The same supplement offered again is recognised, not applied twice.
        s.fake.submit(sup, sup_files);
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!((round.duplicates, round.taken), (1, 0), "{round:?}");
    }
);

both!(
    a_citizens_dossier_goes_round_the_whole_loop_through_the_portals_pages,
    |db| {
        use crate::client::{Client, Part};
        let s = setup(db).await;
        let mut citizen = Client::new(&s.fake_url);
        let hac_thanh = egov_store::agencies::get(&mut s.app.db(), s.hac_thanh)
            .await
            .unwrap()
            .code;
        let to_khai = fixture_file("files/to-khai.pdf");
        let can_cuoc = fixture_file("files/can-cuoc.pdf");
        // The citizen submits on the portal's page, signed in with VNeID.
        let r = citizen
            .post_multipart(
                "/submit",
                &[
                    Part::Text("agency", &hac_thanh),
                    Part::Text("procedure", "9.000004"),
                    Part::Text("subject", "Xác nhận tình trạng hôn nhân"),
                    Part::Text("name", "Trịnh Văn Hùng"),
                    Part::Text("id", "038190004620"),
                    Part::Text("c1", "TP1"),
                    Part::File("f1", "to-khai.pdf", "application/pdf", &to_khai),
                    Part::Text("c2", "GTTT"),
                    Part::File("f2", "can-cuoc.pdf", "application/pdf", &can_cuoc),
                    Part::Text("vneid", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let code = r
            .body
            .split("<strong>")
            .nth(1)
            .and_then(|x| x.split('<').next())
            .unwrap()
            .to_owned();
        let portal_status = || s.held()["dossiers"][&code]["TrangThaiHoSo"].clone();
        assert_eq!(portal_status(), "1");
        // egov takes it in; it waits for the officer's check, no clock running.
        let round = s.app.intake_national(&s.portal).await.unwrap();
        let troubles = egov_store::national_inbox::troubles(&mut s.app.db(), 5)
            .await
            .unwrap();
        assert_eq!(round.taken, 1, "{round:?} {troubles:?}");
        let d = egov_store::onestop::find_dossier_by_national_code(&mut s.app.db(), &code)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.state.as_str(), "submitted");
        assert!(d.eid_verified && !d.paid_online);
        assert!(d.appointment.is_none());
        // Nothing to answer on the portal until egov asks.
        let r = citizen.get(&format!("/supplement/{code}")).await;
        assert_eq!(r.status, 404);

        // Before accepting, the officer asks for a clearer copy of the ID card.
        s.clock.advance(Duration::minutes(15));
        let v = s
            .act(
                "motcua.hacthanh",
                d.id,
                d.version,
                json!({"event": "request_supplement", "items": ["Bản chụp căn cước rõ nét, đủ hai mặt"]}),
            )
            .await;
        s.sync().await;
        assert_eq!(portal_status(), "5");
        let page = citizen.get("/").await;
        assert!(
            page.body.contains(&format!("/supplement/{code}")),
            "{}",
            page.body
        );
        let ask = citizen.get(&format!("/supplement/{code}")).await;
        assert_eq!(ask.status, 200);
        assert!(
            ask.body.contains("Bản chụp căn cước rõ nét, đủ hai mặt"),
            "{}",
            ask.body
        );
        // A supplement with no file is refused by the portal, and nothing is offered.
        let empty = citizen
            .post_multipart(&format!("/supplement/{code}"), &[Part::Text("c1", "GTTT")])
            .await;
        assert_eq!(empty.status, 400);
        let clearer = fixture_file("files/can-cuoc-bo-sung.pdf");
        let r = citizen
            .post_multipart(
                &format!("/supplement/{code}"),
                &[
                    Part::Text("c1", "GTTT"),
                    Part::File("f1", "can-cuoc-ro.pdf", "application/pdf", &clearer),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        s.clock.advance(Duration::minutes(15));
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!((round.taken, round.held), (1, 0), "{round:?}");
        let d = egov_store::onestop::get_dossier(&mut s.app.db(), d.id)
            .await
            .unwrap();
        assert_eq!(d.state.as_str(), "submitted", "back in the officer's check");
        assert!(d.version > v);
        assert!(d.appointment.is_none(), "still no clock before acceptance");

        // Accepted: the appointment runs from this instant; the portal hears status 2.
        s.clock.advance(Duration::minutes(10));
        let accepted_at = s.app.now();
        let v = s
            .act(
                "motcua.hacthanh",
                d.id,
                d.version,
                json!({"event": "receive"}),
            )
            .await;
        s.sync().await;
        let on_portal = s.held()["dossiers"][&code].clone();
        assert_eq!(on_portal["TrangThaiHoSo"], "2");
        assert_eq!(
            on_portal["NgayTiepNhan"],
            egov_domain::national::DateStyle::Compact.format(accepted_at)
        );
        assert_eq!(on_portal["DanhSachHoSoBoSung"][0]["TrangThaiBoSung"], "1");
        let first_appointment = egov_store::onestop::get_dossier(&mut s.app.db(), d.id)
            .await
            .unwrap()
            .appointment
            .unwrap();

        // During processing the specialist asks for one more paper; it comes back the same way
        // and the clock resumes with the time it was paused added.
        let v = s
            .act("motcua.hacthanh", d.id, v, json!({"event": "transfer"}))
            .await;
        s.clock.advance(Duration::hours(1));
        s.act(
            "congchuc.hacthanh",
            d.id,
            v,
            json!({"event": "request_supplement", "items": ["Trích lục bản án ly hôn"]}),
        )
        .await;
        s.sync().await;
        assert_eq!(portal_status(), "5");
        let ask = citizen.get(&format!("/supplement/{code}")).await;
        assert!(ask.body.contains("Trích lục bản án ly hôn"), "{}", ask.body);
        s.clock.advance(Duration::hours(24));
        let r = citizen
            .post_multipart(
                &format!("/supplement/{code}"),
                &[
                    Part::Text("c1", "GTTT"),
                    Part::File("f1", "trich-luc.pdf", "application/pdf", &clearer),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!((round.taken, round.held), (1, 0), "{round:?}");
        let d = egov_store::onestop::get_dossier(&mut s.app.db(), d.id)
            .await
            .unwrap();
        assert_eq!(d.state.as_str(), "processing");
        assert!(
            d.appointment.unwrap() > first_appointment,
            "the pause moved the appointment"
        );
        s.sync().await;
        let on_portal = s.held()["dossiers"][&code].clone();
        assert_eq!(on_portal["DanhSachHoSoBoSung"][1]["TrangThaiBoSung"], "1");
        assert_ne!(on_portal["DanhSachHoSoBoSung"][1]["NgayHenTraMoi"], "");

        // Handled, decided and returned; the portal sees each step and the end.
        s.clock.advance(Duration::hours(1));
        let v = s
            .act(
                "congchuc.hacthanh",
                d.id,
                d.version,
                json!({"event": "transfer"}),
            )
            .await;
        s.clock.advance(Duration::hours(1));
        let (v, _) = s.finish_with_result(d.id, v, "31/XN-UBND").await;
        s.act(
            "motcua.hacthanh",
            d.id,
            v,
            json!({"event": "return_result", "returned_to": "Trịnh Văn Hùng"}),
        )
        .await;
        let round = s.sync().await;
        assert_eq!((round.rejected, round.failed), (0, 0), "{round:?}");
        let held = s.held();
        assert_eq!(held["dossiers"][&code]["TrangThaiHoSo"], "10");
        assert_eq!(held["creates"], 0, "the portal's own dossier, only updated");
        assert!(s.progress(&code).len() >= 3, "{:?}", s.progress(&code));
        // Nothing more to answer.
        let r = citizen.get(&format!("/supplement/{code}")).await;
        assert_eq!(r.status, 404);
    }
);

both!(
    an_online_dossier_refused_at_the_check_is_refused_on_the_portal,
    |db| {
        let s = setup(db).await;
        let (item, files) = submission();
        s.fake.submit(item, files);
        s.app.intake_national(&s.portal).await.unwrap();
        let code = "G22.31-20261207-0000123";
        let d = egov_store::onestop::find_dossier_by_national_code(&mut s.app.db(), code)
            .await
            .unwrap()
            .unwrap();
        s.act(
            "motcua.hacthanh",
            d.id,
            d.version,
            json!({"event": "refuse", "note": "Người yêu cầu không cư trú trên địa bàn phường"}),
        )
        .await;
        let round = s.sync().await;
        assert_eq!(round.rejected, 0, "{round:?}");
        let on_portal = &s.held()["dossiers"][code];
        assert_eq!(on_portal["TrangThaiHoSo"], "3");
        let d = egov_store::onestop::get_dossier(&mut s.app.db(), d.id)
            .await
            .unwrap();
        assert_eq!(d.state.as_str(), "rejected");
        assert!(
            s.app
                .online_queue(&s.who("motcua.hacthanh").await, 50)
                .await
                .unwrap()
                .is_empty(),
            "no longer waiting for a check"
        );
    }
);

both!(
    a_file_that_does_not_arrive_leaves_the_submission_waiting_and_nothing_half_made,
    |db| {
        let s = setup(db).await;
        let (item, files) = submission();
        s.fake.submit(item, files);
        s.fake.set_mode(Mode {
            files_hang: true,
            ..Mode::default()
        });
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!(
            (round.pulled, round.taken, round.failed),
            (1, 0, 1),
            "{round:?}"
        );
        let code = "G22.31-20261207-0000123";
        assert!(
            egov_store::onestop::find_dossier_by_national_code(&mut s.app.db(), code)
                .await
                .unwrap()
                .is_none()
        );
        // Listed for the operator as waiting, with the cause; tried again after its back-off.
        let h = s.app.intake_health(&s.who("admin").await).await.unwrap();
        let t = h.troubles.iter().find(|t| t.national_code == code).unwrap();
        assert_eq!((t.state.as_str(), t.attempts), ("pending", 1));
        assert!(!t.problem.is_empty());
        s.fake.set_mode(Mode::default());
        assert_eq!(
            s.app.intake_national(&s.portal).await.unwrap().taken,
            0,
            "not before its back-off"
        );
        s.clock.advance(Duration::minutes(1));
        assert_eq!(s.app.intake_national(&s.portal).await.unwrap().taken, 1);
    }
);

both!(
    the_national_catalogue_is_pulled_compared_and_published_after_review,
    |db| {
        let s = setup(db).await;

        // 9.000004 now takes two working days instead of three; 2.002516 egov does not have; one
        // entry lacks its time limit.
        let changed = fixture_record("laythutuc-answer.json");
        let mut new = changed.clone();
        new["MATTHC"] = json!("2.002516");
        new["TENTTHC"] = json!("Đăng ký khai sinh có yếu tố nước ngoài");
        let mut bad = changed.clone();
        bad["MATTHC"] = json!("2.000001");
        bad["CACHTHUCTHUCHIEN"] = json!([]);
        for p in [changed, new, bad] {
            s.fake.publish_procedure(p);
        }
        let admin = s.who("admin").await;
        let pull = s.app.pull_catalogue(&s.portal).await.unwrap();
        assert_eq!(
            (pull.listed, pull.changed, pull.new, pull.bad),
            (3, 1, 1, 1),
            "{pull:?}"
        );
        let review = s.app.catalogue_review(&admin).await.unwrap();
        let entry = |code: &str| {
            review
                .entries
                .iter()
                .find(|e| e.code == code)
                .unwrap()
                .clone()
        };
        // The seeded version predates the announcement's facts: publishing adds them.
        assert_eq!(
            entry("9.000004").differences,
            vec!["statutory_limit", "announcement"]
        );
        assert_eq!(entry("2.002516").state, "new");
        assert!(
            entry("2.000001").problem.contains("THOIGIAN"),
            "{:?}",
            entry("2.000001")
        );
        // Nothing changes in egov until the administrator publishes.
        let today = s.app.today();
        let before = egov_store::onestop::procedure_in_force(&mut s.app.db(), "9.000004", today)
            .await
            .unwrap()
            .unwrap();
        let tomorrow = today.next_day().unwrap();
        let v = s
            .app
            .publish_national_procedure(&admin, "9.000004", tomorrow)
            .await
            .unwrap();
        assert_eq!(v, before.version + 1);
        let now_in_force = |d| {
            let app = s.app.clone();
            async move {
                let row = egov_store::onestop::procedure_in_force(&mut app.db(), "9.000004", d)
                    .await
                    .unwrap()
                    .unwrap();
                serde_json::from_str::<Value>(&row.data_json).unwrap()
            }
        };
        assert_eq!(
            now_in_force(today).await["statutory_limit"]["value"],
            json!(3.0)
        );
        let next = now_in_force(tomorrow).await;
        assert_eq!(next["statutory_limit"]["value"], json!(2.0));
        assert_eq!(
            next["receivable_anywhere"],
            json!(true),
            "egov's own settings kept"
        );
        // The facts Decision 766 reads are on the new version.
        assert_eq!(next["announcement"]["decision"], "1234/QĐ-BTP");
        assert_eq!(next["announcement"]["legal_effective"], "2026-12-01");
        assert_eq!(next["announcement"]["online_payment"], true);
        assert_eq!(
            next["announcement"]["applicant_types"],
            json!(["Công dân Việt Nam"])
        );
        // Published once; a second time there is nothing new.
        let again = s
            .app
            .publish_national_procedure(&admin, "9.000004", tomorrow)
            .await
            .unwrap_err();
        assert_eq!(again.code.as_str(), "nothing_to_publish");
        let past = s
            .app
            .publish_national_procedure(&admin, "2.002516", today.previous_day().unwrap())
            .await
            .unwrap_err();
        assert_eq!(past.code.as_str(), "bad_date");
        // A national code egov already reports one of its own procedures under (the
        // province's TH.HT.01 is mapped to 9.000004): not offered as new beside it.
        egov_store::Exec::execute(
            &mut s.app.db(),
            "UPDATE procedures SET code = 'TH.HT.01' WHERE code = '9.000004'",
            egov_store::args![],
        )
        .await
        .unwrap();
        s.app.pull_catalogue(&s.portal).await.unwrap();
        let review = s.app.catalogue_review(&admin).await.unwrap();
        let clash = review
            .entries
            .iter()
            .find(|e| e.code == "9.000004")
            .unwrap();
        assert_eq!(clash.state, "bad");
        assert!(clash.problem.contains("TH.HT.01"), "{clash:?}");
        let refused = s
            .app
            .publish_national_procedure(&admin, "9.000004", tomorrow)
            .await
            .unwrap_err();
        assert_eq!(refused.code.as_str(), "nothing_to_publish");
    }
);

both!(
    citizens_ratings_and_feedback_are_attached_to_their_dossiers_and_agencies,
    |db| {
        let s = setup(db).await;
        let (item, files) = submission();
        s.fake.submit(item, files);
        s.app.intake_national(&s.portal).await.unwrap();
        s.fake.rate(fixture_record("laydanhgia-answer.json"));
        s.fake.rate(json!({"MaHoSo": "G22.31-20261207-0000123", "DiemDanhGia": "9", "NgayDanhGia": "20261208093000"}));
        s.fake
            .send_feedback(fixture_record("layphananh-answer.json"));
        let round = s.app.intake_national(&s.portal).await.unwrap();
        assert_eq!((round.opinions, round.unreadable), (2, 1), "{round:?}");
        let d = egov_store::onestop::find_dossier_by_national_code(
            &mut s.app.db(),
            "G22.31-20261207-0000123",
        )
        .await
        .unwrap()
        .unwrap();
        // The officer sees the rating on the dossier.
        let officer = s.who("motcua.hacthanh").await;
        let rating = s
            .app
            .dossier_detail(&officer, d.id)
            .await
            .unwrap()
            .rating
            .unwrap();
        assert_eq!(rating.score, 5);
        assert!(rating.comment.contains("tận tình"));
        // And the form the applicant filled in on the portal, as it came.
        let form = s
            .app
            .dossier_detail(&officer, d.id)
            .await
            .unwrap()
            .online_form;
        assert!(
            form.contains(&("MucDichSuDung".to_owned(), "Đăng ký kết hôn".to_owned())),
            "{form:?}"
        );
        // The agency's month shows the satisfaction figures and the feedback about it.
        let leader = s.who("chutich.hacthanh").await;
        let month = s
            .app
            .monthly_stats(&leader, s.hac_thanh, "2026-12")
            .await
            .unwrap()
            .satisfaction;
        assert_eq!(
            (month.rated, month.average_score, month.dissatisfied),
            (1, 5.0, 0)
        );
        assert_eq!((month.feedback_received, month.feedback_handled), (1, 1));
        assert_eq!(month.feedback[0].national_id, "PAKN-2026-000731");
        assert_eq!(month.feedback[0].procedure_code, "9.000004");
        let november = s
            .app
            .monthly_stats(&leader, s.hac_thanh, "2026-11")
            .await
            .unwrap()
            .satisfaction;
        assert_eq!((november.rated, november.feedback_received), (0, 0));
        let o = s.app.opinions(&s.who("admin").await).await.unwrap();
        assert_eq!(o.ratings, vec![(5, 1)]);
        assert_eq!((o.feedback, o.handled, o.unknown_agency), (1, 1, 0));
        // Pulled again, nothing is counted twice.
        assert_eq!(s.app.intake_national(&s.portal).await.unwrap().opinions, 0);
    }
);
