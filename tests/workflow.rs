//! Everyday workflow commands: init, adopt, restore, plan --json, completions and the man page.

use crate::common::Sandbox;
use std::fs;
use std::path::PathBuf;

#[test]
fn init_writes_a_commented_valid_starter_and_never_overwrites() {
    let s = Sandbox::new();
    s.run(&["init"])
        .code(0)
        .stdout_has("Created")
        .stdout_has("dotlink plan");
    let text = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    assert!(text.contains("# ") && text.contains("[defaults]"));
    s.run(&["plan"]).code(0).stdout_has("Nothing to do");
    fs::write(s.repo().join("dotlink.toml"), "# mine\n").unwrap();
    s.run(&["init"])
        .code(1)
        .stderr_has("already exists; not overwriting it");
    assert_eq!(
        fs::read_to_string(s.repo().join("dotlink.toml")).unwrap(),
        "# mine\n"
    );
}

const COMMENTED: &str = "# My dotfiles.\n[defaults]\nprune = true  # tidy up\n\n# the shell\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n";

#[test]
fn adopt_moves_a_file_in_links_it_back_and_keeps_the_manifest_layout() {
    let s = Sandbox::new();
    s.source("a", "a").manifest(COMMENTED);
    s.home_file(".gitconfig", "[user]\n")
        .home_file(".config/nvim/init.lua", "lua");
    s.run(&["adopt", "--dry-run", "../home/.gitconfig"])
        .code(0)
        .stdout_has("+ ~/.gitconfig → gitconfig")
        .stdout_has("Dry run");
    assert!(!s.home().join(".gitconfig").is_symlink());
    assert_eq!(
        fs::read_to_string(s.repo().join("dotlink.toml")).unwrap(),
        COMMENTED
    );

    let gitconfig = s.home().join(".gitconfig");
    let nvim = s.home().join(".config/nvim");
    s.run(&["adopt", gitconfig.to_str().unwrap(), nvim.to_str().unwrap()])
        .code(0)
        .stdout_has("Adopted: 2");
    assert_eq!(
        fs::read_to_string(s.repo().join("gitconfig")).unwrap(),
        "[user]\n"
    );
    assert_eq!(
        fs::read_to_string(s.repo().join("config/nvim/init.lua")).unwrap(),
        "lua"
    );
    assert_eq!(
        fs::read_link(&gitconfig).unwrap(),
        PathBuf::from("../repo/gitconfig")
    );
    assert_eq!(
        fs::read_link(&nvim).unwrap(),
        PathBuf::from("../../repo/config/nvim")
    );
    let manifest = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    assert!(manifest.starts_with(COMMENTED), "{manifest}");
    assert!(
        manifest.contains("source = \"gitconfig\"\ntarget = \"~/.gitconfig\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("source = \"config/nvim\"\ntarget = \"~/.config/nvim\""),
        "{manifest}"
    );
    s.run(&["status"]).code(1).stdout_has("missing"); // ~/.a was never applied
    s.run(&["apply"]).code(0).stdout_has("1 created");
    s.run(&["status"]).code(0);
    // Adopted links are dotlink's: unlink removes them and leaves the files in the repository.
    s.run(&["unlink"]).code(0);
    assert!(fs::symlink_metadata(&gitconfig).is_err());
    assert!(s.repo().join("gitconfig").is_file());
}

#[test]
fn adopt_as_chooses_the_place_in_the_repository() {
    let s = Sandbox::new();
    s.manifest("");
    s.home_file(".zshrc", "z");
    let zshrc = s.home().join(".zshrc");
    s.run(&["adopt", "--as", "shell/zsh/zshrc", zshrc.to_str().unwrap()])
        .code(0);
    assert_eq!(
        fs::read_to_string(s.repo().join("shell/zsh/zshrc")).unwrap(),
        "z"
    );
    assert_eq!(
        fs::read_link(&zshrc).unwrap(),
        PathBuf::from("../repo/shell/zsh/zshrc")
    );
}

#[test]
fn adopt_refuses_what_it_must_not_take() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0);
    s.home_file(".gitconfig", "g")
        .home_link(".foreign", "/etc/hostname");
    s.source("gitconfig", "already here");
    crate::common::write(&s.path().join("elsewhere/file"), "x");
    let path = |p: &str| s.home().join(p).display().to_string();
    let before = s.whole_tree();
    s.run(&["adopt", &path(".a")])
        .code(2)
        .stderr_has("already managed by dotlink");
    s.run(&["adopt", &path(".foreign")])
        .code(2)
        .stderr_has("is a symlink");
    s.run(&["adopt", &path(".gitconfig")])
        .code(2)
        .stderr_has("already exists in the repository")
        .stderr_has("--as");
    s.run(&[
        "adopt",
        &s.path().join("elsewhere/file").display().to_string(),
    ])
    .code(2)
    .stderr_has("outside the home directory");
    s.run(&["adopt", &path(".nope")])
        .code(2)
        .stderr_has("No such file");
    s.run(&["adopt", &path("")])
        .code(2)
        .stderr_has("outside the home directory");
    assert_eq!(s.whole_tree(), before, "a refused adopt changes nothing");
}

/// An adopted file that an existing entry would match too, once in the repository (a
/// `config/*` entry and `adopt ~/.config/tool`), cannot be linked back: the run says why and
/// leaves everything as it was, rather than the files in the repository, the manifest edited
/// and nothing linked.
#[test]
fn adopt_that_cannot_be_linked_back_is_undone() {
    let s = Sandbox::new();
    s.source("config/one", "1")
        .manifest("[[link]]\nsource = \"config/*\"\ntarget = \"~/.config/\"\n");
    s.run(&["apply"]).code(0);
    s.home_file(".config/tool/settings", "mine")
        .home_file(".zshrc", "z");
    let before = s.whole_tree();
    let tool = s.home().join(".config/tool").display().to_string();
    let zshrc = s.home().join(".zshrc").display().to_string();
    s.run(&["adopt", &zshrc, &tool])
        .code(2)
        .stderr_has("claimed twice")
        .stderr_has("nothing was adopted")
        .stderr_has("--as")
        // Not a line of the manifest as it is now: the edited text the error was found in
        // is gone again.
        .stderr_has("dotlink.toml with the adopted entries added: target")
        .stderr_lacks("dotlink.toml:")
        .stdout_lacks("moved into the repository");
    assert_eq!(
        s.whole_tree(),
        before,
        "the files are back and the manifest as it was"
    );
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    // Placed elsewhere, it is adopted and linked back.
    s.run(&["adopt", &tool, "--as", "tool"]).code(0);
    assert_eq!(s.link_at(".config/tool"), Some("../../repo/tool".into()));
}

