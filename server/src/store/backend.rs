//! The two sqlx backends. The SQL text is the same for both (SQLite accepts `$n` placeholders,
//! `returning` and `on conflict`), so one macro body implements [`Store`] for each pool type;
//! only connection set-up and migrations differ.

use std::{collections::BTreeMap, str::FromStr, time::Duration};

use anyhow::Context as _;
use app::{
    api,
    domain::{
        AccountStatus, AttemptState, BackfillOrder, BackfillState, DayKind, DependencyWindow,
        InstanceState, JobType, OnSkip, TriggerKind,
    },
    engine::{AttemptRecord, BackfillSpec, CalendarSpec, InstanceRecord, JobSpec, Snapshot},
    ids::{
        AttemptId, AuditId, BackfillId, CalendarId, FolderId, IdeFileId, InstanceId, JobId,
        ResourceId, UserId, WorkerId,
    },
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    FromRow, PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::{
    AuditFilter, AuditWrite, BackfillWrite, CalendarWrite, IdeFileRecord, IdeFileWrite,
    JobVersionRecord, JobWrite, NewUserRecord, Store, StoreError, StoreResult, UserRecord,
};

/// SQLite, the default: one file in the data directory, WAL journal.
pub struct SqliteStore {
    pool: SqlitePool,
    /// One connection for the hot write paths (scheduler decisions, log chunks). SQLite lets one
    /// connection write at a time anyway; keeping those writes on one connection keeps its page
    /// cache warm, where any other connection drops its whole cache after each foreign commit
    /// and reads the pages back from the WAL.
    writer: SqlitePool,
}

impl SqliteStore {
    /// SQLite runs several statements in one query, so a write transaction goes to the
    /// connection's thread in one round trip.
    const ONE_QUERY_TRANSACTIONS: bool = true;
    /// Big statements mark their values `?` (see [`value_rows`]).
    const NUMBERED_PARAMS: bool = false;

    /// Opens (creating if needed) the database file and migrates it.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("bad SQLite URL `{url}`"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL stays consistent and survives a crash of Hera; only a power
            // loss can drop the last commits. FULL would add an fsync to every scheduling step.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // A local file cannot go stale like a network connection: no ping (a round trip to
        // the connection's thread) before each use.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .with_context(|| format!("cannot open SQLite database `{url}`"))?;
        sqlx::migrate!("../migrations/sqlite")
            .run(&pool)
            .await
            .context("SQLite migrations failed")?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(60))
            // Its batches come in many sizes (one prepared transaction per mix of row counts).
            .connect_with(options.statement_cache_capacity(256))
            .await
            .with_context(|| format!("cannot open SQLite database `{url}`"))?;
        Ok(SqliteStore { pool, writer })
    }
}

/// PostgreSQL, for servers that share one database.
pub struct PgStore {
    pool: PgPool,
    /// The same pool: PostgreSQL has no per-connection cache to keep warm.
    writer: PgPool,
}

impl PgStore {
    /// PostgreSQL takes one statement per query with parameters.
    const ONE_QUERY_TRANSACTIONS: bool = false;
    /// PostgreSQL's placeholders are numbered.
    const NUMBERED_PARAMS: bool = true;

    /// Connects and migrates.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .with_context(|| format!("cannot connect to PostgreSQL at `{}`", super::redact(url)))?;
        sqlx::migrate!("../migrations/postgres")
            .run(&pool)
            .await
            .context("PostgreSQL migrations failed")?;
        Ok(PgStore {
            writer: pool.clone(),
            pool,
        })
    }
}

#[derive(FromRow)]
struct UserRow {
    id: i64,
    username: String,
    password_hash: String,
    is_admin: bool,
    status: String,
    session_version: i64,
}

impl UserRow {
    fn into_record(self) -> StoreResult<UserRecord> {
        Ok(UserRecord {
            id: UserId(self.id),
            username: self.username,
            password_hash: self.password_hash,
            is_admin: self.is_admin,
            status: parse(&self.status)?,
            session_version: self.session_version,
        })
    }
}

/// The columns of [`UserRow`].
const USER_COLUMNS: &str = "id, username, password_hash, is_admin, status, session_version";

/// The columns of [`AccountRow`], for `select` and `returning`.
const ACCOUNT_COLUMNS: &str = "id, username, is_admin, status, created_at, updated_at";

