use egov_store::{Exec, StoreError, args};
use time::macros::{date, datetime};

both!(migrations_are_idempotent, |db| {
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    let n: i64 = (&db)
        .scalar("SELECT COUNT(*) FROM audit_chain", args![])
        .await
        .unwrap();
    assert_eq!(n, 1);
});

both!(types_round_trip, |db| {
    let t = datetime!(2026-02-12 02:00:00.123456 UTC);
    let mut tx = db.begin().await.unwrap();
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2)",
        args!["k", "Thủ tục"],
    )
    .await
    .unwrap();
    let v: String = tx
        .scalar("SELECT value FROM settings WHERE key = $1", args!["k"])
        .await
        .unwrap();
    assert_eq!(v, "Thủ tục");
    // agency_id is NOT NULL: the insert fails, and the transaction is rolled back whole.
    let e = tx
        .execute(
            "INSERT INTO org_units (name, name_fold, kind, valid_from, created_at) \
             VALUES ('x', 'x', 'office', $1, $2)",
            args![date!(2025 - 07 - 01), t],
        )
        .await;
    assert!(e.is_err());
    tx.rollback().await.unwrap();
    let n: i64 = (&db)
        .scalar("SELECT COUNT(*) FROM settings WHERE key = 'k'", args![])
        .await
        .unwrap();
    assert_eq!(n, 0, "a rolled-back transaction leaves nothing");

    let mut tx = db.begin().await.unwrap();
    tx.execute(
        "INSERT INTO blobs (sha256, size, media_type, created_at) VALUES ($1, $2, $3, $4)",
        args!["a", 1i64, "x", t],
    )
    .await
    .unwrap();
    let back: time::OffsetDateTime = tx
        .scalar("SELECT created_at FROM blobs WHERE sha256 = 'a'", args![])
        .await
        .unwrap();
    assert_eq!(back, t);
    let later: i64 = tx
        .scalar(
            "SELECT COUNT(*) FROM blobs WHERE created_at < $1",
            args![datetime!(2026-02-12 09:00:00.2 +07:00)],
        )
        .await
        .unwrap();
    assert_eq!(
        later, 1,
        "instants compare as instants, whatever their offset"
    );
    tx.commit().await.unwrap();
});

both!(unique_violation_is_recognised, |db| {
    let mut tx = db.begin().await.unwrap();
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ('a', '1')",
        args![],
    )
    .await
    .unwrap();
    let e = tx
        .execute(
            "INSERT INTO settings (key, value) VALUES ('a', '2')",
            args![],
        )
        .await
        .unwrap_err();
    assert!(e.is_unique_violation(), "{e}");
    let e = StoreError::NotFound;
    assert!(!e.is_unique_violation());
});

both!(blobs_are_content_addressed, |db| {
    let dir = tempfile::tempdir().unwrap();
    let store = egov_store::blobs::BlobStore::new(dir.path());
    let sha = store.put("xin chào".as_bytes()).unwrap();
    assert_eq!(sha.len(), 64);
    assert_eq!(store.put("xin chào".as_bytes()).unwrap(), sha);
    assert_eq!(store.get(&sha).unwrap(), "xin chào".as_bytes());
    assert!(store.path("../../etc/passwd").is_err());
    assert!(matches!(
        store.get(&"0".repeat(64)),
        Err(StoreError::NotFound)
    ));
    let mut tx = db.begin().await.unwrap();
    egov_store::blobs::record(&mut tx, &sha, 9, "text/plain", egov_store::now())
        .await
        .unwrap();
    egov_store::blobs::record(&mut tx, &sha, 9, "text/plain", egov_store::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(egov_store::blobs::all(&mut &db).await.unwrap(), vec![sha]);
});
