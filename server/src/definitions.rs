//! What dispatching an attempt reads besides the engine's decision — the pinned job version, the
//! job's folder path (configs) and the secrets of the job and its folders — cached by the
//! scheduler driver so a busy scheduler does not query the store several times per attempt.
//! Versions never change; folder paths and secrets are read again after the API changed any of
//! them (it bumps the shared [`Generation`] once its write is stored).

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use app::{
    api::Folder,
    ids::{FolderId, JobId},
};

use crate::store::{JobVersionRecord, SecretOwner, SecretRecord, Store, StoreResult};

/// Counts changes to folder configs and secrets.
#[derive(Clone, Debug, Default)]
pub struct Generation(Arc<AtomicU64>);

impl Generation {
    /// Folder configs or secrets changed: cached copies are stale.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The most job versions kept.
const MAX_VERSIONS: usize = 50_000;

/// The driver's cache of definitions.
pub struct Definitions {
    store: Arc<dyn Store>,
    generation: Generation,
    seen: u64,
    versions: HashMap<(JobId, i64), Arc<JobVersionRecord>>,
    paths: HashMap<FolderId, Arc<Vec<Folder>>>,
    secrets: HashMap<SecretOwner, Arc<Vec<SecretRecord>>>,
    /// The owners that have secrets at all (most jobs have none: no query for those).
    with_secrets: Option<Arc<HashSet<SecretOwner>>>,
}

impl Definitions {
    /// An empty cache over `store`.
    pub fn new(store: Arc<dyn Store>, generation: Generation) -> Self {
        Definitions {
            store,
            seen: generation.get(),
            generation,
            versions: HashMap::new(),
            paths: HashMap::new(),
            secrets: HashMap::new(),
            with_secrets: None,
        }
    }

    fn refresh(&mut self) {
        let now = self.generation.get();
        if now != self.seen {
            self.paths.clear();
            self.secrets.clear();
            self.with_secrets = None;
            self.seen = now;
        }
        if self.versions.len() > MAX_VERSIONS {
            self.versions.clear();
        }
    }

    /// A pinned job version.
    pub async fn version(
        &mut self,
        job: JobId,
        version: i64,
    ) -> StoreResult<Arc<JobVersionRecord>> {
        self.refresh();
        if let Some(found) = self.versions.get(&(job, version)) {
            return Ok(found.clone());
        }
        let found = Arc::new(self.store.job_version(job, version).await?);
        self.versions.insert((job, version), found.clone());
        Ok(found)
    }

    /// Loads the versions and job secrets that these dispatches need and the cache lacks, with a
    /// query or two for all of them (a busy scheduler dispatches many distinct jobs at once).
    pub async fn prefetch(&mut self, keys: &[(JobId, i64)]) -> StoreResult<()> {
        self.refresh();
        let mut missing: Vec<(JobId, i64)> = keys
            .iter()
            .filter(|key| !self.versions.contains_key(key))
            .copied()
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            for (key, record) in self.store.job_versions(&missing).await? {
                self.versions.insert(key, Arc::new(record));
            }
        }
        let with_secrets = self.with_secrets().await?;
        let mut owners: Vec<SecretOwner> = keys
            .iter()
            .map(|(job, _)| SecretOwner::Job(*job))
            .filter(|owner| with_secrets.contains(owner) && !self.secrets.contains_key(owner))
            .collect();
        owners.sort_unstable();
        owners.dedup();
        if !owners.is_empty() {
            let mut found: HashMap<SecretOwner, Vec<SecretRecord>> =
                owners.iter().map(|owner| (*owner, Vec::new())).collect();
            for record in self.store.secrets(&owners).await? {
                found.entry(record.owner).or_default().push(record);
            }
            for (owner, records) in found {
                self.secrets.insert(owner, Arc::new(records));
            }
        }
        Ok(())
    }

    /// The owners that have secrets, read once per generation.
    async fn with_secrets(&mut self) -> StoreResult<Arc<HashSet<SecretOwner>>> {
        if let Some(known) = &self.with_secrets {
            return Ok(known.clone());
        }
        let known: Arc<HashSet<SecretOwner>> =
            Arc::new(self.store.secret_owners().await?.into_iter().collect());
        self.with_secrets = Some(known.clone());
        Ok(known)
    }

    /// A folder and its ancestors, outermost first.
    pub async fn path(&mut self, folder: FolderId) -> StoreResult<Arc<Vec<Folder>>> {
        self.refresh();
        if let Some(found) = self.paths.get(&folder) {
            return Ok(found.clone());
        }
        let found = Arc::new(self.store.folder_path(folder).await?);
        self.paths.insert(folder, found.clone());
        Ok(found)
    }

    /// The secrets of one owner.
    pub async fn secrets(&mut self, owner: SecretOwner) -> StoreResult<Arc<Vec<SecretRecord>>> {
        self.refresh();
        if let Some(found) = self.secrets.get(&owner) {
            return Ok(found.clone());
        }
        if !self.with_secrets().await?.contains(&owner) {
            return Ok(Arc::default());
        }
        let found = Arc::new(self.store.secrets(&[owner]).await?);
        self.secrets.insert(owner, found.clone());
        Ok(found)
    }
}
