//! The `dotlink` binary: parse the command line, run it, exit with its code.
//!
//! Started by the C library's `main`, not std's: std's start-up reads `/proc/self/maps` and
//! sets up a signal stack and handlers, all to print a message on a stack overflow. That was
//! 0.14 ms of the 1.7 ms `status` takes on a typical repository (run in every shell prompt).
//! What of it dotlink needs is done here: the standard streams made sure of, and `SIGPIPE`.
//! A stack overflow is then a plain `SIGSEGV`, as in C.

#![no_main]

use clap::Parser;
use std::ffi::{CStr, OsString};
use std::os::unix::ffi::OsStringExt;

/// The C library's entry point, given the arguments as C strings.
#[unsafe(no_mangle)]
extern "C" fn main(argc: libc::c_int, argv: *const *const libc::c_char) -> libc::c_int {
    standard_streams_open();
    // Taken from `argv` here: std finds them on its own only on some platforms (glibc's).
    let args: Vec<OsString> = (0..usize::try_from(argc).unwrap_or(0))
        .map(|i| {
            // SAFETY: the C library passes `argc` pointers to C strings in `argv`.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            OsString::from_vec(arg.to_bytes().to_vec())
        })
        .collect();
    // Die quietly on a closed pipe (`dotlink status | head -1`) instead of panicking.
    // SAFETY: setting a signal's disposition to its default before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    fixed_mmap_threshold();
    // A run holds nearly every path it makes until it exits.
    dotlink::shared_path::keep_paths_for_the_process();
    let cli = match dotlink::cli::args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // Help, the version, or a usage error: printed as clap prints them, and a help that
        // cannot be written (standard output on a full disk) is a failure, not success. Said on
        // standard error if it can be: one on a full disk too is no reason to abort.
        Err(e) => std::process::exit(match e.print() {
            Ok(()) => e.exit_code(),
            Err(why) => {
                use std::io::Write;
                let why = dotlink::error::describe_io(&why);
                let stream = if e.use_stderr() { "error" } else { "output" };
                let said = format!("error: could not write to standard {stream}: {why}\n");
                let _ = std::io::stderr().write_all(said.as_bytes());
                e.exit_code().max(1)
            }
        }),
    };
    std::process::exit(dotlink::cli::run(cli));
}

/// Standard input, output and error open, as std's start-up makes sure: one closed
/// (`dotlink status >&-`) would otherwise be the number the next file opened gets, and what is
/// printed would go into that file (a state file, a journal). Each closed one is given
/// `/dev/null`, and a run that cannot do that stops.
fn standard_streams_open() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is an array of three `pollfd`s, alive for the call.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } == -1 {
        // Only where `poll` itself fails (out of memory, say): each is asked on its own.
        for pollfd in &mut fds {
            // SAFETY: asking for a descriptor's flags changes nothing.
            if unsafe { libc::fcntl(pollfd.fd, libc::F_GETFD) } == -1 {
                pollfd.revents = libc::POLLNVAL;
            }
        }
    }
    for pollfd in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
        // SAFETY: a constant C string; the descriptor opened is the lowest free one, the one
        // that is closed, as the ones below it are open.
        let opened = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR, 0) };
        if opened != pollfd.fd {
            std::process::abort();
        }
    }
}

/// Keep glibc's threshold for giving a large block its own mapping at its default, 128 KiB.
/// glibc raises it to the size of any such block freed, up to 32 MiB: once the state file
/// (a megabyte per 10,000 links) is read and freed, the specs' and the records' tables were
/// carved from the heap instead, where what they leave when freed or shrunk stays resident.
/// Measured on `status`: peak memory 75 -> 71 MiB at 100,000 links, 11.4 -> 11.2 MiB at
/// 10,000, and no slower.
fn fixed_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: a tunable of the allocator, set before anything else runs.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
