//! The planner: compare the links the manifest declares with what is really in the home
//! directory, and decide one step per target. It reads the filesystem and writes nothing; the
//! [`Plan`] it returns is a plain value that can be printed, serialised and tested, and the
//! applier only executes it.
//!
//! The decisions are split by what they are about: [`declared`] links (symlinks, and what is
//! in their way), [`parents`] (the directories on the way to a target), [`hardlinks`], and
//! [`orphans`] (recorded links nothing declares any more). [`survey`] looks at every declared
//! target before any is decided, [`inspect`] holds the read-only looks at the filesystem they
//! share, and [`model`] the plan's types.
//!
//! Lessons from the bug trackers of GNU Stow, dotbot, dotter and tuckr live here:
//! - a symlink that already resolves to its declared source is `ok` (or `wrong` when spelled in
//!   the other style), whoever made it, so moving from Stow yields no conflicts;
//! - nothing is ever written through a directory that resolves into the repository;
//! - links dotlink made are recognised by the state file and replaced freely, including a
//!   directory link that has to become a real directory when a source changes type;
//! - a stale state entry is forgotten with a note, never an error.

pub(crate) mod adopt;
mod aliases;
mod clean;
mod declared;
mod folds;
mod hardlinks;
pub(crate) mod inspect;
mod model;
mod orphans;
mod parents;
mod places;

pub(crate) use aliases::Protected;
pub(crate) use places::{check_before_writing, check_own_dirs, in_repository};
mod planner;
mod survey;

pub(crate) use survey::Early;

pub(crate) use clean::removal_steps;
pub(crate) use folds::only_dotlinks;
pub(crate) use model::*;

use crate::context::Context;
use crate::error::Result;
use crate::manifest::{LinkSpec, Manifest};
use crate::paths::{self, by_directory};
use crate::state::{PathRefSet, PathSet, Record, State};
use inspect::Dirs;
use planner::{BackupNaming, Planner};
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// Plan the declared links against the filesystem and the recorded state. The specs are
/// consumed as they are planned, so a large tree is never held twice.
pub(crate) fn plan(
    manifest: &Manifest,
    specs: Vec<LinkSpec>,
    state: &State,
    options: &Options,
    ctx: &Context,
) -> Result<Plan> {
    plan_with(manifest, specs, state, options, ctx, None)
}

/// Look at the targets `state` records, in the directory order, until `stop` is set; what is
/// looked at is given to [`plan_with`] (while the repository is walked: see
/// `survey::look_early`).
pub(crate) fn look_early(state: &State, list: bool, stop: &AtomicBool) -> Early {
    survey::look_early(state.links.values().collect(), list, stop)
}

