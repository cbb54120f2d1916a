//! REST and browser-WebSocket DTOs: the only contract between the server and the frontend.
//!
//! Times are RFC 3339 (`DateTime<Utc>` serialises that way). New optional fields get
//! `#[serde(default)]` so older clients keep working.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{
        AccountStatus, AttemptState, BackfillOrder, BackfillState, BackfillVersion, CalendarMode,
        DayKind, DependencyWindow, InstanceState, JobType, MisfirePolicy, OnSkip, OverlapPolicy,
        RetryBackoff, TriggerKind,
    },
    ids::{
        AttemptId, AuditId, BackfillId, CalendarId, FolderId, IdeFileId, InstanceId, JobId,
        ResourceId, UserId, WorkerId,
    },
};

/// Every error response: `{ "error": { "code", "message", "fields"? } }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The content of an [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A stable machine-readable code: `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `payload_too_large`, `invalid`, `bad_request`, `internal`; and `account_pending`,
    /// `account_disabled` for an account that may not sign in (403 at login, 401 for a session).
    pub code: String,
    /// A sentence for humans.
    pub message: String,
    /// For `invalid`: the offending fields and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

/// `GET /api/health`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// `POST /api/auth/login`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// The account name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// A session token.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// A JWT to send as `Authorization: Bearer <token>`.
    pub token: String,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// The account the token belongs to.
    pub username: String,
}

/// `GET /api/me`: who the token belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// The account name.
    pub username: String,
    /// Whether the account may administer workers and users.
    pub is_admin: bool,
}

/// The close code of a browser WebSocket (`/api/ws/…`) whose account was disabled while it was
/// open; the close reason says why. The session's next HTTP request gets a 401
/// (`account_disabled`).
pub const CLOSE_SESSION_ENDED: u16 = 4401;

/// The close code of a browser WebSocket whose session was signed out while it was open (the
/// password changed, or the user ended all sessions). A page that holds a newer token of the same
/// account (the one that changed the password) connects again; the others sign out. The
/// session's next HTTP request gets a 401 (`session_ended`).
pub const CLOSE_SIGNED_OUT: u16 = 4402;

/// `POST /api/auth/register`: asks for an account, which waits for an administrator's approval.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    /// The account name: 2–64 letters, digits, `.`, `_` or `-`.
    pub username: String,
    /// The password: at least 8 characters.
    pub password: String,
}

