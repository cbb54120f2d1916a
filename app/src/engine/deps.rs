//! Dependency release. Each dependency edge has a window (`DependencyWindow`) relative to the
//! downstream instance's business time in the downstream job's zone: the same business day (all
//! upstream instances, or only the last), the previous day (T−1), or the same hour. A job can also
//! depend on its own previous instance. An upstream that is not scheduled at all in a window
//! (its cron has no fire time there, it is disabled, or — for a dependency-only upstream — none of
//! its own upstreams is — or its business calendar excludes the day) does not hold the downstream
//! back; the why-answer says so. A paused upstream does hold it back. A skipped upstream instance
//! counts as done, unless the edge propagates skips: then the downstream instance is skipped too.
//! A dependency-only job (no cron) gets one instance per period of its upstreams — per hour when
//! every edge has the same-hour window, else per business day — created once the upstreams of that
//! period are done, at the latest of their business times.

use chrono::{DateTime, Duration, DurationRound, NaiveDate, SubsecRound, Utc};
use chrono_tz::Tz;

use super::{Engine, InstanceRecord};
pub(super) use crate::cron::local_midnight;
use crate::{
    api,
    cron::parse_zone,
    domain::{DependencyWindow, InstanceState, OnSkip, OverlapPolicy, TriggerKind},
    ids::{InstanceId, JobId},
};

/// The UTC bounds `[start, end)` of the local calendar day containing `at` in `zone`.
pub(super) fn business_day(
    zone: Tz,
    at: DateTime<Utc>,
) -> (NaiveDate, DateTime<Utc>, DateTime<Utc>) {
    let date = at.with_timezone(&zone).date_naive();
    let next = date.succ_opt().unwrap_or(date);
    (date, local_midnight(zone, date), local_midnight(zone, next))
}

/// Why an instance is not queued.
pub(super) enum Blocker {
    /// It waits (for upstreams or an earlier instance of its job).
    Wait(String),
    /// The overlap policy skips it.
    Skip(String),
}

/// The upstream instances one edge waits for: business times in `[start, end)`.
pub(super) struct Window {
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
    /// Only the last instance of the window counts.
    pub(super) last_only: bool,
    /// For reasons: "on 2026-11-24", "in the hour from …".
    pub(super) label: String,
}

/// What an upstream has on one business day.
enum UpstreamDay {
    /// No instance yet.
    Missing,
    /// An instance that has not succeeded.
    Blocked(InstanceId, InstanceState),
    /// All instances succeeded; the latest business time.
    Done(DateTime<Utc>),
    /// The upstream does not run in this window at all: nothing to wait for.
    NotScheduled,
    /// An instance was skipped and the edge propagates skips.
    Skipped(InstanceId),
}

impl Engine {
    pub(super) fn zone_of(&self, job: JobId) -> Tz {
        self.jobs
            .get(&job)
            .and_then(|j| parse_zone(&j.spec.timezone).ok())
            .unwrap_or(Tz::UTC)
    }

    /// The window kind of the edge `upstream -> downstream` (same day when not set).
    fn window_kind(&self, downstream: JobId, upstream: JobId) -> DependencyWindow {
        self.jobs
            .get(&downstream)
            .and_then(|j| j.spec.windows.get(&upstream))
            .copied()
            .unwrap_or(DependencyWindow::SameDay)
    }

    /// The window of upstream instances that an instance of `downstream` at `at` waits for.
    pub(super) fn window(&self, downstream: JobId, upstream: JobId, at: DateTime<Utc>) -> Window {
        let zone = self.zone_of(downstream);
        let kind = self.window_kind(downstream, upstream);
        let (date, start, end) = business_day(zone, at);
        match kind {
            DependencyWindow::SameDay | DependencyWindow::LastOfDay => Window {
                start,
                end,
                last_only: kind == DependencyWindow::LastOfDay,
                label: format!("on {date}"),
            },
            DependencyWindow::PreviousDay => {
                let (previous, previous_start, _) =
                    business_day(zone, start - Duration::seconds(1));
                Window {
                    start: previous_start,
                    end: start,
                    last_only: false,
                    label: format!("on {previous}"),
                }
            }
            DependencyWindow::SameHour => {
                let local = at.with_timezone(&zone);
                let hour = local
                    .duration_trunc(Duration::hours(1))
                    .unwrap_or(local)
                    .with_timezone(&Utc);
                let label = format!(
                    "in the hour from {}",
                    hour.with_timezone(&zone).format("%Y-%m-%d %H:00")
                );
                Window {
                    start: hour,
                    end: hour + Duration::hours(1),
                    last_only: false,
                    label,
                }
            }
        }
    }

