//! The Decision 766 scorecard over a seeded month whose every figure was worked out by hand
//! (the working of each is beside it): November 2026, "now" Friday 20 November at noon.
//! Phường Hạc Thành has eleven dossiers (two outside the month or refused), Phường Đông Sơn
//! three; the catalogue is the demo's (16 commune procedures, 24 in all) with two
//! announcements added; five pieces of feedback.

use std::sync::Arc;

use egov_app::clock::TestClock;
use egov_app::scorecard::{Period, Scorecard, Side};
use egov_domain::admin_unit::Structure;
use egov_store::national_feedback::PulledFeedback;
use egov_store::scorecard::ListFilter;
use egov_store::{Exec, args};
use time::{OffsetDateTime, PrimitiveDateTime};

use super::documents::actor;
use super::onestop::{in_hac_thanh, provided, reception};
use super::system;

/// A time written in Vietnam's time, `2026-11-03 09:00`.
fn vn(s: &str) -> OffsetDateTime {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    PrimitiveDateTime::parse(s, f)
        .unwrap()
        .assume_offset(egov_domain::VN_OFFSET)
}

#[derive(Default, Clone)]
struct Spec {
    state: &'static str,
    channel: i64,
    received: Option<&'static str>,
    submitted: Option<&'static str>,
    appointment: Option<&'static str>,
    finished: Option<&'static str>,
    closed: Option<&'static str>,
    timeliness: Option<&'static str>,
    counts_late: bool,
    fee: i64,
    paid_online: bool,
    eid: bool,
    organisation: bool,
    digitised: bool,
    reused: bool,
    /// A result recorded: with a file (true) or on paper only (false).
    result_file: Option<bool>,
    synced: bool,
    rating: Option<i64>,
}

/// Receives a dossier at `agency` through the counter, then writes the outcome the spec
/// describes onto its row (the month's history, in one step).
async fn seed(app: &Arc<egov_app::App>, agency: i64, s: Spec) -> i64 {
    let out = app
        .receive_dossier(
            &system(),
            reception(agency, "9.000004", provided(&["TP1", "GTTT"])),
        )
        .await
        .unwrap();
    let id = out.dossier.id;
    let mut ex = app.db();
    let received = s.received.map(vn);
    let submitted = s.submitted.map(vn).or(received).unwrap();
    let result = s.result_file.map(|f| {
        if f {
            r#"{"file":"ab12","number":"1"}"#
        } else {
            r#"{"number":"1"}"#
        }
    });
    ex.execute(
        "UPDATE dossiers SET state = $1, channel = $2, received_at = $3, submitted_at = $4, \
         appointment = $5, finished_at = $6, closed_at = $7, timeliness = $8, counts_late = $9, \
         fee_total = $10, paid_online = $11, eid_verified = $12, digitised = $13, \
         reused_data = $14, result_json = $15 WHERE id = $16",
        args![
            s.state,
            s.channel,
            received,
            submitted,
            s.appointment.map(vn),
            s.finished.map(vn),
            s.closed.or(s.finished).map(vn),
            s.timeliness,
            s.counts_late,
            s.fee,
            s.paid_online,
            s.eid,
            s.digitised,
            s.reused,
            result,
            id
        ],
    )
    .await
    .unwrap();
    ex.execute(
        "DELETE FROM national_dossiers WHERE dossier_id = $1",
        args![id],
    )
    .await
    .unwrap();
    if s.synced {
        let at = vn("2026-11-20 08:00");
        ex.execute(
            "INSERT INTO national_dossiers (dossier_id, agency_id, due_version, sent_version, \
             created, state, next_at, first_due_at, synced_at, updated_at) \
             VALUES ($1, $2, 1, 1, $3, 'synced', $4, $4, $4, $4)",
            args![id, agency, true, at],
        )
        .await
        .unwrap();
    }
    if s.organisation {
        ex.execute(
            "INSERT INTO applicants (kind, identifier, name, name_fold, created_at) \
             VALUES ('organisation', $1, 'Công ty TNHH Hạc Thành', 'cong ty tnhh hac thanh', $2)",
            args![format!("28010{id:05}"), vn("2026-11-01 08:00")],
        )
        .await
        .unwrap();
        ex.execute(
            "UPDATE dossiers SET applicant_id = (SELECT MAX(id) FROM applicants \
             WHERE kind = 'organisation') WHERE id = $1",
            args![id],
        )
        .await
        .unwrap();
    }
    if let Some(score) = s.rating {
        egov_store::national_feedback::keep_rating(
            &mut ex,
            &out.dossier.code,
            score,
            "",
            vn("2026-11-19 10:00"),
            vn("2026-11-20 08:00"),
        )
        .await
        .unwrap();
    }
    id
}