/// A user account as administrators see it (`GET /api/users`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// The account's id.
    pub id: UserId,
    /// The account name.
    pub username: String,
    /// Whether the account may administer workers and users.
    pub is_admin: bool,
    /// Whether it may sign in: active, pending (waits for approval) or disabled.
    pub status: AccountStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its status, role or password last changed (its creation if never).
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/users`: an administrator creates an active account.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUser {
    /// The account name: 2–64 letters, digits, `.`, `_` or `-`.
    pub username: String,
    /// The password: at least 8 characters.
    pub password: String,
    /// Whether the account is an administrator.
    #[serde(default)]
    pub is_admin: bool,
}

/// `PUT /api/users/{id}`: approve (pending → active), disable, enable, grant or revoke the
/// administrator right. Absent fields stay as they are.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserUpdate {
    /// `active` or `disabled` (an account cannot be put back to pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AccountStatus>,
    /// Grant (`true`) or revoke (`false`) the administrator right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
}

/// `PUT /api/me/password`: the signed-in user changes their own password.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    /// The password in use now.
    pub current_password: String,
    /// The new password: at least 8 characters.
    pub new_password: String,
}

/// A folder of the job tree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Folder {
    /// The folder's id.
    pub id: FolderId,
    /// Its name (unique among its siblings).
    pub name: String,
    /// The parent folder; `None` for top-level folders.
    pub parent_id: Option<FolderId>,
    /// Configs (key=value) inherited by the folders and jobs inside it.
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// `PUT /api/folders/{id}`: rename a folder and set its configs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FolderUpdate {
    /// Its name.
    pub name: String,
    /// Its configs (replacing all); default none.
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
}

/// `GET /api/jobs/{id}/configs`: a job's own configs and what it inherits from its folders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigView {
    /// The job's own configs.
    pub own: BTreeMap<String, String>,
    /// The configs of its folders, outermost first; a nearer folder or the job overrides.
    pub inherited: Vec<InheritedConfig>,
    /// What the script sees: every key with its winning value.
    pub effective: BTreeMap<String, String>,
}

/// One config of a folder above a job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InheritedConfig {
    /// The key.
    pub key: String,
    /// The folder's value.
    pub value: String,
    /// The folder.
    pub folder_id: FolderId,
    /// The folder's name.
    pub folder_name: String,
    /// A nearer folder or the job sets the same key.
    pub overridden: bool,
}

/// `POST /api/render`: a script rendered as an attempt would see it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenderRequest {
    /// The script.
    pub script: String,
    /// The business time to render for (RFC 3339).
    pub business_time: DateTime<Utc>,
    /// The job's IANA zone.
    pub timezone: String,
    /// The folder whose configs (and its parents') are inherited.
    #[serde(default)]
    pub folder_id: Option<FolderId>,
    /// The job's own configs (they override the folders').
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
    /// Run-time parameters to render as a trigger would give them.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// The answer of `POST /api/render`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rendered {
    /// The rendered script.
    pub rendered: String,
}

/// `POST /api/folders`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewFolder {
    /// Its name.
    pub name: String,
    /// The parent folder, if any.
    #[serde(default)]
    pub parent_id: Option<FolderId>,
}

/// A job definition (its latest version).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    /// The job's id.
    pub id: JobId,
    /// The folder it lives in.
    pub folder_id: FolderId,
    /// Its name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// What it runs.
    pub job_type: JobType,
    /// The script.
    pub script: String,
    /// The job's own configs (key=value), used by the script's `${key}` variables.
    pub configs: BTreeMap<String, String>,
    /// The cron expression (Quartz 6/7 fields or Unix 5 fields); `None` for dependency-only jobs.
    pub cron: Option<String>,
    /// The IANA time zone the cron and business days are evaluated in.
    pub timezone: String,
    /// The jobs this one depends on.
    pub dependencies: Vec<JobId>,
    /// The window of each dependency (which upstream instances it waits for).
    pub dependency_windows: BTreeMap<JobId, DependencyWindow>,
    /// What a skipped upstream instance means, per dependency (missing: `done`).
    #[serde(default)]
    pub dependency_on_skip: BTreeMap<JobId, OnSkip>,
    /// Each instance also waits for the job's previous instance.
    pub self_dependent: bool,
    /// The business calendar its cron slots are filtered by, if any.
    #[serde(default)]
    pub calendar_id: Option<CalendarId>,
    /// How the calendar filters its slots.
    #[serde(default = "default_calendar_mode")]
    pub calendar_mode: CalendarMode,
    /// Paused: no new instances until resumed (downstream keeps waiting for it; the slots missed
    /// meanwhile are handled by the misfire policy on resume). Set by the pause/resume actions.
    #[serde(default)]
    pub paused: bool,
    /// When it was paused.
    #[serde(default)]
    pub paused_at: Option<DateTime<Utc>>,
    /// The host group whose workers run it.
    pub host_group: String,
    /// How many times a failed attempt is retried.
    pub retry_count: u32,
    /// Seconds between a failure and its retry (the first retry, with exponential backoff).
    pub retry_delay_secs: u32,
    /// How the retry delay grows.
    #[serde(default = "default_backoff")]
    pub retry_backoff: RetryBackoff,
    /// The longest delay between retries, in seconds.
    #[serde(default = "default_max_delay")]
    pub retry_max_delay_secs: u32,
    /// An attempt running longer than this many seconds is killed and counts as failed.
    #[serde(default)]
    pub timeout_secs: Option<u32>,
    /// An attempt running longer than this many seconds raises an overdue notice (it goes on).
    #[serde(default)]
    pub expected_duration_secs: Option<u32>,
    /// Whether the schedule creates instances.
    pub enabled: bool,
    /// Dispatch priority, 1 (lowest) to 5 (highest).
    pub priority: u8,
    /// What happens to a scheduled instance while an earlier one is still active.
    pub overlap_policy: OverlapPolicy,
    /// What happens to cron slots missed while the scheduler was down.
    pub misfire_policy: MisfirePolicy,
    /// Worker slots one attempt takes (default 1): a heavy job can take a whole worker.
    #[serde(default = "default_slot_weight")]
    pub slot_weight: u32,
    /// The user who owns it.
    pub owner: String,
    /// The current version; every save makes a new one.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last saved.
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/jobs` and `PUT /api/jobs/{id}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobInput {
    /// Its name.
    pub name: String,
    /// The folder it lives in.
    pub folder_id: FolderId,
    /// What it runs; `shell`.
    pub job_type: JobType,
    /// The script.
    pub script: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The job's own configs (key=value); default none.
    #[serde(default)]
    pub configs: Option<BTreeMap<String, String>>,
    /// The cron expression; absent for a dependency-only job.
    #[serde(default)]
    pub cron: Option<String>,
    /// IANA time zone, default `UTC`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Upstream job ids.
    #[serde(default)]
    pub dependencies: Option<Vec<JobId>>,
    /// Windows of some dependencies; the others wait for the same business day.
    #[serde(default)]
    pub dependency_windows: Option<BTreeMap<JobId, DependencyWindow>>,
    /// What a skipped upstream instance means, per dependency; the others: `done`.
    #[serde(default)]
    pub dependency_on_skip: Option<BTreeMap<JobId, OnSkip>>,
    /// Default false.
    #[serde(default)]
    pub self_dependent: Option<bool>,
    /// The business calendar that filters its cron slots; default none.
    #[serde(default)]
    pub calendar_id: Option<CalendarId>,
    /// Default `ignore` (`working_days` when a calendar is given without a mode).
    #[serde(default)]
    pub calendar_mode: Option<CalendarMode>,
    /// Host group, default `default`.
    #[serde(default)]
    pub host_group: Option<String>,
    /// Retries after a failure, default 0.
    #[serde(default)]
    pub retry_count: Option<u32>,
    /// Seconds before a retry, default 60.
    #[serde(default)]
    pub retry_delay_secs: Option<u32>,
    /// Default `fixed`.
    #[serde(default)]
    pub retry_backoff: Option<RetryBackoff>,
    /// Default 3600.
    #[serde(default)]
    pub retry_max_delay_secs: Option<u32>,
    /// Hard timeout in seconds; default none.
    #[serde(default)]
    pub timeout_secs: Option<u32>,
    /// Expected duration in seconds; default none.
    #[serde(default)]
    pub expected_duration_secs: Option<u32>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// 1–5, default 3.
    #[serde(default)]
    pub priority: Option<u8>,
    /// Default `allow`.
    #[serde(default)]
    pub overlap_policy: Option<OverlapPolicy>,
    /// Default `fire_once_now`.
    #[serde(default)]
    pub misfire_policy: Option<MisfirePolicy>,
    /// Default 1; at most 64.
    #[serde(default)]
    pub slot_weight: Option<u32>,
}

impl JobInput {
    /// A job with only a name, folder, type and script: the other settings take their defaults
    /// (no schedule, host group `default`, no retries).
    pub fn minimal(name: String, folder_id: FolderId, job_type: JobType, script: String) -> Self {
        JobInput {
            name,
            folder_id,
            job_type,
            script,
            description: None,
            configs: None,
            cron: None,
            timezone: None,
            dependencies: None,
            dependency_windows: None,
            dependency_on_skip: None,
            self_dependent: None,
            calendar_id: None,
            calendar_mode: None,
            host_group: None,
            retry_count: None,
            retry_delay_secs: None,
            retry_backoff: None,
            retry_max_delay_secs: None,
            timeout_secs: None,
            expected_duration_secs: None,
            enabled: None,
            priority: None,
            overlap_policy: None,
            misfire_policy: None,
            slot_weight: None,
        }
    }
}

impl From<Job> for JobInput {
    /// The input that saves the job as it is (to change a few fields of it).
    fn from(job: Job) -> Self {
        JobInput {
            name: job.name,
            folder_id: job.folder_id,
            job_type: job.job_type,
            script: job.script,
            description: Some(job.description),
            configs: Some(job.configs),
            cron: job.cron,
            timezone: Some(job.timezone),
            dependencies: Some(job.dependencies),
            dependency_windows: Some(job.dependency_windows),
            dependency_on_skip: Some(job.dependency_on_skip),
            self_dependent: Some(job.self_dependent),
            calendar_id: job.calendar_id,
            calendar_mode: Some(job.calendar_mode),
            host_group: Some(job.host_group),
            retry_count: Some(job.retry_count),
            retry_delay_secs: Some(job.retry_delay_secs),
            retry_backoff: Some(job.retry_backoff),
            retry_max_delay_secs: Some(job.retry_max_delay_secs),
            timeout_secs: job.timeout_secs,
            expected_duration_secs: job.expected_duration_secs,
            enabled: Some(job.enabled),
            priority: Some(job.priority),
            overlap_policy: Some(job.overlap_policy),
            misfire_policy: Some(job.misfire_policy),
            slot_weight: Some(job.slot_weight),
        }
    }
}

/// One attempt of an instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attempt {
    /// The attempt's id.
    pub id: AttemptId,
    /// Its instance.
    pub instance_id: InstanceId,
    /// 1 for the first attempt of the instance, then 2, 3, …
    pub number: u32,
    /// How it was started.
    pub trigger: TriggerKind,
    /// Its state.
    pub state: AttemptState,
    /// The worker it ran on.
    pub worker_id: Option<WorkerId>,
    /// The worker's name.
    pub worker_name: Option<String>,
    /// The process's exit code, once known.
    pub exit_code: Option<i32>,
    /// When it was created (dispatched).
    pub created_at: DateTime<Utc>,
    /// When the process started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// One occurrence of a job at a scheduled business time, with its attempts (oldest first).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Instance {
    /// The instance's id.
    pub id: InstanceId,
    /// Its job.
    pub job_id: JobId,
    /// The job's name.
    pub job_name: String,
    /// The business time (unique per job).
    pub scheduled_at: DateTime<Utc>,
    /// The job version it runs.
    pub job_version: i64,
    /// How it was created.
    pub trigger: TriggerKind,
    /// Its state.
    pub state: InstanceState,
    /// A human-readable reason for the state, e.g. what it waits for.
    pub reason: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its first attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached its last terminal state.
    pub finished_at: Option<DateTime<Utc>>,
    /// Run-time parameters given by the trigger (environment variables of this run only).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The backfill it belongs to, if any.
    #[serde(default)]
    pub backfill_id: Option<BackfillId>,
    /// Its attempts, oldest first.
    pub attempts: Vec<Attempt>,
}

/// `GET /api/attempts/{id}/log?offset=N`: a page of an attempt's log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogPage {
    /// The byte offset the text starts at.
    pub offset: u64,
    /// The offset to ask for next.
    pub next_offset: u64,
    /// The log text from `offset` to `next_offset`.
    pub text: String,
    /// True when the attempt has ended and `next_offset` is the end of its log.
    pub complete: bool,
}

/// Load reported by a worker in its heartbeat.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerLoad {
    /// CPU use over all cores, 0–100.
    pub cpu_percent: f32,
    /// Used memory in bytes.
    pub memory_used: u64,
    /// Total memory in bytes.
    pub memory_total: u64,
    /// One-minute load average.
    pub load_one: f64,
    /// CPU cores (0: not said, from an older worker).
    #[serde(default)]
    pub cores: u32,
}

impl WorkerLoad {
    /// Memory in use, percent of the total (0 when the total is unknown).
    pub fn memory_percent(&self) -> f32 {
        if self.memory_total == 0 {
            0.0
        } else {
            (self.memory_used as f64 * 100.0 / self.memory_total as f64) as f32
        }
    }
}

/// A worker as the cluster page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Worker {
    /// Its id.
    pub id: WorkerId,
    /// Its name (the name of its token).
    pub name: String,
    /// The host group it serves.
    pub host_group: String,
    /// Attempts it runs at once.
    pub slots: u32,
    /// Attempts running on it now.
    pub running: u32,
    /// Whether it is connected now.
    pub connected: bool,
    /// Its host name.
    pub hostname: String,
    /// When it was last heard from.
    pub last_seen: Option<DateTime<Utc>>,
    /// Its last reported load.
    pub load: Option<WorkerLoad>,
    /// Draining: it gets no new attempts; the running ones finish.
    #[serde(default)]
    pub draining: bool,
    /// Its recent heartbeats' load, oldest first (the server keeps the last
    /// [`LOAD_HISTORY_LEN`]; empty for a disconnected worker).
    #[serde(default)]
    pub history: Vec<LoadSample>,
    /// The attempts dispatched to or running on it, oldest first.
    #[serde(default)]
    pub attempts: Vec<RunningAttempt>,
}

/// How many heartbeat samples the server keeps per worker (10 minutes at one per 5 s).
pub const LOAD_HISTORY_LEN: usize = 120;

/// One heartbeat's load, for a worker's sparklines.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoadSample {
    /// When the server received it.
    pub at: DateTime<Utc>,
    /// CPU use over all cores, 0–100.
    pub cpu_percent: f32,
    /// Used memory, 0–100 % of the total.
    pub memory_percent: f32,
    /// One-minute load average.
    pub load_one: f64,
}

/// An attempt a worker is running, as the cluster page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunningAttempt {
    /// The attempt.
    pub attempt_id: AttemptId,
    /// Its instance.
    pub instance_id: InstanceId,
    /// The job.
    pub job_id: JobId,
    /// The job's name.
    pub job_name: String,
    /// Its state (dispatched or running).
    pub state: AttemptState,
    /// When the process started (none while only dispatched).
    pub started_at: Option<DateTime<Utc>>,
}

/// `GET /api/queue`: what waits for a worker slot, in dispatch order, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueView {
    /// Queued instances (dependencies met) in the order they will be dispatched.
    pub queued: Vec<QueuedInstance>,
    /// How many are queued in all.
    pub queue_length: u32,
}

/// One queued instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuedInstance {
    /// Its place (1 = next).
    pub position: u32,
    /// The instance.
    pub instance: DashboardInstance,
    /// The host group whose worker it waits for.
    pub host_group: String,
    /// Why it has not started (no worker of the group, no free slot, …).
    pub waiting_for: String,
}

/// `POST /api/workers/{id}/drain`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Drain {
    /// `true`: no new attempts; `false`: take attempts again.
    pub draining: bool,
}

/// `POST /api/worker-tokens`: an admin issues a token for a new worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewWorkerToken {
    /// The worker's name, unique.
    pub name: String,
}

/// A freshly issued worker token. The token is shown only here; the server keeps only its hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedWorkerToken {
    /// The worker this token identifies.
    pub worker_id: WorkerId,
    /// Its name.
    pub name: String,
    /// Pass as `hera worker --token`.
    pub token: String,
}

/// `GET /api/jobs/{id}/dag`: a job with its upstream and downstream closure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DagView {
    /// The job the view is centred on.
    pub center: JobId,
    /// Every job in the view.
    pub nodes: Vec<DagNode>,
    /// Edges from upstream to downstream.
    pub edges: Vec<DagEdge>,
}

/// A node of a [`DagView`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DagNode {
    /// The job.
    pub job_id: JobId,
    /// Its name.
    pub name: String,
    /// The state of its latest instance, if it has one.
    pub state: Option<InstanceState>,
    /// Its latest instance.
    pub instance_id: Option<InstanceId>,
}

/// An edge of a [`DagView`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DagEdge {
    /// The upstream job.
    pub from: JobId,
    /// The downstream job.
    pub to: JobId,
}

/// A message on `/api/ws/events`: something changed; clients refetch or patch what they show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// An instance was created or changed state.
    Instance {
        /// The instance.
        id: InstanceId,
        /// Its job.
        job_id: JobId,
        /// Its business time.
        scheduled_at: DateTime<Utc>,
        /// Its new state.
        state: InstanceState,
    },
    /// An attempt was created or changed state.
    Attempt {
        /// The attempt.
        id: AttemptId,
        /// Its instance.
        instance_id: InstanceId,
        /// The instance's job.
        job_id: JobId,
        /// Its new state.
        state: AttemptState,
        /// The exit code, once known.
        exit_code: Option<i32>,
    },
    /// A worker connected, disconnected or reported load.
    Worker {
        /// The worker.
        id: WorkerId,
        /// Whether it is connected.
        connected: bool,
    },
    /// The server dropped events for this client (it read too slowly): refetch everything shown.
    Resync,
}

/// A message on `/api/ws/attempts/{id}/log?offset=N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogMessage {
    /// Log text starting at byte `offset`.
    Chunk {
        /// Where the text starts.
        offset: u64,
        /// The text.
        text: String,
    },
    /// The attempt ended and every byte up to `next_offset` was sent.
    Complete {
        /// The end of the log.
        next_offset: u64,
    },
}

