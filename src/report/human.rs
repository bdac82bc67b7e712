//! Human output: plans, run outcomes and status as people read them (one aligned, coloured
//! line per target and a one-line summary), notes, errors with their hints, and what each
//! command says when it is done.
//!
//! Paths are shortened the same way everywhere: targets as `~/…`, sources relative to the
//! repository.

use super::out::{self, out, outln};
use super::text;
use crate::apply::Outcome;
use crate::apply::recovery::{Recovered, Recovery};
use crate::apply::restore::{Refusal, Restored};
use crate::error::Error;
use crate::manifest::Method;
use crate::paths;
use crate::plan::adopt::Adoption;
use crate::plan::{Action, LinkState, Note, Plan, Step};
use crate::state::backup::BackupSet;
use colored::{ColoredString, Colorize};
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Which command a plan is for, as far as its words go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Apply,
    /// `unlink` removes links rather than pruning them, and says so.
    Unlink,
    /// `clean` removes dead links.
    Clean,
}

/// Prints for one plan.
pub struct Printer<'a> {
    plan: &'a Plan,
    pub verbosity: Verbosity,
    purpose: Purpose,
}

impl<'a> Printer<'a> {
    pub fn new(plan: &'a Plan, verbosity: Verbosity) -> Self {
        Printer {
            plan,
            verbosity,
            purpose: Purpose::Apply,
        }
    }

    /// A printer for `unlink`'s plan.
    pub fn unlinking(plan: &'a Plan, verbosity: Verbosity) -> Self {
        Printer {
            purpose: Purpose::Unlink,
            ..Printer::new(plan, verbosity)
        }
    }

    /// A printer for `clean`'s plan.
    pub fn cleaning(plan: &'a Plan, verbosity: Verbosity) -> Self {
        Printer {
            purpose: Purpose::Clean,
            ..Printer::new(plan, verbosity)
        }
    }

    fn target(&self, path: &Path) -> String {
        paths::display(path, &self.plan.home)
    }

    fn source(&self, path: &Path) -> String {
        match paths::below(path, &self.plan.repo) {
            Some(relative) => paths::escaped(relative.as_os_str()),
            None => paths::display(path, &self.plan.home),
        }
    }

    /// A step's target as a line shows it: a directory with its `/` (`~/.config/x/`).
    fn step_target(&self, step: &Step) -> String {
        let mut shown = self.target(&step.target);
        if step.action == Action::RemoveDir {
            shown.push('/');
        }
        shown
    }

    /// A step's source as a line shows it, with its package; none for a directory.
    fn step_source(&self, step: &Step) -> Option<String> {
        (step.action != Action::RemoveDir)
            .then(|| format!("{}{}", self.source(&step.source), package(step)))
    }

