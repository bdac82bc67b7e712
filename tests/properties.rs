//! Property tests: random manifests over a dotfiles repository, applied onto random home trees
//! (files, directories, foreign and dangling symlinks, links from an older manifest), under
//! every policy, in random layouts (a symlinked directory inside the home with targets spelled
//! through it, a home reached through a symlink, a repository reached through a symlink), and
//! with dotlink's own state and backup directories placed inside or at declared targets. Each
//! case runs the real binary in its own sandbox.
//!
//! The default case count keeps CI fast; raise it for long runs with `PROPTEST_CASES=2000`.

use crate::common::{Sandbox, Tree};
use proptest::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

/// Sources in the fixed test repository: files, a name with a space, and directories.
const SOURCES: [&str; 6] = ["x", "y", "sp ace", "dir1", "dir2", "dir2/e"];
const REPO_FILES: [&str; 7] = [
    "x", "y", "sp ace", "dir1/a", "dir1/b/c", "dir2/d", "dir2/e/f",
];

/// What is at a path in the home before dotlink runs.
#[derive(Debug, Clone)]
enum Occupant {
    Nothing,
    File(u8),
    Dir(u8),
    ForeignLink,
    DanglingLink,
    /// A link into the repository that already resolves to the entry's source (made by Stow).
    RightRepoLink,
    /// A link into the repository at another source.
    WrongRepoLink,
}

#[derive(Debug, Clone)]
struct Entry {
    source: usize,
    recursive: bool,
    absolute: bool,
    nested: bool,
    occupant: Occupant,
    /// For recursive directory entries: something in the way of one file inside.
    inner: Option<(usize, Occupant)>,
}

/// How the home and the repository are reached.
#[derive(Debug, Clone, Default)]
struct Layout {
    /// `~/alias` is a symlink to `~/.cfg`, and the new manifest spells nested targets through
    /// it (the older one used the real spelling).
    alias: bool,
    /// `HOME` is a symlink to the sandbox's home.
    symlinked_home: bool,
    /// The manifest is named through a symlink to the repository.
    repo_via_symlink: bool,
}

#[derive(Debug, Clone)]
struct Scenario {
    layout: Layout,
    entries: Vec<Entry>,
    /// Entries an older manifest already linked (by index), and links it made that the new
    /// manifest drops (orphans).
    old: Vec<usize>,
    orphans: usize,
    prune: bool,
}

fn occupant() -> impl Strategy<Value = Occupant> {
    prop_oneof![
        3 => Just(Occupant::Nothing),
        2 => any::<u8>().prop_map(Occupant::File),
        1 => any::<u8>().prop_map(Occupant::Dir),
        1 => Just(Occupant::ForeignLink),
        1 => Just(Occupant::DanglingLink),
        1 => Just(Occupant::RightRepoLink),
        1 => Just(Occupant::WrongRepoLink),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        0..SOURCES.len(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        occupant(),
        proptest::option::of((0..3usize, occupant())),
    )
        .prop_map(
            |(source, recursive, absolute, nested, occupant, inner)| Entry {
                source,
                recursive,
                absolute,
                nested,
                occupant,
                inner,
            },
        )
}

fn layout() -> impl Strategy<Value = Layout> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(alias, symlinked_home, repo_via_symlink)| Layout {
            alias,
            symlinked_home,
            repo_via_symlink,
        },
    )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        layout(),
        proptest::collection::vec(entry(), 1..6),
        proptest::collection::vec(any::<bool>(), 6),
        0..3usize,
        any::<bool>(),
    )
        .prop_map(|(layout, entries, old_mask, orphans, prune)| {
            let old = (0..entries.len()).filter(|i| old_mask[*i]).collect();
            Scenario {
                layout,
                entries,
                old,
                orphans,
                prune,
            }
        })
}

/// Where entry `i` links, as the home has it.
fn target(i: usize, e: &Entry) -> String {
    if e.nested {
        format!(".cfg/t{i}")
    } else {
        format!(".t{i}")
    }
}

