//! The worst bugs in the bug trackers of GNU Stow, dotbot, dotter and tuckr, each made
//! impossible in dotlink and proven here on real trees.

use crate::common::Sandbox;
use std::fs;
use std::path::PathBuf;

/// Stow/dotbot: `force` deleted a real file in the repository through a directory link that
/// already pointed into it. Here no policy writes through such a link.
#[test]
fn no_policy_writes_through_a_directory_link_into_the_repository() {
    for policy in ["fail", "skip", "backup", "overwrite"] {
        let s = Sandbox::new();
        s.source("config/app.conf", "precious")
            .manifest("[[link]]\nsource = \"config/*\"\ntarget = \"~/.config/\"\n");
        // ~/.config is itself a link to the repository's config directory (folded by Stow).
        s.home_link(".config", "../repo/config");
        let before = s.whole_tree();
        let run = s.run(&["apply", "--on-conflict", policy]);
        // `skip` asked for conflicts to be left alone; every other policy failed to link.
        run.code(if policy == "skip" { 0 } else { 1 });
        run.stdout_has("! ~/.config/app.conf")
            .stdout_has("is a link into the repository");
        assert_eq!(s.whole_tree(), before, "{policy} changed something");
        assert_eq!(
            fs::read_to_string(s.repo().join("config/app.conf")).unwrap(),
            "precious"
        );
        s.run(&["status"])
            .code(1)
            .stdout_has("conflict")
            .stdout_has("writing here would write inside the repository");
    }
}

/// The same through a deeper path: a file target below a directory link into the repository.
#[test]
fn a_file_target_below_a_directory_link_into_the_repository_is_never_touched() {
    let s = Sandbox::new();
    s.source("zsh/zshrc", "repo zshrc")
        .source("other/zshrc", "other");
    s.manifest("[[link]]\nsource = \"other/zshrc\"\ntarget = \"~/.zsh/zshrc\"\non_conflict = \"overwrite\"\n");
    s.home_link(".zsh", "../repo/zsh");
    let before = s.whole_tree();
    s.run(&["apply"]).code(1).stdout_has("cannot be resolved");
    assert_eq!(s.whole_tree(), before);
}

/// The same where the target's directory does not exist yet: it would be made inside the
/// repository, through the user's link into it (`~/.config -> ../repo/xdg`), so nothing is made
/// there, under any policy, and the hard-link path refuses alike.
#[test]
fn no_directory_is_made_in_the_repository_through_a_link_into_it() {
    for method in ["symlink", "hardlink"] {
        for policy in ["fail", "skip", "backup", "overwrite"] {
            let s = Sandbox::new();
            s.source("nvim/init.vim", "set nu")
                .source("xdg/git/config", "[user]");
            s.manifest(&format!(
                "[[link]]\nsource = \"nvim/init.vim\"\ntarget = \"~/.config/nvim/init.vim\"\nmethod = \"{method}\"\n"
            ));
            s.home_link(".config", "../repo/xdg");
            let before = s.whole_tree();
            let run = s.run(&["apply", "--on-conflict", policy]);
            run.code(if policy == "skip" { 0 } else { 1 });
            run.stdout_has("is a link into the repository");
            assert_eq!(
                s.whole_tree(),
                before,
                "{method}, {policy} changed something"
            );
            assert!(!s.repo().join("xdg/nvim").exists(), "{method}, {policy}");
        }
    }
}

/// Overwrite on a target that already is a link into the repository removes only the link.
#[test]
fn overwrite_replaces_a_link_into_the_repository_without_touching_what_it_points_to() {
    let s = Sandbox::new();
    s.source("a", "A")
        .source("b", "B")
        .manifest("[[link]]\nsource = \"b\"\ntarget = \"~/.x\"\non_conflict = \"overwrite\"\n");
    s.home_link(".x", "../repo/a");
    s.run(&["apply"]).code(0);
    assert_eq!(fs::read_to_string(s.repo().join("a")).unwrap(), "A");
    assert_eq!(fs::read_to_string(s.home().join(".x")).unwrap(), "B");
}

