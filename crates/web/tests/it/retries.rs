//! Requests sent twice are handled once (issue 24): an API client's retry with an
//! `Idempotency-Key`, on the same node or another; a form sent twice (a double click, a resend).

use egov_store::Exec;
use hyper::http::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::client::Part;
use super::{Client, Running, both, second_node, start};

async fn dossiers(r: &Running) -> i64 {
    egov_store::Exec::scalar(
        &mut r.app.db(),
        "SELECT COUNT(*) FROM dossiers",
        egov_store::args![],
    )
    .await
    .unwrap()
}

async fn officer(r: &Running) -> Client {
    let mut c = r.client();
    let s = c
        .json(
            Method::POST,
            "/api/v1/sessions",
            json!({"username": "motcua.hacthanh", "password": r.password("motcua.hacthanh")}),
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.body);
    c.bearer = Some(s.json()["token"].as_str().unwrap().to_owned());
    c
}

async fn post(c: &mut Client, key: &str, body: &serde_json::Value) -> super::client::Resp {
    c.send(
        Method::POST,
        "/api/v1/dossiers",
        Some("application/json"),
        body.to_string().into_bytes(),
        &[("idempotency-key", key)],
    )
    .await
}

/// The hash the server keys a receipt's POST by: its method and address, then its body.
fn receipt_hash(body: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(b"POST /api/v1/dossiers\n");
    h.update(body.to_string().as_bytes());
    hex::encode(h.finalize())
}