#[derive(FromRow)]
struct AccountRow {
    id: i64,
    username: String,
    is_admin: bool,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl AccountRow {
    fn into_api(self) -> StoreResult<api::User> {
        Ok(api::User {
            id: UserId(self.id),
            username: self.username,
            is_admin: self.is_admin,
            status: parse(&self.status)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(FromRow)]
struct FolderRow {
    id: i64,
    name: String,
    parent_id: Option<i64>,
    configs: String,
    created_at: DateTime<Utc>,
}

impl FolderRow {
    fn into_api(self) -> StoreResult<api::Folder> {
        Ok(api::Folder {
            id: FolderId(self.id),
            name: self.name,
            parent_id: self.parent_id.map(FolderId),
            configs: parse_configs(&self.configs)?,
            created_at: self.created_at,
        })
    }
}

#[derive(FromRow)]
struct JobRow {
    id: i64,
    folder_id: i64,
    name: String,
    description: String,
    job_type: String,
    script: String,
    configs: String,
    cron: Option<String>,
    timezone: String,
    host_group: String,
    retry_count: i64,
    retry_delay_secs: i64,
    enabled: bool,
    priority: i64,
    overlap_policy: String,
    misfire_policy: String,
    self_dependent: bool,
    owner: String,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    calendar_id: Option<i64>,
    calendar_mode: String,
    paused: bool,
    paused_at: Option<DateTime<Utc>>,
    retry_backoff: String,
    retry_max_delay_secs: i64,
    timeout_secs: Option<i64>,
    expected_duration_secs: Option<i64>,
    slot_weight: i64,
}

/// One dependency edge of a job: upstream, window, skip policy.
type Edge = (JobId, DependencyWindow, OnSkip);

impl JobRow {
    fn into_api(self, dependencies: Vec<Edge>) -> StoreResult<api::Job> {
        Ok(api::Job {
            id: JobId(self.id),
            folder_id: FolderId(self.folder_id),
            name: self.name,
            description: self.description,
            job_type: parse(&self.job_type)?,
            script: self.script,
            configs: parse_configs(&self.configs)?,
            cron: self.cron,
            timezone: self.timezone,
            dependencies: dependencies.iter().map(|d| d.0).collect(),
            dependency_windows: dependencies.iter().map(|d| (d.0, d.1)).collect(),
            dependency_on_skip: dependencies
                .iter()
                .filter(|d| d.2 != OnSkip::Done)
                .map(|d| (d.0, d.2))
                .collect(),
            self_dependent: self.self_dependent,
            calendar_id: self.calendar_id.map(CalendarId),
            calendar_mode: parse(&self.calendar_mode)?,
            paused: self.paused,
            paused_at: self.paused_at,
            host_group: self.host_group,
            retry_count: u32::try_from(self.retry_count).unwrap_or(0),
            retry_delay_secs: u32::try_from(self.retry_delay_secs).unwrap_or(0),
            retry_backoff: parse(&self.retry_backoff)?,
            retry_max_delay_secs: count(self.retry_max_delay_secs),
            timeout_secs: self.timeout_secs.map(count),
            expected_duration_secs: self.expected_duration_secs.map(count),
            enabled: self.enabled,
            priority: u8::try_from(self.priority).unwrap_or(3),
            overlap_policy: parse(&self.overlap_policy)?,
            misfire_policy: parse(&self.misfire_policy)?,
            slot_weight: count(self.slot_weight).max(1),
            owner: self.owner,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(FromRow)]
struct InstanceRow {
    id: i64,
    job_id: i64,
    scheduled_at: DateTime<Utc>,
    job_version: i64,
    trigger: String,
    state: String,
    reason: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    attempts: i64,
    failed_attempts: i64,
    lost_attempts: i64,
    retry_at: Option<DateTime<Utc>>,
    next_trigger: String,
    cancel_requested: bool,
    params: String,
    backfill_id: Option<i64>,
}

impl InstanceRow {
    fn into_record(self) -> StoreResult<InstanceRecord> {
        Ok(InstanceRecord {
            id: InstanceId(self.id),
            job: JobId(self.job_id),
            scheduled_at: self.scheduled_at,
            job_version: self.job_version,
            trigger: parse(&self.trigger)?,
            state: parse(&self.state)?,
            reason: self.reason,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            attempts: count(self.attempts),
            failed_attempts: count(self.failed_attempts),
            lost_attempts: count(self.lost_attempts),
            retry_at: self.retry_at,
            next_trigger: parse(&self.next_trigger)?,
            cancel_requested: self.cancel_requested,
            params: parse_configs(&self.params)?,
            backfill: self.backfill_id.map(BackfillId),
        })
    }
}

#[derive(FromRow)]
struct InstanceViewRow {
    id: i64,
    job_id: i64,
    job_name: String,
    scheduled_at: DateTime<Utc>,
    job_version: i64,
    trigger: String,
    state: String,
    reason: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    params: String,
    backfill_id: Option<i64>,
}

#[derive(FromRow)]
struct AttemptRow {
    id: i64,
    instance_id: i64,
    job_id: i64,
    number: i64,
    trigger: String,
    state: String,
    worker_id: i64,
    exit_code: Option<i32>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

impl AttemptRow {
    fn into_record(self) -> StoreResult<AttemptRecord> {
        Ok(AttemptRecord {
            id: AttemptId(self.id),
            instance: InstanceId(self.instance_id),
            job: JobId(self.job_id),
            number: count(self.number),
            trigger: parse(&self.trigger)?,
            state: parse(&self.state)?,
            worker: WorkerId(self.worker_id),
            exit_code: self.exit_code,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
        })
    }
}

#[derive(FromRow)]
struct AttemptViewRow {
    id: i64,
    instance_id: i64,
    number: i64,
    trigger: String,
    state: String,
    worker_id: i64,
    worker_name: Option<String>,
    exit_code: Option<i32>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct BackfillRow {
    id: i64,
    job_id: i64,
    job_name: String,
    include_downstream: bool,
    parallelism: i64,
    order_kind: String,
    version_kind: String,
    state: String,
    created_by: String,
    reason: Option<String>,
    created_at: DateTime<Utc>,
}

impl BackfillRow {
    fn spec(&self) -> StoreResult<BackfillSpec> {
        Ok(BackfillSpec {
            id: BackfillId(self.id),
            parallelism: count(self.parallelism),
            order: parse::<BackfillOrder>(&self.order_kind)?,
            paused: self.state == BackfillState::Paused.as_str(),
        })
    }
}

#[derive(FromRow)]
struct AuditRow {
    id: i64,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    job_id: Option<i64>,
    instance_id: Option<i64>,
    backfill_id: Option<i64>,
    calendar_id: Option<i64>,
    reason: Option<String>,
    details: String,
}

fn parse<T: FromStr<Err = app::domain::UnknownValue>>(text: &str) -> StoreResult<T> {
    text.parse()
        .map_err(|err: app::domain::UnknownValue| StoreError::Other(err.into()))
}

fn parse_configs(text: &str) -> StoreResult<BTreeMap<String, String>> {
    serde_json::from_str(text)
        .map_err(|err| StoreError::Other(anyhow::anyhow!("corrupt configs column: {err}")))
}

fn configs_text(configs: &BTreeMap<String, String>) -> String {
    serde_json::to_string(configs).expect("a string map serialises")
}

fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn terminal_states() -> String {
    InstanceState::ALL
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn views_to_api(
    rows: Vec<InstanceViewRow>,
    attempts: Vec<AttemptViewRow>,
) -> StoreResult<Vec<api::Instance>> {
    let mut by_instance: BTreeMap<i64, Vec<api::Attempt>> = BTreeMap::new();
    for row in attempts {
        by_instance
            .entry(row.instance_id)
            .or_default()
            .push(api::Attempt {
                id: AttemptId(row.id),
                instance_id: InstanceId(row.instance_id),
                number: count(row.number),
                trigger: parse(&row.trigger)?,
                state: parse::<AttemptState>(&row.state)?,
                worker_id: Some(WorkerId(row.worker_id)),
                worker_name: row.worker_name,
                exit_code: row.exit_code,
                created_at: row.created_at,
                started_at: row.started_at,
                finished_at: row.finished_at,
            });
    }
    rows.into_iter()
        .map(|row| {
            Ok(api::Instance {
                id: InstanceId(row.id),
                job_id: JobId(row.job_id),
                job_name: row.job_name,
                scheduled_at: row.scheduled_at,
                job_version: row.job_version,
                trigger: parse::<TriggerKind>(&row.trigger)?,
                state: parse(&row.state)?,
                reason: row.reason,
                created_at: row.created_at,
                started_at: row.started_at,
                finished_at: row.finished_at,
                params: parse_configs(&row.params)?,
                backfill_id: row.backfill_id.map(BackfillId),
                attempts: by_instance.remove(&row.id).unwrap_or_default(),
            })
        })
        .collect()
}

/// Cuts `text` so that it starts `skip` bytes in, moving forward to a character boundary.
fn skip_bytes(text: &str, skip: usize) -> (&str, usize) {
    let mut skip = skip.min(text.len());
    while !text.is_char_boundary(skip) {
        skip += 1;
    }
    (&text[skip..], skip)
}

const JOB_COLUMNS: &str = "id, folder_id, name, description, job_type, script, configs, cron, timezone, \
    host_group, retry_count, retry_delay_secs, enabled, priority, overlap_policy, misfire_policy, \
    self_dependent, owner, version, created_at, updated_at, calendar_id, calendar_mode, paused, \
    paused_at, retry_backoff, retry_max_delay_secs, timeout_secs, expected_duration_secs, slot_weight";
const INSTANCE_COLUMNS: &str = "id, job_id, scheduled_at, job_version, trigger, state, reason, \
    created_at, started_at, finished_at, attempts, failed_attempts, lost_attempts, retry_at, \
    next_trigger, cancel_requested, params, backfill_id";
const BACKFILL_COLUMNS: &str = "b.id, b.job_id, j.name as job_name, b.include_downstream, \
    b.parallelism, b.order_kind, b.version_kind, b.state, b.created_by, b.reason, b.created_at \
    from backfills b join jobs j on j.id = b.job_id";
const ATTEMPT_COLUMNS: &str = "id, instance_id, job_id, number, trigger, state, worker_id, \
    exit_code, created_at, started_at, finished_at";
const INSTANCE_VIEW: &str = "select i.id, i.job_id, j.name as job_name, i.scheduled_at, \
    i.job_version, i.trigger, i.state, i.reason, i.created_at, i.started_at, i.finished_at, \
    i.params, i.backfill_id from instances i join jobs j on j.id = i.job_id";
const IDE_FILE_COLUMNS: &str = "id, owner, parent_id, name, is_dir, job_type, run_job_id, \
    published_job_id, updated_at";

#[derive(sqlx::FromRow)]
struct IdeFileRow {
    id: i64,
    owner: Option<String>,
    parent_id: Option<i64>,
    name: String,
    is_dir: bool,
    job_type: String,
    run_job_id: Option<i64>,
    published_job_id: Option<i64>,
    updated_at: DateTime<Utc>,
    content: String,
}

impl IdeFileRow {
    fn into_record(self, with_content: bool) -> StoreResult<IdeFileRecord> {
        Ok(IdeFileRecord {
            file: api::IdeFile {
                id: IdeFileId(self.id),
                scope: if self.owner.is_some() {
                    api::IdeScope::Personal
                } else {
                    api::IdeScope::Shared
                },
                parent_id: self.parent_id.map(IdeFileId),
                name: self.name,
                is_dir: self.is_dir,
                job_type: parse(&self.job_type)?,
                content: with_content.then_some(self.content),
                published_job_id: self.published_job_id.map(JobId),
                updated_at: self.updated_at,
            },
            owner: self.owner,
            run_job_id: self.run_job_id.map(JobId),
        })
    }
}

const RESOURCE_VIEW: &str = "select r.id, r.name, r.created_by, v.version, v.size, v.sha256, \
    v.uploaded_by, v.created_at from resources r join resource_versions v on v.resource_id = r.id";

#[derive(sqlx::FromRow)]
struct ResourceRow {
    id: i64,
    name: String,
    created_by: String,
    version: i64,
    size: i64,
    sha256: String,
    uploaded_by: String,
    created_at: DateTime<Utc>,
}

impl ResourceRow {
    /// The resource (its `latest` set to this version) and this version.
    fn split(self) -> (api::Resource, api::ResourceVersion) {
        let version = api::ResourceVersion {
            resource_id: ResourceId(self.id),
            version: count(self.version),
            size: u64::try_from(self.size).unwrap_or_default(),
            sha256: self.sha256,
            uploaded_by: self.uploaded_by,
            created_at: self.created_at,
        };
        let resource = api::Resource {
            id: ResourceId(self.id),
            name: self.name,
            created_by: self.created_by,
            latest: version.clone(),
            versions: Vec::new(),
        };
        (resource, version)
    }
}

/// A resource from its version rows, newest first.
fn resource_with_versions(rows: Vec<ResourceRow>) -> StoreResult<api::Resource> {
    let mut rows = rows.into_iter();
    let (mut resource, latest) = rows.next().ok_or(StoreError::NotFound)?.split();
    resource.versions = std::iter::once(latest)
        .chain(rows.map(|row| row.split().1))
        .collect();
    Ok(resource)
}

const ATTEMPT_VIEW: &str = "select a.id, a.instance_id, a.number, a.trigger, a.state, \
    a.worker_id, w.name as worker_name, a.exit_code, a.created_at, a.started_at, a.finished_at \
    from attempts a left join workers w on w.id = a.worker_id";

/// Binds a job definition's columns as `$1`–`$24` (shared by insert and update, which list them
/// in the same order).
macro_rules! bind_job {
    ($query:expr, $job:expr, $now:expr) => {
        $query
            .bind($job.folder_id.0)
            .bind(&$job.name)
            .bind(&$job.description)
            .bind($job.job_type.as_str())
            .bind(&$job.script)
            .bind(&$job.cron)
            .bind(&$job.timezone)
            .bind(&$job.host_group)
            .bind(i64::from($job.retry_count))
            .bind(i64::from($job.retry_delay_secs))
            .bind($job.enabled)
            .bind($now)
            .bind(configs_text(&$job.configs))
            .bind(i64::from($job.priority))
            .bind($job.overlap_policy.as_str())
            .bind($job.misfire_policy.as_str())
            .bind($job.self_dependent)
            .bind($job.calendar_id.map(|c| c.0))
            .bind($job.calendar_mode.as_str())
            .bind($job.retry_backoff.as_str())
            .bind(i64::from($job.retry_max_delay_secs))
            .bind($job.timeout_secs.map(i64::from))
            .bind($job.expected_duration_secs.map(i64::from))
            .bind(i64::from($job.slot_weight))
    };
}

/// Rows per multi-row upsert: far below both databases' limits on bound parameters.
const UPSERT_ROWS: usize = 100;

/// The placeholders of `rows` rows of `columns` values each: `($1, …, $k), ($k+1, …), …`, or
/// with `numbered` false `(?, …), …` bound in order. SQLite binds a numbered one by looking up
/// its name, a scan of the statement's list of names, so binding a statement of many numbered
/// values takes time quadratic in their number (a 100-row upsert: 1,800 values); the big
/// statements of the hot path use anonymous ones there.
fn value_rows(rows: usize, columns: usize, numbered: bool) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            if numbered {
                out.push('$');
                out.push_str(&(row * columns + column + 1).to_string());
            } else {
                out.push('?');
            }
        }
        out.push(')');
    }
    out
}

/// The upsert of `rows` scheduler instance rows (18 values each).
fn instance_upsert(rows: usize, numbered: bool) -> String {
    format!(
        "insert into instances ({INSTANCE_COLUMNS}) values {} \
         on conflict (id) do update set trigger = excluded.trigger, state = excluded.state, \
         job_version = excluded.job_version, params = excluded.params, \
         backfill_id = excluded.backfill_id, \
         reason = excluded.reason, started_at = excluded.started_at, \
         finished_at = excluded.finished_at, attempts = excluded.attempts, \
         failed_attempts = excluded.failed_attempts, lost_attempts = excluded.lost_attempts, \
         retry_at = excluded.retry_at, next_trigger = excluded.next_trigger, \
         cancel_requested = excluded.cancel_requested",
        value_rows(rows, INSTANCE_VALUES, numbered)
    )
}
const INSTANCE_VALUES: usize = 18;

/// The upsert of `rows` attempt rows (11 values each).
fn attempt_upsert(rows: usize, numbered: bool) -> String {
    format!(
        "insert into attempts ({ATTEMPT_COLUMNS}) values {} \
         on conflict (id) do update set state = excluded.state, exit_code = excluded.exit_code, \
         started_at = excluded.started_at, finished_at = excluded.finished_at",
        value_rows(rows, ATTEMPT_VALUES, numbered)
    )
}
const ATTEMPT_VALUES: usize = 11;

/// The insert of `rows` log chunks (5 values each); a chunk already stored (a
/// resend) is skipped.
fn log_insert(rows: usize, numbered: bool) -> String {
    format!(
        "insert into log_chunks (attempt_id, start_offset, end_offset, text, created_at) values {} \
         on conflict (attempt_id, start_offset) do nothing",
        value_rows(rows, 5, numbered)
    )
}

/// Binds a log row `(attempt, start, end, text)` stored at `now`.
macro_rules! bind_log_row {
    ($query:expr, $row:expr, $now:expr) => {
        $query
            .bind($row.0)
            .bind($row.1)
            .bind($row.2)
            .bind($row.3)
            .bind($now)
    };
}

macro_rules! bind_instance {
    ($query:expr, $it:expr) => {
        $query
            .bind($it.id.0)
            .bind($it.job.0)
            .bind($it.scheduled_at)
            .bind($it.job_version)
            .bind($it.trigger.as_str())
            .bind($it.state.as_str())
            .bind(&$it.reason)
            .bind($it.created_at)
            .bind($it.started_at)
            .bind($it.finished_at)
            .bind(i64::from($it.attempts))
            .bind(i64::from($it.failed_attempts))
            .bind(i64::from($it.lost_attempts))
            .bind($it.retry_at)
            .bind($it.next_trigger.as_str())
            .bind($it.cancel_requested)
            .bind(configs_text(&$it.params))
            .bind($it.backfill.map(|b| b.0))
    };
}

macro_rules! bind_attempt {
    ($query:expr, $it:expr) => {
        $query
            .bind($it.id.0)
            .bind($it.instance.0)
            .bind($it.job.0)
            .bind(i64::from($it.number))
            .bind($it.trigger.as_str())
            .bind($it.state.as_str())
            .bind($it.worker.0)
            .bind($it.exit_code)
            .bind($it.created_at)
            .bind($it.started_at)
            .bind($it.finished_at)
    };
}

/// SQLite only: `statements` as one transaction in one query, so the connection's thread runs
/// them in one round trip instead of one for `begin`, each statement and `commit`.
fn one_transaction(statements: &[String]) -> String {
    format!("begin immediate; {}; commit", statements.join("; "))
}

/// Runs the query that `build` makes from [`one_transaction`] on `writer` (a database that runs
/// several statements in one query: SQLite). A query that stops part-way leaves its transaction
/// open, so it is rolled back before the connection serves anything else; one that found a
/// transaction left open (by a caller that gave up mid-way) runs again after the rollback.
async fn run_one_transaction<'q, DB>(
    writer: &sqlx::Pool<DB>,
    build: impl Fn() -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
) -> StoreResult<()>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let mut conn = writer.acquire().await?;
    let mut tries = 0;
    loop {
        let Err(err) = build().execute(&mut *conn).await else {
            return Ok(());
        };
        let _ = sqlx::query("rollback").execute(&mut *conn).await;
        tries += 1;
        if tries > 1 || !err.to_string().contains("within a transaction") {
            return Err(err.into());
        }
    }
}

macro_rules! sql_store {
    ($store:ty) => {
        impl $store {
            /// The edges of these jobs (`None`: of every job).
            async fn dependencies_of(&self, jobs: Option<&[i64]>) -> StoreResult<BTreeMap<JobId, Vec<Edge>>> {
                const COLUMNS: &str = "select job_id, upstream_id, window_kind, on_skip from job_dependencies";
                let mut rows: Vec<(i64, i64, String, String)> = Vec::new();
                match jobs {
                    None => {
                        rows = sqlx::query_as(&format!("{COLUMNS} order by job_id, upstream_id"))
                            .fetch_all(&self.pool)
                            .await?;
                    }
                    Some(ids) => {
                        for chunk in ids.chunks(500) {
                            let list: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
                            let sql = format!("{COLUMNS} where job_id in ({}) order by job_id, upstream_id", list.join(", "));
                            let mut query = sqlx::query_as(&sql);
                            for id in chunk {
                                query = query.bind(*id);
                            }
                            rows.extend(query.fetch_all(&self.pool).await?);
                        }
                    }
                }
                let mut out: BTreeMap<JobId, Vec<Edge>> = BTreeMap::new();
                for (job, upstream, window, on_skip) in rows {
                    out.entry(JobId(job)).or_default().push((JobId(upstream), parse(&window)?, parse(&on_skip)?));
                }
                Ok(out)
            }

            async fn calendar_days(&self, id: Option<CalendarId>) -> StoreResult<BTreeMap<CalendarId, Vec<api::CalendarDay>>> {
                let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
                    "select calendar_id, day, kind, note from calendar_days where ($1 is null or calendar_id = $1) order by calendar_id, day",
                )
                .bind(id.map(|c| c.0))
                .fetch_all(&self.pool)
                .await?;
                let mut out: BTreeMap<CalendarId, Vec<api::CalendarDay>> = BTreeMap::new();
                for (calendar, day, kind, note) in rows {
                    let date = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                        .map_err(|err| StoreError::Other(anyhow::anyhow!("corrupt calendar day `{day}`: {err}")))?;
                    out.entry(CalendarId(calendar)).or_default().push(api::CalendarDay { date, kind: parse::<DayKind>(&kind)?, note });
                }
                Ok(out)
            }

            async fn calendar_rows(&self, id: Option<CalendarId>) -> StoreResult<Vec<api::Calendar>> {
                let rows: Vec<(i64, String, String, String, DateTime<Utc>)> = sqlx::query_as(
                    "select id, name, description, weekend, updated_at from calendars where ($1 is null or id = $1) order by name",
                )
                .bind(id.map(|c| c.0))
                .fetch_all(&self.pool)
                .await?;
                let mut days = self.calendar_days(id).await?;
                let users: Vec<(i64, i64)> = sqlx::query_as(
                    "select calendar_id, id from jobs where calendar_id is not null and deleted_at is null order by id",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(cid, name, description, weekend, updated_at)| api::Calendar {
                        id: CalendarId(cid),
                        name,
                        description,
                        weekend: weekend.split(',').filter_map(|d| d.trim().parse().ok()).collect(),
                        days: days.remove(&CalendarId(cid)).unwrap_or_default(),
                        job_ids: users.iter().filter(|(c, _)| *c == cid).map(|(_, j)| JobId(*j)).collect(),
                        updated_at,
                    })
                    .collect())
            }

            async fn backfill_progress(&self, row: BackfillRow) -> StoreResult<api::Backfill> {
                let counts: Vec<(String, i64)> = sqlx::query_as(
                    "select state, count(*) from instances where backfill_id = $1 group by state",
                )
                .bind(row.id)
                .fetch_all(&self.pool)
                .await?;
                let (first, last): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = sqlx::query_as(
                    "select min(scheduled_at), max(scheduled_at) from instances where backfill_id = $1",
                )
                .bind(row.id)
                .fetch_one(&self.pool)
                .await?;
                let mut by_state = BTreeMap::new();
                for (state, n) in counts {
                    by_state.insert(parse::<InstanceState>(&state)?, count(n));
                }
                let total: u32 = by_state.values().sum();
                let unfinished: u32 = by_state.iter().filter(|(s, _)| !s.is_terminal()).map(|(_, n)| n).sum();
                let stored: BackfillState = parse(&row.state)?;
                let state = if stored != BackfillState::Cancelled && unfinished == 0 {
                    BackfillState::Finished
                } else {
                    stored
                };
                Ok(api::Backfill {
                    id: BackfillId(row.id),
                    job_id: JobId(row.job_id),
                    job_name: row.job_name,
                    include_downstream: row.include_downstream,
                    state,
                    parallelism: count(row.parallelism),
                    order: parse(&row.order_kind)?,
                    version: parse(&row.version_kind)?,
                    created_by: row.created_by,
                    reason: row.reason,
                    created_at: row.created_at,
                    total,
                    counts: by_state,
                    first_business_time: first,
                    last_business_time: last,
                })
            }

            /// Jobs with their edges; `all` when the rows are every job (one query for all edges).
            async fn job_rows_to_api(&self, rows: Vec<JobRow>, all: bool) -> StoreResult<Vec<api::Job>> {
                let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
                let mut deps = self.dependencies_of((!all).then_some(ids.as_slice())).await?;
                rows.into_iter()
                    .map(|row| {
                        let id = JobId(row.id);
                        row.into_api(deps.remove(&id).unwrap_or_default())
                    })
                    .collect()
            }
        }

        #[async_trait]
        impl Store for $store {
            async fn count_users(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("select count(*) from users").fetch_one(&self.pool).await?)
            }

            async fn create_user(&self, user: &NewUserRecord, now: DateTime<Utc>) -> StoreResult<api::User> {
                let row: AccountRow = sqlx::query_as(&format!(
                    "insert into users (username, password_hash, is_admin, status, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $5) returning {ACCOUNT_COLUMNS}"
                ))
                .bind(&user.username)
                .bind(&user.password_hash)
                .bind(user.is_admin)
                .bind(user.status.as_str())
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                row.into_api()
            }

            async fn user(&self, username: &str) -> StoreResult<UserRecord> {
                let row: UserRow =
                    sqlx::query_as(&format!("select {USER_COLUMNS} from users where username = $1"))
                        .bind(username)
                        .fetch_one(&self.pool)
                        .await?;
                row.into_record()
            }

            async fn users(&self) -> StoreResult<Vec<api::User>> {
                let rows: Vec<AccountRow> =
                    sqlx::query_as(&format!("select {ACCOUNT_COLUMNS} from users order by username"))
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(AccountRow::into_api).collect()
            }

            async fn update_user(
                &self,
                id: UserId,
                status: Option<AccountStatus>,
                is_admin: Option<bool>,
                now: DateTime<Utc>,
            ) -> StoreResult<api::User> {
                let row: AccountRow = sqlx::query_as(&format!(
                    "update users set status = coalesce($2, status), is_admin = coalesce($3, is_admin), \
                     session_version = session_version \
                         + (case when $2 = 'disabled' and status <> 'disabled' then 1 else 0 end), \
                     updated_at = $4 where id = $1 returning {ACCOUNT_COLUMNS}"
                ))
                .bind(id.0)
                .bind(status.map(AccountStatus::as_str))
                .bind(is_admin)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                row.into_api()
            }

            async fn set_password(
                &self,
                id: UserId,
                password_hash: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<UserRecord> {
                let row: UserRow = sqlx::query_as(&format!(
                    "update users set password_hash = $2, session_version = session_version + 1, \
                     updated_at = $3 where id = $1 returning {USER_COLUMNS}"
                ))
                .bind(id.0)
                .bind(password_hash)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                row.into_record()
            }

            async fn end_sessions(&self, id: UserId) -> StoreResult<UserRecord> {
                let row: UserRow = sqlx::query_as(&format!(
                    "update users set session_version = session_version + 1 where id = $1 \
                     returning {USER_COLUMNS}"
                ))
                .bind(id.0)
                .fetch_one(&self.pool)
                .await?;
                row.into_record()
            }

            async fn create_worker(&self, name: &str, token_hash: &str, now: DateTime<Utc>) -> StoreResult<WorkerId> {
                let id: i64 = sqlx::query_scalar(
                    "insert into workers (name, token_hash, created_at) values ($1, $2, $3) returning id",
                )
                .bind(name)
                .bind(token_hash)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(WorkerId(id))
            }

            async fn upsert_worker_token(&self, name: &str, token_hash: &str, now: DateTime<Utc>) -> StoreResult<WorkerId> {
                let id: i64 = sqlx::query_scalar(
                    "insert into workers (name, token_hash, created_at) values ($1, $2, $3) \
                     on conflict (name) do update set token_hash = excluded.token_hash returning id",
                )
                .bind(name)
                .bind(token_hash)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(WorkerId(id))
            }

            async fn worker_by_token(&self, token_hash: &str) -> StoreResult<(WorkerId, String)> {
                let (id, name): (i64, String) =
                    sqlx::query_as("select id, name from workers where token_hash = $1")
                        .bind(token_hash)
                        .fetch_one(&self.pool)
                        .await?;
                Ok((WorkerId(id), name))
            }

            async fn workers(&self) -> StoreResult<Vec<(WorkerId, String)>> {
                let rows: Vec<(i64, String)> =
                    sqlx::query_as("select id, name from workers order by name").fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|(id, name)| (WorkerId(id), name)).collect())
            }

            async fn draining_workers(&self) -> StoreResult<Vec<WorkerId>> {
                let ids: Vec<i64> = sqlx::query_scalar("select id from workers where draining order by id")
                    .fetch_all(&self.pool)
                    .await?;
                Ok(ids.into_iter().map(WorkerId).collect())
            }

            async fn set_worker_draining(&self, id: WorkerId, draining: bool) -> StoreResult<()> {
                let done = sqlx::query("update workers set draining = $2 where id = $1")
                    .bind(id.0)
                    .bind(draining)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn create_folder(&self, name: &str, parent: Option<FolderId>, now: DateTime<Utc>) -> StoreResult<api::Folder> {
                let row: FolderRow = sqlx::query_as(
                    "insert into folders (name, parent_id, created_at) values ($1, $2, $3) \
                     returning id, name, parent_id, configs, created_at",
                )
                .bind(name)
                .bind(parent.map(|p| p.0))
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                row.into_api()
            }

            async fn folder_path(&self, folder: FolderId) -> StoreResult<Vec<api::Folder>> {
                let rows: Vec<FolderRow> = sqlx::query_as(
                    "with recursive path (id, name, parent_id, configs, created_at, depth) as ( \
                         select id, name, parent_id, configs, created_at, 0 from folders where id = $1 \
                         union all \
                         select f.id, f.name, f.parent_id, f.configs, f.created_at, p.depth + 1 \
                         from folders f join path p on f.id = p.parent_id where p.depth < 64 \
                     ) select id, name, parent_id, configs, created_at from path order by depth desc",
                )
                .bind(folder.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(FolderRow::into_api).collect()
            }

            async fn update_folder(&self, id: FolderId, name: &str, configs: &BTreeMap<String, String>) -> StoreResult<api::Folder> {
                let row: FolderRow = sqlx::query_as(
                    "update folders set name = $2, configs = $3 where id = $1 \
                     returning id, name, parent_id, configs, created_at",
                )
                .bind(id.0)
                .bind(name)
                .bind(configs_text(configs))
                .fetch_one(&self.pool)
                .await?;
                row.into_api()
            }

            async fn folders(&self) -> StoreResult<Vec<api::Folder>> {
                let rows: Vec<FolderRow> =
                    sqlx::query_as("select id, name, parent_id, configs, created_at from folders order by name, id")
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter().map(FolderRow::into_api).collect()
            }

            async fn create_job(&self, job: &JobWrite, owner: &str, now: DateTime<Utc>) -> StoreResult<api::Job> {
                let mut tx = self.pool.begin().await?;
                let insert = sqlx::query_scalar(
                    "insert into jobs (folder_id, name, description, job_type, script, cron, timezone, \
                     host_group, retry_count, retry_delay_secs, enabled, created_at, updated_at, configs, \
                     priority, overlap_policy, misfire_policy, self_dependent, calendar_id, calendar_mode, \
                     retry_backoff, retry_max_delay_secs, timeout_secs, expected_duration_secs, slot_weight, owner, version, \
                     scratch) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16, $17, $18, $19, \
                     $20, $21, $22, $23, $24, $25, 1, $26) \
                     returning id",
                );
                let id: i64 = bind_job!(insert, job, now).bind(owner).bind(job.scratch).fetch_one(&mut *tx)
                .await?;
                write_version_and_deps(&mut tx, id, 1, job, now).await?;
                tx.commit().await?;
                self.job(JobId(id)).await
            }

            async fn update_job(&self, id: JobId, job: &JobWrite, now: DateTime<Utc>) -> StoreResult<api::Job> {
                let mut tx = self.pool.begin().await?;
                let update = sqlx::query_scalar(
                    "update jobs set folder_id = $1, name = $2, description = $3, job_type = $4, script = $5, \
                     cron = $6, timezone = $7, host_group = $8, retry_count = $9, retry_delay_secs = $10, \
                     enabled = $11, updated_at = $12, configs = $13, priority = $14, overlap_policy = $15, \
                     misfire_policy = $16, self_dependent = $17, calendar_id = $18, calendar_mode = $19, \
                     retry_backoff = $20, retry_max_delay_secs = $21, timeout_secs = $22, \
                     expected_duration_secs = $23, slot_weight = $24, version = version + 1 \
                     where id = $25 and deleted_at is null \
                     returning version",
                );
                let version: i64 = bind_job!(update, job, now).bind(id.0).fetch_one(&mut *tx)
                .await?;
                sqlx::query("delete from job_dependencies where job_id = $1").bind(id.0).execute(&mut *tx).await?;
                write_version_and_deps(&mut tx, id.0, version, job, now).await?;
                tx.commit().await?;
                self.job(id).await
            }

            async fn job(&self, id: JobId) -> StoreResult<api::Job> {
                let row: JobRow = sqlx::query_as(&format!("select {JOB_COLUMNS} from jobs where id = $1 and deleted_at is null"))
                    .bind(id.0)
                    .fetch_one(&self.pool)
                    .await?;
                let mut jobs = self.job_rows_to_api(vec![row], false).await?;
                jobs.pop().ok_or(StoreError::NotFound)
            }

            async fn jobs(&self, folder: Option<FolderId>) -> StoreResult<Vec<api::Job>> {
                let rows: Vec<JobRow> = match folder {
                    Some(folder) => sqlx::query_as(&format!(
                        "select {JOB_COLUMNS} from jobs where folder_id = $1 and deleted_at is null and not scratch order by name, id"
                    ))
                    .bind(folder.0)
                    .fetch_all(&self.pool)
                    .await?,
                    None => sqlx::query_as(&format!("select {JOB_COLUMNS} from jobs where deleted_at is null and not scratch order by name, id"))
                        .fetch_all(&self.pool)
                        .await?,
                };
                self.job_rows_to_api(rows, folder.is_none()).await
            }

            async fn search_jobs(&self, text: &str, folder: Option<FolderId>, limit: i64) -> StoreResult<Vec<api::Job>> {
                let id: Option<i64> = text.trim().trim_start_matches('#').parse().ok();
                let pattern = format!(
                    "%{}%",
                    text.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
                );
                let rows: Vec<JobRow> = sqlx::query_as(&format!(
                    "select {JOB_COLUMNS} from jobs where deleted_at is null and not scratch \
                     and ($1 is null or folder_id = $1) \
                     and (lower(name) like $2 escape '\\' or id = $3) order by name, id limit $4"
                ))
                .bind(folder.map(|f| f.0))
                .bind(pattern)
                .bind(id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                self.job_rows_to_api(rows, false).await
            }

            async fn state_counts(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<BTreeMap<InstanceState, u32>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "select i.state, count(*) from instances i join jobs j on j.id = i.job_id \
                     where i.scheduled_at >= $1 and i.scheduled_at < $2 and not j.scratch group by i.state",
                )
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|(state, n)| Ok((parse(&state)?, count(n)))).collect()
            }

            async fn instances_in_state(
                &self,
                state: InstanceState,
                range: Option<(DateTime<Utc>, DateTime<Utc>)>,
                limit: i64,
            ) -> StoreResult<Vec<api::DashboardInstance>> {
                let order = if state == InstanceState::Running {
                    "i.started_at, i.id"
                } else {
                    "i.finished_at desc, i.id desc"
                };
                let rows: Vec<(i64, i64, String, DateTime<Utc>, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<String>)> =
                    sqlx::query_as(&format!(
                        "select i.id, i.job_id, j.name, i.scheduled_at, i.state, i.started_at, i.finished_at, i.reason \
                         from instances i join jobs j on j.id = i.job_id where i.state = $1 and not j.scratch \
                         and ($2 is null or i.scheduled_at >= $2) and ($3 is null or i.scheduled_at < $3) \
                         order by {order} limit $4"
                    ))
                    .bind(state.as_str())
                    .bind(range.map(|r| r.0))
                    .bind(range.map(|r| r.1))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map(|(id, job, name, at, state, started_at, finished_at, reason)| {
                        Ok(api::DashboardInstance {
                            instance_id: InstanceId(id),
                            job_id: JobId(job),
                            job_name: name,
                            business_time: at,
                            state: parse(&state)?,
                            started_at,
                            finished_at,
                            reason,
                        })
                    })
                    .collect()
            }

            async fn attempt_durations(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<(InstanceId, JobId, String, f64)>> {
                let rows: Vec<(i64, i64, String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
                    "select a.instance_id, a.job_id, j.name, a.started_at, a.finished_at from attempts a \
                     join instances i on i.id = a.instance_id join jobs j on j.id = a.job_id \
                     where i.scheduled_at >= $1 and i.scheduled_at < $2 and not j.scratch \
                     and a.started_at is not null and a.finished_at is not null",
                )
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(instance, job, name, start, end)| {
                        let seconds = (end - start).num_milliseconds() as f64 / 1000.0;
                        (InstanceId(instance), JobId(job), name, seconds)
                    })
                    .collect())
            }

            async fn search_definitions(&self, text: &str, limit: i64) -> StoreResult<Vec<(JobId, String, FolderId, String, String, String)>> {
                let pattern = format!(
                    "%{}%",
                    text.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
                );
                let rows: Vec<(i64, String, i64, String, String, String)> = sqlx::query_as(
                    "select id, name, folder_id, description, script, configs from jobs where deleted_at is null and not scratch \
                     and (lower(name) like $1 escape '\\' or lower(description) like $1 escape '\\' \
                     or lower(script) like $1 escape '\\' or lower(configs) like $1 escape '\\') \
                     order by name, id limit $2",
                )
                .bind(pattern)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, name, folder, description, script, configs)| {
                        (JobId(id), name, FolderId(folder), description, script, configs)
                    })
                    .collect())
            }

