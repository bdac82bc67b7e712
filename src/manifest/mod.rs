//! The manifest, `dotlink.toml`: finding it, parsing it with positions, and checking every
//! entry, so that a mistake is reported as `file:line:column: what is wrong` with a hint,
//! before anything looks at the home directory. [`expand`] then turns the entries into
//! concrete [`LinkSpec`]s by reading the repository.

mod conditions;
pub mod edit;
mod expand;

pub use conditions::KNOWN_OS;
pub use expand::{LinkSpec, Sources, expand};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::paths;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The manifest's file name, looked for when no path is given.
pub const FILE_NAME: &str = "dotlink.toml";

/// How a symlink spells its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// The path from the link's own directory to the source.
    Relative,
    /// The canonical absolute path of the source.
    Absolute,
}

/// What kind of link to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Symlink,
    Hardlink,
}

/// What to do when something that is not dotlink's is in the way of a target.
///
/// `--on-conflict` offers the same names with the same descriptions; `cli::args` spells
/// them out by hand, so a change here belongs there too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Change nothing at all if any conflict exists.
    Fail,
    /// Leave conflicting targets alone and do the rest.
    Skip,
    /// Move what is in the way to the backup directory, then link.
    Backup,
    /// Remove what is in the way, then link.
    Overwrite,
}

macro_rules! display_lowercase {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let text = serde_json::to_value(self).ok();
                f.write_str(text.as_ref().and_then(|v| v.as_str()).unwrap_or("?"))
            }
        }
    )*};
}
display_lowercase!(Style, Method, Policy);

/// A position in the manifest, 1-based, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// The `[defaults]` that are not per entry.
#[derive(Debug, Clone)]
pub struct Settings {
    pub prune: bool,
    pub backup_dir: PathBuf,
}

/// One `[[link]]` entry, checked, with its defaults filled in.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The source as written: a path or glob relative to the repository.
    pub source: String,
    /// The target, expanded and normalised: an absolute path.
    pub target: PathBuf,
    /// The target was written with a trailing `/`: links go inside it.
    pub into_dir: bool,
    pub recursive: bool,
    pub method: Method,
    pub style: Style,
    pub on_conflict: Policy,
    pub allow_outside_home: bool,
    /// Ignore patterns, from `[defaults]` and the entry, matched on repository-relative paths.
    pub ignore: GlobSet,
    pub source_at: Location,
    pub target_at: Location,
    /// Why the entry does not apply on this machine (its `when` condition is unmet).
    pub skip: Option<String>,
}

impl Entry {
    pub fn is_glob(&self) -> bool {
        self.source.contains(['*', '?', '[', '{'])
    }
}

/// A parsed and checked manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Absolute path of the manifest file.
    pub path: PathBuf,
    /// The repository root: the manifest's directory, canonical.
    pub repo: PathBuf,
    pub settings: Settings,
    pub entries: Vec<Entry>,
    /// The profiles active on this machine.
    pub profiles: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    profiles: std::collections::BTreeMap<String, Spanned<conditions::RawProfile>>,
    #[serde(default)]
    link: Vec<RawLink>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    style: Option<Spanned<Style>>,
    method: Option<Spanned<Method>>,
    on_conflict: Option<Policy>,
    prune: Option<bool>,
    ignore: Option<Vec<Spanned<String>>>,
    backup_dir: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    source: Spanned<String>,
    target: Spanned<String>,
    recursive: Option<bool>,
    style: Option<Spanned<Style>>,
    method: Option<Spanned<Method>>,
    on_conflict: Option<Policy>,
    allow_outside_home: Option<bool>,
    ignore: Option<Vec<Spanned<String>>>,
    when: Option<Spanned<conditions::RawWhen>>,
}

