//! Conflict policies on real trees: fail changes nothing at all, skip does the rest, backup
//! keeps every displaced thing (never overwriting an earlier backup), overwrite only when
//! asked; and pruning and unlink remove only dotlink's own links.

use crate::common::Sandbox;
use std::fs;
use std::path::{Path, PathBuf};

/// Three targets: one free, one with a user's file in the way, one with a user's directory.
fn conflicted(policy: Option<&str>) -> Sandbox {
    let s = Sandbox::new();
    s.source("a", "repo a")
        .source("b", "repo b")
        .source("c/inner", "repo c");
    let policy = policy
        .map(|p| format!("[defaults]\non_conflict = \"{p}\"\n"))
        .unwrap_or_default();
    s.manifest(&format!(
        "{policy}[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n[[link]]\nsource = \"c\"\ntarget = \"~/.c\"\n"
    ));
    s.home_file(".b", "user b");
    s.home_file(".c/notes", "user notes");
    s.home_link(".d-foreign", "/etc/hostname");
    s
}

#[test]
fn fail_is_the_default_and_changes_nothing_at_all() {
    let s = conflicted(None);
    let before = s.whole_tree();
    s.run(&["apply"])
        .code(1)
        .stdout_has("! ~/.b")
        .stdout_has("! ~/.c")
        .stdout_has("a regular file is in the way")
        .stdout_has("a directory is in the way")
        .stderr_has("2 conflicts; nothing was changed (policy `fail`)")
        .stderr_has("--on-conflict backup");
    assert_eq!(
        s.whole_tree(),
        before,
        "fail must not change anything, not even the free target"
    );
}

#[test]
fn fail_from_one_entry_stops_entries_with_other_policies() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\non_conflict = \"overwrite\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    s.home_file(".a", "user a").home_file(".b", "user b");
    let before = s.whole_tree();
    s.run(&["apply"]).code(1);
    assert_eq!(s.whole_tree(), before);
}

#[test]
fn skip_leaves_conflicts_and_does_the_rest() {
    let s = conflicted(Some("skip"));
    s.run(&["apply"])
        .code(0)
        .stdout_has("(skipped)")
        .stdout_has("Applied: 1 created, 2 conflicts left.");
    assert!(s.home().join(".a").is_symlink());
    assert_eq!(fs::read_to_string(s.home().join(".b")).unwrap(), "user b");
    assert_eq!(
        fs::read_to_string(s.home().join(".c/notes")).unwrap(),
        "user notes"
    );
    s.run(&["status"]).code(1).stdout_has("1 ok, 2 conflict");
}

#[test]
fn backup_moves_what_is_in_the_way_and_says_where() {
    let s = conflicted(Some("backup"));
    let run = s.run(&["apply"]);
    run.code(0)
        .stdout_has("backed up ~/.b → ")
        .stdout_has("backed up ~/.c → ")
        .stdout_has("2 backed up");
    let sets = s.backup_sets();
    assert_eq!(sets.len(), 1);
    let set = &sets[0];
    let name = set.file_name().unwrap().to_str().unwrap();
    assert!(
        name.len() == 16 && name.ends_with('Z') && name.as_bytes()[8] == b'T',
        "UTC stamp: {name}"
    );
    assert_eq!(fs::read_to_string(set.join(".b")).unwrap(), "user b");
    assert_eq!(
        fs::read_to_string(set.join(".c/notes")).unwrap(),
        "user notes"
    );
    assert!(
        run.stdout.contains(&set.join(".b").display().to_string()),
        "{}",
        run.stdout
    );
    assert_eq!(fs::read_to_string(s.home().join(".b")).unwrap(), "repo b");
    assert_eq!(
        fs::read_to_string(s.home().join(".c/inner")).unwrap(),
        "repo c"
    );
    s.run(&["status"]).code(0);
}