/// A hard link to a repository file in the way of a symlink: replacing it keeps the file.
#[test]
fn overwrite_of_a_hard_link_to_a_repository_file_keeps_the_repository_file() {
    let s = Sandbox::new();
    s.source("a", "A")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\non_conflict = \"overwrite\"\n");
    fs::hard_link(s.repo().join("a"), s.home().join(".a")).unwrap();
    s.run(&["apply"]).code(0);
    assert!(s.home().join(".a").is_symlink());
    assert_eq!(fs::read_to_string(s.repo().join("a")).unwrap(), "A");
}

/// A file with a second name that is not the source (a hard link elsewhere in the home) is
/// the user's file in the way, not a hard link to the source: under `fail` it stays.
#[test]
fn a_file_with_another_name_in_the_way_is_a_conflict() {
    let s = Sandbox::new();
    s.source("a", "A")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.home_file(".a", "mine");
    fs::hard_link(s.home().join(".a"), s.home().join("a-second-name")).unwrap();
    let status = s.run(&["status", "--json"]).json();
    assert_eq!(status["entries"][0]["state"], "conflict", "{status}");
    assert_eq!(
        status["entries"][0]["reason"],
        "a regular file is in the way"
    );
    s.run(&["apply"])
        .code(1)
        .stdout_has("a regular file is in the way")
        .stderr_has("nothing was changed");
    assert_eq!(fs::read_to_string(s.home().join(".a")).unwrap(), "mine");
    assert!(!s.home().join(".a").is_symlink());
}

/// Moving from Stow: links made by Stow (or by hand) that already resolve to the declared
/// source are ok, or relinked when spelled in the other style. Not a single conflict.
#[test]
fn moving_from_stow_produces_no_conflicts() {
    let s = Sandbox::new();
    s.source("zsh/.zshrc", "z")
        .source("git/.gitconfig", "g")
        .source("nvim/.config/nvim/init.lua", "n");
    // What `stow zsh git nvim` (with --no-folding) leaves behind: relative links.
    s.home_link(".zshrc", "../repo/zsh/.zshrc");
    s.home_link(".gitconfig", s.repo().join("git/.gitconfig")); // by hand, absolute
    s.home_link(
        ".config/nvim/init.lua",
        "../../../repo/nvim/.config/nvim/init.lua",
    );
    s.manifest(
        "[[link]]\nsource = \"zsh\"\ntarget = \"~\"\nrecursive = true\n[[link]]\nsource = \"git\"\ntarget = \"~\"\nrecursive = true\n[[link]]\nsource = \"nvim\"\ntarget = \"~\"\nrecursive = true\n",
    );
    let status = s.run(&["status", "--json"]).json();
    assert_eq!(status["summary"]["conflict"], 0, "{status}");
    assert_eq!(status["summary"]["ok"], 2);
    assert_eq!(status["summary"]["wrong"], 1);
    s.run(&["apply"])
        .code(0)
        .stdout_has("~ ~/.gitconfig")
        .stdout_has("1 relinked");
    assert_eq!(
        s.link_at(".gitconfig").unwrap(),
        PathBuf::from("../repo/git/.gitconfig")
    );
    s.run(&["status"]).code(0);
    // From now on they are dotlink's: dropping a package prunes its links.
    s.manifest("[[link]]\nsource = \"zsh\"\ntarget = \"~\"\nrecursive = true\n");
    s.run(&["apply"]).code(0).stdout_has("2 pruned");
    assert!(
        !s.home().join(".gitconfig").exists() && !s.home().join(".config/nvim/init.lua").exists()
    );
    assert!(s.home().join(".zshrc").is_symlink());
}

