//! Edges where data used to be lost or stranded (issue #10): each test is a reproduction on a
//! real temporary tree.

use crate::common::Sandbox;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

fn vimrc() -> Sandbox {
    let s = Sandbox::new();
    s.source("vimrc", "repo vimrc")
        .manifest("[[link]]\nsource = \"vimrc\"\ntarget = \"~/.vimrc\"\n");
    s
}

/// Replace whatever is at `~/NAME` with the user's own symlink to `~/my-vimrc`.
fn users_own_link(s: &Sandbox, name: &str) {
    s.home_file("my-vimrc", "mine");
    let at = s.home().join(name);
    fs::remove_file(&at).unwrap();
    symlink(s.home().join("my-vimrc"), &at).unwrap();
}

#[test]
fn a_users_own_symlink_over_a_managed_one_is_a_conflict() {
    let s = vimrc();
    s.run(&["apply"]).code(0);
    users_own_link(&s, ".vimrc");
    let before = s.home_tree();
    s.run(&["status"])
        .code(1)
        .stdout_has("conflict")
        .stdout_has("a symlink dotlink did not make is in the way");
    s.run(&["apply"])
        .code(1)
        .stderr_has("1 conflict; nothing was changed");
    assert_eq!(s.home_tree(), before);
    // Under backup it is kept, as any foreign link would be.
    s.run(&["apply", "--on-conflict", "backup"]).code(0);
    let set = &s.backup_sets()[0];
    assert_eq!(
        fs::read_link(set.join(".vimrc")).unwrap(),
        s.home().join("my-vimrc")
    );
}

#[test]
fn restore_leaves_a_users_own_symlink_over_a_managed_one() {
    let s = vimrc();
    s.home_file(".vimrc", "original");
    s.run(&["apply", "--on-conflict", "backup"]).code(0);
    users_own_link(&s, ".vimrc");
    s.run(&["restore"])
        .code(1)
        .stderr_has("~/.vimrc has changed since the backup");
    assert_eq!(
        fs::read_link(s.home().join(".vimrc")).unwrap(),
        s.home().join("my-vimrc")
    );
    s.run(&["restore", "--list"]).code(0).stdout_has("~/.vimrc");
}

#[test]
fn a_users_own_link_where_an_orphan_was_is_never_pruned() {
    let s = vimrc();
    s.run(&["apply"]).code(0);
    users_own_link(&s, ".vimrc");
    s.manifest("");
    s.run(&["apply"])
        .code(0)
        .stderr_has("~/.vimrc is no longer dotlink's: it was changed since dotlink made it");
    assert_eq!(
        fs::read_link(s.home().join(".vimrc")).unwrap(),
        s.home().join("my-vimrc")
    );
}

#[test]
fn a_symlinked_directory_leading_out_of_home_is_refused() {
    let s = Sandbox::new();
    let outside = s.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("important.txt"), "precious").unwrap();
    s.home_link("shared", &outside);
    s.source("evil", "evil").manifest(
        "[[link]]\nsource = \"evil\"\ntarget = \"~/shared/important.txt\"\non_conflict = \"overwrite\"\n",
    );
    let before = s.whole_tree();
    s.run(&["apply"])
        .code(2)
        .stderr_has("dotlink.toml:3:10: target ~/shared/important.txt is really")
        .stderr_has("through the symlink ~/shared, outside the home directory")
        .stderr_has("allow_outside_home = true");
    assert_eq!(s.whole_tree(), before);
    // With the opt-in, it is an ordinary target (and the policy applies).
    s.manifest("[[link]]\nsource = \"evil\"\ntarget = \"~/shared/important.txt\"\nallow_outside_home = true\n");
    s.run(&["apply"])
        .code(1)
        .stdout_has("a regular file is in the way");
    assert_eq!(
        fs::read_to_string(outside.join("important.txt")).unwrap(),
        "precious"
    );
}

#[test]
fn no_target_may_hold_dotlinks_own_backups() {
    let s = Sandbox::new();
    s.source("bk/keep", "k").source("x", "x");
    s.home_file(".x", "private");
    let backups = s.backups();
    s.manifest(&format!(
        "[[link]]\nsource = \"bk\"\ntarget = \"{}\"\nallow_outside_home = true\n[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\non_conflict = \"backup\"\n",
        backups.display()
    ));
    let before = s.whole_tree();
    s.run(&["apply"])
        .code(2)
        .stderr_has("would replace or write into dotlink's own backup directory")
        .stderr_has("backup_dir");
    assert_eq!(s.whole_tree(), before, "nothing lands in the repository");
}

/// `dotlink` with XDG_STATE_HOME unset: its state goes under ~/.local/state.
fn run_without_xdg_state(s: &Sandbox, args: &[&str]) -> crate::common::Run {
    let output = s
        .command()
        .env_remove("XDG_STATE_HOME")
        .args(args)
        .output()
        .unwrap();
    crate::common::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn no_target_may_replace_the_directory_that_holds_dotlinks_state() {
    let s = Sandbox::new();
    s.source("local/share/x", "x");
    s.home_file(".local/keep", "mine");
    s.home_file(".zshrc", "old zshrc");
    s.source("zshrc", "z");
    for policy in ["backup", "overwrite"] {
        s.manifest(&format!(
            "[[link]]\nsource = \"local\"\ntarget = \"~/.local\"\non_conflict = \"{policy}\"\n[[link]]\nsource = \"zshrc\"\ntarget = \"~/.zshrc\"\non_conflict = \"backup\"\n"
        ));
        let before = s.whole_tree();
        let run = run_without_xdg_state(&s, &["apply"]);
        assert_eq!(run.code, 2, "{policy}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "target ~/.local would replace or write into dotlink's own state directory"
            ),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("XDG_STATE_HOME"), "{}", run.stderr);
        assert_eq!(s.whole_tree(), before, "{policy} changed something");
    }
}

