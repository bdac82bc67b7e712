//! Folded directories, as GNU Stow makes them: a directory symlink in the home
//! (`~/.config/nvim → ../dotfiles/nvim/.config/nvim`) that leads to exactly the repository
//! directory whose files the manifest mirrors below it. Such a link is not a conflict: the
//! targets below it are `folded`, and `apply` unfolds it under every policy (nothing but a
//! link into the repository is replaced), building the real directory with its links beside
//! it and swapping it in at once.
//!
//! This module also folds `fold = true` packages the way Stow does: the highest directory that
//! only one package uses is linked whole, unless a real directory that dotlink did not make is
//! already there (then its contents are linked one by one, as Stow descends into it).

use super::inspect::{Dir, Dirs};
use super::model::{Action, LinkState, Reason, Seen, Step, Unfolding};
use crate::manifest::{FoldRoot, LinkSpec, Method};
use crate::state::{PathMap, State};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The folded directory links found among the declared targets.
#[derive(Default)]
pub(super) struct Folds {
    /// Each folded target, and the folded directory link above it.
    by_target: PathMap<PathBuf>,
    /// Each folded directory link: what it stores, and whether a mirrored tree's file is below
    /// it (only those make it a fold).
    links: PathMap<(PathBuf, bool)>,
}

impl Folds {
    /// Note `spec`, whose target really is at `real` once the last symlink on its way, `via`,
    /// is passed: folded when that is exactly its source, and the link lies in the home.
    pub fn consider(&mut self, spec: &LinkSpec, real: &Path, via: Option<&Path>, home: &Path) {
        let Some(link) = via else { return };
        if real != &*spec.source || !link.starts_with(home) || link == home {
            return;
        }
        let Ok(points_to) = fs::read_link(link) else {
            return;
        };
        self.by_target
            .insert(spec.target.to_path_buf(), link.to_path_buf());
        let entry = self
            .links
            .entry(link.to_path_buf())
            .or_insert((points_to, false));
        entry.1 |= spec.in_tree;
    }

    /// The folded directory link above `target`, if it is one.
    pub fn link_above(&self, target: &Path) -> Option<&Path> {
        // Asked for every target: without folds, no path is hashed.
        if self.by_target.is_empty() {
            return None;
        }
        let link = self.by_target.get(target)?;
        self.is_fold(link).then_some(link.as_path())
    }

    pub fn is_fold(&self, link: &Path) -> bool {
        self.links.get(link).is_some_and(|(_, in_tree)| *in_tree)
    }

    /// Every folded directory link.
    pub fn links(&self) -> impl Iterator<Item = &Path> {
        self.links
            .iter()
            .filter(|(_, (_, in_tree))| *in_tree)
            .map(|(link, _)| link.as_path())
    }

    /// The unfold step for each folded directory link, from the steps of the targets below it.
    pub fn unfold_steps(&self, steps: &[Step], repo: &Path) -> Vec<Step> {
        let mut below: BTreeMap<&Path, Vec<&Step>> = BTreeMap::new();
        for step in steps {
            if let Action::Unfolded { by } = &step.action {
                below.entry(by).or_default().push(step);
            }
        }
        below
            .into_iter()
            .map(|(link, steps)| {
                let mut dirs = BTreeSet::new();
                for step in &steps {
                    let parent = step.target.parent().unwrap_or(link);
                    dirs.extend(
                        parent
                            .ancestors()
                            .take_while(|a| *a != link && a.starts_with(link))
                            .map(Path::to_path_buf),
                    );
                }
                let links: Vec<_> = steps
                    .iter()
                    .filter_map(|s| s.record().map(|r| r.to_record()))
                    .collect();
                let points_to = self.links[link].0.clone();
                // The repository directory the link shows (it resolved there when planned).
                let source = fs::canonicalize(link).unwrap_or_else(|_| repo.to_path_buf());
                let hidden = undeclared_below(&source, &steps);
                let first = steps[0];
                let mut step = Step::new(
                    link.to_path_buf(),
                    source,
                    Method::Symlink,
                    LinkState::Folded,
                    Action::Unfold(Box::new(Unfolding {
                        dirs: dirs.into_iter().collect(),
                        links: links.into(),
                    })),
                    Reason::FoldedLink {
                        links: u32::try_from(steps.len()).unwrap_or(u32::MAX),
                        hidden: hidden.into(),
                    },
                    first.policy,
                )
                .seeing(Some(Seen::Symlink { points_to }));
                step.package = first.package.clone();
                step
            })
            .collect()
    }
}

/// The files below the folded directory `dir` (in the repository) that none of `steps` links,
/// nor any directory they link whole.
fn undeclared_below(dir: &Path, steps: &[&Step]) -> Vec<PathBuf> {
    let linked: std::collections::HashSet<&Path> = steps.iter().map(|s| &*s.source).collect();
    let mut walk = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    let mut hidden = Vec::new();
    while let Some(Ok(item)) = walk.next() {
        if linked.contains(item.path()) {
            if item.file_type().is_dir() {
                walk.skip_current_dir();
            }
            continue;
        }
        if !item.file_type().is_dir() {
            hidden.push(item.path().to_path_buf());
        }
    }
    hidden
}

