//! The places dotlink never replaces or writes into (the home, the repository, its own state
//! and backup directories), known by device and inode, so that one reached under another name
//! is still recognised: a bind mount gives a directory a second path with no symlink in it,
//! which every comparison of paths passes. Looked up only when something is in the way of a
//! target or a dead link is to go, so a run that only links makes no call for it.

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
    /// What [`Protected::holding`] said of each directory it was asked about.
    asked: RefCell<HashMap<PathBuf, Option<PathBuf>, PathHash>>,
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
        }
    }

    /// The home, the repository or one of dotlink's own directories (or a directory above
    /// one of them) that the directory `id` is, if it is one.
    pub fn replaced_by(&self, id: Id) -> Option<&Path> {
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
        let root = id_of(Path::new("/"));
        let mut up = dir.to_path_buf();
        // As deep as a path can be: a loop of bind mounts cannot keep this going.
        for _ in 0..256 {
            let id = id_of(&up)?;
            if let Some((_, dir)) = own.iter().find(|(key, _)| *key == id) {
                return Some(dir.to_path_buf());
            }
            if Some(id) == root {
                break;
            }
            up.push("..");
        }
        None
    }
}