/// An existing entry that would declare a new target of its own once an adopted file is in the
/// repository (a Stow-style `[[package]] source = "*"` makes `config` a package linking
/// `~/tool/conf`; a `*` glob into `~/bin/`) is found before anything is linked: nothing is
/// adopted, and the user's unrelated `~/tool` is never in the way of a later run.
#[test]
fn adopt_refuses_what_another_entry_would_then_match() {
    for manifest in [
        "[[package]]\nsource = \"*\"\n",
        "[[link]]\nsource = \"*\"\ntarget = \"~/bin/\"\n",
    ] {
        let s = Sandbox::new();
        s.source("zsh/.zshrc", "z").manifest(manifest);
        s.run(&["apply"]).code(0);
        s.home_file(".config/tool/conf", "t")
            .home_file("tool", "my own file");
        let before = s.whole_tree();
        let tool = s.home().join(".config/tool").display().to_string();
        s.run(&["adopt", &tool])
            .code(2)
            .stderr_has("an existing entry would match an adopted file too")
            .stderr_has("nothing was adopted")
            .stderr_has("--as");
        assert_eq!(s.whole_tree(), before, "{manifest}: as it was");
        s.run(&["apply"]).code(0).stdout_has("Nothing to do");
    }
}

/// The directories an undone adopt made in the repository go too: an empty `config/app/sub`
/// left there would be a new source for `config/*`, and `apply --on-conflict overwrite` would
/// then replace the user's `~/.config/app` with a link to it.
#[test]
fn an_undone_adopt_leaves_no_directory_it_made() {
    let s = Sandbox::new();
    s.source("config/one", "1")
        .manifest("[[link]]\nsource = \"config/*\"\ntarget = \"~/.config/\"\n");
    s.run(&["apply"]).code(0);
    s.home_file(".config/app/sub/data", "precious")
        .home_file(".config/app/keep", "other");
    let before = s.whole_tree();
    let data = s.home().join(".config/app/sub/data").display().to_string();
    s.run(&["adopt", &data])
        .code(2)
        .stderr_has("nothing was adopted");
    assert_eq!(
        s.whole_tree(),
        before,
        "no directory is left in the repository"
    );
    s.run(&["status"]).code(0);
    s.run(&["apply", "--on-conflict", "overwrite"]).code(0);
    assert_eq!(s.whole_tree(), before);
}

/// adopt rewrites the manifest with its whole mode (set-ID bits too, which a chown clears)
/// and, run as root, its owner and group.
#[test]
fn adopt_keeps_the_manifests_mode_and_owner() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
    let s = Sandbox::new();
    s.manifest("# mine\n");
    s.home_file(".gitconfig", "[user]\n");
    let manifest = s.repo().join("dotlink.toml");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        chown(&manifest, Some(4242), Some(4343)).unwrap();
    }
    fs::set_permissions(&manifest, fs::Permissions::from_mode(0o4640)).unwrap();
    let before = fs::metadata(&manifest).unwrap();
    let gitconfig = s.home().join(".gitconfig");
    s.run(&["adopt", gitconfig.to_str().unwrap()]).code(0);
    let after = fs::metadata(&manifest).unwrap();
    assert_ne!(after.ino(), before.ino(), "the manifest was replaced");
    assert!(
        fs::read_to_string(&manifest)
            .unwrap()
            .contains("target = \"~/.gitconfig\"")
    );
    assert_eq!(after.mode() & 0o7777, 0o4640, "mode {:o}", after.mode());
    assert_eq!(
        (after.uid(), after.gid()),
        (before.uid(), before.gid()),
        "owner and group"
    );
}

/// Every `[[link]]` of the sandbox's manifest as the strings it holds: (source, target) and
/// how many keys it has.
fn manifest_links(s: &Sandbox) -> Vec<(String, String, usize)> {
    let text = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let string = |t: &toml::Table, key: &str| t[key].as_str().unwrap().to_string();
    doc["link"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_table().unwrap())
        .map(|t| (string(t, "source"), string(t, "target"), t.len()))
        .collect()
}

/// adopt spells each name so the manifest gives back exactly that path: `$` doubled (a
/// variable otherwise), a `~` that does not start `~/` kept as it is (only `~/` and a bare `~`
/// are the home), quotes left to TOML; and the source is the file's new place, spelled as is.
#[test]
fn adopt_spells_each_name_so_the_manifest_gives_it_back() {
    let s = Sandbox::new();
    s.manifest("");
    let names = [
        (".cost$USER", "cost$USER", "~/.cost$$USER"),
        ("$HOME", "$HOME", "~/$$HOME"),
        ("~foo", "~foo", "~/~foo"),
        (".config/~foo", "config/~foo", "~/.config/~foo"),
        ("~", "~", "~/~"),
        (".q\"uote'", "q\"uote'", "~/.q\"uote'"),
    ];
    for (name, _, _) in names {
        s.home_file(name, name);
    }
    let paths: Vec<String> = names
        .iter()
        .map(|(name, _, _)| s.home().join(name).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["adopt"];
    args.extend(paths.iter().map(String::as_str));
    s.run(&args).code(0).stdout_has("Adopted: 6");
    let expected: Vec<_> = names
        .iter()
        .map(|(_, source, target)| (source.to_string(), target.to_string(), 2))
        .collect();
    assert_eq!(manifest_links(&s), expected);
    let text = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    assert!(text.contains("# adopted from ~/.cost$USER\n"), "{text}");
    for (name, source, _) in names {
        let at = s.home().join(name);
        assert!(at.is_symlink(), "{name} was not linked back");
        assert_eq!(fs::read_to_string(&at).unwrap(), name);
        assert_eq!(fs::read_to_string(s.repo().join(source)).unwrap(), name);
    }
    s.run(&["status"]).code(0);
}

/// A file name cannot write lines into the manifest: a newline in an adopted name stays inside
/// its entry's strings, and the comment above the entry shows it escaped, on one line.
#[test]
fn a_name_with_a_newline_cannot_write_lines_into_the_manifest() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    let name = ".x\non_conflict = \"overwrite\"";
    s.home_file(name, "x");
    let path = s.home().join(name);
    s.run(&["adopt", path.to_str().unwrap()])
        .code(0)
        .stdout_has("Adopted: 1");
    let text = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
    assert!(
        text.contains("\n# adopted from ~/.x\\non_conflict = \"overwrite\"\n[[link]]\n"),
        "{text}"
    );
    assert_eq!(
        manifest_links(&s),
        [
            ("a".into(), "~/.a".into(), 2),
            (name[1..].into(), format!("~/{name}"), 2),
        ],
        "the first entry is untouched and the second names the file"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), "x");
    assert!(path.is_symlink());
    s.run(&["status"]).code(1).stdout_has("missing"); // ~/.a was never applied
}

