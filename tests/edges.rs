//! Edges where data used to be lost or stranded (issue #10): each test is a reproduction on a
//! real temporary tree.

mod common;

use common::Sandbox;
use std::fs;
use std::os::unix::fs::symlink;

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
        .stderr_has("forgot ~/.vimrc: it was changed since dotlink made it");
    assert_eq!(
        fs::read_link(s.home().join(".vimrc")).unwrap(),
        s.home().join("my-vimrc")
    );
}
