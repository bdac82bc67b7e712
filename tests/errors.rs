//! Bad input gets a clear error naming the file, line and column and what to do, exit 2; and
//! the manifest is found by `--manifest`, `$DOTLINK_MANIFEST` or by walking up.

use crate::common::Sandbox;
use std::os::unix::fs::symlink;

fn error(s: &Sandbox, manifest: &str) -> String {
    s.manifest(manifest);
    let before = s.whole_tree();
    let run = s.run(&["apply"]);
    run.code(2);
    assert_eq!(
        s.whole_tree(),
        before,
        "a manifest error must change nothing"
    );
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: "),
        "every manifest error has a hint: {}",
        run.stderr
    );
    run.stderr
        .replace(&s.repo().join("dotlink.toml").display().to_string(), "M")
}

#[test]
fn malformed_toml_names_line_and_column() {
    let s = Sandbox::new();
    let e = error(&s, "[[link]]\nsource = \"a\"\ntarget = \n");
    assert!(e.contains("error: M:3:"), "{e}");
}

#[test]
fn unknown_keys_are_errors() {
    let s = Sandbox::new();
    s.source("a", "a");
    let e = error(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nrecurse = true\n",
    );
    assert!(e.contains("M:4:1: unknown field `recurse`"), "{e}");
    let e = error(&s, "[defaults]\nprune = true\nstlye = \"absolute\"\n");
    assert!(e.contains("M:3:1: unknown field `stlye`"), "{e}");
    let e = error(&s, "[default]\n");
    assert!(e.contains("M:1:"), "{e}");
}

#[test]
fn wrong_values_list_the_allowed_ones() {
    let s = Sandbox::new();
    s.source("a", "a");
    let e = error(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\non_conflict = \"clobber\"\n",
    );
    assert!(
        e.contains("M:4:15") && e.contains("fail") && e.contains("overwrite"),
        "{e}"
    );
}

#[test]
fn a_missing_source_is_an_error() {
    let s = Sandbox::new();
    let e = error(
        &s,
        "[[link]]\nsource = \"zsh/zshrc\"\ntarget = \"~/.zshrc\"\n",
    );
    assert!(
        e.contains("M:2:10: source `zsh/zshrc` does not exist in the repository"),
        "{e}"
    );
}

#[test]
fn a_source_escaping_the_repository_is_an_error() {
    let s = Sandbox::new();
    crate::common::write(&s.path().join("secret"), "s");
    let e = error(&s, "[[link]]\nsource = \"../secret\"\ntarget = \"~/.x\"\n");
    assert!(
        e.contains("M:2:10: source `../secret` is outside the repository"),
        "{e}"
    );
    symlink(s.path().join("secret"), s.repo().join("sneaky")).unwrap();
    let e = error(&s, "[[link]]\nsource = \"sneaky\"\ntarget = \"~/.x\"\n");
    assert!(
        e.contains("M:2:10: source")
            && e.contains("resolves to")
            && e.contains("outside the repository"),
        "{e}"
    );
}

#[test]
fn two_entries_claiming_one_target_is_an_error() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    let e = error(
        &s,
        "[[link]]\nsource = \"a\"\ntarget = \"~/.x\"\n\n[[link]]\nsource = \"b\"\ntarget = \"~/.x\"\n",
    );
    assert!(
        e.contains("M:7:10: target") && e.contains("is claimed twice (lines 3 and 7)"),
        "{e}"
    );
}

