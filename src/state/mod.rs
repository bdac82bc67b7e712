//! The state file: which links dotlink made, so it can prune them later and tell its own links
//! from foreign ones. One file per manifest under `$XDG_STATE_HOME/dotlink/`, written
//! atomically by the applier, while a lock on the manifest keeps other writing runs out. Its
//! format is in `format.rs`.
//!
//! The state is advisory. An unreadable or stale state file never stops a run: it is dropped
//! with a note, and the only thing lost is the ability to prune what it recorded.

pub mod backup;
mod format;
mod links;
mod lock;
mod made_dirs;
mod moved;
pub mod remembered;

pub use links::Links;
pub use lock::Lock;
pub use made_dirs::{DirId, MadeDirs, dir_id, same_dir};
pub use moved::Moved;

use crate::link_text;
use crate::manifest::Method;
use crate::paths::SharedPath;
use crate::paths::serde_path;
pub(crate) use format::VERSION;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One link dotlink made. Its paths are shared with the plan's step for the same link (a
/// state and a plan hold one of each per link for the whole run), and have no spare capacity.
/// Two are equal when they say the same ([`RecordRef::matches`]). Written as a
/// [`RecordRef`] is, and read as [`Read`] is.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "Read")]
pub struct Record {
    pub target: SharedPath,
    pub source: SharedPath,
    pub method: Method,
    /// For a symlink: the path it stores, where that is not its default text ([`link_text`]);
    /// none where it is (the usual case), and for a hard link. A version 1 (JSON) state and a
    /// journal name it `spelling`, and hold it whole.
    pub own_text: Option<SharedPath>,
    /// For a hard link: the device and inode it shares with its source. Boxed, as most links
    /// are symlinks: a state holds one record per link (56 bytes a record unboxed, 40 boxed).
    pub inode: Option<Box<(u64, u64)>>,
}

/// A [`Record`] as a version 1 state and a journal write it: with its link text whole.
#[derive(Deserialize)]
struct Read {
    #[serde(with = "serde_path")]
    target: SharedPath,
    #[serde(with = "serde_path")]
    source: SharedPath,
    method: Method,
    #[serde(deserialize_with = "serde_path::option::deserialize", default)]
    spelling: Option<SharedPath>,
    #[serde(default)]
    inode: Option<Box<(u64, u64)>>,
}

impl From<Read> for Record {
    /// A symlink written without its text matched no link: no text held means the default
    /// one now, so it is held as an empty text, which still matches none.
    fn from(read: Read) -> Record {
        let own_text = match (read.method, read.spelling) {
            (Method::Symlink, None) => Some(Path::new("").into()),
            (_, spelling) => spelling,
        };
        Record {
            target: read.target,
            source: read.source,
            method: read.method,
            own_text,
            inode: read.inode,
        }
    }
}

impl Record {
    /// For a hard link: the device and inode it shares with its source.
    pub fn inode(&self) -> Option<(u64, u64)> {
        self.inode.as_deref().copied()
    }

    /// For a symlink: the path it stores, derived where it is the default text.
    pub fn text(&self) -> Option<Cow<'_, Path>> {
        (self.method == Method::Symlink)
            .then(|| link_text::text(self.own_text.as_ref(), &self.target, &self.source))
    }

    pub fn as_ref(&self) -> RecordRef<'_> {
        RecordRef {
            target: &self.target,
            source: &self.source,
            method: self.method,
            own_text: self.own_text.as_ref(),
            inode: self.inode(),
        }
    }
}

impl PartialEq for Record {
    fn eq(&self, other: &Record) -> bool {
        self.as_ref().matches(other)
    }
}

impl Eq for Record {}

/// A [`Record`] borrowed from elsewhere (a plan step), written exactly as a `Record` is.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    pub target: &'a SharedPath,
    pub source: &'a SharedPath,
    pub method: Method,
    /// As [`Record::own_text`].
    pub own_text: Option<&'a SharedPath>,
    pub inode: Option<(u64, u64)>,
}

/// A record as it is written (in a journal): with its link text whole, the default one too,
/// so that a dotlink that holds every text (an older one) reads what the link holds.
#[derive(Serialize)]
struct Written<'a> {
    #[serde(serialize_with = "serde_path::serialize")]
    target: &'a SharedPath,
    #[serde(serialize_with = "serde_path::serialize")]
    source: &'a SharedPath,
    method: Method,
    #[serde(
        serialize_with = "serde_path::option::serialize",
        skip_serializing_if = "Option::is_none"
    )]
    spelling: Option<Cow<'a, Path>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inode: Option<(u64, u64)>,
}