    fn width(&self, steps: &[&Step]) -> usize {
        steps
            .iter()
            .map(|s| self.step_target(s).chars().count())
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
        // Longer than a screen: each source directory's creates become one line.
        let collapsed = self.verbosity == Verbosity::Normal && shown.len() + 2 > screen_rows();
        let groups = if collapsed {
            self.create_groups(&shown)
        } else {
            std::collections::HashMap::new()
        };
        let width = self.width(&shown);
        let mut announced = HashSet::new();
        let mut out = out::stdout();
        let mut said = HashSet::new();
        for step in &shown {
            if let Some(group) = self.group_of(step).and_then(|key| groups.get(&key)) {
                if said.insert(group.top.clone()) {
                    let line = format!(
                        "{}/… {} links from {}/",
                        self.target(&group.top),
                        thousands(group.count),
                        group.source
                    );
                    let _ = writeln!(out, "  {} {line}", "+".green().bold());
                }
                continue;
            }
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

    /// The source directory (the first name below the repository) a create comes from, which
    /// a collapsed plan groups by.
    fn group_of(&self, step: &Step) -> Option<String> {
        if !matches!(step.action, Action::Create { .. }) {
            return None;
        }
        let rel = paths::below(&step.source, &self.plan.repo)?;
        let mut names = rel.iter();
        let first = names.next()?;
        names.next()?;
        Some(paths::escaped(first))
    }

    /// Creates grouped by source directory, where a group has more than one: the deepest
    /// directory holding all their targets, and how many.
    fn create_groups(&self, shown: &[&Step]) -> std::collections::HashMap<String, CreateGroup> {
        let mut groups: std::collections::HashMap<String, CreateGroup> = Default::default();
        for step in shown {
            let Some(key) = self.group_of(step) else {
                continue;
            };
            let parent = step.target.parent().unwrap_or(Path::new("/"));
            let group = groups.entry(key.clone()).or_insert_with(|| CreateGroup {
                top: parent.to_path_buf(),
                count: 0,
                source: key,
            });
            while !parent.starts_with(&group.top) {
                if !group.top.pop() {
                    break;
                }
            }
            group.count += 1;
        }
        groups.retain(|_, g| g.count > 1);
        groups
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
            (Action::Remove { .. } | Action::RemoveDir, _) => "-".red().bold(),
            (Action::Unfold { .. } | Action::Unfolded { .. }, _) => "~".yellow().bold(),
            (Action::Leave, LinkState::Conflict) => "!".yellow().bold(),
            (Action::Leave, _) => "·".dimmed(),
            (Action::Block, _) => "!".red().bold(),
        }
    }

    fn line(&self, step: &Step, width: usize) -> String {
        let target = self.step_target(step);
        let pad = width.saturating_sub(target.chars().count());
        let arrow = if step.method == Method::Hardlink {
            "⇒"
        } else {
            "→"
        };
        let mut line = format!("{target}{}", " ".repeat(pad));
        if let Some(source) = self.step_source(step) {
            line.push_str(&format!(" {arrow} {source}"));
        }
        let detail = self.detail(step);
        if !detail.is_empty() {
            line.push_str("  ");
            line.push_str(&detail.dimmed().to_string());
        }
        line
    }

    /// Why, and for conflicts, what the policy does about it.
    fn detail(&self, step: &Step) -> String {
        let reason = text::reason(step, self.plan);
        if step.state != LinkState::Conflict {
            return reason;
        }
        let resolution = match &step.action {
            action @ (Action::Replace { .. } | Action::Clear { .. }) => match action.backup() {
                Some(to) => format!("backup to {}", self.target(to)),
                None => "overwrite".to_string(),
            },
            Action::Leave => "skipped".to_string(),
            Action::Block if step.conflict().is_some_and(|c| !c.resolvable()) => {
                "cannot be resolved".to_string()
            }
            _ => format!("policy {}", step.policy),
        };
        format!("conflict: {reason} ({resolution})")
    }

    fn counts(&self) -> (usize, usize, usize, usize, usize, usize, usize) {
        let steps = &self.plan.steps;
        let unfold = steps
            .iter()
            .filter(|s| matches!(s.action, Action::Unfold { .. }))
            .count();
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
        let empty_dirs = steps
            .iter()
            .filter(|s| s.action == Action::RemoveDir)
            .count();
        let conflicts = self.plan.count(LinkState::Conflict);
        let ok = self.plan.count(LinkState::Ok);
        (create, relink, prune, empty_dirs, conflicts, ok, unfold)
    }

    fn plan_summary(&self) -> String {
        let (create, relink, prune, empty_dirs, conflicts, ok, unfold) = self.counts();
        let mut parts = Vec::new();
        push_count(
            &mut parts,
            unfold,
            "folded directory to unfold",
            "folded directories to unfold",
        );
        push_count(&mut parts, create, "to create", "to create");
        push_count(&mut parts, relink, "to relink", "to relink");
        let remove = if self.purpose == Purpose::Apply {
            "to prune"
        } else {
            "to remove"
        };
        push_count(&mut parts, prune, remove, remove);
        push_count(
            &mut parts,
            empty_dirs,
            "empty directory to remove",
            "empty directories to remove",
        );
        push_count(&mut parts, conflicts, "conflict", "conflicts");
        let up_to_date = plural(ok, "link up to date", "links up to date");
        let blocked = self.plan.steps.iter().any(|s| s.action == Action::Block);
        if self.purpose == Purpose::Clean && prune == 0 {
            format!(
                "{} no dead links into the repository.",
                "Nothing to do:".green().bold()
            )
        } else if self.plan.changes().count() == 0 && !blocked {
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
            print_error(&error.clone().context(self.target(&step.target)));
        }
        for (index, error) in &outcome.late_errors {
            let step = &self.plan.steps[*index];
            print_warning(&format!(
                "{} (the step is done all the same)",
                error.clone().context(self.target(&step.target))
            ));
        }
        for left in &outcome.left {
            print_note(&text::recovered(left, &self.plan.home));
        }
        if self.verbosity != Verbosity::Quiet {
            for backed_up in &outcome.backups {
                outln!(
                    "{} {} → {}",
                    "backed up".cyan(),
                    self.target(&backed_up.target),
                    self.target(&backed_up.backup)
                );
            }
        }
        let counts = outcome.counts(self.plan);
        let mut parts = Vec::new();
        push_count(&mut parts, counts.unfolded, "unfolded", "unfolded");
        push_count(&mut parts, counts.created, "created", "created");
        push_count(&mut parts, counts.relinked, "relinked", "relinked");
        let removed = if self.purpose == Purpose::Apply {
            "pruned"
        } else {
            "removed"
        };
        push_count(&mut parts, counts.pruned, removed, removed);
        push_count(
            &mut parts,
            counts.emptied_dirs,
            "empty directory removed",
            "empty directories removed",
        );
        push_count(&mut parts, counts.backed_up, "backed up", "backed up");
        push_count(&mut parts, counts.overwritten, "overwritten", "overwritten");
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
            let done = match self.purpose {
                Purpose::Apply => "Applied:",
                Purpose::Unlink => "Unlinked:",
                Purpose::Clean => "Cleaned:",
            };
            outln!("{} {}.", done.bold(), parts.join(", "));
        }
    }

