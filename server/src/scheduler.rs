//! The scheduler driver: one task owns the [`Engine`], feeds it inputs and timeouts, and applies
//! its effects write-ahead — every `Persist` of a step is stored in one transaction before any
//! `Dispatch`/`Cancel` of that step is sent to a worker. Everyone else talks to it through a
//! cloneable [`SchedulerHandle`] (a bounded channel plus a oneshot reply). There is no lock around
//! the engine and no polling loop: the task sleeps until the next input or `poll_timeout()`.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use app::{
    api::{Event, WhyNotStarted},
    engine::{
        AttemptRecord, Effect, Engine, EngineError, Handled, Input, InstanceRecord, PlanTimes,
    },
    ids::{InstanceId, JobId, WorkerId},
    protocol::{AttemptSpec, ServerMsg},
};
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::{
    definitions::{Definitions, Generation},
    hub::Hub,
    live::Live,
    rendering::{Script, render_in, resolve_files},
    secrets::SecretBox,
    store::SecretOwner,
    store::Store,
};

type Reply = oneshot::Sender<Result<Handled, EngineError>>;
/// The most commands served before their decisions are persisted together.
const MAX_BATCH: usize = 256;

/// A backfill plan: (job, business time) pairs.
type Plan = Vec<(JobId, DateTime<Utc>)>;

/// What the driver is asked to do.
enum Command {
    /// Apply an input; reply once its effects are persisted.
    Input(Box<Input>, Option<Reply>),
    /// Answer why an instance has not started (read-only).
    Why(InstanceId, oneshot::Sender<Option<WhyNotStarted>>),
    /// The head of the dispatch queue (read-only).
    Queue(usize, oneshot::Sender<Vec<(InstanceId, String)>>),
    /// Plan a backfill (read-only).
    Plan(PlanRequest, oneshot::Sender<Result<Plan, EngineError>>),
}

/// What a backfill plan is asked for.
struct PlanRequest {
    job: JobId,
    include_downstream: bool,
    times: PlanTimes,
}

/// Why a call to the scheduler failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The engine refused the command.
    #[error(transparent)]
    Refused(#[from] EngineError),
    /// The scheduler is shutting down.
    #[error("the scheduler is stopping")]
    Stopped,
}

/// A handle to the driver task.
#[derive(Clone)]
pub struct SchedulerHandle {
    tx: mpsc::Sender<Command>,
}

impl SchedulerHandle {
    /// Sends an input and waits until its effects are persisted.
    pub async fn call(&self, input: Input) -> Result<Handled, CallError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Input(Box::new(input), Some(reply)))
            .await
            .map_err(|_| CallError::Stopped)?;
        Ok(rx.await.map_err(|_| CallError::Stopped)??)
    }

    /// Sends an input without waiting for it to be applied.
    pub async fn notify(&self, input: Input) {
        let _ = self.tx.send(Command::Input(Box::new(input), None)).await;
    }

    /// Why an instance has not started, as the engine sees it (`None` if it no longer holds it).
    pub async fn why(&self, instance: InstanceId) -> Result<Option<WhyNotStarted>, CallError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Why(instance, reply))
            .await
            .map_err(|_| CallError::Stopped)?;
        rx.await.map_err(|_| CallError::Stopped)
    }

    /// The first `limit` queued instances in dispatch order, with their host group.
    pub async fn queue(&self, limit: usize) -> Result<Vec<(InstanceId, String)>, CallError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Queue(limit, reply))
            .await
            .map_err(|_| CallError::Stopped)?;
        rx.await.map_err(|_| CallError::Stopped)
    }

    /// The (job, business time) pairs a backfill would run, as the engine's schedules say.
    pub async fn plan_backfill(
        &self,
        job: JobId,
        include_downstream: bool,
        times: PlanTimes,
    ) -> Result<Plan, CallError> {
        let (reply, rx) = oneshot::channel();
        let request = PlanRequest {
            job,
            include_downstream,
            times,
        };
        self.tx
            .send(Command::Plan(request, reply))
            .await
            .map_err(|_| CallError::Stopped)?;
        Ok(rx.await.map_err(|_| CallError::Stopped)??)
    }
}

