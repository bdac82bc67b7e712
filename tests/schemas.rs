//! Every JSON output checked against its published schema (docs/*.schema.json) with the
//! jsonschema crate, across runs that reach every state word, every action kind and every
//! result: the schemas are what scripts may rely on.

use crate::common::Sandbox;
use crate::migrate::reachable;
use std::path::Path;

fn validator(name: &str) -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("docs/{name}.schema.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[track_caller]
fn valid(validator: &jsonschema::Validator, document: &serde_json::Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{document:#}");
}

/// A home with something in every state: ok, missing, wrong, conflict, dangling, orphan,
/// skipped and folded, a package, and a hard link.
fn everything() -> Sandbox {
    let s = Sandbox::new();
    s.source("ok", "o")
        .source("missing", "m")
        .source("wrong", "w")
        .source("conflict", "c")
        .source("gone", "g")
        .source("hard", "h")
        .source("pkg/.config/app/conf", "p")
        .source("old", "old");
    s.manifest("[[link]]\nsource = \"old\"\ntarget = \"~/.old\"\n");
    s.run(&["apply"]).code(0);
    s.manifest(
        "[[link]]\nsource = \"ok\"\ntarget = \"~/.ok\"\n\
         [[link]]\nsource = \"missing\"\ntarget = \"~/.missing\"\n\
         [[link]]\nsource = \"wrong\"\ntarget = \"~/.wrong\"\n\
         [[link]]\nsource = \"conflict\"\ntarget = \"~/.conflict\"\non_conflict = \"backup\"\n\
         [[link]]\nsource = \"gone\"\ntarget = \"~/.gone\"\n\
         [[link]]\nsource = \"hard\"\ntarget = \"~/.hard\"\nmethod = \"hardlink\"\n\
         [[link]]\nsource = \"ok\"\ntarget = \"~/.elsewhere\"\nwhen = { os = \"windows\" }\n\
         [[package]]\nsource = \"pkg\"\n",
    );
    s.home_link(".ok", "../repo/ok")
        .home_link(".wrong", "../repo/missing")
        .home_file(".conflict", "mine")
        .home_link(".config", "../repo/pkg/.config");
    s
}

#[test]
fn status_plan_and_apply_json_follow_their_schemas() {
    let (status, plan, apply) = (validator("status"), validator("plan"), validator("apply"));
    let s = everything();
    std::fs::remove_file(s.repo().join("gone")).unwrap();
    let run = s.run(&["status", "--json"]);
    assert!(!run.stdout.is_empty(), "{}", run.stderr);
    let json = run.json();
    assert!(json["summary"]["folded"].as_u64().unwrap() > 0);
    assert!(json["summary"]["orphan"].as_u64().unwrap() > 0);
    valid(&status, &json, "status");
    std::fs::write(s.repo().join("gone"), "back").unwrap();
    valid(&plan, &s.run(&["plan", "--json"]).json(), "plan");
    valid(
        &plan,
        &s.run(&["plan", "--json", "--on-conflict", "fail"]).json(),
        "halted plan",
    );
    valid(
        &apply,
        &s.run(&["apply", "--json", "--on-conflict", "fail"]).json(),
        "halted apply",
    );
    let before = reachable(&s);
    let done = s.run(&["apply", "--json"]).json();
    assert_eq!(done["changed"], true);
    valid(&apply, &done, "apply");
    assert_eq!(
        reachable(&s).get(Path::new(".config/app/conf")),
        before.get(Path::new(".config/app/conf"))
    );
    valid(
        &apply,
        &s.run(&["apply", "--json"]).json(),
        "apply with nothing to do",
    );
    valid(
        &status,
        &s.run(&["status", "--json"]).json(),
        "status when all is well",
    );
}

#[test]
fn names_that_are_not_utf8_carry_their_bytes_within_the_schema() {
    use std::os::unix::ffi::OsStrExt;
    let s = Sandbox::new();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9");
    std::fs::write(s.repo().join(name), "x").unwrap();
    s.manifest("[[link]]\nsource = \"*\"\ntarget = \"~/dir/\"\n");
    let json = s.run(&["status", "--json"]).json();
    assert!(json["entries"][0]["target_bytes"].is_array());
    valid(&validator("status"), &json, "status");
    valid(
        &validator("plan"),
        &s.run(&["plan", "--json"]).json(),
        "plan",
    );
}

/// An empty directory dotlink made, to be removed: a `prune` with an empty source in every
/// output, within the schemas, and counted in `apply --json`'s `emptied_dirs`.
#[test]
fn an_empty_directory_to_remove_follows_the_schemas() {
    let (status, plan, apply) = (validator("status"), validator("plan"), validator("apply"));
    let s = crate::edges::emptied_by_hand();
    valid(&status, &s.run(&["status", "--json"]).json(), "status");
    let planned = s.run(&["plan", "--json"]).json();
    valid(&plan, &planned, "plan");
    assert_eq!(planned["summary"]["prune"], 2, "{planned:#}");
    assert_eq!(planned["actions"][0]["source"], "", "{planned:#}");
    let done = s.run(&["apply", "--json"]).json();
    valid(&apply, &done, "apply");
    assert_eq!(done["summary"]["emptied_dirs"], 2, "{done:#}");
    assert_eq!(done["summary"]["pruned"], 0, "{done:#}");
}

/// A run whose steps are done but whose state file cannot be written (an error at its last
/// fault point, as a full disk gives): `apply --json` says so in `unfinished`, within the
/// schema, and exits 1; the next run finishes it.
#[test]
fn an_unfinished_apply_says_so_in_its_json() {
    let one_link = || {
        let s = Sandbox::new();
        s.source("a", "a")
            .manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n");
        s
    };
    let mut seen = false;
    for n in 0..8 {
        let s = one_link();
        let run = s.run_env(
            &["apply", "--json"],
            &[("DOTLINK_FAULT_ERROR_AT", &n.to_string())],
        );
        if !run.stderr.contains("write state file") {
            continue;
        }
        seen = true;
        run.code(1);
        let json = run.json();
        valid(&validator("apply"), &json, "unfinished apply");
        let unfinished = json["unfinished"].as_str().unwrap_or_default();
        assert!(unfinished.contains("state file"), "{json:#}");
        assert_eq!(json["summary"]["created"], 1, "{json:#}");
        s.run(&["apply"]).code(0);
        s.run(&["status"]).code(0);
    }
    assert!(seen, "no point failed the state file's write");
    // A finished run has no such field.
    let done = one_link().run(&["apply", "--json"]).json();
    assert!(done.get("unfinished").is_none(), "{done:#}");
}
