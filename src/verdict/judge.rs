//! Judging claims on [`Facts`]: each test on each of its workloads gives supported, refuted or
//! inconclusive with the figures, their intervals and the rows they came from; a claim's tests
//! together give its outcome.
//!
//! The rule (a ratio `r` of the favoured side's goodness over the other's, so `r > 1` means the
//! favoured side is better whichever direction the measure runs; threshold `t` from
//! [`Expect::threshold`]):
//! - figures with 95% intervals: the ratio's interval is `[F.lo / O.hi, F.hi / O.lo]` (inverted
//!   for lower-is-better measures). Supported when it lies wholly at or above `t`, refuted when
//!   wholly below, inconclusive when it straddles `t` (the intervals overlap the margin) or
//!   either interval is short of 95% confidence (too few trials);
//! - figures without an interval: `r` must clear `t` by a further [`POINT_NOISE`] either way,
//!   else inconclusive;
//! - counts: exact, supported when `r >= t` (and, for an "is better" claim, `r > 1`: a tie is
//!   not better), else refuted.
//!
//! A side named by stack stands for its best contestant on the measure; every contestant is
//! listed, and when the spread between frameworks of one stack is larger than the gap between
//! the stacks, the test says the answer depends on the framework more than on the language.

use serde::Serialize;

use super::claims::{Claim, ClaimsFile, Expect, Measure, Precision, Side, Test};
use super::cost::Pricing;
use super::facts::Facts;
pub use super::figures::value_text;
use super::figures::{best_row, find_crossovers, pct, ratio_text, show, side_missing, side_rows};
use crate::units::group;

/// Relative distance a figure without an interval must keep from the threshold to count
/// (10%: about this machine's trial-to-trial spread of ±11% for one server, DESIGN.md).
pub const POINT_NOISE: f64 = 0.10;

/// The load a cost-per-million test prices (req/s), and the share of capacity kept free.
pub const CLAIM_COST_TARGET_RPS: f64 = 10_000.0;
/// See [`CLAIM_COST_TARGET_RPS`].
pub const CLAIM_COST_HEADROOM: f64 = 0.3;

/// What the measurements say about a claim or one of its tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The figures clear the claim's threshold.
    Supported,
    /// The figures fall short of it.
    Refuted,
    /// Supported in some tests (workloads, sizes), refuted in others.
    Depends,
    /// The intervals overlap the threshold, are short of 95% confidence, or data is missing.
    Inconclusive,
}

impl Outcome {
    /// The word shown in reports.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Supported => "supported",
            Outcome::Refuted => "refuted",
            Outcome::Depends => "depends",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

/// A claims file judged on one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClaimsReport {
    /// The claims' title.
    pub title: String,
    /// Where the claims come from.
    pub source: String,
    /// `builtin:NAME` or the path of the claims file.
    pub file: String,
    /// The run judged (the first, when several were judged together).
    pub run_id: i64,
    /// Every run judged, in the order searched: a test is judged in the first run of its
    /// suite that holds its figures, else in the first run that does.
    pub runs: Vec<RunRef>,
    /// The measurable claims, judged, in file order.
    pub claims: Vec<JudgedClaim>,
    /// The claims faceoff cannot measure, with the reason.
    pub not_measurable: Vec<UnmeasurableClaim>,
}

/// A stored run, by id and the suite it measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRef {
    /// Run id in the results database.
    pub id: i64,
    /// The suite's name.
    pub suite: String,
}

impl RunRef {
    fn of(facts: &Facts) -> RunRef {
        RunRef {
            id: facts.run_id,
            suite: facts.suite.clone(),
        }
    }
}

/// A claim faceoff cannot measure.
#[derive(Debug, Clone, Serialize)]
pub struct UnmeasurableClaim {
    /// Short name.
    pub id: String,
    /// What it is about.
    pub topic: String,
    /// The claim as written.
    pub quote: String,
    /// Why it cannot be measured.
    pub reason: String,
}

