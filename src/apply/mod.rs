//! The applier: executes a plan's steps in order and records what it made in the state file.
//! It makes no decisions; the plan says what to do and in which order, and what each target
//! held when it was planned. (A plan of many new links has them made on several threads
//! first, where their order does not matter: see [`parallel`].)
//!
//! A journal written first lets the next run recover if this one dies (see [`journal`]). Each
//! step is carried out by [`execute`], every change atomic on its own and checked against what
//! the planner saw. A step that fails is settled at once, as after a crash, so its target is as
//! it was or as planned and nothing is left at a temporary name; it is reported and the rest
//! still run, since targets are independent, and the run then exits non-zero.

pub(crate) mod adopt;
mod backup;
mod execute;
pub(crate) mod fault;
pub(crate) mod fsutil;
pub(crate) mod journal;
mod parallel;
pub(crate) mod recovery;
pub(crate) mod restore;

use crate::error::{Error, Result};
use crate::plan::{Action, Plan, Step};
use crate::state::backup::BackedUp;
use crate::state::{Files, State};
use execute::Effects;
use journal::{Entry, RunId};
use recovery::Recovered;

/// What happened when a plan was applied.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The plan's steps that changed something and succeeded.
    pub done: StepSet,
    /// Steps that failed, by index, with why.
    pub failed: Vec<(usize, Error)>,
    /// Steps done, whose error came just after the change that completed them (said, not
    /// counted as failed).
    pub late_errors: Vec<(usize, Error)>,
    /// What was moved to the backup set.
    pub backups: Vec<BackedUp>,
    /// What settling the failed steps found and left alone (never dotlink's to remove).
    pub left: Vec<Recovered>,
    /// Why the run could not be finished after its steps (the backup index or the state file
    /// could not be written, or a failed step could not be settled); the journal stays, so
    /// the next run finishes it.
    pub unfinished: Option<Error>,
    /// The state file was rewritten.
    pub state_saved: bool,
}

/// Steps of a plan, by their indexes, a bit each: a first apply does every step, and a list of
/// their indexes was 800 KB at 100,000 links, held beside the new state's records.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StepSet {
    words: Vec<u64>,
    len: usize,
}

impl StepSet {
    /// Room for the steps of a plan of `steps`.
    pub fn for_steps(steps: usize) -> StepSet {
        StepSet {
            words: vec![0; steps.div_ceil(64)],
            len: 0,
        }
    }

    pub fn insert(&mut self, index: usize) {
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        if self.words[word] & bit == 0 {
            self.words[word] |= bit;
            self.len += 1;
        }
    }

    /// Take `index` out; whether it was in.
    pub fn remove(&mut self, index: usize) -> bool {
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        let was = self.words.get(word).is_some_and(|w| w & bit != 0);
        if was {
            self.words[word] &= !bit;
            self.len -= 1;
        }
        was
    }

    pub fn contains(&self, index: usize) -> bool {
        self.words
            .get(index / 64)
            .is_some_and(|w| w & (1 << (index % 64)) != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The indexes, in order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |b| bits & (1 << b) != 0)
                .map(move |b| w * 64 + b)
        })
    }
}

/// What a run did, counted by kind (each step counts once, in the first that fits).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub unfolded: usize,
    pub created: usize,
    /// Replaced a link (nothing lost).
    pub relinked: usize,
    pub pruned: usize,
    /// Empty directories dotlink made, removed on their own (not with a link in them).
    pub emptied_dirs: usize,
    /// Moved to the backup set first.
    pub backed_up: usize,
    /// Removed what was in the way (`overwrite`).
    pub overwritten: usize,
    pub failed: usize,
    /// Targets the run left as they were: up to date, skipped, blocked, or not for this
    /// machine.
    pub unchanged: usize,
}

impl Outcome {
    /// The steps of `plan` this outcome did, counted.
    pub fn counts(&self, plan: &Plan) -> Counts {
        let mut counts = Counts {
            failed: self.failed.len(),
            backed_up: self.backups.len(),
            ..Counts::default()
        };
        for step in self.done.iter().map(|i| &plan.steps[i]) {
            match &step.action {
                Action::Unfold { .. } => counts.unfolded += 1,
                Action::Create { .. } => counts.created += 1,
                Action::Replace { .. } | Action::Clear { .. } => match step.action.displace() {
                    Some(crate::plan::Displace::Delete) => counts.overwritten += 1,
                    Some(crate::plan::Displace::Backup { .. }) => {}
                    _ => counts.relinked += 1,
                },
                Action::Remove { .. } => counts.pruned += 1,
                Action::RemoveDir => counts.emptied_dirs += 1,
                _ => {}
            }
        }
        // A halted run changed nothing: every target is as it was.
        let halted = plan.halted();
        counts.unchanged = plan
            .steps
            .iter()
            .filter(|s| {
                halted || (!s.action.changes() && !matches!(s.action, Action::Unfolded { .. }))
            })
            .count();
        counts
    }
}

