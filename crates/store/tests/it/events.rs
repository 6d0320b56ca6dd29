use egov_domain::events::{Aggregate, EventKind};
use egov_store::events::{self, NewEvent};
use time::Duration;

fn ev(id: i64, version: i64, kind: EventKind, payload: &serde_json::Value) -> NewEvent<'_> {
    NewEvent {
        aggregate_id: id,
        version,
        kind,
        agency_id: Some(7),
        actor_id: None,
        at: egov_store::now(),
        payload,
    }
}

both!(
    events_reach_each_subscriber_once_in_order_per_aggregate,
    |db| {
        let now = egov_store::now();
        let p = serde_json::json!({"step": 1});
        // Appended before anyone listens: delivered to nobody.
        events::append(&mut &db, &[ev(1, 1, EventKind::DossierSubmitted, &p)])
            .await
            .unwrap();
        assert!(events::subscribe(&mut &db, "sync", now).await.unwrap());
        assert!(!events::subscribe(&mut &db, "sync", now).await.unwrap());
        assert!(events::subscribe(&mut &db, "scorecard", now).await.unwrap());

        let mut tx = db.begin().await.unwrap();
        assert_eq!(
            events::last_version(&mut tx, Aggregate::Dossier, 1)
                .await
                .unwrap(),
            1
        );
        events::append(
            &mut tx,
            &[
                ev(1, 2, EventKind::DossierReceived, &p),
                ev(2, 1, EventKind::DossierSubmitted, &p),
                ev(1, 3, EventKind::StatusChanged, &p),
            ],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        // The same version twice is refused by the database.
        assert!(
            events::append(&mut &db, &[ev(1, 3, EventKind::Paid, &p)])
                .await
                .is_err()
        );

        let waiting = events::pending(&mut &db, "sync", now, 10).await.unwrap();
        let seen: Vec<(i64, i64)> = waiting
            .iter()
            .map(|w| (w.event.aggregate_id, w.event.version))
            .collect();
        assert_eq!(seen, [(1, 2), (1, 3), (2, 1)]);
        assert_eq!(waiting[0].event.kind, EventKind::DossierReceived);
        assert_eq!(waiting[0].event.aggregate, Aggregate::Dossier);
        assert_eq!(waiting[0].event.payload, p);
        assert_eq!(waiting[0].event.agency_id, Some(7));

        // Version 3 cannot be taken while version 2 waits.
        let mut tx = db.begin().await.unwrap();
        assert!(
            !events::take(&mut tx, "sync", &waiting[1].event, now)
                .await
                .unwrap()
        );
        assert!(
            events::take(&mut tx, "sync", &waiting[0].event, now)
                .await
                .unwrap()
        );
        // A crash before the handling commits: nothing was taken.
        tx.rollback().await.unwrap();
        assert_eq!(
            events::cursor(&mut &db, "sync", Aggregate::Dossier, 1)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            events::pending(&mut &db, "sync", now, 10)
                .await
                .unwrap()
                .len(),
            3
        );

        for w in &waiting {
            let mut tx = db.begin().await.unwrap();
            assert!(events::take(&mut tx, "sync", &w.event, now).await.unwrap());
            tx.commit().await.unwrap();
            // Taken once only.
            assert!(!events::take(&mut &db, "sync", &w.event, now).await.unwrap());
        }
        assert_eq!(
            events::cursor(&mut &db, "sync", Aggregate::Dossier, 1)
                .await
                .unwrap(),
            3
        );
        assert!(
            events::pending(&mut &db, "sync", now, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // The other subscriber still has all three.
        assert_eq!(
            events::backlog(&mut &db).await.unwrap(),
            [("scorecard".to_string(), 3), ("sync".to_string(), 0)]
        );

        // A failure postpones the delivery and is kept with it.
        let first = events::pending(&mut &db, "scorecard", now, 1)
            .await
            .unwrap()
            .remove(0);
        events::failed(
            &mut &db,
            "scorecard",
            &first.event,
            "portal answered 503",
            now + Duration::minutes(1),
        )
        .await
        .unwrap();
        let later = events::pending(&mut &db, "scorecard", now, 10)
            .await
            .unwrap();
        assert_eq!(later.len(), 2, "the failed one waits");
        let retry = events::pending(&mut &db, "scorecard", now + Duration::minutes(2), 10)
            .await
            .unwrap();
        assert_eq!(retry[0].attempts, 1);
        assert_eq!(retry[0].last_error.as_deref(), Some("portal answered 503"));

        assert_eq!(
            events::of_aggregate(&mut &db, Aggregate::Dossier, 1)
                .await
                .unwrap()
                .iter()
                .map(|e| e.version)
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert!(events::unsubscribe(&mut &db, "scorecard").await.unwrap());
        assert_eq!(
            events::backlog(&mut &db).await.unwrap(),
            [("sync".to_string(), 0)]
        );
    }
);
