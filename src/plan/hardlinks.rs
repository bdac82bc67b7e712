//! Decisions for hard links: the same inode is `ok`, a separate copy with the same contents
//! has `diverged`, anything else is in the way; and a hard link that would cross filesystems
//! is refused before anything is done.

use super::inspect::{self, Dir, FileId, Found};
use super::model::{Action, Conflict, Link, LinkState, Reason, Step};
use super::planner::{Planner, replace_link};
use crate::error::{Error, Result};
use crate::manifest::{LinkSpec, Policy};
use crate::paths;
use std::fs;
use std::path::Path;

impl Planner<'_> {
    pub(super) fn hardlink(&mut self, spec: &LinkSpec, policy: Policy) -> Result<Step> {
        let source_meta =
            fs::metadata(&spec.source).map_err(|e| Error::io("read source", &spec.source, &e))?;
        let source = FileId::of(&source_meta);
        let link = Link::Hardlink(Some(Box::new((source.dev, source.ino))));
        let parent = spec.target.parent().unwrap_or(Path::new("/"));
        let dir = self.resolve_parent(spec, policy);
        let found = self.look_below(&spec.target, &dir);
        if let Found::File(id) = &found
            && id.same_inode(&source)
        {
            let reason = Reason::SharesInode;
            let step = self.step(spec, policy, LinkState::Ok, Action::None, link, reason);
            return Ok(step.with_link_count(id.nlink));
        }
        let step = if let Some(conflict) = self.inside_repo(spec, &dir) {
            self.conflict(spec, policy, conflict, link)
        } else {
            match found {
                Found::File(id) => self.hard_link_file(spec, policy, *id, link),
                Found::Symlink(stored) => {
                    let real_parent = dir.real().unwrap_or(parent).to_path_buf();
                    if self.resolves_to(&stored, &real_parent, &spec.target, &spec.source) {
                        let reason = Reason::SymlinkToSource;
                        self.step(spec, policy, LinkState::Wrong, replace_link(), link, reason)
                    } else {
                        self.other_symlink(spec, policy, &stored, &real_parent, link)
                    }
                }
                other => self.not_a_link(spec, policy, other, &dir, link),
            }
        };
        if step.action.changes() {
            self.check_same_filesystem(spec, &source, &dir)?;
        }
        Ok(step)
    }

    /// A regular file at a hard link's target that is not the source's inode: a copy with the
    /// same contents (an editor saved by replacing the file) or a file in the way.
    fn hard_link_file(&self, spec: &LinkSpec, policy: Policy, id: FileId, link: Link) -> Step {
        let step = if inspect::same_contents(&spec.target, &spec.source).unwrap_or(false) {
            let reason = Reason::SeparateCopy;
            self.step(
                spec,
                policy,
                LinkState::Diverged,
                replace_link(),
                link,
                reason,
            )
        } else {
            let made_by_dotlink =
                inspect::recorded(self.state, &spec.target, &Found::File(Box::new(id)));
            let mut step = self.conflict(spec, policy, Conflict::RegularFile, link);
            step.reason = if made_by_dotlink {
                Reason::OldCopyOfSource
            } else {
                Reason::EditedCopy
            };
            step
        };
        step.with_link_count(id.nlink)
    }

    /// Hard links cannot cross filesystems: compare the source's device with the nearest
    /// existing directory on the way to the target.
    fn check_same_filesystem(&self, spec: &LinkSpec, source: &FileId, dir: &Dir) -> Result<()> {
        let parent = spec.target.parent().unwrap_or(Path::new("/"));
        let existing = match dir {
            Dir::Missing { first, .. } => first.parent().unwrap_or(Path::new("/")),
            _ => parent,
        };
        let Ok(meta) = fs::metadata(existing) else {
            return Ok(());
        };
        if std::os::unix::fs::MetadataExt::dev(&meta) == source.dev {
            return Ok(());
        }
        Err(Error::input(format!(
            "cannot hard-link {} to {}: they are on different filesystems ({} is on device {}, the source on device {})",
            paths::display(&spec.target, self.home),
            spec.source.display(),
            paths::display(existing, self.home),
            std::os::unix::fs::MetadataExt::dev(&meta),
            source.dev
        ))
        .with_hint(
            "hard links cannot cross filesystems; use `method = \"symlink\"` for this entry",
        ))
    }
}
