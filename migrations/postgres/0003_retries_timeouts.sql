-- Retry backoff, hard timeouts and expected durations of jobs (PostgreSQL). Keep equivalent to
-- ../sqlite/0003_retries_timeouts.sql.

alter table jobs add column retry_backoff text not null default 'fixed';
alter table jobs add column retry_max_delay_secs bigint not null default 3600;
alter table jobs add column timeout_secs bigint;
alter table jobs add column expected_duration_secs bigint;
