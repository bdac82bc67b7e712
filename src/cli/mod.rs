//! The commands: each wires the stages together (manifest → plan → apply → report) and
//! decides its exit code: 0 success, 1 conflicts or failures, 2 bad usage or manifest.

pub mod args;

use crate::apply;
use crate::apply::journal;
use crate::apply::restore;
use crate::cli::args::{AdoptArgs, Cli, Command, RestoreArgs, RunArgs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::manifest::{self, LinkSpec, Manifest, Sources};
use crate::paths;
use crate::plan::adopt;
use crate::plan::{self, Action, LinkState, Options, Plan};
use crate::report::progress::Progress;
use crate::report::{self, Printer, Verbosity};
use crate::state::backup;
use crate::state::{Files, Lock, State};
use clap::CommandFactory;
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
        Command::Apply(args) => apply_cmd(&cli, &args.run, args.dry_run, false, verbosity),
        Command::Plan(args) => apply_cmd(&cli, &args.run, true, args.json, verbosity),
        Command::Status(args) => status_cmd(&cli, args.json, verbosity),
        Command::Unlink(args) => unlink_cmd(&cli, args.dry_run, verbosity),
        Command::Adopt(args) => adopt_cmd(&cli, args, verbosity),
        Command::Restore(args) => restore_cmd(&cli, args, verbosity),
        Command::Init => init_cmd(&cli),
        Command::Completions(args) => {
            let mut command = Cli::command();
            clap_complete::generate(args.shell, &mut command, "dotlink", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map(|()| 0)
            .map_err(|e| Error::failure(format!("cannot write the man page: {e}"))),
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

fn apply_cmd(
    cli: &Cli,
    run: &RunArgs,
    dry_run: bool,
    json: bool,
    verbosity: Verbosity,
) -> Result<i32> {
    let spinner = Progress::start("reading the repository", verbosity != Verbosity::Quiet);
    let loaded = load(cli, Sources::Require)?;
    drop(spinner);
    let mut notes = Vec::new();
    let (mut state, _lock) = open_state(&loaded.files, &loaded.ctx, !dry_run, &mut notes)?;
    let options = Options {
        on_conflict: run.on_conflict,
        prune: !run.no_prune,
        ..Options::default()
    };
    let spinner = Progress::start("planning", verbosity != Verbosity::Quiet);
    let mut plan = plan::plan(
        &loaded.manifest,
        loaded.specs,
        &state,
        &options,
        &loaded.ctx,
    )?;
    drop(spinner);
    notes.append(&mut plan.notes);
    plan.notes = notes;
    let blocked = plan.steps.iter().any(|s| s.action == Action::Block);
    if json {
        let out = report::plan_json(&plan);
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("plan serialises")
        );
        return Ok(i32::from(blocked));
    }
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
    if dry_run {
        if verbosity != Verbosity::Quiet {
            println!("{}", "Dry run: nothing was changed.".dimmed());
        }
        return Ok(i32::from(blocked));
    }
    let spinner = Progress::start("applying", verbosity != Verbosity::Quiet);
    let outcome = apply::apply(&plan, &loaded.files, &mut state)?;
    drop(spinner);
    printer.outcome(&outcome);
    Ok(i32::from(blocked || !outcome.failed.is_empty()))
}

fn status_cmd(cli: &Cli, json: bool, verbosity: Verbosity) -> Result<i32> {
    // A deleted source is something status reports, not a reason to stop reporting.
    let spinner = Progress::start("checking", verbosity != Verbosity::Quiet && !json);
    let loaded = load(cli, Sources::Report)?;
    let mut notes = Vec::new();
    let (state, _) = open_state(&loaded.files, &loaded.ctx, false, &mut notes)?;
    let mut plan = plan::plan(
        &loaded.manifest,
        loaded.specs,
        &state,
        &Options::default(),
        &loaded.ctx,
    )?;
    drop(spinner);
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

fn adopt_cmd(cli: &Cli, args: &AdoptArgs, verbosity: Verbosity) -> Result<i32> {
    let loaded = load(cli, Sources::Require)?;
    let mut notes = Vec::new();
    let (mut state, _lock) = open_state(&loaded.files, &loaded.ctx, !args.dry_run, &mut notes)?;
    report::print_notes(&notes);
    let adoptions = adopt::prepare(
        &args.paths,
        args.place.as_deref(),
        &loaded.manifest,
        &loaded.specs,
        &state,
        &loaded.ctx,
    )?;
    let home = &loaded.ctx.home;
    if verbosity != Verbosity::Quiet {
        for a in &adoptions {
            println!(
                "  {} {} → {}  {}",
                "+".green().bold(),
                paths::display(&a.from, home),
                a.source,
                "(moved into the repository, linked back, added to the manifest)".dimmed()
            );
        }
    }
    if args.dry_run {
        if verbosity != Verbosity::Quiet {
            println!("{}", "Dry run: nothing was changed.".dimmed());
        }
        return Ok(0);
    }
    adopt::move_in(&adoptions, &loaded.manifest.path)?;

    // Link them back with the ordinary planner and applier, touching nothing else.
    let manifest = manifest::load(&loaded.manifest.path, &loaded.ctx)?;
    let specs = manifest::expand(&manifest, Sources::Require)?;
    let options = Options {
        prune: false,
        ..Options::default()
    };
    let mut plan = plan::plan(&manifest, specs, &state, &options, &loaded.ctx)?;
    plan.steps
        .retain(|s| adoptions.iter().any(|a| a.from == s.target));
    plan.forget.clear();
    let outcome = apply::apply(&plan, &loaded.files, &mut state)?;
    Printer::new(&plan, Verbosity::Quiet).outcome(&outcome);
    if verbosity != Verbosity::Quiet && outcome.failed.is_empty() {
        println!(
            "{} {} (entries added to {}).",
            "Adopted:".bold(),
            adoptions.len(),
            paths::display(&manifest.path, home)
        );
    }
    Ok(i32::from(!outcome.failed.is_empty()))
}

fn restore_cmd(cli: &Cli, args: &RestoreArgs, verbosity: Verbosity) -> Result<i32> {
    let ctx = Context::from_process(cli.profile.as_deref())?;
    let path = manifest::locate(cli.manifest.as_deref(), &ctx)?;
    let manifest = manifest::load(&path, &ctx)?;
    let home = &ctx.home;
    let backup_dir = &manifest.settings.backup_dir;
    if args.list {
        let sets = backup::list(backup_dir);
        if sets.iter().all(|s| s.entries.is_empty()) {
            println!("No backups in {}.", paths::display(backup_dir, home));
        }
        for set in sets.iter().filter(|s| !s.entries.is_empty()) {
            let targets: Vec<String> = set
                .entries
                .iter()
                .map(|b| paths::display(&b.target, home))
                .collect();
            println!(
                "{}  {:>3} {}  {}",
                set.name.bold(),
                set.entries.len(),
                if set.entries.len() == 1 {
                    "item "
                } else {
                    "items"
                },
                targets.join(", ")
            );
        }
        return Ok(0);
    }
    let files = Files::for_manifest(&ctx.state_dir, &manifest.path);
    let mut notes = Vec::new();
    let (mut state, _lock) = open_state(&files, &ctx, !args.dry_run, &mut notes)?;
    report::print_notes(&notes);
    let set = backup::find(backup_dir, args.backup.as_deref())?;
    let before = state.clone();
    let result = restore::restore(&set, &mut state, home, args.dry_run);
    if state != before {
        files.save(&state)?;
    }
    if verbosity != Verbosity::Quiet {
        for entry in &result.restored {
            println!(
                "  {} {} ← {}",
                "<".cyan().bold(),
                paths::display(&entry.target, home),
                paths::display(&entry.backup, home)
            );
        }
    }
    for (_, why) in &result.refused {
        report::print_error(
            &Error::failure(why.clone())
                .with_hint("move your version away first if you want the backup back"),
        );
    }
    for (entry, error) in &result.failed {
        report::print_error(&Error {
            message: format!("{}: {}", paths::display(&entry.target, home), error.message),
            ..error.clone()
        });
    }
    if verbosity != Verbosity::Quiet {
        let verb = if args.dry_run {
            "Would restore"
        } else {
            "Restored"
        };
        println!(
            "{} {} of {} from {}.",
            format!("{verb}:").bold(),
            result.restored.len(),
            set.entries.len(),
            set.name
        );
        if args.dry_run {
            println!("{}", "Dry run: nothing was changed.".dimmed());
        }
    }
    // The manifest still declares what came back; say what `apply` will do about it.
    if !args.dry_run
        && let Ok(specs) = manifest::expand(&manifest, Sources::Report)
    {
        let declared: Vec<String> = result
            .restored
            .iter()
            .filter(|b| specs.iter().any(|s| s.target == b.target))
            .map(|b| paths::display(&b.target, home))
            .collect();
        if !declared.is_empty() {
            report::print_notes(&[format!(
                "the manifest still declares {}; `dotlink apply` will see a conflict there until you remove the entry",
                declared.join(", ")
            )]);
        }
    }
    Ok(i32::from(
        !result.refused.is_empty() || !result.failed.is_empty(),
    ))
}

fn init_cmd(cli: &Cli) -> Result<i32> {
    let ctx = Context::from_process(cli.profile.as_deref())?;
    let path = ctx.cwd.join(manifest::FILE_NAME);
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut file| {
            std::io::Write::write_all(&mut file, manifest::edit::STARTER.as_bytes())
        });
    match created {
        Ok(()) => {
            println!(
                "Created {}: add [[link]] entries (the comments show how), then run `dotlink plan`.",
                path.display()
            );
            Ok(0)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::failure(format!(
            "{} already exists; not overwriting it",
            path.display()
        ))
        .with_hint("edit it, or move it away first")),
        Err(e) => Err(Error::io("create", &path, &e)),
    }
}
