//! The load engine: per-core workers driving HTTP/1.1 connections at a socket address.
//! It knows addresses and bytes, nothing about contestants.

/// Errors that stop a load before it starts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The target could not be reached before the load began.
    #[error("could not connect to {addr}: {source}")]
    Unreachable {
        /// The target.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl crate::Hint for Error {
    fn hint(&self) -> Option<String> {
        match self {
            Error::Unreachable { .. } => {
                Some("is the server running and listening on that port?".into())
            }
        }
    }
}