#[test]
fn backup_never_overwrites_an_earlier_backup() {
    let s = Sandbox::new();
    s.source("b", "repo")
        .manifest("[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\non_conflict = \"backup\"\n");
    let mut seen = Vec::new();
    for round in 0..3 {
        fs::remove_file(s.home().join(".b")).ok();
        s.home_file(".b", &format!("version {round}"));
        s.run(&["apply"]).code(0);
        seen.push(format!("version {round}"));
    }
    let sets = s.backup_sets();
    assert_eq!(sets.len(), 3, "{sets:?}");
    let mut kept: Vec<String> = sets
        .iter()
        .map(|set| fs::read_to_string(set.join(".b")).unwrap())
        .collect();
    kept.sort();
    assert_eq!(kept, seen);
}

#[test]
fn backup_dir_from_the_manifest_is_used() {
    let s = Sandbox::new();
    s.source("b", "repo")
        .manifest("[defaults]\nbackup_dir = \"~/my-backups\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.config/b\"\non_conflict = \"backup\"\n");
    s.home_file(".config/b", "user");
    s.run(&["apply"])
        .code(0)
        .stdout_has("backed up ~/.config/b → ~/my-backups/");
    let set = fs::read_dir(s.home().join("my-backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    assert_eq!(fs::read_to_string(set.join(".config/b")).unwrap(), "user");
}

#[test]
fn overwrite_removes_what_is_in_the_way_only_when_asked() {
    let s = conflicted(None);
    s.run(&["apply", "--on-conflict", "overwrite"])
        .code(0)
        .stdout_has("(overwrite)");
    assert_eq!(fs::read_to_string(s.home().join(".b")).unwrap(), "repo b");
    assert!(s.home().join(".c").is_symlink());
    assert!(s.backup_sets().is_empty());
    assert_eq!(fs::read_to_string(s.repo().join("b")).unwrap(), "repo b");
}

#[test]
fn a_foreign_symlink_is_a_conflict() {
    let s = Sandbox::new();
    s.source("x", "x")
        .manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\n");
    s.home_link(".x", "/etc/hostname");
    s.run(&["status"])
        .code(1)
        .stdout_has("conflict")
        .stdout_has("did not make");
    s.run(&["apply"]).code(1);
    assert_eq!(s.link_at(".x").unwrap(), PathBuf::from("/etc/hostname"));
    s.run(&["apply", "--on-conflict", "backup"]).code(0);
    let set = &s.backup_sets()[0];
    assert_eq!(
        fs::read_link(set.join(".x")).unwrap(),
        PathBuf::from("/etc/hostname")
    );
}

#[test]
fn a_link_dotlink_made_is_relinked_freely() {
    let s = Sandbox::new();
    s.source("one", "1")
        .source("two", "2")
        .manifest("[[link]]\nsource = \"one\"\ntarget = \"~/.x\"\n");
    s.run(&["apply"]).code(0);
    s.manifest("[[link]]\nsource = \"two\"\ntarget = \"~/.x\"\n");
    s.run(&["status"]).code(1).stdout_has("wrong");
    s.run(&["apply"])
        .code(0)
        .stdout_has("~ ~/.x")
        .stdout_has("1 relinked");
    assert_eq!(fs::read_to_string(s.home().join(".x")).unwrap(), "2");
}

#[test]
fn pruning_removes_links_the_manifest_dropped_and_their_empty_directories() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.deep/er/b\"\n");
    s.home_file(".deep/user-file", "keep");
    s.run(&["apply"]).code(0);
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"])
        .code(0)
        .stdout_has("- ~/.deep/er/b")
        .stdout_has("1 pruned");
    assert!(
        !s.home().join(".deep/er").exists(),
        "the directory dotlink created is gone"
    );
    assert_eq!(
        fs::read_to_string(s.home().join(".deep/user-file")).unwrap(),
        "keep"
    );
    assert!(s.home().join(".a").is_symlink());
}

#[test]
fn no_prune_and_prune_false_keep_orphans() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    s.run(&["apply"]).code(0);
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply", "--no-prune"]).code(0);
    assert!(s.home().join(".b").is_symlink());
    s.manifest("[defaults]\nprune = false\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0);
    assert!(s.home().join(".b").is_symlink());
    s.run(&["status"]).code(1).stdout_has("orphan");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0).stdout_has("1 pruned");
    assert!(!s.home().join(".b").exists());
}

