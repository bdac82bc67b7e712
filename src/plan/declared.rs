//! Decisions for declared symlinks: whether what is at the target is already the right link,
//! a link that may be replaced freely (dotlink's own, or one into the repository), or
//! something in the way; and a declared source that no longer exists.

use super::inspect::{self, Dir, FileId, Found};
use super::model::{Action, Conflict, DirChain, Displace, Link, LinkState, Reason, Step};
use super::planner::{Planner, replace_link};
use crate::manifest::{LinkSpec, Location, Method, Policy, Style};
use crate::paths;
use std::fs;
use std::path::{Path, PathBuf};

impl Planner<'_> {
    pub(super) fn symlink(&mut self, spec: &LinkSpec, policy: Policy) -> Step {
        let spelled_parent = paths::parent(&spec.target);
        let parent = spelled_parent.unwrap_or(Path::new("/"));
        let dir = self.resolve_parent(spec, policy);
        let real_parent = dir.real().unwrap_or(parent);
        let own_text = match spec.style {
            Style::Absolute => Some(spec.source.clone()),
            Style::Relative => {
                let recorded = self.record_of(spec).and_then(|r| r.own_text.as_ref());
                let target = (&*spec.target, spelled_parent);
                self.relative_text(target, &spec.source, real_parent, recorded)
            }
        };
        let link = Link::Symlink(own_text);
        let found = self.look_below_as_recorded(&spec.target, &dir);
        // The usual case: the link holds the default text the state records for it, which is
        // this link's text too (the same source, the target's directory as spelled). Kept,
        // with no text copied or derived.
        if let (Found::DefaultSymlink { target, source }, Link::Symlink(None)) = (&found, &link)
            && target.as_os_str() == spec.target.as_os_str()
            && source.as_os_str() == spec.source.as_os_str()
        {
            let reason = Reason::Plain;
            return self.step(spec, policy, LinkState::Ok, Action::None, link, reason);
        }
        let found = found.with_text();
        // Otherwise a link exactly as dotlink would make it is settled by comparing bytes;
        // only other spellings are resolved. A text ending in `/` leads nowhere when the source
        // is a file, though as a path it is the same.
        if let Found::Symlink(stored) = &found
            && (spec.source_is_dir || !paths::names_a_directory(stored))
            && let text = crate::link_text::text(link.own_text(), &spec.target, &spec.source)
            && (**stored == *text
                || self.resolves_to(stored, real_parent, &spec.target, &spec.source))
        {
            if **stored == *text || stored.is_absolute() == (spec.style == Style::Absolute) {
                // What is there is kept, and recorded, byte for byte as it is spelled
                // (`a//b` is the same path as `a/b`, but not the same link text).
                let kept = match stored.as_os_str() == text.as_os_str() {
                    true => link,
                    false => Link::Symlink(self.own_text(stored, &spec.target, &spec.source)),
                };
                return self.step(
                    spec,
                    policy,
                    LinkState::Ok,
                    Action::None,
                    kept,
                    Reason::Plain,
                );
            }
            let reason = Reason::Respell {
                stored_absolute: stored.is_absolute(),
                style: spec.style,
            };
            return self.step(spec, policy, LinkState::Wrong, replace_link(), link, reason);
        }
        if let Some(conflict) = self.inside_repo(spec, &dir) {
            return self.conflict(spec, policy, conflict, link);
        }
        match found {
            Found::Symlink(stored) => self.other_symlink(spec, policy, &stored, real_parent, link),
            other => self.not_a_link(spec, policy, other, &dir, link),
        }
    }

    /// A declared link whose source does not exist (reported by `status` only; everything
    /// that links refuses such a manifest). A link still at the target is `dangling`.
    pub(super) fn missing_source(&mut self, spec: &LinkSpec, policy: Policy, at: Location) -> Step {
        let parent = paths::parent(&spec.target).unwrap_or(Path::new("/"));
        let dir = self.dirs.resolve(parent);
        // Below a link this run removes there is nothing, whatever that link leads to.
        let found = self.look_below(&spec.target, &dir);
        let leads_there = match &found {
            Found::Symlink(stored) => {
                let real_parent = dir.real().unwrap_or(parent);
                *paths::normalize(&real_parent.join(stored)) == *spec.source
            }
            _ => false,
        };
        let state = if leads_there || inspect::recorded(self.state, &spec.target, &found) {
            LinkState::Dangling
        } else {
            LinkState::Missing
        };
        // In 32 bits, as every manifest's lines and columns fit: a step is held per target.
        let reason = Reason::SourceMissing {
            line: u32::try_from(at.line).unwrap_or(u32::MAX),
            column: u32::try_from(at.column).unwrap_or(u32::MAX),
        };
        self.step(spec, policy, state, Action::Block, None, reason)
    }

    /// A symlink at the target that does not resolve to the source.
    pub(super) fn other_symlink(
        &mut self,
        spec: &LinkSpec,
        policy: Policy,
        stored: &Path,
        real_parent: &Path,
        link: Link,
    ) -> Step {
        let points_to = paths::normalize(&real_parent.join(stored));
        let into_repo = points_to.starts_with(self.repo);
        if into_repo && fs::symlink_metadata(&points_to).is_err() {
            let reason = Reason::PointsToMissing {
                points_to: points_to.into(),
            };
            return self.step(
                spec,
                policy,
                LinkState::Dangling,
                replace_link(),
                link,
                reason,
            );
        }
        // Dotlink's own link (the state records it, and it still has the text dotlink gave
        // it), or a link into the repository: replacing it loses nothing.
        let ours = inspect::recorded(self.state, &spec.target, &Found::Symlink(stored.into()));
        if ours || into_repo {
            let mut points_to = points_to;
            // `f1/` is not `f1` when `f1` is a file: keep the slash that makes the difference.
            if paths::names_a_directory(stored) && points_to.parent().is_some() {
                points_to.as_mut_os_string().push("/");
            }
            let reason = Reason::PointsElsewhere {
                points_to: points_to.into(),
            };
            return self.step(spec, policy, LinkState::Wrong, replace_link(), link, reason);
        }
        self.conflict(
            spec,
            policy,
            Conflict::ForeignSymlink {
                points_to: stored.to_path_buf(),
            },
            link,
        )
    }

    /// Nothing, a file, a directory or something unreadable at the target.
    pub(super) fn not_a_link(
        &mut self,
        spec: &LinkSpec,
        policy: Policy,
        found: Found,
        dir: &Dir,
        link: Link,
    ) -> Step {
        if let Some(of) = self.another_name(spec, &found) {
            return self.conflict(spec, policy, Conflict::AnotherName { of }, link);
        }
        match found {
            Found::Nothing | Found::NotADirectoryOnTheWay => match dir {
                Dir::Blocked { at, why } => {
                    let clearable = self.clearable(at);
                    let conflict = Conflict::ParentNotDirectory {
                        at: at.clone(),
                        why: why.clone(),
                        clearable,
                    };
                    // What no policy may clear stays each link's own conflict, unresolvable.
                    let policy = match clearable {
                        true => self.policy_in_the_way(at, policy),
                        false => policy,
                    };
                    self.conflict(spec, policy, conflict, link)
                }
                Dir::Exists { .. } => self.step(
                    spec,
                    policy,
                    LinkState::Missing,
                    Action::create(DirChain::default()),
                    link,
                    Reason::Plain,
                ),
                Dir::Missing { first, .. } => {
                    let parent = paths::parent(&spec.target).unwrap_or(Path::new("/"));
                    let mkdirs = self.missing_chain(first, parent);
                    self.step(
                        spec,
                        policy,
                        LinkState::Missing,
                        Action::create(mkdirs),
                        link,
                        Reason::Plain,
                    )
                }
            },
            // A hard link to the source itself (a switch from `method = "hardlink"`): the
            // repository keeps the data, so replacing it loses nothing. A file with one name
            // cannot be one.
            Found::File(id)
                if id.nlink > 1
                    && fs::metadata(&spec.source).is_ok_and(|m| FileId::of(&m).same_inode(&id)) =>
            {
                let reason = Reason::HardLinkToSource;
                self.step(spec, policy, LinkState::Wrong, replace_link(), link, reason)
            }
            // A hard link dotlink made to another source, which still has the data (the target
            // moved to another entry): as freely replaced as a symlink dotlink made.
            Found::File(id) if let Some(to) = self.own_hard_link_elsewhere(&spec.target, &id) => {
                let reason = Reason::HardLinkElsewhere { to };
                self.step(spec, policy, LinkState::Wrong, replace_link(), link, reason)
            }
            Found::File(_) => self.conflict(spec, policy, Conflict::RegularFile, link),
            Found::Directory(_) => match self.only_own_links(&spec.target) {
                Some(links) => {
                    self.emptied.extend(links);
                    let action = Action::replace(Displace::EmptyDirectory);
                    let reason = Reason::OwnDirectory;
                    self.step(spec, policy, LinkState::Wrong, action, link, reason)
                }
                None => self.conflict(spec, policy, Conflict::Directory, link),
            },
            Found::Special(_) => self.conflict(spec, policy, Conflict::Special, link),
            Found::Unreadable(error) => {
                self.conflict(spec, policy, Conflict::Unreadable { error }, link)
            }
            Found::Symlink(_) | Found::DefaultSymlink { .. } => {
                unreachable!("symlinks are handled by the caller")
            }
        }
    }

    /// The source of the hard link dotlink made at `target`, when the file there (`id`) is
    /// still that link and a second name of that source.
    fn own_hard_link_elsewhere(&self, target: &Path, id: &FileId) -> Option<paths::SharedPath> {
        let record = self.state.links.get(target)?;
        (record.method == Method::Hardlink
            && record.inode() == Some((id.dev, id.ino))
            && inspect::shares_with_source(&record.source, id))
        .then(|| record.source.clone())
    }

    /// Whether `stored`, read from the link at `target`, leads to `source`.
    pub(super) fn resolves_to(
        &self,
        stored: &Path,
        real_parent: &Path,
        target: &Path,
        source: &Path,
    ) -> bool {
        // `..` after a name is only lexically the same: the kernel walks into that name first
        // (`nothere/../j` leads nowhere when `nothere` does not exist), so the kernel decides.
        let lexical = paths::normalize(&real_parent.join(stored));
        if lexical == source && !paths::dotdot_after_a_name(stored) {
            return true;
        }
        // Spelled through other symlinks: let the kernel decide. Only reached for links that
        // differ from the expected spelling, so it costs nothing on the usual path.
        match (fs::canonicalize(target), fs::canonicalize(source)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }

    /// What is found at the spec's target, under another name (a bind mount): the home, the
    /// repository, one of dotlink's own directories or one above them, or a place in the
    /// repository (its own source, say) or in dotlink's own directories. A link there would
    /// replace it. Asked only when something is in the way. (A bind mount's own mount point
    /// cannot be renamed or removed: the kernel refuses with EBUSY.)
    fn another_name(&self, spec: &LinkSpec, found: &Found) -> Option<PathBuf> {
        let (Found::File(id) | Found::Directory(id) | Found::Special(id)) = found else {
            return None;
        };
        let replaced = match found {
            Found::Directory(_) => self.protected.replaced_by((id.dev, id.ino)),
            _ => None,
        };
        replaced.or_else(|| self.protected.holding(&spec.target))
    }

    /// If `dir` is a directory dotlink created (and still the one it created) holding only
    /// links it made and directories it created, those links; otherwise `None`.
    fn only_own_links(&self, dir: &Path) -> Option<Vec<PathBuf>> {
        if !self.state.dirs.holds_now(dir) {
            return None;
        }
        let mut links = Vec::new();
        for entry in walkdir::WalkDir::new(dir).min_depth(1) {
            let entry = entry.ok()?;
            let path = entry.path();
            if entry.file_type().is_dir() {
                if !self.state.dirs.holds(path, &entry.metadata().ok()?) {
                    return None;
                }
            } else if self.removable.contains(path) {
                links.push(path.to_path_buf());
            } else {
                return None;
            }
        }
        Some(links)
    }
}
