//! `/login`: username and password; the server's message when it refuses (a wrong password, an
//! account that waits for approval or is disabled), why the last session ended if the server
//! ended it, and the way to `/register`.

use app::api::{Health, LoginRequest, LoginResponse};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    api::http::{self, ApiError},
    app::AppState,
    components::{error_view::ActionError, layout::LangSwitch},
    i18n::{K, t},
};

/// Leaves for the home page as soon as the user is signed in (the login and register pages).
pub(crate) fn home_once_signed_in() {
    let state = AppState::get();
    let navigate = use_navigate();
    Effect::new(move || {
        if state.auth.with(Option::is_some) {
            navigate("/", Default::default());
        }
    });
}

/// The login page.
#[component]
pub fn LoginPage() -> impl IntoView {
    home_once_signed_in();
    let state = AppState::get();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let login = Action::new_local(|request: &LoginRequest| {
        let request = request.clone();
        async move {
            let session: LoginResponse = http::post("/api/auth/login", &request).await?;
            AppState::get().sign_in(session);
            Ok::<_, ApiError>(())
        }
    });
    let error = Signal::derive(move || {
        login.value().with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err())
                .map(ApiError::to_string)
        })
    });
    let health = LocalResource::new(|| http::get::<Health>("/api/health"));
    let notice = state.notice;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        login.dispatch_local(LoginRequest {
            username: username.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
        });
    };
    view! {
        <main class="login-page">
            <form class="card login-card" on:submit=submit data-testid="login-form">
                <div class="login-head">
                    <span class="brand-mark big">"H"</span>
                    <div>
                        <h1>"Hera"</h1>
                        <p class="muted">{move || t(K::Tagline)}</p>
                    </div>
                </div>
                <label class="field">
                    <span class="label">{move || t(K::Username)}</span>
                    <input
                        class="input"
                        name="username"
                        autocomplete="username"
                        data-testid="login-username"
                        bind:value=username
                        required
                    />
                </label>
                <label class="field">
                    <span class="label">{move || t(K::Password)}</span>
                    <input
                        class="input"
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        data-testid="login-password"
                        bind:value=password
                        required
                    />
                </label>
                {move || {
                    notice
                        .get()
                        .map(|reason| {
                            view! {
                                <div class="alert warning" role="status" data-testid="login-notice">
                                    {reason}
                                </div>
                            }
                        })
                }}
                <ActionError message=error />
                <button
                    class="btn primary wide"
                    type="submit"
                    data-testid="login-submit"
                    disabled=move || login.pending().get()
                >
                    {move || t(K::SignIn)}
                </button>
                <a class="login-alt" href="/register" data-testid="register-link">
                    {move || t(K::CreateAccountLink)}
                </a>
                <div class="login-foot">
                    <LangSwitch />
                    <span class="muted">
                        {move || {
                            health
                                .get()
                                .and_then(Result::ok)
                                .map(|h| format!("v{}", h.version))
                        }}
                    </span>
                </div>
            </form>
        </main>
    }
}
