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
use crate::plan::inspect::{self, Found, holds};
use crate::plan::{Displace, Seen};
use crate::state::backup::{BackedUp, read_index};
use crate::state::{DirId, Files, PathMap, Record, State, dir_id, same_dir};
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
    /// The interrupted run's backup set, when it began one: the run that finishes the job adds
    /// to it.
    pub backup_set: Option<PathBuf>,
    /// The interrupted run was an `adopt`, now undone: the manifest may be back as it was.
    pub undid_adoption: bool,
}

/// One thing recovery did (or found and left).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// The journal could not be read, so it was discarded.
    DiscardedDamagedJournal,
    RemovedPartialBackup {
        partial: PathBuf,
    },
    /// The backup of what the link replaced was complete; the rest of the original (left at
    /// the temporary name by a copy across filesystems) was removed.
    FinishedBackup {
        target: PathBuf,
        to: PathBuf,
    },
    /// What an `overwrite` replaced, swapped out to the temporary name once the link was in
    /// place, was removed (the run had begun removing it).
    FinishedRemoval {
        target: PathBuf,
    },
    /// A leftover of a step on `target` could not be removed: what is left of its old contents
    /// (overwritten, or whole in their new place), or a copy not yet whole (the original is).
    /// It stays at `temp`.
    UnfinishedRemoval {
        target: PathBuf,
        temp: PathBuf,
        why: String,
    },
    /// Something that is neither the new link nor what was replaced is at the temporary name.
    LeftAtTemporaryName {
        target: PathBuf,
        temp: PathBuf,
    },
    RemovedTemporaryLink {
        temp: PathBuf,
    },
    /// The directory an unfold was building was taken apart; the folded link stays.
    RemovedUnfinishedUnfold {
        target: PathBuf,
    },
    /// Moved to its backup, never replaced: put back from the backup.
    PutBack {
        target: PathBuf,
    },
    /// Swapped out of the target, not yet in its backup: swapped back in.
    SwappedBack {
        target: PathBuf,
    },
    /// A backup being restored was not put in place: it is back in its set.
    ReturnedToBackup {
        target: PathBuf,
        backup: PathBuf,
    },
    /// Both the target and something at its backup place exist: a copy of it (made across
    /// filesystems before a stop), or something put there since.
    LeftBoth {
        target: PathBuf,
        copy: PathBuf,
    },
    /// A link made before the stop, now recorded in the state.
    Recorded {
        target: PathBuf,
    },
    /// Moved into the repository by an `adopt` that stopped: moved back.
    MovedBack {
        target: PathBuf,
        from: PathBuf,
    },
    /// Both the path an `adopt` that stopped was moving and its place in the repository are
    /// there: the home's made anew since, or a copy across filesystems stopped before the
    /// original went, or something from elsewhere at the place. Both are left.
    LeftInRepository {
        target: PathBuf,
        at: PathBuf,
    },
    /// The same as [`Recovered::LeftInRepository`], both with the same contents.
    SameInRepository {
        target: PathBuf,
        at: PathBuf,
    },
    /// The path an `adopt` that stopped was moving is its place in the repository under
    /// another name (a symlink on its way leads there): left as it is.
    OneFileBothNames {
        target: PathBuf,
        at: PathBuf,
    },
    /// Neither the path an `adopt` that stopped was moving nor its place in the repository
    /// is there: it was moved to `at`, which is gone (the repository moved, or is not mounted).
    NowhereToBeFound {
        target: PathBuf,
        at: PathBuf,
    },
    /// An `adopt` that stopped before it moved anything or edited the manifest: nothing to undo.
    AdoptMovedNothing,
    /// The manifest an `adopt` that stopped had edited: its text is back as it was.
    ManifestRestored {
        manifest: PathBuf,
    },
    /// The manifest an `adopt` that stopped had edited was edited again since: left as it is.
    ManifestEditedSince {
        manifest: PathBuf,
    },
}