/// `GET /api/instances/{id}/why`: why an instance has not started yet, condition by condition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhyNotStarted {
    /// The instance.
    pub instance_id: InstanceId,
    /// Its state.
    pub state: InstanceState,
    /// One sentence for humans.
    pub summary: String,
    /// Each upstream job and what it has on the instance's business day.
    pub upstreams: Vec<UpstreamStatus>,
    /// Queue position (1 = next) while queued.
    pub queue_position: Option<u32>,
    /// Instances queued in all.
    pub queue_length: u32,
    /// The host group that runs it.
    pub host_group: String,
    /// Connected workers of that group.
    pub workers_in_group: u32,
    /// Free slots in that group now.
    pub free_slots_in_group: u32,
    /// When a pending retry is due.
    pub retry_at: Option<DateTime<Utc>>,
}

/// One upstream condition of a [`WhyNotStarted`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpstreamStatus {
    /// The upstream job.
    pub job_id: JobId,
    /// Its instances on the business day, with their states.
    pub instances: Vec<(InstanceId, InstanceState)>,
    /// Whether this condition is met.
    pub done: bool,
    /// When the upstream's next instance of that day is due, if none exists yet.
    pub due_at: Option<DateTime<Utc>>,
}

/// `POST /api/instances/{id}/force`: set the status of an instance that is not running.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForceState {
    /// `success` (releases downstream), `failed`, or `skipped` (downstream treats it as done).
    pub state: InstanceState,
    /// Why; recorded with the user's name as the instance's reason.
    pub reason: String,
}