impl Serialize for RecordRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Written {
            target: self.target,
            source: self.source,
            method: self.method,
            spelling: self.text(),
            inode: self.inode,
        }
        .serialize(serializer)
    }
}

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.as_ref().serialize(serializer)
    }
}

impl<'a> RecordRef<'a> {
    pub fn to_record(self) -> Record {
        Record {
            target: self.target.clone(),
            source: self.source.clone(),
            method: self.method,
            own_text: self.own_text.cloned(),
            inode: self.inode.map(Box::new),
        }
    }

    /// For a symlink: the path it stores, derived where it is the default text.
    pub fn text(&self) -> Option<Cow<'a, Path>> {
        (self.method == Method::Symlink)
            .then(|| link_text::text(self.own_text, self.target, self.source))
    }

    /// Whether `record` says the same. The link text is compared byte for byte, as ownership
    /// is proven by it (`inspect::holds`): `../d/` is not the text `../d`, though the same path.
    /// A text held that is the default one is the same as none held.
    pub fn matches(&self, record: &Record) -> bool {
        record.target == *self.target
            && record.source == *self.source
            && record.method == self.method
            && match (&record.own_text, self.own_text) {
                (None, None) => true,
                _ => {
                    record.text().as_deref().map(Path::as_os_str)
                        == self.text().as_deref().map(Path::as_os_str)
                }
            }
            && record.inode() == self.inode
    }
}

/// What dotlink has made for one manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// Links by target.
    pub links: Links,
    /// Directories dotlink created to hold links; removed again when they become empty.
    pub dirs: MadeDirs,
}

/// Where one manifest's state and journal live.
#[derive(Debug, Clone)]
pub struct Files {
    pub manifest: PathBuf,
    /// The home the state's targets are written relative to.
    pub home: PathBuf,
    pub state: PathBuf,
    /// Where a dotlink before state version 2 kept this state (JSON), migrated on first write.
    pub legacy_state: PathBuf,
    pub journal: PathBuf,
    /// The lock every writing run on this home holds (one per state directory).
    pub lock: PathBuf,
}

impl Files {
    /// The files for the manifest at `manifest` (an absolute path) managing `home`, in
    /// `state_dir`.
    pub fn for_manifest(state_dir: &Path, manifest: &Path, home: &Path) -> Files {
        let canonical = manifest
            .canonicalize()
            .unwrap_or_else(|_| manifest.to_path_buf());
        let repo_name = canonical
            .parent()
            .and_then(Path::file_name)
            .map(|n| {
                n.to_string_lossy().replace(
                    |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_',
                    "_",
                )
            })
            .unwrap_or_else(|| "root".to_string());
        let stem = format!(
            "{repo_name}-{:016x}",
            fnv1a(canonical.as_os_str().as_encoded_bytes())
        );
        Files {
            manifest: canonical,
            home: home.to_path_buf(),
            state: state_dir.join(format!("{stem}.state")),
            legacy_state: state_dir.join(format!("{stem}.json")),
            journal: state_dir.join(format!("{stem}.journal.json")),
            lock: state_dir.join("lock"),
        }
    }

    /// Read the state. Both files are read when both are there (an older dotlink may have
    /// written version 1 after this one wrote version 2): their records are merged, the newer
    /// file's winning, so no record is lost. A missing file is an empty state; an unreadable or
    /// corrupt one is an empty state plus the problem, never an error.
    pub fn load(&self) -> (State, Option<StateFileProblem>) {
        let (state, problem, _) = self.load_stamped();
        (state, problem)
    }

    /// [`Files::load`], and what each file was when it was read, to tell later whether it is
    /// still so ([`Files::still_as`]).
    pub fn load_stamped(&self) -> (State, Option<StateFileProblem>, [Stamp; 2]) {
        let mut problem = None;
        let mut stamps = [Stamp::Unknown, Stamp::Unknown];
        let mut read = |path: &Path, stamp: &mut Stamp| match read_state_file(path) {
            Ok(found) => {
                *stamp = found.as_ref().map_or(Stamp::Missing, |f| f.2.clone());
                found.map(|(state, written, _)| (state, written))
            }
            Err(p) => {
                problem.get_or_insert(p);
                None
            }
        };
        let [stamp_current, stamp_legacy] = &mut stamps;
        let (current, legacy) = (
            read(&self.state, stamp_current),
            read(&self.legacy_state, stamp_legacy),
        );
        let state = match (current, legacy) {
            (Some((a, a_time)), Some((b, b_time))) => {
                let (mut older, newer) = if a_time >= b_time { (b, a) } else { (a, b) };
                older.links.extend(newer.links.into_records());
                older.dirs.extend(newer.dirs);
                older
            }
            (Some((state, _)), None) | (None, Some((state, _))) => state,
            (None, None) => State::default(),
        };
        (state, problem, stamps)
    }

