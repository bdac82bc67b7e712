//! dotlink: a dotfiles symlink-farm manager.
//!
//! The flow is visible in the modules: [`manifest`] (parse and check `dotlink.toml`, expand it
//! into links) → [`plan`] (inspect the filesystem, decide; no writes) → [`apply`] (act, record
//! [`state`]) → [`report`] (print for people, JSON for scripts). [`commands`] wires them
//! together for each subcommand of the [`cli`].

pub mod adopt;
pub mod apply;
pub mod backup;
pub mod cli;
pub mod commands;
pub mod context;
pub mod error;
pub mod fault;
pub mod fsutil;
pub mod inspect;
pub mod journal;
pub mod manifest;
pub mod paths;
pub mod plan;
pub mod progress;
pub mod report;
pub mod restore;
pub mod state;