/// `POST /api/instances/{id}/rerun`: run a finished instance again.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rerun {
    /// `manual`: this instance only; `recover`: then release downstream as a scheduled success
    /// would; `cascade`: rerun its whole downstream closure too, each once, in dependency order.
    pub mode: TriggerKind,
    /// Why (recorded in the audit trail).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The optional body of actions that only need a reason: cancel, pause, resume, delete.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionReason {
    /// Why (recorded in the audit trail).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The optional body of `POST /api/jobs/{id}/run`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunRequest {
    /// Run-time parameters: environment variables of this run only, never written into the job.
    /// Names match `[A-Za-z_][A-Za-z0-9_]*` and do not start with `HERA_`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The business time of the run (default: now, to the second). An existing instance at that
    /// time is rerun if it has ended.
    #[serde(default)]
    pub business_time: Option<DateTime<Utc>>,
    /// Why (recorded in the audit trail).
    #[serde(default)]
    pub reason: Option<String>,
}

/// One entry of the audit trail: who did what, to what, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Its id.
    pub id: AuditId,
    /// When.
    pub at: DateTime<Utc>,
    /// The user (or `api` token owner) who acted.
    pub actor: String,
    /// What was done: `job.create`, `job.update`, `job.delete`, `job.pause`, `job.resume`,
    /// `job.run`, `instance.rerun`, `instance.force`, `instance.cancel`, `backfill.start`,
    /// `backfill.pause`, `backfill.resume`, `backfill.cancel`, `backfill.rerun_failed`,
    /// `calendar.create`, `calendar.update`, `calendar.import`, `calendar.delete`.
    pub action: String,
    /// The job concerned, if any.
    pub job_id: Option<JobId>,
    /// The instance concerned, if any.
    pub instance_id: Option<InstanceId>,
    /// The backfill concerned, if any.
    pub backfill_id: Option<BackfillId>,
    /// The calendar concerned, if any.
    pub calendar_id: Option<CalendarId>,
    /// The reason the user gave.
    pub reason: Option<String>,
    /// What exactly changed, for humans (e.g. `mode=recover`, `state=success`).
    pub details: String,
}

