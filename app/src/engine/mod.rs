//! The scheduler state machine. Sans-IO, after quinn-proto's `Connection`:
//!
//! - inputs go in through [`Engine::handle`] (events and user commands, with `now` passed in);
//! - [`Engine::poll_timeout`] says when [`Engine::handle_timeout`] must be called next;
//! - outputs come out of [`Engine::poll_effect`], drained after every `handle*` call, in order.
//!
//! The engine never reads a clock, performs IO or spawns; the same inputs at the same times give
//! the same effects. It is the only place where instance and attempt states are decided; every
//! change is checked against [`InstanceState::can_become`] / [`AttemptState::can_become`].
//!
//! Effects are applied write-ahead by the driver: all `Persist` effects of one step are stored in
//! one transaction before any `Dispatch` or `Cancel` of that step is sent to a worker.
//!
//! Memory: jobs, active instances, active attempts and the terminal instances of the last
//! [`Config::retention`] (needed for dependency checks) are held; older terminal instances are
//! dropped.

mod backfill;
mod deps;
#[cfg(test)]
mod props;
#[cfg(test)]
mod sim;
mod slots;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_backfill;
#[cfg(test)]
mod tests_controls;

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, VecDeque},
};

use chrono::{DateTime, Duration, DurationRound, Utc};

pub use backfill::{BackfillAction, BackfillItem, BackfillSpec, MAX_BACKFILL_ITEMS, PlanTimes};
pub use slots::CalendarSpec;

use crate::{
    api,
    cron::Schedule,
    domain::{
        AttemptOutcome, AttemptState, CalendarMode, DependencyWindow, InstanceState, MisfirePolicy,
        OnSkip, OverlapPolicy, RetryBackoff, TriggerKind,
    },
    ids::{AttemptId, BackfillId, CalendarId, InstanceId, JobId, WorkerId},
};

/// Tunables of the engine.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long a disconnected worker may stay away before its attempts are declared lost.
    pub worker_grace: Duration,
    /// How many attempts lost with their worker are retried (separately from the job's retries).
    pub lost_retry_cap: u32,
    /// How long terminal instances stay in memory for dependency checks.
    pub retention: Duration,
    /// A cron slot fired later than this is a misfire (handled by the job's misfire policy).
    pub misfire_threshold: Duration,
    /// At most this many missed slots are run (catch-up) or recorded as skipped per misfire.
    pub catch_up_cap: u32,
    /// A worker whose memory use is at or above this (percent of its total) gets no new attempts
    /// (the original's maxMemRate).
    pub max_memory_percent: f32,
    /// A worker whose one-minute load per core is at or above this gets no new attempts (the
    /// original's maxCpuLoadPerCore).
    pub max_load_per_core: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            worker_grace: Duration::seconds(60),
            lost_retry_cap: 3,
            retention: Duration::days(3),
            misfire_threshold: Duration::seconds(60),
            catch_up_cap: 100,
            max_memory_percent: 90.0,
            max_load_per_core: 4.0,
        }
    }
}

/// What the engine needs to know about a job to schedule it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    /// The job.
    pub id: JobId,
    /// Its current version (pinned by new instances).
    pub version: i64,
    /// Its cron expression, if it is time-scheduled.
    pub cron: Option<String>,
    /// Its IANA zone.
    pub timezone: String,
    /// Its upstream jobs.
    pub dependencies: Vec<JobId>,
    /// The window of each dependency edge; an edge not listed waits for the same business day.
    pub windows: BTreeMap<JobId, DependencyWindow>,
    /// What a skipped upstream instance means per edge; an edge not listed treats it as done.
    pub on_skip: BTreeMap<JobId, OnSkip>,
    /// Each instance also waits for the job's previous instance to be done.
    pub self_dependent: bool,
    /// The business calendar that filters its cron slots.
    pub calendar: Option<CalendarId>,
    /// How the calendar filters them.
    pub calendar_mode: CalendarMode,
    /// Set while the job is paused: since when. A paused job gets no new cron instances, and its
    /// waiting instances stay waiting; on resume the slots missed since then are handled by its
    /// misfire policy.
    pub paused_since: Option<DateTime<Utc>>,
    /// The host group that runs it.
    pub host_group: String,
    /// Retries after a failed attempt.
    pub retry_count: u32,
    /// Seconds between a failure and its retry.
    pub retry_delay_secs: u32,
    /// How the retry delay grows.
    pub retry_backoff: RetryBackoff,
    /// The longest retry delay in seconds.
    pub retry_max_delay_secs: u32,
    /// Attempts running longer are killed and count as failed.
    pub timeout_secs: Option<u32>,
    /// Attempts running longer raise an overdue notice.
    pub expected_secs: Option<u32>,
    /// Whether its schedule creates instances.
    pub enabled: bool,
    /// Dispatch priority, 1 (lowest) to 5 (highest).
    pub priority: u8,
    /// What to do with a scheduled instance while an earlier one is still active.
    pub overlap: OverlapPolicy,
    /// What to do with cron slots missed while the scheduler was down or stalled.
    pub misfire: MisfirePolicy,
    /// Worker slots one attempt of the job takes (at least 1).
    pub slot_weight: u32,
    /// Runs on every worker of its host group at once: one attempt per worker; the instance
    /// succeeds when all of them do (the job's `hera.broadcast = true` config).
    pub broadcast: bool,
    /// Fire times at or before this instant are never scheduled (jobs born today do not get
    /// instances for the past).
    pub schedule_from: DateTime<Utc>,
}

impl JobSpec {
    /// What the engine needs of a stored job definition.
    pub fn from_job(job: &api::Job) -> Self {
        JobSpec {
            id: job.id,
            version: job.version,
            cron: job.cron.clone(),
            timezone: job.timezone.clone(),
            dependencies: job.dependencies.clone(),
            windows: job.dependency_windows.clone(),
            on_skip: job.dependency_on_skip.clone(),
            self_dependent: job.self_dependent,
            calendar: job.calendar_id,
            calendar_mode: job.calendar_mode,
            paused_since: job.paused.then(|| job.paused_at.unwrap_or(job.updated_at)),
            host_group: job.host_group.clone(),
            retry_count: job.retry_count,
            retry_delay_secs: job.retry_delay_secs,
            retry_backoff: job.retry_backoff,
            retry_max_delay_secs: job.retry_max_delay_secs,
            timeout_secs: job.timeout_secs,
            expected_secs: job.expected_duration_secs,
            enabled: job.enabled,
            priority: job.priority,
            overlap: job.overlap_policy,
            misfire: job.misfire_policy,
            slot_weight: job.slot_weight.max(1),
            broadcast: job
                .configs
                .get("hera.broadcast")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            schedule_from: job.created_at,
        }
    }
}

/// An instance as persisted.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceRecord {
    /// Its id.
    pub id: InstanceId,
    /// Its job.
    pub job: JobId,
    /// Its business time (unique per job).
    pub scheduled_at: DateTime<Utc>,
    /// The job version it runs.
    pub job_version: i64,
    /// How it was created.
    pub trigger: TriggerKind,
    /// Its state.
    pub state: InstanceState,
    /// Why it is in that state (what it waits for, why it failed).
    pub reason: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its first attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it last reached a terminal state.
    pub finished_at: Option<DateTime<Utc>>,
    /// How many attempts it has had.
    pub attempts: u32,
    /// How many of them failed (counted against the job's retries).
    pub failed_attempts: u32,
    /// How many were lost with their worker (counted against the lost-retry cap).
    pub lost_attempts: u32,
    /// When the pending retry is due (state `retry_wait`).
    pub retry_at: Option<DateTime<Utc>>,
    /// The trigger kind of its next attempt.
    pub next_trigger: TriggerKind,
    /// A cancel was requested while an attempt ran.
    pub cancel_requested: bool,
    /// Run-time parameters of the trigger (environment variables of its attempts).
    pub params: BTreeMap<String, String>,
    /// The backfill it belongs to.
    pub backfill: Option<BackfillId>,
}

