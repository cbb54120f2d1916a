//! `/search?q=…`: full-text search over job definitions (`GET /api/search`): the jobs whose name,
//! description, script or configs contain the text, grouped by where it was found, each with the
//! matching line and the text highlighted in it. Typing updates the address (and so the results)
//! after a short pause; the top bar's search box leads here.

use std::time::Duration;

use app::api::SearchHit;
use leptos::prelude::*;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
};

use crate::{
    api::{catalog::Catalog, http},
    components::error_view::loading,
    i18n::{K, count, fill, t},
};

/// How long typing must pause before the search runs.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// Where a hit can be found, in the order the groups are shown, with their headings.
const GROUPS: [(&str, K); 4] = [
    ("name", K::InName),
    ("description", K::InDescription),
    ("script", K::InScript),
    ("config", K::InConfig),
];

/// The search page.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query_map = use_query_map();
    let q = Memo::new(move |_| query_map.with(|m| m.get("q").unwrap_or_default()));
    let text = RwSignal::new(q.get_untracked());
    // The address changes from elsewhere too (the top bar's box, back and forward).
    Effect::new(move || {
        let q = q.get();
        if text.get_untracked() != q {
            text.set(q);
        }
    });
    let navigate = use_navigate();
    let pending = StoredValue::new_local(None::<TimeoutHandle>);
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        text.set(value.clone());
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let navigate = navigate.clone();
        let handle = set_timeout_with_handle(
            move || {
                let path = format!("/search?q={}", js_sys::encode_uri_component(&value));
                let replace = NavigateOptions {
                    replace: true,
                    ..Default::default()
                };
                navigate(&path, replace);
            },
            DEBOUNCE,
        )
        .ok();
        pending.set_value(handle);
    };
    on_cleanup(move || {
        if let Some(handle) = pending.try_get_value().flatten() {
            handle.clear();
        }
    });

    let results = LocalResource::new(move || {
        let q = q.get();
        async move {
            if q.trim().is_empty() {
                return None;
            }
            let path = format!("/api/search?q={}", js_sys::encode_uri_component(&q));
            Some(http::get::<Vec<SearchHit>>(path).await)
        }
    });
    let error = move || {
        results.get().flatten().and_then(Result::err).map(|err| {
            view! {
                <p class="field-error search-error" role="alert" data-testid="search-error">
                    {err.to_string()}
                </p>
            }
        })
    };
    let body = move || {
        Suspend::new(async move {
            let answer = results.await;
            let q = q.get_untracked();
            match answer {
                None => view! {
                    <p class="muted empty-state" data-testid="search-hint">
                        {move || t(K::SearchHint)}
                    </p>
                }
                .into_any(),
                Some(Err(_)) => ().into_any(),
                Some(Ok(hits)) if hits.is_empty() => view! {
                    <p class="muted empty-state" data-testid="search-none">
                        {move || fill(t(K::SearchNone), &[("q", q.trim())])}
                    </p>
                }
                .into_any(),
                Some(Ok(hits)) => view! { <Results hits needle=q /> }.into_any(),
            }
        })
    };
    view! {
        <div class="page search-page">
            <div class="page-head">
                <h1>{move || t(K::SearchTitle)}</h1>
            </div>
            <div class="card search-card">
                <input
                    type="search"
                    class="input search-input"
                    data-testid="search-input"
                    autofocus
                    placeholder=move || t(K::SearchPlaceholder)
                    aria-label=move || t(K::SearchTitle)
                    prop:value=move || text.get()
                    on:input=on_input
                />
                {error}
            </div>
            <Transition fallback=loading>{body}</Transition>
        </div>
    }
}

