//! `restore`: put a backup set back where it came from — but only over what dotlink put there
//! (its link, or nothing). A target the user has changed since is left alone, and so is its
//! backup, so nothing is ever overwritten that dotlink did not make.
//!
//! Like `apply`, a restore is decided first and then carried out through the journal: each
//! backup is moved beside its target under the run's temporary name and exchanged with the
//! target in one step; what came out must be dotlink's link that was there (or nothing), or it
//! goes straight back and the backup returns to its set. A restore that is killed or fails is
//! settled (see `recovery`) by finishing the exchange it made, or by returning the backup to its
//! set, where `restore --list` shows it again.

use super::fault::change;
use super::journal::{self, Entry, RunId};
use super::{fsutil, recovery};
use crate::error::{Error, Result};
use crate::paths;
use crate::plan::Seen;
use crate::plan::inspect::{self, Dirs, FileId, Found};
use crate::state::backup::{BackedUp, BackupSet};
use crate::state::{Files, State};
use std::fs;
use std::io;
use std::path::Path;

/// What happened to each entry of a set.
#[derive(Debug, Default)]
pub struct Restored {
    pub restored: Vec<BackedUp>,
    /// Entries left alone, and why.
    pub refused: Vec<(BackedUp, Refusal)>,
    pub failed: Vec<(BackedUp, Error)>,
    /// Put back, with an error just after the change that did it (said, not counted as
    /// failed, as `apply` says its late errors).
    pub late_errors: Vec<(BackedUp, Error)>,
}

/// Why a backup is left in its set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The target changed since the backup: it is not dotlink's link any more.
    Changed,
    /// The target is in the repository (reached through a directory linked into it): what is
    /// there is the repository's own file, never dotlink's to replace.
    InRepository,
    /// The target is dotlink's hard link, but no longer a second name of its source: it is
    /// the only copy of what it holds.
    OnlyCopy,
    /// The set's index names a backup outside the set (it was edited): what is there is not a
    /// backup dotlink made.
    OutsideSet,
    /// The target is a directory dotlink made for links below it, holding nothing else (the
    /// backup was cleared out of its way): `unlink` removes them, and the directory, first.
    OwnDirectory,
}

/// Why the backup of `entry` may not replace `found`, at its target; `None` when what is there
/// is dotlink's (its link, or nothing).
/// Real places come from `dirs`, one resolver for the whole set.
fn refusal(
    entry: &BackedUp,
    set: &Path,
    found: &Found,
    state: &State,
    repo: &Path,
    (dirs, aliases): (&mut Dirs, &crate::plan::Protected),
) -> Option<Refusal> {
    let target = &entry.target;
    if !inside_set(&entry.backup, set) {
        return Some(Refusal::OutsideSet);
    }
    if crate::plan::in_repository(dirs, target, repo, aliases) {
        return Some(Refusal::InRepository);
    }
    // A hard link holds nothing of its own only while it is a second name of its source.
    let only_copy = |id: &FileId| !inspect::shares_with_source(&entry.source, id);
    if inspect::recorded(state, target, found) {
        return match found {
            Found::File(id) if only_copy(id) => Some(Refusal::OnlyCopy),
            _ => None,
        };
    }
    // A link to the source the backup's link was made for holds nothing of its own either.
    let dotlinks = match found {
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
        Found::File(id) => !only_copy(id),
        // Only while it holds nothing but dotlink's: one the user put files in has changed.
        Found::Directory(_)
            if fs::symlink_metadata(target).is_ok_and(|meta| state.dirs.holds(target, &meta))
                && crate::plan::only_dotlinks(target, state) =>
        {
            return Some(Refusal::OwnDirectory);
        }
        _ => false,
    };
    (!dotlinks).then_some(Refusal::Changed)
}

/// Whether `backup` really lies below the set directory `set`, where both are (however either
/// is spelled: the backup directory may be spelled another way since, and a link inside the
/// set may lead out of it); its own name is not followed (it may be the backup of a symlink).
fn inside_set(backup: &Path, set: &Path) -> bool {
    let real = |path: &Path| {
        let (parent, name) = (path.parent()?, path.file_name()?);
        Some(fs::canonicalize(parent).ok()?.join(name))
    };
    matches!(
        (real(backup), fs::canonicalize(set)),
        (Some(backup), Ok(set)) if paths::below(&backup, &set).is_some_and(|rest| !rest.as_os_str().is_empty())
    )
}

/// Where a restore runs: the repository it must never write into, and the home.
pub struct Places<'a> {
    pub repo: &'a Path,
    pub home: &'a Path,
}

