//! A deterministic simulation harness for the engine: fake time, fake workers that answer
//! dispatches after a scripted duration with a scripted outcome, and a rendered trace of what
//! happened. Time jumps straight to the next timer or worker report, so a simulated day takes
//! milliseconds.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, Utc};

use super::{Config, Effect, Engine, EngineError, Handled, Input, JobSpec};
use crate::{
    domain::{AttemptOutcome, InstanceState, MisfirePolicy, OverlapPolicy},
    ids::{InstanceId, JobId, WorkerId},
};

/// Chooses (run seconds, outcome) for an attempt of a job.
pub(super) type DecideOutcome = dyn FnMut(JobId) -> (i64, AttemptOutcome);

pub(super) struct Sim {
    pub(super) engine: Engine,
    start: DateTime<Utc>,
    pub(super) now: DateTime<Utc>,
    trace: Vec<String>,
    /// Per job: (run seconds, outcome) for successive attempts; default 10 s success.
    scripts: BTreeMap<JobId, VecDeque<(i64, AttemptOutcome)>>,
    /// Worker reports due later, in the order they were scheduled.
    pending: Vec<(DateTime<Utc>, Input)>,
    /// Workers that do not answer (simulating a hung or partitioned worker).
    silent: Vec<WorkerId>,
    last_state: BTreeMap<InstanceId, InstanceState>,
    /// Every effect with the time it was emitted, for invariant checks.
    pub(super) history: Vec<(DateTime<Utc>, Effect)>,
    /// The most slots each worker ever offered.
    pub(super) max_slots: BTreeMap<WorkerId, u32>,
    /// Decides (run seconds, outcome) of attempts of jobs without a script.
    pub(super) outcomes: Option<Box<DecideOutcome>>,
}

pub(super) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("valid RFC 3339")
        .with_timezone(&Utc)
}

/// The state of job `job`'s instance at business time `at_text`, if the engine holds one.
pub(super) fn state_at(sim: &Sim, job: i64, at_text: &str) -> Option<InstanceState> {
    let id = sim.engine.by_job_time.get(&(JobId(job), at(at_text)))?;
    Some(sim.engine.instance(*id)?.state)
}

pub(super) fn job(id: i64, cron: Option<&str>, deps: &[i64]) -> JobSpec {
    JobSpec {
        id: JobId(id),
        version: 1,
        cron: cron.map(str::to_owned),
        timezone: "UTC".to_owned(),
        dependencies: deps.iter().map(|d| JobId(*d)).collect(),
        windows: BTreeMap::new(),
        on_skip: BTreeMap::new(),
        self_dependent: false,
        calendar: None,
        calendar_mode: crate::domain::CalendarMode::Ignore,
        paused_since: None,
        host_group: "default".to_owned(),
        retry_count: 0,
        retry_delay_secs: 0,
        retry_backoff: crate::domain::RetryBackoff::Fixed,
        retry_max_delay_secs: 3600,
        timeout_secs: None,
        expected_secs: None,
        enabled: true,
        priority: 3,
        overlap: OverlapPolicy::Allow,
        misfire: MisfirePolicy::FireOnceNow,
        slot_weight: 1,
        broadcast: false,
        schedule_from: DateTime::<Utc>::MIN_UTC,
    }
}

impl Sim {
    pub(super) fn new(start: &str) -> Self {
        Self::with_engine(start, |_| Engine::new(Config::default()))
    }

    pub(super) fn with_engine(start: &str, make: impl FnOnce(DateTime<Utc>) -> Engine) -> Self {
        let start = at(start);
        Sim {
            engine: make(start),
            start,
            now: start,
            trace: Vec::new(),
            scripts: BTreeMap::new(),
            pending: Vec::new(),
            silent: Vec::new(),
            last_state: BTreeMap::new(),
            history: Vec::new(),
            max_slots: BTreeMap::new(),
            outcomes: None,
        }
    }

    pub(super) fn script(&mut self, job: i64, steps: &[(i64, AttemptOutcome)]) {
        self.scripts
            .insert(JobId(job), steps.iter().copied().collect());
    }

    pub(super) fn silence(&mut self, worker: i64) {
        self.silent.push(WorkerId(worker));
    }

    pub(super) fn add_job(&mut self, spec: JobSpec) {
        self.input(Input::JobUpserted(spec))
            .expect("job upsert never fails");
    }

    pub(super) fn add_worker(&mut self, id: i64, group: &str, slots: u32) {
        let input = Input::WorkerConnected {
            worker: WorkerId(id),
            host_group: group.to_owned(),
            slots,
            known_attempts: vec![],
        };
        self.input(input).expect("connect never fails");
    }

    pub(super) fn input(&mut self, input: Input) -> Result<Handled, EngineError> {
        if let Input::WorkerConnected { worker, slots, .. } = &input {
            let max = self.max_slots.entry(*worker).or_default();
            *max = (*max).max(*slots);
        }
        let res = self.engine.handle(self.now, input);
        self.drain();
        res
    }

