//! Domain vocabulary: job types, trigger kinds, instance and attempt states, and the one table of
//! allowed state transitions that the engine asserts against.
//!
//! Instance lifecycle:
//!
//! ```text
//!  waiting ──deps met──► queued ──slot──► running ──ok──► success
//!     │                    ▲               │ fail ├─────► failed   (no retries left)
//!     │                    └── retry_wait ◄┘      └─────► cancelled (cancel requested)
//!     ├────────────── cancel (from waiting / queued / retry_wait) ──► cancelled
//!     └────────────── missed slot / overlap policy `skip` ──────────► skipped
//! ```
//!
//! A manual rerun of a finished instance goes back to `queued` with a new attempt.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The snake_case text used in JSON and in database columns.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }
    };
}

/// A text that names no value of an enum (from a database column or user input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownValue {
    /// The enum's name.
    pub kind: &'static str,
    /// The text that was given.
    pub value: String,
}

text_enum!(
    /// What a job runs.
    JobType {
        /// A bash script.
        Shell => "shell",
        /// A Python script, run by the worker's configured interpreter.
        Python => "python",
        /// A Hive script (`hive -f`, or the worker's configured command such as beeline).
        Hive => "hive",
        /// A Spark SQL script (`spark-sql <hera.spark.conf> -f`).
        SparkSql => "spark_sql",
        /// The arguments of a `spark-submit` (`spark-submit <hera.spark.conf> <script>`).
        SparkSubmit => "spark_submit",
        /// An HTTP request: `METHOD URL`, header lines, a blank line, the body.
        Http => "http",
        /// SQL statements run against the PostgreSQL or MySQL database whose URL is the secret
        /// named by the `hera.sql.datasource` config.
        Sql => "sql",
    }
);

text_enum!(
    /// How an attempt was started.
    TriggerKind {
        /// By the job's cron schedule (or its dependencies' readiness).
        Scheduled => "scheduled",
        /// By a user, for this instance only: downstream is not released.
        Manual => "manual",
        /// By a user: rerun, and on success release downstream as a scheduled success would.
        Recover => "recover",
        /// By a user: rerun this instance and its whole downstream closure, each once, in
        /// dependency order (the original's super recovery).
        Cascade => "cascade",
        /// Automatic retry after a failed or lost attempt.
        Retry => "retry",
        /// By an API caller.
        Api => "api",
        /// By a backfill: rerun or create historical instances; releases downstream.
        Backfill => "backfill",
    }
);

text_enum!(
    /// The state of an instance.
    InstanceState {
        /// Created; waits for its upstream instances.
        Waiting => "waiting",
        /// Ready to run; waits for a free worker slot.
        Queued => "queued",
        /// An attempt is dispatched to or running on a worker.
        Running => "running",
        /// The last attempt failed; a retry is due after the retry delay.
        RetryWait => "retry_wait",
        /// The last attempt succeeded.
        Success => "success",
        /// The last attempt failed and no retries are left.
        Failed => "failed",
        /// Cancelled by a user.
        Cancelled => "cancelled",
        /// Not run: a missed slot, or an overlap the job's policy skips. Downstream treats it as
        /// done.
        Skipped => "skipped",
    }
);

text_enum!(
    /// Which instances of an upstream job an instance waits for, relative to its business time
    /// in its own time zone.
    DependencyWindow {
        /// Every upstream instance of the same business day (daily on daily, hourly on daily,
        /// daily on hourly: all 24).
        SameDay => "same_day",
        /// Only the upstream's last instance of the same business day (daily on hourly: the 23:00
        /// run).
        LastOfDay => "last_of_day",
        /// Every upstream instance of the previous business day (T−1).
        PreviousDay => "previous_day",
        /// Every upstream instance of the same hour (hourly on hourly).
        SameHour => "same_hour",
    }
);

text_enum!(
    /// What happens to cron slots missed while the scheduler was down or stalled.
    MisfirePolicy {
        /// Run the latest missed slot once; record the older ones as skipped.
        FireOnceNow => "fire_once_now",
        /// Run none of them; record them as skipped.
        Skip => "skip",
        /// Run every missed slot, oldest first, up to the catch-up cap; record the rest as skipped.
        CatchUp => "catch_up",
    }
);

