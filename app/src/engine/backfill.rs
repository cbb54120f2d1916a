//! Backfills: rerun (or create) the instances of a job — and optionally of its downstream closure —
//! over a range of business times.
//!
//! A backfill starts by putting every one of its instances back to `waiting` at once (finished
//! ones are rerun, missing ones created; active ones are left alone), so that a downstream
//! instance of the backfill sees its upstream's backfilled instance of the same window as not
//! done and waits for it. Instances whose dependencies are met do not queue directly: they wait
//! in the backfill's ready set and are promoted, in the backfill's order, while fewer than its
//! parallelism are active and it is not paused.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};

use super::{
    Effect, Engine, EngineError, Handled, InstanceRecord,
    deps::{Blocker, business_day},
};
use crate::{
    domain::{BackfillOrder, InstanceState, TriggerKind},
    ids::{BackfillId, InstanceId, JobId},
};

/// A backfill as the engine needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackfillSpec {
    /// Its id (allocated by the store).
    pub id: BackfillId,
    /// At most this many of its instances are queued or running at once.
    pub parallelism: u32,
    /// Which ready instance starts first.
    pub order: BackfillOrder,
    /// No instance of it starts while paused.
    pub paused: bool,
}

/// One (job, business time) of a backfill, with the job version to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackfillItem {
    /// The job.
    pub job: JobId,
    /// The business time.
    pub at: DateTime<Utc>,
    /// The job version its attempts run.
    pub version: i64,
}

/// What to do with a backfill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackfillAction {
    /// Put these instances back to waiting (creating missing ones) and run them.
    Start(Vec<BackfillItem>),
    /// Start no more of its instances (running ones finish).
    Pause,
    /// Start its instances again.
    Resume,
    /// Cancel its unfinished instances.
    Cancel,
    /// Run its failed and cancelled instances again.
    RerunFailed,
}

/// Which business times a backfill plan covers for the job it starts from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanTimes {
    /// The job's slots on these business dates (inclusive, in the job's zone).
    Dates {
        /// First date.
        start: NaiveDate,
        /// Last date.
        end: NaiveDate,
    },
    /// Exactly these business times.
    Times(Vec<DateTime<Utc>>),
}

/// Order of the ready set: business time (negated for newest first), then id.
type ReadyKey = (i64, InstanceId);

pub(super) fn ready_key(order: BackfillOrder, record: &InstanceRecord) -> ReadyKey {
    let at = record.scheduled_at.timestamp();
    match order {
        BackfillOrder::OldestFirst => (at, record.id),
        BackfillOrder::NewestFirst => (-at, record.id),
    }
}

/// A backfill's state in the engine.
pub(super) struct BackfillRun {
    pub(super) spec: BackfillSpec,
    pub(super) members: BTreeSet<InstanceId>,
    /// Members queued, running or waiting to retry.
    pub(super) active: BTreeSet<InstanceId>,
    /// Members whose dependencies were met, waiting for their turn.
    pub(super) ready: BTreeSet<ReadyKey>,
}

/// The most instances one backfill may cover.
pub const MAX_BACKFILL_ITEMS: usize = 10_000;

impl Engine {
    pub(super) fn ensure_backfill(&mut self, spec: &BackfillSpec) {
        match self.backfills.get_mut(&spec.id) {
            Some(run) => run.spec = spec.clone(),
            None => {
                // A backfill the engine forgot (its instances aged out) or never had: its members
                // are whatever instances of it the engine holds (adopted from the store).
                let mut run = BackfillRun {
                    spec: spec.clone(),
                    members: BTreeSet::new(),
                    active: BTreeSet::new(),
                    ready: BTreeSet::new(),
                };
                for record in self.instances.values() {
                    if record.backfill == Some(spec.id) {
                        run.members.insert(record.id);
                        if super::is_active(record.state) {
                            run.active.insert(record.id);
                        }
                    }
                }
                self.backfills.insert(spec.id, run);
            }
        }
    }

    pub(super) fn forget_backfill_member(&mut self, backfill: BackfillId, id: InstanceId) {
        if let Some(run) = self.backfills.get_mut(&backfill) {
            run.members.remove(&id);
            run.active.remove(&id);
            if run.members.is_empty() {
                self.backfills.remove(&backfill);
            }
        }
    }