/// How far around a business time the instances a command may touch are loaded: windows reach
/// at most one business day back (T−1) and one forward (what a T−1 edge affects), plus a day of
/// slack for zone offsets.
const CONTEXT_MARGIN: chrono::Duration = chrono::Duration::days(2);

/// Loads into the engine the instances it may need for a command on business times in
/// `[from, to]` of `jobs`: theirs and their direct upstreams', within [`CONTEXT_MARGIN`]. The
/// engine keeps only recent history; without this an old instance would look missing (and a new
/// one at the same business time would clash with the stored one).
pub async fn adopt_context(
    store: &Arc<dyn Store>,
    scheduler: &SchedulerHandle,
    jobs: &[JobId],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(), crate::error::ApiError> {
    let records = context_records(store.as_ref(), jobs, from, to).await?;
    if records.is_empty() {
        return Ok(());
    }
    scheduler
        .call(Input::Adopt(records))
        .await
        .map_err(|err| crate::error::ApiError::Internal(anyhow::anyhow!("{err}")))?;
    Ok(())
}

/// The stored instances of `jobs` and their direct upstreams around `[from, to]`.
async fn context_records(
    store: &dyn Store,
    jobs: &[JobId],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> crate::store::StoreResult<Vec<InstanceRecord>> {
    let graph = store.dependency_graph().await?;
    let mut all: std::collections::BTreeSet<JobId> = jobs.iter().copied().collect();
    for job in jobs {
        all.extend(graph.get(job).into_iter().flatten().copied());
    }
    let all: Vec<JobId> = all.into_iter().collect();
    store
        .instance_records(&all, from - CONTEXT_MARGIN, to + CONTEXT_MARGIN)
        .await
}

/// What the running and paused backfills need after a restart besides their unfinished
/// instances: the instances around their business times that their dependencies look at.
pub async fn backfill_context(
    store: &dyn Store,
    backfills: &[app::ids::BackfillId],
) -> crate::store::StoreResult<Vec<InstanceRecord>> {
    let mut out = Vec::new();
    for id in backfills {
        let members = store.backfill_members(*id).await?;
        let (Some(from), Some(to)) = (
            members.iter().map(|m| m.business_time).min(),
            members.iter().map(|m| m.business_time).max(),
        ) else {
            continue;
        };
        let jobs: Vec<JobId> = members
            .iter()
            .map(|m| m.job_id)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        out.extend(context_records(store, &jobs, from, to).await?);
    }
    Ok(out)
}

/// Per host group, the OS users its jobs may run as (`hera.run_as`), set by the server's
/// administrator — never by a request.
pub type RunAsUsers = BTreeMap<String, std::collections::BTreeSet<String>>;

/// What dispatch may hand to workers beyond the job itself.
pub struct Access {
    /// Decrypts secret configs.
    pub secrets: SecretBox,
    /// The OS users each host group's jobs may run as.
    pub run_as: RunAsUsers,
}

/// Starts nothing by itself: returns the handle and the driver future to spawn.
pub fn driver(
    engine: Engine,
    store: Arc<dyn Store>,
    hub: Hub,
    live: Live,
    access: Access,
    generation: Generation,
    cancel: CancellationToken,
) -> (SchedulerHandle, impl Future<Output = ()>) {
    let (tx, rx) = mpsc::channel(1024);
    let driver = Driver {
        engine,
        definitions: Definitions::new(store.clone(), generation),
        store,
        hub,
        live,
        secrets: access.secrets,
        run_as: access.run_as,
        rx,
        feedback: Vec::new(),
    };
    (SchedulerHandle { tx }, driver.run(cancel))
}

struct Driver {
    engine: Engine,
    store: Arc<dyn Store>,
    hub: Hub,
    live: Live,
    secrets: SecretBox,
    /// Per host group, the OS users its jobs may run as.
    run_as: RunAsUsers,
    /// Job versions, folder paths and secrets, cached for dispatching.
    definitions: Definitions,
    rx: mpsc::Receiver<Command>,
    /// Inputs the driver itself produced (a worker turned out to be gone) for the next step.
    feedback: Vec<Input>,
}

impl Driver {
    async fn run(mut self, cancel: CancellationToken) {
        // Fire whatever became due while the server was down before serving inputs.
        self.engine.handle_timeout(Utc::now());
        self.apply_effects(&cancel).await;
        loop {
            for input in std::mem::take(&mut self.feedback) {
                let _ = self.engine.handle(Utc::now(), input);
                self.apply_effects(&cancel).await;
            }
            let sleep = match self.engine.poll_timeout() {
                Some(deadline) => (deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                () = cancel.cancelled() => break,
                received = self.rx.recv() => match received {
                    None => break,
                    Some(first) => self.serve_batch(first, &cancel).await,
                },
                () = tokio::time::sleep(sleep) => {
                    self.engine.handle_timeout(Utc::now());
                    self.apply_effects(&cancel).await;
                }
            }
        }
        tracing::info!("scheduler stopped");
    }

    /// Handles `first` and whatever else is already queued (up to [`MAX_BATCH`]), then persists
    /// all their decisions in one transaction (group commit) before anything is sent or any
    /// caller hears back. Under load this turns one commit per worker report into one per batch.
    async fn serve_batch(&mut self, first: Command, cancel: &CancellationToken) {
        let mut replies = Vec::new();
        let mut next = Some(first);
        let mut served = 0;
        while let Some(command) = next.take() {
            match command {
                Command::Why(instance, reply) => {
                    let _ = reply.send(self.engine.why(instance));
                }
                Command::Queue(limit, reply) => {
                    let _ = reply.send(self.engine.queue_head(limit));
                }
                Command::Plan(request, reply) => {
                    let plan = self.engine.plan_backfill(
                        request.job,
                        request.include_downstream,
                        &request.times,
                    );
                    let _ = reply.send(plan);
                }
                Command::Input(input, reply) => {
                    let res = self.engine.handle(Utc::now(), *input);
                    replies.push((reply, res));
                }
            }
            served += 1;
            if served < MAX_BATCH {
                next = self.rx.try_recv().ok();
            }
        }
        self.apply_effects(cancel).await;
        for (reply, res) in replies {
            if let Some(reply) = reply {
                let _ = reply.send(res);
            }
        }
    }

    async fn apply_effects(&mut self, cancel: &CancellationToken) {
        let mut instances: BTreeMap<_, InstanceRecord> = BTreeMap::new();
        let mut attempts: BTreeMap<_, AttemptRecord> = BTreeMap::new();
        let mut sends = Vec::new();
        while let Some(effect) = self.engine.poll_effect() {
            match effect {
                Effect::PersistInstance(record) => {
                    instances.insert(record.id, record);
                }
                Effect::PersistAttempt(record) => {
                    attempts.insert(record.id, record);
                }
                other => sends.push(other),
            }
        }
        if instances.is_empty() && attempts.is_empty() && sends.is_empty() {
            return;
        }
        let instances: Vec<InstanceRecord> = instances.into_values().collect();
        let attempts: Vec<AttemptRecord> = attempts.into_values().collect();
        // Write-ahead: nothing is sent until the decisions are stored. A store outage blocks the
        // scheduler (and is logged) rather than letting workers run what the store does not know.
        let mut backoff = Duration::from_millis(200);
        while let Err(err) = self.store.apply(&instances, &attempts).await {
            tracing::error!(error = %err, "cannot persist scheduler decisions; retrying");
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
        let dispatches: Vec<(JobId, i64)> = sends
            .iter()
            .filter_map(|effect| match effect {
                Effect::Dispatch {
                    attempt,
                    job_version,
                    ..
                } => Some((attempt.job, *job_version)),
                _ => None,
            })
            .collect();
        if dispatches.len() > 1
            && let Err(err) = self.definitions.prefetch(&dispatches).await
        {
            // Each dispatch then reads what it needs itself (and fails on its own).
            tracing::warn!(error = %err, "cannot read ahead the definitions of a batch of dispatches");
        }
        for effect in sends {
            match effect {
                Effect::Dispatch {
                    attempt,
                    job_version,
                    scheduled_at,
                    params,
                } => {
                    self.dispatch(attempt, job_version, scheduled_at, params)
                        .await;
                }
                Effect::Cancel {
                    worker,
                    attempt,
                    reason,
                } => {
                    if !self.hub.send(worker, ServerMsg::Cancel { attempt, reason }) {
                        self.feedback.push(Input::WorkerDisconnected { worker });
                    }
                }
                Effect::Overdue {
                    attempt,
                    expected_secs,
                } => {
                    // Stored with the audit trail (shown on the job's activity); alerts come later.
                    let entry = crate::store::AuditWrite {
                        actor: "hera".to_owned(),
                        action: "attempt.overdue".to_owned(),
                        job_id: Some(attempt.job),
                        instance_id: Some(attempt.instance),
                        details: format!(
                            "attempt {} (#{}) has run longer than the expected {expected_secs} s",
                            attempt.id, attempt.number
                        ),
                        ..crate::store::AuditWrite::default()
                    };
                    if let Err(err) = self.store.record_audit(&entry, Utc::now()).await {
                        tracing::error!(error = %err, "cannot record an overdue attempt");
                    }
                }
                Effect::PersistInstance(_) | Effect::PersistAttempt(_) => {}
            }
        }
        for it in &instances {
            self.live.publish(Event::Instance {
                id: it.id,
                job_id: it.job,
                scheduled_at: it.scheduled_at,
                state: it.state,
            });
        }
        for it in &attempts {
            self.live.publish(Event::Attempt {
                id: it.id,
                instance_id: it.instance,
                job_id: it.job,
                state: it.state,
                exit_code: it.exit_code,
            });
        }
    }

    async fn dispatch(
        &mut self,
        attempt: AttemptRecord,
        job_version: i64,
        scheduled_at: DateTime<Utc>,
        params: BTreeMap<String, String>,
    ) {
        let worker: WorkerId = attempt.worker;
        let version = match self.definitions.version(attempt.job, job_version).await {
            Ok(version) => version,
            Err(err) => {
                tracing::error!(job = %attempt.job, version = job_version, error = %err, "cannot load the pinned job version");
                let reason = format!("job version {job_version} cannot be loaded");
                self.not_started(&attempt, reason).await;
                return;
            }
        };
        let path = match self.definitions.path(version.folder_id).await {
            Ok(path) => path,
            Err(err) => {
                tracing::error!(job = %attempt.job, error = %err, "cannot read the job's folders");
                let reason = "the job's folder configs cannot be read".to_owned();
                self.not_started(&attempt, reason).await;
                return;
            }
        };
        let script = Script {
            text: &version.script,
            configs: &version.configs,
            folder: Some(version.folder_id),
            timezone: &version.timezone,
            business_time: scheduled_at,
            params: &params,
        };
        let rendered = match render_in(&script, &path) {
            Ok(rendered) => rendered,
            Err(reason) => {
                let reason = format!("the script cannot be rendered: {reason}");
                self.not_started(&attempt, reason).await;
                return;
            }
        };
        let files = match resolve_files(self.store.as_ref(), &rendered.files).await {
            Ok(Ok(files)) => files,
            Ok(Err(reason)) => {
                let reason = format!("the job's files cannot be found: {reason}");
                self.not_started(&attempt, reason).await;
                return;
            }
            Err(err) => {
                tracing::error!(job = %attempt.job, error = %err, "cannot look up the job's resources");
                let reason = "the job's resources cannot be looked up".to_owned();
                self.not_started(&attempt, reason).await;
                return;
            }
        };
        let run_as = match rendered.settings.get("hera.run_as").map(|u| u.trim()) {
            None | Some("") => None,
            Some(user) => {
                let allowed = self
                    .run_as
                    .get(&version.host_group)
                    .is_some_and(|users| users.contains(user));
                if !allowed {
                    let reason = format!(
                        "hera.run_as: host group `{}` may not run jobs as OS user `{user}` \
                         (the server's --run-as setting lists the users each group allows)",
                        version.host_group
                    );
                    self.not_started(&attempt, reason).await;
                    return;
                }
                Some(user.to_owned())
            }
        };
        let secrets = match self.secrets_of(&path, attempt.job).await {
            Ok(secrets) => secrets,
            Err(err) => {
                let reason = format!("the job's secrets cannot be read: {err}");
                self.not_started(&attempt, reason).await;
                return;
            }
        };
        // Secrets reach the process as environment variables; the log never shows them (values
        // shorter than 4 characters would mask unrelated text and are not masked).
        let masks = secrets
            .values()
            .flat_map(|v| [v.clone()].into_iter().chain(url_password(v)))
            .filter(|v| v.chars().count() >= 4)
            .collect();
        let mut env: Vec<(String, String)> = secrets.into_iter().collect();
        env.extend(params);
        let spec = AttemptSpec {
            attempt: attempt.id,
            number: attempt.number,
            instance: attempt.instance,
            job_id: attempt.job,
            job_name: version.name.clone(),
            job_version,
            job_type: version.job_type,
            script: rendered.text,
            settings: rendered.settings,
            scheduled_at,
            trigger: attempt.trigger,
            // Secrets, then the trigger's run-time parameters (for this run only).
            env,
            masks,
            files,
            run_as,
        };
        if !self.hub.send(worker, ServerMsg::Dispatch(spec)) {
            // The worker vanished between the engine's choice and the send: let the engine know;
            // the attempt is declared lost after the grace period unless the worker returns.
            self.feedback.push(Input::WorkerDisconnected { worker });
        }
    }

    /// The decrypted secrets an attempt of `job` gets: its folders' (outermost first), then its
    /// own; the nearest wins.
    async fn secrets_of(
        &mut self,
        path: &[app::api::Folder],
        job: app::ids::JobId,
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let mut records = Vec::new();
        let owners = path
            .iter()
            .map(|f| SecretOwner::Folder(f.id))
            .chain([SecretOwner::Job(job)]);
        for owner in owners {
            records.push(self.definitions.secrets(owner).await?);
        }
        crate::secrets::decrypt_all(&self.secrets, records.iter().flat_map(|r| r.iter()))
    }

    /// An attempt that cannot be sent: the reason goes into its log, and it fails.
    async fn not_started(&mut self, attempt: &AttemptRecord, reason: String) {
        let line = format!(
            "{}hera: {reason}\n",
            Utc::now().format("[%Y-%m-%d %H:%M:%S%.3f] ")
        );
        if let Err(err) = self
            .store
            .append_log(attempt.id, 0, &line, Utc::now())
            .await
        {
            tracing::error!(attempt = %attempt.id, error = %err, "cannot write the attempt's log");
        }
        self.feedback.push(Input::AttemptNotStarted {
            attempt: attempt.id,
            reason,
        });
    }
}

/// The password inside a secret that is a URL (a datasource such as
/// `postgres://etl:pw@db/dw`): database errors may quote it without the rest of the URL.
fn url_password(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    let password = url.password()?;
    let decoded = percent_encoding::percent_decode_str(password).decode_utf8_lossy();
    Some(decoded.into_owned())
}
