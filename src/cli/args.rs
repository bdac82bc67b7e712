//! The command line: every command, flag and help text, defined once with clap's derive API.

use crate::manifest::Policy;
use clap::builder::PossibleValue;
use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

const ABOUT: &str = "Link your dotfiles into place from a git repository, safely.";

const LONG_ABOUT: &str = "\
Link your dotfiles into place from a git repository, safely.

A dotfiles repository holds a dotlink.toml manifest mapping sources in the repository to
targets in your home directory. dotlink plans what to change by comparing the manifest with
what is really there, shows the plan, and applies it. Nothing that is not a link dotlink made
is ever removed or overwritten unless a conflict policy asks for it, and `backup` keeps a copy.";

const AFTER_HELP: &str = "\
Examples:
  dotlink plan                         show what apply would do, change nothing
  dotlink apply                        make the links (after every git pull)
  dotlink apply --on-conflict backup   move files in the way to the backup directory first
  dotlink status --json                state of every target, for scripts
  dotlink -m ~/dotfiles unlink         remove every link dotlink made

Exit status:
  0  success (status: every target is ok)
  1  conflicts, a step that failed (status: some target is not ok)
  2  bad usage or a manifest error
  3  apply --detailed-exitcode only: changes were made";

#[derive(Debug, Parser)]
#[command(name = "dotlink", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// The manifest (or its directory) [default: $DOTLINK_MANIFEST, else the nearest
    /// dotlink.toml in or above the current directory, else the one that manages this home]
    #[arg(short = 'm', long, global = true, value_name = "PATH")]
    pub manifest: Option<PathBuf>,

    /// When to colour the output; `auto` colours a terminal (or anything, with CLICOLOR_FORCE)
    /// unless NO_COLOR is set
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Also show targets that are already up to date
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Print only errors and conflicts
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Use these profiles (comma-separated) for `when = { profile = … }` instead of the ones
    /// [profiles] selects for this machine [env: DOTLINK_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan, show and make the links the manifest declares
    #[command(
        long_about = "Plan, show and make the links the manifest declares.\n\n\
        Running it twice in a row changes nothing the second time. Under the default conflict \
        policy `fail`, any conflict means nothing at all is changed."
    )]
    Apply(Deferred<ApplyArgs>),
    /// Show what `apply` would do and change nothing (the same as `apply --dry-run`)
    Plan(Deferred<PlanArgs>),
    /// Show every declared target's state: ok, missing, wrong, conflict, dangling, orphan, …
    #[command(
        long_about = "Show the targets that need attention, one line each with its state word, \
        then the counts; with nothing to report, one line (\"10,000 links up to date\"). \
        --verbose lists every declared target and every orphan.\n\n\
        ok        already the right link\n\
        missing   nothing there yet\n\
        wrong     a link that will be replaced (points elsewhere, or spelled in the other style)\n\
        conflict  something that is not dotlink's is in the way\n\
        dangling  a link into the repository whose source no longer exists\n\
        folded    reached through a directory link into the repository, as GNU Stow folds \
        directories; apply unfolds it\n\
        orphan    a link dotlink made that the manifest no longer declares\n\
        diverged  a hard link that became a separate copy with the same contents\n\
        skipped   an entry whose `when` condition does not hold on this machine\n\n\
        Exits 0 when every entry is ok (or skipped), 1 otherwise."
    )]
    Status(Deferred<StatusArgs>),
    /// Show how what is in the way differs from the repository's source (conflicts, diverged)
    #[command(
        long_about = "For every target in `conflict` or `diverged` (or only the TARGETs named), \
        a unified diff from what is in the way to the repository's source, so you can choose \
        `--on-conflict backup` or `overwrite` knowingly. Exits 0 when there is nothing to show, \
        1 otherwise.",
        after_help = "Examples:\n  dotlink diff\n  dotlink diff ~/.zshrc ~/.gitconfig"
    )]
    Diff(Deferred<DiffArgs>),
    /// Check the manifest, dotlink's directories, the home and its filesystem, and stray links
    #[command(
        long_about = "Check what dotlink depends on and explain anything wrong: the manifest is \
        found and valid; the state and backup directories are writable and outside the \
        repository and every target; how HOME resolves; that the home's filesystem supports \
        symlinks, hard links and atomic exchange; dead links into the repository (see `clean`); \
        links into the repository that dotlink does not manage (left by Stow, say); and \
        remembered manifests that no longer exist. Exits 0 when healthy, 1 otherwise."
    )]
    Doctor,
    /// Remove every link dotlink made that still points at its source, and nothing else
    Unlink(Deferred<UnlinkArgs>),
    /// Remove dead links into the repository that dotlink did not make (left by Stow, dotbot, …)
    #[command(
        long_about = "Remove dead symlinks that point into the repository and that dotlink \
        never recorded, as GNU Stow, dotbot or an older layout of the repository leave behind \
        when a source is deleted or moved. It looks in the directories that hold declared \
        targets and in the home directory's top level, removes nothing else, and lists what it \
        removes. `status` says how many there are."
    )]
    Clean(Deferred<UnlinkArgs>),
    /// Move files or directories from your home into the repository and link them back
    #[command(
        long_about = "Move files or directories from your home into the repository, \
        add an entry for each to dotlink.toml (keeping its comments and layout), and link them \
        back into place.\n\n~/.zshrc goes to zshrc in the repository, ~/.config/nvim to \
        config/nvim; --as chooses another place. Refuses paths outside the home directory, \
        anything dotlink already manages, and a path that holds dotlink's own state or the \
        manifest.\n\nAn adopt that is stopped or fails before its links are made is undone: \
        at once, or (after a kill) by the next dotlink run that writes. Something that appears \
        at an adopted path meanwhile is never replaced: the file stays in the repository, \
        declared, and adopt exits 1."
    )]
    Adopt(Deferred<AdoptArgs>),
    /// List backups, or put one back (the latest by default)
    #[command(
        long_about = "List the backups the `backup` policy made, or put one back (the \
        latest by default). Only a target that is still dotlink's link (or nothing) is \
        replaced; one you have changed since is left alone, with its backup."
    )]
    Restore(Deferred<RestoreArgs>),
    /// Write a commented starter dotlink.toml in the current directory
    Init,
    /// Git hooks that run `dotlink apply --quiet` after every `git pull` and checkout
    #[command(
        long_about = "Write post-merge and post-checkout hooks into the dotfiles repository's \
        git hooks directory, so every `git pull` (and checkout) relinks. A hook that dotlink did \
        not write is never replaced: install refuses (exit 1) and prints the line to add to it \
        instead. `uninstall` removes only dotlink's own hooks.",
        after_help = "Examples:\n  dotlink hook install\n  dotlink hook uninstall"
    )]
    Hook {
        #[arg(value_enum)]
        action: HookAction,
    },
    /// Write a dotlink.toml that reproduces what GNU Stow, dotbot or dotter deploys
    #[command(
        long_about = "Write a dotlink.toml that reproduces what GNU Stow, dotbot or dotter \
        deploys, so that `dotlink apply` on a home that tool set up finds no conflicts and \
        changes no file you reach. Anything the tool does that dotlink does not (dotbot's \
        shell, clean and create; dotter's templates and variables; Stow's --override and \
        --defer) is listed as a warning with its file and line, and kept as a comment in the \
        manifest. An existing dotlink.toml is never overwritten; --stdout prints instead.",
        after_help = "Examples:\n  cd ~/dotfiles && dotlink import stow && dotlink plan\n  dotlink import dotbot ~/dotfiles/install.conf.yaml\n  dotlink import dotter ~/dotfiles --stdout"
    )]
    Import(Deferred<ImportArgs>),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(
        after_help = "Examples:\n  dotlink completions bash > ~/.local/share/bash-completion/completions/dotlink\n  dotlink completions zsh > ~/.zfunc/_dotlink\n  dotlink completions fish > ~/.config/fish/completions/dotlink.fish"
    )]
    Completions(Deferred<CompletionsArgs>),
    /// Print the man page (roff), or write every page (one per command too) with --dir
    #[command(
        after_help = "Examples:\n  dotlink man > ~/.local/share/man/man1/dotlink.1\n  dotlink man --dir ~/.local/share/man/man1"
    )]
    Man {
        /// Write dotlink.1 and a dotlink-COMMAND.1 per command into this directory
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// A command's arguments, as `T` defines them, added to its `clap::Command` only when that is
/// built: when it is the command being run, or for a document (help, man page, completions).
/// Building every command's arguments and help texts on every run was 0.1 ms of the 1.9 ms a
/// `status` takes on a typical repository, and 40 pages of memory touched.
#[derive(Debug)]
pub struct Deferred<T>(pub T);

impl<T> std::ops::Deref for Deferred<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: FromArgMatches> FromArgMatches for Deferred<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Deferred)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Deferred)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

