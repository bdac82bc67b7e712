//! Dead links into the repository that dotlink never recorded, as GNU Stow, dotbot or an older
//! layout leave them when a source is deleted or moved: `status` counts them and `clean`
//! removes them. Only the directories that hold declared targets and the home's top level are
//! looked in, and only symlinks that lead into the repository and to nothing are taken. Most of
//! those directories were listed already, by the survey, through the handle it looked with.

use super::inspect::{Dir, Dirs};
use super::model::{Action, LinkState, Reason, Seen, Step};
use crate::listing::{self, EntryType};
use crate::manifest::{Method, Policy};
use crate::paths;
use crate::state::State;
use serde::Serialize;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

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
/// targets themselves (the planner decides about those) or anything the state records. A
/// directory reached by several spellings (through symlinked directories) is listed once, and
/// a name in it is known when it is declared or recorded under any of its spellings.
/// `listed` holds the directories the survey already listed, with the entries that may be dead
/// links; the others are listed here.
pub(super) fn find(
    steps: &[Step],
    home: &Path,
    repo: &Path,
    state: &State,
    dirs: &mut Dirs,
    mut listed: super::survey::Listed,
    own: &[&Path],
) -> Vec<DeadLink> {
    // Each declared target, in the directory order (by bytes: targets are normalised), so
    // that the names declared in one directory are one run of the list: a name in a listing
    // is looked up in its directory's few, not hashed as a whole path. Held as the places of
    // their steps, four bytes where a path is sixteen (at a `status`'s peak), and split when
    // compared.
    let target = |i: u32| -> &Path { &steps[i as usize].target };
    let mut declared: Vec<u32> = (0..steps.len() as u32)
        .filter(|&i| {
            steps[i as usize].declared
                && matches!(paths::parent_and_name(target(i)), (Some(_), Some(_)))
        })
        .collect();
    // The plan holds its declared steps in that order, unless a target was respelled.
    let key = |i: &u32| paths::by_directory(target(*i));
    if !declared.iter().map(key).is_sorted() {
        declared.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
    }
    let by_dir: Vec<&[u32]> = declared.chunk_by(|a, b| key(a).0 == key(b).0).collect();
    let declared_in = |dir: &Path| -> &[u32] {
        by_dir
            .binary_search_by(|run| key(&run[0]).0.cmp(dir.as_os_str().as_bytes()))
            .map_or(&[], |i| by_dir[i])
    };
    let mut places: Vec<&Path> = by_dir
        .iter()
        .map(|run| Path::new(OsStr::from_bytes(key(&run[0]).0)))
        .collect();
    places.push(home);
    // By bytes: cheaper than by components; the order only decides which spelling of a
    // directory the links found in it are reported under.
    places.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    places.dedup();
    // A directory of the repository (or of dotlink's own) bound into the home holds links
    // that are not the home's.
    let protected = super::aliases::Protected::new(home, repo, own.iter().copied());
    let mut dead = Vec::new();
    for (dir, spellings) in by_real_directory(places, repo, dirs) {
        // Always there: only directories that exist are grouped.
        let Some(real) = dir.real() else { continue };
        let listing = match spellings.iter().find_map(|s| listed.remove(*s)) {
            Some(listing) => listing,
            None => match listing::list(spellings[0]) {
                Ok(listing) => listing,
                Err(_) => continue,
            },
        };
        let names: Vec<_> = spellings.iter().map(|p| declared_in(p)).collect();
        for (name, kind) in listing {
            // Most names are declared links, passed over without building a path.
            let declared = || {
                names.iter().any(|run| {
                    run.binary_search_by(|t| key(t).1.cmp(name.as_bytes()))
                        .is_ok()
                })
            };
            let not_a_link = kind != EntryType::Unknown && !kind.is_symlink();
            if not_a_link || declared() {
                continue;
            }
            let at = spellings[0].join(&name);
            if kind == EntryType::Unknown
                && !fs::symlink_metadata(&at).is_ok_and(|m| m.is_symlink())
            {
                continue;
            }
            if spellings
                .iter()
                .any(|spelling| state.links.contains_key(&spelling.join(&name)))
            {
                continue;
            }
            let Ok(points_to) = fs::read_link(&at) else {
                continue;
            };
            let leads = leads_to(real, &points_to);
            // Dead means leading to nothing (nothing there, or a file where its text needs a
            // directory: `f/`): a link that cannot be followed for another reason (permissions,
            // a loop) is not dead.
            let gone = matches!(fs::metadata(&at), Err(e) if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ));
            if leads.is_some_and(|leads| leads.starts_with(repo))
                && gone
                && protected.holding(&at).is_none()
            {
                dead.push(DeadLink { at, points_to });
            }
        }
    }
    dead.sort_by(|a, b| a.at.cmp(&b.at));
    dead
}

