//! Crash safety: a run killed after any number of filesystem changes leaves every target as it
//! was or as planned, loses nothing, and the next run recovers and finishes the job.
//!
//! The binary under test is built with the `fault-injection` feature, so
//! `DOTLINK_FAULT_AFTER=N` aborts it (like `kill -9`) at its fault point N+1: there is one
//! just before and one just after each filesystem change.

use crate::common::{Sandbox, Tree};
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

/// While stopped at step `n`: every target as it was or as planned, and nothing precious lost.
fn as_it_was_or_as_planned(s: &Sandbox, n: usize) {
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
    let everything = s.contents_anywhere();
    for precious in PRECIOUS {
        assert!(
            everything.iter().any(|c| c.ends_with(precious)),
            "step {n}: {precious:?} lost"
        );
    }
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

        as_it_was_or_as_planned(&s, n);
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

        // The next run recovers and finishes: the same home as the uninterrupted run, with
        // every backup of the two runs in one set, so one restore puts them all back.
        s.run(&["apply"]).code(0);
        assert!(
            s.backup_sets().len() <= 1,
            "step {n}: {:?}",
            s.backup_sets()
        );
        assert_eq!(
            s.home_tree(),
            expected,
            "step {n}: recovery did not converge"
        );
        s.run(&["status"]).code(0);
        s.run(&["apply"]).code(0).stdout_has("Nothing to do");
        let leftovers = s.leftovers();
        assert!(leftovers.is_empty(), "step {n}: {leftovers:?}");
        let everything = s.contents_anywhere();
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
fn a_journal_left_without_its_lock_file_is_recovered_before_any_target_is_looked_at() {
    // `apply` takes the lock before it walks the repository when it can, and then looks at the
    // recorded targets while it walks. An interrupted run whose lock file is gone (a run that
    // stopped on an error it could not undo, or a user's clean-up) is recovered first:
    // recovery changes targets (here it puts `.c` back from its backup), so what was looked
    // at before it would be stale, and the link would be made where `.c` is again.
    let scenario = || {
        let s = Sandbox::new();
        s.source("c", "c");
        s.manifest(
            "[defaults]\non_conflict = \"backup\"\n[[link]]\nsource = \"c\"\ntarget = \"~/.c\"\n",
        );
        s.run(&["apply"]).code(0);
        fs::remove_file(s.home().join(".c")).unwrap();
        s.home_file(".c", "user c");
        s
    };
    let mut stopped = 0;
    for n in 0.. {
        let s = scenario();
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", &n.to_string())]);
        if run.code == 0 {
            break;
        }
        stopped += 1;
        fs::remove_file(s.state().join("dotlink/lock")).unwrap();
        s.run(&["apply"]).code(0);
        let home = s.home_tree();
        assert_eq!(kind(&home, ".c"), "link -> ../repo/c", "step {n}");
        let everything = s.contents_anywhere();
        assert!(
            everything.iter().any(|c| c.ends_with("user c")),
            "step {n}: the user's file is lost"
        );
        s.run(&["status"]).code(0);
    }
    assert!(stopped >= 2, "only {stopped} stop points were exercised");
}

#[test]
fn a_lock_file_that_cannot_be_rewritten_still_names_the_killed_runs() {
    // A killed run left its lock file and a temporary. The next run cannot write the lock file
    // (a file size limit here; a full disk): it stops, and the killed run's id stays in the
    // file, so the run after it still removes that temporary.
    let s = Sandbox::new();
    s.source("a", "a");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0);
    let dir = s.state().join("dotlink");
    fs::write(dir.join("lock"), "999997").unwrap();
    let temporary = dir.join(".x.dotlink-tmp-999997-abc");
    fs::write(&temporary, "left by the killed run").unwrap();
    let mut cmd = s.command_under(Path::new("/usr/bin/env"), &[]);
    cmd.arg("apply");
    // SAFETY: only async-signal-safe calls, between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &none);
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("lock file"), "{stderr}");
    let names = fs::read_to_string(dir.join("lock")).unwrap();
    assert!(
        names.contains("999997"),
        "the killed run is forgotten: {names:?}"
    );
    assert!(temporary.exists());
    s.run(&["apply"]).code(0);
    assert!(!temporary.exists(), "the killed run's temporary is left");
    assert!(!dir.join("lock").exists());
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

/// A home with one of each kind of thing in the way — a file, a directory, a foreign symlink,
/// a file with a second hard link, a directory of dotlink's own links — plus a relink, a
/// create with new directories and a prune, all under `policy`.
fn everything_in_the_way(policy: &str) -> Sandbox {
    everything_in_the_way_with(policy, true)
}

/// [`everything_in_the_way`], with or without the prunes (of `~/.old/e`, and of the links in
/// `~/.own`, which is then new): without them, every change is a new or a replaced link, and
/// the links are made on two threads at once (the sandbox has plans of two such links and
/// more made so).
fn everything_in_the_way_with(policy: &str, prune: bool) -> Sandbox {
    let s = Sandbox::new();
    for (path, text) in [
        ("a", "a"),
        ("b1", "b1"),
        ("b2", "b2"),
        ("c", "c"),
        ("d/inner", "d"),
        ("e", "e"),
        ("f", "f"),
        ("k", "k"),
        ("own/x", "x"),
        ("own2/y", "y"),
    ] {
        s.source(path, text);
    }
    // What the second manifest no longer declares, or replaces with a link: pruned.
    let pruned = match prune {
        true => {
            "[[link]]\nsource = \"e\"\ntarget = \"~/.old/e\"\n[[link]]\nsource = \"own\"\ntarget = \"~/.own\"\nrecursive = true\n"
        }
        false => "",
    };
    s.manifest(&format!(
        "[[link]]\nsource = \"b1\"\ntarget = \"~/.b\"\n{pruned}"
    ));
    s.run(&["apply"]).code(0);
    s.home_file(".c", "user c")
        .home_file(".d/notes", "user d")
        .home_file(".d/deeper/more", "user d2")
        .home_file(".k", "user k")
        .home_link(".f", "/elsewhere/user-f");
    fs::hard_link(s.home().join(".k"), s.home().join("k-second-name")).unwrap();
    let mut manifest = format!("[defaults]\non_conflict = \"{policy}\"\n");
    for (source, target) in [
        ("a", "~/.new/sub/a"),
        ("b2", "~/.b"),
        ("c", "~/.c"),
        ("d", "~/.d"),
        ("f", "~/.f"),
        ("k", "~/.k"),
        ("own2", "~/.own"),
    ] {
        manifest.push_str(&format!(
            "[[link]]\nsource = \"{source}\"\ntarget = \"{target}\"\n"
        ));
    }
    s.manifest(&manifest);
    s
}

/// The declared targets of [`everything_in_the_way`], and what each holds once applied.
const DECLARED: [(&str, &str); 7] = [
    (".new/sub/a", "link -> ../../../repo/a"),
    (".b", "link -> ../repo/b2"),
    (".c", "link -> ../repo/c"),
    (".d", "link -> ../repo/d"),
    (".f", "link -> ../repo/f"),
    (".k", "link -> ../repo/k"),
    (".own", "link -> ../repo/own2"),
];

/// The user's data in the way: (where it was, its contents).
const USERS: [(&str, &str); 4] = [
    (".c", "user c"),
    (".d/notes", "user d"),
    (".d/deeper/more", "user d2"),
    (".k", "user k"),
];

