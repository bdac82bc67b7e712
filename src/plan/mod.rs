//! The planner: compare the links the manifest declares with what is really in the home
//! directory, and decide one step per target. It reads the filesystem and writes nothing; the
//! [`Plan`] it returns is a plain value that can be printed, serialised and tested, and the
//! applier only executes it.
//!
//! Lessons from the bug trackers of GNU Stow, dotbot, dotter and tuckr live here:
//! - a symlink that already resolves to its declared source is `ok` (or `wrong` when spelled in
//!   the other style), whoever made it, so moving from Stow yields no conflicts;
//! - nothing is ever written through a directory that resolves into the repository;
//! - links dotlink made are recognised by the state file and replaced freely, including a
//!   directory link that has to become a real directory when a source changes type;
//! - a stale state entry is forgotten with a note, never an error.

pub mod adopt;
pub mod inspect;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::manifest::{LinkSpec, Manifest, Method, Policy, Style, position};
use crate::paths;
use crate::state::backup;
use crate::state::{PathRefSet, PathSet, Record, RecordRef, State};
use inspect::{Dir, Dirs, FileId, Found, Looker};
use serde::{Deserialize, Serialize};
use std::cell::OnceCell;
use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

/// How a run was asked to behave, beyond the manifest.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--on-conflict`: replaces every entry's policy.
    pub on_conflict: Option<Policy>,
    /// `--no-prune` sets this to false.
    pub prune: bool,
    /// The time that names this run's backup set.
    pub now: SystemTime,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            on_conflict: None,
            prune: true,
            now: SystemTime::now(),
        }
    }
}

/// The state word of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    /// Already the right link.
    Ok,
    /// Nothing there.
    Missing,
    /// A link that is not the right one but can be replaced without losing anything.
    Wrong,
    /// Something that is not dotlink's is in the way.
    Conflict,
    /// A link into the repository at a source that no longer exists.
    Dangling,
    /// A link dotlink made that the manifest no longer declares.
    Orphan,
    /// A hard link that became a separate file with the same contents.
    Diverged,
    /// An entry whose `when` condition does not hold on this machine.
    Skipped,
}

impl LinkState {
    pub const ALL: [LinkState; 8] = [
        LinkState::Ok,
        LinkState::Missing,
        LinkState::Wrong,
        LinkState::Conflict,
        LinkState::Dangling,
        LinkState::Orphan,
        LinkState::Diverged,
        LinkState::Skipped,
    ];

    pub fn word(self) -> &'static str {
        match self {
            LinkState::Ok => "ok",
            LinkState::Missing => "missing",
            LinkState::Wrong => "wrong",
            LinkState::Conflict => "conflict",
            LinkState::Dangling => "dangling",
            LinkState::Orphan => "orphan",
            LinkState::Diverged => "diverged",
            LinkState::Skipped => "skipped",
        }
    }
}

/// What is in the way of a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conflict {
    RegularFile,
    Directory,
    /// A symlink dotlink did not make, pointing outside the repository.
    ForeignSymlink {
        #[serde(with = "paths::serde_path")]
        points_to: PathBuf,
    },
    /// A fifo, socket or device.
    Special,
    /// The target's directory resolves into the repository through `link`: writing there
    /// would write inside the repository.
    InsideRepository {
        #[serde(with = "paths::serde_path")]
        link: PathBuf,
        #[serde(with = "paths::serde_path")]
        resolves_to: PathBuf,
    },
    /// Something that is not a directory is where a parent directory must be.
    ParentNotDirectory {
        #[serde(with = "paths::serde_path")]
        at: PathBuf,
        why: String,
    },
    Unreadable {
        error: String,
    },
}

impl Conflict {
    /// Whether a `backup` or `overwrite` policy can clear it.
    pub fn resolvable(&self) -> bool {
        matches!(
            self,
            Conflict::RegularFile
                | Conflict::Directory
                | Conflict::ForeignSymlink { .. }
                | Conflict::Special
        )
    }

    pub fn describe(&self, home: &Path) -> String {
        let show = |p: &Path| paths::display(p, home);
        match self {
            Conflict::RegularFile => "a regular file is in the way".into(),
            Conflict::Directory => "a directory is in the way".into(),
            Conflict::ForeignSymlink { points_to } => {
                format!(
                    "a symlink dotlink did not make is in the way (→ {})",
                    points_to.display()
                )
            }
            Conflict::Special => "a special file (fifo, socket or device) is in the way".into(),
            Conflict::InsideRepository { link, resolves_to } => format!(
                "{} is a link into the repository ({}); writing here would write inside the repository, so no policy touches it — remove that link (it is only a link) or declare it as a directory link",
                show(link),
                show(resolves_to)
            ),
            Conflict::ParentNotDirectory { at, why } => {
                format!(
                    "{} {why}, but a directory is needed there; move it away first",
                    show(at)
                )
            }
            Conflict::Unreadable { error } => format!("cannot be read: {error}"),
        }
    }
}

