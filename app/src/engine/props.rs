//! Randomised property tests of the engine: random DAGs of jobs with mixed periods, random run
//! times and failures, workers that disconnect and come back. Whatever happens, the invariants
//! of `reliability.md` hold: one instance per (job, business time) (I2), no instance is released
//! before the upstream instances of its day known at that moment are done (I4; the full window
//! model comes with the scheduling-semantics issue), never two live attempts of one instance, never
//! more attempts on a worker than its slots, and nothing waits once its upstreams are done.
//! Each case prints its seed on failure.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use super::{
    Effect, Input, InstanceRecord,
    sim::{Sim, job},
};
use crate::{
    domain::{AttemptOutcome, InstanceState, MisfirePolicy, OverlapPolicy, TriggerKind},
    ids::{InstanceId, JobId, WorkerId},
};

/// A small deterministic generator (xorshift64*), so the core needs no RNG dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const CRONS: [&str; 5] = [
    "0 0 * * * ?",
    "0 30 2 * * ?",
    "0 */15 * * * ?",
    "0 0 9 ? * 2-6",
    "0 0 18 * * ?",
];

fn scenario(seed: u64, n_jobs: i64) -> Sim {
    let mut rng = Rng(seed | 1);
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    let n_workers = 1 + rng.below(4) as i64;
    for worker in 1..=n_workers {
        sim.add_worker(worker, "default", 1 + rng.below(6) as u32);
    }
    for id in 1..=n_jobs {
        let mut deps = BTreeSet::new();
        if id > 1 {
            for _ in 0..rng.below(4) {
                deps.insert(1 + rng.below(id as u64 - 1) as i64);
            }
        }
        let deps: Vec<i64> = deps.into_iter().collect();
        let cron = if !deps.is_empty() && rng.chance(40) {
            None
        } else {
            Some(CRONS[rng.below(CRONS.len() as u64) as usize])
        };
        let mut spec = job(id, cron, &deps);
        spec.retry_count = rng.below(3) as u32;
        spec.retry_delay_secs = rng.below(600) as u32;
        spec.priority = 1 + rng.below(5) as u8;
        spec.overlap = [
            OverlapPolicy::Allow,
            OverlapPolicy::Skip,
            OverlapPolicy::Queue,
        ][rng.below(3) as usize];
        spec.misfire = MisfirePolicy::FireOnceNow;
        if rng.chance(20) {
            spec.timezone = "Asia/Shanghai".to_owned();
        }
        sim.add_job(spec);
    }
    let mut outcome_rng = Rng(seed.rotate_left(17) | 1);
    sim.outcomes = Some(Box::new(move |_| {
        let longest = if outcome_rng.chance(10) { 7200 } else { 300 };
        let secs = 1 + outcome_rng.below(longest) as i64;
        let outcome = if outcome_rng.chance(15) {
            AttemptOutcome::Failed
        } else {
            AttemptOutcome::Succeeded
        };
        (secs, outcome)
    }));
    sim
}

/// Runs a scenario for two simulated days, with a worker that drops out and comes back, then
/// checks every invariant over the full effect history.
fn run_and_check(seed: u64, n_jobs: i64) {
    let mut sim = scenario(seed, n_jobs);
    let mut rng = Rng(seed.rotate_left(33) | 1);
    let mut t = sim.now;
    let end = t + Duration::days(2);
    while t < end {
        t += Duration::minutes(20 + rng.below(240) as i64);
        sim.run_until(&t.to_rfc3339());
        if rng.chance(10) {
            // Worker 1 drops out; it comes back within the grace period half of the time.
            sim.input(Input::WorkerDisconnected {
                worker: WorkerId(1),
            })
            .unwrap();
            let back = if rng.chance(50) { 20 } else { 120 };
            let at = sim.now + Duration::seconds(back);
            sim.run_until(&at.to_rfc3339());
            let known = sim.running_on(WorkerId(1));
            let hello = Input::WorkerConnected {
                worker: WorkerId(1),
                host_group: "default".to_owned(),
                slots: 2,
                known_attempts: if back < 60 { known } else { vec![] },
            };
            sim.input(hello).unwrap();
        }
    }
    check_invariants(seed, &sim);
}