/// Every precious byte is at its place in the home or in a backup that `restore --list` shows.
fn nothing_precious_lost(s: &Sandbox, at: &str) {
    let listed = s.run(&["restore", "--list"]).stdout;
    for (path, contents) in USERS {
        let in_place = fs::read_to_string(s.home().join(path)).is_ok_and(|c| c == contents);
        let top = path.split('/').next().unwrap();
        let backed_up = s.backup_sets().iter().any(|set| {
            let name = set.file_name().unwrap().to_string_lossy().into_owned();
            fs::read_to_string(set.join(path)).is_ok_and(|c| c == contents)
                && listed
                    .lines()
                    .any(|l| l.starts_with(&name) && l.contains(&format!("~/{top}")))
        });
        assert!(
            in_place || backed_up,
            "{at}: {path} ({contents:?}) lost\n{listed}"
        );
    }
    let foreign = s.link_at(".f");
    let foreign_kept = foreign == Some(PathBuf::from("/elsewhere/user-f"))
        || s.backup_sets().iter().any(|set| {
            fs::read_link(set.join(".f")).is_ok_and(|l| l == Path::new("/elsewhere/user-f"))
        });
    assert!(foreign_kept, "{at}: the foreign link ~/.f was lost");
}

/// Nothing is left at a temporary name or as a partial copy.
fn no_leftovers(s: &Sandbox, at: &str) {
    let leftovers = s.leftovers();
    assert!(leftovers.is_empty(), "{at}: {leftovers:?}");
}