/// Back up two conflicts, then restore them after unlink, or over the links directly.
fn backed_up() -> Sandbox {
    let s = Sandbox::new();
    s.source("a", "repo a").source("d/x", "repo d");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"d\"\ntarget = \"~/.d\"\n");
    s.home_file(".a", "user a").home_file(".d/notes", "user d");
    s.run(&["apply", "--on-conflict", "backup"])
        .code(0)
        .stdout_has("2 backed up");
    s
}

#[test]
fn restore_lists_backups_and_puts_the_latest_back_over_dotlinks_links() {
    let s = backed_up();
    let set = s.backup_sets()[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    s.run(&["restore", "--list"])
        .code(0)
        .stdout_has(&set)
        .stdout_has("2 items")
        .stdout_has("~/.a, ~/.d");
    let before = s.whole_tree();
    s.run(&["restore", "--dry-run"])
        .code(0)
        .stdout_has("< ~/.a")
        .stdout_has("Dry run");
    assert_eq!(s.whole_tree(), before);
    s.run(&["restore"])
        .code(0)
        .stdout_has("Restored: 2 of 2")
        .stderr_has("the manifest still declares");
    assert_eq!(fs::read_to_string(s.home().join(".a")).unwrap(), "user a");
    assert_eq!(
        fs::read_to_string(s.home().join(".d/notes")).unwrap(),
        "user d"
    );
    assert!(!s.home().join(".d").is_symlink());
    s.run(&["restore", "--list"])
        .code(0)
        .stdout_has("No backups");
    s.run(&["restore"])
        .code(1)
        .stderr_has("no backup to restore");
    // They are the user's files again: apply sees conflicts, not links of its own.
    s.run(&["status"]).code(1).stdout_has("2 conflict");
}

#[test]
fn restore_by_name_after_unlink() {
    let s = backed_up();
    let name = s.backup_sets()[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    s.run(&["unlink"]).code(0);
    s.run(&["restore", &name])
        .code(0)
        .stdout_has("Restored: 2 of 2");
    assert_eq!(fs::read_to_string(s.home().join(".a")).unwrap(), "user a");
    s.run(&["restore", "20000101T000000Z"])
        .code(1)
        .stderr_has("no backup set `20000101T000000Z`");
}

#[test]
fn restore_never_overwrites_a_file_changed_since() {
    let s = backed_up();
    fs::remove_file(s.home().join(".a")).unwrap();
    s.home_file(".a", "written since");
    let run = s.run(&["restore"]);
    run.code(1)
        .stderr_has("~/.a has changed since the backup")
        .stdout_has("Restored: 1 of 2");
    assert_eq!(
        fs::read_to_string(s.home().join(".a")).unwrap(),
        "written since"
    );
    assert_eq!(
        fs::read_to_string(s.home().join(".d/notes")).unwrap(),
        "user d"
    );
    // The refused backup is still there to restore later.
    s.run(&["restore", "--list"])
        .code(0)
        .stdout_has("1 item")
        .stdout_has("~/.a");
}

/// A backed-up file below what became a directory link into the repository: its target is
/// then the repository's own file, which `restore` never replaces (it replaced it, and the
/// repository's bytes were gone).
#[test]
fn restore_never_writes_into_the_repository_through_a_directory_link() {
    let s = Sandbox::new();
    s.source("foo/bar", "repository's")
        .home_file(".config/foo/bar", "user's old");
    let recursive = "[[link]]\nsource = \"foo\"\ntarget = \"~/.config/foo\"\nrecursive = true\n";
    s.manifest(recursive);
    s.run(&["apply", "--on-conflict", "backup"]).code(0);
    // The entry now links the directory whole, over the directory of links the last run made.
    s.manifest("[[link]]\nsource = \"foo\"\ntarget = \"~/.config/foo\"\n");
    s.run(&["apply", "--on-conflict", "overwrite"]).code(0);
    assert!(s.link_at(".config/foo").is_some());
    let before = s.whole_tree();
    s.run(&["restore"])
        .code(1)
        .stderr_has("~/.config/foo/bar is in the repository")
        .stdout_has("Restored: 0 of 1");
    assert_eq!(s.whole_tree(), before, "nothing changed");
    assert_eq!(
        fs::read_to_string(s.repo().join("foo/bar")).unwrap(),
        "repository's"
    );
    // Its source gone, the backup would have been put into the repository: still refused.
    fs::remove_file(s.repo().join("foo/bar")).unwrap();
    s.run(&["restore"])
        .code(1)
        .stderr_has("is in the repository");
    assert!(s.repo().join("foo/bar").symlink_metadata().is_err());
    // Once the directory link is gone, the backup goes back to the home.
    fs::remove_file(s.home().join(".config/foo")).unwrap();
    s.run(&["restore"]).code(0).stdout_has("Restored: 1 of 1");
    assert_eq!(
        fs::read_to_string(s.home().join(".config/foo/bar")).unwrap(),
        "user's old"
    );
}

/// A hard link whose source the repository replaced (a git checkout), then edited: it is the
/// only copy of the edit, and `restore` leaves it (it removed it).
#[test]
fn restore_never_replaces_a_hard_link_that_became_the_only_copy() {
    let s = Sandbox::new();
    s.source("x", "v1").home_file(".x", "user's original");
    s.manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\nmethod = \"hardlink\"\n");
    s.run(&["apply", "--on-conflict", "backup"]).code(0);
    let new = s.repo().join("x.new");
    fs::write(&new, "v2").unwrap();
    fs::rename(&new, s.repo().join("x")).unwrap();
    fs::write(s.home().join(".x"), "v1 and my edit").unwrap();
    s.run(&["restore"])
        .code(1)
        .stderr_has("~/.x is the only copy of what it holds")
        .stdout_has("Restored: 0 of 1");
    assert_eq!(
        fs::read_to_string(s.home().join(".x")).unwrap(),
        "v1 and my edit"
    );
    s.run(&["restore", "--list"]).code(0).stdout_has("1 item");
}

/// Adopting a directory holding a relative symlink that leads out of it warns where that link
/// will lead from the repository; links inside, and absolute ones, are not named.
#[test]
fn adopt_warns_of_relative_links_leading_out_of_what_it_moves() {
    let s = Sandbox::new();
    s.manifest("");
    s.home_file(".tool/sub/f", "f")
        .home_file("shared/data", "d");
    s.home_link(".tool/rel", "../shared/data")
        .home_link(".tool/inner", "sub/f")
        .home_link(".tool/abs", s.home().join("shared/data"));
    let tool = s.home().join(".tool").display().to_string();
    s.run(&["adopt", &tool])
        .code(0)
        .stderr_has("warning: ~/.tool/rel leads out of ~/.tool by a relative path")
        .stderr_lacks("~/.tool/inner")
        .stderr_lacks("~/.tool/abs");
    assert!(s.home().join(".tool").is_symlink());
}

/// A set whose index is damaged is not hidden: `restore --list` says where its files are.
#[test]
fn a_backup_set_with_a_damaged_index_is_told_with_where_its_files_are() {
    let s = backed_up();
    let set = s.backup_sets().pop().unwrap();
    fs::write(set.with_extension("json"), "[{\"tar").unwrap();
    s.run(&["restore", "--list"])
        .code(0)
        .stderr_has("holds files, but its index")
        .stderr_has("is missing or damaged")
        .stderr_has(set.file_name().unwrap().to_str().unwrap());
    assert_eq!(
        fs::read_to_string(set.join(".a")).unwrap(),
        "user a",
        "the files stay where they are"
    );
}

/// A set's index edited to name a file outside the set as a backup: nothing is moved.
#[test]
fn restore_never_takes_a_backup_from_outside_its_set() {
    let s = backed_up();
    let set = s.backup_sets().pop().unwrap();
    let index = set.with_extension("json");
    let text = fs::read_to_string(&index).unwrap();
    let inside = set.join(".a").to_string_lossy().into_owned();
    assert!(text.contains(&inside), "{text}");
    s.home_file("docs/letter", "mine");
    let outside = s.home().join("docs").to_string_lossy().into_owned();
    fs::write(&index, text.replace(&inside, &outside)).unwrap();
    s.run(&["restore"])
        .code(1)
        .stderr_has("the set's index names a backup outside the set");
    assert_eq!(
        fs::read_to_string(s.home().join("docs/letter")).unwrap(),
        "mine"
    );
}

/// Each missing directory is made once, by the first step that needs it, in the plan's
/// directory order: a directory's links before those in directories below it.
#[test]
fn each_missing_directory_is_planned_once_by_the_first_link_below_it() {
    let s = Sandbox::new();
    s.source("c1", "1").source("c2", "2").source("x", "x");
    s.manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.a/x\"\n[[link]]\nsource = \"c2\"\ntarget = \"~/.a/b/c2\"\n[[link]]\nsource = \"c1\"\ntarget = \"~/.a/b/c1\"\n");
    let json = s.run(&["plan", "--json"]).json();
    let mkdirs: Vec<(String, Vec<String>)> = json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let target = a["target"].as_str().unwrap();
            let name = target.strip_prefix(s.home().to_str().unwrap()).unwrap();
            // Left out when there are none.
            let dirs = a["mkdirs"].as_array().cloned().unwrap_or_default();
            let dirs = dirs.iter().map(|d| {
                let d = d.as_str().unwrap();
                d.strip_prefix(s.home().to_str().unwrap())
                    .unwrap()
                    .to_string()
            });
            (name.to_string(), dirs.collect())
        })
        .collect();
    let none = Vec::<String>::new;
    assert_eq!(
        mkdirs,
        [
            ("/.a/x".to_string(), vec!["/.a".to_string()]),
            ("/.a/b/c1".to_string(), vec!["/.a/b".to_string()]),
            ("/.a/b/c2".to_string(), none()),
        ]
    );
    s.run(&["apply"]).code(0);
    s.run(&["status"]).code(0).stdout_has("3 links up to date");
}

