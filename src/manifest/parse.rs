//! Parsing and checking `dotlink.toml`: the TOML is read with positions into the `Raw*`
//! structs, then checked part by part — `[defaults]`, `[profiles]`, and each `[[link]]` entry
//! with its source and target — into a [`Manifest`]. Every refusal names the
//! `file:line:column` of the value at fault and carries a hint; the checks run in a fixed
//! order, so the first mistake in the file is the one reported.

use super::conditions::{self, Condition, RawProfile, RawWhen};
use super::{
    Entry, Lines, Manifest, Method, Package, Policy, Settings, Style, locate_offset, position,
};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::paths;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// `dotlink.toml` as written, with spans kept for error positions.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    profiles: BTreeMap<String, Spanned<RawProfile>>,
    #[serde(default)]
    link: Vec<RawLink>,
    #[serde(default)]
    package: Vec<RawPackage>,
}

/// `[defaults]` as written.
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

/// One `[[link]]` table as written.
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
    when: Option<Spanned<RawWhen>>,
    prefix: Option<Spanned<String>>,
    prune: Option<bool>,
}

/// One `[[package]]` table as written: a `[[link]]` without `recursive` (a package is always
/// mirrored) and `prefix`, with `dotfiles` and `fold`, and a target that defaults to `~`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackage {
    source: Spanned<String>,
    target: Option<Spanned<String>>,
    dotfiles: Option<bool>,
    fold: Option<bool>,
    style: Option<Spanned<Style>>,
    method: Option<Spanned<Method>>,
    on_conflict: Option<Policy>,
    allow_outside_home: Option<bool>,
    ignore: Option<Vec<Spanned<String>>>,
    when: Option<Spanned<RawWhen>>,
    prune: Option<bool>,
}

impl From<RawPackage> for RawLink {
    fn from(p: RawPackage) -> RawLink {
        let span = p.source.span();
        RawLink {
            target: p
                .target
                .unwrap_or_else(|| Spanned::new(span, "~".to_string())),
            source: p.source,
            recursive: Some(true),
            style: p.style,
            method: p.method,
            on_conflict: p.on_conflict,
            allow_outside_home: p.allow_outside_home,
            ignore: p.ignore,
            when: p.when,
            prefix: None,
            prune: p.prune,
        }
    }
}

/// What an entry falls back to from `[defaults]`, once `[defaults]` has been checked.
struct EntryDefaults {
    style: Option<Style>,
    method: Option<Method>,
    on_conflict: Option<Policy>,
    /// Ignore patterns every entry starts with.
    ignore: Vec<Spanned<String>>,
}

/// Parse and check manifest text that lives at `path`.
pub fn parse(path: &Path, text: &str, ctx: &Context) -> Result<Manifest> {
    let raw: RawManifest = toml::from_str(text).map_err(|e| syntax_error(path, text, &e))?;
    let manifest_dir = path.parent().unwrap_or(Path::new("/"));
    let repo = manifest_dir
        .canonicalize()
        .map_err(|e| Error::io("read repository", manifest_dir, &e))?;
    let checker = Checker {
        path,
        text,
        lines: Lines::new(text),
        ctx,
        manifest_dir,
        repo,
        mentioned: Default::default(),
    };
    let (settings, defaults) = checker.defaults(raw.defaults)?;
    let defined: Vec<String> = raw.profiles.keys().cloned().collect();
    let profiles = checker.profiles(raw.profiles)?;
    // Links and packages in the order they are written, so the first mistake is reported first.
    let mut written: Vec<(RawLink, Option<Package>)> =
        raw.link.into_iter().map(|link| (link, None)).collect();
    written.extend(raw.package.into_iter().map(|p| {
        let package = Package {
            dotfiles: p.dotfiles.unwrap_or(false),
            fold: p.fold.unwrap_or(false),
        };
        (RawLink::from(p), Some(package))
    }));
    written.sort_by_key(|(link, _)| link.source.span().start);
    let entries = written
        .into_iter()
        .map(|(link, package)| checker.entry(link, package, &defaults, &profiles))
        .collect::<Result<Vec<_>>>()?;
    let warnings = checker.check_profile_names(&defined)?;
    Ok(Manifest {
        warnings,
        path: path.to_path_buf(),
        repo: checker.repo,
        home: ctx.home.clone(),
        settings,
        entries,
        profiles,
    })
}