/// Adds what the national catalogue announces to a procedure's version in force.
async fn announce(app: &Arc<egov_app::App>, code: &str, announcement: serde_json::Value) {
    let mut ex = app.db();
    let (id, json): (i64, String) = ex
        .fetch_one(
            "SELECT id, data_json FROM procedures WHERE code = $1 AND effective_to IS NULL",
            args![code],
        )
        .await
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["announcement"] = announcement;
    ex.execute(
        "UPDATE procedures SET data_json = $1 WHERE id = $2",
        args![v.to_string(), id],
    )
    .await
    .unwrap();
}

async fn feedback(
    app: &Arc<egov_app::App>,
    id: &str,
    agency: i64,
    category: &str,
    satisfied: Option<bool>,
    sent: &str,
    handled: Option<&str>,
) {
    let code = egov_store::agencies::get(&mut app.db(), agency)
        .await
        .unwrap()
        .code;
    let f = PulledFeedback {
        national_id: id.into(),
        agency_code: code,
        procedure_code: "9.000004".into(),
        content: "Phản ánh về thời gian giải quyết".into(),
        category: category.into(),
        satisfied,
        handled_at: handled.map(vn),
    };
    egov_store::national_feedback::keep_feedback(
        &mut app.db(),
        &f,
        vn(sent),
        vn("2026-11-20 08:00"),
    )
    .await
    .unwrap();
}