/// The same target as a manifest spells it: through `~/alias` when the layout has one.
fn spelled(i: usize, e: &Entry, alias: bool) -> String {
    match target(i, e).strip_prefix(".cfg/") {
        Some(rest) if alias => format!("alias/{rest}"),
        _ => target(i, e),
    }
}

/// Run `dotlink ARGS` as the layout says: HOME and the manifest maybe through symlinks.
fn dotlink(s: &Sandbox, layout: &Layout, args: &[&str]) -> crate::common::Run {
    let home = s.path().join("home-link");
    let repo = s.path().join("repo-link");
    let manifest = repo.join("dotlink.toml");
    let manifest = manifest.to_str().unwrap();
    let mut all: Vec<&str> = Vec::new();
    if layout.repo_via_symlink {
        all.extend(["-m", manifest]);
    }
    all.extend(args);
    let mut env = Vec::new();
    if layout.symlinked_home {
        env.push(("HOME", home.to_str().unwrap()));
    }
    s.run_env(&all, &env)
}

fn is_dir_source(e: &Entry) -> bool {
    SOURCES[e.source].starts_with("dir")
}

fn manifest(entries: &[(usize, &Entry)], orphans: usize, prune: bool, alias: bool) -> String {
    let mut text = format!("[defaults]\nprune = {prune}\n");
    for (i, e) in entries {
        text.push_str(&format!(
            "[[link]]\nsource = \"{}\"\ntarget = \"~/{}\"\nrecursive = {}\nstyle = \"{}\"\n",
            SOURCES[e.source],
            spelled(*i, e, alias),
            e.recursive,
            if e.absolute { "absolute" } else { "relative" }
        ));
    }
    for j in 0..orphans {
        text.push_str(&format!(
            "[[link]]\nsource = \"x\"\ntarget = \"~/.orphan{j}\"\n"
        ));
    }
    text
}

/// Put `occupant` at `path` in the home (unless something is already there).
fn place(s: &Sandbox, path: &Path, occupant: &Occupant, source: &str) {
    if fs::symlink_metadata(path).is_ok() {
        return;
    }
    if let Some(parent) = path.parent()
        && fs::create_dir_all(parent).is_err()
    {
        return;
    }
    match occupant {
        Occupant::Nothing => {}
        Occupant::File(n) => {
            fs::write(path, format!("user file {n} at {}", path.display())).unwrap()
        }
        Occupant::Dir(n) => crate::common::write(
            &path.join("inside"),
            &format!("user dir {n} at {}", path.display()),
        ),
        Occupant::ForeignLink => std::os::unix::fs::symlink("/etc/hostname", path).unwrap(),
        Occupant::DanglingLink => {
            std::os::unix::fs::symlink("/nonexistent/dangling", path).unwrap()
        }
        Occupant::RightRepoLink => std::os::unix::fs::symlink(s.repo().join(source), path).unwrap(),
        Occupant::WrongRepoLink => std::os::unix::fs::symlink(s.repo().join("y"), path).unwrap(),
    }
}

/// Build the scenario in a fresh sandbox: repository, older manifest applied, home occupants,
/// new manifest. Returns the sandbox.
fn build(sc: &Scenario) -> Sandbox {
    let s = Sandbox::new();
    for f in REPO_FILES {
        s.source(f, &format!("repo {f}"));
    }
    std::os::unix::fs::symlink(s.home(), s.path().join("home-link")).unwrap();
    std::os::unix::fs::symlink(s.repo(), s.path().join("repo-link")).unwrap();
    if sc.layout.alias {
        fs::create_dir_all(s.home().join(".cfg")).unwrap();
        s.home_link("alias", ".cfg");
    }
    if !sc.old.is_empty() || sc.orphans > 0 {
        let old: Vec<(usize, &Entry)> = sc.old.iter().map(|i| (*i, &sc.entries[*i])).collect();
        s.manifest(&manifest(&old, sc.orphans, true, false));
        s.run(&["apply", "--on-conflict", "skip"]).code(0);
    }
    for (i, e) in sc.entries.iter().enumerate() {
        let t = s.home().join(target(i, e));
        place(&s, &t, &e.occupant, SOURCES[e.source]);
        if let Some((k, inner)) = &e.inner
            && is_dir_source(e)
            && e.recursive
            && fs::symlink_metadata(&t).is_err()
        {
            let files: Vec<&str> = REPO_FILES
                .iter()
                .filter_map(|f| f.strip_prefix(&format!("{}/", SOURCES[e.source])))
                .collect();
            let file = files[k % files.len()];
            place(
                &s,
                &t.join(file),
                inner,
                &format!("{}/{file}", SOURCES[e.source]),
            );
        }
    }
    let all: Vec<(usize, &Entry)> = sc.entries.iter().enumerate().collect();
    s.manifest(&manifest(&all, 0, sc.prune, sc.layout.alias));
    s
}