#[test]
fn dotlinks_state_never_goes_into_the_repository() {
    let s = Sandbox::new();
    s.source("local/share/x", "x").source("zshrc", "z");
    // ~/.local is already a link into the repository (made by hand, or by Stow).
    s.home_link(".local", s.repo().join("local"));
    s.manifest("[[link]]\nsource = \"zshrc\"\ntarget = \"~/.zshrc\"\n");
    s.home_file(".bashrc", "b");
    let before = s.whole_tree();
    // Every command that reads the manifest refuses, whether it writes (checked before it
    // opens the state to write) or only looks (checked by the planner).
    let commands: [&[&str]; 12] = [
        &["apply"],
        &["apply", "--dry-run"],
        &["plan"],
        &["status"],
        &["diff"],
        &["clean"],
        &["clean", "--dry-run"],
        &["adopt", "~/.bashrc"],
        &["adopt", "--dry-run", "~/.bashrc"],
        &["adopt", "--dry-run", "--as", "rc", "~/.bashrc", "~/.zshrc"],
        &["unlink"],
        &["restore"],
    ];
    for args in commands {
        let run = run_without_xdg_state(&s, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        // Said first, before anything about the state or the arguments.
        assert!(
            run.stderr.starts_with("error: dotlink's state directory")
                && run.stderr.contains("is inside the repository"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(
            s.whole_tree(),
            before,
            "{args:?}: nothing lands in the repository"
        );
    }
}

#[test]
fn a_state_directory_in_the_repository_never_holds_a_lock_file_even_for_a_moment() {
    // `apply` takes the lock before it walks the repository where that creates nothing but
    // the lock file; never in a state directory it is about to refuse, as one in the
    // repository (an older dotlink's, say, through `~/.local` linked into it).
    let s = Sandbox::new();
    s.source("local/state/dotlink/manifests", "")
        .source("zshrc", "z");
    s.home_link(".local", s.repo().join("local"));
    s.manifest("[[link]]\nsource = \"zshrc\"\ntarget = \"~/.zshrc\"\n");
    s.home_file(".bashrc", "b");
    let before = s.whole_tree();
    let trace = tempfile::tempdir().unwrap();
    let out = trace.path().join("strace.out");
    let strace = crate::peers::tool("strace");
    // Every command that writes, including those that take the lock only once the manifest
    // is expanded (a lock file is removed when let go, so only a trace shows it was there).
    let commands: [&[&str]; 5] = [
        &["apply"],
        &["clean"],
        &["adopt", "~/.bashrc"],
        &["unlink"],
        &["restore"],
    ];
    for args in commands {
        let status = s
            .command_under(
                &strace,
                &["-f", "-e", "trace=%file", "-o", out.to_str().unwrap(), "--"],
            )
            .env_remove("XDG_STATE_HOME")
            .args(args)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(2), "{args:?}");
        let opened = fs::read_to_string(&out).unwrap();
        let lock = opened.lines().find(|l| l.contains("dotlink/lock"));
        assert_eq!(
            lock, None,
            "{args:?}: the lock file was opened in the repository"
        );
        assert_eq!(
            s.whole_tree(),
            before,
            "{args:?}: nothing lands in the repository"
        );
    }
}

#[test]
fn two_spellings_of_one_target_are_one_target() {
    let s = Sandbox::new();
    s.source("app.conf", "conf");
    s.home_file(".config/other", "o");
    s.home_link("cfg", ".config");
    s.manifest("[[link]]\nsource = \"app.conf\"\ntarget = \"~/.config/app.conf\"\n");
    s.run(&["apply"]).code(0);
    let linked = s.home_tree();
    s.manifest("[[link]]\nsource = \"app.conf\"\ntarget = \"~/cfg/app.conf\"\n");
    s.run(&["apply"])
        .code(0)
        .stdout_has("Nothing to do: 1 link up to date.");
    assert_eq!(s.home_tree(), linked, "the link is still there");
    s.run(&["status"]).code(0);
    // Both spellings at once are one target declared twice.
    s.manifest("[[link]]\nsource = \"app.conf\"\ntarget = \"~/cfg/app.conf\"\n[[link]]\nsource = \"app.conf\"\ntarget = \"~/.config/app.conf\"\n");
    s.run(&["plan"]).code(2).stderr_has("is claimed twice");
}

#[test]
fn a_symlinked_home_and_its_real_path_are_one_home() {
    let s = Sandbox::new();
    s.source("zshrc", "z").source("nvim/init.lua", "lua");
    s.manifest("[[link]]\nsource = \"zshrc\"\ntarget = \"~/.zshrc\"\n[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\n");
    let alias = s.path().join("home-alias");
    symlink(s.home(), &alias).unwrap();
    let alias = alias.to_str().unwrap().to_string();
    s.run_env(&["apply"], &[("HOME", &alias)]).code(0);
    let linked = s.home_tree();
    s.run(&["apply"])
        .code(0)
        .stdout_has("Nothing to do: 2 links up to date.");
    s.run_env(&["apply"], &[("HOME", &alias)])
        .code(0)
        .stdout_has("Nothing to do: 2 links up to date.");
    assert_eq!(s.home_tree(), linked);
    s.run(&["status"]).code(0);
    s.run(&["unlink"])
        .code(0)
        .stdout_has("Unlinked: 2 removed.");
}

/// A target spelled through a symlinked home (`$HOME/.x`, HOME a link to the real home) is in
/// the home by its real directory, not by where it leads: once linked it leads into the
/// repository, and `status`, `restore --list` and `restore` called it "outside the home
/// directory" (exit 2) until the manifest was edited.
#[test]
fn a_target_spelled_through_a_symlinked_home_stays_in_the_home_once_linked() {
    let s = Sandbox::new();
    s.source("x", "new x")
        .source("rc/bashrc", "b")
        .home_file(".x", "precious x");
    // The home itself under its other name too: the directory a glob links into.
    s.manifest("[[link]]\nsource = \"x\"\ntarget = \"$HOME/.x\"\non_conflict = \"backup\"\n[[link]]\nsource = \"rc/*\"\ntarget = \"$HOME/\"\nprefix = \".\"\n");
    let alias = s.path().join("home-alias");
    symlink(s.home(), &alias).unwrap();
    let alias = alias.to_str().unwrap().to_string();
    let home = [("HOME", alias.as_str())];
    s.run_env(&["apply"], &home)
        .code(0)
        .stdout_has("1 backed up");
    s.run_env(&["status"], &home).code(0);
    s.run_env(&["restore", "--list"], &home)
        .code(0)
        .stdout_has("~/.x");
    s.run_env(&["restore"], &home).code(0);
    assert_eq!(
        fs::read_to_string(s.home().join(".x")).unwrap(),
        "precious x"
    );
}

#[test]
fn moving_the_repository_is_not_an_event() {
    let s = Sandbox::new();
    s.source("zshrc", "z")
        .source("vimrc", "v")
        .source("old", "o");
    s.manifest("[[link]]\nsource = \"zshrc\"\ntarget = \"~/.zshrc\"\n[[link]]\nsource = \"vimrc\"\ntarget = \"~/.vimrc\"\n[[link]]\nsource = \"old\"\ntarget = \"~/.old\"\n");
    s.run(&["apply"]).code(0);
    let moved = s.path().join("src/dotfiles");
    fs::create_dir_all(moved.parent().unwrap()).unwrap();
    fs::rename(s.repo(), &moved).unwrap();
    let manifest = moved.join("dotlink.toml");
    // status says what happened, and calls the links wrong (to relink), not someone else's.
    s.run_in(&moved, &["status"], &[])
        .code(1)
        .stderr_has("the repository moved from")
        .stdout_has("wrong")
        .stdout_lacks("conflict");
    s.run_in(&moved, &["apply"], &[])
        .code(0)
        .stderr_has("the repository moved from")
        .stdout_has("3 relinked");
    s.run_in(&moved, &["status"], &[]).code(0);
    assert_eq!(
        fs::read_to_string(s.home().join(".zshrc")).unwrap(),
        "z",
        "the link leads to the moved repository"
    );
    // Pruning and unlink keep working from the new place.
    fs::write(&manifest, "[[link]]\nsource = \"zshrc\"\ntarget = \"~/.zshrc\"\n[[link]]\nsource = \"vimrc\"\ntarget = \"~/.vimrc\"\n").unwrap();
    s.run_in(&moved, &["apply"], &[])
        .code(0)
        .stdout_has("1 pruned");
    assert!(!s.home().join(".old").exists());
    s.run_in(&moved, &["unlink"], &[])
        .code(0)
        .stdout_has("2 removed");
    assert!(!s.home().join(".zshrc").exists() && !s.home().join(".vimrc").exists());
}

#[test]
fn adopt_keeps_the_manifests_mode_and_writes_through_a_symlinked_manifest() {
    use std::os::unix::fs::PermissionsExt;
    let s = Sandbox::new();
    s.source("hosts/laptop.toml", "# the laptop\n");
    fs::set_permissions(
        s.repo().join("hosts/laptop.toml"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    symlink("hosts/laptop.toml", s.repo().join("dotlink.toml")).unwrap();
    s.home_file(".gitconfig", "[user]\n");
    let gitconfig = s.home().join(".gitconfig");
    s.run(&["adopt", gitconfig.to_str().unwrap()]).code(0);
    let manifest = s.repo().join("dotlink.toml");
    assert_eq!(
        fs::read_link(&manifest).unwrap(),
        Path::new("hosts/laptop.toml"),
        "the manifest is still a symlink"
    );
    let real = s.repo().join("hosts/laptop.toml");
    let text = fs::read_to_string(&real).unwrap();
    assert!(text.starts_with("# the laptop\n") && text.contains("target = \"~/.gitconfig\""));
    assert_eq!(
        fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o644
    );
    s.run(&["status"]).code(0);
}

#[test]
fn adopt_names_exactly_the_adopted_path_whatever_its_characters() {
    let s = Sandbox::new();
    s.manifest("");
    let names = [".cost$USER", ".a$$b", "~tilde", ".q\"uote'"];
    for name in names {
        s.home_file(name, name);
    }
    let paths: Vec<String> = names
        .iter()
        .map(|n| s.home().join(n).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["adopt"];
    args.extend(paths.iter().map(String::as_str));
    s.run(&args).code(0).stdout_has("Adopted: 4");
    // A `{` would make the source a glob: it gets a plain place with --as, and its target is
    // still exactly its own name.
    let braces = s.home().join(".x${HOME}");
    fs::write(&braces, ".x${HOME}").unwrap();
    s.run(&["adopt", braces.to_str().unwrap()])
        .code(2)
        .stderr_has("choose a plain name with --as");
    s.run(&["adopt", "--as", "xhome", braces.to_str().unwrap()])
        .code(0);
    for name in names.into_iter().chain([".x${HOME}"]) {
        let at = s.home().join(name);
        assert!(at.is_symlink(), "{name} was not linked back");
        assert_eq!(fs::read_to_string(&at).unwrap(), name, "{name}");
    }
    s.run(&["status"]).code(0).stdout_lacks("missing");
    // The manifest says exactly these paths: a new machine links them the same way.
    s.run(&["unlink"]).code(0);
    s.run(&["apply"]).code(0).stdout_has("5 created");
}

#[test]
fn a_file_name_cannot_forge_lines_and_json_keeps_its_exact_bytes() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let s = Sandbox::new();
    let forged = "a\n  + ~/.forged → evil";
    s.source(&format!("odd/{forged}"), "x");
    crate::common::write(
        &s.repo().join("odd").join(OsStr::from_bytes(b"caf\xe9")),
        "y",
    );
    s.manifest("[[link]]\nsource = \"odd\"\ntarget = \"~/odd\"\nrecursive = true\n");
    for args in [&["plan"][..], &["apply"], &["status", "-v"]] {
        let run = s.run(args);
        assert!(
            !run.stdout
                .lines()
                .any(|l| l.trim_start().starts_with("+ ~/.forged")),
            "{args:?} printed a forged line:\n{}",
            run.stdout
        );
        assert!(run.stdout.contains("a\\n  + ~/.forged"), "{}", run.stdout);
        assert!(run.stdout.contains("caf\\xe9"), "{}", run.stdout);
    }
    let json = s.run(&["status", "--json"]).json();
    let odd = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"].as_str().unwrap().ends_with("caf\u{fffd}"))
        .expect("the non-UTF-8 entry");
    let bytes: Vec<u8> = odd["target_bytes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(
        bytes,
        s.home()
            .join("odd")
            .join(OsStr::from_bytes(b"caf\xe9"))
            .as_os_str()
            .as_bytes()
    );
    let plain = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"].as_str().unwrap().contains("forged"))
        .unwrap();
    assert!(
        plain.get("target_bytes").is_none(),
        "only for names that are not UTF-8"
    );
}

#[test]
fn a_file_where_a_directory_must_be_is_worded_as_the_policies_treat_it() {
    let s = Sandbox::new();
    s.source("a", "a");
    s.home_file(".f", "user f");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.f/a\"\n");
    s.run(&["plan"])
        .code(1)
        .stdout_has(
            "~/.f is a file, not a directory, but a directory is needed there (policy fail)",
        )
        .stdout_lacks("cannot be resolved")
        .stderr_has("choose a policy: --on-conflict backup");
    s.run(&["plan", "--on-conflict", "backup"])
        .code(0)
        .stdout_has("but a directory is needed there (backup to");
    s.run(&["apply", "--on-conflict", "backup"]).code(0);
    assert!(s.home().join(".f/a").is_symlink());
    s.run(&["restore", "--list"]).code(0).stdout_has("~/.f");
}

#[test]
fn the_hint_offers_a_policy_only_where_one_helps() {
    let s = Sandbox::new();
    s.source("sub/x", "x").source("y", "y").source("z", "z");
    // ~/.r is a link into the repository: no policy writes below it.
    s.home_link(".r", s.repo().join("sub"));
    s.manifest("[[link]]\nsource = \"y\"\ntarget = \"~/.r/y\"\n");
    s.run(&["apply"])
        .code(1)
        .stdout_has("(cannot be resolved)")
        .stderr_has("no policy resolves these")
        .stderr_lacks("--on-conflict");
    // With a conflict a policy does resolve, the hint says both.
    s.home_file(".z", "user z");
    s.manifest("[[link]]\nsource = \"y\"\ntarget = \"~/.r/y\"\n[[link]]\nsource = \"z\"\ntarget = \"~/.z\"\n");
    s.run(&["apply"])
        .code(1)
        .stderr_has("1 of them no policy resolves")
        .stderr_has("--on-conflict backup");
}

#[test]
fn a_skipped_entry_for_another_machine_keeps_its_target_as_written() {
    let s = Sandbox::new();
    s.source("a", "a").source("w", "w");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"w\"\ntarget = \"$DOTLINK_TEST_UNSET_WORK/w\"\nwhen = { os = \"freebsd\" }\n");
    s.run(&["apply"]).code(0);
    let json = s.run(&["status", "--json"]).json();
    let entries = json["entries"].as_array().unwrap();
    let skipped = entries.iter().find(|e| e["state"] == "skipped").unwrap();
    assert_eq!(skipped["target"], "$DOTLINK_TEST_UNSET_WORK/w");
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .starts_with("not on this machine")
    );
    for e in entries.iter().filter(|e| e["state"] != "skipped") {
        assert!(e["target"].as_str().unwrap().starts_with('/'), "{e}");
    }
}

#[test]
fn temporaries_of_a_run_killed_mid_write_are_removed_and_nothing_else() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    let state = s.state().join("dotlink");
    let backups = s.backups();
    fs::create_dir_all(&backups).unwrap();
    // A run with pid 4242 was killed while writing its state file and a backup index: its
    // lock file (unlocked now) and its temporaries are left. It had taken over from run 4343,
    // killed too, and was killed before it removed that one's temporary.
    fs::write(state.join("lock"), "4242 4343").unwrap();
    let dead = [
        state.join(".repo-0123.json.dotlink-tmp-4242-Ab12Cd"),
        backups.join(".20260101T000000Z.json.dotlink-tmp-4242-Zz9"),
        state.join(".manifests.dotlink-tmp-4343-Qq7"),
    ];
    let kept = [
        state.join(".repo-0123.json.dotlink-tmp-777-Ab12Cd"),
        backups.join("notes.txt"),
    ];
    for path in dead.iter().chain(&kept) {
        fs::write(path, "partial").unwrap();
    }
    s.run(&["apply"]).code(0);
    for path in &dead {
        assert!(!path.exists(), "{} was left", path.display());
    }
    for path in &kept {
        assert!(path.exists(), "{} was removed", path.display());
    }
}

