//! Project profiles (`profiles/*.toml`) and the verdict: contestants ranked for one profile,
//! with the reasons, the cost at the profile's load and the caveats.
//!
//! The score (0 to 1) of a contestant is a weighted geometric mean, over the profile's
//! workloads, of its figure over the best figure of any contestant on that workload: capacity
//! under the SLO where the run measured it, else median closed-loop throughput. Its interval
//! comes from the figures' intervals (each figure at its bound, the best at its point). The
//! audit's score (0-100) then takes `security_weight` of the total. A contestant missing a
//! weighted workload or the audit is scored on what it has, said so, and ranked after those
//! measured on everything. Two neighbours whose score intervals overlap are "within noise".

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::cost::{self, CostEstimate, Pricing};
use super::facts::Facts;
use super::toml_file::Checker;
use super::{Error, FileKind, Source};

/// A validated profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// Profile name.
    pub name: String,
    /// What kind of project it stands for.
    pub description: String,
    /// `builtin:NAME` or the path given.
    pub file: String,
    /// The p99 objective (µs).
    pub slo_p99_us: f64,
    /// The load to price (req/s).
    pub target_rps: f64,
    /// Share of capacity kept free.
    pub headroom: f64,
    /// Share of the score from the audit.
    pub security_weight: f64,
    /// Pricing file name or path.
    pub pricing: String,
    /// Workloads and their weights.
    pub workloads: Vec<WeightedWorkload>,
}

/// One workload of a profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightedWorkload {
    /// Workload name.
    pub name: String,
    /// Its weight.
    pub weight: f64,
}

/// Why a figure is doubtful or absent, per contestant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Caveat {
    /// Its score interval overlaps the next one up.
    WithinNoise {
        /// The contestant it may swap places with.
        of: String,
    },
    /// A figure is a lower bound: the load engine was the limit.
    EngineLimited {
        /// The workload.
        workload: String,
    },
    /// Something the profile weighs was not measured.
    NotMeasured {
        /// What.
        what: String,
    },
    /// The capacity was measured at another SLO than the profile's.
    OtherSlo {
        /// The SLO it was measured at (µs).
        measured_us: f64,
    },
}

impl Caveat {
    /// The caveat in words.
    pub fn text(&self) -> String {
        match self {
            Caveat::WithinNoise { of } => format!("within noise of {of}"),
            Caveat::EngineLimited { workload } => {
                format!("engine-limited on {workload}: its figure is a lower bound")
            }
            Caveat::NotMeasured { what } => format!("not measured: {what}"),
            Caveat::OtherSlo { measured_us } => format!(
                "capacity measured at p99 < {} ms, stricter than the profile's: its cost is an upper bound",
                measured_us / 1000.0
            ),
        }
    }
}

/// One profile's verdict on one run.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileVerdict {
    /// The profile as applied (command-line overrides included).
    pub profile: Profile,
    /// The platform the cost is priced on.
    pub pricing: String,
    /// Where its prices come from, and when.
    pub pricing_source: String,
    /// The run judged.
    pub run_id: i64,
    /// Contestants best first; those without any figure last, unranked.
    pub ranking: Vec<Ranked>,
    /// What applies to every contestant (e.g. no capacity measured at all).
    pub notes: Vec<String>,
}

/// One contestant's place.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    /// Place from 1; `None` when it has no figure on any weighted workload.
    pub place: Option<u32>,
    /// Contestant name.
    pub contestant: String,
    /// Name shown in tables.
    pub display_name: String,
    /// Stack label.
    pub stack: String,
    /// Score 0-1 (1 = best on every weighted workload and a perfect audit).
    pub score: Option<f64>,
    /// Its interval: low end.
    pub score_lo: Option<f64>,
    /// Its interval: high end.
    pub score_hi: Option<f64>,
    /// Share of the profile's weight it was measured on (1 = all).
    pub coverage: f64,
    /// Why it stands where it does: its figure against the best per workload.
    pub reasons: Vec<String>,
    /// The cost at the profile's target load; `None` when capacity was not measured.
    pub cost: Option<CostEstimate>,
    /// Why there is no cost, when there is none.
    pub cost_missing: Option<String>,
    /// Doubts.
    pub caveats: Vec<Caveat>,
    /// The caveats in words.
    pub caveat_text: Vec<String>,
}

