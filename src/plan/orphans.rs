//! Decisions about recorded links that nothing declares any more (or, for `unlink`, every
//! recorded link): which are still exactly what dotlink made and may go, which were changed or
//! are gone and are forgotten with a note, and which directories dotlink made go with them.

use super::inspect::{self, Dir, Dirs, Found, Looker};
use super::model::{Action, Forgotten, LinkState, MadeDir, Note, OrphanFate, Reason, Seen, Step};
use super::places;
use crate::manifest::{Method, Policy};
use crate::paths;
use crate::state::{DirId, PathHash, PathMap, PathRefSet, PathSet, Record, State};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The orphans of a run, and the stale records it drops.
pub(super) struct Orphans {
    pub steps: Vec<Step>,
    /// Records that no longer describe anything.
    pub forget: Vec<PathBuf>,
    pub notes: Vec<Note>,
}

impl Orphans {
    /// Orphans that are still as dotlink made them, so removing them loses nothing.
    pub fn removable(&self) -> PathSet {
        self.steps.iter().map(|s| s.target.to_path_buf()).collect()
    }
}

/// Look at each recorded link in `records` and decide its fate. A record whose target really
/// lies in the repository `repo` (a repository moved to where links were) is forgotten: what is
/// there now is the repository's, never removed. So is one whose target is the home `home` or
/// holds it (a hand-edited state, or a home that is a link): the home is never dotlink's.
pub(super) fn find<'r>(
    records: impl Iterator<Item = &'r Record>,
    fate: OrphanFate,
    (repo, home): (&Path, &Path),
    dirs: &mut Dirs,
) -> Orphans {
    let real_home = dirs.real_home(home);
    // The repository under another name (a bind mount of a directory of it).
    let protected = super::aliases::Protected::new(home, repo, []);
    let mut looker = Looker::default();
    let mut found = Orphans {
        steps: Vec::new(),
        forget: Vec::new(),
        notes: Vec::new(),
    };
    // In target order: the notes come out the same on every run, and the looker visits
    // directory by directory.
    let mut records: Vec<&Record> = records.collect();
    records.sort_unstable_by(|a, b| a.target.cmp(&b.target));
    for record in records {
        // The target, or (a link) what it leads to: `$HOME` may be a link to the real home.
        let holds_home = |dirs: &mut Dirs| {
            let real = places::identity(dirs, &record.target).0;
            let leads_home = || {
                let parent = paths::parent(&real).unwrap_or(Path::new("/"));
                let lexical = record
                    .text()
                    .filter(|stored| !stored.as_os_str().is_empty())
                    .map(|stored| paths::normalize(&parent.join(stored)));
                // Lexically first, cheap; then as the kernel has it.
                lexical.is_some_and(|to| real_home.starts_with(to))
                    && fs::canonicalize(&real).is_ok_and(|to| real_home.starts_with(to))
            };
            home.starts_with(&record.target) || real_home.starts_with(&real) || leads_home()
        };
        let verdict = if places::in_repository(dirs, &record.target, repo, &protected) {
            Err(Forgotten::InRepository)
        } else if holds_home(dirs) {
            Err(Forgotten::HoldsTheHome)
        } else if leads_elsewhere(dirs, record) {
            Err(Forgotten::LeadsElsewhere)
        } else {
            orphan(record, fate, &mut looker)
        };
        match verdict {
            Ok(step) => found.steps.push(step),
            Err(why) => {
                found.notes.push(Note::Forgot {
                    target: record.target.to_path_buf(),
                    why,
                });
                found.forget.push(record.target.to_path_buf());
            }
        }
    }
    found
}

/// Whether `record` is a symlink whose target is now reached through a symlink on its way and
/// whose relative text, read from there, no longer leads to its source. The text alone would
/// match (a link moved with its directory, or another checkout's link of the same shape), so
/// the link there cannot be told from one dotlink did not make. Recorded targets are real
/// places, so the usual record has no symlink on its way and costs one resolved (cached)
/// parent.
fn leads_elsewhere(dirs: &mut Dirs, record: &Record) -> bool {
    let (real, via) = places::identity(dirs, &record.target);
    if via.is_none() {
        return false;
    }
    let Some(text) = record
        .text()
        .filter(|t| t.is_relative() && !t.as_os_str().is_empty())
    else {
        return false;
    };
    let parent = paths::parent(&real).unwrap_or(Path::new("/"));
    paths::normalize(&parent.join(text)) != *record.source
}

