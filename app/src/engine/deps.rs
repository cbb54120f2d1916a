//! Dependency release. For now (the full window model comes later) an instance of a job waits
//! for every instance of each upstream job on the same business day, evaluated in the downstream
//! job's time zone, and needs at least one. A dependency-only job (no cron) gets one instance per
//! business day, created once all its upstreams have succeeded that day, at the latest of their
//! business times.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Engine, InstanceRecord};
use crate::{
    api,
    cron::parse_zone,
    domain::{InstanceState, OverlapPolicy, TriggerKind},
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

/// Local midnight; where midnight falls in a DST gap, the first valid instant after it.
fn local_midnight(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut naive = date.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(t) = zone.from_local_datetime(&naive).earliest() {
            return t.with_timezone(&Utc);
        }
        naive += Duration::minutes(30);
    }
    zone.from_utc_datetime(&date.and_time(NaiveTime::MIN))
        .with_timezone(&Utc)
}

/// Why an instance is not queued.
enum Blocker {
    /// It waits (for upstreams or an earlier instance of its job).
    Wait(String),
    /// The overlap policy skips it.
    Skip(String),
}

/// What an upstream has on one business day.
enum UpstreamDay {
    /// No instance yet.
    Missing,
    /// An instance that has not succeeded.
    Blocked(InstanceId, InstanceState),
    /// All instances succeeded; the latest business time.
    Done(DateTime<Utc>),
}

impl Engine {
    fn zone_of(&self, job: JobId) -> Tz {
        self.jobs
            .get(&job)
            .and_then(|j| parse_zone(&j.spec.timezone).ok())
            .unwrap_or(Tz::UTC)
    }

    fn upstream_day(
        &self,
        upstream: JobId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> UpstreamDay {
        let mut latest = None;
        for (&(_, at), id) in self.by_job_time.range((upstream, start)..(upstream, end)) {
            let state = self.instances[id].state;
            if !state.releases_downstream() {
                return UpstreamDay::Blocked(*id, state);
            }
            latest = Some(at);
        }
        latest.map_or(UpstreamDay::Missing, UpstreamDay::Done)
    }

    /// Why `record` cannot start yet, or `None` when all its upstreams are done.
    pub(super) fn unmet_dependency(&self, record: &InstanceRecord) -> Option<String> {
        let job = self.jobs.get(&record.job)?;
        let (date, start, end) = business_day(self.zone_of(record.job), record.scheduled_at);
        let reasons: Vec<String> = job
            .spec
            .dependencies
            .iter()
            .filter_map(|upstream| match self.upstream_day(*upstream, start, end) {
                UpstreamDay::Missing => {
                    Some(format!("job {upstream} has no instance on {date} yet"))
                }
                UpstreamDay::Blocked(id, state) => {
                    Some(format!("job {upstream} instance {id} is {state}"))
                }
                UpstreamDay::Done(_) => None,
            })
            .collect();
        (!reasons.is_empty()).then(|| format!("waiting for upstream: {}", reasons.join("; ")))
    }

    /// Why an instance has not started: its upstreams of the day, its place in the queue, the
    /// workers of its group, a pending retry. `None` if the engine no longer holds it.
    pub fn why(&self, id: InstanceId) -> Option<api::WhyNotStarted> {
        let record = self.instances.get(&id)?;
        let job = self.jobs.get(&record.job);
        let (date, start, end) = business_day(self.zone_of(record.job), record.scheduled_at);
        let upstreams: Vec<api::UpstreamStatus> = job
            .map(|j| j.spec.dependencies.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|upstream| {
                let instances: Vec<(InstanceId, InstanceState)> = self
                    .by_job_time
                    .range((*upstream, start)..(*upstream, end))
                    .map(|(_, id)| (*id, self.instances[id].state))
                    .collect();
                let done =
                    !instances.is_empty() && instances.iter().all(|(_, s)| s.releases_downstream());
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
            .map(|w| w.slots.saturating_sub(w.running.len() as u32))
            .sum();
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
    fn blocker(&self, record: &InstanceRecord) -> Option<Blocker> {
        if let Some(reason) = self.unmet_dependency(record) {
            return Some(Blocker::Wait(reason));
        }
        let job = self.jobs.get(&record.job)?;
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
        let at = upstream.scheduled_at;
        let downstream: Vec<JobId> = self
            .downstream
            .get(&upstream.job)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        for job_id in downstream {
            let (_, start, end) = business_day(self.zone_of(job_id), at);
            let waiting: Vec<InstanceId> = self
                .by_job_time
                .range((job_id, start)..(job_id, end))
                .map(|(_, id)| *id)
                .collect();
            let has_instance = !waiting.is_empty();
            for id in waiting {
                self.recheck(now, id);
            }
            let Some(job) = self.jobs.get(&job_id) else {
                continue;
            };
            if has_instance || job.spec.cron.is_some() || !job.spec.enabled {
                continue;
            }
            let mut latest = None;
            for upstream in &job.spec.dependencies {
                match self.upstream_day(*upstream, start, end) {
                    UpstreamDay::Done(t) => latest = latest.max(Some(t)),
                    _ => {
                        latest = None;
                        break;
                    }
                }
            }
            if let Some(scheduled_at) = latest
                && scheduled_at > job.spec.schedule_from
            {
                self.create_instance(now, job_id, scheduled_at, TriggerKind::Scheduled, false);
            }
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