/// TOML that does not fit the manifest's shape, located at the fault (1:1 when unknown), in
/// plain words rather than serde's: `[link]` for `[[link]]`, a value of the wrong type, a
/// misspelled key.
fn syntax_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let span = e.span().unwrap_or(0..0);
    let loc = locate_offset(text, span.start);
    let line = text.lines().nth(loc.line - 1).unwrap_or("");
    let line_start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let before = &line[..(span.start - line_start).min(line.len())];
    let (message, hint) = plain_words(e.message().trim(), line, before);
    let error = Error::input(message)
        .context(position(path, loc))
        .with_hint(hint);
    match e.span() {
        Some(span) => error.with_snippet(snippet(path, text, span, "")),
        None => error,
    }
}

/// The line of `text` that `span` starts on, with the span (cut at the line's end) marked.
fn snippet(path: &Path, text: &str, span: Range<usize>, label: &str) -> crate::error::Snippet {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let end = span.end.clamp(start, line_end);
    crate::error::Snippet {
        path: path.display().to_string(),
        line: text[..start].matches('\n').count() + 1,
        text: text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string(),
        span: start - line_start..end - line_start,
        label: label.to_string(),
    }
}

/// serde's message for the common mistakes, in words a user reads, and what to do.
fn plain_words(message: &str, line: &str, before: &str) -> (String, String) {
    // The key whose value is at fault: the last `key =` before it on its line.
    let key = before
        .trim_end()
        .strip_suffix('=')
        .and_then(|k| {
            k.trim_end()
                .rsplit(|c: char| c == '{' || c == ',' || c.is_whitespace())
                .next()
        })
        .map(|k| k.trim_matches('"').to_string())
        .unwrap_or_default();
    let table = line.trim().trim_start_matches('[').trim_end_matches(']');
    let see = "every key and its allowed values are in the MANIFEST section of `dotlink man`";
    if (message.contains("invalid type: map, expected a sequence")
        || message.contains("duplicate key"))
        && (table == "link" || table == "package")
    {
        return (
            format!("`[{table}]` is a single table, but entries are an array of tables"),
            format!("write `[[{table}]]` (double brackets) above each entry"),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, wanted)) = rest.split_once(", expected ")
        && !key.is_empty()
    {
        let wanted = match wanted {
            "a boolean" => "true or false".to_string(),
            "struct RawProfile" => "a table such as { hostname = \"work-*\" }".to_string(),
            "struct RawWhen" => "a table such as { os = \"linux\" }".to_string(),
            other if other.starts_with("struct ") => "a table".to_string(),
            other => other.to_string(),
        };
        return (
            format!("`{key}` must be {wanted}, not {found}"),
            format!("fix the value of `{key}`; {see}"),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((unknown, expected)) = rest.split_once("`, expected one of ")
    {
        let known: Vec<&str> = expected.split(", ").map(|k| k.trim_matches('`')).collect();
        let near = closest(unknown, &known);
        let message = format!("unknown field `{unknown}`");
        return match near {
            Some(near) => (
                format!("{message}; did you mean `{near}`?"),
                format!("the keys here are: {}", known.join(", ")),
            ),
            None => (message, format!("the keys here are: {}", known.join(", "))),
        };
    }
    if message.contains("untagged enum OneOrMany") && !key.is_empty() {
        return (
            format!("`{key}` must be a string or a list of strings"),
            format!("write `{key} = \"…\"` or `{key} = [\"…\", \"…\"]`"),
        );
    }
    let cleaned = message
        .replace(
            "struct RawProfile",
            "a table such as { hostname = \"work-*\" }",
        )
        .replace("struct RawWhen", "a table such as { os = \"linux\" }")
        .replace("struct RawLink", "a [[link]] table")
        .replace("struct RawPackage", "a [[package]] table");
    (cleaned, see.to_string())
}

/// What checking needs: the text (to turn spans into positions), this machine, and where
/// the repository is.
struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    lines: Lines<'a>,
    ctx: &'a Context,
    /// The manifest's directory as given.
    manifest_dir: &'a Path,
    /// The repository root: the manifest's directory, canonical.
    repo: PathBuf,
    /// Every profile an entry's `when` names, with where.
    mentioned: std::cell::RefCell<Vec<(String, usize)>>,
}

impl Checker<'_> {
    /// An input error at `span`: `file:line:column: message`, with a hint.
    fn fail(&self, span: Range<usize>, message: String, hint: &str) -> Error {
        let at = self.lines.locate(span.start);
        Error::input(message)
            .context(position(self.path, at))
            .with_hint(hint)
            .with_snippet(snippet(self.path, self.text, span, ""))
    }

    /// An invalid condition, at the key at fault or, when it has no span, the whole table.
    fn fail_condition(
        &self,
        whole: Range<usize>,
        (span, message): (Range<usize>, String),
        hint: &str,
    ) -> Error {
        let span = if span.is_empty() { whole } else { span };
        self.fail(span, message, hint)
    }

    /// Expand `~` and `$VAR` in a path value, failing at that value.
    fn expand(&self, raw: &Spanned<String>, hint: &str) -> Result<PathBuf> {
        let lookup = |name: &str| self.ctx.var(name);
        paths::expand(raw.get_ref(), &self.ctx.home, &lookup)
            .map_err(|m| self.fail(raw.span(), m, hint))
    }

    /// Compile ignore patterns, failing at the first that is not a valid glob.
    fn ignore(&self, patterns: &[Spanned<String>]) -> Result<GlobSet> {
        build_ignore(patterns).map_err(|(span, m)| self.fail(span, m, "fix the glob pattern"))
    }

    /// Check `[defaults]` and split it into manifest-wide settings and entry fallbacks.
    fn defaults(&self, raw: RawDefaults) -> Result<(Settings, EntryDefaults)> {
        if let (Some(style), Some(method)) = (&raw.style, &raw.method)
            && *method.get_ref() == Method::Hardlink
        {
            return Err(self.fail(
                style.span(),
                "`style` and `method = \"hardlink\"` are both set in [defaults], but style applies only to symlinks".into(),
                "remove `style`, or use `method = \"symlink\"`",
            ));
        }
        let ignore = raw.ignore.unwrap_or_default();
        self.ignore(&ignore)?;
        let backup_dir = match &raw.backup_dir {
            Some(dir) => self.backup_dir(dir)?,
            None => self.ctx.state_dir.join("backups"),
        };
        let settings = Settings {
            prune: raw.prune.unwrap_or(true),
            backup_dir,
        };
        let defaults = EntryDefaults {
            style: raw.style.map(Spanned::into_inner),
            method: raw.method.map(Spanned::into_inner),
            on_conflict: raw.on_conflict,
            ignore,
        };
        Ok((settings, defaults))
    }

    /// `backup_dir` expanded, refused unless it lies inside the home and clear of the repository.
    fn backup_dir(&self, raw: &Spanned<String>) -> Result<PathBuf> {
        let home = &self.ctx.home;
        let dir = paths::normalize(&self.expand(raw, "fix `backup_dir`")?);
        let allowed = dir.is_absolute()
            && (dir.starts_with(home) || dir.starts_with(&self.ctx.state_dir))
            && dir != *home
            && !overlaps(&dir, &self.repo)
            && !overlaps(&dir, self.manifest_dir);
        if !allowed {
            return Err(self.fail(
                raw.span(),
                format!(
                    "backup_dir {} must be a directory inside the home directory and outside the repository",
                    dir.display()
                ),
                "use a path such as \"~/.local/state/dotlink/backups\"",
            ));
        }
        Ok(dir)
    }

    /// A profile chosen with `--profile` or `$DOTLINK_PROFILE` that nothing in the manifest
    /// mentions is an error (a typo would silently skip entries); a `when.profile` that no
    /// `[profiles]` row defines, and that is not chosen, is a warning.
    fn check_profile_names(&self, defined: &[String]) -> Result<Vec<String>> {
        let mentioned = self.mentioned.borrow();
        let mut known: Vec<&str> = defined.iter().map(String::as_str).collect();
        known.extend(mentioned.iter().map(|(n, _)| n.as_str()));
        known.sort_unstable();
        known.dedup();
        let chosen = self
            .ctx
            .machine
            .chosen_profiles
            .as_deref()
            .unwrap_or_default();
        for name in chosen {
            if !known.contains(&name.as_str()) {
                let listed = if known.is_empty() {
                    "the manifest names no profiles".to_string()
                } else {
                    format!("known profiles: {}", known.join(", "))
                };
                let defined_names: Vec<&str> = defined.iter().map(String::as_str).collect();
                let near = closest(name, &defined_names).or_else(|| closest(name, &known));
                let hint = match near {
                    Some(near) => format!("did you mean `{near}`? ({listed})"),
                    None => format!("choose one the manifest uses ({listed})"),
                };
                return Err(Error::input(format!(
                    "profile `{name}` (from --profile or $DOTLINK_PROFILE) is not mentioned in {}",
                    self.path.display()
                ))
                .with_hint(&hint));
            }
        }
        let mut warnings = Vec::new();
        for (name, at) in mentioned.iter() {
            if defined.contains(name) || chosen.contains(name) {
                continue;
            }
            let defined_names: Vec<&str> = defined.iter().map(String::as_str).collect();
            let suggestion = match closest(name, &defined_names) {
                Some(near) => format!("; did you mean `{near}`?"),
                None => String::new(),
            };
            warnings.push(format!(
                "{}: profile `{name}` is not defined in [profiles], so this entry applies only with --profile {name}{suggestion}",
                position(self.path, self.lines.locate(*at))
            ));
        }
        Ok(warnings)
    }

    /// Check `[profiles]` and return the names of those active on this machine.
    fn profiles(&self, raw: BTreeMap<String, Spanned<RawProfile>>) -> Result<Vec<String>> {
        let mut profiles = Vec::with_capacity(raw.len());
        for (name, profile) in raw {
            let whole = profile.span();
            let condition = Condition::from_profile(profile.into_inner()).map_err(|invalid| {
                self.fail_condition(whole, invalid, "fix the profile's condition")
            })?;
            profiles.push((name, condition));
        }
        Ok(conditions::active_profiles(&profiles, &self.ctx.machine))
    }

    /// Check one `[[link]]` entry and fill in what it leaves to `[defaults]`.
    fn entry(
        &self,
        link: RawLink,
        package: Option<Package>,
        defaults: &EntryDefaults,
        active_profiles: &[String],
    ) -> Result<Entry> {
        let skip = self.skip(link.when, active_profiles)?;
        let method = self.method(link.method, link.style.as_ref(), defaults.method)?;
        let source = self.source(&link.source)?;
        let is_glob = source.contains(['*', '?', '[', '{']);
        let recursive = link.recursive.unwrap_or(false);
        let prefix = self.prefix(link.prefix.as_ref(), is_glob)?;
        let allow_outside_home = link.allow_outside_home.unwrap_or(false);
        let target = match self.target(&link.target, allow_outside_home, recursive || is_glob) {
            Ok(target) => target,
            // An entry that does not apply here may name variables or places of another
            // machine; it is never linked here, so only its display needs a target.
            Err(_) if skip.is_some() => PathBuf::from(link.target.get_ref()),
            Err(e) => return Err(e),
        };
        let mut patterns = defaults.ignore.clone();
        patterns.extend(link.ignore.unwrap_or_default());
        let ignore = self.ignore(&patterns)?;
        Ok(Entry {
            source,
            target,
            into_dir: link.target.get_ref().ends_with('/') || is_glob,
            recursive,
            package,
            prefix,
            prune: link.prune,
            method,
            style: link
                .style
                .map(Spanned::into_inner)
                .or(defaults.style)
                .unwrap_or(Style::Relative),
            on_conflict: link
                .on_conflict
                .or(defaults.on_conflict)
                .unwrap_or(Policy::Fail),
            allow_outside_home,
            ignore,
            source_at: self.lines.locate(link.source.span().start),
            target_at: self.lines.locate(link.target.span().start),
            skip,
        })
    }

    /// Why an entry does not apply on this machine, from its `when`; `None` when it does.
    fn skip(
        &self,
        when: Option<Spanned<RawWhen>>,
        active_profiles: &[String],
    ) -> Result<Option<String>> {
        let Some(when) = when else { return Ok(None) };
        let whole = when.span();
        let condition = Condition::from_when(when.into_inner()).map_err(|invalid| {
            self.fail_condition(whole.clone(), invalid, "fix the entry's `when`")
        })?;
        self.mentioned.borrow_mut().extend(
            condition
                .profiles()
                .iter()
                .map(|p| (p.clone(), whole.start)),
        );
        Ok(condition.unmet(&self.ctx.machine, active_profiles))
    }

    /// The entry's method; `style` on a hard link is refused rather than silently ignored.
    fn method(
        &self,
        method: Option<Spanned<Method>>,
        style: Option<&Spanned<Style>>,
        default: Option<Method>,
    ) -> Result<Method> {
        let method = method
            .map(Spanned::into_inner)
            .or(default)
            .unwrap_or(Method::Symlink);
        if let Some(style) = style
            && method == Method::Hardlink
        {
            return Err(self.fail(
                style.span(),
                "`style` is set on a link with `method = \"hardlink\"`, but style applies only to symlinks".into(),
                "remove `style` from this entry, or use `method = \"symlink\"`",
            ));
        }
        Ok(method)
    }

    /// `prefix`, which only a glob's matches can take (other entries name their target).
    fn prefix(&self, raw: Option<&Spanned<String>>, is_glob: bool) -> Result<String> {
        let Some(raw) = raw else {
            return Ok(String::new());
        };
        let prefix = raw.get_ref();
        if !is_glob {
            return Err(self.fail(
                raw.span(),
                "`prefix` applies only to an entry whose source is a glob".into(),
                "write the prefixed name in `target` instead, such as target = \"~/.vimrc\"",
            ));
        }
        if prefix.contains('/') || prefix.contains('\0') {
            return Err(self.fail(
                raw.span(),
                format!("`prefix` {prefix:?} contains a `/`; it is put before each name"),
                "use a prefix such as \".\"; to link into a subdirectory, end `target` with it",
            ));
        }
        Ok(prefix.clone())
    }

    /// The entry's source without a trailing `/`; it must name something inside the repository.
    /// `.` is the repository itself.
    fn source(&self, raw: &Spanned<String>) -> Result<String> {
        let trimmed = raw.get_ref().trim_end_matches('/');
        let source = if trimmed.is_empty() && !raw.get_ref().is_empty() {
            "/".to_string()
        } else {
            trimmed.trim_start_matches("./").to_string()
        };
        if source.is_empty() {
            return Err(self.fail(
                raw.span(),
                "`source` is empty: it must name a file, directory or glob in the repository"
                    .into(),
                "write a path relative to the manifest's directory, such as \"zsh/zshrc\"",
            ));
        }
        if paths::escapes(Path::new(&source)) {
            return Err(self.fail(
                raw.span(),
                format!(
                    "source `{source}` is outside the repository {}",
                    self.repo.display()
                ),
                "sources are relative to the manifest's directory and may not climb out of it with `..` or start with `/`",
            ));
        }
        Ok(source)
    }

    /// The entry's target, expanded and normalised, if it is a place dotlink may link to.
    fn target(
        &self,
        raw: &Spanned<String>,
        allow_outside_home: bool,
        links_contents: bool,
    ) -> Result<PathBuf> {
        let expanded = self.expand(raw, "fix `target`")?;
        if !expanded.is_absolute() {
            return Err(self.fail(
                raw.span(),
                format!("target `{}` is a relative path", raw.get_ref()),
                "start targets with `~/` (the home directory) or `/`",
            ));
        }
        let target = paths::normalize(&expanded);
        if !allow_outside_home {
            self.target_in_home(raw, &target)?;
        }
        // Recursive and glob entries link what is inside their source, not the source itself.
        if !links_contents {
            self.target_not_home(raw, &target)?;
        }
        self.target_outside_repo(raw, &target)?;
        Ok(target)
    }

    /// Targets stay inside the home directory unless the entry opts out.
    fn target_in_home(&self, raw: &Spanned<String>, target: &Path) -> Result<()> {
        let home = &self.ctx.home;
        if target.starts_with(home) || really_below(target, home) {
            return Ok(());
        }
        Err(self.fail(
            raw.span(),
            format!(
                "target {} is outside the home directory {}",
                target.display(),
                home.display()
            ),
            "add `allow_outside_home = true` to this entry if that is intended",
        ))
    }

    /// The home directory is never replaced by a link: not itself, not a directory holding it,
    /// as spelled here or in `$HOME`. (The planner checks each target's real place too.)
    fn target_not_home(&self, raw: &Spanned<String>, target: &Path) -> Result<()> {
        let message = if target == self.ctx.home || target == self.ctx.home_as_set {
            "target is the home directory itself, which dotlink will not replace with a link"
                .to_string()
        } else if self.ctx.home.starts_with(target) || self.ctx.home_as_set.starts_with(target) {
            format!(
                "target {} holds the home directory, which dotlink will not replace with a link",
                target.display()
            )
        } else {
            return Ok(());
        };
        Err(self.fail(raw.span(), message, HOME_HINT))
    }

    /// A target inside the repository would have dotlink write into the repository.
    fn target_outside_repo(&self, raw: &Spanned<String>, target: &Path) -> Result<()> {
        // A directory that merely contains the repository is fine for recursive and glob
        // entries; each link they expand to is checked again in `expand`.
        if !target.starts_with(&self.repo) && !target.starts_with(self.manifest_dir) {
            return Ok(());
        }
        Err(self.fail(
            raw.span(),
            format!(
                "target {} is inside the repository {}",
                target.display(),
                self.repo.display()
            ),
            "targets must lie outside the dotfiles repository",
        ))
    }
}

