//! Filesystem primitives that must be atomic or careful, in one place: atomic file writes,
//! moving a file or tree (across filesystems by copy, then remove), keeping a second name for a
//! file, swapping two paths atomically, and removing a tree of empty directories.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// Write a new file at `path` whole, never over anything already there (`AlreadyExists`),
/// readable as the umask allows (a manifest, not a private file).
pub fn create_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".dotlink-new-")
        .tempfile_in(dir)?;
    temp.write_all(bytes)?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(shared_mode()))?;
    temp.as_file().sync_all()?;
    temp.persist_noclobber(path).map(drop).map_err(|e| e.error)
}

/// [`write_atomic`] for a file others read (a man page): a new one gets the mode the umask
/// allows, not the private mode dotlink's own files have.
pub fn write_shared(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let existed = path.symlink_metadata().is_ok();
    write_atomic(path, bytes)?;
    if !existed {
        fs::set_permissions(path, fs::Permissions::from_mode(shared_mode()))?;
    }
    Ok(())
}

/// 0666 less the process's umask.
// mode_t is u32 here and u16 on some platforms: the conversion is needed there.
#[allow(clippy::useless_conversion)]
fn shared_mode() -> u32 {
    // SAFETY: umask only swaps the process's mask; it is put back at once.
    let mask = unsafe {
        let mask = libc::umask(0o022);
        libc::umask(mask);
        mask
    };
    0o666 & !u32::from(mask)
}

/// Write `bytes` to `path` so that readers see either the old contents or the new, never a mix:
/// a temporary file in the same directory, flushed to disk, renamed over `path`. A file that is
/// replaced keeps its mode and owner; a new one is private to its owner.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// What [`write_atomic_with`] streams into: a concrete type, not `dyn Write`, so that a
/// serialiser's many small writes (a quote, a path, a comma) are copies into the buffer rather
/// than calls (a tenth of a first apply's instructions went to writing the journal).
pub type AtomicOut<'a> = io::BufWriter<&'a mut File>;

/// A sequence serialised as it is made, by a function that makes it anew each time it is
/// asked: what [`write_atomic_with`] streams out (a journal, a backup index) of thousands of
/// entries is never held whole.
pub struct Streamed<F>(pub F);

impl<I, F> serde::Serialize for Streamed<F>
where
    I: Iterator,
    I::Item: serde::Serialize,
    F: Fn() -> I,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

/// [`write_atomic`] for contents produced by `write` (streamed, never held in memory whole).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut AtomicOut<'_>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(dir)?;
    // Named for this process, so a run that takes over the lock of one that was killed
    // mid-write knows exactly which temporaries were that run's (see `temporaries_of`).
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}{}", temporary_tag(std::process::id())))
        .tempfile_in(dir)?;
    let mut out = io::BufWriter::with_capacity(64 * 1024, tmp.as_file_mut());
    write(&mut out)?;
    out.flush()?;
    drop(out);
    if let Ok(old) = fs::metadata(path) {
        // Only root may give a file away; anyone else writes their own files anyway. The owner
        // comes first: a chown clears the set-user-ID and set-group-ID bits of the mode.
        let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(old.uid()), Some(old.gid()));
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(old.permissions().mode()))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// What the temporary files of process `pid` have in their names.
fn temporary_tag(pid: u32) -> String {
    format!(".dotlink-tmp-{pid}-")
}

