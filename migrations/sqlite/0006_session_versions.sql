-- Signing out everywhere: a session token carries its account's session version, and only the
-- current version is accepted. Changing the password (or "sign out everywhere") bumps it, so
-- every token issued before stops working at once. Keep equivalent to the other backend's file.
alter table users add column session_version integer not null default 0;