#[test]
fn plan_json_is_stable_and_complete() {
    let s = Sandbox::new();
    s.source("new", "n")
        .source("old", "o")
        .source("conf", "c")
        .source("same", "s");
    s.manifest("[[link]]\nsource = \"old\"\ntarget = \"~/.old\"\n[[link]]\nsource = \"same\"\ntarget = \"~/.same\"\n");
    s.run(&["apply"]).code(0);
    s.home_file(".conf", "mine");
    s.manifest(
        "[[link]]\nsource = \"new\"\ntarget = \"~/.config/new\"\n[[link]]\nsource = \"conf\"\ntarget = \"~/.conf\"\non_conflict = \"backup\"\n[[link]]\nsource = \"same\"\ntarget = \"~/.same\"\n",
    );
    let before = s.whole_tree();
    let run = s.run(&["plan", "--json"]);
    run.code(0);
    assert_eq!(s.whole_tree(), before);
    let json = run.json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["halted"], false);
    assert_eq!(
        json["manifest"],
        s.repo().join("dotlink.toml").display().to_string()
    );
    let actions = json["actions"].as_array().unwrap();
    let by_target = |t: &str| {
        let path = s.home().join(t).display().to_string();
        actions
            .iter()
            .find(|a| a["target"] == path.as_str())
            .unwrap_or_else(|| panic!("{path}: {json}"))
            .clone()
    };
    let create = by_target(".config/new");
    assert_eq!(create["kind"], "create");
    assert_eq!(create["state"], "missing");
    assert_eq!(create["source"], s.repo().join("new").display().to_string());
    assert_eq!(create["link"], "../../repo/new");
    assert_eq!(
        create["mkdirs"][0],
        s.home().join(".config").display().to_string()
    );
    let backup = by_target(".conf");
    assert_eq!(backup["kind"], "backup");
    assert!(backup["backup"].as_str().unwrap().ends_with("/.conf"));
    assert!(backup["reason"].as_str().unwrap().contains("regular file"));
    assert_eq!(by_target(".old")["kind"], "prune");
    assert_eq!(by_target(".same")["kind"], "none");
    assert_eq!(json["summary"]["create"], 1);
    assert_eq!(json["summary"]["backup"], 1);
    assert_eq!(json["summary"]["prune"], 1);
    // Under fail the plan is halted and the exit code says so.
    let halted = s.run(&["plan", "--json", "--on-conflict", "fail"]);
    halted.code(1);
    assert_eq!(halted.json()["halted"], true);
    assert_eq!(by_kind(&halted.json(), "block"), 1);
}

