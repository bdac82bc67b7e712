//! Moving in from GNU Stow, dotbot and dotter: folded directories, `[[package]]`, `prefix`,
//! `source = "."`, and what the home looks like before and after dotlink takes over. The tests
//! with the real tools are in `peers.rs`.

use crate::common::Sandbox;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Every file reachable in the sandbox's home (following links, as a program reading it would),
/// and the file it really is, relative to the sandbox.
pub fn reachable(s: &Sandbox) -> BTreeMap<PathBuf, PathBuf> {
    let home = s.home();
    walkdir::WalkDir::new(&home)
        .follow_links(true)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let relative = e.path().strip_prefix(&home).unwrap().to_path_buf();
            let real = e.path().canonicalize().unwrap();
            (relative, real.strip_prefix(s.path()).unwrap().to_path_buf())
        })
        .collect()
}

/// A Stow-shaped repository of three packages, deployed as Stow folds them: `~/.config/nvim`
/// and `~/bin` are directory links into the repository, `~/.zshrc` a file link.
fn stowed() -> Sandbox {
    let s = Sandbox::new();
    s.source("nvim/.config/nvim/init.lua", "init")
        .source("nvim/.config/nvim/lua/plugins.lua", "plugins")
        .source("nvim/README.md", "not linked")
        .source("zsh/.zshrc", "zshrc")
        .source("bin/bin/tool", "tool");
    fs::create_dir_all(s.home().join(".config")).unwrap();
    s.home_link(".config/nvim", "../../repo/nvim/.config/nvim")
        .home_link(".zshrc", "../repo/zsh/.zshrc")
        .home_link("bin", "../repo/bin/bin")
        .home_file(".config/user-file", "mine");
    s.manifest("[[package]]\nsource = \"*\"\ntarget = \"~\"\n");
    s
}

#[test]
fn stow_folded_directories_are_folded_not_conflicts() {
    let s = stowed();
    let run = s.run(&["status"]);
    run.code(1)
        .stdout_has("folded    ~/.config/nvim/init.lua")
        .stdout_has("below ~/.config/nvim, a folded directory link, as GNU Stow makes")
        .stdout_has("[nvim]")
        .stdout_lacks("ok        ~/.zshrc")
        .stdout_lacks("conflict");
    let json = s.run(&["status", "--json"]).json();
    assert_eq!(json["summary"]["conflict"], 0);
    assert!(json["summary"]["folded"].as_u64().unwrap() >= 3);
    let entry = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["target"]
                .as_str()
                .unwrap()
                .ends_with(".config/nvim/init.lua")
        })
        .unwrap();
    assert_eq!(entry["state"], "folded");
    assert_eq!(entry["package"], "nvim");
}

#[test]
fn apply_unfolds_under_every_policy_and_every_file_stays_the_same() {
    for policy in ["fail", "skip", "backup", "overwrite"] {
        let s = stowed();
        let before = reachable(&s);
        let run = s.run(&["apply", "--on-conflict", policy]);
        run.code(0).stdout_has("2 unfolded");
        assert_eq!(reachable(&s), before, "{policy}");
        assert!(s.home().join(".config/nvim").is_dir());
        assert!(!s.home().join(".config/nvim").is_symlink(), "{policy}");
        assert_eq!(
            s.link_at(".config/nvim/init.lua").unwrap(),
            Path::new("../../../repo/nvim/.config/nvim/init.lua")
        );
        assert!(s.home().join(".config/nvim/lua").is_dir());
        assert!(!s.home().join("bin").is_symlink());
        assert!(s.backup_sets().is_empty(), "{policy}: nothing is backed up");
        s.run(&["status"]).code(0).stdout_lacks("folded");
        s.run(&["apply"]).code(0).stdout_has("Nothing to do");
        assert!(s.leftovers().is_empty());
        // What the unfold made is dotlink's: unlink takes it all away again.
        s.run(&["unlink"]).code(0);
        assert!(!s.home().join(".config/nvim").exists(), "{policy}");
        assert_eq!(
            fs::read_to_string(s.home().join(".config/user-file")).unwrap(),
            "mine"
        );
    }
}

