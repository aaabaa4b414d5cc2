//! The sections that lead every report: the built-in claims judged, and the verdict of every
//! built-in profile at its own target load and SLO, priced with its own pricing file.

use super::{claims, cost, judge, profile, ClaimsReport, Facts, FileKind, ProfileVerdict};

/// The claims and verdicts of one run.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The built-in claims file judged.
    pub claims: ClaimsReport,
    /// One verdict per built-in profile.
    pub verdicts: Vec<ProfileVerdict>,
}

impl Answer {
    /// Judges and ranks `facts` with the built-in files.
    pub fn of(facts: &Facts) -> Answer {
        // The built-in files are checked by unit tests (claims::tests, profile::tests).
        let claims_file =
            claims::load(claims::DEFAULT_CLAIMS).expect("the built-in claims file is valid");
        let default_pricing =
            cost::load(cost::DEFAULT_PRICING).expect("the built-in pricing file is valid");
        let verdicts = FileKind::Profile
            .builtin_names()
            .into_iter()
            .map(|name| {
                let p = profile::load(name).expect("the built-in profiles are valid");
                let pricing = cost::load(&p.pricing).expect("built-in profiles name valid pricing");
                profile::rank(&p, profile::Overrides::default(), facts, &pricing)
            })
            .collect();
        Answer {
            claims: judge::judge(&claims_file, facts, &default_pricing),
            verdicts,
        }
    }
}
