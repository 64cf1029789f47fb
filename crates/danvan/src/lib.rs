//! What the `danvan` binary shares with its tests: the demo's accounts.

pub mod demo;
