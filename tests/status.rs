//! `status`: every state word, human and JSON output, and exit codes 0 / 1 / 2.

use crate::common::Sandbox;
use std::fs;

/// One declared target in each state: ok, missing, wrong, conflict, dangling, orphan.
fn every_state() -> Sandbox {
    let s = Sandbox::new();
    s.source("ok", "1")
        .source("missing", "2")
        .source("wrong", "3")
        .source("conflict", "4")
        .source("dangling", "5")
        .source("config/gone", "6")
        .source("config/stays", "7")
        .source("orphan", "8");
    s.manifest(
        r#"
[[link]]
source = "ok"
target = "~/.ok"
[[link]]
source = "wrong"
target = "~/.wrong"
[[link]]
source = "orphan"
target = "~/.orphan"
[[link]]
source = "config/*"
target = "~/.config/"
"#,
    );
    s.run(&["apply"]).code(0);
    // orphan: dropped from the manifest; dangling: its source deleted; wrong: points elsewhere
    // in the repository; conflict: a file of the user's; missing: newly declared.
    fs::remove_file(s.repo().join("config/gone")).unwrap();
    fs::remove_file(s.home().join(".wrong")).unwrap();
    s.home_link(".wrong", "../repo/dangling");
    s.home_file(".conflict", "mine");
    s.manifest(
        r#"
[[link]]
source = "ok"
target = "~/.ok"
[[link]]
source = "missing"
target = "~/.missing"
[[link]]
source = "wrong"
target = "~/.wrong"
[[link]]
source = "conflict"
target = "~/.conflict"
[[link]]
source = "config/*"
target = "~/.config/"
"#,
    );
    s
}

/// A plan of a thousand links and more looks at the targets of its second half on another
/// thread, ahead of time (test builds do it from two links): what it decides must not depend
/// on that. Every state, a hard link and a user's file in a linked tree, planned both ways.
#[test]
fn looking_ahead_on_a_second_thread_changes_no_decision() {
    let s = every_state();
    s.source("hard", "h")
        .source("d/one", "1")
        .source("d/two", "2");
    let manifest = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap()
        + "[[link]]\nsource = \"hard\"\ntarget = \"~/.hard\"\nmethod = \"hardlink\"\n"
        + "[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\nrecursive = true\n";
    s.manifest(&manifest);
    s.run(&["apply", "--on-conflict", "skip"]).code(0);
    fs::remove_file(s.home().join(".d/one")).unwrap();
    s.home_file(".d/one", "edited");
    let both_ways = |args: &[&str]| {
        let by = |from: &str| {
            let run = s.run_env(args, &[("DOTLINK_LOOK_AHEAD_FROM", from)]);
            (run.code, run.stdout, run.stderr)
        };
        let alone = by("1000000");
        assert!(alone.1.contains(".d/one"), "{alone:?}");
        for from in ["0", "1", "2", "3"] {
            assert_eq!(by(from), alone, "{args:?} looking ahead from {from}");
        }
    };
    both_ways(&["status", "--json"]);
    both_ways(&["plan", "--json"]);
    both_ways(&["apply", "--dry-run", "--color", "never"]);
}

#[test]
fn status_shows_one_line_per_target_with_its_state_word() {
    let s = every_state();
    let run = s.run(&["status", "--verbose"]);
    run.code(1);
    let line = |word: &str, target: &str| {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with(word) && l.contains(target)),
            "no `{word}` line for {target}:\n{}",
            run.stdout
        )
    };
    line("ok", "~/.ok");
    line("ok", "~/.config/stays");
    line("missing", "~/.missing");
    line("wrong", "~/.wrong");
    line("conflict", "~/.conflict");
    line("dangling", "~/.config/gone");
    line("orphan", "~/.orphan");
    run.stdout_has("2 ok, 1 missing, 1 wrong, 1 conflict, 1 dangling, 1 orphan");
}

#[test]
fn status_json_has_entries_with_absolute_paths_and_a_summary() {
    let s = every_state();
    let run = s.run(&["status", "--json"]);
    run.code(1);
    let json = run.json();
    let entries = json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 7);
    let find = |target: &str| {
        let path = s.home().join(target).display().to_string();
        entries
            .iter()
            .find(|e| e["target"] == path.as_str())
            .unwrap_or_else(|| panic!("no entry {path}"))
            .clone()
    };
    let ok = find(".ok");
    assert_eq!(ok["state"], "ok");
    assert_eq!(ok["source"], s.repo().join("ok").display().to_string());
    assert!(ok["reason"].is_string());
    assert_eq!(find(".missing")["state"], "missing");
    assert_eq!(find(".wrong")["state"], "wrong");
    assert_eq!(find(".conflict")["state"], "conflict");
    assert!(
        find(".conflict")["reason"]
            .as_str()
            .unwrap()
            .contains("regular file")
    );
    let dangling = find(".config/gone");
    assert_eq!(dangling["state"], "dangling");
    assert!(
        dangling["reason"]
            .as_str()
            .unwrap()
            .contains(&s.repo().join("config/gone").display().to_string())
    );
    assert_eq!(find(".orphan")["state"], "orphan");
    let summary = &json["summary"];
    assert_eq!(summary["ok"], 2);
    assert_eq!(summary["missing"], 1);
    assert_eq!(summary["wrong"], 1);
    assert_eq!(summary["conflict"], 1);
    assert_eq!(summary["dangling"], 1);
    assert_eq!(summary["orphan"], 1);
}

