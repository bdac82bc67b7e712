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
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What a user is told when an adoption was undone.
pub const UNDONE: &str =
    "nothing was adopted: the files are back where they were and the manifest's text is as it was";

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

/// What a user is told of an adoption undone: that nothing was adopted, when that is so.
pub fn undone_hint(actions: &[Recovered]) -> String {
    match actions.iter().any(Recovered::leaves_something) {
        false => UNDONE.to_string(),
        true => "the adoption was undone as far as it could be: see the notes above".to_string(),
    }
}

/// Declare the adoptions in the manifest and move them into the repository, journaled (see
/// the module's doc). On failure, everything done so far is undone.
pub fn move_in<'a>(
    adoptions: &[Adoption],
    manifest_path: &Path,
    files: &'a Files,
    state: &mut State,
) -> Result<MovedIn<'a>> {
    // A manifest that is a symlink (say to hosts/laptop.toml) is edited where it really is.
    let real = fs::canonicalize(manifest_path).map_err(|e| Error::io("read", manifest_path, &e))?;
    let text = fs::read_to_string(&real).map_err(|e| Error::io("read", &real, &e))?;
    let entries: Vec<NewEntry> = adoptions
        .iter()
        .map(|a| NewEntry {
            source: a.source.clone(),
            target: a.target.clone(),
            comment: format!("adopted from {}", a.target.replace("$$", "$")),
        })
        .collect();
    let edited = edit::add_links(&real, &text, &entries)?;
    let mut adopting = Adopting {
        manifest: real,
        before: text,
        after: edited,
        made: Vec::new(),
    };
    let write_journal = |adopting: &Adopting| {
        journal::write_entries(files, Path::new(""), Some(adopting), || {
            adoptions.iter().map(|a| Entry::adopting(&a.from, &a.to))
        })
    };
    write_journal(&adopting)?;
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
                    adopting.made.push(MadeDirectory {
                        path: dir.clone(),
                        dev: made.dev(),
                        ino: made.ino(),
                    });
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
    if let Err(error) = moves() {
        // The error that stopped it is the one to report; one undoing it is said too.
        let hint = match undo(files, state) {
            Ok(actions) => {
                crate::report::print_left(&actions, &files.home);
                undone_hint(&actions)
            }
            Err(undoing) => format!("undoing the adoption failed too: {undoing}"),
        };
        return Err(error.with_hint(hint));
    }
    Ok(MovedIn { files })
}
