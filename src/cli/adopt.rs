//! `adopt`: move files from the home directory into the repository, declare them, and link
//! them back with the ordinary planner and applier.

use super::args::{AdoptArgs, Cli};
use super::{Verdict, load};
use crate::apply;
use crate::apply::recovery::Recovered;
use crate::error::{Error, Result};
use crate::manifest::{self, Policy, Sources};
use crate::paths;
use crate::plan::adopt::Adoption;
use crate::plan::{self, Options};
use crate::report::{self, Printer, Verbosity};
use std::path::Path;

pub(super) fn run(cli: &Cli, args: &AdoptArgs, verbosity: Verbosity) -> Result<Verdict> {
    let mut loaded = load(cli, Sources::Require)?;
    // A dry run too, before it says anything of the state or the paths: it never plans.
    match args.dry_run {
        true => loaded.check_own_dirs()?,
        false => loaded.check_before_writing()?,
    }
    let mut open = loaded.open_state(!args.dry_run)?;
    let home = &loaded.ctx.home;
    report::print_notes(&open.notes, home);
    let adoptions = plan::adopt::prepare(
        &args.paths,
        args.place.as_deref(),
        &loaded.manifest,
        &loaded.specs,
        &open.state,
        &loaded.ctx,
    )?;
    for adoption in &adoptions {
        for (link, moved) in adoption.links_leading_out() {
            report::print_warning(&format!(
                "{} leads out of {} by a relative path: in the repository it leads to {}",
                paths::display(&link, home),
                paths::display(&adoption.from, home),
                paths::display(&moved, home)
            ));
        }
    }
    if args.dry_run {
        report::print_adoptions(&adoptions, home, verbosity);
        report::print_dry_run(verbosity);
        return Ok(Verdict::Done);
    }
    let moved = apply::adopt::move_in(
        &adoptions,
        &loaded.manifest.path,
        &loaded.files,
        &mut open.state,
    )
    .map_err(|failed| undone(failed.error, failed.undone, home))?;

    // Link them back with the ordinary planner and applier, touching nothing else. A manifest
    // that cannot be planned now (another entry matches an adopted file too) is undone.
    let planned = manifest::load(&loaded.manifest.path, &loaded.ctx).and_then(|manifest| {
        let specs = manifest::expand(&manifest, Sources::Require)?;
        matched_elsewhere(&specs, &loaded.specs, &adoptions, home)?;
        // Nothing of the user's is replaced to link an adopted path back, whatever the
        // manifest's policy: what appeared at it since the move is in the way, and said.
        let options = Options {
            prune: false,
            on_conflict: Some(Policy::Skip),
            ..Options::default()
        };
        let plan = plan::plan(&manifest, specs, &open.state, &options, &loaded.ctx)?;
        Ok((manifest, plan))
    });
    let (manifest, mut plan) = match planned {
        Ok(planned) => planned,
        Err(error) => {
            // Its lines are those of the edited text, which is gone again once undone.
            let edited = format!(
                "{} with the adopted entries added",
                paths::display(&loaded.manifest.path, home)
            );
            let error = error.without_place().context(edited);
            let hint = match &error.hint {
                Some(hint) => format!("choose another place with --as PATH, or {hint}"),
                None => "choose another place with --as PATH".to_string(),
            };
            let error = error.with_hint(hint);
            return Err(undone(error, moved.undo(&mut open.state), home));
        }
    };
    // The adoptions' own steps only; a target is planned at its real place (`~/.config` may
    // be a symlink to `~/cfg`).
    let adopted = adopted_paths(&adoptions);
    plan.steps.retain(|s| adopted.contains(&*s.target));
    plan.forget.clear();
    plan.forget_dirs.clear();
    moved.keep()?;
    let mut outcome = apply::apply(&plan, &loaded.files, &mut open.state)?;
    Printer::new(&plan, Verbosity::Quiet).outcome(&outcome);
    // Said by what is there now, not by what was planned: a link that could not be made (its
    // step failed, or something appeared in the way) is not "linked back". Said also when the
    // run could not be finished (the state file not written): the links are there.
    let (linked, unlinked): (Vec<&Adoption>, Vec<&Adoption>) =
        adoptions.iter().partition(|a| linked_back(a));
    if let Some(error) = outcome.unfinished.take() {
        report::print_adoptions(linked.iter().copied(), home, verbosity);
        return Err(error);
    }
    if outcome.state_saved {
        open.saved();
    }
    report::print_adoptions(linked.iter().copied(), home, verbosity);
    for a in &unlinked {
        report::print_warning(&format!(
            "{} is in the repository at {} and declared in {}, but not linked back: `dotlink \
             status` shows what is in the way, and `dotlink apply` links it once that is gone",
            paths::display(&a.from, home),
            paths::escape_text(&a.source),
            paths::display(&manifest.path, home)
        ));
    }
    if unlinked.is_empty() && outcome.failed.is_empty() {
        report::print_adopted(adoptions.len(), &manifest.path, home, verbosity);
    }
    Ok(Verdict::unless(
        !unlinked.is_empty() || !outcome.failed.is_empty(),
    ))
}