impl Recovered {
    /// Whether it left something for the user to look at (never dotlink's to remove).
    pub fn leaves_something(&self) -> bool {
        matches!(
            self,
            Recovered::LeftAtTemporaryName { .. }
                | Recovered::LeftBoth { .. }
                | Recovered::UnfinishedRemoval { .. }
                | Recovered::LeftInRepository { .. }
                | Recovered::SameInRepository { .. }
                | Recovered::OneFileBothNames { .. }
                | Recovered::NowhereToBeFound { .. }
                | Recovered::ManifestEditedSince { .. }
        )
    }
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
            backup_set: None,
            undid_adoption: false,
        }));
    };
    let mut actions = Vec::new();
    if let Some(adopting) = &journal.adopting {
        undo_adoption(&journal.entries, adopting, journal.pid, &mut actions)?;
        journal::finish(files)?;
        return Ok(Some(Recovery {
            started: Some(journal.started),
            actions,
            backup_set: None,
            undid_adoption: true,
        }));
    }
    // A journal of an older dotlink logged none: none of its directories is proven
    // dotlink's, and none is recorded (one left over stays, empty, never one of the user's
    // taken for dotlink's).
    let logged: PathMap<DirId> = match journal.dirs_logged {
        true => journal::MadeLog::read(files)
            .into_iter()
            .map(|d| {
                let id = d.id();
                (d.path, id)
            })
            .collect(),
        false => PathMap::default(),
    };
    let made = Made::Logged(&logged);
    for entry in &journal.entries {
        settle(entry, journal.pid, &made, state, &mut actions)?;
    }
    complete_backup_index(&journal)?;
    remove_unused_backup_dirs(&journal);
    super::save_state(files, state)?;
    journal::finish(files)?;
    // A set the interrupted run began (even one it had not yet put anything in) is carried on.
    let began = !journal.backup_set.as_os_str().is_empty() && journal.backup_set.is_dir();
    let backup_set = began.then_some(journal.backup_set);
    Ok(Some(Recovery {
        started: Some(journal.started),
        actions,
        backup_set,
        undid_adoption: false,
    }))
}

/// Undo an `adopt` that stopped, or failed, before its link-back began: each path moved into
/// the repository goes back (the last first), the directories made for them go while empty,
/// and the manifest gets its old text back, unless it was edited again since. Each move is
/// settled as a backup that was never replaced by its link: the same leftovers, put back the
/// same way.
pub(super) fn undo_adoption(
    entries: &[Entry],
    adopting: &journal::Adopting,
    pid: Option<u32>,
    actions: &mut Vec<Recovered>,
) -> Result<()> {
    let mut scratch = State::default();
    // Every path is tried, so one that cannot go back keeps no other in the repository; the
    // first error is the run's, and the journal stays for the next run to try again.
    let mut first = Ok(());
    for entry in entries.iter().rev() {
        let Some(Displace::Backup { to }) = &entry.displace else {
            continue;
        };
        first = first.and(undo_move(entry, to, pid, &mut scratch, actions));
    }
    first?;
    for made in adopting.made.iter().rev() {
        let same = fs::symlink_metadata(&made.path).is_ok_and(|m| {
            m.is_dir() && m.dev() == made.dev && same_dir(Some(made.id()), DirId::of(&m))
        });
        if same {
            // Only while empty: anything put there since keeps it.
            let _ = fs::remove_dir(&made.path);
        }
    }
    let manifest = &adopting.manifest;
    if let (Some(pid), Some(dir)) = (pid, manifest.parent()) {
        // Its new text, written under a temporary name and not yet renamed into place.
        fsutil::remove_temporaries_of(pid, &[dir]);
    }
    match fs::read_to_string(manifest) {
        Ok(text) if text == adopting.after => {
            fsutil::write_atomic(manifest, adopting.before.as_bytes())
                .map_err(|e| failed("write", manifest, e))?;
            actions.push(Recovered::ManifestRestored {
                manifest: manifest.clone(),
            });
        }
        Ok(text) if text == adopting.before => {}
        _ => actions.push(Recovered::ManifestEditedSince {
            manifest: manifest.clone(),
        }),
    }
    if actions.is_empty() {
        actions.push(Recovered::AdoptMovedNothing);
    }
    Ok(())
}

