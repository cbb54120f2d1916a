//! The one browser WebSocket wrapper: same-origin `ws://`/`wss://` URLs with the session token,
//! reconnection with exponential backoff, and closing when the owning component is cleaned up.
//!
//! [`watch_events`] builds on it the subscription to `/api/ws/events` that pages use: a counter
//! that moves whenever something they show may have changed (a matching event, a `resync`, or a
//! (re)connection, after which the page refetches over HTTP rather than trust it missed nothing).

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
    time::Duration,
};

use app::api::{CLOSE_SESSION_ENDED, CLOSE_SIGNED_OUT, Event};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::{
    app::AppState,
    i18n::{K, t_untracked},
};

/// An open (or reconnecting) WebSocket. Dropping the last handle does not close it; [`close`]
/// does, and so does the cleanup of the reactive owner it was opened under.
///
/// [`close`]: Socket::close
#[derive(Clone)]
pub struct Socket(Rc<Shared>);

struct Shared {
    url: Box<dyn Fn() -> String>,
    on_open: Box<dyn Fn()>,
    on_message: Box<dyn Fn(&str)>,
    connected: RwSignal<bool>,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    ws: Option<WebSocket>,
    // Kept alive while the socket may call them; replaced on every reconnection.
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    failures: u32,
    stopped: bool,
}

impl Socket {
    /// Opens `path` (e.g. `/api/ws/events`, evaluated again on every reconnection so it can carry
    /// a resume offset). `on_open` runs on every successful (re)connection, `on_message` for
    /// every text frame.
    pub fn open(
        path: impl Fn() -> String + 'static,
        on_open: impl Fn() + 'static,
        on_message: impl Fn(&str) + 'static,
    ) -> Socket {
        let socket = Socket(Rc::new(Shared {
            url: Box::new(path),
            on_open: Box::new(on_open),
            on_message: Box::new(on_message),
            connected: RwSignal::new(false),
            state: RefCell::default(),
        }));
        connect(&socket.0);
        let handle = SendWrapper::new(socket.clone());
        on_cleanup(move || handle.close());
        socket
    }

    /// Whether the socket is connected now.
    pub fn connected(&self) -> ReadSignal<bool> {
        self.0.connected.read_only()
    }

    /// Closes the socket for good.
    pub fn close(&self) {
        let mut state = self.0.state.borrow_mut();
        state.stopped = true;
        if let Some(ws) = state.ws.take() {
            detach(&ws);
            let _ = ws.close();
        }
        // The handlers stay until the socket is dropped: one of them may be running right now.
        self.0.connected.try_set(false);
    }
}

fn detach(ws: &WebSocket) {
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onclose(None);
}

/// `ws://host/path` or `wss://host/path` for the current page, with `access_token` appended.
fn absolute_url(path: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss:"
    } else {
        "ws:"
    };
    let host = location.host().ok()?;
    let token = AppState::get().token().unwrap_or_default();
    let separator = if path.contains('?') { '&' } else { '?' };
    let token = js_sys::encode_uri_component(&token);
    Some(format!(
        "{scheme}//{host}{path}{separator}access_token={token}"
    ))
}