/// An attempt as persisted.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRecord {
    /// Its id.
    pub id: AttemptId,
    /// Its instance.
    pub instance: InstanceId,
    /// Its job.
    pub job: JobId,
    /// 1, 2, … within the instance.
    pub number: u32,
    /// How it was started.
    pub trigger: TriggerKind,
    /// Its state.
    pub state: AttemptState,
    /// The worker it was sent to.
    pub worker: WorkerId,
    /// The exit code, once known.
    pub exit_code: Option<i32>,
    /// When it was dispatched.
    pub created_at: DateTime<Utc>,
    /// When the process started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// What the store gives the engine at start-up.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Every job.
    pub jobs: Vec<JobSpec>,
    /// The latest scheduled business time per job (misfire detection after downtime).
    pub last_scheduled: Vec<(JobId, DateTime<Utc>)>,
    /// Non-terminal instances and terminal ones within the retention window.
    pub instances: Vec<InstanceRecord>,
    /// The non-terminal attempts.
    pub attempts: Vec<AttemptRecord>,
    /// The highest instance id ever allocated.
    pub max_instance_id: i64,
    /// The highest attempt id ever allocated.
    pub max_attempt_id: i64,
    /// Every business calendar.
    pub calendars: Vec<CalendarSpec>,
    /// The backfills that are running or paused.
    pub backfills: Vec<BackfillSpec>,
}

/// Inputs: events from workers and the store, and commands from users.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A job was created or saved.
    JobUpserted(JobSpec),
    /// A job was deleted.
    JobRemoved(JobId),
    /// Run a job now (manual or API trigger), dependencies ignored: a new instance at `at`
    /// (default: `now` to the second), or a rerun of the finished instance already there.
    Trigger {
        /// The job.
        job: JobId,
        /// `Manual` or `Api`.
        kind: TriggerKind,
        /// Run-time parameters of this run only.
        params: BTreeMap<String, String>,
        /// The business time; `None`: now.
        at: Option<DateTime<Utc>>,
    },
    /// A business calendar was created or changed: jobs using it reschedule at once.
    CalendarUpserted(CalendarSpec),
    /// A business calendar was deleted (no job uses it).
    CalendarRemoved(CalendarId),
    /// Instances loaded from the store that the engine no longer holds (older than its
    /// retention), needed by a command on old business times.
    Adopt(Vec<InstanceRecord>),
    /// Start or control a backfill.
    Backfill {
        /// The backfill as stored (its state says whether it is paused).
        spec: BackfillSpec,
        /// What to do.
        action: BackfillAction,
    },
    /// Rerun a finished instance (`Manual`: this instance only; `Recover`: then release
    /// downstream).
    Rerun {
        /// The instance.
        instance: InstanceId,
        /// `Manual` or `Recover`.
        kind: TriggerKind,
    },
    /// Set the state of an instance that is not running, with the reason (who and why): success
    /// and skipped release its downstream, failed blocks it.
    Force {
        /// The instance.
        instance: InstanceId,
        /// `Success`, `Failed` or `Skipped`.
        state: InstanceState,
        /// Shown as the instance's reason.
        reason: String,
    },
    /// Rerun a finished instance and its downstream closure (the instances whose windows contain
    /// it, transitively): each runs once, after its upstreams, in dependency order.
    Cascade {
        /// The instance.
        instance: InstanceId,
    },
    /// Cancel an instance that has not finished.
    Cancel {
        /// The instance.
        instance: InstanceId,
    },
    /// A worker said hello.
    WorkerConnected {
        /// The worker.
        worker: WorkerId,
        /// Its host group.
        host_group: String,
        /// Its slots.
        slots: u32,
        /// Attempts it still runs or holds results for.
        known_attempts: Vec<AttemptId>,
    },
    /// An administrator drains a worker (no new attempts; running ones finish) or undrains it.
    WorkerDraining {
        /// The worker.
        worker: WorkerId,
        /// Drain (`true`) or take attempts again.
        draining: bool,
    },
    /// A worker's heartbeat: its load, checked against the limits of [`Config`].
    WorkerLoad {
        /// The worker.
        worker: WorkerId,
        /// Memory in use, percent of its total.
        memory_percent: f32,
        /// One-minute load average per core (none when the worker did not say its cores).
        load_per_core: Option<f64>,
    },
    /// A worker's connection closed.
    WorkerDisconnected {
        /// The worker.
        worker: WorkerId,
    },
    /// A worker started an attempt's process.
    AttemptStarted {
        /// The reporting worker.
        worker: WorkerId,
        /// The attempt.
        attempt: AttemptId,
        /// When it started.
        at: DateTime<Utc>,
    },
    /// The server could not send a dispatched attempt (its script could not be loaded or
    /// rendered): it fails before it starts, with the reason.
    AttemptNotStarted {
        /// The attempt.
        attempt: AttemptId,
        /// Why.
        reason: String,
    },
    /// A worker reports how an attempt ended.
    AttemptFinished {
        /// The reporting worker.
        worker: WorkerId,
        /// The attempt.
        attempt: AttemptId,
        /// How it ended.
        outcome: AttemptOutcome,
        /// The exit code.
        exit_code: Option<i32>,
        /// When it ended.
        at: DateTime<Utc>,
    },
}

/// What [`Engine::handle`] did with an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Applied.
    Done,
    /// Applied; this instance was created or rerun.
    Instance(InstanceId),
    /// A late or duplicate report, or one from the wrong worker: acknowledged and ignored.
    Ignored,
}

/// Why a command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// No such job.
    #[error("job {0} does not exist")]
    UnknownJob(JobId),
    /// No such instance (or it is too old to act on).
    #[error("instance {0} does not exist")]
    UnknownInstance(InstanceId),
    /// The instance is in a state that does not allow the command.
    #[error("instance {instance} is {state}; {action} is not possible")]
    WrongState {
        /// The instance.
        instance: InstanceId,
        /// Its state.
        state: InstanceState,
        /// What was attempted.
        action: &'static str,
    },
    /// The trigger kind does not fit the command.
    #[error("trigger kind {0} is not allowed here")]
    WrongTrigger(TriggerKind),
    /// Another run of the job is active at the requested business time.
    #[error("instance {0} of this job at that business time is still active")]
    Busy(InstanceId),
    /// A request names nothing to do or too much.
    #[error("{0}")]
    BadRequest(String),
}

/// An output of the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Store this instance record (insert or update by id).
    PersistInstance(InstanceRecord),
    /// Store this attempt record (insert or update by id).
    PersistAttempt(AttemptRecord),
    /// Send this attempt to its worker (after the step's persists are stored).
    Dispatch {
        /// The attempt (its `worker` is the destination).
        attempt: AttemptRecord,
        /// The job version to run.
        job_version: i64,
        /// The instance's business time.
        scheduled_at: DateTime<Utc>,
        /// The trigger's run-time parameters.
        params: BTreeMap<String, String>,
    },
    /// An attempt has run longer than its job's expected duration (it goes on).
    Overdue {
        /// The attempt.
        attempt: AttemptRecord,
        /// The expected duration in seconds.
        expected_secs: u32,
    },
    /// Ask a worker to kill an attempt.
    Cancel {
        /// The worker.
        worker: WorkerId,
        /// The attempt.
        attempt: AttemptId,
        /// Why (for the attempt's log).
        reason: String,
    },
}

/// Dispatch order: priority (highest first), business time, arrival, id.
type QueueKey = (Reverse<u8>, DateTime<Utc>, u64, InstanceId);

/// The delay before retry number `retry` (1-based) of an instance: fixed, or doubling from the
/// job's delay with ±20 % jitter, never above the job's maximum. The jitter is derived from the
/// instance and the retry number, so the engine stays deterministic.
fn retry_delay(job: &JobSpec, instance: InstanceId, retry: u32) -> Duration {
    let base = i64::from(job.retry_delay_secs) * 1000;
    let max = i64::from(job.retry_max_delay_secs.max(job.retry_delay_secs)) * 1000;
    let millis = match job.retry_backoff {
        RetryBackoff::Fixed => base,
        RetryBackoff::Exponential => {
            let doubled = base.saturating_mul(1_i64 << retry.saturating_sub(1).min(40));
            // A fraction in [0, 1) from a 64-bit mix of the instance and the retry number.
            let mut x = (instance.0 as u64) ^ (u64::from(retry) << 32) ^ 0x9E37_79B9_7F4A_7C15;
            x ^= x >> 30;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x ^= x >> 27;
            x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^= x >> 31;
            let fraction = (x >> 11) as f64 / (1_u64 << 53) as f64;
            ((doubled.min(max) as f64) * (0.8 + 0.4 * fraction)) as i64
        }
    };
    Duration::milliseconds(millis.min(max))
}

