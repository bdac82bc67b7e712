//! Carrying out `adopt`: declare the adoptions in the manifest (keeping its comments and
//! layout) and move the files into the repository; the ordinary planner and applier then link
//! them back.
//!
//! The order keeps every step recoverable: the manifest is written first, then the file moves
//! into the repository, then the link is made. A run that stops after the move leaves the file
//! safe in the repository, and `dotlink apply` links it.

use super::fsutil;
use crate::error::{Error, Result};
use crate::manifest::edit::{self, NewEntry};
use crate::plan::adopt::Adoption;
use std::fs;
use std::path::Path;

/// Declare the adoptions in the manifest and move them into the repository. On failure,
/// everything done so far is undone.
pub fn move_in(adoptions: &[Adoption], manifest_path: &Path) -> Result<()> {
    // A manifest that is a symlink (say to hosts/laptop.toml) is edited where it really is.
    let real = fs::canonicalize(manifest_path).map_err(|e| Error::io("read", manifest_path, &e))?;
    let manifest_path = real.as_path();
    let text =
        fs::read_to_string(manifest_path).map_err(|e| Error::io("read", manifest_path, &e))?;
    let entries: Vec<NewEntry> = adoptions
        .iter()
        .map(|a| NewEntry {
            source: a.source.clone(),
            target: a.target.clone(),
            comment: format!("adopted from {}", a.target.replace("$$", "$")),
        })
        .collect();
    let edited = edit::add_links(manifest_path, &text, &entries)?;
    fsutil::write_atomic(manifest_path, edited.as_bytes())
        .map_err(|e| Error::io("write", manifest_path, &e))?;
    for (done, adoption) in adoptions.iter().enumerate() {
        let moved = adoption
            .to
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| fsutil::move_path(&adoption.from, &adoption.to));
        if let Err(e) = moved {
            for back in adoptions[..done].iter().rev() {
                let _ = fsutil::move_path(&back.to, &back.from);
            }
            let _ = fsutil::write_atomic(manifest_path, text.as_bytes());
            return Err(Error::io("move into the repository", &adoption.from, &e));
        }
    }
    Ok(())
}
