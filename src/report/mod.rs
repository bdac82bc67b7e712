pub mod human;
pub mod progress;

pub use human::*;
