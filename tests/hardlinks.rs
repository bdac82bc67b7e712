//! Hard links as a link method: every rule a hard link has, checked before anything is written,
//! and drift detection by inode.

use crate::common::Sandbox;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn inode(path: &Path) -> (u64, u64) {
    let m = fs::symlink_metadata(path).unwrap();
    (m.dev(), m.ino())
}

fn hardlinked(s: &Sandbox) {
    s.source("git/gitconfig", "[user]\n").manifest(
        "[[link]]\nsource = \"git/gitconfig\"\ntarget = \"~/.gitconfig\"\nmethod = \"hardlink\"\n",
    );
    s.run(&["apply"])
        .code(0)
        .stdout_has("+ ~/.gitconfig")
        .stdout_has("⇒");
}

#[test]
fn a_hard_link_shares_the_source_inode_and_is_ok() {
    let s = Sandbox::new();
    hardlinked(&s);
    let target = s.home().join(".gitconfig");
    assert!(!target.is_symlink());
    assert_eq!(inode(&target), inode(&s.repo().join("git/gitconfig")));
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    let json = s.run(&["status", "--json"]).json();
    let entry = &json["entries"][0];
    assert_eq!(entry["state"], "ok");
    assert_eq!(entry["method"], "hardlink");
    assert_eq!(entry["link_count"], 2);
    assert!(
        entry["reason"].as_str().unwrap().contains("link count 2"),
        "{entry}"
    );
}

#[test]
fn method_can_be_a_default() {
    let s = Sandbox::new();
    s.source("a", "a").manifest(
        "[defaults]\nmethod = \"hardlink\"\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n",
    );
    s.run(&["apply"]).code(0);
    assert_eq!(inode(&s.home().join(".a")), inode(&s.repo().join("a")));
}

#[test]
fn style_on_a_hard_link_is_an_error() {
    let s = Sandbox::new();
    s.source("a", "a").manifest(
        "[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nmethod = \"hardlink\"\nstyle = \"relative\"\n",
    );
    s.run(&["apply"])
        .code(2)
        .stderr_has("dotlink.toml:5:9: `style` is set on a link with `method = \"hardlink\"`, but style applies only to symlinks");
}

#[test]
fn a_directory_cannot_be_hard_linked_without_recursive() {
    let s = Sandbox::new();
    s.source("nvim/init.lua", "x").manifest(
        "[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\nmethod = \"hardlink\"\n",
    );
    let before = s.whole_tree();
    s.run(&["apply"])
        .code(2)
        .stderr_has("dotlink.toml:2:10: source")
        .stderr_has("is a directory, and directories cannot be hard-linked")
        .stderr_has("recursive = true")
        .stderr_has("method = \"symlink\"");
    assert_eq!(s.whole_tree(), before);
}

#[test]
fn recursive_hard_links_every_file_into_real_directories() {
    let s = Sandbox::new();
    s.source("nvim/init.lua", "i").source("nvim/lua/a.lua", "a").manifest(
        "[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\nmethod = \"hardlink\"\nrecursive = true\n",
    );
    s.run(&["apply"]).code(0).stdout_has("2 created");
    for file in ["init.lua", "lua/a.lua"] {
        let target = s.home().join(".config/nvim").join(file);
        assert!(!target.is_symlink());
        assert_eq!(inode(&target), inode(&s.repo().join("nvim").join(file)));
    }
    assert!(
        s.home().join(".config/nvim/lua").is_dir()
            && !s.home().join(".config/nvim/lua").is_symlink()
    );
    s.run(&["status"]).code(0);
}

/// An editor that saves by writing a new file and renaming it over the old one breaks the hard
/// link; with the same contents that is `diverged`, and apply relinks it.
#[test]
fn a_rename_save_with_the_same_contents_is_diverged_and_relinked() {
    let s = Sandbox::new();
    hardlinked(&s);
    let target = s.home().join(".gitconfig");
    let tmp = s.home().join(".gitconfig.swp");
    fs::write(&tmp, "[user]\n").unwrap();
    fs::rename(&tmp, &target).unwrap();
    assert_ne!(inode(&target), inode(&s.repo().join("git/gitconfig")));

    let json = s.run(&["status", "--json"]).json();
    assert_eq!(json["entries"][0]["state"], "diverged");
    assert_eq!(json["entries"][0]["link_count"], 1);
    assert_eq!(json["summary"]["diverged"], 1);
    s.run(&["status"]).code(1).stdout_has("diverged");
    // Nothing is lost by relinking, so even the default policy `fail` proceeds.
    s.run(&["apply"])
        .code(0)
        .stdout_has("~ ~/.gitconfig")
        .stdout_has("1 relinked");
    assert_eq!(inode(&target), inode(&s.repo().join("git/gitconfig")));
    s.run(&["status"]).code(0);
}

