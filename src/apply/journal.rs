//! The journal of a run in progress.
//!
//! Before the applier changes anything it writes, atomically, the list of what it is about to
//! do: each target, what the planner saw there, the temporary name its new link is made under
//! (unique to the run, so a name is never taken for dotlink's by its shape alone), and where a
//! backup goes. The journal is removed once the state file is written. If dotlink finds a
//! journal, the run that wrote it died (power loss, Ctrl-C, kill -9), and [`super::recovery`]
//! settles it; a step that fails is settled the same way at once.

use super::fsutil;
use crate::error::{Error, Result};
use crate::manifest::Method;
use crate::paths::{self, serde_path};
use crate::plan::{Action, Displace, Plan, Seen, Step};
use crate::state::backup;
use crate::state::{Files, Record};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Serialize, Deserialize)]
pub struct Journal {
    /// When the interrupted run started (UTC).
    pub started: String,
    /// Where the run's backups go; its index is completed on recovery.
    #[serde(with = "serde_path", default)]
    pub backup_set: PathBuf,
    /// The process that made the changes: its partial copies (`fsutil::partial_name`) are the
    /// only ones recovery removes. Absent from journals of older versions.
    #[serde(default)]
    pub pid: Option<u32>,
    /// Each directory the run made is in its [`MadeLog`], with its identity, once made: only
    /// those are dotlink's. Absent from journals of older versions, whose recovery takes the
    /// directories the steps were to make by their names.
    #[serde(default)]
    pub dirs_logged: bool,
    pub entries: Vec<Entry>,
    /// For `adopt`: the manifest it edits. Each entry is then one path moved into the
    /// repository (its target the path in the home, its backup the place in the repository),
    /// and recovery undoes the whole adoption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopting: Option<Adopting>,
}

/// What undoing an interrupted `adopt` needs beyond its moves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Adopting {
    /// The manifest, where it really is.
    #[serde(with = "serde_path")]
    pub manifest: PathBuf,
    /// Its text before the adoption, and the text the adoption writes: recovery writes the
    /// first back only over the second (a manifest edited since is left as it is).
    pub before: String,
    pub after: String,
    /// The directories made in the repository for the moves, top first, each with its
    /// device and inode: what recovery removes (while empty) is proven to be what was made,
    /// never a directory that only has the name.
    #[serde(default)]
    pub made: Vec<MadeDirectory>,
}

/// A directory made by a run, and its identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MadeDirectory {
    #[serde(with = "serde_path")]
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
    /// When it was made (see `DirId`); 0 where not known, and in older journals.
    #[serde(default)]
    pub born: u64,
}

impl MadeDirectory {
    /// The directory `path`, made with the identity `id`.
    pub fn new(path: &Path, id: crate::state::DirId) -> MadeDirectory {
        MadeDirectory {
            path: path.to_path_buf(),
            dev: id.dev,
            ino: id.ino,
            born: id.born,
        }
    }

    /// The identity it was made with.
    pub fn id(&self) -> crate::state::DirId {
        crate::state::DirId {
            dev: self.dev,
            ino: self.ino,
            born: self.born,
        }
    }
}

/// One step of a run, as recovery needs to know it. A field with nothing in it is left out
/// (read back as nothing, by this version and the ones before).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    #[serde(with = "serde_path")]
    pub target: PathBuf,
    /// For a replacement: the temporary name the new link is made under, and what happens to
    /// what it replaces.
    #[serde(
        with = "serde_path::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub temp: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub displace: Option<Displace>,
    /// What the planner saw at the target (or, for a clear, at the path cleared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<Seen>,
    /// What the target is once the step is done; `None` when the step removes it.
    #[serde(default)]
    pub link: Option<Record>,
    /// Directories the step creates.
    #[serde(
        with = "serde_path::vec",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub mkdirs: Vec<PathBuf>,
    /// Directories a removal takes away once they are empty.
    #[serde(
        with = "serde_path::vec",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rmdirs: Vec<PathBuf>,
    /// For `restore`: the backup put back at the target.
    #[serde(
        with = "serde_path::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub restores: Option<PathBuf>,
    /// For `restore`: what the backup was when the run began, so that recovery tells it from
    /// whatever else comes to be at the target (none from an older dotlink).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<Seen>,
    /// For an unfold: the links the directory built at `temp` holds (its directories are
    /// `mkdirs`), swapped in for the folded link at the target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unfold: Vec<Record>,
}

