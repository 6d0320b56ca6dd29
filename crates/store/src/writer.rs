//! The one connection that writes to a SQLite file, shared by this process's write
//! transactions, with group commit.
//!
//! SQLite lets one connection write at a time, and every statement is a round trip to the
//! thread of that connection, so the writer's turn is the bottleneck of a busy counter. Write
//! transactions of this process queue (first come, first served) for the writer. One that
//! finishes while others are queued does not commit on its own: it gives up its turn, the next
//! one carries on in the same SQLite transaction inside a savepoint of its own, and the whole
//! group commits once, when a finished member's turn comes round again (at once, when nobody
//! else is queued). So a group pays for one `BEGIN` and one `COMMIT` however many members it
//! has, and it is never larger than the number of writers waiting at the same time. The price:
//! a member's commit also waits for the members that were queued when it gave up its turn, so
//! a long transaction (an import) delays the commits of those just before it as well as after.
//!
//! Every member sees the work of those before it, as if they had run one after another. A
//! member that fails or is dropped rolls back to its savepoint and leaves the others' work; an
//! error that ends the SQLite transaction itself (a full disk, say) fails every member of the
//! group. No member's `commit` returns success before the group's `COMMIT` has succeeded, and
//! a caller that stops waiting does not leave the group uncommitted.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::StoreError;

/// How long a write transaction waits for its turn before it gives up (SQLite's busy timeout).
const TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// The writer of one SQLite file.
pub struct Writer {
    state: Arc<Mutex<State>>,
    options: SqliteConnectOptions,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("file", &self.options.get_filename())
            .finish()
    }
}

/// What the member whose turn it is may use.
struct State {
    /// Opened on first use.
    conn: Option<SqliteConnection>,
    /// The group whose SQLite transaction is open, if one is.
    group: Option<Arc<Group>>,
    /// Names the savepoints, so that a member can only ever roll back its own.
    savepoints: u64,
}

/// Members of one SQLite transaction; the outcome is set once, when it commits or is lost.
#[derive(Default)]
struct Group {
    outcome: OnceLock<Result<(), String>>,
}

/// A write transaction: a member of a group, holding the writer's turn until it commits or
/// rolls back.
pub struct WriterTx {
    turn: Option<OwnedMutexGuard<State>>,
    group: Arc<Group>,
    /// `None` for the member that began the SQLite transaction (it is alone in the group until
    /// it gives up its turn); otherwise the number of its savepoint.
    savepoint: Option<u64>,
}

impl State {
    async fn run(&mut self, sql: impl Into<String>) -> Result<(), StoreError> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| StoreError::NotCommitted("the writer connection is closed".into()))?;
        sqlx::raw_sql(AssertSqlSafe(sql.into()))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Forgets the open group, whose members all fail with `why`.
    fn abandon_group(&mut self, why: &str) {
        if let Some(g) = self.group.take() {
            let _ = g.outcome.set(Err(why.to_owned()));
        }
    }

    /// Ends the open SQLite transaction, if any, without committing; every member of its group
    /// fails with `why`.
    async fn fail_group(&mut self, why: &str) {
        if self.run("ROLLBACK").await.is_err() {
            // No transaction was open, or the connection is unusable: start afresh.
            self.conn = None;
        }
        self.abandon_group(why);
    }

    /// Undoes one member's work: the whole transaction for the member that began it, its own
    /// savepoint for any other.
    async fn undo(&mut self, savepoint: Option<u64>) {
        match savepoint {
            // Alone in its group: the group is what it rolls back.
            None => self.fail_group("rolled back").await,
            Some(n) => {
                // Fails when SQLite itself ended the transaction: the earlier members' work is
                // gone with it.
                if self.run(format!("ROLLBACK TO g{n}")).await.is_err() {
                    self.fail_group("an error ended the group's transaction")
                        .await;
                }
            }
        }
    }
}