/// [`plan`], with what was looked at early (see [`look_early`]).
pub(crate) fn plan_with(
    manifest: &Manifest,
    specs: Vec<LinkSpec>,
    state: &State,
    options: &Options,
    ctx: &Context,
    early: Option<Early>,
) -> Result<Plan> {
    let mut dirs = Dirs::for_home(ctx, PathSet::default());
    let mut specs = folds::fold_packages(specs, state, &mut dirs, &manifest.repo);
    // Done first, so the specs' copies are freed before the survey and the plan allocate.
    state.share_paths(&mut specs);
    paths::sort_by_directory(&mut specs, |s| &s.target);
    // Every target is looked at before anything is decided: the handles on its directories
    // also tell the resolver which are real directories, so targets are settled without a
    // `stat` of each.
    let mut records = RecordPlaces::of(&specs, state);
    let targets: Vec<&Path> = specs.iter().map(|s| &*s.target).collect();
    let recorded = |i: usize| records.get(i, state);
    let mut survey = survey::survey_with(
        &targets,
        recorded,
        options.dead_links,
        look_ahead_from(),
        early,
    );
    drop(targets);
    dirs.seen_directories(std::mem::take(&mut survey.directories));
    let mut folds = folds::Folds::default();
    let respelled = places::settle_targets(manifest, &mut specs, &mut dirs, ctx, &mut folds)?;
    // A target reached through a symlinked directory was looked at as spelled, which the
    // kernel may refuse where its real place is readable (`~/.cfg -> locked/../real` needs
    // search permission on `locked`): what could not be read is looked at again, there.
    for i in respelled {
        records.update(i, &specs[i].target, state);
        if matches!(
            survey.found[i],
            inspect::Found::Unreadable(_) | inspect::Found::NotADirectoryOnTheWay
        ) {
            survey.found[i] = inspect::look(&specs[i].target);
        }
    }
    let found = recorded_orphans(
        manifest,
        (&specs, &records),
        state,
        options,
        &folds,
        (&mut dirs, &ctx.home),
    );
    let mut planner = Planner::new(planner::Inputs {
        repo: &manifest.repo,
        home: &ctx.home,
        state,
        dirs,
        removable: found.removable(),
        backups: Some(BackupNaming {
            dir: &manifest.settings.backup_dir,
            now: options.now,
            resume: options.resume_backup_set.as_deref(),
        }),
        state_dir: &ctx.state_dir,
    });
    for link in folds.links() {
        planner.dirs.assume_removed(link);
    }
    let mut steps = Vec::with_capacity(specs.len() + found.steps.len());
    let declared = DeclaredLinks {
        manifest,
        folds: &folds,
        options,
    };
    declared.plan(&mut planner, specs, records, survey.found, &mut steps)?;
    let unfolds = folds.unfold_steps(&steps, &manifest.repo);
    steps.extend(unfolds);
    let orphans::Orphans {
        steps: mut orphan_steps,
        forget,
        notes,
    } = found;
    orphans::make_room(&mut orphan_steps, &planner.needed_places());
    steps.extend(orphan_steps);
    let mut notes = notes;
    let mut forget_dirs = Vec::new();
    let dead_links = if options.dead_links {
        clean::find(
            &steps,
            &ctx.home,
            &manifest.repo,
            state,
            &mut planner.dirs,
            survey.listed,
            &[&ctx.state_dir, &manifest.settings.backup_dir],
        )
    } else {
        Vec::new()
    };
    if !dead_links.is_empty() {
        notes.push(Note::DeadLinks {
            count: dead_links.len(),
        });
    }
    let (clears, backup_set) = planner.finish();
    steps.extend(clears);
    steps.extend(skipped_entries(manifest));
    forget_dirs.extend(orphans::assign_rmdirs(&mut steps, state, &ctx.home));
    let places = (manifest.repo.as_path(), ctx.home.as_path());
    let (emptied, gone) = orphans::empty_dirs(&steps, state, places, pruning(manifest, options));
    steps.extend(emptied);
    forget_dirs.extend(gone);
    order(&mut steps);
    Ok(Plan {
        manifest: manifest.path.clone(),
        repo: manifest.repo.clone(),
        home: ctx.home.clone(),
        steps,
        forget,
        forget_dirs,
        identify: orphans::identify_legacy_dirs(
            options.identify_dirs,
            state,
            &ctx.home,
            &manifest.repo,
        ),
        notes,
        backup_set,
        dead_links,
    })
}

/// Where each spec's record is among the state's (by the specs' places), looked up once: the
/// survey, the orphans and the planner each ask for every spec's, and three lookups of every
/// target were 6% of a no-op run's instructions. Four bytes a spec.
struct RecordPlaces(Vec<u32>);

impl RecordPlaces {
    /// No record (a state holds fewer than 2^32 - 1 records).
    const NONE: u32 = u32::MAX;

    fn of(specs: &[LinkSpec], state: &State) -> RecordPlaces {
        RecordPlaces(
            specs
                .iter()
                .map(|spec| Self::position(state, &spec.target))
                .collect(),
        )
    }

    fn position(state: &State, target: &Path) -> u32 {
        state
            .links
            .position(target)
            .map_or(Self::NONE, |i| i as u32)
    }

    /// The spec at `i` now has `target`.
    fn update(&mut self, i: usize, target: &Path, state: &State) {
        self.0[i] = Self::position(state, target);
    }

    /// The record of the spec at `i`.
    fn get<'s>(&self, i: usize, state: &'s State) -> Option<&'s Record> {
        let position = self.0[i];
        (position != Self::NONE).then(|| state.links.at(position as usize))
    }

    /// Where the specs' records are among the state's.
    fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.0
            .iter()
            .filter(|&&p| p != Self::NONE)
            .map(|&p| p as usize)
    }
}

/// What planning the declared links needs besides the planner.
struct DeclaredLinks<'a> {
    manifest: &'a Manifest,
    folds: &'a folds::Folds,
    options: &'a Options,
}

