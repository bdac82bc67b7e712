//! Writing backup sets: the index beside a set names what went where (the layout itself is
//! `state::backup`'s).

use super::fsutil;
use crate::error::{Error, Result};
use crate::state::backup::{BackedUp, index_path, read_index};
use std::path::Path;

/// Add `entries` to a set's index, once per run (an interrupted run's set may have one).
pub fn add_to_index(set: &Path, entries: &[BackedUp]) -> Result<()> {
    let mut index = read_index(set);
    index.extend(
        entries
            .iter()
            .filter(|e| !index.iter().any(|b| b.backup == e.backup))
            .cloned()
            .collect::<Vec<_>>(),
    );
    write_index(set, &index)
}

/// Write a set's index (atomically, so it is always whole).
pub fn write_index(set: &Path, entries: &[BackedUp]) -> Result<()> {
    let path = index_path(set);
    let bytes = serde_json::to_vec_pretty(entries).expect("index serialises");
    fsutil::write_atomic(&path, &bytes).map_err(|e| Error::io("write backup index", &path, &e))
}
