//! The one confirmation card: a question, an optional reason (recorded in the audit trail), Confirm
//! and Cancel, and the server's message when the confirmed action failed. Test ids derive from
//! `testid`: `{testid}-form`, `-question`, `-reason`, `-confirm`, `-cancel`.

use leptos::prelude::*;

use crate::{
    components::error_view::ActionError,
    i18n::{K, t},
};

/// The card. `reason`, when given, is bound to an optional reason field; `children`, when given,
/// go below the question (what the action affects).
#[component]
pub fn ConfirmCard(
    #[prop(into)] question: Signal<String>,
    testid: &'static str,
    #[prop(optional)] reason: Option<RwSignal<String>>,
    #[prop(optional)] danger: bool,
    #[prop(into)] pending: Signal<bool>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] on_confirm: Callback<()>,
    #[prop(into)] on_cancel: Callback<()>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let reason = reason.map(|reason| {
        view! {
            <input
                class="input small confirm-reason"
                data-testid=format!("{testid}-reason")
                placeholder=move || t(K::ReasonOptional)
                aria-label=move || t(K::Reason)
                maxlength="1000"
                bind:value=reason
            />
        }
    });
    view! {
        <form
            class="card confirm-card"
            class:danger=danger
            data-testid=format!("{testid}-form")
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                on_confirm.run(());
            }
        >
            <div class="actions-form">
                <span class="actions-question" data-testid=format!("{testid}-question")>
                    {question}
                </span>
                {reason}
                <div class="actions-buttons">
                    <button
                        class="btn small primary"
                        class:danger-fill=danger
                        type="submit"
                        data-testid=format!("{testid}-confirm")
                        disabled=move || pending.get()
                    >
                        {move || t(K::Confirm)}
                    </button>
                    <button
                        class="btn small"
                        type="button"
                        data-testid=format!("{testid}-cancel")
                        on:click=move |_| on_cancel.run(())
                    >
                        {move || t(K::Cancel)}
                    </button>
                </div>
            </div>
            {children.map(|children| children())}
            <ActionError message=error />
        </form>
    }
}