#[test]
fn under_fail_another_conflict_still_changes_nothing() {
    let s = stowed();
    s.source("extra/.extrarc", "x")
        .home_file(".extrarc", "user's");
    let before = s.whole_tree();
    s.run(&["apply"]).code(1).stderr_has("nothing was changed");
    assert_eq!(s.whole_tree(), before);
}

#[test]
fn a_folded_link_several_entries_share_is_unfolded_for_all_of_them() {
    let s = stowed();
    s.manifest(
        "[[link]]\nsource = \"nvim/.config/nvim/lua\"\ntarget = \"~/.config/nvim/lua\"\nrecursive = true\n\
         [[link]]\nsource = \"nvim/.config/nvim/init.lua\"\ntarget = \"~/.config/nvim/init.lua\"\n\
         [[link]]\nsource = \"zsh/.zshrc\"\ntarget = \"~/.config/nvim/zshrc-copy\"\n",
    );
    let before = reachable(&s);
    s.run(&["apply"])
        .code(0)
        .stdout_has("1 unfolded")
        .stdout_has("1 created");
    let after = reachable(&s);
    for (path, real) in &before {
        if path.starts_with(".config/nvim") {
            assert_eq!(after.get(path), Some(real), "{}", path.display());
        }
    }
    assert!(s.home().join(".config/nvim/zshrc-copy").is_symlink());
    s.run(&["status"]).code(0);
}

#[test]
fn a_link_into_the_repository_that_is_not_the_source_directory_is_still_refused() {
    let s = stowed();
    // ~/.config/nvim leads to the zsh package, not to nvim/.config/nvim.
    fs::remove_file(s.home().join(".config/nvim")).unwrap();
    s.home_link(".config/nvim", "../../repo/zsh");
    s.run(&["status"])
        .code(1)
        .stdout_has("is a link into the repository");
    let before = s.home_tree();
    s.run(&["apply", "--on-conflict", "overwrite"]).code(1);
    let after = s.home_tree();
    assert_eq!(
        after.get(Path::new(".config/nvim")),
        before.get(Path::new(".config/nvim"))
    );
    assert!(
        !s.repo().join("zsh/init.lua").exists(),
        "nothing is written into the repository"
    );
}

#[test]
fn a_folded_link_changed_between_plan_and_apply_is_left_alone() {
    let s = stowed();
    // The test-build hook puts a file where the folded link is, after the journal is written.
    fs::remove_file(s.home().join("bin")).unwrap();
    s.home_link("bin", "../repo/bin/bin");
    let run = s.run_env(
        &["apply"],
        &[
            ("DOTLINK_FAULT_WRITE_AT", "0"),
            ("DOTLINK_FAULT_WRITE_PATH", "bin-replaced"),
        ],
    );
    // Whatever the hook did, nothing precious is lost and nothing is left behind.
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    assert!(!run.stderr.contains("panicked"));
}

/// Each abort point of an unfolding run: every file stays reachable as the same file, and the
/// next run finishes the job.
#[test]
fn an_unfold_killed_at_any_point_keeps_every_file_reachable_and_is_finished_later() {
    let reference = stowed();
    let before = reachable(&reference);
    reference.run(&["apply"]).code(0);
    let expected = reference.home_tree();
    let mut stopped = 0;
    for n in 0.. {
        let s = stowed();
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", &n.to_string())]);
        if run.code == 0 {
            break;
        }
        stopped += 1;
        assert!(run.stderr.contains("fault injected"), "{n}: {}", run.stderr);
        // Besides what the run was building under its temporary name, nothing moved.
        let now: BTreeMap<_, _> = reachable(&s)
            .into_iter()
            .filter(|(p, _)| !p.to_string_lossy().contains(".dotlink-tmp-"))
            .collect();
        assert_eq!(now, before, "abort after {n}: a file moved");
        s.run(&["apply"]).code(0);
        assert_eq!(s.home_tree(), expected, "abort after {n}: did not converge");
        assert!(s.leftovers().is_empty(), "{n}: {:?}", s.leftovers());
        s.run(&["status"]).code(0);
        s.run(&["unlink"]).code(0);
        assert!(!s.home().join("bin").exists(), "{n}: unlink left ~/bin");
    }
    assert!(stopped > 8, "only {stopped} abort points");
}

