//! Making many new links on several threads at once: the kernel's work for each `symlink`
//! (most of a first apply) then runs on every core. Only for a plan whose changes are all
//! [`Action::Create`] and [`Action::Replace`] steps, from a size on: each of those changes its
//! own target (and its own place in the backup set) and nothing else once the directories
//! they need exist. Those directories are made first, on this thread and in the plan's order,
//! as the steps would make them one after another; only then are the links made, in any
//! order. Steps that remove or clear something, or unfold a directory, depend on one another,
//! and any plan that has one is applied one step at a time.
//!
//! Each step is carried out by the same code as on one thread, between the same fault
//! points, and the journal names every step before any is taken. What a step did, or why it
//! failed, goes back to the applier, which records and settles every step in the plan's order
//! as if it had just taken it.

use super::StepSet;
use super::execute::{self, Effects};
use super::fsutil;
use super::journal::RunId;
use crate::error::Result;
use crate::plan::{Action, Displace, Plan, Step};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What one step did (or why it failed), by its index in the plan.
pub(super) type Done = (Result<()>, Effects);

/// The steps taken ahead of the applier's walk through the plan: none when the plan is
/// applied one step at a time.
#[derive(Default)]
pub(super) struct Ahead {
    /// A bit for each step of the plan that is done with nothing else to record: most new
    /// links (a [`Done`] for each would double a first apply's memory).
    done: StepSet,
    /// What the others taken ahead did (directories made, a backup), or why they failed, by
    /// index in the plan: sorted once all are taken.
    with: Vec<(u32, Option<Box<Done>>)>,
    /// Directories made for backups before any step was taken, top first: those no backup
    /// went into are removed once every step is done.
    backup_dirs: Vec<PathBuf>,
}

impl Ahead {
    /// What step `index` did, if it was taken ahead (each is taken out once).
    pub(super) fn take(&mut self, index: usize) -> Option<Done> {
        if self.done.remove(index) {
            return Some((Ok(()), Effects::default()));
        }
        let at = self
            .with
            .binary_search_by_key(&index, |&(i, _)| i as usize)
            .ok()?;
        self.with[at].1.take().map(|done| *done)
    }

    fn mark_done(&mut self, index: usize) {
        self.done.insert(index);
    }

    /// Record what step `index` did besides making its link, or why it failed.
    fn record(&mut self, index: usize, done: Done) {
        let index = u32::try_from(index).expect("fewer than 2^32 steps");
        self.with.push((index, Some(Box::new(done))));
    }

    /// Remove the backup directories made ahead that stayed empty.
    pub(super) fn finish(self) {
        fsutil::remove_made_dirs(&self.backup_dirs);
    }
}

/// The name of the threads that make links besides the main one.
const THREAD_NAME: &str = "dotlink-links";

/// From this many changing steps a plan is applied on several threads (tests set
/// `DOTLINK_APPLY_THREADS_FROM`): below it, starting threads costs more than it saves.
fn threads_from() -> usize {
    crate::context::threshold("DOTLINK_APPLY_THREADS_FROM", 1024) as usize
}

/// How many threads make links: every core, up to four (`symlink` in one directory is
/// serialised by the kernel, and most links share their directories). Tests set
/// `DOTLINK_APPLY_THREADS`, so that they take the same way on any machine.
fn threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    crate::context::threshold("DOTLINK_APPLY_THREADS", cores as u64) as usize
}