impl Entry {
    /// The entry for `step` in the run `run`.
    pub fn of(step: &Step, run: &RunId) -> Entry {
        let (displace, temp) = match &step.action {
            Action::Replace { displace } => (
                Some((**displace).clone()),
                Some(run.temp_path(&step.target)),
            ),
            Action::Clear { displace } => (Some((**displace).clone()), None),
            Action::Unfold { .. } => (None, Some(run.temp_path(&step.target))),
            _ => (None, None),
        };
        Entry {
            target: step.target.to_path_buf(),
            temp,
            displace,
            seen: step.seen().cloned(),
            link: step.record().map(|r| r.to_record()),
            mkdirs: match &step.action {
                Action::Create { mkdirs } => mkdirs.iter().map(|d| d.to_path_buf()).collect(),
                Action::Unfold(unfolding) => unfolding.dirs.to_vec(),
                _ => Vec::new(),
            },
            rmdirs: match &step.action {
                Action::Remove { rmdirs } => rmdirs.iter().map(|d| d.path.clone()).collect(),
                // Its target is the directory: recovery forgets it once gone.
                Action::RemoveDir => vec![step.target.to_path_buf()],
                _ => Vec::new(),
            },
            restores: None,
            restored: None,
            unfold: match &step.action {
                Action::Unfold(unfolding) => unfolding.links.to_vec(),
                _ => Vec::new(),
            },
        }
    }

    /// An entry for `target` with nothing else in it.
    fn at(target: &Path) -> Entry {
        Entry {
            target: target.to_path_buf(),
            temp: None,
            displace: None,
            seen: None,
            link: None,
            mkdirs: Vec::new(),
            rmdirs: Vec::new(),
            restores: None,
            restored: None,
            unfold: Vec::new(),
        }
    }

    /// The entry for moving `from` (in the home) into the repository at `to`, for `adopt`.
    pub fn adopting(from: &Path, to: &Path) -> Entry {
        Entry {
            displace: Some(Displace::Backup {
                to: to.to_path_buf(),
            }),
            ..Entry::at(from)
        }
    }

    /// The entry for putting the backup at `backup` back at `target`, where the planner saw
    /// `seen` (dotlink's link, or nothing).
    pub fn restoring(
        target: &Path,
        (backup, restored): (&Path, Option<Seen>),
        seen: Option<Seen>,
        run: &RunId,
    ) -> Entry {
        Entry {
            temp: Some(run.temp_path(target)),
            seen,
            restores: Some(backup.to_path_buf()),
            restored,
            ..Entry::at(target)
        }
    }
}

/// What makes one run's temporary names its own (the process id and the start time), and
/// where it logs the directories it makes.
#[derive(Debug)]
pub struct RunId {
    /// What each of the run's temporary names ends in: `.dotlink-tmp-` and the id. Made once,
    /// as a name is made three times for each replacement (the journal, the check that the
    /// names are unique, the step).
    tail: String,
    /// Where the directories it makes are logged (see [`MadeLog`]); none for a run that
    /// makes none.
    made: Option<MadeLog>,
}

impl RunId {
    pub fn new() -> RunId {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        RunId::with_id(&format!("{:x}{:08x}", std::process::id(), nanos as u32))
    }

    fn with_id(id: &str) -> RunId {
        RunId {
            tail: format!(".dotlink-tmp-{id}"),
            made: None,
        }
    }

    /// Log the directory `dir` this run just made, whose identity is `id`, before anything
    /// else happens (see [`MadeLog`]). A run that expected to make none has nowhere to log
    /// it: it is not taken for dotlink's after a stop.
    pub fn made_dir(&self, dir: &Path, id: crate::state::DirId) -> io::Result<()> {
        let Some(log) = &self.made else {
            return Ok(());
        };
        let mut line = serde_json::to_vec(&MadeDirectory::new(dir, id))?;
        line.push(b'\n');
        // One write of one line, appended: a stop leaves whole lines, or at worst a last one
        // cut short, which is not read.
        (&log.file).write_all(&line)
    }