fn by_kind(json: &serde_json::Value, kind: &str) -> usize {
    json["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .count()
}

#[test]
fn completions_for_each_shell_and_a_man_page() {
    let s = Sandbox::new();
    for shell in ["bash", "zsh", "fish"] {
        let run = s.run(&["completions", shell]);
        run.code(0)
            .stdout_has("dotlink")
            .stdout_has("apply")
            .stdout_has("on-conflict");
    }
    s.run(&["completions", "tcsh"]).code(2);
    let page = s.run(&["man"]);
    page.code(0)
        .stdout_has(".TH dotlink")
        .stdout_has("apply")
        .stdout_has(".SH MANIFEST")
        .stdout_has("[[package]]")
        .stdout_has(".SH ENVIRONMENT")
        .stdout_has("DOTLINK_MANIFEST")
        .stdout_has(".SH FILES")
        .stdout_has(".SH \"EXIT STATUS\"")
        .stdout_has(".SH EXAMPLES");
    // Every page the main page refers to is written by --dir.
    let dir = s.path().join("man1");
    s.run(&["man", "--dir", dir.to_str().unwrap()]).code(0);
    for referenced in page.stdout.split_whitespace().filter_map(|w| {
        let w = w.trim_start_matches("\\fB").trim_end_matches("\\fR");
        w.strip_suffix("(1)").filter(|n| n.starts_with("dotlink-"))
    }) {
        assert!(
            dir.join(format!("{referenced}.1")).is_file(),
            "{referenced}"
        );
    }
    assert!(dir.join("dotlink-apply.1").is_file());
    assert!(dir.join("dotlink.1").is_file());
}

#[test]
fn no_spinner_or_escape_codes_when_not_on_a_terminal() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    let run = s.run(&["apply"]);
    run.code(0);
    assert_eq!(run.stderr, "");
    assert!(!run.stdout.contains('\u{1b}') && !run.stdout.contains('\r'));
}

#[test]
fn the_prompt_recipe_works_from_anywhere_once_applied() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    let home = s.home();
    // Before any apply, nothing says which manifest manages this home.
    s.run_in(&home, &["status", "-q"], &[])
        .code(2)
        .stderr_has("no dotlink.toml found");
    s.run(&["apply"]).code(0);
    // The README's prompt recipe, from ~: silent, exit 0 when all is linked.
    let run = s.run_in(&home, &["status", "-q"], &[]);
    run.code(0);
    assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{run:?}");
    std::fs::remove_file(home.join(".a")).unwrap();
    s.run_in(&home, &["status", "-q"], &[]).code(1);
    s.run_in(&home, &["apply", "-q"], &[]).code(0);
    // A second manifest managing the same home: say which, and how to choose.
    s.source("other/b", "b");
    std::fs::write(
        s.repo().join("other/dotlink.toml"),
        "[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n",
    )
    .unwrap();
    s.run_in(&s.repo().join("other"), &["apply"], &[]).code(0);
    s.run_in(&home, &["status"], &[])
        .code(2)
        .stderr_has("2 manifests manage this home")
        .stderr_has("-m PATH or $DOTLINK_MANIFEST");
    // unlink forgets its manifest: the other one is found again.
    s.run_in(&s.repo().join("other"), &["unlink"], &[]).code(0);
    s.run_in(&home, &["status", "-q"], &[]).code(0);
}

