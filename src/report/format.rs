//! Number formatting shared by the renderers, so every format writes a figure the same way.

use super::{
    ContestantResult, Environment, Estimate, Headline, Method, NoiseCalibration, Standing, Verdict,
    WorkloadSettings, CONFIDENCE,
};

pub use crate::units::{group, mib, ms, plain, pm_pct, rps, secs, signed_pct, us, us_tick};

/// Shown in place of a figure that does not exist (never a zero).
/// Where the guide to a report's terms lives: a path in the faceoff repository, because a
/// report is self-contained and may be opened far from any checkout (issue 13).
pub const GUIDE_PATH: &str = "docs/report-guide.md";

/// The report's terms in three lines, shown in every report beside [`GUIDE_PATH`].
pub const GLOSSARY: [&str; 3] = [
    "± is the 95% confidence interval of the median over repeated trials; \"ahead\" only when two intervals do not overlap, \"within noise\" when they do.",
    "CPU-ms/1k is the server's CPU time per 1,000 requests (lower is cheaper); a \"≥\" figure is a lower bound set by the load engine, not ranked.",
    "PSS is memory of the whole process group with shared pages split between processes, so workers are not counted twice.",
];

pub const MISSING: &str = "—";

/// Shown for a setting the run did not record.
pub const NOT_RECORDED: &str = "not recorded";

/// Median throughput with its interval as a relative half-width: `152,340 ±1.2%`.
pub fn rps_pm(e: &Estimate) -> String {
    format!("{} {}", rps(e.median), half_width(e))
}

/// An interval's half-width as `±1.2%`, or `no interval` from a single trial (which has none,
/// rather than a width of zero).
pub fn half_width(e: &Estimate) -> String {
    if e.coverage <= 0.0 {
        "no interval".to_string()
    } else {
        pm_pct(e.rel_half_width)
    }
}

/// The bounds of an interval: `150,100–153,900`.
pub fn rps_range(e: &Estimate) -> String {
    format!("{}–{}", rps(e.lo), rps(e.hi))
}

/// What an interval is, in words: `95% CI`, or `range of 3 trials, 75% coverage` when there
/// were too few trials to reach the confidence.
pub fn coverage(e: &Estimate, trials: u32) -> String {
    if e.short_of_confidence {
        format!(
            "range of {trials} trials, {:.0}% coverage",
            e.coverage * 100.0
        )
    } else {
        format!("{:.0}% CI", CONFIDENCE * 100.0)
    }
}

/// Trials per contestant and workload: `3` or `3–10`.
pub fn trial_range(min: u32, max: u32) -> String {
    if min == max {
        min.to_string()
    } else {
        format!("{min}–{max}")
    }
}