/// Move back what one adoption moved from `entry.target` to `to`, settled as a backup never
/// replaced by its link (the same leftovers, put back the same way). The directory it came
/// from is made again if the user removed it since. Where both are there now (the home's
/// path made anew since, or a copy across filesystems stopped before the original went, or
/// something from elsewhere at `to`), both are left and said: nothing is removed.
fn undo_move(
    entry: &Entry,
    to: &Path,
    pid: Option<u32>,
    scratch: &mut State,
    actions: &mut Vec<Recovered>,
) -> Result<()> {
    let target = &entry.target;
    let (at_home, in_repo) = (fs::symlink_metadata(target), fs::symlink_metadata(to));
    match (&at_home, &in_repo) {
        // One file under both names (the user linked the emptied directory into the
        // repository by hand): there is nothing to move, and nothing may be removed.
        (Ok(a), Ok(b)) if (a.dev(), a.ino()) == (b.dev(), b.ino()) => {
            actions.push(Recovered::OneFileBothNames {
                target: target.clone(),
                at: to.to_path_buf(),
            });
            return Ok(());
        }
        // Neither: the repository moved, or its filesystem is not mounted. Said, so that it
        // is looked for there.
        (Err(_), Err(_)) => {
            actions.push(Recovered::NowhereToBeFound {
                target: target.clone(),
                at: to.to_path_buf(),
            });
            return Ok(());
        }
        _ => {}
    }
    if in_repo.is_ok()
        && at_home.is_err()
        && let Some(dir) = target.parent()
        && fs::symlink_metadata(dir).is_err()
    {
        // Only below a real directory, reached through no symlink: one made since on the way
        // could lead out of the home.
        let standing = dir.ancestors().find(|a| fs::symlink_metadata(a).is_ok());
        if standing.is_some_and(|a| fs::canonicalize(a).is_ok_and(|real| real == a)) {
            fs::create_dir_all(dir).map_err(|e| failed("create directory", dir, e))?;
        }
    }
    let from = actions.len();
    // An adoption's moves make no directories of their own (`Adopting::made` has them).
    settle(entry, pid, &Made::InThisRun, scratch, actions).map_err(|e| {
        e.context(format!(
            "moving {} back from {}",
            target.display(),
            to.display()
        ))
    })?;
    let mut said = false;
    for action in &mut actions[from..] {
        match action {
            Recovered::PutBack { target } => {
                *action = Recovered::MovedBack {
                    target: target.clone(),
                    from: to.to_path_buf(),
                };
            }
            Recovered::LeftBoth { target, copy } => {
                *action = Recovered::LeftInRepository {
                    target: target.clone(),
                    at: copy.clone(),
                };
                said = true;
            }
            _ => {}
        }
    }
    let both = fs::symlink_metadata(target).is_ok() && fs::symlink_metadata(to).is_ok();
    if both && !said {
        actions.push(Recovered::LeftInRepository {
            target: target.clone(),
            at: to.to_path_buf(),
        });
    }
    // Both with the same contents: a copy across filesystems stopped before the original went
    // (or the same file came from elsewhere). Said as such; neither is removed.
    for action in &mut actions[from..] {
        if let Recovered::LeftInRepository { target, at } = action
            && fsutil::same_contents(target, at)
        {
            *action = Recovered::SameInRepository {
                target: target.clone(),
                at: at.clone(),
            };
        }
    }
    Ok(())
}

/// An I/O failure during recovery, with what to do about it.
fn failed(what: &str, path: &Path, e: io::Error) -> Error {
    Error::io(what, path, &e)
        .with_hint("fix this, then run `dotlink apply` again to finish recovering")
}

