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
use std::path::{Path, PathBuf};

/// Adoptions declared and moved in, and how to take them back.
pub struct MovedIn<'a> {
    adoptions: &'a [Adoption],
    /// Directories made in the repository for them, in the order they were made.
    made: Vec<PathBuf>,
    /// The manifest as it really is (not a symlink to it), and its text before.
    manifest: PathBuf,
    text: String,
}

impl MovedIn<'_> {
    /// Move every adoption back to the home, remove the directories made for them, and
    /// restore the manifest: when the edited manifest cannot be used to link them back (an
    /// existing entry now claims one of them too), the run must leave the home and the
    /// repository as it found them, not the files in the repository and nothing linked (nor
    /// an empty directory that a glob entry would take for a new source).
    pub fn undo(self) -> Result<()> {
        undo(self.adoptions, &self.made, &self.manifest, &self.text)
    }
}

/// Move `adoptions` back where they came from (the last first), remove the directories in
/// `made` (the last first, each only while empty: anything put there since stays), and write
/// `text` back to the manifest; the first error, after trying everything.
fn undo(adoptions: &[Adoption], made: &[PathBuf], manifest: &Path, text: &str) -> Result<()> {
    let mut first = Ok(());
    for back in adoptions.iter().rev() {
        if let Err(e) = fsutil::move_path(&back.to, &back.from) {
            first = first.and(Err(Error::io("move back to the home", &back.to, &e)));
        }
    }
    fsutil::remove_made_dirs(made);
    let restored = fsutil::write_atomic(manifest, text.as_bytes())
        .map_err(|e| Error::io("write", manifest, &e));
    first.and(restored)
}

/// Declare the adoptions in the manifest and move them into the repository. On failure,
/// everything done so far is undone.
pub fn move_in<'a>(adoptions: &'a [Adoption], manifest_path: &Path) -> Result<MovedIn<'a>> {
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
    let mut made = Vec::new();
    for (done, adoption) in adoptions.iter().enumerate() {
        let moved = adoption
            .to
            .parent()
            .map_or(Ok(()), |dir| {
                made.extend(fsutil::make_missing_dirs(dir, |dir| fs::create_dir(dir))?);
                Ok(())
            })
            .and_then(|()| fsutil::move_path(&adoption.from, &adoption.to));
        if let Err(e) = moved {
            // The move's own error is the one to report.
            let _ = undo(&adoptions[..done], &made, manifest_path, &text);
            return Err(Error::io("move into the repository", &adoption.from, &e));
        }
    }
    Ok(MovedIn {
        adoptions,
        made,
        manifest: real,
        text,
    })
}