#[test]
fn pruning_leaves_a_recorded_target_the_user_changed() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    s.run(&["apply"]).code(0);
    fs::remove_file(s.home().join(".b")).unwrap();
    s.home_file(".b", "now mine");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"])
        .code(0)
        .stderr_has("~/.b is no longer dotlink's: it was changed since dotlink made it");
    assert_eq!(fs::read_to_string(s.home().join(".b")).unwrap(), "now mine");
}

#[test]
fn unlink_removes_only_links_that_still_point_at_their_source() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b").source("c", "c");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n[[link]]\nsource = \"c\"\ntarget = \"~/.sub/c\"\n");
    s.home_file(".unrelated", "u");
    s.run(&["apply"]).code(0);
    fs::remove_file(s.home().join(".b")).unwrap();
    s.home_link(".b", "/etc/hostname");
    let dry = s.whole_tree();
    s.run(&["unlink", "--dry-run"])
        .code(0)
        .stdout_has("- ~/.a")
        .stdout_has("Dry run");
    assert_eq!(s.whole_tree(), dry);
    s.run(&["unlink"])
        .code(0)
        .stdout_has("- ~/.a")
        .stdout_has("- ~/.sub/c");
    assert!(!s.home().join(".a").exists());
    assert!(
        !s.home().join(".sub").exists(),
        "directory dotlink made is removed once empty"
    );
    assert_eq!(s.link_at(".b").unwrap(), PathBuf::from("/etc/hostname"));
    assert_eq!(
        fs::read_to_string(s.home().join(".unrelated")).unwrap(),
        "u"
    );
    assert_eq!(fs::read_to_string(s.repo().join("a")).unwrap(), "a");
    s.run(&["unlink"]).code(0).stdout_has("Nothing to do");
}

#[test]
fn unlink_works_even_when_the_manifest_is_broken() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0);
    s.manifest("this is [ not toml");
    s.run(&["status"]).code(2);
    s.run(&["unlink"]).code(0);
    assert!(!s.home().join(".a").exists());
}

#[test]
fn a_file_where_a_directory_is_needed_is_cleared_by_backup_and_overwrite() {
    for policy in ["fail", "skip", "backup", "overwrite"] {
        let s = Sandbox::new();
        s.source("bin/a", "a").source("bin/sub/b", "b");
        s.manifest("[[link]]\nsource = \"bin\"\ntarget = \"~/.local/bin\"\nrecursive = true\n");
        s.home_file(".local/bin", "a file, not a directory");
        let before = s.whole_tree();
        let run = s.run(&["apply", "--on-conflict", policy]);
        match policy {
            "fail" => {
                run.code(1)
                    .stdout_has("~/.local/bin is a file, not a directory");
                assert_eq!(s.whole_tree(), before);
            }
            "skip" => {
                run.code(0).stdout_has("(skipped)");
                assert_eq!(s.whole_tree(), before);
            }
            _ => {
                run.code(0)
                    .stdout_has("! ~/.local/bin ")
                    .stdout_has("2 created");
                assert!(s.home().join(".local/bin").is_dir());
                assert_eq!(
                    fs::read_to_string(s.home().join(".local/bin/sub/b")).unwrap(),
                    "b"
                );
                s.run(&["status"]).code(0);
                if policy == "backup" {
                    let set = &s.backup_sets()[0];
                    assert_eq!(
                        fs::read_to_string(set.join(".local/bin")).unwrap(),
                        "a file, not a directory"
                    );
                }
            }
        }
    }
}