/// Whether an instance started this way releases its downstream when it succeeds (a manual or
/// API run of one instance does not).
fn releases_on_success(trigger: TriggerKind) -> bool {
    matches!(
        trigger,
        TriggerKind::Scheduled
            | TriggerKind::Recover
            | TriggerKind::Cascade
            | TriggerKind::Backfill
    )
}

fn is_active(state: InstanceState) -> bool {
    matches!(
        state,
        InstanceState::Queued | InstanceState::Running | InstanceState::RetryWait
    )
}

struct JobState {
    spec: JobSpec,
    schedule: Option<Schedule>,
    next_fire: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct WorkerState {
    host_group: String,
    slots: u32,
    /// Its attempts and the slots each takes.
    running: BTreeMap<AttemptId, u32>,
    connected: bool,
    /// Draining: it gets no new attempts; the running ones finish.
    draining: bool,
    /// Why its last heartbeat put it over the load limits (no new attempts until it is under).
    over_limit: Option<String>,
    /// While disconnected: when its attempts are declared lost.
    lost_at: Option<DateTime<Utc>>,
}

impl WorkerState {
    /// Slots not taken by its attempts.
    fn free(&self) -> u32 {
        self.slots.saturating_sub(self.running.values().sum())
    }

    /// Whether it may get a new attempt now (slots aside).
    fn takes_work(&self) -> bool {
        self.connected && !self.draining && self.over_limit.is_none()
    }
}

/// The scheduler. See the module docs.
pub struct Engine {
    config: Config,
    jobs: BTreeMap<JobId, JobState>,
    /// job -> jobs that depend on it.
    downstream: BTreeMap<JobId, BTreeSet<JobId>>,
    instances: BTreeMap<InstanceId, InstanceRecord>,
    /// (job, business time) -> instance: the identity index and the dependency lookup.
    by_job_time: BTreeMap<(JobId, DateTime<Utc>), InstanceId>,
    /// Non-terminal attempts.
    attempts: BTreeMap<AttemptId, AttemptRecord>,
    /// The attempt currently running for an instance.
    /// The active attempts of each running instance (several for a broadcast job).
    current_attempts: BTreeMap<InstanceId, BTreeSet<AttemptId>>,
    /// A broadcast instance's first failed attempt and why, while its other attempts run.
    broadcast_failures: BTreeMap<InstanceId, (AttemptRecord, String)>,
    workers: BTreeMap<WorkerId, WorkerState>,
    /// Ready instances in dispatch order: priority (highest first), business time, arrival.
    queue: BTreeSet<QueueKey>,
    /// Each queued instance's key in `queue`.
    queue_keys: BTreeMap<InstanceId, QueueKey>,
    /// Arrival counter for FIFO order among equals.
    queue_seq: u64,
    /// Queued, running or retry-waiting instances per job (overlap policy).
    active_by_job: BTreeMap<JobId, BTreeSet<InstanceId>>,
    /// Instances that succeeded or were skipped and whose downstream is still to be released.
    pending_release: VecDeque<InstanceId>,
    /// Jobs whose waiting instances must be re-checked (an active instance of theirs ended).
    pending_recheck: VecDeque<JobId>,
    /// Waiting instances by job and business time.
    waiting: BTreeSet<(JobId, DateTime<Utc>, InstanceId)>,
    fire_timers: BTreeSet<(DateTime<Utc>, JobId)>,
    retry_timers: BTreeSet<(DateTime<Utc>, InstanceId)>,
    lost_timers: BTreeSet<(DateTime<Utc>, WorkerId)>,
    /// Hard timeouts of running attempts (stale entries of ended attempts are skipped).
    timeout_timers: BTreeSet<(DateTime<Utc>, AttemptId)>,
    /// Expected durations of running attempts.
    overdue_timers: BTreeSet<(DateTime<Utc>, AttemptId)>,
    /// Attempts being killed for their timeout.
    timing_out: BTreeSet<AttemptId>,
    /// Terminal instances by the time they may be pruned from (the later of their business time
    /// and when they ended or were adopted), for pruning.
    terminal: BTreeSet<(DateTime<Utc>, InstanceId)>,
    /// Each terminal instance's key in `terminal`.
    terminal_keys: BTreeMap<InstanceId, DateTime<Utc>>,
    calendars: BTreeMap<CalendarId, CalendarSpec>,
    backfills: BTreeMap<BackfillId, backfill::BackfillRun>,
    /// Backfills whose throttle may let more instances start.
    pending_backfill: BTreeSet<BackfillId>,
    effects: VecDeque<Effect>,
    last_instance_id: i64,
    last_attempt_id: i64,
}

impl Engine {
    /// An engine with no jobs.
    pub fn new(config: Config) -> Self {
        Engine {
            config,
            jobs: BTreeMap::new(),
            downstream: BTreeMap::new(),
            instances: BTreeMap::new(),
            by_job_time: BTreeMap::new(),
            attempts: BTreeMap::new(),
            current_attempts: BTreeMap::new(),
            broadcast_failures: BTreeMap::new(),
            workers: BTreeMap::new(),
            queue: BTreeSet::new(),
            queue_keys: BTreeMap::new(),
            queue_seq: 0,
            active_by_job: BTreeMap::new(),
            pending_release: VecDeque::new(),
            pending_recheck: VecDeque::new(),
            waiting: BTreeSet::new(),
            fire_timers: BTreeSet::new(),
            retry_timers: BTreeSet::new(),
            lost_timers: BTreeSet::new(),
            timeout_timers: BTreeSet::new(),
            overdue_timers: BTreeSet::new(),
            timing_out: BTreeSet::new(),
            terminal: BTreeSet::new(),
            terminal_keys: BTreeMap::new(),
            calendars: BTreeMap::new(),
            backfills: BTreeMap::new(),
            pending_backfill: BTreeSet::new(),
            effects: VecDeque::new(),
            last_instance_id: 0,
            last_attempt_id: 0,
        }
    }

    /// Rebuilds the engine from persisted state after a restart. Attempts that were running are
    /// kept: their workers get [`Config::worker_grace`] to reconnect and claim them.
    pub fn recover(config: Config, snapshot: Snapshot, now: DateTime<Utc>) -> Self {
        let mut engine = Engine::new(config);
        engine.last_instance_id = snapshot.max_instance_id;
        engine.last_attempt_id = snapshot.max_attempt_id;
        let last_scheduled: BTreeMap<JobId, DateTime<Utc>> =
            snapshot.last_scheduled.into_iter().collect();
        for calendar in snapshot.calendars {
            engine.calendars.insert(calendar.id, calendar);
        }
        for spec in snapshot.backfills {
            engine.ensure_backfill(&spec);
        }
        for spec in snapshot.jobs {
            let from = last_scheduled
                .get(&spec.id)
                .map_or(spec.schedule_from, |last| (*last).max(spec.schedule_from));
            engine.install_job(spec, from);
        }
        for mut record in snapshot.instances {
            if record.state == InstanceState::RetryWait && record.retry_at.is_none() {
                record.retry_at = Some(now);
            }
            let id = record.id;
            engine.instances.insert(id, record);
            engine.index_instance(id, DateTime::<Utc>::MIN_UTC);
        }
        // Re-evaluate every backfill's throttle at the first timeout.
        engine.pending_backfill = engine.backfills.keys().copied().collect();
        for attempt in snapshot.attempts {
            let worker = engine.workers.entry(attempt.worker).or_default();
            let weight = engine
                .jobs
                .get(&attempt.job)
                .map_or(1, |j| j.spec.slot_weight.max(1));
            worker.running.insert(attempt.id, weight);
            engine
                .current_attempts
                .entry(attempt.instance)
                .or_default()
                .insert(attempt.id);
            engine.attempts.insert(attempt.id, attempt);
        }
        let lost_at = now + engine.config.worker_grace;
        for (id, worker) in &mut engine.workers {
            worker.lost_at = Some(lost_at);
            engine.lost_timers.insert((lost_at, *id));
        }
        engine
    }