/// A named business calendar shared by jobs: a weekly rule (which weekdays are weekend days)
/// and exceptions (holidays, make-up working days).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Calendar {
    /// Its id.
    pub id: CalendarId,
    /// Its unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// ISO weekday numbers (1 = Monday … 7 = Sunday) that are non-working by default.
    pub weekend: Vec<u8>,
    /// The exceptions, by date.
    pub days: Vec<CalendarDay>,
    /// The jobs that use it.
    pub job_ids: Vec<JobId>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// One exception of a [`Calendar`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarDay {
    /// The date.
    pub date: NaiveDate,
    /// Holiday or make-up working day.
    pub kind: DayKind,
    /// Free text, e.g. the holiday's name.
    #[serde(default)]
    pub note: String,
}

/// `POST /api/calendars` and `PUT /api/calendars/{id}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarInput {
    /// Its unique name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Weekend weekdays (1 = Monday … 7 = Sunday); default `[6, 7]`.
    #[serde(default)]
    pub weekend: Option<Vec<u8>>,
    /// The exceptions (replaces all of them); default none.
    #[serde(default)]
    pub days: Option<Vec<CalendarDay>>,
}

/// `POST /api/calendars/{id}/import`: add exceptions from a file's text.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarImport {
    /// `csv` (lines `date,kind[,note]`, kind `holiday` or `workday`) or `ics` (iCalendar: each
    /// all-day event is a holiday; one whose summary or categories say `workday`, `working day`,
    /// `班` or `补班` is a make-up working day).
    pub format: String,
    /// The file's text.
    pub text: String,
    /// Replace the existing exceptions instead of merging (imported dates win).
    #[serde(default)]
    pub replace: bool,
}