#[test]
fn apply_json_says_what_the_run_did_and_detailed_exit_codes_say_whether_it_changed() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\non_conflict = \"backup\"\n");
    s.home_file(".b", "mine");
    s.run(&["apply", "--dry-run", "--detailed-exitcode"])
        .code(3);
    let run = s.run(&["apply", "--json"]);
    run.code(0);
    let json = run.json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["changed"], true);
    assert_eq!(json["summary"]["created"], 1);
    assert_eq!(json["summary"]["backed_up"], 1);
    assert_eq!(json["summary"]["failed"], 0);
    assert!(json["backup_set"].as_str().unwrap().contains("backups"));
    let steps = json["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["result"] == "done"), "{steps:?}");
    assert_eq!(steps[0]["kind"], "create");
    // Nothing left to do: unchanged, and exit 0 with --detailed-exitcode.
    let again = s.run(&["apply", "--json", "--detailed-exitcode"]);
    again.code(0);
    let json = again.json();
    assert_eq!(json["changed"], false);
    assert_eq!(json["summary"]["unchanged"], 2);
    assert!(json["backup_set"].is_null());
    std::fs::remove_file(s.home().join(".a")).unwrap();
    s.run(&["apply", "-q", "--detailed-exitcode"]).code(3);
    // A halted run: nothing done, exit 1, the conflict blocked.
    std::fs::remove_file(s.home().join(".a")).unwrap();
    s.home_file(".a", "in the way");
    let halted = s.run(&["apply", "--json", "--detailed-exitcode"]);
    halted.code(1);
    let json = halted.json();
    assert_eq!(json["halted"], true);
    assert_eq!(
        json["summary"]["unchanged"],
        json["steps"].as_array().unwrap().len()
    );
    assert!(
        json["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["result"] == "not_run")
    );
    // Without the flag, exit codes stay as they were.
    s.run(&["apply", "--on-conflict", "skip"]).code(0);
}

#[test]
fn diff_shows_what_is_in_the_way_against_the_source() {
    let s = Sandbox::new();
    s.source("zshrc", "export A=1\nexport B=2\n")
        .source("vimrc", "set number\n")
        .source("d/x", "x");
    s.manifest(
        "[[link]]\nsource = \"zshrc\"\ntarget = \"~/.zshrc\"\n\
         [[link]]\nsource = \"vimrc\"\ntarget = \"~/.vimrc\"\n\
         [[link]]\nsource = \"d\"\ntarget = \"~/.d\"\n",
    );
    s.run(&["diff"]).code(0);
    s.home_file(".zshrc", "export A=1\nexport B=3\n")
        .home_file(".d/mine", "m");
    let run = s.run(&["diff"]);
    run.code(1)
        .stdout_has("--- ~/.zshrc (in the way)")
        .stdout_has("+++ zshrc (in the repository)")
        .stdout_has("-export B=3")
        .stdout_has("+export B=2")
        .stdout_has("a directory with 1 entry is in the way")
        .stdout_lacks("vimrc");
    let one = s.run(&["diff", "~/.zshrc"]);
    one.code(1).stdout_lacks("~/.d");
    // Another spelling of the same target is the same target.
    std::os::unix::fs::symlink(s.home(), s.path().join("alias")).unwrap();
    let alias = s.path().join("alias/.zshrc");
    s.run(&["diff", alias.to_str().unwrap()])
        .code(1)
        .stdout_has("-export B=3");
    s.run(&["diff", "~/.nope"])
        .code(2)
        .stderr_has("~/.nope is not a target");
}

#[test]
fn hooks_relink_after_git_pull_and_never_replace_anyone_elses() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    let git = |args: &[&str]| s.git(&s.repo(), args);
    s.run(&["hook", "install"])
        .code(2)
        .stderr_has("is not in a git repository");
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "one"]);
    s.run(&["hook", "install"])
        .code(0)
        .stdout_has("installed")
        .stdout_has("post-merge");
    let hook = s.repo().join(".git/hooks/post-merge");
    assert!(
        std::fs::read_to_string(&hook)
            .unwrap()
            .contains("apply --quiet")
    );
    // The hook works: a checkout runs it, and the link appears.
    git(&["checkout", "-q", "-b", "other"]);
    assert!(
        s.home().join(".a").is_symlink(),
        "post-checkout ran dotlink apply"
    );
    s.run(&["hook", "install"]).code(0);
    // Someone else's hook is never replaced or removed.
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    s.run(&["hook", "install"])
        .code(1)
        .stderr_has("post-merge exists and dotlink did not write it")
        .stderr_has("add this line to it:");
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    s.run(&["hook", "uninstall"])
        .code(0)
        .stdout_has("removed")
        .stdout_has("(not dotlink's)");
    assert!(hook.exists());
    assert!(!s.repo().join(".git/hooks/post-checkout").exists());
    // A hook of dotlink's that someone edited is theirs now; so is a symlink, even dangling.
    std::fs::remove_file(&hook).unwrap();
    s.run(&["--profile", "work", "hook", "install"]).code(0);
    let ours = std::fs::read_to_string(&hook).unwrap();
    assert!(ours.contains("--profile 'work' apply --quiet"), "{ours}");
    std::fs::write(&hook, format!("{ours}echo mine\n")).unwrap();
    s.run(&["hook", "install"]).code(1);
    s.run(&["hook", "uninstall"])
        .code(0)
        .stdout_has("(not dotlink's)");
    assert!(
        std::fs::read_to_string(&hook)
            .unwrap()
            .ends_with("echo mine\n")
    );
    let checkout = s.repo().join(".git/hooks/post-checkout");
    assert!(
        !checkout.exists(),
        "uninstall removed dotlink's own post-checkout"
    );
    std::os::unix::fs::symlink("/nonexistent", &checkout).unwrap();
    s.run(&["hook", "install"]).code(1);
    assert!(checkout.is_symlink());
    // A hooks path shared by other repositories is left alone.
    git(&[
        "config",
        "core.hooksPath",
        s.path().join("shared-hooks").to_str().unwrap(),
    ]);
    s.run(&["hook", "install"])
        .code(1)
        .stderr_has("(core.hooksPath), which other repositories may share");
    assert!(!s.path().join("shared-hooks").exists());
}

#[test]
fn doctor_explains_what_is_wrong_and_exits_0_only_when_healthy() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    s.run(&["apply"]).code(0);
    let healthy = s.run(&["doctor"]);
    healthy
        .code(0)
        .stdout_has("ok   manifest")
        .stdout_has("ok   own directories")
        .stdout_has("ok   filesystem")
        .stdout_has("ok   unmanaged links  every declared link is dotlink's")
        .stdout_has("Healthy.");
    assert!(s.leftovers().is_empty());
    assert!(
        !s.whole_tree()
            .keys()
            .any(|p| p.to_string_lossy().contains("dotlink-probe"))
    );
    // A dead link and a link dotlink did not make (as Stow leaves them).
    s.home_link(".dead", "../repo/gone");
    std::fs::remove_file(s.home().join(".b")).unwrap();
    s.home_link(".b", "../repo/b");
    let state = s.state().join("dotlink");
    let state_file = s.state_file();
    let text = std::fs::read_to_string(&state_file).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("s\t.b\t"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(kept, text);
    std::fs::write(&state_file, kept).unwrap();
    // A remembered manifest that is gone.
    let remembered = state.join("manifests");
    let mut list = std::fs::read_to_string(&remembered).unwrap();
    list.push_str("/nowhere/dotlink.toml\n");
    std::fs::write(&remembered, list).unwrap();
    s.run(&["doctor"])
        .code(1)
        .stdout_has("FAIL dead links")
        .stdout_has("dotlink clean")
        .stdout_has("FAIL unmanaged links")
        .stdout_has("~/.b")
        .stdout_has("FAIL remembered manifest")
        .stdout_has("/nowhere/dotlink.toml")
        .stdout_has("Unhealthy: 3 checks failed.");
    s.manifest("[[link]]\nsource = \"nope\"\ntarget = \"~/.n\"\n");
    s.run(&["doctor"])
        .code(1)
        .stdout_has("FAIL manifest")
        .stdout_has("dotlink.toml:2:10");
}

