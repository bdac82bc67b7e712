//! The words for the plan's values: why a step is what it is, what is in the way, notes, and
//! what recovery did. Human output and both JSON outputs use these, so a reason reads the
//! same everywhere.

use crate::apply::recovery::Recovered;
use crate::paths;
use crate::plan::{Conflict, Forgotten, NotADirectory, Note, OrphanFate, Plan, Reason, Step};
use crate::state::StateFileProblem;
use std::path::Path;

/// A step's reason as plan and JSON show it: `relink: …` or `prune: …` when the reason is a
/// replacement or a prune, then why, then the hard link's link count.
pub fn reason(step: &Step, plan: &Plan) -> String {
    let (verb, why) = reason_parts(step, plan);
    match verb {
        Some(verb) => format!("{verb}: {why}"),
        None => why,
    }
}

/// The same without the `relink:` or `prune:` in front, as `status` shows it (the state word
/// already says it).
pub fn reason_without_verb(step: &Step, plan: &Plan) -> String {
    reason_parts(step, plan).1
}

fn reason_parts(step: &Step, plan: &Plan) -> (Option<&'static str>, String) {
    let show = |p: &Path| paths::display(p, &plan.home);
    let relink = Some("relink");
    let (verb, mut why) = match &step.reason {
        Reason::Plain => (None, String::new()),
        Reason::SharesInode => (None, "hard link".to_string()),
        Reason::Respell {
            stored_absolute,
            style,
        } => {
            let spelled = if *stored_absolute {
                "absolute"
            } else {
                "relative"
            };
            (relink, format!("spelled {spelled}, style is {style}"))
        }
        Reason::SourceMissing { line, column } => (
            None,
            format!(
                "its source {} was deleted or moved ({}:{line}:{column})",
                paths::escaped(step.source.as_os_str()),
                paths::escaped(plan.manifest.as_os_str())
            ),
        ),
        Reason::PointsToMissing { points_to } => (
            relink,
            format!("points to {}, which no longer exists", show(points_to)),
        ),
        Reason::PointsElsewhere { points_to } => {
            (relink, format!("points to {}", show(points_to)))
        }
        Reason::HardLinkToSource => (
            relink,
            "a hard link to the source; method is symlink".to_string(),
        ),
        Reason::HardLinkElsewhere { to } => {
            (relink, format!("a hard link dotlink made to {}", show(to)))
        }
        Reason::SymlinkToSource => (
            relink,
            "a symlink to the source; method is hardlink".to_string(),
        ),
        Reason::OwnDirectory => (
            relink,
            "replaces a directory dotlink made that holds only its own old links".to_string(),
        ),
        Reason::SeparateCopy => (
            relink,
            "a separate copy with the same contents (an editor saved by replacing the file)"
                .to_string(),
        ),
        Reason::InTheWay => (
            None,
            step.conflict()
                .map(|c| conflict(c, &plan.home))
                .unwrap_or_default(),
        ),
        Reason::OldCopyOfSource => (
            None,
            "the source was replaced since dotlink linked it (a git checkout or an editor's save), so this is the old copy".to_string(),
        ),
        Reason::EditedCopy => (
            None,
            "a regular file with different contents is in the way (edited after it stopped being a hard link?)".to_string(),
        ),
        Reason::Orphan { source_gone, fate } => orphan(step, *source_gone, *fate),
        Reason::EmptyDirectory => (
            Some("prune"),
            "an empty directory dotlink made; nothing declared is in it".to_string(),
        ),
        Reason::NotOnThisMachine { why } => (None, format!("not on this machine: {why}")),
        Reason::DeadLink => (
            None,
            "a dead link into the repository that dotlink did not make".to_string(),
        ),
        Reason::Folded { link } => (
            Some("unfold"),
            format!(
                "below {}, a folded directory link, as GNU Stow makes",
                show(link)
            ),
        ),
        Reason::FoldedLink { links, hidden } => (
            Some("unfold"),
            format!(
                "a folded directory link, as GNU Stow makes; becomes a directory of {links} link{}{}",
                if *links == 1 { "" } else { "s" },
                no_longer_reachable(hidden, plan)
            ),
        ),
    };
    if let Some(count) = step.link_count {
        why.push_str(&format!(" (link count {count})"));
    }
    (verb, why)
}

