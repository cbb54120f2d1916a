//! How errors are shown: [`error_fallback`] inside an `ErrorBoundary` for failed loads, and
//! [`ActionError`] next to the button whose action failed.

use std::collections::BTreeMap;

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

/// What a form shows of its errors.
pub struct FormErrors {
    /// Per field: the form's own check's reasons, else the server's.
    pub fields: Memo<BTreeMap<String, String>>,
    /// Above the buttons: "fix the marked fields" when every reason sits next to one of the
    /// form's fields, otherwise the server's message (a conflict, an outage).
    pub general: Signal<Option<String>>,
    local: RwSignal<BTreeMap<String, String>>,
}

impl FormErrors {
    /// The server's reason for `field` only: a refusal by the form's own check just blocks the
    /// save (the field's own rows say why).
    pub fn server_reason(&self, field: &'static str) -> Signal<Option<String>> {
        let (local, fields) = (self.local, self.fields);
        Signal::derive(move || {
            if local.with(|own| own.contains_key(field)) {
                return None;
            }
            fields.with(|reasons| reasons.get(field).cloned())
        })
    }
}

/// The errors of a form whose own check writes `local` and whose `save` the server may refuse;
/// `fields` are those the form marks.
pub fn form_errors<I, T>(
    save: Action<I, Result<T, ApiError>>,
    local: RwSignal<BTreeMap<String, String>>,
    fields: &'static [&'static str],
) -> FormErrors
where
    I: Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    let per_field = Memo::new(move |_| {
        let own = local.get();
        if !own.is_empty() {
            return own;
        }
        save.value().with(|v| match v {
            Some(Err(err)) => err.fields(),
            _ => BTreeMap::new(),
        })
    });
    let general = Signal::derive(move || {
        let marked = |reasons: &BTreeMap<String, String>| {
            !reasons.is_empty() && reasons.keys().all(|field| fields.contains(&field.as_str()))
        };
        if local.with(marked) {
            return Some(t(K::FixFields).to_owned());
        }
        save.value().with(|v| match v {
            Some(Err(err)) if marked(&err.fields()) => Some(t(K::FixFields).to_owned()),
            Some(Err(err)) => Some(err.to_string()),
            _ => None,
        })
    });
    FormErrors {
        fields: per_field,
        general,
        local,
    }
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