    /// The business times of `downstream` instances whose window for `upstream` can contain an
    /// upstream instance at `at` (the inverse of [`Engine::window`]).
    pub(super) fn affected(
        &self,
        downstream: JobId,
        upstream: JobId,
        at: DateTime<Utc>,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let zone = self.zone_of(downstream);
        let kind = self.window_kind(downstream, upstream);
        let (_, start, end) = business_day(zone, at);
        match kind {
            DependencyWindow::SameDay | DependencyWindow::LastOfDay => (start, end),
            DependencyWindow::PreviousDay => {
                let (_, next_start, next_end) = business_day(zone, end);
                (next_start, next_end)
            }
            DependencyWindow::SameHour => {
                let window = self.window(downstream, upstream, at);
                (window.start, window.end)
            }
        }
    }

    /// Whether `job` is expected to have an instance in `[start, end)`: its cron fires there (and
    /// it is enabled), or — without a cron — one of its upstreams is expected there.
    fn expects_instance(&self, job: JobId, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        let mut stack = vec![job];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(current) = stack.pop() {
            if !seen.insert(current) {
                continue;
            }
            let Some(state) = self.jobs.get(&current) else {
                continue;
            };
            if !state.spec.enabled {
                continue;
            }
            match &state.schedule {
                Some(_)
                    if self
                        .next_slot(current, start - Duration::seconds(1))
                        .is_some_and(|t| t < end) =>
                {
                    return true;
                }
                Some(_) => {}
                None if state.spec.cron.is_none() && self.runs_on(current, start) => {
                    stack.extend(state.spec.dependencies.iter().copied())
                }
                None => {}
            }
        }
        false
    }

    /// What `upstream` has in `window`; with `propagate_skip`, a skipped instance is reported
    /// as such instead of as done.
    fn upstream_in(&self, upstream: JobId, window: &Window, propagate_skip: bool) -> UpstreamDay {
        let range = self
            .by_job_time
            .range((upstream, window.start)..(upstream, window.end));
        let considered: Vec<(DateTime<Utc>, InstanceId)> = if window.last_only {
            // The instance of the upstream's last slot in the window, or its latest instance.
            let last_slot = self
                .latest_slot(upstream, window.end - Duration::seconds(1))
                .filter(|t| *t >= window.start);
            match last_slot {
                Some(slot) => match self.by_job_time.get(&(upstream, slot)) {
                    Some(id) => vec![(slot, *id)],
                    None => return UpstreamDay::Missing,
                },
                None => range
                    .last()
                    .map(|(&(_, at), id)| (at, *id))
                    .into_iter()
                    .collect(),
            }
        } else {
            // All of the window: its last scheduled slot must exist (later slots of the day are
            // waited for too), and every instance in it must be done.
            if let Some(job) = self.jobs.get(&upstream)
                && job.spec.enabled
                && let Some(last) = self.latest_slot(upstream, window.end - Duration::seconds(1))
                && last >= window.start
                && last > job.spec.schedule_from
                && !self.by_job_time.contains_key(&(upstream, last))
            {
                return UpstreamDay::Missing;
            }
            range.map(|(&(_, at), id)| (at, *id)).collect()
        };
        if considered.is_empty() {
            if self.expects_instance(upstream, window.start, window.end) {
                return UpstreamDay::Missing;
            }
            return UpstreamDay::NotScheduled;
        }
        let mut latest = None;
        for (at, id) in considered {
            let state = self.instances[&id].state;
            if propagate_skip && state == InstanceState::Skipped {
                return UpstreamDay::Skipped(id);
            }
            if !state.releases_downstream() {
                return UpstreamDay::Blocked(id, state);
            }
            latest = Some(at);
        }
        latest.map_or(UpstreamDay::Missing, UpstreamDay::Done)
    }

    /// Whether the edge `upstream -> job` propagates skips.
    fn propagates_skip(&self, job: JobId, upstream: JobId) -> bool {
        self.jobs
            .get(&job)
            .and_then(|j| j.spec.on_skip.get(&upstream))
            .is_some_and(|o| *o == OnSkip::Propagate)
    }

