//! One story through the `Store` trait, run against both backends: a fresh SQLite file always,
//! and a real PostgreSQL server (a throwaway cluster from Debian's `postgresql` package, or
//! `HERA_TEST_PG_URL`). `.ci/run` sets `HERA_REQUIRE_PG=1` so a missing PostgreSQL fails CI.

mod common;

use std::sync::Arc;

use app::{
    api::CalendarDay,
    domain::{
        AccountStatus, AttemptState, BackfillOrder, BackfillState, BackfillVersion, CalendarMode,
        DayKind, InstanceState, JobType, OnSkip, TriggerKind,
    },
    engine::{AttemptRecord, InstanceRecord},
    ids::{AttemptId, FolderId, IdeFileId, InstanceId, JobId, UserId, WorkerId},
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use server::store::{
    AuditFilter, AuditWrite, BackfillWrite, CalendarWrite, IdeFileWrite, JobWrite, NewUserRecord,
    Store, StoreError,
};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn job_write(folder: FolderId, name: &str, deps: Vec<JobId>) -> JobWrite {
    JobWrite {
        folder_id: folder,
        name: name.to_owned(),
        description: String::new(),
        job_type: JobType::Shell,
        script: format!("echo {name}"),
        configs: [("table".to_owned(), format!("dw.{name}"))].into(),
        cron: Some("0 0 1 * * ?".to_owned()),
        timezone: "Asia/Shanghai".to_owned(),
        dependency_windows: deps
            .iter()
            .map(|d| (*d, app::domain::DependencyWindow::PreviousDay))
            .collect(),
        dependency_on_skip: deps.iter().map(|d| (*d, OnSkip::Propagate)).collect(),
        dependencies: deps,
        calendar_id: None,
        calendar_mode: CalendarMode::Ignore,
        self_dependent: name == "a",
        host_group: "default".to_owned(),
        retry_count: 2,
        retry_delay_secs: 30,
        retry_backoff: app::domain::RetryBackoff::Exponential,
        retry_max_delay_secs: 600,
        timeout_secs: Some(3600),
        expected_duration_secs: None,
        enabled: true,
        priority: 4,
        overlap_policy: app::domain::OverlapPolicy::Queue,
        misfire_policy: app::domain::MisfirePolicy::CatchUp,
        slot_weight: 2,
        scratch: false,
    }
}

fn instance(id: i64, job: JobId, scheduled: &str, state: InstanceState) -> InstanceRecord {
    InstanceRecord {
        id: InstanceId(id),
        job,
        scheduled_at: at(scheduled),
        job_version: 1,
        trigger: TriggerKind::Scheduled,
        state,
        reason: None,
        created_at: at("2026-11-24T01:00:00.123456Z"),
        started_at: None,
        finished_at: None,
        attempts: 0,
        failed_attempts: 0,
        lost_attempts: 0,
        retry_at: None,
        next_trigger: TriggerKind::Scheduled,
        cancel_requested: false,
        params: [("DAY".to_owned(), format!("d{id}"))].into(),
        backfill: None,
    }
}

async fn story(store: Arc<dyn Store>) {
    let now = at("2026-11-24T10:00:00.250Z");

    // Users.
    assert_eq!(store.count_users().await.unwrap(), 0);
    let user = NewUserRecord {
        username: "ann".to_owned(),
        password_hash: "h".to_owned(),
        is_admin: false,
        status: AccountStatus::Pending,
    };
    let ann = store.create_user(&user, now).await.unwrap();
    assert_eq!(
        (ann.username.as_str(), ann.is_admin, ann.status),
        ("ann", false, AccountStatus::Pending)
    );
    assert_eq!((ann.created_at, ann.updated_at), (now, now));
    assert!(matches!(
        store.create_user(&user, now).await,
        Err(StoreError::Conflict(_))
    ));
    let stored = store.user("ann").await.unwrap();
    assert_eq!(
        (stored.id, stored.password_hash.as_str(), stored.status),
        (ann.id, "h", AccountStatus::Pending)
    );
    assert!(matches!(store.user("bob").await, Err(StoreError::NotFound)));
    let later = now + Duration::minutes(1);
    let approved = store
        .update_user(ann.id, Some(AccountStatus::Active), None, later)
        .await
        .unwrap();
    assert_eq!(
        (approved.status, approved.is_admin, approved.updated_at),
        (AccountStatus::Active, false, later)
    );
    let promoted = store
        .update_user(ann.id, None, Some(true), later)
        .await
        .unwrap();
    assert_eq!(
        (promoted.status, promoted.is_admin),
        (AccountStatus::Active, true),
        "an absent field stays as it was"
    );
    assert!(matches!(
        store
            .update_user(UserId(999), Some(AccountStatus::Disabled), None, later)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(stored.session_version, 0);
    let changed = store.set_password(ann.id, "h2", later).await.unwrap();
    assert_eq!(
        (changed.password_hash.as_str(), changed.session_version),
        ("h2", 1),
        "a password change ends the sessions"
    );
    assert_eq!(store.user("ann").await.unwrap().password_hash, "h2");
    assert_eq!(store.end_sessions(ann.id).await.unwrap().session_version, 2);
    store
        .update_user(ann.id, Some(AccountStatus::Disabled), None, later)
        .await
        .unwrap();
    store
        .update_user(ann.id, Some(AccountStatus::Disabled), None, later)
        .await
        .unwrap();
    assert_eq!(
        store.user("ann").await.unwrap().session_version,
        3,
        "disabling ends the sessions (once)"
    );
    store
        .update_user(ann.id, Some(AccountStatus::Active), None, later)
        .await
        .unwrap();
    assert_eq!(store.user("ann").await.unwrap().session_version, 3);
    assert!(matches!(
        store.end_sessions(UserId(999)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.set_password(UserId(999), "h3", later).await,
        Err(StoreError::NotFound)
    ));
    let zed = NewUserRecord {
        username: "zed".to_owned(),
        status: AccountStatus::Active,
        ..user.clone()
    };
    store.create_user(&zed, now).await.unwrap();
    let all = store.users().await.unwrap();
    let listed: Vec<(&str, AccountStatus, bool)> = all
        .iter()
        .map(|u| (u.username.as_str(), u.status, u.is_admin))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("ann", AccountStatus::Active, true),
            ("zed", AccountStatus::Active, false)
        ],
        "by name"
    );
    assert_eq!(all[0], promoted);

    // Workers.
    let w1 = store.create_worker("w1", "hash1", now).await.unwrap();
    assert!(matches!(
        store.create_worker("w1", "hash2", now).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.upsert_worker_token("w1", "hash3", now).await.unwrap(),
        w1
    );
    assert!(matches!(
        store.worker_by_token("hash1").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.worker_by_token("hash3").await.unwrap(),
        (w1, "w1".to_owned())
    );

    // Folders: sibling names are unique, also at the top level.
    let root = store.create_folder("etl", None, now).await.unwrap();
    assert!(matches!(
        store.create_folder("etl", None, now).await,
        Err(StoreError::Conflict(_))
    ));
    let child = store
        .create_folder("daily", Some(root.id), now)
        .await
        .unwrap();
    store.create_folder("daily", None, now).await.unwrap();
    assert_eq!(child.parent_id, Some(root.id));
    assert_eq!(store.folders().await.unwrap().len(), 3);

    // Jobs, versions and dependencies.
    let a = store
        .create_job(&job_write(child.id, "a", vec![]), "ann", now)
        .await
        .unwrap();
    let b = store
        .create_job(&job_write(child.id, "b", vec![a.id]), "ann", now)
        .await
        .unwrap();
    assert_eq!(
        (b.version, b.dependencies.clone(), b.owner.as_str()),
        (1, vec![a.id], "ann")
    );
    assert_eq!(
        b.dependency_windows[&a.id],
        app::domain::DependencyWindow::PreviousDay
    );
    assert_eq!(b.dependency_on_skip[&a.id], OnSkip::Propagate);
    assert!(a.self_dependent && !b.self_dependent);
    assert_eq!(
        b.created_at, now,
        "timestamps round-trip with sub-second precision"
    );
    let mut edit = job_write(child.id, "b2", vec![]);
    edit.script = "echo v2".to_owned();
    let b = store
        .update_job(b.id, &edit, now + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(
        (b.version, b.name.as_str(), b.dependencies.len()),
        (2, "b2", 0)
    );
    assert_eq!(store.job_version(b.id, 1).await.unwrap().script, "echo b");
    assert_eq!(store.job_version(b.id, 2).await.unwrap().script, "echo v2");
    assert_eq!(
        store.job_version(b.id, 2).await.unwrap().configs["table"],
        "dw.b2"
    );
    assert_eq!(b.configs["table"], "dw.b2");
    // Several versions at once: those that exist, each with its key.
    let mut found: Vec<(i64, String)> = store
        .job_versions(&[(b.id, 2), (b.id, 1), (b.id, 99)])
        .await
        .unwrap()
        .into_iter()
        .map(|((_, version), record)| (version, record.script))
        .collect();
    found.sort();
    assert_eq!(found, [(1, "echo b".to_owned()), (2, "echo v2".to_owned())]);
    assert!(matches!(
        store.update_job(JobId(999), &edit, now).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.job(JobId(999)).await,
        Err(StoreError::NotFound)
    ));
    store
        .update_job(b.id, &job_write(child.id, "b", vec![a.id]), now)
        .await
        .unwrap();
    let graph = store.dependency_graph().await.unwrap();
    assert_eq!(graph[&b.id], vec![a.id]);
    assert!(graph[&a.id].is_empty());
    assert_eq!(store.jobs(Some(child.id)).await.unwrap().len(), 2);
    assert!(store.jobs(Some(root.id)).await.unwrap().is_empty());

    // Run state written by the engine: insert, then update by id.
    let mut i1 = instance(1, a.id, "2026-11-24T01:00:00Z", InstanceState::Running);
    let i2 = instance(2, b.id, "2026-11-24T01:00:00Z", InstanceState::Waiting);
    let old = instance(3, a.id, "2026-11-20T01:00:00Z", InstanceState::Success);
    let attempt = AttemptRecord {
        id: AttemptId(7),
        instance: i1.id,
        job: a.id,
        number: 1,
        trigger: TriggerKind::Scheduled,
        state: AttemptState::Running,
        worker: w1,
        exit_code: None,
        created_at: now,
        started_at: Some(now),
        finished_at: None,
    };
    store
        .apply(
            &[i1.clone(), i2.clone(), old.clone()],
            std::slice::from_ref(&attempt),
        )
        .await
        .unwrap();
    assert_eq!(store.running_attempts().await.unwrap()[&w1].len(), 1);
    assert_eq!(store.attempt_owner(attempt.id).await.unwrap(), (w1, false));
    assert_eq!(store.attempt_instance(attempt.id).await.unwrap(), i1.id);
    assert!(matches!(
        store.attempt_instance(AttemptId(999)).await,
        Err(StoreError::NotFound)
    ));
    let snapshot = store.snapshot(at("2026-11-23T00:00:00Z")).await.unwrap();
    let mut ids: Vec<i64> = snapshot.instances.iter().map(|i| i.id.0).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![1, 2],
        "terminal instances before the horizon are not loaded"
    );
    assert_eq!(snapshot.attempts, vec![attempt.clone()]);
    assert_eq!((snapshot.max_instance_id, snapshot.max_attempt_id), (3, 7));
    assert_eq!(snapshot.jobs.len(), 2);
    let spec = snapshot.jobs.iter().find(|j| j.id == a.id).unwrap();
    assert!(spec.self_dependent);
    let spec_b = snapshot.jobs.iter().find(|j| j.id == b.id).unwrap();
    assert_eq!(
        spec_b.windows[&a.id],
        app::domain::DependencyWindow::PreviousDay
    );
    assert_eq!(
        (spec.priority, spec.overlap, spec.misfire),
        (
            4,
            app::domain::OverlapPolicy::Queue,
            app::domain::MisfirePolicy::CatchUp
        )
    );
    let mut last = snapshot.last_scheduled.clone();
    last.sort();
    assert_eq!(
        last,
        vec![
            (a.id, at("2026-11-24T01:00:00Z")),
            (b.id, at("2026-11-24T01:00:00Z"))
        ]
    );
    assert_eq!(
        snapshot.instances.iter().find(|i| i.id == i1.id).unwrap(),
        &i1
    );

    let mut finished = attempt.clone();
    finished.state = AttemptState::Success;
    finished.exit_code = Some(0);
    finished.finished_at = Some(now + Duration::milliseconds(1500));
    i1.state = InstanceState::Success;
    i1.finished_at = finished.finished_at;
    store.apply(&[i1.clone()], &[finished]).await.unwrap();
    let view = store.instance(i1.id).await.unwrap();
    assert_eq!(
        (view.state, view.job_name.as_str()),
        (InstanceState::Success, "a")
    );
    assert_eq!(view.attempts.len(), 1);
    assert_eq!(view.attempts[0].worker_name.as_deref(), Some("w1"));
    assert_eq!(view.attempts[0].exit_code, Some(0));
    assert_eq!(store.attempt_owner(attempt.id).await.unwrap(), (w1, true));
    assert!(store.running_attempts().await.unwrap().is_empty());
    let list = store.job_instances(a.id, 10, None, None).await.unwrap();
    assert_eq!(
        list.iter().map(|i| i.id.0).collect::<Vec<_>>(),
        vec![1, 3],
        "newest business time first"
    );
    assert_eq!(list[0].attempts.len(), 1);
    assert_eq!(list[0].params["DAY"], "d1");
    assert_eq!(
        store
            .job_instances(a.id, 1, None, None)
            .await
            .unwrap()
            .len(),
        1
    );
    let ranged = store
        .job_instances(
            a.id,
            10,
            Some(at("2026-11-20T00:00:00Z")),
            Some(at("2026-11-24T01:00:00Z")),
        )
        .await
        .unwrap();
    assert_eq!(
        ranged.iter().map(|i| i.id.0).collect::<Vec<_>>(),
        vec![3],
        "from inclusive, to exclusive"
    );
    let records = store
        .instance_records(
            &[a.id, b.id],
            at("2026-11-20T00:00:00Z"),
            at("2026-11-25T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(store.instance_record(i1.id).await.unwrap(), i1);
    let latest = store
        .latest_states(&[a.id, b.id, JobId(999)])
        .await
        .unwrap();
    assert_eq!(latest[&a.id], (i1.id, InstanceState::Success));
    assert_eq!(latest[&b.id], (i2.id, InstanceState::Waiting));
    assert!(!latest.contains_key(&JobId(999)));
    // The (job, business time) identity is enforced by the database.
    let duplicate = instance(9, a.id, "2026-11-24T01:00:00Z", InstanceState::Queued);
    assert!(matches!(
        store.apply(&[duplicate], &[]).await,
        Err(StoreError::Conflict(_))
    ));
    // The failed batch was rolled back whole, and the next one is written: here more rows
    // than one statement takes (SQLite writes those statement by statement).
    let many: Vec<InstanceRecord> = (100..350)
        .map(|n| {
            let time = at("2026-10-01T00:00:00Z") + Duration::hours(n);
            let mut it = instance(n, b.id, "2026-10-01T00:00:00Z", InstanceState::Waiting);
            it.scheduled_at = time;
            it
        })
        .collect();
    store.apply(&many, &[]).await.unwrap();
    let stored = store
        .instance_records(
            &[b.id],
            at("2026-10-01T00:00:00Z"),
            at("2026-11-01T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(stored.len(), 250);
    assert!(matches!(
        store.instance_record(InstanceId(9)).await,
        Err(StoreError::NotFound)
    ));

    // Deleting a job hides it from definitions and the graph; its instances stay.
    let z = store
        .create_job(&job_write(root.id, "z", vec![a.id]), "ann", now)
        .await
        .unwrap();
    store.delete_job(z.id, now).await.unwrap();
    assert!(matches!(store.job(z.id).await, Err(StoreError::NotFound)));
    assert!(matches!(
        store.delete_job(z.id, now).await,
        Err(StoreError::NotFound)
    ));
    assert!(!store.dependency_graph().await.unwrap().contains_key(&z.id));
    assert!(store.jobs(None).await.unwrap().iter().all(|j| j.id != z.id));
    assert_eq!(store.snapshot(now).await.unwrap().jobs.len(), 2);

    scheduling_story(&store, a.id, child.id, now).await;
    ide_story(&store, folder_for_ide(&store).await, now).await;
    resources_story(&store, now).await;
    assert_eq!(store.instance(i1.id).await.unwrap().job_name, "a");

    // Logs: chunks by offset, idempotent resends, overlaps, gaps, UTF-8 boundaries.
    let id = attempt.id;
    assert_eq!(store.append_log(id, 0, "héllo\n", now).await.unwrap(), 7);
    assert_eq!(
        store.append_log(id, 0, "héllo\n", now).await.unwrap(),
        7,
        "a resend is ignored"
    );
    assert_eq!(
        store.append_log(id, 20, "gap\n", now).await.unwrap(),
        7,
        "a gap stores nothing"
    );
    assert_eq!(
        store.append_log(id, 3, "llo\nworld\n", now).await.unwrap(),
        13,
        "an overlap stores the new part"
    );
    assert_eq!(
        store.read_log(id, 0, 1 << 20).await.unwrap(),
        ("héllo\nworld\n".to_owned(), 13)
    );
    assert_eq!(
        store.read_log(id, 7, 1 << 20).await.unwrap(),
        ("world\n".to_owned(), 13)
    );
    assert_eq!(
        store.read_log(id, 2, 1 << 20).await.unwrap(),
        ("llo\nworld\n".to_owned(), 13),
        "mid-character offsets move forward"
    );
    let (first, next) = store.read_log(id, 0, 3).await.unwrap();
    assert_eq!(
        (first.as_str(), next),
        ("héllo\n", 7),
        "a page ends at a chunk boundary"
    );
    assert_eq!(
        store.read_log(id, 13, 1 << 20).await.unwrap(),
        (String::new(), 13)
    );
    assert_eq!(
        store.read_log(AttemptId(12345), 0, 10).await.unwrap(),
        (String::new(), 0)
    );
}

#[tokio::test]
async fn sqlite_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("hera.db").display());
    story(server::store::open(&url).await.unwrap()).await;
    // Reopening runs no migration twice and keeps the data.
    let store = server::store::open(&url).await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 2);
}

#[tokio::test]
async fn postgres_conforms() {
    let Some(cluster) = common::PgCluster::start() else {
        assert!(
            std::env::var("HERA_REQUIRE_PG").is_err(),
            "HERA_REQUIRE_PG is set but PostgreSQL is not installed"
        );
        eprintln!("PostgreSQL is not installed here: the PostgreSQL conformance run is skipped");
        return;
    };
    story(server::store::open(&cluster.url).await.unwrap()).await;
    let store = server::store::open(&cluster.url).await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 2);
}

#[tokio::test]
async fn the_whole_server_runs_on_postgres() {
    let Some(cluster) = common::PgCluster::start() else {
        return;
    };
    let server = common::TestServer::start_with(Some(cluster.url.clone()), 1).await;
    let folder = server.folder("pg").await;
    let job = server
        .job(folder, "on-pg", "echo on postgres", serde_json::json!({}))
        .await;
    let (_, created) = server
        .post(&format!("/api/jobs/{job}/run"), serde_json::json!({}))
        .await;
    let instance = server.wait_terminal(created["id"].as_i64().unwrap()).await;
    assert_eq!(instance.state, InstanceState::Success);
    server.stop().await;
}

#[test]
fn worker_ids_are_plain_numbers_in_json() {
    assert_eq!(serde_json::to_string(&WorkerId(3)).unwrap(), "3");
}

/// Calendars, pause, versions by time, backfills and the audit trail.
async fn scheduling_story(store: &Arc<dyn Store>, a: JobId, folder: FolderId, now: DateTime<Utc>) {
    let day = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
    let mut write = CalendarWrite {
        name: "cn-work".to_owned(),
        description: "China working days".to_owned(),
        weekend: vec![6, 7],
        days: vec![
            CalendarDay {
                date: day("2026-10-01"),
                kind: DayKind::Holiday,
                note: "National Day".to_owned(),
            },
            CalendarDay {
                date: day("2026-10-10"),
                kind: DayKind::Workday,
                note: String::new(),
            },
        ],
    };
    let calendar = store.save_calendar(None, &write, now).await.unwrap();
    assert_eq!(
        (calendar.weekend.clone(), calendar.days.len()),
        (vec![6, 7], 2)
    );
    assert!(matches!(
        store.save_calendar(None, &write, now).await,
        Err(StoreError::Conflict(_))
    ));
    write.days.pop();
    write.weekend = vec![5, 6];
    let calendar = store
        .save_calendar(Some(calendar.id), &write, now)
        .await
        .unwrap();
    assert_eq!(calendar.days, write.days);
    assert_eq!(calendar.weekend, vec![5, 6]);
    // A job using it: the calendar cannot be deleted, and the job says so.
    let mut job = job_write(folder, "c", vec![]);
    job.calendar_id = Some(calendar.id);
    job.calendar_mode = CalendarMode::WorkingDays;
    let c = store.create_job(&job, "ann", now).await.unwrap();
    assert_eq!(
        (c.calendar_id, c.calendar_mode),
        (Some(calendar.id), CalendarMode::WorkingDays)
    );
    assert_eq!(
        store.calendar(calendar.id).await.unwrap().job_ids,
        vec![c.id]
    );
    match store.delete_calendar(calendar.id).await {
        Err(StoreError::Conflict(message)) => assert!(message.contains("job: c"), "{message}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let snapshot = store.snapshot(now).await.unwrap();
    assert_eq!(snapshot.calendars.len(), 1);
    assert_eq!(
        snapshot.calendars[0].days[&day("2026-10-01")],
        DayKind::Holiday
    );
    store.delete_job(c.id, now).await.unwrap();
    store.delete_calendar(calendar.id).await.unwrap();
    assert!(store.calendars().await.unwrap().is_empty());

    // Pause and resume do not make a version.
    let paused = store.set_job_paused(a, Some(now)).await.unwrap();
    assert_eq!((paused.paused, paused.paused_at), (true, Some(now)));
    let spec = store.snapshot(now).await.unwrap();
    let spec = spec.jobs.iter().find(|j| j.id == a).unwrap();
    assert_eq!(spec.paused_since, Some(now));
    let resumed = store.set_job_paused(a, None).await.unwrap();
    assert_eq!((resumed.paused, resumed.version), (false, paused.version));
    assert_eq!(
        store
            .job_version_at(a, now - Duration::days(1))
            .await
            .unwrap(),
        1,
        "before the first version: the first"
    );

    // Backfills: progress from their instances; finished once all ended.
    let id = store
        .create_backfill(
            &BackfillWrite {
                job_id: a,
                include_downstream: true,
                parallelism: 2,
                order: BackfillOrder::NewestFirst,
                version: BackfillVersion::Pinned,
                created_by: "ann".to_owned(),
                reason: Some("fix".to_owned()),
            },
            now,
        )
        .await
        .unwrap();
    let mut member = instance(40, a, "2026-10-01T01:00:00Z", InstanceState::Waiting);
    member.backfill = Some(id);
    store.apply(&[member.clone()], &[]).await.unwrap();
    let backfill = store.backfill(id).await.unwrap();
    assert_eq!(
        (
            backfill.state,
            backfill.total,
            backfill.order,
            backfill.parallelism
        ),
        (BackfillState::Running, 1, BackfillOrder::NewestFirst, 2)
    );
    assert_eq!(backfill.counts[&InstanceState::Waiting], 1);
    member.state = InstanceState::Success;
    store.apply(&[member.clone()], &[]).await.unwrap();
    assert_eq!(
        store.backfill(id).await.unwrap().state,
        BackfillState::Finished
    );
    store
        .set_backfill_state(id, BackfillState::Paused, now)
        .await
        .unwrap();
    assert!(store.snapshot(now).await.unwrap().backfills[0].paused);
    assert_eq!(store.backfills(Some(a), 10).await.unwrap().len(), 1);
    assert!(
        store
            .backfills(Some(JobId(999)), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let members = store.backfill_members(id).await.unwrap();
    assert_eq!(
        (members.len(), members[0].instance_id, members[0].state),
        (1, member.id, InstanceState::Success)
    );
    assert_eq!(
        store.instance(member.id).await.unwrap().backfill_id,
        Some(id)
    );

    // Reads for the dashboard, search, timeline, cluster and secrets run on both databases.
    let day = (at("2026-10-01T00:00:00Z"), at("2026-10-02T00:00:00Z"));
    assert_eq!(
        store.state_counts(day.0, day.1).await.unwrap()[&InstanceState::Success],
        1
    );
    assert!(
        store
            .instances_in_state(InstanceState::Success, Some(day), 10)
            .await
            .unwrap()
            .iter()
            .any(|i| i.instance_id == member.id)
    );
    assert!(
        store
            .attempt_durations(day.0, day.1)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .search_definitions("echo", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .search_definitions("50%_off", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .folder_instances(folder, day.0, day.1)
            .await
            .unwrap()
            .len(),
        1
    );
    let owner = server::store::SecretOwner::Job(a);
    let secret = server::store::SecretRecord {
        owner,
        name: "TOKEN".to_owned(),
        nonce: vec![1; 12],
        sealed: vec![2, 3, 4],
        updated_at: now,
    };
    store.set_secret(&secret).await.unwrap();
    store.set_secret(&secret).await.unwrap();
    assert_eq!(store.secrets(&[owner]).await.unwrap(), vec![secret.clone()]);
    // Several owners in one call come back in the order asked for.
    let folder_owner = server::store::SecretOwner::Folder(folder);
    let folder_secret = server::store::SecretRecord {
        owner: folder_owner,
        name: "DSN".to_owned(),
        ..secret.clone()
    };
    store.set_secret(&folder_secret).await.unwrap();
    let both = store.secrets(&[folder_owner, owner]).await.unwrap();
    assert_eq!(both, vec![folder_secret.clone(), secret.clone()]);
    let both = store.secrets(&[owner, folder_owner]).await.unwrap();
    assert_eq!(both, vec![secret.clone(), folder_secret]);
    let mut owners = store.secret_owners().await.unwrap();
    owners.sort();
    let mut expected = vec![owner, folder_owner];
    expected.sort();
    assert_eq!(owners, expected);
    store.delete_secret(folder_owner, "DSN").await.unwrap();
    store.delete_secret(owner, "TOKEN").await.unwrap();
    assert!(matches!(
        store.delete_secret(owner, "TOKEN").await,
        Err(StoreError::NotFound)
    ));
    let path = store.folder_path(folder).await.unwrap();
    assert_eq!(path.last().unwrap().id, folder);

    // The audit trail, newest first, filtered.
    for (action, instance) in [("job.run", Some(member.id)), ("job.pause", None)] {
        let entry = AuditWrite {
            actor: "ann".to_owned(),
            action: action.to_owned(),
            job_id: Some(a),
            instance_id: instance,
            reason: Some("because".to_owned()),
            details: "x".to_owned(),
            ..AuditWrite::default()
        };
        store.record_audit(&entry, now).await.unwrap();
    }
    let all = store
        .audit(
            &AuditFilter {
                job_id: Some(a),
                ..AuditFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["job.pause", "job.run"]
    );
    let one = store
        .audit(
            &AuditFilter {
                instance_id: Some(member.id),
                ..AuditFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        (one.len(), one[0].at, one[0].actor.as_str()),
        (1, now, "ann")
    );
}

async fn folder_for_ide(store: &Arc<dyn Store>) -> FolderId {
    store.folders().await.unwrap()[0].id
}

/// Development-center trees: unique names per folder and tree, recursive delete, scratch jobs
/// kept out of job lists.
async fn ide_story(store: &Arc<dyn Store>, folder: FolderId, now: DateTime<Utc>) {
    let file =
        |owner: Option<&str>, parent: Option<IdeFileId>, name: &str, is_dir: bool| IdeFileWrite {
            owner: owner.map(str::to_owned),
            parent_id: parent,
            name: name.to_owned(),
            is_dir,
            job_type: JobType::Shell,
            content: if is_dir {
                String::new()
            } else {
                format!("echo {name}")
            },
        };
    let top = store
        .create_ide_file(&file(None, None, "top", true), now)
        .await
        .unwrap();
    let inner = store
        .create_ide_file(&file(None, Some(top), "inner", true), now)
        .await
        .unwrap();
    let leaf = store
        .create_ide_file(&file(None, Some(inner), "leaf.sh", false), now)
        .await
        .unwrap();
    // The same name in another tree or folder is fine; twice in one folder of one tree is not.
    store
        .create_ide_file(&file(Some("ann"), None, "top", true), now)
        .await
        .unwrap();
    store
        .create_ide_file(&file(None, Some(top), "leaf.sh", false), now)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_ide_file(&file(None, None, "top", false), now)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let read = store.ide_file(leaf).await.unwrap();
    assert_eq!(read.file.content.as_deref(), Some("echo leaf.sh"));
    assert_eq!(read.owner, None);
    assert_eq!(store.ide_files("ann").await.unwrap().len(), 5);
    assert_eq!(
        store.ide_files("bob").await.unwrap().len(),
        4,
        "not ann's own"
    );

    let mut scratch = job_write(folder, "IDE · leaf.sh", vec![]);
    scratch.scratch = true;
    let run_job = store.create_job(&scratch, "ann", now).await.unwrap();
    store
        .link_ide_file(leaf, Some(run_job.id), None)
        .await
        .unwrap();
    assert!(
        store
            .jobs(None)
            .await
            .unwrap()
            .iter()
            .all(|j| j.id != run_job.id)
    );
    assert_eq!(store.job(run_job.id).await.unwrap().name, "IDE · leaf.sh");

    store.move_ide_file(leaf, None, now).await.unwrap();
    store.move_ide_file(leaf, Some(inner), now).await.unwrap();
    assert_eq!(store.delete_ide_file(top).await.unwrap(), vec![run_job.id]);
    assert_eq!(store.ide_files("bob").await.unwrap().len(), 0);
    assert!(matches!(
        store.ide_file(leaf).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_ide_file(top).await,
        Err(StoreError::NotFound)
    ));
}

/// Resource versions: numbered per name, listed by latest, deleted with their unused contents.
async fn resources_story(store: &Arc<dyn Store>, now: DateTime<Utc>) {
    let a1 = store
        .add_resource_version("a.jar", 10, "aa", "ann", now)
        .await
        .unwrap();
    let a2 = store
        .add_resource_version("a.jar", 12, "bb", "bob", now)
        .await
        .unwrap();
    let b1 = store
        .add_resource_version("b.csv", 12, "bb", "ann", now)
        .await
        .unwrap();
    assert_eq!((a1.version, a2.version, b1.version), (1, 2, 1));
    assert_eq!(a1.resource_id, a2.resource_id);
    let listed = store.resources().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|r| (r.name.as_str(), r.latest.version, r.latest.size))
            .collect::<Vec<_>>(),
        [("a.jar", 2, 12), ("b.csv", 1, 12)]
    );
    let a = store.resource_by_name("a.jar").await.unwrap();
    assert_eq!(
        a.versions
            .iter()
            .map(|v| v.sha256.as_str())
            .collect::<Vec<_>>(),
        ["bb", "aa"]
    );
    assert_eq!(a.created_by, "ann");
    assert_eq!(store.resource_content_size("aa").await.unwrap(), Some(10));
    // "bb" is still used by b.csv: only "aa" is free after deleting a.jar.
    assert_eq!(
        store.delete_resource(a.id).await.unwrap(),
        vec!["aa".to_owned()]
    );
    assert_eq!(store.resource_content_size("aa").await.unwrap(), None);
    assert!(matches!(
        store.resource(a.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_resource(a.id).await,
        Err(StoreError::NotFound)
    ));
}
