//! Fan-out of live updates to browsers: one broadcast channel of [`Event`]s for
//! `/api/ws/events`, and one broadcast channel per attempt whose log somebody is tailing.
//! Slow readers lag (they get `Lagged` and resynchronise from the store); nothing here blocks the
//! scheduler or the worker connections.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use app::{api::Event, ids::AttemptId};
use tokio::sync::broadcast;

/// A log chunk as it arrived: (byte offset, text).
pub type LogChunk = (u64, Arc<str>);

/// The live-update hub. Cheap to clone.
#[derive(Clone)]
pub struct Live {
    events: broadcast::Sender<Event>,
    /// Per-attempt log channels, created on first subscription, dropped when nobody listens.
    /// A std mutex: it is never held across an await.
    logs: Arc<Mutex<HashMap<AttemptId, broadcast::Sender<LogChunk>>>>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            events: broadcast::channel(4096).0,
            logs: Arc::default(),
        }
    }
}

impl Live {
    /// Sends an event to every events subscriber.
    pub fn publish(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// Subscribes to events.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Subscribes to an attempt's new log chunks.
    pub fn subscribe_log(&self, attempt: AttemptId) -> broadcast::Receiver<LogChunk> {
        let mut logs = self.logs.lock().expect("log fan-out lock poisoned");
        logs.entry(attempt)
            .or_insert_with(|| broadcast::channel(1024).0)
            .subscribe()
    }

    /// Forwards a stored chunk to the attempt's tails, if any.
    pub fn publish_log(&self, attempt: AttemptId, offset: u64, text: &str) {
        let mut logs = self.logs.lock().expect("log fan-out lock poisoned");
        if let Some(sender) = logs.get(&attempt)
            && sender.send((offset, Arc::from(text))).is_err()
        {
            logs.remove(&attempt);
        }
    }
}
