//! Read-only looks at the filesystem for the planner: what is at a path, and what a directory
//! really is once symlinks along the way are resolved.
//!
//! Both are shaped by cost, since `status` runs in shell prompts: [`look`] tries `readlink`
//! first, so an up-to-date symlink costs one system call, and [`Dirs`] resolves each directory
//! once per run, however many targets share it.

use super::model::{NotADirectory, Seen};
use crate::listing::Handle;
use crate::paths::SharedPath;
use crate::state::{PathSet, Record, SharedPathMap, SharedPathSet, State};
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What is at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Nothing,
    /// A symlink, with the path it stores: shared with the state's record of it when it is the
    /// text of its own the record says dotlink gave it.
    Symlink(SharedPath),
    /// A symlink holding, byte for byte, the default text (`link_text`) of a link at `target`
    /// to `source`, as the state's record of it says dotlink gave it (on a run with nothing to
    /// do, nearly every link): found without copying the text, the paths the record's.
    /// `target` is where it was looked at, as spelled then. [`Found::with_text`] makes it a
    /// `Symlink` for every decision but the one that keeps such a link.
    DefaultSymlink {
        target: SharedPath,
        source: SharedPath,
    },
    // Boxed: a look at an up-to-date link (a link text) is then 24 bytes, not 56, and a plan's
    // looks are held for every target at once.
    File(Box<FileId>),
    Directory(Box<FileId>),
    /// A fifo, socket or device.
    Special(Box<FileId>),
    /// A parent component is not a directory.
    NotADirectoryOnTheWay,
    /// The path could not be read (permission denied, …); the error text.
    Unreadable(String),
}

impl Found {
    /// What was found, a [`Found::DefaultSymlink`] with its text derived again.
    pub fn with_text(self) -> Found {
        match self {
            Found::DefaultSymlink { target, source } => Found::Symlink(
                crate::link_text::text(None, &target, &source)
                    .into_owned()
                    .into(),
            ),
            other => other,
        }
    }
}

/// What the state says dotlink left at a target, for a look there to compare with: a link
/// found holding that text is not copied.
#[derive(Debug, Clone, Copy)]
pub enum Expected<'a> {
    Nothing,
    /// A link text of its own.
    Text(&'a SharedPath),
    /// The default text of a link at `target` to `source` (`link_text`), in its parts.
    Default {
        parts: crate::link_text::Parts<'a>,
        target: &'a SharedPath,
        source: &'a SharedPath,
    },
}

/// Identity and size of a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub len: u64,
    /// Last modification (seconds, nanoseconds): with the size, what tells a file written
    /// anew from the one that was there, even when it got the same inode number.
    pub mtime: (i64, i64),
}

impl FileId {
    pub fn of(meta: &fs::Metadata) -> FileId {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            nlink: meta.nlink(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        }
    }

    pub fn same_inode(&self, other: &FileId) -> bool {
        self.dev == other.dev && self.ino == other.ino
    }
}

impl Seen {
    /// What the applier must find at a path for `found` to be still there: its link text, or
    /// its device and inode. Nothing for nothing (a new link cannot replace anything).
    pub fn of(found: &Found) -> Option<Seen> {
        match found {
            Found::Symlink(points_to) => Some(Seen::Symlink {
                points_to: points_to.to_path_buf(),
            }),
            Found::DefaultSymlink { target, source } => Some(Seen::Symlink {
                points_to: crate::link_text::text(None, target, source).into_owned(),
            }),
            Found::Directory(id) => Some(Seen::Directory {
                dev: id.dev,
                ino: id.ino,
                tree: None,
            }),
            Found::File(id) | Found::Special(id) => Some(Seen::Object {
                dev: id.dev,
                ino: id.ino,
                len: id.len,
                mtime: id.mtime,
            }),
            Found::Nothing | Found::NotADirectoryOnTheWay | Found::Unreadable(_) => None,
        }
    }

