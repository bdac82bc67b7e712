//! The plan as a value: what the planner decided for each target ([`Step`]: its [`LinkState`],
//! the [`Action`] to take, the [`Conflict`] in the way and the [`Reason`] why), and the
//! [`Note`]s worth telling. Everything here is data; `report` turns it into words.

use crate::manifest::{Method, Policy, Style};
use crate::paths;
use crate::paths::SharedPath;
use crate::state::{DirId, Record, RecordRef, StateFileProblem};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use thin_vec::ThinVec;

/// How a run was asked to behave, beyond the manifest.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--on-conflict`: replaces every entry's policy.
    pub on_conflict: Option<Policy>,
    /// `--no-prune` sets this to false.
    pub prune: bool,
    /// The time that names this run's backup set.
    pub now: SystemTime,
    /// The backup set of an interrupted run this one finishes: its backups go there too, so
    /// one `restore` puts them all back.
    pub resume_backup_set: Option<PathBuf>,
    /// Look for dead links into the repository that dotlink did not make (`status`, `clean`).
    pub dead_links: bool,
    /// Look at the directories an older dotlink recorded without an identity (`Plan::identify`):
    /// for a run that writes its state.
    pub identify_dirs: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            on_conflict: None,
            prune: true,
            now: SystemTime::now(),
            resume_backup_set: None,
            dead_links: false,
            identify_dirs: false,
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
    /// Reached through a directory link into the repository, as GNU Stow folds directories;
    /// `apply` unfolds it into a real directory of links.
    Folded,
}

impl LinkState {
    pub const ALL: [LinkState; 9] = [
        LinkState::Ok,
        LinkState::Missing,
        LinkState::Wrong,
        LinkState::Conflict,
        LinkState::Dangling,
        LinkState::Orphan,
        LinkState::Diverged,
        LinkState::Skipped,
        LinkState::Folded,
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
            LinkState::Folded => "folded",
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
    /// Something that is not a directory is where a parent directory must be. `clearable`
    /// when `backup` or `overwrite` may clear it (it is in the home, not the home itself, and
    /// not in the repository).
    ParentNotDirectory {
        #[serde(with = "paths::serde_path")]
        at: PathBuf,
        why: NotADirectory,
        clearable: bool,
    },
    /// What is at the target is `of`, or lies in it, under another name, as a bind mount
    /// makes: the home, the repository, one of dotlink's own directories or one above them,
    /// or the target's own source. No policy replaces it.
    AnotherName {
        #[serde(with = "paths::serde_path")]
        of: PathBuf,
    },
    /// The target's path is longer than the system allows.
    PathTooLong,
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
                | Conflict::ParentNotDirectory {
                    clearable: true,
                    ..
                }
        )
    }
}

/// Why something on the way to a target is not the directory it needs to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotADirectory {
    File,
    SymlinkToNonDirectory {
        #[serde(with = "paths::serde_path")]
        points_to: PathBuf,
    },
    DanglingSymlink,
    Unreadable {
        error: String,
    },
}

/// Why a step is what it is. Its payloads are one word each (a step is held per target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Nothing worth saying: the right link, or nothing there yet.
    Plain,
    /// A hard link sharing its source's inode.
    SharesInode,
    /// The right source, spelled in the other style.
    Respell { stored_absolute: bool, style: Style },
    /// A declared source that does not exist, declared at this line and column of the
    /// manifest.
    SourceMissing { line: u32, column: u32 },
    /// A link into the repository at a path that no longer exists.
    PointsToMissing {
        #[serde(with = "paths::serde_path")]
        points_to: SharedPath,
    },
    /// A link dotlink made, or one into the repository, that leads elsewhere.
    PointsElsewhere {
        #[serde(with = "paths::serde_path")]
        points_to: SharedPath,
    },
    /// A hard link to the source where the method is now `symlink`.
    HardLinkToSource,
    /// A hard link dotlink made to another source (`to`), still a second name of it: the
    /// target moved to another entry.
    HardLinkElsewhere {
        #[serde(with = "paths::serde_path")]
        to: SharedPath,
    },
    /// A symlink to the source where the method is now `hardlink`.
    SymlinkToSource,
    /// A directory dotlink made that holds only its own old links.
    OwnDirectory,
    /// A hard link that became a separate copy with the same contents.
    SeparateCopy,
    /// Something is in the way: the step's [`Conflict`] says what.
    InTheWay,
    /// A hard link dotlink made whose source was replaced since: this is the old copy.
    OldCopyOfSource,
    /// A regular file with other contents where a hard link should be.
    EditedCopy,
    /// A link dotlink made that nothing declares now.
    Orphan { source_gone: bool, fate: OrphanFate },
    /// A directory dotlink made that is empty, and that nothing declared needs now.
    EmptyDirectory,
    /// An entry whose `when` does not hold here; `why` is the condition that failed (boxed
    /// twice, to be one word).
    NotOnThisMachine { why: Box<Box<str>> },
    /// Reached through `link`, a folded directory link, which `apply` unfolds.
    Folded {
        #[serde(with = "paths::serde_path")]
        link: SharedPath,
    },
    /// A folded directory link that `apply` unfolds into this many links. `hidden` are the
    /// files the link shows that no entry declares (ignored ones): after the unfold the home no
    /// longer reaches them.
    FoldedLink {
        links: u32,
        #[serde(with = "paths::serde_path::vec")]
        hidden: ThinVec<PathBuf>,
    },
    /// A dead link into the repository that dotlink did not make (`clean` removes it).
    DeadLink,
}

