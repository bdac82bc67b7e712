//! The places dotlink never replaces or writes into (the home, the repository, its own state
//! and backup directories), known by device and inode, so that one reached under another name
//! is still recognised: a bind mount gives a directory a second path with no symlink in it,
//! which every comparison of paths passes. Looked up only when something is in the way of a
//! target or a dead link is to go, so a run that only links makes no call for it; and only
//! for a place below a mount that can give one (a bind mount, or a filesystem mounted twice),
//! as `/proc/self/mountinfo` lists them.

use crate::state::PathHash;
use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A directory's device and inode.
type Id = (u64, u64);

fn id_of(path: &Path) -> Option<Id> {
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

pub(super) struct Protected<'a> {
    home: &'a Path,
    repo: &'a Path,
    /// dotlink's state and backup directories.
    own: Vec<&'a Path>,
    /// The home, the repository, dotlink's own directories and every directory above them.
    never_replaced: OnceCell<Vec<(Id, PathBuf)>>,
    /// Every directory of the repository.
    repo_dirs: OnceCell<HashSet<Id>>,
    /// dotlink's own directories.
    own_ids: OnceCell<Vec<(Id, &'a Path)>>,
    /// What [`Protected::holding`] said of each directory it was asked about, by path.
    asked: RefCell<HashMap<PathBuf, Option<PathBuf>, PathHash>>,
    /// The same by device and inode, for every directory passed on the way up: each is
    /// looked at once, however many targets lie below it.
    above: RefCell<HashMap<Id, Option<PathBuf>>>,
    /// Where a directory may be reached under a second name (see [`alias_mounts`]); `None`
    /// when the mount table cannot be read, and then every place is asked about.
    alias_mounts: OnceCell<Option<Vec<PathBuf>>>,
}

impl<'a> Protected<'a> {
    pub fn new(home: &'a Path, repo: &'a Path, own: impl IntoIterator<Item = &'a Path>) -> Self {
        Protected {
            home,
            repo,
            own: own.into_iter().collect(),
            never_replaced: OnceCell::new(),
            repo_dirs: OnceCell::new(),
            own_ids: OnceCell::new(),
            asked: RefCell::default(),
            above: RefCell::default(),
            alias_mounts: OnceCell::new(),
        }
    }

    /// Whether `path` lies below a mount that may give a directory a second name.
    fn may_be_another_name(&self, path: &Path) -> bool {
        match self.alias_mounts.get_or_init(alias_mounts) {
            Some(mounts) => mounts.iter().any(|m| path.starts_with(m)),
            None => true,
        }
    }

    /// The home, the repository or one of dotlink's own directories (or a directory above
    /// one of them) that the directory `id`, found at `path`, is, if it is one.
    pub fn replaced_by(&self, path: &Path, id: Id) -> Option<&Path> {
        if !self.may_be_another_name(path) {
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
        all.iter()
            .find(|(key, _)| *key == id)
            .map(|(_, dir)| dir.as_path())
    }

    /// The repository, or the one of dotlink's own directories, that the directory holding
    /// `path` lies in under another name, if it does. Every directory of the repository is
    /// known (a directory of it may be bound anywhere); dotlink's own are found above it, as
    /// `..` leads (the parent of a bind mount is where it is mounted).
    pub fn holding(&self, path: &Path) -> Option<PathBuf> {
        let dir = path.parent()?;
        if !self.may_be_another_name(dir) {
            return None;
        }
        if let Some(answer) = self.asked.borrow().get(dir) {
            return answer.clone();
        }
        let answer = self.find_holding(dir);
        self.asked
            .borrow_mut()
            .insert(dir.to_path_buf(), answer.clone());
        answer
    }

    fn find_holding(&self, dir: &Path) -> Option<PathBuf> {
        let id = id_of(dir)?;
        let repo_dirs = self.repo_dirs.get_or_init(|| {
            walkdir::WalkDir::new(self.repo)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_dir())
                .filter_map(|e| e.metadata().ok().map(|m| (m.dev(), m.ino())))
                .collect()
        });
        if repo_dirs.contains(&id) {
            return Some(self.repo.to_path_buf());
        }
        let own = self.own_ids.get_or_init(|| {
            let own = self.own.iter().filter_map(|dir| Some((id_of(dir)?, *dir)));
            own.collect()
        });
        if own.is_empty() {
            return None;
        }
        // Up from `dir` as `..` leads, to the home (dotlink's own directories are not below
        // the home's way up), the root, or a directory already answered.
        let stop = [id_of(self.home), id_of(Path::new("/"))];
        let mut passed = Vec::new();
        let mut up = dir.to_path_buf();
        let mut at = Some(id);
        let mut answer = None;
        // As deep as a path can be: a loop of bind mounts cannot keep this going.
        for _ in 0..256 {
            let Some(id) = at else { break };
            if let Some(known) = self.above.borrow().get(&id) {
                answer = known.clone();
                break;
            }
            if let Some((_, own)) = own.iter().find(|(key, _)| *key == id) {
                answer = Some(own.to_path_buf());
                break;
            }
            passed.push(id);
            if stop.contains(&Some(id)) {
                break;
            }
            up.push("..");
            at = id_of(&up);
        }
        let mut above = self.above.borrow_mut();
        for id in passed {
            above.insert(id, answer.clone());
        }
        answer
    }
}

/// The mount points below which a directory may have a second name with no symlink in it: bind
/// mounts of a directory that is not the root of its filesystem, and every mount of a
/// filesystem's root mounted more than once. `None` when `/proc/self/mountinfo` cannot be read.
fn alias_mounts() -> Option<Vec<PathBuf>> {
    let table = fs::read(Path::new("/proc/self/mountinfo")).ok()?;
    Some(alias_mounts_in(&table))
}

/// [`alias_mounts`] of a mount table in the format of `/proc/self/mountinfo`: per line, an
/// id, a parent id, `major:minor`, the root of the mount in its filesystem, the mount point
/// (both with ` `, tab, newline and `\\` escaped in octal), then options.
fn alias_mounts_in(table: &[u8]) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let mounts: Vec<(&[u8], &[u8], &[u8])> = table
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let mut fields = line.split(|b| *b == b' ');
            let device = fields.nth(2)?;
            Some((device, fields.next()?, fields.next()?))
        })
        .collect();
    let mut aliases: Vec<PathBuf> = mounts
        .iter()
        .filter(|(device, root, _)| {
            let whole = |(d, r, _): &&(&[u8], &[u8], &[u8])| d == device && *r == b"/";
            *root != b"/" || mounts.iter().filter(whole).count() > 1
        })
        .map(|(_, _, point)| PathBuf::from(std::ffi::OsString::from_vec(unescape(point))))
        .collect();
    aliases.sort();
    aliases.dedup();
    aliases
}

/// A field of the mount table with its octal escapes (`\040`) undone.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let octal = field
            .get(i + 1..i + 4)
            .filter(|d| field[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(d.iter().fold(0u8, |n, c| n.wrapping_mul(8) + (c - b'0')));
                i += 4;
            }
            None => {
                out.push(field[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_mounts_and_filesystems_mounted_twice_may_give_second_names() {
        let table = b"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n\
23 22 0:5 / /proc rw - proc proc rw\n\
24 22 8:1 /home/me/dots/config /home/me/.config rw - ext4 /dev/sda1 rw\n\
25 22 0:40 / /mnt/a rw - tmpfs tmpfs rw\n\
26 22 0:40 / /mnt/b\\040c rw - tmpfs tmpfs rw\n";
        assert_eq!(
            alias_mounts_in(table),
            ["/home/me/.config", "/mnt/a", "/mnt/b c"].map(PathBuf::from)
        );
    }
}
