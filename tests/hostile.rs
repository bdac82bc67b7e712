//! Hostile manifests. A dotfiles repository arrives by `git pull`, so its manifest is input, not
//! trust: every attempt to read from outside the repository or write outside the home directory
//! is refused before anything is touched, with the manifest's file, line and column.

use crate::common::Sandbox;
use std::fs;
use std::os::unix::fs::symlink;

/// Refused with exit 2, naming the manifest position, and nothing at all changed.
#[track_caller]
fn refused(s: &Sandbox, manifest: &str, env: &[(&str, &str)], expect: &str) {
    s.manifest(manifest);
    let before = s.whole_tree();
    let run = s.run_env(&["apply", "--on-conflict", "overwrite"], env);
    run.code(2).stderr_has("dotlink.toml:").stderr_has(expect);
    assert_eq!(s.whole_tree(), before);
    s.run_env(&["status"], env).code(2);
}

fn sandbox() -> Sandbox {
    let s = Sandbox::new();
    s.source("a", "a");
    crate::common::write(&s.path().join("outside/secret"), "secret");
    s
}

#[test]
fn sources_cannot_climb_out_of_the_repository() {
    let s = sandbox();
    for source in [
        "../outside/secret",
        "a/../../outside/secret",
        "/etc/passwd",
        "./../outside/secret",
    ] {
        refused(
            &s,
            &format!("[[link]]\nsource = \"{source}\"\ntarget = \"~/.x\"\n"),
            &[],
            "outside the repository",
        );
    }
}

#[test]
fn source_globs_cannot_climb_out_of_the_repository() {
    let s = sandbox();
    refused(
        &s,
        "[[link]]\nsource = \"../outside/*\"\ntarget = \"~/\"\n",
        &[],
        "outside the repository",
    );
}

#[test]
fn symlinks_in_the_repository_cannot_lead_out_of_it() {
    let s = sandbox();
    symlink(s.path().join("outside"), s.repo().join("door")).unwrap();
    symlink(s.path().join("outside/secret"), s.repo().join("peek")).unwrap();
    // Named directly, through a directory link, by a glob, and inside a recursive tree.
    refused(
        &s,
        "[[link]]\nsource = \"peek\"\ntarget = \"~/.x\"\n",
        &[],
        "outside the repository",
    );
    refused(
        &s,
        "[[link]]\nsource = \"door/secret\"\ntarget = \"~/.x\"\n",
        &[],
        "outside the repository",
    );
    refused(
        &s,
        "[[link]]\nsource = \"pe*\"\ntarget = \"~/\"\n",
        &[],
        "outside the repository",
    );
    std::fs::create_dir(s.repo().join("tree")).unwrap();
    symlink(s.path().join("outside/secret"), s.repo().join("tree/peek")).unwrap();
    refused(
        &s,
        "[[link]]\nsource = \"tree\"\ntarget = \"~/tree\"\nrecursive = true\n",
        &[],
        "outside the repository",
    );
}

#[test]
fn targets_cannot_leave_the_home_directory() {
    let s = sandbox();
    for target in ["/etc/x", "~/../x", "~/.config/../../x", "/tmp/x"] {
        refused(
            &s,
            &format!("[[link]]\nsource = \"a\"\ntarget = \"{target}\"\n"),
            &[],
            "is outside the home directory",
        );
    }
}

#[test]
fn other_users_homes_are_never_expanded() {
    let s = sandbox();
    refused(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"~root/.bashrc\"\n",
        &[],
        "`~root` names another user's home directory",
    );
}

#[test]
fn environment_expansion_cannot_smuggle_paths_out() {
    let s = sandbox();
    let evil = [("EVIL_ABS", "/etc"), ("EVIL_UP", "../../etc")];
    refused(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"$EVIL_ABS/x\"\n",
        &evil,
        "is outside the home directory",
    );
    refused(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"~/${EVIL_UP}/x\"\n",
        &evil,
        "is outside the home directory",
    );
    refused(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"$HOME/../x\"\n",
        &evil,
        "is outside the home directory",
    );
    refused(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"${UNSET_FOR_SURE}/x\"\n",
        &evil,
        "`UNSET_FOR_SURE` is not set",
    );
}