fn connect(shared: &Rc<Shared>) {
    if shared.state.borrow().stopped {
        return;
    }
    let Some(ws) = absolute_url(&(shared.url)()).and_then(|url| WebSocket::new(&url).ok()) else {
        return retry_later(shared);
    };
    let weak = Rc::downgrade(shared);
    let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        if let Some(shared) = weak.upgrade() {
            shared.state.borrow_mut().failures = 0;
            shared.connected.try_set(true);
            (shared.on_open)();
        }
    });
    let weak = Rc::downgrade(shared);
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let text = event
            .dyn_into::<MessageEvent>()
            .ok()
            .and_then(|event| event.data().as_string());
        if let (Some(shared), Some(text)) = (weak.upgrade(), text) {
            (shared.on_message)(&text);
        }
    });
    let weak = Rc::downgrade(shared);
    let opened_with = AppState::get().token();
    // The server ended the session: the account was disabled or the session signed out. Sign out
    // saying why, unless this page holds a newer token by now (it changed the password, or
    // another tab signed in again; a signed-out page gives it a moment to arrive): then connect
    // again. Any other close (server restart, network loss, expired token: then the next HTTP
    // call signs the user out): try again later.
    let on_close = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let Some(shared) = weak.upgrade() else {
            return;
        };
        shared.connected.try_set(false);
        let code = event
            .dyn_into::<CloseEvent>()
            .map_or(0, |event| event.code());
        if code != CLOSE_SESSION_ENDED && code != CLOSE_SIGNED_OUT {
            return retry_later(&shared);
        }
        let why = if code == CLOSE_SESSION_ENDED {
            K::AccountDisabledMessage
        } else {
            K::SessionEndedMessage
        };
        let opened_with = opened_with.clone();
        let decide = move || {
            let state = AppState::get();
            state.session_refused(t_untracked(why), opened_with.as_deref());
            if state.token().is_some() {
                connect(&shared);
            } else {
                shared.state.borrow_mut().stopped = true;
            }
        };
        if code == CLOSE_SIGNED_OUT {
            set_timeout(decide, crate::app::RENEWAL_GRACE);
        } else {
            decide();
        }
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let mut state = shared.state.borrow_mut();
    if let Some(old) = state.ws.replace(ws) {
        detach(&old);
    }
    state.handlers = vec![on_open, on_message, on_close];
}

fn retry_later(shared: &Rc<Shared>) {
    let delay = {
        let mut state = shared.state.borrow_mut();
        if state.stopped {
            return;
        }
        state.failures = state.failures.saturating_add(1);
        // 0.5 s, 1 s, 2 s, … capped at 15 s.
        Duration::from_millis((250u64 << state.failures.min(6)).min(15_000))
    };
    let weak = Rc::downgrade(shared);
    set_timeout(
        move || {
            if let Some(shared) = weak.upgrade() {
                connect(&shared);
            }
        },
        delay,
    );
}

/// A live view of `/api/ws/events` for one page.
#[derive(Clone, Copy)]
pub struct Live {
    /// Moves whenever the page should refetch: read it inside a resource to refetch with it.
    pub changes: ReadSignal<u64>,
    /// Whether the event stream is connected now.
    pub connected: ReadSignal<bool>,
}

impl Live {
    /// The same stream moving at most once per `every`: a burst of events (a backfill finishing
    /// many instances) makes one refetch at its start and one after it, never one per event.
    pub fn throttled(self, every: Duration) -> Live {
        let (changes, set_changes) = signal(self.changes.get_untracked());
        let waiting = Rc::new(Cell::new(false));
        let source = self.changes;
        Effect::new(move |first: Option<()>| {
            source.track();
            if first.is_none() || waiting.replace(true) {
                return;
            }
            set_changes.set(source.get_untracked());
            let waiting = Rc::clone(&waiting);
            set_timeout(
                move || {
                    waiting.set(false);
                    // The events that arrived meanwhile, if any, count once now.
                    if let Some(latest) = source.try_get_untracked()
                        && changes.try_get_untracked() != Some(latest)
                    {
                        set_changes.try_set(latest);
                    }
                },
                every,
            );
        });
        Live {
            changes,
            connected: self.connected,
        }
    }
}

/// Subscribes to `/api/ws/events` for as long as the calling component lives. `matters` picks
/// the events that concern the page; `resync` and every (re)connection count too.
pub fn watch_events(matters: impl Fn(&Event) -> bool + 'static) -> Live {
    let (changes, set_changes) = signal(0u64);
    let bump = move || set_changes.try_update(|n| *n += 1);
    let socket = Socket::open(
        || "/api/ws/events".to_owned(),
        move || {
            bump();
        },
        move |text| match serde_json::from_str::<Event>(text) {
            Ok(Event::Resync) => {
                bump();
            }
            Ok(event) if matters(&event) => {
                bump();
            }
            // Events of other objects, or kinds this UI does not know yet.
            _ => {}
        },
    );
    Live {
        changes,
        connected: socket.connected(),
    }
}
