//! One interface over SQLite and PostgreSQL.
//!
//! Queries are written once in portable SQL with `$1 … $N` placeholders (sqlx's SQLite driver
//! maps `$N` to the N-th argument) and checked at run time; every store function is tested on
//! both backends. Only a few statements (full-text search, job claims) differ by [`Dialect`].

use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{FromRow, PgPool, Postgres, SqlSafeStr, Sqlite, SqlitePool, Transaction};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::StoreError;
use crate::writer::{Writer, WriterTx};

/// The SQL dialect behind a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A pool of connections to one database.
#[derive(Clone, Debug)]
pub enum Db {
    /// Readers, and for a file the one connection write transactions go through (see
    /// [`Db::begin`]).
    Sqlite(SqlitePool, Option<Arc<Writer>>),
    Pg(PgPool),
}

/// An open transaction. Dropping it without [`Tx::commit`] rolls it back.
pub struct Tx {
    inner: TxInner,
    /// A write transaction (not a read snapshot): its commit marks the request it serves as
    /// having had an effect ([`crate::replays::CURRENT`]).
    writes: bool,
}

enum TxInner {
    /// A write transaction on a SQLite file, on its writer.
    SqliteWriter(WriterTx),
    /// A read snapshot, or any transaction on an in-memory database.
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

/// A bound query argument. Each variant carries its type even when NULL, because PostgreSQL
/// types every parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    I64(Option<i64>),
    F64(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Ts(Option<OffsetDateTime>),
    Date(Option<Date>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($t:ty, $v:ident, $e:expr) => {
        impl From<$t> for Arg {
            fn from($v: $t) -> Arg {
                $e
            }
        }
    };
}
arg_from!(i64, v, Arg::I64(Some(v)));
arg_from!(Option<i64>, v, Arg::I64(v));
arg_from!(i32, v, Arg::I64(Some(i64::from(v))));
arg_from!(u32, v, Arg::I64(Some(i64::from(v))));
arg_from!(f64, v, Arg::F64(Some(v)));
arg_from!(bool, v, Arg::Bool(Some(v)));
arg_from!(Option<bool>, v, Arg::Bool(v));
arg_from!(String, v, Arg::Text(Some(v)));
arg_from!(&String, v, Arg::Text(Some(v.clone())));
arg_from!(&str, v, Arg::Text(Some(v.to_owned())));
arg_from!(Option<String>, v, Arg::Text(v));
arg_from!(Option<&str>, v, Arg::Text(v.map(str::to_owned)));
arg_from!(OffsetDateTime, v, Arg::Ts(Some(v)));
arg_from!(Option<OffsetDateTime>, v, Arg::Ts(v));
arg_from!(Date, v, Arg::Date(Some(v)));
arg_from!(Option<Date>, v, Arg::Date(v));
arg_from!(Vec<u8>, v, Arg::Bytes(Some(v)));
arg_from!(&[u8], v, Arg::Bytes(Some(v.to_vec())));

/// Builds a `Vec<Arg>` from expressions: `args![id, name, None::<i64>]`.
#[macro_export]
macro_rules! args {
    () => { ::std::vec::Vec::<$crate::Arg>::new() };
    ($($e:expr),+ $(,)?) => { ::std::vec![$($crate::Arg::from($e)),+] };
}

/// Binds `value` after the arguments already in `a` and returns its placeholder (`"$3"`), so a
/// piece of SQL names the arguments it binds itself and no number is agreed between functions.
pub fn bind(a: &mut Vec<Arg>, value: impl Into<Arg>) -> String {
    a.push(value.into());
    format!("${}", a.len())
}

/// Binds `values` after the arguments already in `a` and returns their placeholders for an
/// `IN (…)` list: `"$3, $4, $5"`.
pub fn push_list<T: Clone + Into<Arg>>(a: &mut Vec<Arg>, values: &[T]) -> String {
    values
        .iter()
        .map(|v| {
            a.push(v.clone().into());
            format!("${}", a.len())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds one row of a multi-row `INSERT … VALUES` after the arguments already in `a` and returns
/// its placeholders: `"($3, $4, $5)"`.
pub fn push_row(a: &mut Vec<Arg>, row: Vec<Arg>) -> String {
    let first = a.len() + 1;
    let n = row.len();
    a.extend(row);
    let marks: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!("({})", marks.join(", "))
}

/// Inserts sent to the database together, in one round trip: on SQLite as one multi-statement
/// execution, on PostgreSQL as one statement whose parts are data-modifying common table
/// expressions. The parts must not read one another's results (on PostgreSQL they share one
/// snapshot); foreign keys between them hold, as they are checked when the whole batch is in.
#[derive(Default)]
pub struct Batch {
    parts: Vec<String>,
    args: Vec<Arg>,
}

impl Batch {
    /// Adds a multi-row insert: `head` is `INSERT INTO t (a, b)`, each row its values.
    pub fn insert(&mut self, head: &str, rows: impl IntoIterator<Item = Vec<Arg>>) {
        let values: Vec<String> = rows
            .into_iter()
            .map(|r| push_row(&mut self.args, r))
            .collect();
        if !values.is_empty() {
            self.parts
                .push(format!("{head} VALUES {}", values.join(", ")));
        }
    }

    /// Adds one statement of any shape (an `INSERT … SELECT`, say): `sql` is given the
    /// placeholders of `args`, in order, and returns the statement.
    pub fn statement(&mut self, args: Vec<Arg>, sql: impl FnOnce(&[String]) -> String) {
        let first = self.args.len() + 1;
        let marks: Vec<String> = (first..first + args.len())
            .map(|i| format!("${i}"))
            .collect();
        self.args.extend(args);
        self.parts.push(sql(&marks));
    }

    /// Sends the batch.
    pub async fn run(mut self, ex: &mut impl Exec) -> Result<(), StoreError> {
        let sql = match (self.parts.len(), ex.dialect()) {
            (0, _) => return Ok(()),
            (1, _) | (_, Dialect::Sqlite) => self.parts.join(";\n"),
            (_, Dialect::Postgres) => {
                let last = self.parts.pop().unwrap_or_default();
                let ctes: Vec<String> = self
                    .parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("w{i} AS ({p})"))
                    .collect();
                format!("WITH {} {last}", ctes.join(", "))
            }
        };
        ex.execute(&sql, self.args).await?;
        Ok(())
    }
}

/// Timestamps are stored in UTC with microseconds. On SQLite they are text in one fixed-width
/// RFC 3339 form, so that comparing the text compares the instants.
pub fn ts_text(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Truncates an instant to what the database keeps (microseconds, UTC).
pub fn db_time(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(t.microsecond() * 1000).unwrap_or(t)
}

/// The current instant as the database keeps it.
pub fn now() -> OffsetDateTime {
    db_time(OffsetDateTime::now_utc())
}

/// Today in Vietnam, by the same clock as [`now`].
pub fn vn_today() -> time::Date {
    egov_domain::vn_date(now())
}

/// Parses a stored timestamp (used where a value comes back as text).
pub fn parse_ts(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Rows that decode from both backends (derive `sqlx::FromRow`).
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// Single values that decode from both backends.
pub trait Scalar:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> Scalar for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
        + Send
        + Unpin
{
}

fn sqlite_ts(v: Option<OffsetDateTime>) -> Option<String> {
    v.map(ts_text)
}

fn pg_ts(v: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    v.map(db_time)
}

macro_rules! arguments {
    ($name:ident, $db:ty, $ts:path) => {
        fn $name(args: Vec<Arg>) -> Result<<$db as sqlx::Database>::Arguments, StoreError> {
            use sqlx::Arguments;
            let mut out = <<$db as sqlx::Database>::Arguments>::default();
            for a in args {
                match a {
                    // PostgreSQL cannot store a NUL in text; SQLite could, but nothing that a
                    // person types holds one. Both refuse it as bad input.
                    Arg::Text(Some(v)) if v.contains('\0') => return Err(StoreError::NulInText),
                    Arg::I64(v) => out.add(v),
                    Arg::F64(v) => out.add(v),
                    Arg::Text(v) => out.add(v),
                    Arg::Bool(v) => out.add(v),
                    Arg::Ts(v) => out.add($ts(v)),
                    Arg::Date(v) => out.add(v),
                    Arg::Bytes(v) => out.add(v),
                }
                .map_err(|e| StoreError::Encode(e.to_string()))?;
            }
            Ok(out)
        }
    };
}
arguments!(sqlite_args, Sqlite, sqlite_ts);
arguments!(pg_args, Postgres, pg_ts);

/// A connection borrowed for one statement: from a pool, or the one inside a transaction.
pub enum Held<'a> {
    SqlitePooled(sqlx::pool::PoolConnection<Sqlite>),
    PgPooled(sqlx::pool::PoolConnection<Postgres>),
    SqliteTx(&'a mut sqlx::SqliteConnection),
    PgTx(&'a mut sqlx::PgConnection),
}

enum ConnMut<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Pg(&'c mut sqlx::PgConnection),
}

impl Held<'_> {
    fn get(&mut self) -> ConnMut<'_> {
        match self {
            Held::SqlitePooled(c) => ConnMut::Sqlite(&mut *c),
            Held::PgPooled(c) => ConnMut::Pg(&mut *c),
            Held::SqliteTx(c) => ConnMut::Sqlite(c),
            Held::PgTx(c) => ConnMut::Pg(c),
        }
    }
}

/// Something statements run on: a pool ([`Db`], through `&Db`) or a transaction ([`Tx`]).
pub trait Exec: Send {
    fn dialect(&self) -> Dialect;

    /// Borrows a connection for one statement.
    fn hold(&mut self) -> impl Future<Output = Result<Held<'_>, StoreError>> + Send;

    /// Runs a statement and returns the number of rows it affected.
    fn execute(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let sql = sqlx::AssertSqlSafe(sql.to_owned()).into_sql_str();
        async move {
            let mut h = self.hold().await?;
            Ok(match h.get() {
                ConnMut::Sqlite(c) => sqlx::query_with(sql, sqlite_args(args)?)
                    .execute(c)
                    .await?
                    .rows_affected(),
                ConnMut::Pg(c) => sqlx::query_with(sql, pg_args(args)?)
                    .execute(c)
                    .await?
                    .rows_affected(),
            })
        }
    }

    fn fetch_all<T: Record>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Vec<T>, StoreError>> + Send {
        let sql = sqlx::AssertSqlSafe(sql.to_owned()).into_sql_str();
        async move {
            let mut h = self.hold().await?;
            Ok(match h.get() {
                ConnMut::Sqlite(c) => {
                    sqlx::query_as_with(sql, sqlite_args(args)?)
                        .fetch_all(c)
                        .await?
                }
                ConnMut::Pg(c) => {
                    sqlx::query_as_with(sql, pg_args(args)?)
                        .fetch_all(c)
                        .await?
                }
            })
        }
    }

    fn fetch_optional<T: Record>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Option<T>, StoreError>> + Send {
        let sql = sqlx::AssertSqlSafe(sql.to_owned()).into_sql_str();
        async move {
            let mut h = self.hold().await?;
            Ok(match h.get() {
                ConnMut::Sqlite(c) => {
                    sqlx::query_as_with(sql, sqlite_args(args)?)
                        .fetch_optional(c)
                        .await?
                }
                ConnMut::Pg(c) => {
                    sqlx::query_as_with(sql, pg_args(args)?)
                        .fetch_optional(c)
                        .await?
                }
            })
        }
    }

    /// One row that must exist; [`StoreError::NotFound`] otherwise.
    fn fetch_one<T: Record>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        async move {
            self.fetch_optional(sql, args)
                .await?
                .ok_or(StoreError::NotFound)
        }
    }

    /// The first column of the first row, if there is a row.
    fn scalar_optional<T: Scalar>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Option<T>, StoreError>> + Send {
        let sql = sqlx::AssertSqlSafe(sql.to_owned()).into_sql_str();
        async move {
            let mut h = self.hold().await?;
            Ok(match h.get() {
                ConnMut::Sqlite(c) => {
                    sqlx::query_scalar_with(sql, sqlite_args(args)?)
                        .fetch_optional(c)
                        .await?
                }
                ConnMut::Pg(c) => {
                    sqlx::query_scalar_with(sql, pg_args(args)?)
                        .fetch_optional(c)
                        .await?
                }
            })
        }
    }

    /// The first column of the first row, which must exist.
    fn scalar<T: Scalar>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        async move {
            self.scalar_optional(sql, args)
                .await?
                .ok_or(StoreError::NotFound)
        }
    }
}

impl Exec for &Db {
    fn dialect(&self) -> Dialect {
        (**self).dialect()
    }

    async fn hold(&mut self) -> Result<Held<'_>, StoreError> {
        Ok(match self {
            Db::Sqlite(p, _) => Held::SqlitePooled(p.acquire().await?),
            Db::Pg(p) => Held::PgPooled(p.acquire().await?),
        })
    }
}

impl Exec for Tx {
    fn dialect(&self) -> Dialect {
        match self.inner {
            TxInner::SqliteWriter(_) | TxInner::Sqlite(_) => Dialect::Sqlite,
            TxInner::Pg(_) => Dialect::Postgres,
        }
    }

    async fn hold(&mut self) -> Result<Held<'_>, StoreError> {
        Ok(match &mut self.inner {
            TxInner::SqliteWriter(w) => Held::SqliteTx(w.conn()?),
            TxInner::Sqlite(t) => Held::SqliteTx(t),
            TxInner::Pg(t) => Held::PgTx(t),
        })
    }
}

/// A connection held from the pool for several statements (the reads of one request): one
/// acquisition instead of one per statement. Hold it briefly, and never while waiting for
/// another connection (a transaction): the pool is small.
pub enum Conn {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Pg(sqlx::pool::PoolConnection<Postgres>),
}

impl Exec for Conn {
    fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Pg(_) => Dialect::Postgres,
        }
    }

    async fn hold(&mut self) -> Result<Held<'_>, StoreError> {
        Ok(match self {
            Conn::Sqlite(c) => Held::SqliteTx(c),
            Conn::Pg(c) => Held::PgTx(c),
        })
    }
}

