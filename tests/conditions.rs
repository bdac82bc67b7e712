//! One manifest for many machines: `when` conditions on os, hostname and profile, `[profiles]`,
//! `--profile` / `$DOTLINK_PROFILE`, and `$VAR` expansion in targets.

use crate::common::Sandbox;
use std::fs;

fn this_host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

fn other_os() -> &'static str {
    if std::env::consts::OS == "linux" {
        "macos"
    } else {
        "linux"
    }
}

#[test]
fn entries_apply_only_where_their_condition_holds() {
    let s = Sandbox::new();
    s.source("here", "h")
        .source("there", "t")
        .source("host", "x");
    s.manifest(&format!(
        r#"
[[link]]
source = "here"
target = "~/.here"
when = {{ os = "{os}" }}

[[link]]
source = "there"
target = "~/.there"
when = {{ os = "{other}" }}

[[link]]
source = "host"
target = "~/.host"
when = {{ os = ["{other}", "{os}"], hostname = "{host_prefix}*" }}
"#,
        os = std::env::consts::OS,
        other = other_os(),
        host_prefix = &this_host()[..1],
    ));
    s.run(&["apply"]).code(0).stdout_has("2 created");
    assert!(s.home().join(".here").is_symlink());
    assert!(s.home().join(".host").is_symlink());
    assert!(!s.home().join(".there").exists());
    // Status shows the skipped entry as skipped (with -v), not missing, and still exits 0.
    let run = s.run(&["status", "-v"]);
    run.code(0)
        .stdout_has("skipped")
        .stdout_has("~/.there")
        .stdout_has(&format!(
            "os is {}, not {}",
            std::env::consts::OS,
            other_os()
        ));
    assert!(!run.stdout.contains("missing"));
    let json = s.run(&["status", "--json"]).json();
    assert_eq!(json["summary"]["skipped"], 1);
    assert_eq!(json["summary"]["ok"], 2);
}

#[test]
fn profiles_come_from_the_manifest_or_the_command_line() {
    let s = Sandbox::new();
    s.source("work", "w").source("home", "h").source("all", "a");
    s.manifest(&format!(
        r#"
[profiles]
work = {{ hostname = "{host}" }}
laptop = {{ hostname = "no-such-host-*" }}

[[link]]
source = "work"
target = "~/.work"
when = {{ profile = "work" }}

[[link]]
source = "home"
target = "~/.home"
when = {{ profile = "laptop" }}

[[link]]
source = "all"
target = "~/.all"
"#,
        host = this_host()
    ));
    // [profiles] picks `work` on this machine.
    s.run(&["apply"]).code(0);
    assert!(s.home().join(".work").is_symlink() && !s.home().join(".home").exists());
    // --profile chooses instead; links of entries no longer active are pruned.
    s.run(&["apply", "--profile", "laptop"])
        .code(0)
        .stdout_has("- ~/.work")
        .stdout_has("+ ~/.home");
    assert!(!s.home().join(".work").exists() && s.home().join(".home").is_symlink());
    s.run(&["status", "-v", "--profile", "laptop"])
        .code(0)
        .stdout_has("profile work is not active (active: laptop)");
    // $DOTLINK_PROFILE does the same, and a list selects several.
    s.run_env(&["apply"], &[("DOTLINK_PROFILE", "work,laptop")])
        .code(0)
        .stdout_has("+ ~/.work");
    assert!(s.home().join(".work").is_symlink() && s.home().join(".home").is_symlink());
    // The flag wins over the variable.
    s.run_env(
        &["status", "--profile", "work"],
        &[("DOTLINK_PROFILE", "laptop")],
    )
    .code(1)
    .stdout_has("orphan");
}

#[test]
fn conditions_with_unknown_values_are_errors() {
    let s = Sandbox::new();
    s.source("a", "a");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nwhen = { os = \"mac\" }\n");
    s.run(&["apply"])
        .code(2)
        .stderr_has("dotlink.toml:4:")
        .stderr_has("os `mac` is not one dotlink knows");
    s.manifest("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nwhen = { distro = \"debian\" }\n");
    s.run(&["apply"])
        .code(2)
        .stderr_has("dotlink.toml:4:")
        .stderr_has("unknown field `distro`");
    s.manifest("[profiles]\nwork = { user = \"me\" }\n");
    s.run(&["apply"]).code(2).stderr_has("unknown field `user`");
}