/// What becomes of an orphan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrphanFate {
    /// Removed, since the manifest no longer declares it.
    Pruned,
    /// Left, since pruning is off.
    Kept,
    /// Removed although pruning is off: a declared link needs its place.
    MakesRoom,
    /// Removed by `unlink`.
    Unlinked,
}

/// Something worth telling that is not a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Note {
    /// A state entry that no longer describes anything was dropped.
    Forgot {
        #[serde(with = "paths::serde_path")]
        target: PathBuf,
        why: Forgotten,
    },
    /// The state file could not be used.
    StateFile(StateFileProblem),
    /// An interrupted run left a journal that the next writing run recovers.
    JournalPending,
    /// Dead links into the repository that dotlink did not make; `clean` removes them.
    DeadLinks { count: usize },
    /// The repository moved: the state recorded at its old place was taken over.
    RepositoryMoved {
        #[serde(with = "paths::serde_path")]
        from: PathBuf,
        #[serde(with = "paths::serde_path")]
        to: PathBuf,
    },
}

/// Why a recorded link was forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Forgotten {
    Gone,
    Changed,
    OnlyCopy,
    /// The target now lies in the repository (it moved there): what is there is the
    /// repository's.
    InRepository,
    /// The target is the home directory, or holds it: never dotlink's to remove.
    HoldsTheHome,
    /// A directory on the target's way is now a symlink (the user moved it), and the link's
    /// relative text, read from where the target really is, leads elsewhere: it cannot be told
    /// from a link dotlink did not make (another checkout's, of the same shape).
    LeadsElsewhere,
}

/// What the applier does for one target. Its payloads are one word each (lists are `ThinVec`s,
/// rare payloads boxed): an action is held in every step, and most are `None` or `Create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Nothing to do.
    None,
    /// Make the link where nothing is, creating `mkdirs` (top first) before it.
    Create { mkdirs: DirChain },
    /// Put the link in place of what is there, atomically.
    Replace { displace: Box<Displace> },
    /// Remove a link dotlink made, then the directories in `rmdirs` it made for it, deepest
    /// first, while they are empty and still the directories it made.
    Remove { rmdirs: ThinVec<MadeDir> },
    /// Remove a directory dotlink made, now empty (its target), that nothing declared needs:
    /// left by a run stopped before its links were made, or by links removed by hand. Only
    /// while it is still the directory the planner saw (the step's `seen`) and empty.
    RemoveDir,
    /// Move away (`backup`) or remove (`overwrite`) a file that stands where a directory of
    /// later links must be; the links below it follow as `Create` steps.
    Clear { displace: Box<Displace> },
    /// Replace a folded directory link with a real directory, built beside it and swapped in
    /// at once.
    Unfold(Box<Unfolding>),
    /// Made by the `Unfold` of the folded directory link `by`.
    Unfolded {
        #[serde(with = "paths::serde_path")]
        by: SharedPath,
    },
    /// Leave the target as it is (a conflict under `skip`, an orphan with pruning off).
    Leave,
    /// A conflict that stops the whole run under `fail`, or that no policy can resolve.
    Block,
}

