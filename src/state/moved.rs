//! A repository that moved: its state file is still named after the old place of its
//! manifest. When a manifest has no state yet, the state of a manifest that no longer exists is
//! taken over if its sources, moved along with the repository, are there in this one.

use super::{Files, Record, State, format};
use crate::paths::SharedPath;
use std::fs;
use std::path::{Path, PathBuf};

/// A state taken over from where the repository was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub from: PathBuf,
    pub to: PathBuf,
    /// The old state file, which goes once this manifest's own is written.
    pub old_state_file: PathBuf,
}

impl Files {
    /// The state of this repository from where it was before it moved, its sources moved along
    /// with it; `None` when no state of a vanished manifest fits.
    pub fn find_moved(&self) -> Option<(State, Moved)> {
        // Every other repository's state is read here, and all but one let go: a run that keeps
        // its paths would hold them all.
        crate::shared_path::counted_paths(|| self.find_moved_counted())
    }

    fn find_moved_counted(&self) -> Option<(State, Moved)> {
        let to = self.manifest.parent()?.to_path_buf();
        let dir = self.state.parent()?;
        let mut best: Option<(usize, State, Moved)> = None;
        for entry in fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !format::is_state_file(Path::new(name.as_ref()))
                || path == self.state
                || path == self.legacy_state
            {
                continue;
            }
            let Some((manifest, state)) = read_foreign(&path) else {
                continue;
            };
            let Some(from) = manifest.parent().map(Path::to_path_buf) else {
                continue;
            };
            let moved = state.rebased(&from, &to);
            let fits = moved
                .links
                .values()
                .filter(|r| r.source.starts_with(&to) && r.source.exists())
                .count();
            if fits > 0 && best.as_ref().is_none_or(|(n, ..)| fits > *n) {
                let old_state_file = path;
                best = Some((
                    fits,
                    moved,
                    Moved {
                        from,
                        to: to.clone(),
                        old_state_file,
                    },
                ));
            }
        }
        best.map(|(_, state, moved)| (state, moved))
    }
}

/// The manifest and state of another state file, if its manifest is gone.
fn read_foreign(path: &Path) -> Option<(PathBuf, State)> {
    let (mut file, ..) = super::open_regular(path).ok()??;
    let (manifest, state) = format::read_from(&mut file).ok()?;
    let manifest = manifest?;
    if manifest.exists() {
        return None;
    }
    Some((manifest, state))
}

impl State {
    /// The same links with their sources under `to` instead of `from`. The link text stays:
    /// it is what dotlink made, and what proves a link is dotlink's until it is relinked.
    fn rebased(&self, from: &Path, to: &Path) -> State {
        let mut texts = crate::link_text::Texts::default();
        let links = self
            .links
            .values()
            .map(|r| {
                let source: SharedPath = match r.source.strip_prefix(from) {
                    Ok(rest) => to.join(rest).into(),
                    Err(_) => r.source.clone(),
                };
                // Held whole where it is no longer the default text of the moved source.
                let own_text = r
                    .text()
                    .and_then(|text| texts.own(&text, &r.target, &source));
                Record {
                    source,
                    own_text,
                    ..r.clone()
                }
            })
            .collect();
        State {
            links,
            dirs: self.dirs.clone(),
        }
    }
}