#[test]
fn targets_cannot_point_into_or_over_the_repository() {
    let s = sandbox();
    let repo = s.repo().display().to_string();
    refused(
        &s,
        &format!("[[link]]\nsource = \"a\"\ntarget = \"{repo}/b\"\nallow_outside_home = true\n"),
        &[],
        "inside the repository",
    );
    refused(
        &s,
        &format!("[[link]]\nsource = \"a\"\ntarget = \"{repo}\"\nallow_outside_home = true\n"),
        &[],
        "repository",
    );
    refused(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"~\"\n",
        &[],
        "home directory itself",
    );
}

/// The peers' `force` deleting the repository through a link: a target whose real place is
/// the repository (`~/al/dots` with `al -> .` and the repository in `~/dots`) is refused, and
/// `overwrite` removes nothing.
#[test]
fn a_target_that_is_really_the_repository_is_refused() {
    let s = sandbox();
    s.home_link("al", "..");
    refused(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"~/al/repo\"\nallow_outside_home = true\n",
        &[],
        "(really",
    );
    s.run_env(&["apply", "--on-conflict", "overwrite"], &[])
        .stderr_has(&format!(
            "would replace the repository {}",
            s.repo().display()
        ));
    // A repository in the home, as many are.
    let dots = s.home().join("dots");
    crate::common::write(&dots.join("f"), "f");
    crate::common::write(
        &dots.join("dotlink.toml"),
        "[[link]]\nsource = \"f\"\ntarget = \"~/al/home/dots\"\n",
    );
    let before = s.whole_tree();
    let manifest = dots.join("dotlink.toml");
    s.run(&[
        "-m",
        manifest.to_str().unwrap(),
        "apply",
        "--on-conflict",
        "overwrite",
    ])
    .code(2)
    .stderr_has("dotlink.toml:3:10: target ~/al/home/dots")
    .stderr_has(&format!("would replace the repository {}", dots.display()));
    assert_eq!(s.whole_tree(), before);
}

/// The peers' `force` removing what a link leads through, here the home itself: spelled
/// through a symlinked directory, as a directory above it, or at the symlink `$HOME` passes
/// through, a target that would replace the home is refused whatever the opt-ins, and
/// `overwrite` removes nothing.
#[test]
fn the_home_directory_is_never_replaced_whatever_its_spelling() {
    let s = sandbox();
    s.home_file(".precious", "precious");
    let root = s.path();
    let alias = root.join("alias");
    symlink(&root, &alias).unwrap();
    let outside = |target: &std::path::Path| {
        format!(
            "[[link]]\nsource = \"a\"\ntarget = \"{}\"\nallow_outside_home = true\n",
            target.display()
        )
    };
    // The home itself, through another name of the directory above it: found by the planner.
    let home_by_alias = alias.join("home");
    refused(
        &s,
        &outside(&home_by_alias),
        &[],
        "is the home directory itself",
    );
    s.run_env(&["apply", "--on-conflict", "overwrite"], &[])
        .stderr_has(&format!("(really {})", s.home().display()));
    // A directory holding the home, as spelled and through a symlink that leads above it.
    refused(&s, &outside(&root), &[], "holds the home directory");
    let up = root.join("up");
    symlink(root.parent().unwrap(), &up).unwrap();
    let deeper = s.home().join("deeper");
    std::fs::create_dir(&deeper).unwrap();
    let above_deeper = up.join(root.file_name().unwrap()).join("home");
    refused(
        &s,
        &outside(&above_deeper),
        &[("HOME", deeper.to_str().unwrap())],
        "is a directory that holds the home directory",
    );
    // HOME set through a symlink: that link is the home as programs find it.
    let home_link = root.join("home-link");
    symlink(s.home(), &home_link).unwrap();
    let env = [("HOME", home_link.to_str().unwrap())];
    refused(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"$HOME\"\n",
        &env,
        "is the home directory itself",
    );
    refused(
        &s,
        &outside(&alias.join("home-link")),
        &env,
        &format!(
            "is a symlink that HOME ({}) passes through to the home directory",
            home_link.display()
        ),
    );
    // Inside the home, through the same links, targets are ordinary ones.
    s.manifest(&format!(
        "[[link]]\nsource = \"a\"\ntarget = \"{}\"\n",
        home_by_alias.join(".a").display()
    ));
    s.run_env(&["apply"], &env).code(0);
    assert_eq!(
        std::fs::read_to_string(s.home().join(".a")).unwrap(),
        "a",
        "linked in the home"
    );
    assert_eq!(
        std::fs::read_to_string(s.home().join(".precious")).unwrap(),
        "precious"
    );
}

