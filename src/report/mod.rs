//! Output, in one place: every sentence a person reads and every JSON document a script reads
//! is rendered here from values (plans, outcomes, notes, errors). Nothing else prints.
//!
//! [`human`] writes for people, [`json`] for scripts, and both take their words for reasons,
//! conflicts and notes from [`text`]. [`progress`] is the spinner for slow runs, and
//! [`out`] the standard output they all write to.

pub(crate) mod human;
pub(crate) mod json;
pub(crate) mod out;
pub(crate) mod progress;
mod text;

pub(crate) use human::*;