    /// `status`: one line per target with its state word.
    /// `status`: the targets that need attention (every target with `--verbose`), one line
    /// each with its state word, then the counts; one line when everything is up to date.
    pub fn status(&self) {
        self.notes(&self.plan.notes);
        let verbose = self.verbosity == Verbosity::Verbose;
        // Quiet: conflicts only, as -q promises ("only errors and conflicts").
        let mut by_target: Vec<&Step> = self
            .plan
            .steps
            .iter()
            .filter(|s| match self.verbosity {
                Verbosity::Verbose => true,
                Verbosity::Quiet => s.state == LinkState::Conflict,
                Verbosity::Normal => !matches!(s.state, LinkState::Ok | LinkState::Skipped),
            })
            .collect();
        let width = self.width(&by_target);
        by_target.sort_by(|a, b| a.target.as_os_str().cmp(b.target.as_os_str()));
        let mut out = out::stdout();
        for step in by_target {
            let word = format!("{:<9}", step.state.word());
            let target = self.step_target(step);
            let pad = width.saturating_sub(target.chars().count());
            let word = state_colour(step.state, &word);
            let mut line = format!("{word} {target}{}", " ".repeat(pad));
            if let Some(source) = self.step_source(step) {
                line.push_str(&format!("  {source}"));
            }
            let detail = self.status_detail(step);
            if !detail.is_empty() {
                line.push_str("  ");
                line.push_str(&detail.dimmed().to_string());
            }
            let _ = writeln!(out, "{line}");
        }
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let mut parts = Vec::new();
        for state in LinkState::ALL {
            let n = self.plan.count(state);
            if n > 0 {
                parts.push(format!(
                    "{} {}",
                    thousands(n),
                    state_colour(state, state.word())
                ));
            }
        }
        let ok = self.plan.count(LinkState::Ok);
        if parts.is_empty() {
            let _ = writeln!(out, "No links declared.");
        } else if self.plan.all_ok() && !verbose {
            let skipped = match self.plan.count(LinkState::Skipped) {
                0 => String::new(),
                n => format!(" ({} not for this machine)", thousands(n)),
            };
            let links = if ok == 1 { "link" } else { "links" };
            let _ = writeln!(out, "{} {links} up to date{skipped}", thousands(ok).green());
        } else {
            let _ = writeln!(out, "{}", parts.join(", "));
        }
    }

    fn status_detail(&self, step: &Step) -> String {
        text::reason_without_verb(step, self.plan)
    }

    fn notes(&self, notes: &[Note]) {
        print_notes(notes, &self.plan.home);
    }
}

/// Notes on stderr: things worth knowing that are not errors.
pub fn print_notes(notes: &[Note], home: &Path) {
    for note in notes {
        print_note(&text::note(note, home));
    }
}

