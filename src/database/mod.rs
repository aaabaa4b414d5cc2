//! The database the contestants serve the contract's data from: the embedded SQLite file by
//! default (see [`crate::contract::dataset`]), or PostgreSQL, a throwaway server of faceoff's own
//! ([`postgres`]).

pub mod postgres;
