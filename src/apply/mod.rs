//! The applier: executes a plan's steps in order and records what it made in the state file.
//! It makes no decisions; the plan says what to do and in which order.
//!
//! Every change is atomic on its own: a new link is made under a temporary name in the target's
//! directory and renamed over the target, so there is never a moment without a link; a backup
//! exists before anything replaces the original. A journal written first lets the
//! next run recover if this one dies (see [`crate::apply::journal`]). A step that fails is reported
//! and the rest still run, since targets are independent; the run then exits non-zero.

pub(crate) mod adopt;
mod backup;
pub(crate) mod fault;
pub(crate) mod fsutil;
pub(crate) mod journal;
pub(crate) mod recovery;
pub(crate) mod restore;

use crate::error::{Error, Result};
use crate::manifest::Method;
use crate::plan::{Action, Conflict, Displace, Link, Plan, Step};
use crate::state::backup::BackedUp;
use crate::state::{Files, State};
use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// What happened when a plan was applied.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Indexes of the plan's steps that changed something and succeeded.
    pub done: Vec<usize>,
    /// Steps that failed, by index, with why.
    pub failed: Vec<(usize, Error)>,
    /// What was moved to the backup set.
    pub backups: Vec<BackedUp>,
    /// The state file was rewritten.
    pub state_saved: bool,
}

/// Execute `plan`, updating `state` and saving it. Does nothing when the plan is halted.
pub fn apply(plan: &Plan, files: &Files, state: &mut State) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    if plan.halted() {
        return Ok(outcome);
    }
    let mut state_changed = false;
    let changes = plan.changes().count() > 0;
    if changes {
        journal::write(files, plan)?;
    }
    for (index, step) in plan.steps.iter().enumerate() {
        if !step.action.changes() {
            state_changed |= settle(step, state);
            continue;
        }
        let mut effects = Effects::default();
        match execute(step, &mut effects) {
            Ok(()) => {
                outcome.done.push(index);
                state_changed |= settle(step, state);
                if let Some(backed_up) = effects.backup {
                    outcome.backups.push(backed_up);
                    // Written after each backup, so the index is whole whenever the run stops.
                    backup::write_index(&plan.backup_set, &outcome.backups)?;
                }
            }
            Err(e) => outcome.failed.push((index, e)),
        }
        state_changed |= !effects.created.is_empty() || !effects.removed.is_empty();
        state.dirs.extend(effects.created);
        for dir in &effects.removed {
            state.dirs.remove(dir);
        }
    }
    for target in &plan.forget {
        state_changed |= state.links.remove(target).is_some();
    }
    if state_changed {
        fault::point().map_err(|e| Error::io("write state file", &files.state, &e))?;
        save_state(files, state)?;
        outcome.state_saved = true;
    }
    if changes {
        journal::finish(files)?;
    }
    Ok(outcome)
}

/// Write the state file atomically: readers see the old file or the new one, never half of
/// one.
pub(crate) fn save_state(files: &Files, state: &State) -> Result<()> {
    fsutil::write_atomic_with(&files.state, |out| state.write_json(&files.manifest, out))
        .map_err(|e| Error::io("write state file", &files.state, &e))
}

/// Bring the state in line with a step that is done (or needed doing nothing); returns
/// whether the state changed.
fn settle(step: &Step, state: &mut State) -> bool {
    match &step.action {
        Action::None | Action::Create { .. } | Action::Replace { .. } => {
            let Some(record) = step.record() else {
                return false;
            };
            // A no-op run compares thousands of records: build a new one only on a change.
            if state
                .links
                .get(&step.target)
                .is_some_and(|r| record.matches(r))
            {
                return false;
            }
            state.links.insert(step.target.clone(), record.to_record());
            true
        }
        Action::Remove { .. } => state.links.remove(&step.target).is_some(),
        // A declared target left in conflict is not dotlink's link any more.
        Action::Leave | Action::Block if step.declared => {
            state.links.remove(&step.target).is_some()
        }
        Action::Leave | Action::Block | Action::Clear { .. } => false,
    }
}

#[derive(Default)]
struct Effects {
    created: Vec<PathBuf>,
    removed: Vec<PathBuf>,
    backup: Option<BackedUp>,
}