/// Each adopted path, as given and at its real place: looked up, not compared with every
/// adoption in turn (3,000 paths adopted at once took seconds).
fn adopted_paths(adoptions: &[Adoption]) -> std::collections::HashSet<&Path> {
    adoptions
        .iter()
        .flat_map(|a| [a.from.as_path(), a.real_from.as_path()])
        .collect()
}

/// Refuse an adoption that makes another entry declare a new target: an existing entry whose
/// pattern matches an adopted file once it is in the repository (`[[package]] source = "*"`
/// and `adopt ~/.config/tool`, which makes `config` a package linking `~/tool/...`). Every new
/// target must be an adopted path or lie below one.
fn matched_elsewhere(
    after: &[manifest::LinkSpec],
    before: &[manifest::LinkSpec],
    adoptions: &[Adoption],
    home: &Path,
) -> Result<()> {
    let declared: std::collections::HashSet<&Path> = before.iter().map(|s| &*s.target).collect();
    let adopted_paths = adopted_paths(adoptions);
    let adopted = |target: &Path| target.ancestors().any(|p| adopted_paths.contains(p));
    match after
        .iter()
        .find(|s| !declared.contains(&*s.target) && !adopted(&s.target))
    {
        None => Ok(()),
        Some(spec) => Err(Error::input(format!(
            "an existing entry would match an adopted file too: {} would be linked at {}",
            paths::display(&spec.source, home),
            paths::display(&spec.target, home)
        ))),
    }
}

/// `error`, which stopped an adoption part way, with what undoing it did: the notes for what
/// it left, and a hint that says whether nothing was adopted, or why it could not be undone.
fn undone(error: Error, undone: Result<Vec<Recovered>>, home: &Path) -> Error {
    let said = match undone {
        Ok(actions) if actions.iter().any(Recovered::leaves_something) => {
            report::print_left(&actions, home);
            "the adoption was undone as far as it could be (see the notes above)".to_string()
        }
        Ok(_) => "nothing was adopted: the files are back where they were and the manifest's \
                  text is as it was"
            .to_string(),
        // Both are said: why it was undone, and what could not be.
        Err(undoing) => format!("undoing the adoption failed too: {undoing}"),
    };
    let hint = match &error.hint {
        Some(hint) => format!("{said}; {hint}"),
        None => said,
    };
    error.with_hint(hint)
}

/// Whether the adopted path in the home is its place in the repository again: a symlink to it
/// (or, for a hard link, the same file).
fn linked_back(adoption: &Adoption) -> bool {
    use std::os::unix::fs::MetadataExt;
    let at_home = std::fs::symlink_metadata(&adoption.from);
    let (Ok(at_home), Ok(seen), Ok(in_repo)) = (
        at_home,
        std::fs::metadata(&adoption.from),
        std::fs::symlink_metadata(&adoption.to),
    ) else {
        return false;
    };
    (at_home.file_type().is_symlink() || at_home.is_file())
        && (seen.dev(), seen.ino()) == (in_repo.dev(), in_repo.ino())
}
