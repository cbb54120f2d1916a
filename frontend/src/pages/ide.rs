//! `/ide`: the development center. On the left the user's own file tree and the shared one; in
//! the middle the open file in a code editor (saved a second after the last keystroke, or at once
//! on Ctrl/Cmd+S) with its job type, a host group, Run, Run selection and Publish…; below, the
//! live log of the selected run and the file's run history. A run is an instance of the file's
//! hidden run job, so its state comes over the event stream and its log over the log socket.

use std::{collections::HashSet, time::Duration};

use app::{
    api::{Event, IdeFile, IdeFileUpdate, IdeRun, IdeScope, Instance, Job, RenderRequest, Worker},
    domain::JobType,
    ids::{AttemptId, IdeFileId, InstanceId, JobId},
};
use leptos::{ev, prelude::*};

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
        ws::watch_events,
    },
    browser,
    components::{
        code_editor::CodeEditor,
        confirm::ConfirmCard,
        error_view::{ActionError, action_error},
        ide_dialogs::{
            CreateDialog, MoveDialog, PublishDialog, RenameDialog, job_type_options, move_file,
        },
        ide_tree::{DragState, IdeTree, TreeAsk, descendants},
        log_tail::LogTail,
        render_preview::{RenderedText, render},
        state_badge::StateBadge,
    },
    i18n::{K, fill, t},
};

/// How many runs the history shows.
const RUN_LIMIT: u32 = 20;
/// The pause after the last keystroke before the editor saves.
const AUTOSAVE: Duration = Duration::from_millis(1000);
/// How long the "drag cancelled" message stays.
const DRAG_NOTICE: Duration = Duration::from_secs(8);
/// Where the chosen host group is remembered.
const HOST_GROUP_KEY: &str = "hera.ide.host_group";

/// The editor's text compared with the stored file.
#[derive(Clone, Debug, PartialEq)]
enum SaveState {
    Saved,
    Saving,
    Unsaved,
    Failed(String),
}

/// The syntax of a job type's script in the editor.
fn language(kind: JobType) -> &'static str {
    match kind {
        JobType::Shell | JobType::SparkSubmit | JobType::Http => "shell",
        JobType::Python => "python",
        JobType::Hive => "hive",
        JobType::SparkSql | JobType::Sql => "sql",
    }
}