    /// What `upstream` has in the window of an instance of `job` at `at`.
    fn upstream_for(&self, job: JobId, upstream: JobId, at: DateTime<Utc>) -> UpstreamDay {
        let window = self.window(job, upstream, at);
        self.upstream_in(upstream, &window, self.propagates_skip(job, upstream))
    }

    /// Why `record` cannot start yet (it waits, or a skipped upstream skips it), or `None` when
    /// all its upstreams are done.
    fn unmet_dependency(&self, record: &InstanceRecord) -> Option<Blocker> {
        let job = self.jobs.get(&record.job)?;
        let mut reasons = Vec::new();
        for upstream in &job.spec.dependencies {
            let window = self.window(record.job, *upstream, record.scheduled_at);
            match self.upstream_for(record.job, *upstream, record.scheduled_at) {
                UpstreamDay::Missing => reasons.push(format!(
                    "job {upstream} has no instance {} yet",
                    window.label
                )),
                UpstreamDay::Blocked(id, state) => {
                    reasons.push(format!("job {upstream} instance {id} is {state}"))
                }
                UpstreamDay::Skipped(id) => {
                    return Some(Blocker::Skip(format!(
                        "upstream job {upstream} instance {id} was skipped (this edge propagates skips)"
                    )));
                }
                UpstreamDay::Done(_) | UpstreamDay::NotScheduled => {}
            }
        }
        if job.spec.self_dependent {
            let previous = self
                .by_job_time
                .range((record.job, DateTime::<Utc>::MIN_UTC)..(record.job, record.scheduled_at))
                .next_back()
                .map(|(_, id)| &self.instances[id]);
            if let Some(previous) = previous.filter(|p| !p.state.releases_downstream()) {
                reasons.push(format!(
                    "the previous instance {} of this job is {}",
                    previous.id, previous.state
                ));
            }
        }
        (!reasons.is_empty())
            .then(|| Blocker::Wait(format!("waiting for upstream: {}", reasons.join("; "))))
    }

    /// Why an instance has not started: its upstreams of the day, its place in the queue, the
    /// workers of its group, a pending retry. `None` if the engine no longer holds it.
    pub fn why(&self, id: InstanceId) -> Option<api::WhyNotStarted> {
        let record = self.instances.get(&id)?;
        let job = self.jobs.get(&record.job);
        let (date, _, _) = business_day(self.zone_of(record.job), record.scheduled_at);
        let upstreams: Vec<api::UpstreamStatus> = job
            .map(|j| j.spec.dependencies.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|upstream| {
                let window = self.window(record.job, *upstream, record.scheduled_at);
                let (start, end) = (window.start, window.end);
                let instances: Vec<(InstanceId, InstanceState)> = self
                    .by_job_time
                    .range((*upstream, start)..(*upstream, end))
                    .map(|(_, id)| (*id, self.instances[id].state))
                    .collect();
                let done = matches!(
                    self.upstream_for(record.job, *upstream, record.scheduled_at),
                    UpstreamDay::Done(_) | UpstreamDay::NotScheduled | UpstreamDay::Skipped(_)
                );
                let due_at = self
                    .jobs
                    .get(upstream)
                    .and_then(|u| u.next_fire)
                    .filter(|at| *at >= start && *at < end && instances.is_empty());
                api::UpstreamStatus {
                    job_id: *upstream,
                    instances,
                    done,
                    due_at,
                }
            })
            .collect();
        let host_group = job.map(|j| j.spec.host_group.clone()).unwrap_or_default();
        let group: Vec<&super::WorkerState> = self
            .workers
            .values()
            .filter(|w| w.connected && w.host_group == host_group)
            .collect();
        let free_slots_in_group: u32 = group
            .iter()
            .filter(|w| w.takes_work())
            .map(|w| w.free())
            .sum();
        let weight = job.map_or(1, |j| j.spec.slot_weight.max(1));
        let queue_position = self
            .queue_keys
            .get(&id)
            .map(|key| self.queue.range(..=*key).count() as u32);
        let summary = match record.state {
            InstanceState::Waiting => record
                .reason
                .clone()
                .unwrap_or_else(|| format!("waiting ({date})")),
            InstanceState::Queued if group.is_empty() => {
                format!("queued: no worker of host group `{host_group}` is connected")
            }
            InstanceState::Queued if group.iter().all(|w| w.draining) => {
                format!("queued: every worker of host group `{host_group}` is being drained")
            }
            InstanceState::Queued if group.iter().all(|w| !w.takes_work()) => {
                let limits: Vec<&str> = group
                    .iter()
                    .filter_map(|w| w.over_limit.as_deref())
                    .collect();
                format!(
                    "queued: every worker of host group `{host_group}` is over its load limits ({})",
                    limits.join("; ")
                )
            }
            InstanceState::Queued if job.is_some_and(|j| j.spec.broadcast) => format!(
                "queued: it runs on every worker of host group `{host_group}` at once and waits until each has {weight} free slot(s) ({} worker(s), {} free in the group)",
                group.iter().filter(|w| w.takes_work()).count(),
                free_slots_in_group
            ),
            InstanceState::Queued if weight > 1 => format!(
                "queued at position {} of {}: waiting for {weight} free slots on one worker of host group `{host_group}` ({} free in the group)",
                queue_position.unwrap_or(0),
                self.queue.len(),
                free_slots_in_group
            ),
            InstanceState::Queued => format!(
                "queued at position {} of {}: waiting for a free slot in host group `{host_group}` ({} free)",
                queue_position.unwrap_or(0),
                self.queue.len(),
                free_slots_in_group
            ),
            InstanceState::RetryWait => record
                .reason
                .clone()
                .unwrap_or_else(|| "waiting to retry".to_owned()),
            InstanceState::Running => "running".to_owned(),
            state => record.reason.clone().unwrap_or_else(|| state.to_string()),
        };
        Some(api::WhyNotStarted {
            instance_id: id,
            state: record.state,
            summary,
            upstreams,
            queue_position,
            queue_length: self.queue.len() as u32,
            host_group,
            workers_in_group: group.len() as u32,
            free_slots_in_group,
            retry_at: record.retry_at,
        })
    }