#[test]
fn a_target_written_between_planning_and_acting_is_never_replaced() {
    // ~/.b is dotlink's link (a relink) and ~/.c a file in the way (backed up): each is
    // replaced by a user's file just before the run reaches it.
    for target in [".b", ".c"] {
        let s = Sandbox::new();
        s.source("b1", "b1").source("b2", "b2").source("c", "c");
        s.manifest("[[link]]\nsource = \"b1\"\ntarget = \"~/.b\"\n");
        s.run(&["apply"]).code(0);
        s.home_file(".c", "user c");
        s.manifest("[[link]]\nsource = \"b2\"\ntarget = \"~/.b\"\n[[link]]\nsource = \"c\"\ntarget = \"~/.c\"\non_conflict = \"backup\"\n");
        let path = s.home().join(target);
        let at = match target {
            ".b" => "0",
            _ => "4",
        };
        let run = s.run_env(
            &["apply"],
            &[
                ("DOTLINK_FAULT_WRITE_AT", at),
                ("DOTLINK_FAULT_WRITE_PATH", path.to_str().unwrap()),
            ],
        );
        run.code(1)
            .stderr_has(&format!("{target}: "))
            .stderr_has("changed since planning");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "written since planning",
            "{target} was replaced"
        );
        let leftovers = s.leftovers();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        // The next run sees it as it is now: a file in the way, kept by the policy.
        s.run(&["apply", "--on-conflict", "backup"]).code(0);
        s.run(&["restore", "--list"])
            .code(0)
            .stdout_has(&format!("~/{target}"));
    }
}

#[test]
fn a_backup_never_goes_where_something_already_is() {
    // A target outside the home and one at ~/@root/… would share one place in the set.
    let s = Sandbox::new();
    let out = s.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("x"), "precious outside").unwrap();
    let twin = format!("@root{}", out.join("x").display());
    s.home_file(&twin, "precious inside");
    s.source("a", "a").source("b", "b");
    s.manifest(&format!(
        "[defaults]\non_conflict = \"backup\"\n[[link]]\nsource = \"a\"\ntarget = \"{}\"\nallow_outside_home = true\n[[link]]\nsource = \"b\"\ntarget = \"~/{twin}\"\n",
        out.join("x").display()
    ));
    s.run(&["apply"]).code(0).stdout_has("2 backed up");
    let kept = s.contents_anywhere();
    for precious in ["precious outside", "precious inside"] {
        assert!(
            kept.iter().any(|v| v.ends_with(precious)),
            "{precious} lost"
        );
    }
    s.run(&["restore"]).code(0).stdout_has("Restored: 2 of 2");
    assert_eq!(
        fs::read_to_string(out.join("x")).unwrap(),
        "precious outside"
    );
    assert_eq!(
        fs::read_to_string(s.home().join(&twin)).unwrap(),
        "precious inside"
    );
}

/// A file outside the home, `out/dir/y`, and a directory `~/@root<out/dir>` holding `keep`,
/// both in the way of links under `backup`: older dotlinks filed the directory's backup where
/// the file's would go inside it. Returns `out/dir` and the directory's name below the home.
fn nested_backup_places(s: &Sandbox) -> (std::path::PathBuf, String) {
    let out = s.path().join("out/dir");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("y"), "precious outside").unwrap();
    let twin = format!("@root{}", out.display());
    s.home_file(&format!("{twin}/keep"), "precious inside");
    s.source("a", "a").source("b", "b");
    nested_backup_manifest(s, &out, &twin, "");
    (out, twin)
}

/// Both files of [`nested_backup_places`] are back where they were.
fn nested_backups_are_back(s: &Sandbox, out: &Path, twin: &str) {
    assert_eq!(
        fs::read_to_string(out.join("y")).unwrap(),
        "precious outside"
    );
    assert_eq!(
        fs::read_to_string(s.home().join(twin).join("keep")).unwrap(),
        "precious inside"
    );
}

/// The manifest of [`nested_backup_places`], with `more` entries.
fn nested_backup_manifest(s: &Sandbox, out: &Path, twin: &str, more: &str) {
    s.manifest(&format!(
        "[defaults]\non_conflict = \"backup\"\n[[link]]\nsource = \"a\"\ntarget = \"~/{twin}\"\n[[link]]\nsource = \"b\"\ntarget = \"{}\"\nallow_outside_home = true\n{more}",
        out.join("y").display()
    ));
}

/// A target outside the home and a directory at `~/@root/…` above where its backup would go:
/// the second backup was filed inside the first (or, on several threads, refused with a note
/// calling the other backup "a copy"), and `restore` put it in the wrong place and failed.
/// Only targets outside the home are under `@root/` in a set now.
#[test]
fn a_backup_is_never_filed_inside_another() {
    for threads in ["1", "2"] {
        let s = Sandbox::new();
        let (out, twin) = nested_backup_places(&s);
        let threads = [("DOTLINK_APPLY_THREADS", threads)];
        s.run_env(&["apply"], &threads)
            .code(0)
            .stdout_has("2 backed up");
        s.run(&["restore"]).code(0).stdout_has("Restored: 2 of 2");
        nested_backups_are_back(&s, &out, &twin);
        assert!(
            !s.home().join(&twin).join("y").exists(),
            "y restored inside ~/{twin}"
        );
    }
}

/// A set an older dotlink filed `~/@root/…` in under `@root/`, interrupted and resumed by this
/// one: a target outside the home whose place is inside that backup goes apart from it (the
/// first name below the set takes the suffix), never where another backup of the same run
/// goes (`~/@root.2`), and `restore` gives them all back.
#[test]
fn a_resumed_set_never_files_a_backup_inside_an_older_one() {
    for n in 0.. {
        assert!(
            n < 40,
            "no fault point left the directory backed up and the file not"
        );
        let s = Sandbox::new();
        let (out, twin) = nested_backup_places(&s);
        let one = ("DOTLINK_APPLY_THREADS", "1");
        let killed = s.run_env(&["apply"], &[one, ("DOTLINK_FAULT_AFTER", &n.to_string())]);
        assert_ne!(killed.code, 0, "the run has more than {n} fault points");
        // Killed once the directory is in the set and the file is not.
        let Some(set) = fs::read_dir(s.backups())
            .ok()
            .and_then(|d| d.flatten().map(|e| e.path()).find(|p| p.is_dir()))
        else {
            continue;
        };
        let new_style = set.join(format!("@{twin}"));
        if !new_style.join("keep").exists()
            || !fs::symlink_metadata(out.join("y")).unwrap().is_file()
        {
            continue;
        }
        // As an older dotlink left it: `~/@root/…` under `@root/`, in the set and the journal.
        fs::rename(set.join("@@root"), set.join("@root")).unwrap();
        let journal = s.journal();
        let text = fs::read_to_string(&journal)
            .unwrap()
            .replace("/@@root/", "/@root/");
        fs::write(&journal, text).unwrap();
        // And a file whose place is the one a suffix on the first name would give `y`.
        s.source("c", "c").home_file("@root.2", "precious at2");
        let more = "[[link]]\nsource = \"c\"\ntarget = \"~/@root.2\"\n";
        nested_backup_manifest(&s, &out, &twin, more);
        s.run_env(&["apply"], &[one]).code(0);
        assert_eq!(
            fs::read_to_string(set.join(&twin).join("keep")).unwrap(),
            "precious inside"
        );
        assert!(
            !set.join(&twin).join("y").exists(),
            "y was filed inside ~/{twin}'s backup"
        );
        s.run(&["restore"]).code(0);
        nested_backups_are_back(&s, &out, &twin);
        assert_eq!(
            fs::read_to_string(s.home().join("@root.2")).unwrap(),
            "precious at2"
        );
        return;
    }
}

