//! Browser WebSockets: `/api/ws/events` (live instance/attempt/worker changes) and
//! `/api/ws/attempts/{id}/log?offset=N` (a live tail of one attempt's log). Both need a session
//! token (the `access_token` query parameter, checked by the auth layer) and refuse a foreign
//! `Origin` (cross-site WebSocket hijacking). A socket whose account is disabled while it is open
//! closes with [`CLOSE_SESSION_ENDED`] and the reason; one whose session was signed out (password
//! change, "sign out everywhere") with [`CLOSE_SIGNED_OUT`].

use app::{
    api::{CLOSE_SESSION_ENDED, CLOSE_SIGNED_OUT, Event, LogMessage},
    ids::AttemptId,
};
use axum::{
    Extension,
    extract::{
        Query, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use tokio::sync::broadcast::error::RecvError;

use super::{
    ApiPath,
    runs::{Offset, read_log_page},
};
use crate::{
    AppState,
    auth::{self, CurrentUser},
    error::{ApiError, ApiResult},
};

/// The largest message a browser may send on its sockets: it sends none but pings and closes, so
/// anything bigger is refused (the socket closes) before it is buffered.
const BROWSER_MESSAGE_LIMIT: usize = 64 << 10;

/// Refuses a handshake whose `Origin` names another host than the one it was sent to.
fn check_origin(headers: &HeaderMap) -> ApiResult<()> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin.split("://").nth(1).unwrap_or(origin);
    if origin_host.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "WebSocket origin `{origin}` is not this server"
        )))
    }
}

/// Why a socket's session ended: the close frame to send.
struct Ended {
    code: u16,
    reason: String,
}

/// Waits until `user`'s session ends (its account disabled or gone, or the session signed out),
/// then says why. Woken by [`AppState::account_revision`]; never returns while the session stays
/// valid.
async fn session_gone(state: &AppState, user: &CurrentUser) -> Ended {
    let mut revisions = state.account_revision.subscribe();
    loop {
        if revisions.changed().await.is_err() {
            // The server is going away; the shutdown branch ends the socket.
            std::future::pending::<()>().await;
        }
        let now = auth::current_account(state.store.as_ref(), &user.username, user.session_version);
        let (code, err) = match now.await {
            Ok(_) => continue,
            Err(err @ ApiError::SessionEnded) => (CLOSE_SIGNED_OUT, err),
            Err(err @ (ApiError::Unauthorized(_) | ApiError::AccountRefused { .. })) => {
                (CLOSE_SESSION_ENDED, err)
            }
            // A store outage is no reason to close; the next change checks again.
            Err(err) => {
                tracing::warn!(error = %err, "cannot check a socket's account");
                continue;
            }
        };
        return Ended {
            code,
            reason: err.to_string(),
        };
    }
}

/// Closes a browser socket whose session ended, saying why.
async fn close_ended(socket: &mut WebSocket, ended: Ended) {
    let frame = CloseFrame {
        code: ended.code,
        reason: ended.reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

async fn send(socket: &mut WebSocket, msg: &impl serde::Serialize) -> bool {
    let text = serde_json::to_string(msg).expect("DTOs serialise");
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// `GET /api/ws/events`.
pub async fn events(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    check_origin(&headers)?;
    Ok(upgrade
        .max_message_size(BROWSER_MESSAGE_LIMIT)
        .on_upgrade(move |mut socket| async move {
            let mut events = state.live.events();
            let gone = session_gone(&state, &user);
            tokio::pin!(gone);
            loop {
                tokio::select! {
                    () = state.shutdown.cancelled() => break,
                    reason = &mut gone => {
                        close_ended(&mut socket, reason).await;
                        break;
                    }
                    event = events.recv() => {
                        let event = match event {
                            Ok(event) => event,
                            Err(RecvError::Lagged(_)) => Event::Resync,
                            Err(RecvError::Closed) => break,
                        };
                        if !send(&mut socket, &event).await {
                            break;
                        }
                    }
                    incoming = socket.recv() => {
                        if matches!(incoming, None | Some(Err(_)) | Some(Ok(Message::Close(_)))) {
                            break;
                        }
                    }
                }
            }
        })
        .into_response())
}

/// `GET /api/ws/attempts/{id}/log?offset=N`.
pub async fn log_tail(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ApiPath(id): ApiPath<AttemptId>,
    Query(offset): Query<Offset>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    check_origin(&headers)?;
    // Refuse unknown attempts before upgrading, with a normal JSON 404.
    let start = offset.offset.unwrap_or(0);
    read_log_page(&state, id, start, 1).await?;
    Ok(upgrade
        .max_message_size(BROWSER_MESSAGE_LIMIT)
        .on_upgrade(move |socket| tail(state, user, id, start, socket))
        .into_response())
}

async fn tail(
    state: AppState,
    user: CurrentUser,
    id: AttemptId,
    start: u64,
    mut socket: WebSocket,
) {
    // Subscribe before the first read, so nothing stored in between is missed.
    let mut chunks = state.live.subscribe_log(id);
    let mut events = state.live.events();
    let gone = session_gone(&state, &user);
    tokio::pin!(gone);
    let mut cursor = start;
    loop {
        // Catch up from the store until it has nothing more, then follow the live chunks.
        let Ok((text, next, complete)) = read_log_page(&state, id, cursor, 256 << 10).await else {
            return;
        };
        if !text.is_empty() {
            if !send(
                &mut socket,
                &LogMessage::Chunk {
                    offset: cursor,
                    text,
                },
            )
            .await
            {
                return;
            }
            cursor = next;
            continue;
        }
        if complete {
            let _ = send(
                &mut socket,
                &LogMessage::Complete {
                    next_offset: cursor,
                },
            )
            .await;
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            reason = &mut gone => {
                close_ended(&mut socket, reason).await;
                return;
            }
            chunk = chunks.recv() => match chunk {
                Ok((offset, text)) if offset <= cursor && offset + text.len() as u64 > cursor => {
                    let skip = (cursor - offset) as usize;
                    if text.is_char_boundary(skip) {
                        let part = text[skip..].to_owned();
                        cursor += part.len() as u64;
                        if !send(&mut socket, &LogMessage::Chunk { offset: cursor - part.len() as u64, text: part }).await {
                            return;
                        }
                    }
                }
                // Already sent, ahead of us (read from the store next round), or lagged.
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            event = events.recv() => {
                // The attempt ended: loop back to drain the store and send `complete`.
                if let Ok(Event::Attempt { id: attempt, state, .. }) = event
                    && attempt == id && state.is_terminal() {
                        continue;
                    }
            }
            incoming = socket.recv() => {
                if matches!(incoming, None | Some(Err(_)) | Some(Ok(Message::Close(_)))) {
                    return;
                }
            }
        }
    }
}