impl DeclaredLinks<'_> {
    /// The steps for `specs`, in order, pushed onto `steps`; `looks` is what is at each
    /// spec's target, looked at ahead of time. Both are taken from the back of reversed lists,
    /// so that their buffers shrink as they empty (at 10,000 links each is over half a
    /// megabyte, held beside the finished steps otherwise), and each spec is owned only until
    /// it is planned.
    fn plan<'s>(
        &self,
        planner: &mut Planner<'s>,
        mut specs: Vec<LinkSpec>,
        records: RecordPlaces,
        mut looks: Vec<inspect::Found>,
        steps: &mut Vec<Step>,
    ) -> Result<()> {
        // Whatever is in the way of a link's directory is decided by the strictest of the links
        // below it. A link with something at its target has its directory; any other can have
        // something in its way (nothing there, not a directory, or a symlink loop or an
        // unsearchable directory on the way: unreadable).
        for (spec, look) in specs.iter().zip(&looks) {
            if matches!(
                look,
                inspect::Found::Nothing
                    | inspect::Found::NotADirectoryOnTheWay
                    | inspect::Found::Unreadable(_)
            ) {
                let policy = self.options.on_conflict.unwrap_or(spec.on_conflict);
                planner.note_in_the_way(spec, policy);
            }
        }
        specs.reverse();
        looks.reverse();
        let state = planner.state;
        let mut at = 0;
        while let Some(spec) = specs.pop() {
            // An eighth at a time (a large list is a mapping of its own, shrunk in place): the
            // steps fill as these empty, so what both hold at once stays near one list's worth.
            if specs.len() < specs.capacity() - specs.capacity() / 8 {
                specs.shrink_to_fit();
                looks.shrink_to_fit();
            }
            planner.ahead = looks.pop();
            let record = records.get(at, state);
            at += 1;
            let step = planner.declared(self.manifest, &spec, record, self.options.on_conflict);
            planner.ahead = None;
            let mut step = step?;
            if let Some(link) = self.folds.link_above(&spec.target) {
                step = folds::as_folded(step, link);
            }
            step.package = spec.package;
            steps.push(step);
        }
        Ok(())
    }
}

/// From this many declared links, two threads look at the targets (below it, starting a thread
/// costs more than it saves; tests set `DOTLINK_LOOK_AHEAD_FROM`).
fn look_ahead_from() -> usize {
    crate::context::threshold("DOTLINK_LOOK_AHEAD_FROM", 1024) as usize
}

/// Whether this run prunes what dotlink made and nothing declares now.
fn pruning(manifest: &Manifest, options: &Options) -> bool {
    options.prune && manifest.settings.prune
}

/// The recorded links nothing declares now, and what becomes of each. A record is compared by
/// where its target really is: one spelled through another name of a declared target's place
/// is that target's, and only its key is out of date (it is forgotten). A recorded directory
/// link that is now a folded directory is unfolded, not pruned. An entry with `prune = false`
/// keeps the links it made.
fn recorded_orphans(
    manifest: &Manifest,
    (specs, records): (&[LinkSpec], &RecordPlaces),
    state: &State,
    options: &Options,
    folds: &folds::Folds,
    (dirs, home): (&mut Dirs, &Path),
) -> orphans::Orphans {
    let fate = if pruning(manifest, options) {
        OrphanFate::Pruned
    } else {
        OrphanFate::Kept
    };
    // Each record a spec declares as spelled: on a run with nothing to do that is every
    // record, and no set of the specs' targets is built.
    let mut declared_as_spelled = vec![false; state.links.len()];
    for i in records.positions() {
        declared_as_spelled[i] = true;
    }
    let candidates: Vec<&Record> = state
        .links
        .values()
        .zip(&declared_as_spelled)
        .filter(|(r, declared)| !**declared && !folds.is_fold(&r.target))
        .map(|(r, _)| r)
        .collect();
    let declared: PathRefSet = match candidates.is_empty() {
        true => PathRefSet::default(),
        false => specs.iter().map(|s| &*s.target).collect(),
    };
    let mut respelled = Vec::new();
    let undeclared: Vec<&Record> = candidates
        .into_iter()
        .filter(|r| {
            let (real, _) = places::identity(dirs, &r.target);
            let same_place = declared.contains(&*real);
            if same_place {
                respelled.push(r.target.to_path_buf());
            }
            !same_place
        })
        .collect();
    let keep: Vec<std::path::PathBuf> = manifest
        .entries
        .iter()
        .filter(|e| e.prune == Some(false))
        .map(|e| manifest.repo.join(literal_part(&e.source)))
        .collect();
    let (kept, undeclared): (Vec<&Record>, Vec<&Record>) = undeclared
        .into_iter()
        .partition(|r| keep.iter().any(|base| r.source.starts_with(base)));
    let places = (manifest.repo.as_path(), home);
    let mut found = orphans::find(undeclared.into_iter(), fate, places, dirs);
    let also = orphans::find(kept.into_iter(), OrphanFate::Kept, places, dirs);
    found.steps.extend(also.steps);
    found.forget.extend(also.forget);
    found.notes.extend(also.notes);
    found.forget.extend(respelled);
    found
}