/// Remove, from each of `dirs`, the temporary files an atomic write of the (dead) process
/// `pid` left: the files there whose names say they were that process's temporaries.
pub fn remove_temporaries_of(pid: u32, dirs: &[&Path]) {
    let tag = temporary_tag(pid);
    for dir in dirs {
        let Ok(entries) = fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.')
                && name.contains(&tag)
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// Flush a directory's entries, so a rename in it survives a power loss. Best effort: some
/// filesystems refuse to fsync directories, and the rename itself is already atomic.
pub fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Move `from` to `to` (which must not exist). A rename when both are on one filesystem
/// (one that refuses to replace anything, so the check and the move are one step);
/// otherwise a copy under this process's partial name beside `to` ([`partial_name`]), renamed
/// to `to` when whole; only then is `from` renamed beside itself ([`moved_name`]), which frees
/// its name in one step, and removed there. A move that stops leaves `from` whole or gone (and
/// `to` whole), never half removed; it is refused before anything is copied when `from` could
/// not be removed whole ([`check_removable`]).
pub fn move_path(from: &Path, to: &Path) -> io::Result<()> {
    // Asked once: `getpid` is a system call, and a bootstrap backs up thousands of files.
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    move_path_as(from, to, *PID.get_or_init(std::process::id))
}

/// [`move_path`], its partial and moved names tagged with process `pid`: recovery tags its own
/// moves with the id of the run it finishes, so that a recovery stopped in turn leaves names
/// the journal accounts for.
pub fn move_path_as(from: &Path, to: &Path, pid: u32) -> io::Result<()> {
    let taken = || {
        io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists", to.display()),
        )
    };
    match rename_new(from, to) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(taken()),
        Err(e) if e.raw_os_error() == Some(libc_exdev()) => {
            if fs::symlink_metadata(to).is_ok() {
                return Err(taken());
            }
            check_removable(from, "moved to another filesystem")?;
            copy_whole(from, to, pid)?;
            let moved = moved_name(from, pid);
            if let Err(e) = rename_new(from, &moved) {
                // The original is untouched; the copy, this call's own, goes.
                let _ = remove_any(to);
                return Err(e);
            }
            remove_any(&moved).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "{} is moved to {}, but what is left of it at {} could not be removed: {e}",
                        from.display(),
                        to.display(),
                        moved.display()
                    ),
                )
            })
        }
        other => other,
    }
}

/// EXDEV ("cross-device link"), the same number on every Unix dotlink runs on.
const fn libc_exdev() -> i32 {
    18
}

/// Make `to` a second name for the file or symlink at `from` (a hard link), or a copy where
/// hard links are impossible (another filesystem). `from` is untouched either way.
pub fn link_or_copy(from: &Path, to: &Path) -> io::Result<()> {
    match fs::hard_link(from, to) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            copy_whole(from, to, std::process::id())
        }
        other => other,
    }
}

/// Copy `from` to `to` under the partial name, then rename it to `to` (which must not
/// exist). Something already at the partial name is never removed or written over: it is an
/// error (only recovery, which knows a dead run's copy, removes one).
fn copy_whole(from: &Path, to: &Path, pid: u32) -> io::Result<()> {
    let partial = partial_name(to, pid);
    if fs::symlink_metadata(&partial).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists", partial.display()),
        ));
    }
    if let Err(e) = copy_tree(from, &partial) {
        // What was built so far is this call's own (the name was free, and is this process's):
        // left, it would be a stray copy of the user's files, in the repository say.
        let _ = remove_any(&partial);
        return Err(e);
    }
    rename_new(&partial, to)
}

/// Whether all of `path` can be removed by [`remove_any`], checked before anything is done
/// (for a move across filesystems, before anything is copied), so that it is never left half
/// removed. Refused, with what is in the way: another filesystem mounted inside (its files are
/// not the tree's, and its mount point cannot be removed; a bind mount of this same filesystem
/// too), a directory of someone else's this user may not remove names from, a sticky directory
/// holding someone else's entry, an immutable or append-only entry, or a directory that cannot
/// be read and searched (what is in it cannot be checked). Mount points are also looked for in
/// the system's list of mounts, which sees files bind-mounted and mounts below a directory that
/// cannot be read. `doing` says what is refused: "moved to another filesystem", "removed".
pub fn check_removable(path: &Path, doing: &str) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        let check = Removable {
            root: path,
            dev: meta.dev(),
            doing,
            // SAFETY: geteuid has no preconditions.
            user: unsafe { libc::geteuid() },
        };
        if let Some(mount) = mount_below(path) {
            let why = "is a mount point (another filesystem, or a bind mount)";
            return Err(check.refused(&mount, io::ErrorKind::Other, why));
        }
        check.directory(path, &meta)?;
    }
    Ok(())
}

/// A mount point strictly below the directory `dir`, from the system's list of mounts
/// (`/proc/self/mountinfo`, where there is one): it sees what a walk cannot, a file
/// bind-mounted, or a mount below a directory that cannot be read.
fn mount_below(dir: &Path) -> Option<PathBuf> {
    let real = fs::canonicalize(dir).ok()?;
    crate::mounts::read()?.into_iter().find_map(|mount| {
        let inside = mount.point.strip_prefix(&real).ok()?;
        (!inside.as_os_str().is_empty()).then(|| dir.join(inside))
    })
}