/// Which of the directories the steps were to make a run made, as far as its recovery knows.
pub(super) enum Made<'a> {
    /// Those logged with their identity as they were made (`journal::MadeLog`), by path: each
    /// is dotlink's while it is still that directory.
    Logged(&'a PathMap<DirId>),
    /// A step of this run that failed: the applier records what it made itself.
    InThisRun,
}

/// Settle one step of an interrupted run, or one that failed: afterwards its target is as it
/// was or as planned, nothing is left at its temporary name, and the state says which.
/// Returns whether the target is as planned. `pid` is the process that made the step's
/// changes, if known: only its partial copies are removed. `made` tells which of the
/// directories it was to make are dotlink's.
///
/// Each change of a step was atomic, so what may be left over is the new link at the
/// temporary name, the old contents swapped out to it, a backup copy, or a partial one.
pub(super) fn settle(
    entry: &Entry,
    pid: Option<u32>,
    made: &Made,
    state: &mut State,
    actions: &mut Vec<Recovered>,
) -> Result<bool> {
    if let Some(backup) = &entry.restores {
        return settle_restore(entry, backup, pid, state, actions);
    }
    if !entry.unfold.is_empty() {
        return settle_unfold(entry, state, actions);
    }
    for dir in &entry.mkdirs {
        if let Some(id) = dir_id(dir)
            && match made {
                Made::Logged(logged) => logged.get(dir) == Some(&id),
                Made::InThisRun => false,
            }
        {
            state.dirs.insert(dir.clone(), Some(id));
        }
    }
    let backup = match &entry.displace {
        Some(Displace::Backup { to }) => Some(to.as_path()),
        _ => None,
    };
    if let Some(to) = backup {
        // Copies went to the backup, or (put back by a recovery) to the target; originals
        // were moved from the temporary name, the target itself (a clear, or a filesystem
        // that cannot exchange two names) or the backup.
        for to in [to, &entry.target] {
            remove_leftover(&entry.target, to, Leftover::PartialCopy, pid, actions);
        }
        for from in entry
            .temp
            .iter()
            .map(PathBuf::as_path)
            .chain([&*entry.target, to])
        {
            remove_leftover(&entry.target, from, Leftover::MovedOriginal, pid, actions);
        }
    }
    if let Some(temp) = &entry.temp {
        settle_temporary(entry, temp, backup, tag(pid), actions)?;
    }
    let done = entry
        .link
        .as_ref()
        .is_some_and(|r| holds(r, &inspect::look(&entry.target)));
    if let Some(to) = backup
        && !done
    {
        settle_backup_copy(entry, to, tag(pid), actions)?;
    }
    if done && entry.displace == Some(Displace::EmptyDirectory) {
        // The emptied directory it replaced went, or goes with what was left at the temporary
        // name: its records (as the step drops them) describe nothing now.
        state.dirs.remove_tree(&entry.target);
    }
    settle_record(entry, done, state, actions);
    Ok(done)
}