impl Tx {
    /// Commits; on a SQLite file, returns once the group this transaction joined has
    /// committed.
    /// A write transaction serving a request that may be sent again (see
    /// [`crate::replays`]) also records, in itself, that the request had an effect.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        if self.writes {
            crate::replays::mark_effect(&mut self).await?;
        }
        match self.inner {
            TxInner::SqliteWriter(w) => w.commit().await?,
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Pg(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::SqliteWriter(w) => w.rollback().await?,
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Pg(t) => t.rollback().await?,
        }
        Ok(())
    }
}

/// How to open a database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// `sqlite://path/to/file.sqlite`, a plain file path, or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
    /// Run the embedded migrations on open (under an advisory lock on PostgreSQL).
    pub migrate: bool,
}

impl DbOptions {
    pub fn new(url: impl Into<String>) -> Self {
        DbOptions {
            url: url.into(),
            max_connections: 16,
            migrate: true,
        }
    }
}

impl Db {
    /// Opens a database from a URL; SQLite files are created (with WAL) when missing.
    pub async fn open(opts: &DbOptions) -> Result<Db, StoreError> {
        let url = opts.url.trim();
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let co = PgConnectOptions::from_str(url)?;
            // A connection is pinged before it is lent only when it sat idle for a while (the
            // server may have restarted meanwhile), not before every statement: a ping is a
            // round trip. A busy connection that breaks fails its statement and is dropped.
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for > Duration::from_secs(5) {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(co)
                .await?;
            Db::Pg(pool)
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"));
            let path = path.unwrap_or(url);
            Db::open_sqlite(Path::new(path), opts.max_connections).await?
        };
        if opts.migrate {
            db.migrate().await?;
        }
        Ok(db)
    }

