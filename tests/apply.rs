//! `apply`, `plan` and `--dry-run` on real temporary trees: styles, recursive directories,
//! globs and ignore, idempotence, and a dry run that prints the plan and writes nothing.

use crate::common::Sandbox;
use std::fs;
use std::path::PathBuf;

fn basic() -> Sandbox {
    let s = Sandbox::new();
    s.source("zsh/zshrc", "zsh")
        .source("nvim/init.lua", "lua")
        .source("nvim/lua/opts.lua", "opts")
        .manifest(
            r#"
[[link]]
source = "zsh/zshrc"
target = "~/.zshrc"

[[link]]
source = "nvim"
target = "~/.config/nvim"
"#,
        );
    s
}

#[test]
fn apply_creates_relative_links_and_parent_directories() {
    let s = basic();
    s.run(&["apply"])
        .code(0)
        .stdout_has("+ ~/.zshrc")
        .stdout_has("+ ~/.config/nvim")
        .stdout_has("Applied: 2 created.");
    assert_eq!(
        s.link_at(".zshrc").unwrap(),
        PathBuf::from("../repo/zsh/zshrc")
    );
    assert_eq!(
        s.link_at(".config/nvim").unwrap(),
        PathBuf::from("../../repo/nvim")
    );
    assert!(s.home().join(".config").is_dir() && !s.home().join(".config").is_symlink());
    assert_eq!(fs::read_to_string(s.home().join(".zshrc")).unwrap(), "zsh");
    assert_eq!(
        fs::read_to_string(s.home().join(".config/nvim/lua/opts.lua")).unwrap(),
        "opts"
    );
}

#[test]
fn absolute_style_spells_the_canonical_source() {
    let s = Sandbox::new();
    s.source("a", "a").manifest(
        "[defaults]\nstyle = \"absolute\"\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n",
    );
    s.run(&["apply"]).code(0);
    assert_eq!(s.link_at(".a").unwrap(), s.repo().join("a"));
}

#[test]
fn per_link_style_overrides_the_default() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b").manifest(
        "[defaults]\nstyle = \"absolute\"\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\nstyle = \"relative\"\n",
    );
    s.run(&["apply"]).code(0);
    assert_eq!(s.link_at(".a").unwrap(), s.repo().join("a"));
    assert_eq!(s.link_at(".b").unwrap(), PathBuf::from("../repo/b"));
}

#[test]
fn second_apply_changes_nothing_and_says_so() {
    let s = basic();
    s.run(&["apply"]).code(0);
    let before = s.whole_tree();
    s.run(&["apply"])
        .code(0)
        .stdout_has("Nothing to do: 2 links up to date.");
    assert_eq!(s.whole_tree(), before);
}

#[test]
fn recursive_mirrors_real_directories_with_one_link_per_file() {
    let s = Sandbox::new();
    s.source("bin/tool", "t")
        .source("bin/sub/deep", "d")
        .source("bin/README.md", "r")
        .source("bin/x.swp", "swap")
        .manifest(
            "[defaults]\nignore = [\"*.swp\", \"**/README.md\"]\n[[link]]\nsource = \"bin\"\ntarget = \"~/.local/bin\"\nrecursive = true\n",
        );
    s.run(&["apply"]).code(0).stdout_has("Applied: 2 created.");
    assert!(!s.home().join(".local/bin").is_symlink());
    assert!(!s.home().join(".local/bin/sub").is_symlink());
    assert_eq!(
        s.link_at(".local/bin/tool").unwrap(),
        PathBuf::from("../../../repo/bin/tool")
    );
    assert_eq!(
        s.link_at(".local/bin/sub/deep").unwrap(),
        PathBuf::from("../../../../repo/bin/sub/deep")
    );
    assert!(!s.home().join(".local/bin/README.md").exists());
    assert!(!s.home().join(".local/bin/x.swp").exists());
}

