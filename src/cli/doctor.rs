//! `doctor`: check what dotlink depends on and explain what is wrong: the manifest, dotlink's
//! own directories, the home directory, what the filesystem can do, links into the repository
//! that dotlink did not make (dead or alive), and remembered manifests that are gone.

use super::Verdict;
use super::args::Cli;
use crate::apply::fsutil;
use crate::context::Context;
use crate::error::Result;
use crate::manifest::{self, Sources};
use crate::paths;
use crate::plan::{self, LinkState, Options};
use crate::report::{self, Check};
use crate::state::{self, Files};
use std::path::Path;

pub(super) fn run(cli: &Cli) -> Result<Verdict> {
    let ctx = Context::from_process(cli.profile.as_deref())?;
    let mut checks = vec![home_check(&ctx)];
    checks.extend(remembered_checks(&ctx));
    checks.push(filesystem_check(&ctx.home));
    let found = super::find_manifest(cli, &ctx).and_then(|path| {
        let files = Files::for_manifest(&ctx.state_dir, &path, &ctx.home);
        checks.extend(journal_check(&files, &ctx));
        let manifest = super::load_manifest(&path, &files, &ctx)?;
        let specs = manifest::expand(&manifest, Sources::Require)?;
        Ok((manifest, specs))
    });
    match found {
        Err(e) => checks.push(Check::fail("manifest", e.to_string(), e.hint.clone())),
        Ok((manifest, specs)) => {
            checks.push(Check::ok(
                "manifest",
                format!(
                    "{} ({}, {}): valid",
                    paths::display(&manifest.path, &ctx.home),
                    count(manifest.entries.len(), "entry", "entries"),
                    count(specs.len(), "link", "links")
                ),
            ));
            checks.push(own_dirs_check(&manifest, &specs, &ctx));
            checks.extend(link_checks(manifest, specs, &ctx)?);
        }
    }
    let healthy = checks.iter().all(|c| c.ok);
    report::print_checks(&checks);
    Ok(Verdict::unless(!healthy))
}