    /// The temporary name a replacement link is made under: in the target's own directory, so
    /// the exchange that puts it in place is atomic.
    pub fn temp_path(&self, target: &Path) -> PathBuf {
        let (dir, name) = paths::parent_and_name(target);
        let (dir, name) = (dir.unwrap_or(Path::new("")), name.unwrap_or_default());
        let mut temp = Vec::with_capacity(dir.as_os_str().len() + 2 + name.len() + self.tail.len());
        temp.extend_from_slice(dir.as_os_str().as_bytes());
        paths::push_separator(&mut temp);
        if name.len() + 1 + self.tail.len() <= 255 {
            temp.push(b'.');
            temp.extend_from_slice(name.as_bytes());
        } else {
            // Too long to extend: a short name derived from the long one, by 128 bits of a
            // hash keyed by this run, so that no two names in one directory share it (two
            // steps at one temporary name would take each other's leftovers for their own).
            let hash = |half: u8| {
                let mut hasher = std::hash::DefaultHasher::new();
                (half, &self.tail, name).hash(&mut hasher);
                hasher.finish()
            };
            temp.extend_from_slice(format!(".{:016x}{:016x}", hash(0), hash(1)).as_bytes());
        }
        temp.extend_from_slice(self.tail.as_bytes());
        PathBuf::from(OsString::from_vec(temp))
    }
}

/// Write the journal for `plan` before any of its changes are made, and (when the plan makes
/// directories) the empty log of those it makes, which `run` then writes to. Entries are
/// streamed from the plan, one at a time (a first apply of many links would otherwise hold
/// every path twice).
pub fn write(files: &Files, plan: &Plan, run: &mut RunId) -> Result<()> {
    let makes_dirs = plan
        .changes()
        .any(|s| matches!(&s.action, Action::Create { mkdirs } if !mkdirs.is_empty()));
    // Made first and empty: a journal that says its directories are logged always has its
    // log, and a log a stopped run left before its journal is emptied here.
    run.made = if makes_dirs {
        let path = MadeLog::path(files);
        // Made anew, never opened where it stands: what is there (a log a stopped run left, or
        // a symlink or a fifo put there) is removed by its name, which dotlink gives only this
        // log, and the new file is made exclusively, so no symlink is followed.
        let file = match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => fs::OpenOptions::new()
                .append(true)
                .create_new(true)
                .open(&path),
        }
        .map_err(|e| Error::io("write journal", &path, &e))?;
        Some(MadeLog { file })
    } else {
        None
    };
    let logging = &*run;
    let mut text = Vec::new();
    let written = write_with(
        files,
        &plan.backup_set,
        None,
        logging.made.is_some(),
        plan.changes(),
        |out, step| {
            if by_hand(step, logging, &mut text) {
                out.write_all(&text)
            } else {
                Ok(serde_json::to_writer(out, &Entry::of(step, logging))?)
            }
        },
    );
    // No journal (a full disk): the run stops here, and the log just made goes with it.
    if written.is_err() && run.made.take().is_some() {
        _ = fs::remove_file(MadeLog::path(files));
    }
    written
}

/// Write a journal of `entries` for a run whose backups go to `backup_set`, or that is
/// `adopting`.
pub fn write_entries(
    files: &Files,
    backup_set: &Path,
    adopting: Option<&Adopting>,
    entries: impl Iterator<Item = Entry>,
) -> Result<()> {
    write_with(files, backup_set, adopting, false, entries, |out, entry| {
        Ok(serde_json::to_writer(out, &entry)?)
    })
}

/// Write a journal as [`Journal`] is serialised, with an entry for each of `items`, written by
/// `write_entry`.
fn write_with<T>(
    files: &Files,
    backup_set: &Path,
    adopting: Option<&Adopting>,
    dirs_logged: bool,
    items: impl Iterator<Item = T>,
    mut write_entry: impl FnMut(&mut fsutil::AtomicOut<'_>, T) -> io::Result<()>,
) -> Result<()> {
    let head = JournalHead {
        started: backup::utc_stamp(SystemTime::now()),
        backup_set,
        pid: std::process::id(),
        dirs_logged,
    };
    fsutil::write_atomic_with(&files.journal, |out| {
        let head = serde_json::to_vec(&head)?;
        // Less its closing brace: the entries and the adoption follow.
        out.write_all(&head[..head.len() - 1])?;
        out.write_all(b",\"entries\":[")?;
        for (n, item) in items.enumerate() {
            if n > 0 {
                out.write_all(b",")?;
            }
            write_entry(out, item)?;
        }
        out.write_all(b"]")?;
        if let Some(adopting) = adopting {
            out.write_all(b",\"adopting\":")?;
            serde_json::to_writer(&mut *out, adopting)?;
        }
        out.write_all(b"}")
    })
    .map_err(|e| Error::io("write journal", &files.journal, &e))
}

/// The fields of a [`Journal`] before its entries.
#[derive(Serialize)]
struct JournalHead<'a> {
    started: String,
    #[serde(serialize_with = "serde_path::serialize")]
    backup_set: &'a Path,
    pid: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dirs_logged: bool,
}