/// Settle a step of `restore` that put the backup at `backup` back at the target: finished when
/// the exchange was made and dotlink's link came out; otherwise what the target held goes back
/// there and the backup returns to its set.
fn settle_restore(
    entry: &Entry,
    backup: &Path,
    pid: Option<u32>,
    state: &mut State,
    actions: &mut Vec<Recovered>,
) -> Result<bool> {
    let target = &entry.target;
    let Some(temp) = &entry.temp else {
        return Ok(false);
    };
    // The backup was copied to the temporary name, or back to the set by a recovery.
    for to in [temp.as_path(), backup] {
        remove_leftover(target, to, Leftover::PartialCopy, pid, actions);
        remove_leftover(target, to, Leftover::MovedOriginal, pid, actions);
    }
    let as_seen = |found: &Found| match &entry.seen {
        Some(seen) => seen.is(found),
        None => *found == Found::Nothing,
    };
    let at_temp = inspect::look(temp);
    if at_temp == Found::Nothing {
        let done = fs::symlink_metadata(backup).is_err() && !as_seen(&inspect::look(target));
        if done {
            state.links.remove(target);
        }
        return Ok(done);
    }
    if entry.seen.as_ref().is_some_and(|seen| seen.is(&at_temp)) {
        // Exchanged as planned: what is left at the temporary name is dotlink's old link.
        fs::remove_file(temp).map_err(|e| failed("remove", temp, e))?;
        state.links.remove(target);
        return Ok(true);
    }
    // What is at the temporary name is the backup itself: nothing was exchanged, and what is
    // at the target came there since (the user's, never taken for the backup). So it is when
    // the target was empty when planned: the backup is then renamed into place, never
    // exchanged (a directory copied across filesystems cannot be told by its identity).
    let not_exchanged = entry.seen.is_none()
        || entry
            .restored
            .as_ref()
            .is_some_and(|backup| backup.is_or_copy(&at_temp));
    if !not_exchanged && !as_seen(&inspect::look(target)) {
        // Exchanged with something dotlink did not plan on: it goes back.
        fsutil::exchange(temp, target).map_err(|e| failed("put back", target, e))?;
        actions.push(Recovered::SwappedBack {
            target: target.clone(),
        });
    }
    if fs::symlink_metadata(backup).is_ok() {
        // Stopped between copying the backup across filesystems (renamed to the temporary
        // name only when whole) and freeing its name in the set: the copy, this run's, goes.
        if fsutil::same_contents(temp, backup) {
            fsutil::remove_whole(temp, tag(pid)).map_err(|e| failed("remove", temp, e))?;
            actions.push(Recovered::ReturnedToBackup {
                target: target.clone(),
                backup: backup.to_path_buf(),
            });
            return Ok(false);
        }
        let temp = temp.clone();
        actions.push(Recovered::LeftAtTemporaryName {
            target: target.clone(),
            temp,
        });
        return Ok(false);
    }
    fsutil::move_path_as(temp, backup, tag(pid))
        .map_err(|e| failed("return to its backup set", temp, e))?;
    actions.push(Recovered::ReturnedToBackup {
        target: target.clone(),
        backup: backup.to_path_buf(),
    });
    Ok(false)
}

/// Settle an unfold: done once the real directory is at the folded link's place with every
/// link in it. What is left at the temporary name is the old link (swapped out: removed, since
/// it is exactly what the planner saw and the step replaces it) or the directory being built
/// (taken apart, when it holds only what the step made there; otherwise left alone).
fn settle_unfold(entry: &Entry, state: &mut State, actions: &mut Vec<Recovered>) -> Result<bool> {
    let link = &entry.target;
    let Some(temp) = &entry.temp else {
        return Ok(false);
    };
    let seen = |found: &Found| entry.seen.as_ref().is_some_and(|s| s.is(found));
    let at_temp = inspect::look(temp);
    let directory_in_place = matches!(inspect::look(link), Found::Directory(_));
    match &at_temp {
        Found::Nothing => {}
        found if seen(found) && directory_in_place => {
            fs::remove_file(temp).map_err(|e| failed("remove", temp, e))?;
        }
        Found::Directory(_) if take_apart(entry, temp)? => {
            actions.push(Recovered::RemovedUnfinishedUnfold {
                target: link.clone(),
            });
        }
        _ => actions.push(Recovered::LeftAtTemporaryName {
            target: link.clone(),
            temp: temp.clone(),
        }),
    }
    let done = directory_in_place
        && entry
            .unfold
            .iter()
            .all(|r| holds(r, &inspect::look(&r.target)));
    if done {
        state.links.remove(link);
        state.dirs.insert_as_now(link);
        for dir in &entry.mkdirs {
            state.dirs.insert_as_now(dir);
        }
        for record in &entry.unfold {
            if state.links.get(&record.target) != Some(record) {
                state.links.insert(record.clone());
                actions.push(Recovered::Recorded {
                    target: record.target.to_path_buf(),
                });
            }
        }
    }
    Ok(done)
}

