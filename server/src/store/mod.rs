//! Persistence: one [`Store`] trait, two sqlx backends (SQLite and PostgreSQL) with the same SQL
//! text (both accept `$1` placeholders, `returning` and `on conflict`), chosen by URL scheme.
//!
//! Invariant: only this module contains SQL. Definitions (folders, jobs) are written by API
//! handlers; run state (instances, attempts) only by the scheduler driver, from engine effects.

mod backend;

use std::{collections::BTreeMap, sync::Arc};

use app::{
    api,
    domain::{AccountStatus, BackfillOrder, BackfillState, BackfillVersion, CalendarMode, OnSkip},
    engine::{AttemptRecord, InstanceRecord, Snapshot},
    ids::{
        AttemptId, BackfillId, CalendarId, FolderId, IdeFileId, InstanceId, JobId, ResourceId,
        UserId, WorkerId,
    },
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use backend::{PgStore, SqliteStore};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist.
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Anything else (connection, decoding, …).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db)
                if db.is_unique_violation() || db.is_foreign_key_violation() =>
            {
                StoreError::Conflict(db.message().to_owned())
            }
            _ => StoreError::Other(err.into()),
        }
    }
}

/// Store result.
pub type StoreResult<T> = Result<T, StoreError>;

/// A user account with its password hash.
#[derive(Clone, Debug)]
pub struct UserRecord {
    /// The account's id.
    pub id: UserId,
    /// The account name.
    pub username: String,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Whether the account is an administrator.
    pub is_admin: bool,
    /// Whether it may sign in.
    pub status: AccountStatus,
    /// Only session tokens of this version are accepted; bumped by a password change and by
    /// "sign out everywhere".
    pub session_version: i64,
}

/// A user account to create (validated by the caller).
#[derive(Clone, Debug)]
pub struct NewUserRecord {
    /// The account name.
    pub username: String,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Whether the account is an administrator.
    pub is_admin: bool,
    /// Active (created by an administrator) or pending (registered by its user).
    pub status: AccountStatus,
}

/// A job definition to write (validated by the caller).
#[derive(Clone, Debug)]
pub struct JobWrite {
    /// Folder.
    pub folder_id: FolderId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Type.
    pub job_type: app::domain::JobType,
    /// Script.
    pub script: String,
    /// Own configs.
    pub configs: BTreeMap<String, String>,
    /// Cron.
    pub cron: Option<String>,
    /// Zone.
    pub timezone: String,
    /// Upstream jobs.
    pub dependencies: Vec<JobId>,
    /// Windows of the dependencies (missing: same business day).
    pub dependency_windows: BTreeMap<JobId, app::domain::DependencyWindow>,
    /// Skip policy of the dependencies (missing: done).
    pub dependency_on_skip: BTreeMap<JobId, OnSkip>,
    /// Business calendar.
    pub calendar_id: Option<CalendarId>,
    /// How the calendar filters the cron slots.
    pub calendar_mode: CalendarMode,
    /// Waits for its own previous instance.
    pub self_dependent: bool,
    /// Host group.
    pub host_group: String,
    /// Retries.
    pub retry_count: u32,
    /// Retry delay.
    pub retry_delay_secs: u32,
    /// Retry backoff.
    pub retry_backoff: app::domain::RetryBackoff,
    /// Longest retry delay.
    pub retry_max_delay_secs: u32,
    /// Hard timeout of an attempt.
    pub timeout_secs: Option<u32>,
    /// Expected duration of an attempt.
    pub expected_duration_secs: Option<u32>,
    /// Enabled.
    pub enabled: bool,
    /// Priority 1–5.
    pub priority: u8,
    /// Overlap policy.
    pub overlap_policy: app::domain::OverlapPolicy,
    /// Misfire policy.
    pub misfire_policy: app::domain::MisfirePolicy,
    /// Worker slots one attempt takes.
    pub slot_weight: u32,
    /// A hidden job that runs development-center files (set at creation only).
    pub scratch: bool,
}

/// A development-center file as stored.
#[derive(Clone, Debug)]
pub struct IdeFileRecord {
    /// The file (its `content` only when one file was read).
    pub file: api::IdeFile,
    /// The user whose personal tree holds it; none: the shared tree.
    pub owner: Option<String>,
    /// The hidden job its runs execute as.
    pub run_job_id: Option<JobId>,
}

/// A development-center file or folder to create (validated by the caller).
#[derive(Clone, Debug)]
pub struct IdeFileWrite {
    /// The user whose personal tree holds it; none: the shared tree.
    pub owner: Option<String>,
    /// Its folder.
    pub parent_id: Option<IdeFileId>,
    /// Its name.
    pub name: String,
    /// A folder.
    pub is_dir: bool,
    /// How it runs.
    pub job_type: app::domain::JobType,
    /// Its text.
    pub content: String,
}