/// `status --json` calls a declared target ok exactly when it is the planned link.
fn status_tells_the_truth(s: &Sandbox, at: &str) {
    let status = s.run(&["status", "--json"]).json();
    let home = s.home_tree();
    for (target, planned) in DECLARED {
        let path = s.home().join(target);
        let entry = status["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["target"] == path.to_string_lossy().as_ref())
            .unwrap_or_else(|| panic!("{at}: status does not list {target}"));
        let is_planned = kind(&home, target) == planned;
        assert_eq!(
            entry["state"] == "ok",
            is_planned,
            "{at}: status says {} for {target}, which is {}",
            entry["state"],
            kind(&home, target)
        );
    }
}

#[test]
fn an_error_at_any_point_of_any_step_leaves_every_target_as_it_was_or_as_planned() {
    for policy in ["backup", "overwrite", "skip"] {
        errors_at_every_point(policy, &everything_in_the_way);
    }
}

/// Make each fault point of applying `scenario(policy)` fail in turn: every target as it was or
/// as planned, nothing precious lost, and the next apply completes. Returns how many of the
/// errors were injected on a thread other than the main one.
fn errors_at_every_point(policy: &str, scenario: &dyn Fn(&str) -> Sandbox) -> usize {
    let reference = scenario(policy);
    reference.run(&["apply"]);
    let expected = reference.home_tree();
    reference.run(&["unlink"]).code(0);
    let unlinked = reference.home_tree();
    let mut failed_runs = 0;
    let mut quiet_runs = 0;
    let mut on_threads = 0;
    for n in 0.. {
        let at = format!("{policy}, error at point {n}");
        let s = scenario(policy);
        let before = s.home_tree();
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_ERROR_AT", &n.to_string())]);
        let injected = run.stderr.contains("injected fault");
        // Past the last point the runs are the uninterrupted one. (An error on removing an
        // emptied directory is no failure: the directory stays, and the run goes on.)
        quiet_runs = if injected || s.home_tree() != expected {
            0
        } else {
            quiet_runs + 1
        };
        if quiet_runs == 6 {
            assert!(n > 10, "{at}: the run has more than {n} fault points");
            break;
        }
        failed_runs += usize::from(injected);
        on_threads += usize::from(run.stderr.contains("injected fault on thread"));
        // Unless the error came just after the change that completed a step (then said as a
        // warning, the step being done).
        let failed = injected && run.stderr.lines().any(|l| l.starts_with("error:"));
        run.code(if failed { 1 } else { 0 });
        if injected && !failed {
            run.stderr_has("the step is done");
        }
        // Every target as it was or as planned; everything precious kept.
        declared_as_they_were_or_as_planned(&before, &s.home_tree(), &at);
        if policy != "overwrite" {
            nothing_precious_lost(&s, &at);
        }
        no_leftovers(&s, &at);
        status_tells_the_truth(&s, &at);
        // The next apply completes, to the same home as an uninterrupted run.
        s.run(&["apply"]).code(0);
        let left_dirs = |t: &Tree| -> Tree {
            t.iter()
                .filter(|(p, v)| !(v.starts_with("dir") && p.starts_with(".old")))
                .map(|(p, v)| (p.clone(), v.clone()))
                .collect()
        };
        assert_eq!(
            left_dirs(&s.home_tree()),
            left_dirs(&expected),
            "{at}: the next apply did not converge"
        );
        s.run(&["apply"]).code(0).stdout_has("Nothing to do");
        no_leftovers(&s, &at);
        if policy == "backup" {
            nothing_precious_lost(&s, &at);
        }
        // Every directory a step made before it failed is known for dotlink's: `unlink` takes
        // it away as after an uninterrupted run.
        s.run(&["unlink"]).code(0);
        assert_eq!(
            left_dirs(&s.home_tree()),
            left_dirs(&unlinked),
            "{at}: unlink left another home"
        );
    }
    assert!(failed_runs > 10, "{policy}: only {failed_runs} points");
    on_threads
}

/// Each of [`DECLARED`] in `home` is as it was in `before`, or as planned.
fn declared_as_they_were_or_as_planned(before: &Tree, home: &Tree, at: &str) {
    for (target, planned) in DECLARED {
        let now = kind(home, target);
        let was = kind(before, target);
        assert!(
            now == planned || now == was,
            "{at}: {target} is {now}, neither as it was ({was}) nor as planned ({planned})"
        );
    }
}

/// Make each fault point of applying `scenario(policy)` kill the run in turn: every target as
/// it was or as planned, nothing precious lost, and the next apply recovers and completes.
/// Returns how many of the runs were killed on a thread other than the main one.
fn kills_at_every_point(policy: &str, scenario: &dyn Fn(&str) -> Sandbox) -> usize {
    let reference = scenario(policy);
    reference.run(&["apply"]).code(0);
    let expected = reference.home_tree();
    let mut on_threads = 0;
    for n in 0.. {
        let at = format!("{policy}, killed at point {n}");
        let s = scenario(policy);
        let before = s.home_tree();
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", &n.to_string())]);
        if run.code == 0 {
            assert!(n > 10, "{at}: the run has more than {n} fault points");
            break;
        }
        assert!(
            run.stderr.contains("fault injected"),
            "{at}: {}",
            run.stderr
        );
        on_threads += usize::from(run.stderr.contains("fault points on thread"));
        declared_as_they_were_or_as_planned(&before, &s.home_tree(), &at);
        // Until the next run recovers, a file may be at the run's temporary name.
        let everything = s.contents_anywhere();
        for (path, contents) in USERS {
            let kept = everything.iter().any(|c| c.ends_with(contents));
            assert!(
                kept || policy == "overwrite",
                "{at}: {path} ({contents:?}) lost"
            );
        }
        s.run(&["apply"]).code(0);
        assert_eq!(s.home_tree(), expected, "{at}: recovery did not converge");
        s.run(&["apply"]).code(0).stdout_has("Nothing to do");
        no_leftovers(&s, &at);
        if policy != "overwrite" {
            nothing_precious_lost(&s, &at);
        }
        status_tells_the_truth(&s, &at);
    }
    on_threads
}

/// A plan of new and replaced links only has them made on two threads at once: whichever
/// thread a run is stopped or fails on, every target is as it was or as planned, nothing is
/// lost, and the next run finishes the job.
#[test]
fn links_made_on_several_threads_and_stopped_or_failing_anywhere_lose_nothing() {
    let without_prune = |policy: &str| everything_in_the_way_with(policy, false);
    let mut on_threads = 0;
    for policy in ["backup", "overwrite"] {
        on_threads += errors_at_every_point(policy, &without_prune);
        on_threads += kills_at_every_point(policy, &without_prune);
    }
    assert!(
        on_threads > 0,
        "no fault point was met on a thread of its own"
    );
}

/// A home whose file, directory and second file were backed up and replaced by links.
fn backed_up_home() -> Sandbox {
    let s = Sandbox::new();
    s.source("a", "a").source("d/inner", "d").source("e", "e");
    s.home_file(".a", "user a")
        .home_file(".d/notes", "user d")
        .home_file(".d/deeper/more", "user d2")
        .home_file(".e", "user e");
    s.manifest("[defaults]\non_conflict = \"backup\"\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\n[[link]]\nsource = \"e\"\ntarget = \"~/.e\"\n");
    s.run(&["apply"]).code(0);
    s
}

/// Each of the user's files is at its place, or in a backup `restore --list` shows.
fn restorable_or_restored(s: &Sandbox, at: &str) {
    let listed = s.run(&["restore", "--list"]).stdout;
    for (path, contents) in [
        (".a", "user a"),
        (".d/notes", "user d"),
        (".d/deeper/more", "user d2"),
        (".e", "user e"),
    ] {
        let in_place = fs::read_to_string(s.home().join(path)).is_ok_and(|c| c == contents);
        let top = path.split('/').next().unwrap();
        let listed_backup = s.backup_sets().iter().any(|set| {
            fs::read_to_string(set.join(path)).is_ok_and(|c| c == contents)
                && listed.contains(&format!("~/{top}"))
        });
        assert!(
            in_place || listed_backup,
            "{at}: {path} is neither back nor listed\n{listed}"
        );
    }
}

#[test]
fn a_restore_killed_or_failing_at_any_point_loses_nothing_and_is_finished_later() {
    let reference = backed_up_home();
    reference.run(&["restore"]).code(0);
    let expected = reference.home_tree();
    for (variable, next) in [
        ("DOTLINK_FAULT_AFTER", "restore"),
        ("DOTLINK_FAULT_ERROR_AT", "restore"),
        ("DOTLINK_FAULT_AFTER", "apply"),
    ] {
        let mut quiet_runs = 0;
        for n in 0.. {
            let at = format!("{variable}={n}, then {next}");
            let s = backed_up_home();
            let run = s.run_env(&["restore"], &[(variable, &n.to_string())]);
            // An error just after a change that completed a step is no failure: that step
            // is done. Past the last point the runs are the uninterrupted one.
            quiet_runs = if run.code == 0 { quiet_runs + 1 } else { 0 };
            if quiet_runs == 4 {
                assert!(n > 6, "{at}: the restore has more than {n} points");
                break;
            }
            if run.code == 0 {
                assert_eq!(s.home_tree(), expected, "{at}: restored wrongly");
                continue;
            }
            if variable == "DOTLINK_FAULT_ERROR_AT" {
                // A failure is settled at once; a kill is settled by the next run.
                restorable_or_restored(&s, &at);
            } else {
                s.run(&["restore", "--list"])
                    .stderr_has("an interrupted run left a journal");
            }
            if next == "apply" {
                // The next apply settles the restore first, and takes nothing away.
                s.run(&["apply", "--on-conflict", "skip"]).code(0);
                no_leftovers(&s, &at);
                restorable_or_restored(&s, &at);
                continue;
            }
            // It finishes the job, or (stopped after the last one) finds nothing left to do.
            let next = s.run(&["restore"]);
            if next.code != 0 {
                next.code(1).stderr_has("no backup to restore");
            }
            no_leftovers(&s, &at);
            assert_eq!(
                s.home_tree(),
                expected,
                "{at}: the next restore did not finish"
            );
            s.run(&["restore", "--list"])
                .code(0)
                .stdout_has("No backups");
        }
    }
}

/// A `restore` killed at any point, after which the user makes a file anew where one of the
/// backups was to go back (`unlink` had emptied it): the next `restore` never moves that file
/// into the backup set or puts the backup over it. The user's file stays, and the backup stays
/// in its set, listed.
#[test]
fn a_file_made_where_a_stopped_restore_was_going_stays() {
    let mut made = 0;
    for n in 0.. {
        let s = backed_up_home();
        s.run(&["unlink"]).code(0);
        let run = s.run_env(&["restore"], &[("DOTLINK_FAULT_AFTER", &n.to_string())]);
        if run.code == 0 {
            assert!(made > 0, "no stop left ~/.a free");
            break;
        }
        let a = s.home().join(".a");
        if fs::symlink_metadata(&a).is_ok() {
            continue;
        }
        made += 1;
        fs::write(&a, "made anew").unwrap();
        s.run(&["restore"]);
        assert_eq!(
            fs::read_to_string(&a).unwrap(),
            "made anew",
            "stopped at {n}: the user's new file was replaced"
        );
        restorable_or_restored(&s, &format!("stopped at {n}"));
        no_leftovers(&s, &format!("stopped at {n}"));
    }
}

/// Three files of the user's (`precious a1` …) in the way of three links, under `backup`.
fn three_precious_in_the_way() -> Sandbox {
    let s = Sandbox::new();
    for name in ["a1", "a2", "a3"] {
        s.source(name, name)
            .home_file(&format!(".{name}"), &format!("precious {name}"));
    }
    s.manifest(
        "[defaults]\non_conflict = \"backup\"\n\
         [[link]]\nsource = \"a1\"\ntarget = \"~/.a1\"\n\
         [[link]]\nsource = \"a2\"\ntarget = \"~/.a2\"\n\
         [[link]]\nsource = \"a3\"\ntarget = \"~/.a3\"\n",
    );
    s
}

/// A run killed at any point of backing up three files, after which something else appears at
/// a backup's place in the set: the next run never takes that for the backup, so the original
/// is never removed as "already backed up" (it stays in the home or gets a backup of its own),
/// and what appeared is left as it is.
#[test]
fn something_at_a_backups_place_after_a_crash_is_never_taken_for_the_backup() {
    for n in 0.. {
        let s = three_precious_in_the_way();
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", &n.to_string())]);
        if run.code == 0 {
            assert!(n > 10, "the run has more than {n} changes");
            break;
        }
        // Someone else's file at every backup place still free in the run's set.
        let sets = s.backup_sets();
        for set in &sets {
            for name in [".a1", ".a2", ".a3"] {
                if fs::symlink_metadata(set.join(name)).is_err() {
                    fs::write(set.join(name), "someone else's").unwrap();
                }
            }
        }
        s.run(&["apply"]);
        let everything = s.whole_tree();
        for name in ["a1", "a2", "a3"] {
            let precious = format!("precious {name}");
            assert!(
                everything.values().any(|v| v.ends_with(&precious)),
                "after a crash at {n}: {precious} is gone\n{everything:#?}"
            );
        }
        for set in &sets {
            for name in [".a1", ".a2", ".a3"] {
                let text = fs::read_to_string(set.join(name)).unwrap();
                assert!(
                    text == "someone else's" || text.starts_with("precious"),
                    "after a crash at {n}: {name} in the set holds {text:?}"
                );
            }
        }
    }
}

/// Something put at a backup's place between planning and the step (here in a set a stopped
/// run began, which the next run carries on): the backup is never moved onto it. The step
/// fails, saying so, what stood at the target is back there, what was put at the backup place
/// is left as it is, and the other steps are done.
#[test]
fn a_backup_place_taken_after_planning_is_never_written_over() {
    // One step at a time, so that each fault point is the same place in every run.
    let one = ("DOTLINK_APPLY_THREADS", "1");
    // Stopped at point `n`: the run's set, once it is made and the first file is in it.
    let stopped_at = |n: usize| {
        let s = three_precious_in_the_way();
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", &n.to_string()), one]);
        assert!(run.code != 0, "the run ended before its set was made");
        match &s.backup_sets()[..] {
            [set] if set.join(".a1").exists() => Some((s, set.clone())),
            _ => None,
        }
    };
    let n = (0..).find(|&n| stopped_at(n).is_some()).unwrap();
    let setup = || stopped_at(n).unwrap();
    let mut taken = 0;
    for w in 0.. {
        let (s, set) = setup();
        let place = set.join(".a2");
        let run = s.run_env(
            &["apply"],
            &[
                ("DOTLINK_FAULT_WRITE_AT", &w.to_string()),
                ("DOTLINK_FAULT_WRITE_PATH", place.to_str().unwrap()),
                one,
            ],
        );
        if !run.stderr.contains("its backup place") {
            if taken > 0 {
                break;
            }
            assert!(w < 40, "the backup place was never found taken");
            continue;
        }
        taken += 1;
        assert_eq!(run.code, 1, "{w}: {}", run.stderr);
        assert!(
            run.stderr.contains("is taken; left it as it is"),
            "{}",
            run.stderr
        );
        assert_eq!(
            fs::read_to_string(s.home().join(".a2")).unwrap(),
            "precious a2",
            "{w}: the original is back at its target"
        );
        assert_eq!(
            fs::read_to_string(&place).unwrap(),
            "written since planning",
            "{w}: what was put at the backup place stays"
        );
        assert!(s.link_at(".a3").is_some(), "{w}: the other steps are done");
        assert!(s.leftovers().is_empty(), "{w}: {:?}", s.leftovers());
        // The next run backs it up at another place.
        s.run(&["apply"]).code(0);
        assert!(s.link_at(".a2").is_some());
        let everything = s.whole_tree();
        for name in ["a1", "a2", "a3"] {
            let precious = format!("precious {name}");
            assert!(
                everything.values().any(|v| v.ends_with(&precious)),
                "{w}: {precious} is gone"
            );
        }
    }
    assert!(taken >= 1);
}

/// A copy across filesystems that a killed run left half made is removed by the next run, by
/// the exact name that run gave it (its process id, from its journal); a partial copy of
/// another process is not the killed run's, and stays.
#[test]
fn only_the_killed_runs_own_partial_copy_is_removed() {
    let s = Sandbox::new();
    s.source("a", "a").home_file(".a", "precious a");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\non_conflict = \"backup\"\n");
    let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", "0")]);
    assert!(run.stderr.contains("fault injected"), "{}", run.stderr);
    let journal_path = s.journal();
    let journal: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&journal_path).unwrap()).unwrap();
    let pid = journal["pid"]
        .as_u64()
        .expect("the journal names its process");
    let to = PathBuf::from(journal["entries"][0]["displace"]["to"].as_str().unwrap());
    let dir = to.parent().unwrap();
    fs::create_dir_all(dir).unwrap();
    // Named as fsutil::partial_name names it: hidden (a dot before `.a`), tagged, the process.
    let partial = |pid: u64| dir.join(format!("..a.dotlink-partial-{pid}"));
    fs::write(partial(pid), "half a copy").unwrap();
    fs::write(partial(pid + 1), "someone else's").unwrap();
    s.run(&["apply"]).code(0);
    assert!(fs::symlink_metadata(partial(pid)).is_err());
    assert_eq!(
        fs::read_to_string(partial(pid + 1)).unwrap(),
        "someone else's"
    );
    assert_eq!(fs::read_to_string(&to).unwrap(), "precious a");
}

