//! The scorecard's pages over HTTP: the leader's index and the lists behind it (a page and a
//! workbook), the dashboard, what-if, the public statistics, and what a commune's chair may not
//! see.

use hyper::http::StatusCode;

use super::{Running, both, start};
use crate::Client;

async fn signed_in(r: &Running, user: &str) -> Client {
    let mut c = r.client();
    let totp = r
        .accounts
        .iter()
        .find(|a| a.username == user)
        .and_then(|a| a.totp_secret.clone());
    c.sign_in(user, &r.password(user), totp.as_deref()).await;
    c
}

/// One dossier received at Hạc Thành's counter today.
async fn one_dossier(r: &Running) -> i64 {
    let app = &r.app;
    let hac_thanh = app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap();
    let mut reception: egov_app::onestop::dossiers::Reception =
        serde_json::from_value(serde_json::json!({
            "procedure_code": "9.000004",
            "receiving_agency_id": hac_thanh,
            "applicant": {"new": {"kind": "citizen", "identifier": "038185001234",
                "name": "Lê Thị Hồng", "phone": "0912345678"}},
            "components": [{"code": "TP1", "provided": true}, {"code": "GTTT", "provided": true}],
            "subject": "Xác nhận tình trạng hôn nhân"
        }))
        .unwrap();
    reception.channel = None;
    app.receive_dossier(&egov_app::Actor::system("test"), reception)
        .await
        .unwrap();
    hac_thanh
}

both!(
    the_leaders_pages_show_the_index_and_what_is_behind_it,
    |db| {
        let r = start(db, |_| {}).await;
        let hac_thanh = one_dossier(&r).await;
        let mut c = signed_in(&r, "chutich.tinh").await;
        let page = c.get("/scorecard").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Toàn tỉnh"));
        assert!(page.body.contains("id=\"i-2.1\""));
        // 3.3: the one dossier came at the counter, so the online list is empty and the
        // "not met" list holds it.
        let today = r.app.today();
        let q = format!("from={today}&to={today}&agency={hac_thanh}");
        let l = c
            .get(&format!("/scorecard/list?{q}&indicator=3.3&side=missing"))
            .await;
        assert_eq!(l.status, StatusCode::OK, "{}", l.body);
        assert!(l.body.contains("000.02.90.H56-"), "{}", l.body);
        assert!(l.body.contains("/onestop/dossiers/"));
        let x = c
            .get(&format!(
                "/scorecard/list?{q}&indicator=3.3&side=missing&format=xlsx"
            ))
            .await;
        assert_eq!(x.status, StatusCode::OK);
        assert!(x.bytes.starts_with(b"PK"), "an xlsx is a zip");
        // A period backwards and an indicator that does not exist: clear errors.
        let bad = c.get("/scorecard?from=2026-12-01&to=2026-11-01").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("bad_period"), "{}", bad.body);
        let bad = c.get(&format!("/scorecard/list?{q}&indicator=7.7")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.body.contains("unknown_indicator"));
        // The dashboard and what-if.
        let d = c.get("/dashboard").await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.body);
        assert!(d.body.contains("<svg class=\"chart\""));
        let w = c
            .get(&format!("/scorecard/what-if?agency={hac_thanh}"))
            .await;
        assert_eq!(w.status, StatusCode::OK, "{}", w.body);
        assert!(
            w.body.contains("name=\"d\""),
            "the day's dossier is a candidate"
        );
    }
);

both!(a_communes_chair_sees_their_commune_only, |db| {
    let r = start(db, |_| {}).await;
    let hac_thanh = one_dossier(&r).await;
    let dong_son = r
        .app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "16378")
        .await
        .unwrap();
    let mut c = signed_in(&r, "chutich.hacthanh").await;
    // Without a scope: their commune, not the province.
    let page = c.get("/scorecard").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("<option value=\"\">Toàn tỉnh"));
    for path in [
        format!("/scorecard?agency={dong_son}"),
        format!("/scorecard/list?agency={dong_son}&indicator=2.1&side=missing"),
        format!("/dashboard?agency={dong_son}"),
        format!("/scorecard/what-if?agency={dong_son}"),
    ] {
        assert_eq!(c.get(&path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        c.get(&format!("/scorecard?agency={hac_thanh}"))
            .await
            .status,
        StatusCode::OK
    );
    // Not signed in: the public statistics, nothing else.
    let mut p = r.client();
    assert_ne!(p.get("/scorecard").await.status, StatusCode::OK);
    let open = p.get("/thong-ke").await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
    assert!(open.body.contains("Hạc Thành"), "{}", open.body);
    assert!(!open.body.contains("Lê Thị Hồng"), "no personal data");
    let csv = p.get("/thong-ke.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.contains(",1,0,"), "{}", csv.body);
    let json = p.get("/thong-ke.json").await.json();
    assert_eq!(json["rows"][0]["received"], 1, "{json}");
    assert_eq!(
        p.get("/thong-ke?year=1999").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
});

both!(an_administrator_corrects_the_definitions_on_a_page, |db| {
    let r = start(db, |_| {}).await;
    let mut c = signed_in(&r, "admin").await;
    let page = c.get("/admin/scorecard").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.csrf();
    let mut v: serde_json::Value = serde_json::from_str(egov_domain::scorecard::SHIPPED).unwrap();
    v["indicators"][0]["numerator"] = "procedures.announced_late".into();
    let refused = c
        .post_form(
            "/admin/scorecard",
            &[("csrf", &csrf), ("definitions", &v.to_string())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("scorecard_unknown_count"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("procedures.announced_late"),
        "the text as sent"
    );
    v["indicators"][0]["numerator"] = "procedures.announced_on_time".into();
    v["indicators"][3]["threshold"] = 70.0.into();
    let saved = c
        .post_form(
            "/admin/scorecard",
            &[("csrf", &csrf), ("definitions", &v.to_string())],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let d = r.app.scorecard_definitions().await.unwrap();
    assert_eq!(d.indicators[3].threshold, Some(70.0));
    // A chair is not an administrator.
    let mut chair = signed_in(&r, "chutich.tinh").await;
    assert_eq!(
        chair.get("/admin/scorecard").await.status,
        StatusCode::FORBIDDEN
    );
});
