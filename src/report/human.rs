//! Output: plans, run outcomes and status as people read them (one aligned, coloured line per
//! target and a one-line summary), status as JSON for scripts, and errors with their hints.
//!
//! Everything a person reads goes through here, so paths are shortened the same way
//! everywhere: targets as `~/…`, sources relative to the repository.

use crate::apply::Outcome;
use crate::apply::journal::Recovery;
use crate::error::Error;
use crate::manifest::Method;
use crate::paths;
use crate::plan::{Action, Displace, LinkState, Plan, Step};
use colored::{ColoredString, Colorize};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Prints for one plan.
pub struct Printer<'a> {
    plan: &'a Plan,
    pub verbosity: Verbosity,
    /// `unlink` removes links rather than pruning them, and says so.
    unlinking: bool,
}

impl<'a> Printer<'a> {
    pub fn new(plan: &'a Plan, verbosity: Verbosity) -> Self {
        Printer {
            plan,
            verbosity,
            unlinking: false,
        }
    }

    /// A printer for `unlink`'s plan.
    pub fn unlinking(plan: &'a Plan, verbosity: Verbosity) -> Self {
        Printer {
            unlinking: true,
            ..Printer::new(plan, verbosity)
        }
    }

    fn target(&self, path: &Path) -> String {
        paths::display(path, &self.plan.home)
    }

    fn source(&self, path: &Path) -> String {
        match paths::below(path, &self.plan.repo) {
            Some(relative) => relative.display().to_string(),
            None => paths::display(path, &self.plan.home),
        }
    }

    fn width(&self, steps: &[&Step]) -> usize {
        steps
            .iter()
            .map(|s| self.target(&s.target).chars().count())
            .max()
            .unwrap_or(0)
            .min(48)
    }

    /// Notes first (stale state and the like), then the plan, one line per step that does
    /// something (every step with `--verbose`), then the summary.
    pub fn plan(&self) {
        self.notes(&self.plan.notes);
        let shown: Vec<&Step> = self
            .plan
            .steps
            .iter()
            .filter(|s| match self.verbosity {
                Verbosity::Verbose => true,
                Verbosity::Normal => s.action != Action::None,
                Verbosity::Quiet => matches!(s.action, Action::Block | Action::Leave) && s.declared,
            })
            .collect();
        let width = self.width(&shown);
        let mut announced = HashSet::new();
        let mut out = stdout();
        for step in &shown {
            let mut line = self.line(step, width);
            // Say once which directories a run creates, on the first link that needs them.
            if let Action::Create { mkdirs } = &step.action
                && let Some(top) = mkdirs.first()
                && announced.insert(top)
            {
                line.push_str(
                    &format!("  (creates {})", self.target(top))
                        .dimmed()
                        .to_string(),
                );
            }
            let _ = writeln!(out, "  {} {line}", self.marker(step));
        }
        if self.verbosity != Verbosity::Quiet {
            if !shown.is_empty() {
                let _ = writeln!(out);
            }
            let _ = writeln!(out, "{}", self.plan_summary());
        }
    }

    fn marker(&self, step: &Step) -> ColoredString {
        match (&step.action, step.state) {
            (Action::None, LinkState::Skipped) => "·".dimmed(),
            (Action::None, _) => "=".dimmed(),
            (Action::Create { .. }, _) => "+".green().bold(),
            (Action::Replace { .. } | Action::Clear { .. }, LinkState::Conflict) => {
                "!".yellow().bold()
            }
            (Action::Clear { .. }, _) => "!".yellow().bold(),
            (Action::Replace { .. }, _) => "~".yellow().bold(),
            (Action::Remove { .. }, _) => "-".red().bold(),
            (Action::Leave, LinkState::Conflict) => "!".yellow().bold(),
            (Action::Leave, _) => "·".dimmed(),
            (Action::Block, _) => "!".red().bold(),
        }
    }

    fn line(&self, step: &Step, width: usize) -> String {
        let target = self.target(&step.target);
        let pad = width.saturating_sub(target.chars().count());
        let arrow = if step.method == Method::Hardlink {
            "⇒"
        } else {
            "→"
        };
        let mut line = format!(
            "{target}{} {arrow} {}",
            " ".repeat(pad),
            self.source(&step.source)
        );
        let detail = self.detail(step);
        if !detail.is_empty() {
            line.push_str("  ");
            line.push_str(&detail.dimmed().to_string());
        }
        line
    }

    /// Why, and for conflicts, what the policy does about it.
    fn detail(&self, step: &Step) -> String {
        if step.state != LinkState::Conflict {
            return step.detail.clone();
        }
        let resolution = match &step.action {
            Action::Replace {
                displace: Displace::Backup { to },
            }
            | Action::Clear {
                displace: Displace::Backup { to },
            } => format!("backup to {}", self.target(to)),
            Action::Replace { .. } | Action::Clear { .. } => "overwrite".to_string(),
            Action::Leave => "skipped".to_string(),
            Action::Block if step.conflict.as_ref().is_some_and(|c| !c.resolvable()) => {
                "cannot be resolved".to_string()
            }
            _ => format!("policy {}", step.policy),
        };
        format!("conflict: {} ({resolution})", step.detail)
    }