/// The walk of [`check_removable`].
struct Removable<'a> {
    root: &'a Path,
    dev: u64,
    doing: &'a str,
    user: u32,
}

impl Removable<'_> {
    /// Why `at` stops the removal, as an error naming it below the tree (whose own name may be
    /// a temporary one).
    fn refused(&self, at: &Path, kind: io::ErrorKind, why: &str) -> io::Error {
        let what = match at.strip_prefix(self.root) {
            Ok(inside) if !inside.as_os_str().is_empty() => format!("{} in it", inside.display()),
            _ => "it".to_string(),
        };
        let doing = self.doing;
        io::Error::new(
            kind,
            format!("it cannot be {doing} whole: {what} {why}; nothing was changed"),
        )
    }

    fn directory(&self, dir: &Path, meta: &fs::Metadata) -> io::Result<()> {
        let attributes = Attributes::of(dir);
        if dir != self.root && (meta.dev() != self.dev || attributes.mount_root) {
            let why = "is a mount point (another filesystem, or a bind mount)";
            return Err(self.refused(dir, io::ErrorKind::Other, why));
        }
        if attributes.fixed {
            let why = "is immutable or append-only";
            return Err(self.refused(dir, io::ErrorKind::PermissionDenied, why));
        }
        let own = meta.uid() == self.user;
        if self.user != 0 && !can(dir, libc::R_OK | libc::X_OK) {
            let why = "is a directory this user may not read, so what is in it cannot be checked";
            return Err(self.refused(dir, io::ErrorKind::PermissionDenied, why));
        }
        let mut entries = fs::read_dir(dir)?.peekable();
        // An empty one is removed by a write to the directory it is in.
        if !own && self.user != 0 && entries.peek().is_some() && !can(dir, libc::W_OK | libc::X_OK)
        {
            let why = "is a directory this user may not remove files from";
            return Err(self.refused(dir, io::ErrorKind::PermissionDenied, why));
        }
        let sticky = meta.mode() & 0o1000 != 0;
        for entry in entries {
            let path = entry?.path();
            let entry_meta = fs::symlink_metadata(&path)?;
            if sticky && self.user != 0 && !own && entry_meta.uid() != self.user {
                let why = "is someone else's, in a sticky directory";
                return Err(self.refused(&path, io::ErrorKind::PermissionDenied, why));
            }
            if entry_meta.is_dir() {
                self.directory(&path, &entry_meta)?;
            } else if Attributes::of(&path).fixed {
                let why = "is immutable or append-only";
                return Err(self.refused(&path, io::ErrorKind::PermissionDenied, why));
            }
        }
        Ok(())
    }
}

/// What `statx` tells of a path (without following a symlink at it) beyond `lstat`, where the
/// kernel and the filesystem tell it.
#[derive(Default)]
struct Attributes {
    /// The root of a mount: another filesystem, or a bind mount of this one.
    mount_root: bool,
    /// Immutable or append-only: its entries (or itself) cannot be removed, even by root.
    fixed: bool,
}