/// What the applier does for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Nothing to do.
    None,
    /// Make the link where nothing is, creating `mkdirs` (top first) before it.
    Create {
        #[serde(with = "paths::serde_path::vec")]
        mkdirs: Vec<PathBuf>,
    },
    /// Put the link in place of what is there, atomically.
    Replace { displace: Displace },
    /// Remove a link dotlink made, then the directories in `rmdirs` it made for it, deepest
    /// first, while they are empty.
    Remove {
        #[serde(with = "paths::serde_path::vec")]
        rmdirs: Vec<PathBuf>,
    },
    /// Move away (`backup`) or remove (`overwrite`) a file that stands where a directory of
    /// later links must be; the links below it follow as `Create` steps.
    Clear { displace: Displace },
    /// Leave the target as it is (a conflict under `skip`, an orphan with pruning off).
    Leave,
    /// A conflict that stops the whole run under `fail`, or that no policy can resolve.
    Block,
}

impl Action {
    /// Whether executing this changes the filesystem.
    pub fn changes(&self) -> bool {
        matches!(
            self,
            Action::Create { .. }
                | Action::Replace { .. }
                | Action::Remove { .. }
                | Action::Clear { .. }
        )
    }
}

/// What happens to what a `Replace` displaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Displace {
    /// A link (or an identical copy of the source): replacing it loses nothing.
    Link,
    /// Moved to `to` in this run's backup set first.
    Backup {
        #[serde(with = "paths::serde_path")]
        to: PathBuf,
    },
    /// Removed (`overwrite`).
    Delete,
    /// Directories dotlink created that hold nothing once this run's prunes are done.
    EmptyDirectory,
}

/// The link a target holds once its step is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub method: Method,
    /// For a symlink, the path it stores; for a hard link, the source file.
    #[serde(with = "paths::serde_path")]
    pub contents: PathBuf,
    /// For a hard link, the device and inode it shares with its source.
    pub inode: Option<(u64, u64)>,
}

/// One target and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    #[serde(with = "paths::serde_path")]
    pub target: PathBuf,
    #[serde(with = "paths::serde_path")]
    pub source: PathBuf,
    pub method: Method,
    pub state: LinkState,
    pub conflict: Option<Conflict>,
    pub action: Action,
    /// Why, for people.
    pub detail: String,
    pub policy: Policy,
    /// The manifest declares this target (false for orphans).
    pub declared: bool,
    /// The link the target holds once the step is done (declared targets only).
    pub link: Option<Link>,
    /// For hard links: how many names the target's inode has now.
    pub link_count: Option<u64>,
}

impl Step {
    /// The state record for the link this step leaves at its target (declared targets only).
    pub fn record(&self) -> Option<RecordRef<'_>> {
        let link = self.link.as_ref()?;
        Some(RecordRef {
            target: &self.target,
            source: &self.source,
            method: link.method,
            spelling: (link.method == Method::Symlink).then_some(link.contents.as_path()),
            inode: link.inode,
        })
    }
}

/// Everything a run would do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    #[serde(with = "paths::serde_path")]
    pub manifest: PathBuf,
    #[serde(with = "paths::serde_path")]
    pub repo: PathBuf,
    #[serde(with = "paths::serde_path")]
    pub home: PathBuf,
    /// In execution order: removals first (deepest first), then the rest by target.
    pub steps: Vec<Step>,
    /// State entries that no longer describe anything and are dropped.
    #[serde(with = "paths::serde_path::vec")]
    pub forget: Vec<PathBuf>,
    /// Things worth saying that are not steps (stale state, damaged state file, …).
    pub notes: Vec<String>,
    /// Where this run's backups go (empty when it makes none).
    #[serde(with = "paths::serde_path")]
    pub backup_set: PathBuf,
}

impl Plan {
    /// A conflict under `fail` exists: nothing at all may change.
    pub fn halted(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.action == Action::Block && s.policy == Policy::Fail)
    }

    /// Steps that change the filesystem.
    pub fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action.changes())
    }

    /// Whether everything is as declared: every step `ok`, or skipped by a condition.
    pub fn all_ok(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s.state, LinkState::Ok | LinkState::Skipped))
    }

    /// How many steps are in each state.
    pub fn count(&self, state: LinkState) -> usize {
        self.steps.iter().filter(|s| s.state == state).count()
    }
}

