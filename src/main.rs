//! The `dotlink` binary: parse the command line, run it, exit with its code.

use clap::Parser;

fn main() {
    // Die quietly on a closed pipe (`dotlink status | head -1`) instead of panicking.
    // SAFETY: setting a signal's disposition to its default before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match dotlink::cli::args::Cli::try_parse() {
        Ok(cli) => cli,
        // Help, the version, or a usage error: printed as clap prints them, and a help that
        // cannot be written (standard output on a full disk) is a failure, not success.
        Err(e) => std::process::exit(match e.print() {
            Ok(()) => e.exit_code(),
            Err(why) => {
                let why = dotlink::error::describe_io(&why);
                eprintln!("error: could not write to standard output: {why}");
                1
            }
        }),
    };
    std::process::exit(dotlink::cli::run(cli));
}