both!(a_retried_receipt_is_made_once_on_any_node, |db| {
    let a = start(db.clone(), |_| {}).await;
    let b = second_node(&a, db, |_| {}).await;
    let ward = a
        .app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap();
    let receipt = |identifier: &str| {
        json!({
            "procedure_code": "2.000815",
            "receiving_agency_id": ward,
            "applicant": {"new": {"kind": "citizen", "identifier": identifier,
                                  "name": "Phạm Văn Nam", "phone": "0987654321"}},
            "components": [{"code": "TP1", "provided": true}, {"code": "TP2", "provided": true}],
            "fee_units": 2
        })
    };
    let mut on_a = officer(&a).await;
    let mut on_b = b.client();
    on_b.bearer = on_a.bearer.clone();
    let before = dossiers(&a).await;

    // Sent to A, the answer lost, sent again to B: one dossier, the same answer.
    let body = receipt("038190004567");
    let first = post(&mut on_a, "3f1c2a9e-0001-receipt", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = post(&mut on_b, "3f1c2a9e-0001-receipt", &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers["content-type"], first.headers["content-type"]);
    assert_eq!(again.json()["dossier"]["id"], first.json()["dossier"]["id"]);
    assert_eq!(
        again.json()["dossier"]["code"],
        first.json()["dossier"]["code"]
    );
    assert_eq!(dossiers(&a).await, before + 1);

    // The key used for another request is refused, and nothing is written.
    let other = post(&mut on_b, "3f1c2a9e-0001-receipt", &receipt("038190009999")).await;
    assert_eq!(
        (other.status, other.error_code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    for bad in [
        "short",
        "has space in it",
        "a/slash/in/it",
        &"k".repeat(129),
    ] {
        let r = on_a
            .try_send(
                Method::POST,
                "/api/v1/dossiers",
                Some("application/json"),
                body.to_string().into_bytes(),
                &[("idempotency-key", bad)],
            )
            .await;
        if let Ok(r) = r {
            assert_eq!(r.error_code(), "bad_idempotency_key", "{bad}: {}", r.body);
        }
    }
    assert_eq!(dossiers(&a).await, before + 1);

    // A refused request changed nothing: corrected and sent with the same key, it runs.
    let mut wrong = receipt("038190005555");
    wrong["procedure_code"] = json!("9.999999");
    let refused = post(&mut on_a, "3f1c2a9e-0002-receipt", &wrong).await;
    assert_eq!(refused.status.as_u16() / 100, 4, "{}", refused.body);
    let corrected = post(&mut on_b, "3f1c2a9e-0002-receipt", &receipt("038190005555")).await;
    assert_eq!(corrected.status, StatusCode::CREATED, "{}", corrected.body);
    assert!(corrected.headers.get("idempotent-replayed").is_none());
    assert_eq!(dossiers(&a).await, before + 2);

    // One arriving while the first is being handled is told so; a claim whose node died
    // (older than the request timeout and half a minute) is taken over.
    let body = receipt("038190006666");
    let hash = receipt_hash(&body);
    let person = egov_store::people::find_by_username(&mut a.app.db(), "motcua.hacthanh")
        .await
        .unwrap()
        .unwrap()
        .id;
    let scope = format!("person:{person}");
    let now = egov_store::now();
    let claim = egov_store::replays::claim(
        &mut a.app.db(),
        &scope,
        "3f1c2a9e-0003-receipt",
        &hash,
        now,
        now - time::Duration::minutes(1),
    )
    .await
    .unwrap();
    assert!(matches!(claim, egov_store::replays::Claim::Claimed));
    let busy = post(&mut on_b, "3f1c2a9e-0003-receipt", &body).await;
    assert_eq!(
        (busy.status, busy.error_code().as_str()),
        (StatusCode::CONFLICT, "request_in_progress")
    );
    assert_eq!(busy.headers["retry-after"], "2");
    assert_eq!(dossiers(&a).await, before + 2);
    let mut db = a.app.db();
    db.execute(
        "UPDATE request_replays SET created_at = $1 WHERE key = $2",
        egov_store::args![now - time::Duration::minutes(5), "3f1c2a9e-0003-receipt"],
    )
    .await
    .unwrap();
    let taken = post(&mut on_a, "3f1c2a9e-0003-receipt", &body).await;
    assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
    assert_eq!(dossiers(&a).await, before + 3);
    // But one whose node died after it committed is not run again: a write transaction of
    // the request marked it as it committed, a read snapshot did not.
    let body = receipt("038190006767");
    let hash = receipt_hash(&body);
    let key = "3f1c2a9e-0005-receipt";
    egov_store::replays::claim(&mut a.app.db(), &scope, key, &hash, now, now)
        .await
        .unwrap();
    let effect = |writes: bool| {
        let db = a.app.db().clone();
        egov_store::replays::CURRENT.scope((scope.clone(), key.to_owned()), async move {
            let mut tx = if writes {
                db.begin().await.unwrap()
            } else {
                db.begin_snapshot().await.unwrap()
            };
            let _: i64 = tx
                .scalar("SELECT COUNT(*) FROM dossiers", egov_store::args![])
                .await
                .unwrap();
            tx.commit().await.unwrap();
        })
    };
    let marked = || async {
        let mut db = a.app.db();
        db.scalar::<i64>(
            "SELECT COUNT(*) FROM request_replays WHERE key = $1 AND effect_at IS NOT NULL",
            egov_store::args![key],
        )
        .await
        .unwrap()
    };
    effect(false).await;
    assert_eq!(marked().await, 0, "a read snapshot marks nothing");
    effect(true).await;
    assert_eq!(marked().await, 1);
    db.execute(
        "UPDATE request_replays SET created_at = $1 WHERE key = $2",
        egov_store::args![now - time::Duration::minutes(5), key],
    )
    .await
    .unwrap();
    for node in [&mut on_a, &mut on_b] {
        let lost = post(node, key, &body).await;
        assert_eq!(
            (lost.status, lost.error_code().as_str()),
            (StatusCode::CONFLICT, "request_answer_lost"),
            "{}",
            lost.body
        );
    }
    assert_eq!(dossiers(&a).await, before + 3);

    // Eight copies at once, on both nodes: one dossier; each answer is it or "in progress".
    let body = receipt("038190007777");
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..8 {
        let mut c = if i % 2 == 0 { a.client() } else { b.client() };
        c.bearer = on_a.bearer.clone();
        let body = body.clone();
        sends.spawn(async move { post(&mut c, "3f1c2a9e-0004-receipt", &body).await });
    }
    let answers = sends.join_all().await;
    let made: Vec<_> = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .map(|r| r.json()["dossier"]["id"].clone())
        .collect();
    assert!(!made.is_empty());
    assert!(made.iter().all(|id| *id == made[0]), "{made:?}");
    assert!(
        answers
            .iter()
            .all(|r| r.status == StatusCode::CREATED || r.error_code() == "request_in_progress"),
        "{:?}",
        answers.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    assert_eq!(dossiers(&a).await, before + 4);
    // Without a key, a request is simply handled (each one a new dossier).
    let plain = on_a
        .json(Method::POST, "/api/v1/dossiers", receipt("038190008888"))
        .await;
    assert_eq!(plain.status, StatusCode::CREATED);
    assert_eq!(dossiers(&a).await, before + 5);
});

both!(the_counter_form_sent_twice_makes_one_dossier, |db| {
    let r = start(db, |_| {}).await;
    let mut c = r.client();
    c.sign_in("motcua.hacthanh", &r.password("motcua.hacthanh"), None)
        .await;
    let form = c.get("/onestop/counter?procedure=2.000815").await;
    let key = {
        let needle = "name=\"idempotency_key\" value=\"";
        let at = form.body.find(needle).expect("the form carries a key");
        let rest = &form.body[at + needle.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    };
    assert!(key.len() >= 16, "{key}");
    let ward = r
        .app
        .committee_by_unit(egov_domain::admin_unit::Structure::TwoTier, "14797")
        .await
        .unwrap()
        .to_string();
    let csrf = form.csrf();
    let fields = [
        Part::Text("csrf", &csrf),
        Part::Text("idempotency_key", &key),
        Part::Text("agency", &ward),
        Part::Text("procedure", "2.000815"),
        Part::Text("kind", "citizen"),
        Part::Text("identifier", "038190007788"),
        Part::Text("name", "Trịnh Thị Lan"),
        Part::Text("phone", "0911222333"),
        Part::Text("provided_TP1", "on"),
        Part::Text("provided_TP2", "on"),
        Part::Text("decision", "receive"),
    ];
    let before = dossiers(&r).await;
    let first = c.post_multipart("/onestop/counter", &fields).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let second = c.post_multipart("/onestop/counter", &fields).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    assert_eq!(second.location(), first.location());
    assert_eq!(dossiers(&r).await, before + 1);
    // The next form has a key of its own.
    let next = c.get("/onestop/counter?procedure=2.000815").await;
    assert!(!next.body.contains(&key));
});
