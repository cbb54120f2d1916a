//! A live log viewer. It follows `/api/ws/attempts/{id}/log` from the last offset it has (so a
//! reconnection resumes where it stopped) into a compact [`LogBuffer`], and stays smooth on a
//! 100 MB log or 10,000 lines a second:
//! - chunks are parsed as they arrive, but the view is updated once per animation frame;
//! - the list is virtualised: lines have a fixed height, and only the visible ones (plus a margin)
//!   are in the DOM, so its cost does not grow with the log.
//!
//! On top: line numbers, ANSI colours, a follow mode (scrolling up leaves it), search with
//! highlighted hits, "jump to the first error", download of the whole log and full screen.

use app::{
    api::{LogMessage, LogPage},
    ids::AttemptId,
};
use leptos::{ev, html::Div, prelude::*};

use crate::{
    api::{
        http::{self, ApiError},
        ws::Socket,
    },
    browser,
    components::error_view::{ActionError, action_error},
    i18n::{K, fill, t},
    log_buffer::{self, Hit, LINE_PX, LogBuffer, Search, Window, content_height, window},
};

/// Where the view scrolls to when it is laid out again.
#[derive(Clone, Copy)]
enum ScrollTo {
    /// Where it is.
    Here,
    /// The end (while following).
    End,
    /// Line `n`, in the middle.
    Line(usize),
}

/// One drawn line.
struct Row {
    /// Its 1-based number in the log.
    number: u64,
    /// What decides whether it must be drawn again: number, length, search, marks.
    key: (u64, usize, u64, Option<usize>, bool),
    class: &'static str,
    /// Its pieces: text and CSS class.
    pieces: Vec<(String, String)>,
    /// Bytes not drawn (a very long line).
    cut: usize,
}

