//! The command line: [`args`] defines it, this module reads the process's settings (colour,
//! verbosity), dispatches to one module per command and turns how the command ended into the
//! exit code: 0 success, 1 conflicts or failures, 2 bad usage or manifest.
//!
//! A command wires the stages together (manifest → plan → apply) and hands every value a
//! person should see to `report`; it never prints itself.

mod adopt;
mod apply;
pub mod args;
mod clean;
mod diff;
mod docs;
mod doctor;
mod hook;
mod import;
mod init;
mod restore;
mod status;
mod unlink;

use crate::apply::recovery;
use crate::context::Context;
use crate::error::Result;
use crate::manifest::{self, LinkSpec, Manifest, Sources};
use crate::paths::SharedPath;
use crate::plan::{Note, Plan};
use crate::report::{self, Verbosity};
use crate::state::{Files, Lock, Moved, Stamp, State, StateFileProblem};
use args::{Cli, Command};
use std::io::IsTerminal;
use std::mem::ManuallyDrop;

/// How a command ended, for its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Everything asked for is done (status: every target is ok): exit 0.
    Done,
    /// Conflicts, failed steps, or (status) targets that are not ok: exit 1.
    NeedsAttention,
    /// `apply --detailed-exitcode` made changes: exit 3.
    Changed,
}

impl Verdict {
    fn unless(attention: bool) -> Verdict {
        if attention {
            Verdict::NeedsAttention
        } else {
            Verdict::Done
        }
    }
}

/// Run the parsed command line; returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let no_color = std::env::var("NO_COLOR").ok();
    let force = std::env::var("CLICOLOR_FORCE").ok();
    colored::control::set_override(cli.color.enabled(
        std::io::stdout().is_terminal(),
        no_color.as_deref(),
        force.as_deref(),
    ));
    let verbosity = if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    if changes_things(&cli.command) {
        // A reader that goes away (`dotlink apply | head -1`) must not end a run part way.
        // SAFETY: setting a signal's disposition; no handler runs.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    }
    let result = match &cli.command {
        Command::Apply(args) => apply::run(
            &cli,
            &args.run,
            apply::Mode {
                dry_run: args.dry_run,
                json: args.json,
                detailed_exitcode: args.detailed_exitcode,
            },
            verbosity,
        ),
        Command::Plan(args) => apply::run(
            &cli,
            &args.run,
            apply::Mode {
                dry_run: true,
                json: args.json,
                detailed_exitcode: false,
            },
            verbosity,
        ),
        Command::Status(args) => status::run(&cli, args.json, verbosity),
        Command::Unlink(args) => unlink::run(&cli, args.dry_run, verbosity),
        Command::Clean(args) => clean::run(&cli, args.dry_run, verbosity),
        Command::Diff(args) => diff::run(&cli, &args.targets),
        Command::Adopt(args) => adopt::run(&cli, args, verbosity),
        Command::Restore(args) => restore::run(&cli, args, verbosity),
        Command::Init => init::run(&cli),
        Command::Doctor => doctor::run(&cli),
        Command::Hook { action } => hook::run(&cli, *action),
        Command::Import(args) => import::run(&args.tool, verbosity),
        Command::Completions(args) => docs::completions(args.shell),
        Command::Man { dir } => docs::man(dir.as_deref()),
    };
    let code = match result {
        Ok(Verdict::Done) => 0,
        Ok(Verdict::NeedsAttention) => 1,
        Ok(Verdict::Changed) => 3,
        Err(error) => {
            report::print_error(&error);
            error.exit_code()
        }
    };
    // A report that could not be written is a failure a script must see, even when the
    // command's own work succeeded.
    match report::out::failure() {
        Some(why) => {
            let hint = if changes_things(&cli.command) {
                "what the command did is done; `dotlink status` shows where things stand"
            } else {
                "run it again with its output going where it can be written"
            };
            let error =
                crate::error::Error::failure(format!("could not write to standard output: {why}"))
                    .with_hint(hint);
            report::print_error(&error);
            if matches!(code, 0 | 3) { 1 } else { code }
        }
        None => code,
    }
}

/// Whether `command` is one that changes files in the home or the state (its dry run too).
fn changes_things(command: &Command) -> bool {
    matches!(
        command,
        Command::Apply(_)
            | Command::Unlink(_)
            | Command::Clean(_)
            | Command::Adopt(_)
            | Command::Restore(_)
    )
}