/// The seeded month: the app, Hạc Thành and Đông Sơn.
async fn month(db: egov_store::Db) -> (Arc<egov_app::App>, i64, i64) {
    let clock = Arc::new(TestClock::at(vn("2026-11-20 12:00")));
    let (app, hac_thanh, _) = in_hac_thanh(crate::app_with_clock(db, clock)).await;
    let dong_son = app
        .committee_by_unit(Structure::TwoTier, "16378")
        .await
        .unwrap();
    let h = hac_thanh;
    let citizen = Spec {
        state: "returned",
        ..Spec::default()
    };
    // h1: online, early, paid online, e-ID, digitised, data reused, e-result, synchronised.
    seed(
        &app,
        h,
        Spec {
            channel: 2,
            received: Some("2026-11-03 09:00"),
            appointment: Some("2026-11-05 17:00"),
            finished: Some("2026-11-04 10:00"), // 25 h
            timeliness: Some("early"),
            fee: 15_000,
            paid_online: true,
            eid: true,
            digitised: true,
            reused: true,
            result_file: Some(true),
            synced: true,
            ..citizen.clone()
        },
    )
    .await;
    // h2: counter, on time, fee paid at the counter, a company, digitised, paper result,
    // synchronised, rated 2 (dislike).
    seed(
        &app,
        h,
        Spec {
            channel: 1,
            received: Some("2026-11-04 09:00"),
            appointment: Some("2026-11-06 17:00"),
            finished: Some("2026-11-06 09:00"), // 48 h
            timeliness: Some("on_time"),
            fee: 15_000,
            organisation: true,
            digitised: true,
            result_file: Some(false),
            synced: true,
            rating: Some(2),
            ..citizen.clone()
        },
    )
    .await;
    // h3: online, late, free, e-ID, e-result, synchronised, rated 1.
    seed(
        &app,
        h,
        Spec {
            channel: 2,
            received: Some("2026-11-05 09:00"),
            appointment: Some("2026-11-10 17:00"),
            finished: Some("2026-11-13 09:00"), // 192 h
            timeliness: Some("late"),
            eid: true,
            result_file: Some(true),
            synced: true,
            rating: Some(1),
            ..citizen.clone()
        },
    )
    .await;
    // h4: online, open and not yet due, paid online, e-ID, digitised, synchronised.
    seed(
        &app,
        h,
        Spec {
            state: "processing",
            channel: 2,
            received: Some("2026-11-17 09:00"),
            appointment: Some("2026-11-26 17:00"),
            fee: 15_000,
            paid_online: true,
            eid: true,
            digitised: true,
            synced: true,
            ..Spec::default()
        },
    )
    .await;
    // h5: counter, open and overdue since yesterday, not synchronised.
    seed(
        &app,
        h,
        Spec {
            state: "processing",
            channel: 1,
            received: Some("2026-11-11 09:00"),
            appointment: Some("2026-11-19 17:00"),
            fee: 15_000,
            ..Spec::default()
        },
    )
    .await;
    // h6: by post, open and due Monday, free, synchronised, rated 5.
    seed(
        &app,
        h,
        Spec {
            state: "processing",
            channel: 3,
            received: Some("2026-11-18 09:00"),
            appointment: Some("2026-11-23 17:00"),
            synced: true,
            rating: Some(5),
            ..Spec::default()
        },
    )
    .await;
    // h7: refused at reception: not counted.
    seed(
        &app,
        h,
        Spec {
            state: "rejected",
            channel: 1,
            submitted: Some("2026-11-06 09:00"),
            closed: Some("2026-11-06 09:30"),
            fee: 15_000,
            ..Spec::default()
        },
    )
    .await;
    // h8: withdrawn (closed, never finished): counted, not late; synchronised.
    seed(
        &app,
        h,
        Spec {
            state: "withdrawn",
            channel: 1,
            received: Some("2026-11-09 09:00"),
            appointment: Some("2026-11-12 17:00"),
            closed: Some("2026-11-10 09:00"),
            synced: true,
            ..Spec::default()
        },
    )
    .await;
    // h9: submitted online last night, not yet received: counted by its submission.
    seed(
        &app,
        h,
        Spec {
            state: "submitted",
            channel: 2,
            submitted: Some("2026-11-19 20:00"),
            fee: 15_000,
            eid: true,
            ..Spec::default()
        },
    )
    .await;
    // h10: received at 00:30 on 1 November (17:30 UTC the day before): in the month.
    seed(
        &app,
        h,
        Spec {
            channel: 1,
            received: Some("2026-11-01 00:30"),
            appointment: Some("2026-11-03 17:00"),
            finished: Some("2026-11-02 10:30"), // 34 h
            timeliness: Some("on_time"),
            fee: 15_000,
            digitised: true,
            synced: true,
            ..citizen.clone()
        },
    )
    .await;
    // h11: received at 23:30 on 31 October: outside.
    seed(
        &app,
        h,
        Spec {
            channel: 2,
            received: Some("2026-10-31 23:30"),
            finished: Some("2026-11-02 09:00"),
            timeliness: Some("on_time"),
            fee: 15_000,
            synced: true,
            ..citizen.clone()
        },
    )
    .await;
    let d = dong_son;
    // o1: online, on time, digitised, synchronised.
    seed(
        &app,
        d,
        Spec {
            channel: 2,
            received: Some("2026-11-09 09:00"),
            appointment: Some("2026-11-11 17:00"),
            finished: Some("2026-11-10 09:00"), // 24 h
            timeliness: Some("on_time"),
            digitised: true,
            synced: true,
            ..citizen.clone()
        },
    )
    .await;
    // o2: counter, open and overdue.
    seed(
        &app,
        d,
        Spec {
            state: "processing",
            channel: 1,
            received: Some("2026-11-12 09:00"),
            appointment: Some("2026-11-16 17:00"),
            ..Spec::default()
        },
    )
    .await;
    // o3: counter, finished late (counted late).
    seed(
        &app,
        d,
        Spec {
            channel: 1,
            received: Some("2026-11-13 09:00"),
            appointment: Some("2026-11-18 17:00"),
            finished: Some("2026-11-20 09:00"), // 168 h
            timeliness: Some("late"),
            counts_late: true,
            ..citizen.clone()
        },
    )
    .await;
    // 9.000001: decided Mon 2 Nov, 10 working days before its law takes effect (on time,
    // ≥ 5), published 3 working days later (on time, ≤ 5), every part given, payable online.
    announce(
        &app,
        "9.000001",
        serde_json::json!({
            "decision": "1234/QĐ-UBND", "decision_date": "2026-11-02",
            "legal_effective": "2026-11-16", "published_nationally": "2026-11-05",
            "steps": ["Nộp hồ sơ", "Trả kết quả"], "channels": ["truc_tiep", "truc_tuyen"],
            "applicant_types": ["Công dân Việt Nam"], "online_payment": true
        }),
    )
    .await;
    // 9.000004: decided Tue 10 Nov, 2 working days before (late), published 7 working days
    // later (late), its steps missing (incomplete); its 15,000 đ fee payable online.
    announce(
        &app,
        "9.000004",
        serde_json::json!({
            "decision": "1240/QĐ-UBND", "decision_date": "2026-11-10",
            "legal_effective": "2026-11-12", "published_nationally": "2026-11-19",
            "channels": ["truc_tiep"], "applicant_types": ["Công dân Việt Nam"],
            "online_payment": true
        }),
    )
    .await;
    // Feedback: f1 classified, handled in 3 working days, satisfied; f2 unclassified,
    // handled after 19 working days (late); f3 classified, open 4 working days (in time);
    // f4 at Đông Sơn, classified, handled next day, not satisfied; f5 sent in October.
    feedback(
        &app,
        "PA-1",
        h,
        "thu_tuc",
        Some(true),
        "2026-11-02 09:00",
        Some("2026-11-05 09:00"),
    )
    .await;
    feedback(
        &app,
        "PA-2",
        h,
        "",
        None,
        "2026-11-02 10:00",
        Some("2026-11-27 09:00"),
    )
    .await;
    feedback(&app, "PA-3", h, "can_bo", None, "2026-11-16 09:00", None).await;
    feedback(
        &app,
        "PA-4",
        d,
        "thu_tuc",
        Some(false),
        "2026-11-03 09:00",
        Some("2026-11-04 09:00"),
    )
    .await;
    feedback(
        &app,
        "PA-5",
        h,
        "thu_tuc",
        Some(true),
        "2026-10-30 09:00",
        Some("2026-11-02 09:00"),
    )
    .await;
    (app, hac_thanh, dong_son)
}