/// The directories a new link needs made, top first. The links of one directory share one
/// list: a first apply plans the same list for every link of a new directory (`order` then
/// leaves it to the first that runs), and a list each was 40 bytes a link, allocated and
/// freed during planning, which glibc kept resident (4 MB at 100,000 links).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirChain(Option<Arc<ThinVec<SharedPath>>>);

impl DirChain {
    pub fn new(dirs: ThinVec<SharedPath>) -> DirChain {
        DirChain((!dirs.is_empty()).then(|| Arc::new(dirs)))
    }

    /// Keep the directories `keep` says, asked once for each, in order; a list kept whole
    /// stays shared, and a list emptied holds nothing (both with nothing allocated: `order`
    /// asks this of every new link).
    pub fn retain(&mut self, mut keep: impl FnMut(&SharedPath) -> bool) {
        // The directories kept, once one is not.
        let mut kept: Option<ThinVec<SharedPath>> = None;
        for (i, dir) in self.iter().enumerate() {
            match (keep(dir), &mut kept) {
                (true, Some(kept)) => kept.push(dir.clone()),
                (false, None) => kept = Some(self[..i].iter().cloned().collect()),
                _ => {}
            }
        }
        if let Some(dirs) = kept {
            *self = DirChain::new(dirs);
        }
    }
}

impl std::ops::Deref for DirChain {
    type Target = [SharedPath];

    fn deref(&self) -> &[SharedPath] {
        self.0.as_deref().map_or(&[], |dirs| &dirs[..])
    }
}

impl Serialize for DirChain {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        paths::serde_path::vec::serialize(self, serializer)
    }
}

/// A directory dotlink made, to remove once it is empty: its path, and the device and inode
/// the state records for it (none when an older dotlink recorded it), which must still be what
/// is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MadeDir {
    #[serde(with = "paths::serde_path")]
    pub path: PathBuf,
    #[serde(skip)]
    pub id: Option<DirId>,
}

/// What an [`Action::Unfold`] builds: the directories `dirs` (top first) and the `links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unfolding {
    #[serde(with = "paths::serde_path::vec")]
    pub dirs: Box<[PathBuf]>,
    pub links: Box<[Record]>,
}

impl Action {
    /// `Create`, making `mkdirs` first.
    pub fn create(mkdirs: DirChain) -> Action {
        Action::Create { mkdirs }
    }

    /// `Replace`, displacing what is there as `displace` says.
    pub fn replace(displace: Displace) -> Action {
        Action::Replace {
            displace: Box::new(displace),
        }
    }

    /// `Remove`, with no directories to remove after it (yet).
    pub fn remove() -> Action {
        Action::Remove {
            rmdirs: ThinVec::new(),
        }
    }

    /// Whether executing this changes the filesystem.
    pub fn changes(&self) -> bool {
        matches!(
            self,
            Action::Create { .. }
                | Action::Replace { .. }
                | Action::Remove { .. }
                | Action::RemoveDir
                | Action::Clear { .. }
                | Action::Unfold { .. }
        )
    }

    /// What becomes of what is in the way, for an action that displaces it.
    pub fn displace(&self) -> Option<&Displace> {
        match self {
            Action::Replace { displace } => Some(displace),
            Action::Clear { displace } => Some(displace),
            _ => None,
        }
    }

    /// Where what is in the way goes, when the action backs it up.
    pub fn backup(&self) -> Option<&PathBuf> {
        match self.displace()? {
            Displace::Backup { to } => Some(to),
            _ => None,
        }
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

/// What the planner saw at a path it plans to replace, clear or remove. The applier checks
/// that it is still there, just before acting, so a file written since is never replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Seen {
    Symlink {
        #[serde(with = "paths::serde_path")]
        points_to: PathBuf,
    },
    /// A directory, by identity (its modification time changes as this run prunes in it).
    /// One an `overwrite` removes whole carries what was in it too (see [`TreeMark`]).
    Directory {
        dev: u64,
        ino: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tree: Option<TreeMark>,
    },
    /// A file or special file: its identity, and its size and modification time (a file
    /// written anew can get a freed inode number; a rename keeps both).
    Object {
        dev: u64,
        ino: u64,
        len: u64,
        mtime: (i64, i64),
    },
}

/// What was in a directory an `overwrite` removes whole, when it was planned: everything in
/// it, at any depth, by its path and inode, and the newest change time among what is not a
/// directory. Anything written, moved or linked into it since is a path or inode not seen
/// then (a directory moved in under a name seen holds other inodes), or has a newer change
/// time (this run's own prunes in it only take entries away), and the directory is then left
/// as it is: it holds something the plan never saw. Journalled, so that recovery finishes
/// only a removal of what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct TreeMark {
    /// A hash of each path below the directory with its inode, sorted.
    names: Vec<u64>,
    newest: (i64, i64),
}

