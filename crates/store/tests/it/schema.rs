//! The SQLite and PostgreSQL migration trees are written separately; nothing but this test keeps
//! them equal. Both are migrated and their tables, columns, nullability and indexes (by name)
//! compared; a difference fails unless it is listed below as intended.

use std::collections::BTreeSet;

use egov_store::testing::TestDb;
use egov_store::{Db, Exec, args};

/// Differences kept on purpose, as lines of [`describe`]: full-text search is FTS5 virtual
/// tables in SQLite (not compared) and a generated `tsvector` column with a GIN index in
/// PostgreSQL.
const INTENDED: &[&str] = &[
    "column documents.search_tsv null",
    "column dossiers.search_tsv null",
    "index documents.documents_search",
    "index dossiers.dossiers_search",
];

/// One line per table, column (with whether it may be null) and index.
async fn describe(db: &Db) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut ex = db;
    match db.dialect() {
        egov_store::Dialect::Sqlite => {
            let tables: Vec<(String,)> = ex
                .fetch_all(
                    // Plain tables only: FTS5's virtual tables and their shadow tables are
                    // SQLite's full-text search, which PostgreSQL does with its own columns.
                    "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
                     AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
                    args![],
                )
                .await
                .unwrap();
            for (t,) in tables {
                out.insert(format!("table {t}"));
                let cols: Vec<(String, i64, i64)> = ex
                    .fetch_all(
                        &format!("SELECT name, \"notnull\", pk FROM pragma_table_info('{t}')"),
                        args![],
                    )
                    .await
                    .unwrap();
                for (c, notnull, pk) in cols {
                    // A primary key column is never null, whatever SQLite's flag says.
                    let null = if notnull == 1 || pk > 0 {
                        "not null"
                    } else {
                        "null"
                    };
                    out.insert(format!("column {t}.{c} {null}"));
                }
            }
            let indexes: Vec<(String, String)> = ex
                .fetch_all(
                    "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' \
                     AND name NOT LIKE 'sqlite_autoindex%' AND tbl_name NOT LIKE '_sqlx%'",
                    args![],
                )
                .await
                .unwrap();
            for (i, t) in indexes {
                out.insert(format!("index {t}.{i}"));
            }
        }
        egov_store::Dialect::Postgres => {
            let cols: Vec<(String, String, String)> = ex
                .fetch_all(
                    "SELECT c.table_name::text, c.column_name::text, c.is_nullable::text \
                     FROM information_schema.columns c JOIN information_schema.tables t \
                     ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                     AND c.table_name NOT LIKE '_sqlx%'",
                    args![],
                )
                .await
                .unwrap();
            for (t, c, nullable) in cols {
                out.insert(format!("table {t}"));
                let null = if nullable == "YES" {
                    "null"
                } else {
                    "not null"
                };
                out.insert(format!("column {t}.{c} {null}"));
            }
            // Indexes made by CREATE INDEX; those behind PRIMARY KEY and UNIQUE constraints are
            // SQLite's autoindexes there.
            let indexes: Vec<(String, String)> = ex
                .fetch_all(
                    "SELECT i.indexname::text, i.tablename::text FROM pg_indexes i \
                     WHERE i.schemaname = current_schema() AND i.tablename NOT LIKE '_sqlx%' \
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)",
                    args![],
                )
                .await
                .unwrap();
            for (i, t) in indexes {
                out.insert(format!("index {t}.{i}"));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_migrate_to_the_same_schema() {
    let sqlite = TestDb::sqlite().await;
    let postgres = TestDb::postgres().await;
    let a = describe(&sqlite.db).await;
    let b = describe(&postgres.db).await;
    assert!(
        a.len() > 100,
        "the SQLite schema was read: {} lines",
        a.len()
    );
    let intended: BTreeSet<String> = INTENDED.iter().map(|s| (*s).to_owned()).collect();
    let only_sqlite: Vec<&String> = a
        .difference(&b)
        .filter(|d| !intended.contains(*d))
        .collect();
    let only_postgres: Vec<&String> = b
        .difference(&a)
        .filter(|d| !intended.contains(*d))
        .collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migration trees differ\nonly in SQLite:\n  {}\nonly in PostgreSQL:\n  {}",
        only_sqlite
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
        only_postgres
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
    );
    // Every intended difference is still a difference (or it is no longer needed).
    for d in &intended {
        assert!(
            a.contains(d) != b.contains(d),
            "{d} is listed as intended but both schemas agree on it"
        );
    }
}