/// The answer to a calendar import.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarImported {
    /// Holidays read from the file.
    pub holidays: u32,
    /// Make-up working days read from the file.
    pub workdays: u32,
    /// The calendar after the import.
    pub calendar: Calendar,
}

/// `POST /api/backfills` and `POST /api/backfills/dry-run`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackfillRequest {
    /// The job to backfill.
    pub job_id: JobId,
    /// Also rerun its downstream closure (each downstream instance waits for the backfilled
    /// upstream instances of its window).
    #[serde(default)]
    pub include_downstream: bool,
    /// First business date (inclusive, in the job's zone); with `end_date`.
    #[serde(default)]
    pub start_date: Option<NaiveDate>,
    /// Last business date (inclusive).
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// Or: exactly these business times of the job.
    #[serde(default)]
    pub business_times: Option<Vec<DateTime<Utc>>>,
    /// How many of its instances run at once; default 1.
    #[serde(default)]
    pub parallelism: Option<u32>,
    /// Default `oldest_first`.
    #[serde(default)]
    pub order: Option<BackfillOrder>,
    /// Default `latest`.
    #[serde(default)]
    pub version: Option<BackfillVersion>,
    /// Why (recorded in the audit trail).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a backfill does to one (job, business time).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackfillPlanItem {
    /// The job.
    pub job_id: JobId,
    /// The job's name.
    pub job_name: String,
    /// The business time.
    pub business_time: DateTime<Utc>,
    /// The instance already there, if any.
    pub instance_id: Option<InstanceId>,
    /// Its state.
    pub state: Option<InstanceState>,
    /// `create` (a new instance), `rerun` (the existing one runs again) or `leave` (it is active
    /// now and is left alone).
    pub action: String,
    /// The job version it would run.
    pub version: i64,
}