impl TreeMark {
    /// The mark of the tree at `dir`. What goes between its listing and a look at it (a lock
    /// file an application removes) is not in it; `None` when any of it cannot be read.
    pub fn of(dir: &std::path::Path) -> Option<TreeMark> {
        use std::hash::{BuildHasher, BuildHasherDefault};
        use std::os::unix::fs::MetadataExt;
        let hasher = BuildHasherDefault::<std::hash::DefaultHasher>::default();
        let mut mark = TreeMark {
            names: Vec::new(),
            newest: (i64::MIN, 0),
        };
        let vanished = |e: &walkdir::Error| {
            e.io_error()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        };
        for entry in walkdir::WalkDir::new(dir).min_depth(1) {
            let (meta, entry) = match entry.and_then(|entry| Ok((entry.metadata()?, entry))) {
                Ok(found) => found,
                Err(e) if vanished(&e) => continue,
                Err(_) => return None,
            };
            // By the path below the directory: it is looked at again under another name.
            let below = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            mark.names.push(hasher.hash_one((below, meta.ino())));
            if !meta.is_dir() {
                mark.newest = mark.newest.max((meta.ctime(), meta.ctime_nsec()));
            }
        }
        mark.names.sort_unstable();
        Some(mark)
    }

    /// Whether the tree at `dir` holds nothing this mark did not see.
    pub fn still_covers(&self, dir: &std::path::Path) -> bool {
        TreeMark::of(dir).is_some_and(|now| {
            now.newest <= self.newest
                && now
                    .names
                    .iter()
                    .all(|name| self.names.binary_search(name).is_ok())
        })
    }
}

/// The link a target holds once its step is done (which of the two is also the step's
/// `method`). Each is a word: a link is held in each declared step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Link {
    /// A symlink: the path it stores where that is not its default text (`link_text`); none
    /// where it is, the usual case. See [`Step::link_text`].
    Symlink(#[serde(with = "paths::serde_path::option")] Option<SharedPath>),
    /// A hard link: the device and inode it shares with its source. Boxed, as most links are
    /// symlinks.
    Hardlink(Option<Box<(u64, u64)>>),
}

impl Link {
    /// For a symlink, its text of its own (see [`Link::Symlink`]).
    pub fn own_text(&self) -> Option<&SharedPath> {
        match self {
            Link::Symlink(own) => own.as_ref(),
            Link::Hardlink(_) => None,
        }
    }

    /// For a hard link, the device and inode it shares with its source.
    pub fn inode(&self) -> Option<(u64, u64)> {
        match self {
            Link::Hardlink(inode) => inode.as_deref().copied(),
            Link::Symlink(_) => None,
        }
    }
}

/// One target and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    #[serde(with = "paths::serde_path")]
    pub target: SharedPath,
    #[serde(with = "paths::serde_path")]
    pub source: SharedPath,
    pub method: Method,
    pub state: LinkState,
    /// What is in the way and what is at the target now ([`Step::conflict`], [`Step::seen`]):
    /// one box, as most steps have neither, and a step is held per target.
    detail: Option<Box<StepDetail>>,
    pub action: Action,
    pub reason: Reason,
    pub policy: Policy,
    /// The manifest declares this target (false for orphans).
    pub declared: bool,
    /// The link the target holds once the step is done (declared targets only).
    pub link: Option<Link>,
    /// For hard links: how many names the target's inode has now.
    pub link_count: Option<NonZeroU32>,
    /// The package the target comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<Arc<String>>,
}

/// What few steps have (see [`Step::conflict`] and [`Step::seen`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
struct StepDetail {
    conflict: Option<Conflict>,
    seen: Option<Seen>,
}

impl Step {
    /// What is in the way, for a step with a conflict.
    pub fn conflict(&self) -> Option<&Conflict> {
        self.detail.as_ref()?.conflict.as_ref()
    }

    /// What is at the target now, for a step that replaces or removes it.
    pub fn seen(&self) -> Option<&Seen> {
        self.detail.as_ref()?.seen.as_ref()
    }

