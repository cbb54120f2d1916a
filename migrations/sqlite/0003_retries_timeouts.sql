-- Retry backoff, hard timeouts and expected durations of jobs (SQLite). Keep equivalent to
-- ../postgres/0003_retries_timeouts.sql.

alter table jobs add column retry_backoff text not null default 'fixed';
alter table jobs add column retry_max_delay_secs integer not null default 3600;
alter table jobs add column timeout_secs integer;
alter table jobs add column expected_duration_secs integer;
