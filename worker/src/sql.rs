//! SQL jobs: the script's statements (split by [`app::sql::split`]) run one by one, in autocommit,
//! against the PostgreSQL or MySQL database whose URL is the secret named by the job's
//! `hera.sql.datasource` config. Each statement's first rows (`hera.sql.max_rows`, default 100) or
//! its row count go to the log; the first failing statement fails the attempt and nothing after
//! it runs. A cancel or timeout asks the database to stop the running statement (PostgreSQL
//! `pg_cancel_backend`, MySQL `KILL QUERY`) from a second connection, so nothing keeps running
//! on the server.

use std::{
    str::FromStr as _,
    time::{Duration, Instant},
};

use app::{
    domain::AttemptOutcome,
    protocol::AttemptSpec,
    sql::{Dialect, Statement, split},
};
use futures_util::TryStreamExt as _;
use sqlx::{
    Column as _, ConnectOptions as _, Connection as _, Either, Row as _,
    mysql::{MySqlConnectOptions, MySqlConnection},
    postgres::{PgConnectOptions, PgConnection},
};
use tokio::sync::mpsc;

use crate::runner::{RunnerEvent, Stop, outcome_word, say, stamp};

/// Rows shown per statement unless `hera.sql.max_rows` says otherwise.
const DEFAULT_MAX_ROWS: usize = 100;
/// The most rows a job may ask to see per statement.
const MAX_ROWS_LIMIT: usize = 10_000;
/// The widest cell shown; longer values are cut with `…`.
const MAX_CELL_CHARS: usize = 200;
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// An SQL job ready to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlCall {
    /// Whose database.
    pub dialect: Dialect,
    /// The connection URL (a secret: never logged).
    pub url: String,
    /// The statements, in order.
    pub statements: Vec<Statement>,
    /// Rows shown per statement.
    pub max_rows: usize,
}

/// Reads an SQL job: its datasource secret, its statements and settings. The error is the
/// user's, for the attempt's log.
pub fn parse(spec: &AttemptSpec) -> Result<SqlCall, String> {
    let name = spec
        .settings
        .get("hera.sql.datasource")
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .ok_or(
            "set the config hera.sql.datasource to the name of a secret holding the database URL \
             (postgres://user:password@host:5432/db or mysql://…)",
        )?;
    let url = spec
        .env
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .ok_or_else(|| {
            format!("hera.sql.datasource names the secret {name}, which this job does not have")
        })?;
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or_default();
    let dialect = match scheme {
        "postgres" | "postgresql" => Dialect::Postgres,
        "mysql" | "mariadb" => Dialect::MySql,
        _ => {
            return Err(format!(
                "the secret {name} is not a postgres:// or mysql:// URL"
            ));
        }
    };
    let max_rows = match spec.settings.get("hera.sql.max_rows") {
        None => DEFAULT_MAX_ROWS,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_ROWS_LIMIT)
            .ok_or_else(|| {
                format!("hera.sql.max_rows: `{text}` is not a number from 0 to {MAX_ROWS_LIMIT}")
            })?,
    };
    let statements = split(&spec.script, dialect);
    if statements.is_empty() {
        return Err("the script holds no SQL statement".to_owned());
    }
    Ok(SqlCall {
        dialect,
        url,
        statements,
        max_rows,
    })
}

/// Runs the statements; the exit code is 0 when all succeeded, else 1.
pub async fn run(
    spec: &AttemptSpec,
    call: SqlCall,
    events: &mpsc::Sender<RunnerEvent>,
    stop: &Stop,
) -> (AttemptOutcome, Option<i32>) {
    let attempt = spec.attempt;
    let _ = events
        .send(RunnerEvent::Started {
            attempt,
            at: chrono::Utc::now(),
        })
        .await;
    let started = Instant::now();
    let out = Out { events, spec };
    let result = match call.dialect {
        Dialect::Postgres => run_postgres(&call, &out, stop).await,
        Dialect::MySql => run_mysql_elsewhere(&call, events, spec, stop).await,
    };
    let elapsed = started.elapsed().as_secs_f64();
    let (outcome, code, summary) = match result {
        Ok(()) => (
            AttemptOutcome::Succeeded,
            Some(0),
            format!("{} statement(s) succeeded", call.statements.len()),
        ),
        Err(Failure::Cancelled) => (
            AttemptOutcome::Cancelled,
            None,
            "the running statement was cancelled".to_owned(),
        ),
        Err(Failure::Error(message)) => (AttemptOutcome::Failed, Some(1), message),
    };
    say(
        events,
        attempt,
        &format!("{summary}; {} after {elapsed:.1} s", outcome_word(outcome)),
    )
    .await;
    (outcome, code)
}

