//! The JSON outputs, for scripts and configuration-management tools: `status --json` and
//! `plan --json`. Their formats are stable (see the README); reasons are worded by
//! [`super::text`], as in human output.

use super::out::outln;
use super::text;
use crate::manifest::Method;
use crate::plan::{Action, Displace, LinkState, Plan, Step};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// `status --json`: entries with absolute paths, and a count per state word.
#[derive(Serialize)]
pub struct StatusJson {
    /// The format's version, shared with `plan --json` and `apply --json`.
    pub version: u32,
    pub entries: Vec<StatusEntry>,
    pub summary: BTreeMap<&'static str, usize>,
    /// Dead links into the repository that dotlink did not make (`clean` removes them).
    pub dead_links: usize,
}

/// The fields every JSON output gives a target, with the same names and words everywhere.
#[derive(Serialize)]
pub struct TargetJson {
    pub target: String,
    pub source: String,
    /// The exact bytes of `target` and `source`, given only for a path that is not UTF-8
    /// (whose `target` or `source` then shows U+FFFD where a byte could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_bytes: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_bytes: Option<Vec<u8>>,
    /// The target's state word now.
    pub state: LinkState,
    /// Why, in words.
    pub reason: String,
    /// `symlink` or `hardlink`; `directory` for an empty directory dotlink made, to be pruned.
    pub method: &'static str,
    /// The package the target comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

impl TargetJson {
    fn of(step: &Step, plan: &Plan) -> TargetJson {
        TargetJson {
            target: step.target.to_string_lossy().into_owned(),
            source: step.source.to_string_lossy().into_owned(),
            target_bytes: bytes_unless_utf8(&step.target),
            source_bytes: bytes_unless_utf8(&step.source),
            state: step.state,
            reason: text::reason(step, plan),
            method: match (&step.action, step.method) {
                (Action::RemoveDir, _) => "directory",
                (_, Method::Symlink) => "symlink",
                (_, Method::Hardlink) => "hardlink",
            },
            package: step.package.as_deref().cloned(),
        }
    }
}

#[derive(Serialize)]
pub struct StatusEntry {
    #[serde(flatten)]
    pub about: TargetJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_count: Option<u64>,
}

pub fn status(plan: &Plan) -> StatusJson {
    let mut entries: Vec<StatusEntry> = plan
        .steps
        .iter()
        .map(|step| StatusEntry {
            about: TargetJson::of(step, plan),
            link_count: step.link_count.map(|n| u64::from(n.get())),
        })
        .collect();
    entries.sort_by(|a, b| a.about.target.cmp(&b.about.target));
    let summary = LinkState::ALL
        .iter()
        .map(|s| (s.word(), plan.count(*s)))
        .collect();
    StatusJson {
        version: 1,
        entries,
        summary,
        dead_links: plan.dead_links.len(),
    }
}

/// `plan --json`: the plan for scripts and configuration-management tools. The format is
/// stable (see "plan --json" in the README); `version` changes if it ever has to.
#[derive(Serialize)]
pub struct PlanJson {
    pub version: u32,
    pub manifest: String,
    /// True when a conflict under `fail` stops the whole run: nothing would change.
    pub halted: bool,
    pub actions: Vec<ActionJson>,
    pub summary: BTreeMap<&'static str, usize>,
    pub notes: Vec<String>,
}

#[derive(Serialize)]
pub struct ActionJson {
    /// create | relink | backup | overwrite | prune | unfold | skip | block | none
    pub kind: &'static str,
    #[serde(flatten)]
    pub about: TargetJson,
    /// What the symlink will store (a hard link: the source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Where what is in the way goes, for `backup`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    /// Directories created first, top first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mkdirs: Vec<String>,
}

/// The kind of action a step is, in `plan --json`'s words.
pub fn action_kind(step: &Step) -> &'static str {
    match &step.action {
        Action::None => "none",
        Action::Create { .. } => "create",
        Action::Replace { .. } | Action::Clear { .. } => match step.action.displace() {
            Some(Displace::Backup { .. }) => "backup",
            Some(Displace::Delete) => "overwrite",
            _ if matches!(step.action, Action::Clear { .. }) => "overwrite",
            _ => "relink",
        },
        Action::Remove { .. } | Action::RemoveDir => "prune",
        Action::Unfold { .. } | Action::Unfolded { .. } => "unfold",
        Action::Leave => "skip",
        Action::Block => "block",
    }
}