/// One claim judged.
#[derive(Debug, Clone, Serialize)]
pub struct JudgedClaim {
    /// Short name.
    pub id: String,
    /// What it is about.
    pub topic: String,
    /// The claim as written.
    pub quote: String,
    /// The judgement over all its tests.
    pub outcome: Outcome,
    /// One sentence: which tests said what.
    pub summary: String,
    /// Every test on every workload.
    pub tests: Vec<JudgedTest>,
    /// Where a per-size test's answer flips.
    pub crossovers: Vec<Crossover>,
    /// The data that is missing, exactly (empty when nothing is).
    pub missing: Vec<String>,
}

/// One test on one workload.
#[derive(Debug, Clone, Serialize)]
pub struct JudgedTest {
    /// What is compared.
    pub measure: Measure,
    /// Unit of the figures.
    pub unit: String,
    /// The workload.
    pub workload: String,
    /// The problem size, for per-size tests.
    pub size: Option<u64>,
    /// The run the figures came from; `None` when no run judged holds them.
    pub run: Option<RunRef>,
    /// The suite the claims file says the figures come from, if it names one.
    pub suite: Option<String>,
    /// The side the claim favours.
    pub favoured: String,
    /// The side it is compared with.
    pub other: String,
    /// What the claim says.
    pub expect: Expect,
    /// The margin that counts as significant.
    pub margin: f64,
    /// The ratio of goodness (favoured over other) the claim needs.
    pub threshold: f64,
    /// The ratio measured: favoured's goodness over the other's, with its interval; `None`
    /// when a side has no figure.
    pub ratio: Option<Ratio>,
    /// The judgement.
    pub outcome: Outcome,
    /// Why, with the figures.
    pub why: String,
    /// What is missing, when the test could not be judged for want of data.
    pub missing: Option<String>,
    /// The answer depends on the framework more than on the language, and by how much.
    pub framework_note: Option<String>,
    /// Every contestant of both sides with its figure; `best` marks the two compared.
    pub rows: Vec<Row>,
}

/// A ratio with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratio {
    /// From the two point figures.
    pub point: f64,
    /// Lower bound (equal to `point` for figures without an interval).
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// Which side a row is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The side the claim favours.
    Favoured,
    /// The side it is compared with.
    Other,
}

/// One contestant's figure in a test: the row of the report it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Which side.
    pub role: Role,
    /// Contestant name.
    pub contestant: String,
    /// Name shown in tables.
    pub display_name: String,
    /// Stack label.
    pub stack: String,
    /// Framework.
    pub framework: String,
    /// The workload the figure is from.
    pub workload: String,
    /// The run the figure is from.
    pub run_id: Option<i64>,
    /// The figure; `None` when there is none (see `note`).
    pub value: Option<f64>,
    /// Lower bound of its interval (equal to `value` without one).
    pub lo: Option<f64>,
    /// Upper bound.
    pub hi: Option<f64>,
    /// The interval is short of 95% confidence.
    pub short_of_confidence: bool,
    /// Trials behind the figure, where that applies.
    pub trials: Option<u32>,
    /// Why there is no figure, or why it does not stand for its side (a lower bound).
    pub note: Option<String>,
    /// It stands for its side in the comparison.
    pub best: bool,
    /// The figure with its interval and unit, or the note, as text.
    pub shown: String,
}

/// Where a per-size test's answer flips.
#[derive(Debug, Clone, Serialize)]
pub struct Crossover {
    /// The sides, e.g. "python-fastapi-numpy vs Node.js".
    pub sides: String,
    /// The largest size below the flip.
    pub below: u64,
    /// The smallest size above it.
    pub above: u64,
    /// The outcome at `below`.
    pub below_outcome: Outcome,
    /// The outcome at `above`.
    pub above_outcome: Outcome,
    /// Where the ratio crosses the threshold, interpolated on log-log scales.
    pub estimate: Option<f64>,
}

/// A figure and how far it can be trusted.
#[derive(Debug, Clone, Copy)]
pub(super) struct Figure {
    pub(super) value: f64,
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) short_of_confidence: bool,
    pub(super) trials: Option<u32>,
    pub(super) lower_bound: bool,
}

