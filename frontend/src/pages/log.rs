//! `/attempts/:id/log?instance=N`: an attempt's live log, with the attempt's state and exit code
//! (from its instance, refreshed on the attempt's events and when the log is complete).

use app::{
    api::{Event, Instance},
    ids::{AttemptId, InstanceId},
};
use leptos::prelude::*;

use crate::{
    api::{
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{error_view::error_fallback, log_tail::LogTail, state_badge::StateBadge},
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
    // Known from the address, or learnt from the attempt's next event.
    let instance = RwSignal::new(instance);
    let live = watch_events(move |event| match event {
        Event::Attempt {
            id: attempt,
            instance_id,
            ..
        } if *attempt == id => {
            if instance.get_untracked().is_none() {
                instance.set(Some(*instance_id));
            }
            true
        }
        _ => false,
    });
    let details = LocalResource::new(move || {
        live.changes.track();
        complete.track();
        let instance = instance.get();
        async move {
            match instance {
                Some(instance) => http::get::<Instance>(format!("/api/instances/{instance}"))
                    .await
                    .map(Some),
                None => Ok(None),
            }
        }
    });
    let header = move || {
        Suspend::new(async move {
            let Some(instance) = details.await? else {
                return Ok(view! { <h1>{move || t(K::Attempt)} " #" {id.0}</h1> }.into_any());
            };
            let attempt = instance.attempts.iter().find(|a| a.id == id).cloned();
            let job = format!("/jobs/{}", instance.job_id);
            Ok::<_, ApiError>(
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
                .into_any(),
            )
        })
    };
    view! {
        <div class="page log-page">
            <div class="page-head column">
                <Transition fallback=|| ()>
                    <ErrorBoundary fallback=error_fallback>{header}</ErrorBoundary>
                </Transition>
            </div>
            <LogTail attempt=id on_complete=move |()| complete.set(true) />
        </div>
    }
}