/// A directory a killed run was to make, but did not, and that the user made since, is the
/// user's: the run that recovers keeps it as it is, and never takes it for dotlink's (a run
/// logs each directory it makes, with its identity, as it makes it), so `unlink` leaves it.
#[test]
fn a_directory_made_by_the_user_after_a_killed_run_is_kept() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let s = Sandbox::new();
    s.source("sshconfig", "c")
        .manifest("[[link]]\nsource = \"sshconfig\"\ntarget = \"~/.ssh/config\"\n");
    // Killed after the journal, before the first change.
    let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", "0")]);
    assert!(run.stderr.contains("fault injected"), "{}", run.stderr);
    let ssh = s.home().join(".ssh");
    fs::create_dir(&ssh).unwrap();
    fs::set_permissions(&ssh, fs::Permissions::from_mode(0o700)).unwrap();
    let inode = fs::metadata(&ssh).unwrap().ino();
    s.run(&["apply"]).code(0);
    let after = fs::metadata(&ssh).unwrap();
    assert_eq!((after.ino(), after.mode() & 0o777), (inode, 0o700));
    assert!(s.home().join(".ssh/config").is_symlink());
    assert!(crate::edges::recorded_dirs(&s).is_empty());
    s.run(&["unlink"]).code(0);
    assert!(!s.home().join(".ssh/config").exists());
    assert_eq!(
        fs::metadata(&ssh).unwrap().ino(),
        inode,
        "the user's directory stays"
    );

    // The same after a journal of an older dotlink, which logged no directories: none is
    // taken for dotlink's.
    fs::remove_dir(&ssh).unwrap();
    let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", "0")]);
    assert!(run.stderr.contains("fault injected"), "{}", run.stderr);
    let journal = fs::read_to_string(s.journal()).unwrap();
    assert!(journal.contains(",\"dirs_logged\":true"), "{journal}");
    fs::write(s.journal(), journal.replace(",\"dirs_logged\":true", "")).unwrap();
    fs::create_dir(&ssh).unwrap();
    s.run(&["apply"]).code(0);
    assert!(crate::edges::recorded_dirs(&s).is_empty());
    s.run(&["unlink"]).code(0);
    assert!(ssh.is_dir(), "the user's directory stays");
}

/// A run killed after it made the directories of its backups, before any backup went in,
/// leaves no set of empty directories for `restore --list` to warn about, even when the next
/// run backs nothing up.
#[test]
fn backup_directories_a_killed_run_never_used_are_removed_on_recovery() {
    let s = Sandbox::new();
    for i in 0..4 {
        s.source(&format!("cfg/f{i}"), "repo");
        s.home_file(&format!(".cfg/f{i}"), "user");
    }
    s.manifest("[[link]]\nsource = \"cfg\"\ntarget = \"~/.cfg\"\nrecursive = true\non_conflict = \"backup\"\n");
    // The set and its `.cfg` (two fault points each), then the first link's.
    let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", "5")]);
    assert!(run.stderr.contains("fault injected"), "{}", run.stderr);
    s.run(&["apply", "--on-conflict", "skip"]).code(0);
    let listed = s.run(&["restore", "--list"]);
    assert!(!listed.stderr.contains("warning"), "{}", listed.stderr);
    assert!(s.backup_sets().is_empty(), "{:?}", s.backup_sets());
    for i in 0..4 {
        let kept = fs::read_to_string(s.home().join(format!(".cfg/f{i}"))).unwrap();
        assert_eq!(kept, "user");
    }
}

