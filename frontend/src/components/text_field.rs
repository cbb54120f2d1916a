//! A labelled text or password input with its reason under it when the form's check or the
//! server refused it (the account forms: register, add user, change password).

use leptos::prelude::*;

use crate::i18n::{K, t};

/// A labelled input bound to `value`; `error` marks it and says why; `hint` is a muted line
/// under it while there is no error.
#[component]
pub fn TextField(
    label: K,
    value: RwSignal<String>,
    testid: &'static str,
    #[prop(optional, into)] error: Signal<Option<String>>,
    #[prop(optional)] password: bool,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] hint: Option<K>,
) -> impl IntoView {
    view! {
        <label class="field" class:invalid=move || error.with(Option::is_some)>
            <span class="label">{move || t(label)}</span>
            <input
                class="input"
                type=if password { "password" } else { "text" }
                autocomplete=autocomplete
                data-testid=testid
                bind:value=value
            />
            {move || match (error.get(), hint) {
                (Some(reason), _) => {
                    view! {
                        <span class="field-error" data-testid=format!("{testid}-error")>
                            {reason}
                        </span>
                    }
                        .into_any()
                }
                (None, Some(hint)) => {
                    view! { <span class="muted field-hint">{move || t(hint)}</span> }.into_any()
                }
                (None, None) => ().into_any(),
            }}
        </label>
    }
}