    fn turn_reason(run: &BackfillRun) -> String {
        if run.spec.paused {
            format!("backfill {} is paused", run.spec.id)
        } else {
            format!(
                "backfill {}: waiting for its turn ({} at once)",
                run.spec.id, run.spec.parallelism
            )
        }
    }

    /// A waiting backfill instance whose dependencies are met: it waits for its turn.
    pub(super) fn hold_for_backfill(&mut self, now: DateTime<Utc>, id: InstanceId) {
        let record = &self.instances[&id];
        let Some(run) = record.backfill.and_then(|b| self.backfills.get_mut(&b)) else {
            // The backfill is no longer tracked (it was forgotten): run it like any other.
            self.set_state(now, id, InstanceState::Queued, None);
            return;
        };
        run.ready.insert(ready_key(run.spec.order, record));
        self.pending_backfill.insert(run.spec.id);
        let reason = Self::turn_reason(run);
        self.set_waiting_reason(id, reason);
    }

    /// Updates the reason of a waiting instance, persisting it only when it changed.
    fn set_waiting_reason(&mut self, id: InstanceId, reason: String) {
        let record = self.instances.get_mut(&id).expect("caller checked");
        if record.reason.as_ref() != Some(&reason) {
            record.reason = Some(reason);
            self.effects
                .push_back(Effect::PersistInstance(record.clone()));
        }
    }

    /// Queues ready instances of a backfill while it has room.
    pub(super) fn promote(&mut self, now: DateTime<Utc>, backfill: BackfillId) {
        loop {
            let Some(run) = self.backfills.get_mut(&backfill) else {
                return;
            };
            if run.spec.paused || run.active.len() >= run.spec.parallelism.max(1) as usize {
                return;
            }
            let Some((_, id)) = run.ready.pop_first() else {
                return;
            };
            let Some(record) = self.instances.get(&id) else {
                continue;
            };
            if record.state != InstanceState::Waiting || record.backfill != Some(backfill) {
                continue;
            }
            match self.blocker(record) {
                None => self.set_state(now, id, InstanceState::Queued, None),
                Some(Blocker::Skip(reason)) => {
                    self.set_state(now, id, InstanceState::Skipped, Some(reason))
                }
                // It comes back when what it waits for changes.
                Some(Blocker::Wait(reason)) => self.set_waiting_reason(id, reason),
            }
        }
    }

    /// Takes in instances loaded from the store that the engine does not hold.
    pub(super) fn adopt(&mut self, now: DateTime<Utc>, records: Vec<InstanceRecord>) {
        for record in records {
            if self.instances.contains_key(&record.id)
                || self
                    .by_job_time
                    .contains_key(&(record.job, record.scheduled_at))
            {
                continue;
            }
            let id = record.id;
            self.last_instance_id = self.last_instance_id.max(id.0);
            self.instances.insert(id, record);
            self.index_instance(id, now);
        }
    }

