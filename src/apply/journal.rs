//! The journal of a run in progress, and recovery from a run that was interrupted.
//!
//! Before the applier changes anything it writes, atomically, the list of what it is about to
//! do: each target, the temporary name its new link is made under, and where a backup goes.
//! The journal is removed once the state file is written. If dotlink finds a journal, the run
//! that wrote it died (power loss, Ctrl-C, kill -9); every single step was atomic, so recovery
//! only has to look at each target and tidy up: remove leftover temporary links, put back
//! anything that was moved to a backup but not yet replaced by its link, and record the links
//! that were made, so they can be pruned later.

use crate::apply::fsutil;
use crate::error::{Error, Result};
use crate::paths::{self, serde_path};
use crate::plan::inspect::{self, Found};
use crate::plan::{Action, Displace, Plan, Step};
use crate::state::backup;
use crate::state::{Files, Record, RecordRef, State};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, Deserialize)]
pub struct Journal {
    /// When the interrupted run started (UTC).
    pub started: String,
    /// Where the run's backups go; its index is completed on recovery.
    #[serde(with = "serde_path", default)]
    pub backup_set: PathBuf,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(with = "serde_path")]
    pub target: PathBuf,
    /// For a replacement: the temporary name the new link is made under, and what happens to
    /// what it replaces.
    #[serde(with = "serde_path::option", default)]
    pub temp: Option<PathBuf>,
    #[serde(default)]
    pub displace: Option<Displace>,
    /// What the target is once the step is done; `None` when the step removes it.
    #[serde(default)]
    pub link: Option<Record>,
    /// Directories the step creates.
    #[serde(with = "serde_path::vec", default)]
    pub mkdirs: Vec<PathBuf>,
    /// Directories a removal takes away once they are empty.
    #[serde(with = "serde_path::vec", default)]
    pub rmdirs: Vec<PathBuf>,
}

/// The temporary name a replacement link is made under: in the target's own directory, so the
/// rename that puts it in place is atomic.
pub fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default();
    if name.len() + 14 <= 255 {
        let mut temp = std::ffi::OsString::from(".");
        temp.push(name);
        temp.push(".dotlink-tmp");
        target.with_file_name(temp)
    } else {
        // Too long to extend: a short name derived from the long one.
        let hash = name
            .as_encoded_bytes()
            .iter()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(*b)));
        target.with_file_name(format!(".dotlink-tmp-{hash:016x}"))
    }
}

/// Write the journal for `plan` before any of its changes are made. It is streamed from the
/// plan (a first apply of many links would otherwise hold a copy of every path twice).
pub fn write(files: &Files, plan: &Plan) -> Result<()> {
    let journal = JournalOut {
        started: backup::utc_stamp(SystemTime::now()),
        backup_set: &plan.backup_set,
        entries: EntriesOut(plan),
    };
    fsutil::write_atomic_with(&files.journal, |out| {
        Ok(serde_json::to_writer(out, &journal)?)
    })
    .map_err(|e| Error::io("write journal", &files.journal, &e))
}

/// [`Journal`] as written: borrowed from the plan.
#[derive(Serialize)]
struct JournalOut<'a> {
    started: String,
    #[serde(serialize_with = "serde_path::serialize")]
    backup_set: &'a Path,
    entries: EntriesOut<'a>,
}

struct EntriesOut<'a>(&'a Plan);

impl Serialize for EntriesOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.changes().map(EntryOut::of))
    }
}

/// [`Entry`] as written.
#[derive(Serialize)]
struct EntryOut<'a> {
    #[serde(serialize_with = "serde_path::serialize")]
    target: &'a Path,
    #[serde(serialize_with = "serde_path::option::serialize")]
    temp: Option<PathBuf>,
    displace: Option<&'a Displace>,
    link: Option<RecordRef<'a>>,
    #[serde(serialize_with = "serde_path::vec::serialize")]
    mkdirs: &'a [PathBuf],
    #[serde(serialize_with = "serde_path::vec::serialize")]
    rmdirs: &'a [PathBuf],
}

