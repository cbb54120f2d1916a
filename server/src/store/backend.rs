//! The two sqlx backends. The SQL text is the same for both (SQLite accepts `$n` placeholders,
//! `returning` and `on conflict`), so one macro body implements [`Store`] for each pool type;
//! only connection set-up and migrations differ.

use std::{collections::BTreeMap, str::FromStr, time::Duration};

use anyhow::Context as _;
use app::{
    api,
    domain::{AttemptState, DependencyWindow, InstanceState, JobType, TriggerKind},
    engine::{AttemptRecord, InstanceRecord, JobSpec, Snapshot},
    ids::{AttemptId, FolderId, InstanceId, JobId, WorkerId},
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    FromRow, PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
};

use super::{JobVersionRecord, JobWrite, Store, StoreError, StoreResult, UserRecord};

/// SQLite, the default: one file in the data directory, WAL journal.
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and migrates it.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("bad SQLite URL `{url}`"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open SQLite database `{url}`"))?;
        sqlx::migrate!("../migrations/sqlite")
            .run(&pool)
            .await
            .context("SQLite migrations failed")?;
        Ok(SqliteStore { pool })
    }
}

/// PostgreSQL, for servers that share one database.
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
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
        Ok(PgStore { pool })
    }
}

#[derive(FromRow)]
struct UserRow {
    username: String,
    password_hash: String,
    is_admin: bool,
}

#[derive(FromRow)]
struct FolderRow {
    id: i64,
    name: String,
    parent_id: Option<i64>,
    created_at: DateTime<Utc>,
}

