//! `adopt`: move files from the home directory into the repository, declare them, and link
//! them back with the ordinary planner and applier.

use super::args::{AdoptArgs, Cli};
use super::{Verdict, load};
use crate::apply;
use crate::error::Result;
use crate::manifest::{self, Sources};
use crate::paths;
use crate::plan::{self, Options};
use crate::report::{self, Printer, Verbosity};

pub(super) fn run(cli: &Cli, args: &AdoptArgs, verbosity: Verbosity) -> Result<Verdict> {
    let mut loaded = load(cli, Sources::Require)?;
    if !args.dry_run {
        plan::check_before_writing(&loaded.manifest, &loaded.specs, &loaded.ctx)?;
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
    )?;

    // Link them back with the ordinary planner and applier, touching nothing else. A manifest
    // that cannot be planned now (another entry matches an adopted file too) is undone.
    let planned = manifest::load(&loaded.manifest.path, &loaded.ctx).and_then(|manifest| {
        let specs = manifest::expand(&manifest, Sources::Require)?;
        let options = Options {
            prune: false,
            ..Options::default()
        };
        let plan = plan::plan(&manifest, specs, &open.state, &options, &loaded.ctx)?;
        Ok((manifest, plan))
    });
    let (manifest, mut plan) = match planned {
        // Said only now: an adoption that is undone was never "moved in, linked back".
        Ok(planned) => {
            report::print_adoptions(&adoptions, home, verbosity);
            planned
        }
        Err(error) => {
            return Err(match moved.undo(&mut open.state) {
                Ok(()) => {
                    let undone = format!(
                        "{}; choose another place with --as PATH",
                        apply::adopt::UNDONE
                    );
                    let hint = match &error.hint {
                        Some(hint) => format!("{undone}, or {hint}"),
                        None => undone,
                    };
                    // Its lines are those of the edited text, which is gone again.
                    let edited = format!(
                        "{} with the adopted entries added",
                        paths::display(&loaded.manifest.path, home)
                    );
                    error.without_place().context(edited).with_hint(hint)
                }
                // Both are said: why it was undone, and what could not be.
                Err(undoing) => {
                    error.with_hint(format!("undoing the adoption failed too: {undoing}"))
                }
            });
        }
    };
    plan.steps
        .retain(|s| adoptions.iter().any(|a| *a.from == *s.target));
    plan.forget.clear();
    moved.keep()?;
    let mut outcome = apply::apply(&plan, &loaded.files, &mut open.state)?;
    Printer::new(&plan, Verbosity::Quiet).outcome(&outcome);
    if let Some(error) = outcome.unfinished.take() {
        return Err(error);
    }
    if outcome.state_saved {
        open.saved();
    }
    if outcome.failed.is_empty() {
        report::print_adopted(adoptions.len(), &manifest.path, home, verbosity);
    }
    Ok(Verdict::unless(!outcome.failed.is_empty()))
}