/// With different contents it is a conflict, and `backup` keeps the edited copy.
#[test]
fn an_edited_separate_copy_is_a_conflict_and_backup_keeps_it() {
    let s = Sandbox::new();
    hardlinked(&s);
    let target = s.home().join(".gitconfig");
    let tmp = s.home().join(".gitconfig.swp");
    fs::write(&tmp, "[user]\n\tname = edited\n").unwrap();
    fs::rename(&tmp, &target).unwrap();
    s.run(&["status"])
        .code(1)
        .stdout_has("conflict")
        .stdout_has("different contents");
    s.run(&["apply"]).code(1);
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        "[user]\n\tname = edited\n"
    );
    s.run(&["apply", "--on-conflict", "backup"])
        .code(0)
        .stdout_has("backed up ~/.gitconfig");
    let set = &s.backup_sets()[0];
    assert_eq!(
        fs::read_to_string(set.join(".gitconfig")).unwrap(),
        "[user]\n\tname = edited\n"
    );
    assert_eq!(inode(&target), inode(&s.repo().join("git/gitconfig")));
}

/// `git checkout` replaces the repository's file; the hard link in home keeps the old copy.
#[test]
fn a_replaced_source_leaves_an_old_copy_that_is_reported_as_such() {
    let s = Sandbox::new();
    hardlinked(&s);
    let source = s.repo().join("git/gitconfig");
    fs::remove_file(&source).unwrap();
    fs::write(&source, "[user]\n\tname = new\n").unwrap();
    s.run(&["status"])
        .code(1)
        .stdout_has("conflict")
        .stdout_has("the source was replaced since dotlink linked it");
    s.run(&["apply", "--on-conflict", "backup"]).code(0);
    assert_eq!(
        fs::read_to_string(s.backup_sets()[0].join(".gitconfig")).unwrap(),
        "[user]\n"
    );
    assert_eq!(
        fs::read_to_string(s.home().join(".gitconfig")).unwrap(),
        "[user]\n\tname = new\n"
    );
}

#[test]
fn switching_between_symlink_and_hard_link_relinks() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0);
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nmethod = \"hardlink\"\n");
    s.run(&["status"]).code(1).stdout_has("wrong");
    s.run(&["apply"]).code(0).stdout_has("1 relinked");
    assert_eq!(inode(&s.home().join(".a")), inode(&s.repo().join("a")));
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0).stdout_has("1 relinked");
    assert!(s.home().join(".a").is_symlink());
}

#[test]
fn unlink_removes_the_hard_link_and_leaves_the_repository_file() {
    let s = Sandbox::new();
    hardlinked(&s);
    let source = s.repo().join("git/gitconfig");
    assert_eq!(fs::metadata(&source).unwrap().nlink(), 2);
    s.run(&["unlink"])
        .code(0)
        .stdout_has("- ~/.gitconfig")
        .stdout_has("1 removed");
    assert!(fs::symlink_metadata(s.home().join(".gitconfig")).is_err());
    assert_eq!(fs::read_to_string(&source).unwrap(), "[user]\n");
    assert_eq!(fs::metadata(&source).unwrap().nlink(), 1);
}

#[test]
fn prune_and_unlink_leave_a_file_that_no_longer_shares_the_inode() {
    let s = Sandbox::new();
    hardlinked(&s);
    let target = s.home().join(".gitconfig");
    fs::remove_file(&target).unwrap();
    fs::write(&target, "mine now").unwrap();
    s.run(&["unlink"])
        .code(0)
        .stderr_has("~/.gitconfig is no longer dotlink's");
    assert_eq!(fs::read_to_string(&target).unwrap(), "mine now");
}

#[test]
fn a_hard_link_whose_source_is_gone_is_the_only_copy_and_is_kept() {
    let s = Sandbox::new();
    s.source("a", "only").source("b", "b").manifest(
        "[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nmethod = \"hardlink\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n",
    );
    s.run(&["apply"]).code(0);
    fs::remove_file(s.repo().join("a")).unwrap();
    s.manifest("[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    s.run(&["apply"]).code(0).stderr_has("holds the only copy");
    assert_eq!(fs::read_to_string(s.home().join(".a")).unwrap(), "only");
}

/// A hard link whose source was saved anew with the same bytes (an editor saving by rename, a
/// checkout): the repository keeps what it holds, so `unlink` removes it like any link dotlink
/// made, rather than leaving it as "the only copy". With other bytes it stays, and so it does
/// when the source became a symlink to the home's file (the same bytes, read through it).
#[test]
fn unlink_removes_a_hard_link_whose_source_was_saved_anew_with_the_same_bytes() {
    for (saved, kept) in [
        ("only", false),
        ("edited in the repository", true),
        ("a symlink to the home's file", true),
    ] {
        let s = Sandbox::new();
        s.source("a", "only")
            .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nmethod = \"hardlink\"\n");
        s.run(&["apply"]).code(0);
        let source = s.repo().join("a");
        if saved.starts_with("a symlink") {
            fs::remove_file(&source).unwrap();
            std::os::unix::fs::symlink(s.home().join(".a"), &source).unwrap();
        } else {
            fs::write(s.repo().join("a.new"), saved).unwrap();
            fs::rename(s.repo().join("a.new"), &source).unwrap();
        }
        let run = s.run(&["unlink"]);
        run.code(0);
        let target = s.home().join(".a");
        if kept {
            run.stderr_has("holds the only copy");
            assert_eq!(fs::read_to_string(&target).unwrap(), "only");
        } else {
            run.stderr_lacks("only copy");
            assert!(fs::symlink_metadata(&target).is_err(), "{}", run.stderr);
        }
    }
}