/// One side of an indicator's list for November, from the first item.
async fn list(
    app: &Arc<egov_app::App>,
    actor: &egov_app::Actor,
    scope: &[i64],
    indicator: &str,
    side: Side,
    limit: i64,
) -> Result<egov_app::scorecard::ScoreList, egov_app::AppError> {
    app.scorecard_list(
        actor,
        november(),
        scope,
        indicator,
        side,
        &ListFilter::default(),
        0,
        limit,
    )
    .await
}

fn november() -> Period {
    Period::parse("2026-11-01", "2026-11-30", 366).unwrap()
}

/// Asserts an indicator's numerator, denominator and value.
fn figure(card: &Scorecard, id: &str, numerator: f64, denominator: f64, value: Option<f64>) {
    let f = card.indicator(id).unwrap();
    assert_eq!(
        (f.numerator, f.denominator, f.value),
        (numerator, denominator, value),
        "indicator {id}"
    );
}

both!(every_indicator_of_a_hand_worked_month, |db| {
    let (app, hac_thanh, dong_son) = month(db).await;
    let card = app
        .scorecard(&system(), november(), &[hac_thanh])
        .await
        .unwrap();
    // Hạc Thành: h1–h6, h8, h9, h10 (h7 refused, h11 in October) = 9 dossiers.
    figure(&card, "1.1", 1.0, 2.0, Some(50.0)); // 9.000001 on time, 9.000004 not
    figure(&card, "1.2", 1.0, 2.0, Some(50.0));
    figure(&card, "1.3", 1.0, 2.0, Some(50.0)); // 9.000004 lacks its steps
    figure(&card, "1.4", 7.0, 9.0, Some(77.78)); // h5, h9 not synchronised
    figure(&card, "2.1", 7.0, 9.0, Some(77.78)); // h3 late, h5 overdue
    figure(&card, "2.2", 299.0, 4.0, Some(74.75)); // (25 + 48 + 192 + 34) h over 4
    figure(&card, "3.1", 16.0, 16.0, Some(100.0)); // the 16 commune procedures, all online
    figure(&card, "3.2", 1.0, 16.0, Some(6.25)); // only 9.000004 received dossiers
    figure(&card, "3.3", 4.0, 9.0, Some(44.44)); // h1, h3, h4, h9
    figure(&card, "3.5", 1.0, 10.0, Some(10.0)); // 10 with a fee; 9.000004 payable online
    figure(&card, "3.6", 2.0, 6.0, Some(33.33)); // h1, h4 of h1, h2, h4, h5, h9, h10
    figure(&card, "4.1", 2.0, 4.0, Some(50.0)); // h1, h3 of the 4 finished
    figure(&card, "4.2", 4.0, 9.0, Some(44.44)); // h1, h2, h4, h10
    figure(&card, "4.3", 1.0, 9.0, Some(11.11)); // h1
    figure(&card, "4.4", 0.0, 9.0, None); // no data yet
    figure(&card, "4.5", 4.0, 8.0, Some(50.0)); // h1, h3, h4, h9 of 8 citizens (h2 a company)
    figure(&card, "5.1", 2.0, 3.0, Some(66.67)); // PA-1, PA-3 of PA-1..3
    figure(&card, "5.2", 2.0, 3.0, Some(66.67)); // PA-2 late
    figure(&card, "5.3", 2.0, 3.0, Some(66.67)); // PA-2 late
    figure(&card, "5.4", 6.0, 9.0, Some(66.67)); // 7 not late, less h2 (rated 2)
    let points = |id: &str| card.indicator(id).unwrap().points;
    // 1.4: 4.5 × 77.78 %; 2.1: 20 × 77.78 %; 3.3: 4.4 × 44.44 / 50; 3.5: 4.4 × 10 / 80;
    // 4.2: 4.4 × 44.44 / 80; 5.4: 4.5 × 66.67 / 90; 2.2 and 4.4 not scored.
    assert_eq!(points("1.4"), Some(3.5));
    assert_eq!(points("2.1"), Some(15.56));
    assert_eq!(points("3.3"), Some(3.91));
    assert_eq!(points("3.5"), Some(0.55));
    assert_eq!(points("4.2"), Some(2.44));
    assert_eq!(points("5.4"), Some(3.33));
    assert_eq!((points("2.2"), points("4.4")), (None, None));
    assert!(card.indicator("4.4").unwrap().no_data);

    // Đông Sơn: o1–o3; nothing with a fee (3.6 not applicable), one piece of feedback.
    let card = app
        .scorecard(&system(), november(), &[dong_son])
        .await
        .unwrap();
    figure(&card, "2.1", 1.0, 3.0, Some(33.33));
    figure(&card, "2.2", 192.0, 2.0, Some(96.0));
    figure(&card, "3.6", 0.0, 0.0, None);
    assert_eq!(card.indicator("3.6").unwrap().points, None);
    figure(&card, "5.3", 0.0, 1.0, Some(0.0)); // PA-4 not satisfied

    // The province: both communes, the whole catalogue (24 procedures, 18 with a fee).
    let card = app.scorecard(&system(), november(), &[]).await.unwrap();
    figure(&card, "1.1", 1.0, 2.0, Some(50.0));
    figure(&card, "1.2", 1.0, 2.0, Some(50.0));
    figure(&card, "1.3", 1.0, 2.0, Some(50.0));
    figure(&card, "1.4", 8.0, 12.0, Some(66.67));
    figure(&card, "2.1", 8.0, 12.0, Some(66.67)); // + o2, o3 late
    figure(&card, "2.2", 491.0, 6.0, Some(81.83)); // 299 + 24 + 168 h over 6
    figure(&card, "3.1", 24.0, 24.0, Some(100.0));
    figure(&card, "3.2", 1.0, 24.0, Some(4.17));
    figure(&card, "3.3", 5.0, 12.0, Some(41.67));
    figure(&card, "3.5", 1.0, 18.0, Some(5.56));
    figure(&card, "3.6", 2.0, 6.0, Some(33.33));
    figure(&card, "4.1", 2.0, 6.0, Some(33.33));
    figure(&card, "4.2", 5.0, 12.0, Some(41.67));
    figure(&card, "4.3", 1.0, 12.0, Some(8.33));
    figure(&card, "4.4", 0.0, 12.0, None);
    figure(&card, "4.5", 4.0, 11.0, Some(36.36));
    figure(&card, "5.1", 3.0, 4.0, Some(75.0));
    figure(&card, "5.2", 3.0, 4.0, Some(75.0));
    figure(&card, "5.3", 2.0, 4.0, Some(50.0));
    figure(&card, "5.4", 7.0, 12.0, Some(58.33));

    // A group of agencies is the sum of its members.
    let both = app
        .scorecard(&system(), november(), &[hac_thanh, dong_son])
        .await
        .unwrap();
    figure(&both, "2.1", 8.0, 12.0, Some(66.67));
});