/// tuckr/dotter: a source that changed from a file to a directory between runs left a run
/// that could not converge. Here the next apply relinks it cleanly, both ways, recursive or not.
#[test]
fn a_source_changing_between_file_and_directory_is_relinked_cleanly() {
    for recursive in [false, true] {
        let s = Sandbox::new();
        let manifest =
            format!("[[link]]\nsource = \"pkg\"\ntarget = \"~/.pkg\"\nrecursive = {recursive}\n");
        s.source("pkg/thing", "a file").manifest(&manifest);
        s.run(&["apply"]).code(0);
        assert_eq!(
            fs::read_to_string(s.home().join(".pkg/thing")).unwrap(),
            "a file"
        );

        // File → directory.
        fs::remove_file(s.repo().join("pkg/thing")).unwrap();
        s.source("pkg/thing/inner", "now a dir");
        s.run(&["apply"]).code(0);
        assert_eq!(
            fs::read_to_string(s.home().join(".pkg/thing/inner")).unwrap(),
            "now a dir",
            "recursive={recursive}"
        );
        s.run(&["apply"]).code(0).stdout_has("Nothing to do");
        s.run(&["status"]).code(0);

        // Directory → file.
        fs::remove_dir_all(s.repo().join("pkg/thing")).unwrap();
        s.source("pkg/thing", "a file again");
        s.run(&["apply"]).code(0);
        assert_eq!(
            fs::read_to_string(s.home().join(".pkg/thing")).unwrap(),
            "a file again",
            "recursive={recursive}"
        );
        s.run(&["apply"]).code(0).stdout_has("Nothing to do");
        s.run(&["status"]).code(0);
    }
}

/// A whole directory link replaced by a recursive mirror (and back) converges too.
#[test]
fn switching_a_directory_between_one_link_and_a_mirror_converges() {
    let s = Sandbox::new();
    s.source("nvim/init.lua", "i").source("nvim/lua/a.lua", "a");
    s.manifest("[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\n");
    s.run(&["apply"]).code(0);
    s.manifest("[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\nrecursive = true\n");
    s.run(&["apply"]).code(0);
    assert!(!s.home().join(".config/nvim").is_symlink());
    assert!(s.home().join(".config/nvim/lua/a.lua").is_symlink());
    s.run(&["status"]).code(0);
    s.manifest("[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\n");
    s.run(&["apply"]).code(0);
    assert!(s.home().join(".config/nvim").is_symlink());
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
}

/// dotter/tuckr: a stale or broken state file blocked every later run. Here it is a note.
#[test]
fn a_damaged_state_file_never_blocks_a_run() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0);
    let state = s.state_file();
    fs::write(&state, "dotlink-state 2\ngarbage").unwrap();
    s.run(&["status"])
        .code(0)
        .stderr_has("is damaged")
        .stderr_has("line 2");
    s.run(&["apply"]).code(0).stderr_has("starting a fresh one");
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    assert!(fs::read_to_string(&state).unwrap().contains("\ns\t.a\ta\t"));
}

#[test]
fn stale_state_entries_are_dropped_with_a_note() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b").source("c", "c");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n[[link]]\nsource = \"c\"\ntarget = \"~/.c\"\n");
    s.run(&["apply"]).code(0);
    // The user deleted one link and the repository moved another source.
    fs::remove_file(s.home().join(".b")).unwrap();
    fs::rename(s.repo().join("c"), s.repo().join("c2")).unwrap();
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"c2\"\ntarget = \"~/.c2\"\n");
    s.run(&["apply"])
        .code(0)
        .stderr_has("~/.b is no longer dotlink's: it is gone")
        .stdout_has("- ~/.c");
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    s.run(&["status"]).code(0);
}