impl<T: Args> Args for Deferred<T> {
    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }

    fn augment_args(command: clap::Command) -> clap::Command {
        match ALL_AT_ONCE.load(Ordering::Relaxed) {
            true => T::augment_args(command),
            false => command.defer(T::augment_args),
        }
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        match ALL_AT_ONCE.load(Ordering::Relaxed) {
            true => T::augment_args_for_update(command),
            false => command.defer(T::augment_args_for_update),
        }
    }
}

/// Set by [`Cli::whole`]: [`Deferred`] arguments are added at once.
static ALL_AT_ONCE: AtomicBool = AtomicBool::new(false);

impl Cli {
    /// The whole command line, every command's arguments added at once, for the documents
    /// generated from it. Shell completions need it: their generator lists a command's options
    /// in the order they were added (a deferred command's own come after the global ones),
    /// and `help`'s own tree of commands is made before a deferred one is built.
    pub fn whole() -> clap::Command {
        ALL_AT_ONCE.store(true, Ordering::Relaxed);
        let whole = <Cli as clap::CommandFactory>::command();
        ALL_AT_ONCE.store(false, Ordering::Relaxed);
        whole
    }
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// Files or directories in your home directory
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Where in the repository to put it (one PATH only)
    #[arg(long = "as", value_name = "REPO_PATH")]
    pub place: Option<String>,

