//! The one data table: translated headers, the rows the caller renders, and an empty-state row.

use leptos::prelude::*;

use crate::i18n::{K, t};

/// A table with `headers`; `children` are its `<tr>` rows. While `empty` is true a single row
/// says `empty_text` instead.
#[component]
pub fn Table(
    headers: Vec<K>,
    #[prop(optional, into)] empty: Signal<bool>,
    #[prop(optional)] empty_text: Option<K>,
    #[prop(optional)] testid: &'static str,
    children: Children,
) -> impl IntoView {
    let columns = headers.len();
    view! {
        <div class="table-wrap">
            <table class="table" data-testid=testid>
                <thead>
                    <tr>
                        {headers
                            .into_iter()
                            .map(|h| view! { <th>{move || t(h)}</th> })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        empty
                            .get()
                            .then(|| {
                                let text = empty_text.unwrap_or(K::NothingYet);
                                view! {
                                    <tr class="empty">
                                        <td colspan=columns>{move || t(text)}</td>
                                    </tr>
                                }
                            })
                    }}
                    {children()}
                </tbody>
            </table>
        </div>
    }
}