text_enum!(
    /// What happens when a scheduled instance is ready while an earlier one of the same job is
    /// still queued or running.
    OverlapPolicy {
        /// Run both at once.
        Allow => "allow",
        /// Do not run the new one; record it as skipped.
        Skip => "skip",
        /// Run the new one after the earlier one ends (the original hera's "repeat run" off).
        Queue => "queue",
    }
);

text_enum!(
    /// How the delay before a retry grows.
    RetryBackoff {
        /// The same delay before every retry.
        Fixed => "fixed",
        /// The delay doubles with each retry (with ±20 % jitter), up to the maximum delay.
        Exponential => "exponential",
    }
);

text_enum!(
    /// What a skipped upstream instance means for the downstream instances of an edge.
    OnSkip {
        /// The downstream treats it as done and runs.
        Done => "done",
        /// The downstream instance is skipped too (and so on down the chain, per edge).
        Propagate => "propagate",
    }
);

text_enum!(
    /// Whether a job's cron slots are filtered by its business calendar.
    CalendarMode {
        /// Every cron slot runs.
        Ignore => "ignore",
        /// Only slots on working days run.
        WorkingDays => "working_days",
        /// Only slots on non-working days (weekends, holidays) run.
        NonWorkingDays => "non_working_days",
    }
);

text_enum!(
    /// An exception a business calendar makes to its weekly rule.
    DayKind {
        /// A non-working day that would be a working day (a public holiday).
        Holiday => "holiday",
        /// A working day that would be a weekend day (a make-up working day).
        Workday => "workday",
    }
);

text_enum!(
    /// Which instances of a backfill start first when it is throttled by its parallelism.
    BackfillOrder {
        /// The oldest business time first.
        OldestFirst => "oldest_first",
        /// The newest business time first.
        NewestFirst => "newest_first",
    }
);

text_enum!(
    /// Which job version the instances of a backfill run.
    BackfillVersion {
        /// The job's current version.
        Latest => "latest",
        /// The version an existing instance pinned; for a new instance, the version that was
        /// current at its business time.
        Pinned => "pinned",
    }
);

text_enum!(
    /// The state of a backfill.
    BackfillState {
        /// Its instances are being run.
        Running => "running",
        /// No new instance of it starts until it is resumed.
        Paused => "paused",
        /// Cancelled by a user: its unfinished instances were cancelled.
        Cancelled => "cancelled",
        /// Every instance of it has ended.
        Finished => "finished",
    }
);

text_enum!(
    /// The state of an attempt.
    AttemptState {
        /// Sent to a worker, not yet reported as started.
        Dispatched => "dispatched",
        /// The worker reported that the process started.
        Running => "running",
        /// The process exited with code 0.
        Success => "success",
        /// The process exited non-zero, or could not start.
        Failed => "failed",
        /// Killed on a user's request.
        Cancelled => "cancelled",
        /// The worker was lost while the attempt ran.
        Lost => "lost",
        /// Killed because it ran longer than the job's timeout.
        TimedOut => "timed_out",
    }
);

text_enum!(
    /// Whether a user account may sign in.
    AccountStatus {
        /// Signs in normally.
        Active => "active",
        /// Registered by its user; waits for an administrator's approval.
        Pending => "pending",
        /// Turned off by an administrator: no sign-in, and its sessions stop working.
        Disabled => "disabled",
    }
);

/// The shortest password accepted.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// The longest password accepted (hashing cost stays bounded).
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Why `name` cannot be a user name, or `None` if it can: 2–64 ASCII letters, digits, `.`, `_`
/// or `-`.
pub fn username_problem(name: &str) -> Option<&'static str> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !(2..=64).contains(&name.chars().count()) || !valid_chars {
        return Some("use 2 to 64 letters, digits, `.`, `_` or `-`");
    }
    None
}

/// Why `password` cannot be a password, or `None` if it can: 8 to 256 characters.
pub fn password_problem(password: &str) -> Option<&'static str> {
    let n_chars = password.chars().count();
    if n_chars < PASSWORD_MIN_CHARS {
        return Some("must be at least 8 characters long");
    }
    if n_chars > PASSWORD_MAX_CHARS {
        return Some("must be at most 256 characters long");
    }
    None
}