/// Turn the planned step of a folded target into its part of the unfold: it is made there.
pub(super) fn as_folded(mut step: Step, link: &Path) -> Step {
    if let Action::Create { .. } = step.action {
        step.state = LinkState::Folded;
        step.action = Action::Unfolded { by: link.into() };
        step.reason = Reason::Folded { link: link.into() };
    }
    step
}

/// Fold the packages that ask for it (`fold = true`), as Stow does: each directory of such a
/// package that no other entry places anything in is linked whole, highest first, unless a
/// real directory dotlink did not make stands at its place.
pub(super) fn fold_packages(
    specs: Vec<LinkSpec>,
    state: &State,
    dirs: &mut Dirs,
    repo: &Path,
) -> Vec<LinkSpec> {
    if specs.iter().all(|s| s.fold.is_none()) {
        return specs;
    }
    // Who places links in each directory: one package root, or more than one (`None`).
    let mut users: PathMap<Option<*const FoldRoot>> = PathMap::default();
    for spec in &specs {
        let user = spec.fold.as_ref().map(Arc::as_ptr);
        for dir in spec.target.ancestors().skip(1) {
            let seen = users.entry(dir.to_path_buf()).or_insert(user);
            if *seen != user {
                *seen = None;
            }
        }
    }
    let mut folded: PathMap<LinkSpec> = PathMap::default();
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let Some(root) = spec.fold.clone() else {
            out.push(spec);
            continue;
        };
        if spec.method == Method::Hardlink {
            out.push(spec);
            continue;
        }
        let rest = crate::paths::below(&spec.target, &root.target)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let depth = rest.components().count();
        // The highest directory of this file that may be linked whole.
        let mut chosen = None;
        for k in 1..depth {
            let target_dir: PathBuf = root.target.join(rest.iter().take(k).collect::<PathBuf>());
            let source_dir: PathBuf = spec
                .source
                .ancestors()
                .nth(depth - k)
                .unwrap_or(&spec.source)
                .to_path_buf();
            let relative = crate::paths::below(&source_dir, &root.source)
                .unwrap_or(Path::new(""))
                .to_path_buf();
            if folded.contains_key(&target_dir) {
                chosen = Some(target_dir);
                break;
            }
            let only_this = users.get(&target_dir) == Some(&Some(Arc::as_ptr(&root)));
            if only_this
                && !root.whole_only_below.contains(&relative)
                && may_link_whole(&target_dir, state, dirs, repo)
            {
                folded.insert(
                    target_dir.clone(),
                    LinkSpec {
                        source: source_dir.into(),
                        target: target_dir.as_path().into(),
                        source_is_dir: true,
                        in_tree: false,
                        fold: None,
                        ..spec.clone()
                    },
                );
                chosen = Some(target_dir);
                break;
            }
        }
        if chosen.is_none() {
            out.push(spec);
        }
    }
    let mut folded: Vec<LinkSpec> = folded.into_values().collect();
    folded.sort_by(|a, b| a.target.cmp(&b.target));
    out.extend(folded);
    out
}

/// Whether a directory link may go at `dir`: nothing is there, a link is (the planner decides
/// what becomes of it), or a directory dotlink made that holds only dotlink's links. A real
/// directory of anyone else's is descended into, as Stow does.
fn may_link_whole(dir: &Path, state: &State, dirs: &mut Dirs, repo: &Path) -> bool {
    let parent = dir.parent().unwrap_or(Path::new("/"));
    match &*dirs.resolve(parent) {
        // Nothing is there yet, or only a folded directory link's contents, which its unfold
        // rebuilds.
        Dir::Missing { .. } => return true,
        Dir::Exists { real, .. } if real.starts_with(repo) => return true,
        Dir::Exists { .. } => {}
        Dir::Blocked { .. } => return false,
    }
    match fs::symlink_metadata(dir) {
        Err(_) => true,
        // The user's own directory under another name (`~/.config -> dots-config`): descended
        // into, as without `fold` and as into a real directory, never replaced. A link into
        // the repository (a folded one), to nothing or to a file is replaced, or in the way.
        Ok(meta) if meta.file_type().is_symlink() => {
            !fs::metadata(dir).is_ok_and(|m| m.is_dir())
                || fs::canonicalize(dir).is_ok_and(|real| real.starts_with(repo))
        }
        Ok(meta) if meta.is_dir() => state.dirs.holds(dir, &meta) && only_dotlinks(dir, state),
        Ok(_) => true,
    }
}

/// Whether everything below `dir` is a directory dotlink made (and still the one it made) or a
/// link it still holds.
pub(crate) fn only_dotlinks(dir: &Path, state: &State) -> bool {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .all(|e| {
            let Ok(e) = e else { return false };
            if e.file_type().is_dir() {
                return e
                    .metadata()
                    .is_ok_and(|meta| state.dirs.holds(e.path(), &meta));
            }
            let found = super::inspect::look(e.path());
            super::inspect::recorded(state, e.path(), &found)
        })
}