/// The step for one recorded link, or why the record is stale (it is then forgotten).
fn orphan(record: &Record, fate: OrphanFate, looker: &mut Looker) -> Result<Step, Forgotten> {
    let found = looker.look(&record.target);
    // The source is looked at only for a link that is still there.
    let source = || fs::symlink_metadata(&record.source).ok();
    // Dotlink's only while it still holds exactly what dotlink made there.
    let ours = inspect::holds(record, &found);
    let source_alive = match (&found, record.method) {
        (Found::Symlink(_), Method::Symlink) => ours && source().is_some(),
        // Still a second name of its source, or (the source saved anew, by an editor or a
        // checkout) a copy of the same bytes: the repository keeps what it holds either way.
        (Found::File(id), Method::Hardlink) => {
            ours && (inspect::shares_with_source(&record.source, id)
                || same_bytes_elsewhere(&record.source, id, &record.target))
        }
        _ => false,
    };
    match (&found, ours) {
        (Found::Nothing, _) => return Err(Forgotten::Gone),
        (_, false) => return Err(Forgotten::Changed),
        (_, true) if record.method == Method::Hardlink && !source_alive => {
            return Err(Forgotten::OnlyCopy);
        }
        _ => {}
    }
    let state = if source_alive {
        LinkState::Orphan
    } else {
        LinkState::Dangling
    };
    let action = match fate {
        OrphanFate::Kept => Action::Leave,
        _ => Action::remove(),
    };
    let reason = Reason::Orphan {
        source_gone: !source_alive,
        fate,
    };
    Ok(Step::new(
        record.target.clone(),
        record.source.clone(),
        record.method,
        state,
        action,
        reason,
        Policy::Fail,
    )
    .seeing(Seen::of(&found)))
}

/// Whether `source` is a regular file of its own (not a symlink, not the file `id` at `target`
/// under another name) with the same bytes as `target`: then the repository keeps them.
fn same_bytes_elsewhere(source: &Path, id: &inspect::FileId, target: &Path) -> bool {
    fs::symlink_metadata(source)
        .is_ok_and(|m| m.file_type().is_file() && (m.dev(), m.ino()) != (id.dev, id.ino))
        && inspect::same_contents(target, source).unwrap_or(false)
}

/// Orphans that stand in the way of declared targets go even when pruning is off: they are
/// dotlink's own links, so removing them loses nothing. `needed` holds those places.
pub(super) fn make_room(orphans: &mut [Step], needed: &PathSet) {
    for orphan in orphans {
        if orphan.action == Action::Leave && needed.contains(&*orphan.target) {
            orphan.action = Action::remove();
            if let Reason::Orphan { fate, .. } = &mut orphan.reason {
                *fate = OrphanFate::MakesRoom;
            }
        }
    }
}

