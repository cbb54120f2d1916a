-- Hera's initial schema (SQLite). Keep equivalent to ../postgres/0001_initial.sql.

create table users (
    id integer primary key autoincrement,
    username text not null unique,
    password_hash text not null,
    is_admin boolean not null default false,
    created_at text not null
);

-- One row per worker token; the token itself is never stored, only its SHA-256.
create table workers (
    id integer primary key autoincrement,
    name text not null unique,
    token_hash text not null unique,
    created_at text not null
);

create table folders (
    id integer primary key autoincrement,
    name text not null,
    parent_id integer references folders (id),
    created_at text not null
);
create unique index folders_sibling_name on folders (coalesce(parent_id, 0), name);

create table jobs (
    id integer primary key autoincrement,
    folder_id integer not null references folders (id),
    name text not null,
    description text not null default '',
    job_type text not null,
    script text not null,
    -- key=value configs as a JSON object of strings, inherited by the script's variables
    configs text not null default '{}',
    cron text,
    timezone text not null,
    host_group text not null,
    retry_count integer not null,
    retry_delay_secs integer not null,
    enabled boolean not null,
    priority integer not null default 3,
    overlap_policy text not null default 'allow',
    misfire_policy text not null default 'fire_once_now',
    self_dependent boolean not null default false,
    owner text not null,
    version integer not null,
    created_at text not null,
    updated_at text not null,
    -- set when the job is deleted; its instances and versions stay for history
    deleted_at text
);
create index jobs_folder on jobs (folder_id);

create table job_dependencies (
    job_id integer not null references jobs (id),
    upstream_id integer not null references jobs (id),
    -- which upstream instances the job waits for (app::domain::DependencyWindow)
    window_kind text not null default 'same_day',
    primary key (job_id, upstream_id)
);
create index job_dependencies_upstream on job_dependencies (upstream_id);

-- Every save of a job is a version; instances pin the version they run.
create table job_versions (
    job_id integer not null references jobs (id),
    version integer not null,
    job_type text not null,
    script text not null,
    -- key=value configs as a JSON object of strings, inherited by the script's variables
    configs text not null default '{}',
    created_at text not null,
    primary key (job_id, version)
);

-- Instance ids are allocated by the scheduler engine, not by the database.
create table instances (
    id integer primary key,
    job_id integer not null references jobs (id),
    scheduled_at text not null,
    job_version integer not null,
    trigger text not null,
    state text not null,
    reason text,
    created_at text not null,
    started_at text,
    finished_at text,
    attempts integer not null,
    failed_attempts integer not null,
    lost_attempts integer not null,
    retry_at text,
    next_trigger text not null,
    cancel_requested boolean not null,
    unique (job_id, scheduled_at)
);
create index instances_state on instances (state);
create index instances_scheduled on instances (scheduled_at);

create table attempts (
    id integer primary key,
    instance_id integer not null references instances (id),
    job_id integer not null references jobs (id),
    number integer not null,
    trigger text not null,
    state text not null,
    worker_id integer not null references workers (id),
    exit_code integer,
    created_at text not null,
    started_at text,
    finished_at text
);
create index attempts_instance on attempts (instance_id);
create index attempts_state on attempts (state);

-- Logs are stored as chunks keyed by byte offset, never as one growing column.
create table log_chunks (
    attempt_id integer not null references attempts (id),
    start_offset integer not null,
    end_offset integer not null,
    text text not null,
    created_at text not null,
    primary key (attempt_id, start_offset)
);
