//! Talking to the server: [`http`] for REST, [`ws`] for the live WebSockets, [`catalog`] for the
//! folder and job lists that several parts of the UI share.

pub mod catalog;
pub mod http;
pub mod ws;