/// A manifest, read, checked and expanded, with the files that hold its state.
struct Loaded {
    ctx: Context,
    manifest: Manifest,
    specs: Vec<LinkSpec>,
    /// How the specs were expanded (to expand them again).
    sources: Sources,
    files: Files,
    /// The state as read (without the lock) while the manifest was expanded.
    read: Option<StateRead>,
    /// What the thread that read the state looked at after, while the manifest was still
    /// being expanded (see [`Look`]).
    early: Option<crate::plan::Early>,
    /// The lock, when it was taken before the manifest was expanded (see [`Look::Locked`]).
    lock: Option<Lock>,
    /// Whether dotlink's own directories were found outside the repository already. A run
    /// that writes makes sure of it before it opens the state to write (the lock is the first
    /// file it makes); the planner checks again, on every run.
    own_dirs_checked: bool,
}

/// Whether the thread that reads a large state then looks at the targets it records, while
/// the repository is still being walked. A run that writes looks only while it holds the
/// lock, never before.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Look {
    /// A run that changes nothing (`status`, a dry run); `list` lists each directory too, for
    /// the dead links `status` counts.
    Early {
        list: bool,
    },
    /// A run that writes (`apply`): it looks early only when it could take the lock first,
    /// creating nothing but the lock's own file (`Files::lock_early`), and no interrupted run
    /// is left to recover (recovery changes targets after the looks).
    Locked,
    WhenPlanning,
}

/// A state read from its files, and what they were when read.
type StateRead = (State, Option<StateFileProblem>, [Stamp; 2]);

impl Loaded {
    /// [`open_state`] for this manifest, whose backups go to its `backup_dir`, starting from
    /// the state read while loading.
    fn open_state(&mut self, writing: bool) -> Result<OpenState> {
        if writing {
            self.check_own_dirs()?;
        }
        let open = open_state_from(
            &self.files,
            &self.ctx,
            writing,
            Some(&self.manifest.settings.backup_dir),
            self.read.take(),
            self.lock.take(),
        )?;
        if open.undid_adoption {
            // Read before recovery, the manifest may have been edited since the adopt stopped.
            self.manifest = manifest::load(&self.manifest.path, &self.ctx)?;
            self.specs = manifest::expand(&self.manifest, self.sources)?;
        }
        Ok(open)
    }

    /// [`crate::plan::check_own_dirs`], unless done already: for a run about to write, or one
    /// that says more before it plans (a dry run of `adopt`).
    fn check_own_dirs(&mut self) -> Result<()> {
        if !self.own_dirs_checked {
            let backup_dir = Some(self.manifest.settings.backup_dir.as_path());
            crate::plan::check_own_dirs(&self.manifest.repo, backup_dir, &self.ctx)?;
            self.own_dirs_checked = true;
        }
        Ok(())
    }

    /// [`crate::plan::check_before_writing`], for a run about to take the lock and write.
    fn check_before_writing(&mut self) -> Result<()> {
        crate::plan::check_before_writing(&self.manifest, &self.specs, &self.ctx)?;
        self.own_dirs_checked = true;
        Ok(())
    }
}

/// Where the manifest is (see [`manifest::locate`]); the manifests this home's state
/// remembers are read only when nothing nearer names one.
fn find_manifest(cli: &Cli, ctx: &Context) -> Result<std::path::PathBuf> {
    manifest::locate(cli.manifest.as_deref(), ctx, || {
        crate::state::remembered::remembered(&ctx.state_dir)
    })
}

/// Find, read and expand the manifest.
fn load(cli: &Cli, sources: Sources) -> Result<Loaded> {
    load_looking(cli, sources, Look::WhenPlanning)
}