/// Plan the declared links against the filesystem and the recorded state. The specs are
/// consumed as they are planned, so a large tree is never held twice.
pub fn plan(
    manifest: &Manifest,
    specs: Vec<LinkSpec>,
    state: &State,
    options: &Options,
    ctx: &Context,
) -> Result<Plan> {
    let mut planner = Planner::new(&manifest.repo, state, ctx);
    planner.backup_dir = Some((manifest.settings.backup_dir.clone(), options.now));
    planner.prune = options.prune && manifest.settings.prune;

    let declared: PathRefSet = specs.iter().map(|s| s.target.as_path()).collect();
    let mut orphans: Vec<Step> = state
        .links
        .values()
        .filter(|r| !declared.contains(r.target.as_path()))
        .filter_map(|r| planner.orphan(r))
        .collect();
    drop(declared);
    planner.removable = orphans.iter().map(|s| s.target.clone()).collect();
    planner.dirs = Dirs::new(&ctx.home, planner.removable.clone());

    let mut steps = Vec::with_capacity(specs.len() + orphans.len());
    for spec in specs {
        // Owned until the end of this iteration: its paths are freed as soon as it is planned.
        let spec = &spec;
        let policy = options.on_conflict.unwrap_or(spec.on_conflict);
        let at = || position(&manifest.path, manifest.entries[spec.entry].source_at);
        let step = match spec.method {
            _ if spec.source_missing => planner.missing_source(spec, policy, &at()),
            _ if spec.target.as_os_str().len() >= libc::PATH_MAX as usize => planner.conflict(
                spec,
                policy,
                Conflict::Unreadable {
                    error: "the path is longer than this system allows (File name too long)".into(),
                },
                Link {
                    method: spec.method,
                    contents: spec.source.clone(),
                    inode: None,
                },
            ),
            Method::Symlink => planner.symlink(spec, policy),
            Method::Hardlink => planner.hardlink(spec, policy).map_err(|e| {
                Error::input(format!(
                    "{}: {}",
                    position(&manifest.path, manifest.entries[spec.entry].source_at),
                    e.message
                ))
                .with_hint(e.hint.unwrap_or_default())
            })?,
        };
        steps.push(step);
    }

    // Orphans that stand in the way of declared targets go even when pruning is off: they are
    // dotlink's own links, so removing them loses nothing.
    let mut needed = planner.dirs.used.clone();
    needed.extend(planner.emptied.iter().cloned());
    for orphan in &mut orphans {
        if orphan.action == Action::Leave && needed.contains(&orphan.target) {
            orphan.action = Action::Remove { rmdirs: Vec::new() };
            orphan
                .detail
                .push_str("; removed to make room for a declared link");
        }
    }
    steps.extend(orphans);
    steps.append(&mut planner.clears);
    steps.extend(skipped_entries(manifest));
    planner.assign_rmdirs(&mut steps);

    // In place: a stable sort would copy every step into a scratch buffer.
    steps.sort_unstable_by(|a, b| {
        let (ra, rb) = (
            matches!(a.action, Action::Remove { .. }),
            matches!(b.action, Action::Remove { .. }),
        );
        rb.cmp(&ra).then_with(|| {
            if ra {
                b.target.as_os_str().cmp(a.target.as_os_str())
            } else {
                a.target.as_os_str().cmp(b.target.as_os_str())
            }
        })
    });
    // Each missing directory is created once, by the first step that needs it.
    let mut made = PathSet::default();
    for step in &mut steps {
        if let Action::Create { mkdirs } = &mut step.action {
            mkdirs.retain(|dir| made.insert(dir.clone()));
        }
    }

    Ok(Plan {
        manifest: manifest.path.clone(),
        repo: manifest.repo.clone(),
        home: ctx.home.clone(),
        steps,
        forget: planner.forget,
        notes: planner.notes,
        backup_set: planner.backup_set.take().unwrap_or_default(),
    })
}