#[test]
fn recursive_into_the_home_directory_works_like_stow() {
    let s = Sandbox::new();
    s.source("zsh/.zshrc", "z")
        .source("zsh/.config/zsh/aliases", "a");
    s.manifest("[[link]]\nsource = \"zsh\"\ntarget = \"~\"\nrecursive = true\n");
    s.run(&["apply"]).code(0);
    assert_eq!(
        s.link_at(".zshrc").unwrap(),
        PathBuf::from("../repo/zsh/.zshrc")
    );
    assert_eq!(
        s.link_at(".config/zsh/aliases").unwrap(),
        PathBuf::from("../../../repo/zsh/.config/zsh/aliases")
    );
}

#[test]
fn globs_link_each_match_by_name_inside_the_target_directory() {
    let s = Sandbox::new();
    s.source("config/git/config", "g")
        .source("config/tmux.conf", "t")
        .source("config/.DS_Store", "junk")
        .manifest(
            "[defaults]\nignore = [\".DS_Store\"]\n[[link]]\nsource = \"config/*\"\ntarget = \"~/.config/\"\nstyle = \"absolute\"\n",
        );
    s.run(&["apply"]).code(0).stdout_has("Applied: 2 created.");
    assert_eq!(
        s.link_at(".config/git").unwrap(),
        s.repo().join("config/git")
    );
    assert_eq!(
        s.link_at(".config/tmux.conf").unwrap(),
        s.repo().join("config/tmux.conf")
    );
    assert!(!s.home().join(".config/.DS_Store").exists());
}

#[test]
fn a_per_link_ignore_adds_to_the_defaults() {
    let s = Sandbox::new();
    s.source("config/a", "a")
        .source("config/b", "b")
        .source("config/c", "c");
    s.manifest("[defaults]\nignore = [\"a\"]\n[[link]]\nsource = \"config/*\"\ntarget = \"~/.config/\"\nignore = [\"b\"]\n");
    s.run(&["apply"]).code(0);
    assert!(s.link_at(".config/c").is_some());
    assert!(s.link_at(".config/a").is_none() && s.link_at(".config/b").is_none());
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let s = basic();
    s.home_file(".zshrc", "mine");
    s.source("extra", "e");
    s.manifest(
        "[[link]]\nsource = \"zsh/zshrc\"\ntarget = \"~/.zshrc\"\non_conflict = \"backup\"\n[[link]]\nsource = \"nvim\"\ntarget = \"~/.config/nvim\"\n",
    );
    let before = s.whole_tree();
    for args in [&["apply", "--dry-run"][..], &["plan"], &["apply", "-n"]] {
        s.run(args)
            .code(0)
            .stdout_has("+ ~/.config/nvim")
            .stdout_has("! ~/.zshrc")
            .stdout_has("backup to ")
            .stdout_has("Plan: 1 to create, 1 conflict.")
            .stdout_has("Dry run: nothing was changed.");
        assert_eq!(s.whole_tree(), before, "{args:?} wrote something");
    }
}

#[test]
fn plan_exits_1_when_apply_would_stop_on_a_conflict() {
    let s = basic();
    s.home_file(".zshrc", "mine");
    let before = s.whole_tree();
    s.run(&["plan"])
        .code(1)
        .stdout_has("! ~/.zshrc")
        .stderr_has("1 conflict; nothing was changed");
    assert_eq!(s.whole_tree(), before);
}

#[test]
fn verbose_shows_up_to_date_links_and_quiet_shows_nothing() {
    let s = basic();
    s.run(&["apply"]).code(0);
    s.run(&["plan", "-v"]).code(0).stdout_has("= ~/.zshrc");
    let quiet = s.run(&["apply", "-q"]);
    quiet.code(0);
    assert_eq!(quiet.stdout, "");
}

#[test]
fn no_temporary_files_are_left_behind() {
    let s = basic();
    s.home_link(".zshrc", "/somewhere/else");
    s.run(&["apply", "--on-conflict", "overwrite"]).code(0);
    s.manifest("[[link]]\nsource = \"zsh/zshrc\"\ntarget = \"~/.zshrc\"\nstyle = \"absolute\"\n");
    s.run(&["apply"]).code(0).stdout_has("~ ~/.zshrc");
    let leftovers = s.leftovers();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(s.link_at(".zshrc").unwrap(), s.repo().join("zsh/zshrc"));
}