            async fn folder_instances(&self, folder: FolderId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<api::Instance>> {
                let rows: Vec<InstanceViewRow> = sqlx::query_as(&format!(
                    "{INSTANCE_VIEW} where j.folder_id = $1 and not j.scratch and i.scheduled_at >= $2 and i.scheduled_at < $3 \
                     order by i.scheduled_at, i.id limit 5000"
                ))
                .bind(folder.0)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                let attempts: Vec<AttemptViewRow> = sqlx::query_as(&format!(
                    "{ATTEMPT_VIEW} where a.instance_id in (select i.id from instances i join jobs j on j.id = i.job_id \
                     where j.folder_id = $1 and not j.scratch and i.scheduled_at >= $2 and i.scheduled_at < $3) order by a.number"
                ))
                .bind(folder.0)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                views_to_api(rows, attempts)
            }

            async fn attempt_times(&self, since: DateTime<Utc>) -> StoreResult<Vec<super::AttemptTiming>> {
                let rows: Vec<(i64, i64, i64, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, String)> =
                    sqlx::query_as(
                        "select a.id, a.instance_id, a.job_id, i.scheduled_at, a.created_at, a.started_at, a.finished_at, a.state \
                         from attempts a join instances i on i.id = a.instance_id where a.created_at >= $1 order by a.id",
                    )
                    .bind(since)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map(|(attempt, instance, job, scheduled_at, created_at, started_at, finished_at, state)| {
                        Ok(super::AttemptTiming {
                            attempt: AttemptId(attempt),
                            instance: InstanceId(instance),
                            job: JobId(job),
                            scheduled_at,
                            created_at,
                            started_at,
                            finished_at,
                            state: parse(&state)?,
                        })
                    })
                    .collect()
            }

            async fn delete_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("update jobs set deleted_at = $2 where id = $1 and deleted_at is null")
                    .bind(id.0)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                sqlx::query("delete from job_dependencies where job_id = $1").bind(id.0).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn dependency_graph(&self) -> StoreResult<BTreeMap<JobId, Vec<JobId>>> {
                let ids: Vec<i64> = sqlx::query_scalar("select id from jobs where deleted_at is null").fetch_all(&self.pool).await?;
                let mut graph: BTreeMap<JobId, Vec<JobId>> = self
                    .dependencies_of(None)
                    .await?
                    .into_iter()
                    .map(|(job, edges)| (job, edges.into_iter().map(|e| e.0).collect()))
                    .collect();
                for id in ids {
                    graph.entry(JobId(id)).or_default();
                }
                Ok(graph)
            }

            async fn job_version(&self, id: JobId, version: i64) -> StoreResult<JobVersionRecord> {
                self.job_versions(&[(id, version)])
                    .await?
                    .pop()
                    .map(|(_, record)| record)
                    .ok_or(StoreError::NotFound)
            }

            async fn job_versions(&self, keys: &[(JobId, i64)]) -> StoreResult<Vec<((JobId, i64), JobVersionRecord)>> {
                let mut out = Vec::with_capacity(keys.len());
                for group in keys.chunks(200) {
                    let keys = (0..group.len())
                        .map(|n| format!("(${}, ${})", 2 * n + 1, 2 * n + 2))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "select v.job_id, v.version, j.name, v.job_type, v.script, v.configs, j.folder_id, j.timezone, \
                         j.host_group from (values {keys}) as k \
                         join job_versions v on v.job_id = k.column1 and v.version = k.column2 \
                         join jobs j on j.id = v.job_id"
                    );
                    let mut query = sqlx::query_as::<_, (i64, i64, String, String, String, String, i64, String, String)>(&sql);
                    for (job, version) in group {
                        query = query.bind(job.0).bind(*version);
                    }
                    for (job, version, name, job_type, script, configs, folder, timezone, host_group) in
                        query.fetch_all(&self.pool).await?
                    {
                        out.push((
                            (JobId(job), version),
                            JobVersionRecord {
                                name,
                                job_type: parse::<JobType>(&job_type)?,
                                script,
                                configs: parse_configs(&configs)?,
                                folder_id: FolderId(folder),
                                timezone,
                                host_group,
                            },
                        ));
                    }
                }
                Ok(out)
            }

