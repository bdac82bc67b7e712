//! [`SharedPath`]: a path held for the whole run and shared between the manifest's specs, the
//! state's records and the plan's steps.

use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::borrow::Borrow;
use std::cell::Cell;
use std::cmp::Ordering;
use std::ffi::OsStr;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as Atomic};

/// A path held in one shared allocation behind a pointer one word wide: a state, the specs and
/// a plan hold eight of these per link between them. Compared, ordered and hashed as the
/// `Path` it holds.
///
/// The pointer is to the path's length (four bytes, unaligned), then its bytes. Made with
/// [`keep_paths_for_the_process`] on (the binary's runs), a path is carved from a block of
/// its thread and never freed: four bytes beside its own, where a counted allocation takes
/// about thirty (a count, a length, the allocator's header and rounding), and no count to keep
/// on each copy. At 100,000 links that is 8 MB less held. Otherwise (the library's tests, the
/// fuzzer, which make paths without end), and within [`counted_paths`] (work that lets go of
/// most of what it reads), it is counted and freed with its last holder, as an `Arc<Path>` is;
/// the length's top bit says which.
pub struct SharedPath(NonNull<u8>);

// SAFETY: what the pointer leads to is never changed once made; the count is atomic.
unsafe impl Send for SharedPath {}
// SAFETY: as above.
unsafe impl Sync for SharedPath {}

/// The top bit of a counted path's length.
const COUNTED: u32 = 1 << 31;

/// Whether paths are kept for the process (see [`SharedPath`]).
static KEPT: AtomicBool = AtomicBool::new(false);

/// Keep every path made from now on for the rest of the process, never freed (see
/// [`SharedPath`]): for a process that holds nearly every path it makes until it exits, as a
/// run of dotlink does.
pub fn keep_paths_for_the_process() {
    KEPT.store(true, Atomic::Relaxed);
}

/// The size of the blocks kept paths are carved from; a path over a quarter of it gets a
/// block of its own.
const BLOCK: usize = 64 * 1024;

thread_local! {
    /// What is left of this thread's block: where, and how many bytes.
    static BLOCK_LEFT: Cell<(*mut u8, usize)> = const { Cell::new((std::ptr::null_mut(), 0)) };
    /// Whether this thread is in [`counted_paths`].
    static COUNTED_HERE: Cell<bool> = const { Cell::new(false) };
}

/// `f`, with the paths it makes on this thread counted and freed with their last holder even
/// where paths are kept for the process: for work that lets go of most of what it reads, such
/// as looking through other repositories' state files, which kept would each stay held.
pub fn counted_paths<T>(f: impl FnOnce() -> T) -> T {
    struct Again(bool);
    impl Drop for Again {
        fn drop(&mut self) {
            COUNTED_HERE.with(|here| here.set(self.0));
        }
    }
    let _again = Again(COUNTED_HERE.with(|here| here.replace(true)));
    f()
}

/// Whether a path made now on this thread is kept, where `kept` says whether paths are kept for
/// the process.
fn keeps(kept: bool) -> bool {
    kept && !COUNTED_HERE.with(Cell::get)
}

/// `size` bytes at alignment 1 that are never freed.
fn kept_bytes(size: usize) -> *mut u8 {
    let fresh = |size: usize| {
        let layout = Layout::from_size_align(size, 1).expect("a path's size");
        // SAFETY: `size` is not zero (a length comes first).
        let at = unsafe { alloc(layout) };
        if at.is_null() {
            handle_alloc_error(layout);
        }
        at
    };
    if size > BLOCK / 4 {
        return fresh(size);
    }
    BLOCK_LEFT.with(|left| {
        let (mut at, mut room) = left.get();
        if room < size {
            (at, room) = (fresh(BLOCK), BLOCK);
        }
        // SAFETY: `size` bytes from `at` are within the block.
        left.set((unsafe { at.add(size) }, room - size));
        at
    })
}