    /// This step with `change` made to its detail; none is held when it is left empty, so
    /// that steps compare by what they say.
    fn with_detail(mut self, change: impl FnOnce(&mut StepDetail)) -> Step {
        let mut detail = self.detail.take().map(|d| *d).unwrap_or_default();
        change(&mut detail);
        if detail.conflict.is_some() || detail.seen.is_some() {
            self.detail = Some(Box::new(detail));
        }
        self
    }

    /// A step that is not for a declared link (an orphan, a clear, a skipped entry); the
    /// `with_*` methods add the rest.
    pub fn new(
        target: impl Into<SharedPath>,
        source: impl Into<SharedPath>,
        method: Method,
        state: LinkState,
        action: Action,
        reason: Reason,
        policy: Policy,
    ) -> Step {
        Step {
            target: target.into(),
            source: source.into(),
            method,
            state,
            detail: None,
            action,
            reason,
            policy,
            declared: false,
            link: None,
            link_count: None,
            package: None,
        }
    }

    /// Declared by the manifest; the target holds `link` once done (none when it cannot be
    /// made).
    pub fn declaring(mut self, link: Option<Link>) -> Step {
        self.declared = true;
        self.link = link;
        self
    }

    pub fn with_conflict(self, conflict: Conflict) -> Step {
        self.with_detail(|d| d.conflict = Some(conflict))
    }

    pub fn seeing(self, seen: Option<Seen>) -> Step {
        self.with_detail(|d| d.seen = seen)
    }

    pub fn with_link_count(mut self, count: u64) -> Step {
        // No filesystem allows four billion names for one file. A count of none (a name that
        // exists has one) is not given.
        self.link_count = NonZeroU32::new(u32::try_from(count).unwrap_or(u32::MAX));
        self
    }