    /// Why a scheduled instance cannot be queued yet: its upstreams, or (overlap policy) an
    /// earlier active instance of its job.
    pub(super) fn blocker(&self, record: &InstanceRecord) -> Option<Blocker> {
        let job = self.jobs.get(&record.job)?;
        if let Some(since) = job.spec.paused_since {
            return Some(Blocker::Wait(format!(
                "the job is paused (since {})",
                since.to_rfc3339()
            )));
        }
        if let Some(blocker) = self.unmet_dependency(record) {
            return Some(blocker);
        }
        if record.trigger != TriggerKind::Scheduled || job.spec.overlap == OverlapPolicy::Allow {
            return None;
        }
        let other = self
            .active_by_job
            .get(&record.job)?
            .iter()
            .find(|id| **id != record.id)?;
        Some(match job.spec.overlap {
            OverlapPolicy::Skip => Blocker::Skip(format!(
                "instance {other} of this job was still active (overlap policy skip)"
            )),
            _ => Blocker::Wait(format!(
                "waiting for instance {other} of this job to finish (overlap policy queue)"
            )),
        })
    }

    /// Decides what a waiting instance becomes: queued, skipped, or still waiting (with the
    /// reason stored when it changed, or always when `persist`).
    pub(super) fn admit(&mut self, now: DateTime<Utc>, id: InstanceId, check: bool, persist: bool) {
        let record = &self.instances[&id];
        if record.state != InstanceState::Waiting {
            return;
        }
        match if check { self.blocker(record) } else { None } {
            None if record.backfill.is_some() => self.hold_for_backfill(now, id),
            None => self.set_state(now, id, InstanceState::Queued, None),
            Some(Blocker::Skip(reason)) => {
                self.set_state(now, id, InstanceState::Skipped, Some(reason))
            }
            Some(Blocker::Wait(reason)) => {
                self.waiting.insert((record.job, record.scheduled_at, id));
                if persist || record.reason.as_ref() != Some(&reason) {
                    let record = self.instances.get_mut(&id).expect("checked above");
                    record.reason = Some(reason);
                    self.effects
                        .push_back(super::Effect::PersistInstance(record.clone()));
                }
            }
        }
    }

    /// Re-checks a waiting instance.
    fn recheck(&mut self, now: DateTime<Utc>, id: InstanceId) {
        self.admit(now, id, true, false);
    }