/// Take the steps of `plan` that can be taken in any order, on several threads, if the plan
/// is one of those this module is for; `step_done` is called once for each step taken.
pub(super) fn take_ahead(plan: &Plan, run: &RunId, step_done: &(dyn Fn() + Sync)) -> Ahead {
    let mut ahead = Ahead::default();
    let threads = threads();
    if threads < 2 || !independent(&plan.steps) || !own_temporary_names(plan, run) {
        return ahead;
    }
    ahead.done = StepSet::for_steps(plan.steps.len());
    // The directories, in the plan's order: each is made by the first step that needs it, as
    // on one thread. A step that cannot have its directories is settled with the rest.
    let mut ready: Vec<usize> = Vec::new();
    // The backup directory the step before found or made: the steps are in directory order,
    // so most backups go where the one before went, and it is not looked at again (a move
    // that finds it gone makes it again).
    let mut backup_dir_ready: Option<&Path> = None;
    for (index, step) in plan.steps.iter().enumerate() {
        let mut effects = Effects::default();
        let made = match &step.action {
            Action::Create { mkdirs } => execute::make_dirs(mkdirs, run, &mut effects),
            Action::Replace { displace } => match &**displace {
                Displace::Backup { to } => {
                    let dir = to.parent();
                    if dir.is_none() || dir == backup_dir_ready {
                        Ok(())
                    } else if dir.is_some_and(Path::is_dir) {
                        backup_dir_ready = dir;
                        Ok(())
                    } else {
                        let made = execute::make_backup_dir(to);
                        if made.is_ok() {
                            backup_dir_ready = dir;
                        }
                        made.map(|made| ahead.backup_dirs.extend(made))
                    }
                }
                _ => Ok(()),
            },
            _ => continue,
        };
        let failed = made.is_err();
        if failed {
            step_done();
        } else {
            ready.push(index);
        }
        if failed || !effects.created.is_empty() {
            ahead.record(index, (made, effects));
        }
    }
    // Then the links: runs of neighbouring steps (neighbours share a directory), dealt to the
    // threads in turn, so each has a share however soon it starts.
    let run_len = (ready.len() / (threads * 8)).clamp(1, 64);
    let mut shares: Vec<Vec<usize>> = (0..threads).map(|_| Vec::new()).collect();
    for (n, &index) in ready.iter().enumerate() {
        shares[(n / run_len) % threads].push(index);
    }
    // Each share is taken out of its slot by its own thread, or by this one, once done with
    // its own, where that thread could not be started. Each thread gives back only what is
    // more than "done": a failure, or effects to record.
    let slots: Vec<Mutex<Vec<usize>>> = shares.into_iter().map(Mutex::new).collect();
    let work = |slot: &Mutex<Vec<usize>>| -> Vec<(usize, Done)> {
        let share = std::mem::take(&mut *slot.lock().unwrap_or_else(|e| e.into_inner()));
        let mut more = Vec::new();
        for index in share {
            let step: &Step = &plan.steps[index];
            let mut effects = Effects::default();
            let result = match &step.action {
                Action::Create { .. } => execute::create_link(step),
                _ => execute::step(step, run, &mut effects),
            };
            step_done();
            if result.is_err() || !effects.is_empty() {
                more.push((index, (result, effects)));
            }
        }
        more
    };
    let more = std::thread::scope(|scope| {
        // Named, so that a fault test can tell that a step was taken there.
        let others: Vec<_> = slots[1..]
            .iter()
            .map(|slot| {
                let builder = std::thread::Builder::new().name(THREAD_NAME.into());
                builder.spawn_scoped(scope, || work(slot))
            })
            .collect();
        let mut more = work(&slots[0]);
        for other in others.into_iter().flatten() {
            // A panic is a bug; it stops the run as a kill would, and the journal finishes it.
            more.extend(other.join().expect("making links does not panic"));
        }
        // Left only where a thread could not be started.
        more.extend(slots[1..].iter().flat_map(work));
        more
    });
    for index in ready {
        ahead.mark_done(index);
    }
    // What a step did besides its link follows what making its directories did (a stable
    // sort keeps that order), and the two are made one.
    for (index, done) in more {
        ahead.record(index, done);
    }
    ahead.with.sort_by_key(|&(index, _)| index);
    ahead
        .with
        .dedup_by(|(index, later), (earlier_index, earlier)| {
            if index != earlier_index {
                return false;
            }
            if let (Some(later), Some(earlier)) = (later.take(), earlier.as_mut()) {
                let made = std::mem::take(&mut earlier.1.created);
                **earlier = *later;
                earlier.1.created.splice(0..0, made);
            }
            true
        });
    for &(index, _) in &ahead.with {
        ahead.done.remove(index as usize);
    }
    ahead
}

/// Whether every replacement has a temporary name of its own, as it should (two steps at one
/// name, at once, would take each other's leftovers for their own): checked, not assumed.
fn own_temporary_names(plan: &Plan, run: &RunId) -> bool {
    let replaced = || {
        plan.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Replace { .. }))
    };
    // By their bytes, hashed whole: each is made by `temp_path` from a normalised target.
    let mut names = std::collections::HashSet::with_capacity_and_hasher(
        replaced().count(),
        crate::state::PathHash::default(),
    );
    replaced().all(|s| names.insert(run.temp_path(&s.target).into_os_string()))
}

/// Whether every change of `steps` is a new link or a replaced target, and there are enough
/// of them.
fn independent(steps: &[Step]) -> bool {
    let mut changes = 0;
    for step in steps {
        match step.action {
            Action::Create { .. } | Action::Replace { .. } => changes += 1,
            ref other if other.changes() => return false,
            _ => {}
        }
    }
    changes >= threads_from()
}
