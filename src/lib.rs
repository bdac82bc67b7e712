//! dotlink: a dotfiles symlink-farm manager.
//!
//! The flow is visible in the modules: [`manifest`] (parse and check `dotlink.toml`, expand it
//! into links) → [`plan`] (inspect the filesystem, decide; no writes) → [`apply`] (act, record
//! [`state`]) → [`report`] (print for people, JSON for scripts). [`cli`] wires them
//! together for each subcommand.

pub mod apply;
pub mod cli;
pub mod context;
pub mod error;
pub mod manifest;
pub mod paths;
pub mod plan;
pub mod report;
pub mod state;