/// A list of CPUs: `0,1`.
pub fn cpus(list: &[usize]) -> String {
    list.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// One workload's settings in words.
pub fn workload_settings(w: &WorkloadSettings) -> String {
    let shape = match w.rate_per_s {
        Some(rate) => format!("{} req/s over {} connections", plain(rate), w.connections),
        None => format!("{} connections, closed loop", w.connections),
    };
    let rounds = trial_range(w.min_rounds, w.max_rounds);
    format!(
        "{shape}; warm-up {}, trials of {}, {rounds} rounds, target {}",
        secs(w.warmup_s),
        secs(w.trial_s),
        pm_pct(w.target_ci_rel)
    )
}

/// The machine's measured noise in words.
pub fn noise(n: &NoiseCalibration) -> String {
    format!(
        "{} between trials ({} alone on {}, {} trials of {}, median {} req/s): differences within this are not a finding",
        pm_pct(n.rel_spread),
        n.contestant,
        n.workload,
        n.trials,
        secs(n.trial_s),
        rps(n.median_rps)
    )
}

/// The environment as labelled lines.
pub fn environment(e: &Environment) -> Vec<(String, String)> {
    let mut lines = vec![
        ("CPU".to_string(), e.cpu_model.clone()),
        (
            "CPUs".to_string(),
            format!(
                "{} online, faceoff allowed {}",
                e.cpus_online,
                cpus(&e.cpus_allowed)
            ),
        ),
        ("memory".to_string(), format!("{} MiB", mib(e.memory_bytes))),
        ("kernel".to_string(), e.kernel.clone()),
    ];
    for (name, version) in &e.runtimes {
        lines.push((name.clone(), version.clone()));
    }
    lines.push(("faceoff".to_string(), e.faceoff_version.clone()));
    lines
}

/// The database of a run in words (`None`: a run stored before the setting, on SQLite).
pub fn database(d: Option<&crate::store::DatabaseSettings>) -> String {
    use crate::database::DatabaseKind;
    match d {
        Some(d) if d.kind == DatabaseKind::Postgres => {
            let version = d.version.as_deref().unwrap_or("PostgreSQL");
            if d.throwaway {
                format!("{version}, a throwaway server of faceoff's own on the server CPUs (its CPU shown apart), one database per contestant")
            } else {
                format!("{version}, a server of the user's (--database-url)")
            }
        }
        _ => "SQLite, one file per contestant, queried inside its own process".to_string(),
    }
}

/// The settings of a run as labelled lines, each "not recorded" when the run did not record
/// it; the same in every format.
pub fn method_facts(m: &Method) -> Vec<(String, String)> {
    let or_not = |v: Option<String>| v.unwrap_or_else(|| NOT_RECORDED.to_string());
    let mut facts = vec![
        (
            "server CPUs".to_string(),
            or_not(m.server_cpus.as_deref().map(cpus)),
        ),
        (
            "load engine CPUs".to_string(),
            or_not(m.load_cpus.as_deref().map(cpus)),
        ),
        (
            "workers per contestant".to_string(),
            or_not(m.workers.map(|w| w.to_string())),
        ),
        (
            "order within a round".to_string(),
            or_not(m.order_seed.map(|s| format!("shuffled, seed {s}"))),
        ),
        ("database".to_string(), or_not(m.database.clone())),
        (
            "machine noise".to_string(),
            m.noise
                .as_ref()
                .map(noise)
                .unwrap_or_else(|| "not measured".to_string()),
        ),
    ];
    for w in &m.workloads {
        let mut text = or_not(w.settings.as_ref().map(workload_settings));
        if let Some(widest) = w.widest_rel_half_width {
            text.push_str(&format!("; widest interval here {}", pm_pct(widest)));
            if w.target_reached == Some(false) {
                text.push_str(" (target not reached, see the warnings)");
            }
        }
        facts.push((format!("workload {}", w.name), text));
    }
    facts.push(("intervals within ±10%".to_string(), rows_within_10pct(m)));
    facts.push((
        "wait for quiet server CPUs".to_string(),
        match &m.quiet_wait {
            None => NOT_RECORDED.to_string(),
            Some(q) => {
                let mut text = format!(
                    "median {}, longest {} over {} trials",
                    secs(q.median_s),
                    secs(q.max_s),
                    q.trials
                );
                if q.not_quiet > 0 {
                    text.push_str(&format!(
                        "; {} started with the CPUs still busy",
                        q.not_quiet
                    ));
                }
                text
            }
        },
    ));
    facts.push((
        "machine speed (a probe before each trial)".to_string(),
        m.machine_speed
            .as_ref()
            .map(machine_speed)
            .unwrap_or_else(|| NOT_RECORDED.to_string()),
    ));
    facts.push((
        "contaminated tries (each retried; a last try still contaminated counts, marked)"
            .to_string(),
        if m.contaminated.is_empty() {
            "none".to_string()
        } else {
            m.contaminated
                .iter()
                .map(|c| format!("{} on {}: {}", c.contestant, c.workload, c.count))
                .collect::<Vec<_>>()
                .join("; ")
        },
    ));
    facts.push((
        "trials".to_string(),
        format!(
            "{} in all, {} per contestant and workload",
            m.trials_total,
            trial_range(m.trials_min, m.trials_max)
        ),
    ));
    facts
}

/// A figure or [`MISSING`].
pub fn or_missing<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_else(|| MISSING.to_string())
}

