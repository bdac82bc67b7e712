//! Decisions about the directories on the way to a target: what they really are once symlinks
//! are resolved, whether one of them leads into the repository (then nothing is written
//! there), and clearing a file that stands where a directory is needed.

use super::inspect::{self, Dir};
use super::model::{Action, Conflict, Displace, LinkState, Reason, Seen, Step};
use super::planner::Planner;
use crate::manifest::{LinkSpec, Policy};
use std::path::Path;
use std::rc::Rc;

impl Planner<'_> {
    /// The target's directory. When a file (or a link that is not a directory) stands where
    /// it needs a directory and the policy is `backup` or `overwrite`, plan clearing it once,
    /// unless it lies inside the repository or outside the home.
    pub(super) fn resolve_parent(&mut self, spec: &LinkSpec, policy: Policy) -> Rc<Dir> {
        let parent = crate::paths::parent(&spec.target).unwrap_or(Path::new("/"));
        let dir = self.dirs.resolve(parent);
        let Dir::Blocked { at, why } = &*dir else {
            return dir;
        };
        let policy = self.policy_in_the_way(at, policy);
        let displace = match policy {
            Policy::Backup => Displace::Backup {
                to: self.backup_destination(at),
            },
            Policy::Overwrite => Displace::Delete,
            Policy::Fail | Policy::Skip => return dir,
        };
        if !self.clearable(at) {
            return dir;
        }
        let conflict = Conflict::ParentNotDirectory {
            at: at.clone(),
            why: why.clone(),
            clearable: true,
        };
        self.clears.push(
            Step::new(
                at.clone(),
                spec.source.clone(),
                spec.method,
                LinkState::Conflict,
                Action::Clear {
                    displace: Box::new(displace),
                },
                Reason::InTheWay,
                policy,
            )
            .with_conflict(conflict)
            .seeing(Seen::of(&inspect::look(at)).map(|seen| match policy {
                Policy::Overwrite => seen.for_removal(at),
                _ => seen,
            })),
        );
        let at = at.clone();
        self.dirs.assume_removed(&at);
        self.dirs.resolve(parent)
    }

    /// Whether `backup` or `overwrite` may clear what stands at `at`: it is in the home, not the
    /// home itself, and not in the repository.
    pub(super) fn clearable(&mut self, at: &Path) -> bool {
        let holder = at.parent().unwrap_or(Path::new("/"));
        let holder_in_repo = match &*self.dirs.resolve(holder) {
            Dir::Exists { real, .. } => real.starts_with(self.repo),
            _ => true,
        };
        !holder_in_repo
            && at.starts_with(self.home)
            && at != self.home
            && self.protected.holding(at).is_none()
    }

    /// A conflict when the target's directory resolves into the repository.
    pub(super) fn inside_repo(&self, spec: &LinkSpec, dir: &Dir) -> Option<Conflict> {
        match dir {
            // Also a directory still to be made there: it would be made in the repository.
            Dir::Exists { real, via } | Dir::Missing { real, via, .. }
                if real.starts_with(self.repo) =>
            {
                Some(Conflict::InsideRepository {
                    link: via.as_deref().map_or_else(
                        || spec.target.parent().unwrap_or(Path::new("/")).to_path_buf(),
                        Path::to_path_buf,
                    ),
                    resolves_to: real.to_path_buf(),
                })
            }
            _ => None,
        }
    }
}
