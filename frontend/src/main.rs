//! Hera's web UI: a Leptos client-side-rendered app compiled to WASM and built by Trunk.
//!
//! Layout:
//! - [`app`]: the router and the global state (session, language, theme).
//! - [`theme`]: the light and dark colour themes.
//! - [`i18n`]: the one catalogue of UI strings, English and Simplified Chinese.
//! - [`api`]: the typed HTTP helper, the WebSocket wrapper and the folder/job catalogue.
//! - [`interop`]: the only bindings to the JavaScript bundle (cytoscape, CodeMirror).
//! - [`dag_model`]: the DAG explorer's shown jobs, search and layered layout.
//! - [`log_buffer`]: the log viewer's compact line store, search and virtual-list arithmetic.
//! - [`components`] and [`pages`]: what is drawn.

mod api;
mod app;
mod browser;
mod components;
mod dag_model;
mod gantt_model;
mod i18n;
mod interop;
mod log_buffer;
mod pages;
mod theme;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
