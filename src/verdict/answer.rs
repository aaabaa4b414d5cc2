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
    /// Judges and ranks `facts` with the built-in files. An error names the file that could
    /// not be read: inside the repository the built-in files are the developer's own copies
    /// (see `bundled`), so an edit can break them; the unit tests (claims::tests,
    /// profile::tests) check the committed ones.
    pub fn of(facts: &Facts) -> Result<Answer, super::Error> {
        let claims_file = claims::load(claims::DEFAULT_CLAIMS)?;
        let default_pricing = cost::load(cost::DEFAULT_PRICING)?;
        let verdicts = FileKind::Profile
            .builtin_names()
            .into_iter()
            .map(|name| {
                let p = profile::load(name)?;
                let pricing = cost::load(&p.pricing)?;
                Ok(profile::rank(
                    &p,
                    profile::Overrides::default(),
                    facts,
                    &pricing,
                ))
            })
            .collect::<Result<_, super::Error>>()?;
        Ok(Answer {
            claims: judge::judge(&claims_file, facts, &default_pricing),
            verdicts,
        })
    }
}