/// Hard links cannot cross filesystems: the repository on a tmpfs and the home on the disk
/// (or the other way round) is refused before anything is written, never silently symlinked.
#[test]
fn hard_links_across_filesystems_are_refused() {
    let s = Sandbox::new();
    let Some(other) = second_filesystem(&s.home()) else {
        eprintln!(
            "skipped: no second filesystem (/dev/shm) beside {}",
            s.home().display()
        );
        return;
    };
    let repo = other.path().join("repo");
    crate::common::write(&repo.join("a"), "a");
    fs::write(
        repo.join("dotlink.toml"),
        "[[link]]\nsource = \"a\"\ntarget = \"~/.config/a\"\nmethod = \"hardlink\"\n",
    )
    .unwrap();
    let before = s.whole_tree();
    let manifest = repo.join("dotlink.toml");
    s.run(&["-m", manifest.to_str().unwrap(), "apply"])
        .code(2)
        .stderr_has("cannot hard-link ~/.config/a to ")
        .stderr_has(&repo.join("a").display().to_string())
        .stderr_has("different filesystems")
        .stderr_has("method = \"symlink\"");
    assert_eq!(s.whole_tree(), before);
    assert!(
        fs::symlink_metadata(s.home().join(".config/a")).is_err(),
        "no silent fallback"
    );
}

/// A temporary directory on another filesystem than `here`, if the machine has one.
fn second_filesystem(here: &Path) -> Option<tempfile::TempDir> {
    let dev = fs::metadata(here).ok()?.dev();
    let dir = tempfile::tempdir_in("/dev/shm").ok()?;
    (fs::metadata(dir.path()).ok()?.dev() != dev).then_some(dir)
}

#[test]
fn status_reports_a_managed_link_whose_source_was_deleted_as_dangling() {
    let s = Sandbox::new();
    s.source("zsh/zshrc", "z").source("b", "b");
    s.manifest("[[link]]\nsource = \"zsh/zshrc\"\ntarget = \"~/.zshrc\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    s.run(&["apply"]).code(0);
    fs::remove_file(s.repo().join("zsh/zshrc")).unwrap();
    let expected = s.repo().join("zsh/zshrc").display().to_string();
    s.run(&["status"])
        .code(1)
        .stdout_has("dangling")
        .stdout_has(&expected);
    let json = s.run(&["status", "--json"]).json();
    let entry = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["state"] == "dangling")
        .unwrap()
        .clone();
    assert!(
        entry["reason"].as_str().unwrap().contains(&expected),
        "{entry}"
    );
    assert!(
        entry["reason"]
            .as_str()
            .unwrap()
            .contains("dotlink.toml:2:10"),
        "{entry}"
    );
    // Anything that would link still refuses the manifest, naming the entry.
    s.run(&["apply"])
        .code(2)
        .stderr_has("dotlink.toml:2:10: source `zsh/zshrc` does not exist");
}

/// A target moved from a hard-link entry to a symlink entry of another source: dotlink's own
/// hard link, still a second name of its old source, is relinked under `fail` like any link
/// dotlink made, and the next run has nothing to do. Once the old source was saved anew (the
/// hard link the only copy of what it holds), it is a conflict, and nothing is changed.
#[test]
fn a_hard_link_moved_to_another_entry_is_relinked() {
    let moved = |edited: bool| {
        let s = Sandbox::new();
        s.source("a/f", "v").source("b/f", "w");
        s.manifest("[[link]]\nsource = \"b/f\"\ntarget = \"~/.f\"\nmethod = \"hardlink\"\n");
        s.run(&["apply"]).code(0);
        if edited {
            fs::remove_file(s.repo().join("b/f")).unwrap();
            fs::write(s.repo().join("b/f"), "w saved anew").unwrap();
        }
        s.manifest("[[link]]\nsource = \"a/f\"\ntarget = \"~/.f\"\n");
        s
    };
    let s = moved(false);
    s.run(&["apply"])
        .code(0)
        .stdout_has("a hard link dotlink made to");
    assert_eq!(s.link_at(".f").unwrap(), Path::new("../repo/a/f"));
    assert_eq!(fs::read_to_string(s.repo().join("b/f")).unwrap(), "w");
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");

    let s = moved(true);
    s.run(&["apply"]).code(1).stdout_has("conflict");
    assert_eq!(fs::read_to_string(s.home().join(".f")).unwrap(), "w");
}
