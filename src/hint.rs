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
