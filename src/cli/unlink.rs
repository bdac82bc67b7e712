//! `unlink`: remove every link dotlink made that is still as it made it, and nothing else.

use super::args::Cli;
use super::{Verdict, open_state};
use crate::apply;
use crate::context::Context;
use crate::error::Result;
use crate::plan;
use crate::report::{self, Printer, Verbosity};
use crate::state::Files;
use std::path::Path;

pub(super) fn run(cli: &Cli, dry_run: bool, verbosity: Verbosity) -> Result<Verdict> {
    // Unlinking needs only the state, so a manifest that no longer parses cannot block it.
    let ctx = Context::from_process(cli.profile.as_deref())?;
    // A repository that is gone can still be unlinked by naming where its manifest was: the
    // state is found by that path.
    let gone = cli
        .manifest
        .as_deref()
        .map(|given| crate::paths::normalize(&ctx.cwd.join(given)))
        .filter(|given| !given.exists());
    let path = match gone {
        Some(path) => path,
        None => super::find_manifest(cli, &ctx)?,
    };
    let files = Files::for_manifest(&ctx.state_dir, &path, &ctx.home);
    let repo = files.manifest.parent().unwrap_or(Path::new("/"));
    crate::plan::check_own_dirs(repo, None, &ctx)?;
    let mut open = open_state(&files, &ctx, !dry_run, None)?;
    let mut plan = plan::plan_unlink(&files.manifest, repo, &open.state, &ctx, !dry_run);
    open.annotate(&mut plan);
    let printer = Printer::unlinking(&plan, verbosity);
    printer.plan();
    if dry_run {
        report::print_dry_run(verbosity);
        return Ok(Verdict::Done);
    }
    let mut outcome = apply::apply(&plan, &files, &mut open.state)?;
    printer.outcome(&outcome);
    if let Some(error) = outcome.unfinished.take() {
        return Err(error);
    }
    if outcome.state_saved {
        open.saved();
    }
    if outcome.failed.is_empty() {
        apply::remember_manifest(&ctx.state_dir, &files.manifest, false)?;
    }
    Ok(Verdict::unless(!outcome.failed.is_empty()))
}