    /// An instance succeeded: wake the downstream instances of the same business day and create
    /// the instance of dependency-only downstream jobs whose upstreams are now all done.
    pub(super) fn release_downstream(&mut self, now: DateTime<Utc>, upstream_instance: InstanceId) {
        let upstream = &self.instances[&upstream_instance];
        let (upstream_job, at) = (upstream.job, upstream.scheduled_at);
        let downstream: Vec<JobId> = self
            .downstream
            .get(&upstream_job)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        for job_id in downstream {
            let (start, end) = self.affected(job_id, upstream_job, at);
            let affected: Vec<InstanceId> = self
                .by_job_time
                .range((job_id, start)..(job_id, end))
                .map(|(_, id)| *id)
                .collect();
            for id in affected {
                self.recheck(now, id);
            }
            self.create_dependency_only(now, job_id, at);
        }
    }

    /// The period of a dependency-only job containing `at`: the hour when every edge has the
    /// same-hour window, else the business day.
    pub(super) fn dependency_only_period(
        &self,
        job: JobId,
        at: DateTime<Utc>,
    ) -> (DateTime<Utc>, DateTime<Utc>) {
        let hourly = self.jobs.get(&job).is_some_and(|j| {
            !j.spec.dependencies.is_empty()
                && j.spec
                    .dependencies
                    .iter()
                    .all(|u| self.window_kind(job, *u) == DependencyWindow::SameHour)
        });
        if hourly {
            let window = self.window(job, self.jobs[&job].spec.dependencies[0], at);
            (window.start, window.end)
        } else {
            let (_, start, end) = business_day(self.zone_of(job), at);
            (start, end)
        }
    }

    /// A dependency-only job gets its instance for the period of `at` once every upstream it
    /// waits for then is done, at the latest of their business times in the period.
    pub(super) fn create_dependency_only(
        &mut self,
        now: DateTime<Utc>,
        job_id: JobId,
        at: DateTime<Utc>,
    ) {
        let Some(job) = self.jobs.get(&job_id) else {
            return;
        };
        if job.spec.cron.is_some()
            || !job.spec.enabled
            || job.spec.paused_since.is_some()
            || !self.runs_on(job_id, at)
        {
            return;
        }
        let (start, end) = self.dependency_only_period(job_id, at);
        if self
            .by_job_time
            .range((job_id, start)..(job_id, end))
            .next()
            .is_some()
        {
            return;
        }
        let mut latest = None;
        for upstream in &job.spec.dependencies {
            match self.upstream_for(job_id, *upstream, at) {
                // Only upstreams of the same period give the business time; others must merely
                // be done.
                UpstreamDay::Done(t) if t >= start && t < end => latest = latest.max(Some(t)),
                UpstreamDay::Done(_) | UpstreamDay::NotScheduled | UpstreamDay::Skipped(_) => {}
                UpstreamDay::Missing | UpstreamDay::Blocked(..) => return,
            }
        }
        if let Some(scheduled_at) = latest
            // Business times are whole seconds: the job's own creation second counts.
            && scheduled_at >= job.spec.schedule_from.trunc_subsecs(0)
        {
            self.create_instance(now, job_id, scheduled_at, TriggerKind::Scheduled, true);
        }
    }

    /// A dependency-only job was resumed: it gets the instances of the periods since `since`
    /// whose upstreams are done (at most the catch-up cap of them, the latest ones).
    pub(super) fn create_missed_dependency_only(
        &mut self,
        now: DateTime<Utc>,
        job: JobId,
        since: DateTime<Utc>,
    ) {
        let mut periods = Vec::new();
        let mut at = now;
        while at >= since && periods.len() < self.config.catch_up_cap as usize {
            let (start, _) = self.dependency_only_period(job, at);
            periods.push(at);
            at = start - Duration::seconds(1);
        }
        for at in periods.into_iter().rev() {
            self.create_dependency_only(now, job, at);
        }
    }

    /// Re-checks a job's waiting instances, oldest first (its definition changed, or an earlier
    /// instance it waited for ended).
    pub(super) fn reevaluate_waiting_of(&mut self, job: JobId, now: DateTime<Utc>) {
        let from = (job, DateTime::<Utc>::MIN_UTC, InstanceId(i64::MIN));
        let to = (job, DateTime::<Utc>::MAX_UTC, InstanceId(i64::MAX));
        let ids: Vec<InstanceId> = self.waiting.range(from..=to).map(|it| it.2).collect();
        for id in ids {
            self.recheck(now, id);
        }
    }
}
