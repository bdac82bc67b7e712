//! Carrying out one step, each change atomic on its own and behind a fault-injection point.
//!
//! A replacement makes the new link under the run's temporary name beside the target, then
//! swaps it with the target in one atomic exchange (`renameat2(RENAME_EXCHANGE)`), so the
//! target is never missing. What came out must be what the planner saw; otherwise it is
//! swapped back and the step fails, "changed since planning". Only then does what came out go
//! to its backup, or away. Where the filesystem cannot exchange, a file is backed up by a
//! second name (a hard link) before the link is renamed over it, and a directory is moved out
//! before the link is renamed in; the target is checked just before either.
//!
//! Nothing here cleans up after a failure: the caller settles a failed step the way recovery
//! settles a crashed one, looking at what is really there.

use super::fault::{self, change};
use super::fsutil;
use crate::error::{Error, Result};
use crate::manifest::Method;
use crate::paths;
use crate::paths::SharedPath;
use crate::plan::{Action, Displace, Link, MadeDir, Step};
use crate::state::backup::BackedUp;
use crate::state::{DirId, Record, dir_id, same_dir};
use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::journal::RunId;

/// What a step did besides its link, for the state and the outcome.
#[derive(Default)]
pub(super) struct Effects {
    /// Directories made, each with its device and inode once made (one that could not be
    /// looked at is not recorded: a record without them would be taken by its name).
    pub created: Vec<(SharedPath, DirId)>,
    pub removed: Vec<PathBuf>,
    pub backup: Option<BackedUp>,
}

impl Effects {
    /// Nothing besides the link to record.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.removed.is_empty() && self.backup.is_none()
    }
}

/// Carry out `step`.
pub(super) fn step(step: &Step, run: &RunId, effects: &mut Effects) -> Result<()> {
    match &step.action {
        Action::Create { mkdirs } => create(step, mkdirs, run, effects),
        Action::Replace { displace } => {
            replace(step, displace, &run.temp_path(&step.target), effects)
        }
        Action::Remove { rmdirs } => remove(step, rmdirs, effects),
        Action::RemoveDir => remove_dir(step, effects),
        Action::Clear { displace } => clear(step, displace, effects),
        Action::Unfold(unfolding) => unfold(
            step,
            &unfolding.dirs,
            &unfolding.links,
            &run.temp_path(&step.target),
            effects,
        ),
        Action::None | Action::Unfolded { .. } | Action::Leave | Action::Block => Ok(()),
    }
}

/// The backup record for `step`'s target moved to `to`.
pub(super) fn backed_up(step: &Step, to: &Path) -> BackedUp {
    BackedUp {
        target: step.target.to_path_buf(),
        backup: to.to_path_buf(),
        source: step.source.to_path_buf(),
    }
}

fn create(step: &Step, mkdirs: &[SharedPath], run: &RunId, effects: &mut Effects) -> Result<()> {
    make_dirs(mkdirs, run, effects)?;
    create_link(step)
}

/// The directories a new link needs (the first half of a [`Action::Create`]), top first, each
/// logged in `run`'s journal with its identity as soon as it is made (see `MadeLog`).
pub(super) fn make_dirs(mkdirs: &[SharedPath], run: &RunId, effects: &mut Effects) -> Result<()> {
    // Room for exactly these: a first apply holds the list of each new directory's first link
    // until it is recorded (a growing list takes four at once).
    effects.created.reserve_exact(mkdirs.len());
    for dir in mkdirs {
        let failed = |what, e: io::Error| Error::io(what, dir, &e);
        fault::point().map_err(|e| failed("create directory", e))?;
        match fs::create_dir(dir) {
            Ok(()) => {}
            // Appeared since the plan was made; a symlink here is never good enough.
            Err(e)
                if e.kind() == io::ErrorKind::AlreadyExists
                    && fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) =>
            {
                continue;
            }
            Err(e) => return Err(failed("create directory", e)),
        }
        // One that cannot be looked at is not recorded: a record without its identity would
        // be taken by its name.
        if let Some(id) = dir_id(dir) {
            if let Err(e) = run.made_dir(dir, id) {
                // Not logged, so a stop would not know it for dotlink's: removed here, made just
                // now and still empty.
                if dir_id(dir) == Some(id) {
                    let _ = fs::remove_dir(dir);
                }
                return Err(failed("log in the journal the new directory", e));
            }
            effects.created.push((dir.clone(), id));
        }
        fault::point().map_err(|e| failed("create directory", e))?;
    }
    Ok(())
}

