//! One file per subcommand: glue between the CLI and the library modules.

pub mod bench;
pub mod report;
pub mod run;
pub mod show;
pub mod verify;
