//! `clean`: remove dead links into the repository that dotlink did not make (left by Stow,
//! dotbot or an older layout), and nothing else.

use super::args::Cli;
use super::{Verdict, load};
use crate::apply;
use crate::error::Result;
use crate::manifest::Sources;
use crate::plan::{self, Options, Plan};
use crate::report::{self, Printer, Verbosity};

pub(super) fn run(cli: &Cli, dry_run: bool, verbosity: Verbosity) -> Result<Verdict> {
    let mut loaded = load(cli, Sources::Report)?;
    let mut open = loaded.open_state(!dry_run)?;
    let options = Options {
        dead_links: true,
        ..Options::default()
    };
    let looked = plan::plan(
        &loaded.manifest,
        loaded.specs,
        &open.state,
        &options,
        &loaded.ctx,
    )?;
    let mut plan = Plan {
        steps: plan::removal_steps(&looked.dead_links),
        forget: Vec::new(),
        forget_dirs: Vec::new(),
        notes: Vec::new(),
        dead_links: Vec::new(),
        ..looked
    };
    open.annotate(&mut plan);
    let printer = Printer::cleaning(&plan, verbosity);
    printer.plan();
    if dry_run || plan.steps.is_empty() {
        if dry_run {
            report::print_dry_run(verbosity);
        }
        return Ok(Verdict::Done);
    }
    let mut outcome = apply::apply(&plan, &loaded.files, &mut open.state)?;
    printer.outcome(&outcome);
    if let Some(error) = outcome.unfinished.take() {
        return Err(error);
    }
    if outcome.state_saved {
        open.saved();
    }
    Ok(Verdict::unless(!outcome.failed.is_empty()))
}
