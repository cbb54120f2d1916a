//! One module per route.

use std::str::FromStr;

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

pub mod account;
pub mod backfill;
pub mod backfill_new;
pub mod backfills;
pub mod calendar;
pub mod calendars;
pub mod dag;
pub mod folder;
pub mod home;
pub mod ide;
pub mod instance_log;
pub mod job;
pub mod job_new;
pub mod log;
pub mod login;
pub mod register;
pub mod resources;
pub mod search;
pub mod timeline;
pub mod users;
pub mod workers;

/// The route parameter `name` parsed as an id; `None` when absent or not a number.
fn param<T: FromStr + PartialEq + Send + Sync + 'static>(name: &'static str) -> Memo<Option<T>> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get(name).and_then(|v| v.parse().ok())))
}

/// The query parameter `name` parsed; `None` when absent or unparsable.
fn query<T: FromStr + PartialEq + Send + Sync + 'static>(name: &'static str) -> Memo<Option<T>> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get(name).and_then(|v| v.parse().ok())))
}

/// Shown when the address names no valid object.
#[component]
fn BadAddress() -> impl IntoView {
    use crate::i18n::{K, t};
    view! { <div class="alert error">{move || t(K::NotFoundTitle)}</div> }
}
