//! Configs (key=value) as the job editor and the folder page edit them: the server's rules for a
//! key and a value checked as they are typed, the editable rows ([`ConfigsField`]), and the
//! configs inherited from the folders above, read-only, each with the folder it comes from and
//! whether something nearer overrides it ([`InheritedConfigs`]).

use std::collections::{BTreeMap, BTreeSet};

use app::api::InheritedConfig;
use leptos::prelude::*;

use crate::{
    components::{
        kv_rows::{KvRow, KvRows},
        table::Table,
    },
    i18n::{K, t},
};

/// The longest config value the server accepts, in bytes.
pub const MAX_CONFIG_VALUE: usize = 64 << 10;

/// Whether `key` may name a config: what the script's `${key}` can name (the server's rule).
pub fn valid_config_key(key: &str) -> bool {
    (1..=128).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Why each config row (key already trimmed, value) would be refused, in row order. A row with
/// neither key nor value is left out when saving, so it is never a problem.
pub fn config_problems(rows: &[(String, String)]) -> Vec<Option<K>> {
    let mut seen = std::collections::BTreeSet::new();
    rows.iter()
        .map(|(key, value)| {
            if key.is_empty() && value.is_empty() {
                None
            } else if key.is_empty() {
                Some(K::Required)
            } else if !valid_config_key(key) {
                Some(K::ConfigKeyRule)
            } else if !seen.insert(key.as_str()) {
                Some(K::ConfigKeyDuplicate)
            } else if value.len() > MAX_CONFIG_VALUE {
                Some(K::ConfigValueTooLong)
            } else {
                None
            }
        })
        .collect()
}

/// The configs section: one row per key=value with its problem, a button to add a row, and the
/// server's reason for `configs` (the rows' own problems are shown next to them, live).
#[component]
pub fn ConfigsField(
    configs: KvRows,
    problems: Memo<BTreeMap<u64, K>>,
    error: Signal<Option<String>>,
    /// What the hint next to "add" says (default: how a script reads a config).
    #[prop(optional)]
    hint: Option<K>,
) -> impl IntoView {
    let hint = hint.unwrap_or(K::ConfigsHint);
    let row = move |row: KvRow| {
        let problem = move || problems.with(|p| p.get(&row.id).copied());
        // A value with line breaks gets room for them (a textarea keeps them, an input would not).
        let lines = row.value.with_untracked(|v| v.lines().count()).clamp(1, 6);
        view! {
            <div
                class="config-row"
                class:invalid=move || problem().is_some()
                data-testid="config-row"
            >
                <input
                    class="input mono config-key"
                    data-testid="config-key"
                    spellcheck="false"
                    placeholder=move || t(K::ConfigKey)
                    bind:value=row.key
                />
                <span class="config-eq">"="</span>
                <textarea
                    class="input code config-value"
                    rows=lines
                    spellcheck="false"
                    data-testid="config-value"
                    placeholder=move || t(K::ConfigValue)
                    bind:value=row.value
                ></textarea>
                <button
                    type="button"
                    class="btn small ghost config-remove"
                    data-testid="config-remove"
                    title=move || t(K::Remove)
                    on:click=move |_| configs.remove(row.id)
                >
                    "×"
                </button>
                {move || {
                    problem()
                        .map(|problem| {
                            view! {
                                <span
                                    class="field-error config-error"
                                    data-testid="config-error"
                                >
                                    {move || t(problem)}
                                </span>
                            }
                        })
                }}
            </div>
        }
    };
    view! {
        <div
            class="field configs"
            class:invalid=move || error.with(Option::is_some)
            data-testid="configs"
        >
            <span class="label">{move || t(K::Configs)}</span>
            <For each=move || configs.rows.get() key=|row| row.id children=row />
            <div class="row">
                <button
                    type="button"
                    class="btn small"
                    data-testid="config-add"
                    on:click=move |_| configs.add(String::new(), String::new())
                >
                    {move || t(K::AddConfig)}
                </button>
                <span class="muted hint">{move || t(hint)}</span>
            </div>
            {move || {
                error
                    .get()
                    .map(|reason| {
                        view! {
                            <span class="field-error" data-testid="error-configs">
                                {reason}
                            </span>
                        }
                    })
            }}
        </div>
    }
}

/// Which of `inherited` (outermost first) something nearer overrides: a later (nearer) folder
/// setting the same key, or one of `own` (the keys being edited, saved or not).
pub fn overridden(inherited: &[InheritedConfig], own: &BTreeSet<String>) -> Vec<bool> {
    inherited
        .iter()
        .enumerate()
        .map(|(index, config)| {
            own.contains(&config.key)
                || inherited[index + 1..]
                    .iter()
                    .any(|nearer| nearer.key == config.key)
        })
        .collect()
}

/// The configs inherited from the folders above, read-only: key, value, the folder (a link to its
/// page) and an "overridden" badge when `own` (the keys of the rows being edited) or a nearer
/// folder sets the same key. Outermost folder first, as the server lists them.
#[component]
pub fn InheritedConfigs(
    inherited: Vec<InheritedConfig>,
    #[prop(into)] own: Signal<BTreeSet<String>>,
) -> impl IntoView {
    let empty = inherited.is_empty();
    let list = StoredValue::new(inherited);
    let rows = move || {
        let flags = list.with_value(|list| own.with(|own| overridden(list, own)));
        list.get_value()
            .into_iter()
            .zip(flags)
            .map(|(config, overridden)| {
                let badge = overridden.then(|| {
                    view! {
                        <span
                            class="badge state-cancelled"
                            data-testid="inherited-overridden"
                            title=move || t(K::ConfigOverriddenHint)
                        >
                            {move || t(K::SecretOverridden)}
                        </span>
                    }
                });
                view! {
                    <tr
                        data-testid="inherited-config"
                        data-key=config.key
                        data-overridden=overridden.to_string()
                        class:muted=overridden
                    >
                        <td class="mono">{config.key.clone()}</td>
                        <td class="mono inherited-value">{config.value.clone()}</td>
                        <td>
                            <a href=format!("/folders/{}", config.folder_id) data-testid="inherited-from">
                                {config.folder_name.clone()}
                            </a>
                        </td>
                        <td>{badge}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <Table
            headers=vec![K::ConfigKeyHeader, K::ConfigValueHeader, K::ConfigFrom, K::Empty]
            empty=empty
            empty_text=K::InheritedNone
            testid="inherited-configs"
        >
            {rows}
        </Table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_follow_the_server_rule() {
        for key in ["a", "dw.table", "A_b-1.c", &"k".repeat(128)] {
            assert!(valid_config_key(key), "{key}");
        }
        for key in ["", "a b", "a=b", "${a}", "表", &"k".repeat(129)] {
            assert!(!valid_config_key(key), "{key}");
        }
    }

    #[test]
    fn config_rows_are_checked_in_order() {
        let long = "x".repeat(MAX_CONFIG_VALUE + 1);
        let rows = [
            ("dw.table", "ods.orders"),
            ("", ""),
            ("", "orphan"),
            ("bad key", "v"),
            ("dw.table", "again"),
            ("big", long.as_str()),
        ];
        assert_eq!(
            config_problems(&rows.map(|(k, v)| (k.to_owned(), v.to_owned()))),
            [
                None,
                None,
                Some(K::Required),
                Some(K::ConfigKeyRule),
                Some(K::ConfigKeyDuplicate),
                Some(K::ConfigValueTooLong),
            ]
        );
    }

    fn inherited(key: &str, folder: i64) -> InheritedConfig {
        InheritedConfig {
            key: key.to_owned(),
            value: String::new(),
            folder_id: app::ids::FolderId(folder),
            folder_name: String::new(),
            overridden: false,
        }
    }

    #[test]
    fn a_nearer_folder_or_an_own_key_overrides() {
        let list = [
            inherited("a", 1),
            inherited("b", 1),
            inherited("a", 2),
            inherited("c", 2),
        ];
        let own = BTreeSet::from(["c".to_owned()]);
        assert_eq!(overridden(&list, &own), [true, false, false, true]);
        assert_eq!(
            overridden(&list, &BTreeSet::new()),
            [true, false, false, false]
        );
    }
}