both!(
    every_list_behind_a_figure_has_as_many_items_as_its_count,
    |db| {
        let (app, hac_thanh, _) = month(db).await;
        for scope in [vec![hac_thanh], vec![]] {
            let card = app.scorecard(&system(), november(), &scope).await.unwrap();
            for i in &card.indicators {
                for side in [Side::Counted, Side::Missing] {
                    let l = list(&app, &system(), &scope, &i.id, side, 1000)
                        .await
                        .unwrap();
                    let expected = match (side, i.kind, i.no_data) {
                        (_, _, true) => 0.0,
                        (Side::Counted, "average", _) => i.denominator,
                        (Side::Missing, "average", _) => 0.0,
                        (Side::Counted, _, _) => i.numerator,
                        (Side::Missing, _, _) => i.denominator - i.numerator,
                    };
                    assert_eq!(
                        l.items.total() as f64,
                        expected,
                        "{} {:?} ({scope:?})",
                        i.id,
                        side
                    );
                }
            }
        }
        // The late ones are h3 and h5, oldest first; a page holds what was asked.
        let l = list(&app, &system(), &[hac_thanh], "2.1", Side::Missing, 1)
            .await
            .unwrap();
        match l.items {
            egov_app::scorecard::Items::Dossiers { rows, total } => {
                assert_eq!((rows.len(), total), (1, 2));
                assert_eq!(rows[0].received_at, Some(vn("2026-11-05 09:00")));
            }
            other => panic!("{other:?}"),
        }
    }
);

