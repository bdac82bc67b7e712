//! Moving in from the real tools: GNU Stow (the Debian package) and dotbot (from PyPI) deploy a
//! repository shaped like a real one into the sandbox's home, then dotlink takes over. Every
//! path in the home must resolve to the same file before and after, with no conflict. The
//! tools are installed by `tests/tools/install` (cached under target/tools); a test that cannot
//! get its tool fails and says why.

use crate::common::Sandbox;
use crate::migrate::reachable;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The command of a real tool, installed once per test run.
pub fn tool(name: &str) -> PathBuf {
    static INSTALLED: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut installed = INSTALLED.get_or_init(Default::default).lock().unwrap();
    if let Some(path) = installed.get(name) {
        return path.clone();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/install");
    let out = Command::new(&script).arg(name).output().unwrap();
    assert!(
        out.status.success(),
        "cannot get {name} for this test: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    installed.insert(name.to_string(), path.clone());
    path
}

/// Run a real tool in the sandbox: its home is the sandbox's.
fn run_tool(s: &Sandbox, name: &str, args: &[&str]) {
    let out = Command::new(tool(name))
        .args(args)
        .current_dir(s.repo())
        .env("HOME", s.home())
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Stow repository shaped like a real one: nested `.config` packages, `bin/`, a package with
/// its own `.stow-local-ignore`, READMEs Stow ignores, and a home that already has `~/.config`.
fn stow_repository() -> Sandbox {
    let s = Sandbox::new();
    s.source("nvim/.config/nvim/init.lua", "init")
        .source("nvim/.config/nvim/lua/plugins/telescope.lua", "t")
        .source("nvim/.config/nvim/lua/options.lua", "o")
        .source("nvim/README.md", "Stow ignores this")
        .source("zsh/.zshrc", "zshrc")
        .source("zsh/.zprofile", "zprofile")
        .source("zsh/.config/zsh/aliases.zsh", "aliases")
        .source("git/.gitconfig", "gitconfig")
        .source("git/.config/git/ignore", "*.swp")
        .source("bin/bin/backup", "#!/bin/sh")
        .source("bin/bin/sync", "#!/bin/sh")
        .source("tmux/.tmux.conf", "set -g mouse on")
        .source("tmux/.stow-local-ignore", "notes\\.txt\n")
        .source("tmux/notes.txt", "mine, not linked");
    s.home_file(".config/user-app/settings", "the user's own");
    s
}

/// `stow -t HOME` every package of [`stow_repository`], folding as Stow does by default.
fn stow_every_package(s: &Sandbox) {
    let home = s.home().display().to_string();
    run_tool(
        s,
        "stow",
        &["-t", &home, "nvim", "zsh", "git", "bin", "tmux"],
    );
}

#[test]
fn a_home_stow_deployed_with_folding_is_taken_over_without_a_conflict() {
    let s = stow_repository();
    stow_every_package(&s);
    // Stow folded what only one package uses.
    assert!(s.home().join(".config/nvim").is_symlink());
    assert!(s.home().join("bin").is_symlink());
    let before = reachable(&s);

    // As a Stow user writes it: every package, no folding.
    s.manifest("[[package]]\nsource = \"*\"\n");
    let plan = s.run(&["plan"]);
    plan.code(0).stdout_lacks("conflict").stdout_has("unfold");
    s.run(&["status"]).code(1).stdout_has("folded");
    s.run(&["apply"]).code(0).stdout_lacks("conflict");
    assert_eq!(
        reachable(&s),
        before,
        "every path resolves to the same file"
    );
    assert!(!s.home().join(".config/nvim").is_symlink());
    s.run(&["status"]).code(0);
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
}

#[test]
fn import_stow_reproduces_stow_with_folding_and_with_its_stowrc() {
    let s = stow_repository();
    stow_every_package(&s);
    let before = reachable(&s);
    let tree = s.home_tree();
    let home = s.home().display().to_string();
    s.run(&["import", "stow", "--target", &home])
        .code(0)
        .stdout_has("Wrote");
    let manifest = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    assert!(manifest.contains("[[package]]"), "{manifest}");
    assert!(manifest.contains("fold = true"), "{manifest}");
    s.run(&["plan"])
        .code(0)
        .stdout_lacks("conflict")
        .stdout_has("Nothing to do");
    s.run(&["apply"]).code(0);
    assert_eq!(
        s.home_tree(),
        tree,
        "Stow's folded links are dotlink's own fold"
    );
    assert_eq!(reachable(&s), before);
    s.run(&["status"]).code(0);
    // An existing manifest is never overwritten.
    s.run(&["import", "stow"])
        .code(2)
        .stderr_has("already exists; not overwritten");
}

#[test]
fn import_stow_with_no_folding_and_dotfiles_from_stowrc() {
    let s = Sandbox::new();
    s.source("shell/dot-bashrc", "bashrc")
        .source("shell/dot-inputrc", "inputrc")
        .source("scripts/bin/hello", "#!/bin/sh");
    let home = s.home().display().to_string();
    fs::write(
        s.repo().join(".stowrc"),
        format!("--target={home}\n--dotfiles\n--no-folding\n--override=.*\n"),
    )
    .unwrap();
    run_tool(&s, "stow", &["shell", "scripts"]);
    assert!(s.home().join(".bashrc").is_symlink());
    assert!(!s.home().join("bin").is_symlink());
    let before = reachable(&s);
    let run = s.run(&["import", "stow"]);
    run.code(0)
        .stderr_has("warning: ")
        .stderr_has(".stowrc:4: --override=.* is not carried over");
    let manifest = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    assert!(manifest.contains("dotfiles = true"), "{manifest}");
    assert!(manifest.contains("fold = false"), "{manifest}");
    assert!(manifest.contains("# "), "{manifest}");
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    assert_eq!(reachable(&s), before);
    s.run(&["status"]).code(0);
}

/// A dotbot repository shaped like a real one: root-level files, a directory, globs with a
/// prefix and an exclude, link defaults, and shell, create and clean directives.
fn dotbot_repository() -> Sandbox {
    let s = Sandbox::new();
    s.source("vimrc", "v")
        .source("zshrc", "z")
        .source("gitconfig", "g")
        .source("config/nvim/init.lua", "i")
        .source("config/kitty/kitty.conf", "k")
        .source("config/skip-me/x", "x")
        .source("bin/one", "1")
        .source("bin/two", "2")
        .source("rc/bashrc", "b")
        .source("rc/inputrc", "in");
    fs::write(
        s.repo().join("install.conf.yaml"),
        "- defaults:\n    link:\n      relink: true\n      create: true\n\n\
         - clean: ['~']\n\n\
         - create:\n    - ~/projects\n\n\
         - link:\n\
         \x20   ~/.vimrc: vimrc\n\
         \x20   ~/.zshrc:\n\
         \x20   ~/.gitconfig:\n\
         \x20     path: gitconfig\n\
         \x20     relative: true\n\
         \x20   ~/.config/:\n\
         \x20     glob: true\n\
         \x20     path: config/*\n\
         \x20     exclude: [config/skip-me]\n\
         \x20   ~/.local/bin/:\n\
         \x20     glob: true\n\
         \x20     path: bin/*\n\
         \x20   ~/:\n\
         \x20     glob: true\n\
         \x20     path: rc/*\n\
         \x20     prefix: '.'\n\n\
         - shell:\n    - [git submodule update --init, Installing submodules]\n",
    )
    .unwrap();
    s
}

#[test]
fn a_home_dotbot_deployed_is_taken_over_without_a_conflict() {
    let s = dotbot_repository();
    let repo = s.repo().display().to_string();
    run_tool(
        &s,
        "dotbot",
        &[
            "-d",
            &repo,
            "-c",
            "install.conf.yaml",
            "--only",
            "link",
            "create",
        ],
    );
    assert!(s.home().join(".bashrc").is_symlink(), "{:?}", s.home_tree());
    let before = reachable(&s);
    let run = s.run(&["import", "dotbot"]);
    run.code(0)
        .stderr_has("install.conf.yaml:6: clean")
        .stderr_has("install.conf.yaml:8: create")
        .stderr_has("install.conf.yaml:29: shell");
    let manifest = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    assert!(manifest.contains("prefix = \".\""), "{manifest}");
    assert!(manifest.contains("git submodule update"), "{manifest}");
    s.run(&["plan"]).code(0).stdout_lacks("conflict");
    s.run(&["apply"]).code(0).stdout_lacks("conflict");
    assert_eq!(
        reachable(&s),
        before,
        "every path resolves to the same file"
    );
    s.run(&["status"]).code(0);
    s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    assert!(s.home().join(".config/skip-me").symlink_metadata().is_err());
}

#[test]
fn import_dotter_makes_profiles_and_leaves_templates_alone() {
    let s = Sandbox::new();
    s.source("zsh/zshrc", "z")
        .source("nvim/init.lua", "i")
        .source("nvim/lua/p.lua", "p")
        .source("git/gitconfig", "[user]\n  name = {{ name }}\n")
        .source("work/ssh-config", "w");
    fs::create_dir_all(s.repo().join(".dotter")).unwrap();
    fs::write(
        s.repo().join(".dotter/global.toml"),
        "[default.files]\n\"zsh/zshrc\" = \"~/.zshrc\"\n\n[default.variables]\nname = \"me\"\n\n\
         [nvim]\ndepends = [\"default\"]\n[nvim.files]\nnvim = \"~/.config/nvim\"\n\n\
         [git.files]\n\"git/gitconfig\" = \"~/.gitconfig\"\n\n\
         [work.files]\n\"work/ssh-config\" = { target = \"~/.ssh/config\", type = \"symbolic\" }\n",
    )
    .unwrap();
    fs::write(
        s.repo().join(".dotter/local.toml"),
        "packages = [\"nvim\", \"git\"]\n",
    )
    .unwrap();
    // What dotter deployed: absolute links per file, and the template rendered into a copy.
    let link = |target: &str, source: &str| {
        let at = s.home().join(target);
        fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(s.repo().join(source), at).unwrap();
    };
    link(".zshrc", "zsh/zshrc");
    link(".config/nvim/init.lua", "nvim/init.lua");
    link(".config/nvim/lua/p.lua", "nvim/lua/p.lua");
    s.home_file(".gitconfig", "[user]\n  name = me\n");
    let before = reachable(&s);
    let run = s.run(&["import", "dotter"]);
    run.code(0)
        .stderr_has("global.toml:13: git/gitconfig is a template")
        .stderr_has("variables of package `default`");
    let manifest = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    assert!(manifest.contains("[profiles]"), "{manifest}");
    assert!(
        manifest.contains("when = { profile = \"nvim\" }"),
        "{manifest}"
    );
    s.run(&["apply"]).code(0).stdout_lacks("conflict");
    assert_eq!(reachable(&s), before);
    assert_eq!(
        fs::read_to_string(s.home().join(".gitconfig")).unwrap(),
        "[user]\n  name = me\n"
    );
    assert!(!s.home().join(".ssh").exists(), "work is not selected here");
    s.run(&["status"]).code(0);
}

#[test]
fn importers_refuse_or_warn_about_what_they_cannot_read() {
    let s = Sandbox::new();
    s.source("a", "a")
        .source("c", "c")
        .source("we\"ird\nname", "w");
    let config = s.repo().join("install.conf.yaml");
    fs::write(&config, "link:\n  ~/.a: a\n").unwrap();
    s.run(&["import", "dotbot", "--stdout"])
        .code(2)
        .stderr_has("install.conf.yaml:1: a dotbot config is a list of tasks");
    fs::write(
        &config,
        "- link: 5\n- link:\n    ~/.a: a\n    ~/.a: c\n    \"~/.q\\\"uote\\n\": \"we\\\"ird\\nname\"\n    ~/.p: {path: [1, 2]}\n",
    )
    .unwrap();
    s.run(&["import", "dotbot"])
        .code(0)
        .stderr_has("install.conf.yaml:1: a `link` task that is not a mapping")
        .stderr_has("the `path` of ~/.p is not a string");
    let manifest = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    assert!(
        manifest.contains("source = \"c\""),
        "the last ~/.a wins:\n{manifest}"
    );
    assert!(!manifest.contains("source = \"a\""), "{manifest}");
    s.run(&["plan"]).code(0);
}

#[test]
fn import_stow_names_packages_literally() {
    let s = Sandbox::new();
    s.source("vim[1]/.a", "a").source("vim1/.b", "b");
    let home = s.home().display().to_string();
    s.run(&["import", "stow", "--target", &home, "vim[1]"])
        .code(0);
    s.run(&["apply"]).code(0).stdout_has("1 created");
    assert!(s.home().join(".a").is_symlink());
    assert!(!s.home().join(".b").exists());
}

#[test]
fn import_dotter_decides_templates_file_by_file() {
    let s = Sandbox::new();
    s.source("nvim/init.lua", "plain")
        .source("nvim/lua/t.lua", "{{ x }}");
    fs::create_dir_all(s.repo().join(".dotter")).unwrap();
    fs::write(
        s.repo().join(".dotter/global.toml"),
        "[nvim.files]\nnvim = \"~/.config/nvim\"\n",
    )
    .unwrap();
    fs::write(
        s.repo().join(".dotter/local.toml"),
        "packages = [\"nvim\", \"ghost\"]\n",
    )
    .unwrap();
    s.run(&["import", "dotter"])
        .code(0)
        .stderr_has("package `ghost` is selected here but no package of that name is defined")
        .stderr_has("nvim/lua/t.lua is a template");
    s.run(&["apply"]).code(0).stdout_has("1 created");
    assert!(s.home().join(".config/nvim/init.lua").is_symlink());
    assert!(!s.home().join(".config/nvim/lua/t.lua").exists());
}