/// A run that was interrupted and is not yet recovered: what `status` notes, said as a failure
/// here, since until a writing run recovers it the home is not as any plan left it.
fn journal_check(files: &Files, ctx: &Context) -> Option<Check> {
    if !crate::apply::journal::pending(files) {
        return None;
    }
    let what = match crate::apply::journal::pending_adoption(files) {
        Some(_) => "an adopt",
        None => "a run",
    };
    Some(Check::fail(
        "interrupted run",
        format!(
            "{what} was interrupted and left its journal {}",
            paths::display(&files.journal, &ctx.home)
        ),
        Some("run `dotlink apply`: it recovers the interrupted run first".into()),
    ))
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn home_check(ctx: &Context) -> Check {
    let spelled = std::env::var_os("HOME").unwrap_or_default();
    let detail = if Path::new(&spelled) == ctx.home {
        format!("{}", ctx.home.display())
    } else {
        format!(
            "{} (HOME is {}, through a symlink)",
            ctx.home.display(),
            Path::new(&spelled).display()
        )
    };
    if ctx.home.is_dir() {
        Check::ok("home", detail)
    } else {
        Check::fail(
            "home",
            format!("{detail} is not a directory"),
            Some("set HOME to your home directory".into()),
        )
    }
}

fn remembered_checks(ctx: &Context) -> Vec<Check> {
    state::remembered::remembered(&ctx.state_dir)
        .into_iter()
        .filter(|m| !m.is_file())
        .map(|m| {
            Check::fail(
                "remembered manifest",
                format!("{} manages this home but no longer exists", m.display()),
                Some(format!(
                    "if the repository moved, run `dotlink apply` there; otherwise remove its line from {}",
                    state::remembered::file(&ctx.state_dir).display()
                )),
            )
        })
        .collect()
}

fn filesystem_check(home: &Path) -> Check {
    match fsutil::probe(home) {
        Ok(a) if a.symlink && a.hardlink && a.exchange => Check::ok(
            "filesystem",
            "the home directory supports symlinks, hard links and atomic exchange".into(),
        ),
        Ok(a) => {
            let mut missing = Vec::new();
            for (able, what) in [
                (a.symlink, "symlinks"),
                (a.hardlink, "hard links"),
                (a.exchange, "atomic exchange (RENAME_EXCHANGE)"),
            ] {
                if !able {
                    missing.push(what);
                }
            }
            Check::fail(
                "filesystem",
                format!("the home directory's filesystem has no {}", missing.join(", ")),
                Some("use method = \"symlink\" where hard links fail; without atomic exchange, replacements fall back to renames and unfolding fails".into()),
            )
        }
        Err(e) => Check::fail(
            "filesystem",
            format!(
                "cannot try the home directory: {}",
                crate::error::describe_io(&e)
            ),
            Some("make the home directory writable".into()),
        ),
    }
}

fn own_dirs_check(
    manifest: &manifest::Manifest,
    specs: &[manifest::LinkSpec],
    ctx: &Context,
) -> Check {
    let placed = plan::check_own_dirs(&manifest.repo, Some(&manifest.settings.backup_dir), ctx)
        .and_then(|()| plan::check_before_writing(manifest, specs, ctx));
    if let Err(e) = placed {
        return Check::fail("own directories", e.to_string(), e.hint.clone());
    }
    for dir in [&ctx.state_dir, &manifest.settings.backup_dir] {
        let existing = dir
            .ancestors()
            .find(|a| a.exists())
            .unwrap_or(Path::new("/"));
        if !writable(existing) {
            return Check::fail(
                "own directories",
                format!("{} is not writable", existing.display()),
                Some("dotlink keeps its state and backups there; fix its permissions".into()),
            );
        }
    }
    Check::ok(
        "own directories",
        format!(
            "state in {}, backups in {}: writable, outside the repository and every target",
            paths::display(&ctx.state_dir, &ctx.home),
            paths::display(&manifest.settings.backup_dir, &ctx.home)
        ),
    )
}

fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path; access only reads it.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// Dead links into the repository, and live ones dotlink does not manage (left by Stow, say).
fn link_checks(
    manifest: manifest::Manifest,
    specs: Vec<manifest::LinkSpec>,
    ctx: &Context,
) -> Result<Vec<Check>> {
    let files = Files::for_manifest(&ctx.state_dir, &manifest.path, &ctx.home);
    let (state, _) = files.load();
    let options = Options {
        dead_links: true,
        ..Options::default()
    };
    let plan = plan::plan(&manifest, specs, &state, &options, ctx)?;
    let mut checks = Vec::new();
    checks.push(match plan.dead_links.len() {
        0 => Check::ok("dead links", "none into the repository".into()),
        n => Check::fail(
            "dead links",
            format!(
                "{n} dead link{} into the repository that dotlink did not make",
                if n == 1 { "" } else { "s" }
            ),
            Some("`dotlink clean` removes them (`--dry-run` lists them first)".into()),
        ),
    });
    let foreign: Vec<&Path> = plan
        .steps
        .iter()
        .filter(|s| s.declared && s.state == LinkState::Ok && !state.links.contains_key(&s.target))
        .map(|s| &*s.target)
        .collect();
    let folded = plan.count(LinkState::Folded);
    checks.push(match (foreign.len(), folded) {
        // Only the declared targets are looked at here: a link the manifest no longer declares
        // is not called dotlink's (status says when one no longer is).
        (0, 0) => Check::ok("unmanaged links", "every declared link is dotlink's".into()),
        (n, f) => Check::fail(
            "unmanaged links",
            format!(
                "{n} link{} into the repository that dotlink did not make (such as {}){}",
                if n == 1 { "" } else { "s" },
                foreign.first().map(|p| paths::display(p, &ctx.home)).unwrap_or_else(|| "none".into()),
                if f > 0 { format!(", and {f} folded target{}", if f == 1 { "" } else { "s" }) } else { String::new() }
            ),
            Some("left by another tool (GNU Stow?): `dotlink apply` takes them over without a conflict".into()),
        ),
    });
    Ok(checks)
}
