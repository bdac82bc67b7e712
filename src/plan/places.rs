//! Where targets really are: one identity per path. Each target is resolved once through the
//! symlinks on its way (its real parent directory plus its name), and from then on compared by
//! that identity, so two spellings of one place are one target, and a symlinked home and its
//! real path are the same home.
//!
//! Before anything is planned, the resolved places are checked: a target whose real place is
//! outside the home needs `allow_outside_home`; no target may be at, above or inside dotlink's
//! own directories (the state directory, with its journal and lock, and the backup
//! directory), and those may not resolve into the repository.

use super::folds::Folds;
use super::inspect::{Dir, Dirs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::manifest::{LinkSpec, Manifest, position};
use crate::paths;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// One of dotlink's own directories, where it really is and as it is spelled, and every
/// symlink passed on the way from the one to the other (replacing any of them moves it).
struct OwnDir {
    what: &'static str,
    real: PathBuf,
    spelled: PathBuf,
    links: Vec<PathBuf>,
    hint: &'static str,
}

/// Resolve every target to its identity, and check it may be written. Targets reached through
/// a folded directory link are noted in `folds`. Returns where the targets respelled by their
/// real place are among `specs`.
pub(super) fn settle_targets(
    manifest: &Manifest,
    specs: &mut [LinkSpec],
    dirs: &mut Dirs,
    ctx: &Context,
    folds: &mut Folds,
) -> Result<Vec<usize>> {
    let own = own_dirs(
        &manifest.repo,
        Some(&manifest.settings.backup_dir),
        ctx,
        dirs,
    )?;
    let home = Home {
        real: dirs.real_home(&ctx.home),
        // `$HOME` already canonical passes through no symlink: nothing to look at.
        links: match ctx.home_as_set == ctx.home {
            true => Vec::new(),
            false => symlinks_on_the_way(&ctx.home_as_set).0,
        },
    };
    let mut respelled = Vec::new();
    for (i, spec) in specs.iter_mut().enumerate() {
        if let Some(real) = settle_target(manifest, spec, dirs, &own, &home, ctx, folds)? {
            spec.target = real.into();
            respelled.push(i);
        }
    }
    // Two spellings of one place are found only once the targets are respelled.
    if !respelled.is_empty() {
        crate::manifest::check_targets(manifest, specs)?;
    }
    Ok(respelled)
}

/// For a run about to write, before the lock is taken: no target as spelled may be at, above
/// or inside dotlink's own directories (as spelled or as they really are), so that taking the
/// lock creates nothing where a target goes. It only compares paths; the planner checks every
/// target's real place again once the lock is held and an interrupted run is settled.
pub(crate) fn check_before_writing(
    manifest: &Manifest,
    specs: &[LinkSpec],
    ctx: &Context,
) -> Result<()> {
    let mut dirs = Dirs::for_home(ctx, Default::default());
    let mut own = own_dirs(
        &manifest.repo,
        Some(&manifest.settings.backup_dir),
        ctx,
        &mut dirs,
    )?;
    // Targets are still as spelled here, so the directories are compared as spelled too.
    let spelled: Vec<OwnDir> = own
        .iter()
        .map(|o| OwnDir {
            real: o.spelled.clone(),
            spelled: o.spelled.clone(),
            links: o.links.clone(),
            ..*o
        })
        .collect();
    own.extend(spelled);
    // Only a target named like a directory on the way to one of them can really be at or
    // above it: those few are resolved (one spelled through an alias, say).
    // A few names, compared in a list: this runs for every target, hashing each name did not
    // pay.
    let names: Vec<&std::ffi::OsStr> = own
        .iter()
        .flat_map(|o| o.real.ancestors().filter_map(Path::file_name))
        .collect();
    for spec in specs {
        let mut dir = own_dir_in_the_way(&own, &spec.target);
        let name = paths::parent_and_name(&spec.target).1;
        if dir.is_none() && name.is_some_and(|n| names.contains(&n)) {
            let (real, _) = identity(&mut dirs, &spec.target);
            dir = own_dir_in_the_way(&own, &real);
        }
        if let Some(dir) = dir {
            let at = position(&manifest.path, manifest.entries[spec.entry].target_at);
            return Err(in_the_way_of(&spec.target, dir, ctx).context(at));
        }
    }
    Ok(())
}

/// The error for a target at, above or inside one of dotlink's own directories.
fn in_the_way_of(target: &Path, own: &OwnDir, ctx: &Context) -> Error {
    Error::input(format!(
        "target {} would replace or write into dotlink's own {} ({})",
        paths::display(target, &ctx.home),
        own.what,
        paths::display(&own.real, &ctx.home)
    ))
    .with_hint(own.hint)
}

/// The home directory where it really is, and the symlinks `$HOME` passes through to it.
struct Home {
    real: PathBuf,
    links: Vec<PathBuf>,
}

/// Check one target's real place; returns it when the target should be spelled that way.
fn settle_target(
    manifest: &Manifest,
    spec: &LinkSpec,
    dirs: &mut Dirs,
    own: &[OwnDir],
    home: &Home,
    ctx: &Context,
    folds: &mut Folds,
) -> Result<Option<PathBuf>> {
    let entry = &manifest.entries[spec.entry];
    let at = || position(&manifest.path, entry.target_at);
    let (real, via) = identity(dirs, &spec.target);
    let real_home = home.real.as_path();
    // Whatever the spelling and the opt-ins: a link at the home, above it or at a symlink on
    // the way to it would replace the home (and `overwrite` would remove it).
    if within(real_home, &real) || home.links.iter().any(|link| within(link, &real)) {
        return Err(replaces_home(&spec.target, &real, home, ctx).context(at()));
    }
    // Nor the repository: a link there would replace it (`~/al/dots` with `al -> .`).
    if within(&manifest.repo, &real) {
        return Err(Error::input(format!(
            "target {} (really {}) would replace the repository {}",
            paths::display(&spec.target, &ctx.home),
            real.display(),
            manifest.repo.display()
        ))
        .with_hint(crate::manifest::REPO_HINT)
        .context(at()));
    }
    // Below a link into the repository (or a link this run replaces) the target keeps its
    // spelling: the planner reports it in the user's words, and never writes there unless
    // the link is a folded directory, unfolded first.
    if within(&real, &manifest.repo) {
        // A link that itself lies in the repository (reached through another link into it)
        // is the repository's own: never a fold.
        let link_outside = via
            .as_deref()
            .is_some_and(|link| !within(&identity(dirs, link).0, &manifest.repo));
        if link_outside {
            folds.consider(spec, &real, via.as_deref(), real_home);
        }
        return Ok(None);
    }
    if !within(&real, real_home) && !entry.allow_outside_home {
        return Err(outside_home(&spec.target, &real, via.as_deref(), ctx).context(at()));
    }
    if let Some(own) = own_dir_in_the_way(own, &real) {
        return Err(in_the_way_of(&spec.target, own, ctx).context(at()));
    }
    Ok((via.is_some() && within(&real, real_home)).then(|| real.into_owned()))
}

/// Whether `path` is `dir` or below it (normalised absolute paths, compared as bytes: this runs
/// for every target).
fn within(path: &Path, dir: &Path) -> bool {
    paths::below(path, dir).is_some()
}

/// The own directory a target at `real` would replace (the outermost one at or below it), or
/// else write into (the innermost one above it).
fn own_dir_in_the_way<'o>(own: &'o [OwnDir], real: &Path) -> Option<&'o OwnDir> {
    let depth = |o: &&OwnDir| o.real.components().count();
    let replaced = own
        .iter()
        .filter(|o| within(&o.real, real) || o.links.iter().any(|l| within(l, real)))
        .min_by_key(depth);
    replaced.or_else(|| {
        own.iter()
            .filter(|o| within(real, &o.real))
            .max_by_key(depth)
    })
}