impl Attributes {
    #[cfg(target_os = "linux")]
    fn of(path: &Path) -> Attributes {
        let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return Attributes::default();
        };
        // SAFETY: statx fills `buf` (plain integers, valid when zeroed) and reads `c_path`, a
        // valid C string, for the duration of the call.
        let buf = unsafe {
            let mut buf: libc::statx = std::mem::zeroed();
            let flags = libc::AT_SYMLINK_NOFOLLOW | libc::AT_STATX_SYNC_AS_STAT;
            if libc::statx(
                libc::AT_FDCWD,
                c_path.as_ptr(),
                flags,
                libc::STATX_TYPE,
                &mut buf,
            ) != 0
            {
                return Attributes::default();
            }
            buf
        };
        let has = |attribute: libc::c_int| {
            let attribute = attribute as u64;
            buf.stx_attributes_mask & attribute != 0 && buf.stx_attributes & attribute != 0
        };
        Attributes {
            mount_root: has(libc::STATX_ATTR_MOUNT_ROOT),
            fixed: has(libc::STATX_ATTR_IMMUTABLE) || has(libc::STATX_ATTR_APPEND),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn of(_: &Path) -> Attributes {
        Attributes::default()
    }
}

/// Whether this process may do `what` (`access` bits) to `path`.
fn can(path: &Path, what: libc::c_int) -> bool {
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c_path` is a valid C string for the duration of the call.
    unsafe { libc::access(c_path.as_ptr(), what) == 0 }
}

/// The name a copy across filesystems is built under beside `to` until it is whole: hidden,
/// and tagged as dotlink's and as process `pid`'s, so that it is never the name of something
/// else, an earlier backup of a file called `x.partial` say. A long name is shortened to fit.
pub fn partial_name(to: &Path, pid: u32) -> PathBuf {
    tagged_name(to, PARTIAL_TAG, pid)
}

/// The name the original of a move across filesystems takes beside itself once its copy is
/// whole, until it is removed: tagged as [`partial_name`] is, so recovery removes what a
/// stopped process `pid` left of it, and nothing else.
pub fn moved_name(from: &Path, pid: u32) -> PathBuf {
    tagged_name(from, MOVED_TAG, pid)
}

fn tagged_name(path: &Path, tag: &str, pid: u32) -> PathBuf {
    let tail = format!("{tag}{pid}");
    let name = path.file_name().unwrap_or_default().as_bytes();
    let keep = name.len().min(255 - 1 - tail.len());
    let mut partial = Vec::with_capacity(1 + keep + tail.len());
    partial.push(b'.');
    partial.extend_from_slice(&name[..keep]);
    partial.extend_from_slice(tail.as_bytes());
    path.with_file_name(std::ffi::OsStr::from_bytes(&partial))
}

const PARTIAL_TAG: &str = ".dotlink-partial-";
const MOVED_TAG: &str = ".dotlink-moved-";

/// Swap two paths in one atomic step (Linux `renameat2` with `RENAME_EXCHANGE`). Fails with
/// `Unsupported` (or the filesystem's error) where that is impossible; callers fall back.
pub fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        renameat2(a, b, libc::RENAME_EXCHANGE)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// Rename `from` to `to` only while nothing is at `to` (Linux `RENAME_NOREPLACE`; elsewhere a
/// check just before the rename).
pub fn rename_new(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        match renameat2(from, to, libc::RENAME_NOREPLACE) {
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {}
            other => return other,
        }
    }
    if fs::symlink_metadata(to).is_ok() {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
    }
    fs::rename(from, to)
}

/// `renameat2` with `flags`, both paths as given.
#[cfg(target_os = "linux")]
fn renameat2(a: &Path, b: &Path, flags: libc::c_uint) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them as given.
    let result = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            flags,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Copy a file, symlink or directory tree, keeping symlinks as symlinks and permissions.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    let file_type = meta.file_type();
    if file_type.is_symlink() {
        symlink(fs::read_link(from)?, to)?;
    } else if file_type.is_dir() {
        fs::create_dir(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else if file_type.is_file() {
        fs::copy(from, to)?;
    } else {
        // Opening a fifo to copy it would wait for a writer for ever.
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "{} is a fifo, socket or device, which cannot be copied to another filesystem",
                from.display()
            ),
        ));
    }
    keep_owner_mode_and_times(to, &meta)?;
    if file_type.is_file() {
        File::open(to)?.sync_all()?;
    }
    Ok(())
}

/// Give the copy at `to` what the original (`original`) has besides its contents, so that a
/// file moved to another filesystem looks as it did, not new and root's: run as root, its
/// owner and group; then its mode (after the owner, as a change of owner clears set-user-ID
/// and set-group-ID bits; a symlink has none); then its access and modification times (last,
/// by path, so that a read-only copy needs no opening for writing). The owner and the times
/// are best effort: a filesystem without owners (vfat) refuses, and the copy is still whole.
/// (Hard links between the files of a copied tree are not kept: each is a file of its own.)
fn keep_owner_mode_and_times(to: &Path, original: &fs::Metadata) -> io::Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let _ = std::os::unix::fs::lchown(to, Some(original.uid()), Some(original.gid()));
    }
    if !original.file_type().is_symlink() {
        fs::set_permissions(to, fs::Permissions::from_mode(original.mode()))?;
    }
    let Ok(path) = std::ffi::CString::new(to.as_os_str().as_bytes()) else {
        return Ok(());
    };
    let times = [
        libc::timespec {
            tv_sec: original.atime() as libc::time_t,
            tv_nsec: original.atime_nsec() as _,
        },
        libc::timespec {
            tv_sec: original.mtime() as libc::time_t,
            tv_nsec: original.mtime_nsec() as _,
        },
    ];
    // SAFETY: a valid NUL-terminated path and two timespecs.
    let _ = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            path.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    Ok(())
}

/// Whether `a` and `b` hold the same: the same kind, a symlink's same text, a file's same
/// bytes, a directory's same names holding the same (never following a symlink). What
/// [`copy_tree`] makes of `a` is the same as `a`.
pub fn same_contents(a: &Path, b: &Path) -> bool {
    let (Ok(meta_a), Ok(meta_b)) = (fs::symlink_metadata(a), fs::symlink_metadata(b)) else {
        return false;
    };
    let (kind_a, kind_b) = (meta_a.file_type(), meta_b.file_type());
    if kind_a.is_symlink() || kind_b.is_symlink() {
        return kind_a.is_symlink()
            && kind_b.is_symlink()
            && matches!((fs::read_link(a), fs::read_link(b)), (Ok(x), Ok(y)) if x.as_os_str() == y.as_os_str());
    }
    if kind_a.is_dir() || kind_b.is_dir() {
        let names = |dir: &Path| -> Option<Vec<std::ffi::OsString>> {
            let mut names: Vec<_> = fs::read_dir(dir)
                .ok()?
                .map(|e| e.map(|e| e.file_name()))
                .collect::<io::Result<_>>()
                .ok()?;
            names.sort();
            Some(names)
        };
        return kind_a.is_dir()
            && kind_b.is_dir()
            && match (names(a), names(b)) {
                (Some(x), Some(y)) if x == y => {
                    x.iter().all(|n| same_contents(&a.join(n), &b.join(n)))
                }
                _ => false,
            };
    }
    kind_a.is_file()
        && kind_b.is_file()
        && crate::plan::inspect::same_contents(a, b).unwrap_or(false)
}

/// Remove a file, symlink or whole directory tree (never following a symlink). Only for what
/// dotlink decided to remove (a tree already copied to its backup, an `overwrite`): a
/// directory in it that its owner made read-only (a Go module cache, say) is made writable
/// first, so the removal is not stopped half way.
pub fn remove_any(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if !meta.is_dir() {
        return fs::remove_file(path);
    }
    let mode = meta.permissions().mode();
    if mode & 0o700 != 0o700 {
        fs::set_permissions(path, fs::Permissions::from_mode(mode | 0o700))?;
    }
    for entry in fs::read_dir(path)? {
        remove_any(&entry?.path())?;
    }
    fs::remove_dir(path)
}

/// Make `dir` and whatever is missing above it, top first, each by `create` (`fs::create_dir`,
/// or that through the fault points); the directories made. Stopped by an error, it removes
/// those it made (each only while empty) before returning it.
pub fn make_missing_dirs(
    dir: &Path,
    create: impl Fn(&Path) -> io::Result<()>,
) -> io::Result<Vec<PathBuf>> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| fs::symlink_metadata(a).is_err())
        .collect();
    let mut made = Vec::with_capacity(missing.len());
    for dir in missing.into_iter().rev() {
        if let Err(e) = create(dir) {
            remove_made_dirs(&made);
            return Err(e);
        }
        made.push(dir.to_path_buf());
    }
    Ok(made)
}

/// Remove the directories in `made` (as [`make_missing_dirs`] made them, top first), the last
/// first, each only while empty: anything put in one since keeps it.
pub fn remove_made_dirs(made: &[PathBuf]) {
    for dir in made.iter().rev() {
        let _ = fs::remove_dir(dir);
    }
}

/// Remove `path` whole, its name freed first: renamed beside itself to its moved name for
/// process `pid` ([`moved_name`]), then removed there. Stopped part way, it leaves the name
/// free and a leftover that recovery removes by that exact name, never a half-removed `path`.
pub fn remove_whole(path: &Path, pid: u32) -> io::Result<()> {
    let moved = moved_name(path, pid);
    rename_new(path, &moved)?;
    remove_any(&moved)
}

/// Remove a directory tree that holds nothing but directories; fails, leaving the rest in
/// place, on the first entry that is anything else.
pub fn remove_empty_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            remove_empty_tree(&entry.path())?;
        }
    }
    fs::remove_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/file");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(
            fs::read_dir(dir.path().join("sub")).unwrap().count(),
            1,
            "no temp files left"
        );
    }

    #[test]
    fn same_contents_compares_kinds_texts_bytes_and_trees() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::create_dir_all(p.join("t/sub")).unwrap();
        fs::write(p.join("t/sub/f"), "x").unwrap();
        symlink("somewhere", p.join("t/l")).unwrap();
        copy_tree(&p.join("t"), &p.join("u")).unwrap();
        assert!(same_contents(&p.join("t"), &p.join("u")));
        fs::write(p.join("u/sub/f"), "y").unwrap();
        assert!(!same_contents(&p.join("t"), &p.join("u")));
        fs::write(p.join("u/sub/f"), "x").unwrap();
        fs::write(p.join("u/extra"), "").unwrap();
        assert!(!same_contents(&p.join("t"), &p.join("u")));
        assert!(!same_contents(&p.join("t/sub/f"), &p.join("t/l")));
        assert!(!same_contents(&p.join("t/sub/f"), &p.join("none")));
        fs::write(p.join("g"), "x").unwrap();
        assert!(same_contents(&p.join("t/sub/f"), &p.join("g")));
    }

    #[test]
    fn a_partial_copy_has_a_name_of_its_own_and_never_takes_another() {
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("x");
        let partial = partial_name(&to, 42);
        assert_eq!(partial.file_name().unwrap(), ".x.dotlink-partial-42");
        assert_ne!(partial_name(&to, 43), partial);
        let long = dir.path().join("n".repeat(255));
        assert!(partial_name(&long, u32::MAX).file_name().unwrap().len() <= 255);
        // Something at this process's partial name is an error, and stays as it is; an
        // earlier backup called `x.partial` is no concern at all.
        fs::write(dir.path().join("from"), "new").unwrap();
        fs::write(dir.path().join("x.partial"), "an earlier backup").unwrap();
        let mine = partial_name(&to, std::process::id());
        fs::write(&mine, "someone's").unwrap();
        let err = copy_whole(&dir.path().join("from"), &to, std::process::id()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&mine).unwrap(), b"someone's");
        fs::remove_file(&mine).unwrap();
        copy_whole(&dir.path().join("from"), &to, std::process::id()).unwrap();
        assert_eq!(fs::read(&to).unwrap(), b"new");
        assert_eq!(
            fs::read(dir.path().join("x.partial")).unwrap(),
            b"an earlier backup"
        );
        assert!(fs::symlink_metadata(&mine).is_err());
    }

    #[test]
    fn move_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, "a").unwrap();
        fs::write(&b, "b").unwrap();
        assert_eq!(
            move_path(&a, &b).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(fs::read(&b).unwrap(), b"b");
        // Nor an empty directory (which a plain rename of a directory replaces), nor a link
        // that leads nowhere.
        let (d, e, l) = (
            dir.path().join("d"),
            dir.path().join("e"),
            dir.path().join("l"),
        );
        fs::create_dir(&d).unwrap();
        fs::create_dir(&e).unwrap();
        std::os::unix::fs::symlink("nowhere", &l).unwrap();
        for (from, to) in [(&d, &e), (&a, &l)] {
            let err = move_path(from, to).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
            assert!(err.to_string().contains("already exists"), "{err}");
            assert!(fs::symlink_metadata(from).is_ok());
        }
        assert!(e.is_dir() && l.is_symlink());
    }

    #[test]
    fn exchange_swaps_a_directory_and_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let (d, l) = (dir.path().join("d"), dir.path().join("l"));
        fs::create_dir(&d).unwrap();
        fs::write(d.join("f"), "x").unwrap();
        symlink("somewhere", &l).unwrap();
        exchange(&l, &d).unwrap();
        assert_eq!(fs::read_link(&d).unwrap(), Path::new("somewhere"));
        assert_eq!(fs::read(l.join("f")).unwrap(), b"x");
    }

    #[test]
    fn link_or_copy_keeps_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, "a").unwrap();
        link_or_copy(&a, &b).unwrap();
        assert_eq!(fs::read(&a).unwrap(), b"a");
        assert_eq!(fs::read(&b).unwrap(), b"a");
    }

    #[test]
    fn copy_tree_keeps_symlinks_and_modes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::create_dir_all(src.join("d")).unwrap();
        fs::write(src.join("d/f"), "x").unwrap();
        fs::set_permissions(src.join("d/f"), fs::Permissions::from_mode(0o751)).unwrap();
        symlink("d/f", src.join("l")).unwrap();
        copy_tree(&src, &dir.path().join("dst")).unwrap();
        let dst = dir.path().join("dst");
        assert_eq!(fs::read(dst.join("d/f")).unwrap(), b"x");
        assert_eq!(
            fs::metadata(dst.join("d/f")).unwrap().permissions().mode() & 0o777,
            0o751
        );
        assert_eq!(fs::read_link(dst.join("l")).unwrap(), Path::new("d/f"));
    }

    #[test]
    fn copy_tree_keeps_times_and_refuses_a_fifo() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::create_dir_all(src.join("d")).unwrap();
        fs::write(src.join("d/f"), "x").unwrap();
        let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        for path in [src.join("d/f"), src.join("d")] {
            File::open(&path).unwrap().set_modified(old).unwrap();
        }
        copy_tree(&src, &dir.path().join("dst")).unwrap();
        for copied in ["dst/d/f", "dst/d"] {
            let meta = fs::metadata(dir.path().join(copied)).unwrap();
            assert_eq!(meta.modified().unwrap(), old, "{copied}");
            assert_eq!(meta.uid(), fs::metadata(&src).unwrap().uid());
        }
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let err = copy_tree(&fifo, &dir.path().join("fifo-copy")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        assert!(!dir.path().join("fifo-copy").exists());
    }

    #[test]
    fn remove_empty_tree_stops_at_content() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("t/a/b")).unwrap();
        remove_empty_tree(&dir.path().join("t")).unwrap();
        assert!(!dir.path().join("t").exists());
        fs::create_dir_all(dir.path().join("u/a")).unwrap();
        fs::write(dir.path().join("u/a/keep"), "k").unwrap();
        assert!(remove_empty_tree(&dir.path().join("u")).is_err());
        assert!(dir.path().join("u/a/keep").exists());
    }
}

/// What a filesystem can do, found by trying in a fresh temporary directory under `dir`
/// (removed again): a symlink, a hard link, and an atomic exchange of two names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abilities {
    pub symlink: bool,
    pub hardlink: bool,
    pub exchange: bool,
}

pub fn probe(dir: &Path) -> io::Result<Abilities> {
    remove_stale_probes(dir);
    let scratch = tempfile::Builder::new()
        .prefix(&probe_prefix(std::process::id()))
        .tempdir_in(dir)?;
    let at = scratch.path();
    fs::write(at.join("a"), b"a")?;
    fs::write(at.join("b"), b"b")?;
    let abilities = Abilities {
        symlink: std::os::unix::fs::symlink("a", at.join("s")).is_ok(),
        hardlink: fs::hard_link(at.join("a"), at.join("h")).is_ok(),
        exchange: exchange(&at.join("a"), &at.join("b")).is_ok() && fs::read(at.join("a"))? == b"b",
    };
    scratch.close()?;
    Ok(abilities)
}

/// The name a probe's directory starts with: the process's id, so a later probe can tell a
/// leftover of a process that died from one still at work.
fn probe_prefix(pid: u32) -> String {
    format!(".dotlink-probe-{pid}-")
}

/// Remove what probes of processes that no longer run left in `dir` (a Ctrl-C mid-probe), when
/// it holds exactly what a probe makes there (files `a` and `b` of one byte, the symlink `s` to
/// `a`, the hard link `h`): never a directory by its name alone.
fn remove_stale_probes(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(".dotlink-probe-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: kill with signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        let path = entry.path();
        if alive || !is_probe(&path) {
            continue;
        }
        let _ = fs::remove_dir_all(&path);
    }
}

/// Whether `path` is a directory holding only what a probe makes.
fn is_probe(path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    let Ok(entries) = fs::read_dir(path) else {
        return false;
    };
    meta.is_dir()
        && entries.flatten().all(|e| {
            let name = e.file_name();
            let Ok(m) = e.path().symlink_metadata() else {
                return false;
            };
            match name.to_str() {
                Some("a" | "b" | "h") => m.is_file() && m.len() == 1,
                Some("s") => fs::read_link(e.path()).is_ok_and(|t| t == Path::new("a")),
                _ => false,
            }
        })
}
