//! The directories dotlink made to hold links, each with the device and inode it had when made.
//! A directory is dotlink's to remove (once empty) or to replace only while it is still that
//! directory: the same name may come to lead elsewhere (a directory above it replaced by a
//! symlink, or the user's own directory made where dotlink's was), and what is there then is
//! not dotlink's. A directory an older dotlink recorded has no identity: it is taken by its
//! name, as it was then, until the next writing run records the identity of the directory
//! there (`Plan::identify`).

use crate::paths::SharedPath;
use std::collections::BTreeMap;
use std::fs;
use std::ops::Bound;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A directory's identity: its device and inode, and when it was made (its birth time, in
/// nanoseconds since 1970), where the filesystem keeps that, else 0. ext4 gives a freed inode
/// number to the next file or directory made, often at once: the number alone would take the
/// user's new directory for the one dotlink made there and removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirId {
    pub dev: u64,
    pub ino: u64,
    pub born: u64,
}

impl DirId {
    /// The identity of what `meta` describes.
    pub fn of(meta: &fs::Metadata) -> DirId {
        let born = meta
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(0));
        DirId {
            dev: meta.dev(),
            ino: meta.ino(),
            born,
        }
    }
}

/// The identity of the directory at `dir` (not following a symlink there), if a directory is
/// there.
pub fn dir_id(dir: &Path) -> Option<DirId> {
    fs::symlink_metadata(dir)
        .ok()
        .filter(|meta| meta.is_dir())
        .map(|meta| DirId::of(&meta))
}

/// Whether `now`, the identity of the directory at a recorded directory's place, is the one
/// recorded (`recorded`): the same inode, made at the same time where both times are known.
/// The device is not compared: NFS, btrfs subvolumes and FUSE may number the same filesystem
/// anew after a remount or a reboot. A directory recorded without an identity (by an older
/// dotlink) is taken by its name. Two directories made in one tick of the filesystem's clock
/// (a few milliseconds) at one inode number cannot be told apart.
pub fn same_dir(recorded: Option<DirId>, now: DirId) -> bool {
    recorded
        .is_none_or(|r| r.ino == now.ino && (r.born == 0 || now.born == 0 || r.born == now.born))
}

/// The directories dotlink made, sorted (the state file is written in their order). Each
/// path is shared with the plan's list of directories to make where it came from there (a
/// first apply at 100,000 links makes 10,000).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MadeDirs(BTreeMap<SharedPath, Option<DirId>>);

impl MadeDirs {
    /// Record `dir`, made by dotlink, with its identity (`None` where it is not known).
    pub fn insert(&mut self, dir: impl Into<SharedPath>, id: Option<DirId>) {
        self.0.insert(dir.into(), id);
    }

    /// Record `dir`, made by dotlink, as it is now; nothing when no directory is there (a
    /// record without an identity would be taken by its name).
    pub fn insert_as_now(&mut self, dir: &Path) {
        if let Some(id) = dir_id(dir) {
            self.insert(dir, Some(id));
        }
    }

    /// [`MadeDirs::insert`] each of `dirs`, in order. Many at once are sorted and merged
    /// into the tree whole: inserted one by one, each would be compared, component by
    /// component, with a dozen in each node on its way down (a first apply's thousand
    /// directories took 3 ms).
    pub fn insert_all(&mut self, dirs: Vec<(SharedPath, Option<DirId>)>) {
        if dirs.len() > 8 && dirs.len() >= self.0.len() / 8 {
            // Of equal keys, both keep the last (as inserting does).
            let mut new: BTreeMap<_, _> = dirs.into_iter().collect();
            self.0.append(&mut new);
        } else {
            self.0.extend(dirs);
        }
    }

    pub fn remove(&mut self, dir: &Path) -> bool {
        self.0.remove(dir).is_some()
    }

    /// Forget `dir` and every directory recorded below it; returns whether any was recorded.
    pub fn remove_tree(&mut self, dir: &Path) -> bool {
        // Below a path come, in the order of components, right after it.
        let below: Vec<SharedPath> = self
            .0
            .range::<Path, _>((Bound::Included(dir), Bound::Unbounded))
            .map(|(d, _)| d)
            .take_while(|d| d.starts_with(dir))
            .cloned()
            .collect();
        for d in &below {
            self.0.remove::<Path>(d);
        }
        !below.is_empty()
    }

    /// Whether the state records `dir`, whatever is there now.
    pub fn contains(&self, dir: &Path) -> bool {
        self.0.contains_key(dir)
    }

    /// The identity recorded for `dir`: `None` when it is not recorded, `Some(None)` when it is
    /// recorded without one.
    pub fn get(&self, dir: &Path) -> Option<Option<DirId>> {
        self.0.get(dir).copied()
    }

