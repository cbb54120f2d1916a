//! The root component: client-side routes, and the global state every part of the UI reads
//! (the session's token and user, and the language).

use std::cell::Cell;

use app::api::LoginResponse;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, closure::Closure};

use crate::{
    browser,
    components::layout::Shell,
    i18n::{K, Lang, t},
    pages::{
        account::AccountPage, backfill::BackfillPage, backfill_new::NewBackfillPage,
        backfills::BackfillsPage, calendar::CalendarPage, calendars::CalendarsPage, dag::DagPage,
        folder::FolderPage, home::HomePage, ide::IdePage, instance_log::InstanceLogPage,
        job::JobPage, job_new::NewJobPage, log::LogPage, login::LoginPage, register::RegisterPage,
        resources::ResourcesPage, search::SearchPage, timeline::TimelinePage, users::UsersPage,
        workers::WorkersPage,
    },
    theme::{self, Theme},
};

const SESSION_KEY: &str = "hera.session";
const LANG_KEY: &str = "hera.lang";

/// How long a page whose session was signed out waits for a newer token (the answer to its own
/// password change, or another tab's) before it signs out.
pub const RENEWAL_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// A signed-in session, remembered in localStorage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Auth {
    /// The bearer token.
    pub token: String,
    /// Who it belongs to.
    pub username: String,
    /// When the server stops accepting it.
    pub expires_at: DateTime<Utc>,
}

/// The global state. Its signals live as long as the app, so it is `Copy` and reachable anywhere
/// (including async code and the HTTP helper) through [`AppState::get`].
#[derive(Clone, Copy)]
pub struct AppState {
    /// The session; `None` shows the login page.
    pub auth: RwSignal<Option<Auth>>,
    /// The UI language.
    pub lang: RwSignal<Lang>,
    /// The colour theme.
    pub theme: RwSignal<Theme>,
    /// Why the server ended the session (its 401 message, e.g. the account was disabled), shown
    /// on the login page until the next sign-in attempt.
    pub notice: RwSignal<Option<String>>,
}

thread_local! {
    static STATE: Cell<Option<AppState>> = const { Cell::new(None) };
}

impl AppState {
    fn init() -> Self {
        let auth = load_session();
        let lang = browser::load(LANG_KEY)
            .or_else(browser::language)
            .map_or(Lang::En, |tag| Lang::from_tag(&tag));
        let state = AppState {
            auth: RwSignal::new(auth),
            lang: RwSignal::new(lang),
            theme: RwSignal::new(theme::initial()),
            notice: RwSignal::new(None),
        };
        STATE.with(|cell| cell.set(Some(state)));
        state
    }

    /// The global state; [`App`] creates it before anything else renders.
    pub fn get() -> Self {
        STATE
            .with(Cell::get)
            .expect("App initialises the state before anything uses it")
    }

    /// Remembers a fresh session.
    pub fn sign_in(self, login: LoginResponse) {
        let auth = Auth {
            token: login.token,
            username: login.username,
            expires_at: login.expires_at,
        };
        browser::store(SESSION_KEY, serde_json::to_string(&auth).ok().as_deref());
        self.auth.set(Some(auth));
    }

    /// Forgets the session (logout, or the server answered 401).
    pub fn sign_out(self) {
        browser::store(SESSION_KEY, None);
        if self.auth.with_untracked(Option::is_some) {
            self.auth.set(None);
        }
    }

    /// The server refused `token` (a 401, or a socket closed because its session ended). If this
    /// page has moved on to another token meanwhile (it changed the password), nothing happens;
    /// if another tab of this browser stored a newer session, this page takes it over; else it
    /// signs out and keeps the server's reason for the login page. For a session that was signed
    /// out (rather than refused for good), call this after [`RENEWAL_GRACE`]: the new token of
    /// the page that changed the password may still be on its way.
    pub fn session_refused(self, reason: &str, token: Option<&str>) {
        if token.is_some() && self.token().as_deref() != token {
            return;
        }
        match load_session() {
            Some(stored) if Some(stored.token.as_str()) != token => {
                self.auth.set(Some(stored));
                return;
            }
            Some(_) => browser::store(SESSION_KEY, None),
            None => {}
        }
        if self.auth.with_untracked(Option::is_some) {
            self.notice.set(Some(reason.to_owned()));
            self.auth.set(None);
        }
    }

    /// Takes over a session another tab of this browser signs in to (or gets after changing the
    /// password), also on the login page of a session that just ended.
    fn follow_other_tabs(self) {
        let on_storage = Closure::<dyn Fn()>::new(move || {
            let Some(stored) = load_session() else { return };
            if self.token().as_deref() != Some(stored.token.as_str()) {
                self.notice.set(None);
                self.auth.set(Some(stored));
            }
        });
        if let Some(window) = web_sys::window() {
            let _ = window
                .add_event_listener_with_callback("storage", on_storage.as_ref().unchecked_ref());
        }
        // The app lives as long as the page: so does this listener.
        on_storage.forget();
    }

    /// The bearer token, if signed in.
    pub fn token(self) -> Option<String> {
        self.auth
            .with_untracked(|auth| auth.as_ref().map(|auth| auth.token.clone()))
    }

    /// Switches and remembers the language.
    pub fn set_lang(self, lang: Lang) {
        browser::store(LANG_KEY, Some(lang.tag()));
        self.lang.set(lang);
    }

    /// Switches to the other theme and remembers the choice.
    pub fn toggle_theme(self) {
        let next = self.theme.get_untracked().toggled();
        theme::remember(next);
        self.theme.set(next);
    }
}

/// The unexpired session this browser remembers, if any.
fn load_session() -> Option<Auth> {
    browser::load(SESSION_KEY)
        .and_then(|text| serde_json::from_str::<Auth>(&text).ok())
        .filter(|auth| auth.expires_at > browser::now())
}

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::init();
    Effect::new(move || browser::set_document_attribute("lang", state.lang.get().tag()));
    theme::follow(state.theme);
    state.follow_other_tabs();
    view! {
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/register") view=RegisterPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("jobs/new") view=NewJobPage />
                    <Route path=path!("jobs/:id") view=JobPage />
                    <Route path=path!("jobs/:id/dag") view=DagPage />
                    <Route path=path!("folders/:id") view=FolderPage />
                    <Route path=path!("attempts/:id/log") view=LogPage />
                    <Route path=path!("instances/:id/log") view=InstanceLogPage />
                    <Route path=path!("calendars") view=CalendarsPage />
                    <Route path=path!("calendars/:id") view=CalendarPage />
                    <Route path=path!("backfills") view=BackfillsPage />
                    <Route path=path!("backfills/new") view=NewBackfillPage />
                    <Route path=path!("backfills/:id") view=BackfillPage />
                    <Route path=path!("workers") view=WorkersPage />
                    <Route path=path!("resources") view=ResourcesPage />
                    <Route path=path!("ide") view=IdePage />
                    <Route path=path!("timeline") view=TimelinePage />
                    <Route path=path!("search") view=SearchPage />
                    <Route path=path!("users") view=UsersPage />
                    <Route path=path!("account") view=AccountPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Shown for an address no route matches.
#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main class="centered">
            <div class="card narrow">
                <h1>{move || t(K::NotFoundTitle)}</h1>
                <p>
                    <a href="/">{move || t(K::BackHome)}</a>
                </p>
            </div>
        </main>
    }
}