/// [`load`], looking at the recorded targets early when `look` says so.
fn load_looking(cli: &Cli, sources: Sources, look: Look) -> Result<Loaded> {
    let ctx = Context::from_process(cli.profile.as_deref())?;
    let path = find_manifest(cli, &ctx)?;
    let files = Files::for_manifest(&ctx.state_dir, &path, &ctx.home);
    let manifest = load_manifest(&path, &files, &ctx)?;
    for warning in &manifest.warnings {
        report::print_warning(warning);
    }
    let state_len = std::fs::metadata(&files.state).map_or(0, |m| m.len());
    let read_ahead = state_len >= read_state_ahead_from();
    let check_own_dirs =
        || crate::plan::check_own_dirs(&manifest.repo, Some(&manifest.settings.backup_dir), &ctx);
    // Never where dotlink's own directories are refused (in the repository): that is said
    // after the walk, as before, and the lock is taken then or not at all.
    let own_dirs = (read_ahead && look == Look::Locked).then(check_own_dirs);
    let lock = own_dirs
        .as_ref()
        .is_some_and(|checked| checked.is_ok())
        .then(|| files.lock_early())
        .flatten();
    let look_early = match look {
        Look::Early { list } => Some(list),
        Look::Locked => lock
            .as_ref()
            .filter(|l| l.killed_runs.is_empty() && !crate::apply::journal::pending(&files))
            .map(|_| false),
        Look::WhenPlanning => None,
    };
    // A large state is read on a second thread while this one walks the repository: neither
    // waits for the other (a small one is read later, quicker than starting a thread). A run
    // that writes and did not take the lock yet checks, once it holds it, that the files are
    // still what was read (`open_state_from`).
    // Once read, it may look at the targets the state records until the walk is done (see
    // `Look`); and the walk, from then on, takes the paths of the records for what it finds.
    let walked = std::sync::atomic::AtomicBool::new(false);
    let state_read: std::sync::OnceLock<StateRead> = std::sync::OnceLock::new();
    let (specs, early) = std::thread::scope(|scope| {
        let reader = read_ahead
            .then(|| {
                std::thread::Builder::new().spawn_scoped(scope, || {
                    grow_heap_for(state_len);
                    let read = state_read.get_or_init(|| files.load_stamped());
                    look_early.map(|list| crate::plan::look_early(&read.0, list, &walked))
                })
            })
            .and_then(|spawned| spawned.ok());
        let recorded = ReadAhead {
            state: &state_read,
            reading: reader.is_some(),
        };
        let expanded = manifest::expand_sharing(&manifest, sources, &recorded);
        walked.store(true, std::sync::atomic::Ordering::Relaxed);
        let early = reader.and_then(|r| r.join().expect("reading the state does not panic"));
        // What the walk found before the state was read is given its paths now.
        let specs = expanded.and_then(|expanded| expanded.finish(&manifest, &recorded));
        (specs, early)
    });
    let read = state_read.into_inner();
    let specs = specs?;
    // Checked here only where the lock was to be taken early; else by the run that writes, or
    // by the planner.
    let own_dirs_checked = own_dirs.transpose()?.is_some();
    Ok(Loaded {
        ctx,
        manifest,
        specs,
        sources,
        files,
        read,
        early,
        lock,
        own_dirs_checked,
    })
}

/// The state as read ahead on another thread (see [`load_looking`]), for the walk to take the
/// paths of its records.
struct ReadAhead<'s> {
    state: &'s std::sync::OnceLock<StateRead>,
    /// A thread reads it: else it is read later, and the walk takes its paths from nothing.
    reading: bool,
}

impl manifest::RecordedPaths for ReadAhead<'_> {
    fn read(&self) -> bool {
        !self.reading || self.state.get().is_some()
    }

    fn paths(&self, target: &std::path::Path) -> Option<(SharedPath, SharedPath)> {
        let (state, ..) = self.state.get()?;
        let record = state.links.get(target)?;
        Some((record.target.clone(), record.source.clone()))
    }
}

/// The manifest at `path` as the run will find it. While an `adopt` that stopped is left to
/// undo and the manifest holds the text it wrote, that is the text from before: it declares
/// files that recovery puts back in the home (some may be already), and recovery, which a
/// writing run does first, puts that text back before anything is planned.
fn load_manifest(path: &std::path::Path, files: &Files, ctx: &Context) -> Result<Manifest> {
    if let Some(adopting) = crate::apply::journal::pending_adoption(files)
        && std::fs::read_to_string(&adopting.manifest).is_ok_and(|text| text == adopting.after)
    {
        return manifest::parse(path, &adopting.before, ctx);
    }
    manifest::load(path, ctx)
}

/// From this size of state file (about 700 links), it is read on a second thread (tests set
/// `DOTLINK_READ_STATE_AHEAD_FROM`).
fn read_state_ahead_from() -> u64 {
    crate::context::threshold("DOTLINK_READ_STATE_AHEAD_FROM", 64 * 1024)
}

/// Grow this thread's heap in large steps to about what reading a state file of `len` bytes
/// will allocate: glibc gives a second thread a heap of its own and grows it as small
/// allocations need, one `mprotect` per page or so (some 600 at 10,000 links). Blocks just
/// under glibc's first `mmap` threshold (128 KiB) come from the heap, untouched (no memory is
/// used); freed, their space stays the heap's.
fn grow_heap_for(len: u64) {
    const BLOCK: usize = 120 * 1024;
    let blocks = usize::try_from(len.saturating_mul(4)).unwrap_or(0) / BLOCK;
    let grown: Vec<Vec<u8>> = (0..blocks.min(1024))
        .map(|_| Vec::with_capacity(BLOCK))
        .collect();
    drop(std::hint::black_box(grown));
}