/// Regular files of a tree: path → contents.
fn files(tree: &Tree) -> Vec<(PathBuf, String)> {
    tree.iter()
        .filter(|(_, v)| v.starts_with("file"))
        .map(|(p, v)| (p.clone(), v.splitn(4, ' ').nth(3).unwrap_or("").to_string()))
        .collect()
}

fn check(sc: &Scenario, policy: &str) -> Result<(), TestCaseError> {
    let s = build(sc);
    let before = s.home_tree();
    let run = dotlink(&s, &sc.layout, &["apply", "--on-conflict", policy]);
    let after = s.home_tree();
    prop_assert!(
        run.code == 0 || run.code == 1,
        "{policy}: exit {}\n{}{}",
        run.code,
        run.stdout,
        run.stderr
    );

    if policy == "fail" && run.code == 1 {
        // Under fail, any conflict means the home is byte-for-byte unchanged.
        prop_assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
        prop_assert_eq!(&after, &before, "fail changed the home");
        return Ok(());
    }
    // Every declared target is ok, or a conflict that skip left alone, or one below a link into
    // the repository, which no policy writes through (and which makes the run exit 1).
    let status = dotlink(&s, &sc.layout, &["status", "--json"]).json();
    let mut through_repo = false;
    for entry in status["entries"].as_array().unwrap() {
        let state = entry["state"].as_str().unwrap();
        let inside = state == "conflict"
            && entry["reason"]
                .as_str()
                .unwrap()
                .contains("link into the repository");
        through_repo |= inside;
        let fine = state == "ok"
            || inside
            || (policy == "skip" && state == "conflict")
            || (!sc.prune && state == "orphan");
        prop_assert!(
            fine,
            "{}: {} is {} ({})",
            policy,
            entry["target"],
            state,
            entry["reason"]
        );
    }
    let expected_code = i32::from(through_repo && policy != "skip");
    prop_assert_eq!(
        run.code,
        expected_code,
        "{}: {}{}",
        policy,
        run.stdout,
        run.stderr
    );

    // A second apply plans nothing and changes nothing.
    let again = dotlink(&s, &sc.layout, &["apply", "--on-conflict", policy]);
    prop_assert_eq!(again.code, expected_code);
    prop_assert_eq!(
        again.stdout.contains("Nothing to do"),
        !through_repo || policy == "skip",
        "{}: second run: {}",
        policy,
        again.stdout
    );
    prop_assert_eq!(&s.home_tree(), &after, "second apply changed the home");

    if policy != "overwrite" {
        nothing_lost(&s, &before, &after, policy)?;
    }
    Ok(())
}

/// Every regular file that was in the home still exists, with the same bytes, in place or in
/// the backup directory.
fn nothing_lost(
    s: &Sandbox,
    before: &Tree,
    after: &Tree,
    policy: &str,
) -> Result<(), TestCaseError> {
    let sets = s.backup_sets();
    for (path, contents) in files(before) {
        let in_place = files(after)
            .iter()
            .any(|(p, c)| *p == path && *c == contents);
        let backed_up = sets
            .iter()
            .any(|set| fs::read_to_string(set.join(&path)).is_ok_and(|c| c == contents));
        prop_assert!(
            in_place || backed_up,
            "{}: lost {} ({})",
            policy,
            path.display(),
            contents
        );
    }
    Ok(())
}