            async fn apply(&self, instances: &[InstanceRecord], attempts: &[AttemptRecord]) -> StoreResult<()> {
                if instances.is_empty() && attempts.is_empty() {
                    return Ok(());
                }
                // A few statements of many rows each: a batch of decisions costs a handful of
                // round trips to the database, not one per row. On SQLite, the usual batch (a
                // statement per table) is one round trip; a big one (a storm of due jobs) goes
                // statement by statement rather than as one huge query.
                if Self::ONE_QUERY_TRANSACTIONS && instances.len() <= UPSERT_ROWS && attempts.len() <= UPSERT_ROWS {
                    let mut statements = Vec::new();
                    if !instances.is_empty() {
                        statements.push(instance_upsert(instances.len(), Self::NUMBERED_PARAMS));
                    }
                    if !attempts.is_empty() {
                        statements.push(attempt_upsert(attempts.len(), Self::NUMBERED_PARAMS));
                    }
                    let sql = one_transaction(&statements);
                    return run_one_transaction(&self.writer, || {
                        let mut query = sqlx::query(&sql);
                        for it in instances {
                            query = bind_instance!(query, it);
                        }
                        for it in attempts {
                            query = bind_attempt!(query, it);
                        }
                        query
                    })
                    .await;
                }
                let mut tx = self.writer.begin().await?;
                for rows in instances.chunks(UPSERT_ROWS) {
                    let sql = instance_upsert(rows.len(), Self::NUMBERED_PARAMS);
                    let mut query = sqlx::query(&sql);
                    for it in rows {
                        query = bind_instance!(query, it);
                    }
                    query.execute(&mut *tx).await?;
                }
                for rows in attempts.chunks(UPSERT_ROWS) {
                    let sql = attempt_upsert(rows.len(), Self::NUMBERED_PARAMS);
                    let mut query = sqlx::query(&sql);
                    for it in rows {
                        query = bind_attempt!(query, it);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn snapshot(&self, keep_since: DateTime<Utc>) -> StoreResult<Snapshot> {
                let jobs: Vec<JobRow> = sqlx::query_as(&format!("select {JOB_COLUMNS} from jobs where deleted_at is null"))
                    .fetch_all(&self.pool)
                    .await?;
                let jobs = self
                    .job_rows_to_api(jobs, true)
                    .await?
                    .iter()
                    .map(JobSpec::from_job)
                    .collect();
                let calendars = self
                    .calendar_rows(None)
                    .await?
                    .iter()
                    .map(CalendarSpec::from_calendar)
                    .collect();
                let backfill_rows: Vec<BackfillRow> = sqlx::query_as(&format!(
                    "select {BACKFILL_COLUMNS} where b.state in ('running', 'paused')"
                ))
                .fetch_all(&self.pool)
                .await?;
                let backfills = backfill_rows.iter().map(BackfillRow::spec).collect::<StoreResult<Vec<_>>>()?;
                let last: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
                    "select job_id, max(scheduled_at) from instances where trigger = 'scheduled' group by job_id",
                )
                .fetch_all(&self.pool)
                .await?;
                let terminal = terminal_states();
                let instances: Vec<InstanceRow> = sqlx::query_as(&format!(
                    "select {INSTANCE_COLUMNS} from instances where state not in ({terminal}) or scheduled_at >= $1 \
                     or finished_at >= $1"
                ))
                .bind(keep_since)
                .fetch_all(&self.pool)
                .await?;
                let attempts: Vec<AttemptRow> = sqlx::query_as(&format!(
                    "select {ATTEMPT_COLUMNS} from attempts where state in ('dispatched', 'running')"
                ))
                .fetch_all(&self.pool)
                .await?;
                let max_instance_id: i64 =
                    sqlx::query_scalar("select coalesce(max(id), 0) from instances").fetch_one(&self.pool).await?;
                let max_attempt_id: i64 =
                    sqlx::query_scalar("select coalesce(max(id), 0) from attempts").fetch_one(&self.pool).await?;
                Ok(Snapshot {
                    jobs,
                    last_scheduled: last.into_iter().map(|(job, at)| (JobId(job), at)).collect(),
                    instances: instances.into_iter().map(InstanceRow::into_record).collect::<StoreResult<_>>()?,
                    attempts: attempts.into_iter().map(AttemptRow::into_record).collect::<StoreResult<_>>()?,
                    max_instance_id,
                    max_attempt_id,
                    calendars,
                    backfills,
                })
            }

            async fn instance(&self, id: InstanceId) -> StoreResult<api::Instance> {
                let row: InstanceViewRow = sqlx::query_as(&format!("{INSTANCE_VIEW} where i.id = $1"))
                    .bind(id.0)
                    .fetch_one(&self.pool)
                    .await?;
                let attempts: Vec<AttemptViewRow> =
                    sqlx::query_as(&format!("{ATTEMPT_VIEW} where a.instance_id = $1 order by a.number"))
                        .bind(id.0)
                        .fetch_all(&self.pool)
                        .await?;
                views_to_api(vec![row], attempts)?.pop().ok_or(StoreError::NotFound)
            }

            async fn job_instances(
                &self,
                job: JobId,
                limit: i64,
                from: Option<DateTime<Utc>>,
                to: Option<DateTime<Utc>>,
            ) -> StoreResult<Vec<api::Instance>> {
                let range = "($3 is null or scheduled_at >= $3) and ($4 is null or scheduled_at < $4)";
                let rows: Vec<InstanceViewRow> = sqlx::query_as(&format!(
                    "{INSTANCE_VIEW} where i.job_id = $1 and {} order by i.scheduled_at desc, i.id desc limit $2",
                    range.replace("scheduled_at", "i.scheduled_at")
                ))
                .bind(job.0)
                .bind(limit)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                let attempts: Vec<AttemptViewRow> = sqlx::query_as(&format!(
                    "{ATTEMPT_VIEW} where a.instance_id in (select id from instances where job_id = $1 and {range} \
                     order by scheduled_at desc, id desc limit $2) order by a.number"
                ))
                .bind(job.0)
                .bind(limit)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                views_to_api(rows, attempts)
            }

            async fn latest_states(&self, jobs: &[JobId]) -> StoreResult<BTreeMap<JobId, (InstanceId, InstanceState)>> {
                let mut out = BTreeMap::new();
                for job in jobs {
                    let row: Option<(i64, String)> = sqlx::query_as(
                        "select id, state from instances where job_id = $1 order by scheduled_at desc, id desc limit 1",
                    )
                    .bind(job.0)
                    .fetch_optional(&self.pool)
                    .await?;
                    if let Some((id, state)) = row {
                        out.insert(*job, (InstanceId(id), parse(&state)?));
                    }
                }
                Ok(out)
            }

            async fn attempt_instance(&self, id: AttemptId) -> StoreResult<InstanceId> {
                let instance: i64 = sqlx::query_scalar("select instance_id from attempts where id = $1")
                    .bind(id.0)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(InstanceId(instance))
            }

            async fn ide_files(&self, user: &str) -> StoreResult<Vec<IdeFileRecord>> {
                let rows: Vec<IdeFileRow> = sqlx::query_as(&format!(
                    "select {IDE_FILE_COLUMNS}, '' as content from ide_files \
                     where owner = $1 or owner is null order by is_dir desc, name, id"
                ))
                .bind(user)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|row| row.into_record(false)).collect()
            }

            async fn ide_file(&self, id: IdeFileId) -> StoreResult<IdeFileRecord> {
                let row: IdeFileRow = sqlx::query_as(&format!(
                    "select {IDE_FILE_COLUMNS}, content from ide_files where id = $1"
                ))
                .bind(id.0)
                .fetch_one(&self.pool)
                .await?;
                row.into_record(true)
            }

            async fn create_ide_file(&self, file: &IdeFileWrite, now: DateTime<Utc>) -> StoreResult<IdeFileId> {
                let id: i64 = sqlx::query_scalar(
                    "insert into ide_files (owner, parent_id, name, is_dir, job_type, content, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $7) returning id",
                )
                .bind(&file.owner)
                .bind(file.parent_id.map(|p| p.0))
                .bind(&file.name)
                .bind(file.is_dir)
                .bind(file.job_type.as_str())
                .bind(&file.content)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(IdeFileId(id))
            }

            async fn update_ide_file(&self, id: IdeFileId, update: &api::IdeFileUpdate, now: DateTime<Utc>) -> StoreResult<()> {
                let done = sqlx::query(
                    "update ide_files set name = coalesce($1, name), content = coalesce($2, content), \
                     job_type = coalesce($3, job_type), updated_at = $4 where id = $5",
                )
                .bind(&update.name)
                .bind(&update.content)
                .bind(update.job_type.map(|t| t.as_str()))
                .bind(now)
                .bind(id.0)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn move_ide_file(&self, id: IdeFileId, parent: Option<IdeFileId>, now: DateTime<Utc>) -> StoreResult<()> {
                let done = sqlx::query("update ide_files set parent_id = $1, updated_at = $2 where id = $3")
                    .bind(parent.map(|p| p.0))
                    .bind(now)
                    .bind(id.0)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn delete_ide_file(&self, id: IdeFileId) -> StoreResult<Vec<JobId>> {
                const SUBTREE: &str = "with recursive subtree(id) as (select id from ide_files where id = $1 \
                     union all select f.id from ide_files f join subtree s on f.parent_id = s.id)";
                let mut tx = self.pool.begin().await?;
                let jobs: Vec<Option<i64>> = sqlx::query_scalar(&format!(
                    "{SUBTREE} select run_job_id from ide_files where id in (select id from subtree)"
                ))
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await?;
                let done = sqlx::query(&format!("{SUBTREE} delete from ide_files where id in (select id from subtree)"))
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.commit().await?;
                Ok(jobs.into_iter().flatten().map(JobId).collect())
            }

            async fn link_ide_file(&self, id: IdeFileId, run_job: Option<JobId>, published_job: Option<JobId>) -> StoreResult<()> {
                sqlx::query(
                    "update ide_files set run_job_id = coalesce($1, run_job_id), \
                     published_job_id = coalesce($2, published_job_id) where id = $3",
                )
                .bind(run_job.map(|j| j.0))
                .bind(published_job.map(|j| j.0))
                .bind(id.0)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn add_resource_version(&self, name: &str, size: u64, sha256: &str, user: &str, now: DateTime<Utc>) -> StoreResult<api::ResourceVersion> {
                let mut tx = self.pool.begin().await?;
                let id: i64 = sqlx::query_scalar(
                    "insert into resources (name, created_by, created_at, updated_at) values ($1, $2, $3, $3) \
                     on conflict (name) do update set updated_at = excluded.updated_at returning id",
                )
                .bind(name)
                .bind(user)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let version: i64 = sqlx::query_scalar(
                    "select coalesce(max(version), 0) + 1 from resource_versions where resource_id = $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "insert into resource_versions (resource_id, version, size, sha256, uploaded_by, created_at) \
                     values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(version)
                .bind(i64::try_from(size).unwrap_or(i64::MAX))
                .bind(sha256)
                .bind(user)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(api::ResourceVersion {
                    resource_id: ResourceId(id),
                    version: count(version),
                    size,
                    sha256: sha256.to_owned(),
                    uploaded_by: user.to_owned(),
                    created_at: now,
                })
            }

            async fn resources(&self) -> StoreResult<Vec<api::Resource>> {
                let rows: Vec<ResourceRow> = sqlx::query_as(&format!(
                    "{RESOURCE_VIEW} where v.version = (select max(version) from resource_versions \
                     where resource_id = r.id) order by r.name"
                ))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|row| {
                    let (resource, version) = row.split();
                    api::Resource { latest: version, ..resource }
                }).collect())
            }

            async fn resource(&self, id: ResourceId) -> StoreResult<api::Resource> {
                let rows: Vec<ResourceRow> = sqlx::query_as(&format!(
                    "{RESOURCE_VIEW} where r.id = $1 order by v.version desc"
                ))
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                resource_with_versions(rows)
            }

            async fn resource_by_name(&self, name: &str) -> StoreResult<api::Resource> {
                let rows: Vec<ResourceRow> = sqlx::query_as(&format!(
                    "{RESOURCE_VIEW} where r.name = $1 order by v.version desc"
                ))
                .bind(name)
                .fetch_all(&self.pool)
                .await?;
                resource_with_versions(rows)
            }

            async fn delete_resource(&self, id: ResourceId) -> StoreResult<Vec<String>> {
                let mut tx = self.pool.begin().await?;
                let shas: Vec<String> = sqlx::query_scalar(
                    "delete from resource_versions where resource_id = $1 returning sha256",
                )
                .bind(id.0)
                .fetch_all(&mut *tx)
                .await?;
                let done = sqlx::query("delete from resources where id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let mut unused = Vec::new();
                for sha in shas {
                    let users: i64 = sqlx::query_scalar("select count(*) from resource_versions where sha256 = $1")
                        .bind(&sha)
                        .fetch_one(&mut *tx)
                        .await?;
                    if users == 0 && !unused.contains(&sha) {
                        unused.push(sha);
                    }
                }
                tx.commit().await?;
                Ok(unused)
            }

            async fn resource_content_size(&self, sha256: &str) -> StoreResult<Option<u64>> {
                let size: Option<i64> = sqlx::query_scalar("select max(size) from resource_versions where sha256 = $1")
                    .bind(sha256)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(size.and_then(|s| u64::try_from(s).ok()))
            }

            async fn running_attempts(&self) -> StoreResult<BTreeMap<WorkerId, Vec<api::RunningAttempt>>> {
                let rows: Vec<(i64, i64, i64, i64, String, String, Option<DateTime<Utc>>)> = sqlx::query_as(
                    "select a.worker_id, a.id, a.instance_id, a.job_id, j.name, a.state, a.started_at \
                     from attempts a join jobs j on j.id = a.job_id \
                     where a.state in ('dispatched', 'running') order by a.id",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut out: BTreeMap<WorkerId, Vec<api::RunningAttempt>> = BTreeMap::new();
                for (worker, attempt, instance, job, job_name, state, started_at) in rows {
                    out.entry(WorkerId(worker)).or_default().push(api::RunningAttempt {
                        attempt_id: AttemptId(attempt),
                        instance_id: InstanceId(instance),
                        job_id: JobId(job),
                        job_name,
                        state: parse(&state)?,
                        started_at,
                    });
                }
                Ok(out)
            }

            async fn attempt_owner(&self, id: AttemptId) -> StoreResult<(WorkerId, bool)> {
                let (worker, state): (i64, String) =
                    sqlx::query_as("select worker_id, state from attempts where id = $1")
                        .bind(id.0)
                        .fetch_one(&self.pool)
                        .await?;
                Ok((WorkerId(worker), parse::<AttemptState>(&state)?.is_terminal()))
            }

            async fn job_version_at(&self, id: JobId, at: DateTime<Utc>) -> StoreResult<i64> {
                let version: Option<i64> = sqlx::query_scalar(
                    "select max(version) from job_versions where job_id = $1 and created_at <= $2",
                )
                .bind(id.0)
                .bind(at)
                .fetch_one(&self.pool)
                .await?;
                Ok(version.unwrap_or(1))
            }

            async fn set_job_paused(&self, id: JobId, paused_at: Option<DateTime<Utc>>) -> StoreResult<api::Job> {
                let done = sqlx::query("update jobs set paused = $2, paused_at = $3 where id = $1 and deleted_at is null")
                    .bind(id.0)
                    .bind(paused_at.is_some())
                    .bind(paused_at)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                self.job(id).await
            }

            async fn calendars(&self) -> StoreResult<Vec<api::Calendar>> {
                self.calendar_rows(None).await
            }

            async fn calendar(&self, id: CalendarId) -> StoreResult<api::Calendar> {
                self.calendar_rows(Some(id)).await?.pop().ok_or(StoreError::NotFound)
            }

            async fn save_calendar(&self, id: Option<CalendarId>, calendar: &CalendarWrite, now: DateTime<Utc>) -> StoreResult<api::Calendar> {
                let weekend = calendar.weekend.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
                let mut tx = self.pool.begin().await?;
                let id: i64 = match id {
                    None => sqlx::query_scalar(
                        "insert into calendars (name, description, weekend, created_at, updated_at) \
                         values ($1, $2, $3, $4, $4) returning id",
                    )
                    .bind(&calendar.name)
                    .bind(&calendar.description)
                    .bind(&weekend)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?,
                    Some(id) => sqlx::query_scalar(
                        "update calendars set name = $2, description = $3, weekend = $4, updated_at = $5 \
                         where id = $1 returning id",
                    )
                    .bind(id.0)
                    .bind(&calendar.name)
                    .bind(&calendar.description)
                    .bind(&weekend)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?,
                };
                sqlx::query("delete from calendar_days where calendar_id = $1").bind(id).execute(&mut *tx).await?;
                for day in &calendar.days {
                    sqlx::query("insert into calendar_days (calendar_id, day, kind, note) values ($1, $2, $3, $4)")
                        .bind(id)
                        .bind(day.date.format("%Y-%m-%d").to_string())
                        .bind(day.kind.as_str())
                        .bind(&day.note)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                self.calendar(CalendarId(id)).await
            }

            async fn delete_calendar(&self, id: CalendarId) -> StoreResult<()> {
                // Read before the write transaction (one that reads first cannot wait for SQLite's
                // write lock); a job that takes the calendar meanwhile makes the delete a conflict.
                let users: Vec<String> = sqlx::query_scalar(
                    "select name from jobs where calendar_id = $1 and deleted_at is null order by name",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                if !users.is_empty() {
                    return Err(StoreError::Conflict(format!(
                        "the calendar is used by {}: {}",
                        if users.len() == 1 { "job" } else { "jobs" },
                        users.join(", ")
                    )));
                }
                let mut tx = self.pool.begin().await?;
                // Deleted jobs keep no reference to it.
                sqlx::query("update jobs set calendar_id = null where calendar_id = $1 and deleted_at is not null")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                let done = sqlx::query("delete from calendars where id = $1").bind(id.0).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn create_backfill(&self, backfill: &BackfillWrite, now: DateTime<Utc>) -> StoreResult<BackfillId> {
                let id: i64 = sqlx::query_scalar(
                    "insert into backfills (job_id, include_downstream, parallelism, order_kind, version_kind, state, \
                     created_by, reason, created_at, updated_at) values ($1, $2, $3, $4, $5, 'running', $6, $7, $8, $8) \
                     returning id",
                )
                .bind(backfill.job_id.0)
                .bind(backfill.include_downstream)
                .bind(i64::from(backfill.parallelism))
                .bind(backfill.order.as_str())
                .bind(backfill.version.as_str())
                .bind(&backfill.created_by)
                .bind(&backfill.reason)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(BackfillId(id))
            }

            async fn set_backfill_state(&self, id: BackfillId, state: BackfillState, now: DateTime<Utc>) -> StoreResult<()> {
                let done = sqlx::query("update backfills set state = $2, updated_at = $3 where id = $1")
                    .bind(id.0)
                    .bind(state.as_str())
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn backfill(&self, id: BackfillId) -> StoreResult<api::Backfill> {
                let row: BackfillRow = sqlx::query_as(&format!("select {BACKFILL_COLUMNS} where b.id = $1"))
                    .bind(id.0)
                    .fetch_one(&self.pool)
                    .await?;
                self.backfill_progress(row).await
            }

            async fn backfills(&self, job: Option<JobId>, limit: i64) -> StoreResult<Vec<api::Backfill>> {
                let rows: Vec<BackfillRow> = sqlx::query_as(&format!(
                    "select {BACKFILL_COLUMNS} where ($1 is null or b.job_id = $1) order by b.id desc limit $2"
                ))
                .bind(job.map(|j| j.0))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    out.push(self.backfill_progress(row).await?);
                }
                Ok(out)
            }

            async fn backfill_members(&self, id: BackfillId) -> StoreResult<Vec<api::BackfillMember>> {
                let rows: Vec<(i64, i64, String, DateTime<Utc>, String, Option<String>)> = sqlx::query_as(
                    "select i.id, i.job_id, j.name, i.scheduled_at, i.state, i.reason from instances i \
                     join jobs j on j.id = i.job_id where i.backfill_id = $1 order by i.scheduled_at, i.id",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(instance, job, name, at, state, reason)| {
                        Ok(api::BackfillMember {
                            instance_id: InstanceId(instance),
                            job_id: JobId(job),
                            job_name: name,
                            business_time: at,
                            state: parse(&state)?,
                            reason,
                        })
                    })
                    .collect()
            }

            async fn instance_record(&self, id: InstanceId) -> StoreResult<InstanceRecord> {
                let row: InstanceRow = sqlx::query_as(&format!("select {INSTANCE_COLUMNS} from instances where id = $1"))
                    .bind(id.0)
                    .fetch_one(&self.pool)
                    .await?;
                row.into_record()
            }

            async fn instance_records(&self, jobs: &[JobId], from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<InstanceRecord>> {
                let mut out = Vec::new();
                for job in jobs {
                    let rows: Vec<InstanceRow> = sqlx::query_as(&format!(
                        "select {INSTANCE_COLUMNS} from instances where job_id = $1 and scheduled_at >= $2 and scheduled_at < $3"
                    ))
                    .bind(job.0)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await?;
                    for row in rows {
                        out.push(row.into_record()?);
                    }
                }
                Ok(out)
            }

            async fn set_secret(&self, secret: &super::SecretRecord) -> StoreResult<()> {
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::STANDARD;
                sqlx::query(
                    "insert into secrets (owner_kind, owner_id, name, nonce, sealed, updated_at) \
                     values ($1, $2, $3, $4, $5, $6) on conflict (owner_kind, owner_id, name) do update \
                     set nonce = excluded.nonce, sealed = excluded.sealed, updated_at = excluded.updated_at",
                )
                .bind(secret.owner.kind())
                .bind(secret.owner.id())
                .bind(&secret.name)
                .bind(b64.encode(&secret.nonce))
                .bind(b64.encode(&secret.sealed))
                .bind(secret.updated_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_secret(&self, owner: super::SecretOwner, name: &str) -> StoreResult<()> {
                let done = sqlx::query("delete from secrets where owner_kind = $1 and owner_id = $2 and name = $3")
                    .bind(owner.kind())
                    .bind(owner.id())
                    .bind(name)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn secrets(&self, owners: &[super::SecretOwner]) -> StoreResult<Vec<super::SecretRecord>> {
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::STANDARD;
                let mut out = Vec::new();
                // One query per kind of owner and group of up to 200 owners.
                for kind in ["folder", "job"] {
                    let ids: Vec<i64> = owners.iter().filter(|o| o.kind() == kind).map(|o| o.id()).collect();
                    for group in ids.chunks(200) {
                        let list = (2..group.len() + 2).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
                        let sql = format!(
                            "select owner_id, name, nonce, sealed, updated_at from secrets \
                             where owner_kind = $1 and owner_id in ({list}) order by owner_id, name"
                        );
                        let mut query = sqlx::query_as::<_, (i64, String, String, String, DateTime<Utc>)>(&sql).bind(kind);
                        for id in group {
                            query = query.bind(*id);
                        }
                        for (owner_id, name, nonce, sealed, updated_at) in query.fetch_all(&self.pool).await? {
                            let decode = |text: &str| {
                                b64.decode(text)
                                    .map_err(|err| StoreError::Other(anyhow::anyhow!("corrupt secret `{name}`: {err}")))
                            };
                            let owner = *owners
                                .iter()
                                .find(|o| o.kind() == kind && o.id() == owner_id)
                                .expect("the query asked for this owner");
                            out.push(super::SecretRecord {
                                owner,
                                nonce: decode(&nonce)?,
                                sealed: decode(&sealed)?,
                                name,
                                updated_at,
                            });
                        }
                    }
                }
                // In the order the owners were given (callers rank them by it).
                out.sort_by_key(|record| owners.iter().position(|o| *o == record.owner));
                Ok(out)
            }

            async fn secret_owners(&self) -> StoreResult<Vec<super::SecretOwner>> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as("select distinct owner_kind, owner_id from secrets")
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter()
                    .map(|(kind, id)| match kind.as_str() {
                        "folder" => Ok(super::SecretOwner::Folder(FolderId(id))),
                        "job" => Ok(super::SecretOwner::Job(JobId(id))),
                        other => Err(StoreError::Other(anyhow::anyhow!("unknown secret owner kind `{other}`"))),
                    })
                    .collect()
            }

            async fn record_audit(&self, entry: &AuditWrite, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(
                    "insert into audit_events (at, actor, action, job_id, instance_id, backfill_id, calendar_id, reason, details) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(now)
                .bind(&entry.actor)
                .bind(&entry.action)
                .bind(entry.job_id.map(|j| j.0))
                .bind(entry.instance_id.map(|i| i.0))
                .bind(entry.backfill_id.map(|b| b.0))
                .bind(entry.calendar_id.map(|c| c.0))
                .bind(&entry.reason)
                .bind(&entry.details)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn audit(&self, filter: &AuditFilter, limit: i64) -> StoreResult<Vec<api::AuditEntry>> {
                let rows: Vec<AuditRow> = sqlx::query_as(
                    "select id, at, actor, action, job_id, instance_id, backfill_id, calendar_id, reason, details \
                     from audit_events where ($1 is null or job_id = $1) and ($2 is null or instance_id = $2) \
                     and ($3 is null or backfill_id = $3) and ($4 is null or calendar_id = $4) \
                     order by id desc limit $5",
                )
                .bind(filter.job_id.map(|j| j.0))
                .bind(filter.instance_id.map(|i| i.0))
                .bind(filter.backfill_id.map(|b| b.0))
                .bind(filter.calendar_id.map(|c| c.0))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|row| api::AuditEntry {
                        id: AuditId(row.id),
                        at: row.at,
                        actor: row.actor,
                        action: row.action,
                        job_id: row.job_id.map(JobId),
                        instance_id: row.instance_id.map(InstanceId),
                        backfill_id: row.backfill_id.map(BackfillId),
                        calendar_id: row.calendar_id.map(CalendarId),
                        reason: row.reason,
                        details: row.details,
                    })
                    .collect())
            }

            async fn append_logs(&self, chunks: &[super::LogChunkWrite], now: DateTime<Utc>) -> StoreResult<Vec<u64>> {
                // The end of each attempt's stored log, read before the write transaction (a
                // transaction that reads first cannot wait for SQLite's write lock), then extended
                // by this batch. Only the worker running an attempt appends to its log.
                let mut known: BTreeMap<AttemptId, u64> = chunks.iter().map(|c| (c.attempt, 0)).collect();
                let ids: Vec<i64> = known.keys().map(|a| a.0).collect();
                // (SQLite allows 500 terms in a compound select.)
                for group in ids.chunks(200) {
                    // One statement, an index seek per attempt (its last chunk; null if none).
                    let sql = (1..=group.len())
                        .map(|n| {
                            format!(
                                "select ${n}, (select end_offset from log_chunks where attempt_id = ${n} \
                                 order by start_offset desc limit 1)"
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" union all ");
                    let mut query = sqlx::query_as::<_, (i64, Option<i64>)>(&sql);
                    for id in group {
                        query = query.bind(*id);
                    }
                    for (attempt, end) in query.fetch_all(&self.writer).await? {
                        known.insert(AttemptId(attempt), end.map_or(0, |e| e as u64));
                    }
                }
                // What each chunk adds: a gap stores nothing; a resend only the part not stored yet.
                let mut rows = Vec::new();
                let mut ends = Vec::with_capacity(chunks.len());
                for chunk in chunks {
                    let end = known[&chunk.attempt];
                    let (offset, text) = (chunk.offset, chunk.text.as_str());
                    let stop = offset + text.len() as u64;
                    let new_end = if offset > end || stop <= end || text.is_empty() {
                        end
                    } else {
                        let (tail, skipped) = skip_bytes(text, (end - offset) as usize);
                        if !tail.is_empty() {
                            rows.push((chunk.attempt.0, (offset + skipped as u64) as i64, stop as i64, tail));
                        }
                        stop
                    };
                    known.insert(chunk.attempt, new_end);
                    ends.push(new_end);
                }
                if rows.is_empty() {
                    return Ok(ends);
                }
                if Self::ONE_QUERY_TRANSACTIONS && rows.len() <= UPSERT_ROWS {
                    let sql = one_transaction(&[log_insert(rows.len(), Self::NUMBERED_PARAMS)]);
                    run_one_transaction(&self.writer, || {
                        let mut query = sqlx::query(&sql);
                        for row in &rows {
                            query = bind_log_row!(query, row, now);
                        }
                        query
                    })
                    .await?;
                    return Ok(ends);
                }
                let mut tx = self.writer.begin().await?;
                for group in rows.chunks(UPSERT_ROWS) {
                    let sql = log_insert(group.len(), Self::NUMBERED_PARAMS);
                    let mut query = sqlx::query(&sql);
                    for row in group {
                        query = bind_log_row!(query, row, now);
                    }
                    query.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(ends)
            }

            async fn read_log(&self, attempt: AttemptId, offset: u64, max_bytes: usize) -> StoreResult<(String, u64)> {
                let rows: Vec<(i64, String)> = sqlx::query_as(
                    "select start_offset, text from log_chunks where attempt_id = $1 and end_offset > $2 \
                     order by start_offset limit 1000",
                )
                .bind(attempt.0)
                .bind(offset as i64)
                .fetch_all(&self.pool)
                .await?;
                let mut out = String::new();
                let mut next = offset;
                for (start, text) in rows {
                    let start = start as u64;
                    if start > next {
                        break;
                    }
                    let (part, skipped) = skip_bytes(&text, (next - start) as usize);
                    if out.is_empty() {
                        next = start + skipped as u64;
                    }
                    if !out.is_empty() && out.len() + part.len() > max_bytes {
                        break;
                    }
                    out.push_str(part);
                    next += part.len() as u64;
                }
                Ok((out, next))
            }
        }
    };
}

sql_store!(SqliteStore);
sql_store!(PgStore);

/// Writes a job's version row and its dependency rows (shared by create and update).
async fn write_version_and_deps<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    id: i64,
    version: i64,
    job: &JobWrite,
    now: DateTime<Utc>,
) -> StoreResult<()>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(
        "insert into job_versions (job_id, version, job_type, script, configs, created_at) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(version)
    .bind(job.job_type.as_str())
    .bind(job.script.as_str())
    .bind(configs_text(&job.configs).as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    for upstream in &job.dependencies {
        let window = job
            .dependency_windows
            .get(upstream)
            .copied()
            .unwrap_or(DependencyWindow::SameDay);
        let on_skip = job
            .dependency_on_skip
            .get(upstream)
            .copied()
            .unwrap_or(OnSkip::Done);
        sqlx::query(
            "insert into job_dependencies (job_id, upstream_id, window_kind, on_skip) \
             values ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(upstream.0)
        .bind(window.as_str())
        .bind(on_skip.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