    /// Whether `path` still holds what was seen, asked with one call: `readlink` for a link,
    /// `lstat` for anything else (where [`look`] would try `readlink` first).
    pub fn is_at(&self, path: &Path) -> bool {
        match self {
            Seen::Symlink { points_to } => {
                fs::read_link(path).is_ok_and(|now| now.as_os_str() == points_to.as_os_str())
            }
            Seen::Object { .. } | Seen::Directory { .. } => {
                fs::symlink_metadata(path)
                    .is_ok_and(|m| !m.file_type().is_symlink() && self.is(&not_a_symlink(&m)))
                    && match self {
                        Seen::Directory {
                            tree: Some(tree), ..
                        } => tree.still_covers(path),
                        _ => true,
                    }
            }
        }
    }

    /// What an `overwrite` must find to remove it: for a directory, also what is in it (see
    /// [`TreeMark`]); one whose tree cannot be read is left to the removal, which says why.
    pub fn for_removal(self, path: &Path) -> Seen {
        match self {
            Seen::Directory { dev, ino, .. } => Seen::Directory {
                dev,
                ino,
                tree: super::model::TreeMark::of(path),
            },
            other => other,
        }
    }

    /// Whether `found` is what was seen, or a whole copy of a file seen, made by a move across
    /// filesystems (which keeps its size and modification time).
    pub fn is_or_copy(&self, found: &Found) -> bool {
        self.is(found)
            || matches!(
                (self, found),
                (Seen::Object { len, mtime, .. }, Found::File(id)) if (id.len, id.mtime) == (*len, *mtime)
            )
    }

    /// Whether `found` is still what was seen.
    pub fn is(&self, found: &Found) -> bool {
        match (self, found) {
            // By bytes: `a/` is not `a` to the kernel when `a` is a file.
            (Seen::Symlink { points_to }, Found::Symlink(now)) => {
                points_to.as_os_str() == now.as_os_str()
            }
            (Seen::Symlink { points_to }, Found::DefaultSymlink { target, source }) => {
                points_to.as_os_str() == crate::link_text::text(None, target, source).as_os_str()
            }
            (
                Seen::Object {
                    dev,
                    ino,
                    len,
                    mtime,
                },
                Found::File(id) | Found::Special(id),
            ) => (*dev, *ino, *len, *mtime) == (id.dev, id.ino, id.len, id.mtime),
            (Seen::Directory { dev, ino, .. }, Found::Directory(id)) => {
                (*dev, *ino) == (id.dev, id.ino)
            }
            _ => false,
        }
    }
}

/// Whether what was found at a target is exactly the link `record` says dotlink made there:
/// the same link text, byte for byte, or for a hard link the same device and inode.
/// Ownership is proven by this, never by the record alone.
pub fn holds(record: &Record, found: &Found) -> bool {
    match found {
        Found::Symlink(stored) => record
            .text()
            .is_some_and(|made| made.as_os_str() == stored.as_os_str()),
        Found::DefaultSymlink { target, source } => {
            record.method == crate::manifest::Method::Symlink
                && match &record.own_text {
                    None if record.target.as_os_str() == target.as_os_str()
                        && record.source.as_os_str() == source.as_os_str() =>
                    {
                        true
                    }
                    _ => record.text().is_some_and(|made| {
                        made.as_os_str() == crate::link_text::text(None, target, source).as_os_str()
                    }),
                }
        }
        Found::File(id) => record.inode() == Some((id.dev, id.ino)),
        _ => false,
    }
}

/// Whether a hard link found at a target (`id`) is still a second name of `source`: removing
/// or replacing it then loses nothing. (A git checkout or an editor's save by rename gives the
/// source a new inode, and the target is then the only copy of what it holds.)
pub fn shares_with_source(source: &Path, id: &FileId) -> bool {
    id.nlink > 1 && fs::symlink_metadata(source).is_ok_and(|m| FileId::of(&m).same_inode(id))
}

