//! Reusable pieces of the UI.

pub mod dag_graph;
pub mod error_view;
pub mod instance_actions;
pub mod job_editor;
pub mod layout;
pub mod log_tail;
pub mod state_badge;
pub mod table;
pub mod tree;
pub mod why_panel;
