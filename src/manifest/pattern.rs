//! A glob of the manifest, matched against paths of the repository: a `*` matches within one
//! component, as `globset` with `literal_separator` does. The common shape (literal text and
//! `*` in each component: `bin/*`, `zsh/.z*`) is matched directly and compiles nothing; any
//! other (`?`, classes, alternatives, `**`, escapes) is compiled by `globset`. Compiling a glob
//! into a regex and making its matching cache cost about 200,000 instructions, and a typical
//! manifest's three globs (each with a dotted part, compiled apart) were a tenth of a `status`.

use globset::{GlobBuilder, GlobMatcher};
use std::path::Path;

/// A glob, ready to match.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// Each component's text, `*` in it matching any run of bytes but `/`.
    Stars(Vec<Box<[u8]>>),
    Compiled(GlobMatcher),
}

impl Pattern {
    /// `glob`, or why `globset` refuses it.
    pub fn new(glob: &str) -> Result<Pattern, globset::Error> {
        if let Some(components) = stars_only(glob) {
            return Ok(Pattern::Stars(components));
        }
        let matcher = GlobBuilder::new(glob)
            .literal_separator(true)
            .build()?
            .compile_matcher();
        Ok(Pattern::Compiled(matcher))
    }

    /// Whether all of `path` matches.
    pub fn is_match(&self, path: &Path) -> bool {
        match self {
            Pattern::Compiled(matcher) => matcher.is_match(path),
            Pattern::Stars(components) => {
                let mut names = path.as_os_str().as_encoded_bytes().split(|&b| b == b'/');
                components
                    .iter()
                    .all(|pattern| names.next().is_some_and(|name| stars_match(pattern, name)))
                    && names.next().is_none()
            }
        }
    }
}

/// The components of `glob` when it is of literal text and `*` only, none of them empty.
fn stars_only(glob: &str) -> Option<Vec<Box<[u8]>>> {
    let special = |b: &u8| matches!(b, b'?' | b'[' | b']' | b'{' | b'}' | b'\\');
    if glob.as_bytes().iter().any(special) || glob.contains("**") {
        return None;
    }
    glob.split('/')
        .map(|part| (!part.is_empty()).then(|| part.as_bytes().into()))
        .collect()
}

/// Whether `name` matches `pattern`, whose `*` matches any run of bytes (the name has no `/`).
/// The classic two-pointer walk: on a mismatch, the last `*` takes one more byte.
fn stars_match(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if p < pattern.len() && pattern[p] == name[n] {
            p += 1;
            n += 1;
        } else if let Some((star_p, star_n)) = star {
            p = star_p + 1;
            n = star_n + 1;
            star = Some((star_p, star_n + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_common_shapes_are_matched_without_compiling() {
        for glob in ["bin/*", "zsh/.z*", "misc/.*", "*", "a*b*c/d"] {
            assert!(
                matches!(Pattern::new(glob).unwrap(), Pattern::Stars(_)),
                "{glob}"
            );
        }
        for glob in ["a/**", "a?", "[ab]", "{a,b}", "a\\*", "a//b", "/a", "a/"] {
            assert!(
                matches!(Pattern::new(glob).unwrap(), Pattern::Compiled(_)),
                "{glob}"
            );
        }
        let bin = Pattern::new("bin/*").unwrap();
        assert!(bin.is_match(Path::new("bin/tool")));
        assert!(!bin.is_match(Path::new("bin/sub/tool")));
        assert!(!bin.is_match(Path::new("bin")));
        let dotted = Pattern::new("zsh/.z*").unwrap();
        assert!(dotted.is_match(Path::new("zsh/.zshrc")));
        assert!(dotted.is_match(Path::new("zsh/.z")));
        assert!(!dotted.is_match(Path::new("zsh/zshrc")));
        // Bytes that are not UTF-8 are matched as bytes.
        use std::os::unix::ffi::OsStrExt;
        let odd = Path::new(std::ffi::OsStr::from_bytes(b"bin/caf\xe9"));
        assert!(bin.is_match(odd));
    }

    fn globset_says(glob: &str, path: &str) -> Option<bool> {
        let matcher = GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .ok()?
            .compile_matcher();
        Some(matcher.is_match(path))
    }

    proptest! {
        /// Every glob of literal text and `*` matches exactly what globset matches.
        #[test]
        fn stars_match_as_globset_does(
            glob in "[ab.*/]{1,8}",
            path in "[ab./]{0,8}",
        ) {
            if let (Some(expected), Ok(pattern)) = (globset_says(&glob, &path), Pattern::new(&glob)) {
                prop_assert_eq!(pattern.is_match(Path::new(&path)), expected, "{} on {}", glob, path);
            }
        }
    }
}