/// The recorded state, and what a reader should know about it.
struct OpenState {
    /// Never freed: the process ends right after the run, and freeing a large state record by
    /// record is about 5% of a `status` (7 million instructions at 10,000 links).
    state: ManuallyDrop<State>,
    /// Held while this run writes.
    _lock: Option<Lock>,
    notes: Vec<Note>,
    /// The backup set of an interrupted run that was recovered, to add this run's backups to.
    resume_backup_set: Option<std::path::PathBuf>,
    /// The state was taken over from where the repository was before it moved.
    moved: Option<Moved>,
    /// Recovery undid an `adopt` that stopped, and may have put the manifest's text back.
    undid_adoption: bool,
}

impl OpenState {
    /// After this run wrote its own state file: a state taken over from the repository's old
    /// place is now in it, so the old file goes.
    fn saved(&self) {
        if let Some(moved) = &self.moved {
            crate::apply::retire_state_file(&moved.old_state_file);
        }
    }

    /// Put the state's notes before the plan's own.
    fn annotate(&mut self, plan: &mut Plan) {
        self.notes.append(&mut plan.notes);
        plan.notes = std::mem::take(&mut self.notes);
    }
}

/// Read the state; when about to write, take the lock and recover an interrupted run first.
/// `backup_dir` is where this manifest's backups go, when it is known (`unlink` reads no
/// manifest).
fn open_state(
    files: &Files,
    ctx: &Context,
    writing: bool,
    backup_dir: Option<&std::path::Path>,
) -> Result<OpenState> {
    open_state_from(files, ctx, writing, backup_dir, None, None)
}

/// [`open_state`], using a state `read` earlier when its files are still as they were then,
/// and the lock when it was taken `early`.
fn open_state_from(
    files: &Files,
    ctx: &Context,
    writing: bool,
    backup_dir: Option<&std::path::Path>,
    read: Option<StateRead>,
    early: Option<Lock>,
) -> Result<OpenState> {
    let mut lock = match (writing, early) {
        (false, _) => None,
        (true, Some(lock)) => Some(lock),
        (true, None) => Some(files.lock()?),
    };
    // A run killed mid-write left its lock file, and maybe a temporary file or two (so may the
    // runs it took over from, if it was killed before it cleaned up after them).
    if let Some(lock) = lock.as_mut().filter(|l| !l.killed_runs.is_empty()) {
        // And the manifest's own directory: a recovery that puts an adopt's manifest text
        // back writes it there.
        let dirs: Vec<&std::path::Path> = std::iter::once(ctx.state_dir.as_path())
            .chain(backup_dir)
            .chain(files.manifest.parent())
            .collect();
        for &pid in &lock.killed_runs {
            crate::apply::fsutil::remove_temporaries_of(pid, &dirs);
        }
        lock.cleaned_up_after_killed_runs()
            .map_err(|e| crate::error::Error::io("write lock file", &files.lock, &e))?;
    }
    // Without the lock, what was read is as good as reading now; with it, only while no run
    // has saved since.
    let (mut state, problem) = match read {
        Some((state, problem, stamps)) if !writing || files.still_as(&stamps) => (state, problem),
        _ => files.load(),
    };
    let mut notes: Vec<Note> = problem.into_iter().map(Note::StateFile).collect();
    let mut moved = None;
    if notes.is_empty()
        && state.links.is_empty()
        && !files.state.exists()
        && !files.legacy_state.exists()
        && let Some((found, how)) = files.find_moved()
    {
        notes.push(Note::RepositoryMoved {
            from: how.from.clone(),
            to: how.to.clone(),
        });
        state = found;
        moved = Some(how);
    }
    let mut resume_backup_set = None;
    let mut undid_adoption = false;
    if writing && notes.is_empty() && files.needs_migration() {
        // Version 1 is parsed slowly: migrate it once, now that the lock is held.
        crate::apply::save_state(files, &state)?;
    }
    if writing {
        if let Some(recovery) = recovery::recover(files, &mut state)? {
            report::print_recovery(&recovery, &ctx.home);
            resume_backup_set = recovery.backup_set;
            undid_adoption = recovery.undid_adoption;
        }
    } else if crate::apply::journal::pending(files) {
        notes.push(Note::JournalPending);
    }
    Ok(OpenState {
        state: ManuallyDrop::new(state),
        _lock: lock,
        notes,
        resume_backup_set,
        moved,
        undid_adoption,
    })
}