/// Execute `plan`, updating `state` and saving it. Does nothing when the plan is halted.
pub fn apply(plan: &Plan, files: &Files, state: &mut State) -> Result<Outcome> {
    apply_counting(plan, files, state, &|| {})
}

/// [`apply`], calling `step_done` after each step that changes something (from any thread).
pub fn apply_counting(
    plan: &Plan,
    files: &Files,
    state: &mut State,
    step_done: &(dyn Fn() + Sync),
) -> Result<Outcome> {
    let mut outcome = Outcome::default();
    if plan.halted() {
        return Ok(outcome);
    }
    // The plan's stale records go first: what this run does is newer, and is recorded after.
    let mut state_changed = false;
    for path in &plan.forget {
        state_changed |= state.links.remove(path).is_some();
    }
    for path in &plan.forget_dirs {
        state_changed |= state.dirs.remove(path);
    }
    let mut run = RunId::new();
    let changes = plan.changes().count() > 0;
    if changes {
        journal::write(files, plan, &mut run)?;
    }
    // A record for each new link: room for all of them at once.
    let new_links = plan.changes().filter(|s| {
        matches!(s.action, Action::Create { .. } | Action::Replace { .. })
            && !state.links.contains_key(&s.target)
    });
    state.links.reserve(new_links.count());
    let mut unsettled = None;
    // A plan of many new links has them made on several threads first (see `parallel`); its
    // steps are then recorded and settled here, in order, as if each had just been taken.
    let mut ahead = if changes {
        parallel::take_ahead(plan, &run, step_done)
    } else {
        parallel::Ahead::default()
    };
    // Folded directory links that could not be unfolded: nothing below them is touched, since
    // they still lead into the repository.
    let mut still_folded: Vec<&std::path::Path> = Vec::new();
    // Directories made, recorded together (see `MadeDirs::insert_all`) before any record is
    // removed or looked at.
    let mut made = Vec::new();
    for (index, step) in plan.steps.iter().enumerate() {
        if !step.action.changes() {
            state_changed |= record(step, state);
            continue;
        }
        if let Some(link) = still_folded.iter().find(|l| step.target.starts_with(l)) {
            outcome.failed.push((index, not_unfolded(link)));
            continue;
        }
        let (result, mut effects) = ahead.take(index).unwrap_or_else(|| {
            let mut effects = Effects::default();
            let result = execute::step(step, &run, &mut effects);
            step_done();
            (result, effects)
        });
        match result {
            Ok(()) => {
                outcome.done.insert(index);
                state_changed |= record(step, state);
                outcome.backups.extend(effects.backup.take());
            }
            Err(error) => {
                state_changed = true;
                state.dirs.insert_all(std::mem::take(&mut made));
                // An error just after the change that completed the step is no failure: the
                // step is done, and counted so (as `restore` counts it), not both done (its
                // backup made) and failed.
                match settle_failed(step, &run, state, &mut outcome) {
                    Ok(true) => {
                        outcome.done.insert(index);
                        outcome.late_errors.push((index, error));
                    }
                    settled => {
                        if let Err(e) = settled {
                            unsettled.get_or_insert(e);
                        }
                        if matches!(step.action, Action::Unfold { .. }) {
                            still_folded.push(&step.target);
                        }
                        outcome.failed.push((index, error));
                    }
                }
            }
        }
        state_changed |= !effects.created.is_empty() || !effects.removed.is_empty();
        made.extend(effects.created.into_iter().map(|(dir, id)| (dir, Some(id))));
        if !effects.removed.is_empty() {
            state.dirs.insert_all(std::mem::take(&mut made));
        }
        for dir in &effects.removed {
            state.dirs.remove(dir);
        }
    }
    state.dirs.insert_all(made);
    ahead.finish();
    // Only a record still without one (or without its birth time, and of the same inode): this
    // run may have removed the directory, or made it anew.
    for (dir, id) in &plan.identify {
        let still = match state.dirs.get(dir) {
            Some(None) => true,
            Some(Some(recorded)) => {
                recorded.born == 0 && id.is_some_and(|id| id.ino == recorded.ino)
            }
            None => false,
        };
        if still {
            match id {
                Some(id) => state.dirs.insert(dir.clone(), Some(*id)),
                None => _ = state.dirs.remove(dir),
            }
            state_changed = true;
        }
    }
    // Failed steps are reported even when the run cannot be finished (a full disk).
    if let Err(error) = finish(plan, files, state, state_changed, &mut outcome) {
        outcome.unfinished = Some(error);
    } else if let Some(error) = unsettled {
        outcome.unfinished = Some(error);
    } else if changes {
        journal::finish(files)?;
    }
    Ok(outcome)
}

/// The error for a step below a folded directory link that could not be unfolded.
fn not_unfolded(link: &std::path::Path) -> Error {
    Error::failure(format!(
        "not made: the folded directory link {} above it could not be unfolded",
        link.display()
    ))
    .with_hint("fix what stopped the unfold (said above), then run `dotlink apply` again")
}

