//! `status`: the state of every declared target and every orphan, for people or as JSON.

use super::args::Cli;
use super::{Look, Verdict, load_looking};
use crate::error::Result;
use crate::manifest::Sources;
use crate::plan::{self, Options};
use crate::report::progress::Progress;
use crate::report::{self, Printer, Verbosity};
use std::mem::ManuallyDrop;

pub(super) fn run(cli: &Cli, json: bool, verbosity: Verbosity) -> Result<Verdict> {
    let spinner = Progress::start("checking", verbosity != Verbosity::Quiet && !json);
    // A deleted source is something status reports, not a reason to stop reporting.
    // It changes nothing: the targets the state records are looked at while the repository is
    // walked.
    let mut loaded = load_looking(cli, Sources::Report, Look::Early { list: true })?;
    let mut open = loaded.open_state(false)?;
    // Never freed, like the state (see `OpenState`): the process ends with the report.
    let mut plan = ManuallyDrop::new(plan::plan_with(
        &loaded.manifest,
        loaded.specs,
        &open.state,
        &Options {
            dead_links: true,
            ..Options::default()
        },
        &loaded.ctx,
        loaded.early.take(),
    )?);
    drop(spinner);
    open.annotate(&mut plan);
    if json {
        report::json::print(&report::json::status(&plan));
    } else {
        Printer::new(&plan, verbosity).status();
    }
    Ok(Verdict::unless(!plan.all_ok()))
}