both!(the_scorecard_refuses_what_its_reader_may_not_see, |db| {
    let (app, hac_thanh, dong_son) = month(db).await;
    let chair = actor(&app, "chutich.hacthanh").await;
    // Their own commune, yes; the province and another commune, no.
    assert!(
        app.scorecard(&chair, november(), &[hac_thanh])
            .await
            .is_ok()
    );
    for scope in [vec![], vec![dong_son], vec![hac_thanh, dong_son]] {
        assert_eq!(
            app.scorecard(&chair, november(), &scope)
                .await
                .unwrap_err()
                .code,
            "forbidden",
            "{scope:?}"
        );
        let e = list(&app, &chair, &scope, "2.1", Side::Missing, 50)
            .await
            .unwrap_err();
        assert_eq!(e.code, "forbidden");
    }
    // The province's chair sees the province and every commune.
    let province_chair = actor(&app, "chutich.tinh").await;
    assert!(
        app.scorecard(&province_chair, november(), &[])
            .await
            .is_ok()
    );
    assert!(
        app.scorecard(&province_chair, november(), &[dong_son])
            .await
            .is_ok()
    );
    // The dossiers behind a figure: the province's chair reads a commune's (without acting
    // on it); a commune's chair does not read another commune's.
    let late = |agency: i64| {
        let app = app.clone();
        async move {
            match list(&app, &system(), &[agency], "2.1", Side::Missing, 1)
                .await
                .unwrap()
                .items
            {
                egov_app::scorecard::Items::Dossiers { rows, .. } => rows[0].id,
                other => panic!("{other:?}"),
            }
        }
    };
    let (at_hac_thanh, at_dong_son) = (late(hac_thanh).await, late(dong_son).await);
    let seen = app
        .dossier_detail(&province_chair, at_dong_son)
        .await
        .unwrap();
    assert!(seen.actions.is_empty(), "{:?}", seen.actions);
    assert!(app.dossier_detail(&chair, at_hac_thanh).await.is_ok());
    assert_eq!(
        app.dossier_detail(&chair, at_dong_son)
            .await
            .unwrap_err()
            .code,
        "not_found"
    );
    // Periods and indicators that do not exist.
    let code = |r: Result<Period, egov_app::AppError>| r.unwrap_err().code;
    assert_eq!(
        code(Period::parse("2026-11-30", "2026-11-01", 366)),
        "bad_period"
    );
    assert_eq!(
        code(Period::parse("2025-01-01", "2026-11-30", 366)),
        "period_too_long"
    );
    assert_eq!(
        code(Period::parse("2026-11-31", "2026-12-01", 366)),
        "bad_date"
    );
    let e = list(&app, &system(), &[hac_thanh], "9.9", Side::Counted, 50)
        .await
        .unwrap_err();
    assert_eq!(e.code, "unknown_indicator");
    assert_eq!(
        app.scorecard(&system(), november(), &[999_999])
            .await
            .unwrap_err()
            .code,
        "not_found"
    );
    // A commune's chair learns nothing of which ids exist beyond their commune.
    for id in [dong_son, 999_999] {
        assert_eq!(
            app.scorecard(&chair, november(), &[id])
                .await
                .unwrap_err()
                .code,
            "forbidden"
        );
    }
});