/// The directories dotlink made that nothing declared needs now (no declared target is one
/// of them or lies in one) and that are empty, or hold only others of them: a step removing
/// each, deepest first, when `remove` (a pruning run, or `unlink`). A run stopped before its
/// links were made leaves such directories (a large run makes all its directories first), and
/// so do dotlink's links removed by hand. Also the records of those gone or no longer the
/// directories dotlink made, to be forgotten: kept, a record would take a later directory
/// given the same inode for dotlink's. One reached through a symlink on its way now, or in the
/// repository, is not where dotlink made it, and is left alone with its record. Only the
/// recorded directories nothing declared needs are looked at, on most runs none; and only those
/// recorded with their identity (an older dotlink's records are identified first, by
/// `identify_legacy_dirs`).
pub(super) fn empty_dirs(
    steps: &[Step],
    state: &State,
    (repo, home): (&Path, &Path),
    remove: bool,
) -> (Vec<Step>, Vec<PathBuf>) {
    let (mut found, mut forget) = (Vec::new(), Vec::new());
    if state.dirs.is_empty() {
        return (found, forget);
    }
    // The directories declared targets lie in, and those above them, by their bytes (targets
    // and recorded directories are normalised; std hashes a path component by component).
    // Targets come directory by directory, and each chain is walked up only to a directory
    // already in the set.
    let mut needed: HashSet<&OsStr, PathHash> = HashSet::default();
    let mut last = None;
    for step in steps.iter().filter(|s| s.declared) {
        let parent = paths::parent(&step.target);
        if parent.is_none() || parent == last {
            continue;
        }
        last = parent;
        let mut dir = parent;
        while let Some(d) = dir.filter(|d| needed.insert(d.as_os_str())) {
            dir = paths::parent(d);
        }
    }
    let mut unneeded: Vec<(&Path, DirId)> = state
        .dirs
        .iter()
        .filter_map(|(dir, id)| Some((dir, id?)))
        .filter(|(dir, _)| !needed.contains(dir.as_os_str()) && !home.starts_with(dir))
        .collect();
    drop(needed);
    if unneeded.is_empty() {
        return (found, forget);
    }
    // A declared target in the place of a directory dotlink made replaces it (that step
    // takes it, while it holds only dotlink's old links).
    let candidates: HashSet<&OsStr, PathHash> =
        unneeded.iter().map(|(dir, _)| dir.as_os_str()).collect();
    let declared: HashSet<&OsStr, PathHash> = steps
        .iter()
        .filter(|s| s.declared)
        .map(|s| s.target.as_os_str())
        .filter(|t| candidates.contains(t))
        .collect();
    unneeded.retain(|(dir, _)| !declared.contains(dir.as_os_str()));
    // Deepest first: a directory's own directories are decided before it.
    unneeded.reverse();
    let mut going = PathSet::default();
    // Where each really is: one reached through a symlink on its way now (a directory above
    // it moved and linked back, or adopted into the repository) is not where dotlink made
    // it, and is left alone, its record too.
    let mut dirs = Dirs::new(home, PathSet::default());
    let protected = super::aliases::Protected::new(home, repo, []);
    for (dir, id) in unneeded {
        match fs::symlink_metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => forget.push(dir.to_path_buf()),
            Ok(_) if !where_made(&mut dirs, dir, repo, &protected) => {}
            Ok(meta) if meta.is_dir() && crate::state::same_dir(Some(id), DirId::of(&meta)) => {
                if remove && holds_only(dir, &going) {
                    going.insert(dir.to_path_buf());
                    let seen = Seen::Directory {
                        dev: meta.dev(),
                        ino: meta.ino(),
                        tree: None,
                    };
                    found.push(
                        Step::new(
                            dir,
                            Path::new(""),
                            Method::Symlink,
                            LinkState::Orphan,
                            Action::RemoveDir,
                            Reason::EmptyDirectory,
                            Policy::Fail,
                        )
                        .seeing(Some(seen)),
                    );
                }
            }
            // Another directory under its name, or something else.
            Ok(_) => forget.push(dir.to_path_buf()),
            // Unreadable: left as it is, and its record too.
            Err(_) => {}
        }
    }
    (found, forget)
}

/// Whether `dir` is reached where it is spelled, with no symlink on its way, and outside the
/// repository (under any of its names).
fn where_made(
    dirs: &mut Dirs,
    dir: &Path,
    repo: &Path,
    protected: &super::aliases::Protected,
) -> bool {
    let parent = paths::parent(dir).unwrap_or(dir);
    matches!(&*dirs.resolve(parent), Dir::Exists { real, via: None } if real.as_os_str() == parent.as_os_str())
        && !places::in_repository(dirs, dir, repo, protected)
}

/// Whether the directory `dir` holds nothing but directories in `going`.
fn holds_only(dir: &Path, going: &PathSet) -> bool {
    fs::read_dir(dir).is_ok_and(|mut entries| {
        entries.all(|e| e.is_ok_and(|e| going.contains(&dir.join(e.file_name()))))
    })
}