/// The page.
#[component]
pub fn IdePage() -> impl IntoView {
    let catalog = Catalog::current();
    let files = LocalResource::new(|| http::get::<Vec<IdeFile>>("/api/ide/files"));
    let list = Memo::new(move |_| {
        files.with(|answer| match answer {
            Some(Ok(list)) => list.clone(),
            _ => Vec::new(),
        })
    });
    let loaded = Signal::derive(move || files.with(Option::is_some));
    let load_error = Signal::derive(move || {
        files.with(|answer| match answer {
            Some(Err(err)) => Some(err.to_string()),
            _ => None,
        })
    });
    let expanded = RwSignal::new(HashSet::<IdeFileId>::new());
    let ask = RwSignal::new(None::<TreeAsk>);

    // The open file (its content as loaded), the editor's text and what is stored.
    let file = RwSignal::new(None::<IdeFile>);
    let open_id = Memo::new(move |_| file.with(|f| f.as_ref().map(|f| f.id)));
    let job_type =
        Memo::new(move |_| file.with(|f| f.as_ref().map_or(JobType::Shell, |f| f.job_type)));
    let text = RwSignal::new(String::new());
    let saved = RwSignal::new(String::new());
    let save_state = RwSignal::new(SaveState::Saved);
    let selection = RwSignal::new(String::new());
    let open_error = RwSignal::new(None::<String>);

    // Saving: one request at a time; what was typed meanwhile is saved after it.
    let save = Action::new_local(move |(id, content): &(IdeFileId, String)| {
        let (id, content) = (*id, content.clone());
        async move {
            let body = IdeFileUpdate {
                content: Some(content.clone()),
                ..IdeFileUpdate::default()
            };
            let result = http::put::<_, IdeFile>(format!("/api/ide/files/{id}"), &body).await;
            if open_id.try_get_untracked().flatten() == Some(id) {
                match &result {
                    Ok(_) => {
                        saved.set(content.clone());
                        save_state.set(if text.get_untracked() == content {
                            SaveState::Saved
                        } else {
                            SaveState::Unsaved
                        });
                    }
                    Err(err) => save_state.set(SaveState::Failed(err.to_string())),
                }
            }
            result.map(|_| ())
        }
    });
    let due = RwSignal::new(0u64);
    let timer = StoredValue::new_local(None::<TimeoutHandle>);
    let arm = move |after: Duration| {
        if let Some(timer) = timer.get_value() {
            timer.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                due.try_update(|n| *n += 1);
            },
            after,
        );
        timer.set_value(handle.ok());
    };
    let save_now = move || {
        if let Some(timer) = timer.get_value() {
            timer.clear();
        }
        let Some(id) = open_id.get_untracked() else {
            return;
        };
        let content = text.get_untracked();
        if content == saved.get_untracked() {
            if save_state.get_untracked() == SaveState::Unsaved {
                save_state.set(SaveState::Saved);
            }
            return;
        }
        if save.pending().get_untracked() {
            arm(Duration::from_millis(300));
            return;
        }
        save_state.set(SaveState::Saving);
        save.dispatch_local((id, content));
    };
    Effect::new(move |first: Option<()>| {
        due.track();
        if first.is_some() {
            save_now();
        }
    });
    // Every edit marks the file unsaved and (re)starts the autosave pause.
    Effect::new(move |_| {
        let now = text.get();
        if open_id.get_untracked().is_none() || now == saved.get_untracked() {
            return;
        }
        save_state.set(SaveState::Unsaved);
        arm(AUTOSAVE);
    });
    // Leaving the page saves what is left.
    on_cleanup(move || {
        if let (Some(Some(id)), Some(content), Some(stored)) = (
            open_id.try_get_untracked(),
            text.try_get_untracked(),
            saved.try_get_untracked(),
        ) && content != stored
        {
            leptos::task::spawn_local(async move {
                let body = IdeFileUpdate {
                    content: Some(content),
                    ..IdeFileUpdate::default()
                };
                let _ = http::put::<_, IdeFile>(format!("/api/ide/files/{id}"), &body).await;
            });
        }
    });

    // Opening a file saves the one open before.
    let open = Action::new_local(move |id: &IdeFileId| {
        let id = *id;
        async move {
            let loaded = http::get::<IdeFile>(format!("/api/ide/files/{id}")).await;
            match loaded {
                Ok(loaded) => {
                    let content = loaded.content.clone().unwrap_or_default();
                    saved.set(content.clone());
                    text.set(content);
                    selection.set(String::new());
                    save_state.set(SaveState::Saved);
                    open_error.set(None);
                    file.set(Some(loaded));
                }
                Err(err) => open_error.set(Some(err.to_string())),
            }
        }
    });
    let open_file = Callback::new(move |id: IdeFileId| {
        if open_id.get_untracked() == Some(id) {
            return;
        }
        save_now();
        open.dispatch_local(id);
    });
    let close_file = move || {
        if let Some(timer) = timer.get_value() {
            timer.clear();
        }
        file.set(None);
        text.set(String::new());
        saved.set(String::new());
        save_state.set(SaveState::Saved);
    };

    // The job type changes at once (and the editor's syntax with it).
    let retype = Action::new_local(move |kind: &JobType| {
        let kind = *kind;
        let id = open_id.get_untracked();
        async move {
            let Some(id) = id else { return Ok(()) };
            let body = IdeFileUpdate {
                job_type: Some(kind),
                ..IdeFileUpdate::default()
            };
            let changed = http::put::<_, IdeFile>(format!("/api/ide/files/{id}"), &body).await?;
            file.update(|f| {
                if let Some(f) = f.as_mut().filter(|f| f.id == id) {
                    f.job_type = changed.job_type;
                }
            });
            files.refetch();
            Ok::<_, ApiError>(())
        }
    });

    // Host groups of the registered workers; the choice is remembered.
    let workers = LocalResource::new(|| http::get::<Vec<Worker>>("/api/workers"));
    let host_groups = Memo::new(move |_| {
        let mut groups = vec!["default".to_owned()];
        if let Some(Ok(workers)) = workers.get() {
            groups.extend(workers.into_iter().map(|w| w.host_group));
        }
        groups.sort();
        groups.dedup();
        groups
    });
    let host_group =
        RwSignal::new(browser::load(HOST_GROUP_KEY).unwrap_or_else(|| "default".to_owned()));

    // Runs: the history of the open file, the one selected, the live state over the events.
    let run_job = RwSignal::new(None::<JobId>);
    let live = watch_events(move |event| match event {
        Event::Instance { job_id, .. } | Event::Attempt { job_id, .. } => {
            run_job.try_get_untracked().flatten() == Some(*job_id)
        }
        _ => false,
    });
    let calmly = live.throttled(Duration::from_millis(500));
    let ran = RwSignal::new(0u64);
    let runs = LocalResource::new(move || {
        calmly.changes.track();
        ran.track();
        let id = open_id.get();
        async move {
            match id {
                Some(id) => {
                    http::get::<Vec<Instance>>(format!(
                        "/api/ide/files/{id}/runs?limit={RUN_LIMIT}"
                    ))
                    .await
                }
                None => Ok(Vec::new()),
            }
        }
    });
    let run_list = Memo::new(move |_| {
        runs.with(|answer| match answer {
            Some(Ok(list)) => list.clone(),
            _ => Vec::new(),
        })
    });
    Effect::new(move |_| {
        if let Some(job) = run_list.with(|list| list.first().map(|run| run.job_id)) {
            run_job.set(Some(job));
        }
    });
    let selected_run = RwSignal::new(None::<InstanceId>);
    Effect::new(move |_| {
        open_id.track();
        selected_run.set(None);
        run_job.set(None);
    });
    // The run shown: the one clicked, else the newest.
    let shown = Memo::new(move |_| {
        let list = run_list.get();
        match selected_run.get() {
            Some(id) => list.into_iter().find(|run| run.id == id),
            None => list.into_iter().next(),
        }
    });
    let shown_attempt = Memo::new(move |_| {
        shown.with(|run| run.as_ref().and_then(|r| r.attempts.last()).map(|a| a.id))
    });

    let run = Action::new_local(move |only_selection: &bool| {
        let script = if *only_selection {
            selection.get_untracked()
        } else {
            text.get_untracked()
        };
        let id = open_id.get_untracked();
        let group = host_group.get_untracked();
        async move {
            let Some(id) = id else { return Ok(()) };
            let body = IdeRun {
                host_group: group,
                script: Some(script),
                folder_id: None,
            };
            let instance =
                http::post::<_, Instance>(format!("/api/ide/files/{id}/run"), &body).await?;
            run_job.set(Some(instance.job_id));
            selected_run.set(Some(instance.id));
            ran.update(|n| *n += 1);
            Ok::<_, ApiError>(())
        }
    });
    let run_error = action_error(run);
    let has_selection = move || selection.with(|s| !s.trim().is_empty());

    // Preview: the editor's text as an attempt would run it now, in the browser's zone (the
    // server renders configs, `${zdt…}` and `$[…]` macros).
    let previewing = RwSignal::new(false);
    let preview = Action::new_local(move |(): &()| {
        let body = RenderRequest {
            script: text.get_untracked(),
            business_time: browser::now(),
            timezone: browser::time_zone().unwrap_or_else(|| "UTC".to_owned()),
            folder_id: None,
            configs: Default::default(),
            params: Default::default(),
        };
        render(body)
    });

    // Ctrl/Cmd+S saves now, wherever the focus is on the page.
    let keys = window_event_listener(ev::keydown, move |ev| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.key().eq_ignore_ascii_case("s") {
            ev.prevent_default();
            save_now();
        }
    });
    on_cleanup(move || keys.remove());

    // Publishing: the dialog, then a link to the job.
    let publishing = RwSignal::new(false);
    let published = RwSignal::new(None::<Job>);
    Effect::new(move |_| {
        open_id.track();
        published.set(None);
    });

    // The tree's questions.
    let after_change = move |changed: Option<IdeFile>| {
        ask.set(None);
        if let Some(changed) = changed {
            if let Some(parent) = changed.parent_id {
                expanded.update(|set| {
                    set.insert(parent);
                });
            }
            file.update(|f| {
                if let Some(f) = f.as_mut().filter(|f| f.id == changed.id) {
                    f.name = changed.name.clone();
                    f.parent_id = changed.parent_id;
                }
            });
            if !changed.is_dir && open_id.get_untracked() != Some(changed.id) {
                open_file.run(changed.id);
            }
        }
        files.refetch();
    };
    // Drag and drop between folders of a tree: the move goes out at once (no dialog); a refusal
    // (a folder into itself, a name the folder has already) shows the server's message.
    let drag = DragState::new();
    // The list changed (reloaded after a save, a move, a publish…) while a file was dragged: the
    // rows under the drag are new ones, so the drag is cancelled and the user told to try again.
    // The message goes at the next drag or after a while.
    let drag_cancelled = RwSignal::new(false);
    let notice_timer = StoredValue::new_local(None::<TimeoutHandle>);
    Effect::new(move |first: Option<()>| {
        list.track();
        if first.is_some() && drag.cancel() {
            drag_cancelled.set(true);
            if let Some(timer) = notice_timer.get_value() {
                timer.clear();
            }
            let handle = set_timeout_with_handle(
                move || {
                    drag_cancelled.try_set(false);
                },
                DRAG_NOTICE,
            );
            notice_timer.set_value(handle.ok());
        }
    });
    Effect::new(move || {
        if drag.active().is_some() {
            drag_cancelled.set(false);
        }
    });
    let dropped = Action::new_local(
        move |&(id, parent): &(IdeFileId, Option<IdeFileId>)| async move {
            let moved = move_file(id, parent).await?;
            if let Some(parent) = moved.parent_id {
                expanded.update(|set| {
                    set.insert(parent);
                });
            }
            file.update(|f| {
                if let Some(f) = f.as_mut().filter(|f| f.id == moved.id) {
                    f.parent_id = moved.parent_id;
                }
            });
            files.refetch();
            Ok::<_, ApiError>(())
        },
    );
    // The server's reason (a 422 names the field), else its message.
    let drop_error = Signal::derive(move || {
        dropped.value().with(|v| match v {
            Some(Err(err)) => Some(
                err.fields()
                    .into_values()
                    .next()
                    .unwrap_or_else(|| err.to_string()),
            ),
            _ => None,
        })
    });
    let delete = Action::new_local(move |target: &IdeFile| {
        let target = target.clone();
        async move {
            http::delete(format!("/api/ide/files/{}", target.id)).await?;
            let gone = list.with_untracked(|all| descendants(all, target.id));
            if open_id
                .get_untracked()
                .is_some_and(|id| id == target.id || gone.contains(&id))
            {
                close_file();
            }
            ask.set(None);
            files.refetch();
            Ok::<_, ApiError>(())
        }
    });
    let dialog = move || {
        let current = ask.get()?;
        let close = move |()| ask.set(None);
        Some(match current {
            TreeAsk::Create { scope, parent, dir } => view! {
                <CreateDialog
                    scope
                    parent
                    dir
                    on_done=move |created| after_change(Some(created))
                    on_close=close
                />
            }
            .into_any(),
            TreeAsk::Rename(target) => view! {
                <RenameDialog file=target on_done=move |done| after_change(Some(done)) on_close=close />
            }
            .into_any(),
            TreeAsk::Move(target) => view! {
                <MoveDialog
                    file=target
                    files=list.get_untracked()
                    on_done=move |done| after_change(Some(done))
                    on_close=close
                />
            }
            .into_any(),
            TreeAsk::Delete(target) => {
                let inside = list.with_untracked(|all| descendants(all, target.id).len());
                let question = if target.is_dir {
                    let name = target.name.clone();
                    Signal::derive(move || {
                        fill(
                            t(K::IdeDeleteFolderQuestion),
                            &[("name", &name), ("n", &inside.to_string())],
                        )
                    })
                } else {
                    let name = target.name.clone();
                    Signal::derive(move || fill(t(K::IdeDeleteFileQuestion), &[("name", &name)]))
                };
                view! {
                    <div class="modal-backdrop" on:click=move |_| ask.set(None)>
                        <div class="ide-confirm" on:click=|ev| ev.stop_propagation()>
                            <ConfirmCard
                                testid="ide-delete"
                                danger=true
                                question
                                pending=delete.pending()
                                error=action_error(delete)
                                on_confirm=move |()| {
                                    delete.dispatch_local(target.clone());
                                }
                                on_cancel=move |()| {
                                    delete.value().set(None);
                                    ask.set(None);
                                }
                            />
                        </div>
                    </div>
                }
                .into_any()
            }
        })
    };
    let publish_dialog = move || {
        let current = publishing.get().then(|| file.get()).flatten()?;
        Some(view! {
            <PublishDialog
                file=current
                text
                on_done=move |(job, content): (Job, String)| {
                    publishing.set(false);
                    saved.set(content.clone());
                    if text.get_untracked() == content {
                        save_state.set(SaveState::Saved);
                    }
                    let job_id = job.id;
                    file.update(|f| {
                        if let Some(f) = f.as_mut() {
                            f.published_job_id = Some(job_id);
                        }
                    });
                    published.set(Some(job));
                    catalog.refresh();
                    files.refetch();
                }
                on_close=move |()| publishing.set(false)
            />
        })
    };

    let status = move || match save_state.get() {
        SaveState::Saved => ("saved", t(K::IdeSaved).to_owned()),
        SaveState::Saving => ("saving", t(K::Saving).to_owned()),
        SaveState::Unsaved => ("unsaved", t(K::IdeUnsaved).to_owned()),
        SaveState::Failed(err) => ("failed", fill(t(K::IdeSaveFailed), &[("error", &err)])),
    };
    let editor = move || {
        let Some(id) = open_id.get() else {
            return view! {
                <div class="ide-empty" data-testid="ide-empty">
                    <h2>{move || t(K::IdeEmptyTitle)}</h2>
                    <p class="muted">{move || t(K::IdeEmptyHint)}</p>
                </div>
            }
            .into_any();
        };
        let name = move || file.with(|f| f.as_ref().map(|f| f.name.clone()).unwrap_or_default());
        let scope = move || {
            file.with(|f| match f.as_ref().map(|f| f.scope) {
                Some(IdeScope::Shared) => t(K::IdeShared),
                _ => t(K::IdeMyFiles),
            })
        };
        view! {
            <div class="ide-toolbar" data-testid="ide-toolbar" data-file-id=id.0>
                <div class="ide-file-name">
                    <span class="muted ide-scope">{scope}</span>
                    <strong data-testid="ide-file-name">{name}</strong>
                </div>
                <select
                    class="input small auto"
                    data-testid="ide-job-type"
                    aria-label=move || t(K::JobType)
                    title=move || t(K::JobType)
                    disabled=move || retype.pending().get()
                    on:change=move |ev| {
                        if let Ok(kind) = event_target_value(&ev).parse() {
                            retype.dispatch_local(kind);
                        }
                    }
                >
                    {job_type_options(job_type.into())}
                </select>
                <span
                    class=move || format!("ide-save {}", status().0)
                    data-testid="ide-save-status"
                    data-state=move || status().0
                    title=move || status().1
                >
                    {move || status().1}
                </span>
                <div class="spacer"></div>
                <label class="ide-host">
                    <span class="muted">{move || t(K::IdeRunOn)}</span>
                    <select
                        class="input small auto"
                        data-testid="ide-host-group"
                        aria-label=move || t(K::HostGroup)
                        on:change=move |ev| {
                            let group = event_target_value(&ev);
                            browser::store(HOST_GROUP_KEY, Some(&group));
                            host_group.set(group);
                        }
                    >
                        {move || {
                            let mut groups = host_groups.get();
                            let chosen = host_group.get();
                            if !groups.contains(&chosen) {
                                groups.push(chosen.clone());
                            }
                            groups
                                .into_iter()
                                .map(|group| {
                                    let selected = group == chosen;
                                    let value = group.clone();
                                    view! {
                                        <option value=value selected=selected>
                                            {group}
                                        </option>
                                    }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                <button
                    class="btn small primary"
                    data-testid="ide-run"
                    title=move || t(K::IdeRunHint)
                    disabled=move || run.pending().get()
                    on:click=move |_| {
                        run.dispatch_local(false);
                    }
                >
                    "▶ "
                    {move || t(K::Run)}
                </button>
                <button
                    class="btn small"
                    data-testid="ide-run-selection"
                    title=move || t(K::IdeRunSelectionHint)
                    disabled=move || run.pending().get() || !has_selection()
                    on:click=move |_| {
                        run.dispatch_local(true);
                    }
                >
                    {move || t(K::IdeRunSelection)}
                </button>
                <button
                    class="btn small"
                    class:active=move || previewing.get()
                    data-testid="ide-preview"
                    title=move || t(K::IdePreviewHint)
                    on:click=move |_| {
                        let show = !previewing.get_untracked();
                        previewing.set(show);
                        if show {
                            preview.dispatch_local(());
                        }
                    }
                >
                    {move || t(K::IdePreview)}
                </button>
                <button
                    class="btn small"
                    data-testid="ide-publish"
                    on:click=move |_| {
                        published.set(None);
                        publishing.set(true);
                    }
                >
                    {move || t(K::IdePublish)}
                </button>
            </div>
            <ActionError message=run_error />
            <ActionError message=action_error(retype) />
            {move || {
                published
                    .get()
                    .map(|job| {
                        let (name, id, version) = (job.name, job.id, job.version.to_string());
                        view! {
                            <p class="notice ide-published" data-testid="ide-published">
                                {move || {
                                    fill(
                                        t(K::IdePublished),
                                        &[("name", &name), ("id", &id.to_string()), ("v", &version)],
                                    )
                                }}
                                " "
                                <a href=format!("/jobs/{id}") data-testid="ide-published-link">
                                    {move || t(K::IdeOpenJob)}
                                </a>
                            </p>
                        }
                    })
            }}
            <div class="ide-editor">
                <CodeEditor
                    value=text
                    language=Signal::derive(move || language(job_type.get()))
                    testid="ide-editor"
                    selection
                />
            </div>
            <Show when=move || previewing.get()>
                <div class="ide-preview card" data-testid="ide-preview-panel">
                    <div class="ide-preview-head">
                        <strong>{move || t(K::IdePreviewTitle)}</strong>
                        <button
                            class="btn small"
                            disabled=move || preview.pending().get()
                            on:click=move |_| {
                                preview.dispatch_local(());
                            }
                        >
                            {move || t(K::IdePreviewAgain)}
                        </button>
                    </div>
                    <RenderedText result=preview.value() testid="ide-preview" />
                </div>
            </Show>
        }
        .into_any()
    };

    let history = move || {
        open_id.get()?;
        let rows = move || {
            run_list
                .get()
                .into_iter()
                .map(|instance| {
                    let id = instance.id;
                    let active = move || shown.with(|run| run.as_ref().map(|r| r.id)) == Some(id);
                    let started =
                        browser::local_short(instance.started_at.or(Some(instance.created_at)));
                    let took = browser::elapsed(instance.started_at, instance.finished_at);
                    view! {
                        <button
                            class="ide-run-row"
                            class:active=active
                            data-testid="ide-run-row"
                            data-instance-id=id.0
                            data-state=instance.state.as_str()
                            on:click=move |_| selected_run.set(Some(id))
                        >
                            <StateBadge state=instance.state />
                            <span class="mono muted">"#" {id.0}</span>
                            <span class="ide-run-started">{started}</span>
                            <span class="ide-run-took muted">{took}</span>
                        </button>
                    }
                })
                .collect_view()
        };
        let runs_error = move || {
            runs.with(|answer| match answer {
                Some(Err(err)) => Some(err.to_string()),
                _ => None,
            })
        };
        Some(view! {
            <aside class="ide-runs" data-testid="ide-runs">
                <div class="ide-runs-head">
                    <h3>{move || t(K::IdeRuns)}</h3>
                </div>
                <ActionError message=Signal::derive(runs_error) />
                <Show
                    when=move || !run_list.with(Vec::is_empty)
                    fallback=|| view! { <p class="muted ide-runs-empty">{move || t(K::IdeNoRuns)}</p> }
                >
                    <div class="ide-run-list">{rows}</div>
                </Show>
            </aside>
        })
    };
    let log = move || {
        open_id.get()?;
        Some(match shown_attempt.get() {
            Some(attempt) => {
                view! { <RunLog attempt on_complete=move |()| ran.update(|n| *n += 1) /> }
                    .into_any()
            }
            None => {
                let waiting = shown.with(|run| run.as_ref().map(|r| (r.state, r.reason.clone())));
                match waiting {
                    Some((state, reason)) => view! {
                        <div class="ide-log-empty" data-testid="ide-log-waiting">
                            <StateBadge state />
                            <span class="muted">
                                {reason.unwrap_or_else(|| t(K::IdeWaitingForWorker).to_owned())}
                            </span>
                        </div>
                    }
                    .into_any(),
                    None => view! {
                        <div class="ide-log-empty">
                            <span class="muted">{move || t(K::IdeLogHint)}</span>
                        </div>
                    }
                    .into_any(),
                }
            }
        })
    };

    view! {
        <div class="ide" data-testid="ide">
            <div class="ide-side">
                <ActionError message=load_error />
                <div data-testid="ide-drop-error">
                    <ActionError message=drop_error />
                </div>
                <Show when=move || drag_cancelled.get()>
                    <p class="alert warning" role="status" data-testid="ide-drag-cancelled">
                        {move || t(K::IdeDragCancelled)}
                    </p>
                </Show>
                <IdeTree
                    scope=IdeScope::Personal
                    title=K::IdeMyFiles
                    files=list
                    loaded
                    current=open_id
                    expanded
                    drag
                    on_open=open_file
                    on_ask=move |question| ask.set(Some(question))
                    on_move=move |(id, parent)| {
                        dropped.dispatch_local((id, parent));
                    }
                />
                <IdeTree
                    scope=IdeScope::Shared
                    title=K::IdeShared
                    files=list
                    loaded
                    current=open_id
                    expanded
                    drag
                    on_open=open_file
                    on_ask=move |question| ask.set(Some(question))
                    on_move=move |(id, parent)| {
                        dropped.dispatch_local((id, parent));
                    }
                />
            </div>
            <div class="ide-main">
                <ActionError message=open_error />
                <div class="ide-pane">{editor}</div>
                <div class="ide-bottom" class:hidden=move || open_id.get().is_none()>
                    {history}
                    <div class="ide-log">{log}</div>
                </div>
            </div>
            {dialog}
            {publish_dialog}
        </div>
    }
}

/// The live log of one attempt, made anew when the attempt changes.
#[component]
fn RunLog(attempt: AttemptId, #[prop(into)] on_complete: Callback<()>) -> impl IntoView {
    view! { <LogTail attempt on_complete /> }
}