both!(
    an_administrator_corrects_the_definitions_and_bad_ones_are_refused,
    |db| {
        let (app, hac_thanh, _) = month(db).await;
        let mut v: serde_json::Value =
            serde_json::from_str(egov_domain::scorecard::SHIPPED).unwrap();
        // Refused: a count that does not exist, and weights that do not add up.
        let mut bad = v.clone();
        bad["indicators"][3]["numerator"] = "dossiers.synchronized".into();
        let e = app
            .save_scorecard_definitions(&system(), &bad.to_string())
            .await
            .unwrap_err();
        assert_eq!(e.code, "scorecard_unknown_count");
        let mut bad = v.clone();
        bad["indicators"][0]["weight"] = 5.0.into();
        let e = app
            .save_scorecard_definitions(&system(), &bad.to_string())
            .await
            .unwrap_err();
        assert_eq!(e.code, "scorecard_group_sum");
        // Nor by someone who is not a system administrator.
        let chair = actor(&app, "chutich.tinh").await;
        assert_eq!(
            app.save_scorecard_definitions(&chair, &v.to_string())
                .await
                .unwrap_err()
                .code,
            "forbidden"
        );
        // 1.4's full points from 70 %: Hạc Thành's 77.78 % now earns all 4.5.
        v["indicators"][3]["threshold"] = 70.0.into();
        app.save_scorecard_definitions(&system(), &v.to_string())
            .await
            .unwrap();
        let card = app
            .scorecard(&system(), november(), &[hac_thanh])
            .await
            .unwrap();
        assert_eq!(card.indicator("1.4").unwrap().points, Some(4.5));
    }
);

/// Refreshes the daily summaries and checks that they give, for every grouping, exactly what
/// counting the dossiers one by one gives — for the province and for `scope`.
async fn summaries_match(app: &Arc<egov_app::App>, scope: &[i64]) {
    use egov_store::scorecard::{self as store, Grouping, Selection};
    // Every call follows a write to a settled dossier: the triggers must have marked it.
    let marks = store::refresh_summaries(app.db()).await.unwrap();
    assert!(marks > 0, "the write left no mark");
    let pending: i64 = app
        .db()
        .scalar("SELECT COUNT(*) FROM scorecard_dirty", vec![])
        .await
        .unwrap();
    assert_eq!(pending, 0, "a refresh takes every mark");
    let (from, to) = november().bounds();
    for agencies in [None, Some(scope)] {
        let sel = Selection {
            from,
            to,
            agencies,
            now: vn("2026-11-20 12:00"),
        };
        for g in [
            Grouping::Total,
            Grouping::Agency,
            Grouping::Month,
            Grouping::AgencyMonth,
        ] {
            let summed = store::dossier_counts(&mut app.db(), &sel, g).await.unwrap();
            let live = store::dossier_counts_live(&mut app.db(), &sel, g)
                .await
                .unwrap();
            assert_eq!(summed, live, "{g:?} over {agencies:?}");
        }
    }
}