    async fn open_sqlite(path: &Path, max: u32) -> Result<Db, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::file(format!("creating {}", dir.display()), e))?;
        }
        let co = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("temp_store", "memory");
        // No ping before lending a connection: a SQLite connection is a file handle in this
        // process, not a socket that can go dead, and each ping is a round trip to the
        // connection's thread.
        let pool = SqlitePoolOptions::new()
            .max_connections(max.max(1))
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(co.clone())
            .await?;
        // SQLite has one writer at a time; this process writes through one connection of its
        // own (opened on first use), whose page cache no other connection's write invalidates.
        // An in-memory database is private to each connection: it has none.
        let writer =
            (!path.to_string_lossy().contains(":memory:")).then(|| Arc::new(Writer::new(co)));
        Ok(Db::Sqlite(pool, writer))
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(..) => Dialect::Sqlite,
            Db::Pg(_) => Dialect::Postgres,
        }
    }

    /// Applies the embedded migrations. On PostgreSQL sqlx holds an advisory lock while it
    /// migrates, so several processes can start together.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(p, _) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Db::Pg(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Starts a write transaction. On a SQLite file it waits for its turn on the writer
    /// connection, holding the write lock (see [`crate::writer`] for how turns commit in
    /// groups).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let inner = match self {
            Db::Sqlite(_, Some(w)) => TxInner::SqliteWriter(w.begin().await?),
            Db::Sqlite(p, None) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Pg(p) => TxInner::Pg(p.begin().await?),
        };
        Ok(Tx {
            inner,
            writes: true,
        })
    }

    /// Holds one connection for several statements.
    pub async fn acquire(&self) -> Result<Conn, StoreError> {
        Ok(match self {
            Db::Sqlite(p, _) => Conn::Sqlite(p.acquire().await?),
            Db::Pg(p) => Conn::Pg(p.acquire().await?),
        })
    }

    /// Starts a read-only snapshot: every statement sees the same committed state.
    pub async fn begin_snapshot(&self) -> Result<Tx, StoreError> {
        let inner = match self {
            Db::Sqlite(p, _) => TxInner::Sqlite(p.begin_with("BEGIN DEFERRED").await?),
            Db::Pg(p) => TxInner::Pg(
                p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        };
        Ok(Tx {
            inner,
            writes: false,
        })
    }

    pub fn dialect_name(&self) -> &'static str {
        match self {
            Db::Sqlite(..) => "sqlite",
            Db::Pg(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p, w) => {
                if let Some(w) = w {
                    w.close().await;
                }
                p.close().await
            }
            Db::Pg(p) => p.close().await,
        }
    }

    /// A short description for logs: backend and file or host, without credentials.
    pub fn describe(&self) -> String {
        match self {
            Db::Sqlite(p, _) => {
                format!("sqlite {}", p.connect_options().get_filename().display())
            }
            Db::Pg(p) => {
                let o = p.connect_options();
                format!(
                    "postgres {}:{}/{}",
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or("")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamp_text_sorts_like_time() {
        let a = ts_text(datetime!(2026-03-01 08:00:00 UTC));
        let b = ts_text(datetime!(2026-03-01 08:00:00.5 UTC));
        let c = ts_text(datetime!(2026-03-01 15:00:01.000001 +07:00));
        assert_eq!(a, "2026-03-01T08:00:00.000000Z");
        assert!(a < b);
        assert!(b < c);
        assert_eq!(
            parse_ts(&c),
            Some(datetime!(2026-03-01 08:00:01.000001 UTC))
        );
    }
}