    /// Show what would happen and change nothing
    #[arg(short = 'n', long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// List the backups instead of restoring one
    #[arg(long, conflicts_with = "backup")]
    pub list: bool,

    /// The backup set to put back: its timestamp name (see --list) [default: the latest]
    #[arg(value_name = "BACKUP")]
    pub backup: Option<String>,

    /// Show what would be restored and change nothing
    #[arg(short = 'n', long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub tool: ImportTool,
}

#[derive(Debug, Subcommand)]
pub enum ImportTool {
    /// GNU Stow: packages in the stow directory become a [[package]] (honours .stowrc)
    Stow {
        /// The stow directory [default: the current directory, as Stow]
        #[arg(short = 'd', long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Where packages are stowed [default: the stow directory's parent, as Stow]
        #[arg(short = 't', long, value_name = "DIR")]
        target: Option<PathBuf>,
        /// The packages to import [default: every directory of the stow directory]
        #[arg(value_name = "PACKAGE")]
        packages: Vec<String>,
        /// Print the manifest instead of writing dotlink.toml
        #[arg(long)]
        stdout: bool,
    },
    /// dotbot: the links of install.conf.yaml (or .json), with their defaults
    Dotbot {
        /// The config file or its directory [default: install.conf.yaml, .yml or .json here]
        #[arg(value_name = "CONFIG")]
        config: Option<PathBuf>,
        /// Print the manifest instead of writing dotlink.toml
        #[arg(long)]
        stdout: bool,
    },
    /// dotter: .dotter/global.toml's packages as profiles, local.toml's selection for this host
    Dotter {
        /// The repository holding .dotter/ [default: the current directory]
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Print the manifest instead of writing dotlink.toml
        #[arg(long)]
        stdout: bool,
    },
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Show exactly what would happen and write nothing
    #[arg(short = 'n', long)]
    pub dry_run: bool,

    /// Print what the run did as JSON: each step with its result ("done", "failed",
    /// "unchanged", "not_run"), counts, and the backup set (see the README)
    #[arg(long, conflicts_with = "dry_run")]
    pub json: bool,

    /// Exit 0 when nothing changed, 1 on a failure or conflict, 2 on bad usage, 3 when
    /// changes were made (as Terraform's plan -detailed-exitcode)
    #[arg(long)]
    pub detailed_exitcode: bool,

    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// What to do with anything in the way, for every entry (overrides the manifest)
    #[arg(long, value_enum, value_name = "POLICY")]
    pub on_conflict: Option<Policy>,