/// A name as long as a name may be, starting with `@`, keeps its length in the backup set.
#[test]
fn a_longest_name_starting_with_an_at_sign_is_backed_up() {
    let s = Sandbox::new();
    let name = format!("@{}", "x".repeat(254));
    s.source("a", "a").home_file(&name, "precious");
    s.manifest(&format!(
        "[[link]]\nsource = \"a\"\ntarget = \"~/{name}\"\non_conflict = \"backup\"\n"
    ));
    s.run(&["apply"]).code(0).stdout_has("1 backed up");
    s.run(&["restore"]).code(0).stdout_has("Restored: 1 of 1");
    assert_eq!(
        fs::read_to_string(s.home().join(&name)).unwrap(),
        "precious"
    );
}

#[test]
fn a_file_rewritten_after_a_killed_backup_run_is_never_lost() {
    let mut rewritten = 0;
    for n in 0..12 {
        let s = Sandbox::new();
        s.source("zrc", "Z");
        s.home_file(".zrc", "precious v1");
        s.manifest("[defaults]\non_conflict = \"backup\"\n[[link]]\nsource = \"zrc\"\ntarget = \"~/.zrc\"\n");
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", &n.to_string())]);
        if run.code == 0 {
            break;
        }
        // Once dotlink's link stands there, a user (or a program) writes the file anew before
        // the next run.
        let zrc = s.home().join(".zrc");
        if !zrc.is_symlink() {
            continue;
        }
        fs::remove_file(&zrc).unwrap();
        fs::write(&zrc, "precious v2").unwrap();
        rewritten += 1;
        let next = s.run(&["apply"]);
        assert!(
            next.code == 0 || !next.stdout.contains("backed up ~/.zrc"),
            "{n}: reported as backed up and as failed\n{}{}",
            next.stdout,
            next.stderr
        );
        let kept = s.contents_anywhere();
        for precious in ["precious v1", "precious v2"] {
            assert!(
                kept.iter().any(|v| v.ends_with(precious)),
                "{n}: {precious} lost\n{}{}",
                next.stdout,
                next.stderr
            );
        }
        assert!(s.leftovers().is_empty(), "{n}: {:?}", s.leftovers());
    }
    assert!(rewritten > 0, "no run stopped after its link was in place");
}

/// dotlink's backup or state directory that is itself a symlink (`~/bk -> real`) keeps its
/// files where the link leads: a target replacing `~/real` is refused before anything is
/// written. It was not: the backup set and its index went into the repository through the new
/// link, `restore` found half of them, and `status` then refused the manifest.
#[test]
fn dotlinks_directories_that_are_symlinks_are_where_they_lead() {
    let s = Sandbox::new();
    s.source("c/a", "a").source("d/f", "f");
    s.home_file(".a", "precious a")
        .home_file("real/mine", "mine");
    s.home_link("bk", "real");
    s.manifest("[defaults]\nbackup_dir = \"~/bk\"\non_conflict = \"backup\"\n[[link]]\nsource = \"c/a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"d\"\ntarget = \"~/real\"\n");
    let before = s.whole_tree();
    s.run(&["apply"])
        .code(2)
        .stderr_has("target ~/real would replace or write into dotlink's own backup directory");
    assert_eq!(s.whole_tree(), before, "nothing was written");
    // The state directory the same way: XDG_STATE_HOME/dotlink a link to ~/real.
    let state = s.path().join("state-through-link");
    fs::create_dir(&state).unwrap();
    symlink(s.home().join("real"), state.join("dotlink")).unwrap();
    s.manifest("[[link]]\nsource = \"d\"\ntarget = \"~/real\"\non_conflict = \"backup\"\n");
    let before = s.whole_tree();
    s.run_env(&["apply"], &[("XDG_STATE_HOME", state.to_str().unwrap())])
        .code(2)
        .stderr_has("target ~/real would replace or write into dotlink's own state directory");
    assert_eq!(s.whole_tree(), before, "nothing was written");
    // A backup directory that is a link leading nowhere yet, to where a target is linked.
    s.source("backups/keep", "k")
        .source("zrc", "z")
        .home_file(".zrc", "precious zrc");
    s.home_link("bk-dangling", ".backups");
    s.manifest("[defaults]\nbackup_dir = \"~/bk-dangling\"\non_conflict = \"backup\"\n[[link]]\nsource = \"backups\"\ntarget = \"~/.backups\"\n[[link]]\nsource = \"zrc\"\ntarget = \"~/.zrc\"\n");
    let before = s.whole_tree();
    s.run(&["apply"])
        .code(2)
        .stderr_has("target ~/.backups would replace or write into dotlink's own backup directory");
    assert_eq!(s.whole_tree(), before, "nothing was written");
    // A backup directory that is a link into the repository: its files would go into git.
    s.home_link("bk-in-repo", s.repo().join("d"));
    s.manifest("[defaults]\nbackup_dir = \"~/bk-in-repo\"\non_conflict = \"backup\"\n[[link]]\nsource = \"c/a\"\ntarget = \"~/.a\"\n");
    let before = s.whole_tree();
    s.run(&["apply"])
        .code(2)
        .stderr_has("backup directory ~/bk-in-repo is inside the repository");
    assert_eq!(s.whole_tree(), before, "nothing was written");
}

/// A state directory that is a symlink leading nowhere is named as such, not "File exists",
/// and nothing is written.
#[test]
fn a_state_directory_that_leads_nowhere_says_so() {
    let s = Sandbox::new();
    s.source("x", "x");
    s.manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\n");
    let state = s.path().join("state-nowhere");
    fs::create_dir(&state).unwrap();
    symlink("nowhere", state.join("dotlink")).unwrap();
    let before = s.whole_tree();
    s.run_env(&["apply"], &[("XDG_STATE_HOME", state.to_str().unwrap())])
        .code(1)
        .stderr_has("dotlink is a symlink to nowhere, which is not a directory")
        .stderr_has("XDG_STATE_HOME");
    assert_eq!(s.whole_tree(), before, "nothing was written");
}

#[test]
fn dotlinks_directories_behind_a_chain_of_symlinks_are_out_of_harms_way() {
    let s = Sandbox::new();
    s.source("d/q", "q").source("zrc", "z");
    s.home_file(".local/state/keep", "k")
        .home_file(".local/share/keep", "k")
        .home_file(".zzsecret", "my secret");
    s.home_link(".st2", ".local/state")
        .home_link(".st3", ".st2");
    s.home_link(".bk2", ".local/share")
        .home_link(".bk3", ".bk2");
    let home = s.home();
    // The state directory is reached through ~/.st3 -> ~/.st2 -> ~/.local/state, and a target
    // would replace the link in the middle.
    s.manifest("[[link]]\nsource = \"d\"\ntarget = \"~/.st2\"\n[[link]]\nsource = \"zrc\"\ntarget = \"~/.zzsecret\"\n");
    let before = s.whole_tree();
    let state = home.join(".st3");
    s.run_env(
        &["apply", "--on-conflict", "backup"],
        &[("XDG_STATE_HOME", state.to_str().unwrap())],
    )
    .code(2)
    .stderr_has("would replace or write into dotlink's own state directory");
    assert_eq!(s.whole_tree(), before, "nothing was written");
    // The same for a backup directory behind a chain.
    s.manifest("[defaults]\nbackup_dir = \"~/.bk3/backups\"\n[[link]]\nsource = \"d\"\ntarget = \"~/.bk2\"\n[[link]]\nsource = \"zrc\"\ntarget = \"~/.zzsecret\"\n");
    let before = s.whole_tree();
    s.run(&["apply", "--on-conflict", "backup"])
        .code(2)
        .stderr_has("dotlink's own backup directory");
    assert_eq!(s.whole_tree(), before, "nothing was written");
}

/// A link already in place that spells the right path another way (`a//b`, a trailing `/`) is
/// up to date, and the state records its text byte for byte as it is on disk: that text is
/// what proves the link is dotlink's.
#[test]
fn an_up_to_date_link_spelled_another_way_is_recorded_as_it_is_spelled() {
    let s = Sandbox::new();
    s.source("a/.config/x/f1", "1").source("d/g", "4");
    s.manifest(
        "[[link]]\nsource = \"a\"\ntarget = \"~\"\nrecursive = true\n\
         [[link]]\nsource = \"d\"\ntarget = \"~/dd\"\n",
    );
    s.home_link(".config/x/f1", "../../../repo/a/.config//x/f1");
    s.home_link("dd", "../repo/d/");
    s.run(&["apply"]).code(0).stdout_has("2 links up to date");
    let state = fs::read_to_string(s.state_file()).unwrap();
    assert!(state.contains("../../../repo/a/.config//x/f1\n"), "{state}");
    assert!(state.contains("../repo/d/\n"), "{state}");
    s.run(&["status"]).code(0);
}