/// The layout of a counted path of `len` bytes: the count, the length, the bytes.
fn counted_layout(len: usize) -> Layout {
    Layout::from_size_align(
        size_of::<AtomicUsize>() + 4 + len,
        align_of::<AtomicUsize>(),
    )
    .expect("a path's size")
}

impl SharedPath {
    pub fn new(path: &Path) -> SharedPath {
        SharedPath::made(path, keeps(KEPT.load(Atomic::Relaxed)))
    }

    /// `path` kept for the process or counted.
    fn made(path: &Path, kept: bool) -> SharedPath {
        let bytes = path.as_os_str().as_bytes();
        let len = u32::try_from(bytes.len())
            .ok()
            .filter(|len| len & COUNTED == 0)
            .expect("a path shorter than 2 GiB");
        // SAFETY: each block is as large as what is written into it, and the length is
        // written unaligned, as it is read.
        unsafe {
            let at = match kept {
                true => kept_bytes(4 + bytes.len()),
                false => {
                    let layout = counted_layout(bytes.len());
                    let block = alloc(layout);
                    if block.is_null() {
                        handle_alloc_error(layout);
                    }
                    block.cast::<AtomicUsize>().write(AtomicUsize::new(1));
                    #[cfg(test)]
                    tests::LIVE.with(|live| live.set(live.get() + 1));
                    block.add(size_of::<AtomicUsize>())
                }
            };
            let word = if kept { len } else { len | COUNTED };
            at.cast::<u32>().write_unaligned(word);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), at.add(4), bytes.len());
            SharedPath(NonNull::new_unchecked(at))
        }
    }

    /// The length and whether the path is counted.
    fn word(&self) -> u32 {
        // SAFETY: every path starts with its length.
        unsafe { self.0.as_ptr().cast::<u32>().read_unaligned() }
    }

    /// The count of a counted path.
    fn count(&self) -> &AtomicUsize {
        // SAFETY: a counted path's count is just before its length, aligned.
        unsafe {
            &*self
                .0
                .as_ptr()
                .sub(size_of::<AtomicUsize>())
                .cast::<AtomicUsize>()
        }
    }

    /// Whether the path is kept for the process (else counted).
    #[cfg(test)]
    fn is_kept(&self) -> bool {
        self.word() & COUNTED == 0
    }

    /// Whether `a` and `b` are one allocation (not only the same bytes).
    pub fn ptr_eq(a: &SharedPath, b: &SharedPath) -> bool {
        a.0 == b.0
    }
}

impl Clone for SharedPath {
    fn clone(&self) -> SharedPath {
        if self.word() & COUNTED != 0 {
            // As `Arc` does: the clone is made from a holder, so the count cannot reach zero
            // meanwhile; overflowing it takes more holders than memory holds.
            self.count().fetch_add(1, Atomic::Relaxed);
        }
        SharedPath(self.0)
    }
}

impl Drop for SharedPath {
    fn drop(&mut self) {
        let word = self.word();
        if word & COUNTED == 0 || self.count().fetch_sub(1, Atomic::Release) != 1 {
            return;
        }
        std::sync::atomic::fence(Atomic::Acquire);
        #[cfg(test)]
        tests::LIVE.with(|live| live.set(live.get() - 1));
        let layout = counted_layout((word & !COUNTED) as usize);
        // SAFETY: the last holder frees the block it was made in, with the layout it was made
        // with.
        unsafe { dealloc(self.0.as_ptr().sub(size_of::<AtomicUsize>()), layout) }
    }
}

impl Deref for SharedPath {
    type Target = Path;