/// Command-line overrides of a profile.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    /// `--target-rps`.
    pub target_rps: Option<f64>,
    /// `--slo-p99`, in µs.
    pub slo_p99_us: Option<f64>,
}

/// The built-in profile `name`, or the file at a path.
pub fn load(name_or_path: &str) -> Result<Profile, Error> {
    parse(&super::source(FileKind::Profile, name_or_path)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: Spanned<String>,
    description: Option<String>,
    slo_p99: Spanned<String>,
    target_rps: Spanned<f64>,
    headroom: Spanned<f64>,
    security_weight: Spanned<f64>,
    pricing: Option<Spanned<String>>,
    #[serde(default, rename = "workload")]
    workloads: Vec<RawWeighted>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeighted {
    name: Spanned<String>,
    weight: Spanned<f64>,
}

/// Validates a profile.
pub fn parse(source: &Source) -> Result<Profile, Error> {
    let (raw, mut check): (RawProfile, _) = Checker::parse(FileKind::Profile, source)?;
    check.name(&raw.name, "profile name");
    let slo = match crate::duration::parse_duration(raw.slo_p99.get_ref()) {
        Ok(d) if d.as_micros() >= 100 && d.as_secs() <= 60 => d.as_secs_f64() * 1e6,
        Ok(_) => {
            check.of(&raw.slo_p99, "slo_p99 must be between 100us and 60s".into());
            0.0
        }
        Err(e) => {
            check.of(&raw.slo_p99, format!("slo_p99: {e}"));
            0.0
        }
    };
    let target_rps = check.number(&raw.target_rps, "target_rps", 0.001, 1e9);
    let headroom = check.number(&raw.headroom, "headroom", 0.0, 0.95);
    let security_weight = check.number(&raw.security_weight, "security_weight", 0.0, 1.0);
    if let Some(p) = &raw.pricing {
        if let Err(e) = super::source(FileKind::Pricing, p.get_ref()) {
            check.of(p, e.to_string());
        }
    }
    if raw.workloads.is_empty() {
        check.at(
            source.text.len(),
            "the profile weighs no workload; add a [[workload]] table with name and weight".into(),
        );
    }
    let mut workloads: Vec<WeightedWorkload> = Vec::new();
    for w in &raw.workloads {
        check.name(&w.name, "workload");
        let weight = check.number(&w.weight, "weight", 0.0, 1e6);
        if weight == 0.0 {
            check.of(&w.weight, "weight must be above 0".into());
        }
        if workloads.iter().any(|k| k.name == *w.name.get_ref()) {
            check.of(
                &w.name,
                format!("workload '{}' is listed twice", w.name.get_ref()),
            );
        }
        workloads.push(WeightedWorkload {
            name: w.name.get_ref().clone(),
            weight,
        });
    }
    let profile = Profile {
        name: raw.name.into_inner(),
        description: raw.description.unwrap_or_default(),
        file: source.label.clone(),
        slo_p99_us: slo,
        target_rps,
        headroom,
        security_weight,
        pricing: raw
            .pricing
            .map_or_else(|| cost::DEFAULT_PRICING.to_string(), Spanned::into_inner),
        workloads,
    };
    check.finish(profile)
}

/// The figure a workload is ranked on for one contestant: (point, lo, hi, engine-limited).
type Scored = (f64, f64, f64, bool);

/// Ranks the contestants of `facts` for `profile`, pricing with `pricing`.
pub fn rank(
    profile: &Profile,
    overrides: Overrides,
    facts: &Facts,
    pricing: &Pricing,
) -> ProfileVerdict {
    let mut profile = profile.clone();
    if let Some(t) = overrides.target_rps {
        profile.target_rps = t;
    }
    if let Some(s) = overrides.slo_p99_us {
        profile.slo_p99_us = s;
    }
    let total_weight: f64 = profile.workloads.iter().map(|w| w.weight).sum();
    let mut notes = Vec::new();
    let any_capacity = profile
        .workloads
        .iter()
        .any(|w| facts.capacity.iter().any(|c| c.workload == w.name));
    if !any_capacity {
        notes.push(format!(
            "capacity under the SLO (p99 < {} ms) was not measured for these workloads: ranked \
             on closed-loop throughput, and no cost is given (run `faceoff run --suite scale`)",
            profile.slo_p99_us / 1000.0
        ));
    }
    let absent: Vec<&str> = profile
        .workloads
        .iter()
        .filter(|w| {
            facts.workload(&w.name).is_none()
                && !facts.capacity.iter().any(|c| c.workload == w.name)
        })
        .map(|w| w.name.as_str())
        .collect();
    if !absent.is_empty() {
        notes.push(format!(
            "not in this run: {} (their weight is left out for everyone)",
            absent.join(", ")
        ));
    }
    let audited = !facts.audit.is_empty();
    if !audited && profile.security_weight > 0.0 {
        notes.push(format!(
            "no audit stored with this run: security ({}% of the score) is left out",
            (profile.security_weight * 100.0).round()
        ));
    }

    // Per workload: each contestant's figure, and the best point. One basis per workload:
    // capacity under the SLO when any contestant has it, else throughput.
    let figures: Vec<Vec<(String, Scored)>> = profile
        .workloads
        .iter()
        .map(|w| {
            let by_capacity = facts
                .capacity
                .iter()
                .any(|c| c.workload == w.name && c.slo_p99_us <= profile.slo_p99_us * 1.01);
            facts
                .contestants
                .iter()
                .filter(|c| c.measured)
                .filter_map(|c| {
                    let s = scored(facts, &w.name, &c.name, &profile, by_capacity)?;
                    Some((c.name.clone(), s))
                })
                .collect()
        })
        .collect();
    let best: Vec<Option<f64>> = figures
        .iter()
        .map(|f| f.iter().map(|(_, s)| s.0).max_by(f64::total_cmp))
        .collect();

    let mut ranked: Vec<Ranked> = facts
        .contestants
        .iter()
        .filter(|c| c.measured)
        .map(|c| {
            let mut caveats = Vec::new();
            let mut reasons = Vec::new();
            let (mut log_sum, mut log_lo, mut log_hi, mut weight) = (0.0, 0.0, 0.0, 0.0);
            let mut missing = Vec::new();
            for ((w, figs), best) in profile.workloads.iter().zip(&figures).zip(&best) {
                let Some(best) = best.filter(|b| *b > 0.0) else {
                    continue; // nobody measured it: left out for everyone
                };
                match figs.iter().find(|(n, _)| *n == c.name) {
                    Some((_, (point, lo, hi, limited))) if *point > 0.0 => {
                        log_sum += w.weight * (point / best).ln();
                        log_lo += w.weight * (lo.max(f64::MIN_POSITIVE) / best).ln();
                        log_hi += w.weight * (hi / best).ln();
                        weight += w.weight;
                        reasons.push(format!("{}: {:.2} of the best", w.name, point / best));
                        if *limited {
                            caveats.push(Caveat::EngineLimited {
                                workload: w.name.clone(),
                            });
                        }
                    }
                    _ => missing.push(w.name.clone()),
                }
            }
            if !missing.is_empty() {
                caveats.push(Caveat::NotMeasured {
                    what: missing.join(", "),
                });
            }
            let perf = (weight > 0.0).then(|| {
                (
                    (log_sum / weight).exp(),
                    (log_lo / weight).exp(),
                    (log_hi / weight).exp(),
                )
            });
            let security = facts
                .audit
                .iter()
                .find(|a| a.contestant == c.name)
                .and_then(|a| a.score)
                .map(|s| f64::from(s.clamp(0, 100)) / 100.0);
            if audited && security.is_none() && profile.security_weight > 0.0 {
                caveats.push(Caveat::NotMeasured {
                    what: "its audit".into(),
                });
            }
            if let Some(s) = security {
                reasons.push(format!("security score {:.0}", s * 100.0));
            }
            let sw = if security.is_some() {
                profile.security_weight
            } else {
                0.0
            };
            let mix = |p: f64| (1.0 - sw) * p + sw * security.unwrap_or(0.0);
            let score = perf.map(|(p, lo, hi)| (mix(p), mix(lo), mix(hi)));
            let coverage = if total_weight > 0.0 {
                weight / total_weight
            } else {
                0.0
            };
            let (cost, cost_missing) = cost_of(facts, &profile, pricing, &c.name, &mut caveats);
            Ranked {
                place: None,
                contestant: c.name.clone(),
                display_name: c.display_name.clone(),
                stack: c.stack.clone(),
                score: score.map(|s| s.0),
                score_lo: score.map(|s| s.1),
                score_hi: score.map(|s| s.2),
                coverage,
                reasons,
                cost,
                cost_missing,
                caveat_text: Vec::new(),
                caveats,
            }
        })
        .collect();

    // Measured on more of the profile first, then by score.
    ranked.sort_by(|a, b| {
        b.score
            .is_some()
            .cmp(&a.score.is_some())
            .then(b.coverage.total_cmp(&a.coverage))
            .then(b.score.unwrap_or(0.0).total_cmp(&a.score.unwrap_or(0.0)))
            .then(a.contestant.cmp(&b.contestant))
    });
    let mut place = 0;
    for i in 0..ranked.len() {
        if ranked[i].score.is_none() {
            continue;
        }
        place += 1;
        ranked[i].place = Some(place);
        if i > 0 && ranked[i - 1].score.is_some() {
            let above = &ranked[i - 1];
            let overlap = ranked[i].score_hi.unwrap_or(0.0) >= above.score_lo.unwrap_or(0.0);
            if overlap {
                let of = above.display_name.clone();
                ranked[i].caveats.insert(0, Caveat::WithinNoise { of });
            }
        }
    }
    for r in &mut ranked {
        r.caveat_text = r.caveats.iter().map(Caveat::text).collect();
    }
    ProfileVerdict {
        pricing: pricing.name.clone(),
        pricing_source: format!("{}, prices of {}", pricing.source, pricing.date),
        run_id: facts.run_id,
        profile,
        ranking: ranked,
        notes,
    }
}

/// The figure `contestant` is ranked on for `workload`: its capacity under the SLO when the
/// workload is ranked `by_capacity`, else its median throughput.
fn scored(
    facts: &Facts,
    workload: &str,
    contestant: &str,
    profile: &Profile,
    by_capacity: bool,
) -> Option<Scored> {
    if by_capacity {
        let cap = facts
            .capacity(workload, contestant)
            .filter(|c| c.slo_p99_us <= profile.slo_p99_us * 1.01)?;
        let r = cap.rate_per_s;
        return Some((r.point, r.lo, r.hi, false));
    }
    let r = facts.result(workload, contestant)?;
    let rps = r.rps?;
    Some((rps.point, rps.lo, rps.hi, r.engine_limited.is_some()))
}

/// The cost at the profile's load, priced from the capacity of its heaviest workload.
fn cost_of(
    facts: &Facts,
    profile: &Profile,
    pricing: &Pricing,
    contestant: &str,
    caveats: &mut Vec<Caveat>,
) -> (Option<CostEstimate>, Option<String>) {
    let mut by_weight: Vec<&WeightedWorkload> = profile.workloads.iter().collect();
    by_weight.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    for w in by_weight {
        let Some(cap) = facts.capacity(&w.name, contestant) else {
            continue;
        };
        if cap.slo_p99_us > profile.slo_p99_us * 1.01 {
            continue; // measured at a looser SLO: it would overstate capacity
        }
        if cap.slo_p99_us < profile.slo_p99_us * 0.99 {
            caveats.push(Caveat::OtherSlo {
                measured_us: cap.slo_p99_us,
            });
        }
        let c = cost::estimate(cap, pricing, profile.target_rps, profile.headroom);
        return (Some(c), None);
    }
    (
        None,
        Some(format!(
            "not measured: no capacity under p99 < {} ms for any of its workloads",
            profile.slo_p99_us / 1000.0
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_load() {
        for name in FileKind::Profile.builtin_names() {
            let p = load(name).unwrap();
            assert_eq!(p.name, name);
            assert!(p.target_rps > 0.0 && p.slo_p99_us > 0.0);
            assert!(!p.workloads.is_empty());
            cost::load(&p.pricing).unwrap();
        }
    }

    /// A profile ranks on the throughput and p99 of its workloads: every workload of every
    /// built-in profile is measured by a built-in suite under that name.
    #[test]
    fn every_builtin_profile_names_workloads_a_builtin_suite_measures() {
        let suites: Vec<crate::suite::Plan> = crate::suite::builtin_names()
            .map(|n| crate::suite::builtin(n).unwrap())
            .collect();
        for name in FileKind::Profile.builtin_names() {
            for w in &load(name).unwrap().workloads {
                assert!(
                    suites
                        .iter()
                        .any(|s| s.workloads.iter().any(|x| x.name == w.name)),
                    "profile {name}: no built-in suite measures workload {}",
                    w.name
                );
            }
        }
    }
}
