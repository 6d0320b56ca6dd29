//! Many write transactions at once: each lands exactly when its commit says so. On SQLite they
//! commit in groups on one connection (see `writer.rs`), which these tests exercise by keeping
//! several writers queued behind one another.

use egov_store::{Db, Exec, StoreError, Tx, args};

/// Writer `i`'s transaction, with its key written and seen.
async fn begin_writing(db: &Db, i: usize) -> (Tx, String) {
    let key = format!("w{i:03}");
    let mut tx = db.begin().await.unwrap();
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, 'x')",
        args![key.as_str()],
    )
    .await
    .unwrap();
    // Let the others queue up behind this one.
    tokio::task::yield_now().await;
    let mine: i64 = tx
        .scalar(
            "SELECT COUNT(*) FROM settings WHERE key = $1",
            args![key.as_str()],
        )
        .await
        .unwrap();
    assert_eq!(mine, 1, "a transaction sees its own write");
    (tx, key)
}

/// What one writer did: committed (with the result), or rolled back on purpose.
async fn write(db: Db, i: usize, undo: bool) -> (String, Option<Result<(), StoreError>>) {
    let (tx, key) = begin_writing(&db, i).await;
    if undo {
        if i.is_multiple_of(12) {
            tx.rollback().await.unwrap();
        } else {
            drop(tx);
        }
        return (key, None);
    }
    (key, Some(tx.commit().await))
}

async fn keys(db: &Db) -> Vec<String> {
    #[derive(sqlx::FromRow)]
    struct K {
        key: String,
    }
    let mut db = db;
    let rows: Vec<K> = db
        .fetch_all(
            "SELECT key FROM settings WHERE key LIKE 'w%' ORDER BY key",
            args![],
        )
        .await
        .unwrap();
    rows.into_iter().map(|k| k.key).collect()
}

both!(concurrent_writers_land_exactly_when_they_commit, |db| {
    let tasks: Vec<_> = (0..48)
        .map(|i| tokio::spawn(write(db.clone(), i, i.is_multiple_of(6))))
        .collect();
    let mut expected = Vec::new();
    for t in tasks {
        let (key, outcome) = t.await.unwrap();
        if let Some(r) = outcome {
            r.unwrap_or_else(|e| panic!("{key} did not commit: {e}"));
            // Committed means visible to everyone at once.
            let n: i64 = (&db)
                .scalar(
                    "SELECT COUNT(*) FROM settings WHERE key = $1",
                    args![key.as_str()],
                )
                .await
                .unwrap();
            assert_eq!(n, 1, "{key} committed but is not visible");
            expected.push(key);
        }
    }
    expected.sort();
    assert_eq!(expected.len(), 40);
    assert_eq!(
        keys(&db).await,
        expected,
        "rolled-back writers leave nothing"
    );
});

/// On SQLite a statement can end the whole transaction (here `INSERT OR ROLLBACK`, in life a
/// full disk), taking the work of the group's earlier members with it: those members must be
/// told their commit failed, and nobody else's work may be lost or half-kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_writer_that_ends_the_transaction_fails_its_group_and_nobody_else() {
    let t = egov_store::testing::TestDb::sqlite().await;
    let db = t.db.clone();
    let mut tx = db.begin().await.unwrap();
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ('dup', '0')",
        args![],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let (mut tx, key) = begin_writing(&db, i).await;
                if i % 5 == 2 {
                    let e = tx
                        .execute(
                            "INSERT OR ROLLBACK INTO settings (key, value) VALUES ('dup', '1')",
                            args![],
                        )
                        .await;
                    assert!(e.is_err(), "the duplicate is refused");
                    drop(tx);
                    return (key, false);
                }
                (key, tx.commit().await.is_ok())
            })
        })
        .collect();
    let mut committed = Vec::new();
    for t in tasks {
        let (key, ok) = t.await.unwrap();
        if ok {
            committed.push(key);
        }
    }
    committed.sort();
    assert_eq!(
        keys(&db).await,
        committed,
        "exactly the writers told they committed are in the database"
    );

    // The writer is usable afterwards.
    let mut tx = db.begin().await.unwrap();
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ('w999', 'x')",
        args![],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let v: String = (&db)
        .scalar("SELECT value FROM settings WHERE key = 'dup'", args![])
        .await
        .unwrap();
    assert_eq!(v, "0");
}
