//! Running a job (`POST /api/jobs/{id}/run`): [`run_job`] for "Run now", and the "Run with
//! parameters" dialog: key=value parameters (environment variables of this run only), an optional
//! business time in the job's zone, and a reason.

use app::{
    api::{Instance, RunRequest},
    ids::JobId,
};
use leptos::{ev, html, prelude::*};
use wasm_bindgen::JsCast;

use crate::{
    api::http::{self, ApiError},
    browser,
    components::{
        error_view::{ActionError, action_error},
        kv_rows::{KvRow, KvRows},
    },
    i18n::{K, fill, t},
};

/// Starts a run of job `id`.
pub async fn run_job(id: JobId, request: &RunRequest) -> Result<Instance, ApiError> {
    http::post(format!("/api/jobs/{id}/run"), request).await
}

/// Whether `name` may name a parameter (the server's rule): `[A-Za-z_][A-Za-z0-9_]*`, not
/// starting with `HERA_` (the worker's own variables).
fn valid_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("HERA_")
}

/// Why each parameter row (name already trimmed, value) would be refused, in row order; an empty
/// row is left out when sending.
fn param_problems(rows: &[(String, String)]) -> Vec<Option<K>> {
    let mut seen = std::collections::BTreeSet::new();
    rows.iter()
        .map(|(name, value)| {
            if name.is_empty() && value.is_empty() {
                None
            } else if !valid_param_name(name) {
                Some(K::ParamNameRule)
            } else if !seen.insert(name.as_str()) {
                Some(K::ConfigKeyDuplicate)
            } else {
                None
            }
        })
        .collect()
}

/// The dialog for job `job` (named `name`, business times in `zone`). `on_done` gets the new
/// instance; `on_close` closes without running.
#[component]
pub fn RunDialog(
    job: JobId,
    name: String,
    zone: String,
    #[prop(into)] on_done: Callback<Instance>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let (name, zone) = (StoredValue::new(name), StoredValue::new(zone));
    let params = KvRows::new([]);
    params.add(String::new(), String::new());
    let problems = Memo::new(move |_| params.problems(param_problems));
    let business_time = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let time_invalid = RwSignal::new(false);
    let run = Action::new_local(move |request: &RunRequest| {
        let request = request.clone();
        async move {
            let instance = run_job(job, &request).await?;
            on_done.run(instance);
            Ok::<_, ApiError>(())
        }
    });
    let error = action_error(run);
    let submit = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let typed = business_time.get_untracked();
        let at = (!typed.trim().is_empty())
            .then(|| zone.with_value(|zone| browser::parse_time_in_zone(&typed, zone)));
        time_invalid.set(matches!(at, Some(None)));
        if time_invalid.get_untracked() || problems.with_untracked(|p| !p.is_empty()) {
            return;
        }
        let reason = Some(reason.get_untracked().trim().to_owned()).filter(|r| !r.is_empty());
        run.dispatch_local(RunRequest {
            params: params.collect(),
            business_time: at.flatten(),
            reason,
        });
    };
    // The first parameter's name gets the focus.
    let form = NodeRef::<html::Form>::new();
    Effect::new(move |_| {
        let input = form
            .get()
            .and_then(|form| form.query_selector("input").ok().flatten())
            .and_then(|input| input.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(input) = input {
            let _ = input.focus();
        }
    });
    let row = move |row: KvRow| {
        let problem = move || problems.with(|p| p.get(&row.id).copied());
        view! {
            <div class="param-row" class:invalid=move || problem().is_some() data-testid="param-row">
                <input
                    class="input mono"
                    data-testid="param-name"
                    spellcheck="false"
                    placeholder=move || t(K::ParamName)
                    bind:value=row.key
                />
                <span class="config-eq">"="</span>
                <input
                    class="input mono"
                    data-testid="param-value"
                    spellcheck="false"
                    placeholder=move || t(K::ConfigValue)
                    bind:value=row.value
                />
                <button
                    type="button"
                    class="btn small ghost config-remove"
                    title=move || t(K::Remove)
                    on:click=move |_| params.remove(row.id)
                >
                    "×"
                </button>
                {move || {
                    problem()
                        .map(|problem| {
                            view! {
                                <span class="field-error param-error" data-testid="param-error">
                                    {move || t(problem)}
                                </span>
                            }
                        })
                }}
            </div>
        }
    };
    let title = move || name.with_value(|name| fill(t(K::RunParamsTitle), &[("name", name)]));
    let time_label =
        move || zone.with_value(|zone| fill(t(K::BusinessTimeOptional), &[("zone", zone)]));
    view! {
        <div class="modal-backdrop" on:click=move |_| on_close.run(())>
            <form
                class="card modal"
                node_ref=form
                role="dialog"
                aria-modal="true"
                data-testid="run-dialog"
                novalidate
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev: ev::KeyboardEvent| {
                    if ev.key() == "Escape" {
                        on_close.run(());
                    }
                }
                on:submit=submit
            >
                <h2>{title}</h2>
                <div class="field">
                    <span class="label">{move || t(K::Params)}</span>
                    <For each=move || params.rows.get() key=|row| row.id children=row />
                    <div class="row">
                        <button
                            type="button"
                            class="btn small"
                            data-testid="param-add"
                            on:click=move |_| params.add(String::new(), String::new())
                        >
                            {move || t(K::AddParam)}
                        </button>
                        <span class="muted hint">{move || t(K::ParamsHint)}</span>
                    </div>
                </div>
                <label class="field" class:invalid=move || time_invalid.get()>
                    <span class="label">{time_label}</span>
                    <input
                        class="input"
                        type="datetime-local"
                        step="1"
                        data-testid="run-business-time"
                        bind:value=business_time
                    />
                    {move || {
                        time_invalid
                            .get()
                            .then(|| {
                                let typed = business_time.get();
                                view! {
                                    <span class="field-error" data-testid="run-time-error">
                                        {fill(t(K::BadTime), &[("line", &typed)])}
                                    </span>
                                }
                            })
                    }}
                </label>
                <label class="field">
                    <span class="label">{move || t(K::Reason)}</span>
                    <input
                        class="input"
                        data-testid="run-reason"
                        placeholder=move || t(K::ReasonOptional)
                        maxlength="1000"
                        bind:value=reason
                    />
                </label>
                <ActionError message=error />
                <div class="form-actions">
                    <button
                        class="btn primary"
                        type="submit"
                        data-testid="run-submit"
                        disabled=move || run.pending().get()
                    >
                        {move || t(K::Run)}
                    </button>
                    <button class="btn" type="button" on:click=move |_| on_close.run(())>
                        {move || t(K::Cancel)}
                    </button>
                </div>
            </form>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_follow_the_server_rule() {
        for name in ["FOO", "_x", "a1_B", "HERA"] {
            assert!(valid_param_name(name), "{name}");
        }
        for name in ["", "1A", "A-B", "A B", "HERA_JOB", "dw.table"] {
            assert!(!valid_param_name(name), "{name}");
        }
    }

    #[test]
    fn parameter_rows_are_checked_in_order() {
        let rows: Vec<_> = [("FOO", "bar"), ("", ""), ("", "orphan"), ("FOO", "again")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(
            param_problems(&rows),
            [
                None,
                None,
                Some(K::ParamNameRule),
                Some(K::ConfigKeyDuplicate)
            ]
        );
    }
}