/// A state file edited by hand, its targets spelled `.a/`, `./.b/.` and `.//.c`: the records
/// are still the links' records, so pruning and `unlink` remove them, never through the link.
#[test]
fn hand_spelled_state_records_still_prune_and_unlink() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b").source("c", "c");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n[[link]]\nsource = \"c\"\ntarget = \"~/.c\"\n");
    s.run(&["apply"]).code(0);
    let respell = |names: &[&str]| {
        let mut text = fs::read_to_string(s.state_file()).unwrap();
        for name in names {
            let (target, source) = match *name {
                "a" => (".a/", "a/."),
                "b" => ("./.b/.", "b"),
                _ => (".//.c", "./c"),
            };
            let plain = format!("\ns\t.{name}\t{name}\t");
            assert!(text.contains(&plain), "{text}");
            text = text.replace(&plain, &format!("\ns\t{target}\t{source}\t"));
        }
        fs::write(s.state_file(), text).unwrap();
    };
    respell(&["a", "b", "c"]);
    s.run(&["status"]).code(0).stdout_has("3 links up to date");
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    // `~/.c` is no longer declared: pruned as the orphan it is. (A run with nothing to do
    // leaves the state file as it is, spelled as it was.)
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    s.run(&["apply"]).code(0).stdout_has("- ~/.c");
    assert!(s.home().join(".c").symlink_metadata().is_err());
    respell(&["a", "b"]);
    s.run(&["unlink"]).code(0).stdout_has("2 removed");
    assert_eq!(s.home_tree().len(), 0, "{:?}", s.home_tree());
    for name in ["a", "b", "c"] {
        assert_eq!(fs::read_to_string(s.repo().join(name)).unwrap(), name);
    }
}

/// A state record (edited by hand) whose target is the home itself, where `$HOME` is a link
/// holding exactly what the record says: the home is never dotlink's to prune or unlink (it
/// was pruned, and `$HOME` was gone).
#[test]
fn a_record_of_the_home_itself_is_never_pruned() {
    let s = Sandbox::new();
    s.source("a", "a");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    let hl = s.path().join("hl");
    std::os::unix::fs::symlink("home", &hl).unwrap();
    let home = [("HOME", hl.to_str().unwrap())];
    s.run_env(&["apply"], &home).code(0);
    let text = fs::read_to_string(s.state_file()).unwrap();
    fs::write(
        s.state_file(),
        format!("{text}s\t{}/\ta\thome\n", hl.display()),
    )
    .unwrap();
    s.run_env(&["apply"], &home)
        .code(0)
        .stderr_has("it is the home directory, or holds it");
    s.run_env(&["unlink"], &home).code(0);
    assert!(hl.is_symlink(), "$HOME is still there");
    assert!(s.home().is_dir());
}

#[test]
fn forgotten_records_are_told_in_target_order_on_every_run() {
    let s = Sandbox::new();
    let names: Vec<String> = (0..12).map(|i| format!("f{i:02}")).collect();
    let mut manifest = String::new();
    for name in &names {
        s.source(name, name);
        manifest += &format!("[[link]]\nsource = \"{name}\"\ntarget = \"~/.{name}\"\n");
    }
    s.manifest(&manifest);
    s.run(&["apply"]).code(0);
    for name in &names {
        fs::remove_file(s.home().join(format!(".{name}"))).unwrap();
    }
    s.manifest("");
    let run = s.run(&["status"]);
    run.code(0);
    let told: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| {
            l.split("note: ~/.")
                .nth(1)?
                .split(" is no longer dotlink's")
                .next()
        })
        .collect();
    assert_eq!(told, names, "{}", run.stderr);
}

#[test]
fn deleting_the_state_file_loses_nothing_but_pruning() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0);
    fs::remove_dir_all(s.state()).unwrap();
    s.run(&["status"]).code(0);
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
}

/// Live links that were never pruned: every link a run made is recorded, so dropping it from
/// the manifest prunes it, including links made by globs and recursive entries.
#[test]
fn links_from_globs_and_trees_are_pruned_when_their_sources_go() {
    let s = Sandbox::new();
    s.source("config/a", "a")
        .source("config/b", "b")
        .source("bin/x", "x")
        .source("bin/y", "y");
    s.manifest("[[link]]\nsource = \"config/*\"\ntarget = \"~/.config/\"\n[[link]]\nsource = \"bin\"\ntarget = \"~/bin\"\nrecursive = true\n");
    s.run(&["apply"]).code(0);
    fs::remove_file(s.repo().join("config/b")).unwrap();
    fs::remove_file(s.repo().join("bin/y")).unwrap();
    s.run(&["apply"])
        .code(0)
        .stdout_has("- ~/.config/b")
        .stdout_has("- ~/bin/y")
        .stdout_has("2 pruned");
    assert!(fs::symlink_metadata(s.home().join(".config/b")).is_err());
    assert!(fs::symlink_metadata(s.home().join("bin/y")).is_err());
}

