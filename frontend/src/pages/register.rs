//! `/register`: ask for an account (name, password twice). The account is created pending; the
//! page then says it waits for an administrator's approval.

use std::collections::BTreeMap;

use app::{
    api::{RegisterRequest, User},
    domain::{password_problem, username_problem},
};
use leptos::prelude::*;

use crate::{
    api::http::{self, ApiError},
    components::{
        error_view::{ActionError, form_errors},
        layout::LangSwitch,
        text_field::TextField,
    },
    i18n::{K, fill, t},
};

/// The fields the register form marks.
const FIELDS: &[&str] = &["username", "password", "repeat"];

/// The registration page.
#[component]
pub fn RegisterPage() -> impl IntoView {
    super::login::home_once_signed_in();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let registered = RwSignal::new(None::<String>);
    let register = Action::new_local(move |request: &RegisterRequest| {
        let request = request.clone();
        async move {
            let user: User = http::post("/api/auth/register", &request).await?;
            registered.set(Some(user.username));
            Ok::<_, ApiError>(())
        }
    });
    let local_errors = RwSignal::new(BTreeMap::<String, String>::new());
    let form = form_errors(register, local_errors, FIELDS);
    let (errors, general_error) = (form.fields, form.general);
    let reason =
        move |field: &'static str| Signal::derive(move || errors.with(|e| e.get(field).cloned()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        register.value().set(None);
        let name = username.get_untracked().trim().to_owned();
        let mut problems = account_problems(&name, &password.get_untracked());
        if password.get_untracked() != repeat.get_untracked() {
            problems.insert("repeat".to_owned(), t(K::PasswordsDiffer).to_owned());
        }
        let blocked = !problems.is_empty();
        local_errors.set(problems);
        if !blocked {
            register.dispatch_local(RegisterRequest {
                username: name,
                password: password.get_untracked(),
            });
        }
    };
    let form_view = move || {
        view! {
            <form class="login-form" novalidate on:submit=submit data-testid="register-form">
                <p class="muted field-hint">{move || t(K::RegisterHint)}</p>
                <TextField
                    label=K::Username
                    value=username
                    testid="register-username"
                    autocomplete="username"
                    error=reason("username")
                    hint=K::UsernameRule
                />
                <TextField
                    label=K::Password
                    value=password
                    testid="register-password"
                    password=true
                    autocomplete="new-password"
                    error=reason("password")
                    hint=K::PasswordRule
                />
                <TextField
                    label=K::RepeatPassword
                    value=repeat
                    testid="register-repeat"
                    password=true
                    autocomplete="new-password"
                    error=reason("repeat")
                />
                <ActionError message=general_error />
                <button
                    class="btn primary wide"
                    type="submit"
                    data-testid="register-submit"
                    disabled=move || register.pending().get()
                >
                    {move || t(K::RegisterSubmit)}
                </button>
            </form>
        }
    };
    let done_view = move |name: String| {
        view! {
            <div class="alert success" role="status" data-testid="register-done">
                {move || fill(t(K::Registered), &[("name", &name)])}
            </div>
        }
    };
    view! {
        <main class="login-page">
            <div class="card login-card">
                <div class="login-head">
                    <span class="brand-mark big">"H"</span>
                    <div>
                        <h1>{move || t(K::RegisterTitle)}</h1>
                        <p class="muted">"Hera"</p>
                    </div>
                </div>
                {move || match registered.get() {
                    Some(name) => done_view(name).into_any(),
                    None => form_view().into_any(),
                }}
                <a class="login-alt" href="/login" data-testid="login-link">
                    {move || {
                        if registered.with(Option::is_some) {
                            t(K::BackToSignIn)
                        } else {
                            t(K::HaveAccountLink)
                        }
                    }}
                </a>
                <div class="login-foot">
                    <LangSwitch />
                </div>
            </div>
        </main>
    }
}

/// The form's own check of a new account's name and password, in the UI's language (the server
/// checks the same rule).
pub(crate) fn account_problems(username: &str, password: &str) -> BTreeMap<String, String> {
    let mut problems = BTreeMap::new();
    if username_problem(username).is_some() {
        problems.insert("username".to_owned(), t(K::UsernameRule).to_owned());
    }
    if password_problem(password).is_some() {
        problems.insert("password".to_owned(), t(K::PasswordRule).to_owned());
    }
    problems
}