/// A business calendar to write (validated by the caller).
#[derive(Clone, Debug)]
pub struct CalendarWrite {
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// ISO weekend weekdays.
    pub weekend: Vec<u8>,
    /// The exceptions (replacing all).
    pub days: Vec<api::CalendarDay>,
}

/// A backfill to record.
#[derive(Clone, Debug)]
pub struct BackfillWrite {
    /// The job it starts from.
    pub job_id: JobId,
    /// Whether its downstream closure is included.
    pub include_downstream: bool,
    /// Instances at once.
    pub parallelism: u32,
    /// Start order.
    pub order: BackfillOrder,
    /// Version choice.
    pub version: BackfillVersion,
    /// Who started it.
    pub created_by: String,
    /// Why.
    pub reason: Option<String>,
}

/// An entry for the audit trail.
#[derive(Clone, Debug, Default)]
pub struct AuditWrite {
    /// Who acted.
    pub actor: String,
    /// What was done (see [`api::AuditEntry::action`]).
    pub action: String,
    /// The job concerned.
    pub job_id: Option<JobId>,
    /// The instance concerned.
    pub instance_id: Option<InstanceId>,
    /// The backfill concerned.
    pub backfill_id: Option<BackfillId>,
    /// The calendar concerned.
    pub calendar_id: Option<CalendarId>,
    /// The user's reason.
    pub reason: Option<String>,
    /// What changed.
    pub details: String,
}

/// Which audit entries to list (all given conditions must hold).
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Of this job.
    pub job_id: Option<JobId>,
    /// Of this instance.
    pub instance_id: Option<InstanceId>,
    /// Of this backfill.
    pub backfill_id: Option<BackfillId>,
    /// Of this calendar.
    pub calendar_id: Option<CalendarId>,
}

/// Who a secret belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretOwner {
    /// A folder (its jobs and subfolders inherit it).
    Folder(FolderId),
    /// A job.
    Job(JobId),
}

impl SecretOwner {
    fn kind(self) -> &'static str {
        match self {
            SecretOwner::Folder(_) => "folder",
            SecretOwner::Job(_) => "job",
        }
    }

    fn id(self) -> i64 {
        match self {
            SecretOwner::Folder(id) => id.0,
            SecretOwner::Job(id) => id.0,
        }
    }
}

impl std::fmt::Display for SecretOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind(), self.id())
    }
}

/// A stored secret (encrypted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRecord {
    /// Whose.
    pub owner: SecretOwner,
    /// Its name (an environment variable name).
    pub name: String,
    /// The AES-GCM nonce.
    pub nonce: Vec<u8>,
    /// The ciphertext.
    pub sealed: Vec<u8>,
    /// When it was last set.
    pub updated_at: DateTime<Utc>,
}

/// A log chunk to store.
#[derive(Clone, Debug)]
pub struct LogChunkWrite {
    /// The attempt.
    pub attempt: AttemptId,
    /// Its byte offset in the attempt's log.
    pub offset: u64,
    /// The text.
    pub text: String,
}

/// When an attempt ran.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptTiming {
    /// The attempt.
    pub attempt: AttemptId,
    /// Its instance.
    pub instance: InstanceId,
    /// Its job.
    pub job: JobId,
    /// The instance's business time.
    pub scheduled_at: DateTime<Utc>,
    /// When it was dispatched.
    pub created_at: DateTime<Utc>,
    /// When its process started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Its state.
    pub state: app::domain::AttemptState,
}

/// What the worker needs of a pinned job version.
#[derive(Clone, Debug)]
pub struct JobVersionRecord {
    /// Job name (current).
    pub name: String,
    /// Type.
    pub job_type: app::domain::JobType,
    /// Script at that version.
    pub script: String,
    /// Own configs at that version.
    pub configs: BTreeMap<String, String>,
    /// The job's folder (now: configs are inherited from the current folders).
    pub folder_id: FolderId,
    /// The job's zone (now).
    pub timezone: String,
    /// The job's host group (now).
    pub host_group: String,
}