/// A result's throughput: `152,340 ±1.2%`, `≥ 91,000` for a lower bound, `no data`.
pub fn result_rps(r: &ContestantResult) -> String {
    match (&r.rps, r.standing) {
        (None, _) => "no data".to_string(),
        (Some(e), Standing::LowerBound) => format!("≥ {}", rps(e.median)),
        (Some(e), _) => rps_pm(e),
    }
}

/// Trials that count, and the ones left out: `3`, `2 (1 contaminated)`.
pub fn trials(r: &ContestantResult) -> String {
    let mut left_out = Vec::new();
    if r.contaminated > 0 {
        left_out.push(format!("{} contaminated", r.contaminated));
    }
    if r.crashed_trials > 0 {
        left_out.push(format!("{} crashed", r.crashed_trials));
    }
    if r.silent_trials > 0 {
        left_out.push(format!("{} unanswered", r.silent_trials));
    }
    if left_out.is_empty() {
        r.trials.to_string()
    } else {
        format!("{} ({})", r.trials, left_out.join(", "))
    }
}

/// Requests left unanswered when windows closed: `0`; `384 in flight` for the requests a closed
/// loop always has under way at the close; `64 (≥ 10,000 ms)` when they point to a fault (a
/// warning says which), with how long the oldest had waited.
pub fn unanswered(r: &ContestantResult) -> String {
    match r.unanswered_max_age_us {
        Some(age) if r.unanswered > 0 && r.unanswered_fault => {
            format!("{} (≥ {} ms)", group(r.unanswered), group(age / 1000))
        }
        _ if r.unanswered > 0 => format!("{} in flight", group(r.unanswered)),
        _ => group(r.unanswered),
    }
}

/// Where a result stands against the leader, in words, with the reason when it is not ranked.
pub fn standing(r: &ContestantResult) -> String {
    let vs = || or_missing(r.ratio_to_first, |x| signed_pct(x - 1.0));
    match r.standing {
        Standing::Leader => "leader".to_string(),
        Standing::Behind => format!("behind ({})", vs()),
        Standing::WithinNoise => format!("within noise ({})", vs()),
        Standing::Indicative => format!("indicative ({})", vs()),
        Standing::LowerBound => format!(
            "lower bound, not ranked: {}",
            r.engine_limited
                .as_deref()
                .unwrap_or("the load engine was the limit")
        ),
        Standing::NoData => format!("no data: {}", r.no_data.as_deref().unwrap_or("no figures")),
    }
}

/// The one-word verdict of a headline.
pub fn verdict(h: &Headline) -> &'static str {
    match h.verdict {
        Verdict::Ahead => "ahead (95%)",
        Verdict::WithinNoise => "within noise",
        Verdict::Indicative => "indicative",
        Verdict::OnlyOne => "only one ranked",
        Verdict::NothingRanked => "nothing ranked",
    }
}

/// The share of ranked rows whose interval is within ±10%: `7 of 9 (78%)`.
pub fn rows_within_10pct(m: &Method) -> String {
    if m.rows_with_interval == 0 {
        return MISSING.to_string();
    }
    format!(
        "{} of {} ({:.0}%)",
        m.rows_within_10pct,
        m.rows_with_interval,
        100.0 * f64::from(m.rows_within_10pct) / f64::from(m.rows_with_interval)
    )
}

/// The machine-speed fact: how much slower than its fastest the machine ran, and when.
fn machine_speed(s: &super::speed::MachineSpeed) -> String {
    let mut text = format!(
        "{:.2} ns per step at its fastest (10th percentile of {} probes), median {:.2}",
        s.fastest_ns, s.probes, s.median_ns
    );
    // Named only when it ran measurably slower (rounds to 1% or more).
    if let Some(w) = s.slowest().filter(|w| w.slower >= 0.005) {
        text.push_str(&format!(
            "; slowest during {}: {:.0}% slower",
            w.workload,
            w.slower * 100.0
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        assert_eq!(cpus(&[0, 1]), "0,1");
        assert_eq!(trial_range(3, 3), "3");
        assert_eq!(trial_range(3, 10), "3–10");
    }
}
