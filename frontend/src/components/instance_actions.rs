//! What a user can do to an instance: run it again (`POST /api/instances/{id}/rerun`, mode
//! `manual`, `recover` or `cascade`), cancel it (`POST /api/instances/{id}/cancel`) or force its
//! state (`POST /api/instances/{id}/force`, `success`, `failed` or `skipped`, with a reason). An
//! optional reason goes with reruns and cancelling; all of them land in the audit trail.
//!
//! A "⋯" toggle in the instance's row opens a panel in a row under it ([`ActionsRow`]); the job
//! calendar shows the same [`ActionsPanel`] for the selected instance. The panel has the buttons
//! that apply to the instance's state, then a confirmation (a cascade can start many runs) or the
//! reason form (forcing), and the server's message when the action fails. A successful action
//! closes the panel (a pinned one returns to its buttons) and refetches the list.
//!
//! Like the "Why?" panels, the table owns an [`ActionsState`]: which panel is open and at which
//! step, the reason being typed and the last failure, so they outlive a rebuilt row.

use app::{
    api::{ActionReason, ForceState, Instance, Rerun},
    domain::{InstanceState, TriggerKind},
    ids::InstanceId,
};
use leptos::{ev, html, prelude::*};

use crate::{
    api::http::{self, ApiError},
    i18n::{K, fill, state_label, t},
};

/// The states a user may force an instance to, in the order the panel offers them.
const FORCE_STATES: [InstanceState; 3] = [
    InstanceState::Success,
    InstanceState::Failed,
    InstanceState::Skipped,
];

/// Whether an instance in `state` can run again: only a finished one.
fn can_rerun(state: InstanceState) -> bool {
    state.is_terminal()
}

/// The states an instance in `state` can be forced to: none while it runs, never its own.
fn force_targets(state: InstanceState) -> Vec<InstanceState> {
    if state == InstanceState::Running {
        return Vec::new();
    }
    FORCE_STATES.into_iter().filter(|s| *s != state).collect()
}

/// What an open panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// The buttons.
    Menu,
    /// "Rerun it and its whole downstream?"
    ConfirmCascade,
    /// The reason for forcing the instance to this state.
    Force(InstanceState),
}

/// A request to the server, with the reason given (required to force a state).
#[derive(Clone, Debug)]
enum Command {
    Rerun(TriggerKind, Option<String>),
    Force(InstanceState, String),
    Cancel(Option<String>),
}

/// The open panel of a table (one at a time), the reason being typed and the last failure.
#[derive(Clone, Copy)]
pub struct ActionsState {
    open: RwSignal<Option<(InstanceId, Step)>>,
    /// Optional for reruns and cancelling, required to force a state.
    reason: RwSignal<String>,
    /// Set when Confirm is pressed without a reason.
    reason_missing: RwSignal<bool>,
    /// The last failed action and the instance it was for.
    failure: RwSignal<Option<(InstanceId, ApiError)>>,
    /// The panel returns to its buttons after an action instead of closing (a selected instance).
    keep_open: bool,
    send: Action<(InstanceId, Command), ()>,
}

impl ActionsState {
    /// Nothing open; `refetch` reloads the list after a successful action, which closes the panel.
    pub fn new(refetch: Callback<()>) -> Self {
        Self::build(refetch, false)
    }

    /// For a panel that stays open on the instance it shows ([`ActionsState::show`]): a
    /// successful action returns to its buttons.
    pub fn pinned(refetch: Callback<()>) -> Self {
        Self::build(refetch, true)
    }

