//! `faceoff run`: the main job.

use std::process::ExitCode;

use crate::cli::RunArgs;

/// Runs the suite on every contestant.
pub fn run(_args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "'faceoff run' is not built yet; measure one local server with \
         'faceoff bench http://127.0.0.1:PORT/path' meanwhile"
    )
}
