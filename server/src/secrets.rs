//! Secret configs: encrypted at rest with AES-256-GCM under a per-installation key (the data
//! directory's `secret-key`, 0600, or the key given with `--secret-key-file`). Each ciphertext is
//! bound to its place (owner and name) as associated data, so a value cannot be moved to another
//! job. The API only ever says whether a secret is set; attempts get them as environment
//! variables, and the worker masks them in the log.

use std::path::Path;

use aes_gcm::{
    Aes256Gcm, KeyInit as _, Nonce,
    aead::{Aead as _, AeadCore as _, OsRng, Payload},
};
use anyhow::Context as _;

use std::collections::BTreeMap;

use app::ids::{FolderId, JobId};

use crate::store::{SecretOwner, SecretRecord, Store, StoreResult};

/// The owners whose secrets reach a job in `folder`: its folders outermost first, then the job.
pub async fn owners(
    store: &dyn Store,
    folder: FolderId,
    job: Option<JobId>,
) -> StoreResult<Vec<SecretOwner>> {
    let path = store.folder_path(folder).await?;
    let mut owners: Vec<SecretOwner> = path.iter().map(|f| SecretOwner::Folder(f.id)).collect();
    owners.extend(job.map(SecretOwner::Job));
    Ok(owners)
}

/// The decrypted secrets of owners given outermost first (the nearest owner wins).
pub fn decrypt_all<'a>(
    secrets: &SecretBox,
    records: impl IntoIterator<Item = &'a SecretRecord>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    for record in records {
        let value = secrets.open(record.owner, &record.name, &record.nonce, &record.sealed)?;
        values.insert(record.name.clone(), value);
    }
    Ok(values)
}

/// Encrypts and decrypts secret values.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

fn place(owner: SecretOwner, name: &str) -> Vec<u8> {
    format!("{owner}/{name}").into_bytes()
}

impl SecretBox {
    /// The key from `key_file`, or the data directory's `secret-key` (created the first time).
    pub fn load(data_dir: &Path, key_file: Option<&Path>) -> anyhow::Result<Self> {
        let key = match key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the secret key {}", path.display()))?;
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text.trim())
                    .with_context(|| format!("{} is not base64", path.display()))?
            }
            None => crate::auth::load_or_create_key(&data_dir.join("secret-key"), 32)?,
        };
        anyhow::ensure!(
            key.len() == 32,
            "the secret key must be 32 bytes (base64), not {}",
            key.len()
        );
        let cipher = Aes256Gcm::new_from_slice(&key).context("bad secret key")?;
        Ok(SecretBox { cipher })
    }

    /// Encrypts a value for its place: (nonce, ciphertext).
    pub fn seal(&self, owner: SecretOwner, name: &str, value: &str) -> (Vec<u8>, Vec<u8>) {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = place(owner, name);
        let payload = Payload {
            msg: value.as_bytes(),
            aad: &aad,
        };
        let sealed = self
            .cipher
            .encrypt(&nonce, payload)
            .expect("AES-GCM encryption of a small value cannot fail");
        (nonce.to_vec(), sealed)
    }

    /// Decrypts a value stored for its place.
    pub fn open(
        &self,
        owner: SecretOwner,
        name: &str,
        nonce: &[u8],
        sealed: &[u8],
    ) -> anyhow::Result<String> {
        anyhow::ensure!(nonce.len() == 12, "secret `{name}` has a corrupt nonce");
        let aad = place(owner, name);
        let payload = Payload {
            msg: sealed,
            aad: &aad,
        };
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| {
                anyhow::anyhow!(
                    "secret `{name}` of {owner} cannot be decrypted (another key, or tampered)"
                )
            })?;
        String::from_utf8(plain).context("a secret is not UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use app::ids::{FolderId, JobId};

    use super::*;

    #[test]
    fn values_round_trip_only_in_their_place_and_under_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = SecretBox::load(dir.path(), None).unwrap();
        let job = SecretOwner::Job(JobId(7));
        let (nonce, sealed) = secrets.seal(job, "DB_PASSWORD", "s3cr3t");
        assert!(!sealed.windows(6).any(|w| w == b"s3cr3t"));
        assert_eq!(
            secrets.open(job, "DB_PASSWORD", &nonce, &sealed).unwrap(),
            "s3cr3t"
        );
        // Moved to another job or name: refused.
        assert!(
            secrets
                .open(SecretOwner::Job(JobId(8)), "DB_PASSWORD", &nonce, &sealed)
                .is_err()
        );
        assert!(secrets.open(job, "OTHER", &nonce, &sealed).is_err());
        assert!(
            secrets
                .open(
                    SecretOwner::Folder(FolderId(7)),
                    "DB_PASSWORD",
                    &nonce,
                    &sealed
                )
                .is_err()
        );
        // The same directory gives the same key; another does not.
        let again = SecretBox::load(dir.path(), None).unwrap();
        assert_eq!(
            again.open(job, "DB_PASSWORD", &nonce, &sealed).unwrap(),
            "s3cr3t"
        );
        let other = tempfile::tempdir().unwrap();
        let stranger = SecretBox::load(other.path(), None).unwrap();
        assert!(stranger.open(job, "DB_PASSWORD", &nonce, &sealed).is_err());
    }
}
