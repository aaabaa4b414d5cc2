//! The one integration-test binary; each module tests one area against real processes.

#[path = "../common/mod.rs"]
mod common;

mod audit;
mod bench;
mod cli;
mod contestant;
mod interrupt;
mod report;
mod run;
mod verify;
mod ws;