/// The new link itself (the second half of a [`Action::Create`]), its directory made.
pub(super) fn create_link(step: &Step) -> Result<()> {
    let link = link_of(step)?;
    match change(|| make_link(step, link, &step.target)) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(changed()),
        other => other.map_err(|e| Error::io("create link", &step.target, &e)),
    }
}

/// Put the new link in place of what the planner saw at the target.
fn replace(step: &Step, displace: &Displace, temp: &Path, effects: &mut Effects) -> Result<()> {
    let target = &step.target;
    let link = link_of(step)?;
    if *displace == Displace::Delete {
        // A directory that could not be removed whole is left as it is, not half removed.
        fsutil::check_removable(target, "removed")
            .map_err(|e| Error::io("overwrite", target, &e))?;
    }
    match change(|| make_link(step, link, temp)) {
        Ok(()) => {}
        // The name is this run's; something already there is not ours to remove.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return Err(Error::failure(format!(
                "the temporary name {} is taken; left it alone",
                temp.display()
            )));
        }
        Err(e) => return Err(Error::io("create link", temp, &e)),
    }
    match change(|| fsutil::exchange(temp, target)) {
        Ok(()) => {}
        Err(e) if cannot_exchange(&e) => return replace_by_rename(step, displace, temp, effects),
        Err(e) => return Err(Error::io("put link in place at", target, &e)),
    }
    // What came out is what the planner saw, or it goes straight back.
    if !still_seen(step, temp) {
        change(|| fsutil::exchange(temp, target)).map_err(|e| Error::io("put back", target, &e))?;
        return Err(changed());
    }
    dispose(step, displace, temp, effects)
}

/// What was swapped out of the target to `old`: to its backup, or away.
fn dispose(step: &Step, displace: &Displace, old: &Path, effects: &mut Effects) -> Result<()> {
    let target = &step.target;
    match displace {
        Displace::Link => change(|| fs::remove_file(old)).map_err(|e| Error::io("remove", old, &e)),
        Displace::Backup { to } => {
            move_to_backup(old, to, target)?;
            effects.backup = Some(backed_up(step, to));
            Ok(())
        }
        Displace::Delete => {
            change(|| fsutil::remove_any(old)).map_err(|e| Error::io("remove", target, &e))
        }
        Displace::EmptyDirectory => {
            let dirs = empty_directories(old, target);
            change(|| fsutil::remove_empty_tree(old))
                .map_err(|e| Error::io("remove emptied directory", target, &e))?;
            effects.removed.extend(dirs);
            Ok(())
        }
    }
}

/// [`replace`] where the filesystem cannot exchange two names.
fn replace_by_rename(
    step: &Step,
    displace: &Displace,
    temp: &Path,
    effects: &mut Effects,
) -> Result<()> {
    let target = &step.target;
    if !still_seen(step, target) {
        return Err(changed());
    }
    let is_dir = fs::symlink_metadata(target).is_ok_and(|m| m.is_dir());
    match (displace, is_dir) {
        // A second name first: the original stays in place until the link replaces it.
        (Displace::Backup { to }, false) => {
            make_backup_dir(to)?;
            change(|| fsutil::link_or_copy(target, to))
                .map_err(|e| not_backed_up(&e, to, target))?;
            effects.backup = Some(backed_up(step, to));
        }
        (Displace::Link | Displace::Delete | Displace::EmptyDirectory, false) => {}
        (_, true) => dispose(step, displace, target, effects)?,
    }
    change(|| fs::rename(temp, target)).map_err(|e| Error::io("put link in place at", target, &e))
}

