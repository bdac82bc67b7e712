//! Which manifests manage this home: each `apply` remembers its manifest in the state
//! directory, so that dotlink finds it from anywhere (`dotlink status -q` in a prompt run from
//! `~`), and `unlink` forgets it. One absolute path per line, a backslash written `\\` and a
//! newline in a name `\n` (so no name can add a line), in a file written atomically by the
//! applier (see `apply::remember_manifest`).

use std::path::{Path, PathBuf};

/// The file, in the state directory.
pub fn file(state_dir: &Path) -> PathBuf {
    state_dir.join("manifests")
}

/// The remembered manifests, whether they still exist or not.
pub fn remembered(state_dir: &Path) -> Vec<PathBuf> {
    std::fs::read(file(state_dir))
        .map(|bytes| {
            bytes
                .split(|b| *b == b'\n')
                .filter(|line| !line.is_empty())
                .map(|line| {
                    use std::os::unix::ffi::OsStrExt;
                    PathBuf::from(std::ffi::OsStr::from_bytes(&unescape(line)))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The file's contents with `manifest` added (or taken out), or `None` when nothing changes.
pub fn with(state_dir: &Path, manifest: &Path, present: bool) -> Option<Vec<u8>> {
    let mut list = remembered(state_dir);
    let there = list.iter().any(|p| p == manifest);
    if there == present {
        return None;
    }
    if present {
        list.push(manifest.to_path_buf());
    } else {
        list.retain(|p| p != manifest);
    }
    let mut bytes = Vec::new();
    for path in list {
        for &b in path.as_os_str().as_encoded_bytes() {
            match b {
                b'\\' => bytes.extend_from_slice(b"\\\\"),
                b'\n' => bytes.extend_from_slice(b"\\n"),
                b => bytes.push(b),
            }
        }
        bytes.push(b'\n');
    }
    Some(bytes)
}

fn unescape(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut bytes = line.iter();
    while let Some(&b) = bytes.next() {
        if b == b'\\' {
            match bytes.next() {
                Some(b'n') => out.push(b'\n'),
                Some(&other) => out.push(other),
                None => out.push(b),
            }
        } else {
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_a_newline_or_backslash_is_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let odd = PathBuf::from("/x\n/evil/dotlink.toml");
        let slash = PathBuf::from("/a\\b/dotlink.toml");
        for path in [&odd, &slash] {
            let bytes = with(dir.path(), path, true).unwrap();
            std::fs::write(file(dir.path()), bytes).unwrap();
        }
        assert_eq!(remembered(dir.path()), vec![odd.clone(), slash.clone()]);
        let bytes = with(dir.path(), &odd, false).unwrap();
        std::fs::write(file(dir.path()), bytes).unwrap();
        assert_eq!(remembered(dir.path()), vec![slash]);
    }
}
