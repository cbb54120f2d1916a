//! The folder and job lists, fetched once for the signed-in shell and shared by the tree, the job
//! editor (folder choice, dependency picker) and the job page (dependency names). Whoever saves a
//! folder or a job calls [`Catalog::refresh`].

use std::sync::Arc;

use app::{
    api::{Folder, Job},
    ids::{FolderId, JobId},
};
use leptos::prelude::*;

use super::http::{self, ApiError};

/// Every folder and job the user can see.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CatalogData {
    /// All folders, flat; the tree comes from `parent_id`.
    pub folders: Vec<Folder>,
    /// All jobs.
    pub jobs: Vec<Job>,
}

impl CatalogData {
    /// The folder's path from the top, `etl / daily`.
    pub fn folder_path(&self, id: FolderId) -> String {
        let mut names = Vec::new();
        let mut next = Some(id);
        // Bounded by the number of folders, so a (corrupt) cycle cannot loop forever.
        while let Some(id) = next.filter(|_| names.len() <= self.folders.len()) {
            let Some(folder) = self.folders.iter().find(|f| f.id == id) else {
                break;
            };
            names.push(folder.name.as_str());
            next = folder.parent_id;
        }
        names.reverse();
        names.join(" / ")
    }

    /// A job by id.
    pub fn job(&self, id: JobId) -> Option<&Job> {
        self.jobs.iter().find(|job| job.id == id)
    }

    /// The other jobs that depend on `id`, by id.
    pub fn dependents(&self, id: JobId) -> Vec<&Job> {
        let mut out: Vec<_> = self
            .jobs
            .iter()
            .filter(|job| job.id != id && job.dependencies.contains(&id))
            .collect();
        out.sort_by_key(|job| job.id);
        out
    }

    /// The folders directly below `parent` (`None`: the top level), by name.
    pub fn subfolders(&self, parent: Option<FolderId>) -> Vec<&Folder> {
        let mut out: Vec<_> = self
            .folders
            .iter()
            .filter(|f| f.parent_id == parent)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The jobs directly in `folder`, by name.
    pub fn jobs_in(&self, folder: FolderId) -> Vec<&Job> {
        let mut out: Vec<_> = self
            .jobs
            .iter()
            .filter(|job| job.folder_id == folder)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Every folder with its full path, sorted by path (for folder pickers).
    pub fn folder_choices(&self) -> Vec<(FolderId, String)> {
        let mut out: Vec<_> = self
            .folders
            .iter()
            .map(|f| (f.id, self.folder_path(f.id)))
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }
}

/// The shared, refreshable catalogue (a context provided by the signed-in shell).
#[derive(Clone, Copy)]
pub struct Catalog(LocalResource<Result<Arc<CatalogData>, ApiError>>);

impl Catalog {
    /// Starts loading and provides the catalogue to everything below the caller.
    pub fn provide() -> Self {
        let catalog = Catalog(LocalResource::new(|| async {
            let folders = http::get("/api/folders").await?;
            let jobs = http::get("/api/jobs").await?;
            Ok(Arc::new(CatalogData { folders, jobs }))
        }));
        provide_context(catalog);
        catalog
    }

    /// The catalogue provided by the shell.
    pub fn current() -> Self {
        expect_context()
    }

    /// Loads it again (after a save).
    pub fn refresh(self) {
        self.0.refetch();
    }

    /// The latest data (empty while the first load runs or when it failed); reactive.
    pub fn data(self) -> Arc<CatalogData> {
        self.0.get().and_then(Result::ok).unwrap_or_default()
    }

    /// Why the last load failed; reactive.
    pub fn error(self) -> Option<ApiError> {
        self.0.get().and_then(Result::err)
    }

    /// Whether the first load is still running; reactive.
    pub fn loading(self) -> bool {
        self.0.get().is_none()
    }
}
