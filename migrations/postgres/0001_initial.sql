-- Hera's initial schema (PostgreSQL). Keep equivalent to ../sqlite/0001_initial.sql.

create table users (
    id bigint generated always as identity primary key,
    username text not null unique,
    password_hash text not null,
    is_admin boolean not null default false,
    created_at timestamptz not null
);

-- One row per worker token; the token itself is never stored, only its SHA-256.
create table workers (
    id bigint generated always as identity primary key,
    name text not null unique,
    token_hash text not null unique,
    created_at timestamptz not null
);

create table folders (
    id bigint generated always as identity primary key,
    name text not null,
    parent_id bigint references folders (id),
    created_at timestamptz not null
);
create unique index folders_sibling_name on folders (coalesce(parent_id, 0), name);

create table jobs (
    id bigint generated always as identity primary key,
    folder_id bigint not null references folders (id),
    name text not null,
    description text not null default '',
    job_type text not null,
    script text not null,
    -- key=value configs as a JSON object of strings, inherited by the script's variables
    configs text not null default '{}',
    cron text,
    timezone text not null,
    host_group text not null,
    retry_count bigint not null,
    retry_delay_secs bigint not null,
    enabled boolean not null,
    priority bigint not null default 3,
    overlap_policy text not null default 'allow',
    misfire_policy text not null default 'fire_once_now',
    self_dependent boolean not null default false,
    owner text not null,
    version bigint not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    -- set when the job is deleted; its instances and versions stay for history
    deleted_at timestamptz
);
create index jobs_folder on jobs (folder_id);

create table job_dependencies (
    job_id bigint not null references jobs (id),
    upstream_id bigint not null references jobs (id),
    -- which upstream instances the job waits for (app::domain::DependencyWindow)
    window_kind text not null default 'same_day',
    primary key (job_id, upstream_id)
);
create index job_dependencies_upstream on job_dependencies (upstream_id);

-- Every save of a job is a version; instances pin the version they run.
create table job_versions (
    job_id bigint not null references jobs (id),
    version bigint not null,
    job_type text not null,
    script text not null,
    -- key=value configs as a JSON object of strings, inherited by the script's variables
    configs text not null default '{}',
    created_at timestamptz not null,
    primary key (job_id, version)
);

-- Instance ids are allocated by the scheduler engine, not by the database.
create table instances (
    id bigint primary key,
    job_id bigint not null references jobs (id),
    scheduled_at timestamptz not null,
    job_version bigint not null,
    trigger text not null,
    state text not null,
    reason text,
    created_at timestamptz not null,
    started_at timestamptz,
    finished_at timestamptz,
    attempts bigint not null,
    failed_attempts bigint not null,
    lost_attempts bigint not null,
    retry_at timestamptz,
    next_trigger text not null,
    cancel_requested boolean not null,
    unique (job_id, scheduled_at)
);
create index instances_state on instances (state);
create index instances_scheduled on instances (scheduled_at);

create table attempts (
    id bigint primary key,
    instance_id bigint not null references instances (id),
    job_id bigint not null references jobs (id),
    number bigint not null,
    trigger text not null,
    state text not null,
    worker_id bigint not null references workers (id),
    exit_code integer,
    created_at timestamptz not null,
    started_at timestamptz,
    finished_at timestamptz
);
create index attempts_instance on attempts (instance_id);
create index attempts_state on attempts (state);

-- Logs are stored as chunks keyed by byte offset, never as one growing column.
create table log_chunks (
    attempt_id bigint not null references attempts (id),
    start_offset bigint not null,
    end_offset bigint not null,
    text text not null,
    created_at timestamptz not null,
    primary key (attempt_id, start_offset)
);