impl Figure {
    pub(super) fn point(value: f64) -> Figure {
        Figure {
            value,
            lo: value,
            hi: value,
            short_of_confidence: false,
            trials: None,
            lower_bound: false,
        }
    }

    pub(super) fn interval(i: &crate::stats::Interval, trials: Option<u32>) -> Figure {
        Figure {
            value: i.point,
            lo: i.lo,
            hi: i.hi,
            short_of_confidence: i.short_of_confidence,
            trials,
            lower_bound: false,
        }
    }
}

pub(super) const MIB: f64 = 1024.0 * 1024.0;

/// Judges every claim of `file` on one run's `facts`; cost tests are priced with `pricing`.
pub fn judge(file: &ClaimsFile, facts: &Facts, pricing: &Pricing) -> ClaimsReport {
    judge_runs(file, std::slice::from_ref(facts), pricing)
}

/// Judges every claim of `file` on several runs (e.g. the latest standard, scale, cores and
/// compute runs): each test on each workload in one run, the first of the test's suite that
/// holds its figures, else the first that does (see [`pick_run`]). `runs` must not be empty.
pub fn judge_runs(file: &ClaimsFile, runs: &[Facts], pricing: &Pricing) -> ClaimsReport {
    ClaimsReport {
        title: file.title.clone(),
        source: file.source.clone(),
        file: file.file.clone(),
        run_id: runs.first().map_or(0, |f| f.run_id),
        runs: runs.iter().map(RunRef::of).collect(),
        claims: file
            .claims
            .iter()
            .filter(|c| c.not_measurable.is_none())
            .map(|c| judge_claim_in(c, runs, pricing))
            .collect(),
        not_measurable: file
            .claims
            .iter()
            .filter_map(|c| {
                Some(UnmeasurableClaim {
                    id: c.id.clone(),
                    topic: c.topic.clone(),
                    quote: c.quote.clone(),
                    reason: c.not_measurable.clone()?,
                })
            })
            .collect(),
    }
}

/// Judges one measurable claim on one run.
pub fn judge_claim(claim: &Claim, facts: &Facts, pricing: &Pricing) -> JudgedClaim {
    judge_claim_in(claim, std::slice::from_ref(facts), pricing)
}

/// Judges one measurable claim on several runs.
pub fn judge_claim_in(claim: &Claim, runs: &[Facts], pricing: &Pricing) -> JudgedClaim {
    let mut tests = Vec::new();
    let mut crossovers = Vec::new();
    for test in &claim.tests {
        let judged: Vec<JudgedTest> = test
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| judge_test(test, w, test.sizes.get(i).copied(), runs, pricing))
            .collect();
        if !test.sizes.is_empty() {
            crossovers.extend(find_crossovers(&judged));
        }
        tests.extend(judged);
    }
    let missing: Vec<String> = tests.iter().filter_map(|t| t.missing.clone()).collect();
    let (outcome, mut summary) = combine(&tests);
    for c in &crossovers {
        summary.push_str(&format!(
            "; {}: {} at n = {}, {} at n = {}{}",
            c.sides,
            c.below_outcome.word(),
            group(c.below),
            c.above_outcome.word(),
            group(c.above),
            c.estimate
                .map(|n| format!(" (crossover near n = {})", group(n.round() as u64)))
                .unwrap_or_default()
        ));
    }
    JudgedClaim {
        id: claim.id.clone(),
        topic: claim.topic.clone(),
        quote: claim.quote.clone(),
        outcome,
        summary,
        tests,
        crossovers,
        missing,
    }
}