    fn deref(&self) -> &Path {
        let len = (self.word() & !COUNTED) as usize;
        // SAFETY: the length is followed by that many bytes, never changed nor freed while
        // there is a holder.
        let bytes = unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(4), len) };
        Path::new(OsStr::from_bytes(bytes))
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
        for kept in [false, true] {
            let made = |path: &str| SharedPath::made(Path::new(path), kept);
            let path = made("/home/me/.config/nvim");
            assert_eq!(&*path, Path::new("/home/me/.config/nvim"));
            let copy = path.clone();
            assert!(SharedPath::ptr_eq(&path, &copy));
            drop(path);
            assert_eq!(&*copy, Path::new("/home/me/.config/nvim"));
            let same_bytes = SharedPath::made(&PathBuf::from("/home/me/.config/nvim"), !kept);
            assert!(!SharedPath::ptr_eq(&copy, &same_bytes));
            assert_eq!(copy, same_bytes);
            // Compared and hashed as a `Path`: a set of them is looked up by `&Path`, and
            // `a//b` is `a/b`, as for `Path`.
            let set: HashSet<SharedPath> = [made("a//b")].into();
            assert!(set.contains(Path::new("a/b")));
            assert!(made("a") < made("b"));
            assert_eq!(&*made(""), Path::new(""));
            assert_eq!(format!("{:?}", made("/a b")), "\"/a b\"");
        }
    }

    thread_local! {
        /// How many counted paths this thread made, less those it freed.
        pub(super) static LIVE: Cell<isize> = const { Cell::new(0) };
    }

    #[test]
    fn a_counted_path_is_freed_with_its_last_holder_and_a_kept_one_never_counted() {
        let live = || LIVE.with(Cell::get);
        let before = live();
        let paths: Vec<SharedPath> = (0..100)
            .map(|i| SharedPath::made(Path::new(&format!("/h/{i}")), false))
            .collect();
        assert!(paths.iter().all(|p| !p.is_kept()));
        let copies = paths.clone();
        assert_eq!(live(), before + 100);
        drop(paths);
        assert_eq!(live(), before + 100, "freed while copies hold them");
        drop(copies);
        assert_eq!(live(), before);
        let kept = SharedPath::made(Path::new("/h/kept"), true);
        assert!(kept.is_kept() && kept.clone().is_kept());
        drop(kept);
        assert_eq!(live(), before);
    }

    #[test]
    fn paths_are_kept_where_the_process_keeps_them_except_where_counted() {
        assert!(!keeps(false));
        assert!(keeps(true));
        counted_paths(|| {
            assert!(!keeps(true));
            counted_paths(|| assert!(!keeps(true)));
            assert!(!keeps(true), "still counted after a nested scope");
            // Another thread is not in this one's scope.
            assert!(std::thread::spawn(|| keeps(true)).join().unwrap());
        });
        assert!(keeps(true));
        assert!(
            !SharedPath::new(Path::new("/h/x")).is_kept(),
            "counted by default"
        );
    }

    #[test]
    fn kept_paths_fill_blocks_and_long_ones_have_their_own() {
        // More than a block's worth, of every length up to past a quarter of a block, so
        // blocks end part full and long paths go elsewhere, in two threads at once.
        let name = |i: usize| "x".repeat(i % (BLOCK / 4 + 40));
        let make = move || {
            (0..3_000)
                .map(|i| (i, SharedPath::made(Path::new(&name(i * 7)), true)))
                .collect::<Vec<_>>()
        };
        let other = std::thread::spawn(make);
        for (i, path) in make().into_iter().chain(other.join().unwrap()) {
            assert_eq!(path.as_os_str().len(), name(i * 7).len());
            assert!(path.as_os_str().as_bytes().iter().all(|b| *b == b'x'));
        }
    }

    #[test]
    fn a_counted_path_is_held_until_its_last_holder_lets_go_in_any_thread() {
        let path = SharedPath::made(Path::new("/h/.config/app/file"), false);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        let copy = path.clone();
                        assert_eq!(&*copy, Path::new("/h/.config/app/file"));
                    }
                    path
                })
            })
            .collect();
        drop(path);
        for thread in threads {
            assert_eq!(&*thread.join().unwrap(), Path::new("/h/.config/app/file"));
        }
    }
}
