//! `/`: a landing page with what there is (folders, jobs, workers) and where to start.

use app::api::Worker;
use leptos::prelude::*;

use crate::{
    api::{catalog::Catalog, http, ws::watch_events},
    i18n::{K, t},
};

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let catalog = Catalog::current();
    let live = watch_events(|event| matches!(event, app::api::Event::Worker { .. }));
    let workers = LocalResource::new(move || {
        live.changes.track();
        http::get::<Vec<Worker>>("/api/workers")
    });
    let connected = move || {
        workers.get().and_then(Result::ok).map_or_else(
            || "–".to_owned(),
            |ws| {
                format!(
                    "{} / {}",
                    ws.iter().filter(|w| w.connected).count(),
                    ws.len()
                )
            },
        )
    };
    let stat = move |label: K, value: Box<dyn Fn() -> String + Send + Sync>| {
        view! {
            <span class="stat-value">{value}</span>
            <span class="stat-label">{move || t(label)}</span>
        }
    };
    view! {
        <div class="page">
            <div class="page-head">
                <div>
                    <h1>{move || t(K::Welcome)}</h1>
                    <p class="muted">{move || t(K::WelcomeHint)}</p>
                </div>
                <div class="actions">
                    <a class="btn primary" href="/jobs/new">
                        {move || t(K::NewJob)}
                    </a>
                </div>
            </div>
            <div class="stats">
                <div class="stat card">
                    {stat(K::Folders, Box::new(move || catalog.data().folders.len().to_string()))}
                </div>
                <div class="stat card">
                    {stat(K::Jobs, Box::new(move || catalog.data().jobs.len().to_string()))}
                </div>
                <a class="stat card link" href="/workers">
                    {stat(K::WorkersConnected, Box::new(connected))}
                </a>
            </div>
        </div>
    }
}
