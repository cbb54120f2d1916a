//! Hera's pure core, shared by the server, the worker and the browser (wasm32).
//!
//! Layout:
//! - [`ids`]: opaque newtype ids for every object.
//! - [`domain`]: jobs, instances, attempts, trigger kinds and the allowed state transitions.
//! - [`cron`]: Quartz and Unix cron expressions evaluated in IANA time zones.
//! - [`dag`]: validation of the dependency graph (cycles reported with their path).
//! - [`engine`]: the scheduler state machine (`handle` / `poll_timeout` / `poll_effect`).
//! - [`protocol`]: the server <-> worker WebSocket messages (the only contract between them).
//! - [`api`]: the REST and browser WebSocket DTOs (the only contract with the frontend).
//! - [`render`]: job scripts before they run: configs, `${zdt…}`/`$[…]` dates, quoted params.
//!
//! Invariant: nothing here performs IO, reads a clock, reads the environment or spawns.

pub mod api;
pub mod cron;
pub mod dag;
pub mod domain;
pub mod engine;
pub mod files;
pub mod ids;
pub mod protocol;
pub mod render;
pub mod sql;
