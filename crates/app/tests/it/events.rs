//! Domain events reach every subscriber exactly once, in order per dossier, whatever crashes.

use egov_app::AppError;
use egov_app::events::{Event, Subscriber};
use egov_domain::events::{Aggregate, EventKind};
use egov_store::{Exec, Tx, args};

use super::onestop::{act, in_hac_thanh, provided, reception};

/// Writes what it sees into the `seen` table, in the transaction that records the event as
/// handled, with the version it had seen last for the aggregate; fails on the events listed.
struct Recorder {
    name: &'static str,
    fail_on: Vec<(i64, i64)>,
}

impl Subscriber for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    async fn handle(&self, tx: &mut Tx, e: &Event) -> Result<(), AppError> {
        let before: i64 = tx
            .scalar(
                "SELECT COALESCE(MAX(version), 0) FROM seen WHERE subscriber = $1 AND aggregate_id = $2",
                args![self.name, e.aggregate_id],
            )
            .await?;
        tx.execute(
            "INSERT INTO seen (subscriber, aggregate_id, version, kind, before) VALUES ($1, $2, $3, $4, $5)",
            args![self.name, e.aggregate_id, e.version, e.kind.as_str(), before],
        )
        .await?;
        if self.fail_on.contains(&(e.aggregate_id, e.version)) {
            return Err(AppError::internal("the national portal did not answer"));
        }
        Ok(())
    }
}

/// A dossier's domain events as (version, kind), in order.
pub(crate) async fn dossier_events(app: &egov_app::App, id: i64) -> Vec<(i64, EventKind)> {
    egov_store::events::of_aggregate(&mut app.db(), Aggregate::Dossier, id)
        .await
        .unwrap()
        .iter()
        .map(|e| (e.version, e.kind))
        .collect()
}

async fn seen(db: &egov_store::Db, who: &str) -> Vec<(i64, i64, String, i64)> {
    let mut ex = db;
    ex.fetch_all(
        "SELECT aggregate_id, version, kind, before FROM seen WHERE subscriber = $1 \
         ORDER BY aggregate_id, version",
        args![who],
    )
    .await
    .unwrap()
}

