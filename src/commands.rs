//! The commands: each wires the stages together (manifest → plan → apply → report) and
//! decides its exit code: 0 success, 1 conflicts or failures, 2 bad usage or manifest.

use crate::apply;
use crate::cli::{Cli, Command, RunArgs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::journal;
use crate::manifest::{self, LinkSpec, Manifest, Sources};
use crate::plan::{self, Action, LinkState, Options, Plan};
use crate::report::{self, Printer, Verbosity};
use crate::state::{Files, Lock, State};
use colored::Colorize;
use std::io::IsTerminal;

/// Run the parsed command line; returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let no_color = std::env::var("NO_COLOR").ok();
    colored::control::set_override(
        cli.color
            .enabled(std::io::stdout().is_terminal(), no_color.as_deref()),
    );
    let verbosity = if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let result = match &cli.command {
        Command::Apply(args) => apply_cmd(&cli, &args.run, args.dry_run, verbosity),
        Command::Plan(run) => apply_cmd(&cli, run, true, verbosity),
        Command::Status(args) => status_cmd(&cli, args.json, verbosity),
        Command::Unlink(args) => unlink_cmd(&cli, args.dry_run, verbosity),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            report::print_error(&error);
            error.exit_code()
        }
    }
}

/// A manifest, read, checked and expanded, with the files that hold its state.
struct Loaded {
    ctx: Context,
    manifest: Manifest,
    specs: Vec<LinkSpec>,
    files: Files,
}

fn load(cli: &Cli, sources: Sources) -> Result<Loaded> {
    let ctx = Context::from_process(cli.profile.as_deref())?;
    let path = manifest::locate(cli.manifest.as_deref(), &ctx)?;
    let manifest = manifest::load(&path, &ctx)?;
    let specs = manifest::expand(&manifest, sources)?;
    let files = Files::for_manifest(&ctx.state_dir, &manifest.path);
    Ok(Loaded {
        ctx,
        manifest,
        specs,
        files,
    })
}

/// Read the state; when about to write, take the lock and recover an interrupted run first.
fn open_state(
    files: &Files,
    ctx: &Context,
    writing: bool,
    notes: &mut Vec<String>,
) -> Result<(State, Option<Lock>)> {
    let lock = if writing { Some(files.lock()?) } else { None };
    let mut state = files.load(notes);
    if writing {
        if let Some(recovery) = journal::recover(files, &mut state, &ctx.home)? {
            report::print_recovery(&recovery);
        }
    } else if journal::pending(files) {
        notes.push(
            "an interrupted run left a journal; the next `dotlink apply` recovers it".to_string(),
        );
    }
    Ok((state, lock))
}

fn apply_cmd(cli: &Cli, run: &RunArgs, dry_run: bool, verbosity: Verbosity) -> Result<i32> {
    let loaded = load(cli, Sources::Require)?;
    let mut notes = Vec::new();
    let (mut state, _lock) = open_state(&loaded.files, &loaded.ctx, !dry_run, &mut notes)?;
    let options = Options {
        on_conflict: run.on_conflict,
        prune: !run.no_prune,
        ..Options::default()
    };
    let mut plan = plan::plan(
        &loaded.manifest,
        &loaded.specs,
        &state,
        &options,
        &loaded.ctx,
    )?;
    notes.append(&mut plan.notes);
    plan.notes = notes;
    let printer = Printer::new(&plan, verbosity);
    printer.plan();

    if plan.halted() {
        let n = plan.count(LinkState::Conflict);
        report::print_error(
            &Error::failure(format!(
                "{n} conflict{}; nothing was changed (policy `fail`)",
                if n == 1 { "" } else { "s" }
            ))
            .with_hint("move what is in the way, or choose a policy: --on-conflict backup (keeps a copy), skip, or overwrite"),
        );
        return Ok(1);
    }
    let blocked = plan.steps.iter().any(|s| s.action == Action::Block);
    if dry_run {
        if verbosity != Verbosity::Quiet {
            println!("{}", "Dry run: nothing was changed.".dimmed());
        }
        return Ok(i32::from(blocked));
    }
    let outcome = apply::apply(&plan, &loaded.files, &mut state)?;
    printer.outcome(&outcome);
    Ok(i32::from(blocked || !outcome.failed.is_empty()))
}

fn status_cmd(cli: &Cli, json: bool, verbosity: Verbosity) -> Result<i32> {
    // A deleted source is something status reports, not a reason to stop reporting.
    let loaded = load(cli, Sources::Report)?;
    let mut notes = Vec::new();
    let (state, _) = open_state(&loaded.files, &loaded.ctx, false, &mut notes)?;
    let mut plan = plan::plan(
        &loaded.manifest,
        &loaded.specs,
        &state,
        &Options::default(),
        &loaded.ctx,
    )?;
    notes.append(&mut plan.notes);
    plan.notes = notes;
    if json {
        let out = report::status_json(&plan);
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("status serialises")
        );
    } else {
        Printer::new(&plan, verbosity).status();
    }
    Ok(i32::from(!plan.all_ok()))
}

fn unlink_cmd(cli: &Cli, dry_run: bool, verbosity: Verbosity) -> Result<i32> {
    // Unlinking needs only the state, so a manifest that no longer parses cannot block it.
    let ctx = Context::from_process(cli.profile.as_deref())?;
    let path = manifest::locate(cli.manifest.as_deref(), &ctx)?;
    let files = Files::for_manifest(&ctx.state_dir, &path);
    let repo = files
        .manifest
        .parent()
        .unwrap_or(std::path::Path::new("/"))
        .to_path_buf();
    let mut notes = Vec::new();
    let (mut state, _lock) = open_state(&files, &ctx, !dry_run, &mut notes)?;
    let mut plan: Plan = plan::plan_unlink(&files.manifest, &repo, &state, &ctx);
    notes.append(&mut plan.notes);
    plan.notes = notes;
    let printer = Printer::unlinking(&plan, verbosity);
    printer.plan();
    if dry_run {
        if verbosity != Verbosity::Quiet {
            println!("{}", "Dry run: nothing was changed.".dimmed());
        }
        return Ok(0);
    }
    let outcome = apply::apply(&plan, &files, &mut state)?;
    printer.outcome(&outcome);
    Ok(i32::from(!outcome.failed.is_empty()))
}
