//! The planner's working state for one run, built from all its inputs in one place, and the
//! helpers every decision shares: making a step, a conflict under the entry's policy, the
//! relative spelling of a source, and naming this run's backup set.

use super::inspect::{self, Dir, Dirs, Found, Looker};
use super::model::{Action, Conflict, DirChain, Displace, Link, LinkState, Reason, Seen, Step};
use crate::error::Result;
use crate::link_text;
use crate::manifest::{LinkSpec, Manifest, Method, Policy};
use crate::paths;
use crate::paths::SharedPath;
use crate::state::{PathHash, PathMap, PathSet, Record, State, backup};
use std::cell::{OnceCell, RefCell};
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where this run's backups go, and the time that names its set.
pub(super) struct BackupNaming<'a> {
    pub dir: &'a Path,
    pub now: SystemTime,
    /// The set of the interrupted run this one finishes, if it made backups.
    pub resume: Option<&'a Path>,
}

/// Everything the planner decides from.
pub(super) struct Inputs<'a> {
    pub repo: &'a Path,
    pub home: &'a Path,
    pub state: &'a State,
    /// The directories on the way to targets, as resolved so far.
    pub dirs: Dirs,
    /// Orphans that are still as dotlink made them, so removing them loses nothing.
    pub removable: PathSet,
    /// `None` when the run makes no backups (`unlink`).
    pub backups: Option<BackupNaming<'a>>,
    /// dotlink's state directory.
    pub state_dir: &'a Path,
}

pub(super) struct Planner<'a> {
    pub(super) repo: &'a Path,
    pub(super) home: &'a Path,
    pub(super) state: &'a State,
    pub(super) removable: PathSet,
    backups: Option<BackupNaming<'a>>,
    /// This run's backup set, and whether it is new (nothing was there when it was named).
    backup_set: OnceCell<(PathBuf, bool)>,
    /// The backups a resumed set already holds, as its index (completed by recovery) names
    /// them: no new backup goes inside one of them.
    resumed_backups: OnceCell<HashSet<OsString, PathHash>>,
    /// In a resumed set, the directories above the places this plan has given out: no backup
    /// goes where one of them is.
    dirs_above_taken: RefCell<HashSet<OsString, PathHash>>,
    /// Backup destinations this plan has given out, by their bytes: each is made by
    /// [`backup::destination`] from a normalised target, so one place has one spelling.
    backups_taken: RefCell<HashSet<OsString, PathHash>>,
    pub(super) dirs: Dirs,
    pub(super) looker: Looker,
    /// The home, the repository and dotlink's own directories by device and inode, for what
    /// is found in the way of a target.
    pub(super) protected: super::aliases::Protected<'a>,
    /// What is at the target of the spec being planned, when it was looked at ahead of time
    /// (by the survey, `plan::survey`); only ever for the spec's own target.
    pub(super) ahead: Option<Found>,
    /// What the decision about the spec being planned saw at its target, when that is not a
    /// symlink (kept without copying a link text): a step that replaces it must find exactly
    /// that when it is carried out.
    seen_at_target: Option<Seen>,
    /// The state's record for the target of the spec being planned (by the spec's own
    /// shared path), looked up once for all its decisions.
    recorded: Option<(SharedPath, Option<&'a Record>)>,
    /// Builds relative link texts, once per pair of directories.
    texts: link_text::Texts,
    /// The last (first missing directory, target's directory, the directories to make between
    /// them): the links of a new directory share one chain's paths, as a first apply plans a
    /// chain for each link (`order` then drops the repeats).
    chain_memo: Option<(PathBuf, PathBuf, DirChain)>,
    /// Orphan links inside directories that are replaced as a whole.
    pub(super) emptied: PathSet,
    /// Files in the way of directories that links need, cleared by the policy.
    pub(super) clears: Vec<Step>,
    /// Each file in the way of directories that links need, with the strictest policy of
    /// those links: it alone decides whether the file is cleared, and how (see
    /// [`Planner::note_in_the_way`]).
    in_the_way: PathMap<Policy>,
}

/// The directories above `place` inside `set`, nearest first (not the set itself).
fn dirs_in_set<'p>(set: &'p Path, place: &'p Path) -> impl Iterator<Item = &'p Path> {
    paths::ancestors(place)
        .skip(1)
        .take_while(move |dir| paths::below(dir, set).is_some_and(|r| !r.as_os_str().is_empty()))
}