/// A run that fails half way does not carry on silently: the failure is named, the exit code
/// is 1, everything else is applied and recorded, and the next run finishes the job.
#[test]
fn a_failing_step_is_reported_and_the_next_run_finishes() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b").source("c", "c");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n[[link]]\nsource = \"c\"\ntarget = \"~/.c\"\n");
    // The second filesystem change (linking ~/.b) fails: fault points come two per change,
    // before and after it, so point 2 is just before the second change. The links are made
    // one at a time here, so that the second is ~/.b (on several threads, the crash tests
    // make each point fail in turn).
    let one_at_a_time = ("DOTLINK_APPLY_THREADS", "1");
    let run = s.run_env(
        &["apply"],
        &[("DOTLINK_FAULT_ERROR_AT", "2"), one_at_a_time],
    );
    run.code(1)
        .stderr_has("error: ~/.b: cannot create link")
        .stderr_has("injected fault")
        .stdout_has("1 failed");
    assert!(s.home().join(".a").is_symlink() && s.home().join(".c").is_symlink());
    assert!(!s.home().join(".b").exists());
    s.run(&["status"]).code(1).stdout_has("missing");
    s.run(&["apply"]).code(0).stdout_has("1 created");
    s.run(&["status"]).code(0);
}

/// A file in the repository standing where a directory is needed (seen through a directory link
/// into the repository) is never cleared away by backup or overwrite.
#[test]
fn a_blocking_file_inside_the_repository_is_never_cleared() {
    for policy in ["backup", "overwrite"] {
        let s = Sandbox::new();
        s.source("config/app", "a repo file").source("x", "x");
        s.manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.config/app/x\"\n");
        s.home_link(".config", "../repo/config");
        let before = s.whole_tree();
        s.run(&["apply", "--on-conflict", policy])
            .code(1)
            .stdout_has("! ~/.config/app/x");
        assert_eq!(s.whole_tree(), before, "{policy}");
        assert_eq!(
            fs::read_to_string(s.repo().join("config/app")).unwrap(),
            "a repo file"
        );
    }
}

/// A state file written by dotlink before version 2 (JSON, absolute paths) is read as it is,
/// replaced by version 2 on the first writing run, and what it recorded is still pruned.
#[test]
fn a_version_1_state_file_is_migrated_once_and_nothing_recorded_is_lost() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    s.run(&["apply"]).code(0);
    let v2 = s.state_file();
    let v1 = v2.with_extension("json");
    let (home, repo) = (
        s.home().canonicalize().unwrap(),
        s.repo().canonicalize().unwrap(),
    );
    let link = |name: &str| {
        serde_json::json!({
            "target": home.join(format!(".{name}")),
            "source": repo.join(name),
            "method": "symlink",
            "spelling": fs::read_link(s.home().join(format!(".{name}"))).unwrap(),
        })
    };
    let json = serde_json::json!({
        "version": 1,
        "manifest": repo.join("dotlink.toml"),
        "links": [link("a"), link("b")],
        "dirs": [],
    });
    fs::remove_file(&v2).unwrap();
    fs::write(&v1, json.to_string()).unwrap();
    // Reading commands read version 1 as it is.
    s.run(&["status"]).code(0).stderr_lacks("state file");
    assert!(v1.exists() && !v2.exists());
    // The first writing run migrates it, and the records still prove the links dotlink's.
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0).stdout_has("- ~/.b");
    assert!(!v1.exists(), "the version 1 file is gone");
    let text = fs::read_to_string(&v2).unwrap();
    assert!(text.starts_with("dotlink-state 2\n"), "{text}");
    assert!(text.contains("\ns\t.a\ta\t"), "{text}");
    assert!(!text.contains(".b"), "{text}");
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
}

