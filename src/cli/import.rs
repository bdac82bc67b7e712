//! `import`: write a manifest that reproduces another tool's deployment.

use super::Verdict;
use super::args::ImportTool;
use crate::apply::fsutil;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::import::{self, Imported};
use crate::manifest::FILE_NAME;
use crate::report::{self, Verbosity};

pub(super) fn run(tool: &ImportTool, verbosity: Verbosity) -> Result<Verdict> {
    let ctx = Context::from_process(None)?;
    let (imported, stdout) = match tool {
        ImportTool::Stow {
            dir,
            target,
            packages,
            stdout,
        } => {
            let request = import::stow::Request {
                dir: dir.clone(),
                target: target.clone(),
                packages: packages.clone(),
            };
            (import::stow::import(&request, &ctx)?, *stdout)
        }
        ImportTool::Dotbot { config, stdout } => {
            (import::dotbot::import(config.as_deref(), &ctx)?, *stdout)
        }
        ImportTool::Dotter { dir, stdout } => {
            (import::dotter::import(dir.as_deref(), &ctx)?, *stdout)
        }
    };
    report::print_import_warnings(&imported.warnings);
    if stdout {
        report::print_manifest_text(&imported.text);
        return Ok(Verdict::Done);
    }
    write(&imported)?;
    report::print_imported(&imported, verbosity);
    Ok(Verdict::Done)
}

/// Write the manifest beside the other tool's configuration, never over an existing one.
fn write(imported: &Imported) -> Result<()> {
    let path = imported.repo.join(FILE_NAME);
    fsutil::create_new(&path, imported.text.as_bytes()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::input(format!(
                "{} already exists; not overwritten",
                path.display()
            ))
            .with_hint("use --stdout to print the import, then merge what you need by hand")
        } else {
            Error::io("write", &path, &e)
        }
    })
}
