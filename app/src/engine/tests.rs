//! Scenario tests of the engine through the simulation harness. Each test is a short story and
//! the trace it must produce.

use super::{
    Config, Engine, EngineError, Handled, Input, Snapshot,
    sim::{Sim, at, check, job, state_at},
};
use crate::{
    domain::{
        AttemptOutcome::*, DependencyWindow, InstanceState, MisfirePolicy, OverlapPolicy,
        TriggerKind,
    },
    ids::{AttemptId, InstanceId, JobId, WorkerId},
};

#[test]
fn cron_fires_at_the_scheduled_second_and_runs_on_a_worker() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 2);
    sim.add_job(job(1, Some("30 0 * * * ?"), &[]));
    sim.run_until("2026-11-24T01:01:00Z");
    check(
        &mut sim,
        "
        +00:00:30 instance 1 job 1 @11-24 00:00:30 queued
        +00:00:30 instance 1 job 1 @11-24 00:00:30 running
        +00:00:30 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
        +00:00:40 attempt 1 success exit 0
        +00:00:40 instance 1 job 1 @11-24 00:00:30 success
        +01:00:30 instance 2 job 1 @11-24 01:00:30 queued
        +01:00:30 instance 2 job 1 @11-24 01:00:30 running
        +01:00:30 dispatch attempt 2 (#1 scheduled) of instance 2 to worker 1
        +01:00:40 attempt 2 success exit 0
        +01:00:40 instance 2 job 1 @11-24 01:00:30 success
        ",
    );
}

