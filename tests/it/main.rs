//! The one integration-test binary; each module tests one area against real processes.

#[path = "../common/mod.rs"]
mod common;

mod audit;
mod bench;
mod cli;
mod contestant;
mod cores;
mod firstrun;
mod gates;
mod interrupt;
mod outputs;
mod postgres;
mod postgres_compare;
mod postgres_contract;
mod report;
mod run;
mod scale;
mod verdict;
mod verify;
mod ws;
