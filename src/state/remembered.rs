//! Which manifests manage this home: each `apply` remembers its manifest in the state
//! directory, so that dotlink finds it from anywhere (`dotlink status -q` in a prompt run from
//! `~`), and `unlink` forgets it. One absolute path per line, escaped by
//! [`paths::escape_field`] (so no name can add a line), in a file written atomically by the
//! applier (see `apply::remember_manifest`).

use crate::paths;
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
                .map(paths::unescape_field)
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
        paths::escape_field(path.as_os_str(), &mut bytes);
        bytes.push(b'\n');
    }
    Some(bytes)
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