/// Every symlink passed in resolving `path`, through chains of links, as the kernel would
/// (at most 40 of them, as it allows), and where they lead: the path with every link on the
/// way followed, even when the last leads nowhere yet (`~/bk -> .backups` leads to
/// `~/.backups`, which a plan may make).
fn symlinks_on_the_way(path: &Path) -> (Vec<PathBuf>, PathBuf) {
    use std::path::Component;
    let mut links = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    let mut leads_to = path.to_path_buf();
    'paths: while let Some(next) = pending.pop() {
        let parts: Vec<Component> = next.components().collect();
        let mut at = PathBuf::from("/");
        for (i, part) in parts.iter().enumerate() {
            match part {
                Component::Normal(name) => {
                    let here = at.join(name);
                    if let Ok(points_to) = std::fs::read_link(&here) {
                        links.push(here);
                        if links.len() >= 40 {
                            break 'paths;
                        }
                        let rest: PathBuf = parts[i + 1..].iter().collect();
                        pending.push(at.join(points_to).join(rest));
                        continue 'paths;
                    }
                    at = here;
                }
                Component::ParentDir => {
                    at.pop();
                }
                _ => {}
            }
        }
        leads_to = at;
    }
    (links, leads_to)
}

/// Whether `path` lies in the repository `repo`, as spelled, where it really is (reached
/// through a link into it), or under another name (`aliases`, for a bind mount): nothing there
/// is ever dotlink's to replace or remove.
pub(crate) fn in_repository(
    dirs: &mut Dirs,
    path: &Path,
    repo: &Path,
    aliases: &super::aliases::Protected,
) -> bool {
    path.starts_with(repo)
        || identity(dirs, path).0.starts_with(repo)
        || aliases.holding(path).is_some()
}