#[test]
fn a_plan_longer_than_a_screen_collapses_creates_but_never_conflicts() {
    let s = Sandbox::new();
    for i in 0..60 {
        s.source(&format!("nvim/.config/nvim/lua/m{i}.lua"), "x");
    }
    s.source("zsh/.zshrc", "z")
        .source("zsh/.zprofile", "p")
        .source("gitconfig", "g");
    s.home_file(".zshrc", "mine");
    s.manifest("[[package]]\nsource = \"*\"\non_conflict = \"skip\"\n[[link]]\nsource = \"gitconfig\"\ntarget = \"~/.gitconfig\"\n");
    let run = s.run_env(&["plan"], &[("LINES", "30")]);
    run.code(0)
        .stdout_has("+ ~/.config/nvim/lua/… 60 links from nvim/")
        .stdout_has("! ~/.zshrc")
        .stdout_has("+ ~/.gitconfig")
        .stdout_has("Plan: 62 to create, 1 conflict.");
    assert!(run.stdout.lines().count() < 30, "{}", run.stdout);
    // -v lists every link; a short plan is never collapsed.
    let all = s.run_env(&["plan", "-v"], &[("LINES", "30")]);
    assert!(all.stdout.contains("~/.config/nvim/lua/m7.lua"));
    s.run_env(&["plan"], &[("LINES", "100")])
        .stdout_has("~/.config/nvim/lua/m7.lua");
}

#[test]
fn progress_counts_steps_on_a_terminal_and_erases_itself() {
    let s = Sandbox::new();
    for p in 0..30 {
        for f in 0..100 {
            s.source(&format!("pkg{p}/.config/app{p}/f{f}"), "x");
        }
    }
    s.manifest("[[package]]\nsource = \"*\"\n");
    // `script` gives the run a terminal; the test build shows progress at once.
    let bin = assert_cmd::cargo::cargo_bin("dotlink");
    let run = std::process::Command::new("script")
        .args(["-qc", &format!("{} apply", bin.display()), "/dev/null"])
        .current_dir(s.repo())
        .env("HOME", s.home())
        .env("XDG_STATE_HOME", s.state())
        .env("DOTLINK_PROGRESS_DELAY_MS", "0")
        // A terminal that can draw (indicatif draws nothing on TERM=dumb, or none).
        .env("TERM", "xterm")
        .output()
        .expect("script (util-linux) gives the run a terminal");
    let text = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(text.contains("Applied:"), "{text}");
    assert!(text.contains("3,000 created"), "{text}");
    let at = text
        .find("applying ")
        .expect("progress shown on a terminal");
    assert!(text[at..].contains("/3,000"), "{text}");
    let summary = text.find("Applied:").unwrap();
    let last_erase = text[..summary]
        .rfind("\u{1b}[2K")
        .expect("erased before the summary");
    assert!(last_erase > at);
}

#[test]
fn review_fixes_for_daily_use() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"b\"\ntarget = \"~/.b\"\n");
    // status -q prints only conflicts (and nothing when all is well).
    s.home_file(".b", "mine");
    let quiet = s.run(&["status", "-q"]);
    quiet
        .code(1)
        .stdout_has("conflict  ~/.b")
        .stdout_lacks("missing");
    std::fs::remove_file(s.home().join(".b")).unwrap();
    s.run(&["apply"]).code(0);
    // A repository that moved: applying at its new place forgets the old one, so doctor is
    // healthy again and `status` from ~ finds the new one.
    let moved = s.path().join("moved");
    std::fs::rename(s.repo(), &moved).unwrap();
    s.run_in(&moved, &["apply"], &[]).code(0);
    s.run_in(&s.home(), &["doctor"], &[]).code(0);
    s.run_in(&s.home(), &["status", "-q"], &[]).code(0);
    // init with a trailing slash means a directory; files it writes are readable by others.
    let new = s.path().join("new");
    let init = |s: &Sandbox| s.run_in(&moved, &["-m", &format!("{}/", new.display()), "init"], &[]);
    init(&s).code(2).stderr_has("is not a directory");
    assert!(!new.exists());
    std::fs::create_dir(&new).unwrap();
    init(&s).code(0);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(new.join("dotlink.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o044, 0o044, "{mode:o}");
    let man = s.path().join("man");
    s.run_in(&moved, &["man", "--dir", man.to_str().unwrap()], &[])
        .code(0);
    let mode = std::fs::metadata(man.join("dotlink.1"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o044, 0o044, "{mode:o}");
}

#[test]
fn doctor_clears_what_an_interrupted_probe_left_and_nothing_else() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    // A probe of a process that died (pid 4194303 is above Linux's limit), and one that is not
    // a probe's although it is named like one.
    s.home_file(".dotlink-probe-4194303-x1/a", "a")
        .home_file(".dotlink-probe-4194303-x1/b", "b")
        .home_link(".dotlink-probe-4194303-x1/s", "a")
        .home_file(".dotlink-probe-4194303-x2/a", "a")
        .home_file(".dotlink-probe-4194303-x2/notes", "mine");
    s.run(&["doctor"]);
    assert!(!s.home().join(".dotlink-probe-4194303-x1").exists());
    assert!(s.home().join(".dotlink-probe-4194303-x2/notes").exists());
}

#[test]
fn a_deleted_repository_is_unlinked_by_naming_where_its_manifest_was() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
    s.run(&["apply"]).code(0);
    let manifest = s.repo().join("dotlink.toml");
    std::fs::remove_dir_all(s.repo()).unwrap();
    s.run_in(&s.home(), &["doctor"], &[])
        .code(1)
        .stdout_has("manages this home but no longer exists");
    s.run_in(
        &s.home(),
        &["-m", manifest.to_str().unwrap(), "unlink"],
        &[],
    )
    .code(0)
    .stdout_has("1 removed");
    assert!(s.home().join(".a").symlink_metadata().is_err());
    // Forgotten, too: doctor is healthy about remembered manifests again.
    s.run_in(&s.home(), &["doctor"], &[])
        .stdout_lacks("remembered manifest");
}

