//! The lock that keeps two writing runs on one manifest apart.

use super::Files;
use crate::error::{Error, Result};
use std::fs::{self, File};

/// Held while a run writes; released when dropped.
pub struct Lock {
    _file: File,
}

impl Files {
    /// Take the lock. It is held on the manifest file itself, so taking it creates nothing (a
    /// run that stops on a conflict leaves no trace).
    pub fn lock(&self) -> Result<Lock> {
        let file = File::open(&self.manifest)
            .map_err(|e| Error::io("open manifest", &self.manifest, &e))?;
        match file.try_lock() {
            Ok(()) => Ok(Lock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(Error::failure(format!(
                "another dotlink run is working on {}",
                self.manifest.display()
            ))
            .with_hint("wait for it to finish, then run again")),
            Err(fs::TryLockError::Error(e)) => Err(Error::io("lock", &self.manifest, &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("dotlink.toml"), "").unwrap();
        let files = Files::for_manifest(dir.path(), &dir.path().join("dotlink.toml"));
        let held = files.lock().unwrap();
        let err = files.lock().err().unwrap();
        assert!(
            err.message.contains("another dotlink run"),
            "{}",
            err.message
        );
        drop(held);
        assert!(files.lock().is_ok());
    }
}