/// The dry run of a backfill: every instance it would run, per job in dependency order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackfillPlan {
    /// The items, upstream jobs first, then by business time.
    pub items: Vec<BackfillPlanItem>,
    /// How many would run (`create` + `rerun`).
    pub to_run: u32,
}

/// A backfill with its progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Backfill {
    /// Its id.
    pub id: BackfillId,
    /// The job it was started on.
    pub job_id: JobId,
    /// That job's name.
    pub job_name: String,
    /// Whether its downstream closure is included.
    pub include_downstream: bool,
    /// Its state.
    pub state: BackfillState,
    /// Instances run at once.
    pub parallelism: u32,
    /// Start order.
    pub order: BackfillOrder,
    /// Version choice.
    pub version: BackfillVersion,
    /// Who started it.
    pub created_by: String,
    /// Why.
    pub reason: Option<String>,
    /// When it was started.
    pub created_at: DateTime<Utc>,
    /// Its instances.
    pub total: u32,
    /// How many of them are in each state.
    pub counts: BTreeMap<InstanceState, u32>,
    /// The business times it covers: first and last.
    pub first_business_time: Option<DateTime<Utc>>,
    /// The last business time.
    pub last_business_time: Option<DateTime<Utc>>,
}

/// `GET /api/backfills/{id}`: a backfill with its instances.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackfillDetail {
    /// The backfill.
    pub backfill: Backfill,
    /// Its instances (without attempts), upstream jobs first, then by business time.
    pub instances: Vec<BackfillMember>,
}

/// One instance of a backfill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BackfillMember {
    /// The instance.
    pub instance_id: InstanceId,
    /// Its job.
    pub job_id: JobId,
    /// The job's name.
    pub job_name: String,
    /// Its business time.
    pub business_time: DateTime<Utc>,
    /// Its state.
    pub state: InstanceState,
    /// Why it is in that state.
    pub reason: Option<String>,
}

fn default_slot_weight() -> u32 {
    1
}

fn default_calendar_mode() -> CalendarMode {
    CalendarMode::Ignore
}

fn default_backoff() -> RetryBackoff {
    RetryBackoff::Fixed
}

fn default_max_delay() -> u32 {
    3600
}

/// `GET /api/dashboard`: the home page's figures for one day in a zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    /// The day the figures are for (today in `timezone` unless asked otherwise).
    pub date: NaiveDate,
    /// The zone the day is taken in.
    pub timezone: String,
    /// That day's instances (by business time) in each state.
    pub counts: BTreeMap<InstanceState, u32>,
    /// Instances running now, longest-running first (at most 50).
    pub running: Vec<DashboardInstance>,
    /// That day's failed instances, newest first (at most 50).
    pub failures: Vec<DashboardInstance>,
    /// The seven days up to the date: succeeded and failed instances per day, oldest first.
    pub trend: Vec<DayCounts>,
    /// That day's ten longest runs, with the same jobs' longest run the day before.
    pub longest: Vec<LongRun>,
}

/// An instance as the dashboard lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardInstance {
    /// The instance.
    pub instance_id: InstanceId,
    /// Its job.
    pub job_id: JobId,
    /// The job's name.
    pub job_name: String,
    /// Its business time.
    pub business_time: DateTime<Utc>,
    /// Its state.
    pub state: InstanceState,
    /// When its first attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it is in its state.
    pub reason: Option<String>,
}

/// Succeeded and failed instances of one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayCounts {
    /// The day.
    pub date: NaiveDate,
    /// Instances that succeeded.
    pub success: u32,
    /// Instances that failed.
    pub failed: u32,
}

