use egov_store::audit::{self, NewEntry};
use egov_store::{Exec, args};

fn entry(i: usize) -> NewEntry {
    NewEntry {
        actor: "tester".into(),
        action: "agency.create".into(),
        object_type: "agency".into(),
        object_id: i.to_string(),
        after: Some(serde_json::json!({"name": format!("Sở {i}")})),
        ..Default::default()
    }
}

async fn append_n(db: &egov_store::Db, n: usize) {
    for i in 0..n {
        let mut tx = db.begin().await.unwrap();
        audit::append(&mut tx, entry(i)).await.unwrap();
        tx.commit().await.unwrap();
    }
}

both!(sealed_chain_verifies, |db| {
    append_n(&db, 25).await;
    let r = audit::verify(&db).await.unwrap();
    assert_eq!((r.sealed, r.unsealed), (0, 25));
    assert!(r.broken.is_none());
    assert_eq!(audit::seal(&db, 10).await.unwrap(), 10);
    assert_eq!(audit::seal_all(&db).await.unwrap(), 15);
    assert_eq!(audit::seal_all(&db).await.unwrap(), 0);
    let r = audit::verify(&db).await.unwrap();
    assert_eq!((r.sealed, r.unsealed, r.head_seq), (25, 0, 25));
    assert!(r.broken.is_none(), "{:?}", r.broken);
});

both!(a_batch_of_entries_is_sealed_in_several_statements, |db| {
    // 600 entries in one transaction (one multi-row insert), sealed in one pass of 1,000: the
    // links go out 250 per statement, and the chain holds across the statements.
    let mut tx = db.begin().await.unwrap();
    let mut b = egov_store::Batch::default();
    audit::add_entries(&mut b, (0..600).map(entry).collect());
    b.run(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(audit::seal(&db, 1000).await.unwrap(), 600);
    let r = audit::verify(&db).await.unwrap();
    assert_eq!((r.sealed, r.unsealed, r.head_seq), (600, 0, 600));
    assert!(r.broken.is_none(), "{:?}", r.broken);
    let last: Option<String> = (&db)
        .scalar_optional("SELECT object_id FROM audit_log WHERE seq = 600", args![])
        .await
        .unwrap();
    assert_eq!(last.as_deref(), Some("599"), "sealed in id order");
});

both!(altered_entry_is_found, |db| {
    append_n(&db, 10).await;
    audit::seal_all(&db).await.unwrap();
    (&db)
        .execute(
            "UPDATE audit_log SET after_json = '{\"name\":\"forged\"}' WHERE seq = 4",
            args![],
        )
        .await
        .unwrap();
    let r = audit::verify(&db).await.unwrap();
    let b = r.broken.expect("a broken link");
    assert_eq!(b.seq, 4);
    assert!(b.reason.contains("altered"), "{}", b.reason);
});

both!(removed_entry_is_found, |db| {
    append_n(&db, 10).await;
    audit::seal_all(&db).await.unwrap();
    (&db)
        .execute("DELETE FROM audit_log WHERE seq = 6", args![])
        .await
        .unwrap();
    let b = audit::verify(&db)
        .await
        .unwrap()
        .broken
        .expect("a broken link");
    assert_eq!(b.seq, 6);
    assert!(b.reason.contains("missing"), "{}", b.reason);
});

both!(removed_tail_is_found, |db| {
    append_n(&db, 10).await;
    audit::seal_all(&db).await.unwrap();
    (&db)
        .execute("DELETE FROM audit_log WHERE seq = 10", args![])
        .await
        .unwrap();
    let b = audit::verify(&db)
        .await
        .unwrap()
        .broken
        .expect("a broken link");
    assert_eq!(b.seq, 10);
    assert!(b.reason.contains("removed"), "{}", b.reason);
});

both!(concurrent_writers_all_get_sealed, |db| {
    let mut tasks = Vec::new();
    for w in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                let mut tx = db.begin().await.unwrap();
                audit::append(&mut tx, entry(w * 100 + i)).await.unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    // Seal while they write.
    let sealer = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut n = 0;
            for _ in 0..20 {
                n += audit::seal(&db, 50).await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            n
        })
    };
    for t in tasks {
        t.await.unwrap();
    }
    let during = sealer.await.unwrap();
    let rest = audit::seal_all(&db).await.unwrap();
    assert_eq!(during + rest, 160);
    let r = audit::verify(&db).await.unwrap();
    assert_eq!((r.sealed, r.unsealed), (160, 0));
    assert!(r.broken.is_none());
    let mine = audit::for_object(&mut &db, "agency", "703", 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
});

both!(
    a_chain_sealed_before_the_key_is_keyed_once_and_then_needs_it,
    |db| {
        // Entries written and sealed by an egov without a key (before the upgrade) …
        append_n(&db, 30).await;
        audit::seal_all(&db).await.unwrap();
        assert!(audit::verify(&db).await.unwrap().broken.is_none());
        let before: (i64, String) = audit::head(&mut &db).await.unwrap();
        // … are linked again with the key at the first seal after it is set, and still verify.
        audit::set_key([7u8; 32]);
        append_n(&db, 5).await;
        audit::seal_all(&db).await.unwrap();
        let r = audit::verify(&db).await.unwrap();
        assert!(r.broken.is_none(), "{r:?}");
        assert_eq!(r.sealed, 35);
        let after: (i64, String) = audit::head(&mut &db).await.unwrap();
        assert_ne!(
            audit::link_at(&mut &db, before.0).await.unwrap().unwrap(),
            before.1,
            "the old links were replaced by keyed ones"
        );
        assert_eq!(after.0, 35);
        // Whoever relinks without the key (an unkeyed hash) breaks the chain.
        let e: audit::Entry = (&db)
            .fetch_one(
                "SELECT id, at, actor_id, actor, action, object_type, object_id, agency_id, \
             before_json, after_json, ip, request_id, seq, prev_hash, hash, mac \
             FROM audit_log WHERE seq = 35",
                args![],
            )
            .await
            .unwrap();
        let forged = audit::entry_hash(e.prev_hash.as_deref().unwrap(), 35, &e);
        (&db)
            .execute(
                "UPDATE audit_log SET hash = $1 WHERE seq = 35",
                args![forged.as_str()],
            )
            .await
            .unwrap();
        (&db)
            .execute(
                "UPDATE audit_chain SET last_hash = $1",
                args![forged.as_str()],
            )
            .await
            .unwrap();
        assert!(audit::verify(&db).await.unwrap().broken.is_some());
    }
);