/// Remove the directory an unfold was building at `temp`, if everything in it is what the step
/// made there (its directories and links); returns whether it did.
fn take_apart(entry: &Entry, temp: &Path) -> Result<bool> {
    let place = |path: &Path| entry.target.join(paths::below(path, temp).unwrap_or(path));
    let mut items = Vec::new();
    for item in walkdir::WalkDir::new(temp)
        .min_depth(1)
        .contents_first(true)
    {
        let Ok(item) = item else { return Ok(false) };
        let planned = place(item.path());
        let ours = if item.file_type().is_dir() {
            entry.mkdirs.contains(&planned)
        } else {
            entry
                .unfold
                .iter()
                .any(|r| *r.target == *planned && holds(r, &inspect::look(item.path())))
        };
        if !ours {
            return Ok(false);
        }
        items.push((item.path().to_path_buf(), item.file_type().is_dir()));
    }
    for (path, is_dir) in items {
        let removed = if is_dir {
            fs::remove_dir(&path)
        } else {
            fs::remove_file(&path)
        };
        removed.map_err(|e| failed("remove", &path, e))?;
    }
    fs::remove_dir(temp).map_err(|e| failed("remove", temp, e))?;
    Ok(true)
}

/// The process id a recovery's own moves and removals are tagged with: that of the run it
/// finishes (so that one stopped in turn leaves names the journal accounts for), else its own.
fn tag(pid: Option<u32>) -> u32 {
    pid.unwrap_or_else(std::process::id)
}

/// What a move across filesystems by a stopped process leaves under one of its tagged names.
#[derive(Clone, Copy)]
enum Leftover {
    /// A copy not yet whole ([`fsutil::partial_name`]): the original is still whole.
    PartialCopy,
    /// What is left of an original whose copy is whole ([`fsutil::moved_name`]): its own name
    /// was freed before it was removed.
    MovedOriginal,
}

/// Remove what process `pid` (stopped) left at `at`'s tagged name of `kind`, for the step on
/// `target`: only that process's, by its exact name; without a process (a journal of an older
/// version) nothing is. What cannot be removed is said, never an error that would keep the
/// journal and stop every later run on it.
fn remove_leftover(
    target: &Path,
    at: &Path,
    kind: Leftover,
    pid: Option<u32>,
    actions: &mut Vec<Recovered>,
) {
    let Some(pid) = pid else {
        return;
    };
    let name = match kind {
        Leftover::PartialCopy => fsutil::partial_name(at, pid),
        Leftover::MovedOriginal => fsutil::moved_name(at, pid),
    };
    if fs::symlink_metadata(&name).is_err() {
        return;
    }
    actions.extend(match (fsutil::remove_any(&name), kind) {
        (Ok(()), Leftover::PartialCopy) => Some(Recovered::RemovedPartialBackup { partial: name }),
        (Ok(()), Leftover::MovedOriginal) => None,
        (Err(e), _) => Some(Recovered::UnfinishedRemoval {
            target: target.to_path_buf(),
            temp: name,
            why: crate::error::describe_io(&e),
        }),
    });
}