/// Remove a link dotlink made, then the directories it made for it while they are empty and
/// still the directories it made.
fn remove(step: &Step, rmdirs: &[MadeDir], effects: &mut Effects) -> Result<()> {
    if !still_seen(step, &step.target) {
        return Err(changed());
    }
    change(|| fs::remove_file(&step.target))
        .map_err(|e| Error::io("remove link", &step.target, &e))?;
    for dir in rmdirs {
        let still_made = dir_id(&dir.path).is_some_and(|now| same_dir(dir.id, now));
        if !still_made {
            break;
        }
        match change(|| fs::remove_dir(&dir.path)) {
            Ok(()) => effects.removed.push(dir.path.clone()),
            // Something else is in it, as may be: it stays, and so do those above it.
            Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => break,
            // The link is gone, so the step is done; the error is said all the same, not
            // swallowed (the next run removes the directory once it can).
            Err(e) => return Err(Error::io("remove directory", &dir.path, &e)),
        }
    }
    Ok(())
}

/// Remove an empty directory dotlink made, while it is still the one the planner saw. One
/// gone already is as planned; one written to since is left as it is.
fn remove_dir(step: &Step, effects: &mut Effects) -> Result<()> {
    let dir = &step.target;
    if matches!(fs::symlink_metadata(dir), Err(e) if e.kind() == io::ErrorKind::NotFound) {
        effects.removed.push(dir.to_path_buf());
        return Ok(());
    }
    if !still_seen(step, dir) {
        return Err(changed());
    }
    match change(|| fs::remove_dir(dir)) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => return Err(changed()),
        Err(e) => return Err(Error::io("remove directory", dir, &e)),
    }
    effects.removed.push(dir.to_path_buf());
    Ok(())
}

/// Replace a folded directory link with a real directory of links: built under the run's
/// temporary name beside it, swapped in at once (the files stay reachable throughout), then
/// the old link, which came out exactly as the planner saw it, is removed.
fn unfold(
    step: &Step,
    dirs: &[PathBuf],
    links: &[Record],
    temp: &Path,
    effects: &mut Effects,
) -> Result<()> {
    let link = &step.target;
    if fs::symlink_metadata(temp).is_ok() {
        return Err(Error::failure(format!(
            "the temporary name {} is taken; left it alone",
            temp.display()
        )));
    }
    if !still_seen(step, link) {
        return Err(changed());
    }
    let inside = |path: &Path| temp.join(paths::below(path, link).unwrap_or(path));
    change(|| fs::create_dir(temp)).map_err(|e| Error::io("create directory", temp, &e))?;
    for dir in dirs {
        let at = inside(dir);
        change(|| fs::create_dir(&at)).map_err(|e| Error::io("create directory", &at, &e))?;
    }
    for record in links {
        let at = inside(&record.target);
        change(|| make_recorded(record, &at)).map_err(|e| Error::io("create link", &at, &e))?;
    }
    match change(|| fsutil::exchange(temp, link)) {
        Ok(()) => {}
        Err(e) if cannot_exchange(&e) => {
            return Err(Error::failure(format!(
                "this filesystem cannot swap a directory in for the folded link {} at once",
                link.display()
            ))
            .with_hint("remove that link by hand (it is only a link into the repository), then run `dotlink apply` again"));
        }
        Err(e) => return Err(Error::io("put directory in place at", link, &e)),
    }
    if !still_seen(step, temp) {
        change(|| fsutil::exchange(temp, link)).map_err(|e| Error::io("put back", link, &e))?;
        return Err(changed());
    }
    change(|| fs::remove_file(temp)).map_err(|e| Error::io("remove", temp, &e))?;
    for dir in std::iter::once(&**link).chain(dirs.iter().map(PathBuf::as_path)) {
        effects
            .created
            .extend(dir_id(dir).map(|id| (SharedPath::from(dir), id)));
    }
    Ok(())
}

/// Make the link `record` describes at `at`.
pub(super) fn make_recorded(record: &Record, at: &Path) -> io::Result<()> {
    match record.text() {
        Some(text) => symlink(text, at),
        None => fs::hard_link(&record.source, at),
    }
}

