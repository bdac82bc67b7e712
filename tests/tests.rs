//! dotlink's integration tests, in one binary so the sandbox in `common` compiles once (as
//! ripgrep does). Every test drives the real `dotlink` binary on real temporary trees, one
//! module per area.

mod common;

mod ansible;
mod apply;
mod conditions;
mod crash;
mod edges;
mod errors;
mod faults;
mod hardlinks;
mod hostile;
mod lessons;
mod migrate;
mod peers;
mod policies;
mod properties;
mod schemas;
mod status;
mod syscalls;
mod workflow;
