//! `/calendars`: the business calendars (weekend days, holidays, make-up workdays, the jobs that
//! use each) and a form to create one, which then opens in its editor.

use app::{
    api::{Calendar, CalendarInput},
    domain::DayKind,
};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{
    api::{
        catalog::Catalog,
        http::{self, ApiError},
    },
    browser,
    components::{
        error_view::{ActionError, action_error, error_fallback, loading},
        table::Table,
    },
    i18n::{K, t, weekday_name},
};

/// The calendars page.
#[component]
pub fn CalendarsPage() -> impl IntoView {
    let calendars = LocalResource::new(|| http::get::<Vec<Calendar>>("/api/calendars"));
    let catalog = Catalog::current();
    let name = RwSignal::new(String::new());
    let navigate = use_navigate();
    let create = Action::new_local(move |name: &String| {
        let input = CalendarInput {
            name: name.clone(),
            description: None,
            weekend: None,
            days: None,
        };
        let navigate = navigate.clone();
        async move {
            let calendar: Calendar = http::post("/api/calendars", &input).await?;
            navigate(&format!("/calendars/{}", calendar.id), Default::default());
            Ok::<_, ApiError>(())
        }
    });
    let create_error = action_error(create);
    let headers = vec![
        K::Name,
        K::Description,
        K::Weekend,
        K::Holidays,
        K::Workdays,
        K::UsedBy,
        K::Updated,
    ];
    let table = move || {
        let headers = headers.clone();
        Suspend::new(async move {
            let mut list = calendars.await?;
            list.sort_by(|a, b| a.name.cmp(&b.name));
            let empty = list.is_empty();
            let rows = list
                .into_iter()
                .map(|calendar| calendar_row(calendar, catalog))
                .collect_view();
            Ok::<_, ApiError>(view! {
                <Table headers empty empty_text=K::NoCalendars testid="calendars">
                    {rows}
                </Table>
            })
        })
    };
    view! {
        <div class="page">
            <div class="page-head">
                <div>
                    <h1>{move || t(K::Calendars)}</h1>
                    <p class="muted">{move || t(K::CalendarsHint)}</p>
                </div>
                <form
                    class="actions"
                    data-testid="new-calendar-form"
                    on:submit=move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        let typed = name.get_untracked().trim().to_owned();
                        if !typed.is_empty() {
                            create.dispatch_local(typed);
                        }
                    }
                >
                    <input
                        class="input"
                        data-testid="new-calendar-name"
                        placeholder=move || t(K::Name)
                        aria-label=move || t(K::Name)
                        bind:value=name
                    />
                    <button
                        class="btn primary"
                        type="submit"
                        data-testid="create-calendar"
                        disabled=move || create.pending().get() || name.with(|n| n.trim().is_empty())
                    >
                        {move || t(K::NewCalendar)}
                    </button>
                </form>
            </div>
            <ActionError message=create_error />
            <section class="card">
                <Transition fallback=loading>
                    <ErrorBoundary fallback=error_fallback>{table}</ErrorBoundary>
                </Transition>
            </section>
        </div>
    }
}

fn calendar_row(calendar: Calendar, catalog: Catalog) -> impl IntoView {
    let count = |kind: DayKind| calendar.days.iter().filter(|d| d.kind == kind).count();
    let (holidays, workdays) = (count(DayKind::Holiday), count(DayKind::Workday));
    let weekend = calendar.weekend.clone();
    let weekend = move || {
        weekend
            .iter()
            .map(|day| t(weekday_name(*day)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let jobs = calendar.job_ids.clone();
    let used_by = move || {
        let data = catalog.data();
        jobs.iter()
            .map(|id| {
                let name = data
                    .job(*id)
                    .map_or_else(|| format!("#{id}"), |j| j.name.clone());
                view! { <a class="chip" href=format!("/jobs/{id}")>{name}</a> }
            })
            .collect_view()
    };
    view! {
        <tr data-testid="calendar-row" data-calendar-id=calendar.id.0>
            <td>
                <a href=format!("/calendars/{}", calendar.id) data-testid="calendar-link">
                    {calendar.name}
                </a>
            </td>
            <td class="wrap muted">{calendar.description}</td>
            <td>{weekend}</td>
            <td data-testid="calendar-holidays">{holidays}</td>
            <td data-testid="calendar-workdays">{workdays}</td>
            <td class="wrap">
                <div class="chips">{used_by}</div>
            </td>
            <td>{browser::local_short(Some(calendar.updated_at))}</td>
        </tr>
    }
}