impl<'a> Planner<'a> {
    pub(super) fn new(inputs: Inputs<'a>) -> Self {
        let mut dirs = inputs.dirs;
        dirs.set_removed(inputs.removable.clone());
        let own = [
            Some(inputs.state_dir),
            inputs.backups.as_ref().map(|b| b.dir),
        ];
        let protected =
            super::aliases::Protected::new(inputs.home, inputs.repo, own.into_iter().flatten());
        Planner {
            repo: inputs.repo,
            home: inputs.home,
            state: inputs.state,
            dirs,
            removable: inputs.removable,
            backups: inputs.backups,
            backup_set: OnceCell::new(),
            resumed_backups: OnceCell::new(),
            dirs_above_taken: RefCell::default(),
            backups_taken: RefCell::default(),
            looker: Looker::default(),
            protected,
            ahead: None,
            seen_at_target: None,
            recorded: None,
            texts: link_text::Texts::default(),
            chain_memo: None,
            emptied: PathSet::default(),
            clears: Vec::new(),
            in_the_way: PathMap::default(),
        }
    }

    /// Before any link is planned: note the policy of a link whose directory has a file (or
    /// anything not a directory) in the way, for that file. Without this, the first of the
    /// links below it to be planned would decide for all of them, and an `overwrite` listed
    /// beside a `backup` could delete what the other would have kept.
    pub(super) fn note_in_the_way(&mut self, spec: &LinkSpec, policy: Policy) {
        let parent = paths::parent(&spec.target).unwrap_or(Path::new("/"));
        if let Dir::Blocked { at, .. } = &*self.dirs.resolve(parent) {
            let strictest = self.in_the_way.entry(at.clone()).or_insert(policy);
            *strictest = strictest.stricter(policy);
        }
    }

    /// The policy that decides about the file in the way at `at`: the strictest of every link
    /// below it, or `policy` when none was noted.
    pub(super) fn policy_in_the_way(&self, at: &Path, policy: Policy) -> Policy {
        self.in_the_way
            .get(at)
            .map_or(policy, |p| p.stricter(policy))
    }

    /// The step for one declared link, under `--on-conflict` if given, else its policy.
    pub(super) fn declared(
        &mut self,
        manifest: &Manifest,
        spec: &LinkSpec,
        record: Option<&'a Record>,
        on_conflict: Option<Policy>,
    ) -> Result<Step> {
        let policy = on_conflict.unwrap_or(spec.on_conflict);
        let at = manifest.entries[spec.entry].source_at;
        self.seen_at_target = None;
        self.recorded = Some((spec.target.clone(), record));
        if spec.source_missing {
            return Ok(self.missing_source(spec, policy, at));
        }
        if spec.target.as_os_str().len() >= libc::PATH_MAX as usize {
            let link = match spec.method {
                Method::Symlink => Link::Symlink(Some(spec.source.clone())),
                Method::Hardlink => Link::Hardlink(None),
            };
            return Ok(self.conflict(spec, policy, Conflict::PathTooLong, link));
        }
        let step = match spec.method {
            Method::Symlink => self.symlink(spec, policy),
            Method::Hardlink => self
                .hardlink(spec, policy)
                .map_err(|e| e.context(crate::manifest::position(&manifest.path, at)))?,
        };
        // Only for steps that replace something: a no-op run looks no more than it must. A
        // link text seen is looked at again rather than copied for every link.
        Ok(match step.action {
            Action::Replace { ref displace } => {
                let seen = match self.seen_at_target.take() {
                    Some(seen) => Some(seen),
                    None => Seen::of(&inspect::look(&step.target)),
                };
                let seen = match **displace {
                    Displace::Delete => seen.map(|s| s.for_removal(&step.target)),
                    _ => seen,
                };
                step.seeing(seen)
            }
            _ => step,
        })
    }

    /// Places that declared links need this run: directories on their way that orphan links
    /// stand in, and orphans inside directories replaced as a whole.
    pub(super) fn needed_places(&self) -> PathSet {
        let mut needed = self.dirs.used.clone();
        needed.extend(self.emptied.iter().cloned());
        needed
    }

    /// The clearing steps planned on the way, and this run's backup set (empty without one).
    pub(super) fn finish(self) -> (Vec<Step>, PathBuf) {
        let set = self.backup_set.into_inner().map(|(set, _)| set);
        (self.clears, set.unwrap_or_default())
    }