/// The live log of `attempt`; `on_complete` runs once when the whole log was received.
#[component]
pub fn LogTail(attempt: AttemptId, #[prop(into)] on_complete: Callback<()>) -> impl IntoView {
    let log = StoredValue::new_local(LogBuffer::default());
    let search = StoredValue::new_local(Search::default());
    // Moves when the search changes (new query, new current hit): its hits are drawn again.
    let search_version = RwSignal::new(0u64);
    let hits = RwSignal::new((0usize, false));
    let current = RwSignal::new(None::<usize>);
    let query = RwSignal::new(String::new());
    let search_timer = StoredValue::new_local(None::<TimeoutHandle>);
    // The number of the line "jump to first error" found; `no_error` when it found none.
    let target = RwSignal::new(None::<u64>);
    let no_error = RwSignal::new(false);
    let follow = RwSignal::new(true);
    let fullscreen = RwSignal::new(false);
    let lines = RwSignal::new(0usize);
    let dropped = RwSignal::new(0u64);
    let complete = RwSignal::new(false);
    let drawn = RwSignal::new(Window::default());
    // Moves once per frame in which lines arrived.
    let version = RwSignal::new(0u64);
    let frame_pending = StoredValue::new_local(false);
    let last_scroll_top = StoredValue::new_local(0.0f64);
    let scroller = NodeRef::<Div>::new();
    let spacer = NodeRef::<Div>::new();

    // Sizes the content for the lines there are, scrolls, and picks the lines to draw.
    let layout = move |to: ScrollTo| {
        // Also called from animation frames, which may come after the view is gone.
        let (Some(Some(el)), Some(Some(spacer))) =
            (scroller.try_get_untracked(), spacer.try_get_untracked())
        else {
            return;
        };
        let total = log.with_value(LogBuffer::len);
        let height = content_height(total);
        let _ = web_sys::HtmlElement::style(&spacer).set_property("height", &format!("{height}px"));
        let viewport = f64::from(el.client_height());
        match to {
            ScrollTo::Here => {}
            ScrollTo::End => el.set_scroll_top(height as i32),
            ScrollTo::Line(line) => {
                el.set_scroll_top(log_buffer::scroll_to_line(total, line, viewport) as i32);
            }
        }
        let scroll_top = f64::from(el.scroll_top());
        last_scroll_top.set_value(scroll_top);
        let next = window(total, scroll_top, viewport);
        if drawn.get_untracked() != next {
            drawn.set(next);
        }
    };
    let show_line = move |line: usize| {
        follow.set(false);
        layout(ScrollTo::Line(line));
    };

    // Everything that arrived since the last frame, shown at once.
    let flush = move || {
        if frame_pending.try_update_value(|p| *p = false).is_none() {
            return; // the view is gone
        }
        let (total, gone, done) = log.with_value(|log| {
            search.update_value(|search| search.extend(log));
            (log.len(), log.dropped, log.complete)
        });
        let found = search.with_value(|s| (s.hits.len(), s.capped));
        if hits.get_untracked() != found {
            hits.set(found);
        }
        lines.set(total);
        dropped.set(gone);
        complete.set(done);
        layout(if follow.get_untracked() {
            ScrollTo::End
        } else {
            ScrollTo::Here
        });
        version.update(|v| *v += 1);
    };
    let schedule = move || {
        if !frame_pending.get_value() {
            frame_pending.set_value(true);
            request_animation_frame(flush);
        }
    };

    let socket = Socket::open(
        move || {
            let offset = log.with_value(|log| log.next_offset);
            format!("/api/ws/attempts/{attempt}/log?offset={offset}")
        },
        || {},
        move |text| match serde_json::from_str::<LogMessage>(text) {
            Ok(LogMessage::Chunk { offset, text }) => {
                log.update_value(|log| log.push(offset, &text));
                schedule();
            }
            Ok(LogMessage::Complete { .. }) => {
                if !log.with_value(|log| log.complete) {
                    log.update_value(LogBuffer::finish);
                    schedule();
                    on_complete.run(());
                }
            }
            Err(err) => leptos::logging::warn!("unreadable log frame: {err}"),
        },
    );
    let connected = socket.connected();
    // Once complete the server has nothing more to send: stop reconnecting.
    Effect::new(move || {
        if complete.get() {
            socket.close();
        }
    });
    // Following again jumps to the end; the view is laid out once it exists.
    Effect::new(move || {
        if scroller.get().is_some() && follow.get() {
            layout(ScrollTo::End);
        }
    });
    let resize = window_event_listener(ev::resize, move |_| layout(ScrollTo::Here));
    let on_scroll = move |_| {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let top = f64::from(el.scroll_top());
        let at_end = top + f64::from(el.client_height()) >= f64::from(el.scroll_height()) - LINE_PX;
        // Scrolling up stops following.
        if top < last_scroll_top.get_value() - 1.0 && !at_end && follow.get_untracked() {
            follow.set(false);
        }
        layout(ScrollTo::Here);
    };
    let toggle_fullscreen = move || {
        fullscreen.update(|on| *on = !*on);
        request_animation_frame(move || {
            layout(if follow.get_untracked() {
                ScrollTo::End
            } else {
                ScrollTo::Here
            })
        });
    };

    // Search: run after a pause in typing, then step through the hits.
    let go_to_hit = move |n: usize| {
        current.set(Some(n));
        search_version.update(|v| *v += 1);
        if let Some((line, _)) = search.with_value(|s| s.locate(n)) {
            show_line(line);
        }
    };
    let run_search = move || {
        let mut found = Search::new(&query.get_untracked());
        log.with_value(|log| found.extend(log));
        let first = found.first_from(drawn.get_untracked().first);
        hits.set((found.hits.len(), found.capped));
        search.set_value(found);
        current.set(None);
        search_version.update(|v| *v += 1);
        if let Some(n) = first {
            go_to_hit(n);
        }
    };
    let on_query = move |ev: ev::Event| {
        query.set(event_target_value(&ev));
        if let Some(timer) = search_timer.get_value() {
            timer.clear();
        }
        let timer = set_timeout_with_handle(run_search, std::time::Duration::from_millis(150));
        search_timer.set_value(timer.ok());
    };
    let step = move |forward: bool| {
        let count = hits.get_untracked().0;
        if count == 0 {
            return;
        }
        let next = match current.get_untracked() {
            None => 0,
            Some(n) if forward => (n + 1) % count,
            Some(n) => (n + count - 1) % count,
        };
        go_to_hit(next);
    };
    let on_search_key = move |ev: ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            step(!ev.shift_key());
        }
    };
    let escape = window_event_listener(ev::keydown, move |ev| {
        if ev.key() == "Escape" && fullscreen.get_untracked() {
            toggle_fullscreen();
        }
    });
    on_cleanup(move || {
        resize.remove();
        escape.remove();
        if let Some(Some(timer)) = search_timer.try_get_value() {
            timer.clear();
        }
    });
    let hit_count = move || {
        let (count, capped) = hits.get();
        let at = current.get().map_or(0, |n| n + 1);
        format!("{at} / {count}{}", if capped { "+" } else { "" })
    };

    let jump_to_error = move |_| match log.with_value(LogBuffer::first_error) {
        Some(line) => {
            no_error.set(false);
            target.set(Some(dropped.get_untracked() + line as u64 + 1));
            show_line(line);
        }
        None => {
            target.set(None);
            no_error.set(true);
        }
    };

    let download = Action::new_local(move |()| save_log(attempt));
    let download_error = action_error(download);

    let rows = move || {
        version.track();
        search_version.track();
        let Window { first, end, .. } = drawn.get();
        let target = target.get();
        let current = current.get_untracked();
        log.with_value(|log| {
            search.with_value(|search| {
                let current = current.and_then(|n| search.locate(n));
                (first..end.min(log.len()))
                    .map(|i| {
                        let hit = current.and_then(|(line, k)| (line == i).then_some(k));
                        row(
                            log,
                            i,
                            &search.needle,
                            hit,
                            search_version.get_untracked(),
                            target,
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
    };
    let status = move || {
        if complete.get() {
            (K::LogComplete, "complete")
        } else if connected.get() {
            (K::LogLive, "live")
        } else {
            (K::LogReconnecting, "reconnecting")
        }
    };
    let digits = move || lines.get().max(1).to_string().len().max(3);

    view! {
        <div class="log-tail" class:fullscreen=fullscreen data-testid="log-tail">
            <div class="log-toolbar">
                <span
                    class=move || format!("live-dot {}", status().1)
                    data-testid="log-status"
                    data-status=move || status().1
                >
                    {move || t(status().0)}
                </span>
                <span class="muted" data-testid="log-lines" data-lines=lines>
                    {lines} " " {move || t(K::Lines)}
                </span>
                {move || {
                    let gone = dropped.get();
                    (gone > 0)
                        .then(|| {
                            view! {
                                <span class="muted">
                                    {move || fill(t(K::LinesHidden), &[("n", &gone.to_string())])}
                                </span>
                            }
                        })
                }}
                <div class="spacer"></div>
                <div class="log-search-box">
                    <input
                        class="input small log-search"
                        type="search"
                        data-testid="log-search"
                        placeholder=move || t(K::SearchLog)
                        aria-label=move || t(K::SearchLog)
                        prop:value=query
                        on:input=on_query
                        on:keydown=on_search_key
                    />
                    <span class="log-search-count" data-testid="log-search-count">
                        {hit_count}
                    </span>
                    <button
                        class="btn small"
                        data-testid="log-search-prev"
                        title=move || t(K::PreviousMatch)
                        aria-label=move || t(K::PreviousMatch)
                        on:click=move |_| step(false)
                    >
                        "↑"
                    </button>
                    <button
                        class="btn small"
                        data-testid="log-search-next"
                        title=move || t(K::NextMatch)
                        aria-label=move || t(K::NextMatch)
                        on:click=move |_| step(true)
                    >
                        "↓"
                    </button>
                </div>
                <button class="btn small" data-testid="log-first-error" on:click=jump_to_error>
                    {move || t(K::FirstError)}
                </button>
                <Show when=move || no_error.get()>
                    <span class="muted" data-testid="log-no-error">
                        {move || t(K::NoErrorFound)}
                    </span>
                </Show>
                <label class="check">
                    <input type="checkbox" data-testid="follow" bind:checked=follow />
                    {move || t(K::Follow)}
                </label>
                <button
                    class="btn small"
                    data-testid="log-download"
                    disabled=move || download.pending().get()
                    on:click=move |_| {
                        download.dispatch(());
                    }
                >
                    {move || t(if download.pending().get() { K::Downloading } else { K::Download })}
                </button>
                <button
                    class="btn small"
                    data-testid="log-fullscreen"
                    aria-pressed=move || fullscreen.get().to_string()
                    on:click=move |_| toggle_fullscreen()
                >
                    {move || t(if fullscreen.get() { K::ExitFullScreen } else { K::FullScreen })}
                </button>
            </div>
            <ActionError message=download_error />
            <div
                class="log"
                node_ref=scroller
                data-testid="log"
                style=move || format!("--line: {LINE_PX}px; --digits: {}ch", digits())
                on:scroll=on_scroll
                tabindex="0"
            >
                <div class="log-spacer" node_ref=spacer></div>
                <div
                    class="log-window"
                    style:transform=move || format!("translateY({}px)", drawn.get().top_px)
                >
                    <For each=rows key=|row| row.key children=row_view />
                </div>
            </div>
        </div>
    }
}

/// Line `i` of `log` as drawn: `needle` hits marked (the `current`-th of the line as current),
/// Hera's own lines and the `target` line (a number) set apart.
fn row(
    log: &LogBuffer,
    i: usize,
    needle: &[u8],
    current: Option<usize>,
    search_version: u64,
    target: Option<u64>,
) -> Row {
    let number = log.dropped + i as u64 + 1;
    let text = log.line(i);
    let (pieces, cut) = log.pieces(i, needle, current);
    let is_target = target == Some(number);
    let class = match (is_target, log_buffer::is_system(text)) {
        (true, _) => "log-row target",
        (false, true) => "log-row system",
        (false, false) => "log-row",
    };
    let pieces = pieces
        .into_iter()
        .map(|piece| {
            let mut class = Vec::new();
            if piece.stamp {
                class.push("ts".to_owned());
            }
            if piece.style.colour > 0 {
                class.push(format!("c{}", piece.style.colour));
            }
            if piece.style.bold {
                class.push("b".to_owned());
            }
            match piece.hit {
                Hit::No => {}
                Hit::Yes => class.push("hit".to_owned()),
                Hit::Current => class.push("hit current".to_owned()),
            }
            (text[piece.range].to_owned(), class.join(" "))
        })
        .collect();
    Row {
        number,
        key: (number, text.len(), search_version, current, is_target),
        class,
        pieces,
        cut,
    }
}

fn row_view(row: Row) -> impl IntoView {
    view! {
        <div class=row.class data-testid="log-row">
            <span class="ln">{row.number}</span>
            {row
                .pieces
                .into_iter()
                .map(|(text, class)| view! { <span class=class>{text}</span> })
                .collect_view()}
            {(row.cut > 0)
                .then(|| {
                    let cut = browser::bytes(row.cut as u64);
                    view! {
                        <span class="cut">{move || fill(t(K::LineCut), &[("size", &cut)])}</span>
                    }
                })}
        </div>
    }
}

/// Downloads the whole log of `attempt`, page by page, and saves it as `attempt-N.log`.
async fn save_log(attempt: AttemptId) -> Result<(), ApiError> {
    let parts = js_sys::Array::new();
    let mut offset = 0;
    loop {
        let page =
            http::get::<LogPage>(format!("/api/attempts/{attempt}/log?offset={offset}")).await?;
        if page.text.is_empty() {
            break;
        }
        parts.push(&page.text.as_str().into());
        offset = page.next_offset;
        if page.complete {
            break;
        }
    }
    browser::save_file(&format!("attempt-{attempt}.log"), &parts)
        .map_err(|err| ApiError::Network(format!("{err:?}")))
}