    pub(super) fn backfill(
        &mut self,
        now: DateTime<Utc>,
        spec: &BackfillSpec,
        action: BackfillAction,
    ) -> Result<Handled, EngineError> {
        self.ensure_backfill(spec);
        let id = spec.id;
        match action {
            BackfillAction::Start(items) => {
                let reason = format!("backfill {id}: waiting for upstream instances");
                let mut members = Vec::new();
                for item in items {
                    if !self.jobs.contains_key(&item.job) {
                        continue;
                    }
                    let instance = match self.by_job_time.get(&(item.job, item.at)).copied() {
                        // Active instances are left alone.
                        Some(existing) if !self.instances[&existing].state.is_terminal() => {
                            continue;
                        }
                        Some(existing) => {
                            let record = self.instances.get_mut(&existing).expect("indexed");
                            record.job_version = item.version;
                            record.backfill = Some(id);
                            self.reset_for_backfill(now, existing, &reason);
                            existing
                        }
                        None => {
                            let mut record =
                                self.new_record(now, item.job, item.at, TriggerKind::Backfill);
                            record.job_version = item.version;
                            record.backfill = Some(id);
                            record.reason = Some(reason.clone());
                            let instance = record.id;
                            self.by_job_time.insert((item.job, item.at), instance);
                            self.waiting.insert((item.job, item.at, instance));
                            self.effects
                                .push_back(Effect::PersistInstance(record.clone()));
                            self.instances.insert(instance, record);
                            instance
                        }
                    };
                    members.push(instance);
                }
                if members.is_empty() {
                    self.backfills.remove(&id);
                    return Err(EngineError::BadRequest(
                        "the backfill has no instance to run (all are active or their jobs are gone)"
                            .to_owned(),
                    ));
                }
                let run = self.backfills.get_mut(&id).expect("ensured above");
                run.members.extend(members.iter().copied());
                // Only after all are waiting: none may see a not-yet-reset upstream as done.
                for instance in members {
                    self.admit(now, instance, true, false);
                }
            }
            BackfillAction::Pause | BackfillAction::Resume => {
                let run = &self.backfills[&id];
                let reason = Self::turn_reason(run);
                let ready: Vec<InstanceId> = run.ready.iter().map(|k| k.1).collect();
                for instance in ready {
                    if self
                        .instances
                        .get(&instance)
                        .is_some_and(|r| r.state == InstanceState::Waiting)
                    {
                        self.set_waiting_reason(instance, reason.clone());
                    }
                }
                self.pending_backfill.insert(id);
            }
            BackfillAction::Cancel => {
                let run = self.backfills.get_mut(&id).expect("ensured above");
                run.ready.clear();
                let members: Vec<InstanceId> = run.members.iter().copied().collect();
                for instance in members {
                    match self.instances.get(&instance).map(|r| r.state) {
                        Some(InstanceState::Running) => {
                            self.cancel(now, instance)?;
                        }
                        Some(state) if !state.is_terminal() => {
                            let reason = Some(format!("backfill {id} was cancelled"));
                            self.set_state(now, instance, InstanceState::Cancelled, reason);
                        }
                        _ => {}
                    }
                }
            }
            BackfillAction::RerunFailed => {
                let reason = format!("backfill {id}: rerun of the failed ones");
                let failed: Vec<InstanceId> = self.backfills[&id]
                    .members
                    .iter()
                    .copied()
                    .filter(|m| {
                        self.instances.get(m).is_some_and(|r| {
                            matches!(r.state, InstanceState::Failed | InstanceState::Cancelled)
                        })
                    })
                    .collect();
                if failed.is_empty() {
                    return Err(EngineError::BadRequest(
                        "no instance of this backfill failed or was cancelled".to_owned(),
                    ));
                }
                for instance in &failed {
                    self.reset_for_backfill(now, *instance, &reason);
                }
                for instance in failed {
                    self.admit(now, instance, true, false);
                }
            }
        }
        Ok(Handled::Done)
    }

    /// Puts a finished instance back to waiting as a backfill instance.
    fn reset_for_backfill(&mut self, now: DateTime<Utc>, id: InstanceId, reason: &str) {
        let record = self.instances.get_mut(&id).expect("caller checked");
        record.trigger = TriggerKind::Backfill;
        record.next_trigger = TriggerKind::Backfill;
        record.failed_attempts = 0;
        record.lost_attempts = 0;
        record.cancel_requested = false;
        self.set_state(now, id, InstanceState::Waiting, Some(reason.to_owned()));
    }

