-- Execution settings (PostgreSQL): retry backoff, hard timeouts and expected durations of jobs;
-- folder configs. Keep equivalent to ../sqlite/0003_execution.sql.

alter table jobs add column retry_backoff text not null default 'fixed';
alter table jobs add column retry_max_delay_secs bigint not null default 3600;
alter table jobs add column timeout_secs bigint;
alter table jobs add column expected_duration_secs bigint;

-- key=value configs of a folder as a JSON object of strings, inherited by what it contains
alter table folders add column configs text not null default '{}';
