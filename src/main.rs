//! The `dotlink` binary: parse the command line, run it, exit with its code.

use clap::Parser;

fn main() {
    // Die quietly on a closed pipe (`dotlink status | head -1`) instead of panicking.
    // SAFETY: setting a signal's disposition to its default before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(dotlink::cli::run(dotlink::cli::args::Cli::parse()));
}
