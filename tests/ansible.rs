//! The Ansible example (examples/ansible/playbook.yml) run for real with ansible-core against
//! localhost and a throw-away home: "changed" on the first run, "ok" on the second, and
//! `--check` changes nothing.

use crate::common::Sandbox;
use crate::peers::tool;
use std::path::Path;
use std::process::Command;

#[test]
fn the_playbook_links_once_reports_ok_after_and_check_mode_changes_nothing() {
    let s = Sandbox::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/dotfiles");
    // A dotfiles repository to clone: the bundled example, committed.
    let origin = s.path().join("origin");
    let copy = Command::new("cp")
        .args(["-r"])
        .arg(&example)
        .arg(&origin)
        .status()
        .unwrap();
    assert!(copy.success());
    let git = |args: &[&str]| s.git(&origin, args);
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "dotfiles"]);

    let playbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ansible/playbook.yml");
    let run = |extra: &[&str]| {
        let out = Command::new(tool("ansible"))
            .args(["-i", "localhost,"])
            .arg(&playbook)
            .args(["-e", &format!("dotfiles_repo={}", origin.display())])
            .args([
                "-e",
                &format!(
                    "dotlink={}",
                    assert_cmd::cargo::cargo_bin("dotlink").display()
                ),
            ])
            .args(extra)
            .env("HOME", s.home())
            .env("XDG_STATE_HOME", s.state())
            .env("ANSIBLE_LOCAL_TEMP", s.path().join("ansible-tmp"))
            .env("ANSIBLE_REMOTE_TEMP", s.path().join("ansible-tmp"))
            // The modules run with the virtualenv's Python, the one ansible-core is in.
            .env(
                "ANSIBLE_PYTHON_INTERPRETER",
                tool("ansible").parent().unwrap().join("python"),
            )
            .env("ANSIBLE_NOCOLOR", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let recap = |text: &str, key: &str| -> usize {
        let line = text
            .lines()
            .find(|l| l.starts_with("localhost"))
            .unwrap_or("");
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{key}=")))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in the recap:\n{text}"))
    };
    let first = run(&[]);
    assert!(first.contains("changed: [localhost]"), "{first}");
    assert!(s.home().join("dotfiles/dotlink.toml").is_file());
    let linked = s.home_tree();
    assert!(linked.values().any(|v| v.starts_with("link")), "{first}");

    let second = run(&[]);
    assert_eq!(recap(&second, "changed"), 0, "{second}");

    // Check mode after a link went missing: reports a change, makes none.
    let (target, _) = linked
        .iter()
        .find(|(p, v)| v.starts_with("link") && !p.starts_with("dotfiles"))
        .unwrap();
    std::fs::remove_file(s.home().join(target)).unwrap();
    let before = s.home_tree();
    let check = run(&["--check"]);
    assert!(recap(&check, "changed") >= 1, "{check}");
    assert_eq!(s.home_tree(), before, "check mode changed nothing");
}