/// Names too long to take the temporary suffix get a short temporary name each: two that a
/// weak hash gave one name (`…ab` and `…bC`) are replaced at once, on two threads, and both
/// are backed up.
#[test]
fn long_names_in_one_directory_each_have_a_temporary_name_of_their_own() {
    let s = Sandbox::new();
    let stem = "x".repeat(236);
    for tail in ["ab", "bC"] {
        s.source(&format!("d/{stem}{tail}"), "repo");
        s.home_file(&format!(".d/{stem}{tail}"), &format!("user {tail}"));
    }
    s.manifest(
        "[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\nrecursive = true\non_conflict = \"backup\"\n",
    );
    s.run(&["apply"]).code(0).stdout_has("2 backed up");
    let sets = s.backup_sets();
    for tail in ["ab", "bC"] {
        let backup = fs::read_to_string(sets[0].join(format!(".d/{stem}{tail}"))).unwrap();
        assert_eq!(backup, format!("user {tail}"));
    }
}

/// What `adopt` starts from: a file and a directory (with one of its own below) to adopt, and
/// a manifest with a comment that must survive.
fn before_adopting() -> Sandbox {
    let s = Sandbox::new();
    s.source("x", "x");
    s.manifest("# my dots\n[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\n");
    s.home_file(".vimrc", "user vim")
        .home_file(".config/tool/a", "user a")
        .home_file(".config/tool/b/c", "user c");
    s
}

const ADOPTED: [(&str, &str, &str); 3] = [
    (".vimrc", "vimrc", "user vim"),
    (".config/tool/a", "config/tool/a", "user a"),
    (".config/tool/b/c", "config/tool/b/c", "user c"),
];

/// Either nothing was adopted (each file in its place, nothing of it in the repository, and
/// the manifest as it was) or everything was (each file in the repository, linked back, and
/// declared); nothing is left over, and no journal is pending.
fn undone_or_adopted(s: &Sandbox, manifest_before: &str, at: &str) {
    no_leftovers(s, at);
    let journals = fs::read_dir(s.state().join("dotlink"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".journal.json"))
        .count();
    assert_eq!(journals, 0, "{at}: a journal is still there");
    let manifest = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    if manifest == manifest_before {
        for (home, repo, contents) in ADOPTED {
            let in_place = fs::symlink_metadata(s.home().join(home)).is_ok_and(|m| m.is_file())
                && fs::read_to_string(s.home().join(home)).unwrap() == contents;
            assert!(
                in_place,
                "{at}: ~/{home} is not back\n{:#?}",
                s.whole_tree()
            );
            assert!(
                !s.repo().join(repo).exists(),
                "{at}: {repo} is left in the repository"
            );
        }
        // The directory made for it went too.
        assert!(!s.repo().join("config").exists(), "{at}: config/ is left");
        return;
    }
    assert!(
        manifest.starts_with(manifest_before)
            && manifest.contains("source = \"vimrc\"")
            && manifest.contains("source = \"config/tool\""),
        "{at}: the manifest is neither as it was nor adopted:\n{manifest}"
    );
    for (home, repo, contents) in ADOPTED {
        assert_eq!(
            fs::read_to_string(s.repo().join(repo)).ok().as_deref(),
            Some(contents),
            "{at}: {repo} is not in the repository"
        );
        // Read through the links.
        assert_eq!(
            fs::read_to_string(s.home().join(home)).ok().as_deref(),
            Some(contents),
            "{at}: ~/{home} does not lead to it"
        );
    }
    assert!(s.link_at(".vimrc").is_some() && s.link_at(".config/tool").is_some());
}

/// `adopt` killed, or failing, at each of its fault points (the directories it makes, each
/// move, the manifest's edit, then the link-back): a failure is undone at once, a kill by the
/// next run that writes, and either way the file is never lost, nor stranded in the
/// repository under a manifest that does not declare it (or declared while still at home).
#[test]
fn an_adopt_killed_or_failing_at_any_point_is_undone_or_finished() {
    let manifest_before = "# my dots\n[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\n";
    for variable in ["DOTLINK_FAULT_AFTER", "DOTLINK_FAULT_ERROR_AT"] {
        let mut quiet_runs = 0;
        let mut undone = 0;
        for n in 0.. {
            let at = format!("{variable}={n}");
            let s = before_adopting();
            let vimrc = s.home().join(".vimrc");
            let tool = s.home().join(".config/tool");
            let run = s.run_env(
                &["adopt", vimrc.to_str().unwrap(), tool.to_str().unwrap()],
                &[(variable, &n.to_string())],
            );
            quiet_runs = if run.code == 0 { quiet_runs + 1 } else { 0 };
            if quiet_runs == 4 {
                assert!(n > 10, "{at}: adopt has more than {n} fault points");
                break;
            }
            if run.code != 0 && variable == "DOTLINK_FAULT_ERROR_AT" {
                run.stderr_has("injected fault");
            }
            if run.code != 0 && variable == "DOTLINK_FAULT_AFTER" {
                assert!(
                    run.stderr.contains("fault injected"),
                    "{at}: {}",
                    run.stderr
                );
                s.run(&["status"])
                    .stderr_has("an interrupted run left a journal");
            }
            // The next run that writes settles what is left, then links what is declared.
            let next = s.run(&["apply"]);
            next.code(0);
            if run.code != 0 && variable == "DOTLINK_FAULT_AFTER" {
                next.stderr_has("found an interrupted run");
            }
            undone += usize::from(
                fs::read_to_string(s.repo().join("dotlink.toml")).unwrap() == manifest_before,
            );
            undone_or_adopted(&s, manifest_before, &at);
            assert_eq!(
                fs::read_to_string(s.home().join(".x")).ok().as_deref(),
                Some("x"),
                "{at}: the manifest's own link was not made"
            );
        }
        assert!(undone > 4, "{variable}: only {undone} runs were undone");
    }
}

/// A step whose error came just after the change that completed it is done, and counted so:
/// never both "backed up" (or "created") and "failed", and a run whose every step is done
/// exits 0 (unless the state file could not be written). One that is not done is counted
/// failed only, and nothing it did is counted as made.
#[test]
fn a_step_is_counted_done_or_failed_as_its_target_is_never_both() {
    for (policy, in_the_way) in [("backup", true), ("fail", false)] {
        for n in 0..16 {
            let at = format!("{policy}: DOTLINK_FAULT_ERROR_AT={n}");
            let s = Sandbox::new();
            s.source("a", "a").manifest(&format!(
                "[defaults]\non_conflict = \"{policy}\"\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n"
            ));
            if in_the_way {
                s.home_file(".a", "mine");
            }
            let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_ERROR_AT", &n.to_string())]);
            let summary = run
                .stdout
                .lines()
                .chain(run.stderr.lines())
                .find(|l| l.starts_with("Applied:"))
                .unwrap_or_else(|| panic!("{at}: no summary\n{}", run.stdout))
                .to_string();
            let linked = s.link_at(".a").is_some();
            let state_unwritten = run.stderr.contains("cannot write state file");
            if linked {
                assert!(!summary.contains("failed"), "{at}: linked, yet {summary}");
                let made = if in_the_way {
                    "1 backed up"
                } else {
                    "1 created"
                };
                assert!(summary.contains(made), "{at}: {summary}");
                assert_eq!(run.code == 0, !state_unwritten, "{at}: exit {}", run.code);
                if run.stderr.contains("injected fault") && !state_unwritten {
                    // Said, not hidden: the step is done all the same.
                    run.stderr_has("the step is done");
                }
            } else {
                assert!(
                    summary.contains("1 failed"),
                    "{at}: not linked, yet {summary}"
                );
                assert!(
                    !summary.contains("backed up") && !summary.contains("created"),
                    "{at}: {summary}"
                );
                assert_eq!(run.code, 1, "{at}");
                if in_the_way {
                    assert_eq!(fs::read_to_string(s.home().join(".a")).unwrap(), "mine");
                }
            }
            no_leftovers(&s, &at);
        }
    }
}