    /// Whether `dir` is a directory dotlink made and still the one it made, `meta` being what
    /// is there now (not following a symlink).
    pub fn holds(&self, dir: &Path, meta: &fs::Metadata) -> bool {
        meta.is_dir()
            && self
                .get(dir)
                .is_some_and(|recorded| same_dir(recorded, DirId::of(meta)))
    }

    /// [`MadeDirs::holds`], looking at what is at `dir` now.
    pub fn holds_now(&self, dir: &Path) -> bool {
        self.contains(dir) && fs::symlink_metadata(dir).is_ok_and(|meta| self.holds(dir, &meta))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each directory and its identity, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&Path, Option<DirId>)> {
        self.0.iter().map(|(dir, id)| (&**dir, *id))
    }
}

impl<P: Into<SharedPath>> Extend<(P, Option<DirId>)> for MadeDirs {
    fn extend<I: IntoIterator<Item = (P, Option<DirId>)>>(&mut self, dirs: I) {
        self.0
            .extend(dirs.into_iter().map(|(dir, id)| (dir.into(), id)));
    }
}

impl<P: Into<SharedPath>> FromIterator<(P, Option<DirId>)> for MadeDirs {
    fn from_iter<I: IntoIterator<Item = (P, Option<DirId>)>>(dirs: I) -> Self {
        MadeDirs(dirs.into_iter().map(|(dir, id)| (dir.into(), id)).collect())
    }
}

impl IntoIterator for MadeDirs {
    type Item = (SharedPath, Option<DirId>);
    type IntoIter = std::collections::btree_map::IntoIter<SharedPath, Option<DirId>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn many_directories_recorded_at_once_are_as_if_recorded_one_by_one() {
        let id = |n: u64| {
            Some(DirId {
                dev: 1,
                ino: n,
                born: 0,
            })
        };
        let dirs = |names: &[(&str, u64)]| -> Vec<(SharedPath, Option<DirId>)> {
            names
                .iter()
                .map(|&(d, n)| (SharedPath::from(Path::new(d)), id(n)))
                .collect()
        };
        let before = dirs(&[("/h/b", 1), ("/h/b/c", 2), ("/h/d", 3)]);
        // Unsorted, with a name given twice, and one recorded before: the last wins.
        let many: Vec<_> = (0..40)
            .map(|i| {
                (
                    SharedPath::from(PathBuf::from(format!("/h/x{}", (i * 7) % 40))),
                    id(i),
                )
            })
            .chain(dirs(&[("/h/b", 9), ("/h/x3", 10), ("/h/a", 11)]))
            .collect();
        for batch in [many, dirs(&[("/h/b/c", 12)])] {
            let mut at_once: MadeDirs = before.iter().cloned().collect();
            at_once.insert_all(batch.clone());
            let mut one_by_one: MadeDirs = before.iter().cloned().collect();
            for (dir, id) in batch {
                one_by_one.insert(dir, id);
            }
            assert_eq!(at_once, one_by_one);
        }
        let mut made = MadeDirs::default();
        made.insert_all(before.clone());
        assert_eq!(made.iter().count(), 3);
        assert_eq!(made.get(Path::new("/h/b/c")), Some(id(2)));
    }

    #[test]
    fn a_tree_is_forgotten_whole_and_nothing_beside_it() {
        let mut made: MadeDirs = [
            "/h/t",
            "/h/t/K",
            "/h/t/K/a",
            "/h/t/K/a/b",
            "/h/t/K2",
            "/h/t/K-x",
        ]
        .into_iter()
        .map(|d| {
            let id = DirId {
                dev: 1,
                ino: 1,
                born: 0,
            };
            (PathBuf::from(d), Some(id))
        })
        .collect();
        assert!(made.remove_tree(Path::new("/h/t/K")));
        let left: Vec<_> = made.iter().map(|(d, _)| d.to_path_buf()).collect();
        assert_eq!(left, ["/h/t", "/h/t/K-x", "/h/t/K2"].map(PathBuf::from));
        assert!(!made.remove_tree(Path::new("/h/t/K")));
    }

    #[test]
    fn a_directory_is_dotlinks_only_while_it_is_the_one_made() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("made");
        fs::create_dir(&dir).unwrap();
        let mut made = MadeDirs::default();
        made.insert_as_now(&dir);
        assert!(made.holds_now(&dir));
        // Another directory under the same name.
        fs::rename(&dir, tmp.path().join("moved")).unwrap();
        fs::create_dir(&dir).unwrap();
        assert!(made.contains(&dir) && !made.holds_now(&dir));
        // A symlink to the one made is not it.
        fs::remove_dir(&dir).unwrap();
        std::os::unix::fs::symlink("moved", &dir).unwrap();
        assert!(!made.holds_now(&dir));
        // Recorded without an identity (by an older dotlink): taken by its name.
        let other = tmp.path().join("other");
        fs::create_dir(&other).unwrap();
        made.insert(other.clone(), None);
        assert!(made.holds_now(&other));
        assert!(!made.holds_now(&tmp.path().join("unrecorded")));
    }
}
