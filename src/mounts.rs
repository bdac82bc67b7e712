//! The system's mount table (`/proc/self/mountinfo`), for the checks that must see what paths
//! cannot: a mount point below a directory about to be moved or removed, and a bind mount that
//! gives a directory a second name.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// One mount: its filesystem (`major:minor`), the directory of that filesystem it shows (`/`
/// for the whole of it, another for a bind mount of a directory), and where it is mounted.
#[derive(Debug, PartialEq, Eq)]
pub struct Mount {
    pub device: Vec<u8>,
    pub root: PathBuf,
    pub point: PathBuf,
}

/// This process's mounts; `None` where the table cannot be read.
pub fn read() -> Option<Vec<Mount>> {
    std::fs::read("/proc/self/mountinfo")
        .ok()
        .map(|table| parse(&table))
}

/// The mounts of a table in the format of `/proc/self/mountinfo`: per line, an id, a parent
/// id, `major:minor`, the root, the mount point (both with ` `, tab, newline and `\` written
/// in octal, `\040`), then options.
pub fn parse(table: &[u8]) -> Vec<Mount> {
    let path = |field: &[u8]| PathBuf::from(OsString::from_vec(unescape_octal(field)));
    table
        .split(|b| *b == b'\n')
        .filter_map(|line| {
            let mut fields = line.split(|b| *b == b' ');
            Some(Mount {
                device: fields.nth(2)?.to_vec(),
                root: path(fields.next()?),
                point: path(fields.next()?),
            })
        })
        .collect()
}

/// A field of the table as the path it is: `\NNN` is the byte NNN (octal).
fn unescape_octal(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        let digits = field
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (field[i], digits) {
            (b'\\', Some(d)) => {
                out.push(d.iter().fold(0u8, |n, b| n.wrapping_mul(8) + (b - b'0')));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}