/// Plan removing every link recorded in `state` that is still as dotlink made it (`unlink`).
pub(crate) fn plan_unlink(
    manifest_path: &Path,
    repo: &Path,
    state: &State,
    ctx: &Context,
    identify_dirs: bool,
) -> Plan {
    let mut dirs = Dirs::for_home(ctx, PathSet::default());
    let places = (repo, ctx.home.as_path());
    let found = orphans::find(
        state.links.values(),
        OrphanFate::Unlinked,
        places,
        &mut dirs,
    );
    let mut steps = found.steps;
    let mut forget_dirs = orphans::assign_rmdirs(&mut steps, state, &ctx.home);
    let (emptied, gone) = orphans::empty_dirs(&steps, state, places, true);
    steps.extend(emptied);
    forget_dirs.extend(gone);
    order(&mut steps);
    Plan {
        manifest: manifest_path.to_path_buf(),
        repo: repo.to_path_buf(),
        home: ctx.home.clone(),
        steps,
        forget: found.forget,
        forget_dirs,
        identify: orphans::identify_legacy_dirs(identify_dirs, state, &ctx.home, repo),
        notes: found.notes,
        backup_set: Default::default(),
        dead_links: Vec::new(),
    }
}

/// Put the steps in execution order: removals first (empty directories, then links), deepest
/// first, so a removed link makes room before anything is created in its place; then the rest
/// by target, in the directory order (a directory's entries together, a directory before what
/// is below it). Each missing directory is then created once, by the first step that needs it.
fn order(steps: &mut [Step]) {
    // In place: a stable sort would copy every step into a scratch buffer. The declared links
    // were planned in this order, so a run that removes nothing finds them sorted: checked
    // first with each step's key made once (the sort's own check makes two for every pair).
    // Empty directories first, then links removed, each deepest first: a removal then takes
    // the directories it empties, which hold nothing else any more.
    let rank = |s: &Step| match s.action {
        Action::RemoveDir => 2,
        Action::Remove { .. } => 1,
        _ => 0,
    };
    let in_order = !steps.iter().any(|s| rank(s) > 0)
        && steps.iter().map(|s| by_directory(&s.target)).is_sorted();
    if !in_order {
        steps.sort_unstable_by(|a, b| {
            let (ra, rb) = (rank(a), rank(b));
            rb.cmp(&ra).then_with(|| {
                if ra > 0 {
                    by_directory(&b.target).cmp(&by_directory(&a.target))
                } else {
                    by_directory(&a.target).cmp(&by_directory(&b.target))
                }
            })
        });
    }
    // Which of each step's directories an earlier step makes, found first (by their bytes:
    // they are built from normalised targets), then dropped: a first apply has a chain of
    // directories for every link.
    let mut made: std::collections::HashSet<&std::ffi::OsStr, crate::state::PathHash> =
        Default::default();
    let mut first_to_make = Vec::new();
    for step in steps.iter() {
        match &step.action {
            Action::Create { mkdirs } => {
                first_to_make.extend(mkdirs.iter().map(|dir| made.insert(dir.as_os_str())));
            }
            // An unfold makes its directory, and those inside it, before anything below.
            Action::Unfold(unfolding) => {
                made.insert(step.target.as_os_str());
                made.extend(unfolding.dirs.iter().map(|dir| dir.as_os_str()));
            }
            _ => {}
        }
    }
    drop(made);
    let mut first_to_make = first_to_make.into_iter();
    for step in steps {
        if let Action::Create { mkdirs } = &mut step.action
            && !mkdirs.is_empty()
        {
            mkdirs.retain(|_| first_to_make.next().unwrap_or(true));
        }
    }
}

/// The part of a source before its first glob character, up to a `/`: the directory a glob's
/// matches are in (the whole source when it is no glob).
fn literal_part(source: &str) -> &str {
    match source.find(['*', '?', '[', '{']) {
        Some(at) => source[..at].rsplit_once('/').map_or("", |(dir, _)| dir),
        None if source == "." => "",
        None => source,
    }
}

/// A step for each entry whose `when` condition does not hold here, so status can show it.
fn skipped_entries(manifest: &Manifest) -> impl Iterator<Item = Step> + '_ {
    manifest.entries.iter().filter_map(|entry| {
        let why = entry.skip.as_ref()?;
        Some(Step::new(
            entry.target.clone(),
            manifest.repo.join(&entry.source),
            entry.method,
            LinkState::Skipped,
            Action::None,
            Reason::NotOnThisMachine {
                why: Box::new(why.as_str().into()),
            },
            entry.on_conflict,
        ))
    })
}