#[test]
fn targets_outside_home_work_with_explicit_opt_in() {
    let s = Sandbox::new();
    let outside = s.path().join("elsewhere/app.conf");
    s.source("app.conf", "x").manifest(&format!(
        "[[link]]\nsource = \"app.conf\"\ntarget = \"{}\"\nallow_outside_home = true\n",
        outside.display()
    ));
    s.run(&["apply"]).code(0);
    assert_eq!(
        fs::read_link(&outside).unwrap(),
        PathBuf::from("../repo/app.conf")
    );
}

#[test]
fn the_bundled_example_applies_into_an_empty_home() {
    let s = Sandbox::new();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/dotfiles/dotlink.toml");
    let m = example.to_str().unwrap();
    s.run(&["-m", m, "apply"]).code(0).stdout_has("Applied:");
    s.run(&["-m", m, "status"]).code(0);
    assert!(s.home().join(".zshrc").is_symlink());
    assert!(s.home().join(".config/nvim").is_symlink());
    assert!(!s.home().join(".local/bin/README.md").exists());
    s.run(&["-m", m, "unlink"]).code(0);
    assert!(!s.home().join(".zshrc").exists());
}

#[test]
fn dotlink_toml_example_is_a_valid_manifest() {
    let s = Sandbox::new();
    let example =
        fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("dotlink.toml.example"))
            .unwrap();
    s.source("zsh/zshrc", "z")
        .source("nvim/init.lua", "n")
        .source("bin/tool", "t")
        .source("config/git/config", "g")
        .source("work/env.sh", "w")
        .source("rc/bashrc", "b")
        .source("rc/inputrc", "i")
        .source("stow/shell/dot-profile", "p");
    s.manifest(&example);
    s.run(&["plan"]).code(0).stdout_has("Plan: 8 to create.");
    s.run(&["plan", "--profile", "work"])
        .code(0)
        .stdout_has("Plan: 9 to create.");
    s.run(&["apply"]).code(0);
    s.run(&["status"]).code(0);
}

#[test]
fn one_run_at_a_time_per_home_whatever_the_manifest() {
    let s = basic();
    // Another manifest for the same home, and a live run holding the home's lock.
    s.source("other/x", "x");
    let other = s.repo().join("other/dotlink.toml");
    std::fs::write(&other, "[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\n").unwrap();
    let lock_path = s.state().join("dotlink/lock");
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(&lock_path).unwrap();
    lock.try_lock().unwrap();
    std::fs::write(&lock_path, "4242").unwrap();
    let before = s.home_tree();
    for args in [
        &["apply"][..],
        &["-m", other.to_str().unwrap(), "apply"],
        &["unlink"],
    ] {
        s.run(args)
            .code(1)
            .stderr_has("error: another dotlink run (pid 4242) is in progress");
    }
    // Replacing the manifest (git checkout, an editor's save) gives no way around it.
    let replacement = s.repo().join("new.toml");
    std::fs::copy(s.repo().join("dotlink.toml"), &replacement).unwrap();
    std::fs::rename(&replacement, s.repo().join("dotlink.toml")).unwrap();
    s.run(&["apply"]).code(1).stderr_has("pid 4242");
    assert_eq!(s.home_tree(), before);
    // Readers do not wait for it.
    s.run(&["status"]).code(1);
    drop(lock);
    s.run(&["apply"]).code(0);
    assert!(!lock_path.exists(), "a finished run removes its lock file");
}

#[test]
fn globs_leave_hidden_names_out_unless_the_pattern_starts_with_a_dot() {
    let s = Sandbox::new();
    s.source("conf/app.conf", "a")
        .source("conf/.DS_Store", "junk")
        .source("conf/.hidden.conf", "h");
    s.manifest("[[link]]\nsource = \"conf/*\"\ntarget = \"~/.config/\"\n");
    s.run(&["apply"]).code(0).stdout_has("1 created");
    assert!(s.home().join(".config/app.conf").is_symlink());
    assert!(!s.home().join(".config/.DS_Store").exists());
    s.manifest("[[link]]\nsource = \"conf/.*.conf\"\ntarget = \"~/.config/\"\n");
    s.run(&["apply"]).code(0);
    assert!(s.home().join(".config/.hidden.conf").is_symlink());
}