/// The claim's outcome from its tests, and a sentence saying which said what.
pub(super) fn combine(tests: &[JudgedTest]) -> (Outcome, String) {
    // Name the sides too when the tests compare different ones.
    let sides_differ = tests
        .windows(2)
        .any(|w| (&w[0].favoured, &w[0].other) != (&w[1].favoured, &w[1].other));
    let label = |t: &JudgedTest| {
        let base = match t.size {
            Some(n) => format!("{} at n = {}", t.measure.name(), group(n)),
            None => format!("{} on {}", t.measure.name(), t.workload),
        };
        if sides_differ {
            format!("{base} ({} vs {})", t.favoured, t.other)
        } else {
            base
        }
    };
    let with = |o: Outcome| -> Vec<String> {
        tests
            .iter()
            .filter(|t| t.missing.is_none() && t.outcome == o)
            .map(label)
            .collect()
    };
    let (s, r, i) = (
        with(Outcome::Supported),
        with(Outcome::Refuted),
        with(Outcome::Inconclusive),
    );
    let missing: Vec<String> = tests
        .iter()
        .filter(|t| t.missing.is_some())
        .map(label)
        .collect();
    let judged = s.len() + r.len() + i.len();
    let outcome = if judged == 0 {
        Outcome::Inconclusive
    } else if !s.is_empty() && !r.is_empty() {
        Outcome::Depends
    } else if !s.is_empty() && s.len() > i.len() {
        Outcome::Supported
    } else if !r.is_empty() && r.len() > i.len() {
        Outcome::Refuted
    } else {
        Outcome::Inconclusive
    };
    let mut parts = Vec::new();
    for (word, list) in [("supported", &s), ("refuted", &r), ("inconclusive", &i)] {
        if !list.is_empty() {
            parts.push(format!("{word} by {}", list.join(", ")));
        }
    }
    if !missing.is_empty() {
        parts.push(format!("not measured: {}", missing.join(", ")));
    }
    (outcome, parts.join("; "))
}

/// The run `test` is judged in on `workload`: the first run of the test's suite that holds
/// figures of its measure there, else the first run that does. A comparison is made within
/// one run only: contestants measured at different times on a shared machine are not compared.
pub fn pick_run<'a>(runs: &'a [Facts], test: &Test, workload: &str) -> Option<&'a Facts> {
    let holds = |f: &&Facts| f.holds(test.measure, workload);
    runs.iter()
        .filter(|f| test.suite.as_deref() == Some(f.suite.as_str()))
        .find(holds)
        .or_else(|| runs.iter().find(holds))
}