impl<'a> EntryOut<'a> {
    fn of(step: &'a Step) -> Self {
        let (displace, temp) = match &step.action {
            Action::Replace { displace } => (Some(displace), Some(temp_path(&step.target))),
            Action::Clear { displace } => (Some(displace), None),
            _ => (None, None),
        };
        EntryOut {
            target: &step.target,
            temp,
            displace,
            link: step.record(),
            mkdirs: match &step.action {
                Action::Create { mkdirs } => mkdirs,
                _ => &[],
            },
            rmdirs: match &step.action {
                Action::Remove { rmdirs } => rmdirs,
                _ => &[],
            },
        }
    }
}

/// Remove the journal once the run it describes is complete.
pub fn finish(files: &Files) -> Result<()> {
    match fs::remove_file(&files.journal) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(Error::io("remove journal", &files.journal, &e))
        }
        _ => Ok(()),
    }
}

/// Whether an interrupted run left a journal.
pub fn pending(files: &Files) -> bool {
    files.journal.symlink_metadata().is_ok()
}

/// What recovery did, for the report.
#[derive(Debug, Default)]
pub struct Recovery {
    pub started: String,
    pub actions: Vec<String>,
}

/// Finish or roll back an interrupted run, if there was one. Call with the lock held; updates
/// `state` and saves it.
pub fn recover(files: &Files, state: &mut State, home: &Path) -> Result<Option<Recovery>> {
    let bytes = match fs::read(&files.journal) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read journal", &files.journal, &e)),
    };
    let show = |p: &Path| paths::display(p, home);
    let Ok(journal) = serde_json::from_slice::<Journal>(&bytes) else {
        // Journals are written whole, so this one was damaged afterwards and cannot be trusted;
        // every step was atomic, and the planner sees the filesystem as it is.
        finish(files)?;
        return Ok(Some(Recovery {
            started: "unknown".into(),
            actions: vec![
                "discarded a damaged journal; `dotlink status` shows where things stand".into(),
            ],
        }));
    };
    let mut actions = Vec::new();
    for entry in &journal.entries {
        recover_entry(entry, state, &mut actions, &show)?;
    }
    complete_backup_index(&journal)?;
    files.save(state)?;
    finish(files)?;
    Ok(Some(Recovery {
        started: journal.started,
        actions,
    }))
}

