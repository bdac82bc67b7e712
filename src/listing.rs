//! Directory listings at the system-call floor: names and entry types straight from
//! `getdents64`, through one handle that is opened and closed once. `std::fs::read_dir` costs an
//! extra `fstat` per directory (glibc's `opendir` sizes its buffer with it), which on a
//! repository of a thousand directories is a thousand calls that tell nothing.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// An open directory, closed when dropped. (`OwnedFd` would do, but in debug builds it checks
/// every descriptor with an `fcntl` before closing it, which the system-call guard would count.)
pub struct Handle(std::os::fd::RawFd);

impl Handle {
    /// Open `dir` with `flags` (`O_DIRECTORY` and `O_CLOEXEC` are added).
    pub fn open(dir: &Path, flags: libc::c_int) -> io::Result<Handle> {
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: a valid NUL-terminated path; the descriptor is owned by the handle from here.
        let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Handle(fd))
    }

    pub fn fd(&self) -> std::os::fd::RawFd {
        self.0
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the descriptor was opened by `Handle::open` and is closed only here.
        unsafe { libc::close(self.0) };
    }
}

/// What a directory entry is, as the listing says (no `stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    File,
    Directory,
    Symlink,
    /// A fifo, socket or device.
    Special,
    /// The filesystem does not say: the caller must look.
    Unknown,
}

impl EntryType {
    pub fn is_dir(self) -> bool {
        self == EntryType::Directory
    }

    pub fn is_file(self) -> bool {
        self == EntryType::File
    }

    pub fn is_symlink(self) -> bool {
        self == EntryType::Symlink
    }

    fn of(meta: &std::fs::Metadata) -> EntryType {
        let t = meta.file_type();
        if t.is_file() {
            EntryType::File
        } else if t.is_dir() {
            EntryType::Directory
        } else if t.is_symlink() {
            EntryType::Symlink
        } else {
            EntryType::Special
        }
    }
}

/// One entry of a [`Walk`], lent by it: the path is built in the walk's own buffer, so an
/// entry a caller keeps is allocated by the caller, and one it does not keep costs nothing (a
/// walk of a large repository whose files the state records keeps none: see
/// `manifest::expand_sharing`).
#[derive(Debug, Clone, Copy)]
pub struct WalkEntry<'w> {
    pub path: &'w Path,
    /// Never [`EntryType::Unknown`]: the walk looks when the listing does not say.
    pub kind: EntryType,
}

/// A directory that could not be read during a [`Walk`].
#[derive(Debug)]
pub struct WalkError {
    pub path: PathBuf,
    pub error: io::Error,
}

/// Everything below a directory, depth first, each directory's entries sorted by name, without
/// following symlinks: one [`list`] per directory. Like `walkdir` without its `fstat` per
/// directory. `skip` leaves out an entry (by its path and type) and everything below it.
pub struct Walk<F> {
    max_depth: usize,
    skip: F,
    /// Per open level, its directory and the names still to yield in it: reversed, so the
    /// next one is last.
    stack: Vec<(PathBuf, Vec<(OsString, EntryType)>)>,
    /// The directory just yielded, to be listed on the next call unless skipped.
    descend: Option<PathBuf>,
    /// The path of the entry yielded last.
    path: Vec<u8>,
}

impl<F: FnMut(&Path, EntryType) -> bool> Walk<F> {
    /// The walk below `root` (not `root` itself), `max_depth` levels deep (1: its entries).
    pub fn new(root: &Path, max_depth: usize, skip: F) -> Walk<F> {
        Walk {
            max_depth,
            skip,
            stack: Vec::new(),
            descend: (max_depth > 0).then(|| root.to_path_buf()),
            path: Vec::new(),
        }
    }

    /// Do not go into the directory just yielded.
    pub fn skip_current_dir(&mut self) {
        self.descend = None;
    }

    /// The next entry, or why a directory could not be read.
    pub fn next_entry(&mut self) -> Option<Result<WalkEntry<'_>, WalkError>> {
        if let Some(dir) = self.descend.take()
            && let Err(e) = self.open(dir)
        {
            return Some(Err(e));
        }
        loop {
            let level = self.stack.len();
            let (dir, entries) = self.stack.last_mut()?;
            let Some((name, kind)) = entries.pop() else {
                self.stack.pop();
                continue;
            };
            // Built in the walk's buffer (as `paths::join` would), to be lent.
            self.path.clear();
            self.path.extend_from_slice(dir.as_os_str().as_bytes());
            crate::paths::push_separator(&mut self.path);
            self.path.extend_from_slice(name.as_bytes());
            let path = Path::new(std::ffi::OsStr::from_bytes(&self.path));
            if kind.is_dir() && level < self.max_depth {
                self.descend = Some(path.to_path_buf());
            }
            return Some(Ok(WalkEntry { path, kind }));
        }
    }

    fn open(&mut self, dir: PathBuf) -> Result<(), WalkError> {
        let mut listing = list(&dir).map_err(|error| WalkError {
            path: dir.clone(),
            error,
        })?;
        // By name, as bytes, before the names are joined: comparing joined paths by their
        // names parsed each one's components again (a tenth of expanding a large tree).
        listing.sort_unstable_by(|a, b| b.0.cmp(&a.0));
        let mut buf = Vec::new();
        let mut kept = Vec::with_capacity(listing.len());
        for (name, kind) in listing {
            let path = crate::paths::join_in(&dir, Path::new(&name), &mut buf);
            let kind = match kind {
                EntryType::Unknown => std::fs::symlink_metadata(path)
                    .map(|m| EntryType::of(&m))
                    .map_err(|error| WalkError {
                        path: path.to_path_buf(),
                        error,
                    })?,
                known => known,
            };
            if !(self.skip)(path, kind) {
                kept.push((name, kind));
            }
        }
        self.stack.push((dir, kept));
        Ok(())
    }
}