/// Judges `test` on one workload.
pub(super) fn judge_test(
    test: &Test,
    workload: &str,
    size: Option<u64>,
    runs: &[Facts],
    pricing: &Pricing,
) -> JudgedTest {
    let measure = test.measure;
    let picked = pick_run(runs, test, workload);
    // With no run holding the figures, the first run (of the test's suite, if any) says per
    // contestant what it lacks.
    let empty = Facts::default();
    let facts = picked
        .or_else(|| {
            runs.iter()
                .find(|f| test.suite.as_deref() == Some(f.suite.as_str()))
        })
        .or_else(|| runs.first())
        .unwrap_or(&empty);
    let threshold = test.expect.threshold(test.margin);
    let mut rows = side_rows(
        &test.favoured,
        Role::Favoured,
        facts,
        measure,
        workload,
        pricing,
    );
    rows.extend(side_rows(
        &test.other,
        Role::Other,
        facts,
        measure,
        workload,
        pricing,
    ));
    let best_f = best_row(&rows, Role::Favoured, measure);
    let best_o = best_row(&rows, Role::Other, measure);
    for i in [best_f, best_o].into_iter().flatten() {
        rows[i].best = true;
    }
    let mut judged = JudgedTest {
        measure,
        unit: measure.unit().to_string(),
        workload: workload.to_string(),
        size,
        run: picked.map(RunRef::of),
        suite: test.suite.clone(),
        favoured: test.favoured.label(),
        other: test.other.label(),
        expect: test.expect,
        margin: test.margin,
        threshold,
        ratio: None,
        outcome: Outcome::Inconclusive,
        why: String::new(),
        missing: None,
        framework_note: None,
        rows,
    };
    let (Some(f), Some(o)) = (best_f, best_o) else {
        let mut lacking = Vec::new();
        for (best, side, role) in [
            (best_f, &test.favoured, Role::Favoured),
            (best_o, &test.other, Role::Other),
        ] {
            if best.is_none() {
                lacking.push(side_missing(&judged.rows, side, role));
            }
        }
        let searched = if picked.is_some() {
            format!("judged in run {} of suite {}", facts.run_id, facts.suite)
        } else {
            let runs: Vec<String> = runs
                .iter()
                .map(|f| match f.suite.as_str() {
                    "" => f.run_id.to_string(),
                    s => format!("{} of suite {s}", f.run_id),
                })
                .collect();
            match runs.len() {
                0 => format!("no run judged has {workload}"),
                1 => format!("no run judged has {workload} (run {})", runs[0]),
                _ => format!("no run judged has {workload} (runs {})", runs.join(", ")),
            }
        };
        let missing = format!(
            "{} on {workload} for {}; {searched}; it comes from {}",
            measure.name(),
            lacking.join(" and "),
            test.source()
        );
        judged.why = format!("not measured: {missing}");
        judged.missing = Some(missing);
        return judged;
    };
    let (fr, or) = (&judged.rows[f], &judged.rows[o]);
    let fig = |r: &Row| Figure {
        value: r.value.unwrap_or(f64::NAN),
        lo: r.lo.unwrap_or(f64::NAN),
        hi: r.hi.unwrap_or(f64::NAN),
        short_of_confidence: r.short_of_confidence,
        trials: r.trials,
        lower_bound: false,
    };
    let (ff, of) = (fig(fr), fig(or));
    let ratio = goodness_ratio(&ff, &of, measure.higher_is_better());
    let precision = measure.precision();
    let strict = test.expect == Expect::Better;
    let (outcome, reading) = decide(ratio, threshold, strict, precision, &ff, &of);
    let needs = match test.expect {
        Expect::Better => format!(
            "the claim needs the favoured side better by more than {}",
            pct(test.margin)
        ),
        Expect::Competitive => format!(
            "the claim needs the favoured side within {} of the other",
            pct(test.margin)
        ),
    };
    judged.why = format!(
        "{} {} vs {} {}: ×{}{}; {needs} (×{:.2}): {reading}",
        fr.display_name,
        show(measure, &ff),
        or.display_name,
        show(measure, &of),
        ratio_text(ratio.point),
        if precision == Precision::Interval {
            format!(" [×{} – ×{}]", ratio_text(ratio.lo), ratio_text(ratio.hi))
        } else {
            String::new()
        },
        threshold
    );
    judged.framework_note = framework_note(test, &judged.rows, measure, ratio.point, threshold);
    judged.ratio = Some(ratio);
    judged.outcome = outcome;
    judged
}

/// Favoured's goodness over the other's, with the interval's extremes.
pub(super) fn goodness_ratio(f: &Figure, o: &Figure, higher_is_better: bool) -> Ratio {
    let div = |a: f64, b: f64| if b == 0.0 { f64::INFINITY } else { a / b };
    if higher_is_better {
        Ratio {
            point: div(f.value, o.value),
            lo: div(f.lo, o.hi),
            hi: div(f.hi, o.lo),
        }
    } else {
        Ratio {
            point: div(o.value, f.value),
            lo: div(o.lo, f.hi),
            hi: div(o.hi, f.lo),
        }
    }
}

