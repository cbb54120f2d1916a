-- Business calendars, backfills, the audit trail, pause, per-edge skip policy and run-time
-- parameters (PostgreSQL). Keep equivalent to ../sqlite/0002_calendars_backfills_audit.sql.

create table calendars (
    id bigint generated always as identity primary key,
    name text not null unique,
    description text not null default '',
    -- ISO weekday numbers that are non-working by default, comma-separated ("6,7")
    weekend text not null default '6,7',
    created_at timestamptz not null,
    updated_at timestamptz not null
);

-- The exceptions of a calendar: holidays and make-up working days.
create table calendar_days (
    calendar_id bigint not null references calendars (id) on delete cascade,
    -- YYYY-MM-DD
    day text not null,
    kind text not null,
    note text not null default '',
    primary key (calendar_id, day)
);

alter table jobs add column calendar_id bigint references calendars (id);
alter table jobs add column calendar_mode text not null default 'ignore';
alter table jobs add column paused boolean not null default false;
alter table jobs add column paused_at timestamptz;

-- what a skipped upstream instance means for this edge (app::domain::OnSkip)
alter table job_dependencies add column on_skip text not null default 'done';

create table backfills (
    id bigint generated always as identity primary key,
    job_id bigint not null references jobs (id),
    include_downstream boolean not null,
    parallelism bigint not null,
    order_kind text not null,
    version_kind text not null,
    state text not null,
    created_by text not null,
    reason text,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index backfills_job on backfills (job_id);

-- run-time parameters of the trigger, a JSON object of strings
alter table instances add column params text not null default '{}';
alter table instances add column backfill_id bigint references backfills (id);
create index instances_backfill on instances (backfill_id);
create index instances_finished on instances (finished_at);

-- Who did what, to what, and why. Append-only.
create table audit_events (
    id bigint generated always as identity primary key,
    at timestamptz not null,
    actor text not null,
    action text not null,
    job_id bigint,
    instance_id bigint,
    backfill_id bigint,
    calendar_id bigint,
    reason text,
    details text not null default ''
);
create index audit_events_job on audit_events (job_id, id);
create index audit_events_instance on audit_events (instance_id, id);
create index audit_events_backfill on audit_events (backfill_id, id);
create index audit_events_calendar on audit_events (calendar_id, id);
