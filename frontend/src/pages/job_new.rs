//! `/jobs/new?folder=N`: the editor for a new job, in folder N when given.
//! `/jobs/new?copy=N`: the editor for a new job prefilled with everything of job N (a copy named
//! `<name>-copy`; its secrets are not copied).

use app::{
    api::Job,
    ids::{FolderId, JobId},
};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    api::http,
    components::{error_view::loading, job_editor::JobEditor},
    i18n::{K, fill, t},
    pages::query,
};

/// The new-job page.
#[component]
pub fn NewJobPage() -> impl IntoView {
    let folder = query::<FolderId>("folder");
    let copy = query::<JobId>("copy");
    move || match copy.get() {
        Some(source) => view! { <CopyJob source /> }.into_any(),
        None => {
            let navigate = use_navigate();
            view! {
                <div class="page">
                    <div class="page-head">
                        <h1>{move || t(K::NewJob)}</h1>
                    </div>
                    {move || {
                        let (saved, cancelled) = (navigate.clone(), navigate.clone());
                        view! {
                            <JobEditor
                                folder=folder.get()
                                on_saved=move |job: Job| {
                                    saved(&format!("/jobs/{}", job.id), Default::default());
                                }
                                on_cancel=move |()| cancelled("/", Default::default())
                            />
                        }
                    }}
                </div>
            }
            .into_any()
        }
    }
}

/// The editor prefilled from job `source`; Cancel goes back to it.
#[component]
fn CopyJob(source: JobId) -> impl IntoView {
    let job = LocalResource::new(move || http::get::<Job>(format!("/api/jobs/{source}")));
    let navigate = use_navigate();
    let title = move || {
        job.get()
            .and_then(Result::ok)
            .map(|job| fill(t(K::CopyJobTitle), &[("name", &job.name)]))
            .unwrap_or_else(|| t(K::NewJob).to_owned())
    };
    view! {
        <div class="page">
            <div class="page-head">
                <h1 data-testid="copy-title">{title}</h1>
            </div>
            {move || match job.get() {
                None => loading().into_any(),
                Some(Err(err)) => {
                    view! {
                        <div class="alert error" role="alert" data-testid="load-error">
                            {err.to_string()}
                        </div>
                    }
                        .into_any()
                }
                Some(Ok(template)) => {
                    let (saved, cancelled) = (navigate.clone(), navigate.clone());
                    view! {
                        <JobEditor
                            template
                            on_saved=move |job: Job| {
                                saved(&format!("/jobs/{}", job.id), Default::default());
                            }
                            on_cancel=move |()| {
                                cancelled(&format!("/jobs/{source}"), Default::default())
                            }
                        />
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