/// Put `set` back, under the lock. With `dry_run`, only decide.
pub fn restore(
    set: &BackupSet,
    files: &Files,
    state: &mut State,
    places: Places,
    dry_run: bool,
) -> Result<Restored> {
    let mut result = Restored::default();
    let mut chosen = Vec::new();
    let mut dirs = Dirs::new(places.home, Default::default());
    let aliases = crate::plan::Protected::new(places.home, places.repo, []);
    for entry in &set.entries {
        let found = inspect::look(&entry.target);
        let resolving = (&mut dirs, &aliases);
        match refusal(entry, &set.dir, &found, state, places.repo, resolving) {
            None => chosen.push((
                entry,
                Seen::of(&found),
                Seen::of(&inspect::look(&entry.backup)),
            )),
            Some(why) => result.refused.push((entry.clone(), why)),
        }
    }
    if dry_run {
        result.restored = chosen.into_iter().map(|(e, ..)| e.clone()).collect();
        return Ok(result);
    }
    let run = RunId::new();
    let entry_of = |(e, seen, backup): &(&BackedUp, Option<Seen>, Option<Seen>)| {
        Entry::restoring(&e.target, (&e.backup, backup.clone()), seen.clone(), &run)
    };
    journal::write_entries(files, &set.dir, None, chosen.iter().map(entry_of))?;
    let mut unsettled = None;
    for chosen in &chosen {
        let entry = entry_of(chosen);
        match put_back(&entry) {
            Ok(()) => {
                state.links.remove(&entry.target);
                result.restored.push(chosen.0.clone());
            }
            Err(error) => {
                let mut actions = Vec::new();
                let (pid, made) = (Some(std::process::id()), recovery::Made::InThisRun);
                match recovery::settle(&entry, pid, &made, state, &mut actions) {
                    Ok(true) => {
                        result.restored.push(chosen.0.clone());
                        result.late_errors.push((chosen.0.clone(), error));
                    }
                    Ok(false) => result.failed.push((chosen.0.clone(), error)),
                    Err(e) => {
                        result.failed.push((chosen.0.clone(), error));
                        unsettled.get_or_insert(e);
                    }
                }
            }
        }
    }
    if let Some(error) = unsettled {
        // The journal stays: the next run settles what this one could not.
        return Err(error);
    }
    journal::finish(files)?;
    if result.refused.is_empty() && result.failed.is_empty() {
        // Everything is back: the set is spent. Only empty directories remain in it.
        let _ = fsutil::remove_empty_tree(&set.dir);
        let _ = fs::remove_file(crate::state::backup::index_path(&set.dir));
    }
    Ok(result)
}

/// Replace what is at the target (dotlink's link, or nothing) with the backup: the backup is
/// moved beside the target, then exchanged with it (or renamed into an empty place).
fn put_back(entry: &Entry) -> Result<()> {
    let (target, temp) = (
        &entry.target,
        entry.temp.as_deref().unwrap_or(Path::new("")),
    );
    let backup = entry.restores.as_deref().unwrap_or(Path::new(""));
    if fs::symlink_metadata(temp).is_ok() {
        return Err(Error::failure(format!(
            "the temporary name {} is taken; left it alone",
            temp.display()
        )));
    }
    if let Some(parent) = target.parent() {
        change(|| fs::create_dir_all(parent))
            .map_err(|e| Error::io("create directory", parent, &e))?;
    }
    change(|| fsutil::move_path(backup, temp)).map_err(|e| Error::io("restore", target, &e))?;
    let Some(seen) = &entry.seen else {
        return change(|| fsutil::rename_new(temp, target)).map_err(|e| match e.kind() {
            // Something came to be at the target since planning: never replaced.
            io::ErrorKind::AlreadyExists => {
                Error::failure("changed since planning; left it as it is")
            }
            _ => Error::io("restore", target, &e),
        });
    };
    change(|| fsutil::exchange(temp, target)).map_err(|e| Error::io("restore", target, &e))?;
    if !seen.is_at(temp) {
        return Err(Error::failure("changed since planning; left it as it is"));
    }
    change(|| fs::remove_file(temp)).map_err(|e| Error::io("remove", temp, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_inside_its_set_as_spelled_or_where_both_really_are() {
        let dir = tempfile::tempdir().unwrap();
        let (real, spelled) = (dir.path().join("bk"), dir.path().join("link-to-bk"));
        fs::create_dir_all(real.join("set/.config")).unwrap();
        std::os::unix::fs::symlink(&real, &spelled).unwrap();
        let set = real.join("set");
        assert!(inside_set(&set.join(".a"), &set));
        assert!(inside_set(&set.join(".config/b"), &set));
        // The backup directory spelled through a link since the backup, or with a `..`.
        assert!(inside_set(&spelled.join("set/.a"), &set));
        assert!(inside_set(&set.join(".a"), &spelled.join("set")));
        assert!(inside_set(
            &set.join(".a"),
            &real.join("set/.config/../../set")
        ));
        // A link inside the set that leads out of it.
        std::os::unix::fs::symlink(dir.path(), set.join("esc")).unwrap();
        assert!(!inside_set(&set.join("esc/docs"), &set));
        // Not the set itself, nor anything beside or above it.
        assert!(!inside_set(&set, &set));
        assert!(!inside_set(&real.join("set2/.a"), &set));
        assert!(!inside_set(&set.join("../../docs"), &set));
        assert!(!inside_set(Path::new("/etc/passwd"), &set));
    }
}