    fn counts(&self) -> (usize, usize, usize, usize, usize) {
        let steps = &self.plan.steps;
        let create = steps
            .iter()
            .filter(|s| matches!(s.action, Action::Create { .. }))
            .count();
        let relink = steps
            .iter()
            .filter(|s| {
                matches!(s.action, Action::Replace { .. }) && s.state != LinkState::Conflict
            })
            .count();
        let prune = steps
            .iter()
            .filter(|s| matches!(s.action, Action::Remove { .. }))
            .count();
        let conflicts = self.plan.count(LinkState::Conflict);
        let ok = self.plan.count(LinkState::Ok);
        (create, relink, prune, conflicts, ok)
    }

    fn plan_summary(&self) -> String {
        let (create, relink, prune, conflicts, ok) = self.counts();
        let mut parts = Vec::new();
        push_count(&mut parts, create, "to create", "to create");
        push_count(&mut parts, relink, "to relink", "to relink");
        let remove = if self.unlinking {
            "to remove"
        } else {
            "to prune"
        };
        push_count(&mut parts, prune, remove, remove);
        push_count(&mut parts, conflicts, "conflict", "conflicts");
        let up_to_date = plural(ok, "link up to date", "links up to date");
        let blocked = self.plan.steps.iter().any(|s| s.action == Action::Block);
        if self.plan.changes().count() == 0 && !blocked {
            let skipped = if conflicts > 0 {
                format!("; {} skipped", plural(conflicts, "conflict", "conflicts"))
            } else {
                String::new()
            };
            format!("{} {up_to_date}{skipped}.", "Nothing to do:".green().bold())
        } else if ok == 0 {
            format!("{} {}.", "Plan:".bold(), parts.join(", "))
        } else {
            format!("{} {} ({up_to_date}).", "Plan:".bold(), parts.join(", "))
        }
    }

    /// After a run: failures, where backups went, then what was done.
    pub fn outcome(&self, outcome: &Outcome) {
        for (index, error) in &outcome.failed {
            let step = &self.plan.steps[*index];
            print_error(&Error {
                message: format!("{}: {}", self.target(&step.target), error.message),
                ..error.clone()
            });
        }
        if self.verbosity != Verbosity::Quiet {
            for backed_up in &outcome.backups {
                println!(
                    "{} {} → {}",
                    "backed up".cyan(),
                    self.target(&backed_up.target),
                    self.target(&backed_up.backup)
                );
            }
        }
        let done = |f: &dyn Fn(&Step) -> bool| {
            outcome
                .done
                .iter()
                .filter(|i| f(&self.plan.steps[**i]))
                .count()
        };
        let created = done(&|s| matches!(s.action, Action::Create { .. }));
        let relinked =
            done(&|s| matches!(s.action, Action::Replace { .. }) && s.state != LinkState::Conflict);
        let overwritten = done(&|s| {
            matches!(
                &s.action,
                Action::Replace {
                    displace: Displace::Delete
                } | Action::Clear {
                    displace: Displace::Delete
                }
            )
        });
        let pruned = done(&|s| matches!(s.action, Action::Remove { .. }));
        let mut parts = Vec::new();
        push_count(&mut parts, created, "created", "created");
        push_count(&mut parts, relinked, "relinked", "relinked");
        let removed = if self.unlinking { "removed" } else { "pruned" };
        push_count(&mut parts, pruned, removed, removed);
        push_count(&mut parts, outcome.backups.len(), "backed up", "backed up");
        push_count(&mut parts, overwritten, "overwritten", "overwritten");
        let left = self
            .plan
            .steps
            .iter()
            .filter(|s| s.state == LinkState::Conflict && !s.action.changes())
            .count();
        push_count(&mut parts, left, "conflict left", "conflicts left");
        if !outcome.failed.is_empty() {
            let failed = format!("{} failed", outcome.failed.len());
            parts.push(failed.red().bold().to_string());
        }
        let acted = !outcome.done.is_empty() || !outcome.failed.is_empty();
        if self.verbosity != Verbosity::Quiet && acted {
            let done = if self.unlinking {
                "Unlinked:"
            } else {
                "Applied:"
            };
            println!("{} {}.", done.bold(), parts.join(", "));
        }
    }

    /// `status`: one line per target with its state word.
    pub fn status(&self) {
        self.notes(&self.plan.notes);
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let mut by_target: Vec<&Step> = self.plan.steps.iter().collect();
        let width = self.width(&by_target);
        by_target.sort_by(|a, b| a.target.as_os_str().cmp(b.target.as_os_str()));
        let mut out = stdout();
        for step in by_target {
            let word = format!("{:<9}", step.state.word());
            let target = self.target(&step.target);
            let pad = width.saturating_sub(target.chars().count());
            let mut line = format!(
                "{} {target}{}  {}",
                state_colour(step.state, &word),
                " ".repeat(pad),
                self.source(&step.source)
            );
            let detail = self.status_detail(step);
            if !detail.is_empty() {
                line.push_str("  ");
                line.push_str(&detail.dimmed().to_string());
            }
            let _ = writeln!(out, "{line}");
        }
        let mut parts = Vec::new();
        for state in LinkState::ALL {
            let n = self.plan.count(state);
            if n > 0 {
                parts.push(format!("{n} {}", state_colour(state, state.word())));
            }
        }
        if parts.is_empty() {
            let _ = writeln!(out, "No links declared.");
        } else {
            let _ = writeln!(out, "{}", parts.join(", "));
        }
    }