/// The real place of `path` (its parent resolved, then its name), and the last symlink on the
/// way, if any.
pub(super) fn identity<'p>(dirs: &mut Dirs, path: &'p Path) -> (Cow<'p, Path>, Option<PathBuf>) {
    let (Some(parent), Some(name)) = paths::parent_and_name(path) else {
        return (Cow::Borrowed(path), None);
    };
    match &*dirs.resolve(parent) {
        // The usual case, a parent that is (or is to be made) where it is spelled, costs no
        // allocation.
        Dir::Exists { real, via: None }
        | Dir::Missing {
            real, via: None, ..
        } if real.as_os_str() == parent.as_os_str() => (Cow::Borrowed(path), None),
        Dir::Exists { real, via } | Dir::Missing { real, via, .. } => (
            Cow::Owned(real.join(name)),
            via.as_deref().map(Path::to_path_buf),
        ),
        // Below something that is not a directory: where that thing really is, then the rest.
        Dir::Blocked { at, .. } if at.as_path() != path => {
            let rest = path.strip_prefix(at).unwrap_or(Path::new("")).to_path_buf();
            let at = at.clone();
            let (real_at, via) = identity(dirs, &at);
            (Cow::Owned(real_at.join(rest)), via)
        }
        Dir::Blocked { .. } => (Cow::Borrowed(path), None),
    }
}

/// Check, before anything is written (the lock included), that dotlink's own directories
/// are not in the repository `repo`: its state directory, and the backup directory when there
/// is a manifest to name one.
pub(crate) fn check_own_dirs(repo: &Path, backup_dir: Option<&Path>, ctx: &Context) -> Result<()> {
    let mut dirs = Dirs::for_home(ctx, Default::default());
    own_dirs(repo, backup_dir, ctx, &mut dirs).map(drop)
}

/// dotlink's state and backup directories (which hold the lock and the journal too), each
/// with what it is, where it really is: for `adopt`, which must never move them.
pub(crate) fn own_dirs_real(
    repo: &Path,
    backup_dir: &Path,
    ctx: &Context,
) -> Result<Vec<(&'static str, PathBuf)>> {
    let mut dirs = Dirs::for_home(ctx, Default::default());
    let own = own_dirs(repo, Some(backup_dir), ctx, &mut dirs)?;
    Ok(own.into_iter().map(|dir| (dir.what, dir.real)).collect())
}

/// The state and backup directories, resolved; an error when one lies in the repository.
fn own_dirs(
    repo: &Path,
    backup_dir: Option<&Path>,
    ctx: &Context,
    dirs: &mut Dirs,
) -> Result<Vec<OwnDir>> {
    let state = (
        "state directory",
        ctx.state_dir.as_path(),
        "set XDG_STATE_HOME to a directory that no entry touches and that is not in the repository",
    );
    let backups = backup_dir.map(|dir| {
        (
            "backup directory",
            dir,
            "set `backup_dir` in [defaults] to a directory that no entry touches and that is not in the repository",
        )
    });
    let mut own = Vec::new();
    for (what, path, hint) in std::iter::once(state).chain(backups) {
        // Where its files really go: the directory itself resolved too, not only its parent
        // (`~/bk -> real` keeps its backups in `~/real`, which a target may replace).
        let (real, links) = match &*dirs.resolve(path) {
            // Where it is as spelled, no symlink is on its way: none is read again.
            Dir::Exists { real, .. } | Dir::Missing { real, .. } if **real == *path => {
                (real.to_path_buf(), Vec::new())
            }
            Dir::Exists { real, .. } | Dir::Missing { real, .. } => {
                (real.to_path_buf(), symlinks_on_the_way(path).0)
            }
            // A link that leads nowhere yet (or through something that is not a directory):
            // where it leads, which a target may be.
            Dir::Blocked { .. } => {
                let (links, leads_to) = symlinks_on_the_way(path);
                (leads_to, links)
            }
        };
        if real.starts_with(repo) {
            return Err(Error::input(format!(
                "dotlink's {what} {} is inside the repository {} (as {}); its files would end up in git",
                paths::display(path, &ctx.home),
                repo.display(),
                real.display()
            ))
            .with_hint(hint));
        }
        let spelled = path.to_path_buf();
        own.push(OwnDir {
            what,
            real,
            links,
            spelled,
            hint,
        });
    }
    Ok(own)
}

/// The error for a target whose real place is the home directory, holds it, or is a symlink
/// `$HOME` passes through.
fn replaces_home(target: &Path, real: &Path, home: &Home, ctx: &Context) -> Error {
    let what = if real == home.real {
        "the home directory itself".to_string()
    } else if within(&home.real, real) {
        "a directory that holds the home directory".to_string()
    } else {
        format!(
            "a symlink that HOME ({}) passes through to the home directory",
            ctx.home_as_set.display()
        )
    };
    let really = match real == target {
        true => String::new(),
        false => format!(" (really {})", real.display()),
    };
    Error::input(format!(
        "target {}{really} is {what}, which dotlink will not replace with a link",
        paths::display(target, &ctx.home),
    ))
    .with_hint(crate::manifest::HOME_HINT)
}

/// The error for a target whose real place is outside the home directory.
fn outside_home(target: &Path, real: &Path, via: Option<&Path>, ctx: &Context) -> Error {
    let through = match via {
        Some(link) => format!(" through the symlink {}", paths::display(link, &ctx.home)),
        None => String::new(),
    };
    Error::input(format!(
        "target {} is really {}{through}, outside the home directory {}",
        paths::display(target, &ctx.home),
        real.display(),
        ctx.home.display()
    ))
    .with_hint("add `allow_outside_home = true` to this entry if that is intended")
}