both!(the_daily_summaries_follow_every_write, |db| {
    let (app, hac_thanh, dong_son) = month(db).await;
    summaries_match(&app, &[hac_thanh]).await;
    let card = app
        .scorecard(&system(), november(), &[hac_thanh])
        .await
        .unwrap();
    figure(&card, "2.1", 7.0, 9.0, Some(77.78));
    let mut ex = app.db();
    // The open dossiers of Hạc Thành in November, and a finished one.
    let finished: i64 = ex
        .scalar(
            "SELECT MIN(id) FROM dossiers WHERE competent_agency_id = $1 \
             AND finished_at IS NOT NULL AND state <> 'rejected' AND received_at >= $2",
            args![hac_thanh, vn("2026-11-01 00:00")],
        )
        .await
        .unwrap();
    let open: i64 = ex
        .scalar(
            "SELECT MIN(id) FROM dossiers WHERE competent_agency_id = $1 \
             AND finished_at IS NULL AND closed_at IS NULL AND received_at >= $2",
            args![hac_thanh, vn("2026-11-01 00:00")],
        )
        .await
        .unwrap();
    // A dossier finished late: 2.1 loses one (if it was open and not yet overdue) or keeps it.
    ex.execute(
        "UPDATE dossiers SET state = 'returned', finished_at = $1, closed_at = $1, \
         timeliness = 'late' WHERE id = $2",
        args![vn("2026-11-20 11:00"), open],
    )
    .await
    .unwrap();
    summaries_match(&app, &[hac_thanh]).await;
    // Its synchronisation, then none; a rating of 1; its applicant becoming a company.
    ex.execute(
        "DELETE FROM national_dossiers WHERE dossier_id = $1",
        args![open],
    )
    .await
    .unwrap();
    summaries_match(&app, &[hac_thanh]).await;
    ex.execute(
        "INSERT INTO national_dossiers (dossier_id, agency_id, due_version, sent_version, \
         created, state, next_at, first_due_at, synced_at, updated_at) \
         VALUES ($1, $2, 1, 1, $3, 'synced', $4, $4, $4, $4)",
        args![open, hac_thanh, true, vn("2026-11-20 11:30")],
    )
    .await
    .unwrap();
    summaries_match(&app, &[hac_thanh]).await;
    ex.execute(
        "UPDATE national_dossiers SET created = $1 WHERE dossier_id = $2",
        args![false, open],
    )
    .await
    .unwrap();
    summaries_match(&app, &[hac_thanh]).await;
    let code: String = ex
        .scalar("SELECT code FROM dossiers WHERE id = $1", args![finished])
        .await
        .unwrap();
    egov_store::national_feedback::keep_rating(
        &mut ex,
        &code,
        1,
        "",
        vn("2026-11-20 09:00"),
        vn("2026-11-20 10:00"),
    )
    .await
    .unwrap();
    summaries_match(&app, &[hac_thanh]).await;
    ex.execute(
        "UPDATE applicants SET kind = 'organisation' WHERE id = \
         (SELECT applicant_id FROM dossiers WHERE id = $1)",
        args![finished],
    )
    .await
    .unwrap();
    summaries_match(&app, &[hac_thanh]).await;
    // A settled dossier moved to the other commune, and to another day.
    ex.execute(
        "UPDATE dossiers SET competent_agency_id = $1, received_at = $2 WHERE id = $3",
        args![dong_son, vn("2026-11-02 23:30"), finished],
    )
    .await
    .unwrap();
    summaries_match(&app, &[dong_son]).await;
    // What the scorecard shows follows: Hạc Thành has one dossier fewer.
    let card = app
        .scorecard(&system(), november(), &[hac_thanh])
        .await
        .unwrap();
    assert_eq!(card.indicator("2.1").unwrap().denominator, 8.0);
    // A rebuild from nothing gives the same summaries.
    egov_store::scorecard::mark_all_summaries(app.db())
        .await
        .unwrap();
    summaries_match(&app, &[hac_thanh]).await;
});