    /// Whether both state files are still what `stamps` says they were when read: a save
    /// replaces a file by renaming a new one over it, so any save since changes its stamp.
    pub fn still_as(&self, stamps: &[Stamp; 2]) -> bool {
        [&self.state, &self.legacy_state]
            .iter()
            .zip(stamps)
            .all(|(path, stamp)| match (stamp, fs::symlink_metadata(path)) {
                (Stamp::Missing, Err(e)) => e.kind() == io::ErrorKind::NotFound,
                (Stamp::File(was), Ok(meta)) => *was == FileStamp::of(&meta),
                _ => false,
            })
    }

    /// Whether a version 1 file is still there: the next save migrates it.
    pub fn needs_migration(&self) -> bool {
        fs::symlink_metadata(&self.legacy_state).is_ok_and(|m| m.is_file())
    }

    /// Once the state is saved in its version 2 file (with the version 1 records merged in by
    /// [`Files::load`]): remove the version 1 file, if it is a readable state file. A damaged
    /// or unreadable one stays for the user to look at; it never stops a run.
    pub fn retire_legacy_state(&self) {
        // Read only to be sure it can be: what it holds is let go at once.
        let readable = || matches!(read_state_file(&self.legacy_state), Ok(Some(_)));
        if crate::shared_path::counted_paths(readable) {
            let _ = fs::remove_file(&self.legacy_state);
        }
    }
}

/// What a state file was when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stamp {
    /// There was none.
    Missing,
    File(FileStamp),
    /// It could not be read: never taken to be unchanged.
    Unknown,
}

/// A file's identity, size and modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

impl FileStamp {
    fn of(meta: &fs::Metadata) -> FileStamp {
        use std::os::unix::fs::MetadataExt;
        FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        }
    }
}

/// `path` opened for reading, when it was written and its stamp, if it is a regular file: a
/// fifo would block the run, so nothing else is read, and nothing is waited on. `None` when
/// there is nothing.
pub(super) fn open_regular(
    path: &Path,
) -> io::Result<Option<(fs::File, std::time::SystemTime, Stamp)>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(Some((
        file,
        meta.modified().unwrap_or(std::time::UNIX_EPOCH),
        Stamp::File(FileStamp::of(&meta)),
    )))
}

/// A state file of either version and when it was written; `None` when there is none.
fn read_state_file(
    path: &Path,
) -> Result<Option<(State, std::time::SystemTime, Stamp)>, StateFileProblem> {
    let unreadable = |e: &io::Error| StateFileProblem::Unreadable {
        path: path.to_path_buf(),
        error: crate::error::describe_io(e),
    };
    let (mut file, written, stamp) = match open_regular(path) {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(None),
        Err(e) => return Err(unreadable(&e)),
    };
    let len = match &stamp {
        Stamp::File(file) => file.len,
        _ => u64::MAX,
    };
    match format::read_sized(&mut file, len) {
        Ok((_, state)) => Ok(Some((state, written, stamp))),
        Err(format::Unreadable::OtherVersion(version)) => Err(StateFileProblem::OtherVersion {
            path: path.to_path_buf(),
            version,
        }),
        Err(format::Unreadable::Damaged(error)) => Err(StateFileProblem::Damaged {
            path: path.to_path_buf(),
            error,
        }),
        Err(format::Unreadable::Io(e)) => Err(unreadable(&e)),
    }
}

/// Why a state file could not be used (the run goes on without it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StateFileProblem {
    Unreadable {
        #[serde(with = "serde_path")]
        path: PathBuf,
        error: String,
    },
    OtherVersion {
        #[serde(with = "serde_path")]
        path: PathBuf,
        version: u32,
    },
    Damaged {
        #[serde(with = "serde_path")]
        path: PathBuf,
        error: String,
    },
}

impl State {
    /// Have each spec hold the paths of its target's record where they are the same bytes: the
    /// manifest and the state name the same paths for every link already made, and each is
    /// then held once (at 100,000 links, a sixth of a status run's heap).
    pub fn share_paths(&self, specs: &mut [crate::manifest::LinkSpec]) {
        if self.links.is_empty() {
            return;
        }
        for spec in specs {
            // A tree's files took the record's paths as the repository was walked
            // (`manifest::expand_sharing`) where the state was read ahead of the walk: any
            // large state. Below that their own copies stay: a run keeps its paths anyway
            // (`shared_path`), and the planner finds their records by a lookup either way.
            if spec.in_tree {
                continue;
            }
            if let Some(record) = self.links.get(&spec.target) {
                if record.target.as_os_str() == spec.target.as_os_str() {
                    spec.target = record.target.clone();
                }
                if record.source.as_os_str() == spec.source.as_os_str() {
                    spec.source = record.source.clone();
                }
            }
        }
    }