impl Writer {
    pub(crate) fn new(options: SqliteConnectOptions) -> Writer {
        Writer {
            state: Arc::new(Mutex::new(State {
                conn: None,
                group: None,
                savepoints: 0,
            })),
            options,
        }
    }

    /// Waits for the writer's turn and starts a write transaction: a new SQLite transaction
    /// (`BEGIN IMMEDIATE`, taking the file's write lock at once), or a savepoint in the one a
    /// group has open.
    pub(crate) async fn begin(&self) -> Result<WriterTx, StoreError> {
        let mut turn = tokio::time::timeout(TURN_TIMEOUT, self.state.clone().lock_owned())
            .await
            .map_err(|_| {
                StoreError::NotCommitted(format!(
                    "no turn to write within {} s",
                    TURN_TIMEOUT.as_secs()
                ))
            })?;
        if turn.conn.is_none() {
            turn.conn = Some(self.options.connect().await?);
        }
        let (group, savepoint) = match turn.group.clone() {
            None => {
                turn.run("BEGIN IMMEDIATE").await?;
                let group = Arc::new(Group::default());
                turn.group = Some(group.clone());
                (group, None)
            }
            Some(group) => {
                turn.savepoints += 1;
                let n = turn.savepoints;
                if let Err(e) = turn.run(format!("SAVEPOINT g{n}")).await {
                    turn.fail_group("a savepoint could not be set").await;
                    return Err(e);
                }
                (group, Some(n))
            }
        };
        Ok(WriterTx {
            turn: Some(turn),
            group,
            savepoint,
        })
    }

    /// Closes the connection; a group still open fails.
    pub(crate) async fn close(&self) {
        let mut st = self.state.lock().await;
        st.abandon_group("the database was closed");
        if let Some(c) = st.conn.take() {
            let _ = c.close().await;
        }
    }
}

impl WriterTx {
    pub(crate) fn conn(&mut self) -> Result<&mut SqliteConnection, StoreError> {
        self.turn
            .as_mut()
            .and_then(|t| t.conn.as_mut())
            .ok_or_else(|| StoreError::NotCommitted("the writer connection is closed".into()))
    }

    /// Gives up the turn and returns once the group has committed (or failed).
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        let Some(turn) = self.turn.take() else {
            return Err(StoreError::NotCommitted("the transaction has ended".into()));
        };
        let state = OwnedMutexGuard::mutex(&turn).clone();
        drop(turn);
        let group = self.group.clone();
        // In a task of its own, so that the group commits even if this caller stops waiting.
        let finish = tokio::spawn(async move {
            let mut turn = state.lock_owned().await;
            if let Some(outcome) = group.outcome.get() {
                return outcome.clone();
            }
            // Nobody has committed the group since this member gave up its turn: it does.
            match turn.run("COMMIT").await {
                Ok(()) => {
                    let _ = group.outcome.set(Ok(()));
                    turn.group = None;
                    Ok(())
                }
                Err(e) => {
                    let why = format!("the commit failed: {e}");
                    turn.fail_group(&why).await;
                    Err(why)
                }
            }
        });
        finish
            .await
            .map_err(|e| StoreError::NotCommitted(e.to_string()))?
            .map_err(StoreError::NotCommitted)
    }

    pub(crate) async fn rollback(mut self) -> Result<(), StoreError> {
        if let Some(mut turn) = self.turn.take() {
            turn.undo(self.savepoint).await;
        }
        Ok(())
    }
}

impl Drop for WriterTx {
    /// A transaction dropped before it commits is undone before anyone else gets the turn.
    fn drop(&mut self) {
        let Some(mut turn) = self.turn.take() else {
            return;
        };
        let savepoint = self.savepoint;
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move { turn.undo(savepoint).await });
            }
            Err(_) => {
                // No runtime to roll back on: closing the connection rolls back.
                turn.conn = None;
                turn.abandon_group("dropped outside a runtime");
            }
        }
    }
}
