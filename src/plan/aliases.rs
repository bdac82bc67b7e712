//! The places dotlink never replaces or writes into (the home, the repository, its own state
//! and backup directories), known by device and inode, so that one reached under another name
//! is still recognised: a bind mount gives a directory a second path with no symlink in it,
//! which every comparison of paths passes, on either side of the mount. Looked up only when
//! something is in the way of a target, a dead link is to go or a recorded link is to be
//! removed, and only on a system whose mount table (`/proc/self/mountinfo`) has a mount that
//! can give a second name at all: a run that only links, or a machine without such mounts,
//! makes no call for it.

use crate::mounts::Mount;
use std::cell::{OnceCell, RefCell};
use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A directory's device and inode.
type Id = (u64, u64);

fn id_of(path: &Path) -> Option<Id> {
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

pub(crate) struct Protected<'a> {
    home: &'a Path,
    repo: &'a Path,
    /// dotlink's state and backup directories.
    own: Vec<&'a Path>,
    /// Whether the mount table has a mount that can give a directory a second name (see
    /// [`any_alias`]); true when it cannot be read.
    aliases: OnceCell<bool>,
    /// The home, the repository, dotlink's own directories and every directory above them.
    never_replaced: OnceCell<Vec<(Id, PathBuf)>>,
    /// Every directory in the repository and in dotlink's own directories, with the one it
    /// is in.
    inside: OnceCell<Vec<(HashSet<Id>, &'a Path)>>,
    /// The directory [`Protected::holding`] was last asked about, and its identity: targets
    /// come in the directory order, so most are in the directory the one before was in (the
    /// planner writes nothing, so a directory stays what it was).
    last_dir: RefCell<Option<(PathBuf, Option<Id>)>>,
}

impl<'a> Protected<'a> {
    pub fn new(home: &'a Path, repo: &'a Path, own: impl IntoIterator<Item = &'a Path>) -> Self {
        Protected {
            home,
            repo,
            own: own.into_iter().collect(),
            aliases: OnceCell::new(),
            never_replaced: OnceCell::new(),
            inside: OnceCell::new(),
            last_dir: RefCell::new(None),
        }
    }

    /// Whether any place may have a second name on this system.
    fn aliases(&self) -> bool {
        *self
            .aliases
            .get_or_init(|| crate::mounts::read().is_none_or(|mounts| any_alias(&mounts)))
    }

    /// The home, the repository or one of dotlink's own directories (or a directory above
    /// one of them) that the directory `id` is, if it is one; or a directory in the
    /// repository or in dotlink's own directories.
    pub fn replaced_by(&self, id: Id) -> Option<PathBuf> {
        if !self.aliases() {
            return None;
        }
        let all = self.never_replaced.get_or_init(|| {
            let roots = [self.home, self.repo]
                .into_iter()
                .chain(self.own.iter().copied());
            roots
                .flat_map(Path::ancestors)
                .filter_map(|dir| Some((id_of(dir)?, dir.to_path_buf())))
                .collect()
        });
        let found = all.iter().find(|(key, _)| *key == id);
        found
            .map(|(_, dir)| dir.clone())
            .or_else(|| self.inside(id))
    }

    /// The repository, or the one of dotlink's own directories, that the directory holding
    /// `path` is in under another name, if it is.
    pub fn holding(&self, path: &Path) -> Option<PathBuf> {
        if !self.aliases() {
            return None;
        }
        let dir = path.parent()?;
        let mut last = self.last_dir.borrow_mut();
        let id = match &*last {
            Some((known, id)) if known == dir => *id,
            _ => last.insert((dir.to_path_buf(), id_of(dir))).1,
        };
        drop(last);
        self.inside(id?)
    }

    /// The repository or own directory that holds the directory `id`, if one does.
    fn inside(&self, id: Id) -> Option<PathBuf> {
        let inside = self.inside.get_or_init(|| {
            let tops = std::iter::once(self.repo).chain(self.own.iter().copied());
            tops.map(|top| (directories_in(top), top)).collect()
        });
        let found = inside.iter().find(|(ids, _)| ids.contains(&id));
        found.map(|(_, top)| top.to_path_buf())
    }
}

/// Every directory in `top`, `top` included, by device and inode (not through symlinks).
fn directories_in(top: &Path) -> HashSet<Id> {
    walkdir::WalkDir::new(top)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir())
        .filter_map(|e| e.metadata().ok().map(|m| (m.dev(), m.ino())))
        .collect()
}

/// Whether `mounts` has one that gives a directory a second name with no symlink in it: a
/// bind mount of a directory that is not the root of its filesystem, or a filesystem's root
/// mounted more than once.
fn any_alias(mounts: &[Mount]) -> bool {
    let whole = |m: &&Mount| m.root == Path::new("/");
    let roots = mounts.iter().filter(whole);
    let twice = |m: &Mount| roots.clone().filter(|r| r.device == m.device).count() > 1;
    mounts.iter().any(|m| !whole(&m) || twice(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_held_by_the_repository_its_directory_is_in_whatever_was_asked_before() {
        let tmp = tempfile::tempdir().unwrap();
        let (home, repo) = (tmp.path().join("home"), tmp.path().join("repo"));
        fs::create_dir_all(repo.join("sub")).unwrap();
        fs::create_dir_all(home.join("d")).unwrap();
        // The repository seen under a second name, as a bind mount would give it.
        std::os::unix::fs::symlink(repo.join("sub"), home.join("alias")).unwrap();
        let protected = Protected::new(&home, &repo, []);
        protected.aliases.set(true).unwrap();
        let in_repo = Some(repo.clone());
        for (path, held) in [
            ("d/a", None),
            ("d/b", None),
            ("alias/a", in_repo.clone()),
            ("alias/b", in_repo.clone()),
            ("d/c", None),
            ("alias/c", in_repo),
        ] {
            assert_eq!(protected.holding(&home.join(path)), held, "{path}");
        }
    }

    #[test]
    fn bind_mounts_and_filesystems_mounted_twice_may_give_second_names() {
        let root = "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n23 22 0:5 / /proc rw - proc proc rw\n";
        let bound = "24 22 8:1 /home/me/dots/config /home/me/.config rw - ext4 /dev/sda1 rw\n";
        let tmpfs = "25 22 0:40 / /mnt/a rw - tmpfs tmpfs rw\n";
        let again = "26 22 0:40 / /mnt/b\\040c rw - tmpfs tmpfs rw\n";
        let table = |lines: &[&str]| crate::mounts::parse(lines.concat().as_bytes());
        assert!(!any_alias(&table(&[root, tmpfs])));
        assert!(any_alias(&table(&[root, bound])));
        assert!(any_alias(&table(&[root, tmpfs, again])));
        assert_eq!(table(&[again])[0].point, PathBuf::from("/mnt/b c"));
    }
}