/// The directories a run made, each logged with its device and inode just after it was made
/// and before anything else happened: one line of JSON each, appended to a file beside the
/// journal. After a stop, recovery takes a directory a step was to make for dotlink's only
/// when it is logged and still that directory: one the user made since (or in the instant
/// before a stop) is theirs. One made just before a stop that came before its line is written
/// is not dotlink's either: it stays, empty.
#[derive(Debug)]
pub struct MadeLog {
    file: fs::File,
}

impl MadeLog {
    fn path(files: &Files) -> PathBuf {
        paths::with_suffix(&files.journal, ".dirs")
    }

    /// The directories logged for the run of the journal at `files` (a line cut short by a
    /// stop is not read).
    pub fn read(files: &Files) -> Vec<MadeDirectory> {
        fs::read(MadeLog::path(files))
            .unwrap_or_default()
            .split(|&b| b == b'\n')
            .filter_map(|line| serde_json::from_slice(line).ok())
            .collect()
    }
}

/// Write into `text` the journal entry of `step`, if it makes a new symlink or puts one in
/// place of something, and its paths are plain text (nothing JSON escapes): the bytes serde
/// writes for its [`Entry`], without copying the step into one or looking for escapes a
/// byte at a time (two thirds of writing a first apply's journal). False for any other
/// step, which serde writes.
fn by_hand(step: &Step, run: &RunId, text: &mut Vec<u8>) -> bool {
    let (mkdirs, displace) = match &step.action {
        Action::Create { mkdirs } => (&mkdirs[..], None),
        Action::Replace { displace } => (&[][..], Some(&**displace)),
        _ => return false,
    };
    let Some(link) = step.record() else {
        return false;
    };
    let (Method::Symlink, None) = (link.method, link.inode) else {
        return false;
    };
    text.clear();
    let put = |text: &mut Vec<u8>, before: &str, path: &Path| {
        text.extend_from_slice(before.as_bytes());
        push_plain(text, path)
    };
    let mut plain = put(text, "{\"target\":", &step.target);
    if let Some(displace) = displace {
        plain &= put(text, ",\"temp\":", &run.temp_path(&step.target));
        if let Displace::Backup { to } = displace {
            plain &= put(text, ",\"displace\":{\"kind\":\"backup\",\"to\":", to);
            text.push(b'}');
        } else {
            text.extend_from_slice(b",\"displace\":");
            plain &= serde_json::to_writer(&mut *text, displace).is_ok();
        }
    }
    if let Some(seen) = step.seen() {
        text.extend_from_slice(b",\"seen\":");
        plain &= serde_json::to_writer(&mut *text, seen).is_ok();
    }
    plain &= put(text, ",\"link\":{\"target\":", link.target);
    plain &= put(text, ",\"source\":", link.source);
    // The whole text, the default one too (see `RecordRef`'s `Serialize`).
    plain &= crate::link_text::with_text(link.own_text, link.target, link.source, |spelling| {
        put(text, ",\"method\":\"symlink\",\"spelling\":", spelling)
    });
    text.push(b'}');
    for (n, dir) in mkdirs.iter().enumerate() {
        plain &= put(text, if n == 0 { ",\"mkdirs\":[" } else { "," }, dir);
    }
    if !mkdirs.is_empty() {
        text.push(b']');
    }
    text.push(b'}');
    plain
}

/// Push `path` as a JSON string, if it is UTF-8 with nothing JSON escapes; returns whether.
fn push_plain(text: &mut Vec<u8>, path: &Path) -> bool {
    let bytes = path.as_os_str().as_bytes();
    text.push(b'"');
    text.extend_from_slice(bytes);
    text.push(b'"');
    !json_escapes(bytes) && std::str::from_utf8(bytes).is_ok()
}

