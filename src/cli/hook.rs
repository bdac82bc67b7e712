//! `hook install` / `hook uninstall`: git hooks in the dotfiles repository that run
//! `dotlink apply --quiet` after `git pull` (post-merge) and after a checkout (post-checkout).
//! A hook dotlink did not write is never replaced or removed; dotlink's own carry a marker line.

use super::Verdict;
use super::args::{Cli, HookAction};
use crate::apply::fsutil;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::report::{self, HookChange};
use std::path::{Path, PathBuf};

/// The hooks dotlink writes.
const HOOKS: [&str; 2] = ["post-merge", "post-checkout"];
/// The line that makes a hook dotlink's own.
const MARKER: &str = "# Written by `dotlink hook install`";

pub(super) fn run(cli: &Cli, action: HookAction) -> Result<Verdict> {
    let ctx = Context::from_process(cli.profile.as_deref())?;
    let manifest = super::find_manifest(cli, &ctx)?;
    let manifest = manifest.canonicalize().unwrap_or(manifest);
    let repo = manifest.parent().unwrap_or(Path::new("/"));
    let hooks = hooks_dir(repo)?;
    let line = hook_line(&manifest, ctx.machine.chosen_profiles.as_deref());
    let mut changes = Vec::new();
    let mut refused = false;
    for name in HOOKS {
        let path = hooks.join(name);
        // Anything there that is not a regular file (a symlink, even a dangling one) counts.
        let existing = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => Some(std::fs::read_to_string(&path).unwrap_or_default()),
            Ok(_) => Some(String::new()),
            Err(_) => None,
        };
        let ours = existing.as_deref().is_some_and(is_ours);
        let change = match (action, &existing) {
            (HookAction::Install, Some(_)) if !ours => {
                refused = true;
                HookChange::NotOurs(path)
            }
            (HookAction::Install, _) => {
                write_hook(&path, &hook_text(&line))?;
                HookChange::Installed(path)
            }
            (HookAction::Uninstall, None) => continue,
            (HookAction::Uninstall, Some(_)) if !ours => HookChange::LeftAlone(path),
            (HookAction::Uninstall, Some(_)) => {
                std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, &e))?;
                HookChange::Removed(path)
            }
        };
        changes.push(change);
    }
    report::print_hook_changes(&changes, &line);
    Ok(Verdict::unless(refused))
}

/// The command a hook runs: this dotlink, this manifest, and the profiles chosen now (a hook
/// runs where `--profile` and `$DOTLINK_PROFILE` are not set).
fn hook_line(manifest: &Path, profiles: Option<&[String]>) -> String {
    let exe = std::env::current_exe()
        .ok()
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("dotlink"));
    let profile = match profiles {
        Some(names) if !names.is_empty() => format!(" --profile {}", shell_quote(&names.join(","))),
        _ => String::new(),
    };
    format!(
        "{} -m {}{profile} apply --quiet",
        shell_quote(&exe.to_string_lossy()),
        shell_quote(&manifest.to_string_lossy())
    )
}

fn hook_text(line: &str) -> String {
    format!(
        "#!/bin/sh\n{MARKER}: relink the dotfiles after git pull and checkout.\n{UNINSTALL}\n{line}\n"
    )
}

/// The third line of dotlink's hooks.
const UNINSTALL: &str = "# `dotlink hook uninstall` removes it.";

/// Whether `text` is a hook exactly as dotlink writes them: its three lines, then one dotlink
/// command and nothing else. A hook someone edited is theirs.
fn is_ours(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    matches!(
        lines.as_slice(),
        [shebang, marker, uninstall, command]
            if *shebang == "#!/bin/sh"
                && marker.starts_with(MARKER)
                && *uninstall == UNINSTALL
                && command.starts_with('\'')
                && command.ends_with(" apply --quiet")
    ) && text.ends_with('\n')
}

fn write_hook(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, &e))?;
    }
    fsutil::write_atomic(path, text.as_bytes()).map_err(|e| Error::io("write", path, &e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| Error::io("make executable", path, &e))
}

/// What `git ARGS` prints in `repo`, trimmed, when it succeeds.
fn git(repo: &Path, args: &[&str]) -> Option<PathBuf> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then(|| PathBuf::from(text))
}

/// Single quotes for the shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The repository's hooks directory: what git says (`core.hooksPath` included), else
/// `.git/hooks` of the nearest `.git` directory above the repository.
fn hooks_dir(repo: &Path) -> Result<PathBuf> {
    let asked = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .output();
    if let Ok(out) = asked
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let git_dir = git(
            repo,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        );
        if !text.is_empty() {
            let hooks = PathBuf::from(text);
            // core.hooksPath elsewhere: those hooks serve other repositories too.
            if let Some(git_dir) = git_dir
                && !hooks.starts_with(&git_dir)
            {
                return Err(Error::failure(format!(
                    "git's hooks for {} are in {} (core.hooksPath), which other repositories may share; left alone",
                    repo.display(),
                    hooks.display()
                ))
                .with_hint("add `dotlink apply --quiet` to the post-merge and post-checkout hooks there yourself, or unset core.hooksPath for this repository"));
            }
            return Ok(hooks);
        }
    }
    repo.ancestors()
        .map(|dir| dir.join(".git"))
        .find(|git| git.is_dir())
        .map(|git| git.join("hooks"))
        .ok_or_else(|| {
            Error::input(format!("{} is not in a git repository", repo.display())).with_hint(
                "hooks run after `git pull`: use them in a dotfiles repository that git manages",
            )
        })
}