/// With several targets claimed more than once, the error names the first entry, in the
/// manifest's order, that claims a target already claimed, and the entry that claimed it
/// before (not the first in the targets' order).
#[test]
fn of_several_targets_claimed_twice_the_first_in_manifest_order_is_named() {
    let s = Sandbox::new();
    for name in ["a", "b", "c", "d", "e"] {
        s.source(name, name);
    }
    let entry = |source: &str, target: &str| {
        format!("[[link]]\nsource = \"{source}\"\ntarget = \"{target}\"\n\n")
    };
    // Lines 3, 7, 11, 15, 19: ~/.z is claimed by a then d (line 15), ~/.y by b, c and e (line 11
    // is the first repeat in order).
    let manifest = [
        entry("a", "~/.z"),
        entry("b", "~/.y"),
        entry("c", "~/.y"),
        entry("d", "~/.z"),
        entry("e", "~/.y"),
    ]
    .concat();
    let e = error(&s, &manifest);
    assert!(
        e.contains("M:11:10: target") && e.contains("is claimed twice (lines 7 and 11)"),
        "{e}"
    );
    assert!(e.contains("repo/b and by ") && e.contains("repo/c"), "{e}");
    // A target inside a file another entry links is named with that entry's line.
    let manifest = [entry("a", "~/.z"), entry("b", "~/.z/inner")].concat();
    let e = error(&s, &manifest);
    assert!(
        e.contains("M:7:10: target") && e.contains("which line 3 links to a file"),
        "{e}"
    );
}

#[test]
fn a_target_outside_home_needs_opt_in() {
    let s = Sandbox::new();
    s.source("a", "a");
    let e = error(&s, "[[link]]\nsource = \"a\"\ntarget = \"/etc/a\"\n");
    assert!(
        e.contains("M:3:10: target /etc/a is outside the home directory"),
        "{e}"
    );
    assert!(e.contains("allow_outside_home = true"), "{e}");
}

#[test]
fn usage_errors_exit_2() {
    let s = Sandbox::new();
    s.run(&["apply", "--on-conflict", "explode"])
        .code(2)
        .stderr_has("possible values");
    s.run(&["frobnicate"]).code(2);
    s.run(&[]).code(2);
}

#[test]
fn no_manifest_found_is_an_error_with_a_hint() {
    let s = Sandbox::new();
    s.run(&["status"])
        .code(2)
        .stderr_has("no dotlink.toml found")
        .stderr_has("--manifest");
    s.run(&["-m", "/nonexistent/dotlink.toml", "status"])
        .code(2)
        .stderr_has("does not exist");
}

#[test]
fn the_manifest_is_found_by_flag_variable_or_walking_up() {
    let s = Sandbox::new();
    s.source("a", "a")
        .source("deep/er/file", "f")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    let repo = s.repo();
    let manifest = repo.join("dotlink.toml");
    let home = s.home();
    // Walking up from a subdirectory.
    s.run_in(&repo.join("deep/er"), &["status"], &[]).code(1);
    // $DOTLINK_MANIFEST from elsewhere.
    s.run_in(
        &home,
        &["status"],
        &[("DOTLINK_MANIFEST", manifest.to_str().unwrap())],
    )
    .code(1);
    // -m with the repository directory.
    s.run_in(&home, &["-m", repo.to_str().unwrap(), "status"], &[])
        .code(1);
    // Nothing from the home directory without either.
    s.run_in(&home, &["status"], &[]).code(2);
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    let esc = "\u{1b}[";
    assert!(s.run(&["--color", "always", "plan"]).stdout.contains(esc));
    assert!(!s.run(&["--color", "never", "plan"]).stdout.contains(esc));
    assert!(
        !s.run(&["plan"]).stdout.contains(esc),
        "not a terminal: no colour"
    );
    assert!(
        !s.run_env(&["status"], &[("NO_COLOR", "1")])
            .stdout
            .contains(esc)
    );
    assert!(
        s.run_env(&["--color", "always", "status"], &[("NO_COLOR", "1")])
            .stdout
            .contains(esc)
    );
    // CLICOLOR_FORCE colours a pipe too, unless NO_COLOR says otherwise or it is 0.
    assert!(
        s.run_env(&["plan"], &[("CLICOLOR_FORCE", "1")])
            .stdout
            .contains(esc)
    );
    assert!(
        !s.run_env(&["plan"], &[("CLICOLOR_FORCE", "0")])
            .stdout
            .contains(esc)
    );
    assert!(
        !s.run_env(&["plan"], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])
            .stdout
            .contains(esc)
    );
}

