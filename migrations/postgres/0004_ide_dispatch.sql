-- The development center (IDE): personal and shared file trees whose files run on workers and
-- publish to jobs; the slot weight of jobs; the resource center. Keep equivalent to the other backend's file.

create table ide_files (
    id bigint generated always as identity primary key,
    -- the user whose personal tree holds it; null: the shared tree
    owner text,
    parent_id bigint references ide_files (id),
    name text not null,
    is_dir boolean not null,
    job_type text not null default 'shell',
    content text not null default '',
    -- the hidden job the file's runs execute as (created by its first run)
    run_job_id bigint references jobs (id),
    -- the job the file was last published to
    published_job_id bigint references jobs (id),
    created_at timestamptz not null,
    updated_at timestamptz not null
);
-- names are unique inside one folder of one tree
create unique index ide_files_name on ide_files (coalesce(owner, ''), coalesce(parent_id, 0), name);

-- a hidden job that runs IDE files: kept out of job lists, search, the dashboard and timelines
alter table jobs add column scratch boolean not null default false;

-- worker slots one attempt of the job takes (a heavy job can take a whole worker)
alter table jobs add column slot_weight bigint not null default 1;

-- The resource center: named files with versions; the content lives in the object store
-- (a local directory or S3), keyed by its SHA-256, so equal uploads share one object.
create table resources (
    id bigint generated always as identity primary key,
    name text not null unique,
    created_by text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create table resource_versions (
    resource_id bigint not null references resources (id),
    version bigint not null,
    size bigint not null,
    sha256 text not null,
    uploaded_by text not null,
    created_at timestamptz not null,
    primary key (resource_id, version)
);
create index resource_versions_sha256 on resource_versions (sha256);
