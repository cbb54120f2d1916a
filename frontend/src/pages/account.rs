//! `/account`: who is signed in, a form to change one's own password (the current one, the new
//! one twice), and "sign out everywhere else". Both end the account's other sessions; this page
//! goes on with the fresh token the server answers with.

use std::collections::BTreeMap;

use app::{
    api::{LoginResponse, Me, PasswordChange},
    domain::password_problem,
};
use leptos::prelude::*;

use crate::{
    api::http::{self, ApiError},
    app::AppState,
    components::{
        error_view::{ActionError, form_errors},
        text_field::TextField,
    },
    i18n::{K, fill, t},
};

/// The fields the password form marks.
const FIELDS: &[&str] = &["current_password", "new_password", "repeat"];

/// The account page.
#[component]
pub fn AccountPage() -> impl IntoView {
    let me = LocalResource::new(|| http::get::<Me>("/api/me"));
    let who = move || {
        me.get().and_then(Result::ok).map(|me| {
            let role = t(if me.is_admin {
                K::RoleAdmin
            } else {
                K::RoleUser
            });
            fill(
                t(K::AccountRoleLine),
                &[("name", &me.username), ("role", role)],
            )
        })
    };
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let changed = RwSignal::new(false);
    let save = Action::new_local(move |body: &PasswordChange| {
        let body = body.clone();
        async move {
            let session = http::put::<_, LoginResponse>("/api/me/password", &body).await?;
            AppState::get().sign_in(session);
            current.set(String::new());
            new_password.set(String::new());
            repeat.set(String::new());
            changed.set(true);
            Ok::<_, ApiError>(())
        }
    });
    let end_others = Action::new_local(|_: &()| async move {
        let session =
            http::post::<_, LoginResponse>("/api/me/sessions/end-others", &serde_json::json!({}))
                .await?;
        AppState::get().sign_in(session);
        Ok::<_, ApiError>(())
    });
    let ended = move || matches!(end_others.value().get(), Some(Ok(())));
    let end_error = Signal::derive(move || match end_others.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    });
    let local_errors = RwSignal::new(BTreeMap::<String, String>::new());
    let form = form_errors(save, local_errors, FIELDS);
    let (errors, general_error) = (form.fields, form.general);
    let reason =
        move |field: &'static str| Signal::derive(move || errors.with(|e| e.get(field).cloned()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.value().set(None);
        changed.set(false);
        let mut problems = BTreeMap::new();
        if current.with_untracked(String::is_empty) {
            problems.insert("current_password".to_owned(), t(K::Required).to_owned());
        }
        if new_password.with_untracked(|p| password_problem(p).is_some()) {
            problems.insert("new_password".to_owned(), t(K::PasswordRule).to_owned());
        }
        if new_password.get_untracked() != repeat.get_untracked() {
            problems.insert("repeat".to_owned(), t(K::PasswordsDiffer).to_owned());
        }
        let blocked = !problems.is_empty();
        local_errors.set(problems);
        if !blocked {
            save.dispatch_local(PasswordChange {
                current_password: current.get_untracked(),
                new_password: new_password.get_untracked(),
            });
        }
    };
    view! {
        <div class="page account-page">
            <div class="page-head">
                <div>
                    <h1>{move || t(K::AccountTitle)}</h1>
                    <p class="muted page-hint" data-testid="account-who">
                        {who}
                    </p>
                </div>
            </div>
            <form
                class="card narrow login-form"
                novalidate
                on:submit=submit
                data-testid="password-form"
            >
                <h2>{move || t(K::ChangePassword)}</h2>
                <TextField
                    label=K::CurrentPassword
                    value=current
                    testid="current-password"
                    password=true
                    autocomplete="current-password"
                    error=reason("current_password")
                />
                <TextField
                    label=K::NewPassword
                    value=new_password
                    testid="new-password"
                    password=true
                    autocomplete="new-password"
                    error=reason("new_password")
                    hint=K::PasswordRule
                />
                <TextField
                    label=K::RepeatPassword
                    value=repeat
                    testid="repeat-password"
                    password=true
                    autocomplete="new-password"
                    error=reason("repeat")
                />
                <ActionError message=general_error />
                <Show when=move || changed.get()>
                    <div class="alert success" role="status" data-testid="password-changed">
                        {move || t(K::PasswordChanged)}
                    </div>
                </Show>
                <div class="form-actions">
                    <button
                        class="btn primary"
                        type="submit"
                        data-testid="change-password"
                        disabled=move || save.pending().get()
                    >
                        {move || t(K::ChangePassword)}
                    </button>
                </div>
            </form>
            <section class="card narrow login-form" data-testid="other-sessions">
                <h2>{move || t(K::OtherSessions)}</h2>
                <p class="muted account-hint">{move || t(K::OtherSessionsHint)}</p>
                <ActionError message=end_error />
                <Show when=ended>
                    <div class="alert success" role="status" data-testid="other-sessions-ended">
                        {move || t(K::OtherSessionsEnded)}
                    </div>
                </Show>
                <div class="form-actions">
                    <button
                        class="btn"
                        type="button"
                        data-testid="end-other-sessions"
                        disabled=move || end_others.pending().get()
                        on:click=move |_| {
                            end_others.dispatch_local(());
                        }
                    >
                        {move || t(K::EndOtherSessions)}
                    </button>
                </div>
            </section>
        </div>
    }
}