/// `..` in `HOME`, `XDG_STATE_HOME` and `--manifest` means what it means to the kernel: after
/// a symlink, the parent of where the link leads. Taken by its spelling, the state directory
/// `~/x/../st` was not `~/st` to the checks, and `overwrite` replaced it; `HOME=lnk/../home`
/// was another home than the one every program uses.
#[test]
fn a_dotdot_in_the_environment_means_what_it_means_to_the_kernel() {
    let s = sandbox();
    fs::create_dir(s.home().join("x")).unwrap();
    crate::common::write(&s.home().join("st/dotlink/keep"), "precious");
    s.source("d/a", "a");
    let state = format!("{}/x/../st", s.home().display());
    let env = [("XDG_STATE_HOME", state.as_str())];
    refused(
        &s,
        "[[link]]\nsource = \"d\"\ntarget = \"~/st\"\n",
        &env,
        "would replace or write into dotlink's own state directory (~/st/dotlink)",
    );
    // A `..` after a directory that is not there leads nowhere.
    let nowhere = format!("{}/missing/../st", s.home().display());
    s.run_env(&["status"], &[("XDG_STATE_HOME", nowhere.as_str())])
        .code(2)
        .stderr_has("XDG_STATE_HOME is")
        .stderr_has("the directory before its `..` does not exist");
    // HOME through `lnk/../..`, with `lnk` leading into the home: by the spelling, a
    // directory beside the sandbox; to the kernel, the home.
    let root = s.path();
    fs::create_dir(s.home().join("deep")).unwrap();
    symlink(s.home().join("deep"), root.join("lnk")).unwrap();
    let home = format!("{}/lnk/../../home", root.display());
    refused(
        &s,
        &format!(
            "[[link]]\nsource = \"a\"\ntarget = \"{}\"\nallow_outside_home = true\n",
            s.home().display()
        ),
        &[("HOME", home.as_str())],
        "the home directory itself",
    );
    // And `--manifest` through `lnk/..` names the manifest the kernel finds.
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    let manifest = format!("{}/lnk/../../repo/dotlink.toml", root.display());
    s.run(&["-m", &manifest, "plan"]).code(0).stdout_has("~/.a");
}

#[test]
fn backups_cannot_be_sent_out_of_the_home_directory() {
    let s = sandbox();
    refused(
        &s,
        "[defaults]\nbackup_dir = \"/tmp/leak\"\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n",
        &[],
        "backup_dir",
    );
    refused(
        &s,
        "[defaults]\nbackup_dir = \"$EVIL/leak\"\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n",
        &[("EVIL", "/tmp")],
        "backup_dir",
    );
}

#[test]
fn the_explicit_opt_in_is_per_entry() {
    let s = sandbox();
    let outside = s.path().join("outside/link").display().to_string();
    s.manifest(&format!(
        "[[link]]\nsource = \"a\"\ntarget = \"{outside}\"\nallow_outside_home = true\n[[link]]\nsource = \"a\"\ntarget = \"{outside}2\"\n"
    ));
    s.run(&["apply"])
        .code(2)
        .stderr_has("dotlink.toml:7:10")
        .stderr_has("allow_outside_home = true");
}