/// Plan removing every link recorded in `state` that is still as dotlink made it (`unlink`).
pub fn plan_unlink(manifest_path: &Path, repo: &Path, state: &State, ctx: &Context) -> Plan {
    let mut planner = Planner::new(repo, state, ctx);
    planner.prune = true;
    let mut steps: Vec<Step> = state
        .links
        .values()
        .filter_map(|r| planner.orphan(r))
        .collect();
    for step in &mut steps {
        step.detail = match step.state {
            LinkState::Dangling => format!("its source {} is gone", step.source.display()),
            _ => String::new(),
        };
    }
    planner.assign_rmdirs(&mut steps);
    steps.sort_by(|a, b| b.target.as_os_str().cmp(a.target.as_os_str()));
    Plan {
        manifest: manifest_path.to_path_buf(),
        repo: repo.to_path_buf(),
        home: ctx.home.clone(),
        steps,
        forget: planner.forget,
        notes: planner.notes,
        backup_set: planner.backup_set.take().unwrap_or_default(),
    }
}

struct Planner<'a> {
    repo: &'a Path,
    home: &'a Path,
    state: &'a State,
    prune: bool,
    dirs: Dirs,
    looker: Looker,
    /// The last (link directory, source directory, relative path between them).
    relative_memo: Option<(PathBuf, PathBuf, PathBuf)>,
    /// Orphans that are still as dotlink made them, so removing them loses nothing.
    removable: PathSet,
    /// Where backups go and the time that names this run's set; `None` for `unlink`.
    backup_dir: Option<(PathBuf, SystemTime)>,
    backup_set: OnceCell<PathBuf>,
    /// Orphan links inside directories that are replaced as a whole.
    emptied: PathSet,
    /// Files in the way of directories that links need, cleared by the policy.
    clears: Vec<Step>,
    forget: Vec<PathBuf>,
    notes: Vec<String>,
}