    fn build(refetch: Callback<()>, keep_open: bool) -> Self {
        let open = RwSignal::new(None::<(InstanceId, Step)>);
        let reason = RwSignal::new(String::new());
        let failure = RwSignal::new(None::<(InstanceId, ApiError)>);
        let send = Action::new_local(move |(id, command): &(InstanceId, Command)| {
            let (id, command) = (*id, command.clone());
            async move {
                let result = match command {
                    Command::Rerun(mode, reason) => {
                        let body = Rerun { mode, reason };
                        http::post::<_, Instance>(format!("/api/instances/{id}/rerun"), &body).await
                    }
                    Command::Force(state, reason) => {
                        let body = ForceState { state, reason };
                        http::post::<_, Instance>(format!("/api/instances/{id}/force"), &body).await
                    }
                    Command::Cancel(reason) => {
                        let body = ActionReason { reason };
                        http::post::<_, Instance>(format!("/api/instances/{id}/cancel"), &body)
                            .await
                    }
                };
                match result {
                    Ok(_) => {
                        // Unless the user has moved on to another instance meanwhile.
                        if open.try_get_untracked().flatten().map(|(i, _)| i) == Some(id) {
                            open.try_set(keep_open.then_some((id, Step::Menu)));
                            reason.try_set(String::new());
                        }
                        refetch.run(());
                    }
                    Err(err) => {
                        failure.try_set(Some((id, err)));
                    }
                }
            }
        });
        ActionsState {
            open,
            reason,
            reason_missing: RwSignal::new(false),
            failure,
            keep_open,
            send,
        }
    }

    /// The step of the panel of `id` if it is open; reactive.
    fn step(self, id: InstanceId) -> Option<Step> {
        self.open
            .with(|open| open.filter(|(i, _)| *i == id).map(|(_, step)| step))
    }

    /// Shows `step` in the panel of `id` (opening it), forgetting a failure.
    fn go(self, id: InstanceId, step: Step) {
        self.failure.set(None);
        self.reason_missing.set(false);
        self.open.set(Some((id, step)));
    }

    /// Opens the panel of `id` at its buttons, with a blank reason.
    pub fn show(self, id: InstanceId) {
        self.reason.set(String::new());
        self.go(id, Step::Menu);
    }

    /// Opens or closes the panel of `id`.
    fn toggle(self, id: InstanceId) {
        if self.open.get_untracked().is_some_and(|(i, _)| i == id) {
            self.close();
        } else {
            self.show(id);
        }
    }

    /// Closes the panel (a pinned one goes back to its buttons).
    fn close(self) {
        self.failure.set(None);
        let back = self.keep_open.then(|| self.open.get_untracked()).flatten();
        self.open.set(back.map(|(id, _)| (id, Step::Menu)));
    }

    fn run(self, id: InstanceId, command: Command) {
        self.failure.set(None);
        self.send.dispatch_local((id, command));
    }

    /// The reason typed, if any.
    fn optional_reason(self) -> Option<String> {
        Some(self.reason.get_untracked().trim().to_owned()).filter(|r| !r.is_empty())
    }

    /// Sends the reason form of `id`, unless the reason is blank.
    fn force(self, id: InstanceId, state: InstanceState) {
        let reason = self.optional_reason();
        self.reason_missing.set(reason.is_none());
        if let Some(reason) = reason {
            self.run(id, Command::Force(state, reason));
        }
    }

    fn busy(self) -> bool {
        self.send.pending().get()
    }

    /// The last failure of an action on `id`; reactive.
    fn failure(self, id: InstanceId) -> Option<ApiError> {
        self.failure.with(|failure| {
            failure
                .as_ref()
                .filter(|(i, _)| *i == id)
                .map(|(_, err)| err.clone())
        })
    }
}

/// The "⋯" button of an instance's row.
#[component]
pub fn ActionsToggle(id: InstanceId, actions: ActionsState) -> impl IntoView {
    let open = Memo::new(move |_| actions.step(id).is_some());
    view! {
        <button
            class="btn small actions-toggle"
            class:open=move || open.get()
            aria-expanded=move || open.get().to_string()
            aria-label=move || t(K::Actions)
            title=move || t(K::Actions)
            data-testid="instance-actions"
            on:click=move |_| actions.toggle(id)
        >
            "⋯"
        </button>
    }
}

/// The table row under an instance's row that holds its actions while they are open; `columns`
/// is the table's column count.
#[component]
pub fn ActionsRow(
    id: InstanceId,
    state: InstanceState,
    actions: ActionsState,
    columns: usize,
) -> impl IntoView {
    let open = Memo::new(move |_| actions.step(id).is_some());
    move || {
        open.get().then(|| {
            view! {
                <tr class="actions-row">
                    <td colspan=columns>
                        <ActionsPanel id state actions />
                    </td>
                </tr>
            }
        })
    }
}