/// Where the manifest is: `--manifest`, else `$DOTLINK_MANIFEST`, else the nearest
/// `dotlink.toml` walking up from the working directory. A directory means its `dotlink.toml`.
pub fn locate(explicit: Option<&Path>, ctx: &Context) -> Result<PathBuf> {
    let given = explicit.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("DOTLINK_MANIFEST")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(given) = given {
        let path = paths::normalize(&ctx.cwd.join(given));
        let path = if path.is_dir() {
            path.join(FILE_NAME)
        } else {
            path
        };
        if !path.is_file() {
            return Err(
                Error::input(format!("manifest {} does not exist", path.display()))
                    .with_hint("check the path given with --manifest or $DOTLINK_MANIFEST"),
            );
        }
        return Ok(path);
    }
    for dir in ctx.cwd.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::input(format!(
        "no {FILE_NAME} found in {} or any directory above it",
        ctx.cwd.display()
    ))
    .with_hint("run dotlink inside your dotfiles repository, pass --manifest PATH, or create one with `dotlink init`"))
}

/// Read, parse and check the manifest at `path`.
pub fn load(path: &Path, ctx: &Context) -> Result<Manifest> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::input(format!(
            "cannot read manifest {}: {}",
            path.display(),
            crate::error::describe_io(&e)
        ))
        .with_hint("the manifest must be a readable UTF-8 text file")
    })?;
    parse(path, &text, ctx)
}