/// The persistence interface. Methods are domain intents, not tables.
#[async_trait]
pub trait Store: Send + Sync {
    /// Number of user accounts.
    async fn count_users(&self) -> StoreResult<i64>;
    /// Creates a user; `Conflict` if the name is taken.
    async fn create_user(&self, user: &NewUserRecord, now: DateTime<Utc>)
    -> StoreResult<api::User>;
    /// Looks a user up by name (also what the auth layer reads on every request: the name is
    /// unique, so this is one index lookup).
    async fn user(&self, username: &str) -> StoreResult<UserRecord>;
    /// Every user account, by name.
    async fn users(&self) -> StoreResult<Vec<api::User>>;
    /// Changes a user's status and administrator right (`None`: unchanged); disabling also ends
    /// the user's sessions (so enabling the account again does not revive old tokens).
    /// `NotFound` if there is no such user.
    async fn update_user(
        &self,
        id: UserId,
        status: Option<AccountStatus>,
        is_admin: Option<bool>,
        now: DateTime<Utc>,
    ) -> StoreResult<api::User>;
    /// Replaces a user's password hash and ends its sessions (bumps the session version);
    /// returns the account as it is now. `NotFound` if there is no such user.
    async fn set_password(
        &self,
        id: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<UserRecord>;
    /// Ends every session of a user (bumps the session version); returns the account as it is
    /// now. `NotFound` if there is no such user.
    async fn end_sessions(&self, id: UserId) -> StoreResult<UserRecord>;

    /// Registers a worker with the hash of its token; `Conflict` if the name is taken.
    async fn create_worker(
        &self,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<WorkerId>;
    /// Sets the token hash of a worker by name, creating it if needed (standalone's own worker).
    async fn upsert_worker_token(
        &self,
        name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<WorkerId>;
    /// The worker a token hash belongs to.
    async fn worker_by_token(&self, token_hash: &str) -> StoreResult<(WorkerId, String)>;
    /// Every registered worker: id and name.
    async fn workers(&self) -> StoreResult<Vec<(WorkerId, String)>>;
    /// The workers being drained.
    async fn draining_workers(&self) -> StoreResult<Vec<WorkerId>>;
    /// Drains or undrains a worker; `NotFound` if it is not registered.
    async fn set_worker_draining(&self, id: WorkerId, draining: bool) -> StoreResult<()>;

    /// Creates a folder; `Conflict` if a sibling has that name or the parent does not exist.
    async fn create_folder(
        &self,
        name: &str,
        parent: Option<FolderId>,
        now: DateTime<Utc>,
    ) -> StoreResult<api::Folder>;
    /// Every folder.
    async fn folders(&self) -> StoreResult<Vec<api::Folder>>;
    /// A folder and its ancestors, outermost first (configs are inherited down this path).
    async fn folder_path(&self, folder: FolderId) -> StoreResult<Vec<api::Folder>>;
    /// Renames a folder and replaces its configs; `Conflict` if a sibling has that name.
    async fn update_folder(
        &self,
        id: FolderId,
        name: &str,
        configs: &BTreeMap<String, String>,
    ) -> StoreResult<api::Folder>;

    /// Creates a job (version 1) with its dependencies.
    async fn create_job(
        &self,
        job: &JobWrite,
        owner: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<api::Job>;
    /// Saves a new version of a job.
    async fn update_job(
        &self,
        id: JobId,
        job: &JobWrite,
        now: DateTime<Utc>,
    ) -> StoreResult<api::Job>;
    /// One job (not deleted).
    async fn job(&self, id: JobId) -> StoreResult<api::Job>;
    /// Marks a job deleted and drops its dependency edges; `NotFound` if it is not there.
    async fn delete_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()>;
    /// Jobs, optionally of one folder, by name.
    async fn jobs(&self, folder: Option<FolderId>) -> StoreResult<Vec<api::Job>>;
    /// Jobs whose name contains `text` (any case) or whose id is `text`, by name, at most `limit`.
    async fn search_jobs(
        &self,
        text: &str,
        folder: Option<FolderId>,
        limit: i64,
    ) -> StoreResult<Vec<api::Job>>;
    /// How many instances with a business time in `[from, to)` are in each state.
    async fn state_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<BTreeMap<app::domain::InstanceState, u32>>;
    /// Instances in `state` (with a business time in `[from, to)` when given): running ones by
    /// start, others newest end first; at most `limit`.
    async fn instances_in_state(
        &self,
        state: app::domain::InstanceState,
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
        limit: i64,
    ) -> StoreResult<Vec<api::DashboardInstance>>;
    /// The ended attempts of instances with a business time in `[from, to)`: instance, job, job
    /// name, seconds run.
    async fn attempt_durations(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<(InstanceId, JobId, String, f64)>>;
    /// Jobs whose name, description, script or configs contain `text` (any case), by name; with
    /// (id, name, folder, description, script, configs JSON).
    async fn search_definitions(
        &self,
        text: &str,
        limit: i64,
    ) -> StoreResult<Vec<(JobId, String, FolderId, String, String, String)>>;
    /// The instances (with attempts) of a folder's jobs with a business time in `[from, to)`.
    async fn folder_instances(
        &self,
        folder: FolderId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<api::Instance>>;
    /// The start, end and state of every attempt created at or after `since`, with its
    /// instance's business time (timelines and benchmarks).
    async fn attempt_times(&self, since: DateTime<Utc>) -> StoreResult<Vec<AttemptTiming>>;
    /// The whole dependency graph: job -> its upstreams (every job has an entry).
    async fn dependency_graph(&self) -> StoreResult<BTreeMap<JobId, Vec<JobId>>>;
    /// A pinned job version.
    async fn job_version(&self, id: JobId, version: i64) -> StoreResult<JobVersionRecord>;
    /// Several pinned job versions at once (those that exist), each with its key.
    async fn job_versions(
        &self,
        keys: &[(JobId, i64)],
    ) -> StoreResult<Vec<((JobId, i64), JobVersionRecord)>>;
    /// The version of a job that was current at `at` (its first version for earlier times).
    async fn job_version_at(&self, id: JobId, at: DateTime<Utc>) -> StoreResult<i64>;
    /// Pauses (`Some(since)`) or resumes (`None`) a job without making a new version.
    async fn set_job_paused(
        &self,
        id: JobId,
        paused_at: Option<DateTime<Utc>>,
    ) -> StoreResult<api::Job>;

    /// Every business calendar, by name.
    async fn calendars(&self) -> StoreResult<Vec<api::Calendar>>;
    /// One calendar.
    async fn calendar(&self, id: CalendarId) -> StoreResult<api::Calendar>;
    /// Creates (`id` `None`) or replaces a calendar; `Conflict` if the name is taken.
    async fn save_calendar(
        &self,
        id: Option<CalendarId>,
        calendar: &CalendarWrite,
        now: DateTime<Utc>,
    ) -> StoreResult<api::Calendar>;
    /// Deletes a calendar that no job uses (`Conflict` otherwise).
    async fn delete_calendar(&self, id: CalendarId) -> StoreResult<()>;

    /// Records a new backfill (state running).
    async fn create_backfill(
        &self,
        backfill: &BackfillWrite,
        now: DateTime<Utc>,
    ) -> StoreResult<BackfillId>;
    /// Sets a backfill's stored state.
    async fn set_backfill_state(
        &self,
        id: BackfillId,
        state: BackfillState,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// One backfill with its progress (state `finished` once all its instances ended).
    async fn backfill(&self, id: BackfillId) -> StoreResult<api::Backfill>;
    /// Backfills, newest first, optionally of one job.
    async fn backfills(&self, job: Option<JobId>, limit: i64) -> StoreResult<Vec<api::Backfill>>;
    /// A backfill's instances, by job and business time.
    async fn backfill_members(&self, id: BackfillId) -> StoreResult<Vec<api::BackfillMember>>;

    /// One instance record as the engine keeps it.
    async fn instance_record(&self, id: InstanceId) -> StoreResult<InstanceRecord>;
    /// The instance records of these jobs with a business time in `[from, to)`.
    async fn instance_records(
        &self,
        jobs: &[JobId],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<InstanceRecord>>;

    /// Sets (creates or replaces) a secret.
    async fn set_secret(&self, secret: &SecretRecord) -> StoreResult<()>;
    /// Deletes a secret; `NotFound` if it is not set.
    async fn delete_secret(&self, owner: SecretOwner, name: &str) -> StoreResult<()>;
    /// The secrets of these owners.
    async fn secrets(&self, owners: &[SecretOwner]) -> StoreResult<Vec<SecretRecord>>;
    /// Every owner that has at least one secret.
    async fn secret_owners(&self) -> StoreResult<Vec<SecretOwner>>;

    /// Appends to the audit trail.
    async fn record_audit(&self, entry: &AuditWrite, now: DateTime<Utc>) -> StoreResult<()>;
    /// Audit entries, newest first.
    async fn audit(&self, filter: &AuditFilter, limit: i64) -> StoreResult<Vec<api::AuditEntry>>;

    /// Writes engine decisions (upserts by id) in one transaction, instances first.
    async fn apply(
        &self,
        instances: &[InstanceRecord],
        attempts: &[AttemptRecord],
    ) -> StoreResult<()>;
    /// What the engine needs after a restart: jobs, active instances and attempts, and terminal
    /// instances with a business time at or after `keep_since`.
    async fn snapshot(&self, keep_since: DateTime<Utc>) -> StoreResult<Snapshot>;
    /// One instance with its attempts.
    async fn instance(&self, id: InstanceId) -> StoreResult<api::Instance>;
    /// A job's instances with a business time in `[from, to)` (unbounded where `None`), newest
    /// business time first, with their attempts.
    async fn job_instances(
        &self,
        job: JobId,
        limit: i64,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<api::Instance>>;
    /// The latest instance (id, state) of each of these jobs.
    async fn latest_states(
        &self,
        jobs: &[JobId],
    ) -> StoreResult<BTreeMap<JobId, (InstanceId, app::domain::InstanceState)>>;
    /// The instance an attempt belongs to.
    async fn attempt_instance(&self, id: AttemptId) -> StoreResult<InstanceId>;
    /// The development-center files a user sees: their personal tree and the shared one,
    /// without content.
    async fn ide_files(&self, user: &str) -> StoreResult<Vec<IdeFileRecord>>;
    /// One development-center file with its content.
    async fn ide_file(&self, id: IdeFileId) -> StoreResult<IdeFileRecord>;
    /// Creates a development-center file or folder ([`StoreError::Conflict`] on a name taken).
    async fn create_ide_file(
        &self,
        file: &IdeFileWrite,
        now: DateTime<Utc>,
    ) -> StoreResult<IdeFileId>;
    /// Renames a file, changes its text or job type (absent fields stay).
    async fn update_ide_file(
        &self,
        id: IdeFileId,
        update: &api::IdeFileUpdate,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Moves a file or folder to another folder of its tree.
    async fn move_ide_file(
        &self,
        id: IdeFileId,
        parent: Option<IdeFileId>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Deletes a file, or a folder with everything in it; returns the hidden run jobs of what
    /// was deleted.
    async fn delete_ide_file(&self, id: IdeFileId) -> StoreResult<Vec<JobId>>;
    /// Records a file's hidden run job and/or the job it was published to.
    async fn link_ide_file(
        &self,
        id: IdeFileId,
        run_job: Option<JobId>,
        published_job: Option<JobId>,
    ) -> StoreResult<()>;

    /// Records an uploaded version of the resource `name` (created by its first upload).
    async fn add_resource_version(
        &self,
        name: &str,
        size: u64,
        sha256: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<api::ResourceVersion>;
    /// Every resource with its latest version, by name.
    async fn resources(&self) -> StoreResult<Vec<api::Resource>>;
    /// One resource with all its versions, newest first.
    async fn resource(&self, id: ResourceId) -> StoreResult<api::Resource>;
    /// One resource, by name, with all its versions.
    async fn resource_by_name(&self, name: &str) -> StoreResult<api::Resource>;
    /// Deletes a resource and its versions; returns the checksums no version uses any more.
    async fn delete_resource(&self, id: ResourceId) -> StoreResult<Vec<String>>;
    /// The size of a stored resource content, if some version has it.
    async fn resource_content_size(&self, sha256: &str) -> StoreResult<Option<u64>>;

    /// The attempts dispatched to or running on each worker, oldest first.
    async fn running_attempts(&self) -> StoreResult<BTreeMap<WorkerId, Vec<api::RunningAttempt>>>;
    /// The worker an attempt was sent to and whether it has ended.
    async fn attempt_owner(&self, id: AttemptId) -> StoreResult<(WorkerId, bool)>;

    /// Appends log chunks in one transaction, in order. Idempotent: text at an offset already
    /// stored is ignored. Returns, per chunk, the end of its attempt's stored log after it; a gap
    /// (offset beyond the end) stores nothing.
    async fn append_logs(
        &self,
        chunks: &[LogChunkWrite],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<u64>>;

    /// Appends one chunk of log text at byte `offset` (see [`Store::append_logs`]).
    async fn append_log(
        &self,
        attempt: AttemptId,
        offset: u64,
        text: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let chunk = LogChunkWrite {
            attempt,
            offset,
            text: text.to_owned(),
        };
        let ends = self.append_logs(std::slice::from_ref(&chunk), now).await?;
        Ok(ends.first().copied().unwrap_or_default())
    }
    /// Up to about `max_bytes` of log from `offset`: (text, next offset).
    async fn read_log(
        &self,
        attempt: AttemptId,
        offset: u64,
        max_bytes: usize,
    ) -> StoreResult<(String, u64)>;
}

/// Opens the store named by `url` (`sqlite://path?mode=rwc` or `postgres://…`) and runs its
/// migrations.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else {
        anyhow::bail!(
            "unsupported database URL `{}`: use sqlite:… or postgres://…",
            redact(url)
        )
    }
}

/// The URL without its password, for logs and errors.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