fn check_invariants(seed: u64, sim: &Sim) {
    let fail = |what: String| -> ! { panic!("seed {seed}: {what}") };
    let mut by_identity: BTreeMap<(JobId, DateTime<Utc>), InstanceId> = BTreeMap::new();
    let mut instances: BTreeMap<InstanceId, InstanceRecord> = BTreeMap::new();
    let mut live_attempt: BTreeMap<InstanceId, super::AttemptId> = BTreeMap::new();
    let mut on_worker: BTreeMap<WorkerId, BTreeSet<super::AttemptId>> = BTreeMap::new();
    let slots = &sim.max_slots;
    let graph: BTreeMap<JobId, Vec<JobId>> = sim
        .engine
        .jobs
        .iter()
        .map(|(id, j)| (*id, j.spec.dependencies.clone()))
        .collect();
    let zone_of =
        |job: JobId| crate::cron::parse_zone(&sim.engine.jobs[&job].spec.timezone).unwrap();
    for (_, effect) in &sim.history {
        match effect {
            Effect::PersistInstance(record) => {
                // I2: one instance per (job, business time).
                let owner = by_identity
                    .entry((record.job, record.scheduled_at))
                    .or_insert(record.id);
                if *owner != record.id {
                    fail(format!(
                        "two instances {owner} and {} for job {} at {}",
                        record.id, record.job, record.scheduled_at
                    ));
                }
                // I4: a scheduled instance is released only when its upstreams of the day (as
                // known then) are done.
                let before = instances.get(&record.id).map(|r| r.state);
                let released = record.state == InstanceState::Queued
                    && matches!(before, None | Some(InstanceState::Waiting))
                    && record.trigger == TriggerKind::Scheduled;
                if released {
                    let (_, start, end) =
                        super::deps::business_day(zone_of(record.job), record.scheduled_at);
                    for upstream in &graph[&record.job] {
                        let ups: Vec<&InstanceRecord> = by_identity
                            .range((*upstream, start)..(*upstream, end))
                            .map(|(_, id)| &instances[id])
                            .collect();
                        if ups.is_empty() || ups.iter().any(|u| !u.state.releases_downstream()) {
                            fail(format!(
                                "instance {} of job {} released before upstream job {upstream} was done: {:?}",
                                record.id,
                                record.job,
                                ups.iter().map(|u| (u.id, u.state)).collect::<Vec<_>>()
                            ));
                        }
                    }
                }
                instances.insert(record.id, record.clone());
            }
            Effect::PersistAttempt(attempt) => {
                if attempt.state.is_terminal() {
                    if live_attempt.get(&attempt.instance) == Some(&attempt.id) {
                        live_attempt.remove(&attempt.instance);
                    }
                    on_worker
                        .entry(attempt.worker)
                        .or_default()
                        .remove(&attempt.id);
                }
            }
            Effect::Dispatch { attempt, .. } => {
                // Never two live attempts of one instance.
                if let Some(other) = live_attempt.insert(attempt.instance, attempt.id) {
                    fail(format!(
                        "instance {} has attempts {other} and {} live at once",
                        attempt.instance, attempt.id
                    ));
                }
                let running = on_worker.entry(attempt.worker).or_default();
                running.insert(attempt.id);
                if running.len() > slots[&attempt.worker] as usize {
                    fail(format!(
                        "worker {} runs {} attempts",
                        attempt.worker,
                        running.len()
                    ));
                }
            }
            Effect::Cancel { .. } | Effect::Overdue { .. } => {}
        }
    }
    // Nothing waits once every upstream instance of its day is done and the upstream's last
    // slot of that day has passed (later slots of the day are rightly waited for).
    for record in instances
        .values()
        .filter(|r| r.state == InstanceState::Waiting)
    {
        let (_, start, end) = super::deps::business_day(zone_of(record.job), record.scheduled_at);
        let ready = graph[&record.job].iter().all(|upstream| {
            let ups: Vec<&InstanceRecord> = by_identity
                .range((*upstream, start)..(*upstream, end))
                .map(|(_, id)| &instances[id])
                .collect();
            let last_slot = sim.engine.jobs[upstream]
                .schedule
                .as_ref()
                .and_then(|s| s.latest_at_or_before(end - Duration::seconds(1)))
                .filter(|t| *t >= start);
            let last_slot_passed =
                last_slot.is_none_or(|t| t <= sim.now && by_identity.contains_key(&(*upstream, t)));
            last_slot_passed && !ups.is_empty() && ups.iter().all(|u| u.state.releases_downstream())
        });
        let overlap_wait = record
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("overlap policy queue"));
        if ready && !overlap_wait {
            fail(format!(
                "instance {} of job {} waits although its upstreams are done ({:?})",
                record.id, record.job, record.reason
            ));
        }
    }
}

#[test]
fn random_dags_keep_the_invariants() {
    for seed in 1..=12u64 {
        run_and_check(seed * 0x9E37_79B9, 40);
    }
}

#[test]
fn a_thousand_jobs_keep_the_invariants() {
    run_and_check(0xC0FFEE, 1000);
}