    /// What the link this step leaves at its target holds (declared targets only): for a
    /// symlink the path it stores, derived where it is the default text; for a hard link its
    /// source.
    pub fn link_text(&self) -> Option<Cow<'_, Path>> {
        let link = self.link.as_ref()?;
        Some(match self.method {
            Method::Symlink => crate::link_text::text(link.own_text(), &self.target, &self.source),
            Method::Hardlink => Cow::Borrowed(&*self.source),
        })
    }

    /// The state record for the link this step leaves at its target (declared targets only).
    pub fn record(&self) -> Option<RecordRef<'_>> {
        let link = self.link.as_ref()?;
        Some(RecordRef {
            target: &self.target,
            source: &self.source,
            method: self.method,
            own_text: link.own_text().filter(|_| self.method == Method::Symlink),
            inode: link.inode(),
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
    /// Link records that no longer describe anything and are dropped.
    #[serde(with = "paths::serde_path::vec")]
    pub forget: Vec<PathBuf>,
    /// Directory records that no longer describe anything and are dropped. Kept apart from
    /// the links': a folded link's record and a directory's may name one path (a link
    /// replaced by a directory), and dropping one must not drop the other.
    #[serde(with = "paths::serde_path::vec")]
    pub forget_dirs: Vec<PathBuf>,
    /// Directories an older dotlink recorded without an identity (taken by their names), for a
    /// run that writes its state: with the identity of the directory there now, recorded so
    /// later runs take only that directory for dotlink's; or with none where nothing is there,
    /// and the record is dropped (a directory made there later is not dotlink's). And those
    /// recorded without a birth time, with the identity of the same directory now, its birth
    /// time known.
    #[serde(skip)]
    pub identify: Vec<(PathBuf, Option<DirId>)>,
    /// Things worth saying that are not steps (stale state, damaged state file, …).
    pub notes: Vec<Note>,
    /// Where this run's backups go (empty when it makes none).
    #[serde(with = "paths::serde_path")]
    pub backup_set: PathBuf,
    /// Dead links into the repository that dotlink did not make, when they were looked for.
    pub dead_links: Vec<super::clean::DeadLink>,
}

impl Plan {
    /// A conflict under `fail` exists: nothing at all may change.
    pub fn halted(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.action, Action::Block) && s.policy == Policy::Fail)
    }

    /// Whether some step is blocked (under `fail`, or by a conflict no policy resolves).
    pub fn blocked(&self) -> bool {
        self.steps.iter().any(|s| matches!(s.action, Action::Block))
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

// A plan holds a step for every target: keep one small.
const _: () = assert!(std::mem::size_of::<Step>() <= 88);

#[cfg(test)]
mod tests {
    use super::TreeMark;
    use std::fs;

    /// `retain` asks about each directory once, in order, and keeps what it is told; a list
    /// kept whole is still the shared one.
    #[test]
    fn a_directory_chain_keeps_what_it_is_told_and_stays_shared_when_whole() {
        use super::{DirChain, SharedPath};
        let chain = |dirs: &[&str]| {
            DirChain::new(
                dirs.iter()
                    .map(|d| SharedPath::from(std::path::Path::new(d)))
                    .collect(),
            )
        };
        let dirs = |c: &DirChain| {
            c.iter()
                .map(|d| d.to_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        let all = chain(&["/h/a", "/h/a/b", "/h/a/b/c"]);
        for (answers, left) in [
            ([true, true, true], vec!["/h/a", "/h/a/b", "/h/a/b/c"]),
            ([false, true, true], vec!["/h/a/b", "/h/a/b/c"]),
            ([true, false, true], vec!["/h/a", "/h/a/b/c"]),
            ([false, false, false], vec![]),
        ] {
            let mut shared = all.clone();
            let mut asked = Vec::new();
            shared.retain(|d| {
                asked.push(d.to_str().unwrap().to_string());
                answers[asked.len() - 1]
            });
            assert_eq!(asked, dirs(&all));
            assert_eq!(dirs(&shared), left);
            let whole = answers.iter().all(|a| *a);
            assert_eq!(std::ptr::eq(&shared[..], &all[..]), whole);
        }
        assert_eq!(chain(&[]), DirChain::default());
    }

    /// What a run's own prune takes away is covered; anything moved in is not, however old
    /// what it holds (a directory's rename leaves its files' change times as they were), and
    /// even when something else went at the same time.
    #[test]
    fn a_tree_mark_sees_what_is_moved_in_even_when_something_went() {
        let tmp = tempfile::tempdir().unwrap();
        let (d, old) = (tmp.path().join("d"), tmp.path().join("old"));
        fs::create_dir_all(d.join("sub")).unwrap();
        fs::write(d.join("a"), "a").unwrap();
        std::os::unix::fs::symlink("elsewhere", d.join("sub/own-link")).unwrap();
        fs::create_dir_all(old.join("deeper")).unwrap();
        fs::write(old.join("deeper/c"), "old c").unwrap();
        fs::create_dir(tmp.path().join("empty")).unwrap();
        let mark = TreeMark::of(&d).unwrap();
        assert!(mark.still_covers(&d));
        // Looked at again where the step swapped it out of the way.
        let swapped = tmp.path().join(".d.dotlink-tmp");
        fs::rename(&d, &swapped).unwrap();
        assert!(mark.still_covers(&swapped));
        fs::rename(&swapped, &d).unwrap();
        fs::remove_file(d.join("sub/own-link")).unwrap();
        assert!(mark.still_covers(&d), "a prune only takes names away");
        fs::rename(&old, d.join("old")).unwrap();
        assert!(!mark.still_covers(&d), "a directory of old files moved in");
        fs::rename(d.join("old"), &old).unwrap();
        assert!(mark.still_covers(&d));
        fs::rename(tmp.path().join("empty"), d.join("sub/empty")).unwrap();
        assert!(!mark.still_covers(&d), "an empty directory moved in");
        fs::remove_dir(d.join("sub/empty")).unwrap();
        // A directory moved in under a name seen, holding files of the names seen, made before
        // the mark (old change times): other inodes.
        fs::create_dir_all(tmp.path().join("saved/sub")).unwrap();
        fs::write(tmp.path().join("saved/sub/own-link"), "saved long ago").unwrap();
        let mark = TreeMark::of(&d).unwrap();
        fs::remove_dir_all(d.join("sub")).unwrap();
        fs::rename(tmp.path().join("saved/sub"), d.join("sub")).unwrap();
        assert!(
            !mark.still_covers(&d),
            "a directory moved in under a name seen"
        );
        // Past the filesystem clock's tick (a few milliseconds), as any edit after planning is.
        std::thread::sleep(std::time::Duration::from_millis(50));
        fs::write(d.join("a"), "changed in place").unwrap();
        assert!(!mark.still_covers(&d), "a file written in place");
    }
}
