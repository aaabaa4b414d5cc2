//! The one integration-test binary; each module tests one area against real processes.

mod cli;
