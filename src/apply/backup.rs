//! Writing backup sets: the index beside a set names what went where (the layout itself is
//! `state::backup`'s).

use super::fsutil;
use crate::error::{Error, Result};
use crate::state::backup::{BackedUp, index_path, read_index};
use std::collections::HashSet;
use std::path::Path;

/// Add `entries` to a set's index, once per run (an interrupted run's set may have one).
pub fn add_to_index(set: &Path, entries: &[BackedUp]) -> Result<()> {
    let index = read_index(set);
    let known: HashSet<&Path> = index.iter().map(|b| b.backup.as_path()).collect();
    let new = entries
        .iter()
        .filter(|e| !known.contains(e.backup.as_path()));
    write_entries(set, || index.iter().chain(new.clone()))
}

/// Write a set's index (atomically, so it is always whole).
pub fn write_index(set: &Path, entries: &[BackedUp]) -> Result<()> {
    write_entries(set, || entries.iter())
}

/// Write a set's index of `entries` (made anew each time they are asked for), streamed: a
/// bootstrap's index names thousands of files, and is neither copied nor held whole.
fn write_entries<'a, I: Iterator<Item = &'a BackedUp>>(
    set: &Path,
    entries: impl Fn() -> I,
) -> Result<()> {
    let path = index_path(set);
    fsutil::write_atomic_with(&path, |out| {
        Ok(serde_json::to_writer_pretty(
            out,
            &fsutil::Streamed(entries),
        )?)
    })
    .map_err(|e| Error::io("write backup index", &path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn adding_to_an_index_keeps_what_it_names_and_names_each_backup_once() {
        let dir = tempfile::tempdir().unwrap();
        let set = dir.path().join("20261205T000000Z");
        let entry = |name: &str| BackedUp {
            target: PathBuf::from(format!("/h/{name}")),
            backup: set.join(name),
            source: PathBuf::from(format!("/r/{name}")),
        };
        write_index(&set, &[entry("a"), entry("b")]).unwrap();
        add_to_index(&set, &[entry("b"), entry("c")]).unwrap();
        let backups: Vec<PathBuf> = read_index(&set).into_iter().map(|b| b.backup).collect();
        assert_eq!(backups, ["a", "b", "c"].map(|n| set.join(n)));
    }
}