/// The known name closest to `name`, if one is close enough to be a typo of it.
fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
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

/// What to do instead of linking over the home directory.
pub(crate) const HOME_HINT: &str = "use `recursive = true` to link the source's files into the home directory, or name a path inside it";

/// Whether `path` lies below `dir` once the symlinks on its way are resolved (a target
/// spelled through another name of the home directory). Only its directory is resolved, not
/// the path itself: once linked, a target leads into the repository, and its place is its real
/// directory and its name. The one exception is `dir` itself under another name (`$HOME/`, the
/// directory a glob or a package links into, with HOME a link to the real home). The planner
/// checks every target's real place again before anything is written.
fn really_below(path: &Path, dir: &Path) -> bool {
    if path.canonicalize().is_ok_and(|real| real == dir) {
        return true;
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return false;
    };
    let Some(existing) = parent.ancestors().find(|a| a.exists()) else {
        return false;
    };
    let rest = parent.strip_prefix(existing).unwrap_or(Path::new(""));
    existing
        .canonicalize()
        .is_ok_and(|real| real.join(rest).join(name).starts_with(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `message` says `needle` (and the failure shows the whole message).
    fn assert_has(message: &str, needle: &str) {
        assert!(message.contains(needle), "{message}");
    }
    use crate::context::Machine;
    use crate::manifest::FILE_NAME;

    fn ctx(home: &Path) -> Context {
        Context {
            home: home.to_path_buf(),
            home_as_set: home.to_path_buf(),
            home_is_real: false,
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
        result.map_err(|e| {
            // Said as a user reads it (the position first), the temporary path as `M`.
            let shown = e.to_string().replace(&path.display().to_string(), "M");
            let mut e = e.without_place();
            e.message = shown;
            e
        })
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
            err.to_string()
                .starts_with("M:4:1: unknown field `recursiv`"),
            "{}",
            err.to_string()
        );
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn bad_values_name_the_allowed_ones() {
        let err = parse_in("[defaults]\nstyle = \"weird\"\n").unwrap_err();
        assert_has(&err.to_string(), "M:2:9");
        assert_has(&err.to_string(), "relative");
    }

    #[test]
    fn escaping_sources_are_refused() {
        let err = parse_in("[[link]]\nsource = \"../x\"\ntarget = \"~/.x\"\n").unwrap_err();
        assert_has(
            &err.to_string(),
            "M:2:10: source `../x` is outside the repository",
        );
        let err = parse_in("[[link]]\nsource = \"/etc/passwd\"\ntarget = \"~/.x\"\n").unwrap_err();
        assert_has(&err.to_string(), "outside the repository");
    }

    #[test]
    fn targets_outside_home_need_opt_in() {
        let err = parse_in("[[link]]\nsource = \"a\"\ntarget = \"/etc/a\"\n").unwrap_err();
        assert_has(
            &err.to_string(),
            "M:3:10: target /etc/a is outside the home directory",
        );
        assert!(err.hint.unwrap().contains("allow_outside_home = true"));
        let err = parse_in("[[link]]\nsource = \"a\"\ntarget = \"~/../x\"\n").unwrap_err();
        assert_has(&err.to_string(), "outside the home directory");
        assert!(
            parse_in("[[link]]\nsource = \"a\"\ntarget = \"/etc/a\"\nallow_outside_home = true\n")
                .is_ok()
        );
    }

    #[test]
    fn targets_may_not_overlap_the_repository_or_be_home() {
        let err = parse_in("[[link]]\nsource = \"a\"\ntarget = \"~/dots/a\"\n").unwrap_err();
        assert_has(&err.to_string(), "is inside the repository");
        let err = parse_in("[[link]]\nsource = \"a\"\ntarget = \"~\"\n").unwrap_err();
        assert_has(&err.to_string(), "home directory itself");
        assert!(parse_in("[[link]]\nsource = \"a\"\ntarget = \"~\"\nrecursive = true\n").is_ok());
    }

    #[test]
    fn style_on_a_hard_link_is_an_error() {
        let err = parse_in("[[link]]\nsource = \"a\"\ntarget = \"~/.a\"\nmethod = \"hardlink\"\nstyle = \"absolute\"\n").unwrap_err();
        assert_has(
            &err.to_string(),
            "M:5:9: `style` is set on a link with `method = \"hardlink\"`",
        );
        let err =
            parse_in("[defaults]\nmethod = \"hardlink\"\nstyle = \"relative\"\n").unwrap_err();
        assert_has(&err.to_string(), "style applies only to symlinks");
    }

    #[test]
    fn backup_dir_must_stay_home() {
        let err = parse_in("[defaults]\nbackup_dir = \"/tmp/elsewhere\"\n").unwrap_err();
        assert_has(&err.to_string(), "backup_dir /tmp/elsewhere must be");
        let err = parse_in("[defaults]\nbackup_dir = \"~/dots/b\"\n").unwrap_err();
        assert_has(&err.to_string(), "backup_dir");
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
        assert_has(
            &err.to_string(),
            "M:2:11: ignore pattern `a[` is not a valid glob",
        );
    }
}