/// An I/O error at each point of an unfolding run: the unfold fails whole (the folded link
/// stays, nothing is left at a temporary name), and the next run finishes the job.
#[test]
fn an_unfold_failing_at_any_point_leaves_the_folded_link_or_the_directory() {
    let reference = stowed();
    let before = reachable(&reference);
    reference.run(&["apply"]).code(0);
    let expected = reference.home_tree();
    let mut failed = 0;
    for n in 0.. {
        let s = stowed();
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_ERROR_AT", &n.to_string())]);
        if !run.stderr.contains("injected fault") {
            assert_eq!(s.home_tree(), expected, "{n}");
            break;
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        if run.code == 0 {
            // Just after the change that finished the run's last step: it is done.
            assert_eq!(s.home_tree(), expected, "{n}");
            run.stderr_has("the step is done");
            continue;
        }
        failed += 1;
        run.code(1);
        assert_eq!(reachable(&s), before, "error at {n}: a file moved");
        assert!(s.leftovers().is_empty(), "{n}: {:?}", s.leftovers());
        for link in [".config/nvim", "bin"] {
            let at = s.home().join(link);
            assert!(
                at.is_dir(),
                "{n}: {link} is neither the link nor the directory"
            );
        }
        s.run(&["apply"]).code(0);
        assert_eq!(s.home_tree(), expected, "error at {n}: did not converge");
        s.run(&["status"]).code(0);
    }
    assert!(failed > 8, "only {failed} error points");
}

#[test]
fn packages_mirror_each_directory_with_stows_ignore_lists() {
    let s = Sandbox::new();
    s.source("zsh/.zshrc", "z")
        .source("zsh/README.md", "ignored at the top of a package")
        .source("zsh/doc/README.md", "kept below the top")
        .source("zsh/.zshrc~", "backup file, ignored")
        .source("git/.gitconfig", "g")
        .source("git/.stow-local-ignore", "secret.*\n^/notes$  # mine\n")
        .source("git/secret.key", "s")
        .source("git/notes", "n")
        .source("git/README.md", "a local list replaces Stow's built-in one")
        .source("top-level-file", "not a package")
        .source(".hidden/.x", "not a package");
    s.manifest("[[package]]\nsource = \"*\"\n");
    s.run(&["apply"]).code(0);
    let linked: Vec<String> = s
        .home_tree()
        .into_iter()
        .filter(|(_, v)| v.starts_with("link"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert_eq!(
        linked,
        [".gitconfig", ".zshrc", "README.md", "doc/README.md"],
        "{linked:?}"
    );
    s.run(&["plan", "--json"]).code(0);
    let status = s.run(&["status", "--json"]).json();
    let gitconfig = status["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["target"].as_str().unwrap().ends_with(".gitconfig"))
        .unwrap()
        .clone();
    assert_eq!(gitconfig["package"], "git");
}

#[test]
fn dotfiles_renames_dot_names_and_packages_take_link_keys() {
    let s = Sandbox::new();
    s.source("shell/dot-bashrc", "b")
        .source("shell/dot-config/fish/config.fish", "f")
        .source("shell/dot-", "kept as is");
    s.manifest(
        "[[package]]\nsource = \"shell\"\ntarget = \"~/\"\ndotfiles = true\nstyle = \"absolute\"\non_conflict = \"backup\"\n",
    );
    s.home_file(".bashrc", "old");
    s.run(&["apply"]).code(0).stdout_has("1 backed up");
    assert_eq!(
        s.link_at(".bashrc").unwrap(),
        s.repo().join("shell/dot-bashrc")
    );
    assert!(s.link_at(".config/fish/config.fish").is_some());
    assert!(s.link_at("dot-").is_some());
}

#[test]
fn fold_true_links_whole_directories_unfolds_and_refolds() {
    let s = Sandbox::new();
    s.source("nvim/.config/nvim/init.lua", "i")
        .source("nvim/.config/nvim/lua/p.lua", "p")
        .source("zsh/.zshrc", "z")
        .source("extra", "x");
    fs::create_dir_all(s.home().join(".config")).unwrap();
    let folded = "[[package]]\nsource = \"*\"\nfold = true\nignore = [\"extra\"]\n";
    s.manifest(folded);
    s.run(&["apply"]).code(0);
    // ~/.config is a real directory already, so Stow (and dotlink) descend into it.
    assert_eq!(
        s.link_at(".config/nvim").unwrap(),
        Path::new("../../repo/nvim/.config/nvim")
    );
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    // Another entry places a link inside: the directory is unfolded, atomically.
    s.manifest(&format!(
        "{folded}[[link]]\nsource = \"extra\"\ntarget = \"~/.config/nvim/extra\"\n"
    ));
    s.run(&["apply"]).code(0).stdout_has("1 unfolded");
    assert!(!s.home().join(".config/nvim").is_symlink());
    assert_eq!(
        s.link_at(".config/nvim/lua").unwrap(),
        Path::new("../../../repo/nvim/.config/nvim/lua")
    );
    s.run(&["status"]).code(0);
    // And refolded when it no longer does.
    s.manifest(folded);
    s.run(&["apply"]).code(0);
    assert_eq!(
        s.link_at(".config/nvim").unwrap(),
        Path::new("../../repo/nvim/.config/nvim")
    );
    s.run(&["status"]).code(0);
    assert!(s.leftovers().is_empty());
}

#[test]
fn glob_prefix_and_the_repository_root() {
    let s = Sandbox::new();
    s.source("vimrc", "v")
        .source("zshrc", "z")
        .source("config/a", "a");
    s.manifest(
        "[[link]]\nsource = \"*rc\"\ntarget = \"~/\"\nprefix = \".\"\n\
         [[link]]\nsource = \".\"\ntarget = \"~/.dotfiles\"\n",
    );
    s.run(&["apply"]).code(0).stdout_has("3 created");
    assert_eq!(s.link_at(".vimrc").unwrap(), Path::new("../repo/vimrc"));
    assert_eq!(s.link_at(".zshrc").unwrap(), Path::new("../repo/zshrc"));
    assert_eq!(s.link_at(".dotfiles").unwrap(), Path::new("../repo"));
    s.run(&["status"]).code(0);
    s.manifest("[[link]]\nsource = \"vimrc\"\ntarget = \"~/.vimrc\"\nprefix = \".\"\n");
    s.run(&["plan"])
        .code(2)
        .stderr_has("dotlink.toml:4:10: `prefix` applies only to an entry whose source is a glob");
}

#[test]
fn package_mistakes_are_located() {
    let s = Sandbox::new();
    s.source("file", "f");
    s.manifest("[[package]]\nsource = \"file\"\n");
    s.run(&["plan"])
        .code(2)
        .stderr_has("dotlink.toml:2:10: package source `file` is not a directory");
    s.manifest("[[package]]\nsource = \"nope/*\"\n");
    s.run(&["plan"])
        .code(2)
        .stderr_has("package source `nope/*` names no directory");
    s.manifest("[[package]]\nsource = \"*\"\nrecursive = true\n");
    s.run(&["plan"])
        .code(2)
        .stderr_has("dotlink.toml:3:1: unknown field `recursive`");
    s.source("p/.stow-local-ignore", "(?<=a)b\n");
    s.manifest("[[package]]\nsource = \"p\"\n");
    s.run(&["plan"])
        .code(2)
        .stderr_has("p/.stow-local-ignore:1: `(?<=a)b` is not a regular expression");
}

/// A home with dead links left by another tool: two into the repository (one in a directory of
/// a declared target, one at the top), and ones that must stay.
fn dead_links_left_behind() -> Sandbox {
    let s = Sandbox::new();
    s.source("a", "a");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.config/a\"\n");
    s.home_link(".config/old", "../../repo/gone")
        .home_link(".old", "../repo/gone")
        .home_link(".alive", "../repo/a")
        .home_link(".elsewhere", "/nowhere/at/all")
        .home_link("deep/down/old", "../../../repo/gone");
    s.source("dir/x", "x");
    s.home_link(".dirlink", "../repo/dir");
    s
}

#[test]
fn clean_removes_dead_links_into_the_repository_and_nothing_else() {
    let s = dead_links_left_behind();
    s.run(&["apply"]).code(0);
    s.run(&["status"])
        .code(0)
        .stderr_has("2 dead links into the repository that dotlink did not make")
        .stderr_has("`dotlink clean` removes them");
    assert_eq!(s.run(&["status", "--json"]).json()["dead_links"], 2);
    let before = s.whole_tree();
    s.run(&["clean", "--dry-run"])
        .code(0)
        .stdout_has("- ~/.config/old → gone")
        .stdout_has("- ~/.old")
        .stdout_has("Dry run");
    assert_eq!(s.whole_tree(), before, "a dry run changes nothing");
    s.run(&["clean"]).code(0).stdout_has("Cleaned: 2 removed.");
    for gone in [".config/old", ".old"] {
        assert!(s.home().join(gone).symlink_metadata().is_err(), "{gone}");
    }
    for kept in [
        ".alive",
        ".elsewhere",
        "deep/down/old",
        ".dirlink",
        ".config/a",
    ] {
        assert!(s.home().join(kept).is_symlink(), "{kept}");
    }
    s.run(&["status"]).code(0).stderr_lacks("dead link");
    s.run(&["clean"])
        .code(0)
        .stdout_has("Nothing to do: no dead links into the repository.");
}

/// `~/tricky -> tools/../../repo/gone`, with `~/tools` a link to a directory elsewhere: the
/// kernel walks into `tools` before climbing, so it leads elsewhere, not into the repository
/// (as its text, normalised, says), and it is not `clean`'s to remove (it was removed).
#[test]
fn clean_follows_a_climb_after_a_symlinked_directory_as_the_kernel_does() {
    let s = dead_links_left_behind();
    fs::create_dir_all(s.path().join("other/deep/dir")).unwrap();
    s.home_link("tools", s.path().join("other/deep/dir"))
        .home_link("tricky", "tools/../../repo/gone")
        // Climbing through a real directory of the home stays lexical: into the repository.
        .home_link(".old2", "x/../../repo/gone")
        // Climbing back out of a link into the repository: into it, and listed where it leads.
        .home_link("rs", "../repo/sub")
        .home_link(".z", "rs/../gone")
        // Through a link in the repository that leads out of it: not into the repository.
        .home_link(".out", "../repo/out/gone")
        // Through a link in the home to the repository: into it.
        .home_link("dotfiles", "../repo")
        .home_link(".via", "dotfiles/gone3")
        // Through a dangling link in the repository (a drive unplugged): not known to lead
        // into it, so kept.
        .home_link(".usb", "../repo/usb/x");
    std::os::unix::fs::symlink(s.path().join("other"), s.repo().join("out")).unwrap();
    std::os::unix::fs::symlink(s.path().join("unplugged"), s.repo().join("usb")).unwrap();
    s.source("sub/f", "f");
    fs::create_dir_all(s.home().join("x")).unwrap();
    s.run(&["apply"]).code(0);
    s.run(&["clean", "--dry-run"])
        .code(0)
        .stdout_has("~/.z          → gone");
    s.run(&["clean"]).code(0).stdout_has("Cleaned: 5 removed.");
    assert!(
        s.home().join("tricky").is_symlink(),
        "not into the repository"
    );
    assert!(
        s.home().join(".out").is_symlink(),
        "not into the repository"
    );
    assert!(s.home().join(".via").symlink_metadata().is_err());
    assert!(
        s.home().join(".usb").is_symlink(),
        "not known to lead into the repository"
    );
    assert!(s.home().join(".old2").symlink_metadata().is_err());
}

#[test]
fn clean_never_removes_a_link_dotlink_recorded() {
    let s = dead_links_left_behind();
    s.source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.config/a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    s.run(&["apply"]).code(0);
    // The source of a recorded link goes away: the link is dotlink's, so `clean` leaves it
    // (status calls it dangling; apply or unlink deal with it).
    fs::remove_file(s.repo().join("b")).unwrap();
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.config/a\"\n");
    s.run(&["clean"]).code(0).stdout_lacks(".b ");
    assert!(s.home().join(".b").is_symlink());
}

#[test]
fn clean_killed_or_failing_at_any_point_removes_each_dead_link_or_leaves_it() {
    for variable in ["DOTLINK_FAULT_AFTER", "DOTLINK_FAULT_ERROR_AT"] {
        let mut interrupted = 0;
        for n in 0.. {
            let s = dead_links_left_behind();
            let before = s.home_tree();
            let run = s.run_env(&["clean"], &[(variable, &n.to_string())]);
            if run.code == 0 && !run.stderr.contains("injected") {
                break;
            }
            interrupted += 1;
            assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
            let after = s.home_tree();
            for (path, was) in &before {
                let dead = [".config/old", ".old"].contains(&path.to_str().unwrap());
                assert!(
                    after.get(path) == Some(was) || (dead && !after.contains_key(path)),
                    "{variable}={n}: {} changed",
                    path.display()
                );
            }
            assert!(s.leftovers().is_empty());
            s.run(&["clean"]).code(0);
            s.run(&["clean"]).code(0).stdout_has("Nothing to do");
        }
        assert!(interrupted >= 3, "{variable}: {interrupted}");
    }
}

#[test]
fn an_entry_with_prune_false_keeps_the_links_it_made() {
    let s = Sandbox::new();
    s.source("keep/a", "a")
        .source("keep/b", "b")
        .source("other/c", "c")
        .source("other/d", "d");
    s.manifest("[[package]]\nsource = \"keep\"\nprune = false\n[[link]]\nsource = \"other\"\ntarget = \"~/other\"\nrecursive = true\n");
    s.run(&["apply"]).code(0).stdout_has("4 created");
    fs::remove_file(s.repo().join("keep/b")).unwrap();
    fs::remove_file(s.repo().join("other/d")).unwrap();
    s.run(&["apply"]).code(0).stdout_has("1 pruned");
    assert!(
        s.home().join("b").is_symlink(),
        "kept: its entry says prune = false"
    );
    assert!(s.home().join("other/d").symlink_metadata().is_err());
}

#[test]
fn a_link_inside_the_repository_is_never_taken_for_a_fold() {
    let s = Sandbox::new();
    s.source("b/.config/nvim/init.lua", "i")
        .source("a/.config/other.conf", "c");
    std::os::unix::fs::symlink("../../b/.config/nvim", s.repo().join("a/.config/nvim")).unwrap();
    s.home_link(".config", "../repo/a/.config");
    s.manifest("[[package]]\nsource = \"b\"\n");
    let repo_before = crate::common::tree(&s.repo());
    s.run(&["apply", "--on-conflict", "overwrite"]).code(1);
    assert_eq!(
        crate::common::tree(&s.repo()),
        repo_before,
        "the repository is untouched"
    );
}

#[test]
fn clean_leaves_a_link_it_cannot_follow() {
    let s = Sandbox::new();
    s.source("a", "a").source("private/key", "k");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.home_link(".key", "../repo/private/key");
    let private = s.repo().join("private");
    let chmod = |mode| {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&private, fs::Permissions::from_mode(mode)).unwrap();
    };
    chmod(0o000);
    let run = s.run_unprivileged(&["clean"]);
    chmod(0o755);
    run.code(0);
    assert!(s.home().join(".key").is_symlink(), "{}", run.stdout);
}

#[test]
fn an_unfold_names_the_files_the_home_will_no_longer_reach() {
    let s = stowed();
    s.source("nvim/.config/nvim/.gitignore", "g");
    s.run(&["plan"])
        .code(0)
        .stdout_has("1 file it shows that no entry declares (ignored) will no longer be reachable from the home: nvim/.config/nvim/.gitignore");
    // With fold = true the package keeps Stow's fold, ignored files and all.
    s.manifest("[[package]]\nsource = \"*\"\nfold = true\n");
    s.run(&["plan"]).code(0).stdout_has("Nothing to do");
}

#[test]
fn clean_knows_a_declared_link_under_every_spelling_of_its_directory() {
    // `~/.a` and `~/.b` are two names of one directory outside the home: the declared `~/.b/u`,
    // dangling once its source is gone, is dotlink's under either spelling, never a dead link.
    let s = Sandbox::new();
    s.source("t", "t").source("u", "u");
    fs::create_dir_all(s.path().join("outside/d")).unwrap();
    s.home_link(".a", "../outside/d")
        .home_link(".b", "../outside/d");
    s.manifest("[[link]]\nsource = \"t\"\ntarget = \"~/.a/t\"\nallow_outside_home = true\n[[link]]\nsource = \"u\"\ntarget = \"~/.b/u\"\nallow_outside_home = true\n");
    s.run(&["apply"]).code(0);
    fs::remove_file(s.repo().join("u")).unwrap();
    std::os::unix::fs::symlink("../../repo/gone", s.path().join("outside/d/stray")).unwrap();
    assert_eq!(s.run(&["status", "--json"]).json()["dead_links"], 1);
    s.run(&["clean"]).code(0).stdout_has("Cleaned: 1 removed.");
    assert!(
        s.path().join("outside/d/u").is_symlink(),
        "the declared link stays"
    );
    assert!(s.path().join("outside/d/stray").symlink_metadata().is_err());
}

/// A refold stopped at each abort point, then finished and undone: `unlink` leaves the home
/// as it was before dotlink, the directory the unfold made included. The folded link and the
/// directory it replaced share one path, and the record of one must not take the other's
/// with it when it is forgotten.
#[test]
fn a_refold_killed_at_any_point_is_undone_whole_by_unlink() {
    let folded = "[[package]]\nsource = \"*\"\nfold = true\nignore = [\"extra\"]\n";
    let unfolded =
        format!("{folded}[[link]]\nsource = \"extra\"\ntarget = \"~/.config/nvim/extra\"\n");
    let setup = || {
        let s = Sandbox::new();
        s.source("nvim/.config/nvim/init.lua", "i")
            .source("nvim/.config/nvim/lua/p.lua", "p")
            .source("extra", "x");
        s.manifest(&unfolded);
        s.run(&["apply"]).code(0);
        assert!(s.home().join(".config/nvim").is_dir());
        assert!(!s.home().join(".config/nvim").is_symlink());
        s.manifest(folded);
        s
    };
    let mut stopped = 0;
    for n in 0.. {
        let s = setup();
        let run = s.run_env(&["apply"], &[("DOTLINK_FAULT_AFTER", &n.to_string())]);
        if run.code == 0 {
            break;
        }
        stopped += 1;
        assert!(run.stderr.contains("fault injected"), "{n}: {}", run.stderr);
        s.run(&["apply"]).code(0);
        assert_eq!(
            s.link_at(".config").unwrap(),
            Path::new("../repo/nvim/.config"),
            "abort after {n}"
        );
        s.run(&["status"]).code(0);
        s.run(&["unlink"]).code(0);
        let left: Vec<_> = s.home_tree().into_keys().collect();
        assert!(left.is_empty(), "abort after {n}: {left:?}");
        assert!(s.leftovers().is_empty(), "{n}: {:?}", s.leftovers());
    }
    assert!(stopped > 3, "only {stopped} abort points");
}

/// A folded link removed by hand, then a manifest that needs its place as a directory: the
/// run makes the directory, forgets the link's record, and keeps the directory's, so `unlink`
/// takes the directory too once its links are gone.
#[test]
fn a_folded_link_forgotten_where_its_run_makes_a_directory_keeps_that_directory_recorded() {
    let folded = "[[package]]\nsource = \"*\"\nfold = true\nignore = [\"extra\"]\n";
    let s = Sandbox::new();
    s.source("nvim/.config/nvim/init.lua", "i")
        .source("extra", "x");
    s.manifest(folded);
    s.run(&["apply"]).code(0);
    assert_eq!(
        s.link_at(".config").unwrap(),
        Path::new("../repo/nvim/.config")
    );
    fs::remove_file(s.home().join(".config")).unwrap();
    s.manifest(&format!(
        "{folded}[[link]]\nsource = \"extra\"\ntarget = \"~/.config/extra\"\n"
    ));
    s.run(&["apply"]).code(0);
    assert!(s.home().join(".config").is_dir());
    assert!(s.link_at(".config/extra").is_some());
    s.run(&["status"]).code(0);
    s.run(&["unlink"]).code(0);
    let left: Vec<_> = s.home_tree().into_keys().collect();
    assert!(left.is_empty(), "unlink left {left:?}");
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

/// The links an application leaves in a folded directory (Chromium's `SingletonLock ->
/// host-pid` to nothing, `SingletonSocket` out of the repository, a loop) land in the
/// repository: they stop no command, whether the directory is folded or, with a real
/// directory in the home, mirrored file by file (then they are not linked on their own).
#[test]
fn a_link_to_nothing_inside_a_folded_package_stops_no_run() {
    let s = Sandbox::new();
    s.source("chromium/.config/chromium/prefs", "p")
        .source("zsh/.zshrc", "z");
    s.manifest("[[package]]\nsource = \"*\"\nfold = true\n");
    s.run(&["apply"]).code(0);
    assert!(s.home().join(".config").is_symlink());
    let chromium = s.home().join(".config/chromium");
    std::os::unix::fs::symlink("myhost-12345", chromium.join("SingletonLock")).unwrap();
    // Leading out of the repository (`SingletonSocket` into `/tmp`), and in a loop.
    let outside = s.home().join("socket");
    fs::write(&outside, "").unwrap();
    std::os::unix::fs::symlink(&outside, chromium.join("SingletonSocket")).unwrap();
    std::os::unix::fs::symlink("loop-b", chromium.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", chromium.join("loop-b")).unwrap();
    for command in ["status", "plan", "apply", "clean"] {
        s.run(&[command]).code(0);
    }
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");

    // Mirrored file by file under a real directory: the link to nothing is not linked.
    let s = Sandbox::new();
    s.source("chromium/.config/chromium/prefs", "p");
    fs::create_dir_all(s.home().join(".config/chromium")).unwrap();
    std::os::unix::fs::symlink(
        "myhost-12345",
        s.repo().join("chromium/.config/chromium/SingletonLock"),
    )
    .unwrap();
    s.manifest("[[package]]\nsource = \"*\"\nfold = true\n");
    s.run(&["apply"]).code(0);
    assert!(s.link_at(".config/chromium/prefs").is_some());
    assert!(
        fs::symlink_metadata(s.home().join(".config/chromium/SingletonLock")).is_err(),
        "a link to nothing is not linked on its own"
    );
    s.run(&["status"]).code(0);
    // Without `fold`, it is an error that names it, as before.
    s.manifest("[[package]]\nsource = \"*\"\n");
    s.run(&["plan"])
        .code(2)
        .stderr_has("it is a symlink to something that does not exist");
}

/// A `fold = true` package meets the user's own directory under another name
/// (`~/.config -> dots-config`): it descends into it, as without `fold` and as into a real
/// directory, and never replaces the user's link, whatever the policy.
#[test]
fn fold_descends_into_the_users_directory_link() {
    let s = Sandbox::new();
    s.source("nvim/.config/nvim/init.lua", "i");
    s.home_file("dots-config/fish/config.fish", "f");
    std::os::unix::fs::symlink("dots-config", s.home().join(".config")).unwrap();
    s.manifest("[[package]]\nsource = \"nvim\"\nfold = true\n");
    s.run(&["apply", "--on-conflict", "backup"])
        .code(0)
        .stdout_lacks("backed up");
    assert_eq!(
        fs::read_link(s.home().join(".config")).unwrap(),
        Path::new("dots-config")
    );
    assert_eq!(
        fs::read_to_string(s.home().join(".config/fish/config.fish")).unwrap(),
        "f"
    );
    assert_eq!(
        s.link_at("dots-config/nvim").unwrap(),
        Path::new("../../repo/nvim/.config/nvim"),
        "the highest directory only the package uses is folded"
    );
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    s.run(&["unlink"]).code(0);
    assert!(fs::symlink_metadata(s.home().join("dots-config/nvim")).is_err());
    assert!(s.home().join(".config/fish/config.fish").exists());
}