/// What is at the step's temporary name: the new link, made and not yet put in place (it is
/// removed), or the old contents swapped out of the target (they go back, unless their backup
/// is already complete). Anything else is not dotlink's and is left where it is.
fn settle_temporary(
    entry: &Entry,
    temp: &Path,
    backup: Option<&Path>,
    tag: u32,
    actions: &mut Vec<Recovered>,
) -> Result<()> {
    let at_temp = inspect::look(temp);
    if at_temp == Found::Nothing {
        return Ok(());
    }
    let ours = |found: &Found| entry.link.as_ref().is_some_and(|r| holds(r, found));
    let target = entry.target.clone();
    let swapped_out =
        entry.seen.as_ref().is_some_and(|seen| seen.is(&at_temp)) && ours(&inspect::look(&target));
    if swapped_out {
        // The user asked for it to go, and the link is in its place: what is at the
        // temporary name may be a directory half removed, so it is not put back (that would
        // leave the target neither as it was nor as planned) but finished.
        // So it is when its backup is complete (a copy across filesystems is renamed into
        // place only when whole, and the original's name freed before it is removed, so what
        // is at the temporary name is whole): only a copy of it is taken for its backup, never
        // whatever else came to be at the backup's place.
        // Not a removal of more than was planned: a tree written into since planning (the
        // step had not yet looked, or had found it so) goes back, as the step would have put it.
        let covered = match &entry.seen {
            Some(Seen::Directory {
                tree: Some(tree), ..
            }) => tree.still_covers(temp),
            _ => true,
        };
        let finished = match (&entry.displace, backup) {
            (Some(Displace::Delete), _) if !covered => None,
            (Some(Displace::Delete), _) => Some(Recovered::FinishedRemoval {
                target: target.clone(),
            }),
            (_, Some(to)) if fsutil::same_contents(temp, to) => Some(Recovered::FinishedBackup {
                target: target.clone(),
                to: to.to_path_buf(),
            }),
            _ => None,
        };
        if let Some(finished) = finished {
            actions.push(remove_swapped_out(&target, temp, tag).unwrap_or(finished));
            return Ok(());
        }
        fsutil::exchange(temp, &target).map_err(|e| failed("put back", &target, e))?;
        actions.push(Recovered::SwappedBack {
            target: target.clone(),
        });
    } else if entry.seen.as_ref().is_some_and(|seen| seen.is(&at_temp)) {
        // Swapped out, and then the link in its place was replaced by someone else: what
        // was swapped out gets what the step meant for it, or its place back if that is free.
        return settle_displaced(entry, temp, tag, actions);
    } else if !ours(&at_temp) {
        let temp = temp.to_path_buf();
        actions.push(Recovered::LeftAtTemporaryName { target, temp });
        return Ok(());
    }
    if ours(&inspect::look(temp)) {
        fs::remove_file(temp).map_err(|e| failed("remove temporary link", temp, e))?;
        if !swapped_out {
            let temp = temp.to_path_buf();
            actions.push(Recovered::RemovedTemporaryLink { temp });
        }
    }
    Ok(())
}

/// What a step swapped out of its target, still at the temporary name, when the target now
/// holds something else than the step's link.
fn settle_displaced(
    entry: &Entry,
    temp: &Path,
    tag: u32,
    actions: &mut Vec<Recovered>,
) -> Result<()> {
    let target = entry.target.clone();
    if fs::symlink_metadata(&target).is_err() {
        fsutil::rename_new(temp, &target).map_err(|e| failed("put back", &target, e))?;
        actions.push(Recovered::SwappedBack { target });
        return Ok(());
    }
    let done = match &entry.displace {
        Some(Displace::Backup { to }) if fs::symlink_metadata(to).is_err() => {
            if let Some(dir) = to.parent() {
                fs::create_dir_all(dir).map_err(|e| failed("create backup directory", dir, e))?;
            }
            fsutil::move_path_as(temp, to, tag).map_err(|e| failed("back up", temp, e))?;
            actions.push(Recovered::FinishedBackup {
                target: target.clone(),
                to: to.clone(),
            });
            true
        }
        Some(Displace::Link | Displace::Delete) => {
            if let Some(unfinished) = remove_swapped_out(&target, temp, tag) {
                actions.push(unfinished);
            }
            true
        }
        Some(Displace::EmptyDirectory) => fsutil::remove_empty_tree(temp).is_ok(),
        _ => false,
    };
    if !done {
        let temp = temp.to_path_buf();
        actions.push(Recovered::LeftAtTemporaryName { target, temp });
    }
    Ok(())
}

/// Remove what a step swapped out of `target` to `temp`, its name freed first (so a recovery
/// stopped here leaves a leftover the next one removes, never a half-removed `temp`). What
/// cannot be removed is returned to be said: never an error that would stop every later run.
fn remove_swapped_out(target: &Path, temp: &Path, tag: u32) -> Option<Recovered> {
    let e = fsutil::remove_whole(temp, tag).err()?;
    let moved = fsutil::moved_name(temp, tag);
    let left = if fs::symlink_metadata(&moved).is_ok() {
        moved
    } else {
        temp.to_path_buf()
    };
    Some(Recovered::UnfinishedRemoval {
        target: target.to_path_buf(),
        temp: left,
        why: crate::error::describe_io(&e),
    })
}