impl InstanceState {
    /// Whether the state is final (until a user reruns the instance).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Success | Self::Failed | Self::Cancelled | Self::Skipped
        )
    }

    /// Whether downstream instances may go on (success, or deliberately skipped).
    pub fn releases_downstream(self) -> bool {
        matches!(self, Self::Success | Self::Skipped)
    }

    /// The allowed transitions, written down once. The engine asserts every change against this.
    pub fn can_become(self, next: Self) -> bool {
        use InstanceState::*;
        match (self, next) {
            (Waiting, Queued | Cancelled | Skipped) => true,
            (Queued, Running | Cancelled) => true,
            (Running, Success | Failed | Cancelled | RetryWait | Queued) => true,
            (RetryWait, Queued | Cancelled) => true,
            // A user rerun (manual, recover, cascade) of a finished instance; a cascade puts the
            // finished downstream instances back to waiting.
            (Success | Failed | Cancelled | Skipped, Queued | Waiting) => true,
            // A user forces the status of an instance that is not running.
            (
                Waiting | Queued | RetryWait | Success | Failed | Cancelled | Skipped,
                Success | Failed | Skipped,
            ) => self != next,
            _ => false,
        }
    }
}

impl AttemptState {
    /// Whether the attempt is over.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Dispatched | Self::Running)
    }

    /// The allowed transitions, written down once. The engine asserts every change against this.
    pub fn can_become(self, next: Self) -> bool {
        use AttemptState::*;
        matches!(
            (self, next),
            (
                Dispatched,
                Running | Success | Failed | Cancelled | Lost | TimedOut
            ) | (Running, Success | Failed | Cancelled | Lost | TimedOut)
        )
    }
}

/// How an attempt ended, as reported by the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Exit code 0.
    Succeeded,
    /// A non-zero exit, a signal, or a failure to start.
    Failed,
    /// Killed because a cancel was requested.
    Cancelled,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for state in InstanceState::ALL {
            assert_eq!(state.as_str().parse::<InstanceState>().unwrap(), *state);
        }
        for state in AttemptState::ALL {
            assert_eq!(state.as_str().parse::<AttemptState>().unwrap(), *state);
        }
        let err = "bogus".parse::<TriggerKind>().unwrap_err();
        assert_eq!(err.to_string(), "unknown TriggerKind `bogus`");
    }

    #[test]
    fn user_names_and_passwords_follow_the_rule() {
        for good in ["ann", "a1", "j.doe-2_x", &"x".repeat(64)] {
            assert_eq!(username_problem(good), None, "{good}");
        }
        for bad in ["", "a", "ann smith", "ann@corp", "名字", &"x".repeat(65)] {
            assert!(username_problem(bad).is_some(), "{bad}");
        }
        assert!(password_problem("1234567").is_some());
        assert_eq!(password_problem("12345678"), None);
        assert_eq!(
            password_problem("密码密码密码密码"),
            None,
            "characters, not bytes"
        );
        assert!(password_problem(&"p".repeat(257)).is_some());
        for status in AccountStatus::ALL {
            assert_eq!(status.as_str().parse::<AccountStatus>().unwrap(), *status);
        }
    }

    #[test]
    fn terminal_states_only_leave_by_rerun_or_forcing() {
        use InstanceState::*;
        for from in InstanceState::ALL.iter().filter(|s| s.is_terminal()) {
            for to in InstanceState::ALL {
                let forced = matches!(to, Success | Failed | Skipped) && to != from;
                let rerun = matches!(to, Queued | Waiting);
                assert_eq!(from.can_become(*to), rerun || forced, "{from} -> {to}");
            }
        }
        assert!(
            !Running.can_become(Skipped),
            "a running instance is cancelled, not forced"
        );
        for from in AttemptState::ALL.iter().filter(|s| s.is_terminal()) {
            assert!(AttemptState::ALL.iter().all(|to| !from.can_become(*to)));
        }
    }
}