/// Runs a MySQL job on a thread of its own: the MySQL driver's futures cannot be shown to be
/// `Send`, which the worker's multi-threaded runtime needs, so they run on a current-thread
/// runtime there. Log lines and the stop request cross over as they are.
async fn run_mysql_elsewhere(
    call: &SqlCall,
    events: &mpsc::Sender<RunnerEvent>,
    spec: &AttemptSpec,
    stop: &Stop,
) -> Result<(), Failure> {
    let (call, events, spec, stop) = (call.clone(), events.clone(), spec.clone(), stop.clone());
    let (done, result) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("sql-{}", spec.attempt))
        .spawn(move || {
            let result = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(async {
                    let out = Out {
                        events: &events,
                        spec: &spec,
                    };
                    run_mysql(&call, &out, &stop).await
                }),
                Err(err) => Err(Failure::Error(format!("cannot start a runtime: {err}"))),
            };
            let _ = done.send(result);
        });
    if let Err(err) = spawned {
        return Err(Failure::Error(format!("cannot start a thread: {err}")));
    }
    result
        .await
        .unwrap_or_else(|_| Err(Failure::Error("the SQL thread ended early".to_owned())))
}

enum Failure {
    Cancelled,
    Error(String),
}

struct Out<'a> {
    events: &'a mpsc::Sender<RunnerEvent>,
    spec: &'a AttemptSpec,
}

impl Out<'_> {
    async fn say(&self, line: &str) {
        say(self.events, self.spec.attempt, line).await;
    }

    async fn lines(&self, lines: &[String]) {
        let stamp = stamp();
        let text: String = lines.iter().map(|l| format!("{stamp}{l}\n")).collect();
        let _ = self
            .events
            .send(RunnerEvent::Log {
                attempt: self.spec.attempt,
                text,
            })
            .await;
    }
}

async fn run_postgres(call: &SqlCall, out: &Out<'_>, stop: &Stop) -> Result<(), Failure> {
    let options = PgConnectOptions::from_str(&call.url)
        .map_err(|err| Failure::Error(format!("bad datasource URL: {err}")))?
        .application_name("hera");
    out.say("connecting to the datasource").await;
    let mut conn = connected(tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await)?;
    let pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .map_err(|err| Failure::Error(format!("cannot start: {err}")))?;
    let result = postgres_statements(&mut conn, call, out, stop).await;
    if matches!(result, Err(Failure::Cancelled)) {
        // The statement may still run on the server: ask it to stop from a second connection.
        let cancelled = tokio::time::timeout(CONNECT_TIMEOUT, async {
            let mut other = options.connect().await?;
            sqlx::query("select pg_cancel_backend($1)")
                .bind(pid)
                .execute(&mut other)
                .await?;
            other.close().await
        })
        .await;
        report_cancel(cancelled, out).await;
    } else {
        let _ = conn.close().await;
    }
    result
}

async fn run_mysql(call: &SqlCall, out: &Out<'_>, stop: &Stop) -> Result<(), Failure> {
    let options = MySqlConnectOptions::from_str(&call.url)
        .map_err(|err| Failure::Error(format!("bad datasource URL: {err}")))?;
    out.say("connecting to the datasource").await;
    let mut conn = connected(tokio::time::timeout(CONNECT_TIMEOUT, options.connect()).await)?;
    let id: u64 = sqlx::query_scalar("select connection_id()")
        .fetch_one(&mut conn)
        .await
        .map_err(|err| Failure::Error(format!("cannot start: {err}")))?;
    let result = mysql_statements(&mut conn, call, out, stop).await;
    if matches!(result, Err(Failure::Cancelled)) {
        let cancelled = tokio::time::timeout(CONNECT_TIMEOUT, async {
            let mut other = options.connect().await?;
            sqlx::raw_sql(&format!("KILL QUERY {id}"))
                .execute(&mut other)
                .await?;
            other.close().await
        })
        .await;
        report_cancel(cancelled, out).await;
    } else {
        let _ = conn.close().await;
    }
    result
}

