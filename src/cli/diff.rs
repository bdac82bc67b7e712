//! `diff`: for each target in conflict or diverged, what is in the way against the repository's
//! source, as a unified diff, so choosing `backup` or `overwrite` is an informed choice.

use super::args::Cli;
use super::{Verdict, load};
use crate::error::{Error, Result};
use crate::manifest::Sources;
use crate::paths;
use crate::plan::{self, LinkState, Options};
use crate::report::{self, Difference};
use std::fs;
use std::path::{Path, PathBuf};

pub(super) fn run(cli: &Cli, targets: &[PathBuf]) -> Result<Verdict> {
    let mut loaded = load(cli, Sources::Report)?;
    let open = loaded.open_state(false)?;
    let plan = plan::plan(
        &loaded.manifest,
        loaded.specs,
        &open.state,
        &Options::default(),
        &loaded.ctx,
    )?;
    let home = &loaded.ctx.home;
    let wanted: Vec<PathBuf> = targets
        .iter()
        .map(|t| {
            let expanded =
                paths::expand(&t.to_string_lossy(), home, &|_| None).unwrap_or_else(|_| t.clone());
            // One identity per path: the real directory plus the name.
            let spelled = paths::normalize(&loaded.ctx.cwd.join(expanded));
            match (spelled.parent(), spelled.file_name()) {
                (Some(dir), Some(name)) => dir
                    .canonicalize()
                    .map(|real| real.join(name))
                    .unwrap_or(spelled),
                _ => spelled,
            }
        })
        .collect();
    let mut shown = 0;
    for step in &plan.steps {
        if !step.declared || !matches!(step.state, LinkState::Conflict | LinkState::Diverged) {
            continue;
        }
        if !wanted.is_empty() && !wanted.iter().any(|w| **w == *step.target) {
            continue;
        }
        shown += 1;
        let difference = difference(&step.target, &step.source);
        report::print_difference(&step.target, &step.source, &difference, &plan);
    }
    for target in &wanted {
        if !plan.steps.iter().any(|s| *s.target == **target) {
            return Err(Error::input(format!(
                "{} is not a target of {}",
                paths::display(target, home),
                loaded.manifest.path.display()
            ))
            .with_hint("name targets as `dotlink status` shows them, such as ~/.zshrc"));
        }
    }
    Ok(Verdict::unless(shown > 0))
}

/// What stands at `target` against what `source` holds.
fn difference(target: &Path, source: &Path) -> Difference {
    let meta = match fs::symlink_metadata(target) {
        Ok(meta) => meta,
        Err(e) => return Difference::Unreadable(crate::error::describe_io(&e)),
    };
    if meta.file_type().is_symlink() {
        return Difference::Symlink(fs::read_link(target).unwrap_or_default());
    }
    if meta.is_dir() {
        let entries = fs::read_dir(target).map(|d| d.count()).unwrap_or(0);
        return Difference::Directory { entries };
    }
    if !meta.is_file() {
        return Difference::Special;
    }
    if fs::metadata(source).is_ok_and(|m| m.is_dir()) {
        return Difference::SourceIsDirectory;
    }
    let (Ok(theirs), Ok(ours)) = (fs::read(target), fs::read(source)) else {
        return Difference::Unreadable("cannot read one of the two files".into());
    };
    match (String::from_utf8(theirs), String::from_utf8(ours)) {
        (Ok(a), Ok(b)) if !a.contains('\0') && !b.contains('\0') => {
            if a == b {
                Difference::Same
            } else {
                Difference::Text(
                    similar::TextDiff::from_lines(&a, &b)
                        .unified_diff()
                        .context_radius(3)
                        .to_string(),
                )
            }
        }
        _ => Difference::Binary,
    }
}
