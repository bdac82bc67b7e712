//! The lock that keeps dotlink runs on one home apart: a file `lock` in the state directory,
//! locked (flock) for the whole of a writing run and holding the owner's process id, whatever
//! manifest each run uses. It is in the state directory, not on the manifest, because a
//! manifest can be replaced under a running apply (a `git checkout`, an editor's save), and
//! the next run would lock the new file.
//!
//! A run that ends removes the file again (and the state directory, if the run created it and
//! left it empty), so a run that changes nothing leaves no trace. A killed run leaves the file,
//! unlocked: the next run takes it over. Until that run has removed the killed runs'
//! temporaries, their ids follow its own in the file, so a run killed before it did still
//! hands them on.

use super::Files;
use crate::error::{Error, Result};
use std::fs::{self, File};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Held while a run writes; released, and its file removed, when dropped.
pub struct Lock {
    file: File,
    path: PathBuf,
    /// The process ids of killed runs whose temporaries may be left: the one that left the
    /// file this run took over, and those it had not yet cleaned up after.
    pub killed_runs: Vec<u32>,
    /// The directories this run created to hold the lock, deepest first.
    made_dirs: Vec<PathBuf>,
}

impl Files {
    /// Take the lock for the home this state directory belongs to.
    pub fn lock(&self) -> Result<Lock> {
        let dir = self.lock.parent().unwrap_or(Path::new("/"));
        // The file may be removed by its owner between our open and our lock: then the lock we
        // hold is on a name nobody else sees, so look again.
        for _ in 0..16 {
            let made_dirs: Vec<PathBuf> = dir
                .ancestors()
                .take_while(|a| fs::symlink_metadata(a).is_err())
                .map(Path::to_path_buf)
                .collect();
            fs::create_dir_all(dir).map_err(|e| state_dir_error(dir, &e))?;
            let file = match File::options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&self.lock)
            {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("open lock file", &self.lock, &e)),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => return Err(held_by(file)),
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::io("lock", &self.lock, &e));
                }
            }
            if !same_file(&file, &self.lock) {
                continue;
            }
            let mut lock = Lock {
                killed_runs: pids_in(&file),
                file,
                path: self.lock.clone(),
                made_dirs,
            };
            let killed = lock.killed_runs.clone();
            lock.write_pids(&killed)
                .map_err(|e| Error::io("write lock file", &self.lock, &e))?;
            return Ok(lock);
        }
        Err(Error::failure(format!(
            "cannot take the lock {}: it keeps changing",
            self.lock.display()
        ))
        .with_hint("another dotlink run may be starting and stopping; run again"))
    }

    /// The lock, taken before the manifest's targets are checked against dotlink's own
    /// directories, only where taking it creates nothing but its own file in a state
    /// directory that is already there, and no other run's file is there: else none (the run
    /// takes it later, the usual way, and reports why it cannot then).
    pub fn lock_early(&self) -> Option<Lock> {
        let dir = self.lock.parent()?;
        let free = fs::metadata(dir).is_ok_and(|m| m.is_dir())
            && fs::symlink_metadata(&self.lock).is_err();
        if !free {
            return None;
        }
        self.lock().ok()
    }
}

impl Lock {
    /// Write this run's id, then `killed`'s. Written over what is there, then cut to length:
    /// a write that fails (a full disk) leaves the killed runs' ids in the file, for the
    /// next run to clean up after them.
    fn write_pids(&mut self, killed: &[u32]) -> std::io::Result<()> {
        let mut text = std::process::id().to_string();
        for pid in killed {
            text.push_str(&format!(" {pid}"));
        }
        self.file.rewind()?;
        self.file.write_all(text.as_bytes())?;
        self.file.set_len(text.len() as u64)?;
        self.file.flush()
    }

