//! `/jobs/new?folder=N`: the editor for a new job, in folder N when given.

use app::{api::Job, ids::FolderId};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    components::job_editor::JobEditor,
    i18n::{K, t},
    pages::query,
};

/// The new-job page.
#[component]
pub fn NewJobPage() -> impl IntoView {
    let folder = query::<FolderId>("folder");
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
}