/// The actions of instance `id` (in `state`) while its panel is open: the buttons that apply, a
/// confirmation or the reason form, and the server's message when an action failed.
#[component]
pub fn ActionsPanel(id: InstanceId, state: InstanceState, actions: ActionsState) -> impl IntoView {
    let step = Memo::new(move |_| actions.step(id));
    move || {
        step.get().map(|step| {
            let body = match step {
                Step::Menu => menu(id, state, actions).into_any(),
                Step::ConfirmCascade => confirm_cascade(id, actions).into_any(),
                Step::Force(target) => view! { <ForceForm id target actions /> }.into_any(),
            };
            view! {
                <div
                    class="actions-panel"
                    data-testid="actions-panel"
                    data-instance-id=id.0
                    on:keydown=move |ev: ev::KeyboardEvent| {
                        if ev.key() == "Escape" {
                            actions.close();
                        }
                    }
                >
                    {body}
                    {move || {
                        // The reason form shows a field's reason next to the field.
                        let forcing = matches!(step, Step::Force(_));
                        actions
                            .failure(id)
                            .filter(|err| !forcing || err.fields().is_empty())
                            .map(|err| {
                                view! {
                                    <div class="alert error" role="alert" data-testid="action-error">
                                        {err.to_string()}
                                    </div>
                                }
                            })
                    }}
                </div>
            }
        })
    }
}

/// The buttons that apply to an instance in `state`.
fn menu(id: InstanceId, state: InstanceState, actions: ActionsState) -> impl IntoView {
    let rerun = can_rerun(state).then(|| {
        let button = move |mode: TriggerKind, label: K, testid: &'static str| {
            view! {
                <button
                    class="btn small"
                    data-testid=testid
                    disabled=move || actions.busy()
                    on:click=move |_| {
                        if mode == TriggerKind::Cascade {
                            actions.go(id, Step::ConfirmCascade);
                        } else {
                            actions.run(id, Command::Rerun(mode, actions.optional_reason()));
                        }
                    }
                >
                    {move || t(label)}
                </button>
            }
        };
        view! {
            <span class="actions-label">{move || t(K::RunAgain)}</span>
            <div class="actions-buttons">
                {button(TriggerKind::Manual, K::Rerun, "action-rerun")}
                {button(TriggerKind::Recover, K::RerunRecover, "action-recover")}
                {button(TriggerKind::Cascade, K::RerunCascade, "action-cascade")}
            </div>
        }
    });
    let targets = force_targets(state);
    let force = (!targets.is_empty()).then(|| {
        let buttons = targets
            .into_iter()
            .map(|target| {
                let (label, testid) = force_label(target);
                view! {
                    <button
                        class="btn small"
                        class:danger=target == InstanceState::Failed
                        data-testid=testid
                        disabled=move || actions.busy()
                        on:click=move |_| actions.go(id, Step::Force(target))
                    >
                        {move || t(label)}
                    </button>
                }
            })
            .collect_view();
        view! {
            <span class="actions-label">{move || t(K::SetState)}</span>
            <div class="actions-buttons">{buttons}</div>
        }
    });
    let cancel = (!state.is_terminal()).then(|| {
        view! {
            <span class="actions-label">{move || t(K::Stop)}</span>
            <div class="actions-buttons">
                <button
                    class="btn small danger"
                    data-testid="action-cancel"
                    disabled=move || actions.busy()
                    on:click=move |_| actions.run(id, Command::Cancel(actions.optional_reason()))
                >
                    {move || t(K::CancelInstance)}
                </button>
            </div>
        }
    });
    view! {
        <div class="actions-menu" role="group" aria-label=move || t(K::Actions)>
            <span class="actions-label">{move || t(K::Reason)}</span>
            <input
                class="input small actions-optional-reason"
                data-testid="action-reason"
                placeholder=move || t(K::ReasonOptional)
                aria-label=move || t(K::Reason)
                maxlength="1000"
                bind:value=actions.reason
            />
            {rerun}
            {cancel}
            {force}
        </div>
    }
}

/// The label and test id of the button that forces `state`.
fn force_label(state: InstanceState) -> (K, &'static str) {
    match state {
        InstanceState::Success => (K::ForceSuccess, "action-force-success"),
        InstanceState::Skipped => (K::ForceSkip, "action-skip"),
        _ => (K::ForceFailed, "action-force-failed"),
    }
}

