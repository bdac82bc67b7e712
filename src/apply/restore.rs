//! `restore`: put a backup set back where it came from — but only over what dotlink put there
//! (its link, or nothing). A target the user has changed since is left alone, and so is its
//! backup, so nothing is ever overwritten that dotlink did not make.

use crate::apply::fsutil;
use crate::apply::journal;
use crate::error::Error;
use crate::paths;
use crate::plan::inspect::{self, FileId, Found};
use crate::state::State;
use crate::state::backup::{BackedUp, BackupSet};
use std::fs;
use std::io;
use std::path::Path;

/// What happened to each entry of a set.
#[derive(Debug, Default)]
pub struct Restored {
    pub restored: Vec<BackedUp>,
    /// Entries left alone: the target changed since the backup, so it is not dotlink's link
    /// any more.
    pub refused: Vec<BackedUp>,
    pub failed: Vec<(BackedUp, Error)>,
}

/// Whether what is at the target of `entry` is dotlink's (its link, or nothing), so the backup
/// may replace it.
fn replaceable(entry: &BackedUp, state: &State) -> bool {
    let target = &entry.target;
    let found = inspect::look(target);
    if inspect::recorded(state, target, &found) {
        return true;
    }
    // A link to the source the backup's link was made for holds nothing of its own either.
    match &found {
        Found::Nothing => true,
        Found::Symlink(stored) => {
            let parent = target.parent().unwrap_or(Path::new("/"));
            let leads_to = paths::normalize(&parent.join(stored));
            leads_to == entry.source
                || matches!(
                    (fs::canonicalize(target), fs::canonicalize(&entry.source)),
                    (Ok(a), Ok(b)) if a == b
                )
        }
        Found::File(id) => {
            let source = fs::metadata(&entry.source).map(|m| FileId::of(&m));
            source.is_ok_and(|s| s.same_inode(id))
        }
        _ => false,
    }
}

/// Put `set` back. With `dry_run`, only decide.
pub fn restore(set: &BackupSet, state: &mut State, dry_run: bool) -> Restored {
    let mut result = Restored::default();
    for entry in &set.entries {
        if !replaceable(entry, state) {
            result.refused.push(entry.clone());
            continue;
        }
        if dry_run {
            result.restored.push(entry.clone());
            continue;
        }
        match put_back(entry) {
            Ok(()) => {
                state.links.remove(&entry.target);
                result.restored.push(entry.clone());
            }
            Err(e) => result
                .failed
                .push((entry.clone(), Error::io("restore", &entry.target, &e))),
        }
    }
    if !dry_run && result.refused.is_empty() && result.failed.is_empty() {
        // Everything is back: the set is spent. Only empty directories remain in it.
        let _ = fsutil::remove_empty_tree(&set.dir);
        let _ = fs::remove_file(crate::state::backup::index_path(&set.dir));
    }
    result
}

/// Replace what is at the target (dotlink's link, or nothing) with the backup, atomically where
/// the filesystem allows: a file or link by one rename, a directory by an exchange.
fn put_back(entry: &BackedUp) -> io::Result<()> {
    let (target, backup) = (&entry.target, &entry.backup);
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)?;
    }
    // Bring the backup into the target's directory first, so the last step is a rename.
    let staged = journal::RunId::new().temp_path(target);
    if fs::symlink_metadata(&staged).is_ok() {
        fsutil::remove_any(&staged)?;
    }
    fsutil::move_path(backup, &staged)?;
    let present = fs::symlink_metadata(target).is_ok();
    let is_dir = fs::symlink_metadata(&staged).is_ok_and(|m| m.is_dir());
    if present && is_dir && fsutil::exchange(&staged, target).is_ok() {
        // The link went to the staging name.
        return fs::remove_file(&staged);
    }
    if present && is_dir {
        fs::remove_file(target)?;
    }
    fs::rename(&staged, target)
}