fn connected<C>(
    attempt: Result<Result<C, sqlx::Error>, tokio::time::error::Elapsed>,
) -> Result<C, Failure> {
    match attempt {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(err)) => Err(Failure::Error(format!("cannot connect: {err}"))),
        Err(_) => Err(Failure::Error(format!(
            "cannot connect within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

async fn report_cancel(
    cancelled: Result<Result<(), sqlx::Error>, tokio::time::error::Elapsed>,
    out: &Out<'_>,
) {
    let line = match cancelled {
        Ok(Ok(())) => "asked the database to cancel the running statement".to_owned(),
        Ok(Err(err)) => format!("could not cancel the running statement: {err}"),
        Err(_) => "could not cancel the running statement in time".to_owned(),
    };
    out.say(&line).await;
}

/// `$name(conn, call, out, stop)` runs every statement on a `$conn`, stopping at the first error
/// or at a stop request. A macro rather than a generic function: the generic one's future cannot
/// be shown to be `Send` (higher-ranked executor bounds).
macro_rules! statements_fn {
    ($name:ident, $conn:ty) => {
        async fn $name(
            conn: &mut $conn,
            call: &SqlCall,
            out: &Out<'_>,
            stop: &Stop,
        ) -> Result<(), Failure> {
            let total = call.statements.len();
            for (n, statement) in call.statements.iter().enumerate() {
                let first_line = statement.text.lines().next().unwrap_or_default();
                let shown: String = first_line.chars().take(120).collect();
                let more = if shown.len() < statement.text.len() {
                    " …"
                } else {
                    ""
                };
                out.say(&format!(
                    "statement {} of {total} (line {}): {shown}{more}",
                    n + 1,
                    statement.line
                ))
                .await;
                let started = Instant::now();
                let mut table = Table::default();
                let mut affected = 0;
                let mut saw_rows = false;
                let mut stream = sqlx::raw_sql(&statement.text).fetch_many(&mut *conn);
                loop {
                    let item = tokio::select! {
                        item = stream.try_next() => item,
                        () = stop.cancelled() => {
                            out.say(&format!("{}: stopping statement {}", stop.why(), n + 1)).await;
                            return Err(Failure::Cancelled);
                        }
                    };
                    match item {
                        Ok(Some(Either::Left(result))) => affected += result.rows_affected(),
                        Ok(Some(Either::Right(row))) => {
                            saw_rows = true;
                            if table.header.is_empty() {
                                table.header =
                                    row.columns().iter().map(|c| c.name().to_owned()).collect();
                            }
                            table.total += 1;
                            if table.rows.len() < call.max_rows {
                                table.rows.push(
                                    (0..row.columns().len())
                                        .map(|i| {
                                            match row.try_get_unchecked::<Option<String>, _>(i) {
                                                Ok(Some(text)) => text,
                                                Ok(None) => "NULL".to_owned(),
                                                Err(_) => "<not text>".to_owned(),
                                            }
                                        })
                                        .collect(),
                                );
                            }
                        }
                        Ok(None) => break,
                        Err(err) => {
                            return Err(Failure::Error(format!(
                                "statement {} (line {}) failed: {err}",
                                n + 1,
                                statement.line
                            )));
                        }
                    }
                }
                drop(stream);
                let ms = started.elapsed().as_millis();
                if saw_rows {
                    out.lines(&table.render()).await;
                    let cut = table.total - table.rows.len();
                    let note = if cut > 0 {
                        format!(" ({cut} not shown; hera.sql.max_rows = {})", call.max_rows)
                    } else {
                        String::new()
                    };
                    out.say(&format!("{} row(s){note} in {ms} ms", table.total))
                        .await;
                } else {
                    out.say(&format!("{affected} row(s) affected in {ms} ms"))
                        .await;
                }
            }
            Ok(())
        }
    };
}

statements_fn!(postgres_statements, PgConnection);
statements_fn!(mysql_statements, MySqlConnection);

/// The first rows of a result, drawn as an aligned text table.
#[derive(Default)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    total: usize,
}

impl Table {
    fn render(&self) -> Vec<String> {
        let cell = |text: &str| -> String {
            let one_line = text.replace(['\n', '\r'], " ");
            if one_line.chars().count() > MAX_CELL_CHARS {
                let cut: String = one_line.chars().take(MAX_CELL_CHARS - 1).collect();
                format!("{cut}…")
            } else {
                one_line
            }
        };
        let header: Vec<String> = self.header.iter().map(|h| cell(h)).collect();
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(|c| cell(c)).collect())
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (i, c) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let line = |cells: &[String]| -> String {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join(" | ")
                .trim_end()
                .to_owned()
        };
        let mut out = vec![line(&header)];
        out.push(
            widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("-+-"),
        );
        out.extend(rows.iter().map(|r| line(r)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_cut_long_cells() {
        let table = Table {
            header: vec!["id".into(), "name".into()],
            rows: vec![
                vec!["1".into(), "a\nb".into()],
                vec!["22".into(), "x".repeat(300)],
            ],
            total: 2,
        };
        let lines = table.render();
        assert_eq!(lines[0], "id | name");
        assert_eq!(lines[1], format!("---+-{}", "-".repeat(MAX_CELL_CHARS)));
        assert_eq!(lines[2], "1  | a b");
        assert!(lines[3].ends_with('…'));
        assert_eq!(lines[3].chars().count(), 5 + MAX_CELL_CHARS);
    }
}