/// Settle a step that failed, as recovery would after a crash: its target goes back to as it
/// was, or stays as planned if the step got that far (then its backup is counted, and
/// indexed). Returns whether the step is done: its target as planned (a removal's gone), and
/// nothing of it left over for the user to look at (what the step displaced, not removed
/// whole, is a failure still).
fn settle_failed(
    step: &Step,
    run: &RunId,
    state: &mut State,
    outcome: &mut Outcome,
) -> Result<bool> {
    let entry = Entry::of(step, run);
    let mut actions = Vec::new();
    let pid = Some(std::process::id());
    let made = recovery::Made::InThisRun;
    let as_planned = recovery::settle(&entry, pid, &made, state, &mut actions)?
        || (matches!(step.action, Action::Remove { .. } | Action::RemoveDir)
            && step.target.symlink_metadata().is_err());
    if let (true, Some(to)) = (as_planned, step.action.backup())
        && to.symlink_metadata().is_ok()
    {
        outcome.backups.push(execute::backed_up(step, to));
    }
    let left_something = actions.iter().any(Recovered::leaves_something);
    outcome
        .left
        .extend(actions.into_iter().filter(Recovered::leaves_something));
    Ok(as_planned && !left_something)
}

/// The end of a run: the backup index, written once, then the state file.
fn finish(
    plan: &Plan,
    files: &Files,
    state: &State,
    state_changed: bool,
    outcome: &mut Outcome,
) -> Result<()> {
    if !outcome.backups.is_empty() {
        backup::add_to_index(&plan.backup_set, &outcome.backups)?;
    }
    if state_changed {
        fault::point().map_err(|e| Error::io("write state file", &files.state, &e))?;
        save_state(files, state)?;
        outcome.state_saved = true;
    }
    Ok(())
}

/// Write the state file atomically: readers see the old file or the new one, never half of
/// one. A version 1 state file goes once the new one is written.
pub(crate) fn save_state(files: &Files, state: &State) -> Result<()> {
    fsutil::write_atomic_with(&files.state, |out| {
        state.write(&files.manifest, &files.home, out)
    })
    .map_err(|e| Error::io("write state file", &files.state, &e))?;
    files.retire_legacy_state();
    Ok(())
}

/// Remember (or, with `present` false, forget) that `manifest` manages this home, so it is found
/// from anywhere. Written atomically, under the run's lock; skipped when nothing changes.
pub(crate) fn remember_manifest(
    state_dir: &std::path::Path,
    manifest: &std::path::Path,
    present: bool,
) -> Result<()> {
    let Some(bytes) = crate::state::remembered::with(state_dir, manifest, present) else {
        return Ok(());
    };
    let file = crate::state::remembered::file(state_dir);
    fsutil::write_atomic(&file, &bytes).map_err(|e| Error::io("write", &file, &e))
}

/// Remove a state file whose records are now in another (the repository moved). Best effort:
/// a leftover is found again, and its links are already recorded where they are now.
pub(crate) fn retire_state_file(path: &std::path::Path) {
    let _ = std::fs::remove_file(path);
}

/// Bring the state in line with a step that is done (or needed doing nothing); returns
/// whether the state changed.
fn record(step: &Step, state: &mut State) -> bool {
    match &step.action {
        Action::None | Action::Create { .. } | Action::Replace { .. } => step
            .record()
            .is_some_and(|record| state.links.update(record)),
        Action::Remove { .. } => state.links.remove(&step.target).is_some(),
        // Its directory is forgotten as removed (`Effects::removed`).
        Action::RemoveDir => false,
        // The unfold records every link it made; the folded link is no longer dotlink's.
        Action::Unfold(unfolding) => {
            state.links.remove(&step.target);
            for link in &unfolding.links {
                state.links.insert(link.clone());
            }
            true
        }
        Action::Unfolded { .. } => false,
        // A declared target left in conflict is not dotlink's link any more.
        Action::Leave | Action::Block if step.declared => {
            state.links.remove(&step.target).is_some()
        }
        Action::Leave | Action::Block | Action::Clear { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::StepSet;

    #[test]
    fn a_step_set_holds_each_index_once_and_gives_them_in_order() {
        let mut set = StepSet::for_steps(70);
        assert!(set.is_empty());
        for i in [69, 0, 64, 63, 1, 64, 200] {
            set.insert(i);
        }
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 1, 63, 64, 69, 200]);
        assert!(set.contains(200) && !set.contains(2) && !set.contains(10_000));
        assert!(set.remove(64) && !set.remove(64) && !set.remove(10_000));
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 1, 63, 69, 200]);
        for i in [0, 1, 63, 69, 200] {
            assert!(set.remove(i));
        }
        assert!(set.is_empty());
        assert_eq!(StepSet::default().iter().next(), None);
    }
}
