//! Conditions: which entries apply on this machine. An entry's `when = { os, hostname,
//! profile }` must match in every key it names; `[profiles]` names profiles by the machines
//! they apply to, and `--profile` / `$DOTLINK_PROFILE` choose profiles explicitly instead.

use crate::context::Machine;
use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

/// Operating systems a condition may name (Rust's names for them).
pub const KNOWN_OS: [&str; 11] = [
    "linux",
    "macos",
    "freebsd",
    "netbsd",
    "openbsd",
    "dragonfly",
    "solaris",
    "illumos",
    "android",
    "ios",
    "windows",
];

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

/// `when = { … }` on an entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWhen {
    os: Option<Spanned<OneOrMany>>,
    hostname: Option<Spanned<OneOrMany>>,
    profile: Option<OneOrMany>,
}

/// One profile in `[profiles]`: the machines it is active on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    os: Option<Spanned<OneOrMany>>,
    hostname: Option<Spanned<OneOrMany>>,
}

/// A checked condition.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    os: Vec<String>,
    hostname: Vec<(String, GlobMatcher)>,
    profile: Vec<String>,
}

type Invalid = (Range<usize>, String);

fn check_os(os: Option<Spanned<OneOrMany>>) -> Result<Vec<String>, Invalid> {
    let Some(os) = os else { return Ok(Vec::new()) };
    let span = os.span();
    let names = os.into_inner().into_vec();
    for name in &names {
        if !KNOWN_OS.contains(&name.as_str()) {
            return Err((
                span,
                format!(
                    "os `{name}` is not one dotlink knows; use one of: {}",
                    KNOWN_OS.join(", ")
                ),
            ));
        }
    }
    Ok(names)
}

fn check_hostname(
    hostname: Option<Spanned<OneOrMany>>,
) -> Result<Vec<(String, GlobMatcher)>, Invalid> {
    let Some(hostname) = hostname else {
        return Ok(Vec::new());
    };
    let span = hostname.span();
    hostname
        .into_inner()
        .into_vec()
        .into_iter()
        .map(|pattern| match Glob::new(&pattern) {
            Ok(glob) => Ok((pattern, glob.compile_matcher())),
            Err(e) => Err((
                span.clone(),
                format!(
                    "hostname pattern `{pattern}` is not a valid glob: {}",
                    e.kind()
                ),
            )),
        })
        .collect()
}

impl Condition {
    pub(super) fn from_when(raw: RawWhen) -> Result<Condition, Invalid> {
        Ok(Condition {
            os: check_os(raw.os)?,
            hostname: check_hostname(raw.hostname)?,
            profile: raw.profile.map(OneOrMany::into_vec).unwrap_or_default(),
        })
    }

    pub(super) fn from_profile(raw: RawProfile) -> Result<Condition, Invalid> {
        Ok(Condition {
            os: check_os(raw.os)?,
            hostname: check_hostname(raw.hostname)?,
            profile: Vec::new(),
        })
    }

    /// The profiles the condition names.
    pub fn profiles(&self) -> &[String] {
        &self.profile
    }

    /// `None` when the condition holds; otherwise why not, for people.
    pub fn unmet(&self, machine: &Machine, active_profiles: &[String]) -> Option<String> {
        if !self.os.is_empty() && !self.os.contains(&machine.os) {
            return Some(format!(
                "os is {}, not {}",
                machine.os,
                self.os.join(" or ")
            ));
        }
        if !self.hostname.is_empty()
            && !self
                .hostname
                .iter()
                .any(|(_, m)| m.is_match(&machine.hostname))
        {
            let patterns: Vec<&str> = self.hostname.iter().map(|(p, _)| p.as_str()).collect();
            return Some(format!(
                "hostname is {}, not {}",
                machine.hostname,
                patterns.join(" or ")
            ));
        }
        if !self.profile.is_empty() && !self.profile.iter().any(|p| active_profiles.contains(p)) {
            let active = if active_profiles.is_empty() {
                "none".to_string()
            } else {
                active_profiles.join(", ")
            };
            return Some(format!(
                "profile {} is not active (active: {active})",
                self.profile.join(" or ")
            ));
        }
        None
    }
}

/// The active profiles: those chosen explicitly, else every `[profiles]` entry whose
/// condition matches this machine.
pub fn active_profiles(profiles: &[(String, Condition)], machine: &Machine) -> Vec<String> {
    match &machine.chosen_profiles {
        Some(chosen) => chosen.clone(),
        None => profiles
            .iter()
            .filter(|(_, condition)| condition.unmet(machine, &[]).is_none())
            .map(|(name, _)| name.clone())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(chosen: Option<&[&str]>) -> Machine {
        Machine {
            os: "linux".into(),
            hostname: "work-42".into(),
            chosen_profiles: chosen.map(|c| c.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn condition(os: &[&str], host: &[&str], profile: &[&str]) -> Condition {
        Condition {
            os: os.iter().map(|s| s.to_string()).collect(),
            hostname: host
                .iter()
                .map(|h| (h.to_string(), Glob::new(h).unwrap().compile_matcher()))
                .collect(),
            profile: profile.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn every_named_key_must_match() {
        let m = machine(None);
        assert_eq!(condition(&[], &[], &[]).unmet(&m, &[]), None);
        assert_eq!(condition(&["linux"], &["work-*"], &[]).unmet(&m, &[]), None);
        assert_eq!(
            condition(&["macos"], &[], &[]).unmet(&m, &[]).unwrap(),
            "os is linux, not macos"
        );
        assert!(
            condition(&["linux"], &["home-*"], &[])
                .unmet(&m, &[])
                .unwrap()
                .contains("hostname is work-42")
        );
        assert!(
            condition(&[], &[], &["work"])
                .unmet(&m, &[])
                .unwrap()
                .contains("profile work is not active")
        );
        assert_eq!(
            condition(&[], &[], &["work"]).unmet(&m, &["work".into()]),
            None
        );
    }

    #[test]
    fn profiles_come_from_the_machine_unless_chosen() {
        let profiles = vec![
            ("work".to_string(), condition(&[], &["work-*"], &[])),
            ("mac".to_string(), condition(&["macos"], &[], &[])),
            ("everywhere".to_string(), condition(&[], &[], &[])),
        ];
        assert_eq!(
            active_profiles(&profiles, &machine(None)),
            ["work", "everywhere"]
        );
        assert_eq!(
            active_profiles(&profiles, &machine(Some(&["mac"]))),
            ["mac"]
        );
    }
}