#[test]
fn init_writes_where_m_points_and_never_over_a_manifest() {
    let s = Sandbox::new();
    let dots = s.home().join("dots");
    std::fs::create_dir(&dots).unwrap();
    s.run(&["-m", dots.to_str().unwrap(), "init"]).code(0);
    assert!(dots.join("dotlink.toml").is_file());
    s.run(&["-m", dots.to_str().unwrap(), "init"])
        .code(1)
        .stderr_has("already exists; not overwriting it");
    let named = s.home().join("dots/other.toml");
    s.run(&["-m", named.to_str().unwrap(), "init"]).code(0);
    assert!(named.is_file());
    s.run(&["-m", "/nonexistent/dir/", "init"])
        .code(2)
        .stderr_has("is not a directory");
}

#[test]
fn help_teaches_the_commands_and_exit_codes() {
    let s = Sandbox::new();
    let run = s.run(&["--help"]);
    run.code(0)
        .stdout_has("apply")
        .stdout_has("plan")
        .stdout_has("status")
        .stdout_has("unlink")
        .stdout_has("Exit status:")
        .stdout_has("--manifest");
    s.run(&["status", "--help"])
        .code(0)
        .stdout_has("dangling")
        .stdout_has("--json");
    s.run(&["apply", "--help"])
        .code(0)
        .stdout_has("--dry-run")
        .stdout_has("--on-conflict")
        .stdout_has("--no-prune");
}

#[test]
fn manifest_errors_show_the_line_and_speak_plainly() {
    let s = Sandbox::new();
    s.source("a", "a");
    let cases = [
        (
            "[link]\nsource = \"a\"\ntarget = \"~/.a\"\n",
            "`[link]` is a single table, but entries are an array of tables",
            "write `[[link]]`",
            "1 | [link]",
        ),
        (
            "[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nrecursive = \"yes\"\n",
            "`recursive` must be true or false, not string \"yes\"",
            "fix the value of `recursive`",
            "4 | recursive = \"yes\"",
        ),
        (
            "[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nrecursiv = true\n",
            "unknown field `recursiv`; did you mean `recursive`?",
            "the keys here are: source, target, recursive",
            "4 | recursiv = true",
        ),
        (
            "[profiles]\nwork = \"x\"\n",
            "`work` must be a table such as { hostname = \"work-*\" }, not string \"x\"",
            "fix the value of `work`",
            "2 | work = \"x\"",
        ),
        (
            "[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nwhen = { os = 1 }\n",
            "`os` must be a string or a list of strings",
            "write `os = \"…\"`",
            "4 | when = { os = 1 }",
        ),
        (
            "[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[link]\nsource = \"a\"\n",
            "`[link]` is a single table, but entries are an array of tables",
            "write `[[link]]`",
            "4 | [link]",
        ),
        (
            "[[link]]\r\nsource = \"a\"\r\n\trecursiv = true\r\n",
            "unknown field `recursiv`; did you mean `recursive`?",
            "the keys here are",
            "3 |  recursiv = true",
        ),
        (
            "[[link]]\nsource = \"../a\"\ntarget = \"~/.a\"\n",
            "source `../a` is outside the repository",
            "sources are relative",
            "2 | source = \"../a\"",
        ),
    ];
    for (manifest, message, hint, line) in cases {
        s.manifest(manifest);
        let run = s.run(&["plan"]);
        run.code(2)
            .stderr_has(message)
            .stderr_has(hint)
            .stderr_has(line)
            .stderr_has(" --> ")
            .stderr_lacks("Raw")
            .stderr_lacks("untagged")
            .stderr_lacks("\\r")
            .stderr_lacks("invalid type: map");
        // The caret sits under the value at fault.
        let lines: Vec<&str> = run.stderr.lines().collect();
        let at = lines.iter().position(|l| l.contains(line)).unwrap();
        assert!(lines[at + 1].contains('^'), "{}", run.stderr);
    }
}