/// One of the day's longest runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LongRun {
    /// The instance.
    pub instance_id: InstanceId,
    /// Its job.
    pub job_id: JobId,
    /// The job's name.
    pub job_name: String,
    /// How long its attempt ran, in seconds.
    pub seconds: f64,
    /// The same job's longest run the day before, in seconds.
    pub yesterday_seconds: Option<f64>,
}

/// `PUT /api/jobs/{id}/secrets/{name}` and `PUT /api/folders/{id}/secrets/{name}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretValue {
    /// The value; it is stored encrypted and never shown again.
    pub value: String,
}

/// A secret as the API shows it: that it is set, never its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretInfo {
    /// Its name (the environment variable the attempt gets).
    pub name: String,
    /// Set on this folder (`None`: on the job itself).
    pub folder_id: Option<FolderId>,
    /// That folder's name.
    pub folder_name: Option<String>,
    /// A nearer folder or the job sets the same name.
    pub overridden: bool,
    /// When it was last set.
    pub updated_at: DateTime<Utc>,
}

/// One result of `GET /api/search`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    /// The job.
    pub job_id: JobId,
    /// Its name.
    pub job_name: String,
    /// Its folder.
    pub folder_id: FolderId,
    /// Where the text was found: `name`, `description`, `script` or `config`.
    pub matched: String,
    /// The matching line (trimmed to about 200 characters).
    pub snippet: String,
}

/// Which tree of the development center a file lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IdeScope {
    /// The signed-in user's own files.
    Personal,
    /// Files every user sees and edits.
    Shared,
}

/// A file or folder of the development center (IDE). `content` is left out of listings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdeFile {
    /// Its id.
    pub id: IdeFileId,
    /// Its tree.
    pub scope: IdeScope,
    /// The folder it is in (none: the tree's top).
    pub parent_id: Option<IdeFileId>,
    /// Its name, unique in its folder.
    pub name: String,
    /// A folder rather than a file.
    pub is_dir: bool,
    /// How the file runs.
    pub job_type: JobType,
    /// The text (only when one file is read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The job it was last published to.
    pub published_job_id: Option<JobId>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/ide/files`: a new file or folder.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewIdeFile {
    /// Its tree.
    pub scope: IdeScope,
    /// The folder to put it in (none: the tree's top).
    #[serde(default)]
    pub parent_id: Option<IdeFileId>,
    /// Its name.
    pub name: String,
    /// A folder rather than a file.
    #[serde(default)]
    pub is_dir: bool,
    /// How the file runs (default: shell).
    #[serde(default)]
    pub job_type: Option<JobType>,
    /// Initial text.
    #[serde(default)]
    pub content: String,
}

/// `PUT /api/ide/files/{id}`: what to change (absent fields stay).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdeFileUpdate {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// New text (files only).
    #[serde(default)]
    pub content: Option<String>,
    /// A new job type (files only).
    #[serde(default)]
    pub job_type: Option<JobType>,
}

/// `POST /api/ide/files/{id}/move`: the folder to move to, in the same tree.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdeMove {
    /// The new folder (none: the tree's top).
    pub parent_id: Option<IdeFileId>,
}

/// `POST /api/ide/files/{id}/run`: run the file, or a part of it, on a host group.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdeRun {
    /// Where to run it.
    pub host_group: String,
    /// The text to run (the editor's selection, or its unsaved text); absent: the saved file.
    #[serde(default)]
    pub script: Option<String>,
    /// The job-tree folder whose configs and secrets the run inherits (default: the root).
    #[serde(default)]
    pub folder_id: Option<FolderId>,
}

/// `POST /api/ide/files/{id}/publish`: copy the file's text into a job, as a new version of it
/// (`job_id`) or as a new job (`folder_id` and `name`, no schedule, host group `default`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdePublish {
    /// The job to update.
    #[serde(default)]
    pub job_id: Option<JobId>,
    /// The folder of a new job.
    #[serde(default)]
    pub folder_id: Option<FolderId>,
    /// The name of a new job (default: the file's name).
    #[serde(default)]
    pub name: Option<String>,
}

/// One uploaded version of a resource-center file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourceVersion {
    /// The resource.
    pub resource_id: ResourceId,
    /// 1, 2, … per resource.
    pub version: u32,
    /// Bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A resource-center file: jobs use it as `hera:<name>` (its latest version) or
/// `hera:<name>@<version>` in their `hera.resources` config or a `download[…]` directive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resource {
    /// Its id.
    pub id: ResourceId,
    /// Its unique name (may contain `/`).
    pub name: String,
    /// Who created it.
    pub created_by: String,
    /// Its latest version.
    pub latest: ResourceVersion,
    /// Every version, newest first (only when one resource is read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<ResourceVersion>,
}