    /// Keep links the manifest no longer declares
    #[arg(long)]
    pub no_prune: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// Print the plan as JSON: {"version":1,"halted":…,"actions":[{"kind","target","source",
    /// "state","reason",…}],"summary":{…}} (see the README for every field)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON: {"version":1,"entries":[{"target","source","state","reason"}],"summary":{"ok":N,…}}
    /// (the schema is docs/status.schema.json)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Only these targets (as status shows them, such as ~/.zshrc)
    #[arg(value_name = "TARGET")]
    pub targets: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UnlinkArgs {
    /// Show what would be removed and remove nothing
    #[arg(short = 'n', long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookAction {
    /// Write dotlink's post-merge and post-checkout hooks
    Install,
    /// Remove dotlink's own hooks (and no other)
    Uninstall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour, given whether stdout is a terminal and the value of NO_COLOR.
    /// Whether to colour: `auto` colours a terminal unless `NO_COLOR` is set, and colours
    /// anything when `CLICOLOR_FORCE` is set (not to `0`); `NO_COLOR` wins over both.
    pub fn enabled(
        self,
        is_terminal: bool,
        no_color: Option<&str>,
        clicolor_force: Option<&str>,
    ) -> bool {
        let set = |v: Option<&str>| v.is_some_and(|v| !v.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set(no_color) => false,
            ColorChoice::Auto => {
                is_terminal || (set(clicolor_force) && clicolor_force != Some("0"))
            }
        }
    }
}

/// `--on-conflict`'s values, written out here so that the manifest's `Policy` needs no clap:
/// the same names and help texts the derive made from `Policy`'s doc comments.
impl ValueEnum for Policy {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Policy::Fail,
            Policy::Skip,
            Policy::Backup,
            Policy::Overwrite,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Policy::Fail => {
                PossibleValue::new("fail").help("Change nothing at all if any conflict exists")
            }
            Policy::Skip => {
                PossibleValue::new("skip").help("Leave conflicting targets alone and do the rest")
            }
            Policy::Backup => PossibleValue::new("backup")
                .help("Move what is in the way to the backup directory, then link"),
            Policy::Overwrite => {
                PossibleValue::new("overwrite").help("Remove what is in the way, then link")
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn policy_values_are_the_manifest_words() {
        for policy in Policy::value_variants() {
            let value = policy.to_possible_value().unwrap();
            assert_eq!(value.get_name(), policy.to_string());
            assert!(value.get_help().is_some(), "{policy} has no help");
        }
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_command_is_built_whole_only_when_it_runs() {
        let deferred = Cli::command();
        let status = deferred.find_subcommand("status").unwrap();
        assert!(status.get_arguments().all(|a| a.is_global_set()));
        // Built, every command reads as in the whole definition: its help, word for word.
        let mut built = deferred;
        built.build();
        let mut whole = Cli::whole();
        whole.build();
        let names: Vec<String> = whole
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        assert!(names.len() > 10 && names.iter().any(|n| n == "status"));
        for name in names {
            let help = |cli: &mut clap::Command| {
                let command = cli.find_subcommand_mut(&name).unwrap();
                (
                    command.render_long_help().to_string(),
                    command.render_usage().to_string(),
                )
            };
            assert_eq!(help(&mut built), help(&mut whole), "{name}");
        }
    }

    #[test]
    fn colour_follows_flag_then_no_color_then_terminal() {
        assert!(ColorChoice::Always.enabled(false, Some("1"), None));
        assert!(!ColorChoice::Never.enabled(true, None, Some("1")));
        assert!(ColorChoice::Auto.enabled(true, None, None));
        assert!(ColorChoice::Auto.enabled(true, Some(""), None));
        assert!(!ColorChoice::Auto.enabled(true, Some("1"), None));
        assert!(!ColorChoice::Auto.enabled(false, None, None));
        assert!(ColorChoice::Auto.enabled(false, None, Some("1")));
        assert!(!ColorChoice::Auto.enabled(false, None, Some("0")));
        assert!(!ColorChoice::Auto.enabled(false, Some("1"), Some("1")));
    }
}