/// A link to a file whose text ends in `/` (or `/.`) leads nowhere: the kernel follows it only
/// to a directory. It is `wrong` and relinked, never `ok`; a directory's link so spelled is
/// fine. And a recorded link whose text on disk gained a slash is no longer proven dotlink's.
#[test]
fn a_link_to_a_file_spelled_as_a_directory_is_not_up_to_date() {
    let s = Sandbox::new();
    s.source("f1", "1").source("f2", "2").source("d/g", "4");
    s.manifest(
        "[[link]]\nsource = \"f1\"\ntarget = \"~/f1\"\n\
         [[link]]\nsource = \"f2\"\ntarget = \"~/f2\"\n\
         [[link]]\nsource = \"d\"\ntarget = \"~/dd\"\n",
    );
    s.home_link("f1", "../repo/f1/");
    s.home_link("f2", "../repo/f2/.");
    s.home_link("dd", "../repo/d/");
    let status = s.run(&["status"]);
    status
        .code(1)
        .stdout_has("1 ok, 2 wrong")
        .stdout_has("points to ")
        .stdout_has("/repo/f1/");
    s.run(&["apply"]).code(0).stdout_has("2 relinked");
    assert_eq!(fs::read_to_string(s.home().join("f1")).unwrap(), "1");
    assert_eq!(fs::read_to_string(s.home().join("f2")).unwrap(), "2");
    s.run(&["status"]).code(0);
    // dotlink's own link, given a trailing slash by someone else, is not dotlink's any more:
    // dropped from the manifest, it is left in place, not pruned.
    fs::remove_file(s.home().join("f1")).unwrap();
    symlink("../repo/f1/", s.home().join("f1")).unwrap();
    s.manifest(
        "[defaults]\nprune = true\n[[link]]\nsource = \"f2\"\ntarget = \"~/f2\"\n\
         [[link]]\nsource = \"d\"\ntarget = \"~/dd\"\n",
    );
    s.run(&["apply"]).code(0);
    assert_eq!(
        fs::read_link(s.home().join("f1")).unwrap(),
        Path::new("../repo/f1/")
    );
    // Left behind and unrecorded, it leads nowhere: a dead link, which `clean` removes.
    s.run(&["status"]).code(0).stderr_has("1 dead link");
    s.run(&["clean"]).code(0);
    assert!(fs::symlink_metadata(s.home().join("f1")).is_err());
}

/// A link text with `..` after a name is the source only if the kernel can walk it: through a
/// missing directory or a file it leads nowhere, and is relinked; through a real directory it
/// is up to date.
#[test]
fn a_link_through_a_missing_name_and_back_is_not_up_to_date() {
    let s = Sandbox::new();
    s.source("j", "j")
        .source("k", "k")
        .source("sub/x", "x")
        .source("m", "m");
    s.manifest(
        "[[link]]\nsource = \"j\"\ntarget = \"~/.j\"\n\
         [[link]]\nsource = \"k\"\ntarget = \"~/.k\"\n\
         [[link]]\nsource = \"m\"\ntarget = \"~/.m\"\n",
    );
    s.home_link(".j", "../repo/nothere/../j");
    s.home_link(".k", "../repo/k/../k");
    s.home_link(".m", "../repo/sub/../m");
    s.run(&["status"]).code(1).stdout_has("1 ok, 2 wrong");
    s.run(&["apply"]).code(0).stdout_has("2 relinked");
    for (name, text) in [(".j", "j"), (".k", "k"), (".m", "m")] {
        assert_eq!(fs::read_to_string(s.home().join(name)).unwrap(), text);
    }
}