both!(
    two_subscribers_see_every_event_once_in_order_per_dossier,
    |db| {
        let clock = std::sync::Arc::new(egov_app::clock::TestClock::at(egov_store::now()));
        let (app, hac_thanh, officer) =
            in_hac_thanh(crate::app_with_clock(db.clone(), clock.clone())).await;
        (&db)
            .execute(
                "CREATE TABLE seen (subscriber TEXT NOT NULL, aggregate_id BIGINT NOT NULL, \
             version BIGINT NOT NULL, kind TEXT NOT NULL, before BIGINT NOT NULL, \
             UNIQUE (subscriber, aggregate_id, version))",
                args![],
            )
            .await
            .unwrap();
        assert!(app.subscribe("national_sync").await.unwrap());
        assert!(app.subscribe("scorecard").await.unwrap());
        assert_eq!(
            app.subscribe("  ").await.unwrap_err().code,
            "bad_subscriber"
        );

        // Two dossiers: one received and moved on to its second step, one waiting for a supplement.
        let a = app
            .receive_dossier(
                &officer,
                reception(hac_thanh, "9.000004", provided(&["TP1", "GTTT"])),
            )
            .await
            .unwrap()
            .dossier;
        let b = app
            .receive_dossier(
                &officer,
                reception(hac_thanh, "9.000004", provided(&["TP1"])),
            )
            .await
            .unwrap()
            .dossier;
        let a = app
            .act_on_dossier(&officer, a.id, act("transfer", a.version))
            .await
            .unwrap();

        use EventKind::*;
        assert_eq!(
            dossier_events(&app, a.id).await,
            [
                (1, DossierSubmitted),
                (2, DossierReceived),
                (3, StatusChanged),
                (4, StepDone),
                (5, StatusChanged)
            ]
        );
        assert_eq!(
            dossier_events(&app, b.id).await,
            [
                (1, DossierSubmitted),
                (2, SupplementRequested),
                (3, StatusChanged)
            ]
        );
        let all = 8;

        // The synchronisation crashes after handling dossier a's second event and before recording
        // it: nothing of that try remains, and the event comes again.
        let sync = Recorder {
            name: "national_sync",
            fail_on: vec![],
        };
        {
            let now = egov_store::now();
            let waiting = egov_store::events::pending(&mut app.db(), "national_sync", now, 100)
                .await
                .unwrap();
            assert_eq!(waiting.len(), all);
            let second = waiting
                .iter()
                .find(|w| w.event.aggregate_id == a.id && w.event.version == 2)
                .unwrap();
            let mut tx = app.db().begin().await.unwrap();
            // Out of order is refused: version 2 waits for version 1.
            assert!(
                !egov_store::events::take(&mut tx, "national_sync", &second.event, now)
                    .await
                    .unwrap()
            );
            let first = &waiting[0].event;
            assert!(
                egov_store::events::take(&mut tx, "national_sync", first, now)
                    .await
                    .unwrap()
            );
            sync.handle(&mut tx, first).await.unwrap();
            drop(tx); // the process dies here
        }
        assert!(seen(&db, "national_sync").await.is_empty());

        // The scorecard fails on dossier a's third event: a's later events wait, b's go on.
        let flaky = Recorder {
            name: "scorecard",
            fail_on: vec![(a.id, 3)],
        };
        let round = app.deliver_events(&flaky, 100).await.unwrap();
        assert_eq!((round.handled, round.failed), (2 + 3, 1));
        assert_eq!(seen(&db, "scorecard").await.len(), 5);
        // Two workers at once: each event is handled by one of them.
        let (x, y) = tokio::join!(
            app.deliver_events(&sync, 100),
            app.deliver_events(&sync, 100)
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        let mut rounds = x.handled + y.handled;
        while rounds < all {
            let r = app.deliver_events(&sync, 100).await.unwrap();
            assert!(r.handled > 0, "delivery stalled after {rounds}");
            rounds += r.handled;
        }
        assert_eq!(rounds, all);
        assert!(app.deliver_events(&sync, 100).await.unwrap() == Default::default());

        // The failed event waits for its retry.
        assert_eq!(app.deliver_events(&flaky, 100).await.unwrap().handled, 0);
        // Thirty seconds later it goes through, then the rest.
        clock.advance(time::Duration::seconds(29));
        assert_eq!(
            app.deliver_events(&flaky, 100).await.unwrap().handled,
            0,
            "not yet"
        );
        clock.advance(time::Duration::seconds(1));
        let fixed = Recorder {
            name: "scorecard",
            fail_on: vec![],
        };
        assert_eq!(app.deliver_events(&fixed, 100).await.unwrap().handled, 3);
        assert_eq!(
            app.event_backlog().await.unwrap(),
            [
                ("national_sync".to_string(), 0),
                ("scorecard".to_string(), 0)
            ]
        );

        for who in ["national_sync", "scorecard"] {
            let got = seen(&db, who).await;
            assert_eq!(got.len(), all, "{who}: every event once");
            for (id, version, _, before) in &got {
                assert_eq!(*before, version - 1, "{who}: dossier {id} in order");
            }
            let kinds_a: Vec<&str> = got
                .iter()
                .filter(|r| r.0 == a.id)
                .map(|r| r.2.as_str())
                .collect();
            assert_eq!(
                kinds_a,
                [
                    "dossier_submitted",
                    "dossier_received",
                    "status_changed",
                    "step_done",
                    "status_changed"
                ]
            );
            assert_eq!(
                egov_store::events::cursor(&mut app.db(), who, Aggregate::Dossier, a.id)
                    .await
                    .unwrap(),
                5
            );
        }
    }
);

both!(an_issued_document_is_an_event_of_its_own, |db| {
    let app = crate::app(db);
    app.seed_demo().await.unwrap();
    assert!(app.subscribe("exchange").await.unwrap());
    let d = crate::documents::issue(&app, "plan", vec![]).await;
    let events = egov_store::events::of_aggregate(&mut app.db(), Aggregate::Document, d.id)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].version, events[0].kind),
        (1, EventKind::DocumentIssued)
    );
    assert_eq!(events[0].payload["notation"], serde_json::json!(d.notation));
    assert_eq!(events[0].agency_id, d.agency_id);
    assert_eq!(
        app.event_backlog().await.unwrap(),
        [("exchange".to_string(), 1)]
    );
});

both!(permissions_are_checked_at_the_applications_clock, |db| {
    // A role granted at the clock's instant counts from that instant on the same clock, so a
    // test (or a replay) that moves the clock sees the grants as they were then.
    let clock = std::sync::Arc::new(egov_app::clock::TestClock::at(egov_store::now()));
    let (app, hac_thanh, _) = in_hac_thanh(crate::app_with_clock(db.clone(), clock.clone())).await;
    let system = egov_app::Actor::system("test");
    let p = app
        .create_person(
            &system,
            egov_app::people::NewOfficial {
                username: "quantri.moi".into(),
                full_name: "Quản Trị Mới".into(),
                email: None,
                phone: None,
                password: "mật khẩu đủ dài 2026".into(),
                agency_id: Some(hac_thanh),
                org_unit_id: None,
                position_key: None,
            },
        )
        .await
        .unwrap();
    let admin = egov_app::Actor::person(p.id, "quantri.moi");
    assert!(!app.may_administer(&admin, hac_thanh).await.unwrap());
    clock.advance(time::Duration::days(30));
    app.grant_role(
        &system,
        p.id,
        egov_app::org::GrantRole {
            role: "administrator".into(),
            agency_id: Some(hac_thanh),
            org_unit_id: None,
            reason: "test".into(),
        },
    )
    .await
    .unwrap();
    assert!(app.may_administer(&admin, hac_thanh).await.unwrap());
    // A day before the grant, on the application's clock, the person was no administrator.
    clock.set(app.now() - time::Duration::days(1));
    assert!(!app.may_administer(&admin, hac_thanh).await.unwrap());
    assert_eq!(
        app.agencies_where(&admin, &[egov_domain::org::Role::Administrator])
            .await
            .unwrap(),
        Some(vec![])
    );
});