/// Where the text `points_to`, stored by a link in the directory `dir`, leads, as the kernel
/// follows it: the longest part that exists is resolved (a `tools/../../repo/x`, with `tools` a
/// link elsewhere, leads elsewhere; so does `repo/out/x`, with `out` a link in the repository
/// leading out of it; and `dotfiles/x`, with `dotfiles` a link to the repository, leads into
/// it), then the rest is appended. A rest that still climbs (`nothere/../x`) leads nowhere,
/// and so, as far as dotlink can tell, does one whose first name is a link that cannot be
/// followed (dangling: where it leads depends on what is missing, a drive unplugged).
/// Only links that may be dead are asked about, so the cost of resolving does not add up.
fn leads_to(dir: &Path, points_to: &Path) -> Option<PathBuf> {
    let joined = dir.join(points_to);
    for existing in joined.ancestors() {
        if let Ok(real) = fs::canonicalize(existing) {
            let rest = joined.strip_prefix(existing).ok()?;
            let climbs = rest
                .components()
                .any(|c| c == std::path::Component::ParentDir);
            let next = rest.components().next().map(|c| existing.join(c));
            let unfollowable =
                next.is_some_and(|next| fs::symlink_metadata(next).is_ok_and(|m| m.is_symlink()));
            return (!climbs && !unfollowable).then(|| real.join(rest));
        }
    }
    None
}

/// `places` grouped by the real directory each is (in their order), leaving out those that
/// are not directories or lie in the repository. Each group holds what resolving its first
/// place found, shared with the resolver's own record of it (a copy of each real path was a
/// tenth of a megabyte at 10,000 links, at the peak of a `status`).
fn by_real_directory<'p>(
    places: Vec<&'p Path>,
    repo: &Path,
    dirs: &mut Dirs,
) -> Vec<(Rc<Dir>, Vec<&'p Path>)> {
    let mut groups: Vec<(Rc<Dir>, Vec<&'p Path>)> = Vec::with_capacity(places.len());
    // Each group's place in `groups`, found by the hash of its real directory's bytes (real
    // paths are in their plain form): one directory for each of the plan's, so not hashed
    // as `Path`s, nor copied as keys.
    let mut index: hashbrown::HashTable<usize> = hashbrown::HashTable::with_capacity(places.len());
    let hash = |path: &Path| crate::state::hash_path(path);
    for place in places {
        // Only directories that really are in the home: never the repository's own.
        let found = dirs.resolve(place);
        let real = match &*found {
            Dir::Exists { real, .. } if paths::below(real, repo).is_none() => real,
            _ => continue,
        };
        let at = hash(real);
        match index.find(at, |&i| {
            groups[i].0.real().map(Path::as_os_str) == Some(real.as_os_str())
        }) {
            Some(&i) => groups[i].1.push(place),
            None => {
                let hash_of = |i: &usize| groups[*i].0.real().map_or(0, hash);
                index.insert_unique(at, groups.len(), hash_of);
                groups.push((found.clone(), vec![place]));
            }
        }
    }
    groups
}

/// The steps that remove dead links: each checked, just before, to be the link it was.
pub(crate) fn removal_steps(dead: &[DeadLink]) -> Vec<Step> {
    dead.iter()
        .map(|d| {
            let dir = d.at.parent().unwrap_or(Path::new("/"));
            let leads = leads_to(dir, &d.points_to);
            Step::new(
                d.at.clone(),
                leads.unwrap_or_else(|| paths::normalize(&dir.join(&d.points_to))),
                Method::Symlink,
                LinkState::Dangling,
                Action::remove(),
                Reason::DeadLink,
                Policy::Fail,
            )
            .seeing(Some(Seen::Symlink {
                points_to: d.points_to.clone(),
            }))
        })
        .collect()
}
