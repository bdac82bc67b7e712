//! dotlink: a dotfiles symlink-farm manager.
//!
//! The flow is visible in the modules: [`manifest`] (parse and check `dotlink.toml`, expand it
//! into links) → `plan` (inspect the filesystem, decide; no writes) → `apply` (act, record
//! the `state`) → `report` (print for people, JSON for scripts). [`cli`] wires them together
//! for each subcommand; `import` writes a manifest from another tool's configuration.
//! ARCHITECTURE.md in the repository says where each decision lives.
//!
//! Only what the binary ([`cli`]) and the fuzz target ([`manifest`], [`context`]) use is
//! public (and [`shared_path`], which the manifest's specs hold); everything else is the
//! crate's own.

pub(crate) mod apply;
pub mod cli;
pub mod context;
pub mod error;
pub(crate) mod import;
pub(crate) mod link_text;
pub(crate) mod listing;
pub mod manifest;
pub(crate) mod mounts;
pub(crate) mod paths;
pub(crate) mod plan;
pub(crate) mod report;
pub mod shared_path;
pub(crate) mod state;