/// Apply then unlink (then restore, when the policy made backups) gives back the original home.
fn check_unlink(sc: &Scenario, policy: &str) -> Result<(), TestCaseError> {
    let mut clean = sc.clone();
    clean.old.clear();
    clean.orphans = 0;
    for e in &mut clean.entries {
        // Links made by hand that dotlink adopts are dotlink's afterwards, so unlink takes them.
        if matches!(e.occupant, Occupant::RightRepoLink) {
            e.occupant = Occupant::Nothing;
        }
        if matches!(e.inner, Some((_, Occupant::RightRepoLink))) {
            e.inner = None;
        }
    }
    let s = build(&clean);
    let before = s.home_tree();
    let layout = &clean.layout;
    let run = dotlink(&s, layout, &["apply", "--on-conflict", policy]);
    prop_assert!(
        run.code == 0 || run.stdout.contains("link into the repository"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    dotlink(&s, layout, &["unlink"]).code(0);
    if policy == "backup" && !s.backup_sets().is_empty() {
        let restored = dotlink(&s, layout, &["restore"]);
        prop_assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    }
    // Links into the repository at another source were relinked (nothing lost: they were
    // only links), so unlink takes them too; everything else is as it was.
    let without_repo_links = |t: Tree| -> Tree {
        t.into_iter()
            .filter(|(_, v)| !v.contains("repo/y"))
            .collect()
    };
    prop_assert_eq!(
        without_repo_links(s.home_tree()),
        without_repo_links(before)
    );
    Ok(())
}

/// dotlink's state or backup directory placed at or inside a declared target: every run is
/// refused (exit 2) and nothing anywhere changes.
fn check_own_dirs(
    sc: &Scenario,
    which: usize,
    inside: bool,
    backups: bool,
) -> Result<(), TestCaseError> {
    let i = which % sc.entries.len();
    // A recursive entry's target is a directory of links, which replaces nothing: dotlink's
    // files may live there. Every other target is one link, in place of whatever is there.
    prop_assume!(!(sc.entries[i].recursive && is_dir_source(&sc.entries[i])));
    let s = build(sc);
    let place = s.home().join(target(i, &sc.entries[i]));
    let own = if inside {
        place.join("own")
    } else {
        place.clone()
    };
    let before = s.whole_tree();
    let run = if backups {
        let text = fs::read_to_string(s.repo().join("dotlink.toml")).unwrap();
        let text = text.replacen(
            "[defaults]\n",
            &format!("[defaults]\nbackup_dir = \"{}\"\n", own.display()),
            1,
        );
        s.manifest(&text);
        let before = s.whole_tree();
        let run = dotlink(&s, &sc.layout, &["apply", "--on-conflict", "overwrite"]);
        prop_assert_eq!(&s.whole_tree(), &before, "{}", run.stderr);
        run
    } else {
        let state = own.to_str().unwrap().to_string();
        let run = s.run_env(
            &["apply", "--on-conflict", "overwrite"],
            &[("XDG_STATE_HOME", &state)],
        );
        prop_assert_eq!(&s.whole_tree(), &before, "{}", run.stderr);
        run
    };
    prop_assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    prop_assert!(
        run.stderr.contains("dotlink's own") || run.stderr.contains("is inside the repository"),
        "{}",
        run.stderr
    );
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fail_policy(sc in scenario()) { check(&sc, "fail")?; }

    #[test]
    fn skip_policy(sc in scenario()) { check(&sc, "skip")?; }

    #[test]
    fn backup_policy(sc in scenario()) { check(&sc, "backup")?; }

    #[test]
    fn overwrite_policy(sc in scenario()) { check(&sc, "overwrite")?; }

    #[test]
    fn apply_then_unlink_gives_back_the_home(sc in scenario()) { check_unlink(&sc, "skip")?; }

    #[test]
    fn apply_then_unlink_then_restore_gives_back_the_home(sc in scenario()) { check_unlink(&sc, "backup")?; }

    #[test]
    fn dotlinks_own_directories_in_a_targets_place_are_refused(
        sc in scenario(), which in 0..6usize, inside in any::<bool>(), backups in any::<bool>()
    ) {
        check_own_dirs(&sc, which, inside, backups)?;
    }
}