/// The hits, grouped by where they matched.
#[component]
fn Results(hits: Vec<SearchHit>, needle: String) -> impl IntoView {
    let catalog = Catalog::current();
    let total = hits.len() as u32;
    let groups = GROUPS
        .iter()
        .filter_map(|(matched, heading)| {
            let group: Vec<&SearchHit> = hits.iter().filter(|h| h.matched == *matched).collect();
            if group.is_empty() {
                return None;
            }
            let n = group.len();
            let heading = *heading;
            let items = group
                .into_iter()
                .map(|hit| {
                    let folder = catalog.data().folder_path(hit.folder_id);
                    let name = if hit.matched == "name" {
                        marked(&hit.job_name, &needle).into_any()
                    } else {
                        hit.job_name.clone().into_any()
                    };
                    let snippet = (hit.matched != "name").then(|| {
                        view! { <code class="search-snippet">{marked(&hit.snippet, &needle)}</code> }
                    });
                    view! {
                        <li class="search-hit" data-testid="search-hit" data-matched=hit.matched.clone()>
                            <div class="search-hit-head">
                                <a class="search-job" href=format!("/jobs/{}", hit.job_id)>
                                    {name}
                                </a>
                                <span class="muted">"#" {hit.job_id.0}</span>
                                <span class="muted search-folder">{folder}</span>
                            </div>
                            {snippet}
                        </li>
                    }
                })
                .collect_view();
            Some(view! {
                <section class="card search-group" data-testid=format!("search-group-{matched}")>
                    <div class="card-head">
                        <h2>{move || t(heading)}</h2>
                        <span class="badge search-count">{n}</span>
                    </div>
                    <ul class="search-hits">{items}</ul>
                </section>
            })
        })
        .collect_view();
    view! {
        <p class="muted search-total" data-testid="search-total">
            {move || count(total, K::SearchCountOne, K::SearchCountMany)}
        </p>
        {groups}
    }
}

/// `text` with every occurrence of `needle` (any case) in a `<mark>`.
fn marked(text: &str, needle: &str) -> impl IntoView + use<> {
    split_matches(text, needle.trim())
        .into_iter()
        .map(|(part, hit)| {
            if hit {
                view! { <mark>{part}</mark> }.into_any()
            } else {
                part.into_any()
            }
        })
        .collect_view()
}

/// `text` cut into runs, each flagged whether it matches `needle` ignoring case. Case is folded
/// per character, so positions map back to `text` even where lower-casing changes lengths.
fn split_matches(text: &str, needle: &str) -> Vec<(String, bool)> {
    let fold = |c: char| c.to_lowercase().collect::<String>();
    let needle: String = needle.chars().map(fold).collect();
    if needle.is_empty() {
        return vec![(text.to_owned(), false)];
    }
    // The folded text, and for each of its bytes the byte offset of the original character.
    let mut folded = String::new();
    let mut origin = Vec::new();
    for (at, c) in text.char_indices() {
        let f = fold(c);
        origin.extend(std::iter::repeat_n(at, f.len()));
        folded.push_str(&f);
    }
    origin.push(text.len());
    let mut out = Vec::new();
    let mut done = 0; // in `text`
    let mut from = 0; // in `folded`
    while let Some(found) = folded[from..].find(&needle) {
        let start = from + found;
        let end = start + needle.len();
        let (a, b) = (origin[start], origin[end]);
        // A match that starts inside a character's folding (rare) is skipped.
        if a >= done && b > a {
            if a > done {
                out.push((text[done..a].to_owned(), false));
            }
            out.push((text[a..b].to_owned(), true));
            done = b;
        }
        from = end;
    }
    if done < text.len() {
        out.push((text[done..].to_owned(), false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_matches;

    fn show(parts: Vec<(String, bool)>) -> String {
        parts
            .into_iter()
            .map(|(p, hit)| if hit { format!("[{p}]") } else { p })
            .collect()
    }

    #[test]
    fn matches_are_found_in_any_case() {
        assert_eq!(
            show(split_matches("echo Hello; hello", "HELLO")),
            "echo [Hello]; [hello]"
        );
        assert_eq!(show(split_matches("hello", "")), "hello");
        assert_eq!(show(split_matches("abc", "x")), "abc");
        assert_eq!(show(split_matches("aaaa", "aa")), "[aa][aa]");
    }

    #[test]
    fn positions_survive_case_folding_that_changes_lengths() {
        // 'İ' lower-cases to two characters; the match after it still lines up.
        assert_eq!(show(split_matches("İx 数据 ETL", "etl")), "İx 数据 [ETL]");
        assert_eq!(show(split_matches("加载数据", "数据")), "加载[数据]");
    }
}
