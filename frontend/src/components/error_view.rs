//! How errors are shown: [`error_fallback`] inside an `ErrorBoundary` for failed loads, and
//! [`ActionError`] next to the button whose action failed.

use leptos::prelude::*;

use crate::{
    api::http::ApiError,
    i18n::{K, t},
};

/// The fallback of an `ErrorBoundary`: every error's message, and a retry hint.
pub fn error_fallback(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="alert error" role="alert" data-testid="load-error">
            <strong>{move || t(K::LoadFailed)}</strong>
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, error)| view! { <li>{error.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// The message of a failed action, or nothing.
#[component]
pub fn ActionError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|message| {
            view! {
                <div class="alert error" role="alert" data-testid="action-error">
                    {message}
                </div>
            }
        })
    }
}

/// The loading placeholder of a `Transition`.
pub fn loading() -> impl IntoView {
    view! { <div class="loading">{move || t(K::Loading)}</div> }
}

/// The message of the last run of `action` if it failed, for an [`ActionError`].
pub fn action_error<I, T>(action: Action<I, Result<T, ApiError>>) -> Signal<Option<String>>
where
    I: Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    Signal::derive(move || {
        action.value().with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err())
                .map(ApiError::to_string)
        })
    })
}
