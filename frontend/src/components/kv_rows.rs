//! Editable key=value rows (a job's configs, a run's parameters): the rows are signals so each
//! input binds to its own, and a row keeps its id while others are added or removed.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::i18n::K;

/// One editable row; `id` keys it in the list.
#[derive(Clone, Copy)]
pub struct KvRow {
    /// Stable within its list.
    pub id: u64,
    /// The key as typed.
    pub key: RwSignal<String>,
    /// The value as typed.
    pub value: RwSignal<String>,
}

/// Finds the problem of each (trimmed key, value) pair, in order.
pub type KvCheck = fn(&[(String, String)]) -> Vec<Option<K>>;

/// The rows of one key=value list.
#[derive(Clone, Copy)]
pub struct KvRows {
    /// The rows in order; reactive.
    pub rows: RwSignal<Vec<KvRow>>,
    next_id: StoredValue<u64>,
}

impl KvRows {
    /// Rows for `pairs`, in their order.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        let this = KvRows {
            rows: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(0),
        };
        for (key, value) in pairs {
            this.add(key.clone(), value.clone());
        }
        this
    }

    /// Appends a row.
    pub fn add(self, key: String, value: String) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let row = KvRow {
            id,
            key: RwSignal::new(key),
            value: RwSignal::new(value),
        };
        self.rows.update(|rows| rows.push(row));
    }

    /// Removes the row `id`.
    pub fn remove(self, id: u64) {
        self.rows.update(|rows| rows.retain(|row| row.id != id));
    }

    /// The problem of each row by its id, as `check` finds them for the (trimmed key, value)
    /// pairs in row order; reactive.
    pub fn problems(self, check: KvCheck) -> BTreeMap<u64, K> {
        self.rows.with(|rows| {
            let pairs: Vec<_> = rows
                .iter()
                .map(|row| (row.key.get().trim().to_owned(), row.value.get()))
                .collect();
            rows.iter()
                .zip(check(&pairs))
                .filter_map(|(row, problem)| Some((row.id, problem?)))
                .collect()
        })
    }

    /// The pairs to send: keys trimmed, rows without key and value left out.
    pub fn collect(self) -> BTreeMap<String, String> {
        self.rows.with_untracked(|rows| {
            rows.iter()
                .map(|row| {
                    (
                        row.key.get_untracked().trim().to_owned(),
                        row.value.get_untracked(),
                    )
                })
                .filter(|(key, value)| !key.is_empty() || !value.is_empty())
                .collect()
        })
    }
}