    /// The killed runs' temporaries are removed: only this run's id stays in the file.
    pub fn cleaned_up_after_killed_runs(&mut self) -> std::io::Result<()> {
        self.killed_runs.clear();
        self.write_pids(&[])
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held, and only while the name is still this file; kept while it
        // still names killed runs whose temporaries this run did not remove (it stopped on an
        // error first), so that the next run does.
        if self.killed_runs.is_empty() && same_file(&self.file, &self.path) {
            let _ = fs::remove_file(&self.path);
        }
        let _ = self.file.unlock();
        for dir in &self.made_dirs {
            if fs::remove_dir(dir).is_err() {
                break;
            }
        }
    }
}

/// Why the state directory `dir` could not be made: for something on its way that is not a
/// directory (a dangling symlink, a file), what it is, rather than "File exists".
fn state_dir_error(dir: &Path, e: &std::io::Error) -> Error {
    let in_the_way = (e.kind() == std::io::ErrorKind::AlreadyExists)
        .then(|| {
            dir.ancestors()
                .find(|a| fs::symlink_metadata(a).is_ok() && !a.is_dir())
        })
        .flatten();
    let Some(at) = in_the_way else {
        return Error::io("create state directory", dir, e);
    };
    let what = match fs::read_link(at) {
        Ok(to) => format!(
            "{} is a symlink to {}, which is not a directory",
            at.display(),
            to.display()
        ),
        Err(_) => format!("{} is not a directory", at.display()),
    };
    Error::failure(format!(
        "cannot create state directory {}: {what}",
        dir.display()
    ))
    .with_hint("make it a directory, or set XDG_STATE_HOME to a directory of your own")
}

/// The process id written in a lock file, if there is one.
fn pid_in(file: &File) -> Option<u32> {
    pids_in(file).first().copied()
}

/// Every process id written in a lock file: its holder's, then killed runs' (see [`Lock`]).
fn pids_in(mut file: &File) -> Vec<u32> {
    let mut text = String::new();
    if file.read_to_string(&mut text).is_err() {
        return Vec::new();
    }
    text.split_whitespace()
        .map_while(|pid| pid.parse().ok())
        .collect()
}

/// The error for a lock another run holds, naming its process when it wrote its id.
fn held_by(file: File) -> Error {
    let pid = pid_in(&file);
    let who = match pid {
        Some(pid) => format!("another dotlink run (pid {pid}) is in progress"),
        None => "another dotlink run is in progress".to_string(),
    };
    Error::failure(who).with_hint("wait for it to finish, then run again")
}

/// Whether `path` still names the open `file`.
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_at_a_time_for_every_manifest_of_a_home() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("xdg/state");
        let files = Files::for_manifest(&state, &dir.path().join("a/dotlink.toml"), dir.path());
        let other = Files::for_manifest(&state, &dir.path().join("b/dotlink.toml"), dir.path());
        let held = files.lock().unwrap();
        let err = other.lock().err().unwrap();
        let pid = std::process::id();
        assert_eq!(
            err.message,
            format!("another dotlink run (pid {pid}) is in progress")
        );
        assert_eq!(err.exit_code(), 1);
        drop(held);
        assert!(!dir.path().join("xdg").exists(), "the lock leaves no trace");
        let again = other.lock().unwrap();
        assert!(state.join("lock").exists());
        drop(again);
    }

    #[test]
    fn a_lock_file_left_by_a_killed_run_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::for_manifest(dir.path(), &dir.path().join("dotlink.toml"), dir.path());
        // Killed itself before it cleaned up after the run it took over from.
        fs::write(&files.lock, "99999999 88888888").unwrap();
        let mut held = files.lock().unwrap();
        assert_eq!(held.killed_runs, [99999999, 88888888]);
        let pid = std::process::id();
        // Handed on until this run has cleaned up after them.
        let written = fs::read_to_string(&files.lock).unwrap();
        assert_eq!(written, format!("{pid} 99999999 88888888"));
        held.cleaned_up_after_killed_runs().unwrap();
        assert_eq!(fs::read_to_string(&files.lock).unwrap(), pid.to_string());
        drop(held);
        assert!(!files.lock.exists());
        assert!(dir.path().exists(), "a directory it did not make stays");
    }
}
