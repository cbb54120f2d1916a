//! `/attempts/:id/log?instance=N`: an attempt's live log, with the attempt's state and exit code
//! (from its instance, refreshed on the attempt's events and when the log is complete). Without
//! `?instance=` the attempt itself (`GET /api/attempts/{id}`) names its instance; an attempt that
//! does not exist shows the server's message instead of a log.

use app::{
    api::{Attempt, Event, Instance},
    ids::{AttemptId, InstanceId},
};
use leptos::prelude::*;

use crate::{
    api::{
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{log_tail::LogTail, state_badge::StateBadge},
    i18n::{K, t, trigger_label},
    pages::{BadAddress, param, query},
};

/// The log page.
#[component]
pub fn LogPage() -> impl IntoView {
    let id = param::<AttemptId>("id");
    let instance = query::<InstanceId>("instance");
    move || match id.get() {
        Some(id) => view! { <AttemptLog id instance=instance.get() /> }.into_any(),
        None => view! { <BadAddress /> }.into_any(),
    }
}

#[component]
fn AttemptLog(id: AttemptId, instance: Option<InstanceId>) -> impl IntoView {
    let complete = RwSignal::new(false);
    // The attempt's instance: from the address, else asked of the server once and remembered.
    let known = StoredValue::new(instance);
    let live = watch_events(
        move |event| matches!(event, Event::Attempt { id: attempt, .. } if *attempt == id),
    );
    let details = LocalResource::new(move || {
        live.changes.track();
        complete.track();
        async move {
            let from_address = known.get_value();
            let instance = match from_address {
                Some(instance) => instance,
                None => attempt_instance(id).await?,
            };
            let mut details = http::get::<Instance>(format!("/api/instances/{instance}")).await?;
            if from_address.is_some() && !details.attempts.iter().any(|a| a.id == id) {
                // The address named another instance: ask the attempt where it belongs.
                let instance = attempt_instance(id).await?;
                details = http::get::<Instance>(format!("/api/instances/{instance}")).await?;
            }
            known.set_value(Some(details.id));
            Ok::<_, ApiError>(details)
        }
    });
    // The attempt does not exist (or is not visible): say so and do not follow its log.
    let missing = Memo::new(move |_| {
        details.with(|d| matches!(d, Some(Err(ApiError::Server { status: 404, .. }))))
    });
    let header = move || {
        Suspend::new(async move {
            let instance = match details.await {
                Ok(instance) => instance,
                Err(err) => {
                    let what = if matches!(err, ApiError::Server { status: 404, .. }) {
                        K::AttemptMissing
                    } else {
                        K::LoadFailed
                    };
                    return view! {
                        <h1>
                            {move || t(K::Attempt)}
                            <span class="muted">" #" {id.0}</span>
                        </h1>
                        <div class="alert error" role="alert" data-testid="load-error">
                            <strong>{move || t(what)}</strong>
                            ": "
                            {err.to_string()}
                        </div>
                    }
                    .into_any();
                }
            };
            let attempt = instance.attempts.iter().find(|a| a.id == id).cloned();
            let job = format!("/jobs/{}", instance.job_id);
            view! {
                <div>
                    <div class="crumbs">
                        <a href=job data-testid="log-job-link">
                            {instance.job_name.clone()}
                        </a>
                        " · "
                        {move || t(K::Instance)}
                        " #"
                        {instance.id.0}
                        " · "
                        {browser::local(instance.scheduled_at)}
                    </div>
                    <h1>
                        {move || t(K::Attempt)} " " {attempt.as_ref().map(|a| a.number)}
                        <span class="muted">" #" {id.0}</span>
                    </h1>
                </div>
                {attempt
                    .map(|a| {
                        let exit_code =
                            a.exit_code.map_or_else(|| "–".to_owned(), |c| c.to_string());
                        let worker = a.worker_name.clone().unwrap_or_else(|| "–".to_owned());
                        view! {
                            <dl class="facts" data-testid="attempt-facts">
                                <div>
                                    <dt>{move || t(K::State)}</dt>
                                    <dd data-testid="attempt-state">
                                        <StateBadge state=a.state />
                                    </dd>
                                </div>
                                <div>
                                    <dt>{move || t(K::ExitCode)}</dt>
                                    <dd class="mono" data-testid="attempt-exit-code">
                                        {exit_code}
                                    </dd>
                                </div>
                                <div>
                                    <dt>{move || t(K::Trigger)}</dt>
                                    <dd>{trigger_label(a.trigger)}</dd>
                                </div>
                                <div>
                                    <dt>{move || t(K::Worker)}</dt>
                                    <dd>{worker}</dd>
                                </div>
                                <div>
                                    <dt>{move || t(K::Started)}</dt>
                                    <dd>{browser::local_opt(a.started_at)}</dd>
                                </div>
                                <div>
                                    <dt>{move || t(K::Duration)}</dt>
                                    <dd>{browser::elapsed(a.started_at, a.finished_at)}</dd>
                                </div>
                            </dl>
                        }
                    })}
            }
            .into_any()
        })
    };
    view! {
        <div class="page log-page">
            <div class="page-head column">
                <Transition fallback=|| ()>{header}</Transition>
            </div>
            // Unmounting the tail closes its socket: no endless reconnection to a missing attempt.
            <Show when=move || !missing.get()>
                <LogTail attempt=id on_complete=move |()| complete.set(true) />
            </Show>
        </div>
    }
}

/// The instance of attempt `id`, asked of the server.
async fn attempt_instance(id: AttemptId) -> Result<InstanceId, ApiError> {
    Ok(http::get::<Attempt>(format!("/api/attempts/{id}"))
        .await?
        .instance_id)
}
