//! A live log: follows `/api/ws/attempts/{id}/log` from the last offset it has (so a reconnection
//! resumes where it stopped), keeps at most [`MAX_LINES`] lines in the DOM, highlights the lines
//! Hera itself wrote (`hera: …`), and scrolls along while "follow" is on.

use std::{collections::VecDeque, sync::Arc};

use app::{api::LogMessage, ids::AttemptId};
use leptos::{html::Div, prelude::*};

use crate::{
    api::ws::Socket,
    i18n::{K, t},
};

/// How many lines the view keeps; older ones are dropped (and counted).
pub const MAX_LINES: usize = 20_000;

/// The lines received so far: a bounded ring plus the unfinished last line.
#[derive(Clone, Debug, Default)]
struct LogBuffer {
    lines: VecDeque<(u64, Arc<str>)>,
    next_seq: u64,
    partial: String,
    next_offset: u64,
    dropped: u64,
    complete: bool,
}

impl LogBuffer {
    /// Adds text that starts at byte `offset` of the log, skipping what was already received
    /// (a reconnection may resend it) and marking a gap.
    fn push(&mut self, offset: u64, text: &str) {
        let end = offset + text.len() as u64;
        if end <= self.next_offset {
            return;
        }
        let text = if offset < self.next_offset {
            let skip = usize::try_from(self.next_offset - offset).unwrap_or(usize::MAX);
            // A resend that does not start on a character boundary is dropped whole.
            let Some(rest) = text.get(skip..) else { return };
            rest
        } else {
            if offset > self.next_offset {
                let missing = offset - self.next_offset;
                self.line(format!("hera: … {missing} bytes of log are missing here").into());
            }
            text
        };
        self.next_offset = end;
        self.partial.push_str(text);
        if let Some(cut) = self.partial.rfind('\n') {
            let rest = self.partial.split_off(cut + 1);
            let done = std::mem::replace(&mut self.partial, rest);
            for line in done.lines() {
                self.line(line.into());
            }
        }
    }

    fn finish(&mut self) {
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.line(last.into());
        }
        self.complete = true;
    }

    fn line(&mut self, text: Arc<str>) {
        self.lines.push_back((self.next_seq, text));
        self.next_seq += 1;
        if self.lines.len() > MAX_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
    }
}

/// The live log of `attempt`; `on_complete` runs once when the whole log was received.
#[component]
pub fn LogTail(attempt: AttemptId, #[prop(into)] on_complete: Callback<()>) -> impl IntoView {
    let log = RwSignal::new(LogBuffer::default());
    let follow = RwSignal::new(true);
    let socket = Socket::open(
        move || {
            let offset = log.with_untracked(|log| log.next_offset);
            format!("/api/ws/attempts/{attempt}/log?offset={offset}")
        },
        || {},
        move |text| match serde_json::from_str::<LogMessage>(text) {
            Ok(LogMessage::Chunk { offset, text }) => log.update(|log| log.push(offset, &text)),
            Ok(LogMessage::Complete { .. }) => {
                if !log.with_untracked(|log| log.complete) {
                    log.update(LogBuffer::finish);
                    on_complete.run(());
                }
            }
            Err(err) => leptos::logging::warn!("unreadable log frame: {err}"),
        },
    );
    let connected = socket.connected();
    // Once complete the server has nothing more to send: stop reconnecting.
    Effect::new(move || {
        if log.with(|log| log.complete) {
            socket.close();
        }
    });

    let scroller = NodeRef::<Div>::new();
    Effect::new(move || {
        log.track();
        if follow.get() {
            request_animation_frame(move || {
                if let Some(el) = scroller.get_untracked() {
                    el.set_scroll_top(el.scroll_height());
                }
            });
        }
    });

    let status = move || {
        if log.with(|log| log.complete) {
            (K::LogComplete, "complete")
        } else if connected.get() {
            (K::LogLive, "live")
        } else {
            (K::LogReconnecting, "reconnecting")
        }
    };
    view! {
        <div class="log-tail">
            <div class="log-toolbar">
                <span
                    class=move || format!("live-dot {}", status().1)
                    data-testid="log-status"
                    data-status=move || status().1
                >
                    {move || t(status().0)}
                </span>
                <span class="muted">
                    {move || log.with(|log| log.lines.len())} " " {move || t(K::Lines)}
                </span>
                <div class="spacer"></div>
                <label class="check">
                    <input type="checkbox" data-testid="follow" bind:checked=follow />
                    {move || t(K::Follow)}
                </label>
            </div>
            <div class="log" node_ref=scroller data-testid="log">
                {move || {
                    let dropped = log.with(|log| log.dropped);
                    (dropped > 0)
                        .then(|| {
                            view! {
                                <div class="log-line system">
                                    {move || t(K::LinesHidden).replace("{n}", &dropped.to_string())}
                                </div>
                            }
                        })
                }}
                <For
                    each=move || log.with(|log| log.lines.iter().cloned().collect::<Vec<_>>())
                    key=|(seq, _)| *seq
                    children=|(_, text)| line_view(&text)
                />
                <div class="log-line">{move || log.with(|log| log.partial.clone())}</div>
            </div>
        </div>
    }
}

/// One line: the `[timestamp]` prefix dimmed, Hera's own lines highlighted.
fn line_view(text: &str) -> impl IntoView + use<> {
    let (stamp, rest) = match text.find("] ") {
        Some(end) if text.starts_with('[') => text.split_at(end + 2),
        _ => ("", text),
    };
    let class = if rest.starts_with("hera: ") {
        "log-line system"
    } else {
        "log-line"
    };
    view! {
        <div class=class>
            <span class="ts">{stamp.to_owned()}</span>
            {rest.to_owned()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_chunks_and_skips_resent_text() {
        let mut log = LogBuffer::default();
        log.push(0, "a\nb");
        log.push(3, "c\nd\n");
        log.push(0, "a\nbc\n"); // resent after a reconnection
        log.push(5, "d\ne"); // overlaps the last two bytes
        log.finish();
        let lines: Vec<_> = log.lines.iter().map(|(_, l)| l.to_string()).collect();
        assert_eq!(lines, ["a", "bc", "d", "e"]);
    }

    #[test]
    fn keeps_a_bounded_ring() {
        let mut log = LogBuffer::default();
        let text = "x\n".repeat(MAX_LINES + 5);
        log.push(0, &text);
        assert_eq!(log.lines.len(), MAX_LINES);
        assert_eq!(log.dropped, 5);
    }
}