/// Settle one step of the interrupted run. Each step was a sequence of atomic changes, so the
/// target is either as it was or the new link; what may be left over is the temporary link,
/// the directory swapped out of the target, or a backup copy.
fn recover_entry(
    entry: &Entry,
    state: &mut State,
    actions: &mut Vec<String>,
    show: &dyn Fn(&Path) -> String,
) -> Result<()> {
    let fail = |what: &str, path: &Path, e: io::Error| {
        Error::io(what, path, &e)
            .with_hint("fix this, then run `dotlink apply` again to finish recovering")
    };
    let target = &entry.target;
    for dir in &entry.mkdirs {
        if fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
            state.dirs.insert(dir.clone());
        }
    }
    let done = entry
        .link
        .as_ref()
        .is_some_and(|r| holds(r, &inspect::look(target)));
    let backup = match &entry.displace {
        Some(Displace::Backup { to }) => Some(to),
        _ => None,
    };
    if let Some(to) = backup {
        let partial = paths::with_suffix(to, ".partial");
        if fs::symlink_metadata(&partial).is_ok() {
            fsutil::remove_any(&partial)
                .map_err(|e| fail("remove incomplete backup copy", &partial, e))?;
            actions.push(format!(
                "removed the incomplete backup copy {}",
                show(&partial)
            ));
        }
    }
    if let Some(temp) = &entry.temp
        && let Ok(meta) = fs::symlink_metadata(temp)
    {
        if done && meta.is_dir() {
            // The link is in place and the old directory was swapped out to the temporary
            // name: finish what the step was doing with it.
            match &entry.displace {
                Some(Displace::Backup { to }) if fs::symlink_metadata(to).is_err() => {
                    fsutil::move_path(temp, to).map_err(|e| fail("back up", temp, e))?;
                    actions.push(format!(
                        "moved the replaced directory {} to its backup {}",
                        show(target),
                        show(to)
                    ));
                }
                // The backup is complete (a copy across filesystems is renamed into place only
                // when whole); what is left at the temporary name is the rest of the original.
                Some(Displace::Backup { to }) => {
                    fs::remove_dir_all(temp).map_err(|e| fail("remove", temp, e))?;
                    actions.push(format!(
                        "finished moving the replaced directory {} to its backup {}",
                        show(target),
                        show(to)
                    ));
                }
                Some(Displace::Delete) => {
                    fs::remove_dir_all(temp).map_err(|e| fail("remove", temp, e))?;
                    actions.push(format!(
                        "finished removing the replaced directory {}",
                        show(target)
                    ));
                }
                Some(Displace::EmptyDirectory) if fsutil::remove_empty_tree(temp).is_ok() => {
                    actions.push(format!("removed the emptied directory {}", show(target)));
                }
                _ => actions.push(format!(
                    "left the replaced directory of {} at {}; check it and remove it",
                    show(target),
                    show(temp)
                )),
            }
        } else if !meta.is_dir() {
            fs::remove_file(temp).map_err(|e| fail("remove temporary link", temp, e))?;
            actions.push(format!(
                "removed the leftover temporary link {}",
                show(temp)
            ));
        }
    }
    if let Some(to) = backup
        && let Ok(copy) = fs::symlink_metadata(to)
        && !done
    {
        match fs::symlink_metadata(target) {
            // Moved out, never replaced (a filesystem without atomic exchange): put it back.
            Err(_) => {
                fsutil::move_path(to, target).map_err(|e| fail("restore backup", to, e))?;
                actions.push(format!(
                    "put {} back from its backup (the run stopped before linking it)",
                    show(target)
                ));
            }
            // The backup is a second name for the untouched original: drop the extra name.
            Ok(original) if (original.dev(), original.ino()) == (copy.dev(), copy.ino()) => {
                fs::remove_file(to).map_err(|e| fail("remove", to, e))?;
            }
            // A file cleared out of the way of a directory, which later steps then made.
            Ok(now) if entry.link.is_none() && now.is_dir() => {}
            Ok(_) => actions.push(format!(
                "both {} and a copy of it at {} exist; left both",
                show(target),
                show(to)
            )),
        }
    }
    match &entry.link {
        Some(record) if done && state.links.get(target) != Some(record) => {
            state.links.insert(target.clone(), record.clone());
            actions.push(format!("recorded {}, linked before the stop", show(target)));
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
    Ok(())
}

/// Make sure the backup set's index names every backup the interrupted run completed (the run
/// may have stopped between a backup and the index write).
fn complete_backup_index(journal: &Journal) -> Result<()> {
    let set = &journal.backup_set;
    let mut index: Vec<backup::BackedUp> = fs::read(backup::index_path(set))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let before = index.len();
    for entry in &journal.entries {
        if let Some(Displace::Backup { to }) = &entry.displace
            && fs::symlink_metadata(to).is_ok()
            && !index.iter().any(|b| b.backup == *to)
        {
            index.push(backup::BackedUp {
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
        .map_err(|e| Error::io("write backup index", &backup::index_path(set), &e))
}

/// Whether what is at a target is the link `record` describes.
fn holds(record: &Record, found: &Found) -> bool {
    match found {
        Found::Symlink(stored) => record.spelling.as_deref() == Some(stored.as_path()),
        Found::File(id) => record.inode == Some((id.dev, id.ino)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_stay_in_the_directory_and_within_name_limits() {
        assert_eq!(
            temp_path(Path::new("/h/.zshrc")),
            PathBuf::from("/h/..zshrc.dotlink-tmp")
        );
        let long = "x".repeat(250);
        let temp = temp_path(&Path::new("/h").join(&long));
        assert_eq!(temp.parent().unwrap(), Path::new("/h"));
        assert!(temp.file_name().unwrap().len() < 255);
    }
}