impl<'a> Planner<'a> {
    fn new(repo: &'a Path, state: &'a State, ctx: &'a Context) -> Self {
        Planner {
            repo,
            home: &ctx.home,
            state,
            prune: true,
            dirs: Dirs::new(&ctx.home, PathSet::default()),
            looker: Looker::default(),
            relative_memo: None,
            removable: PathSet::default(),
            backup_dir: None,
            backup_set: OnceCell::new(),
            emptied: PathSet::default(),
            clears: Vec::new(),
            forget: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The relative spelling of `source` seen from `dir`. Consecutive links usually share both
    /// directories, so the path arithmetic runs once per pair of directories, not per link.
    fn relative(&mut self, source: &Path, dir: &Path) -> PathBuf {
        let (Some(source_dir), Some(name)) = (source.parent(), source.file_name()) else {
            return paths::relative(source, dir);
        };
        let hit = self.relative_memo.as_ref().is_some_and(|(d, s, _)| {
            d.as_os_str() == dir.as_os_str() && s.as_os_str() == source_dir.as_os_str()
        });
        if !hit {
            let between = paths::relative(source_dir, dir);
            self.relative_memo = Some((dir.to_path_buf(), source_dir.to_path_buf(), between));
        }
        let (_, _, between) = self.relative_memo.as_ref().expect("just set");
        between.join(name)
    }

    /// What is at `target`, given what its directory is: below a directory that does not exist
    /// (or is a link this run removes) there is nothing, whatever the old link leads to.
    fn look_below(&mut self, target: &Path, dir: &Dir) -> Found {
        match dir {
            Dir::Exists { .. } => self.looker.look(target),
            Dir::Missing { .. } | Dir::Blocked { .. } => Found::Nothing,
        }
    }

    /// This run's backup set, named when the first backup is planned (so a run without
    /// backups never looks at the backup directory).
    fn backup_set(&self) -> &Path {
        self.backup_set.get_or_init(|| match &self.backup_dir {
            Some((dir, now)) => backup::new_set(dir, *now),
            None => PathBuf::new(),
        })
    }

    fn show(&self, path: &Path) -> String {
        paths::display(path, self.home)
    }

    fn step(
        &self,
        spec: &LinkSpec,
        policy: Policy,
        state: LinkState,
        action: Action,
        link: impl Into<Option<Link>>,
        detail: String,
    ) -> Step {
        Step {
            target: spec.target.clone(),
            source: spec.source.clone(),
            method: spec.method,
            state,
            conflict: None,
            action,
            detail,
            policy,
            declared: true,
            link: link.into(),
            link_count: None,
        }
    }

    fn conflict(&self, spec: &LinkSpec, policy: Policy, conflict: Conflict, link: Link) -> Step {
        let action = match policy {
            Policy::Fail => Action::Block,
            Policy::Skip => Action::Leave,
            _ if !conflict.resolvable() => Action::Block,
            Policy::Backup => Action::Replace {
                displace: Displace::Backup {
                    to: backup::destination(self.backup_set(), &spec.target, self.home),
                },
            },
            Policy::Overwrite => Action::Replace {
                displace: Displace::Delete,
            },
        };
        let mut step = self.step(
            spec,
            policy,
            LinkState::Conflict,
            action,
            link,
            conflict.describe(self.home),
        );
        step.conflict = Some(conflict);
        step
    }

    /// The target's directory. When a file (or a link that is not a directory) stands where
    /// it needs a directory and the policy is `backup` or `overwrite`, plan clearing it once,
    /// unless it lies inside the repository or outside the home.
    fn resolve_parent(&mut self, spec: &LinkSpec, policy: Policy) -> Rc<Dir> {
        let parent = spec.target.parent().unwrap_or(Path::new("/"));
        let dir = self.dirs.resolve(parent);
        let Dir::Blocked { at, why } = &*dir else {
            return dir;
        };
        let displace = match policy {
            Policy::Backup => Displace::Backup {
                to: backup::destination(self.backup_set(), at, self.home),
            },
            Policy::Overwrite => Displace::Delete,
            Policy::Fail | Policy::Skip => return dir,
        };
        let holder = at.parent().unwrap_or(Path::new("/"));
        let holder_in_repo = match &*self.dirs.resolve(holder) {
            Dir::Exists { real, .. } => real.starts_with(self.repo),
            _ => true,
        };
        if holder_in_repo || !at.starts_with(self.home) || at == self.home {
            return dir;
        }
        let conflict = Conflict::ParentNotDirectory {
            at: at.clone(),
            why: why.clone(),
        };
        self.clears.push(Step {
            target: at.clone(),
            source: spec.source.clone(),
            method: spec.method,
            state: LinkState::Conflict,
            detail: conflict.describe(self.home),
            conflict: Some(conflict),
            action: Action::Clear { displace },
            policy,
            declared: false,
            link: None,
            link_count: None,
        });
        let at = at.clone();
        self.dirs.assume_removed(&at);
        self.dirs.resolve(parent)
    }

    /// A conflict when the target's directory resolves into the repository.
    fn inside_repo(&self, spec: &LinkSpec, dir: &Dir) -> Option<Conflict> {
        match dir {
            Dir::Exists { real, via } if real.starts_with(self.repo) => {
                Some(Conflict::InsideRepository {
                    link: via.clone().unwrap_or_else(|| {
                        spec.target.parent().unwrap_or(Path::new("/")).to_path_buf()
                    }),
                    resolves_to: real.clone(),
                })
            }
            _ => None,
        }
    }

    fn symlink(&mut self, spec: &LinkSpec, policy: Policy) -> Step {
        let parent = spec.target.parent().unwrap_or(Path::new("/"));
        let dir = self.resolve_parent(spec, policy);
        let real_parent = dir.real().unwrap_or(parent).to_path_buf();
        let contents = match spec.style {
            Style::Absolute => spec.source.clone(),
            Style::Relative => self.relative(&spec.source, &real_parent),
        };
        let link = Link {
            method: Method::Symlink,
            contents,
            inode: None,
        };
        let found = self.look_below(&spec.target, &dir);
        // The usual case, a link exactly as dotlink would make it, is settled by comparing
        // bytes; only other spellings are resolved.
        if let Found::Symlink(stored) = &found
            && (*stored == link.contents
                || self.resolves_to(stored, &real_parent, &spec.target, &spec.source))
        {
            if *stored == link.contents || stored.is_absolute() == (spec.style == Style::Absolute) {
                let kept = Link {
                    contents: stored.clone(),
                    ..link
                };
                return self.step(
                    spec,
                    policy,
                    LinkState::Ok,
                    Action::None,
                    kept,
                    String::new(),
                );
            }
            let detail = format!(
                "relink: spelled {}, style is {}",
                if stored.is_absolute() {
                    "absolute"
                } else {
                    "relative"
                },
                spec.style
            );
            return self.step(spec, policy, LinkState::Wrong, replace_link(), link, detail);
        }
        if let Some(conflict) = self.inside_repo(spec, &dir) {
            return self.conflict(spec, policy, conflict, link);
        }
        match found {
            Found::Symlink(stored) => self.other_symlink(spec, policy, &stored, &real_parent, link),
            other => self.not_a_link(spec, policy, other, &dir, link),
        }
    }

    /// A declared link whose source does not exist (reported by `status` only; everything
    /// that links refuses such a manifest). A link still at the target is `dangling`.
    fn missing_source(&mut self, spec: &LinkSpec, policy: Policy, at: &str) -> Step {
        let found = self.looker.look(&spec.target);
        let leads_there = match &found {
            Found::Symlink(stored) => {
                let parent = spec.target.parent().unwrap_or(Path::new("/"));
                let real_parent = self
                    .dirs
                    .resolve(parent)
                    .real()
                    .unwrap_or(parent)
                    .to_path_buf();
                paths::normalize(&real_parent.join(stored)) == spec.source
            }
            _ => false,
        };
        let state = if leads_there
            || self.state.links.contains_key(&spec.target) && found != Found::Nothing
        {
            LinkState::Dangling
        } else {
            LinkState::Missing
        };
        let detail = format!(
            "its source {} was deleted or moved ({at})",
            spec.source.display()
        );
        self.step(spec, policy, state, Action::Block, None, detail)
    }

    /// A symlink at the target that does not resolve to the source.
    fn other_symlink(
        &mut self,
        spec: &LinkSpec,
        policy: Policy,
        stored: &Path,
        real_parent: &Path,
        link: Link,
    ) -> Step {
        let points_to = paths::normalize(&real_parent.join(stored));
        let into_repo = points_to.starts_with(self.repo);
        if into_repo && fs::symlink_metadata(&points_to).is_err() {
            let detail = format!(
                "relink: points to {}, which no longer exists",
                self.show(&points_to)
            );
            return self.step(
                spec,
                policy,
                LinkState::Dangling,
                replace_link(),
                link,
                detail,
            );
        }
        if self.state.links.contains_key(&spec.target) || into_repo {
            let detail = format!("relink: points to {}", self.show(&points_to));
            return self.step(spec, policy, LinkState::Wrong, replace_link(), link, detail);
        }
        self.conflict(
            spec,
            policy,
            Conflict::ForeignSymlink {
                points_to: stored.to_path_buf(),
            },
            link,
        )
    }

    /// Nothing, a file, a directory or something unreadable at the target.
    fn not_a_link(
        &mut self,
        spec: &LinkSpec,
        policy: Policy,
        found: Found,
        dir: &Dir,
        link: Link,
    ) -> Step {
        match found {
            Found::Nothing | Found::NotADirectoryOnTheWay => match dir {
                Dir::Blocked { at, why } => self.conflict(
                    spec,
                    policy,
                    Conflict::ParentNotDirectory {
                        at: at.clone(),
                        why: why.clone(),
                    },
                    link,
                ),
                Dir::Exists { .. } => self.step(
                    spec,
                    policy,
                    LinkState::Missing,
                    Action::Create { mkdirs: Vec::new() },
                    link,
                    String::new(),
                ),
                Dir::Missing { first, .. } => {
                    let parent = spec.target.parent().unwrap_or(Path::new("/"));
                    let mkdirs = inspect::missing_chain(first, parent);
                    let detail = String::new();
                    self.step(
                        spec,
                        policy,
                        LinkState::Missing,
                        Action::Create { mkdirs },
                        link,
                        detail,
                    )
                }
            },
            // A hard link to the source itself (a switch from `method = "hardlink"`): the
            // repository keeps the data, so replacing it loses nothing.
            Found::File(id)
                if fs::metadata(&spec.source).is_ok_and(|m| FileId::of(&m).same_inode(&id)) =>
            {
                let detail = "relink: a hard link to the source; method is symlink".to_string();
                self.step(spec, policy, LinkState::Wrong, replace_link(), link, detail)
            }
            Found::File(_) => self.conflict(spec, policy, Conflict::RegularFile, link),
            Found::Directory => match self.only_own_links(&spec.target) {
                Some(links) => {
                    self.emptied.extend(links);
                    let detail = "relink: replaces a directory dotlink made that holds only its own old links".to_string();
                    let action = Action::Replace {
                        displace: Displace::EmptyDirectory,
                    };
                    self.step(spec, policy, LinkState::Wrong, action, link, detail)
                }
                None => self.conflict(spec, policy, Conflict::Directory, link),
            },
            Found::Special => self.conflict(spec, policy, Conflict::Special, link),
            Found::Unreadable(error) => {
                self.conflict(spec, policy, Conflict::Unreadable { error }, link)
            }
            Found::Symlink(_) => unreachable!("symlinks are handled by the caller"),
        }
    }

    /// Whether `stored`, read from the link at `target`, leads to `source`.
    fn resolves_to(&self, stored: &Path, real_parent: &Path, target: &Path, source: &Path) -> bool {
        let lexical = paths::normalize(&real_parent.join(stored));
        if lexical == source {
            return true;
        }
        // Spelled through other symlinks: let the kernel decide. Only reached for links that
        // differ from the expected spelling, so it costs nothing on the usual path.
        match (fs::canonicalize(target), fs::canonicalize(source)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }

    /// If `dir` is a directory dotlink created holding only links it made (and directories it
    /// created), those links; otherwise `None`.
    fn only_own_links(&self, dir: &Path) -> Option<Vec<PathBuf>> {
        if !self.state.dirs.contains(dir) {
            return None;
        }
        let mut links = Vec::new();
        for entry in walkdir::WalkDir::new(dir).min_depth(1) {
            let entry = entry.ok()?;
            let path = entry.path();
            if entry.file_type().is_dir() {
                if !self.state.dirs.contains(path) {
                    return None;
                }
            } else if self.removable.contains(path) {
                links.push(path.to_path_buf());
            } else {
                return None;
            }
        }
        Some(links)
    }

    fn hardlink(&mut self, spec: &LinkSpec, policy: Policy) -> Result<Step> {
        let source_meta =
            fs::metadata(&spec.source).map_err(|e| Error::io("read source", &spec.source, &e))?;
        let source = FileId::of(&source_meta);
        let link = Link {
            method: Method::Hardlink,
            contents: spec.source.clone(),
            inode: Some((source.dev, source.ino)),
        };
        let parent = spec.target.parent().unwrap_or(Path::new("/"));
        let dir = self.resolve_parent(spec, policy);
        let found = self.look_below(&spec.target, &dir);
        if let Found::File(id) = &found
            && id.same_inode(&source)
        {
            let mut step = self.step(
                spec,
                policy,
                LinkState::Ok,
                Action::None,
                link,
                format!("hard link (link count {})", id.nlink),
            );
            step.link_count = Some(id.nlink);
            return Ok(step);
        }
        let mut step = if let Some(conflict) = self.inside_repo(spec, &dir) {
            self.conflict(spec, policy, conflict, link)
        } else {
            match found {
                Found::File(id) => {
                    let mut step = if inspect::same_contents(&spec.target, &spec.source)
                        .unwrap_or(false)
                    {
                        let detail = "relink: a separate copy with the same contents (an editor saved by replacing the file)";
                        self.step(
                            spec,
                            policy,
                            LinkState::Diverged,
                            replace_link(),
                            link,
                            detail.into(),
                        )
                    } else {
                        let made_by_dotlink =
                            self.state.links.get(&spec.target).and_then(|r| r.inode)
                                == Some((id.dev, id.ino));
                        let mut step = self.conflict(spec, policy, Conflict::RegularFile, link);
                        step.detail = if made_by_dotlink {
                            "the source was replaced since dotlink linked it (a git checkout or an editor's save), so this is the old copy".into()
                        } else {
                            "a regular file with different contents is in the way (edited after it stopped being a hard link?)".into()
                        };
                        step
                    };
                    step.link_count = Some(id.nlink);
                    step
                }
                Found::Symlink(stored) => {
                    let real_parent = dir.real().unwrap_or(parent).to_path_buf();
                    if self.resolves_to(&stored, &real_parent, &spec.target, &spec.source) {
                        let detail = "relink: a symlink to the source; method is hardlink";
                        self.step(
                            spec,
                            policy,
                            LinkState::Wrong,
                            replace_link(),
                            link,
                            detail.into(),
                        )
                    } else {
                        self.other_symlink(spec, policy, &stored, &real_parent, link)
                    }
                }
                other => self.not_a_link(spec, policy, other, &dir, link),
            }
        };
        if step.action.changes() {
            self.check_same_filesystem(spec, &source, &dir)?;
        }
        if let Some(count) = step.link_count {
            step.detail.push_str(&format!(" (link count {count})"));
        }
        Ok(step)
    }

    /// Hard links cannot cross filesystems: compare the source's device with the nearest
    /// existing directory on the way to the target.
    fn check_same_filesystem(&self, spec: &LinkSpec, source: &FileId, dir: &Dir) -> Result<()> {
        let parent = spec.target.parent().unwrap_or(Path::new("/"));
        let existing = match dir {
            Dir::Missing { first, .. } => first.parent().unwrap_or(Path::new("/")),
            _ => parent,
        };
        let Ok(meta) = fs::metadata(existing) else {
            return Ok(());
        };
        if std::os::unix::fs::MetadataExt::dev(&meta) == source.dev {
            return Ok(());
        }
        Err(Error::input(format!(
            "cannot hard-link {} to {}: they are on different filesystems ({} is on device {}, the source on device {})",
            self.show(&spec.target),
            spec.source.display(),
            self.show(existing),
            std::os::unix::fs::MetadataExt::dev(&meta),
            source.dev
        ))
        .with_hint(
            "hard links cannot cross filesystems; use `method = \"symlink\"` for this entry",
        ))
    }

    /// A recorded link the manifest no longer declares (or every recorded link, for
    /// `unlink`). `None` when the record is stale: it is forgotten, with a note.
    fn orphan(&mut self, record: &Record) -> Option<Step> {
        let found = self.looker.look(&record.target);
        // The source is looked at only for a link that is still there.
        let source = || fs::symlink_metadata(&record.source).ok();
        let (ours, source_alive) = match (&found, record.method) {
            (Found::Symlink(stored), Method::Symlink) => {
                let parent = record.target.parent().unwrap_or(Path::new("/"));
                let ours = record.spelling.as_deref() == Some(stored.as_path())
                    || paths::normalize(&parent.join(stored)) == record.source;
                (ours, source().is_some())
            }
            (Found::File(id), Method::Hardlink) => {
                let ours = record.inode == Some((id.dev, id.ino));
                let alive = source().is_some_and(|m| FileId::of(&m).same_inode(id)) && id.nlink > 1;
                (ours, alive)
            }
            _ => (false, false),
        };
        let why = match (&found, ours) {
            (Found::Nothing, _) => Some("it is gone"),
            (_, false) => Some("it was changed since dotlink made it, so it is left alone"),
            (_, true) if record.method == Method::Hardlink && !source_alive => Some(
                "its source is gone or replaced, so this hard link holds the only copy; it is left alone",
            ),
            _ => None,
        };
        if let Some(why) = why {
            self.notes
                .push(format!("forgot {}: {why}", self.show(&record.target)));
            self.forget.push(record.target.clone());
            return None;
        }
        let (state, mut detail) = if source_alive {
            (
                LinkState::Orphan,
                "prune: no longer declared in the manifest".to_string(),
            )
        } else {
            (
                LinkState::Dangling,
                format!(
                    "prune: its source {} was deleted or moved",
                    record.source.display()
                ),
            )
        };
        let action = if self.prune {
            Action::Remove { rmdirs: Vec::new() }
        } else {
            detail = detail.replacen("prune: ", "", 1) + " (kept: pruning is off)";
            Action::Leave
        };
        Some(Step {
            target: record.target.clone(),
            source: record.source.clone(),
            method: record.method,
            state,
            conflict: None,
            action,
            detail,
            policy: Policy::Fail,
            declared: false,
            link: None,
            link_count: None,
        })
    }

    /// Give each removal the directories dotlink created for it that nothing declared still
    /// needs, deepest first; the applier removes them while they are empty.
    fn assign_rmdirs(&self, steps: &mut [Step]) {
        if self.state.dirs.is_empty()
            || !steps
                .iter()
                .any(|s| matches!(s.action, Action::Remove { .. }))
        {
            return;
        }
        // Directories that declared targets need, and declared targets themselves (a
        // directory replaced by a link is removed by that link's step).
        let needed: PathRefSet = steps
            .iter()
            .filter(|s| s.declared)
            .flat_map(|s| s.target.ancestors())
            .collect();
        let assigned: Vec<(usize, Vec<PathBuf>)> = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.action, Action::Remove { .. }))
            .map(|(i, step)| {
                let dirs = step
                    .target
                    .ancestors()
                    .skip(1)
                    .take_while(|d| {
                        self.state.dirs.contains(*d) && !needed.contains(d) && *d != self.home
                    })
                    .map(Path::to_path_buf)
                    .collect();
                (i, dirs)
            })
            .collect();
        for (i, dirs) in assigned {
            if let Action::Remove { rmdirs } = &mut steps[i].action {
                *rmdirs = dirs;
            }
        }
    }
}

/// A step for each entry whose `when` condition does not hold here, so status can show it.
fn skipped_entries(manifest: &Manifest) -> impl Iterator<Item = Step> + '_ {
    manifest.entries.iter().filter_map(|entry| {
        let why = entry.skip.as_ref()?;
        Some(Step {
            target: entry.target.clone(),
            source: manifest.repo.join(&entry.source),
            method: entry.method,
            state: LinkState::Skipped,
            conflict: None,
            action: Action::None,
            detail: format!("not on this machine: {why}"),
            policy: entry.on_conflict,
            declared: false,
            link: None,
            link_count: None,
        })
    })
}

fn replace_link() -> Action {
    Action::Replace {
        displace: Displace::Link,
    }
}