/// Parse and check manifest text that lives at `path`.
pub fn parse(path: &Path, text: &str, ctx: &Context) -> Result<Manifest> {
    let at = |span: Range<usize>| locate_offset(text, span.start);
    let fail = |span: Range<usize>, message: String, hint: &str| {
        let loc = at(span);
        Error::input(format!(
            "{}:{}:{}: {message}",
            path.display(),
            loc.line,
            loc.column
        ))
        .with_hint(hint)
    };

    let raw: RawManifest = toml::from_str(text).map_err(|e| {
        let loc = e.span().map(&at).unwrap_or(Location { line: 1, column: 1 });
        let message = e.message().trim().to_string();
        Error::input(format!(
            "{}:{}:{}: {message}",
            path.display(),
            loc.line,
            loc.column
        ))
        .with_hint("see dotlink.toml.example for every key and its allowed values")
    })?;

    let dir_of_manifest = path.parent().unwrap_or(Path::new("/"));
    let repo = dir_of_manifest
        .canonicalize()
        .map_err(|e| Error::io("read repository", dir_of_manifest, &e))?;
    let lookup = |name: &str| ctx.var(name);
    let home = &ctx.home;

    let defaults = raw.defaults;
    if let (Some(style), Some(method)) = (&defaults.style, &defaults.method)
        && *method.get_ref() == Method::Hardlink
    {
        return Err(fail(
            style.span(),
            "`style` and `method = \"hardlink\"` are both set in [defaults], but style applies only to symlinks".into(),
            "remove `style`, or use `method = \"symlink\"`",
        ));
    }
    let default_ignore = defaults.ignore.unwrap_or_default();
    build_ignore(&default_ignore).map_err(|(span, m)| fail(span, m, "fix the glob pattern"))?;
    let backup_dir = match &defaults.backup_dir {
        Some(raw_dir) => {
            let expanded = paths::expand(raw_dir.get_ref(), home, &lookup)
                .map_err(|m| fail(raw_dir.span(), m, "fix `backup_dir`"))?;
            let dir = paths::normalize(&expanded);
            let allowed = dir.is_absolute()
                && (dir.starts_with(home) || dir.starts_with(&ctx.state_dir))
                && dir != *home
                && !overlaps(&dir, &repo)
                && !overlaps(&dir, dir_of_manifest);
            if !allowed {
                return Err(fail(
                    raw_dir.span(),
                    format!(
                        "backup_dir {} must be a directory inside the home directory and outside the repository",
                        dir.display()
                    ),
                    "use a path such as \"~/.local/state/dotlink/backups\"",
                ));
            }
            dir
        }
        None => ctx.state_dir.join("backups"),
    };

    let mut profiles = Vec::with_capacity(raw.profiles.len());
    for (name, profile) in raw.profiles {
        let span = profile.span();
        let condition =
            conditions::Condition::from_profile(profile.into_inner()).map_err(|(s, m)| {
                fail(
                    if s.is_empty() { span.clone() } else { s },
                    m,
                    "fix the profile's condition",
                )
            })?;
        profiles.push((name, condition));
    }
    let active_profiles = conditions::active_profiles(&profiles, &ctx.machine);

    let mut entries = Vec::with_capacity(raw.link.len());
    for link in raw.link {
        let skip = match link.when {
            Some(when) => {
                let span = when.span();
                let condition =
                    conditions::Condition::from_when(when.into_inner()).map_err(|(s, m)| {
                        fail(
                            if s.is_empty() { span.clone() } else { s },
                            m,
                            "fix the entry's `when`",
                        )
                    })?;
                condition.unmet(&ctx.machine, &active_profiles)
            }
            None => None,
        };
        let method = link
            .method
            .as_ref()
            .or(defaults.method.as_ref())
            .map(|m| *m.get_ref())
            .unwrap_or(Method::Symlink);
        if let Some(style) = &link.style
            && method == Method::Hardlink
        {
            return Err(fail(
                style.span(),
                "`style` is set on a link with `method = \"hardlink\"`, but style applies only to symlinks".into(),
                "remove `style` from this entry, or use `method = \"symlink\"`",
            ));
        }
        let source = link.source.get_ref().trim_end_matches('/').to_string();
        if source.is_empty() || source == "." {
            return Err(fail(
                link.source.span(),
                "`source` is empty: it must name a file, directory or glob in the repository"
                    .into(),
                "write a path relative to the manifest's directory, such as \"zsh/zshrc\"",
            ));
        }
        if paths::escapes(Path::new(&source)) {
            return Err(fail(
                link.source.span(),
                format!(
                    "source `{source}` is outside the repository {}",
                    repo.display()
                ),
                "sources are relative to the manifest's directory and may not climb out of it with `..` or start with `/`",
            ));
        }

        let raw_target = link.target.get_ref();
        let into_dir = raw_target.ends_with('/');
        let allow_outside_home = link.allow_outside_home.unwrap_or(false);
        let recursive = link.recursive.unwrap_or(false);
        let is_glob = source.contains(['*', '?', '[', '{']);
        let checked_target = || -> Result<PathBuf> {
            let expanded = paths::expand(raw_target, home, &lookup)
                .map_err(|m| fail(link.target.span(), m, "fix `target`"))?;
            if !expanded.is_absolute() {
                return Err(fail(
                    link.target.span(),
                    format!("target `{raw_target}` is a relative path"),
                    "start targets with `~/` (the home directory) or `/`",
                ));
            }
            let target = paths::normalize(&expanded);
            if !target.starts_with(home) && !allow_outside_home {
                return Err(fail(
                    link.target.span(),
                    format!(
                        "target {} is outside the home directory {}",
                        target.display(),
                        home.display()
                    ),
                    "add `allow_outside_home = true` to this entry if that is intended",
                ));
            }
            if target == *home && !recursive && !is_glob {
                return Err(fail(
                    link.target.span(),
                    "target is the home directory itself, which dotlink will not replace with a link"
                        .into(),
                    "use `recursive = true` to link the source's files into the home directory, or name a path inside it",
                ));
            }
            // A directory that merely contains the repository is fine for recursive and glob
            // entries; each link they expand to is checked again in `expand`.
            if target.starts_with(&repo) || target.starts_with(dir_of_manifest) {
                return Err(fail(
                    link.target.span(),
                    format!(
                        "target {} is inside the repository {}",
                        target.display(),
                        repo.display()
                    ),
                    "targets must lie outside the dotfiles repository",
                ));
            }
            Ok(target)
        };
        let target = match checked_target() {
            Ok(target) => target,
            // An entry that does not apply here may name variables or places of another
            // machine; it is never linked here, so only its display needs a target.
            Err(_) if skip.is_some() => PathBuf::from(raw_target),
            Err(e) => return Err(e),
        };

        let mut patterns = default_ignore.clone();
        patterns.extend(link.ignore.unwrap_or_default());
        let ignore =
            build_ignore(&patterns).map_err(|(span, m)| fail(span, m, "fix the glob pattern"))?;

        entries.push(Entry {
            source,
            target,
            into_dir: into_dir || is_glob,
            recursive,
            method,
            style: link
                .style
                .as_ref()
                .or(defaults.style.as_ref())
                .map(|s| *s.get_ref())
                .unwrap_or(Style::Relative),
            on_conflict: link
                .on_conflict
                .or(defaults.on_conflict)
                .unwrap_or(Policy::Fail),
            allow_outside_home,
            ignore,
            source_at: at(link.source.span()),
            target_at: at(link.target.span()),
            skip,
        });
    }

    Ok(Manifest {
        path: path.to_path_buf(),
        repo,
        settings: Settings {
            prune: defaults.prune.unwrap_or(true),
            backup_dir,
        },
        entries,
        profiles: active_profiles,
    })
}