/// A step that made a backup but did not put its link in place: undo or keep the backup.
fn settle_backup_copy(
    entry: &Entry,
    to: &Path,
    tag: u32,
    actions: &mut Vec<Recovered>,
) -> Result<()> {
    let Ok(copy) = fs::symlink_metadata(to) else {
        return Ok(());
    };
    let target = &entry.target;
    match fs::symlink_metadata(target) {
        // Moved out, never replaced: put it back.
        Err(_) => {
            fsutil::move_path_as(to, target, tag).map_err(|e| failed("restore backup", to, e))?;
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
            // Keyed by the journal entry's target, as the entry is what was acted on; its text
            // held whole where it is not the default one from there.
            let own_text = record.text().and_then(|text| {
                crate::link_text::Texts::default().own(&text, target, &record.source)
            });
            state.links.insert(Record {
                target: target.as_path().into(),
                own_text,
                ..record.clone()
            });
            actions.push(Recovered::Recorded {
                target: target.clone(),
            });
        }
        None if fs::symlink_metadata(target).is_err() => {
            state.links.remove(target);
            for dir in &entry.rmdirs {
                match fs::symlink_metadata(dir) {
                    // Removed before the stop.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    // Removed if empty, while it is still the directory dotlink made (another
                    // may stand under its name now).
                    Ok(meta) if state.dirs.holds(dir, &meta) && fs::remove_dir(dir).is_ok() => {}
                    _ => break,
                }
                state.dirs.remove(dir);
            }
        }
        _ => {}
    }
}

/// Remove, while empty, the directories an interrupted apply made in its backup set for
/// backups it never got to (a run with many links makes them all first, `apply::parallel`),
/// so that no set of empty directories without an index is left for `restore --list` to warn
/// about. Only directories on the way to a place the journal gives a backup, inside the set,
/// where no symlink leads elsewhere; a directory that is itself a backup (an empty one the
/// run backed up, or one the set's index names) stays, and so does anything not empty. A
/// restore's set stays as it is (it takes backups out of it).
///
/// Not the directories of new links in the home: the journal names those the run was to make,
/// not those it made, and one that appeared since may be the user's.
fn remove_unused_backup_dirs(journal: &Journal) {
    let remove_empty = |dir: &Path| {
        fs::canonicalize(dir).is_ok_and(|real| real == dir) && fs::remove_dir(dir).is_ok()
    };
    let set = &journal.backup_set;
    if set.as_os_str().is_empty() || journal.entries.iter().any(|e| e.restores.is_some()) {
        return;
    }
    let mut backups: std::collections::HashSet<PathBuf> = journal
        .entries
        .iter()
        .filter_map(|e| match &e.displace {
            Some(Displace::Backup { to }) => Some(to.clone()),
            _ => None,
        })
        .collect();
    backups.extend(read_index(set).into_iter().map(|b| b.backup));
    let mut dirs: Vec<&Path> = backups
        .iter()
        .flat_map(|to| to.ancestors().skip(1).take_while(|d| d.starts_with(set)))
        .collect();
    // The deepest first, so that a directory emptied by removing those below it goes too.
    dirs.sort_by_key(|d| (std::cmp::Reverse(d.components().count()), *d));
    dirs.dedup();
    for dir in dirs {
        if !backups.contains(dir) {
            remove_empty(dir);
        }
    }
}

/// Make sure the backup set's index names every backup the interrupted run completed (the run
/// may have stopped between a backup and the index write).
fn complete_backup_index(journal: &Journal) -> Result<()> {
    let set = &journal.backup_set;
    let mut index = read_index(set);
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
                    .map(|r| r.source.to_path_buf())
                    .unwrap_or_default(),
            });
        }
    }
    if index.len() == before {
        return Ok(());
    }
    backup::write_index(set, &index)
}