pub fn plan(plan: &Plan) -> PlanJson {
    let text = |p: &Path| p.to_string_lossy().into_owned();
    let actions: Vec<ActionJson> = plan
        .steps
        .iter()
        .map(|step| ActionJson {
            kind: action_kind(step),
            about: TargetJson::of(step, plan),
            link: step
                .link_text()
                .filter(|_| step.action.changes())
                .map(|l| text(&l)),
            backup: step.action.backup().map(|to| text(to)),
            mkdirs: match &step.action {
                Action::Create { mkdirs } => mkdirs.iter().map(|d| text(d)).collect(),
                Action::Unfold(unfolding) => unfolding.dirs.iter().map(|d| text(d)).collect(),
                _ => Vec::new(),
            },
        })
        .collect();
    let mut summary: BTreeMap<&'static str, usize> = [
        "create",
        "relink",
        "backup",
        "overwrite",
        "prune",
        "unfold",
        "skip",
        "block",
        "none",
    ]
    .into_iter()
    .map(|k| (k, 0))
    .collect();
    for action in &actions {
        *summary.entry(action.kind).or_default() += 1;
    }
    PlanJson {
        version: 1,
        manifest: text(&plan.manifest),
        halted: plan.halted(),
        actions,
        summary,
        notes: plan
            .notes
            .iter()
            .map(|n| text::note(n, &plan.home))
            .collect(),
    }
}

/// `apply --json`: what the run did, for scripts and configuration-management tools. Each step
/// carries the plan's fields and its `result`: `done`, `failed` (with `error`), `unchanged`
/// (nothing to do, skipped, blocked, or not for this machine) or `not_run` (the run was
/// halted).
#[derive(Serialize)]
pub struct ApplyJson {
    pub version: u32,
    pub manifest: String,
    pub halted: bool,
    /// Whether anything on disk changed.
    pub changed: bool,
    pub steps: Vec<AppliedJson>,
    pub summary: crate::apply::Counts,
    /// The backup set this run used, when it made backups.
    pub backup_set: Option<String>,
    pub notes: Vec<String>,
    /// Why the run could not be finished after its steps (the backup index or the state file
    /// not written): its journal stays, and the next run finishes it. The run exits 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<String>,
}

#[derive(Serialize)]
pub struct AppliedJson {
    #[serde(flatten)]
    pub action: ActionJson,
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub fn applied(
    plan: &Plan,
    outcome: &crate::apply::Outcome,
    unfinished: Option<&crate::error::Error>,
) -> ApplyJson {
    let halted = plan.halted();
    let by_step = |errors: &[(usize, crate::error::Error)]| -> BTreeMap<usize, String> {
        errors.iter().map(|(i, e)| (*i, e.to_string())).collect()
    };
    let (failed, late) = (by_step(&outcome.failed), by_step(&outcome.late_errors));
    // A link an unfold makes shares its unfold's result.
    let unfold_result: BTreeMap<&Path, usize> = plan
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.action, Action::Unfold { .. }))
        .map(|(i, s)| (&*s.target, i))
        .collect();
    let result_of = |index: usize| -> (&'static str, Option<String>) {
        if let Some(error) = failed.get(&index) {
            return ("failed", Some(error.clone()));
        }
        if outcome.done.contains(index) {
            // An error that came after the change that finished the step, said all the same.
            return ("done", late.get(&index).cloned());
        }
        if halted {
            return ("not_run", None);
        }
        ("unchanged", None)
    };
    let plan_json = self::plan(plan);
    let steps = plan_json
        .actions
        .into_iter()
        .enumerate()
        .map(|(index, action)| {
            let (result, error) = match &plan.steps[index].action {
                Action::Unfolded { by } => unfold_result
                    .get(&**by)
                    .map(|i| result_of(*i))
                    .unwrap_or(("unchanged", None)),
                _ => result_of(index),
            };
            AppliedJson {
                action,
                result,
                error,
            }
        })
        .collect();
    let text = |p: &Path| p.to_string_lossy().into_owned();
    ApplyJson {
        version: 1,
        manifest: text(&plan.manifest),
        halted,
        changed: !outcome.done.is_empty(),
        steps,
        summary: outcome.counts(plan),
        backup_set: (!outcome.backups.is_empty()).then(|| text(&plan.backup_set)),
        notes: plan_json.notes,
        unfinished: unfinished.map(|e| e.to_string()),
    }
}

/// A path's bytes when it is not UTF-8, so a script can recover the exact name.
fn bytes_unless_utf8(path: &Path) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    path.to_str()
        .is_none()
        .then(|| path.as_os_str().as_bytes().to_vec())
}

/// Print a JSON document on stdout, pretty, with a final newline.
pub fn print(document: &impl Serialize) {
    outln!(
        "{}",
        serde_json::to_string_pretty(document).expect("JSON output serialises")
    );
}