fn print_note(note: &str) {
    let note = paths::escape_text(note);
    out::to_stderr(&format!("{} {note}\n", "note:".yellow().bold()));
}

/// What undoing a run at once left for the user to look at, as notes.
pub fn print_left(actions: &[Recovered], home: &Path) {
    for action in actions.iter().filter(|a| a.leaves_something()) {
        print_note(&text::recovered(action, home));
    }
}

/// What recovery from an interrupted run did, before anything else is printed.
pub fn print_recovery(recovery: &Recovery, home: &Path) {
    out::to_stderr(&format!(
        "{} found an interrupted run (started {}); recovered it:\n",
        "note:".yellow().bold(),
        recovery.started.as_deref().unwrap_or("unknown")
    ));
    for action in &recovery.actions {
        out::to_stderr(&format!("  - {}\n", text::recovered(action, home)));
    }
}

fn state_colour(state: LinkState, text: &str) -> ColoredString {
    match state {
        LinkState::Ok => text.green(),
        LinkState::Missing | LinkState::Wrong | LinkState::Diverged | LinkState::Folded => {
            text.yellow()
        }
        LinkState::Conflict | LinkState::Dangling => text.red(),
        LinkState::Orphan => text.cyan(),
        LinkState::Skipped => text.dimmed(),
    }
}

/// Creates from one source directory, shown as one line in a long plan.
struct CreateGroup {
    top: std::path::PathBuf,
    count: usize,
    source: String,
}

/// How many lines the terminal shows: its height when stdout is one, else `$LINES`, else 40.
fn screen_rows() -> usize {
    // SAFETY: TIOCGWINSZ fills a winsize; the descriptor is stdout's.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if got && size.ws_row > 0 {
        return usize::from(size.ws_row);
    }
    std::env::var("LINES")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(40)
}

