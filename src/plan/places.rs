//! Where targets really are: one identity per path. Each target is resolved once through the
//! symlinks on its way (its real parent directory plus its name), and from then on compared by
//! that identity, so two spellings of one place are one target, and a symlinked home and its
//! real path are the same home.
//!
//! Before anything is planned, the resolved places are checked: a target whose real place is
//! outside the home needs `allow_outside_home`; no target may be at, above or inside dotlink's
//! own directories (the state directory, with its journal and lock, and the backup
//! directory), and those may not resolve into the repository.

use super::inspect::{Dir, Dirs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::manifest::{LinkSpec, Manifest, position};
use crate::paths;
use std::path::{Path, PathBuf};

/// One of dotlink's own directories, where it really is.
struct OwnDir {
    what: &'static str,
    real: PathBuf,
    hint: &'static str,
}

/// Resolve every target to its identity, and check it may be written.
pub(super) fn settle_targets(
    manifest: &Manifest,
    specs: &mut [LinkSpec],
    dirs: &mut Dirs,
    ctx: &Context,
) -> Result<()> {
    let own = own_dirs(
        &manifest.repo,
        Some(&manifest.settings.backup_dir),
        ctx,
        dirs,
    )?;
    let real_home = dirs.real_home(&ctx.home);
    for spec in specs.iter_mut() {
        if let Some(real) = settle_target(manifest, spec, dirs, &own, &real_home, ctx)? {
            spec.target = real;
        }
    }
    crate::manifest::check_targets(manifest, specs)
}

/// For a run about to write: the same checks, before the lock is taken and anything written.
pub(crate) fn check_before_writing(
    manifest: &Manifest,
    specs: &[LinkSpec],
    ctx: &Context,
) -> Result<()> {
    let mut dirs = Dirs::new(&ctx.home, Default::default());
    let own = own_dirs(
        &manifest.repo,
        Some(&manifest.settings.backup_dir),
        ctx,
        &mut dirs,
    )?;
    let real_home = dirs.real_home(&ctx.home);
    for spec in specs {
        settle_target(manifest, spec, &mut dirs, &own, &real_home, ctx)?;
    }
    Ok(())
}

/// Check one target's real place; returns it when the target should be spelled that way.
fn settle_target(
    manifest: &Manifest,
    spec: &LinkSpec,
    dirs: &mut Dirs,
    own: &[OwnDir],
    real_home: &Path,
    ctx: &Context,
) -> Result<Option<PathBuf>> {
    let entry = &manifest.entries[spec.entry];
    let at = || position(&manifest.path, entry.target_at);
    let (real, via) = identity(dirs, &spec.target);
    // Below a link into the repository (or a link this run replaces) the target keeps its
    // spelling: the planner reports it in the user's words, and never writes there.
    if real.starts_with(&manifest.repo) {
        return Ok(None);
    }
    if !real.starts_with(real_home) && !entry.allow_outside_home {
        return Err(outside_home(&spec.target, &real, via.as_deref(), ctx).context(at()));
    }
    if let Some(own) = own_dir_in_the_way(own, &real) {
        return Err(Error::input(format!(
            "target {} would replace or write into dotlink's own {} ({})",
            paths::display(&spec.target, &ctx.home),
            own.what,
            paths::display(&own.real, &ctx.home)
        ))
        .with_hint(own.hint)
        .context(at()));
    }
    Ok((via.is_some() && real.starts_with(real_home)).then_some(real))
}

/// The own directory a target at `real` would replace (the outermost one at or below it), or
/// else write into (the innermost one above it).
fn own_dir_in_the_way<'o>(own: &'o [OwnDir], real: &Path) -> Option<&'o OwnDir> {
    let depth = |o: &&OwnDir| o.real.components().count();
    let replaced = own
        .iter()
        .filter(|o| o.real.starts_with(real))
        .min_by_key(depth);
    replaced.or_else(|| {
        own.iter()
            .filter(|o| real.starts_with(&o.real))
            .max_by_key(depth)
    })
}

/// The real place of `path` (its parent resolved, then its name), and the last symlink on the
/// way, if any.
pub(super) fn identity(dirs: &mut Dirs, path: &Path) -> (PathBuf, Option<PathBuf>) {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return (path.to_path_buf(), None);
    };
    match &*dirs.resolve(parent) {
        Dir::Exists { real, via } | Dir::Missing { real, via, .. } => {
            (real.join(name), via.clone())
        }
        // Below something that is not a directory: where that thing really is, then the rest.
        Dir::Blocked { at, .. } if at.as_path() != path => {
            let rest = path.strip_prefix(at).unwrap_or(Path::new("")).to_path_buf();
            let (real_at, via) = identity(dirs, &at.clone());
            (real_at.join(rest), via)
        }
        Dir::Blocked { .. } => (path.to_path_buf(), None),
    }
}

/// Check, before anything is written (the lock included), that dotlink's own directories
/// are not in the repository `repo`: its state directory, and the backup directory when there
/// is a manifest to name one.
pub(crate) fn check_own_dirs(repo: &Path, backup_dir: Option<&Path>, ctx: &Context) -> Result<()> {
    let mut dirs = Dirs::new(&ctx.home, Default::default());
    own_dirs(repo, backup_dir, ctx, &mut dirs).map(drop)
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
        let (real, _) = identity(dirs, path);
        if real.starts_with(repo) {
            return Err(Error::input(format!(
                "dotlink's {what} {} is inside the repository {} (as {}); its files would end up in git",
                paths::display(path, &ctx.home),
                repo.display(),
                real.display()
            ))
            .with_hint(hint));
        }
        own.push(OwnDir { what, real, hint });
    }
    Ok(own)
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
