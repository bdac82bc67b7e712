//! Recovery from a run that was interrupted: it left a journal (see [`super::journal`]).
//!
//! Every single step was atomic, so recovery only has to look at each target and tidy up:
//! remove leftover temporary links, put back anything that was moved to a backup but not yet
//! replaced by its link, and record the links that were made, so they can be pruned later.
//! What it did is returned as data ([`Recovered`]) for the report.

use super::journal::{self, Entry, Journal};
use super::{backup, fsutil};
use crate::error::{Error, Result};
use crate::paths;
use crate::plan::Displace;
use crate::plan::inspect::{self, holds};
use crate::state::backup::{BackedUp, index_path};
use crate::state::{Files, State};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What recovery did.
#[derive(Debug, Default)]
pub struct Recovery {
    /// When the interrupted run started (UTC); `None` when its journal was damaged.
    pub started: Option<String>,
    pub actions: Vec<Recovered>,
}

/// One thing recovery did (or found and left).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// The journal could not be read, so it was discarded.
    DiscardedDamagedJournal,
    RemovedPartialBackup {
        partial: PathBuf,
    },
    /// The old directory was swapped out; it was moved to its backup now.
    MovedDirectoryToBackup {
        target: PathBuf,
        to: PathBuf,
    },
    /// The backup was complete; the rest of the original was removed.
    FinishedDirectoryBackup {
        target: PathBuf,
        to: PathBuf,
    },
    FinishedRemovingDirectory {
        target: PathBuf,
    },
    RemovedEmptiedDirectory {
        target: PathBuf,
    },
    LeftReplacedDirectory {
        target: PathBuf,
        temp: PathBuf,
    },
    RemovedTemporaryLink {
        temp: PathBuf,
    },
    /// Moved out, never replaced: put back from the backup.
    PutBack {
        target: PathBuf,
    },
    /// Both the target and a copy of it in the backup set exist.
    LeftBoth {
        target: PathBuf,
        copy: PathBuf,
    },
    /// A link made before the stop, now recorded in the state.
    Recorded {
        target: PathBuf,
    },
}

/// Finish or roll back an interrupted run, if there was one. Call with the lock held; updates
/// `state` and saves it.
pub fn recover(files: &Files, state: &mut State) -> Result<Option<Recovery>> {
    let bytes = match fs::read(&files.journal) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read journal", &files.journal, &e)),
    };
    let Ok(journal) = serde_json::from_slice::<Journal>(&bytes) else {
        // Journals are written whole, so this one was damaged afterwards and cannot be trusted;
        // every step was atomic, and the planner sees the filesystem as it is.
        journal::finish(files)?;
        return Ok(Some(Recovery {
            started: None,
            actions: vec![Recovered::DiscardedDamagedJournal],
        }));
    };
    let mut actions = Vec::new();
    for entry in &journal.entries {
        recover_entry(entry, state, &mut actions)?;
    }
    complete_backup_index(&journal)?;
    super::save_state(files, state)?;
    journal::finish(files)?;
    Ok(Some(Recovery {
        started: Some(journal.started),
        actions,
    }))
}

/// An I/O failure during recovery, with what to do about it.
fn failed(what: &str, path: &Path, e: io::Error) -> Error {
    Error::io(what, path, &e)
        .with_hint("fix this, then run `dotlink apply` again to finish recovering")
}

/// Settle one step of the interrupted run. Each step was a sequence of atomic changes, so the
/// target is either as it was or the new link; what may be left over is the temporary link,
/// the directory swapped out of the target, or a backup copy.
fn recover_entry(entry: &Entry, state: &mut State, actions: &mut Vec<Recovered>) -> Result<()> {
    for dir in &entry.mkdirs {
        if fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
            state.dirs.insert(dir.clone());
        }
    }
    let done = entry
        .link
        .as_ref()
        .is_some_and(|r| holds(r, &inspect::look(&entry.target)));
    let backup = match &entry.displace {
        Some(Displace::Backup { to }) => Some(to),
        _ => None,
    };
    if let Some(to) = backup {
        remove_partial_copy(to, actions)?;
    }
    if let Some(temp) = &entry.temp
        && let Ok(meta) = fs::symlink_metadata(temp)
    {
        if done && meta.is_dir() {
            finish_swapped_directory(entry, temp, actions)?;
        } else if !meta.is_dir() {
            fs::remove_file(temp).map_err(|e| failed("remove temporary link", temp, e))?;
            let temp = temp.clone();
            actions.push(Recovered::RemovedTemporaryLink { temp });
        }
    }
    if let Some(to) = backup
        && !done
    {
        settle_backup_copy(entry, to, actions)?;
    }
    settle_record(entry, done, state, actions);
    Ok(())
}

