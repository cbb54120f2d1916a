//! The colour theme: light or dark. A user's choice is remembered in localStorage; without one
//! the UI follows the system's `prefers-color-scheme`, also when it changes while the UI is open.
//! The theme is applied as `<html data-theme="…">`, which `style/main.css` keys its colour
//! variables on; CodeMirror and cytoscape follow the [`AppState`](crate::app::AppState) signal.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};

use crate::browser;

const THEME_KEY: &str = "hera.theme";
const DARK_QUERY: &str = "(prefers-color-scheme: dark)";

/// A colour theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    /// Dark text on light surfaces.
    Light,
    /// Light text on dark surfaces.
    Dark,
}

impl Theme {
    /// The name in `data-theme` and localStorage.
    pub fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The other theme.
    pub fn toggled(self) -> Theme {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }

    fn from_name(name: &str) -> Option<Theme> {
        match name {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    fn of_system(dark: bool) -> Theme {
        if dark { Theme::Dark } else { Theme::Light }
    }
}

fn dark_query() -> Option<web_sys::MediaQueryList> {
    web_sys::window()?.match_media(DARK_QUERY).ok().flatten()
}

/// The theme to start with: the remembered choice, else the system's.
pub fn initial() -> Theme {
    browser::load(THEME_KEY)
        .and_then(|name| Theme::from_name(&name))
        .unwrap_or_else(|| Theme::of_system(dark_query().is_some_and(|q| q.matches())))
}

/// Remembers `theme` as the user's choice.
pub fn remember(theme: Theme) {
    browser::store(THEME_KEY, Some(theme.name()));
}

/// Keeps `<html data-theme>` equal to `theme`, and `theme` equal to the system's preference for as
/// long as the user has not chosen one.
pub fn follow(theme: RwSignal<Theme>) {
    Effect::new(move || browser::set_document_attribute("data-theme", theme.get().name()));
    let Some(query) = dark_query() else { return };
    let on_change = Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
        let dark = event
            .dyn_into::<web_sys::MediaQueryListEvent>()
            .is_ok_and(|event| event.matches());
        if browser::load(THEME_KEY).is_none() {
            theme.try_set(Theme::of_system(dark));
        }
    });
    let _ = query.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
    // The app lives as long as the page: so does this listener.
    on_change.forget();
}