    /// The (job, business time) pairs a backfill would run: `job`'s slots in `times`, then, with
    /// `include_downstream`, the slots of each downstream job whose windows contain a planned
    /// upstream instance, jobs in dependency order, each job's times ascending.
    pub fn plan_backfill(
        &self,
        job: JobId,
        include_downstream: bool,
        times: &PlanTimes,
    ) -> Result<Vec<(JobId, DateTime<Utc>)>, EngineError> {
        if !self.jobs.contains_key(&job) {
            return Err(EngineError::UnknownJob(job));
        }
        let too_many = || {
            EngineError::BadRequest(format!(
                "the backfill would run more than {MAX_BACKFILL_ITEMS} instances; choose a shorter range"
            ))
        };
        let order = self.dependency_order(job, include_downstream);
        let mut planned: BTreeMap<JobId, BTreeSet<DateTime<Utc>>> = BTreeMap::new();
        let root_times: BTreeSet<DateTime<Utc>> = match times {
            PlanTimes::Times(list) => {
                if list.is_empty() {
                    return Err(EngineError::BadRequest("no business time given".to_owned()));
                }
                list.iter()
                    .map(|t| t.duration_trunc(Duration::seconds(1)).unwrap_or(*t))
                    .collect()
            }
            PlanTimes::Dates { start, end } => {
                if end < start {
                    return Err(EngineError::BadRequest(
                        "the end date is before the start date".to_owned(),
                    ));
                }
                let zone = self.zone_of(job);
                let (_, from, _) = business_day(zone, super::deps::local_midnight(zone, *start));
                let (_, _, to) = business_day(zone, super::deps::local_midnight(zone, *end));
                if self.jobs[&job].schedule.is_some() {
                    self.slots_in(job, from, to, MAX_BACKFILL_ITEMS)
                        .ok_or_else(too_many)?
                        .into_iter()
                        .collect()
                } else {
                    let mut out = BTreeSet::new();
                    let mut day = from;
                    while day < to {
                        if out.len() >= MAX_BACKFILL_ITEMS {
                            return Err(too_many());
                        }
                        if self.runs_on(job, day) {
                            out.insert(self.dependency_only_time(job, day, &planned));
                        }
                        let (_, _, next) = business_day(zone, day);
                        day = next;
                    }
                    out
                }
            }
        };
        planned.insert(job, root_times);
        let mut total = planned[&job].len();
        for downstream in order.iter().skip(1).copied() {
            let mut mine = BTreeSet::new();
            for upstream in &self.jobs[&downstream].spec.dependencies {
                let Some(times) = planned.get(upstream) else {
                    continue;
                };
                for at in times {
                    let (start, end) = self.affected(downstream, *upstream, *at);
                    if self.jobs[&downstream].schedule.is_some() {
                        let slots = self
                            .slots_in(downstream, start, end, MAX_BACKFILL_ITEMS)
                            .ok_or_else(too_many)?;
                        mine.extend(slots);
                    } else if self.runs_on(downstream, start) {
                        mine.insert(self.dependency_only_time(downstream, *at, &planned));
                    }
                }
            }
            total += mine.len();
            if total > MAX_BACKFILL_ITEMS {
                return Err(too_many());
            }
            planned.insert(downstream, mine);
        }
        Ok(order
            .into_iter()
            .flat_map(|j| {
                planned
                    .remove(&j)
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |t| (j, t))
            })
            .collect())
    }

    /// The business time a dependency-only job would get for the period of `at`: the latest of
    /// its upstreams' planned or scheduled times in that period (the period's start if none).
    fn dependency_only_time(
        &self,
        job: JobId,
        at: DateTime<Utc>,
        planned: &BTreeMap<JobId, BTreeSet<DateTime<Utc>>>,
    ) -> DateTime<Utc> {
        let (start, end) = self.dependency_only_period(job, at);
        self.jobs[&job]
            .spec
            .dependencies
            .iter()
            .filter_map(|upstream| match planned.get(upstream) {
                Some(times) => times.range(start..end).next_back().copied(),
                None => self
                    .latest_slot(*upstream, end - Duration::seconds(1))
                    .filter(|t| *t >= start),
            })
            .max()
            .unwrap_or(start)
    }

    /// `job` and (with `downstream`) its downstream closure, upstream jobs before the jobs that
    /// depend on them.
    fn dependency_order(&self, job: JobId, downstream: bool) -> Vec<JobId> {
        let mut set = BTreeSet::from([job]);
        if downstream {
            let mut frontier = VecDeque::from([job]);
            while let Some(current) = frontier.pop_front() {
                for next in self.downstream.get(&current).into_iter().flatten() {
                    if set.insert(*next) {
                        frontier.push_back(*next);
                    }
                }
            }
        }
        // Kahn's algorithm restricted to the set (the graph is acyclic; saved definitions are
        // checked).
        let mut indegree: BTreeMap<JobId, usize> = set
            .iter()
            .map(|j| {
                let n = self.jobs[j]
                    .spec
                    .dependencies
                    .iter()
                    .filter(|u| set.contains(u) && **u != *j)
                    .count();
                (*j, n)
            })
            .collect();
        let mut ready: VecDeque<JobId> = indegree
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(j, _)| *j)
            .collect();
        let mut out = Vec::with_capacity(set.len());
        while let Some(current) = ready.pop_front() {
            out.push(current);
            for next in self.downstream.get(&current).into_iter().flatten() {
                if let Some(n) = indegree.get_mut(next) {
                    *n -= 1;
                    if *n == 0 {
                        ready.push_back(*next);
                    }
                }
            }
        }
        // The root first even if it has upstreams in the closure (it cannot: they would form a
        // cycle), then the others.
        if let Some(pos) = out.iter().position(|j| *j == job) {
            out.remove(pos);
            out.insert(0, job);
        }
        out
    }
}