/// A damaged version 1 file is reported, and left for the user to look at.
#[test]
fn a_damaged_version_1_state_file_is_kept() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0);
    let v2 = s.state_file();
    let v1 = v2.with_extension("json");
    fs::remove_file(&v2).unwrap();
    fs::write(&v1, "{ damaged").unwrap();
    s.run(&["apply"]).code(0).stderr_has("is damaged");
    assert_eq!(fs::read_to_string(&v1).unwrap(), "{ damaged");
}

/// An older dotlink that wrote version 1 after this one wrote version 2: both files are read
/// and merged, so the link only the older one recorded is still pruned.
#[test]
fn records_an_older_dotlink_wrote_beside_version_2_are_merged() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    s.run(&["apply"]).code(0);
    let v2 = s.state_file();
    // What an older dotlink writes: only ~/.b, as JSON, after the version 2 file.
    let repo = s.repo().canonicalize().unwrap();
    let json = serde_json::json!({
        "version": 1,
        "manifest": repo.join("dotlink.toml"),
        "links": [{
            "target": s.home().canonicalize().unwrap().join(".b"),
            "source": repo.join("b"),
            "method": "symlink",
            "spelling": fs::read_link(s.home().join(".b")).unwrap(),
        }],
    });
    let text = fs::read_to_string(&v2).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("s\t.b\t"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&v2, kept).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(v2.with_extension("json"), json.to_string()).unwrap();
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0).stdout_has("- ~/.b");
    assert!(!v2.with_extension("json").exists());
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
}

/// A state file that cannot be read, or that is not a file (a fifo would block), is a note:
/// it never stops or hangs a run.
#[test]
fn a_state_file_that_is_not_a_file_never_blocks_or_hangs_a_run() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0);
    let v2 = s.state_file();
    fs::create_dir(v2.with_extension("json")).unwrap();
    s.run(&["status"]).code(0).stderr_has("cannot be read");
    s.run(&["apply"]).code(0);
    s.run(&["apply"]).code(0);
    fs::remove_dir(v2.with_extension("json")).unwrap();
    fs::remove_file(&v2).unwrap();
    let fifo = std::ffi::CString::new(v2.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let run = s
        .command()
        .arg("status")
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(run.status.code().is_some(), "status hung on a fifo");
}

/// A repository moved to where dotlink's links were (a hard link's target is now the
/// repository's own file): pruning the taken-over record never deletes it.
#[test]
fn a_record_whose_target_is_now_in_the_repository_is_forgotten_not_pruned() {
    let s = Sandbox::new();
    let dots = s.home().join("dots");
    fs::create_dir(&dots).unwrap();
    fs::write(dots.join("vimrc"), "precious").unwrap();
    let manifest = "[[link]]\nsource = \"vimrc\"\ntarget = \"~/.vim/vimrc\"\nmethod = \"hardlink\"\n[[link]]\nsource = \"vimrc\"\ntarget = \"~/.vimrc\"\nmethod = \"hardlink\"\n";
    fs::write(dots.join("dotlink.toml"), manifest).unwrap();
    s.run_in(&dots, &["apply", "-q"], &[]).code(0);
    fs::remove_dir_all(s.home().join(".vim")).unwrap();
    let moved = s.home().join(".vim");
    fs::rename(&dots, &moved).unwrap();
    fs::write(
        moved.join("dotlink.toml"),
        "[[link]]\nsource = \"vimrc\"\ntarget = \"~/.vimrc\"\nmethod = \"hardlink\"\n",
    )
    .unwrap();
    s.run_in(&moved, &["apply"], &[])
        .code(0)
        .stderr_has("inside the repository");
    assert_eq!(fs::read_to_string(moved.join("vimrc")).unwrap(), "precious");
}