/// The entries of `dir` (without `.` and `..`), in the order the filesystem gives them.
#[cfg(target_os = "linux")]
pub fn list(dir: &Path) -> io::Result<Vec<(OsString, EntryType)>> {
    let handle = Handle::open(dir, libc::O_RDONLY)?;
    let mut entries = Vec::new();
    each_entry(&handle, |name, kind| {
        entries.push((name.to_os_string(), kind))
    })?;
    Ok(entries)
}

/// Each entry of the directory `handle` is open on (for reading, not `O_PATH`), without `.`
/// and `..`, in the order the filesystem gives them: names are lent, not allocated, so a
/// caller that keeps few of them pays for few.
#[cfg(target_os = "linux")]
pub fn each_entry(
    handle: &Handle,
    mut f: impl FnMut(&std::ffi::OsStr, EntryType),
) -> io::Result<()> {
    use std::ffi::OsStr;

    // A buffer of this size takes a directory of some 600 entries in one call. It is not
    // zeroed: the kernel fills what is read (zeroing 32 KiB per directory was a quarter of a
    // status run's instructions).
    let mut buf: Vec<u8> = Vec::with_capacity(32 * 1024);
    loop {
        // SAFETY: `buf` is writable for its whole capacity, `fd` is an open directory.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                handle.fd(),
                buf.as_mut_ptr(),
                buf.capacity(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        if n == 0 {
            return Ok(());
        }
        // SAFETY: the kernel wrote `n` bytes (at most the capacity) from the start.
        unsafe { buf.set_len(n as usize) };
        let mut at = 0;
        while at < buf.len() {
            // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
            let reclen = usize::from(u16::from_ne_bytes([buf[at + 16], buf[at + 17]]));
            let kind = buf[at + 18];
            let name = &buf[at + 19..at + reclen];
            let name = &name[..name.iter().position(|b| *b == 0).unwrap_or(name.len())];
            at += reclen;
            if name == b"." || name == b".." {
                continue;
            }
            let kind = match kind {
                libc::DT_REG => EntryType::File,
                libc::DT_DIR => EntryType::Directory,
                libc::DT_LNK => EntryType::Symlink,
                libc::DT_UNKNOWN => EntryType::Unknown,
                _ => EntryType::Special,
            };
            f(OsStr::from_bytes(name), kind);
        }
    }
}

/// The entries of `dir` (without `.` and `..`).
#[cfg(not(target_os = "linux"))]
pub fn list(dir: &Path) -> io::Result<Vec<(OsString, EntryType)>> {
    std::fs::read_dir(dir)?
        .map(|entry| {
            let entry = entry?;
            let kind = match entry.file_type() {
                Ok(t) if t.is_file() => EntryType::File,
                Ok(t) if t.is_dir() => EntryType::Directory,
                Ok(t) if t.is_symlink() => EntryType::Symlink,
                Ok(_) => EntryType::Special,
                Err(_) => EntryType::Unknown,
            };
            Ok((entry.file_name(), kind))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_kind_of_entry_without_dot_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), "x").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("nowhere", dir.path().join("link")).unwrap();
        // More names than one buffer holds.
        let many = dir.path().join("many");
        std::fs::create_dir(&many).unwrap();
        for i in 0..2000 {
            std::fs::write(many.join(format!("a-rather-long-file-name-{i:05}")), "").unwrap();
        }
        let mut top = list(dir.path()).unwrap();
        top.sort_by(|a, b| a.0.cmp(&b.0));
        let names = |v: &[(OsString, EntryType)]| {
            v.iter()
                .map(|(n, t)| (n.to_string_lossy().into_owned(), *t))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&top),
            vec![
                ("file".to_string(), EntryType::File),
                ("link".to_string(), EntryType::Symlink),
                ("many".to_string(), EntryType::Directory),
                ("sub".to_string(), EntryType::Directory),
            ]
        );
        assert_eq!(list(&many).unwrap().len(), 2000);
        assert!(list(&dir.path().join("absent")).is_err());
        // The walk: sorted, depth first, skipping what it is told to.
        std::fs::write(dir.path().join("sub/inner"), "").unwrap();
        let mut walk = Walk::new(dir.path(), usize::MAX, |path: &Path, _| {
            path.starts_with(&many)
        });
        let mut walked = Vec::new();
        while let Some(e) = walk.next_entry() {
            let e = e.unwrap();
            let rel = e.path.strip_prefix(dir.path()).unwrap().display();
            walked.push(format!("{rel}:{:?}", e.kind));
        }
        assert_eq!(
            walked,
            [
                "file:File",
                "link:Symlink",
                "sub:Directory",
                "sub/inner:File"
            ]
        );
        let mut shallow = Walk::new(dir.path(), 1, |_: &Path, _| false);
        let mut count = 0;
        while let Some(e) = shallow.next_entry() {
            e.unwrap();
            count += 1;
        }
        assert_eq!(count, 4);
        assert!(list(&dir.path().join("file")).is_err());
    }
}