/// An `adopt` stopped once every file was in the repository and the manifest declared them,
/// whose recovery was stopped in turn after putting one file back (here the user does it by
/// hand): the manifest as it is declares a source that is gone. `status` and the next `apply`
/// still run (they read the manifest as recovery leaves it), and `apply` undoes the rest.
#[test]
fn an_adopt_whose_recovery_stopped_half_way_is_undone_by_the_next_apply() {
    let manifest_before = "# my dots\n[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\n";
    let s = before_adopting();
    let vimrc = s.home().join(".vimrc");
    let tool = s.home().join(".config/tool");
    // The points: each move, the directory `config`, then the manifest (before and after).
    let run = s.run_env(
        &["adopt", vimrc.to_str().unwrap(), tool.to_str().unwrap()],
        &[("DOTLINK_FAULT_AFTER", "7")],
    );
    run.stderr_has("fault injected");
    let manifest = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    assert!(manifest.contains("source = \"vimrc\""), "{manifest}");
    fs::rename(s.repo().join("vimrc"), &vimrc).unwrap();
    s.run(&["status"])
        .stderr_has("an interrupted run left a journal");
    s.run(&["apply"])
        .code(0)
        .stderr_has("found an interrupted run");
    undone_or_adopted(&s, manifest_before, "recovery stopped half way");
    assert_eq!(
        fs::read_to_string(s.repo().join("dotlink.toml")).unwrap(),
        manifest_before
    );
}

/// What a user or another program does between an `adopt` that stopped and the run that
/// undoes it is never undone in turn, and nothing is removed: a path made anew in the home
/// (both are left, and said), the same file arriving in the repository from elsewhere (kept),
/// the directory the path came from removed (made again, and the path put back). The new text
/// of the manifest, left under a temporary name by a write that was stopped, goes.
#[test]
fn what_changed_after_an_adopt_stopped_is_kept_when_it_is_undone() {
    let adopt_stopped = |n: &str, path: &str| {
        let s = before_adopting();
        let from = s.home().join(path);
        let run = s.run_env(
            &["adopt", from.to_str().unwrap()],
            &[("DOTLINK_FAULT_AFTER", n)],
        );
        run.stderr_has("fault injected");
        s
    };
    // Stopped just after the move: the path made anew in the home, as a directory.
    let s = adopt_stopped("1", ".vimrc");
    fs::create_dir(s.home().join(".vimrc")).unwrap();
    s.run(&["apply"])
        .code(0)
        .stderr_has("left both, and ")
        .stderr_has("repo/vimrc is not declared")
        .stderr_lacks("removed");
    assert_eq!(
        fs::read_to_string(s.repo().join("vimrc")).unwrap(),
        "user vim"
    );
    assert!(s.home().join(".vimrc").is_dir());
    // Stopped before the move; the same file then comes into the repository (a `git pull`).
    let s = adopt_stopped("0", ".vimrc");
    fs::write(s.repo().join("vimrc"), "user vim").unwrap();
    s.run(&["apply"]).code(0).stderr_has("left both");
    assert_eq!(
        fs::read_to_string(s.repo().join("vimrc")).unwrap(),
        "user vim"
    );
    assert_eq!(
        fs::read_to_string(s.home().join(".vimrc")).unwrap(),
        "user vim"
    );
    // Stopped after the move; the directory it came from is removed since.
    let s = adopt_stopped("7", ".config/tool/b/c");
    fs::remove_dir_all(s.home().join(".config/tool/b")).unwrap();
    s.run(&["apply"])
        .code(0)
        .stderr_has("moved ~/.config/tool/b/c back");
    assert_eq!(
        fs::read_to_string(s.home().join(".config/tool/b/c")).unwrap(),
        "user c"
    );
    // Stopped after the manifest's edit; the user then links the emptied directory into the
    // repository by hand, so that the path and its place are one file: kept (it was removed
    // as a second name of the original). The points: three directories, the move, the edit.
    let s = adopt_stopped("9", ".config/tool/b/c");
    fs::remove_dir(s.home().join(".config/tool/b")).unwrap();
    std::os::unix::fs::symlink(
        s.repo().join("config/tool/b"),
        s.home().join(".config/tool/b"),
    )
    .unwrap();
    s.run(&["apply"])
        .code(0)
        .stderr_has("repo/config/tool/b/c itself");
    assert_eq!(
        fs::read_to_string(s.repo().join("config/tool/b/c")).unwrap(),
        "user c"
    );
    // Stopped after the move; the repository's copy then goes elsewhere (the repository moved,
    // or `git stash -u`): said, with where to look (it was "moved nothing").
    let s = adopt_stopped("1", ".vimrc");
    fs::rename(s.repo().join("vimrc"), s.path().join("stashed")).unwrap();
    s.run(&["apply"])
        .code(0)
        .stderr_has("neither ~/.vimrc nor")
        .stderr_lacks("moved anything");
    // Stopped while the manifest's new text was being written: its temporary file goes.
    let s = adopt_stopped("2", ".vimrc");
    let journal: serde_json::Value =
        serde_json::from_slice(&fs::read(s.journal()).unwrap()).unwrap();
    let pid = journal["pid"].as_u64().unwrap();
    let temporary = s
        .repo()
        .join(format!(".dotlink.toml.dotlink-tmp-{pid}-x1y2"));
    fs::write(&temporary, "the text being written").unwrap();
    s.run(&["apply"]).code(0);
    assert!(
        !temporary.exists(),
        "the stopped write's temporary file is left"
    );
    undone_or_adopted_one(&s, ".vimrc", "vimrc", "user vim");
}

/// One adoption undone: the file back in the home, nothing of it in the repository, and the
/// manifest as it was.
fn undone_or_adopted_one(s: &Sandbox, home: &str, repo: &str, contents: &str) {
    assert_eq!(fs::read_to_string(s.home().join(home)).unwrap(), contents);
    assert!(s.link_at(home).is_none() || s.repo().join(repo).exists());
    no_leftovers(s, home);
}

