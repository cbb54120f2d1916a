//! Reusable pieces of the UI.

pub mod audit_list;
pub mod code_editor;
pub mod configs;
pub mod confirm;
pub mod dag_graph;
pub mod error_view;
pub mod ide_dialogs;
pub mod ide_tree;
pub mod instance_actions;
pub mod instance_calendar;
pub mod job_editor;
pub mod kv_rows;
pub mod layout;
pub mod log_tail;
pub mod month;
pub mod progress;
pub mod render_preview;
pub mod run_dialog;
pub mod secrets_card;
pub mod sparkline;
pub mod state_badge;
pub mod table;
pub mod text_field;
pub mod tree;
pub mod why_panel;