/// `adopt` refuses, before anything moves, a path that holds dotlink's own state (with the
/// journal that would undo the adoption), one that holds the manifest's real file, and two
/// paths of which one holds the other. Each was moved into the repository, and then could not
/// be put back: the state with its journal was gone ("nothing was adopted" was said all the
/// same, and every later run refused), or the inner path had nowhere to go back to.
#[test]
fn adopt_refuses_what_would_take_dotlinks_own_files_or_another_adoption_with_it() {
    let s = Sandbox::new();
    s.source("x", "x")
        .manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\n");
    s.home_file(".local/share/app/data", "d")
        .home_file(".config/nvim/init.lua", "n")
        .home_file(".config/git/config", "g")
        .home_file(
            ".config/dotlink/host.toml",
            "[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\n",
        )
        .home_file(".config/dotlink/notes", "mine");
    let home = |p: &str| s.home().join(p).display().to_string();
    let state = home(".local/state");
    fs::create_dir_all(&state).unwrap();
    let before = s.whole_tree();
    for path in [".local", ".local/state"] {
        s.run_env(&["adopt", &home(path)], &[("XDG_STATE_HOME", &state)])
            .code(2)
            .stderr_has("it holds dotlink's state directory");
    }
    s.run(&["adopt", &home(".config"), &home(".config/nvim")])
        .code(2)
        .stderr_has("one holds the other");
    s.run(&["adopt", &home(".config/nvim"), &home(".config")])
        .code(2)
        .stderr_has("one holds the other");
    // The same path under two spellings, through a symlinked directory.
    std::os::unix::fs::symlink(".config", s.home().join("cfg")).unwrap();
    s.run(&["adopt", &home(".config/nvim"), &home("cfg/nvim")])
        .code(2)
        .stderr_has("one holds the other");
    fs::remove_file(s.home().join("cfg")).unwrap();
    assert_eq!(s.whole_tree(), before, "nothing moved");
    // The manifest symlinked into the home, as a per-host manifest may be.
    let manifest = s.repo().join("dotlink.toml");
    fs::remove_file(&manifest).unwrap();
    std::os::unix::fs::symlink(s.home().join(".config/dotlink/host.toml"), &manifest).unwrap();
    let before = s.whole_tree();
    s.run(&["adopt", &home(".config/dotlink")])
        .code(2)
        .stderr_has("it holds the manifest itself");
    assert_eq!(s.whole_tree(), before, "nothing moved");
    // Each on its own is adopted.
    s.run(&["adopt", &home(".config/nvim")]).code(0);
    assert!(s.link_at(".config/nvim").is_some());
}

/// Two paths whose places in the repository would be one inside the other (`~/config` and
/// `~/.config/nvim` both go to `config`) are refused before anything moves: `nvim` landed in
/// the adopted `~/config` tree. So is the repository under another name. A path given through
/// the symlink HOME is set through is in the home (it was refused as outside it).
#[test]
fn adopt_refuses_places_one_inside_the_other_and_takes_home_as_it_is_set() {
    let s = Sandbox::new();
    s.source("x", "x")
        .manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.x\"\n");
    s.home_file("config/app", "a")
        .home_file(".config/nvim/init.lua", "n")
        .home_file(".zz", "z");
    let home = |p: &str| s.home().join(p).display().to_string();
    let before = s.whole_tree();
    s.run(&["adopt", &home("config"), &home(".config/nvim")])
        .code(2)
        .stderr_has("would be one inside the other");
    assert_eq!(s.whole_tree(), before, "nothing moved");
    // The repository under another name: `~/al` leads to the directory that holds it. The
    // dry run showed a plan, and the real one failed to move it into itself.
    std::os::unix::fs::symlink("..", s.home().join("al")).unwrap();
    for dry in [true, false] {
        let mut args = vec!["adopt", "--dry-run"];
        let repo = home("al/repo");
        args.push(&repo);
        if !dry {
            args.remove(1);
        }
        s.run(&args)
            .code(2)
            .stderr_has("it is inside the repository already (or contains it)");
    }
    fs::remove_file(s.home().join("al")).unwrap();
    // Not into git's own directory: untracked there, or a live hook.
    s.run(&["adopt", &home(".zz"), "--as", ".git/hooks/post-merge"])
        .code(2)
        .stderr_has("not inside .git");
    // HOME set through a symlink to the home.
    let alias = s.path().join("alias");
    std::os::unix::fs::symlink(s.home(), &alias).unwrap();
    let zz = alias.join(".zz").display().to_string();
    s.run_env(&["adopt", &zz], &[("HOME", alias.to_str().unwrap())])
        .code(0)
        .stdout_has("linked back");
    assert_eq!(fs::read_to_string(s.repo().join("zz")).unwrap(), "z");
    assert!(s.link_at(".zz").is_some());
}

/// A file moved out of the way of a directory dotlink then made for a link below it: `restore`
/// says the directory is dotlink's and to `unlink` first (not that the user changed it), and
/// after `unlink` it puts the file back.
#[test]
fn restore_says_to_unlink_first_where_dotlink_made_a_directory() {
    let s = Sandbox::new();
    s.source("x", "x")
        .manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.foo/x\"\n");
    s.home_file(".foo", "my .foo file");
    s.run(&["apply", "--on-conflict", "backup"]).code(0);
    assert!(s.home().join(".foo").is_dir());
    s.run(&["restore"])
        .code(1)
        .stderr_has("is a directory dotlink made for links below it")
        .stderr_has("run `dotlink unlink` first")
        .stderr_lacks("has changed since the backup");
    s.run(&["unlink"]).code(0);
    s.run(&["restore"]).code(0);
    assert_eq!(
        fs::read_to_string(s.home().join(".foo")).unwrap(),
        "my .foo file"
    );

    // With a file of the user's in it, the directory has changed: `unlink` would not remove
    // it, so `restore` does not send the user there.
    let s = Sandbox::new();
    s.source("x", "x")
        .manifest("[[link]]\nsource = \"x\"\ntarget = \"~/.foo/x\"\n");
    s.home_file(".foo", "my .foo file");
    s.run(&["apply", "--on-conflict", "backup"]).code(0);
    s.home_file(".foo/mine", "mine");
    s.run(&["restore"])
        .code(1)
        .stderr_has("has changed since the backup")
        .stderr_lacks("run `dotlink unlink` first");
}