#[test]
fn downstream_waits_for_the_upstream_of_the_same_day() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 4);
    // Job 2 fires at 01:00 but depends on job 1, which fires at 02:00 and runs 5 minutes.
    sim.add_job(job(1, Some("0 0 2 * * ?"), &[]));
    sim.add_job(job(2, Some("0 0 1 * * ?"), &[1]));
    sim.script(1, &[(300, Succeeded)]);
    sim.run_until("2026-11-24T03:00:00Z");
    check(
        &mut sim,
        "
        +01:00:00 instance 1 job 2 @11-24 01:00:00 waiting (waiting for upstream: job 1 has no instance on 2026-11-24 yet)
        +02:00:00 instance 2 job 1 @11-24 02:00:00 queued
        +02:00:00 instance 2 job 1 @11-24 02:00:00 running
        +02:00:00 dispatch attempt 1 (#1 scheduled) of instance 2 to worker 1
        +02:05:00 attempt 1 success exit 0
        +02:05:00 instance 2 job 1 @11-24 02:00:00 success
        +02:05:00 instance 1 job 2 @11-24 01:00:00 queued
        +02:05:00 instance 1 job 2 @11-24 01:00:00 running
        +02:05:00 dispatch attempt 2 (#1 scheduled) of instance 1 to worker 1
        +02:05:10 attempt 2 success exit 0
        +02:05:10 instance 1 job 2 @11-24 01:00:00 success
        ",
    );
}

#[test]
fn a_failed_upstream_keeps_downstream_waiting_with_the_reason() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 4);
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    sim.add_job(job(2, Some("0 0 2 * * ?"), &[1]));
    sim.script(1, &[(60, Failed)]);
    sim.run_until("2026-11-24T03:00:00Z");
    check(
        &mut sim,
        "
        +01:00:00 instance 1 job 1 @11-24 01:00:00 queued
        +01:00:00 instance 1 job 1 @11-24 01:00:00 running
        +01:00:00 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
        +01:01:00 attempt 1 failed exit 1
        +01:01:00 instance 1 job 1 @11-24 01:00:00 failed (attempt 1 failed (exit code 1))
        +02:00:00 instance 2 job 2 @11-24 02:00:00 waiting (waiting for upstream: job 1 instance 1 is failed)
        ",
    );
    // Recovering the upstream releases the downstream; a manual rerun would not.
    sim.input(Input::Rerun {
        instance: InstanceId(1),
        kind: TriggerKind::Recover,
    })
    .unwrap();
    sim.run_until("2026-11-24T03:01:00Z");
    check(
        &mut sim,
        "
        +03:00:00 instance 1 job 1 @11-24 01:00:00 queued
        +03:00:00 instance 1 job 1 @11-24 01:00:00 running
        +03:00:00 dispatch attempt 2 (#2 recover) of instance 1 to worker 1
        +03:00:10 attempt 2 success exit 0
        +03:00:10 instance 1 job 1 @11-24 01:00:00 success
        +03:00:10 instance 2 job 2 @11-24 02:00:00 queued
        +03:00:10 instance 2 job 2 @11-24 02:00:00 running
        +03:00:10 dispatch attempt 3 (#1 scheduled) of instance 2 to worker 1
        +03:00:20 attempt 3 success exit 0
        +03:00:20 instance 2 job 2 @11-24 02:00:00 success
        ",
    );
}

#[test]
fn dependency_only_job_gets_one_instance_per_day_after_all_upstreams() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 4);
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    sim.add_job(job(2, Some("0 0 2 * * ?"), &[]));
    sim.add_job(job(3, None, &[1, 2]));
    sim.run_until("2026-11-24T03:00:00Z");
    check(
        &mut sim,
        "
        +01:00:00 instance 1 job 1 @11-24 01:00:00 queued
        +01:00:00 instance 1 job 1 @11-24 01:00:00 running
        +01:00:00 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
        +01:00:10 attempt 1 success exit 0
        +01:00:10 instance 1 job 1 @11-24 01:00:00 success
        +02:00:00 instance 2 job 2 @11-24 02:00:00 queued
        +02:00:00 instance 2 job 2 @11-24 02:00:00 running
        +02:00:00 dispatch attempt 2 (#1 scheduled) of instance 2 to worker 1
        +02:00:10 attempt 2 success exit 0
        +02:00:10 instance 2 job 2 @11-24 02:00:00 success
        +02:00:10 instance 3 job 3 @11-24 02:00:00 queued
        +02:00:10 instance 3 job 3 @11-24 02:00:00 running
        +02:00:10 dispatch attempt 3 (#1 scheduled) of instance 3 to worker 1
        +02:00:20 attempt 3 success exit 0
        +02:00:20 instance 3 job 3 @11-24 02:00:00 success
        ",
    );
}

#[test]
fn manual_trigger_runs_now_and_does_not_release_downstream() {
    let mut sim = Sim::new("2026-11-24T10:00:00Z");
    sim.add_worker(1, "default", 1);
    sim.add_job(job(1, None, &[]));
    sim.add_job(job(2, None, &[1]));
    let res = sim.input(Input::Trigger {
        job: JobId(1),
        kind: TriggerKind::Manual,
        params: Default::default(),
        at: None,
    });
    assert_eq!(res, Ok(Handled::Instance(InstanceId(1))));
    sim.run_until("2026-11-24T11:00:00Z");
    check(
        &mut sim,
        "
        +00:00:00 instance 1 job 1 @11-24 10:00:00 queued
        +00:00:00 instance 1 job 1 @11-24 10:00:00 running
        +00:00:00 dispatch attempt 1 (#1 manual) of instance 1 to worker 1
        +00:00:10 attempt 1 success exit 0
        +00:00:10 instance 1 job 1 @11-24 10:00:00 success
        ",
    );
    let res = sim.input(Input::Trigger {
        job: JobId(9),
        kind: TriggerKind::Manual,
        params: Default::default(),
        at: None,
    });
    assert_eq!(res, Err(EngineError::UnknownJob(JobId(9))));
}

#[test]
fn failed_attempts_retry_after_the_delay_until_the_count_is_used() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 1);
    let mut spec = job(1, Some("0 0 1 * * ?"), &[]);
    spec.retry_count = 2;
    spec.retry_delay_secs = 30;
    sim.add_job(spec);
    sim.script(
        1,
        &[
            (5, Failed),
            (5, Failed),
            (5, Failed),
            (5, Failed),
            (5, Succeeded),
        ],
    );
    sim.run_until("2026-11-25T02:00:00Z");
    check(
        &mut sim,
        "
        +01:00:00 instance 1 job 1 @11-24 01:00:00 queued
        +01:00:00 instance 1 job 1 @11-24 01:00:00 running
        +01:00:00 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
        +01:00:05 attempt 1 failed exit 1
        +01:00:05 instance 1 job 1 @11-24 01:00:00 retry_wait (attempt 1 failed (exit code 1); retry 1 of 2 at 2026-11-24T01:00:35+00:00)
        +01:00:35 instance 1 job 1 @11-24 01:00:00 queued
        +01:00:35 instance 1 job 1 @11-24 01:00:00 running
        +01:00:35 dispatch attempt 2 (#2 retry) of instance 1 to worker 1
        +01:00:40 attempt 2 failed exit 1
        +01:00:40 instance 1 job 1 @11-24 01:00:00 retry_wait (attempt 2 failed (exit code 1); retry 2 of 2 at 2026-11-24T01:01:10+00:00)
        +01:01:10 instance 1 job 1 @11-24 01:00:00 queued
        +01:01:10 instance 1 job 1 @11-24 01:00:00 running
        +01:01:10 dispatch attempt 3 (#3 retry) of instance 1 to worker 1
        +01:01:15 attempt 3 failed exit 1
        +01:01:15 instance 1 job 1 @11-24 01:00:00 failed (attempt 3 failed (exit code 1))
        +25:00:00 instance 2 job 1 @11-25 01:00:00 queued
        +25:00:00 instance 2 job 1 @11-25 01:00:00 running
        +25:00:00 dispatch attempt 4 (#1 scheduled) of instance 2 to worker 1
        +25:00:05 attempt 4 failed exit 1
        +25:00:05 instance 2 job 1 @11-25 01:00:00 retry_wait (attempt 1 failed (exit code 1); retry 1 of 2 at 2026-11-25T01:00:35+00:00)
        +25:00:35 instance 2 job 1 @11-25 01:00:00 queued
        +25:00:35 instance 2 job 1 @11-25 01:00:00 running
        +25:00:35 dispatch attempt 5 (#2 retry) of instance 2 to worker 1
        +25:00:40 attempt 5 success exit 0
        +25:00:40 instance 2 job 1 @11-25 01:00:00 success
        ",
    );
}

#[test]
fn cancel_kills_a_running_attempt_and_drops_a_queued_instance() {
    let mut sim = Sim::new("2026-11-24T10:00:00Z");
    sim.add_worker(1, "default", 1);
    sim.add_job(job(1, None, &[]));
    sim.add_job(job(2, None, &[]));
    sim.script(1, &[(3600, Succeeded)]);
    sim.input(Input::Trigger {
        job: JobId(1),
        kind: TriggerKind::Manual,
        params: Default::default(),
        at: None,
    })
    .unwrap();
    sim.input(Input::Trigger {
        job: JobId(2),
        kind: TriggerKind::Manual,
        params: Default::default(),
        at: None,
    })
    .unwrap();
    sim.run_until("2026-11-24T10:01:00Z");
    sim.input(Input::Cancel {
        instance: InstanceId(2),
    })
    .unwrap();
    sim.input(Input::Cancel {
        instance: InstanceId(1),
    })
    .unwrap();
    sim.run_until("2026-11-24T10:02:00Z");
    check(
        &mut sim,
        "
        +00:00:00 instance 1 job 1 @11-24 10:00:00 queued
        +00:00:00 instance 1 job 1 @11-24 10:00:00 running
        +00:00:00 dispatch attempt 1 (#1 manual) of instance 1 to worker 1
        +00:00:00 instance 2 job 2 @11-24 10:00:00 queued
        +00:01:00 instance 2 job 2 @11-24 10:00:00 cancelled (cancelled by a user)
        +00:01:00 cancel attempt 1 on worker 1
        +00:01:00 attempt 1 cancelled
        +00:01:00 instance 1 job 1 @11-24 10:00:00 cancelled (cancelled by a user)
        ",
    );
    let res = sim.input(Input::Cancel {
        instance: InstanceId(1),
    });
    assert!(matches!(
        res,
        Err(EngineError::WrongState {
            state: InstanceState::Cancelled,
            ..
        })
    ));
}

#[test]
fn a_lost_worker_gets_its_attempts_retried_elsewhere_after_the_grace_period() {
    let mut sim = Sim::new("2026-11-24T10:00:00Z");
    sim.add_worker(1, "default", 1);
    sim.silence(1);
    sim.add_job(job(1, None, &[]));
    sim.input(Input::Trigger {
        job: JobId(1),
        kind: TriggerKind::Manual,
        params: Default::default(),
        at: None,
    })
    .unwrap();
    sim.input(Input::WorkerDisconnected {
        worker: WorkerId(1),
    })
    .unwrap();
    sim.add_worker(2, "default", 1);
    sim.run_until("2026-11-24T10:05:00Z");
    check(
        &mut sim,
        "
        +00:00:00 instance 1 job 1 @11-24 10:00:00 queued
        +00:00:00 instance 1 job 1 @11-24 10:00:00 running
        +00:00:00 dispatch attempt 1 (#1 manual) of instance 1 to worker 1
        +00:01:00 attempt 1 lost
        +00:01:00 instance 1 job 1 @11-24 10:00:00 queued (attempt 1 was lost with its worker; retrying)
        +00:01:00 instance 1 job 1 @11-24 10:00:00 running
        +00:01:00 dispatch attempt 2 (#2 retry) of instance 1 to worker 2
        +00:01:10 attempt 2 success exit 0
        +00:01:10 instance 1 job 1 @11-24 10:00:00 success
        ",
    );
}

#[test]
fn lost_attempts_stop_at_the_cap() {
    let config = Config {
        lost_retry_cap: 1,
        ..Config::default()
    };
    let mut sim = Sim::with_engine("2026-11-24T10:00:00Z", |_| Engine::new(config));
    sim.add_worker(1, "default", 1);
    sim.silence(1);
    sim.add_job(job(1, None, &[]));
    sim.input(Input::Trigger {
        job: JobId(1),
        kind: TriggerKind::Manual,
        params: Default::default(),
        at: None,
    })
    .unwrap();
    for _ in 0..2 {
        sim.input(Input::WorkerDisconnected {
            worker: WorkerId(1),
        })
        .unwrap();
        let deadline = (sim.now + chrono::Duration::seconds(61)).to_rfc3339();
        sim.run_until(&deadline);
        sim.add_worker(1, "default", 1);
    }
    check(
        &mut sim,
        "
        +00:00:00 instance 1 job 1 @11-24 10:00:00 queued
        +00:00:00 instance 1 job 1 @11-24 10:00:00 running
        +00:00:00 dispatch attempt 1 (#1 manual) of instance 1 to worker 1
        +00:01:00 attempt 1 lost
        +00:01:00 instance 1 job 1 @11-24 10:00:00 queued (attempt 1 was lost with its worker; retrying)
        +00:01:01 instance 1 job 1 @11-24 10:00:00 running
        +00:01:01 dispatch attempt 2 (#2 retry) of instance 1 to worker 1
        +00:02:01 attempt 2 lost
        +00:02:01 instance 1 job 1 @11-24 10:00:00 failed (attempt 2 was lost with its worker; 2 lost attempts, no retry left)
        ",
    );
}

#[test]
fn a_worker_that_reconnects_in_time_keeps_its_attempts() {
    let mut sim = Sim::new("2026-11-24T10:00:00Z");
    sim.add_worker(1, "default", 1);
    sim.silence(1);
    sim.add_job(job(1, None, &[]));
    sim.input(Input::Trigger {
        job: JobId(1),
        kind: TriggerKind::Manual,
        params: Default::default(),
        at: None,
    })
    .unwrap();
    sim.input(Input::WorkerDisconnected {
        worker: WorkerId(1),
    })
    .unwrap();
    sim.run_until("2026-11-24T10:00:30Z");
    let hello = Input::WorkerConnected {
        worker: WorkerId(1),
        host_group: "default".to_owned(),
        slots: 1,
        known_attempts: vec![AttemptId(1)],
    };
    sim.input(hello).unwrap();
    sim.run_until("2026-11-24T10:05:00Z");
    let finished = |worker: i64| Input::AttemptFinished {
        worker: WorkerId(worker),
        attempt: AttemptId(1),
        outcome: Succeeded,
        exit_code: Some(0),
        at: at("2026-11-24T10:05:00Z"),
    };
    // A report from another worker is ignored; the right one counts once; a duplicate is ignored.
    assert_eq!(sim.input(finished(2)), Ok(Handled::Ignored));
    assert_eq!(sim.input(finished(1)), Ok(Handled::Done));
    assert_eq!(sim.input(finished(1)), Ok(Handled::Ignored));
    check(
        &mut sim,
        "
        +00:00:00 instance 1 job 1 @11-24 10:00:00 queued
        +00:00:00 instance 1 job 1 @11-24 10:00:00 running
        +00:00:00 dispatch attempt 1 (#1 manual) of instance 1 to worker 1
        +00:05:00 attempt 1 success exit 0
        +00:05:00 instance 1 job 1 @11-24 10:00:00 success
        ",
    );
}

#[test]
fn queued_instances_go_to_free_slots_of_their_group_oldest_first() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "etl", 1);
    sim.add_worker(2, "default", 1);
    let mut spec = job(1, Some("0 0 * * * ?"), &[]);
    spec.host_group = "etl".to_owned();
    sim.add_job(spec);
    let mut spec = job(2, Some("0 0 * * * ?"), &[]);
    spec.host_group = "etl".to_owned();
    sim.add_job(spec);
    sim.script(1, &[(1800, Succeeded)]);
    sim.script(2, &[(60, Succeeded)]);
    sim.run_until("2026-11-24T01:40:00Z");
    check(
        &mut sim,
        "
        +01:00:00 instance 1 job 1 @11-24 01:00:00 queued
        +01:00:00 instance 2 job 2 @11-24 01:00:00 queued
        +01:00:00 instance 1 job 1 @11-24 01:00:00 running
        +01:00:00 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
        +01:30:00 attempt 1 success exit 0
        +01:30:00 instance 1 job 1 @11-24 01:00:00 success
        +01:30:00 instance 2 job 2 @11-24 01:00:00 running
        +01:30:00 dispatch attempt 2 (#1 scheduled) of instance 2 to worker 1
        +01:31:00 attempt 2 success exit 0
        +01:31:00 instance 2 job 2 @11-24 01:00:00 success
        ",
    );
}

#[test]
fn after_downtime_the_latest_missed_slot_fires_once_and_running_attempts_wait_for_their_worker() {
    let now = at("2026-11-24T10:30:00Z");
    let snapshot = Snapshot {
        jobs: vec![job(1, Some("0 0 * * * ?"), &[])],
        // The server was down since 07:00: slots 08:00, 09:00 and 10:00 were missed.
        last_scheduled: vec![(JobId(1), at("2026-11-24T07:00:00Z"))],
        ..Snapshot::default()
    };
    let mut sim = Sim::with_engine("2026-11-24T10:30:00Z", |_| {
        let mut engine = Engine::recover(Config::default(), snapshot, now);
        engine.handle_timeout(now);
        engine
    });
    sim.add_worker(1, "default", 1);
    sim.run_until("2026-11-24T11:00:05Z");
    check(
        &mut sim,
        "
        +00:00:00 instance 1 job 1 @11-24 08:00:00 skipped (missed while the scheduler was not running (misfire policy fire_once_now))
        +00:00:00 instance 2 job 1 @11-24 09:00:00 skipped (missed while the scheduler was not running (misfire policy fire_once_now))
        +00:00:00 instance 3 job 1 @11-24 10:00:00 queued
        +00:00:00 instance 3 job 1 @11-24 10:00:00 running
        +00:00:00 dispatch attempt 1 (#1 scheduled) of instance 3 to worker 1
        +00:00:10 attempt 1 success exit 0
        +00:00:10 instance 3 job 1 @11-24 10:00:00 success
        +00:30:00 instance 4 job 1 @11-24 11:00:00 queued
        +00:30:00 instance 4 job 1 @11-24 11:00:00 running
        +00:30:00 dispatch attempt 2 (#1 scheduled) of instance 4 to worker 1
        ",
    );
}

#[test]
fn jobs_born_today_get_no_instances_for_the_past_and_disabled_jobs_none() {
    let mut sim = Sim::new("2026-11-24T10:30:00Z");
    sim.add_worker(1, "default", 1);
    let mut spec = job(1, Some("0 0 3 * * ?"), &[]);
    spec.schedule_from = at("2026-11-24T10:30:00Z");
    sim.add_job(spec);
    let mut spec = job(2, Some("0 0 * * * ?"), &[]);
    spec.enabled = false;
    sim.add_job(spec);
    sim.run_until("2026-11-25T02:59:59Z");
    check(&mut sim, "");
    sim.run_until("2026-11-25T03:00:00Z");
    check(
        &mut sim,
        "
        +16:30:00 instance 1 job 1 @11-25 03:00:00 queued
        +16:30:00 instance 1 job 1 @11-25 03:00:00 running
        +16:30:00 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
        ",
    );
}

#[test]
fn editing_dependencies_takes_effect_for_waiting_instances() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 1);
    sim.add_job(job(1, Some("0 0 5 * * ?"), &[]));
    sim.add_job(job(2, Some("0 0 1 * * ?"), &[1]));
    sim.run_until("2026-11-24T01:00:00Z");
    sim.add_job(job(2, Some("0 0 1 * * ?"), &[]));
    sim.run_until("2026-11-24T01:01:00Z");
    check(
        &mut sim,
        "
        +01:00:00 instance 1 job 2 @11-24 01:00:00 waiting (waiting for upstream: job 1 has no instance on 2026-11-24 yet)
        +01:00:00 instance 1 job 2 @11-24 01:00:00 queued
        +01:00:00 instance 1 job 2 @11-24 01:00:00 running
        +01:00:00 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
        +01:00:10 attempt 1 success exit 0
        +01:00:10 instance 1 job 2 @11-24 01:00:00 success
        ",
    );
}

#[test]
fn business_days_follow_the_downstream_zone() {
    // Job 1 runs at 23:00 UTC = 07:00 next day in Shanghai; job 2 (Shanghai, 08:00) waits for it.
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 2);
    sim.add_job(job(1, Some("0 0 23 * * ?"), &[]));
    let mut spec = job(2, Some("0 0 8 * * ?"), &[1]);
    spec.timezone = "Asia/Shanghai".to_owned();
    sim.add_job(spec);
    sim.run_until("2026-11-25T00:01:00Z");
    check(
        &mut sim,
        "
        +23:00:00 instance 1 job 1 @11-24 23:00:00 queued
        +23:00:00 instance 1 job 1 @11-24 23:00:00 running
        +23:00:00 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
        +23:00:10 attempt 1 success exit 0
        +23:00:10 instance 1 job 1 @11-24 23:00:00 success
        +24:00:00 instance 2 job 2 @11-25 00:00:00 queued
        +24:00:00 instance 2 job 2 @11-25 00:00:00 running
        +24:00:00 dispatch attempt 2 (#1 scheduled) of instance 2 to worker 1
        +24:00:10 attempt 2 success exit 0
        +24:00:10 instance 2 job 2 @11-25 00:00:00 success
        ",
    );
}

/// An engine recovered at 10:30 after running last at 07:00, for one hourly job.
fn after_downtime(misfire: MisfirePolicy, cap: u32) -> Sim {
    let now = at("2026-11-24T10:30:00Z");
    let mut spec = job(1, Some("0 0 * * * ?"), &[]);
    spec.misfire = misfire;
    let snapshot = Snapshot {
        jobs: vec![spec],
        last_scheduled: vec![(JobId(1), at("2026-11-24T07:00:00Z"))],
        ..Snapshot::default()
    };
    let config = Config {
        catch_up_cap: cap,
        ..Config::default()
    };
    let mut sim = Sim::with_engine("2026-11-24T10:30:00Z", |_| {
        Engine::recover(config, snapshot, now)
    });
    sim.add_worker(1, "default", 1);
    sim
}

#[test]
fn misfire_skip_runs_none_of_the_missed_slots_and_records_them() {
    let mut sim = after_downtime(MisfirePolicy::Skip, 100);
    sim.run_until("2026-11-24T10:30:00Z");
    check(
        &mut sim,
        "
        +00:00:00 instance 1 job 1 @11-24 08:00:00 skipped (missed while the scheduler was not running (misfire policy skip))
        +00:00:00 instance 2 job 1 @11-24 09:00:00 skipped (missed while the scheduler was not running (misfire policy skip))
        +00:00:00 instance 3 job 1 @11-24 10:00:00 skipped (missed while the scheduler was not running (misfire policy skip))
        ",
    );
}

#[test]
fn misfire_catch_up_runs_the_missed_slots_oldest_first_up_to_the_cap() {
    let mut sim = after_downtime(MisfirePolicy::CatchUp, 2);
    sim.run_until("2026-11-24T10:31:00Z");
    check(
        &mut sim,
        "
        +00:00:00 instance 1 job 1 @11-24 09:00:00 queued
        +00:00:00 instance 2 job 1 @11-24 10:00:00 queued
        +00:00:00 instance 1 job 1 @11-24 09:00:00 running
        +00:00:00 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
        +00:00:10 attempt 1 success exit 0
        +00:00:10 instance 1 job 1 @11-24 09:00:00 success
        +00:00:10 instance 2 job 1 @11-24 10:00:00 running
        +00:00:10 dispatch attempt 2 (#1 scheduled) of instance 2 to worker 1
        +00:00:20 attempt 2 success exit 0
        +00:00:20 instance 2 job 1 @11-24 10:00:00 success
        ",
    );
}

#[test]
fn misfire_beyond_the_cap_says_so() {
    let mut sim = after_downtime(MisfirePolicy::Skip, 2);
    sim.run_until("2026-11-24T10:30:00Z");
    check(
        &mut sim,
        "
        +00:00:00 instance 1 job 1 @11-24 09:00:00 skipped (missed while the scheduler was not running (misfire policy skip); older missed slots beyond 2 are not recorded)
        +00:00:00 instance 2 job 1 @11-24 10:00:00 skipped (missed while the scheduler was not running (misfire policy skip))
        ",
    );
}

#[test]
fn overlap_skip_and_queue() {
    for (policy, expected) in [
        (
            OverlapPolicy::Skip,
            "
            +00:01:00 instance 1 job 1 @11-24 00:01:00 queued
            +00:01:00 instance 1 job 1 @11-24 00:01:00 running
            +00:01:00 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
            +00:02:00 instance 2 job 1 @11-24 00:02:00 skipped (instance 1 of this job was still active (overlap policy skip))
            +00:02:30 attempt 1 success exit 0
            +00:02:30 instance 1 job 1 @11-24 00:01:00 success
            ",
        ),
        (
            OverlapPolicy::Queue,
            "
            +00:01:00 instance 1 job 1 @11-24 00:01:00 queued
            +00:01:00 instance 1 job 1 @11-24 00:01:00 running
            +00:01:00 dispatch attempt 1 (#1 scheduled) of instance 1 to worker 1
            +00:02:00 instance 2 job 1 @11-24 00:02:00 waiting (waiting for instance 1 of this job to finish (overlap policy queue))
            +00:02:30 attempt 1 success exit 0
            +00:02:30 instance 1 job 1 @11-24 00:01:00 success
            +00:02:30 instance 2 job 1 @11-24 00:02:00 queued
            +00:02:30 instance 2 job 1 @11-24 00:02:00 running
            +00:02:30 dispatch attempt 2 (#1 scheduled) of instance 2 to worker 1
            ",
        ),
    ] {
        let mut sim = Sim::new("2026-11-24T00:00:00Z");
        sim.add_worker(1, "default", 4);
        let mut spec = job(1, Some("0 * * * * ?"), &[]);
        spec.overlap = policy;
        sim.add_job(spec);
        sim.script(1, &[(90, Succeeded), (90, Succeeded)]);
        sim.run_until("2026-11-24T00:02:30Z");
        check(&mut sim, expected);
    }
}

#[test]
fn the_queue_orders_by_priority_then_business_time_then_arrival() {
    let mut sim = Sim::new("2026-11-24T10:00:00Z");
    for (id, priority) in [(1, 1), (2, 5), (3, 3), (4, 5)] {
        let mut spec = job(id, None, &[]);
        spec.priority = priority;
        sim.add_job(spec);
    }
    for id in [1, 2, 3, 4] {
        sim.input(Input::Trigger {
            job: JobId(id),
            kind: TriggerKind::Manual,
            params: Default::default(),
            at: None,
        })
        .unwrap();
    }
    sim.take_trace();
    // One slot: the two priority-5 jobs in arrival order, then priority 3, then 1.
    sim.add_worker(1, "default", 1);
    sim.run_until("2026-11-24T10:01:00Z");
    let dispatched: Vec<String> = sim
        .take_trace()
        .lines()
        .filter(|l| l.contains("dispatch"))
        .map(|l| {
            l.split("of instance ")
                .nth(1)
                .unwrap()
                .chars()
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(dispatched, ["2", "4", "3", "1"]);
}

#[test]
fn why_an_instance_has_not_started() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_job(job(1, Some("0 0 5 * * ?"), &[]));
    sim.add_job(job(2, Some("0 0 1 * * ?"), &[1]));
    sim.add_job(job(3, None, &[]));
    sim.run_until("2026-11-24T01:00:00Z");
    let why = sim.engine.why(InstanceId(1)).unwrap();
    assert_eq!(why.state, InstanceState::Waiting);
    assert_eq!(
        why.summary,
        "waiting for upstream: job 1 has no instance on 2026-11-24 yet"
    );
    assert_eq!(why.upstreams.len(), 1);
    assert!(!why.upstreams[0].done);
    assert_eq!(why.upstreams[0].due_at, Some(at("2026-11-24T05:00:00Z")));
    // Queued without any worker: the answer says so; with a busy worker, the position.
    sim.input(Input::Trigger {
        job: JobId(3),
        kind: TriggerKind::Manual,
        params: Default::default(),
        at: None,
    })
    .unwrap();
    let why = sim.engine.why(InstanceId(2)).unwrap();
    assert_eq!(
        why.summary,
        "queued: no worker of host group `default` is connected"
    );
    assert_eq!((why.queue_position, why.workers_in_group), (Some(1), 0));
    sim.add_worker(1, "default", 1);
    sim.script(3, &[(3600, Succeeded)]);
    sim.run_until("2026-11-24T01:00:01Z");
    sim.input(Input::Trigger {
        job: JobId(1),
        kind: TriggerKind::Manual,
        params: Default::default(),
        at: None,
    })
    .unwrap();
    let why = sim.engine.why(InstanceId(3)).unwrap();
    assert_eq!(
        why.summary,
        "queued at position 1 of 1: waiting for a free slot in host group `default` (0 free)"
    );
    assert_eq!(sim.engine.why(InstanceId(99)), None);
}

#[test]
fn forcing_success_releases_downstream_and_forcing_a_running_instance_is_refused() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 1);
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    sim.add_job(job(2, Some("0 0 2 * * ?"), &[1]));
    sim.script(1, &[(60, Failed)]);
    sim.script(2, &[(600, Succeeded)]);
    sim.run_until("2026-11-24T02:00:00Z");
    sim.take_trace();
    let reason = "forced to success by admin: fixed by hand".to_owned();
    let res = sim.input(Input::Force {
        instance: InstanceId(1),
        state: InstanceState::Success,
        reason,
    });
    assert_eq!(res, Ok(Handled::Instance(InstanceId(1))));
    sim.run_until("2026-11-24T02:01:00Z");
    check(
        &mut sim,
        "
        +02:00:00 instance 1 job 1 @11-24 01:00:00 success (forced to success by admin: fixed by hand)
        +02:00:00 instance 2 job 2 @11-24 02:00:00 queued
        +02:00:00 instance 2 job 2 @11-24 02:00:00 running
        +02:00:00 dispatch attempt 2 (#1 scheduled) of instance 2 to worker 1
        ",
    );
    let res = sim.input(Input::Force {
        instance: InstanceId(2),
        state: InstanceState::Skipped,
        reason: String::new(),
    });
    assert!(matches!(
        res,
        Err(EngineError::WrongState {
            state: InstanceState::Running,
            ..
        })
    ));
    let res = sim.input(Input::Force {
        instance: InstanceId(1),
        state: InstanceState::Queued,
        reason: String::new(),
    });
    assert!(matches!(res, Err(EngineError::WrongState { .. })));
}

fn with_window(
    mut spec: super::JobSpec,
    upstream: i64,
    window: DependencyWindow,
) -> super::JobSpec {
    spec.windows.insert(JobId(upstream), window);
    spec
}

#[test]
fn daily_on_hourly_waits_for_all_24_or_only_the_last() {
    for (window, ready_at) in [
        (DependencyWindow::SameDay, "2026-11-24T23:00:10Z"),
        (DependencyWindow::LastOfDay, "2026-11-24T23:00:10Z"),
    ] {
        let mut sim = Sim::new("2026-11-24T00:00:00Z");
        sim.add_worker(1, "default", 4);
        sim.add_job(job(1, Some("0 0 * * * ?"), &[]));
        sim.add_job(with_window(job(2, Some("0 30 0 * * ?"), &[1]), 1, window));
        // The 05:00 run fails: with all-24 the daily waits for ever; with only-the-last it does not care.
        sim.script(1, &[(10, Succeeded); 5]);
        sim.run_until("2026-11-24T05:00:00Z");
        sim.script(1, &[(10, Failed)]);
        sim.run_until("2026-11-24T22:59:59Z");
        assert_eq!(
            state_at(&sim, 2, "2026-11-24T00:30:00Z"),
            Some(InstanceState::Waiting),
            "{window}"
        );
        sim.run_until(ready_at);
        let expected = if window == DependencyWindow::SameDay {
            InstanceState::Waiting
        } else {
            InstanceState::Queued
        };
        let state = state_at(&sim, 2, "2026-11-24T00:30:00Z").unwrap();
        let state = if state == InstanceState::Running {
            InstanceState::Queued
        } else {
            state
        };
        assert_eq!(state, expected, "{window}");
        let why = sim
            .engine
            .why(
                *sim.engine
                    .by_job_time
                    .get(&(JobId(2), at("2026-11-24T00:30:00Z")))
                    .unwrap(),
            )
            .unwrap();
        if window == DependencyWindow::SameDay {
            assert!(why.summary.contains("is failed"), "{}", why.summary);
        }
    }
}

#[test]
fn hourly_on_daily_and_previous_day_and_same_hour() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 8);
    sim.add_job(job(1, Some("0 0 6 * * ?"), &[])); // daily at 06:00
    sim.add_job(job(2, Some("0 0 * * * ?"), &[1])); // hourly on daily: each hour waits for that day's run
    sim.add_job(with_window(
        job(3, Some("0 0 1 * * ?"), &[1]),
        1,
        DependencyWindow::PreviousDay,
    )); // T-1
    sim.add_job(job(4, Some("0 0 * * * ?"), &[]));
    sim.add_job(with_window(
        job(5, Some("0 5 * * * ?"), &[4]),
        4,
        DependencyWindow::SameHour,
    ));
    sim.run_until("2026-11-24T05:30:00Z");
    // Hourly instances before 06:00 wait for the day's run; the hourly-on-hourly one follows its hour.
    assert_eq!(
        state_at(&sim, 2, "2026-11-24T03:00:00Z"),
        Some(InstanceState::Waiting)
    );
    assert_eq!(
        state_at(&sim, 5, "2026-11-24T03:05:00Z"),
        Some(InstanceState::Success)
    );
    // T-1: the 24th has no run of job 1 on the 23rd, whose cron did fire then, so it waits.
    assert_eq!(
        state_at(&sim, 3, "2026-11-24T01:00:00Z"),
        Some(InstanceState::Waiting)
    );
    sim.run_until("2026-11-24T06:01:00Z");
    assert_eq!(
        state_at(&sim, 2, "2026-11-24T03:00:00Z"),
        Some(InstanceState::Success)
    );
    assert_eq!(
        state_at(&sim, 3, "2026-11-24T01:00:00Z"),
        Some(InstanceState::Waiting)
    );
    // The 25th's T-1 instance is released by the 24th's run as soon as it is created.
    sim.run_until("2026-11-25T01:01:00Z");
    assert_eq!(
        state_at(&sim, 3, "2026-11-25T01:00:00Z"),
        Some(InstanceState::Success)
    );
}

#[test]
fn self_dependency_waits_for_the_previous_instance() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 4);
    let mut spec = job(1, Some("0 0 * * * ?"), &[]);
    spec.self_dependent = true;
    sim.add_job(spec);
    sim.script(1, &[(60, Failed)]);
    sim.run_until("2026-11-24T02:30:00Z");
    assert_eq!(
        state_at(&sim, 1, "2026-11-24T01:00:00Z"),
        Some(InstanceState::Failed)
    );
    assert_eq!(
        state_at(&sim, 1, "2026-11-24T02:00:00Z"),
        Some(InstanceState::Waiting)
    );
    let why = sim.engine.why(InstanceId(2)).unwrap();
    assert_eq!(
        why.summary,
        "waiting for upstream: the previous instance 1 of this job is failed"
    );
    let reason = "checked by hand".to_owned();
    sim.input(Input::Force {
        instance: InstanceId(1),
        state: InstanceState::Success,
        reason,
    })
    .unwrap();
    sim.run_until("2026-11-24T02:31:00Z");
    assert_eq!(
        state_at(&sim, 1, "2026-11-24T02:00:00Z"),
        Some(InstanceState::Success)
    );
}

#[test]
fn an_upstream_that_does_not_run_that_day_does_not_hold_the_downstream() {
    // 2026-11-28 is a Saturday; job 1 runs Monday to Friday only (Quartz 2-6).
    let mut sim = Sim::new("2026-11-28T00:00:00Z");
    sim.add_worker(1, "default", 4);
    sim.add_job(job(1, Some("0 0 9 ? * 2-6"), &[]));
    sim.add_job(job(2, Some("0 0 10 * * ?"), &[1]));
    sim.run_until("2026-11-28T10:01:00Z");
    assert_eq!(
        state_at(&sim, 2, "2026-11-28T10:00:00Z"),
        Some(InstanceState::Success)
    );
    // On Monday it waits for the 09:00 run as usual.
    sim.run_until("2026-11-30T07:00:00Z");
    sim.add_job(job(2, Some("0 0 8 * * ?"), &[1]));
    sim.run_until("2026-11-30T08:00:01Z");
    assert_eq!(
        state_at(&sim, 2, "2026-11-30T08:00:00Z"),
        Some(InstanceState::Waiting)
    );
    let why = sim
        .engine
        .why(
            *sim.engine
                .by_job_time
                .get(&(JobId(2), at("2026-11-30T08:00:00Z")))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(why.upstreams[0].due_at, Some(at("2026-11-30T09:00:00Z")));
}

#[test]
fn a_cascade_reruns_each_downstream_job_once_in_dependency_order() {
    // A diamond: 1 -> 2, 1 -> 3, 2 -> 4, 3 -> 4, all daily; job 5 is not downstream of 1.
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_worker(1, "default", 4);
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    sim.add_job(job(2, None, &[1]));
    sim.add_job(job(3, None, &[1]));
    sim.add_job(job(4, None, &[2, 3]));
    sim.add_job(job(5, Some("0 0 1 * * ?"), &[]));
    sim.script(3, &[(10, Succeeded), (300, Succeeded)]);
    sim.run_until("2026-11-24T02:00:00Z");
    let first_run = sim.take_trace();
    assert_eq!(
        first_run.matches("success exit 0").count(),
        5,
        "{first_run}"
    );
    let res = sim.input(Input::Cascade {
        instance: InstanceId(1),
    });
    assert_eq!(res, Ok(Handled::Instance(InstanceId(1))));
    sim.run_until("2026-11-24T03:00:00Z");
    check(
        &mut sim,
        "
        +02:00:00 instance 1 job 1 @11-24 01:00:00 queued
        +02:00:00 instance 3 job 2 @11-24 01:00:00 waiting (cascade rerun from instance 1)
        +02:00:00 instance 4 job 3 @11-24 01:00:00 waiting (cascade rerun from instance 1)
        +02:00:00 instance 5 job 4 @11-24 01:00:00 waiting (cascade rerun from instance 1)
        +02:00:00 instance 1 job 1 @11-24 01:00:00 running
        +02:00:00 dispatch attempt 6 (#2 cascade) of instance 1 to worker 1
        +02:00:10 attempt 6 success exit 0
        +02:00:10 instance 1 job 1 @11-24 01:00:00 success
        +02:00:10 instance 3 job 2 @11-24 01:00:00 queued
        +02:00:10 instance 4 job 3 @11-24 01:00:00 queued
        +02:00:10 instance 3 job 2 @11-24 01:00:00 running
        +02:00:10 dispatch attempt 7 (#2 cascade) of instance 3 to worker 1
        +02:00:10 instance 4 job 3 @11-24 01:00:00 running
        +02:00:10 dispatch attempt 8 (#2 cascade) of instance 4 to worker 1
        +02:00:20 attempt 7 success exit 0
        +02:00:20 instance 3 job 2 @11-24 01:00:00 success
        +02:05:10 attempt 8 success exit 0
        +02:05:10 instance 4 job 3 @11-24 01:00:00 success
        +02:05:10 instance 5 job 4 @11-24 01:00:00 queued
        +02:05:10 instance 5 job 4 @11-24 01:00:00 running
        +02:05:10 dispatch attempt 9 (#2 cascade) of instance 5 to worker 1
        +02:05:20 attempt 9 success exit 0
        +02:05:20 instance 5 job 4 @11-24 01:00:00 success
        ",
    );
    // A running instance cannot start a cascade.
    let res = sim.input(Input::Cascade {
        instance: InstanceId(99),
    });
    assert_eq!(res, Err(EngineError::UnknownInstance(InstanceId(99))));
}

#[test]
fn deleting_a_job_cancels_its_instances_that_have_not_started() {
    let mut sim = Sim::new("2026-11-24T00:00:00Z");
    sim.add_job(job(1, Some("0 0 1 * * ?"), &[]));
    sim.run_until("2026-11-24T01:00:00Z");
    assert_eq!(
        sim.engine.instance(InstanceId(1)).unwrap().state,
        InstanceState::Queued
    );
    sim.input(Input::JobRemoved(JobId(1))).unwrap();
    let record = sim.engine.instance(InstanceId(1)).unwrap();
    assert_eq!(
        (record.state, record.reason.as_deref()),
        (InstanceState::Cancelled, Some("the job was deleted"))
    );
    sim.run_until("2026-11-25T02:00:00Z");
    assert!(
        sim.engine.instance(InstanceId(2)).is_none(),
        "a deleted job fires no more"
    );
}