    /// The state's record for `spec`'s target.
    pub(super) fn record_of(&self, spec: &LinkSpec) -> Option<&'a Record> {
        match &self.recorded {
            Some((target, record)) if SharedPath::ptr_eq(target, &spec.target) => *record,
            _ => self.state.links.get(&spec.target),
        }
    }

    /// The text of a relative symlink at `target` (in `parent`, as spelled) to `source`, made
    /// in `dir` (the target's real directory), as a [`Link::Symlink`] holds it: none where it
    /// is the default text (`link_text`), as it is unless a symlink is on the way to the
    /// target; else `known`'s where the same (the recorded text of an up-to-date link), or a
    /// copy.
    pub(super) fn relative_text(
        &mut self,
        (target, parent): (&Path, Option<&Path>),
        source: &Path,
        dir: &Path,
        known: Option<&SharedPath>,
    ) -> Option<SharedPath> {
        if parent.is_some_and(|p| p.as_os_str() == dir.as_os_str())
            && matches!(paths::parent_and_name(source), (Some(_), Some(_)))
        {
            return None;
        }
        let Some(text) = self.texts.relative(source, dir) else {
            return Some(paths::relative(source, dir).into());
        };
        // Made elsewhere than where it is spelled: the default text only by chance.
        let text = text.as_os_str().as_bytes().to_vec();
        if self.texts.is_default(&text, target, source) {
            return None;
        }
        Some(match known {
            Some(known) if known.as_os_str().as_bytes() == &text[..] => known.clone(),
            _ => SharedPath::from(Path::new(OsStr::from_bytes(&text))),
        })
    }

    /// `text`, a symlink's text at `target` to `source`, as a [`Link::Symlink`] holds it.
    pub(super) fn own_text(
        &mut self,
        text: &SharedPath,
        target: &Path,
        source: &Path,
    ) -> Option<SharedPath> {
        (!self
            .texts
            .is_default(text.as_os_str().as_bytes(), target, source))
        .then(|| text.clone())
    }

    /// The directories from `first` down to `dir`, top first ([`inspect::missing_chain`]), as
    /// the last link in the same directory was given them.
    pub(super) fn missing_chain(&mut self, first: &Path, dir: &Path) -> DirChain {
        if let Some((f, d, chain)) = &self.chain_memo
            && f.as_os_str() == first.as_os_str()
            && d.as_os_str() == dir.as_os_str()
        {
            return chain.clone();
        }
        let chain = DirChain::new(
            inspect::missing_chain(first, dir)
                .iter()
                .map(|d| SharedPath::from(d.as_path()))
                .collect(),
        );
        self.chain_memo = Some((first.to_path_buf(), dir.to_path_buf(), chain.clone()));
        chain
    }

    /// What is at `target`, given what its directory is: below a directory that does not exist
    /// (or is a link this run removes) there is nothing, whatever the old link leads to.
    pub(super) fn look_below(&mut self, target: &Path, dir: &Dir) -> Found {
        self.look_below_as_recorded(target, dir).with_text()
    }

    /// [`Planner::look_below`], where a link holding the default text the state records for
    /// the target may be a [`Found::DefaultSymlink`], its text not derived: only for the
    /// decision that keeps such a link as it is.
    pub(super) fn look_below_as_recorded(&mut self, target: &Path, dir: &Dir) -> Found {
        match dir {
            Dir::Exists { .. } => self.look(target),
            Dir::Missing { .. } | Dir::Blocked { .. } => Found::Nothing,
        }
    }

    /// What is at the target being planned: the look taken ahead of time, if there is one.
    pub(super) fn look(&mut self, target: &Path) -> Found {
        let found = self
            .ahead
            .take()
            .unwrap_or_else(|| self.looker.look(target));
        if !matches!(found, Found::Symlink(_) | Found::DefaultSymlink { .. }) {
            self.seen_at_target = Seen::of(&found);
        }
        found
    }

    /// This run's backup set, named when the first backup is planned (so a run without
    /// backups never looks at the backup directory).
    fn backup_set(&self) -> &(PathBuf, bool) {
        self.backup_set.get_or_init(|| match &self.backups {
            Some(BackupNaming {
                resume: Some(set), ..
            }) => (set.to_path_buf(), false),
            Some(naming) => (backup::new_set(naming.dir, naming.now), true),
            None => (PathBuf::new(), false),
        })
    }

    /// Where `path` goes in this run's backup set: a name nothing has yet, neither on disk (a
    /// resumed run adds to its interrupted run's set) nor in this plan (checked, although
    /// [`backup::destination`] gives no two targets one place).
    /// In a new set nothing is on disk yet, so only the plan is asked (the applier still makes
    /// sure, just before each move, that nothing has appeared there since).
    pub(super) fn backup_destination(&self, path: &Path) -> PathBuf {
        let (set, new) = self.backup_set();
        let first = backup::destination(set, path, self.home);
        let mut taken = self.backups_taken.borrow_mut();
        let mut above_taken = self.dirs_above_taken.borrow_mut();
        let mut candidate = first.clone();
        let mut n = 1;
        // Inside another backup (one a resumed set holds, filed there by an older dotlink:
        // `~/@root/…` went under `@root/` then; or one this plan gives out with a suffix) a
        // suffix on the last name cannot help: the first name below the set takes it instead,
        // and the rest follows.
        let mut suffix_first_name = false;
        loop {
            let clash = taken.contains(candidate.as_os_str())
                || (!new
                    && (candidate.symlink_metadata().is_ok()
                        || above_taken.contains(candidate.as_os_str())));
            if !clash {
                if *new || !self.inside_another_backup(set, &candidate, &taken) {
                    break;
                }
                suffix_first_name = true;
            }
            n += 1;
            candidate = if suffix_first_name {
                backup::with_first_name_suffix(set, &first, &format!(".{n}"))
            } else {
                paths::with_suffix(&first, &format!(".{n}"))
            };
        }
        if !new {
            above_taken.extend(dirs_in_set(set, &candidate).map(|d| d.as_os_str().to_owned()));
        }
        taken.insert(candidate.as_os_str().to_owned());
        candidate
    }

    /// Whether a directory above `candidate`, inside the resumed set `set`, is a backup: one
    /// the set already holds, or one this plan gives out (`taken`).
    fn inside_another_backup(
        &self,
        set: &Path,
        candidate: &Path,
        taken: &HashSet<OsString, PathHash>,
    ) -> bool {
        let held = self.resumed_backups.get_or_init(|| {
            backup::read_index(set)
                .into_iter()
                .map(|b| b.backup.into_os_string())
                .collect()
        });
        dirs_in_set(set, candidate)
            .any(|dir| held.contains(dir.as_os_str()) || taken.contains(dir.as_os_str()))
    }

    /// A step for a declared link. Its paths are the spec's, or the state's record's where they
    /// are the same byte for byte: never held twice.
    pub(super) fn step(
        &self,
        spec: &LinkSpec,
        policy: Policy,
        state: LinkState,
        action: Action,
        link: impl Into<Option<Link>>,
        reason: Reason,
    ) -> Step {
        let recorded = self.record_of(spec);
        let shared = |recorded: Option<&SharedPath>, path: &SharedPath| match recorded {
            Some(same) if same.as_os_str() == path.as_os_str() => same.clone(),
            _ => path.clone(),
        };
        let mut link = link.into();
        if let (Some(Link::Symlink(Some(own))), Some(recorded)) =
            (&mut link, recorded.and_then(|r| r.own_text.as_ref()))
            && recorded.as_os_str() == own.as_os_str()
        {
            *own = recorded.clone();
        }
        Step::new(
            shared(recorded.map(|r| &r.target), &spec.target),
            shared(recorded.map(|r| &r.source), &spec.source),
            spec.method,
            state,
            action,
            reason,
            policy,
        )
        .declaring(link)
    }

    /// A declared link with something in the way, and what its policy does about it.
    pub(super) fn conflict(
        &self,
        spec: &LinkSpec,
        policy: Policy,
        conflict: Conflict,
        link: Link,
    ) -> Step {
        let action = match policy {
            Policy::Fail => Action::Block,
            Policy::Skip => Action::Leave,
            _ if !conflict.resolvable() => Action::Block,
            Policy::Backup => Action::replace(Displace::Backup {
                to: self.backup_destination(&spec.target),
            }),
            Policy::Overwrite => Action::replace(Displace::Delete),
        };
        self.step(
            spec,
            policy,
            LinkState::Conflict,
            action,
            link,
            Reason::InTheWay,
        )
        .with_conflict(conflict)
    }
}

/// Replace a link: what is there loses nothing.
pub(super) fn replace_link() -> Action {
    Action::replace(Displace::Link)
}