/// True when one of the two paths contains the other.
fn overlaps(path: &Path, dir: &Path) -> bool {
    let dir = paths::normalize(dir);
    path.starts_with(&dir) || dir.starts_with(path)
}

/// Compile ignore patterns. A pattern without `/` matches a name at any depth, as in
/// `.gitignore`; one with `/` matches the whole repository-relative path.
fn build_ignore(
    patterns: &[Spanned<String>],
) -> std::result::Result<GlobSet, (Range<usize>, String)> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let text = pattern.get_ref().trim_end_matches('/');
        let anchored = if text.contains('/') {
            text.trim_start_matches('/').to_string()
        } else {
            format!("**/{text}")
        };
        let glob = GlobBuilder::new(&anchored)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                (
                    pattern.span(),
                    format!("ignore pattern `{text}` is not a valid glob: {}", e.kind()),
                )
            })?;
        set.add(glob);
    }
    set.build().map_err(|e| (0..0, e.to_string()))
}

/// 1-based line and column (in characters) of a byte offset.
pub fn locate_offset(text: &str, offset: usize) -> Location {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    Location {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// `file:line:column: ` for messages about an entry.
pub fn position(path: &Path, at: Location) -> String {
    format!("{}:{}:{}", path.display(), at.line, at.column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Machine;

    fn ctx(home: &Path) -> Context {
        Context {
            home: home.to_path_buf(),
            state_dir: home.join(".local/state/dotlink"),
            cwd: home.to_path_buf(),
            machine: Machine {
                os: "linux".into(),
                hostname: "box".into(),
                chosen_profiles: None,
            },
        }
    }

    fn parse_in(text: &str) -> Result<Manifest> {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("dots");
        std::fs::create_dir(&repo).unwrap();
        let path = repo.join(FILE_NAME);
        let result = parse(&path, text, &ctx(root.path()));
        result.map_err(|mut e| {
            e.message = e.message.replace(&path.display().to_string(), "M");
            e
        })
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a\nbc\ndéf";
        assert_eq!(locate_offset(text, 0), Location { line: 1, column: 1 });
        assert_eq!(locate_offset(text, 3), Location { line: 2, column: 2 });
        assert_eq!(locate_offset(text, 8), Location { line: 3, column: 3 });
    }

    #[test]
    fn defaults_fill_entries() {
        let m = parse_in("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n").unwrap();
        let e = &m.entries[0];
        assert_eq!(
            (e.style, e.method, e.on_conflict, e.recursive),
            (Style::Relative, Method::Symlink, Policy::Fail, false)
        );
        assert!(m.settings.prune);
        assert!(
            m.settings
                .backup_dir
                .ends_with(".local/state/dotlink/backups")
        );
    }

    #[test]
    fn unknown_keys_name_line_and_column() {
        let err =
            parse_in("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nrecursiv = true\n").unwrap_err();
        assert!(
            err.message.starts_with("M:4:1: unknown field `recursiv`"),
            "{}",
            err.message
        );
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn bad_values_name_the_allowed_ones() {
        let err = parse_in("[defaults]\nstyle = \"weird\"\n").unwrap_err();
        assert!(err.message.contains("M:2:9"), "{}", err.message);
        assert!(err.message.contains("relative"), "{}", err.message);
    }

    #[test]
    fn escaping_sources_are_refused() {
        let err = parse_in("[[link]]\nsource = \"../x\"\ntarget = \"~/.x\"\n").unwrap_err();
        assert!(
            err.message
                .contains("M:2:10: source `../x` is outside the repository"),
            "{}",
            err.message
        );
        let err = parse_in("[[link]]\nsource = \"/etc/passwd\"\ntarget = \"~/.x\"\n").unwrap_err();
        assert!(
            err.message.contains("outside the repository"),
            "{}",
            err.message
        );
    }

    #[test]
    fn targets_outside_home_need_opt_in() {
        let err = parse_in("[[link]]\nsource = \"a\"\ntarget = \"/etc/a\"\n").unwrap_err();
        assert!(
            err.message
                .contains("M:3:10: target /etc/a is outside the home directory"),
            "{}",
            err.message
        );
        assert!(err.hint.unwrap().contains("allow_outside_home = true"));
        let err = parse_in("[[link]]\nsource = \"a\"\ntarget = \"~/../x\"\n").unwrap_err();
        assert!(
            err.message.contains("outside the home directory"),
            "{}",
            err.message
        );
        assert!(
            parse_in("[[link]]\nsource = \"a\"\ntarget = \"/etc/a\"\nallow_outside_home = true\n")
                .is_ok()
        );
    }

    #[test]
    fn targets_may_not_overlap_the_repository_or_be_home() {
        let err = parse_in("[[link]]\nsource = \"a\"\ntarget = \"~/dots/a\"\n").unwrap_err();
        assert!(
            err.message.contains("is inside the repository"),
            "{}",
            err.message
        );
        let err = parse_in("[[link]]\nsource = \"a\"\ntarget = \"~\"\n").unwrap_err();
        assert!(
            err.message.contains("home directory itself"),
            "{}",
            err.message
        );
        assert!(parse_in("[[link]]\nsource = \"a\"\ntarget = \"~\"\nrecursive = true\n").is_ok());
    }

    #[test]
    fn style_on_a_hard_link_is_an_error() {
        let err = parse_in("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nmethod = \"hardlink\"\nstyle = \"absolute\"\n").unwrap_err();
        assert!(
            err.message
                .contains("M:5:9: `style` is set on a link with `method = \"hardlink\"`"),
            "{}",
            err.message
        );
        let err =
            parse_in("[defaults]\nmethod = \"hardlink\"\nstyle = \"relative\"\n").unwrap_err();
        assert!(
            err.message.contains("style applies only to symlinks"),
            "{}",
            err.message
        );
    }

    #[test]
    fn backup_dir_must_stay_home() {
        let err = parse_in("[defaults]\nbackup_dir = \"/tmp/elsewhere\"\n").unwrap_err();
        assert!(
            err.message.contains("backup_dir /tmp/elsewhere must be"),
            "{}",
            err.message
        );
        let err = parse_in("[defaults]\nbackup_dir = \"~/dots/b\"\n").unwrap_err();
        assert!(err.message.contains("backup_dir"), "{}", err.message);
    }

    #[test]
    fn ignore_patterns_without_slash_match_at_any_depth() {
        let m = parse_in("[defaults]\nignore = [\".DS_Store\", \"**/README.md\", \"a/*.swp\"]\n[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\n").unwrap();
        let set = &m.entries[0].ignore;
        assert!(set.is_match("x/y/.DS_Store"));
        assert!(set.is_match(".DS_Store"));
        assert!(set.is_match("README.md"));
        assert!(set.is_match("a/f.swp"));
        assert!(!set.is_match("b/f.swp"));
    }

    #[test]
    fn bad_ignore_globs_are_located() {
        let err = parse_in("[defaults]\nignore = [\"a[\"]\n").unwrap_err();
        assert!(
            err.message
                .contains("M:2:11: ignore pattern `a[` is not a valid glob"),
            "{}",
            err.message
        );
    }
}