    fn status_detail(&self, step: &Step) -> String {
        if step.state == LinkState::Conflict {
            return step.detail.clone();
        }
        step.detail
            .strip_prefix("relink: ")
            .or_else(|| step.detail.strip_prefix("prune: "))
            .unwrap_or(&step.detail)
            .to_string()
    }

    fn notes(&self, notes: &[String]) {
        print_notes(notes);
    }
}

/// Standard output, buffered: a listing of thousands of lines is a few writes, not one per line.
fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::new(std::io::stdout().lock())
}

/// Notes on stderr: things worth knowing that are not errors.
pub fn print_notes(notes: &[String]) {
    for note in notes {
        eprintln!("{} {note}", "note:".yellow().bold());
    }
}

/// What recovery from an interrupted run did, before anything else is printed.
pub fn print_recovery(recovery: &Recovery) {
    eprintln!(
        "{} found an interrupted run (started {}); recovered it:",
        "note:".yellow().bold(),
        recovery.started
    );
    for action in &recovery.actions {
        eprintln!("  - {action}");
    }
}

fn state_colour(state: LinkState, text: &str) -> ColoredString {
    match state {
        LinkState::Ok => text.green(),
        LinkState::Missing | LinkState::Wrong | LinkState::Diverged => text.yellow(),
        LinkState::Conflict | LinkState::Dangling => text.red(),
        LinkState::Orphan => text.cyan(),
        LinkState::Skipped => text.dimmed(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn push_count(parts: &mut Vec<String>, n: usize, one: &str, many: &str) {
    if n > 0 {
        parts.push(plural(n, one, many));
    }
}

/// `status --json`: entries with absolute paths, and a count per state word.
#[derive(Serialize)]
pub struct StatusJson {
    pub entries: Vec<StatusEntry>,
    pub summary: BTreeMap<&'static str, usize>,
}

#[derive(Serialize)]
pub struct StatusEntry {
    pub target: String,
    pub source: String,
    pub state: LinkState,
    pub detail: String,
    pub method: Method,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_count: Option<u64>,
}

pub fn status_json(plan: &Plan) -> StatusJson {
    let mut entries: Vec<StatusEntry> = plan
        .steps
        .iter()
        .map(|step| StatusEntry {
            target: step.target.to_string_lossy().into_owned(),
            source: step.source.to_string_lossy().into_owned(),
            state: step.state,
            detail: step.detail.clone(),
            method: step.method,
            link_count: step.link_count,
        })
        .collect();
    entries.sort_by(|a, b| a.target.cmp(&b.target));
    let summary = LinkState::ALL
        .iter()
        .map(|s| (s.word(), plan.count(*s)))
        .collect();
    StatusJson { entries, summary }
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
    /// create | relink | backup | overwrite | prune | skip | block | none
    pub kind: &'static str,
    pub target: String,
    pub source: String,
    /// The target's state word now.
    pub state: LinkState,
    pub reason: String,
    pub method: Method,
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
        Action::Replace {
            displace: Displace::Backup { .. },
        }
        | Action::Clear {
            displace: Displace::Backup { .. },
        } => "backup",
        Action::Replace {
            displace: Displace::Delete,
        }
        | Action::Clear { .. } => "overwrite",
        Action::Replace { .. } => "relink",
        Action::Remove { .. } => "prune",
        Action::Leave => "skip",
        Action::Block => "block",
    }
}

pub fn plan_json(plan: &Plan) -> PlanJson {
    let text = |p: &Path| p.to_string_lossy().into_owned();
    let actions: Vec<ActionJson> = plan
        .steps
        .iter()
        .map(|step| ActionJson {
            kind: action_kind(step),
            target: text(&step.target),
            source: text(&step.source),
            state: step.state,
            reason: step.detail.clone(),
            method: step.method,
            link: step
                .link
                .as_ref()
                .filter(|_| step.action.changes())
                .map(|l| text(&l.contents)),
            backup: match &step.action {
                Action::Replace {
                    displace: Displace::Backup { to },
                }
                | Action::Clear {
                    displace: Displace::Backup { to },
                } => Some(text(to)),
                _ => None,
            },
            mkdirs: match &step.action {
                Action::Create { mkdirs } => mkdirs.iter().map(|d| text(d)).collect(),
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
        notes: plan.notes.clone(),
    }
}

/// An error on stderr: the cause, then the hint.
pub fn print_error(error: &Error) {
    eprintln!("{} {}", "error:".red().bold(), error.message);
    if let Some(hint) = &error.hint {
        eprintln!("  {} {hint}", "hint:".cyan());
    }
}
