-- Execution settings (SQLite): retry backoff, hard timeouts and expected durations of jobs;
-- folder configs. Keep equivalent to ../postgres/0003_execution.sql.

alter table jobs add column retry_backoff text not null default 'fixed';
alter table jobs add column retry_max_delay_secs integer not null default 3600;
alter table jobs add column timeout_secs integer;
alter table jobs add column expected_duration_secs integer;

-- key=value configs of a folder as a JSON object of strings, inherited by what it contains
alter table folders add column configs text not null default '{}';

-- Secret configs of folders and jobs: AES-256-GCM under the installation's key, bound to their
-- owner and name; base64 text so both databases store the same form.
create table secrets (
    owner_kind text not null,
    owner_id integer not null,
    name text not null,
    nonce text not null,
    sealed text not null,
    updated_at text not null,
    primary key (owner_kind, owner_id, name)
);

-- a draining worker gets no new attempts (set by an administrator, kept across restarts)
alter table workers add column draining boolean not null default false;