    /// Write the state file's contents for the manifest at `manifest` managing `home`, streamed
    /// from the state (no copy of thousands of records).
    pub fn write(&self, manifest: &Path, home: &Path, out: &mut dyn io::Write) -> io::Result<()> {
        format::write(self, manifest, home, out)
    }
}

/// FNV-1a: a stable hash for state file names (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    Fnv::default().fold(bytes)
}

/// FNV-1a, one byte at a time: stable across releases, for file names.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn fold(self, bytes: &[u8]) -> u64 {
        bytes.iter().fold(self.0, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

/// The hasher of maps keyed by paths: foldhash's fast one with a fixed seed, which takes a
/// path's components eight and sixteen bytes at a time (FNV took a multiply per byte: 5% of a
/// status run). The keys are the user's own paths, so hash flooding is no concern.
pub type PathHash = foldhash::fast::FixedState;

/// A hash of `path` that agrees with `Path`'s equality, which compares components (`a//b`,
/// `a/./b` and `a/b/` are all `a/b`), as `Path`'s own `Hash` does; but where that one scans
/// the bytes one at a time for separators and hashes each component apart (15% of a status
/// run), a path already in its plain form, as dotlink's normalised paths are, is checked in
/// one pass and hashed whole. Any other spelling is hashed as its plain form.
pub fn hash_path(path: &Path) -> u64 {
    let bytes = path.as_os_str().as_encoded_bytes();
    if crate::paths::is_plain(bytes) {
        std::hash::BuildHasher::hash_one(&PathHash::default(), bytes)
    } else {
        let plain: PathBuf = path.components().collect();
        std::hash::BuildHasher::hash_one(&PathHash::default(), plain.as_os_str().as_encoded_bytes())
    }
}

/// A hash map keyed by paths.
pub type PathMap<V> = HashMap<PathBuf, V, PathHash>;

/// A hash set of paths.
pub type PathSet = HashSet<PathBuf, PathHash>;

/// A hash map keyed by shared paths (see [`SharedPath`]), looked up by `Path`.
pub type SharedPathMap<V> = HashMap<SharedPath, V, PathHash>;

/// A hash set of shared paths, looked up by `Path`.
pub type SharedPathSet = HashSet<SharedPath, PathHash>;

/// A hash set of borrowed paths.
pub type PathRefSet<'a> = HashSet<&'a Path, PathHash>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_equal_as_paths_hash_the_same() {
        let spellings = [
            [
                "/h/a/b",
                "/h//a/b",
                "/h/a/./b",
                "/h/a/b/",
                "/h/a/b/.",
                "//h/a/b//",
                "/./h/a/b",
            ],
            ["a/b", "a//b", "a/./b", "a/b/", "a/b/.", "a/b//.", "a/././b"],
            ["./a", "./a/", ".//a", "./a/.", "././a", "./a//", "./a/./"],
            ["/", "//", "/.", "/./", "/./.", "///", "/.//"],
            [".", "./", ".//", "./.", "././", "./", "."],
            [
                "/h/.a/..b",
                "/h//.a/..b",
                "/h/.a/./..b",
                "/h/.a/..b/",
                "/h/.a/..b",
                "/h/.a//..b",
                "/h/.a/..b/.",
            ],
        ];
        for group in spellings {
            let first = Path::new(group[0]);
            for spelling in group {
                let path = Path::new(spelling);
                assert_eq!(path, first, "{spelling} is {}", group[0]);
                assert_eq!(hash_path(path), hash_path(first), "{spelling}");
            }
        }
        // Every spelling of up to six of `a`, `.` and `/`: any two equal as paths hash the same.
        let all = crate::paths::every_spelling(6);
        let hashed: Vec<(&Path, u64)> = all
            .iter()
            .map(|s| (Path::new(s), hash_path(Path::new(s))))
            .collect();
        for (a, hash_a) in &hashed {
            for (b, hash_b) in &hashed {
                assert!(a != b || hash_a == hash_b, "{a:?} and {b:?}");
            }
        }
        // Different paths (`..` is a component of its own, a leading `.` too).
        let different = [
            "/h/a", "/h/a/..", "h/a", "./h/a", "/h/a.", "/h/.a", "/h/a b",
        ];
        let hashes: std::collections::HashSet<u64> =
            different.iter().map(|p| hash_path(Path::new(p))).collect();
        assert_eq!(hashes.len(), different.len());
    }

    fn record(target: &str) -> Record {
        Record {
            target: Path::new(target).into(),
            source: Path::new("/r/x").into(),
            method: Method::Symlink,
            own_text: Some(Path::new("../r/x").into()),
            inode: None,
        }
    }

    /// A symlink written without its text (by a dotlink before this one, or by hand) is read
    /// as one that matches no link, not as one with the default text.
    #[test]
    fn a_symlink_read_without_its_text_matches_no_link() {
        let read = |json: &str| serde_json::from_str::<Record>(json).unwrap();
        let bare = read(r#"{"target":"/h/.x","source":"/r/x","method":"symlink"}"#);
        assert_eq!(bare.text().as_deref(), Some(Path::new("")));
        let found = crate::plan::inspect::Found::Symlink(Path::new("../r/x").into());
        assert!(!crate::plan::inspect::holds(&bare, &found));
        let whole =
            read(r#"{"target":"/h/.x","source":"/r/x","method":"symlink","spelling":"../r/x"}"#);
        assert!(crate::plan::inspect::holds(&whole, &found));
        let hard = read(r#"{"target":"/h/.x","source":"/r/x","method":"hardlink","inode":[1,2]}"#);
        assert_eq!((hard.text(), hard.inode()), (None, Some((1, 2))));
        // Written and read back, a record says the same.
        let again = read(&serde_json::to_string(&whole).unwrap());
        assert_eq!(again, whole);
    }

    #[test]
    fn state_roundtrips() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("dotlink.toml"), "").unwrap();
        let files = Files::for_manifest(dir.path(), &dir.path().join("dotlink.toml"), dir.path());
        let mut state = State::default();
        state.links.insert(record("/h/.x"));
        let id = DirId {
            dev: 1,
            ino: 2,
            born: 3,
        };
        state.dirs.insert(PathBuf::from("/h/.config"), Some(id));
        let mut bytes = Vec::new();
        state
            .write(&files.manifest, &files.home, &mut bytes)
            .unwrap();
        fs::write(&files.state, bytes).unwrap();
        assert_eq!(files.load(), (state, None));
    }

    #[test]
    fn a_state_read_is_still_good_only_until_a_save_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::for_manifest(dir.path(), &dir.path().join("dotlink.toml"), dir.path());
        let save = |state: &State| {
            let mut bytes = Vec::new();
            state
                .write(&files.manifest, &files.home, &mut bytes)
                .unwrap();
            crate::apply::fsutil::write_atomic(&files.state, &bytes).unwrap();
        };
        // Nothing there: good until a file appears.
        let (_, _, stamps) = files.load_stamped();
        assert!(files.still_as(&stamps));
        let mut state = State::default();
        state.links.insert(record("/h/.x"));
        save(&state);
        assert!(!files.still_as(&stamps));
        // Read: good until saved again, even with the same bytes; or removed.
        let (read, _, stamps) = files.load_stamped();
        assert_eq!(read, state);
        assert!(files.still_as(&stamps));
        save(&state);
        assert!(!files.still_as(&stamps));
        let (_, _, stamps) = files.load_stamped();
        fs::remove_file(&files.state).unwrap();
        assert!(!files.still_as(&stamps));
        // A damaged or unreadable file is never taken to be unchanged.
        fs::write(&files.legacy_state, "{ not json").unwrap();
        let (_, problem, stamps) = files.load_stamped();
        assert!(problem.is_some());
        assert!(!files.still_as(&stamps));
    }

    #[test]
    fn a_damaged_state_file_is_a_note_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::for_manifest(dir.path(), &dir.path().join("dotlink.toml"), dir.path());
        fs::write(&files.state, "{ not json").unwrap();
        let (state, problem) = files.load();
        assert_eq!(state, State::default());
        assert!(
            matches!(problem, Some(StateFileProblem::Damaged { .. })),
            "{problem:?}"
        );
    }

    #[test]
    fn file_names_are_stable_and_readable() {
        let files = Files::for_manifest(
            Path::new("/s"),
            Path::new("/nonexistent/my dots/dotlink.toml"),
            Path::new("/h"),
        );
        assert_eq!(files.state.parent().unwrap(), Path::new("/s"));
        let name = files.state.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("my_dots-") && name.ends_with(".state"),
            "{name}"
        );
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