/// `; 2 files no entry declares will no longer be reachable from the home: a, b`.
fn no_longer_reachable(hidden: &[std::path::PathBuf], plan: &Plan) -> String {
    if hidden.is_empty() {
        return String::new();
    }
    let names: Vec<String> = hidden
        .iter()
        .take(3)
        .map(|p| {
            let shown = paths::below(p, &plan.repo).unwrap_or(p);
            paths::escaped(shown.as_os_str())
        })
        .collect();
    let more = match hidden.len() {
        n if n > 3 => format!(" and {} more", n - 3),
        _ => String::new(),
    };
    format!(
        "; {} file{} it shows that no entry declares (ignored) will no longer be reachable from the home: {}{more}",
        hidden.len(),
        if hidden.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

fn orphan(step: &Step, source_gone: bool, fate: OrphanFate) -> (Option<&'static str>, String) {
    let why = if source_gone {
        format!(
            "its source {} was deleted or moved",
            paths::escaped(step.source.as_os_str())
        )
    } else {
        "no longer declared in the manifest".to_string()
    };
    match fate {
        OrphanFate::Pruned => (Some("prune"), why),
        OrphanFate::Kept => (None, format!("{why} (kept: pruning is off)")),
        OrphanFate::MakesRoom => (
            None,
            format!("{why} (kept: pruning is off); removed to make room for a declared link"),
        ),
        OrphanFate::Unlinked if source_gone => (
            None,
            format!(
                "its source {} is gone",
                paths::escaped(step.source.as_os_str())
            ),
        ),
        OrphanFate::Unlinked => (None, String::new()),
    }
}

/// What is in the way, in words.
pub fn conflict(conflict: &Conflict, home: &Path) -> String {
    let show = |p: &Path| paths::display(p, home);
    match conflict {
        Conflict::RegularFile => "a regular file is in the way".into(),
        Conflict::Directory => "a directory is in the way".into(),
        Conflict::ForeignSymlink { points_to } => format!(
            "a symlink dotlink did not make is in the way (→ {})",
            paths::escaped(points_to.as_os_str())
        ),
        Conflict::Special => "a special file (fifo, socket or device) is in the way".into(),
        Conflict::InsideRepository { link, resolves_to } => format!(
            "{} is a link into the repository ({}); writing here would write inside the repository, so no policy touches it — remove that link (it is only a link) or declare it as a directory link",
            show(link),
            show(resolves_to)
        ),
        Conflict::ParentNotDirectory { at, why, clearable } => format!(
            "{} {}, but a directory is needed there{}",
            show(at),
            not_a_directory(why),
            if *clearable {
                ""
            } else {
                "; no policy clears it, so move it away first"
            }
        ),
        Conflict::AnotherName { of } => format!(
            "what is here is, or lies in, {} under another name (a bind mount, say); no policy replaces it",
            show(of)
        ),
        Conflict::PathTooLong => {
            "cannot be read: the path is longer than this system allows (File name too long)".into()
        }
        Conflict::Unreadable { error } => format!("cannot be read: {error}"),
    }
}

fn not_a_directory(why: &NotADirectory) -> String {
    match why {
        NotADirectory::File => "is a file, not a directory".into(),
        NotADirectory::SymlinkToNonDirectory { points_to } => format!(
            "is a symlink to {}, which is not a directory",
            paths::escaped(points_to.as_os_str())
        ),
        NotADirectory::DanglingSymlink => "is a dangling symlink or a symlink loop".into(),
        NotADirectory::Unreadable { error } => format!("cannot be read: {error}"),
    }
}

/// A note, in words.
pub fn note(note: &Note, home: &Path) -> String {
    match note {
        Note::Forgot { target, why } => {
            let why = match why {
                Forgotten::Gone => "it is gone",
                Forgotten::Changed => "it was changed since dotlink made it, so it is left alone",
                Forgotten::InRepository => {
                    "it now lies inside the repository, so what is there is the repository's; it is left alone"
                }
                Forgotten::OnlyCopy => {
                    "its source is gone or replaced, so this hard link holds the only copy; it is left alone"
                }
                Forgotten::HoldsTheHome => {
                    "it is the home directory, or holds it, which is never dotlink's; it is left alone"
                }
                Forgotten::LeadsElsewhere => {
                    "a directory on its way is now a symlink, and from there the link leads elsewhere, so it cannot be told from a link dotlink did not make; it is left alone"
                }
            };
            // Said the same by a run that drops the record and by one that only looks.
            format!(
                "{} is no longer dotlink's: {why}",
                paths::display(target, home)
            )
        }
        Note::StateFile(problem) => state_file_problem(problem),
        Note::JournalPending => {
            "an interrupted run left a journal; the next `dotlink apply` recovers it".into()
        }
        Note::DeadLinks { count } => format!(
            "{count} dead link{} into the repository that dotlink did not make (left by Stow, dotbot or an older layout); `dotlink clean` removes {}",
            if *count == 1 { "" } else { "s" },
            if *count == 1 { "it" } else { "them" }
        ),
        Note::RepositoryMoved { from, to } => format!(
            "the repository moved from {} to {}; `dotlink apply` relinks the links dotlink made from there",
            paths::display(from, home),
            paths::display(to, home)
        ),
    }
}

fn state_file_problem(problem: &StateFileProblem) -> String {
    match problem {
        StateFileProblem::Unreadable { path, error } => format!(
            "state file {} cannot be read ({error}); continuing without it, so nothing recorded there will be pruned",
            paths::escaped(path.as_os_str())
        ),
        StateFileProblem::OtherVersion { path, version } => format!(
            "state file {} has version {version} (this dotlink writes {}); starting a fresh one",
            paths::escaped(path.as_os_str()),
            crate::state::VERSION
        ),
        StateFileProblem::Damaged { path, error } => format!(
            "state file {} is damaged ({error}); starting a fresh one, so nothing recorded there will be pruned",
            paths::escaped(path.as_os_str())
        ),
    }
}

/// One thing recovery did, in words.
pub fn recovered(action: &Recovered, home: &Path) -> String {
    let show = |p: &Path| paths::display(p, home);
    match action {
        Recovered::DiscardedDamagedJournal => {
            "discarded a damaged journal; `dotlink status` shows where things stand".into()
        }
        Recovered::RemovedPartialBackup { partial } => {
            format!("removed the incomplete backup copy {}", show(partial))
        }
        Recovered::FinishedBackup { target, to } => format!(
            "finished moving what {} held to its backup {}",
            show(target),
            show(to)
        ),
        Recovered::FinishedRemoval { target } => format!(
            "finished removing what {} held (overwritten as asked; its link is in place)",
            show(target)
        ),
        Recovered::UnfinishedRemoval { target, temp, why } => format!(
            "could not remove {}, left over for {} by a stopped run ({why}); nothing in it is \
             needed (what it held is whole where it belongs, or was overwritten as asked): \
             remove it yourself",
            show(temp),
            show(target)
        ),
        Recovered::LeftAtTemporaryName { target, temp } => format!(
            "left {} (found at the temporary name of {}, and not dotlink's); check it and remove it",
            show(temp),
            show(target)
        ),
        Recovered::RemovedTemporaryLink { temp } => {
            format!("removed the leftover temporary link {}", show(temp))
        }
        Recovered::RemovedUnfinishedUnfold { target } => format!(
            "removed the unfinished unfold of {} (it is still the folded directory link)",
            show(target)
        ),
        Recovered::PutBack { target } => format!(
            "put {} back from its backup (the run stopped before linking it)",
            show(target)
        ),
        Recovered::SwappedBack { target } => format!(
            "put back what {} held (the step stopped before its link was in place)",
            show(target)
        ),
        Recovered::ReturnedToBackup { target, backup } => format!(
            "returned the backup of {} to {} (the restore stopped before putting it back)",
            show(target),
            show(backup)
        ),
        Recovered::LeftBoth { target, copy } => format!(
            "left both {} and what is at its backup place {} (a copy of it, or something put there since)",
            show(target),
            show(copy)
        ),
        Recovered::Recorded { target } => {
            format!("recorded {}, linked before the stop", show(target))
        }
        Recovered::MovedBack { target, from } => format!(
            "moved {} back from {} (the adopt stopped before linking it)",
            show(target),
            show(from)
        ),
        Recovered::LeftInRepository { target, at } => format!(
            "both {} and {} exist (the adopt stopped after moving or copying it, and {} was \
             made anew since; or {} came from elsewhere): left both, and {} is not declared; \
             keep the one you want",
            show(target),
            show(at),
            show(target),
            show(at),
            show(at)
        ),
        Recovered::SameInRepository { target, at } => format!(
            "both {} and {} exist, with the same contents (the adopt stopped after copying it \
             to the repository's filesystem, or it came from elsewhere): left both, and {} is \
             not declared; remove it if you do not want it in the repository",
            show(target),
            show(at),
            show(at)
        ),
        Recovered::OneFileBothNames { target, at } => format!(
            "{} is {} itself (a symlink on its way leads there): left as it is, and not declared",
            show(target),
            show(at)
        ),
        Recovered::NowhereToBeFound { target, at } => format!(
            "neither {} nor {}, where the adopt had moved it, exists: look for it where the \
             repository was (moved, or not mounted), and move it back yourself",
            show(target),
            show(at)
        ),
        Recovered::AdoptMovedNothing => {
            "an adopt stopped before it moved anything: nothing to undo".to_string()
        }
        Recovered::ManifestRestored { manifest } => format!(
            "put the text of {} back as it was before the adopt",
            show(manifest)
        ),
        Recovered::ManifestEditedSince { manifest } => format!(
            "left {} as it is (edited since the adopt stopped): if it declares what the adopt \
             was adding, remove those entries yourself",
            show(manifest)
        ),
    }
}