/// A copy across filesystems that did not finish is removed; the original is still whole.
fn remove_partial_copy(to: &Path, actions: &mut Vec<Recovered>) -> Result<()> {
    let partial = paths::with_suffix(to, ".partial");
    if fs::symlink_metadata(&partial).is_ok() {
        fsutil::remove_any(&partial)
            .map_err(|e| failed("remove incomplete backup copy", &partial, e))?;
        actions.push(Recovered::RemovedPartialBackup { partial });
    }
    Ok(())
}

/// The link is in place and the old directory was swapped out to the temporary name: finish
/// what the step was doing with it.
fn finish_swapped_directory(
    entry: &Entry,
    temp: &Path,
    actions: &mut Vec<Recovered>,
) -> Result<()> {
    let target = entry.target.clone();
    match &entry.displace {
        Some(Displace::Backup { to }) if fs::symlink_metadata(to).is_err() => {
            fsutil::move_path(temp, to).map_err(|e| failed("back up", temp, e))?;
            let to = to.clone();
            actions.push(Recovered::MovedDirectoryToBackup { target, to });
        }
        // The backup is complete (a copy across filesystems is renamed into place only when
        // whole); what is left at the temporary name is the rest of the original.
        Some(Displace::Backup { to }) => {
            fs::remove_dir_all(temp).map_err(|e| failed("remove", temp, e))?;
            let to = to.clone();
            actions.push(Recovered::FinishedDirectoryBackup { target, to });
        }
        Some(Displace::Delete) => {
            fs::remove_dir_all(temp).map_err(|e| failed("remove", temp, e))?;
            actions.push(Recovered::FinishedRemovingDirectory { target });
        }
        Some(Displace::EmptyDirectory) if fsutil::remove_empty_tree(temp).is_ok() => {
            actions.push(Recovered::RemovedEmptiedDirectory { target });
        }
        _ => actions.push(Recovered::LeftReplacedDirectory {
            target,
            temp: temp.to_path_buf(),
        }),
    }
    Ok(())
}

/// A step that made a backup but did not put its link in place: undo or keep the backup.
fn settle_backup_copy(entry: &Entry, to: &Path, actions: &mut Vec<Recovered>) -> Result<()> {
    let Ok(copy) = fs::symlink_metadata(to) else {
        return Ok(());
    };
    let target = &entry.target;
    match fs::symlink_metadata(target) {
        // Moved out, never replaced (a filesystem without atomic exchange): put it back.
        Err(_) => {
            fsutil::move_path(to, target).map_err(|e| failed("restore backup", to, e))?;
            actions.push(Recovered::PutBack {
                target: target.clone(),
            });
        }
        // The backup is a second name for the untouched original: drop the extra name.
        Ok(original) if (original.dev(), original.ino()) == (copy.dev(), copy.ino()) => {
            fs::remove_file(to).map_err(|e| failed("remove", to, e))?;
        }
        // A file cleared out of the way of a directory, which later steps then made.
        Ok(now) if entry.link.is_none() && now.is_dir() => {}
        Ok(_) => actions.push(Recovered::LeftBoth {
            target: target.clone(),
            copy: to.to_path_buf(),
        }),
    }
    Ok(())
}

/// Record a link made before the stop; forget a removed one and the directories it emptied.
fn settle_record(entry: &Entry, done: bool, state: &mut State, actions: &mut Vec<Recovered>) {
    let target = &entry.target;
    match &entry.link {
        Some(record) if done && state.links.get(target) != Some(record) => {
            state.links.insert(target.clone(), record.clone());
            actions.push(Recovered::Recorded {
                target: target.clone(),
            });
        }
        None if fs::symlink_metadata(target).is_err() => {
            state.links.remove(target);
            for dir in &entry.rmdirs {
                if fs::remove_dir(dir).is_err() {
                    break;
                }
                state.dirs.remove(dir);
            }
        }
        _ => {}
    }
}

/// Make sure the backup set's index names every backup the interrupted run completed (the run
/// may have stopped between a backup and the index write).
fn complete_backup_index(journal: &Journal) -> Result<()> {
    let set = &journal.backup_set;
    let mut index: Vec<BackedUp> = fs::read(index_path(set))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let before = index.len();
    for entry in &journal.entries {
        if let Some(Displace::Backup { to }) = &entry.displace
            && fs::symlink_metadata(to).is_ok()
            && !index.iter().any(|b| b.backup == *to)
        {
            index.push(BackedUp {
                target: entry.target.clone(),
                backup: to.clone(),
                source: entry
                    .link
                    .as_ref()
                    .map(|r| r.source.clone())
                    .unwrap_or_default(),
            });
        }
    }
    if index.len() == before {
        return Ok(());
    }
    backup::write_index(set, &index)
}
