//! The journal of a run in progress.
//!
//! Before the applier changes anything it writes, atomically, the list of what it is about to
//! do: each target, the temporary name its new link is made under, and where a backup goes.
//! The journal is removed once the state file is written. If dotlink finds a journal, the run
//! that wrote it died (power loss, Ctrl-C, kill -9), and [`super::recovery`] settles it.

use super::fsutil;
use crate::error::{Error, Result};
use crate::paths::serde_path;
use crate::plan::{Action, Displace, Plan, Step};
use crate::state::backup;
use crate::state::{Files, Record, RecordRef};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, Deserialize)]
pub struct Journal {
    /// When the interrupted run started (UTC).
    pub started: String,
    /// Where the run's backups go; its index is completed on recovery.
    #[serde(with = "serde_path", default)]
    pub backup_set: PathBuf,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(with = "serde_path")]
    pub target: PathBuf,
    /// For a replacement: the temporary name the new link is made under, and what happens to
    /// what it replaces.
    #[serde(with = "serde_path::option", default)]
    pub temp: Option<PathBuf>,
    #[serde(default)]
    pub displace: Option<Displace>,
    /// What the target is once the step is done; `None` when the step removes it.
    #[serde(default)]
    pub link: Option<Record>,
    /// Directories the step creates.
    #[serde(with = "serde_path::vec", default)]
    pub mkdirs: Vec<PathBuf>,
    /// Directories a removal takes away once they are empty.
    #[serde(with = "serde_path::vec", default)]
    pub rmdirs: Vec<PathBuf>,
}

/// The temporary name a replacement link is made under: in the target's own directory, so the
/// rename that puts it in place is atomic.
pub fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().unwrap_or_default();
    if name.len() + 14 <= 255 {
        let mut temp = std::ffi::OsString::from(".");
        temp.push(name);
        temp.push(".dotlink-tmp");
        target.with_file_name(temp)
    } else {
        // Too long to extend: a short name derived from the long one.
        let hash = name
            .as_encoded_bytes()
            .iter()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(*b)));
        target.with_file_name(format!(".dotlink-tmp-{hash:016x}"))
    }
}

/// Write the journal for `plan` before any of its changes are made. It is streamed from the
/// plan (a first apply of many links would otherwise hold a copy of every path twice).
pub fn write(files: &Files, plan: &Plan) -> Result<()> {
    let journal = JournalOut {
        started: backup::utc_stamp(SystemTime::now()),
        backup_set: &plan.backup_set,
        entries: EntriesOut(plan),
    };
    fsutil::write_atomic_with(&files.journal, |out| {
        Ok(serde_json::to_writer(out, &journal)?)
    })
    .map_err(|e| Error::io("write journal", &files.journal, &e))
}

/// [`Journal`] as written: borrowed from the plan.
#[derive(Serialize)]
struct JournalOut<'a> {
    started: String,
    #[serde(serialize_with = "serde_path::serialize")]
    backup_set: &'a Path,
    entries: EntriesOut<'a>,
}

struct EntriesOut<'a>(&'a Plan);

impl Serialize for EntriesOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.changes().map(EntryOut::of))
    }
}

/// [`Entry`] as written.
#[derive(Serialize)]
struct EntryOut<'a> {
    #[serde(serialize_with = "serde_path::serialize")]
    target: &'a Path,
    #[serde(serialize_with = "serde_path::option::serialize")]
    temp: Option<PathBuf>,
    displace: Option<&'a Displace>,
    link: Option<RecordRef<'a>>,
    #[serde(serialize_with = "serde_path::vec::serialize")]
    mkdirs: &'a [PathBuf],
    #[serde(serialize_with = "serde_path::vec::serialize")]
    rmdirs: &'a [PathBuf],
}

impl<'a> EntryOut<'a> {
    fn of(step: &'a Step) -> Self {
        let (displace, temp) = match &step.action {
            Action::Replace { displace } => (Some(displace), Some(temp_path(&step.target))),
            Action::Clear { displace } => (Some(displace), None),
            _ => (None, None),
        };
        EntryOut {
            target: &step.target,
            temp,
            displace,
            link: step.record(),
            mkdirs: match &step.action {
                Action::Create { mkdirs } => mkdirs,
                _ => &[],
            },
            rmdirs: match &step.action {
                Action::Remove { rmdirs } => rmdirs,
                _ => &[],
            },
        }
    }
}

/// Remove the journal once the run it describes is complete.
pub fn finish(files: &Files) -> Result<()> {
    match fs::remove_file(&files.journal) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(Error::io("remove journal", &files.journal, &e))
        }
        _ => Ok(()),
    }
}

/// Whether an interrupted run left a journal.
pub fn pending(files: &Files) -> bool {
    files.journal.symlink_metadata().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_stay_in_the_directory_and_within_name_limits() {
        assert_eq!(
            temp_path(Path::new("/h/.zshrc")),
            PathBuf::from("/h/..zshrc.dotlink-tmp")
        );
        let long = "x".repeat(250);
        let temp = temp_path(&Path::new("/h").join(&long));
        assert_eq!(temp.parent().unwrap(), Path::new("/h"));
        assert!(temp.file_name().unwrap().len() < 255);
    }
}
