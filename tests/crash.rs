//! Crash safety: a run killed after any number of filesystem changes leaves every target as it
//! was or as planned, loses nothing, and the next run recovers and finishes the job.
//!
//! The binary under test is built with the `fault-injection` feature, so
//! `DOTLINK_FAULT_AFTER=N` aborts it (like `kill -9`) at its fault point N+1: there is one
//! just before and one just after each filesystem change.

mod common;

use common::{Sandbox, Tree};
use std::fs;
use std::path::{Path, PathBuf};

/// A home with one of every kind of step: create with new directories, relink, back up a file
/// and a directory, overwrite a file and a directory, and prune a link with its directory.
fn scenario() -> Sandbox {
    let s = Sandbox::new();
    for (path, text) in [
        ("a", "a"),
        ("b1", "b1"),
        ("b2", "b2"),
        ("c", "c"),
        ("d/inner", "d"),
        ("e", "e"),
        ("g", "g"),
        ("h/inner", "h"),
    ] {
        s.source(path, text);
    }
    s.manifest("[[link]]\nsource = \"b1\"\ntarget = \"~/.b\"\n[[link]]\nsource = \"e\"\ntarget = \"~/.old/e\"\n");
    s.run(&["apply"]).code(0);
    s.home_file(".c", "user c")
        .home_file(".d/notes", "user d")
        .home_file(".d/deeper/more", "user d2");
    s.home_file(".g", "user g").home_file(".h/x", "user h");
    s.manifest(
        r#"
[defaults]
on_conflict = "backup"
[[link]]
source = "a"
target = "~/.new/sub/a"
[[link]]
source = "b2"
target = "~/.b"
[[link]]
source = "c"
target = "~/.c"
[[link]]
source = "d"
target = "~/.d"
[[link]]
source = "g"
target = "~/.g"
on_conflict = "overwrite"
[[link]]
source = "h"
target = "~/.h"
on_conflict = "overwrite"
"#,
    );
    s
}

/// What each target may be while a run is under way: its state before, or the planned link.
fn allowed(target: &str) -> (Option<&'static str>, &'static str) {
    match target {
        ".new/sub/a" => (None, "link -> ../../../repo/a"),
        ".b" => (Some("link -> ../repo/b1"), "link -> ../repo/b2"),
        ".c" => (Some("file"), "link -> ../repo/c"),
        ".d" => (Some("dir"), "link -> ../repo/d"),
        ".g" => (Some("file"), "link -> ../repo/g"),
        ".h" => (Some("dir"), "link -> ../repo/h"),
        ".old/e" => (Some("link -> ../../repo/e"), "(absent)"),
        _ => unreachable!(),
    }
}

fn kind(tree: &Tree, path: &str) -> String {
    match tree.get(Path::new(path)) {
        None => "(absent)".into(),
        Some(what) if what.starts_with("link") => what.clone(),
        Some(what) => what.split(' ').next().unwrap().to_string(),
    }
}

/// Every piece of user data that no policy may lose (`.g` and `.h` are overwritten on purpose).
const PRECIOUS: [&str; 3] = ["user c", "user d", "user d2"];

fn contents_anywhere(root: &Path) -> Vec<String> {
    common::tree(root)
        .into_values()
        .filter(|v| v.starts_with("file"))
        .collect()
}

#[test]
fn a_run_killed_at_any_step_is_consistent_and_recovered() {
    // The reference: the same run, uninterrupted.
    let reference = scenario();
    reference.run(&["apply"]).code(0);
    let expected = reference.home_tree();

    let mut stopped = 0;
    for n in 0.. {
        let s = scenario();
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", &n.to_string())]);
        if run.code == 0 {
            assert!(n > 10, "the run has more than {n} changes");
            break;
        }
        stopped += 1;
        assert!(
            run.stderr.contains("fault injected"),
            "step {n}: {}",
            run.stderr
        );

        // While stopped: every target as it was or as planned, and nothing precious lost.
        let home = s.home_tree();
        for target in [".new/sub/a", ".b", ".c", ".d", ".g", ".h", ".old/e"] {
            let now = kind(&home, target);
            let (before, planned) = allowed(target);
            let ok = now == planned || before.map_or(now == "(absent)", |b| now == b);
            assert!(
                ok,
                "step {n}: {target} is {now}, neither as it was ({before:?}) nor as planned ({planned})"
            );
        }
        let everything = contents_anywhere(&s.path());
        for precious in PRECIOUS {
            assert!(
                everything.iter().any(|c| c.ends_with(precious)),
                "step {n}: {precious:?} lost"
            );
        }
        // Status notices the interrupted run and changes nothing.
        let frozen = s.whole_tree();
        let status = s.run(&["status"]);
        assert_eq!(s.whole_tree(), frozen, "step {n}: status wrote something");
        if fs::read_dir(s.state().join("dotlink"))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".journal.json"))
        {
            status.stderr_has("interrupted run");
        }

        // The next run recovers and finishes: the same home as the uninterrupted run.
        s.run(&["apply"]).code(0);
        assert_eq!(
            s.home_tree(),
            expected,
            "step {n}: recovery did not converge"
        );
        s.run(&["status"]).code(0);
        s.run(&["apply"]).code(0).stdout_has("Nothing to do");
        let leftovers: Vec<PathBuf> = s
            .whole_tree()
            .into_keys()
            .filter(|p| {
                p.to_string_lossy().contains("dotlink-tmp")
                    || p.to_string_lossy().ends_with(".partial")
            })
            .collect();
        assert!(leftovers.is_empty(), "step {n}: {leftovers:?}");
        let everything = contents_anywhere(&s.path());
        for precious in PRECIOUS {
            assert!(
                everything.iter().any(|c| c.ends_with(precious)),
                "step {n}: {precious:?} lost after recovery"
            );
        }
        // And the recovered links are dotlink's: unlink removes every one of them.
        s.run(&["unlink"]).code(0);
        let left: Vec<_> = s
            .home_tree()
            .into_iter()
            .filter(|(_, v)| v.starts_with("link"))
            .collect();
        assert!(left.is_empty(), "step {n}: unlink left {left:?}");
    }
    assert!(stopped > 10, "only {stopped} stop points were exercised");
}

#[test]
fn recovery_is_reported() {
    let s = scenario();
    // Stop after the first few changes, part way through.
    s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", "5")]);
    let run = s.run(&["apply"]);
    run.code(0)
        .stderr_has("found an interrupted run")
        .stderr_has("recovered it");
}