/// Two entries with different policies below one file in the way of their directory: the
/// strictest decides for both, whichever is listed first and whichever name sorts first
/// (`b` before `z`). A `backup` beside an `overwrite` keeps the file; a `skip` or a `fail`
/// beside either leaves it alone (a `fail` changes nothing at all).
#[test]
fn a_file_in_the_way_of_several_links_is_decided_by_their_strictest_policy() {
    let cases = [
        ("backup", "overwrite", "backup"),
        ("skip", "overwrite", "skip"),
        ("skip", "backup", "skip"),
        ("fail", "overwrite", "fail"),
    ];
    for (one, other, strictest) in cases {
        for (z_policy, b_policy) in [(one, other), (other, one)] {
            for z_first in [true, false] {
                let s = Sandbox::new();
                s.source("a1", "1").source("a2", "2");
                let z = format!(
                    "[[link]]\nsource = \"a1\"\ntarget = \"~/.a/z\"\non_conflict = \"{z_policy}\"\n"
                );
                let b = format!(
                    "[[link]]\nsource = \"a2\"\ntarget = \"~/.a/b\"\non_conflict = \"{b_policy}\"\n"
                );
                let text = if z_first { z + &b } else { b + &z };
                s.manifest(&text);
                s.home_file(".a", "PRECIOUS");
                let before = s.whole_tree();
                let case = format!("{z_policy} at z, {b_policy} at b, z first: {z_first}");
                let run = s.run(&["apply"]);
                match strictest {
                    "backup" => {
                        run.code(0)
                            .stdout_has("1 backed up")
                            .stdout_lacks("overwritten");
                        let set = &s.backup_sets()[0];
                        assert_eq!(
                            fs::read_to_string(set.join(".a")).unwrap(),
                            "PRECIOUS",
                            "{case}"
                        );
                        assert!(s.home().join(".a").is_dir(), "{case}");
                    }
                    "skip" => {
                        run.code(0).stdout_has("(skipped)");
                        assert_eq!(s.whole_tree(), before, "{case}");
                    }
                    _ => {
                        run.code(1);
                        assert_eq!(s.whole_tree(), before, "{case}");
                    }
                }
            }
        }
    }
}

/// The strictest policy decides also for what the links' looks cannot see past: a symlink loop
/// at `~/.a` (`~/.a -> .a`). And what no policy may clear (a file outside the home) stays
/// each link's own conflict: the `overwrite` link cannot be resolved, and the run exits 1.
#[test]
fn the_strictest_policy_decides_past_a_loop_and_never_for_what_cannot_be_cleared() {
    for (b_policy, strictest) in [("fail", "fail"), ("backup", "backup")] {
        let s = Sandbox::new();
        s.source("fa", "A").source("fb", "B");
        s.manifest(&format!(
            "[[link]]\nsource = \"fb\"\ntarget = \"~/.a/b\"\non_conflict = \"{b_policy}\"\n[[link]]\nsource = \"fa\"\ntarget = \"~/.a/a\"\non_conflict = \"overwrite\"\n"
        ));
        s.home_link(".a", ".a");
        let before = s.whole_tree();
        let run = s.run(&["apply"]);
        match strictest {
            "fail" => {
                run.code(1);
                assert_eq!(s.whole_tree(), before);
            }
            _ => {
                run.code(0)
                    .stdout_has("1 backed up")
                    .stdout_lacks("overwritten");
                let set = &s.backup_sets()[0];
                assert_eq!(fs::read_link(set.join(".a")).unwrap(), Path::new(".a"));
                assert!(s.home().join(".a").is_dir());
            }
        }
    }
    let s = Sandbox::new();
    s.source("fa", "A").source("fb", "B");
    let out = s.path().join("out");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("f"), "outside").unwrap();
    s.manifest(&format!(
        "[[link]]\nsource = \"fb\"\ntarget = \"{0}/f/b\"\non_conflict = \"skip\"\nallow_outside_home = true\n[[link]]\nsource = \"fa\"\ntarget = \"{0}/f/a\"\non_conflict = \"overwrite\"\nallow_outside_home = true\n",
        out.display()
    ));
    let before = s.whole_tree();
    s.run(&["apply"]).code(1).stdout_has("cannot be resolved");
    assert_eq!(s.whole_tree(), before);
}