/// Whether JSON escapes a byte of `bytes` (a control character, `"` or `\\`): checked eight
/// bytes at a time (the release build is optimised for size, and checks one at a time what
/// is written so).
fn json_escapes(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH_BITS: u64 = ONES << 7;
    // Whether a byte of `word` is below `n` (at most 128): a borrow into the high bit of a
    // byte that did not have it. Exact for the word as a whole.
    let any_below =
        |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH_BITS != 0;
    let escapes = |word: u64| {
        any_below(word, 0x20)
            || any_below(word ^ (ONES * u64::from(b'"')), 1)
            || any_below(word ^ (ONES * u64::from(b'\\')), 1)
    };
    let mut words = bytes.chunks_exact(8);
    words
        .by_ref()
        .any(|word| escapes(u64::from_ne_bytes(word.try_into().expect("eight bytes"))))
        || words
            .remainder()
            .iter()
            .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Remove the journal once the run it describes is complete, then its log of directories
/// (one left by a stop in between is emptied by the next run that logs).
pub fn finish(files: &Files) -> Result<()> {
    for path in [files.journal.clone(), MadeLog::path(files)] {
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(Error::io("remove journal", &path, &e));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The `adopt` an interrupted run left to undo, if that is what its journal describes.
pub fn pending_adoption(files: &Files) -> Option<Adopting> {
    let bytes = fs::read(&files.journal).ok()?;
    // The whole journal is read and all but the adoption let go (three paths per step).
    crate::shared_path::counted_paths(|| serde_json::from_slice::<Journal>(&bytes).ok()?.adopting)
}

/// Whether an interrupted run left a journal.
pub fn pending(files: &Files) -> bool {
    files.journal.symlink_metadata().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_left_out_and_read_back_as_empty() {
        let entry = Entry::at(Path::new("/h/.a"));
        let json = serde_json::to_string(&entry).unwrap();
        assert_eq!(json, r#"{"target":"/h/.a","link":null}"#);
        let back: Entry = serde_json::from_str(&json).unwrap();
        assert_eq!(back.target, entry.target);
        assert!(back.temp.is_none() && back.mkdirs.is_empty() && back.restores.is_none());
        // As journals before this version wrote it.
        let older = r#"{"target":"/h/.a","temp":null,"displace":null,"seen":null,"link":null,
            "mkdirs":[],"rmdirs":[],"restores":null}"#;
        let back: Entry = serde_json::from_str(older).unwrap();
        assert!(back.temp.is_none() && back.rmdirs.is_empty() && back.link.is_none());
    }

    /// A new link at `target` to `source`, storing `spelling`, making `mkdirs`.
    fn new_link(target: &[u8], source: &str, spelling: &[u8], mkdirs: &[&str]) -> Step {
        use crate::manifest::Policy;
        use crate::plan::{LinkState, Reason};
        let path = |b: &[u8]| PathBuf::from(std::ffi::OsStr::from_bytes(b));
        let action = Action::Create {
            mkdirs: crate::plan::DirChain::new(
                mkdirs.iter().map(|d| Path::new(d).into()).collect(),
            ),
        };
        let (state, reason, policy) = (LinkState::Missing, Reason::Plain, Policy::Fail);
        Step::new(
            path(target),
            Path::new(source),
            Method::Symlink,
            state,
            action,
            reason,
            policy,
        )
        // Held as the planner holds it: none where it is the default text (most below).
        .declaring(Some(crate::plan::Link::Symlink(
            crate::link_text::Texts::default().own(
                &path(spelling),
                &path(target),
                Path::new(source),
            ),
        )))
    }

    /// `step` made to put its link in place of what `seen` says is there, which goes as
    /// `displace` says.
    fn replacing(mut step: Step, displace: Displace, seen: Seen) -> Step {
        step.action = Action::Replace {
            displace: Box::new(displace),
        };
        step.seeing(Some(seen))
    }

    /// A link whose default text the plan does not hold is journalled with its whole text, by
    /// hand and by serde: an older dotlink recovering the run reads what the link holds.
    #[test]
    fn a_journal_entry_holds_its_links_whole_text() {
        let run = RunId::with_id("1a2b");
        let step = new_link(b"/h/.a", "/r/a", b"../r/a", &[]);
        assert!(matches!(step.link, Some(crate::plan::Link::Symlink(None))));
        let whole = r#""spelling":"../r/a""#;
        let json = serde_json::to_string(&Entry::of(&step, &run)).unwrap();
        assert!(json.contains(whole), "{json}");
        let mut text = Vec::new();
        assert!(by_hand(&step, &run, &mut text));
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains(whole), "{text}");
        let back: Entry = serde_json::from_str(&json).unwrap();
        let link = back.link.unwrap();
        assert_eq!(link.text().as_deref(), Some(Path::new("../r/a")));
    }

    #[test]
    fn a_symlink_is_journalled_by_hand_as_serde_journals_it() {
        let run = RunId::with_id("1a2b");
        let file = Seen::Object {
            dev: 2049,
            ino: 77,
            len: 12,
            mtime: (1_700_000_000, 5),
        };
        let backup = |to: &str| Displace::Backup { to: to.into() };
        let plain = [
            new_link(b"/h/.a", "/r/a", b"../r/a", &[]),
            new_link(
                b"/h/d/e/f",
                "/r/d/e/f",
                b"../../r/d/e/f",
                &["/h/d", "/h/d/e"],
            ),
            new_link(
                "/h/\u{e9}t\u{e9} \u{1f600}".as_bytes(),
                "/r/x",
                b"/r/x",
                &["/h"],
            ),
            new_link(b"/h/\x7f", "/r/'`$ {}[]", b"../r/'`$ {}[]", &[]),
            replacing(
                new_link(b"/h/.b", "/r/b", b"../r/b", &[]),
                backup("/s/.b"),
                file.clone(),
            ),
            // What was seen is serde's, escapes and all.
            replacing(
                new_link(b"/h/.c", "/r/c", b"../r/c", &[]),
                backup("/s/.c"),
                Seen::Symlink {
                    points_to: "/el\\se\twhere".into(),
                },
            ),
            replacing(
                new_link(b"/h/.d", "/r/d", b"../r/d", &[]),
                Displace::EmptyDirectory,
                Seen::Directory {
                    dev: 1,
                    ino: 2,
                    tree: None,
                },
            ),
            replacing(
                new_link(b"/h/.e", "/r/e", b"../r/e", &[]),
                Displace::Delete,
                file.clone(),
            ),
            replacing(
                new_link(b"/h/.f", "/r/f", b"/r/f", &[]),
                Displace::Link,
                Seen::Symlink {
                    points_to: "../r/old".into(),
                },
            ),
            new_link(b"/h/.g", "/r/g", b"../r/g", &[]).seeing(Some(Seen::Directory {
                dev: 1,
                ino: 3,
                tree: None,
            })),
        ];
        let escaped = [
            new_link(b"/h/quote\"", "/r/a", b"../r/a", &[]),
            new_link(b"/h/a", "/r/back\\slash", b"../r/a", &[]),
            new_link(b"/h/a", "/r/a", b"../r/new\nline", &[]),
            new_link(b"/h/a", "/r/a", b"../r/a", &["/h/tab\t"]),
            new_link(b"/h/\xff", "/r/a", b"../r/a", &[]),
            replacing(
                new_link(b"/h/\x01", "/r/a", b"../r/a", &[]),
                backup("/s/a"),
                file.clone(),
            ),
            replacing(
                new_link(b"/h/a", "/r/a", b"../r/a", &[]),
                backup("/s/q\"\n"),
                file,
            ),
        ];
        let mut text = Vec::new();
        for step in &plain {
            assert!(by_hand(step, &run, &mut text), "{step:?}");
            let serde = serde_json::to_vec(&Entry::of(step, &run)).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&text),
                String::from_utf8_lossy(&serde)
            );
        }
        for step in &escaped {
            assert!(!by_hand(step, &run, &mut text), "{step:?}");
        }
        // Hard links, and steps that make no link, are left to serde.
        let mut hard = new_link(b"/h/a", "/r/a", b"/r/a", &[]);
        hard.method = Method::Hardlink;
        let mut removing = new_link(b"/h/a", "/r/a", b"../r/a", &[]);
        removing.action = Action::Remove {
            rmdirs: Default::default(),
        };
        for step in [hard, removing] {
            assert!(!by_hand(&step, &run, &mut text), "{step:?}");
        }

        // The whole journal reads back as the entries serde writes, in the plan's order.
        let tmp = tempfile::tempdir().unwrap();
        let files = Files::for_manifest(tmp.path(), Path::new("/r/dotlink.toml"), Path::new("/h"));
        let steps: Vec<Step> = plain.into_iter().chain(escaped).collect();
        let plan = Plan {
            manifest: "/r/dotlink.toml".into(),
            repo: "/r".into(),
            home: "/h".into(),
            steps,
            forget: Vec::new(),
            forget_dirs: Vec::new(),
            identify: Vec::new(),
            notes: Vec::new(),
            backup_set: "/b/set".into(),
            dead_links: Vec::new(),
        };
        let mut run = run;
        // A log of the directories made, left by a stopped run, is emptied.
        fs::write(MadeLog::path(&files), "left over\n").unwrap();
        write(&files, &plan, &mut run).unwrap();
        let journal: serde_json::Value =
            serde_json::from_slice(&fs::read(&files.journal).unwrap()).unwrap();
        let entries: Vec<_> = plan.steps.iter().map(|s| Entry::of(s, &run)).collect();
        assert_eq!(journal["entries"], serde_json::to_value(&entries).unwrap());
        assert_eq!(journal["backup_set"], "/b/set");
        assert_eq!(journal["pid"], std::process::id());
        let read: Journal = serde_json::from_value(journal).unwrap();
        assert!(read.adopting.is_none() && read.entries.len() == 17);

        // The plan makes directories: they are logged as they are made, a line each, and a
        // line cut short by a stop is not read.
        assert!(read.dirs_logged);
        assert_eq!(fs::read(MadeLog::path(&files)).unwrap(), b"");
        let id = |ino, born| crate::state::DirId { dev: 1, ino, born };
        run.made_dir(Path::new("/h/a"), id(2, 7)).unwrap();
        run.made_dir(Path::new("/h/a\nb"), id(3, 0)).unwrap();
        let mut log = fs::OpenOptions::new()
            .append(true)
            .open(MadeLog::path(&files))
            .unwrap();
        log.write_all(br#"{"path":"/h/c","dev":1,"#).unwrap();
        let made = |path: &str, ino, born| MadeDirectory {
            path: path.into(),
            dev: 1,
            ino,
            born,
        };
        let read = MadeLog::read(&files);
        assert_eq!(read, [made("/h/a", 2, 7), made("/h/a\nb", 3, 0)]);
        assert_eq!(read[0].id(), id(2, 7));
        finish(&files).unwrap();
        assert!(!files.journal.exists() && !MadeLog::path(&files).exists());

        // A journal that cannot be written (here a directory in its place) stops the run, and
        // leaves no log of directories behind.
        fs::create_dir(&files.journal).unwrap();
        assert!(write(&files, &plan, &mut run).is_err());
        assert!(run.made.is_none() && !MadeLog::path(&files).exists());
    }

    proptest::proptest! {
        #[test]
        fn escapes_are_found_in_any_word_and_at_any_place(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    0x20u8..=0xff,
                    0u8..0x20,
                    proptest::strategy::Just(b'"'),
                    proptest::strategy::Just(b'\\'),
                ],
                0..40,
            ),
            ascii in proptest::collection::vec(0x20u8..0x7f, 0..40),
        ) {
            for bytes in [&bytes, &ascii] {
                let one_at_a_time = bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
                proptest::prop_assert_eq!(json_escapes(bytes), one_at_a_time, "{:?}", bytes);
            }
        }
    }

    #[test]
    fn temp_names_stay_in_the_directory_and_belong_to_one_run() {
        let run = RunId::with_id("1a2b");
        assert_eq!(
            run.temp_path(Path::new("/h/.zshrc")),
            PathBuf::from("/h/..zshrc.dotlink-tmp-1a2b")
        );
        assert_eq!(
            run.temp_path(Path::new("/x")),
            PathBuf::from("/.x.dotlink-tmp-1a2b")
        );
        let long = "x".repeat(250);
        let temp = run.temp_path(&Path::new("/h").join(&long));
        assert_eq!(temp.parent().unwrap(), Path::new("/h"));
        assert!(temp.file_name().unwrap().len() < 255);
        assert!(temp.to_string_lossy().ends_with(".dotlink-tmp-1a2b"));
        // Long names that a weak hash (`h * 31 + b`) gave one temporary name get two.
        let (a, b) = ("x".repeat(250) + "ab", "x".repeat(250) + "bC");
        assert_ne!(
            run.temp_path(&Path::new("/h").join(a)),
            run.temp_path(&Path::new("/h").join(b))
        );
        assert_ne!(
            RunId::new().temp_path(Path::new("/h/x")),
            run.temp_path(Path::new("/h/x"))
        );
    }
}
