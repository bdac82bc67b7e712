//! [`SharedPath`]: a path held for the whole run and shared between the manifest's specs, the
//! state's records and the plan's steps.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::ffi::OsStr;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use triomphe::ThinArc;

/// A path in one shared allocation, like `Arc<Path>`, behind a pointer one word wide, not two
/// (the length lives in the allocation): a state, the specs and a plan hold eight of these per
/// link between them, so at 100,000 links the narrower pointer is 6 MB less held. Compared,
/// ordered and hashed as the `Path` it holds.
#[derive(Clone)]
pub struct SharedPath(ThinArc<(), u8>);

impl SharedPath {
    pub fn new(path: &Path) -> SharedPath {
        SharedPath(ThinArc::from_header_and_slice(
            (),
            path.as_os_str().as_bytes(),
        ))
    }

    /// Whether `a` and `b` are one allocation (not only the same bytes).
    pub fn ptr_eq(a: &SharedPath, b: &SharedPath) -> bool {
        a.0.ptr() == b.0.ptr()
    }

    /// How many holders the allocation has.
    pub fn strong_count(this: &SharedPath) -> usize {
        ThinArc::strong_count(&this.0)
    }
}

impl Deref for SharedPath {
    type Target = Path;

    fn deref(&self) -> &Path {
        Path::new(OsStr::from_bytes(&self.0.slice))
    }
}

impl AsRef<Path> for SharedPath {
    fn as_ref(&self) -> &Path {
        self
    }
}

impl Borrow<Path> for SharedPath {
    fn borrow(&self) -> &Path {
        self
    }
}

impl From<&Path> for SharedPath {
    fn from(path: &Path) -> SharedPath {
        SharedPath::new(path)
    }
}

impl From<PathBuf> for SharedPath {
    fn from(path: PathBuf) -> SharedPath {
        SharedPath::new(&path)
    }
}

impl From<&PathBuf> for SharedPath {
    fn from(path: &PathBuf) -> SharedPath {
        SharedPath::new(path)
    }
}

impl fmt::Debug for SharedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Path::fmt(self, f)
    }
}

impl PartialEq for SharedPath {
    fn eq(&self, other: &SharedPath) -> bool {
        **self == **other
    }
}

impl Eq for SharedPath {}

impl PartialOrd for SharedPath {
    fn partial_cmp(&self, other: &SharedPath) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedPath {
    fn cmp(&self, other: &SharedPath) -> Ordering {
        Path::cmp(self, other)
    }
}

impl Hash for SharedPath {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Path::hash(self, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn it_is_the_path_it_holds_behind_one_word() {
        assert_eq!(std::mem::size_of::<SharedPath>(), 8);
        assert_eq!(std::mem::size_of::<Option<SharedPath>>(), 8);
        let path = SharedPath::from(Path::new("/home/me/.config/nvim"));
        assert_eq!(&*path, Path::new("/home/me/.config/nvim"));
        let copy = path.clone();
        assert!(SharedPath::ptr_eq(&path, &copy));
        assert_eq!(SharedPath::strong_count(&path), 2);
        let same_bytes = SharedPath::from(PathBuf::from("/home/me/.config/nvim"));
        assert!(!SharedPath::ptr_eq(&path, &same_bytes));
        assert_eq!(path, same_bytes);
        // Compared and hashed as a `Path`: a set of them is looked up by `&Path`, and
        // `a//b` is `a/b`, as for `Path`.
        let set: HashSet<SharedPath> = [SharedPath::from(Path::new("a//b"))].into();
        assert!(set.contains(Path::new("a/b")));
        assert!(SharedPath::from(Path::new("a")) < SharedPath::from(Path::new("b")));
        assert_eq!(&*SharedPath::from(Path::new("")), Path::new(""));
    }
}