/// A backup directory that cannot be made (a file where one of its directories must be) is
/// named as the problem, not the target being backed up; the target stays as it was.
#[test]
fn a_backup_directory_under_a_file_is_named_as_the_problem() {
    let s = vimrc();
    s.home_file("afile", "a file").home_file(".vimrc", "mine");
    s.manifest(
        "[defaults]\nbackup_dir = \"~/afile/bk\"\n\
         [[link]]\nsource = \"vimrc\"\ntarget = \"~/.vimrc\"\non_conflict = \"backup\"\n",
    );
    s.run(&["apply"])
        .code(1)
        .stderr_has("cannot create backup directory")
        .stderr_has("afile/bk");
    assert_eq!(fs::read_to_string(s.home().join(".vimrc")).unwrap(), "mine");
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

/// dotlink's own link, retyped by hand as another spelling of the same path (`d/` for a
/// directory, `..//repo/f`), is still up to date, and is recorded again as it is now spelled,
/// so `unlink` and pruning still know it as dotlink's.
#[test]
fn an_own_link_respelled_is_recorded_anew_and_still_unlinked() {
    let s = Sandbox::new();
    s.source("d/x", "x").source("f", "f");
    s.manifest(
        "[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\n\
         [[link]]\nsource = \"f\"\ntarget = \"~/.f\"\n",
    );
    s.run(&["apply"]).code(0);
    for (name, text) in [(".d", "../repo/d/"), (".f", "..//repo/f")] {
        fs::remove_file(s.home().join(name)).unwrap();
        symlink(text, s.home().join(name)).unwrap();
    }
    s.run(&["apply"]).code(0).stdout_has("2 links up to date");
    let state = fs::read_to_string(s.state_file()).unwrap();
    assert!(
        state.contains("../repo/d/\n") && state.contains("..//repo/f\n"),
        "{state}"
    );
    let unlink = s.run(&["unlink"]);
    unlink.code(0);
    assert!(
        !unlink.stderr.contains("no longer dotlink's"),
        "{}",
        unlink.stderr
    );
    assert!(fs::symlink_metadata(s.home().join(".d")).is_err());
    assert!(fs::symlink_metadata(s.home().join(".f")).is_err());
}

/// Run dotlink with `args` and its standard output going to `stdout`.
fn run_with_stdout(
    s: &Sandbox,
    args: &[&str],
    stdout: impl Into<std::process::Stdio>,
) -> std::process::Output {
    s.command_under(Path::new("/usr/bin/env"), &[])
        .args(args)
        .stdout(stdout)
        .output()
        .unwrap()
}

/// Run dotlink with standard output on a full disk.
fn run_onto_a_full_disk(s: &Sandbox, args: &[&str]) -> crate::common::Run {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    crate::common::Run::from(run_with_stdout(s, args, full))
}

/// Run dotlink with standard output a pipe nobody reads from: every write fails.
fn run_into_a_closed_pipe(s: &Sandbox, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    run_with_stdout(s, args, writer)
}

/// Standard output on a full disk: the command's work is done and recorded, and it says that
/// its report was lost, with exit code 1, instead of panicking (101) or passing silently (0).
#[test]
fn a_report_that_cannot_be_written_fails_the_run_and_says_so() {
    let s = vimrc();
    for args in [
        &["apply"][..],
        &["status"],
        &["status", "--verbose"],
        &["status", "--json"],
        &["plan", "--json"],
    ] {
        let run = run_onto_a_full_disk(&s, args);
        run.code(1)
            .stderr_has("could not write to standard output: No space left on device")
            .stderr_has(match args[0] {
                "apply" => "`dotlink status` shows where things stand",
                _ => "run it again with its output going where it can be written",
            });
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
    }
    // The apply made its link and recorded it: the next status finds it up to date.
    s.run(&["status"]).code(0).stdout_has("up to date");
    // Help and the version are output too; a command that changes nothing is not told to
    // look at the status.
    for args in [
        &["--help"][..],
        &["--version"],
        &["status", "--help"],
        &["man"],
    ] {
        let run = run_onto_a_full_disk(&s, args);
        run.code(1)
            .stderr_has("could not write to standard output: No space left on device");
        assert!(
            !run.stderr.contains("dotlink status"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// A reader that stops early (`apply | head -1`) does not end the run part way: it finishes,
/// and records everything (the state, and the manifest remembered for this home). A command
/// that only reads (`status | head -1`) ends quietly by SIGPIPE.
#[test]
fn an_apply_whose_reader_stops_early_has_recorded_everything() {
    let s = Sandbox::new();
    for i in 0..50 {
        s.source(&format!("f{i}"), "x");
    }
    s.manifest("[[link]]\nsource = \"f*\"\ntarget = \"~/\"\n");
    let out = run_into_a_closed_pipe(&s, &["apply"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(s.state().join("dotlink/manifests").is_file());
    s.run(&["status"]).code(0).stdout_has("50 links up to date");
    let out = run_into_a_closed_pipe(&s, &["status", "--verbose"]);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A directory of links moved by the user and replaced by a symlink (`~/.cfg -> sync/cfg`),
/// where another checkout's link has dotlink's very text: from there it leads elsewhere, so it
/// is not dotlink's. `status` calls it foreign; `unlink` and pruning leave it, and say why.
#[test]
fn a_link_with_dotlinks_text_that_leads_elsewhere_is_never_removed() {
    let s = Sandbox::new();
    s.source("c/x", "repo")
        .manifest("[[link]]\nsource = \"c/x\"\ntarget = \"~/.cfg/sub/x\"\n");
    s.run(&["apply"]).code(0);
    let text = fs::read_link(s.home().join(".cfg/sub/x")).unwrap();
    assert!(text.is_relative(), "{text:?}");
    fs::remove_dir_all(s.home().join(".cfg")).unwrap();
    fs::create_dir_all(s.home().join("sync/cfg/sub")).unwrap();
    symlink(&text, s.home().join("sync/cfg/sub/x")).unwrap();
    symlink("sync/cfg", s.home().join(".cfg")).unwrap();
    s.run(&["status"])
        .code(1)
        .stdout_has("a symlink dotlink did not make is in the way");
    let before = s.home_tree();
    let forgot = "~/.cfg/sub/x is no longer dotlink's: a directory on its way is now a symlink, and from there the link leads elsewhere, so it cannot be told";
    s.run(&["unlink"]).code(0).stderr_has(forgot);
    assert_eq!(s.home_tree(), before);
    // Pruning, from a state that still records it.
    s.run(&["apply", "--on-conflict", "skip"]).code(0);
    s.manifest("[defaults]\nprune = true\n");
    s.run(&["apply"]).code(0);
    assert_eq!(
        fs::read_link(s.home().join("sync/cfg/sub/x")).unwrap(),
        text,
        "the other link is kept"
    );
}

/// A directory dotlink made is recorded with its device and inode, and removed (once empty) only
/// while it is still that directory: a directory the user made under the same name, or one a
/// symlink above it now leads to, is theirs. A state an older dotlink wrote, without them, is
/// taken by its names as before.
#[test]
fn a_directory_is_removed_only_while_it_is_the_one_dotlink_made() {
    let manifest = "[[link]]\nsource = \"c/x\"\ntarget = \"~/.cfg/sub/x\"\n";
    let made = || {
        let s = Sandbox::new();
        s.source("c/x", "repo").manifest(manifest);
        s.run(&["apply"]).code(0);
        s
    };
    let s = made();
    let state = fs::read_to_string(s.state_file()).unwrap();
    let meta = fs::metadata(s.home().join(".cfg/sub")).unwrap();
    let line = dir_line(".cfg/sub", &meta);
    assert!(state.contains(&line), "{state}");

    // The user's own directory under the name of dotlink's, holding dotlink's link.
    let swap = |s: &Sandbox| {
        let cfg = s.home().join(".cfg");
        fs::create_dir(cfg.join("mine")).unwrap();
        fs::rename(cfg.join("sub/x"), cfg.join("mine/x")).unwrap();
        fs::remove_dir(cfg.join("sub")).unwrap();
        fs::rename(cfg.join("mine"), cfg.join("sub")).unwrap();
    };
    swap(&s);
    s.run(&["unlink"]).code(0);
    assert!(s.link_at(".cfg/sub/x").is_none(), "dotlink's link goes");
    assert!(
        s.home().join(".cfg/sub").is_dir(),
        "the user's directory stays"
    );
    assert!(s.home().join(".cfg").is_dir());
    // Its record goes: a later directory given the same inode is not dotlink's either.
    let state = fs::read_to_string(s.state_file()).unwrap();
    assert!(!state.contains("d\t.cfg/sub"), "{state}");
    assert!(state.contains("d\t.cfg\t"), "{state}");

    // The same, pruned.
    let s = made();
    swap(&s);
    s.manifest("[defaults]\nprune = true\n");
    s.run(&["apply"]).code(0);
    assert!(s.link_at(".cfg/sub/x").is_none());
    assert!(
        s.home().join(".cfg/sub").is_dir(),
        "the user's directory stays"
    );

    // The home's `.cfg` now a symlink to the user's own tree, holding a copy of the link.
    let s = made();
    let text = fs::read_link(s.home().join(".cfg/sub/x")).unwrap();
    // Moved away, not removed: the filesystem would give its inodes to the next directories.
    fs::rename(s.home().join(".cfg"), s.path().join("old-cfg")).unwrap();
    fs::create_dir_all(s.home().join("sync/sub")).unwrap();
    fs::create_dir_all(s.home().join("sync/sub-copy")).unwrap();
    symlink(&text, s.home().join("sync/sub/x")).unwrap();
    symlink("sync", s.home().join(".cfg")).unwrap();
    s.run(&["unlink"]).code(0);
    assert!(
        s.home().join("sync/sub").is_dir(),
        "the user's directory stays"
    );
    assert!(s.home().join("sync").is_dir());

    // The device numbered anew (NFS, btrfs and FUSE may, after a remount): the same inode is
    // the same directory.
    let s = made();
    let state = fs::read_to_string(s.state_file()).unwrap();
    let renumbered: String = state
        .lines()
        .map(|l| match l.strip_prefix("d\t") {
            Some(rest) => {
                let (dir, id) = rest.split_once('\t').unwrap();
                let (_, ino) = id.split_once(':').unwrap();
                format!("d\t{dir}\t99:{ino}\n")
            }
            None => format!("{l}\n"),
        })
        .collect();
    fs::write(s.state_file(), renumbered).unwrap();
    s.run(&["unlink"]).code(0);
    assert!(!s.home().join(".cfg").exists(), "{:?}", s.home_tree());

    // Recorded by an older dotlink, without identities: removed by name, as then.
    let s = made();
    let state = fs::read_to_string(s.state_file()).unwrap();
    let old: String = state
        .lines()
        .map(|l| match l.strip_prefix("d\t") {
            Some(rest) => format!("d\t{}\n", rest.split('\t').next().unwrap()),
            None => format!("{l}\n"),
        })
        .collect();
    assert_ne!(old, state);
    fs::write(s.state_file(), old).unwrap();
    s.run(&["unlink"]).code(0);
    assert!(!s.home().join(".cfg").exists(), "{:?}", s.home_tree());
}

/// A directory record an older dotlink wrote (no identity) is given the identity of the
/// directory there at the next `apply` or `unlink`, and from then on only that directory is
/// dotlink's; one whose directory is gone is dropped; `status` and dry runs write nothing. Not
/// where a symlink now leads to the directory: that one may be the user's.
#[test]
fn an_older_directory_record_is_given_its_identity_once() {
    use std::os::unix::fs::MetadataExt;
    let manifest = "[[link]]\nsource = \"c/x\"\ntarget = \"~/.cfg/sub/x\"\n";
    let s = Sandbox::new();
    s.source("c/x", "repo").manifest(manifest);
    s.run(&["apply"]).code(0);
    let state = fs::read_to_string(s.state_file()).unwrap();
    let without_identities = |state: &str| -> String {
        state
            .lines()
            .map(|l| match l.strip_prefix("d\t") {
                Some(rest) => format!("d\t{}\n", rest.split('\t').next().unwrap()),
                None => format!("{l}\n"),
            })
            .collect()
    };
    // And a record of a directory that is gone: dropped, so one made there later is not
    // taken for dotlink's.
    let old = without_identities(&state) + "d\t.gone\n";
    assert_ne!(old, state);
    fs::write(s.state_file(), &old).unwrap();
    for read_only in [
        &["status"][..],
        &["apply", "--dry-run"],
        &["unlink", "--dry-run"],
    ] {
        s.run(read_only).code(0);
        let now = fs::read_to_string(s.state_file()).unwrap();
        assert_eq!(now, old, "{read_only:?} writes nothing");
    }
    s.run(&["apply"]).code(0);
    assert_eq!(fs::read_to_string(s.state_file()).unwrap(), state);

    // `unlink` does it too, for a directory it cannot remove (the user's file is in it); and a
    // record naming a directory of the repository (a repository moved to where dotlink had
    // made one) is never given the repository's identity.
    let u = Sandbox::new();
    u.source("c/x", "repo").manifest(manifest);
    u.run(&["apply"]).code(0);
    let identified = fs::read_to_string(u.state_file()).unwrap();
    fs::write(u.home().join(".cfg/sub/mine"), "mine").unwrap();
    let in_repo = format!("d\t{}\n", u.repo().join("c").display());
    let legacy = without_identities(&identified) + &in_repo;
    fs::write(u.state_file(), &legacy).unwrap();
    u.run(&["unlink"]).code(0);
    let after = fs::read_to_string(u.state_file()).unwrap();
    let sub = fs::metadata(u.home().join(".cfg/sub")).unwrap();
    let line = dir_line(".cfg/sub", &sub);
    assert!(after.contains(&line), "{after}");
    assert!(after.contains(&in_repo), "left as it was: {after}");
    assert!(u.repo().join("c/x").is_file());

    // Now the user's own directory under the name: it is not dotlink's, so unlink leaves it.
    let cfg = s.home().join(".cfg");
    fs::create_dir(cfg.join("mine")).unwrap();
    fs::rename(cfg.join("sub/x"), cfg.join("mine/x")).unwrap();
    fs::rename(cfg.join("sub"), s.path().join("old-sub")).unwrap();
    fs::rename(cfg.join("mine"), cfg.join("sub")).unwrap();
    s.run(&["unlink"]).code(0);
    assert!(s.link_at(".cfg/sub/x").is_none(), "dotlink's link goes");
    assert!(cfg.join("sub").is_dir(), "the user's directory stays");

    // A symlink above the recorded directory now leads to the user's tree: the record is not
    // given the identity of the user's directory there.
    let s = Sandbox::new();
    s.source("c/x", "repo").manifest(manifest);
    s.run(&["apply"]).code(0);
    let text = fs::read_link(s.home().join(".cfg/sub/x")).unwrap();
    fs::rename(s.home().join(".cfg"), s.path().join("old-cfg")).unwrap();
    fs::create_dir_all(s.home().join("sync/sub")).unwrap();
    symlink(&text, s.home().join("sync/sub/x")).unwrap();
    symlink("sync", s.home().join(".cfg")).unwrap();
    let state = fs::read_to_string(s.state_file()).unwrap();
    fs::write(s.state_file(), without_identities(&state)).unwrap();
    s.run(&["apply"]).code(0);
    let state = fs::read_to_string(s.state_file()).unwrap();
    let sub = fs::metadata(s.home().join("sync/sub")).unwrap();
    assert!(
        !state.contains(&format!(":{}\n", sub.ino())),
        "the user's directory is not recorded as dotlink's: {state}"
    );
}

/// Run with its standard streams closed (`dotlink apply <&- >&- 2>&-`), dotlink works, and
/// nothing it prints lands in a file it opens (the manifest, the lock, the state): it gives each
/// closed stream `/dev/null` first, as std's own start-up, which it skips, would.
#[test]
fn closed_standard_streams_take_no_file_of_dotlinks() {
    let s = Sandbox::new();
    s.source("c/x", "repo")
        .manifest("[[link]]\nsource = \"c/x\"\ntarget = \"~/.x\"\n");
    let manifest = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    for args in [&["apply"][..], &["status"], &["--help"]] {
        let run = s
            .command_under(
                Path::new("/bin/sh"),
                &["-c", "exec \"$0\" \"$@\" <&- >&- 2>&-"],
            )
            .args(args)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0), "{args:?}");
    }
    assert!(s.link_at(".x").is_some());
    assert_eq!(
        fs::read_to_string(s.repo().join("dotlink.toml")).unwrap(),
        manifest
    );
    let state = fs::read_to_string(s.state_file()).unwrap();
    assert!(state.starts_with("dotlink-state 2\n"), "{state}");
    let known = [
        "dotlink-state ",
        "manifest\t",
        "home\t",
        "repo\t",
        "s\t",
        "h\t",
        "d\t",
    ];
    for line in state.lines() {
        assert!(
            known.iter().any(|k| line.starts_with(k)),
            "printed into the state: {state}"
        );
    }
    s.run(&["status"]).code(0);
}

/// Standard error on a full disk: what cannot be said there is dropped, and the run goes on
/// and ends with the exit code it would have had (`eprint!` panicked, and a release build
/// aborted at the first note, warning or error: 134).
#[test]
fn a_full_disk_under_standard_error_stops_nothing() {
    let s = Sandbox::new();
    s.source("c/x", "repo")
        .manifest("[[link]]\nsource = \"c/x\"\ntarget = \"~/.x\"\n");
    // A dead link into the repository: `status` notes it on standard error.
    std::os::unix::fs::symlink(s.repo().join("gone"), s.home().join(".gone")).unwrap();
    let run_full = |args: &[&str]| {
        let full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        s.command_under(Path::new("/usr/bin/env"), &[])
            .args(args)
            .stderr(full)
            .output()
            .unwrap()
    };
    let usage = run_full(&["--no-such-flag"]);
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
    let applied = run_full(&["apply"]);
    assert_eq!(applied.status.code(), Some(0), "{applied:?}");
    assert!(s.link_at(".x").is_some());
    let status = run_full(&["status"]);
    let said = s.run(&["status"]);
    said.stderr_has("dead link");
    assert_eq!(status.status.code(), Some(said.code), "{status:?}");
    assert_eq!(String::from_utf8_lossy(&status.stdout), said.stdout);
    // An error: said nowhere, but its exit code is the same.
    fs::remove_file(s.repo().join("dotlink.toml")).unwrap();
    let failed = run_full(&["status"]);
    let said = s.run(&["status"]);
    said.stderr_has("no dotlink.toml found");
    assert_eq!(failed.status.code(), Some(said.code), "{failed:?}");
    assert_ne!(said.code, 0);
}

/// A bind mount gives the repository (or a directory of it) a second name with no symlink in
/// it: what is found at a target is compared with the repository, the home and dotlink's own
/// directories, and with the target's own source, by device and inode, and no policy replaces
/// it; `clean` leaves the repository's own dead links. Needs `unshare` (util-linux) and the
/// right to make a mount namespace (root).
#[test]
fn the_repository_under_another_name_is_never_replaced() {
    let s = Sandbox::new();
    s.source("d/a", "a")
        .source("c/git/config", "[user]")
        .source("zsh/zshrc", "z");
    fs::create_dir(s.home().join("mirror")).unwrap();
    fs::create_dir(s.home().join(".config")).unwrap();
    // `dotlink ARGS` with `from` bound at `to`, in a mount namespace of the run's own: its
    // exit code and standard output.
    let bound = |from: &Path, to: &Path, args: &[&str]| {
        let script = format!(
            "mount --make-rprivate / && mount --bind '{}' '{}' && exec \"$0\" \"$@\"",
            from.display(),
            to.display()
        );
        let mut cmd = s.command_under(Path::new("unshare"), &["-m", "sh", "-c", &script]);
        let output = cmd
            .args(args)
            .output()
            .expect("unshare (util-linux) runs this test: install util-linux");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            !stderr.contains("unshare:") && !stderr.contains("mount:"),
            "this test needs a mount namespace (run the tests as root): {stderr}"
        );
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code(), format!("{stdout}{stderr}"))
    };
    let refused = |from: &Path, to: &Path, policy: &str| {
        let (code, out) = bound(from, to, &["apply", "--on-conflict", policy]);
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains("what is here is, or lies in,"), "{out}");
        assert!(out.contains("under another name"), "{out}");
    };
    // All as it was but the manifest, written between runs.
    let without_manifest = |mut tree: crate::common::Tree| {
        tree.remove(Path::new("repo/dotlink.toml"));
        tree
    };
    let before = without_manifest(s.whole_tree());
    // `~/mirror` is the sandbox's root: `~/mirror/repo` is the repository.
    s.manifest("[[link]]\nsource = \"d\"\ntarget = \"~/mirror/repo\"\n");
    refused(&s.path(), &s.home().join("mirror"), "overwrite");
    // A directory of the repository bound into the home, as devcontainers do: each target
    // there is its own source, or another file of the repository.
    let (c, config) = (s.repo().join("c"), s.home().join(".config"));
    s.manifest("[[link]]\nsource = \"c\"\ntarget = \"~/.config\"\nrecursive = true\n");
    refused(&c, &config, "backup");
    s.manifest("[[link]]\nsource = \"c/*\"\ntarget = \"~/.config/\"\n");
    refused(&c, &config, "overwrite");
    s.manifest("[[link]]\nsource = \"zsh/zshrc\"\ntarget = \"~/.config/git/config\"\n");
    refused(&c, &config, "backup");
    // The repository's own dead link, seen beside a target through the bind mount, is not
    // `clean`'s to remove.
    let dead = s.repo().join("c/git/dead");
    symlink(s.repo().join("c/git/was-here"), &dead).unwrap();
    let (code, out) = bound(&c, &config, &["clean"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(dead.symlink_metadata().is_ok(), "{out}");
    fs::remove_file(&dead).unwrap();
    assert_eq!(without_manifest(s.whole_tree()), before);
    // A recorded hard link whose directory is now a directory of the repository, bound
    // there: pruning would remove the source itself, and forgets it instead.
    let hardlink =
        "[[link]]\nsource = \"zsh/zshrc\"\ntarget = \"~/.hl/zshrc\"\nmethod = \"hardlink\"\n";
    s.manifest(&format!("[defaults]\nprune = true\n{hardlink}"));
    s.run(&["apply"]).code(0);
    fs::rename(s.home().join(".hl"), s.home().join(".hl-old")).unwrap();
    fs::create_dir(s.home().join(".hl")).unwrap();
    s.manifest("[defaults]\nprune = true\n");
    let (code, out) = bound(&s.repo().join("zsh"), &s.home().join(".hl"), &["apply"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("~/.hl/zshrc is no longer dotlink's: it now lies inside the repository"),
        "{out}"
    );
    assert_eq!(fs::read_to_string(s.repo().join("zsh/zshrc")).unwrap(), "z");
    // A backup whose target's directory is now a bound directory of the repository is not
    // put back there.
    fs::create_dir(s.home().join(".rc")).unwrap();
    crate::common::write(&s.home().join(".rc/x"), "mine");
    s.manifest("[[link]]\nsource = \"zsh/zshrc\"\ntarget = \"~/.rc/x\"\nstyle = \"absolute\"\n");
    s.run(&["apply", "--on-conflict", "backup"]).code(0);
    let (code, out) = bound(&s.repo().join("c"), &s.home().join(".rc"), &["restore"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("is in the repository"), "{out}");
    assert!(!s.repo().join("c/x").exists(), "{out}");
}

/// The directories a run records, as the state file lists them.
pub(crate) fn recorded_dirs(s: &Sandbox) -> Vec<String> {
    let state = fs::read_to_string(s.state_file()).unwrap_or_default();
    state
        .lines()
        .filter_map(|l| l.strip_prefix("d\t"))
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

/// A home where dotlink made `~/.config/a/deep/deeper` for a link, and `~/.config/a/g`, and the
/// first link was then removed by hand: its directories hold nothing now.
pub(crate) fn emptied_by_hand() -> Sandbox {
    let s = Sandbox::new();
    s.source("a/deep/deeper/f", "f")
        .source("a/g", "g")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.config/a\"\nrecursive = true\n");
    s.run(&["apply"]).code(0);
    fs::remove_file(s.home().join(".config/a/deep/deeper/f")).unwrap();
    fs::remove_dir_all(s.repo().join("a/deep")).unwrap();
    s
}

/// A directory dotlink made that nothing declared needs any more goes once it is empty, however
/// it emptied (here its link was removed by hand, then its source): `plan` and `status` show
/// it, `apply` removes it and forgets it, and the next run has nothing to do. `--no-prune`
/// keeps it, and so does anything put in it.
#[test]
fn an_empty_directory_dotlink_made_goes_once_nothing_declared_needs_it() {
    let s = emptied_by_hand();
    s.run(&["plan"])
        .code(0)
        .stdout_has("~/.config/a/deep/")
        .stdout_has("~/.config/a/deep/deeper/")
        .stdout_has("2 empty directories to remove");
    s.run(&["status"])
        .code(1)
        .stdout_has("orphan")
        .stdout_has("an empty directory dotlink made; nothing declared is in it");
    let json = s.run(&["plan", "--json"]).json();
    let pruned: Vec<&str> = json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "prune")
        .map(|a| a["target"].as_str().unwrap())
        .collect();
    assert_eq!(pruned.len(), 2, "{json}");
    assert!(
        pruned[0].ends_with(".config/a/deep/deeper"),
        "deepest first: {pruned:?}"
    );
    // Said to be directories, not links, wherever a step is given.
    let methods = |json: &serde_json::Value, list: &str| -> Vec<String> {
        json[list]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["source"] == "")
            .map(|a| a["method"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(methods(&json, "actions"), ["directory", "directory"]);
    let status = s.run(&["status", "--json"]).json();
    assert_eq!(methods(&status, "entries"), ["directory", "directory"]);

    let before = s.home_tree();
    s.run(&["apply", "--no-prune"]).code(0);
    assert_eq!(s.home_tree(), before, "kept without pruning");

    s.run(&["apply"])
        .code(0)
        .stdout_has("2 empty directories removed");
    assert!(!s.home().join(".config/a/deep").exists());
    assert!(
        s.link_at(".config/a/g").is_some(),
        "the declared link stays"
    );
    assert_eq!(recorded_dirs(&s), [".config", ".config/a"]);
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    s.run(&["status"]).code(0);

    // Not empty: the user's file in it keeps it, and nothing is planned for it.
    let s = emptied_by_hand();
    s.home_file(".config/a/deep/notes", "mine");
    s.run(&["apply"])
        .code(0)
        .stdout_has("Applied: 1 empty directory removed.");
    assert_eq!(
        fs::read_to_string(s.home().join(".config/a/deep/notes")).unwrap(),
        "mine"
    );
    assert!(
        !s.home().join(".config/a/deep/deeper").exists(),
        "the empty one below goes"
    );
    s.run(&["status"]).code(0);
}

/// An empty directory under the name of one dotlink made is not dotlink's when it is another
/// directory: it stays, and the record of dotlink's is dropped. One written to between the plan
/// and the step is left as it is, with an error, and the next run keeps it.
#[test]
fn an_empty_directory_goes_only_while_it_is_the_one_dotlink_made() {
    let s = emptied_by_hand();
    let deeper = s.home().join(".config/a/deep/deeper");
    // Made before dotlink's goes, so it cannot get its inode number.
    fs::create_dir(s.home().join("mine")).unwrap();
    fs::remove_dir(&deeper).unwrap();
    fs::rename(s.home().join("mine"), &deeper).unwrap();
    s.run(&["apply"]).code(0).stdout_lacks("empty director");
    assert!(deeper.is_dir(), "the user's directory stays");
    assert_eq!(
        recorded_dirs(&s),
        [".config", ".config/a", ".config/a/deep"]
    );

    // Written to after the plan: the step before the removal writes into it.
    let s = emptied_by_hand();
    let note = s.home().join(".config/a/deep/deeper/note");
    let run = s.run_env(
        &["apply"],
        &[
            ("DOTLINK_FAULT_WRITE_AT", "0"),
            ("DOTLINK_FAULT_WRITE_PATH", note.to_str().unwrap()),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("changed since planning"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&note).unwrap(), "written since planning");
    s.run(&["apply"]).code(0).stdout_lacks("empty director");
    assert!(note.is_file());
}

/// `unlink` after a run that was stopped before it made its links (all of a large run's
/// directories are made first) leaves the home as it was before dotlink: the directories that
/// run made go with the rest.
#[test]
fn unlink_after_a_stopped_run_leaves_no_directory_it_made() {
    for point in 0.. {
        let s = Sandbox::new();
        s.source("a/x/1", "1")
            .source("a/y/2", "2")
            .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.config/a\"\nrecursive = true\n");
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", &point.to_string())]);
        if !run.stderr.contains("fault injected") {
            assert!(point > 4, "the run has directories to make");
            break;
        }
        s.run(&["unlink"]).code(0);
        assert!(s.home_tree().is_empty(), "at {point}: {:?}", s.home_tree());
        assert!(
            recorded_dirs(&s).is_empty(),
            "at {point}: {:?}",
            recorded_dirs(&s)
        );
        // The journal and its log of directories are gone.
        for left in fs::read_dir(s.state().join("dotlink")).unwrap().flatten() {
            let name = left.file_name().to_string_lossy().into_owned();
            assert!(!name.contains(".journal."), "at {point}: {name} is left");
        }
    }
}

/// A directory dotlink made is removed only where it made it: one now reached through a
/// symlink on its way (adopted into the repository with the directory above it, or moved
/// out of the home and linked back) is left, with whatever is inside, and a link declared
/// below such a directory is made in one run, which the next finds up to date.
#[test]
fn an_empty_directory_reached_through_a_symlink_is_never_removed() {
    let manifest = "[[link]]\nsource = \"a\"\ntarget = \"~/.config/a\"\nrecursive = true\n";
    let made = || {
        let s = Sandbox::new();
        s.source("a/f", "1")
            .source("a/sub/g", "2")
            .manifest(manifest);
        s.run(&["apply"]).code(0);
        fs::remove_file(s.home().join(".config/a/f")).unwrap();
        fs::remove_file(s.home().join(".config/a/sub/g")).unwrap();
        s
    };

    // Adopted into the repository: its directories are the repository's now.
    let s = made();
    s.home_file(".config/a/user.conf", "mine");
    s.manifest("");
    s.run(&["adopt", s.home().join(".config/a").to_str().unwrap()])
        .code(0);
    let adopted = s.repo().join("config/a/sub");
    assert!(adopted.is_dir(), "{:?}", crate::common::tree(&s.repo()));
    s.run(&["apply"]).code(0);
    s.run(&["unlink"]).code(0);
    assert!(adopted.is_dir(), "nothing in the repository is removed");

    // Moved out of the home, and linked back.
    let s = made();
    let elsewhere = s.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::rename(s.home().join(".config"), elsewhere.join("cfg")).unwrap();
    symlink(elsewhere.join("cfg"), s.home().join(".config")).unwrap();
    s.run(&["unlink"]).code(0);
    assert!(
        elsewhere.join("cfg/a/sub").is_dir(),
        "nothing outside the home is removed"
    );

    // Moved within the home and linked back: the links below are made at once.
    let s = made();
    fs::rename(s.home().join(".config"), s.home().join("realcfg")).unwrap();
    symlink("realcfg", s.home().join(".config")).unwrap();
    s.run(&["apply"]).code(0).stdout_lacks("empty director");
    assert!(s.link_at("realcfg/a/f").is_some() && s.link_at("realcfg/a/sub/g").is_some());
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
}

/// A directory the user makes where dotlink's was, after removing it, is theirs, even when the
/// filesystem gives it the freed inode number of dotlink's (ext4 may, at once): the state
/// records when dotlink's was made too. Neither a prune nor `unlink` removes it. The number is
/// given again here by writing it into the state, as the filesystem would have it.
#[test]
fn a_directory_made_where_dotlinks_was_is_not_dotlinks_even_at_its_inode_number() {
    use std::os::unix::fs::MetadataExt;
    let s = emptied_by_hand();
    let deeper = s.home().join(".config/a/deep/deeper");
    let made = fs::metadata(&deeper).unwrap();
    // Later than a tick of the filesystem's clock.
    std::thread::sleep(std::time::Duration::from_millis(30));
    fs::remove_dir(&deeper).unwrap();
    fs::create_dir(&deeper).unwrap();
    let mine = fs::metadata(&deeper).unwrap();
    let recorded = dir_line(".config/a/deep/deeper", &made);
    let state = fs::read_to_string(s.state_file()).unwrap();
    assert!(state.contains(&recorded), "{state}");
    let given_again =
        recorded.replacen(&format!(":{}", made.ino()), &format!(":{}", mine.ino()), 1);
    fs::write(s.state_file(), state.replace(&recorded, &given_again)).unwrap();

    s.run(&["apply"]).code(0).stdout_lacks("empty director");
    assert!(deeper.is_dir(), "the user's directory stays");
    assert_eq!(
        recorded_dirs(&s),
        [".config", ".config/a", ".config/a/deep"]
    );
    s.run(&["unlink"]).code(0);
    assert!(deeper.is_dir(), "the user's directory stays");
}

/// The state file's line for the directory `dir` (below the home) that `meta` describes: its
/// device and inode, and when it was made where the filesystem keeps that.
fn dir_line(dir: &str, meta: &fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    let born = meta
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| format!("\t{}", d.as_nanos()))
        .unwrap_or_default();
    format!("d\t{dir}\t{}:{}{born}\n", meta.dev(), meta.ino())
}

/// The log of the directories a run makes, beside the journal, is made anew, never opened
/// where it stands: a symlink put at its name (to a file of the user's, or dangling into the
/// repository) is replaced, and nothing it leads to is written.
#[test]
fn the_log_of_directories_made_never_follows_a_symlink_at_its_name() {
    let s = emptied_by_hand();
    s.run(&["unlink"]).code(0);
    let state = s.state_file().display().to_string();
    let log = format!(
        "{}.journal.json.dirs",
        state.strip_suffix(".state").unwrap()
    );
    s.home_file("notes", "precious");
    symlink(s.home().join("notes"), &log).unwrap();
    s.run(&["apply"]).code(0);
    assert_eq!(
        fs::read_to_string(s.home().join("notes")).unwrap(),
        "precious"
    );
    s.run(&["unlink"]).code(0);
    symlink(s.repo().join("dirs-log"), &log).unwrap();
    s.run(&["apply"]).code(0);
    assert!(
        !s.repo().join("dirs-log").exists(),
        "nothing made in the repository"
    );
    assert!(fs::symlink_metadata(&log).is_err(), "no log left");
}

/// A directory recorded without its birth time (by an older dotlink, which wrote none) is given
/// it by the next run that writes the state, while it is still the same directory; and a birth
/// time that cannot be read is taken as not known, not as a damaged state.
#[test]
fn a_directory_record_without_its_birth_time_is_given_it_once() {
    let s = emptied_by_hand();
    let with = fs::read_to_string(s.state_file()).unwrap();
    let without: String = with
        .lines()
        .map(|l| match l.strip_prefix("d\t") {
            Some(rest) => format!(
                "d\t{}\n",
                rest.splitn(3, '\t').take(2).collect::<Vec<_>>().join("\t")
            ),
            None => format!("{l}\n"),
        })
        .collect();
    assert_ne!(without, with);
    fs::write(s.state_file(), &without).unwrap();
    s.run(&["apply", "--no-prune"]).code(0);
    let dir_lines = |state: &str| -> Vec<String> {
        state
            .lines()
            .filter(|l| l.starts_with("d\t"))
            .map(str::to_string)
            .collect()
    };
    let now = fs::read_to_string(s.state_file()).unwrap();
    assert_eq!(dir_lines(&now), dir_lines(&with));
    let with = now;

    let garbled = with.replacen(
        &dir_line(".config", &fs::metadata(s.home().join(".config")).unwrap()),
        &format!(
            "{}\t-1\n",
            without
                .lines()
                .find(|l| l.starts_with("d\t.config\t"))
                .unwrap()
        ),
        1,
    );
    assert_ne!(garbled, with);
    fs::write(s.state_file(), &garbled).unwrap();
    s.run(&["unlink"]).code(0).stderr_lacks("fresh");
    assert!(s.home_tree().is_empty(), "{:?}", s.home_tree());
}