/// The outcome of one comparison and a few words on how it was reached.
///
/// `strict` (an "is better" claim): exact counts that tie do not support it, even with a margin
/// of 0 (an equal audit score does not make one side more secure).
pub(super) fn decide(
    ratio: Ratio,
    threshold: f64,
    strict: bool,
    precision: Precision,
    f: &Figure,
    o: &Figure,
) -> (Outcome, String) {
    match precision {
        Precision::Exact => {
            if strict && ratio.point <= 1.0 && ratio.point >= threshold {
                (Outcome::Refuted, "a tie, not better (exact counts)".into())
            } else if ratio.point >= threshold {
                (Outcome::Supported, "met (exact counts)".into())
            } else {
                (Outcome::Refuted, "not met (exact counts)".into())
            }
        }
        Precision::Point => {
            if ratio.point >= threshold * (1.0 + POINT_NOISE) {
                (
                    Outcome::Supported,
                    format!("met with more than {} to spare", pct(POINT_NOISE)),
                )
            } else if ratio.point < threshold / (1.0 + POINT_NOISE) {
                (
                    Outcome::Refuted,
                    format!("missed by more than {}", pct(POINT_NOISE)),
                )
            } else {
                (
                    Outcome::Inconclusive,
                    format!(
                        "within {} of the threshold, and this figure has no interval",
                        pct(POINT_NOISE)
                    ),
                )
            }
        }
        Precision::Interval => {
            let lean = if ratio.point >= threshold {
                "supported"
            } else {
                "refuted"
            };
            if f.short_of_confidence || o.short_of_confidence {
                let trials = [f.trials, o.trials]
                    .into_iter()
                    .flatten()
                    .min()
                    .map(|n| format!(" ({n} trials)"))
                    .unwrap_or_default();
                (
                    Outcome::Inconclusive,
                    format!("too few trials for a 95% interval{trials}; the medians lean {lean}"),
                )
            } else if ratio.lo >= threshold {
                (
                    Outcome::Supported,
                    "the whole 95% interval clears it".into(),
                )
            } else if ratio.hi < threshold {
                (
                    Outcome::Refuted,
                    "the whole 95% interval falls short".into(),
                )
            } else {
                (
                    Outcome::Inconclusive,
                    format!("the intervals overlap the threshold; the medians lean {lean}"),
                )
            }
        }
    }
}

/// Where the answer depends on the framework more than on the language.
pub(super) fn framework_note(
    test: &Test,
    rows: &[Row],
    measure: Measure,
    ratio: f64,
    threshold: f64,
) -> Option<String> {
    let goodness = |v: f64| {
        if measure.higher_is_better() {
            v
        } else {
            1.0 / v
        }
    };
    let valued = |role: Role| -> Vec<&Row> {
        rows.iter()
            .filter(|r| r.role == role && r.note.is_none())
            .filter(|r| r.value.is_some_and(|v| v > 0.0 && v.is_finite()))
            .collect()
    };
    let (fav, oth) = (valued(Role::Favoured), valued(Role::Other));
    let gap = ratio.max(1.0 / ratio);
    let mut widest: Option<(f64, &Row, &Row, String)> = None;
    for (side, members) in [(&test.favoured, &fav), (&test.other, &oth)] {
        let Side::Stack(stack) = side else { continue };
        let best = members.iter().max_by(|a, b| {
            goodness(a.value.unwrap_or(0.0)).total_cmp(&goodness(b.value.unwrap_or(0.0)))
        });
        let worst = members.iter().min_by(|a, b| {
            goodness(a.value.unwrap_or(0.0)).total_cmp(&goodness(b.value.unwrap_or(0.0)))
        });
        if let (Some(b), Some(w)) = (best, worst) {
            let spread = goodness(b.value.unwrap_or(0.0)) / goodness(w.value.unwrap_or(0.0));
            if widest.as_ref().is_none_or(|(s, ..)| spread > *s) {
                widest = Some((spread, b, w, stack.clone()));
            }
        }
    }
    let (spread, best, worst, stack) = widest?;
    let pairs = fav.len() * oth.len();
    let meeting = fav
        .iter()
        .flat_map(|f| oth.iter().map(move |o| (f, o)))
        .filter(|(f, o)| {
            goodness(f.value.unwrap_or(0.0)) / goodness(o.value.unwrap_or(0.0)) >= threshold
        })
        .count();
    // The answer depends on the framework only when the contestant pairs disagree.
    if meeting == 0 || meeting == pairs {
        return None;
    }
    Some(if spread > gap {
        format!(
            "depends on the framework more than on the language: within {stack}, {} and {} \
             differ ×{}, more than the ×{} between the sides; {meeting} of {pairs} \
             contestant pairs meet the claim",
            best.display_name,
            worst.display_name,
            ratio_text(spread),
            ratio_text(gap)
        )
    } else {
        format!(
            "{meeting} of {pairs} contestant pairs meet the claim: the answer depends on which \
             frameworks are compared"
        )
    })
}
