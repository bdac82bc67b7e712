//! `restore`: list the backup sets, or put one back over dotlink's own links.

use super::args::{Cli, RestoreArgs};
use super::{Verdict, open_state};
use crate::apply;
use crate::context::Context;
use crate::error::Result;
use crate::manifest::{self, Manifest, Sources};
use crate::report::{self, Verbosity};
use crate::state::Files;
use crate::state::backup::{self, BackedUp};
use std::path::Path;

pub(super) fn run(cli: &Cli, args: &RestoreArgs, verbosity: Verbosity) -> Result<Verdict> {
    let ctx = Context::from_process(cli.profile.as_deref())?;
    let path = super::find_manifest(cli, &ctx)?;
    let manifest = manifest::load(&path, &ctx)?;
    let home = &ctx.home;
    let backup_dir = &manifest.settings.backup_dir;
    crate::plan::check_own_dirs(&manifest.repo, Some(backup_dir), &ctx)?;
    let files = Files::for_manifest(&ctx.state_dir, &manifest.path, &ctx.home);
    if args.list {
        // A backup an interrupted run was putting back is listed again once it is settled.
        let open = open_state(&files, &ctx, false, Some(backup_dir))?;
        report::print_notes(&open.notes, home);
        report::print_backup_sets(&backup::list(backup_dir), backup_dir, home);
        return Ok(Verdict::Done);
    }
    let mut open = open_state(&files, &ctx, !args.dry_run, Some(backup_dir))?;
    report::print_notes(&open.notes, home);
    let set = backup::find(backup_dir, args.backup.as_deref())?;
    let before = (*open.state).clone();
    let places = apply::restore::Places {
        repo: &manifest.repo,
        home,
    };
    let result = apply::restore::restore(&set, &files, &mut open.state, places, args.dry_run)?;
    if *open.state != before {
        apply::save_state(&files, &open.state)?;
        open.saved();
    }
    report::print_restored(&result, &set, args.dry_run, home, verbosity);
    if !args.dry_run {
        report::print_still_declared(&still_declared(&manifest, &result.restored), home);
    }
    Ok(Verdict::unless(
        !result.refused.is_empty() || !result.failed.is_empty(),
    ))
}

/// The restored targets the manifest still declares: `apply` will see a conflict there.
fn still_declared<'a>(manifest: &Manifest, restored: &'a [BackedUp]) -> Vec<&'a Path> {
    let Ok(specs) = manifest::expand(manifest, Sources::Report) else {
        return Vec::new();
    };
    restored
        .iter()
        .filter(|b| specs.iter().any(|s| *s.target == *b.target))
        .map(|b| b.target.as_path())
        .collect()
}
