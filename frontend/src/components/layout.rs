//! The signed-in shell: header (product, navigation with Users for administrators, theme,
//! language, the user linking to `/account`, logout), the folder/job tree
//! on the left, and the routed page on the right.

use leptos::prelude::*;
use leptos_router::{
    components::{Outlet, Redirect},
    hooks::{use_location, use_navigate},
};

use app::api::Me;

use crate::{
    api::{catalog::Catalog, http},
    app::AppState,
    components::tree::Sidebar,
    i18n::{K, Lang, t},
    theme::Theme,
};

/// Everything behind the login: redirects to `/login` while (or as soon as) there is no session.
#[component]
pub fn Shell() -> impl IntoView {
    let state = AppState::get();
    view! {
        <Show
            when=move || state.auth.with(Option::is_some)
            fallback=|| view! { <Redirect path="/login" /> }
        >
            <SignedIn />
        </Show>
    }
}

#[component]
fn SignedIn() -> impl IntoView {
    Catalog::provide();
    let location = use_location();
    let on_ide = move || {
        location
            .pathname
            .with(|path| path == "/ide" || path.starts_with("/ide/"))
    };
    view! {
        <div class="shell">
            <Header />
            <div class="shell-body">
                // The development center has file trees of its own.
                <Show when=move || !on_ide()>
                    <Sidebar />
                </Show>
                <main class="content">
                    <Outlet />
                </main>
            </div>
        </div>
    }
}

#[component]
fn Header() -> impl IntoView {
    let state = AppState::get();
    let username = move || {
        state
            .auth
            .with(|auth| auth.as_ref().map(|a| a.username.clone()))
    };
    // The administrator right as stored now (the Users link only; the server checks every call).
    let me = LocalResource::new(|| http::get::<Me>("/api/me"));
    let is_admin = move || me.get().and_then(Result::ok).is_some_and(|me| me.is_admin);
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark">"H"</span>
                "Hera"
            </a>
            <nav class="topnav">
                <a href="/">{move || t(K::NavJobs)}</a>
                <a href="/calendars" data-testid="nav-calendars">
                    {move || t(K::NavCalendars)}
                </a>
                <a href="/backfills" data-testid="nav-backfills">
                    {move || t(K::NavBackfills)}
                </a>
                <a href="/workers" data-testid="nav-workers">
                    {move || t(K::NavCluster)}
                </a>
                <a href="/timeline" data-testid="nav-timeline">
                    {move || t(K::NavTimeline)}
                </a>
                <a href="/resources" data-testid="nav-resources">
                    {move || t(K::NavResources)}
                </a>
                <a href="/ide" data-testid="nav-ide">
                    {move || t(K::NavIde)}
                </a>
                <Show when=is_admin>
                    <a href="/users" data-testid="nav-users">
                        {move || t(K::NavUsers)}
                    </a>
                </Show>
            </nav>
            <div class="spacer"></div>
            <TopSearch />
            <ThemeToggle />
            <LangSwitch />
            <a class="user" href="/account" data-testid="current-user">
                {username}
            </a>
            <button class="btn ghost" data-testid="logout" on:click=move |_| state.sign_out()>
                {move || t(K::Logout)}
            </button>
        </header>
    }
}

/// The top bar's search box: Enter opens `/search?q=…`.
#[component]
fn TopSearch() -> impl IntoView {
    let navigate = use_navigate();
    let text = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = text.get_untracked();
        // The search page has its own box with the text; this one is ready for the next search.
        text.set(String::new());
        navigate(
            &format!("/search?q={}", js_sys::encode_uri_component(q.trim())),
            Default::default(),
        );
    };
    view! {
        <form class="top-search" role="search" on:submit=submit>
            <input
                type="search"
                class="input"
                data-testid="top-search"
                placeholder=move || t(K::TopSearch)
                aria-label=move || t(K::SearchTitle)
                bind:value=text
            />
        </form>
    }
}

/// The light / dark switch: shows the theme a click switches to.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let state = AppState::get();
    let dark = move || state.theme.get() == Theme::Dark;
    let label = move || t(if dark() { K::ThemeLight } else { K::ThemeDark });
    view! {
        <button
            class="btn ghost theme-toggle"
            data-testid="theme-toggle"
            data-theme=move || state.theme.get().name()
            title=label
            aria-label=label
            on:click=move |_| state.toggle_theme()
        >
            {move || if dark() { "☀" } else { "☾" }}
        </button>
    }
}

/// The EN / 中文 switch (also on the login page).
#[component]
pub fn LangSwitch() -> impl IntoView {
    let state = AppState::get();
    let button = move |lang: Lang, label: &'static str| {
        view! {
            <button
                class="seg"
                class:active=move || state.lang.get() == lang
                data-testid=format!("lang-{}", lang.tag())
                on:click=move |_| state.set_lang(lang)
            >
                {label}
            </button>
        }
    };
    view! {
        <div class="segmented" role="group" aria-label="Language">
            {button(Lang::En, "EN")}
            {button(Lang::Zh, "中文")}
        </div>
    }
}
