use egov_store::jobs;
use time::Duration;

both!(claim_lease_retry_dead, |db| {
    let now = egov_store::now();
    let mut tx = db.begin().await.unwrap();
    let payload = serde_json::json!({"to": "x"});
    let id = jobs::enqueue(&mut tx, "test", &payload, "key-1", now, 2)
        .await
        .unwrap();
    // The same idempotency key does not enqueue twice.
    assert_eq!(
        jobs::enqueue(&mut tx, "test", &payload, "key-1", now, 2)
            .await
            .unwrap(),
        id
    );
    let later = jobs::enqueue(
        &mut tx,
        "test",
        &payload,
        "key-2",
        now + Duration::hours(1),
        2,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let lease = Duration::seconds(30);
    assert!(
        jobs::claim(&db, "w0", lease, now, Some(&["exchange.send"]))
            .await
            .unwrap()
            .is_none(),
        "a worker takes only the kinds it handles"
    );
    let j = jobs::claim(&db, "w1", lease, now, None)
        .await
        .unwrap()
        .expect("a due job");
    assert_eq!((j.id, j.attempts, j.state.as_str()), (id, 1, "running"));
    // Nobody else gets it while the lease holds, and the later job is not due.
    assert!(
        jobs::claim(&db, "w2", lease, now + Duration::seconds(1), None)
            .await
            .unwrap()
            .is_none()
    );
    // The worker died: the lease expires and the job is claimed again.
    let again = jobs::claim(&db, "w2", lease, now + Duration::seconds(31), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.id, again.attempts, again.locked_by.as_deref()),
        (id, 2, Some("w2"))
    );
    // Failure with a retry time puts it back in the queue.
    jobs::fail(
        &mut &db,
        id,
        "connection refused",
        Some(now + Duration::seconds(60)),
        now,
    )
    .await
    .unwrap();
    assert!(
        jobs::claim(&db, "w2", lease, now + Duration::seconds(59), None)
            .await
            .unwrap()
            .is_none()
    );
    let third = jobs::claim(&db, "w2", lease, now + Duration::seconds(61), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.attempts, 3);
    jobs::fail(&mut &db, id, "still refused", None, now)
        .await
        .unwrap();
    let dead = jobs::get(&mut &db, id).await.unwrap();
    assert_eq!(
        (dead.state.as_str(), dead.last_error.as_deref()),
        ("dead", Some("still refused"))
    );
    let listed = jobs::list(&mut &db, Some("dead"), 10, 0).await.unwrap();
    assert_eq!(listed.len(), 1);
    // An administrator retries it.
    assert!(jobs::retry(&mut &db, id, now).await.unwrap());
    assert!(!jobs::retry(&mut &db, id, now).await.unwrap());
    let j = jobs::claim(&db, "w3", lease, now + Duration::seconds(62), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((j.id, j.attempts), (id, 1));
    assert!(jobs::complete(&mut &db, id, now).await.unwrap());
    assert!(
        !jobs::complete(&mut &db, id, now).await.unwrap(),
        "completing twice is a no-op"
    );
    let counts = jobs::counts(&mut &db).await.unwrap();
    assert_eq!(
        counts
            .iter()
            .map(|c| (c.state.as_str(), c.count))
            .collect::<Vec<_>>(),
        vec![("done", 1), ("queued", 1)]
    );
    let j = jobs::claim(&db, "w3", lease, now + Duration::hours(2), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(j.id, later);
});

both!(concurrent_workers_never_share_a_job, |db| {
    let now = egov_store::now();
    let mut tx = db.begin().await.unwrap();
    for i in 0..60 {
        jobs::enqueue(
            &mut tx,
            "test",
            &serde_json::json!(i),
            &format!("k{i}"),
            now,
            3,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..4 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(j) = jobs::claim(
                &db,
                &format!("w{w}"),
                Duration::minutes(5),
                egov_store::now(),
                Some(&["test"]),
            )
            .await
            .unwrap()
            {
                got.push(j.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!(n, 60);
    assert_eq!(all.len(), 60);
});
