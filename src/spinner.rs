//! The one piece of terminal UI below the commands: a spinner naming what faceoff waits for
//! (an install, a contestant starting, verify checks).

use std::time::Duration;

/// A spinner on stderr naming what faceoff waits for; it draws nothing when stderr is not a
/// terminal.
pub fn spinner(message: String) -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .expect("the template is valid"),
    );
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
