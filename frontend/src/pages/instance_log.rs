//! `/instances/:id/log`: the log of an instance's latest attempt (where the backfill page links
//! to, as its instances come without attempts); an instance that has not run says so.

use app::{api::Instance, ids::InstanceId};
use leptos::prelude::*;
use leptos_router::{NavigateOptions, hooks::use_navigate};

use crate::{
    api::http,
    components::error_view::loading,
    i18n::{K, t},
    pages::{BadAddress, param},
};

/// The redirecting page.
#[component]
pub fn InstanceLogPage() -> impl IntoView {
    let id = param::<InstanceId>("id");
    move || match id.get() {
        Some(id) => view! { <LatestAttempt id /> }.into_any(),
        None => view! { <BadAddress /> }.into_any(),
    }
}

#[component]
fn LatestAttempt(id: InstanceId) -> impl IntoView {
    let instance =
        LocalResource::new(move || http::get::<Instance>(format!("/api/instances/{id}")));
    let navigate = use_navigate();
    Effect::new(move |_| {
        let latest = instance.with(|answer| {
            answer
                .as_ref()?
                .as_ref()
                .ok()?
                .attempts
                .last()
                .map(|attempt| attempt.id)
        });
        if let Some(attempt) = latest {
            let replace = NavigateOptions {
                replace: true,
                ..Default::default()
            };
            navigate(&format!("/attempts/{attempt}/log?instance={id}"), replace);
        }
    });
    move || {
        match instance.get() {
        None => loading().into_any(),
        Some(Err(err)) => view! {
            <div class="page">
                <div class="alert error" role="alert" data-testid="load-error">
                    {err.to_string()}
                </div>
            </div>
        }
        .into_any(),
        Some(Ok(instance)) if instance.attempts.is_empty() => view! {
            <div class="page">
                <h1>{move || t(K::Instance)} <span class="muted">" #" {id.0}</span></h1>
                <p class="muted" data-testid="not-run-yet">
                    {move || t(K::NotRunYet)}
                    " "
                    <a href=format!("/jobs/{}?instance={id}", instance.job_id)>{instance.job_name}</a>
                </p>
            </div>
        }
        .into_any(),
        Some(Ok(_)) => loading().into_any(),
    }
    }
}
