-- Account states: users may register themselves (pending until an administrator approves them),
-- and administrators may disable accounts. Keep equivalent to the other backend's file.

-- 'active' signs in; 'pending' waits for approval; 'disabled' is refused (its sessions too).
alter table users add column status text not null default 'active'
    check (status in ('active', 'pending', 'disabled'));

-- when the status, the administrator right or the password last changed; SQLite cannot add a
-- not-null column without a constant default, so existing rows take their creation time below
alter table users add column updated_at text not null default '';
update users set updated_at = created_at;