#[test]
fn targets_expand_environment_variables_with_defaults() {
    let s = Sandbox::new();
    s.source("nvim/init.lua", "n");
    s.manifest("[[link]]\nsource = \"nvim\"\ntarget = \"${XDG_CONFIG_HOME:-~/.config}/nvim\"\n");
    // The sandbox sets XDG_CONFIG_HOME into itself; without it the default applies.
    let custom = s.home().join("cfg");
    s.run_env(&["apply"], &[("XDG_CONFIG_HOME", custom.to_str().unwrap())])
        .code(0);
    assert!(custom.join("nvim").is_symlink());
    let mut cmd = s.command();
    cmd.env_remove("XDG_CONFIG_HOME").args(["apply"]);
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(s.home().join(".config/nvim").is_symlink());
    assert!(
        !custom.join("nvim").exists(),
        "the link made under the other value is pruned"
    );
}

#[test]
fn an_unset_variable_without_default_is_an_error() {
    let s = Sandbox::new();
    s.source("a", "a")
        .manifest("[[link]]\nsource = \"a\"\ntarget = \"$DOTLINK_TEST_UNSET/a\"\n");
    s.run(&["apply"])
        .code(2)
        .stderr_has("dotlink.toml:3:10: environment variable `DOTLINK_TEST_UNSET` is not set")
        .stderr_has("${DOTLINK_TEST_UNSET:-default}");
}

#[test]
fn an_entry_for_another_machine_may_use_its_variables_and_places() {
    let s = Sandbox::new();
    s.source("a", "a").source("mac", "m");
    s.manifest(&format!(
        "[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n[[link]]\nsource = \"mac\"\ntarget = \"$ONLY_ON_THAT_MACHINE/prefs\"\nwhen = {{ os = \"{}\" }}\n",
        other_os()
    ));
    s.run(&["apply"]).code(0).stdout_has("1 created");
    s.run(&["status", "-v"]).code(0).stdout_has("skipped");
    s.run(&["status"])
        .code(0)
        .stdout_has("1 link up to date (1 not for this machine)");
}

#[test]
fn entries_for_different_profiles_may_share_a_target() {
    let s = Sandbox::new();
    s.source("git/gitconfig-work", "work")
        .source("git/gitconfig", "home");
    s.manifest(
        "[profiles]\nwork = { hostname = \"work-*\" }\nhome = { hostname = [\"laptop\", \"desk*\"] }\n[[link]]\nsource = \"git/gitconfig-work\"\ntarget = \"~/.gitconfig\"\nwhen = { profile = \"work\" }\n[[link]]\nsource = \"git/gitconfig\"\ntarget = \"~/.gitconfig\"\nwhen = { profile = \"home\" }\n",
    );
    s.run(&["apply", "--profile", "work"]).code(0);
    assert_eq!(
        fs::read_to_string(s.home().join(".gitconfig")).unwrap(),
        "work"
    );
    s.run(&["apply", "--profile", "home"])
        .code(0)
        .stdout_has("1 relinked");
    assert_eq!(
        fs::read_to_string(s.home().join(".gitconfig")).unwrap(),
        "home"
    );
    let quiet = s.run(&["status", "-q", "--profile", "home"]);
    quiet.code(0);
    assert_eq!(quiet.stdout, "");
}

#[test]
fn a_mistyped_profile_is_an_error_or_a_warning_never_silence() {
    let s = Sandbox::new();
    s.source("a", "a").source("b", "b");
    s.manifest(
        "[profiles]\nwork = { hostname = \"work-*\" }\n\
         [[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nwhen = { profile = \"work\" }\n\
         [[link]]\nsource = \"b\"\ntarget = \"~/.b\"\nwhen = { profile = \"wrok\" }\n",
    );
    s.run(&["plan"])
        .code(0)
        .stderr_has("warning: ")
        .stderr_has("dotlink.toml:10:8: profile `wrok` is not defined in [profiles]")
        .stderr_has("did you mean `work`?");
    s.run(&["--profile", "nope", "plan"])
        .code(2)
        .stderr_has("profile `nope` (from --profile or $DOTLINK_PROFILE) is not mentioned")
        .stderr_has("known profiles: work, wrok");
    s.run_env(&["status"], &[("DOTLINK_PROFILE", "wokr")])
        .code(2)
        .stderr_has("did you mean `work`?");
    // Chosen explicitly, a profile only `when` names is fine and not warned about.
    s.run(&["--profile", "wrok", "apply"])
        .code(0)
        .stderr_lacks("warning");
    assert!(s.home().join(".b").is_symlink());
}