fn execute(step: &Step, effects: &mut Effects) -> Result<()> {
    let target = &step.target;
    match &step.action {
        Action::Create { mkdirs } => {
            for dir in mkdirs {
                match change(|| fs::create_dir(dir)) {
                    Ok(()) => effects.created.push(dir.clone()),
                    // Appeared since the plan was made; a symlink here is never good enough.
                    Err(e)
                        if e.kind() == io::ErrorKind::AlreadyExists
                            && fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) => {}
                    Err(e) => return Err(Error::io("create directory", dir, &e)),
                }
            }
            let link = link_of(step)?;
            change(|| make_link(link, &step.source, target))
                .map_err(|e| Error::io("create link", target, &e))
        }
        Action::Replace { displace } => {
            let link = link_of(step)?;
            let temp = journal::temp_path(target);
            if fs::symlink_metadata(&temp).is_ok() {
                change(|| fs::remove_file(&temp))
                    .map_err(|e| Error::io("remove old temporary link", &temp, &e))?;
            }
            change(|| make_link(link, &step.source, &temp))
                .map_err(|e| Error::io("create link", &temp, &e))?;
            let result = put_in_place(step, displace, &temp, effects);
            if result.is_err() {
                let _ = fs::remove_file(&temp);
            }
            result
        }
        Action::Remove { rmdirs } => {
            change(|| fs::remove_file(target)).map_err(|e| Error::io("remove link", target, &e))?;
            for dir in rmdirs {
                if change(|| fs::remove_dir(dir)).is_err() {
                    break;
                }
                effects.removed.push(dir.clone());
            }
            Ok(())
        }
        Action::Clear { displace } => {
            if let Displace::Backup { to } = displace {
                prepare_backup(step, to, effects)?;
                change(|| fsutil::move_path(target, to))
                    .map_err(|e| Error::io("back up", target, &e))?;
            } else {
                change(|| fsutil::remove_any(target))
                    .map_err(|e| Error::io("remove", target, &e))?;
            }
            Ok(())
        }
        Action::None | Action::Leave | Action::Block => Ok(()),
    }
}

/// Put the link made at `temp` in place of what is at the target, so that at every instant the
/// target is either what it was or the new link: a file or link is replaced by one rename (a
/// backup is a hard link to it made first); a directory is swapped out in one atomic exchange
/// and only then moved to its backup or removed.
fn put_in_place(
    step: &Step,
    displace: &Displace,
    temp: &Path,
    effects: &mut Effects,
) -> Result<()> {
    let target = &step.target;
    // What is there was seen by the planner; if it has changed since, the rename below fails
    // rather than replacing something unplanned.
    let is_dir = matches!(step.conflict, Some(Conflict::Directory))
        || matches!(displace, Displace::EmptyDirectory);
    let rename_into_place = || {
        change(|| fs::rename(temp, target))
            .map_err(|e| Error::io("put link in place at", target, &e))
    };
    if let Displace::Backup { to } = displace {
        prepare_backup(step, to, effects)?;
    }
    if !is_dir {
        if let Displace::Backup { to } = displace {
            change(|| fsutil::link_or_copy(target, to))
                .map_err(|e| Error::io("back up", target, &e))?;
        }
        return rename_into_place();
    }
    if matches!(displace, Displace::EmptyDirectory) {
        effects.removed.extend(
            walkdir::WalkDir::new(target)
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_dir())
                .map(|e| e.into_path()),
        );
    }
    // The old directory ends up at `old`: at the temporary name after an exchange, or still at
    // the target where the filesystem cannot exchange (then it goes before the link comes).
    let exchanged = change(|| fsutil::exchange(temp, target));
    let old: &Path = if exchanged.is_ok() { temp } else { target };
    match displace {
        Displace::Backup { to } => {
            change(|| fsutil::move_path(old, to)).map_err(|e| Error::io("back up", target, &e))?
        }
        Displace::Delete => change(|| fs::remove_dir_all(old))
            .map_err(|e| Error::io("remove directory", target, &e))?,
        Displace::EmptyDirectory => change(|| fsutil::remove_empty_tree(old))
            .map_err(|e| Error::io("remove emptied directory", target, &e))?,
        Displace::Link => {}
    }
    if exchanged.is_ok() {
        Ok(())
    } else {
        rename_into_place()
    }
}

/// Make the directory a backup goes into, and note the backup for the outcome and the index.
fn prepare_backup(step: &Step, to: &Path, effects: &mut Effects) -> Result<()> {
    if let Some(dir) = to.parent() {
        change(|| fs::create_dir_all(dir))
            .map_err(|e| Error::io("create backup directory", dir, &e))?;
    }
    effects.backup = Some(BackedUp {
        target: step.target.clone(),
        backup: to.to_path_buf(),
        source: step.source.clone(),
    });
    Ok(())
}

/// One filesystem change, behind the fault-injection point that tests use to stop a run.
fn change<T>(act: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    fault::point()?;
    act()
}

fn link_of(step: &Step) -> Result<&Link> {
    step.link.as_ref().ok_or_else(|| {
        Error::failure(format!(
            "internal error: no link planned for {}",
            step.target.display()
        ))
    })
}

fn make_link(link: &Link, source: &Path, at: &Path) -> io::Result<()> {
    match link.method {
        Method::Symlink => symlink(&link.contents, at),
        Method::Hardlink => fs::hard_link(source, at),
    }
}