/// Move away or remove what stands where a directory of links must be.
fn clear(step: &Step, displace: &Displace, effects: &mut Effects) -> Result<()> {
    let at = &step.target;
    if !still_seen(step, at) {
        return Err(changed());
    }
    if let Displace::Backup { to } = displace {
        move_to_backup(at, to, at)?;
        effects.backup = Some(backed_up(step, to));
        Ok(())
    } else {
        change(|| fsutil::remove_any(at)).map_err(|e| Error::io("remove", at, &e))
    }
}

/// Whether `path` still holds what the planner saw at the step's target.
fn still_seen(step: &Step, path: &Path) -> bool {
    step.seen().is_some_and(|seen| seen.is_at(path))
}

/// The error for a target that is not what the planner saw any more.
fn changed() -> Error {
    Error::failure("changed since planning; left it as it is")
        .with_hint("run `dotlink apply` again to plan with what is there now")
}

/// The directories of a tree being removed, so the state forgets them.
fn empty_directories(tree: &Path, target: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(tree)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_dir())
        .filter_map(|e| paths::below(e.path(), tree).map(|rel| target.join(rel)))
        .map(|p| paths::normalize(&p))
        .collect()
}

/// An exchange that failed because the system or filesystem cannot do it at all.
fn cannot_exchange(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported
        || matches!(
            e.raw_os_error(),
            Some(libc::EINVAL | libc::ENOSYS | libc::ENOTSUP)
        )
}

/// Move `from` (what was at `target`) to its backup place `to`, making the directory it goes
/// into only when the move finds it missing: most backups go where an earlier one made it.
fn move_to_backup(from: &Path, to: &Path, target: &Path) -> Result<()> {
    let moved = match change(|| fsutil::move_path(from, to)) {
        // Its directory is missing, or something else is where it must be (then making it
        // says what is wrong with the backup directory, not with the target).
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) && to
                .parent()
                .is_some_and(|dir| !fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir())) =>
        {
            let made = make_backup_dir(to)?;
            let moved = change(|| fsutil::move_path(from, to));
            if moved.is_err() {
                // Nothing went in: the directories made for it do not stay as an empty set.
                fsutil::remove_made_dirs(&made);
            }
            moved
        }
        other => other,
    };
    moved.map_err(|e| not_backed_up(&e, to, target))
}

/// Why what was at `target` could not go to its backup place `to`. A backup only ever goes
/// where nothing is (the planner chose a free place; something put there since is never taken
/// for it), which the move or link itself finds, not a look before it: a backup costs no extra
/// call, and a step that had already swapped its link in puts the original back (see
/// `settle_failed`).
fn not_backed_up(e: &io::Error, to: &Path, target: &Path) -> Error {
    match e.kind() {
        io::ErrorKind::AlreadyExists => Error::failure(format!(
            "its backup place {} is taken; left it as it is",
            to.display()
        ))
        .with_hint("run `dotlink apply` again to plan another place"),
        _ => Error::io("back up", target, e),
    }
}

/// Make the directory a backup goes into, and what is missing above it; the directories made,
/// top first (none stay when making one fails).
pub(super) fn make_backup_dir(to: &Path) -> Result<Vec<PathBuf>> {
    let Some(dir) = to.parent() else {
        return Ok(Vec::new());
    };
    fsutil::make_missing_dirs(dir, |dir| change(|| fs::create_dir(dir)))
        .map_err(|e| Error::io("create backup directory", dir, &e))
}

fn link_of(step: &Step) -> Result<&Link> {
    step.link.as_ref().ok_or_else(|| {
        Error::failure(format!(
            "internal error: no link planned for {}",
            step.target.display()
        ))
    })
}

/// Make `step`'s link at `at` (its target, or the temporary name it is made under).
fn make_link(step: &Step, link: &Link, at: &Path) -> io::Result<()> {
    match step.method {
        Method::Symlink => {
            crate::link_text::with_text(link.own_text(), &step.target, &step.source, |text| {
                symlink(text, at)
            })
        }
        Method::Hardlink => fs::hard_link(&step.source, at),
    }
}