/// `adopt` says "linked back" of what is linked back, by what is there once it is done: with
/// something new in the way of the link (written there after the move), it says the file is
/// in the repository and declared but not linked, and exits 1, where it said "Adopted" and
/// exited 0. With the home's directory a symlink (`~/.config -> cfg`), the link is made.
#[test]
fn adopt_says_linked_back_only_of_what_is() {
    let s = before_adopting();
    let vimrc = s.home().join(".vimrc");
    let run = s.run_env(
        &["adopt", vimrc.to_str().unwrap()],
        &[
            ("DOTLINK_FAULT_WRITE_AT", "1"),
            ("DOTLINK_FAULT_WRITE_PATH", vimrc.to_str().unwrap()),
        ],
    );
    run.code(1)
        .stderr_has("~/.vimrc is in the repository at vimrc and declared")
        .stderr_has("but not linked back")
        .stdout_lacks("linked back")
        .stdout_lacks("Adopted");
    assert_eq!(
        fs::read_to_string(s.repo().join("vimrc")).unwrap(),
        "user vim"
    );
    assert_eq!(
        fs::read_to_string(&vimrc).unwrap(),
        "written since planning"
    );

    // Whatever the manifest's policy: under `overwrite` the new file was removed to make way.
    let s = before_adopting();
    s.manifest("[defaults]\non_conflict = \"overwrite\"\n");
    let vimrc = s.home().join(".vimrc");
    let run = s.run_env(
        &["adopt", vimrc.to_str().unwrap()],
        &[
            ("DOTLINK_FAULT_WRITE_AT", "1"),
            ("DOTLINK_FAULT_WRITE_PATH", vimrc.to_str().unwrap()),
        ],
    );
    run.code(1).stderr_has("but not linked back");
    assert_eq!(
        fs::read_to_string(&vimrc).unwrap(),
        "written since planning"
    );

    let s = before_adopting();
    fs::rename(s.home().join(".config"), s.home().join("cfg")).unwrap();
    std::os::unix::fs::symlink("cfg", s.home().join(".config")).unwrap();
    let tool = s.home().join(".config/tool");
    s.run(&["adopt", tool.to_str().unwrap()])
        .code(0)
        .stdout_has("linked back")
        .stdout_has("Adopted: 1");
    assert_eq!(
        fs::read_to_string(s.home().join("cfg/tool/a")).unwrap(),
        "user a",
        "read through the link back"
    );
    assert!(s.home().join("cfg/tool").is_symlink());
}

/// `doctor` fails, and says what to do, while an interrupted run is left to recover (it said
/// "Healthy"); with an adopt left to undo it reads the manifest as recovery will leave it.
#[test]
fn doctor_tells_of_an_interrupted_run() {
    let s = before_adopting();
    let vimrc = s.home().join(".vimrc");
    s.run_env(
        &["adopt", vimrc.to_str().unwrap()],
        &[("DOTLINK_FAULT_AFTER", "3")],
    )
    .stderr_has("fault injected");
    s.run(&["doctor"])
        .code(1)
        .stdout_has("an adopt was interrupted")
        .stdout_has("run `dotlink apply`")
        .stdout_lacks("does not exist");
    s.run(&["apply"]).code(0);
    s.run(&["doctor"]).stdout_lacks("interrupted");
}

/// A prune whose error came just after the link was removed is done (the link and the
/// directories made for it are gone, `status` is clean): it was counted failed, with exit 1.
#[test]
fn a_prune_is_counted_done_once_its_link_is_gone() {
    for n in 0..8 {
        let at = format!("DOTLINK_FAULT_ERROR_AT={n}");
        let s = Sandbox::new();
        s.source("a", "a")
            .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.cfg/a\"\n");
        s.run(&["apply"]).code(0);
        s.manifest("[defaults]\nprune = true\n");
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_ERROR_AT", &n.to_string())]);
        let gone = s.link_at(".cfg/a").is_none();
        let state_unwritten = run.stderr.contains("cannot write state file");
        if gone {
            run.stdout_lacks("failed");
            assert_eq!(run.code == 0, !state_unwritten, "{at}: exit {}", run.code);
        } else {
            run.code(1).stdout_has("1 failed");
        }
        s.run(&["apply"]).code(0);
        s.run(&["status"]).code(0);
        no_leftovers(&s, &at);
    }
}

/// `apply --json` tells a script of a late error too: the step is `done`, with the error.
#[test]
fn a_late_error_is_in_apply_json() {
    let mut seen = false;
    for n in 0..6 {
        let s = Sandbox::new();
        s.source("a", "a")
            .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
        let run = s.run_env(
            &["apply", "--json"],
            &[("DOTLINK_FAULT_ERROR_AT", &n.to_string())],
        );
        if run.code != 0 {
            continue;
        }
        let json = run.json();
        assert_eq!(json["steps"][0]["result"], "done", "{json}");
        // Past the last point the run is the uninterrupted one, with no error.
        if let Some(error) = json["steps"][0]["error"].as_str() {
            assert!(error.contains("injected fault"), "{json}");
            assert!(s.link_at(".a").is_some(), "done, and linked");
            seen = true;
        }
    }
    assert!(seen, "no run had an error after its step was done");
}

/// A directory dotlink made, replaced by a link once its source became a file: whatever point
/// of that run it is stopped or fails at, the next run keeps no record of the directory (as
/// the uninterrupted run keeps none), so a directory made there later, which may be given the
/// same inode, is never taken for dotlink's.
#[test]
fn a_made_directory_replaced_by_a_link_is_forgotten_after_a_stop_or_an_error() {
    let scenario = || {
        let s = Sandbox::new();
        s.source("pkg/K/k", "v1").source("pkg/g", "g");
        s.manifest("[[link]]\nsource = \"pkg\"\ntarget = \"~/t\"\nrecursive = true\n");
        s.run(&["apply"]).code(0);
        fs::remove_dir_all(s.repo().join("pkg/K")).unwrap();
        crate::common::write(&s.repo().join("pkg/K"), "v2");
        s
    };
    let recorded_dirs = |s: &Sandbox| -> Vec<String> {
        let text = fs::read_to_string(s.state_file()).unwrap();
        text.lines()
            .filter_map(|l| l.strip_prefix("d\t"))
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    };
    let reference = scenario();
    assert!(recorded_dirs(&reference).contains(&"t/K".to_string()));
    reference.run(&["apply"]).code(0);
    let expected = recorded_dirs(&reference);
    assert!(!expected.contains(&"t/K".to_string()), "{expected:?}");
    for variable in ["DOTLINK_FAULT_AFTER", "DOTLINK_FAULT_ERROR_AT"] {
        for n in 0.. {
            let at = format!("{variable}={n}");
            let s = scenario();
            let run = s.run_env(&["apply"], &[(variable, &n.to_string())]);
            let stopped = run.code != 0 || run.stderr.contains("injected fault");
            s.run(&["apply"]).code(0);
            assert_eq!(s.link_at("t/K"), reference.link_at("t/K"), "{at}");
            assert_eq!(recorded_dirs(&s), expected, "{at}");
            if !stopped {
                assert!(n > 5, "{at}: the run has more than {n} fault points");
                break;
            }
        }
    }
}

