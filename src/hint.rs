//! Advice shown under an error: each module's error type says how the user can fix it, and
//! `main` prints every hint in the chain as `hint:` lines.

/// Errors that know how the user can fix them.
pub trait Hint {
    /// One line of advice, if there is one.
    fn hint(&self) -> Option<String>;
}

/// Collects the hints of every error in the chain.
pub fn hints(err: &anyhow::Error) -> Vec<String> {
    err.chain()
        .filter_map(|cause| {
            if let Some(e) = cause.downcast_ref::<crate::load::Error>() {
                return e.hint();
            }
            if let Some(e) = cause.downcast_ref::<crate::contestant::Error>() {
                return e.hint();
            }
            if let Some(e) = cause.downcast_ref::<crate::suite::Error>() {
                return e.hint();
            }
            if let Some(e) = cause.downcast_ref::<crate::verdict::Error>() {
                return e.hint();
            }
            None
        })
        .collect()
}

/// The error and its causes on one line, as `{:#}` prints them, but a cause whose text the
/// line already ends with is left out: some errors (rusqlite's, for one) print their cause and
/// also return it as their source, which would print "locked: locked".
pub fn error_line(err: &anyhow::Error) -> String {
    join_causes(err.chain().map(ToString::to_string))
}

/// [`error_line`] for a library error kept inside one of faceoff's own: the `postgres` crate
/// prints "error connecting to server" and keeps the reason ("Connection refused") as its
/// source, so a message that shows only `{0}` would lose it. Those variants print
/// `causes(.0)` and are not a source themselves, so each cause prints once.
pub fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut texts = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        texts.push(e.to_string());
        next = e.source();
    }
    join_causes(texts.into_iter())
}

fn join_causes(texts: impl Iterator<Item = String>) -> String {
    let mut line = String::new();
    for text in texts {
        if line.is_empty() {
            line = text;
        } else if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_prints_once() {
        let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        // A cause that repeats its source's text.
        #[derive(Debug, thiserror::Error)]
        #[error("error connecting to server: {0}")]
        struct Repeats(#[source] std::io::Error);
        let err = anyhow::Error::from(Repeats(refused())).context("PostgreSQL");
        assert_eq!(
            error_line(&err),
            format!("PostgreSQL: error connecting to server: {}", refused())
        );
        // Each of faceoff's own errors prints its cause once.
        let io = crate::contestant::Error::Io {
            what: "read",
            path: "x".into(),
            cause: refused(),
        };
        let line = format!("{:#}", anyhow::Error::from(io));
        assert_eq!(line.matches(&refused().to_string()).count(), 1, "{line}");
        let store = crate::store::Error::from(rusqlite::Error::InvalidQuery);
        let line = format!("{:#}", anyhow::Error::from(store));
        assert_eq!(line.matches("Query is not read-only").count(), 1, "{line}");
    }
}