/// "Rerun it and its whole downstream?"
fn confirm_cascade(id: InstanceId, actions: ActionsState) -> impl IntoView {
    let number = id.0.to_string();
    view! {
        <div class="actions-form" data-testid="cascade-form">
            <span class="actions-question">
                {move || fill(t(K::CascadeQuestion), &[("id", &number)])}
            </span>
            <div class="actions-buttons">
                <button
                    class="btn small primary"
                    data-testid="cascade-confirm"
                    disabled=move || actions.busy()
                    on:click=move |_| {
                        actions.run(id, Command::Rerun(TriggerKind::Cascade, actions.optional_reason()))
                    }
                >
                    {move || t(K::Confirm)}
                </button>
                <button class="btn small" on:click=move |_| actions.go(id, Step::Menu)>
                    {move || t(K::Cancel)}
                </button>
            </div>
        </div>
    }
}

/// The reason for forcing instance `id` to `target`.
#[component]
fn ForceForm(id: InstanceId, target: InstanceState, actions: ActionsState) -> impl IntoView {
    let input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
    let number = id.0.to_string();
    let title = move || {
        fill(
            t(K::ForceQuestion),
            &[("id", &number), ("state", state_label(target.as_str()))],
        )
    };
    // A blank reason is caught here; the server's reason for the field (a 422) shows the same way.
    let field_error = move || {
        if actions.reason_missing.get() && actions.reason.with(|r| r.trim().is_empty()) {
            return Some(t(K::Required).to_owned());
        }
        actions
            .failure(id)
            .and_then(|err| err.fields().into_iter().next())
            .map(|(field, reason)| format!("{field}: {reason}"))
    };
    let field_id = format!("force-reason-{id}");
    view! {
        <form
            class="actions-form"
            data-testid="force-form"
            data-state=target.as_str()
            novalidate
            on:submit=move |ev: ev::SubmitEvent| {
                ev.prevent_default();
                actions.force(id, target);
            }
        >
            <label class="actions-question" for=field_id.clone()>
                {title}
            </label>
            <div class="actions-reason">
                <input
                    class="input small"
                    class:invalid=move || field_error().is_some()
                    id=field_id
                    node_ref=input
                    data-testid="force-reason"
                    placeholder=move || t(K::ReasonPlaceholder)
                    aria-label=move || t(K::Reason)
                    maxlength="1000"
                    bind:value=actions.reason
                />
                {move || {
                    field_error()
                        .map(|text| {
                            view! {
                                <p class="field-error" data-testid="force-reason-error">
                                    {text}
                                </p>
                            }
                        })
                }}
            </div>
            <div class="actions-buttons">
                <button
                    class="btn small primary"
                    class:danger-fill=target == InstanceState::Failed
                    type="submit"
                    data-testid="force-confirm"
                    disabled=move || actions.busy()
                >
                    {move || t(K::Confirm)}
                </button>
                <button class="btn small" type="button" on:click=move |_| actions.go(id, Step::Menu)>
                    {move || t(K::Cancel)}
                </button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finished_instances_rerun() {
        let rerun: Vec<_> = InstanceState::ALL
            .iter()
            .copied()
            .filter(|s| can_rerun(*s))
            .collect();
        assert_eq!(
            rerun,
            [
                InstanceState::Success,
                InstanceState::Failed,
                InstanceState::Cancelled,
                InstanceState::Skipped
            ]
        );
    }

    #[test]
    fn any_instance_but_a_running_one_can_be_forced_to_another_state() {
        use InstanceState::*;
        assert!(force_targets(Running).is_empty());
        assert_eq!(force_targets(Success), [Failed, Skipped]);
        assert_eq!(force_targets(Failed), [Success, Skipped]);
        assert_eq!(force_targets(Skipped), [Success, Failed]);
        for state in [Waiting, Queued, RetryWait, Cancelled] {
            assert_eq!(force_targets(state), FORCE_STATES, "{state}");
        }
        // Every target is one the domain allows from there.
        for state in InstanceState::ALL {
            for target in force_targets(*state) {
                assert!(state.can_become(target), "{state} -> {target}");
            }
        }
    }

    #[test]
    fn every_forced_state_has_its_own_button() {
        let ids: Vec<_> = FORCE_STATES.iter().map(|s| force_label(*s).1).collect();
        assert_eq!(
            ids,
            ["action-force-success", "action-force-failed", "action-skip"]
        );
    }
}
