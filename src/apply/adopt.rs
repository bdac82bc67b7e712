//! Carrying out `adopt`: declare the adoptions in the manifest (keeping its comments and
//! layout) and move the files into the repository; the ordinary planner and applier then link
//! them back.
//!
//! The order keeps every step recoverable. A journal comes first: the manifest's text before
//! and after, and each move. Then the moves, each directory they need journaled with its
//! identity once made. The manifest is written last, so a manifest that declares the files is
//! never read while they are not all in the repository. Until the link-back begins, a run that
//! stops or fails is undone, by itself or by the next writing run (`recovery`): the files go
//! back, the directories made for them go while empty, and the manifest gets its text back.
//! Once the journal is removed the adoption stands, and linking back is an ordinary apply,
//! journaled as one.

use super::fault;
use super::fsutil;
use super::journal::{self, Adopting, Entry, MadeDirectory};
use super::recovery::{self, Recovered};
use crate::error::{Error, Result};
use crate::manifest::edit::{self, NewEntry};
use crate::plan::adopt::Adoption;
use crate::state::{Files, State};
use std::fs;
use std::path::{Path, PathBuf};

/// Adoptions declared and moved in, with their journal still in place: until [`MovedIn::keep`],
/// a run that stops is undone by the next one.
pub struct MovedIn<'a> {
    files: &'a Files,
}

impl MovedIn<'_> {
    /// Move every adoption back to the home, remove the directories made for them, and
    /// restore the manifest: when the edited manifest cannot be used to link them back (an
    /// existing entry now claims one of them too), the run must leave the home and the
    /// repository as it found them, not the files in the repository and nothing linked (nor
    /// an empty directory that a glob entry would take for a new source).
    pub fn undo(self, state: &mut State) -> Result<Vec<Recovered>> {
        undo(self.files, state)
    }

    /// Keep the adoption: the files are in the repository and declared, and what links them
    /// back is an ordinary apply, journaled as one.
    pub fn keep(self) -> Result<()> {
        journal::finish(self.files)
    }
}

/// Undo the adoption the journal describes, as recovery would after a stop; what it did.
fn undo(files: &Files, state: &mut State) -> Result<Vec<Recovered>> {
    match recovery::recover(files, state)? {
        Some(recovery) if recovery.undid_adoption => Ok(recovery.actions),
        _ => Err(Error::failure(format!(
            "the adoption's journal {} is gone, so it could not be undone",
            files.journal.display()
        ))
        .with_hint("see where each path is with `dotlink status`, and move it back yourself")),
    }
}

/// An adoption that failed part way: why, and what undoing it did (or why it could not be).
pub struct NotMovedIn {
    pub error: Error,
    pub undone: Result<Vec<Recovered>>,
}

/// Declare the adoptions in the manifest and move them into the repository, journaled (see
/// the module's doc). On failure, everything done so far is undone.
pub fn move_in<'a>(
    adoptions: &[Adoption],
    manifest_path: &Path,
    files: &'a Files,
    state: &mut State,
) -> std::result::Result<MovedIn<'a>, Box<NotMovedIn>> {
    let not_started = |error| {
        Box::new(NotMovedIn {
            error,
            undone: Ok(Vec::new()),
        })
    };
    // A manifest that is a symlink (say to hosts/laptop.toml) is edited where it really is.
    let real = fs::canonicalize(manifest_path)
        .map_err(|e| not_started(Error::io("read", manifest_path, &e)))?;
    let text = fs::read_to_string(&real).map_err(|e| not_started(Error::io("read", &real, &e)))?;
    let entries: Vec<NewEntry> = adoptions
        .iter()
        .map(|a| NewEntry {
            source: a.source.clone(),
            target: a.target.clone(),
            comment: format!("adopted from {}", a.target.replace("$$", "$")),
        })
        .collect();
    let edited = edit::add_links(&real, &text, &entries).map_err(not_started)?;
    let mut adopting = Adopting {
        manifest: real,
        before: text,
        after: edited,
        made: Vec::new(),
    };
    let write_journal = |adopting: &Adopting| {
        let entries = adoptions.iter().map(|a| Entry::adopting(&a.from, &a.to));
        journal::write_entries(files, Path::new(""), Some(adopting), entries)
    };
    write_journal(&adopting).map_err(not_started)?;
    let mut moves = || -> Result<()> {
        for adoption in adoptions {
            let missing: Vec<PathBuf> = adoption
                .to
                .ancestors()
                .skip(1)
                .take_while(|a| fs::symlink_metadata(a).is_err())
                .map(Path::to_path_buf)
                .collect();
            for dir in missing.into_iter().rev() {
                let create = |e| Error::io("create directory", &dir, &e);
                fault::point().map_err(create)?;
                fs::create_dir(&dir).map_err(create)?;
                // Journaled before anything else happens: what recovery removes is proven
                // to be this directory.
                let journaled = fs::symlink_metadata(&dir).map_err(create).and_then(|made| {
                    let id = crate::state::DirId::of(&made);
                    adopting.made.push(MadeDirectory::new(&dir, id));
                    write_journal(&adopting)
                });
                if let Err(e) = journaled {
                    // Not in the journal, so recovery would not know it: removed here, made
                    // just now and still empty.
                    let _ = fs::remove_dir(&dir);
                    return Err(e);
                }
                fault::point().map_err(create)?;
            }
            fault::change(|| fsutil::move_path(&adoption.from, &adoption.to))
                .map_err(|e| Error::io("move into the repository", &adoption.from, &e))?;
        }
        // Last: a manifest that declares them is never read while they are not all in place.
        fault::change(|| fsutil::write_atomic(&adopting.manifest, adopting.after.as_bytes()))
            .map_err(|e| Error::io("write", &adopting.manifest, &e))
    };
    match moves() {
        Ok(()) => Ok(MovedIn { files }),
        Err(error) => Err(Box::new(NotMovedIn {
            error,
            undone: undo(files, state),
        })),
    }
}