/// `10,000`: a count as people read it.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// ` [nvim]`: the package a line comes from, when it comes from one.
fn package(step: &Step) -> String {
    match &step.package {
        Some(name) => format!(" [{}]", paths::escape_text(name))
            .dimmed()
            .to_string(),
        None => String::new(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

fn push_count(parts: &mut Vec<String>, n: usize, one: &str, many: &str) {
    if n > 0 {
        parts.push(plural(n, one, many));
    }
}

/// An error on stderr: the cause, then the hint.
pub fn print_error(error: &Error) {
    let text = paths::escape_text(&error.to_string());
    match &error.snippet {
        Some(snippet) => out::to_stderr(&render_snippet(&text, snippet)),
        None => out::to_stderr(&format!("{} {text}\n", "error:".red().bold())),
    }
    if let Some(hint) = &error.hint {
        let hint = paths::escape_text(hint);
        out::to_stderr(&format!("  {} {hint}\n", "hint:".cyan()));
    }
}

/// The error with the line at fault under it, as cargo shows it (annotate-snippets, which cargo
/// uses): the message, then `--> file:line:column`, the line, and a caret under the span.
fn render_snippet(message: &str, snippet: &crate::error::Snippet) -> String {
    use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
    // A tab is one column, as the position in the message counts it.
    let line = snippet.text.replace('\t', " ");
    let text = paths::escape_text(&line);
    // Escaping may lengthen the line before the span; keep the span on what it marked.
    let shift = |at: usize| paths::escape_text(&line[..at.min(line.len())]).len();
    let span =
        shift(snippet.span.start)..shift(snippet.span.end).max(shift(snippet.span.start) + 1);
    let span = span.start.min(text.len())..span.end.min(text.len().max(span.start));
    let report = &[Level::ERROR.primary_title(message).element(
        Snippet::source(&text)
            .line_start(snippet.line)
            .path(&snippet.path)
            .annotation(AnnotationKind::Primary.span(span).label(&snippet.label)),
    )];
    let renderer = if colored::control::SHOULD_COLORIZE.should_colorize() {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    format!("{}\n", renderer.render(report))
}

/// A plan halted by conflicts under `fail`: nothing was changed. The hint offers a policy
/// only for conflicts a policy resolves.
pub fn print_halted(plan: &Plan) {
    let n = plan.count(LinkState::Conflict);
    let unresolvable = plan
        .steps
        .iter()
        .filter(|s| s.conflict().is_some_and(|c| !c.resolvable()))
        .count();
    let hint = match unresolvable {
        0 => "move what is in the way, or choose a policy: --on-conflict backup (keeps a copy), skip, or overwrite".to_string(),
        u if u == n => "no policy resolves these; each line above says what to do".to_string(),
        u => format!(
            "{u} of them no policy resolves (each line says what to do); for the others, move what is in the way or choose a policy: --on-conflict backup (keeps a copy), skip, or overwrite"
        ),
    };
    print_error(
        &Error::failure(format!(
            "{n} conflict{}; nothing was changed (policy `fail`)",
            if n == 1 { "" } else { "s" }
        ))
        .with_hint(hint),
    );
}

/// The last line of a dry run.
pub fn print_dry_run(verbosity: Verbosity) {
    if verbosity != Verbosity::Quiet {
        outln!("{}", "Dry run: nothing was changed.".dimmed());
    }
}

/// What `adopt` moves, one line each.
pub fn print_adoptions<'a>(
    adoptions: impl IntoIterator<Item = &'a Adoption>,
    home: &Path,
    verbosity: Verbosity,
) {
    if verbosity == Verbosity::Quiet {
        return;
    }
    for a in adoptions {
        outln!(
            "  {} {} → {}  {}",
            "+".green().bold(),
            paths::display(&a.from, home),
            paths::escape_text(&a.source),
            "(moved into the repository, linked back, added to the manifest)".dimmed()
        );
    }
}

/// `adopt` is done.
pub fn print_adopted(count: usize, manifest: &Path, home: &Path, verbosity: Verbosity) {
    if verbosity != Verbosity::Quiet {
        outln!(
            "{} {count} (entries added to {}).",
            "Adopted:".bold(),
            paths::display(manifest, home)
        );
    }
}

/// `restore --list`: one line per set that still holds something.
pub fn print_backup_sets(sets: &[BackupSet], backup_dir: &Path, home: &Path) {
    for set in sets.iter().filter(|s| s.unindexed) {
        print_warning(&format!(
            "backup set {} holds files, but its index {} is missing or damaged, so `restore` \
             cannot put them back: they are in {}, each at its path below the home",
            set.name,
            paths::display(&crate::state::backup::index_path(&set.dir), home),
            paths::display(&set.dir, home)
        ));
    }
    if sets.iter().all(|s| s.entries.is_empty()) {
        outln!("No backups in {}.", paths::display(backup_dir, home));
    }
    for set in sets.iter().filter(|s| !s.entries.is_empty()) {
        let targets: Vec<String> = set
            .entries
            .iter()
            .map(|b| paths::display(&b.target, home))
            .collect();
        outln!(
            "{}  {:>3} {}  {}",
            set.name.bold(),
            set.entries.len(),
            if set.entries.len() == 1 {
                "item "
            } else {
                "items"
            },
            targets.join(", ")
        );
    }
}

/// What `restore` put back, left alone and failed on, and the summary.
pub fn print_restored(
    result: &Restored,
    set: &BackupSet,
    dry_run: bool,
    home: &Path,
    verbosity: Verbosity,
) {
    let show = |p: &Path| paths::display(p, home);
    if verbosity != Verbosity::Quiet {
        for entry in &result.restored {
            let (target, backup) = (show(&entry.target), show(&entry.backup));
            outln!("  {} {target} ← {backup}", "<".cyan().bold());
        }
    }
    for (entry, why) in &result.refused {
        let (target, backup) = (show(&entry.target), show(&entry.backup));
        let (what, hint) = match why {
            Refusal::Changed => (
                "has changed since the backup (it is not dotlink's link any more)",
                "move your version away first if you want the backup back",
            ),
            Refusal::InRepository => (
                "is in the repository (a directory on its way is a link or a bind mount into it), and nothing \
                 there is dotlink's to replace",
                "remove the directory link (`dotlink unlink` or `rm`) first if you want the \
                 backup back in the home",
            ),
            Refusal::OutsideSet => (
                "is not put back: the set's index names a backup outside the set",
                "the index was edited; put back by hand what you want from it",
            ),
            Refusal::OwnDirectory => (
                "is a directory dotlink made for links below it (what was there was moved out \
                 of its way)",
                "run `dotlink unlink` first (it removes those links and the directory), then \
                 `dotlink restore`",
            ),
            Refusal::OnlyCopy => (
                "is the only copy of what it holds (its hard link to the source was broken, by \
                 a git checkout or an editor's save)",
                "move your version away first if you want the backup back",
            ),
        };
        print_error(
            &Error::failure(format!(
                "{target} {what}; left it, and its backup at {backup}"
            ))
            .with_hint(hint),
        );
    }
    for (entry, error) in &result.failed {
        print_error(&error.clone().context(show(&entry.target)));
    }
    for (entry, error) in &result.late_errors {
        print_warning(&format!(
            "{} (it is put back all the same)",
            error.clone().context(show(&entry.target))
        ));
    }
    if verbosity != Verbosity::Quiet {
        let verb = if dry_run { "Would restore" } else { "Restored" };
        outln!(
            "{} {} of {} from {}.",
            format!("{verb}:").bold(),
            result.restored.len(),
            set.entries.len(),
            set.name
        );
        print_dry_run_if(dry_run);
    }
}

fn print_dry_run_if(dry_run: bool) {
    if dry_run {
        outln!("{}", "Dry run: nothing was changed.".dimmed());
    }
}

/// Targets `restore` put back that the manifest still declares.
pub fn print_still_declared(targets: &[&Path], home: &Path) {
    if targets.is_empty() {
        return;
    }
    let shown: Vec<String> = targets.iter().map(|t| paths::display(t, home)).collect();
    print_note(&format!(
        "the manifest still declares {}; `dotlink apply` will see a conflict there until you remove the entry",
        shown.join(", ")
    ));
}

/// `init` wrote a starter manifest.
pub fn print_initialised(path: &Path) {
    outln!(
        "Created {}: add [[link]] entries (the comments show how), then run `dotlink plan`.",
        paths::escaped(path.as_os_str())
    );
}

/// Bytes a command produced whole (a completion script, the man page), as they are.
pub fn print_bytes(bytes: &[u8]) {
    let _ = out::stdout().write_all(bytes);
}

/// A warning on stderr: something probably wrong that stops nothing.
pub fn print_warning(text: &str) {
    let text = paths::escape_text(text);
    out::to_stderr(&format!("{} {text}\n", "warning:".yellow().bold()));
}

/// What an importer could not carry over, one warning per line with its file and line.
pub fn print_import_warnings(warnings: &[crate::import::Warning]) {
    for w in warnings {
        let at = if w.line > 0 {
            format!("{}:{}", w.file.display(), w.line)
        } else {
            w.file.display().to_string()
        };
        print_warning(&format!("{at}: {}", w.message));
    }
}

/// A manifest printed whole (`import --stdout`).
pub fn print_manifest_text(text: &str) {
    out!("{text}");
}

/// Where an imported manifest was written, and what to run next.
pub fn print_imported(imported: &crate::import::Imported, verbosity: Verbosity) {
    if verbosity == Verbosity::Quiet {
        return;
    }
    outln!(
        "Wrote {}{}.",
        imported.repo.join(crate::manifest::FILE_NAME).display(),
        match imported.warnings.len() {
            0 => String::new(),
            1 => " (1 thing not carried over, kept as a comment)".to_string(),
            n => format!(" ({n} things not carried over, kept as comments)"),
        }
    );
    outln!(
        "Next: `dotlink plan` shows what `dotlink apply` would change (a home that tool deployed needs nothing)."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_in_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(10000), "10,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}

/// What stands at a target against its source, for `diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// A unified diff, from what is in the way to the source.
    Text(String),
    Same,
    Binary,
    Symlink(std::path::PathBuf),
    Directory {
        entries: usize,
    },
    SourceIsDirectory,
    Special,
    Unreadable(String),
}

/// One target's difference: a `---`/`+++` header (what is in the way, then the source), then
/// the hunks, coloured.
pub fn print_difference(target: &Path, source: &Path, difference: &Difference, plan: &Plan) {
    let mut out = out::stdout();
    let target_text = paths::display(target, &plan.home);
    let source_text = match paths::below(source, &plan.repo) {
        Some(rel) => paths::escaped(rel.as_os_str()),
        None => paths::display(source, &plan.home),
    };
    let _ = writeln!(
        out,
        "{}",
        format!("--- {target_text} (in the way)").red().bold()
    );
    let _ = writeln!(
        out,
        "{}",
        format!("+++ {source_text} (in the repository)")
            .green()
            .bold()
    );
    let said = match difference {
        Difference::Text(text) => {
            for line in text.lines() {
                let line = paths::escape_text(line);
                let coloured = if line.starts_with("@@") {
                    line.cyan().to_string()
                } else if line.starts_with('+') {
                    line.green().to_string()
                } else if line.starts_with('-') {
                    line.red().to_string()
                } else {
                    line
                };
                let _ = writeln!(out, "{coloured}");
            }
            return;
        }
        Difference::Same => "same contents (a separate copy, not a link)".to_string(),
        Difference::Binary => "binary files differ".to_string(),
        Difference::Symlink(to) => format!(
            "a symlink to {}, not a file: nothing to compare",
            paths::escaped(to.as_os_str())
        ),
        Difference::Directory { entries } => format!(
            "a directory with {entries} entr{} is in the way: nothing to compare",
            if *entries == 1 { "y" } else { "ies" }
        ),
        Difference::SourceIsDirectory => {
            "the source is a directory and a file is in the way: nothing to compare".to_string()
        }
        Difference::Special => "a special file is in the way: nothing to compare".to_string(),
        Difference::Unreadable(why) => format!("cannot compare: {why}"),
    };
    let _ = writeln!(out, "{}", said.dimmed());
}

/// What `hook install` or `uninstall` did to one hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookChange {
    Installed(std::path::PathBuf),
    Removed(std::path::PathBuf),
    /// A hook dotlink did not write is there: install leaves it.
    NotOurs(std::path::PathBuf),
    /// A hook dotlink did not write: uninstall leaves it.
    LeftAlone(std::path::PathBuf),
}

/// One line per hook; for a hook that is not dotlink's, how to chain dotlink from it.
pub fn print_hook_changes(changes: &[HookChange], line: &str) {
    for change in changes {
        match change {
            HookChange::Installed(p) => {
                outln!("{} {}", "installed".green(), paths::escaped(p.as_os_str()))
            }
            HookChange::Removed(p) => {
                outln!("{} {}", "removed".red(), paths::escaped(p.as_os_str()))
            }
            HookChange::LeftAlone(p) => outln!(
                "{} {} (not dotlink's)",
                "left".dimmed(),
                paths::escaped(p.as_os_str())
            ),
            HookChange::NotOurs(p) => print_error(
                &Error::failure(format!(
                    "{} exists and dotlink did not write it; left as it is",
                    p.display()
                ))
                .with_hint(format!("to chain dotlink, add this line to it: {line}")),
            ),
        }
    }
    if changes.is_empty() {
        outln!("No dotlink hooks to remove.");
    }
}

/// One check of `doctor`.
#[derive(Debug, Clone)]
pub struct Check {
    pub ok: bool,
    pub what: &'static str,
    pub detail: String,
    pub hint: Option<String>,
}

impl Check {
    pub fn ok(what: &'static str, detail: String) -> Check {
        Check {
            ok: true,
            what,
            detail,
            hint: None,
        }
    }

    pub fn fail(what: &'static str, detail: String, hint: Option<String>) -> Check {
        Check {
            ok: false,
            what,
            detail,
            hint,
        }
    }
}

/// `doctor`'s checks, one line each (with a hint under a failed one), then the verdict.
pub fn print_checks(checks: &[Check]) {
    let mut out = out::stdout();
    for check in checks {
        let mark = if check.ok {
            "ok  ".green()
        } else {
            "FAIL".red().bold()
        };
        let _ = writeln!(
            out,
            "{mark} {:<16} {}",
            check.what,
            paths::escape_text(&check.detail)
        );
        if let Some(hint) = &check.hint {
            let _ = writeln!(out, "     {} {}", "hint:".cyan(), paths::escape_text(hint));
        }
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    let _ = match failed {
        0 => writeln!(out, "{}", "Healthy.".green().bold()),
        n => writeln!(
            out,
            "{} {n} check{} failed.",
            "Unhealthy:".red().bold(),
            if n == 1 { "" } else { "s" }
        ),
    };
}

/// The files a command wrote, one per line.
pub fn print_written(paths: &[std::path::PathBuf]) {
    for path in paths {
        outln!("{} {}", "wrote".green(), paths::escaped(path.as_os_str()));
    }
}