    /// The earliest time at which [`Engine::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<DateTime<Utc>> {
        [
            self.fire_timers.first().map(|it| it.0),
            self.retry_timers.first().map(|it| it.0),
            self.lost_timers.first().map(|it| it.0),
            self.timeout_timers.first().map(|it| it.0),
            self.overdue_timers.first().map(|it| it.0),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next effect to apply, in order.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// An instance the engine holds in memory (active, or terminal within the retention window).
    pub fn instance(&self, id: InstanceId) -> Option<&InstanceRecord> {
        self.instances.get(&id)
    }

    /// How many instances wait for a worker slot.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// The first `limit` queued instances in dispatch order, with their host group.
    pub fn queue_head(&self, limit: usize) -> Vec<(InstanceId, String)> {
        self.queue
            .iter()
            .take(limit)
            .map(|key| {
                let group = self
                    .instances
                    .get(&key.3)
                    .and_then(|r| self.jobs.get(&r.job))
                    .map(|j| j.spec.host_group.clone())
                    .unwrap_or_default();
                (key.3, group)
            })
            .collect()
    }

    /// Applies one input.
    pub fn handle(&mut self, now: DateTime<Utc>, input: Input) -> Result<Handled, EngineError> {
        let res = match input {
            Input::JobUpserted(spec) => {
                let id = spec.id;
                // On resume, the slots missed while paused are fired late (misfire policy).
                let fire_after = match self.jobs.get(&id).and_then(|j| j.spec.paused_since) {
                    Some(since) if spec.paused_since.is_none() => since,
                    _ => now,
                };
                let resumed_dependency_only =
                    spec.cron.is_none() && fire_after < now && spec.enabled;
                self.install_job(spec, fire_after);
                self.reevaluate_waiting_of(id, now);
                if resumed_dependency_only {
                    self.create_missed_dependency_only(now, id, fire_after);
                }
                Ok(Handled::Done)
            }
            Input::CalendarUpserted(calendar) => {
                let id = calendar.id;
                self.calendars.insert(id, calendar);
                self.reinstall_jobs_of_calendar(id, now);
                Ok(Handled::Done)
            }
            Input::CalendarRemoved(id) => {
                self.calendars.remove(&id);
                self.reinstall_jobs_of_calendar(id, now);
                Ok(Handled::Done)
            }
            Input::Adopt(records) => {
                self.adopt(now, records);
                Ok(Handled::Done)
            }
            Input::Backfill { spec, action } => self.backfill(now, &spec, action),
            Input::JobRemoved(id) => {
                self.uninstall_job(id);
                // Its instances that have not started never will; running ones finish.
                let pending: Vec<InstanceId> = self
                    .by_job_time
                    .range((id, DateTime::<Utc>::MIN_UTC)..=(id, DateTime::<Utc>::MAX_UTC))
                    .map(|(_, instance)| *instance)
                    .filter(|instance| {
                        matches!(
                            self.instances[instance].state,
                            InstanceState::Waiting
                                | InstanceState::Queued
                                | InstanceState::RetryWait
                        )
                    })
                    .collect();
                for instance in pending {
                    let reason = Some("the job was deleted".to_owned());
                    self.set_state(now, instance, InstanceState::Cancelled, reason);
                }
                Ok(Handled::Done)
            }
            Input::Trigger {
                job,
                kind,
                params,
                at,
            } => self.trigger(now, job, kind, params, at),
            Input::Rerun { instance, kind } => self.rerun(now, instance, kind),
            Input::Cancel { instance } => self.cancel(now, instance),
            Input::Cascade { instance } => self.cascade(now, instance),
            Input::Force {
                instance,
                state,
                reason,
            } => self.force(now, instance, state, reason),
            Input::WorkerConnected {
                worker,
                host_group,
                slots,
                known_attempts,
            } => {
                self.worker_connected(now, worker, host_group, slots, &known_attempts);
                Ok(Handled::Done)
            }
            Input::WorkerDraining { worker, draining } => {
                match self.workers.get_mut(&worker) {
                    Some(state) => state.draining = draining,
                    None => {
                        self.workers.insert(
                            worker,
                            WorkerState {
                                draining,
                                ..WorkerState::default()
                            },
                        );
                    }
                }
                Ok(Handled::Done)
            }
            Input::WorkerLoad {
                worker,
                memory_percent,
                load_per_core,
            } => {
                let (max_memory, max_load) = (
                    self.config.max_memory_percent,
                    self.config.max_load_per_core,
                );
                let over = if memory_percent >= max_memory {
                    Some(format!(
                        "memory in use {memory_percent:.0}% ≥ {max_memory:.0}%"
                    ))
                } else {
                    load_per_core
                        .filter(|l| *l >= max_load)
                        .map(|l| format!("load per core {l:.2} ≥ {max_load:.2}"))
                };
                match self.workers.get_mut(&worker) {
                    Some(state) => {
                        state.over_limit = over;
                        Ok(Handled::Done)
                    }
                    None => Ok(Handled::Ignored),
                }
            }
            Input::WorkerDisconnected { worker } => {
                if let Some(state) = self.workers.get_mut(&worker)
                    && state.connected
                {
                    state.connected = false;
                    let at = now + self.config.worker_grace;
                    state.lost_at = Some(at);
                    self.lost_timers.insert((at, worker));
                }
                Ok(Handled::Done)
            }
            Input::AttemptStarted {
                worker,
                attempt,
                at,
            } => Ok(self.attempt_started(now, worker, attempt, at)),
            Input::AttemptFinished {
                worker,
                attempt,
                outcome,
                exit_code,
                at,
            } => Ok(self.attempt_finished(now, worker, attempt, outcome, exit_code, at)),
            Input::AttemptNotStarted { attempt, reason } => {
                let Some(instance) = self.current_attempt_instance(attempt).map(|r| r.id) else {
                    return Ok(Handled::Ignored);
                };
                let Some(ended) = self.end_attempt(attempt, AttemptState::Failed, None, now) else {
                    return Ok(Handled::Ignored);
                };
                if let Some((ended, reason)) =
                    self.last_of_broadcast(instance, Some((ended, reason)))
                {
                    self.attempt_failed(now, instance, &ended, &reason);
                }
                Ok(Handled::Done)
            }
        };
        self.settle(now);
        self.dispatch(now);
        res
    }

    /// Fires due cron schedules, due retries and worker-loss deadlines, then dispatches.
    /// Calling it early or twice is harmless.
    pub fn handle_timeout(&mut self, now: DateTime<Utc>) {
        while let Some(&(at, job)) = self.fire_timers.first() {
            if at > now {
                break;
            }
            self.fire_timers.pop_first();
            self.fire(now, job, at);
        }
        while let Some(&(at, instance)) = self.retry_timers.first() {
            if at > now {
                break;
            }
            self.retry_timers.pop_first();
            if self
                .instances
                .get(&instance)
                .is_some_and(|r| r.state == InstanceState::RetryWait)
            {
                self.set_state(now, instance, InstanceState::Queued, None);
            }
        }
        while let Some(&(at, worker)) = self.lost_timers.first() {
            if at > now {
                break;
            }
            self.lost_timers.pop_first();
            self.worker_lost(now, worker);
        }
        while let Some(&(at, attempt)) = self.timeout_timers.first() {
            if at > now {
                break;
            }
            self.timeout_timers.pop_first();
            if let Some(running) = self.attempts.get(&attempt)
                && self.timing_out.insert(attempt)
            {
                let limit = self
                    .jobs
                    .get(&running.job)
                    .and_then(|j| j.spec.timeout_secs)
                    .unwrap_or_default();
                self.effects.push_back(Effect::Cancel {
                    worker: running.worker,
                    attempt,
                    reason: format!("timed out after {limit} s"),
                });
            }
        }
        while let Some(&(at, attempt)) = self.overdue_timers.first() {
            if at > now {
                break;
            }
            self.overdue_timers.pop_first();
            if let Some(running) = self.attempts.get(&attempt)
                && let Some(expected_secs) = self
                    .jobs
                    .get(&running.job)
                    .and_then(|j| j.spec.expected_secs)
            {
                self.effects.push_back(Effect::Overdue {
                    attempt: running.clone(),
                    expected_secs,
                });
            }
        }
        self.settle(now);
        self.prune(now);
        self.dispatch(now);
    }

    /// Releases downstream of instances that succeeded or were skipped, and admits instances
    /// that waited for an earlier instance of their job, until nothing more follows.
    fn settle(&mut self, now: DateTime<Utc>) {
        loop {
            if let Some(id) = self.pending_release.pop_front() {
                self.release_downstream(now, id);
            } else if let Some(job) = self.pending_recheck.pop_front() {
                self.reevaluate_waiting_of(job, now);
            } else if let Some(backfill) = self.pending_backfill.pop_first() {
                self.promote(now, backfill);
            } else {
                break;
            }
        }
    }

    fn install_job(&mut self, spec: JobSpec, fire_after: DateTime<Utc>) {
        let id = spec.id;
        self.uninstall_job(id);
        // Definitions were validated when saved; a cron that no longer parses schedules nothing.
        let schedule = spec
            .cron
            .as_deref()
            .and_then(|cron| Schedule::parse(cron, &spec.timezone).ok());
        for upstream in &spec.dependencies {
            self.downstream.entry(*upstream).or_default().insert(id);
        }
        self.jobs.insert(
            id,
            JobState {
                spec,
                schedule,
                next_fire: None,
            },
        );
        let job = &self.jobs[&id];
        let next_fire = if job.spec.enabled && job.spec.paused_since.is_none() {
            self.next_slot(id, fire_after.max(job.spec.schedule_from))
        } else {
            None
        };
        if let Some(at) = next_fire {
            self.fire_timers.insert((at, id));
        }
        self.jobs.get_mut(&id).expect("inserted above").next_fire = next_fire;
    }

    /// Forgets a job's definition: its fire timer and its edges in the downstream index.
    fn uninstall_job(&mut self, id: JobId) {
        let Some(old) = self.jobs.remove(&id) else {
            return;
        };
        if let Some(at) = old.next_fire {
            self.fire_timers.remove(&(at, id));
        }
        for upstream in &old.spec.dependencies {
            if let Some(set) = self.downstream.get_mut(upstream) {
                set.remove(&id);
                if set.is_empty() {
                    self.downstream.remove(upstream);
                }
            }
        }
    }

    /// A calendar changed: the jobs that use it get their next fire time recomputed, and their
    /// downstream instances re-checked (an upstream may no longer be expected on a day).
    fn reinstall_jobs_of_calendar(&mut self, calendar: CalendarId, now: DateTime<Utc>) {
        let jobs: Vec<JobSpec> = self
            .jobs
            .values()
            .filter(|j| j.spec.calendar == Some(calendar))
            .map(|j| j.spec.clone())
            .collect();
        for spec in jobs {
            let id = spec.id;
            self.install_job(spec, now);
            self.reevaluate_waiting_of(id, now);
            let downstream: Vec<JobId> = self
                .downstream
                .get(&id)
                .into_iter()
                .flatten()
                .copied()
                .collect();
            for job in downstream {
                self.reevaluate_waiting_of(job, now);
            }
        }
    }

    /// A cron fire time is due. When it is late by more than the misfire threshold (the
    /// scheduler was down or stalled), every slot missed since is handled by the job's misfire
    /// policy, and the skipped ones are recorded as skipped instances.
    fn fire(&mut self, now: DateTime<Utc>, job_id: JobId, due: DateTime<Utc>) {
        let Some(job) = self.jobs.get(&job_id) else {
            return;
        };
        if job.schedule.is_none() || job.spec.paused_since.is_some() || !job.spec.enabled {
            return;
        }
        let policy = job.spec.misfire;
        let next_fire = self.next_slot(job_id, now);
        self.jobs.get_mut(&job_id).expect("checked above").next_fire = next_fire;
        if let Some(at) = next_fire {
            self.fire_timers.insert((at, job_id));
        }
        let latest = self.latest_slot(job_id, now).unwrap_or(due).max(due);
        if latest == due && now - due <= self.config.misfire_threshold {
            if !self.by_job_time.contains_key(&(job_id, due)) {
                self.create_instance(now, job_id, due, TriggerKind::Scheduled, true);
            }
            return;
        }
        // The missed slots, newest first, at most the cap (plus one to know there were more).
        let cap = self.config.catch_up_cap.max(1) as usize;
        let mut missed = vec![latest];
        while missed.len() <= cap {
            let before = *missed.last().expect("not empty") - Duration::seconds(1);
            match self.latest_slot(job_id, before) {
                Some(prev) if prev >= due => missed.push(prev),
                _ => break,
            }
        }
        let more_before = missed.len() > cap;
        missed.truncate(cap);
        missed.reverse();
        let run: Vec<DateTime<Utc>> = match policy {
            MisfirePolicy::FireOnceNow => vec![latest],
            MisfirePolicy::Skip => Vec::new(),
            MisfirePolicy::CatchUp => missed.clone(),
        };
        for (idx, slot) in missed.into_iter().enumerate() {
            if self.by_job_time.contains_key(&(job_id, slot)) {
                continue;
            }
            if run.contains(&slot) {
                self.create_instance(now, job_id, slot, TriggerKind::Scheduled, true);
                continue;
            }
            let mut reason =
                format!("missed while the scheduler was not running (misfire policy {policy})");
            if idx == 0 && more_before {
                reason.push_str(&format!(
                    "; older missed slots beyond {cap} are not recorded"
                ));
            }
            self.create_skipped(now, job_id, slot, reason);
        }
    }

    /// A new waiting instance record (not yet stored anywhere).
    fn new_record(
        &mut self,
        now: DateTime<Utc>,
        job: JobId,
        scheduled_at: DateTime<Utc>,
        trigger: TriggerKind,
    ) -> InstanceRecord {
        self.last_instance_id += 1;
        InstanceRecord {
            id: InstanceId(self.last_instance_id),
            job,
            scheduled_at,
            job_version: self.jobs.get(&job).map_or(0, |j| j.spec.version),
            trigger,
            state: InstanceState::Waiting,
            reason: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            attempts: 0,
            failed_attempts: 0,
            lost_attempts: 0,
            retry_at: None,
            next_trigger: trigger,
            cancel_requested: false,
            params: BTreeMap::new(),
            backfill: None,
        }
    }

    /// Creates an instance and admits it: queued, or waiting with the reason, or skipped by the
    /// overlap policy. Without `check`, it is queued at once (manual and API runs).
    fn create_instance(
        &mut self,
        now: DateTime<Utc>,
        job_id: JobId,
        scheduled_at: DateTime<Utc>,
        trigger: TriggerKind,
        check: bool,
    ) -> InstanceId {
        let record = self.new_record(now, job_id, scheduled_at, trigger);
        let id = record.id;
        self.by_job_time.insert((job_id, scheduled_at), id);
        self.instances.insert(id, record);
        self.admit(now, id, check, true);
        id
    }

    /// A manual or API instance, adjusted by `set` before it is queued.
    fn create_instance_with(
        &mut self,
        now: DateTime<Utc>,
        job_id: JobId,
        scheduled_at: DateTime<Utc>,
        trigger: TriggerKind,
        set: impl FnOnce(&mut InstanceRecord),
    ) -> InstanceId {
        let mut record = self.new_record(now, job_id, scheduled_at, trigger);
        set(&mut record);
        let id = record.id;
        self.by_job_time.insert((job_id, scheduled_at), id);
        self.instances.insert(id, record);
        self.admit(now, id, false, true);
        id
    }

    /// Records a missed slot as a skipped instance.
    fn create_skipped(
        &mut self,
        now: DateTime<Utc>,
        job: JobId,
        scheduled_at: DateTime<Utc>,
        reason: String,
    ) {
        let mut record = self.new_record(now, job, scheduled_at, TriggerKind::Scheduled);
        let id = record.id;
        record.state = InstanceState::Skipped;
        record.reason = Some(reason);
        record.finished_at = Some(now);
        self.by_job_time.insert((job, scheduled_at), id);
        let key = scheduled_at.max(now);
        self.terminal.insert((key, id));
        self.terminal_keys.insert(id, key);
        self.pending_release.push_back(id);
        self.effects
            .push_back(Effect::PersistInstance(record.clone()));
        self.instances.insert(id, record);
    }

    /// A manual or API run. Two triggers of the same second with the same parameters name the
    /// same instance: the second gets it while it is active, or reruns it if it has ended. With
    /// other parameters, a trigger without a business time takes the next free second; one with
    /// an explicit business time reruns the ended instance there with its parameters, and is
    /// refused while that instance is active.
    fn trigger(
        &mut self,
        now: DateTime<Utc>,
        job: JobId,
        kind: TriggerKind,
        params: BTreeMap<String, String>,
        at: Option<DateTime<Utc>>,
    ) -> Result<Handled, EngineError> {
        if !matches!(kind, TriggerKind::Manual | TriggerKind::Api) {
            return Err(EngineError::WrongTrigger(kind));
        }
        if !self.jobs.contains_key(&job) {
            return Err(EngineError::UnknownJob(job));
        }
        let explicit = at.is_some();
        let mut at = at.unwrap_or(now);
        at = at.duration_trunc(Duration::seconds(1)).unwrap_or(at);
        while let Some(&existing) = self.by_job_time.get(&(job, at)) {
            let record = self.instances.get_mut(&existing).expect("indexed");
            let same = record.params == params;
            match (record.state.is_terminal(), same, explicit) {
                (true, _, true) | (true, true, false) => {
                    record.params = params;
                    return self.rerun(now, existing, kind);
                }
                (false, true, _) => return Ok(Handled::Instance(existing)),
                (false, false, true) => return Err(EngineError::Busy(existing)),
                // Other parameters without a business time: the next free second.
                (_, false, false) => at += Duration::seconds(1),
            }
        }
        let id = self.create_instance_with(now, job, at, kind, |record| record.params = params);
        Ok(Handled::Instance(id))
    }

    fn rerun(
        &mut self,
        now: DateTime<Utc>,
        id: InstanceId,
        kind: TriggerKind,
    ) -> Result<Handled, EngineError> {
        if !matches!(
            kind,
            TriggerKind::Manual | TriggerKind::Recover | TriggerKind::Cascade | TriggerKind::Api
        ) {
            return Err(EngineError::WrongTrigger(kind));
        }
        let record = self
            .instances
            .get_mut(&id)
            .ok_or(EngineError::UnknownInstance(id))?;
        if !record.state.is_terminal() {
            return Err(EngineError::WrongState {
                instance: id,
                state: record.state,
                action: "rerun",
            });
        }
        record.next_trigger = kind;
        record.failed_attempts = 0;
        record.lost_attempts = 0;
        record.cancel_requested = false;
        if matches!(kind, TriggerKind::Recover | TriggerKind::Cascade) {
            record.trigger = kind;
        }
        self.set_state(now, id, InstanceState::Queued, None);
        Ok(Handled::Instance(id))
    }

    fn cascade(&mut self, now: DateTime<Utc>, root: InstanceId) -> Result<Handled, EngineError> {
        let record = self
            .instances
            .get(&root)
            .ok_or(EngineError::UnknownInstance(root))?;
        if !record.state.is_terminal() {
            return Err(EngineError::WrongState {
                instance: root,
                state: record.state,
                action: "a cascade rerun",
            });
        }
        // Walk the downstream closure breadth first; each instance is taken once.
        let mut frontier = VecDeque::from([(record.job, record.scheduled_at)]);
        let mut taken = BTreeSet::from([root]);
        let mut closure = Vec::new();
        while let Some((upstream, at)) = frontier.pop_front() {
            let downstream: Vec<JobId> = self
                .downstream
                .get(&upstream)
                .into_iter()
                .flatten()
                .copied()
                .collect();
            for job in downstream {
                let (start, end) = self.affected(job, upstream, at);
                for (&(_, t), id) in self.by_job_time.range((job, start)..(job, end)) {
                    if taken.insert(*id) {
                        closure.push(*id);
                        frontier.push_back((job, t));
                    }
                }
            }
        }
        self.rerun(now, root, TriggerKind::Cascade)?;
        let reason = format!("cascade rerun from instance {root}");
        for id in closure {
            let record = self
                .instances
                .get_mut(&id)
                .expect("indexed instances exist");
            // Active ones run anyway; finished ones wait for their upstreams again.
            if !record.state.is_terminal() {
                continue;
            }
            record.trigger = TriggerKind::Cascade;
            record.next_trigger = TriggerKind::Cascade;
            record.failed_attempts = 0;
            record.lost_attempts = 0;
            self.set_state(now, id, InstanceState::Waiting, Some(reason.clone()));
            self.admit(now, id, true, false);
        }
        Ok(Handled::Instance(root))
    }

    fn force(
        &mut self,
        now: DateTime<Utc>,
        id: InstanceId,
        state: InstanceState,
        reason: String,
    ) -> Result<Handled, EngineError> {
        let record = self
            .instances
            .get(&id)
            .ok_or(EngineError::UnknownInstance(id))?;
        let current = record.state;
        if !matches!(
            state,
            InstanceState::Success | InstanceState::Failed | InstanceState::Skipped
        ) {
            return Err(EngineError::WrongState {
                instance: id,
                state,
                action: "forcing to this state",
            });
        }
        if current == InstanceState::Running {
            return Err(EngineError::WrongState {
                instance: id,
                state: current,
                action: "forcing the status (cancel it first)",
            });
        }
        if current == state {
            return Ok(Handled::Instance(id));
        }
        let trigger = record.trigger;
        self.set_state(now, id, state, Some(reason));
        // Forcing success releases downstream whatever started the instance (a scheduled or
        // recovered one is already on the release list).
        if state.releases_downstream() && !releases_on_success(trigger) {
            self.pending_release.push_back(id);
        }
        Ok(Handled::Instance(id))
    }

    fn cancel(&mut self, now: DateTime<Utc>, id: InstanceId) -> Result<Handled, EngineError> {
        let record = self
            .instances
            .get_mut(&id)
            .ok_or(EngineError::UnknownInstance(id))?;
        match record.state {
            InstanceState::Waiting | InstanceState::Queued | InstanceState::RetryWait => {
                self.set_state(
                    now,
                    id,
                    InstanceState::Cancelled,
                    Some("cancelled by a user".to_owned()),
                );
                Ok(Handled::Done)
            }
            InstanceState::Running => {
                record.cancel_requested = true;
                self.effects
                    .push_back(Effect::PersistInstance(record.clone()));
                for attempt in self
                    .current_attempts
                    .get(&id)
                    .into_iter()
                    .flatten()
                    .filter_map(|a| self.attempts.get(a))
                {
                    self.effects.push_back(Effect::Cancel {
                        worker: attempt.worker,
                        attempt: attempt.id,
                        reason: "cancelled by a user".to_owned(),
                    });
                }
                Ok(Handled::Done)
            }
            state => Err(EngineError::WrongState {
                instance: id,
                state,
                action: "cancel",
            }),
        }
    }

    fn worker_connected(
        &mut self,
        now: DateTime<Utc>,
        id: WorkerId,
        host_group: String,
        slots: u32,
        known: &[AttemptId],
    ) {
        let worker = self.workers.entry(id).or_default();
        worker.host_group = host_group;
        worker.slots = slots;
        worker.connected = true;
        if let Some(at) = worker.lost_at.take() {
            self.lost_timers.remove(&(at, id));
        }
        // Attempts the worker no longer knows about are lost; the ones it knows are adopted.
        let forgotten: Vec<AttemptId> = worker
            .running
            .keys()
            .filter(|a| !known.contains(a))
            .copied()
            .collect();
        for attempt in forgotten {
            self.attempt_lost(now, attempt);
        }
    }

    fn worker_lost(&mut self, now: DateTime<Utc>, id: WorkerId) {
        let Some(worker) = self.workers.get_mut(&id) else {
            return;
        };
        worker.lost_at = None;
        let running: Vec<AttemptId> = worker.running.keys().copied().collect();
        for attempt in running {
            self.attempt_lost(now, attempt);
        }
    }

    fn attempt_lost(&mut self, now: DateTime<Utc>, attempt_id: AttemptId) {
        let Some(attempt) = self.end_attempt(attempt_id, AttemptState::Lost, None, now) else {
            return;
        };
        let instance = attempt.instance;
        if self.current_attempts.contains_key(&instance) {
            // Other attempts of a broadcast still run: this one counts as failed.
            let why = format!("attempt {attempt_id} was lost with its worker");
            self.broadcast_failures
                .entry(instance)
                .or_insert((attempt, why));
            return;
        }
        if let Some((failed, why)) = self.broadcast_failures.remove(&instance) {
            let cancelled = self
                .instances
                .get(&instance)
                .is_some_and(|r| r.cancel_requested);
            if !cancelled {
                self.attempt_failed(now, instance, &failed, &why);
                return;
            }
        }
        let Some(record) = self.instances.get_mut(&instance) else {
            return;
        };
        record.lost_attempts += 1;
        if record.cancel_requested {
            self.set_state(
                now,
                instance,
                InstanceState::Cancelled,
                Some("cancelled by a user".to_owned()),
            );
        } else if record.lost_attempts <= self.config.lost_retry_cap {
            record.next_trigger = TriggerKind::Retry;
            let reason = format!("attempt {attempt_id} was lost with its worker; retrying");
            self.set_state(now, instance, InstanceState::Queued, Some(reason));
        } else {
            let reason = format!(
                "attempt {attempt_id} was lost with its worker; {} lost attempts, no retry left",
                record.lost_attempts
            );
            self.set_state(now, instance, InstanceState::Failed, Some(reason));
        }
    }

    fn attempt_started(
        &mut self,
        now: DateTime<Utc>,
        worker: WorkerId,
        id: AttemptId,
        at: DateTime<Utc>,
    ) -> Handled {
        let Some(attempt) = self.attempts.get_mut(&id) else {
            return Handled::Ignored;
        };
        if attempt.worker != worker || attempt.state != AttemptState::Dispatched {
            return Handled::Ignored;
        }
        attempt.state = AttemptState::Running;
        attempt.started_at = Some(at);
        let attempt = attempt.clone();
        let instance_id = attempt.instance;
        if let Some(job) = self.jobs.get(&attempt.job) {
            // From the report's time, but never in the past of the engine's clock.
            if let Some(limit) = job.spec.timeout_secs {
                let deadline = at.max(now) + Duration::seconds(i64::from(limit));
                self.timeout_timers.insert((deadline, id));
            }
            if let Some(expected) = job.spec.expected_secs {
                let due = at.max(now) + Duration::seconds(i64::from(expected));
                self.overdue_timers.insert((due, id));
            }
        }
        self.effects.push_back(Effect::PersistAttempt(attempt));
        if let Some(record) = self.instances.get_mut(&instance_id)
            && record.started_at.is_none()
        {
            record.started_at = Some(at);
            self.effects
                .push_back(Effect::PersistInstance(record.clone()));
        }
        Handled::Done
    }

    fn attempt_finished(
        &mut self,
        now: DateTime<Utc>,
        worker: WorkerId,
        id: AttemptId,
        outcome: AttemptOutcome,
        exit_code: Option<i32>,
        at: DateTime<Utc>,
    ) -> Handled {
        if self
            .attempts
            .get(&id)
            .is_none_or(|attempt| attempt.worker != worker)
        {
            return Handled::Ignored;
        }
        let Some(record) = self.current_attempt_instance(id) else {
            return Handled::Ignored;
        };
        let cancel_requested = record.cancel_requested;
        let instance = record.id;
        let timed_out = self.timing_out.remove(&id);
        match outcome {
            AttemptOutcome::Cancelled if !cancel_requested && !timed_out => {
                // The worker killed it on its own (shutdown): handle like a lost attempt.
                self.attempt_lost(now, id);
                return Handled::Done;
            }
            _ => {}
        }
        let state = match outcome {
            AttemptOutcome::Succeeded => AttemptState::Success,
            AttemptOutcome::Failed => AttemptState::Failed,
            AttemptOutcome::Cancelled if timed_out && !cancel_requested => AttemptState::TimedOut,
            AttemptOutcome::Cancelled => AttemptState::Cancelled,
        };
        let Some(attempt) = self.end_attempt(id, state, exit_code, at) else {
            return Handled::Ignored;
        };
        let failure = (outcome != AttemptOutcome::Succeeded).then(|| {
            let why = if state == AttemptState::TimedOut {
                let limit = self
                    .jobs
                    .get(&attempt.job)
                    .and_then(|job| job.spec.timeout_secs)
                    .unwrap_or_default();
                format!("timed out after {limit} s")
            } else {
                exit_code.map_or_else(|| "no exit code".to_owned(), |c| format!("exit code {c}"))
            };
            (attempt, why)
        });
        if self.current_attempts.contains_key(&instance) {
            // A broadcast: the instance ends with its last attempt.
            if let Some(failure) = failure {
                self.broadcast_failures.entry(instance).or_insert(failure);
            }
            return Handled::Done;
        }
        let failure = self.last_of_broadcast(instance, failure);
        if cancel_requested {
            self.set_state(
                now,
                instance,
                InstanceState::Cancelled,
                Some("cancelled by a user".to_owned()),
            );
            return Handled::Done;
        }
        match failure {
            None => self.set_state(now, instance, InstanceState::Success, None),
            Some((attempt, why)) => self.attempt_failed(now, instance, &attempt, &why),
        }
        Handled::Done
    }

    /// A failed (or timed-out) attempt: a retry after the job's backoff, or the instance fails.
    fn attempt_failed(
        &mut self,
        now: DateTime<Utc>,
        instance: InstanceId,
        attempt: &AttemptRecord,
        why: &str,
    ) {
        let Some(job) = self.jobs.get(&attempt.job).map(|j| j.spec.clone()) else {
            let reason = format!("attempt {} failed ({why})", attempt.number);
            self.set_state(now, instance, InstanceState::Failed, Some(reason));
            return;
        };
        let record = self.instances.get_mut(&instance).expect("caller checked");
        record.failed_attempts += 1;
        if record.failed_attempts <= job.retry_count {
            let delay = retry_delay(&job, instance, record.failed_attempts);
            let retry_at = now + delay;
            record.retry_at = Some(retry_at);
            record.next_trigger = TriggerKind::Retry;
            let reason = format!(
                "attempt {} failed ({why}); retry {} of {} at {}",
                attempt.number,
                record.failed_attempts,
                job.retry_count,
                retry_at.to_rfc3339()
            );
            self.retry_timers.insert((retry_at, instance));
            self.set_state(now, instance, InstanceState::RetryWait, Some(reason));
        } else {
            let reason = format!("attempt {} failed ({why})", attempt.number);
            self.set_state(now, instance, InstanceState::Failed, Some(reason));
        }
    }

    fn current_attempt_instance(&self, attempt: AttemptId) -> Option<&InstanceRecord> {
        let instance = self.attempts.get(&attempt)?.instance;
        self.current_attempts
            .get(&instance)
            .is_some_and(|current| current.contains(&attempt))
            .then(|| &self.instances[&instance])
    }

    /// After the last attempt of an instance ended: the failure to handle, this attempt's or
    /// (for a broadcast) the first one of its other attempts.
    fn last_of_broadcast(
        &mut self,
        instance: InstanceId,
        failure: Option<(AttemptRecord, String)>,
    ) -> Option<(AttemptRecord, String)> {
        let earlier = self.broadcast_failures.remove(&instance);
        earlier.or(failure)
    }

    /// Moves an active attempt to a terminal state and frees its slot.
    fn end_attempt(
        &mut self,
        id: AttemptId,
        state: AttemptState,
        exit_code: Option<i32>,
        at: DateTime<Utc>,
    ) -> Option<AttemptRecord> {
        let mut attempt = self.attempts.remove(&id)?;
        debug_assert!(
            attempt.state.can_become(state),
            "attempt {id}: {} -> {state}",
            attempt.state
        );
        attempt.state = state;
        attempt.exit_code = exit_code;
        attempt.finished_at = Some(at);
        if let Some(worker) = self.workers.get_mut(&attempt.worker) {
            worker.running.remove(&id);
        }
        if let Some(current) = self.current_attempts.get_mut(&attempt.instance)
            && current.remove(&id)
            && current.is_empty()
        {
            self.current_attempts.remove(&attempt.instance);
        }
        self.effects
            .push_back(Effect::PersistAttempt(attempt.clone()));
        Some(attempt)
    }

    /// The one place instance states change.
    fn set_state(
        &mut self,
        now: DateTime<Utc>,
        id: InstanceId,
        state: InstanceState,
        reason: Option<String>,
    ) {
        let Some(record) = self.instances.get_mut(&id) else {
            return;
        };
        debug_assert!(
            record.state.can_become(state),
            "instance {id}: {} -> {state}",
            record.state
        );
        let from = record.state;
        record.state = state;
        record.reason = reason;
        if from == InstanceState::RetryWait
            && let Some(at) = record.retry_at.take()
        {
            self.retry_timers.remove(&(at, id));
        }
        if matches!(state, InstanceState::Queued | InstanceState::Waiting) {
            record.finished_at = None;
        }
        if from.is_terminal()
            && !state.is_terminal()
            && let Some(key) = self.terminal_keys.remove(&id)
        {
            self.terminal.remove(&(key, id));
        }
        if state == InstanceState::Waiting {
            self.waiting.insert((record.job, record.scheduled_at, id));
        }
        if state.is_terminal() {
            record.finished_at = Some(now);
            record.cancel_requested = false;
            if let Some(key) = self.terminal_keys.remove(&id) {
                self.terminal.remove(&(key, id));
            }
            let key = record.scheduled_at.max(now);
            self.terminal.insert((key, id));
            self.terminal_keys.insert(id, key);
            if state.releases_downstream() && releases_on_success(record.trigger) {
                self.pending_release.push_back(id);
            }
        }
        let job = record.job;
        let backfill = record.backfill;
        if from == InstanceState::Waiting {
            self.waiting.remove(&(job, record.scheduled_at, id));
        }
        self.effects
            .push_back(Effect::PersistInstance(record.clone()));
        if from == InstanceState::Queued {
            self.dequeue(id);
        }
        if state == InstanceState::Queued {
            self.enqueue(id);
        }
        match (is_active(from), is_active(state)) {
            (false, true) => {
                self.active_by_job.entry(job).or_default().insert(id);
                if let Some(run) = backfill.and_then(|b| self.backfills.get_mut(&b)) {
                    run.active.insert(id);
                }
            }
            (true, false) => {
                if let Some(b) = backfill
                    && let Some(run) = self.backfills.get_mut(&b)
                {
                    run.active.remove(&id);
                    self.pending_backfill.insert(b);
                }
                if let Some(active) = self.active_by_job.get_mut(&job) {
                    active.remove(&id);
                    if active.is_empty() {
                        self.active_by_job.remove(&job);
                    }
                }
                // Only the overlap policy `queue` makes instances wait for their own job.
                if self
                    .jobs
                    .get(&job)
                    .is_some_and(|j| j.spec.overlap == OverlapPolicy::Queue)
                {
                    self.pending_recheck.push_back(job);
                }
            }
            _ => {}
        }
        // A self-dependent job's next instance waits for this one to end.
        if state.is_terminal() && self.jobs.get(&job).is_some_and(|j| j.spec.self_dependent) {
            self.pending_recheck.push_back(job);
        }
    }

    fn enqueue(&mut self, id: InstanceId) {
        let record = &self.instances[&id];
        let priority = self
            .jobs
            .get(&record.job)
            .map_or(3, |job| job.spec.priority);
        self.queue_seq += 1;
        let key = (Reverse(priority), record.scheduled_at, self.queue_seq, id);
        self.queue.insert(key);
        self.queue_keys.insert(id, key);
    }

    fn dequeue(&mut self, id: InstanceId) {
        if let Some(key) = self.queue_keys.remove(&id) {
            self.queue.remove(&key);
        }
    }

    /// Gives queued instances to free worker slots of their host group, in queue order.
    ///
    /// Stops as soon as no connected worker has a free slot, so a long queue costs nothing per
    /// step while the cluster is full.
    fn dispatch(&mut self, now: DateTime<Utc>) {
        let mut free_slots: u32 = self
            .workers
            .values()
            .filter(|w| w.takes_work())
            .map(WorkerState::free)
            .sum();
        let mut cursor = self.queue.first().copied();
        while let Some(key) = cursor {
            if free_slots == 0 {
                break;
            }
            cursor = self
                .queue
                .range((std::ops::Bound::Excluded(key), std::ops::Bound::Unbounded))
                .next()
                .copied();
            let id = key.3;
            let record = &self.instances[&id];
            let Some(job) = self.jobs.get(&record.job) else {
                let reason = "the job was deleted".to_owned();
                self.set_state(now, id, InstanceState::Failed, Some(reason));
                continue;
            };
            let group = &job.spec.host_group;
            let weight = job.spec.slot_weight.max(1);
            let fits = |w: &WorkerState| w.takes_work() && &w.host_group == group;
            let targets: Vec<WorkerId> = if job.spec.broadcast {
                // Every worker of the group at once, or none: it waits until all have room.
                let group_workers: Vec<(WorkerId, u32)> = self
                    .workers
                    .iter()
                    .filter(|(_, w)| fits(w))
                    .map(|(wid, w)| (*wid, w.free()))
                    .collect();
                if group_workers.is_empty() || group_workers.iter().any(|(_, f)| *f < weight) {
                    continue;
                }
                group_workers.into_iter().map(|(wid, _)| wid).collect()
            } else {
                let worker = self
                    .workers
                    .iter()
                    .filter(|(_, w)| fits(w))
                    .map(|(wid, w)| (w.free(), *wid))
                    .filter(|(free, _)| *free >= weight)
                    // Most free slots first; the lowest id wins ties (deterministic).
                    .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
                // No worker of this group has room: the instance waits (why is answered on
                // demand); a lighter instance behind it may still fit.
                let Some((_, worker_id)) = worker else {
                    continue;
                };
                vec![worker_id]
            };
            free_slots = free_slots.saturating_sub(weight * targets.len() as u32);
            // Counted before the state change, so the persisted instance carries the count.
            let record = self.instances.get_mut(&id).expect("queued instances exist");
            let first = record.attempts + 1;
            record.attempts += targets.len() as u32;
            self.set_state(now, id, InstanceState::Running, None);
            for (number, worker_id) in (first..).zip(targets) {
                self.start_attempt(now, id, worker_id, weight, number);
            }
        }
    }

    /// Creates attempt `number` of a running instance on a worker and dispatches it.
    fn start_attempt(
        &mut self,
        now: DateTime<Utc>,
        id: InstanceId,
        worker_id: WorkerId,
        weight: u32,
        number: u32,
    ) {
        self.last_attempt_id += 1;
        let attempt_id = AttemptId(self.last_attempt_id);
        let record = &self.instances[&id];
        let attempt = AttemptRecord {
            id: attempt_id,
            instance: id,
            job: record.job,
            number,
            trigger: record.next_trigger,
            state: AttemptState::Dispatched,
            worker: worker_id,
            exit_code: None,
            created_at: now,
            started_at: None,
            finished_at: None,
        };
        let (job_version, scheduled_at) = (record.job_version, record.scheduled_at);
        let params = record.params.clone();
        self.workers
            .get_mut(&worker_id)
            .expect("chosen by dispatch")
            .running
            .insert(attempt_id, weight);
        self.attempts.insert(attempt_id, attempt.clone());
        self.current_attempts
            .entry(id)
            .or_default()
            .insert(attempt_id);
        self.effects
            .push_back(Effect::PersistAttempt(attempt.clone()));
        self.effects.push_back(Effect::Dispatch {
            attempt,
            job_version,
            scheduled_at,
            params,
        });
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        let horizon = now - self.config.retention;
        while let Some(&(at, id)) = self.terminal.first() {
            if at >= horizon {
                break;
            }
            self.terminal.pop_first();
            self.terminal_keys.remove(&id);
            if let Some(record) = self.instances.remove(&id) {
                self.by_job_time.remove(&(record.job, record.scheduled_at));
                if let Some(b) = record.backfill {
                    self.forget_backfill_member(b, id);
                }
            }
        }
    }

    /// Indexes an instance loaded from the store. A terminal one is kept at least until
    /// `keep_from` plus the retention.
    fn index_instance(&mut self, id: InstanceId, keep_from: DateTime<Utc>) {
        let record = self.instances[&id].clone();
        if let Some(b) = record.backfill
            && let Some(run) = self.backfills.get_mut(&b)
        {
            run.members.insert(id);
            if is_active(record.state) {
                run.active.insert(id);
            }
            if record.state == InstanceState::Waiting {
                run.ready
                    .insert(backfill::ready_key(run.spec.order, &record));
            }
        }
        self.by_job_time
            .insert((record.job, record.scheduled_at), record.id);
        if is_active(record.state) {
            self.active_by_job
                .entry(record.job)
                .or_default()
                .insert(record.id);
        }
        if record.state == InstanceState::Waiting {
            self.waiting
                .insert((record.job, record.scheduled_at, record.id));
        }
        match record.state {
            InstanceState::Queued => self.enqueue(record.id),
            InstanceState::RetryWait => {
                if let Some(at) = record.retry_at {
                    self.retry_timers.insert((at, record.id));
                }
            }
            state if state.is_terminal() => {
                let key = record
                    .scheduled_at
                    .max(record.finished_at.unwrap_or(record.scheduled_at))
                    .max(keep_from);
                self.terminal.insert((key, record.id));
                self.terminal_keys.insert(record.id, key);
            }
            _ => {}
        }
    }
}