/// The directories an older dotlink recorded without an identity (taken by their names), each
/// with the identity of the directory there now, or with none where nothing is there; and
/// those recorded without a birth time, with the directory's now where it is still the one
/// recorded and the filesystem keeps one (see `Plan::identify`). Nothing unless `wanted` (a run
/// that writes its state). A directory is identified only where no symlink below the home
/// leads to it, and outside the repository: one reached through a symlink may be the user's,
/// and taken by its name it is dotlink's only until it goes, not for good.
pub(super) fn identify_legacy_dirs(
    wanted: bool,
    state: &State,
    home: &Path,
    repo: &Path,
) -> Vec<(PathBuf, Option<DirId>)> {
    let mut legacy = state
        .dirs
        .iter()
        .filter(|(_, id)| id.is_none_or(|id| id.born == 0))
        .peekable();
    if !wanted || legacy.peek().is_none() {
        return Vec::new();
    }
    let mut dirs = Dirs::new(home, PathSet::default());
    legacy
        .filter_map(|(dir, recorded)| match fs::symlink_metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && recorded.is_none() => {
                Some((dir.to_path_buf(), None))
            }
            Ok(meta) if meta.is_dir() => match &*dirs.resolve(dir) {
                Dir::Exists { real, via: None } if !real.starts_with(repo) => {
                    let now = DirId::of(&meta);
                    let identified = match recorded {
                        Some(recorded) => now.born != 0 && now.ino == recorded.ino,
                        None => true,
                    };
                    identified.then(|| (dir.to_path_buf(), Some(now)))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Give each removal the directories dotlink created for it that nothing declared still
/// needs, deepest first; the applier removes them while they are empty. Returns the recorded
/// directories found on the way that are no longer the ones dotlink made (another directory
/// under the name, or a symlink above leading elsewhere), whose records are to be dropped: a
/// record kept would take a later directory given the same inode for dotlink's.
pub(super) fn assign_rmdirs(steps: &mut [Step], state: &State, home: &Path) -> Vec<PathBuf> {
    if state.dirs.is_empty()
        || !steps
            .iter()
            .any(|s| matches!(s.action, Action::Remove { .. }))
    {
        return Vec::new();
    }
    // The directories a removal may take with it: those above a removed link, below the home.
    let candidates: PathRefSet = steps
        .iter()
        .filter(|s| matches!(s.action, Action::Remove { .. }))
        .flat_map(|s| s.target.ancestors().skip(1).take_while(|d| *d != home))
        .collect();
    // Those of them that declared targets need, or that are declared targets themselves (a
    // directory replaced by a link is removed by that link's step). Only the candidates are
    // kept: a set of every declared target and its directories was the largest thing a prune
    // held at its peak (a third of a megabyte at 10,000 links).
    let needed: PathRefSet = steps
        .iter()
        .filter(|s| s.declared)
        .flat_map(|s| s.target.ancestors())
        .filter(|d| candidates.contains(d))
        .collect();
    drop(candidates);
    // Whether each directory is still the one dotlink made, looked at once (many removals
    // share their directories). One recorded where something else now stands (another
    // directory under its name, or a symlink above leading elsewhere) is where a removal
    // stops, and its record is stale.
    let mut stale = PathSet::default();
    let mut still_made: PathMap<Option<MadeDir>> = PathMap::default();
    let mut made = |dir: &Path| -> Option<MadeDir> {
        if let Some(known) = still_made.get(dir) {
            return known.clone();
        }
        let made = state.dirs.get(dir).and_then(|id| {
            let meta = fs::symlink_metadata(dir).ok()?;
            if state.dirs.holds(dir, &meta) {
                return Some(MadeDir {
                    path: dir.to_path_buf(),
                    id,
                });
            }
            stale.insert(dir.to_path_buf());
            None
        });
        still_made.insert(dir.to_path_buf(), made.clone());
        made
    };
    let assigned: Vec<(usize, Vec<MadeDir>)> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.action, Action::Remove { .. }))
        .map(|(i, step)| {
            let dirs = step
                .target
                .ancestors()
                .skip(1)
                .take_while(|d| !needed.contains(d) && *d != home)
                .map_while(&mut made)
                .collect();
            (i, dirs)
        })
        .collect();
    for (i, dirs) in assigned {
        if let Action::Remove { rmdirs } = &mut steps[i].action {
            *rmdirs = dirs.into();
        }
    }
    stale.into_iter().collect()
}