    /// Runs until `until` (RFC 3339), processing timers and worker reports in time order.
    pub(super) fn run_until(&mut self, until: &str) {
        let until = at(until);
        for _ in 0..100_000 {
            let next_report = self.pending.iter().map(|p| p.0).min();
            // A deadline already passed (after a recovery) is handled now.
            let next = [self.engine.poll_timeout(), next_report]
                .into_iter()
                .flatten()
                .min()
                .map(|t| t.max(self.now));
            let Some(next) = next.filter(|t| *t <= until) else {
                self.now = until;
                return;
            };
            assert!(
                next >= self.now,
                "time went backwards: {next} < {}",
                self.now
            );
            self.now = next;
            while let Some(idx) = self.pending.iter().position(|p| p.0 <= self.now) {
                let (_, input) = self.pending.remove(idx);
                self.engine
                    .handle(self.now, input)
                    .expect("worker reports never fail");
                self.drain();
            }
            self.engine.handle_timeout(self.now);
            self.drain();
        }
        panic!("livelock: the simulation did not settle");
    }

    fn log(&mut self, line: String) {
        let offset = self.now - self.start;
        let secs = offset.num_seconds();
        let stamp = format!("+{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
        self.trace.push(format!("{stamp} {line}"));
    }

    fn drain(&mut self) {
        while let Some(effect) = self.engine.poll_effect() {
            self.history.push((self.now, effect.clone()));
            match effect {
                Effect::PersistInstance(record) => {
                    if self.last_state.insert(record.id, record.state) != Some(record.state) {
                        let when = record.scheduled_at.format("%m-%d %H:%M:%S");
                        let reason = record.reason.map(|r| format!(" ({r})")).unwrap_or_default();
                        let line = format!(
                            "instance {} job {} @{when} {}{reason}",
                            record.id, record.job, record.state
                        );
                        self.log(line);
                    }
                }
                Effect::PersistAttempt(attempt) => {
                    if attempt.state.is_terminal() {
                        let code = attempt
                            .exit_code
                            .map(|c| format!(" exit {c}"))
                            .unwrap_or_default();
                        let line = format!("attempt {} {}{code}", attempt.id, attempt.state);
                        self.log(line);
                    }
                }
                Effect::Dispatch { attempt, .. } => {
                    let line = format!(
                        "dispatch attempt {} (#{} {}) of instance {} to worker {}",
                        attempt.id,
                        attempt.number,
                        attempt.trigger,
                        attempt.instance,
                        attempt.worker
                    );
                    self.log(line);
                    if self.silent.contains(&attempt.worker) {
                        continue;
                    }
                    let (secs, outcome) = self
                        .scripts
                        .get_mut(&attempt.job)
                        .and_then(VecDeque::pop_front)
                        .or_else(|| self.outcomes.as_mut().map(|decide| decide(attempt.job)))
                        .unwrap_or((10, AttemptOutcome::Succeeded));
                    let started = Input::AttemptStarted {
                        worker: attempt.worker,
                        attempt: attempt.id,
                        at: self.now,
                    };
                    let end = self.now + Duration::seconds(secs);
                    let exit_code = Some(if outcome == AttemptOutcome::Succeeded {
                        0
                    } else {
                        1
                    });
                    let finished = Input::AttemptFinished {
                        worker: attempt.worker,
                        attempt: attempt.id,
                        outcome,
                        exit_code,
                        at: end,
                    };
                    self.pending.push((self.now, started));
                    self.pending.push((end, finished));
                }
                Effect::Overdue {
                    attempt,
                    expected_secs,
                } => {
                    let line = format!(
                        "attempt {} overdue (expected {expected_secs} s)",
                        attempt.id
                    );
                    self.log(line);
                }
                Effect::Cancel {
                    worker, attempt, ..
                } => {
                    self.log(format!("cancel attempt {attempt} on worker {worker}"));
                    // The fake worker kills the process at once: its report replaces the scripted one.
                    self.pending.retain(|(_, input)| {
                        !matches!(input, Input::AttemptFinished { attempt: a, .. } if *a == attempt)
                    });
                    let finished = Input::AttemptFinished {
                        worker,
                        attempt,
                        outcome: AttemptOutcome::Cancelled,
                        exit_code: None,
                        at: self.now,
                    };
                    self.pending.push((self.now, finished));
                }
            }
        }
    }

    /// The attempts the engine believes run on `worker`.
    pub(super) fn running_on(&self, worker: WorkerId) -> Vec<crate::ids::AttemptId> {
        self.engine
            .workers
            .get(&worker)
            .map(|w| w.running.keys().copied().collect())
            .unwrap_or_default()
    }

    /// The trace so far, one event per line, and clears it.
    pub(super) fn take_trace(&mut self) -> String {
        let out = self.trace.join("\n");
        self.trace.clear();
        out
    }
}

/// Compares a trace with the expected text, ignoring indentation, so scenarios read as tables.
pub(super) fn check(sim: &mut Sim, expected: &str) {
    let actual = sim.take_trace();
    let expected: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let expected = expected.join("\n");
    assert!(
        actual == expected,
        "trace differs\n--- expected\n{expected}\n--- actual\n{actual}\n"
    );
}
