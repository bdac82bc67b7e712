//! Dead links into the repository that dotlink never recorded, as GNU Stow, dotbot or an older
//! layout leave them when a source is deleted or moved: `status` counts them and `clean`
//! removes them. Only the directories that hold declared targets and the home's top level are
//! looked in, and only symlinks that lead into the repository and to nothing are taken.

use super::inspect::{Dir, Dirs};
use super::model::{Action, LinkState, Reason, Seen, Step};
use crate::listing::{self, EntryType};
use crate::manifest::{Method, Policy};
use crate::paths;
use crate::state::{PathRefSet, PathSet, State};
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};

/// A symlink into the repository that leads to nothing and that dotlink did not make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLink {
    #[serde(with = "paths::serde_path")]
    pub at: PathBuf,
    /// What the link stores.
    #[serde(with = "paths::serde_path")]
    pub points_to: PathBuf,
}

/// The dead links in the home directory and the directories of `targets`, not counting the
/// targets themselves (the planner decides about those) or anything the state records.
pub(super) fn find<'t>(
    targets: impl Iterator<Item = &'t Path>,
    home: &Path,
    repo: &Path,
    state: &State,
    dirs: &mut Dirs,
) -> Vec<DeadLink> {
    let declared: PathRefSet = targets.collect();
    let mut places: Vec<&Path> = declared.iter().filter_map(|t| t.parent()).collect();
    places.push(home);
    // By bytes: cheaper than by components, and only duplicates matter here.
    places.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    places.dedup();
    let mut looked = PathSet::default();
    let mut dead = Vec::new();
    for place in places {
        // Only directories that really are in the home: never the repository's own.
        let real = match &*dirs.resolve(place) {
            Dir::Exists { real, .. } if !real.starts_with(repo) => real.clone(),
            _ => continue,
        };
        if !looked.insert(real.clone()) {
            continue;
        }
        let Ok(listing) = listing::list(place) else {
            continue;
        };
        // One buffer for every name: most are declared links, looked at and passed over.
        let mut at = place.to_path_buf();
        for (name, kind) in listing {
            at.push(&name);
            let symlink = match kind {
                EntryType::Unknown => fs::symlink_metadata(&at).is_ok_and(|m| m.is_symlink()),
                kind => kind.is_symlink(),
            };
            let known =
                !symlink || declared.contains(at.as_path()) || state.links.contains_key(&at);
            if known {
                at.pop();
                continue;
            }
            let at = std::mem::replace(&mut at, place.to_path_buf());
            let Ok(points_to) = fs::read_link(&at) else {
                continue;
            };
            let leads = paths::normalize(&real.join(&points_to));
            // Dead means leading to nothing: a link that cannot be followed for another reason
            // (permissions, a loop) is not dead.
            let gone =
                matches!(fs::metadata(&at), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
            if leads.starts_with(repo) && gone {
                dead.push(DeadLink { at, points_to });
            }
        }
    }
    dead.sort_by(|a, b| a.at.cmp(&b.at));
    dead
}

/// The steps that remove dead links: each checked, just before, to be the link it was.
pub(crate) fn removal_steps(dead: &[DeadLink]) -> Vec<Step> {
    dead.iter()
        .map(|d| {
            let dir = d.at.parent().unwrap_or(Path::new("/"));
            Step::new(
                d.at.clone(),
                paths::normalize(&dir.join(&d.points_to)),
                Method::Symlink,
                LinkState::Dangling,
                Action::Remove { rmdirs: Vec::new() },
                Reason::DeadLink,
                Policy::Fail,
            )
            .seeing(Some(Seen::Symlink {
                points_to: d.points_to.clone(),
            }))
        })
        .collect()
}
