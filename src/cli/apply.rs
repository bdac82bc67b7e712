//! `apply` and `plan`: plan the manifest's links against the home directory, show the plan,
//! and (for `apply`) carry it out.

use super::args::{Cli, RunArgs};
use super::{Look, Verdict, load_looking};
use crate::apply;
use crate::error::Result;
use crate::manifest::Sources;
use crate::plan::{self, Options};
use crate::report::progress::Progress;
use crate::report::{self, Printer, Verbosity};
use std::mem::ManuallyDrop;

/// How `apply` (or `plan`) was asked to run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mode {
    pub dry_run: bool,
    /// `plan --json` prints the plan; `apply --json` what the run did.
    pub json: bool,
    pub detailed_exitcode: bool,
}

pub(super) fn run(cli: &Cli, run: &RunArgs, mode: Mode, verbosity: Verbosity) -> Result<Verdict> {
    let Mode { dry_run, json, .. } = mode;
    let verbosity = if json { Verbosity::Quiet } else { verbosity };
    let spinner = Progress::start("reading the repository", verbosity != Verbosity::Quiet);
    // The targets the state records are looked at while the repository is walked: a dry run
    // changes nothing, and a run that writes holds the lock by then, or looks later.
    let look = match dry_run {
        true => Look::Early { list: false },
        false => Look::Locked,
    };
    let mut loaded = load_looking(cli, Sources::Require, look)?;
    drop(spinner);
    if !dry_run {
        loaded.check_before_writing()?;
    }
    let mut open = loaded.open_state(!dry_run)?;
    let options = Options {
        on_conflict: run.on_conflict,
        prune: !run.no_prune,
        resume_backup_set: open.resume_backup_set.take(),
        identify_dirs: !dry_run,
        ..Options::default()
    };
    let spinner = Progress::start("planning", verbosity != Verbosity::Quiet);
    // Never freed, like the state (see `OpenState`): the process ends with the report.
    let mut plan = ManuallyDrop::new(plan::plan_with(
        &loaded.manifest,
        loaded.specs,
        &open.state,
        &options,
        &loaded.ctx,
        loaded.early.take(),
    )?);
    drop(spinner);
    open.annotate(&mut plan);
    let blocked = plan.blocked();
    if json && dry_run {
        report::json::print(&report::json::plan(&plan));
        return Ok(Verdict::unless(blocked));
    }
    let printer = Printer::new(&plan, verbosity);
    if !json {
        printer.plan();
    }
    if plan.halted() {
        if json {
            let outcome = apply::Outcome::default();
            report::json::print(&report::json::applied(&plan, &outcome, None));
        } else {
            report::print_halted(&plan);
        }
        return Ok(Verdict::NeedsAttention);
    }
    if dry_run {
        report::print_dry_run(verbosity);
        // With --detailed-exitcode a dry run says whether `apply` would change anything.
        if mode.detailed_exitcode && !blocked && plan.changes().next().is_some() {
            return Ok(Verdict::Changed);
        }
        return Ok(Verdict::unless(blocked));
    }
    let progress = Progress::counting(
        "applying",
        plan.changes().count(),
        verbosity != Verbosity::Quiet,
    );
    let mut outcome =
        apply::apply_counting(&plan, &loaded.files, &mut open.state, &|| progress.step())?;
    drop(progress);
    let unfinished = outcome.unfinished.take();
    let mut remembered = Ok(());
    if unfinished.is_none() {
        if outcome.state_saved {
            open.saved();
        }
        // A manifest that has made links manages this home: it is found from anywhere now, and
        // where it was before the repository moved no longer is.
        if loaded.files.state.exists() {
            let state_dir = &loaded.ctx.state_dir;
            remembered = apply::remember_manifest(state_dir, &loaded.files.manifest, true)
                .and_then(
                    |()| match (&open.moved, loaded.files.manifest.file_name()) {
                        (Some(moved), Some(name)) => {
                            apply::remember_manifest(state_dir, &moved.from.join(name), false)
                        }
                        _ => Ok(()),
                    },
                );
        }
    }
    // The report comes after everything is recorded: a reader that stops early (`| head -1`)
    // ends the process with nothing left undone.
    if json {
        report::json::print(&report::json::applied(&plan, &outcome, unfinished.as_ref()));
    } else {
        printer.outcome(&outcome);
    }
    if let Some(error) = unfinished {
        return Err(error);
    }
    remembered?;
    let attention = blocked || !outcome.failed.is_empty();
    if mode.detailed_exitcode && !attention && !outcome.done.is_empty() {
        return Ok(Verdict::Changed);
    }
    Ok(Verdict::unless(attention))
}