impl From<FolderRow> for api::Folder {
    fn from(row: FolderRow) -> Self {
        api::Folder {
            id: FolderId(row.id),
            name: row.name,
            parent_id: row.parent_id.map(FolderId),
            created_at: row.created_at,
        }
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
}

impl JobRow {
    fn into_api(self, dependencies: Vec<(JobId, DependencyWindow)>) -> StoreResult<api::Job> {
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
            dependency_windows: dependencies.into_iter().collect(),
            self_dependent: self.self_dependent,
            host_group: self.host_group,
            retry_count: u32::try_from(self.retry_count).unwrap_or(0),
            retry_delay_secs: u32::try_from(self.retry_delay_secs).unwrap_or(0),
            enabled: self.enabled,
            priority: u8::try_from(self.priority).unwrap_or(3),
            overlap_policy: parse(&self.overlap_policy)?,
            misfire_policy: parse(&self.misfire_policy)?,
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
    self_dependent, owner, version, created_at, updated_at";
const INSTANCE_COLUMNS: &str = "id, job_id, scheduled_at, job_version, trigger, state, reason, \
    created_at, started_at, finished_at, attempts, failed_attempts, lost_attempts, retry_at, \
    next_trigger, cancel_requested";
const ATTEMPT_COLUMNS: &str = "id, instance_id, job_id, number, trigger, state, worker_id, \
    exit_code, created_at, started_at, finished_at";
const INSTANCE_VIEW: &str = "select i.id, i.job_id, j.name as job_name, i.scheduled_at, \
    i.job_version, i.trigger, i.state, i.reason, i.created_at, i.started_at, i.finished_at \
    from instances i join jobs j on j.id = i.job_id";
const ATTEMPT_VIEW: &str = "select a.id, a.instance_id, a.number, a.trigger, a.state, \
    a.worker_id, w.name as worker_name, a.exit_code, a.created_at, a.started_at, a.finished_at \
    from attempts a left join workers w on w.id = a.worker_id";

/// Binds a job definition's columns as `$1`–`$17` (shared by insert and update, which list them
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
    };
}

macro_rules! sql_store {
    ($store:ty) => {
        impl $store {
            async fn dependencies_of(&self, job: Option<JobId>) -> StoreResult<BTreeMap<JobId, Vec<(JobId, DependencyWindow)>>> {
                let rows: Vec<(i64, i64, String)> = match job {
                    Some(job) => sqlx::query_as(
                        "select job_id, upstream_id, window_kind from job_dependencies where job_id = $1 order by upstream_id",
                    )
                    .bind(job.0)
                    .fetch_all(&self.pool)
                    .await?,
                    None => sqlx::query_as(
                        "select job_id, upstream_id, window_kind from job_dependencies order by job_id, upstream_id",
                    )
                    .fetch_all(&self.pool)
                    .await?,
                };
                let mut out: BTreeMap<JobId, Vec<(JobId, DependencyWindow)>> = BTreeMap::new();
                for (job, upstream, window) in rows {
                    out.entry(JobId(job)).or_default().push((JobId(upstream), parse(&window)?));
                }
                Ok(out)
            }

            async fn job_rows_to_api(&self, rows: Vec<JobRow>, job: Option<JobId>) -> StoreResult<Vec<api::Job>> {
                let mut deps = self.dependencies_of(job).await?;
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

            async fn create_user(&self, user: &UserRecord, now: DateTime<Utc>) -> StoreResult<()> {
                sqlx::query(
                    "insert into users (username, password_hash, is_admin, created_at) values ($1, $2, $3, $4)",
                )
                .bind(&user.username)
                .bind(&user.password_hash)
                .bind(user.is_admin)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn user(&self, username: &str) -> StoreResult<UserRecord> {
                let row: UserRow = sqlx::query_as(
                    "select username, password_hash, is_admin from users where username = $1",
                )
                .bind(username)
                .fetch_one(&self.pool)
                .await?;
                Ok(UserRecord { username: row.username, password_hash: row.password_hash, is_admin: row.is_admin })
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

            async fn create_folder(&self, name: &str, parent: Option<FolderId>, now: DateTime<Utc>) -> StoreResult<api::Folder> {
                let row: FolderRow = sqlx::query_as(
                    "insert into folders (name, parent_id, created_at) values ($1, $2, $3) \
                     returning id, name, parent_id, created_at",
                )
                .bind(name)
                .bind(parent.map(|p| p.0))
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(row.into())
            }

            async fn folders(&self) -> StoreResult<Vec<api::Folder>> {
                let rows: Vec<FolderRow> =
                    sqlx::query_as("select id, name, parent_id, created_at from folders order by name, id")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn create_job(&self, job: &JobWrite, owner: &str, now: DateTime<Utc>) -> StoreResult<api::Job> {
                let mut tx = self.pool.begin().await?;
                let insert = sqlx::query_scalar(
                    "insert into jobs (folder_id, name, description, job_type, script, cron, timezone, \
                     host_group, retry_count, retry_delay_secs, enabled, created_at, updated_at, configs, \
                     priority, overlap_policy, misfire_policy, self_dependent, owner, version) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15, $16, $17, $18, 1) \
                     returning id",
                );
                let id: i64 = bind_job!(insert, job, now).bind(owner).fetch_one(&mut *tx)
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
                     misfire_policy = $16, self_dependent = $17, version = version + 1 where id = $18 returning version",
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
                let mut jobs = self.job_rows_to_api(vec![row], Some(id)).await?;
                jobs.pop().ok_or(StoreError::NotFound)
            }

            async fn jobs(&self, folder: Option<FolderId>) -> StoreResult<Vec<api::Job>> {
                let rows: Vec<JobRow> = match folder {
                    Some(folder) => sqlx::query_as(&format!(
                        "select {JOB_COLUMNS} from jobs where folder_id = $1 and deleted_at is null order by name, id"
                    ))
                    .bind(folder.0)
                    .fetch_all(&self.pool)
                    .await?,
                    None => sqlx::query_as(&format!("select {JOB_COLUMNS} from jobs where deleted_at is null order by name, id"))
                        .fetch_all(&self.pool)
                        .await?,
                };
                self.job_rows_to_api(rows, None).await
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
                let (name, job_type, script, configs): (String, String, String, String) = sqlx::query_as(
                    "select j.name, v.job_type, v.script, v.configs from job_versions v join jobs j on j.id = v.job_id \
                     where v.job_id = $1 and v.version = $2",
                )
                .bind(id.0)
                .bind(version)
                .fetch_one(&self.pool)
                .await?;
                Ok(JobVersionRecord {
                    name,
                    job_type: parse::<JobType>(&job_type)?,
                    script,
                    configs: parse_configs(&configs)?,
                })
            }

            async fn apply(&self, instances: &[InstanceRecord], attempts: &[AttemptRecord]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for it in instances {
                    sqlx::query(&format!(
                        "insert into instances ({INSTANCE_COLUMNS}) values \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                         on conflict (id) do update set trigger = excluded.trigger, state = excluded.state, \
                         reason = excluded.reason, started_at = excluded.started_at, \
                         finished_at = excluded.finished_at, attempts = excluded.attempts, \
                         failed_attempts = excluded.failed_attempts, lost_attempts = excluded.lost_attempts, \
                         retry_at = excluded.retry_at, next_trigger = excluded.next_trigger, \
                         cancel_requested = excluded.cancel_requested"
                    ))
                    .bind(it.id.0)
                    .bind(it.job.0)
                    .bind(it.scheduled_at)
                    .bind(it.job_version)
                    .bind(it.trigger.as_str())
                    .bind(it.state.as_str())
                    .bind(&it.reason)
                    .bind(it.created_at)
                    .bind(it.started_at)
                    .bind(it.finished_at)
                    .bind(i64::from(it.attempts))
                    .bind(i64::from(it.failed_attempts))
                    .bind(i64::from(it.lost_attempts))
                    .bind(it.retry_at)
                    .bind(it.next_trigger.as_str())
                    .bind(it.cancel_requested)
                    .execute(&mut *tx)
                    .await?;
                }
                for it in attempts {
                    sqlx::query(&format!(
                        "insert into attempts ({ATTEMPT_COLUMNS}) values \
                         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                         on conflict (id) do update set state = excluded.state, exit_code = excluded.exit_code, \
                         started_at = excluded.started_at, finished_at = excluded.finished_at"
                    ))
                    .bind(it.id.0)
                    .bind(it.instance.0)
                    .bind(it.job.0)
                    .bind(i64::from(it.number))
                    .bind(it.trigger.as_str())
                    .bind(it.state.as_str())
                    .bind(it.worker.0)
                    .bind(it.exit_code)
                    .bind(it.created_at)
                    .bind(it.started_at)
                    .bind(it.finished_at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn snapshot(&self, keep_since: DateTime<Utc>) -> StoreResult<Snapshot> {
                let jobs: Vec<JobRow> = sqlx::query_as(&format!("select {JOB_COLUMNS} from jobs where deleted_at is null"))
                    .fetch_all(&self.pool)
                    .await?;
                let mut deps = self.dependencies_of(None).await?;
                let jobs = jobs
                    .into_iter()
                    .map(|row| {
                        let id = JobId(row.id);
                        let edges = deps.remove(&id).unwrap_or_default();
                        Ok(JobSpec {
                            id,
                            version: row.version,
                            cron: row.cron,
                            timezone: row.timezone,
                            dependencies: edges.iter().map(|e| e.0).collect(),
                            windows: edges.into_iter().collect(),
                            self_dependent: row.self_dependent,
                            host_group: row.host_group,
                            retry_count: count(row.retry_count),
                            retry_delay_secs: count(row.retry_delay_secs),
                            enabled: row.enabled,
                            priority: u8::try_from(row.priority).unwrap_or(3),
                            overlap: parse(&row.overlap_policy)?,
                            misfire: parse(&row.misfire_policy)?,
                            schedule_from: row.created_at,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                let last: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
                    "select job_id, max(scheduled_at) from instances where trigger = 'scheduled' group by job_id",
                )
                .fetch_all(&self.pool)
                .await?;
                let terminal = terminal_states();
                let instances: Vec<InstanceRow> = sqlx::query_as(&format!(
                    "select {INSTANCE_COLUMNS} from instances where state not in ({terminal}) or scheduled_at >= $1"
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

            async fn job_instances(&self, job: JobId, limit: i64) -> StoreResult<Vec<api::Instance>> {
                let rows: Vec<InstanceViewRow> = sqlx::query_as(&format!(
                    "{INSTANCE_VIEW} where i.job_id = $1 order by i.scheduled_at desc, i.id desc limit $2"
                ))
                .bind(job.0)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                let attempts: Vec<AttemptViewRow> = sqlx::query_as(&format!(
                    "{ATTEMPT_VIEW} where a.instance_id in (select id from instances where job_id = $1 \
                     order by scheduled_at desc, id desc limit $2) order by a.number"
                ))
                .bind(job.0)
                .bind(limit)
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

            async fn running_per_worker(&self) -> StoreResult<BTreeMap<WorkerId, u32>> {
                let rows: Vec<(i64, i64)> = sqlx::query_as(
                    "select worker_id, count(*) from attempts where state in ('dispatched', 'running') group by worker_id",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(w, n)| (WorkerId(w), count(n))).collect())
            }

            async fn attempt_owner(&self, id: AttemptId) -> StoreResult<(WorkerId, bool)> {
                let (worker, state): (i64, String) =
                    sqlx::query_as("select worker_id, state from attempts where id = $1")
                        .bind(id.0)
                        .fetch_one(&self.pool)
                        .await?;
                Ok((WorkerId(worker), parse::<AttemptState>(&state)?.is_terminal()))
            }

            async fn append_log(&self, attempt: AttemptId, offset: u64, text: &str, now: DateTime<Utc>) -> StoreResult<u64> {
                let end: Option<i64> = sqlx::query_scalar(
                    "select end_offset from log_chunks where attempt_id = $1 order by start_offset desc limit 1",
                )
                .bind(attempt.0)
                .fetch_optional(&self.pool)
                .await?;
                let end = end.map_or(0, |e| e as u64);
                let stop = offset + text.len() as u64;
                if offset > end || stop <= end || text.is_empty() {
                    return Ok(end);
                }
                // Store only the part not stored yet (a resend may overlap what arrived before).
                let (tail, skipped) = skip_bytes(text, (end - offset) as usize);
                let start = offset + skipped as u64;
                if tail.is_empty() {
                    return Ok(end);
                }
                sqlx::query(
                    "insert into log_chunks (attempt_id, start_offset, end_offset, text, created_at) \
                     values ($1, $2, $3, $4, $5) on conflict (attempt_id, start_offset) do nothing",
                )
                .bind(attempt.0)
                .bind(start as i64)
                .bind(stop as i64)
                .bind(tail)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(stop)
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
        sqlx::query(
            "insert into job_dependencies (job_id, upstream_id, window_kind) values ($1, $2, $3)",
        )
        .bind(id)
        .bind(upstream.0)
        .bind(window.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