/// Removing the empty directories dotlink made (`edges::emptied_by_hand`), killed or failing at
/// any point, before or after each removal: the next apply finishes the job, and the home and
/// the directories the state records are those of a run never stopped.
#[test]
fn removing_empty_directories_stopped_or_failing_anywhere_is_finished_by_the_next_run() {
    use crate::edges::{emptied_by_hand, recorded_dirs};
    let uninterrupted = emptied_by_hand();
    uninterrupted.run(&["apply"]).code(0);
    let (home, dirs) = (uninterrupted.home_tree(), recorded_dirs(&uninterrupted));
    assert_eq!(dirs, [".config", ".config/a"]);
    for fault in ["DOTLINK_FAULT_AFTER", "DOTLINK_FAULT_ERROR_AT"] {
        for point in 0.. {
            let s = emptied_by_hand();
            let run = s.run_env(&["apply"], &[(fault, &point.to_string())]);
            if !run.stderr.contains("fault injected") && !run.stderr.contains("injected fault") {
                // Two removals, a point before and after each, and the state file's.
                assert_eq!(point, 5, "{fault}: {}", run.stderr);
                break;
            }
            // Each directory is there or gone as the point says (0 is before the first removal,
            // 3 after the second): a stopped run goes no further, a failed step stops only
            // itself (and its directory's, which is then not empty). Nothing else is touched.
            let deep = s.home().join(".config/a/deep");
            let deep_stays = match fault {
                "DOTLINK_FAULT_AFTER" => point <= 2,
                _ => point == 0 || point == 2,
            };
            assert_eq!(deep.join("deeper").is_dir(), point == 0, "{fault}={point}");
            assert_eq!(deep.is_dir(), deep_stays, "{fault}={point}");
            assert_eq!(
                s.link_at(".config/a/g"),
                uninterrupted.link_at(".config/a/g")
            );
            s.run(&["apply"]).code(0);
            assert_eq!(s.home_tree(), home, "{fault}={point}");
            assert_eq!(recorded_dirs(&s), dirs, "{fault}={point}");
            s.run(&["apply"]).code(0).stdout_has("Nothing to do");
        }
    }
}

/// An error at any point of `unlink` (the link's removal, or one of its directories') is said,
/// never swallowed, and the next `unlink` leaves the home empty.
#[test]
fn an_error_removing_a_links_directories_is_said_and_finished_later() {
    for point in 0.. {
        let s = Sandbox::new();
        s.source("x", "x")
            .manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.local/share/b/x\"\n");
        s.run(&["apply"]).code(0);
        let run = s.run_env(
            &["unlink"],
            &[("DOTLINK_FAULT_ERROR_AT", &point.to_string())],
        );
        if !run.stderr.contains("injected fault") {
            // The link, three directories and the state file: eight points before it.
            assert!(point >= 8, "at {point}: {}", run.stderr);
            assert!(s.home_tree().is_empty(), "{:?}", s.home_tree());
            break;
        }
        s.run(&["unlink"]).code(0);
        assert!(s.home_tree().is_empty(), "at {point}: {:?}", s.home_tree());
    }
}

/// A directory an `overwrite` replaces, written into between planning and the step (a file
/// made in it, at any depth, at every fault point of the run): what was written is never
/// removed with it. Before the step, the step fails, "changed since planning", and the
/// directory stays as it is; after the link is in place, the write goes through the link.
#[test]
fn an_overwrite_never_removes_a_directory_written_into_since_planning() {
    for (depth, written) in [(0, "session.txt"), (1, "lua/session.txt")] {
        let mut refused = 0;
        for w in 0.. {
            let s = Sandbox::new();
            // `lua` on both sides, so that a write after the link is in place finds it too.
            s.source("nvim/init.lua", "repo")
                .source("nvim/lua/q.lua", "repo q");
            s.manifest(
                "[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\non_conflict = \"overwrite\"\n",
            );
            s.home_file(".config/nvim/init.lua", "old")
                .home_file(".config/nvim/lua/p.lua", "old p");
            let path = s.home().join(".config/nvim").join(written);
            let run = s.run_env(
                &["apply"],
                &[
                    ("DOTLINK_FAULT_WRITE_AT", &w.to_string()),
                    ("DOTLINK_FAULT_WRITE_PATH", path.to_str().unwrap()),
                ],
            );
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
            let everything = s.whole_tree();
            assert!(
                everything
                    .values()
                    .any(|v| v.ends_with("written since planning")),
                "{written} at point {w}: what was written is gone\n{everything:#?}"
            );
            if run.stderr.contains("changed since planning") {
                refused += 1;
                run.code(1);
                assert!(!s.home().join(".config/nvim").is_symlink(), "{w}");
                assert_eq!(
                    fs::read_to_string(s.home().join(".config/nvim/lua/p.lua")).unwrap(),
                    "old p"
                );
                assert!(s.leftovers().is_empty(), "{w}: {:?}", s.leftovers());
                continue;
            }
            if !run.stderr.contains("injected fault") && s.home().join(".config/nvim").is_symlink()
            {
                // The write came after the link was in place, or never: the run is done.
                assert!(refused > 0, "{written}: never refused (depth {depth})");
                break;
            }
        }
    }
}

/// A directory `overwrite` replaces that holds one of dotlink's own links, pruned by the same
/// run before the overwrite: the run's own removal is no change of the user's, so one run
/// replaces it, and the next has nothing to do.
#[test]
fn an_overwrite_after_pruning_inside_the_directory_converges_in_one_run() {
    let s = Sandbox::new();
    s.source("nvim/init.lua", "repo").source("x", "x");
    s.manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.config/nvim/x\"\n");
    s.home_file(".config/nvim/init.lua", "old");
    s.run(&["apply"]).code(0);
    assert!(s.link_at(".config/nvim/x").is_some());
    s.manifest(
        "[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\non_conflict = \"overwrite\"\n",
    );
    s.run(&["apply"])
        .code(0)
        .stdout_has("1 pruned")
        .stdout_has("1 overwritten");
    assert!(s.link_at(".config/nvim").is_some());
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
}

/// A directory `overwrite` replaces, written into after planning, and the run killed at every
/// point: the next run's recovery never finishes a removal of more than was planned. What was
/// written stays (the directory is put back when the step had swapped it out).
#[test]
fn a_recovered_overwrite_never_removes_what_was_written_since_planning() {
    for n in 0.. {
        let s = Sandbox::new();
        s.source("app/conf", "new");
        s.manifest(
            "[[link]]\nsource = \"app\"\ntarget = \"~/.config/app\"\non_conflict = \"overwrite\"\n",
        );
        s.home_file(".config/app/old", "old");
        let written = s.home().join(".config/app/written");
        let run = s.run_env(
            &["apply"],
            &[
                ("DOTLINK_APPLY_THREADS", "1"),
                ("DOTLINK_FAULT_WRITE_AT", "0"),
                ("DOTLINK_FAULT_WRITE_PATH", written.to_str().unwrap()),
                ("DOTLINK_FAULT_AFTER", &n.to_string()),
            ],
        );
        let stopped = run.stderr.contains("fault injected");
        s.run(&["apply", "--on-conflict", "fail"]);
        assert!(
            s.whole_tree()
                .values()
                .any(|v| v.ends_with("written since planning")),
            "killed at {n}: what was written since planning is gone"
        );
        assert!(s.leftovers().is_empty(), "{n}: {:?}", s.leftovers());
        if !stopped {
            assert!(n > 3, "only {n} points");
            break;
        }
    }
}

/// An error just after the change that put a backup back: the backup is back, the run exits 0,
/// and the error is said as a warning, never swallowed.
#[test]
fn a_late_error_of_restore_is_said() {
    let mut late = 0;
    for n in 0..40 {
        let s = backed_up_home();
        let run = s.run_env(&["restore"], &[("DOTLINK_FAULT_ERROR_AT", &n.to_string())]);
        if !run.stderr.contains("injected fault") {
            break;
        }
        if run.code == 0 {
            late += 1;
            run.stderr_has("put back all the same");
            restorable_or_restored(&s, &format!("error at {n}"));
        }
    }
    assert!(late > 0, "no error came just after a completed change");
}