#[test]
fn status_exits_0_when_everything_is_ok() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["status"]).code(1).stdout_has("missing");
    s.run(&["apply"]).code(0);
    // Quiet when all is well: one line; -v lists every target.
    let run = s.run(&["status"]);
    run.code(0).stdout_has("1 link up to date");
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    s.run(&["status", "-v"])
        .code(0)
        .stdout_has("ok ")
        .stdout_has("1 ok");
    let json = s.run(&["status", "--json"]);
    json.code(0);
    assert_eq!(json.json()["summary"]["ok"], 1);
}

#[test]
fn status_exits_2_on_a_manifest_error() {
    let s = Sandbox::new();
    s.manifest("[[link]\nsource = 1\n");
    s.run(&["status"]).code(2).stderr_has("dotlink.toml:1:");
    s.run(&["status", "--json"]).code(2);
}

#[test]
fn status_writes_nothing() {
    let s = every_state();
    let before = s.whole_tree();
    s.run(&["status"]).code(1);
    s.run(&["status", "--json"]).code(1);
    assert_eq!(s.whole_tree(), before);
}

#[test]
fn a_dangling_link_into_the_repository_is_relinked_by_apply() {
    let s = every_state();
    s.run(&["apply", "--on-conflict", "skip"]).code(0);
    let run = s.run(&["status", "-v"]);
    run.stdout_has("4 ok, 1 conflict");
    // Without -v, only what needs attention, then the counts.
    let quiet = s.run(&["status"]);
    let words: Vec<&str> = quiet
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(words, ["conflict", "4"], "{}", quiet.stdout);
    let words: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        words,
        ["ok", "conflict", "ok", "ok", "ok", "4"],
        "{}",
        run.stdout
    );
    assert!(
        !s.home().join(".config/gone").is_symlink(),
        "dangling orphan pruned"
    );
    assert!(!s.home().join(".orphan").exists(), "orphan pruned");
    assert_eq!(
        fs::read_to_string(s.home().join(".conflict")).unwrap(),
        "mine"
    );
}

#[test]
fn a_declared_symlink_to_a_missing_repository_file_is_dangling() {
    let s = Sandbox::new();
    s.source("new", "n")
        .manifest("[[link]]\nsource = \"new\"\ntarget = \"~/.x\"\n");
    s.home_link(".x", "../repo/old-name");
    s.run(&["status"]).code(1).stdout_has("dangling");
    s.run(&["apply"]).code(0).stdout_has("~ ~/.x");
    s.run(&["status"]).code(0);
}

/// A target's directory reached through a symlink whose text passes through a directory the
/// user cannot enter (`~/.cfg -> locked/../real`): the kernel refuses the target as spelled,
/// but its real place can be read, and that is where it is looked at (not a conflict that
/// stops the run).
#[test]
fn a_target_spelled_through_a_directory_that_cannot_be_entered_is_looked_at_where_it_is() {
    use std::os::unix::fs::PermissionsExt;
    let s = Sandbox::new();
    s.source("a", "1").source("b", "2").manifest(
        "[[link]]\nsource = \"a\"\ntarget = \"~/.cfg/a\"\n\
         [[link]]\nsource = \"b\"\ntarget = \"~/.cfg/b\"\n",
    );
    fs::create_dir(s.home().join("real")).unwrap();
    fs::create_dir(s.home().join("locked")).unwrap();
    s.home_link(".cfg", "locked/../real");
    fs::set_permissions(s.home().join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
    s.run_unprivileged(&["apply"])
        .code(0)
        .stdout_has("2 created");
    assert_eq!(s.link_at("real/a"), Some("../../repo/a".into()));
    assert_eq!(s.link_at("real/b"), Some("../../repo/b".into()));
    s.run_unprivileged(&["status"])
        .code(0)
        .stdout_has("2 links up to date");
}

/// A declared target whose source is gone, below a directory link this run prunes: once the
/// link is gone nothing is there, so it is `missing`, not `dangling` (what the old link leads
/// to, a link in the repository, is not at the target).
#[test]
fn a_missing_source_below_a_link_this_run_removes_is_missing() {
    let s = Sandbox::new();
    s.source("nvim/init.lua", "1")
        .manifest("[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\n");
    s.run(&["apply"]).code(0);
    std::os::unix::fs::symlink(s.repo().join("other/gone"), s.repo().join("nvim/foo")).unwrap();
    s.manifest("[[link]]\nsource = \"other/gone\"\ntarget = \"~/.config/nvim/foo\"\n");
    let run = s.run(&["status", "--json"]);
    run.code(1);
    let json = run.json();
    let foo = s.home().join(".config/nvim/foo").display().to_string();
    let entry = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"] == foo.as_str())
        .unwrap_or_else(|| panic!("no entry for {foo}: {json}"))
        .clone();
    assert_eq!(entry["state"], "missing", "{entry}");
    assert_eq!(json["summary"]["orphan"], 1, "{json}");
}