/// Whether the state records a link at `target` that `found` still is.
pub fn recorded(state: &State, target: &Path, found: &Found) -> bool {
    state.links.get(target).is_some_and(|r| holds(r, found))
}

/// What is at `path`, without following a symlink there.
pub fn look(path: &Path) -> Found {
    match fs::read_link(path) {
        Ok(stored) => return Found::Symlink(stored.into()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Found::Nothing,
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Found::NotADirectoryOnTheWay,
        // EINVAL: there is something, and it is not a symlink.
        Err(_) => {}
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::read_link(path)
            .map(|stored| Found::Symlink(stored.into()))
            .unwrap_or(Found::Nothing),
        Ok(meta) => not_a_symlink(&meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Found::Nothing,
        Err(e) => Found::Unreadable(crate::error::describe_io(&e)),
    }
}

/// What `meta` (of something that is not a symlink) says is there.
fn not_a_symlink(meta: &fs::Metadata) -> Found {
    let id = FileId::of(meta);
    match meta.file_type() {
        t if t.is_file() => Found::File(Box::new(id)),
        t if t.is_dir() => Found::Directory(Box::new(id)),
        _ => Found::Special(Box::new(id)),
    }
}

/// Looks at paths through a handle on their directory, kept open while consecutive paths share
/// it (the planner visits targets directory by directory): the kernel then resolves one name,
/// not the whole absolute path, for every target. A directory that is not there is tried once
/// for all the paths in it.
#[derive(Default)]
pub struct Looker {
    /// The last directory, and its handle or why it could not be opened.
    dir: Option<(PathBuf, io::Result<Handle>)>,
}

impl Looker {
    /// The same answer as [`look`].
    pub fn look(&mut self, path: &Path) -> Found {
        let (Some(parent), Some(name)) = crate::paths::parent_and_name(path) else {
            return look(path);
        };
        let same = self
            .dir
            .as_ref()
            .is_some_and(|(open, _)| open.as_os_str() == parent.as_os_str());
        if !same {
            self.dir = Some((parent.to_path_buf(), open_dir(parent)));
        }
        let (_, dir) = self.dir.as_ref().expect("opened above");
        look_in(dir, name, Expected::Nothing, || path.to_path_buf())
    }
}

/// What is at `name` in the directory `dir` is a handle on (or the error opening it gave):
/// the same answer as [`look`] at its whole `path`, which is built only when a look needs it.
/// A link whose text is `expected`'s, byte for byte, is not copied.
pub fn look_in(
    dir: &io::Result<Handle>,
    name: &OsStr,
    expected: Expected,
    path: impl FnOnce() -> PathBuf,
) -> Found {
    match dir {
        Ok(fd) => look_at(fd, name, expected).unwrap_or_else(|| look(&path())),
        // What `look` answers for any path in a directory that is not there.
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Found::Nothing,
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => Found::NotADirectoryOnTheWay,
        Err(_) => look(&path()),
    }
}

/// A handle on a directory good for `*at` calls (`O_PATH` needs only search permission).
pub(super) fn open_dir(dir: &Path) -> io::Result<Handle> {
    Handle::open(dir, LOOK_FLAGS)
}

/// How a directory is opened only to look at names in it.
#[cfg(target_os = "linux")]
pub(super) const LOOK_FLAGS: libc::c_int = libc::O_PATH;
#[cfg(not(target_os = "linux"))]
pub(super) const LOOK_FLAGS: libc::c_int = libc::O_RDONLY;

/// [`look`] for `name` in the directory `dir`; `None` when the answer needs the slow path.
fn look_at(dir: &Handle, name: &OsStr, expected: Expected) -> Option<Found> {
    // The name, NUL-terminated, on the stack: a name is at most 255 bytes (a longer one is
    // looked at the ordinary way, which says what is wrong with it).
    let mut c_name = [0u8; 256];
    let bytes = name.as_bytes();
    if bytes.len() >= c_name.len() || bytes.contains(&0) {
        return None;
    }
    c_name[..bytes.len()].copy_from_slice(bytes);
    let name = c_name.as_ptr().cast::<libc::c_char>();
    // Not zeroed (4 KiB per link was a tenth of a status run's instructions): only the bytes
    // the kernel writes are read.
    let mut buf = std::mem::MaybeUninit::<[u8; 4096]>::uninit();
    let len = 4096;
    // SAFETY: `dir` is an open descriptor, `name` is NUL-terminated, `buf` is writable for
    // `len` bytes.
    let n = unsafe { libc::readlinkat(dir.fd(), name, buf.as_mut_ptr().cast(), len) };
    if n >= 0 {
        let n = n as usize;
        // SAFETY: readlinkat wrote the first `n` bytes.
        let text = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
        // A target that fills the buffer may be cut short: read it the ordinary way.
        return (n < len).then(|| match expected {
            Expected::Text(same) if same.as_os_str().as_bytes() == text => {
                Found::Symlink(same.clone())
            }
            Expected::Default {
                parts,
                target,
                source,
            } if parts.are(text) => Found::DefaultSymlink {
                target: target.clone(),
                source: source.clone(),
            },
            _ => Found::Symlink(Path::new(OsStr::from_bytes(text)).into()),
        });
    }
    match io::Error::last_os_error().raw_os_error() {
        Some(libc::ENOENT) => return Some(Found::Nothing),
        Some(libc::ENOTDIR) => return Some(Found::NotADirectoryOnTheWay),
        Some(libc::EINVAL) => {}
        _ => return None,
    }
    // Something that is not a symlink: what kind?
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: as above; `stat` is written by fstatat before it is read.
    let ok =
        unsafe { libc::fstatat(dir.fd(), name, stat.as_mut_ptr(), libc::AT_SYMLINK_NOFOLLOW) } == 0;
    if !ok {
        return None;
    }
    // SAFETY: fstatat succeeded, so `stat` is initialised.
    let stat = unsafe { stat.assume_init() };
    // The widths of these fields differ between platforms; on some the casts are no-ops.
    #[allow(clippy::unnecessary_cast)]
    let id = FileId {
        dev: stat.st_dev as u64,
        ino: stat.st_ino as u64,
        nlink: stat.st_nlink as u64,
        len: stat.st_size as u64,
        mtime: (stat.st_mtime as i64, stat.st_mtime_nsec as i64),
    };
    Some(match stat.st_mode & libc::S_IFMT {
        libc::S_IFREG => Found::File(Box::new(id)),
        libc::S_IFDIR => Found::Directory(Box::new(id)),
        libc::S_IFLNK => return None,
        _ => Found::Special(Box::new(id)),
    })
}

/// What a directory on the way to a target really is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dir {
    /// It exists; `real` is its path with every symlink resolved. `via` is the last symlink
    /// passed through on the way, if any.
    Exists {
        real: SharedPath,
        via: Option<SharedPath>,
    },
    /// It does not exist yet. `first` is the highest missing directory (everything from there
    /// down must be created); `real` is where it will really be, `via` the last symlink on the
    /// way there.
    Missing {
        real: SharedPath,
        first: SharedPath,
        via: Option<SharedPath>,
    },
    /// Something that is not a directory is in the way at `at`.
    Blocked { at: PathBuf, why: NotADirectory },
}

impl Dir {
    /// Where this directory really is, or will be once created.
    pub fn real(&self) -> Option<&Path> {
        match self {
            Dir::Exists { real, .. } | Dir::Missing { real, .. } => Some(real),
            Dir::Blocked { .. } => None,
        }
    }
}

/// Resolves directories, caching every answer for the run. A directory's path is held once,
/// shared by its key, the set of those the survey saw and, where no symlink is on its way, its
/// real path (at 100,000 links there are some 10,000 directories).
pub struct Dirs {
    cache: SharedPathMap<Rc<Dir>>,
    /// The last directory asked for, compared by bytes before the cache is hashed:
    /// consecutive targets are mostly in one directory.
    last: Option<(PathBuf, Rc<Dir>)>,
    /// Symlinks that this run removes before anything is created below them: directories
    /// below them count as missing. Each one passed through is remembered in `used`.
    removed: PathSet,
    pub used: PathSet,
    /// Directories the survey opened without following a symlink at their name: real
    /// directories, taken as they are without a `stat` of their own.
    seen_directories: SharedPathSet,
}

impl Dirs {
    /// A resolver that already knows `home` (and so never walks the components above it).
    pub fn new(home: &Path, removed: PathSet) -> Dirs {
        Dirs::knowing(home, home.canonicalize().ok(), removed)
    }

    /// [`Dirs::new`] for the run's home directory, resolved when the run started.
    pub fn for_home(ctx: &crate::context::Context, removed: PathSet) -> Dirs {
        match ctx.home_is_real {
            true => Dirs::knowing(&ctx.home, Some(ctx.home.clone()), removed),
            false => Dirs::new(&ctx.home, removed),
        }
    }

    /// A resolver that knows `home` is really at `real`, if it is anywhere.
    fn knowing(home: &Path, real: Option<PathBuf>, removed: PathSet) -> Dirs {
        let mut cache = SharedPathMap::default();
        if let Some(real) = real {
            let real = SharedPath::from(real);
            cache.insert(home.into(), Rc::new(Dir::Exists { real, via: None }));
        }
        Dirs {
            cache,
            last: None,
            removed,
            used: PathSet::default(),
            seen_directories: SharedPathSet::default(),
        }
    }

    /// Where the home directory really is.
    pub fn real_home(&mut self, home: &Path) -> PathBuf {
        self.resolve(home).real().unwrap_or(home).to_path_buf()
    }

    /// Treat the symlinks in `removed` as gone from now on: this run removes them before it
    /// creates anything below them.
    pub fn set_removed(&mut self, removed: PathSet) {
        self.last = None;
        self.cache
            .retain(|p, _| !p.ancestors().any(|a| removed.contains(a)));
        self.removed = removed;
    }

    /// Take `dirs` as real directories (each was opened, a moment ago, without following a
    /// symlink at its name) rather than look at each again.
    pub fn seen_directories(&mut self, dirs: SharedPathSet) {
        // About as many directories are resolved as the survey saw: room for them at once, as
        // each growth hashes every path again.
        self.cache.reserve(dirs.len());
        self.seen_directories = dirs;
    }

    /// Treat `path` as gone from now on: this run removes what is there before it creates
    /// anything below it.
    pub fn assume_removed(&mut self, path: &Path) {
        self.removed.insert(path.to_path_buf());
        self.last = None;
        self.cache.retain(|p, _| !p.starts_with(path));
    }

    pub fn resolve(&mut self, dir: &Path) -> Rc<Dir> {
        if let Some((last, found)) = &self.last
            && last.as_os_str() == dir.as_os_str()
        {
            return found.clone();
        }
        let found = self.resolve_uncached(dir);
        // The last path's buffer is reused: this runs whenever the directory changes.
        match &mut self.last {
            Some((last, last_found)) => {
                let last = last.as_mut_os_string();
                last.clear();
                last.push(dir.as_os_str());
                *last_found = found.clone();
            }
            None => self.last = Some((dir.to_path_buf(), found.clone())),
        }
        found
    }

    fn resolve_uncached(&mut self, dir: &Path) -> Rc<Dir> {
        if let Some(found) = self.cache.get(dir) {
            return found.clone();
        }
        // The survey's copy of the path, if it saw the directory.
        let key = match self.seen_directories.get(dir) {
            Some(seen) => seen.clone(),
            None => SharedPath::from(dir),
        };
        let resolved = match crate::paths::parent_and_name(dir) {
            (Some(parent), Some(name)) => {
                let above = self.resolve(parent);
                // Below a directory that really is where it is spelled, so is this one, if
                // spelled plainly (every path the planner resolves is; `a/./b` is not `a/b`).
                let plain = crate::paths::is_plain(dir.as_os_str().as_bytes());
                let real_below =
                    |real: &SharedPath| match plain && real.as_os_str() == parent.as_os_str() {
                        true => key.clone(),
                        false => SharedPath::from(real.join(name)),
                    };
                match &*above {
                    Dir::Blocked { .. } => above.clone(),
                    Dir::Missing { real, first, via } => Rc::new(Dir::Missing {
                        real: real_below(real),
                        first: first.clone(),
                        via: via.clone(),
                    }),
                    Dir::Exists { real, via } => {
                        let real = real_below(real);
                        Rc::new(self.step(&key, real, via))
                    }
                }
            }
            _ => Rc::new(Dir::Exists {
                real: key.clone(),
                via: None,
            }),
        };
        self.cache.insert(key, resolved.clone());
        resolved
    }

    /// One component below an existing directory.
    fn step(&mut self, dir: &SharedPath, real: SharedPath, via: &Option<SharedPath>) -> Dir {
        if self.removed.contains(&**dir) {
            self.used.insert(dir.to_path_buf());
            return Dir::Missing {
                real,
                first: dir.clone(),
                via: via.clone(),
            };
        }
        if self.seen_directories.contains(&**dir) {
            return Dir::Exists {
                real,
                via: via.clone(),
            };
        }
        match fs::symlink_metadata(dir) {
            Ok(meta) if meta.is_dir() => Dir::Exists {
                real,
                via: via.clone(),
            },
            Ok(meta) if meta.file_type().is_symlink() => match dir.canonicalize() {
                Ok(target) if target.is_dir() => Dir::Exists {
                    real: target.into(),
                    via: Some(dir.clone()),
                },
                Ok(target) => Dir::Blocked {
                    at: dir.to_path_buf(),
                    why: NotADirectory::SymlinkToNonDirectory { points_to: target },
                },
                Err(_) => Dir::Blocked {
                    at: dir.to_path_buf(),
                    why: NotADirectory::DanglingSymlink,
                },
            },
            Ok(_) => Dir::Blocked {
                at: dir.to_path_buf(),
                why: NotADirectory::File,
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => Dir::Missing {
                real,
                first: dir.clone(),
                via: via.clone(),
            },
            Err(e) => Dir::Blocked {
                at: dir.to_path_buf(),
                why: NotADirectory::Unreadable {
                    error: crate::error::describe_io(&e),
                },
            },
        }
    }
}

/// The directories from `first` down to `dir`, top first: what must be created for `dir`.
/// Both are normalised, as the resolver is given them, so bytes are compared: `Path`'s own
/// `starts_with` parses components, for every missing target of a first apply.
pub fn missing_chain(first: &Path, dir: &Path) -> Vec<PathBuf> {
    let mut chain: Vec<PathBuf> = crate::paths::ancestors(dir)
        .take_while(|a| crate::paths::below(a, first).is_some())
        .map(Path::to_path_buf)
        .collect();
    chain.reverse();
    chain
}

/// Whether two regular files have the same bytes.
pub fn same_contents(a: &Path, b: &Path) -> io::Result<bool> {
    use std::io::Read;
    let (mut fa, mut fb) = (fs::File::open(a)?, fs::File::open(b)?);
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(fb.read(&mut bb[..1])? == 0);
        }
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn look_tells_each_kind_apart() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(p.join("f"), "x").unwrap();
        fs::create_dir(p.join("d")).unwrap();
        symlink("nowhere", p.join("l")).unwrap();
        assert!(matches!(look(&p.join("f")), Found::File(id) if id.len == 1 && id.nlink == 1));
        assert!(matches!(look(&p.join("d")), Found::Directory(_)));
        assert_eq!(
            look(&p.join("l")),
            Found::Symlink(Path::new("nowhere").into())
        );
        assert_eq!(look(&p.join("none")), Found::Nothing);
        assert_eq!(look(&p.join("f/below")), Found::NotADirectoryOnTheWay);
    }

    #[test]
    fn seen_is_at_a_path_exactly_when_it_is_what_look_finds() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(p.join("f"), "x").unwrap();
        fs::create_dir(p.join("d")).unwrap();
        symlink("nowhere", p.join("l")).unwrap();
        fs::write(p.join("other"), "x").unwrap();
        let names = ["f", "d", "l", "other", "none"];
        let seen: Vec<Seen> = names
            .iter()
            .filter_map(|n| Seen::of(&look(&p.join(n))))
            .collect();
        assert_eq!(seen.len(), 4);
        for s in &seen {
            for n in names {
                let at = p.join(n);
                assert_eq!(s.is_at(&at), s.is(&look(&at)), "{s:?} at {n}");
            }
        }
        // Each is at its own place only; a file rewritten in place, or swapped for a link to
        // it or a directory, is not what was seen.
        assert!(seen[0].is_at(&p.join("f")) && !seen[0].is_at(&p.join("other")));
        fs::write(p.join("f"), "longer").unwrap();
        assert!(!seen[0].is_at(&p.join("f")));
        fs::rename(p.join("d"), p.join("d2")).unwrap();
        symlink("d2", p.join("d")).unwrap();
        assert!(!seen[1].is_at(&p.join("d")));
        fs::remove_file(p.join("l")).unwrap();
        symlink("elsewhere", p.join("l")).unwrap();
        assert!(!seen[2].is_at(&p.join("l")));
    }

    #[test]
    fn the_looker_agrees_with_look() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(p.join("f"), "x").unwrap();
        fs::create_dir(p.join("d")).unwrap();
        symlink("nowhere", p.join("l")).unwrap();
        symlink("x".repeat(4095), p.join("long")).unwrap();
        let mut looker = Looker::default();
        symlink("f", p.join("lf")).unwrap();
        // Two paths in each directory that is not there (missing, a file, a dangling link, a
        // link to a file): the second is answered from the first's failure.
        for name in [
            "f", "d", "l", "long", "none", "f/below", "d/none", "nodir/x", "nodir/y", "f/a", "f/b",
            "l/x", "l/y", "lf/x", "lf/y", "d/none", "d",
        ] {
            assert_eq!(looker.look(&p.join(name)), look(&p.join(name)), "{name}");
        }
        assert_eq!(looker.look(&p.join("nodir/z")), Found::Nothing);
        assert_eq!(looker.look(&p.join("lf/z")), Found::NotADirectoryOnTheWay);
    }

    /// A temporary directory (kept while the first value lives) and its real path, holding the
    /// directories `below` (`real/...`) and `link`, a symlink to `real`.
    fn real_and_link(below: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().canonicalize().unwrap();
        fs::create_dir_all(p.join(below)).unwrap();
        symlink(p.join("real"), p.join("link")).unwrap();
        (dir, p)
    }

    #[test]
    fn dirs_resolve_symlinks_and_missing_parts() {
        let (_dir, p) = real_and_link("real/sub");
        fs::write(p.join("file"), "").unwrap();
        let mut dirs = Dirs::new(&p, PathSet::default());
        assert_eq!(
            *dirs.resolve(&p.join("link/sub")),
            Dir::Exists {
                real: p.join("real/sub").into(),
                via: Some(p.join("link").into())
            }
        );
        assert_eq!(
            *dirs.resolve(&p.join("link/new/deeper")),
            Dir::Missing {
                real: p.join("real/new/deeper").into(),
                first: p.join("link/new").into(),
                via: Some(p.join("link").into())
            }
        );
        assert!(
            matches!(&*dirs.resolve(&p.join("file/x")), Dir::Blocked { at, .. } if *at == p.join("file"))
        );
    }

    #[test]
    fn a_directory_where_it_is_spelled_holds_its_path_once() {
        let (_dir, p) = real_and_link("real/sub/deeper");
        let mut dirs = Dirs::new(&p, PathSet::default());
        let seen = SharedPath::from(p.join("real/sub"));
        dirs.seen_directories(SharedPathSet::from_iter([seen.clone()]));
        // Its key, its real path and, where the survey saw it, the survey's copy: one path.
        for (at, seen_by_survey) in [("real/sub", true), ("real/sub/deeper", false)] {
            let at = p.join(at);
            let found = dirs.resolve(&at);
            let Dir::Exists { real, via: None } = &*found else {
                panic!("{found:?}")
            };
            let (key, _) = dirs.cache.get_key_value(at.as_path()).unwrap();
            assert!(SharedPath::ptr_eq(real, key), "{at:?}");
            assert_eq!(SharedPath::ptr_eq(key, &seen), seen_by_survey, "{at:?}");
        }
        // Spelled other than plainly, where it really is is its plain spelling.
        for spelled in ["real/sub/deeper/", "real//sub/deeper", "real/./sub/deeper"] {
            let mut dirs = Dirs::new(&p, PathSet::default());
            let found = dirs.resolve(&p.join(spelled));
            let Dir::Exists { real, via: None } = &*found else {
                panic!("{found:?}")
            };
            let plain = p.join("real/sub/deeper");
            assert_eq!(real.as_os_str(), plain.as_os_str(), "{spelled}");
        }
        // Through a symlink, where it really is is a path of its own.
        let found = dirs.resolve(&p.join("link/sub"));
        let Dir::Exists {
            real,
            via: Some(via),
        } = &*found
        else {
            panic!("{found:?}")
        };
        assert_eq!((&**real, &**via), (&*p.join("real/sub"), &*p.join("link")));
    }

    #[test]
    fn removed_links_count_as_missing() {
        let (_dir, p) = real_and_link("real");
        let mut dirs = Dirs::new(&p, PathSet::from_iter([p.join("link")]));
        assert!(
            matches!(&*dirs.resolve(&p.join("link/x")), Dir::Missing { first, .. } if **first == *p.join("link"))
        );
        assert!(dirs.used.contains(&p.join("link")));
    }

    #[test]
    fn a_directory_seen_is_taken_as_it_is_unless_removed() {
        let (_dir, p) = real_and_link("real/sub");
        let mut dirs = Dirs::new(&p, PathSet::from_iter([p.join("gone")]));
        dirs.seen_directories(SharedPathSet::from_iter([
            p.join("link/sub").into(),
            p.join("gone").into(),
        ]));
        // Its real place still comes from resolving what is above it.
        assert_eq!(
            *dirs.resolve(&p.join("link/sub")),
            Dir::Exists {
                real: p.join("real/sub").into(),
                via: Some(p.join("link").into())
            }
        );
        assert!(matches!(
            &*dirs.resolve(&p.join("gone")),
            Dir::Missing { .. }
        ));
    }

    #[test]
    fn missing_chain_lists_top_down() {
        assert_eq!(
            missing_chain(Path::new("/h/a"), Path::new("/h/a/b/c")),
            vec![
                PathBuf::from("/h/a"),
                PathBuf::from("/h/a/b"),
                PathBuf::from("/h/a/b/c")
            ]
        );
        // Bytes are compared at a separator, as `Path::starts_with` compares components.
        assert!(missing_chain(Path::new("/h/a"), Path::new("/h/ab/c")).is_empty());
        assert_eq!(
            missing_chain(Path::new("/"), Path::new("/a")),
            [Path::new("/"), Path::new("/a")]
        );
        assert_eq!(
            missing_chain(Path::new("/h/a"), Path::new("/h/a")),
            [Path::new("/h/a")]
        );
    }

    #[test]
    fn same_contents_compares_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(p.join("a"), "same").unwrap();
        fs::write(p.join("b"), "same").unwrap();
        fs::write(p.join("c"), "diff").unwrap();
        assert!(same_contents(&p.join("a"), &p.join("b")).unwrap());
        assert!(!same_contents(&p.join("a"), &p.join("c")).unwrap());
    }
}
