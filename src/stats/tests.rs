//! Unit and property tests of the statistics.

use super::*;
use proptest::prelude::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

// ---- medians, quantiles, MAD ----

#[test]
fn median_of_odd_and_even_counts() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    assert_eq!(median(&[7.0]), Some(7.0));
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[1.0, f64::NAN]), None);
}

#[test]
fn quantile_interpolates_like_r_type_7() {
    let s = [1.0, 2.0, 3.0, 4.0, 5.0];
    assert_eq!(quantile(&s, 0.0), Some(1.0));
    assert_eq!(quantile(&s, 1.0), Some(5.0));
    assert_eq!(quantile(&s, 0.25), Some(2.0));
    // R: quantile(1:5, 0.9, type = 7) = 4.6
    assert!(close(quantile(&s, 0.9).unwrap(), 4.6));
    assert_eq!(quantile(&s, 1.5), None);
    assert_eq!(quantile(&s, -0.1), None);
}

#[test]
fn quantile_of_infinite_values_is_not_nan() {
    let s = [1.0, f64::INFINITY, f64::INFINITY];
    assert_eq!(quantile(&s, 0.9), Some(f64::INFINITY));
}

#[test]
fn mad_known_value() {
    // median 2, deviations 1 1 0 0 2 4 7 -> median 1
    assert_eq!(mad(&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0]), Some(1.0));
    assert_eq!(mad(&[5.0, 5.0, 5.0]), Some(0.0));
    assert_eq!(mad(&[]), None);
}

// ---- confidence interval of the median ----

#[test]
fn binomial_cdf_matches_closed_form() {
    let cdf = binomial_half_cdf(10, 10);
    // P(B <= 1) = 11 / 1024, P(B <= 10) = 1
    assert!(close(cdf[1], 11.0 / 1024.0));
    assert!(close(cdf[10], 1.0));
    // Large n must not underflow to zero everywhere.
    let big = binomial_half_cdf(5000, 2500);
    assert!(big[2500] > 0.5 && big[2500] < 0.52, "{}", big[2500]);
}

#[test]
fn median_ci_uses_order_statistics_from_the_binomial_table() {
    let s: Vec<f64> = (1..=10).map(f64::from).collect();
    let ci = median_ci(&s, 0.95).unwrap();
    // n = 10: [x(2), x(9)] covers with 1 - 2 * 11/1024.
    assert_eq!((ci.lo, ci.hi), (2.0, 9.0));
    assert!(close(ci.coverage, 1.0 - 22.0 / 1024.0));
    assert!(!ci.short_of_confidence);
    assert_eq!(ci.point, 5.5);

    // n = 20: [x(6), x(15)], coverage 0.9586 (Conover, table A3).
    let s: Vec<f64> = (1..=20).map(f64::from).collect();
    let ci = median_ci(&s, 0.95).unwrap();
    assert_eq!((ci.lo, ci.hi), (6.0, 15.0));
    assert!((ci.coverage - 0.9586).abs() < 1e-4, "{}", ci.coverage);
}

#[test]
fn median_ci_of_six_is_the_range_at_full_confidence() {
    let ci = median_ci(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.95).unwrap();
    assert_eq!((ci.lo, ci.hi), (1.0, 6.0));
    assert!(close(ci.coverage, 1.0 - 2.0 / 64.0));
    assert!(!ci.short_of_confidence);
}

#[test]
fn median_ci_of_too_few_samples_is_the_range_and_says_so() {
    let ci = median_ci(&[10.0, 30.0, 20.0], 0.95).unwrap();
    assert_eq!((ci.lo, ci.hi), (10.0, 30.0));
    assert!(ci.short_of_confidence);
    assert!(close(ci.coverage, 0.75));
    let one = median_ci(&[4.0], 0.95).unwrap();
    assert_eq!((one.lo, one.point, one.hi), (4.0, 4.0, 4.0));
    assert!(one.short_of_confidence);
    assert_eq!(one.coverage, 0.0);
}

#[test]
fn median_ci_rejects_bad_input() {
    assert_eq!(median_ci(&[], 0.95), None);
    assert_eq!(median_ci(&[1.0], 1.0), None);
    assert_eq!(median_ci(&[1.0], 0.0), None);
    assert_eq!(median_ci(&[1.0, f64::NAN], 0.95), None);
}

#[test]
fn samples_needed_for_confidence() {
    assert_eq!(min_samples_for_confidence(0.95), Some(6));
    assert_eq!(min_samples_for_confidence(0.99), Some(8));
    assert_eq!(min_samples_for_confidence(0.5), Some(2));
    assert_eq!(min_samples_for_confidence(1.0), None);
}

#[test]
fn rel_half_width_takes_the_wider_side() {
    let ci = Interval {
        point: 100.0,
        lo: 98.0,
        hi: 105.0,
        coverage: 0.95,
        short_of_confidence: false,
    };
    assert!(close(ci.rel_half_width(), 0.05));
    let zero = Interval {
        point: 0.0,
        lo: 0.0,
        hi: 0.0,
        ..ci
    };
    assert_eq!(zero.rel_half_width(), 0.0);
}

#[test]
fn overlapping_intervals() {
    let a = median_ci(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.95).unwrap();
    let b = median_ci(&[6.0, 7.0, 8.0, 9.0, 10.0, 11.0], 0.95).unwrap();
    let c = median_ci(&[7.0, 8.0, 9.0, 10.0, 11.0, 12.0], 0.95).unwrap();
    assert!(overlaps(&a, &b));
    assert!(!overlaps(&a, &c));
    assert!(!overlaps(&c, &a));
}

// ---- adaptive stopping ----

#[test]
fn stops_only_after_the_interval_reaches_95_percent() {
    let flat = [1000.0; 10];
    assert_eq!(
        should_stop(&flat[..2], 0.03, 3, 10),
        Decision::BelowMinRounds
    );
    assert!(matches!(
        should_stop(&flat[..3], 0.03, 3, 10),
        Decision::TooFewForConfidence { .. }
    ));
    assert!(matches!(
        should_stop(&flat[..5], 0.03, 3, 10),
        Decision::TooFewForConfidence { .. }
    ));
    assert_eq!(
        should_stop(&flat[..6], 0.03, 3, 10),
        Decision::Converged {
            rel_half_width: 0.0
        }
    );
}

#[test]
fn keeps_going_while_wide_and_gives_up_at_max() {
    let noisy = [1000.0, 1200.0, 900.0, 1100.0, 800.0, 1300.0, 950.0, 1250.0];
    assert!(matches!(
        should_stop(&noisy[..6], 0.03, 3, 8),
        Decision::TooWide { .. }
    ));
    let d = should_stop(&noisy, 0.03, 3, 8);
    assert!(matches!(d, Decision::MaxRounds { .. }), "{d:?}");
    assert!(d.is_stop());
    // max_rounds wins over min_rounds.
    assert!(should_stop(&noisy[..2], 0.03, 5, 2).is_stop());
}

#[test]
fn a_tight_series_converges() {
    let tight = [1000.0, 1010.0, 995.0, 1005.0, 1002.0, 998.0];
    let d = should_stop(&tight, 0.03, 3, 10);
    assert!(matches!(d, Decision::Converged { .. }), "{d:?}");
}

// ---- outliers ----

#[test]
fn mad_flags_a_far_trial() {
    let s = [10.0, 10.2, 9.9, 10.1, 10.0, 30.0];
    assert_eq!(mad_outliers(&s), vec![5]);
    assert!(mad_outliers(&[10.0, 10.2, 9.9, 10.1, 10.0]).is_empty());
}

#[test]
fn mad_zero_falls_back_to_mean_absolute_deviation() {
    let s = [5.0, 5.0, 5.0, 5.0, 100.0];
    assert_eq!(mad(&s), Some(0.0));
    assert_eq!(mad_outliers(&s), vec![4]);
    assert!(mad_outliers(&[5.0; 4]).is_empty());
    assert_eq!(modified_z_scores(&[5.0; 4]), Some(vec![0.0; 4]));
}

#[test]
fn summary_collects_everything() {
    let s = [10.0, 10.2, 9.9, 10.1, 10.0, 30.0];
    let sum = summarize(&s, 0.95).unwrap();
    assert_eq!(sum.n, 6);
    assert_eq!((sum.min, sum.max), (9.9, 30.0));
    assert_eq!(sum.outliers, vec![5]);
    assert!(close(sum.median.point, 10.05));
}

// ---- comparison ----

#[test]
fn compare_detects_clear_changes_in_both_directions() {
    let base = [1000.0, 1010.0, 990.0, 1005.0, 995.0, 1002.0];
    let faster: Vec<f64> = base.iter().map(|x| x * 1.2).collect();
    let slower: Vec<f64> = base.iter().map(|x| x * 0.8).collect();
    let up = compare(&base, &faster, DEFAULT_NOISE_THRESHOLD).unwrap();
    assert_eq!(up.change, Change::Improved);
    assert!(close(up.ratio.point, 1.2));
    assert!(up.ratio.contains(1.2));
    let down = compare(&base, &slower, DEFAULT_NOISE_THRESHOLD).unwrap();
    assert_eq!(down.change, Change::Regressed);
    // For latency, a larger candidate is worse.
    let lat = compare_with(&base, &faster, 0.03, Better::Lower).unwrap();
    assert_eq!(lat.change, Change::Regressed);
    let lat = compare_with(&base, &slower, 0.03, Better::Lower).unwrap();
    assert_eq!(lat.change, Change::Improved);
}

#[test]
fn a_change_inside_the_noise_band_is_not_significant() {
    let base = [1000.0, 1001.0, 999.0, 1000.5, 999.5, 1000.0];
    let tiny: Vec<f64> = base.iter().map(|x| x * 1.02).collect();
    let c = compare(&base, &tiny, 0.03).unwrap();
    assert_eq!(c.change, Change::NonSignificant);
    // The same change clears a smaller threshold.
    assert_eq!(
        compare(&base, &tiny, 0.01).unwrap().change,
        Change::Improved
    );
}

#[test]
fn compare_is_deterministic_and_handles_zeros() {
    let a = [3.0, 9.0, 4.0, 7.0, 5.0];
    let b = [4.0, 8.0, 6.0, 5.0, 7.0];
    assert_eq!(compare(&a, &b, 0.03), compare(&a, &b, 0.03));
    let zeros = compare(&[0.0, 0.0, 0.0], &[0.0, 0.0, 0.0], 0.03).unwrap();
    assert_eq!(zeros.ratio.point, 1.0);
    assert_eq!(zeros.change, Change::NonSignificant);
    let from_zero = compare(&[0.0, 0.0, 0.0], &[5.0, 5.0, 5.0], 0.03).unwrap();
    assert_eq!(from_zero.change, Change::Improved);
    assert_eq!(compare(&[], &b, 0.03), None);
}

// ---- capacity search ----

/// A system that meets a 10 ms p99 below `knee` and melts down above it.
fn knee_system(knee: f64) -> impl FnMut(f64) -> Result<ProbeOutcome, ()> {
    move |rate| {
        Ok(if rate <= knee {
            ProbeOutcome {
                p99_us: 2_000.0,
                error_rate: 0.0,
            }
        } else {
            ProbeOutcome {
                p99_us: 80_000.0,
                error_rate: 0.01,
            }
        })
    }
}

fn search(start: f64) -> CapacitySearch {
    CapacitySearch {
        start_per_s: start,
        min_per_s: 10.0,
        max_per_s: 1_000_000.0,
        max_probes: 30,
        resolution_rel: 0.02,
    }
}

#[test]
fn capacity_brackets_then_bisects() {
    let slo = Slo::p99_under_us(10_000.0);
    let cap = capacity_search(&search(1000.0), &slo, knee_system(23_456.0)).unwrap();
    assert_eq!(cap.end, SearchEnd::Resolved);
    let found = cap.rate_per_s.unwrap();
    assert!((23_456.0 / 1.02..=23_456.0).contains(&found), "{found}");
    assert!(cap.above_per_s.unwrap() > 23_456.0);
    // Doubling from 1000: 1k 2k 4k 8k 16k 32k, then about 5 bisections.
    assert!(cap.probes.len() <= 14, "{}", cap.probes.len());
}

#[test]
fn capacity_search_from_above_halves_down() {
    let slo = Slo::p99_under_us(10_000.0);
    let cap = capacity_search(&search(500_000.0), &slo, knee_system(3_000.0)).unwrap();
    assert_eq!(cap.end, SearchEnd::Resolved);
    assert!(cap.rate_per_s.unwrap() <= 3_000.0);
}

#[test]
fn capacity_search_edges() {
    let slo = Slo::p99_under_us(10_000.0);
    let above = capacity_search(&search(1000.0), &slo, knee_system(f64::INFINITY)).unwrap();
    assert_eq!(above.end, SearchEnd::AboveMax);
    assert_eq!(above.rate_per_s, Some(1_000_000.0));
    let below = capacity_search(&search(1000.0), &slo, knee_system(1.0)).unwrap();
    assert_eq!(below.end, SearchEnd::BelowMin);
    assert_eq!(below.rate_per_s, None);
    let budget = CapacitySearch {
        max_probes: 3,
        ..search(1000.0)
    };
    let short = capacity_search(&budget, &slo, knee_system(23_456.0)).unwrap();
    assert_eq!(short.end, SearchEnd::ProbeBudget);
    assert_eq!(short.probes.len(), 3);
    let invalid = CapacitySearch {
        min_per_s: 0.0,
        ..search(1000.0)
    };
    let none = capacity_search(&invalid, &slo, knee_system(5.0)).unwrap();
    assert_eq!(none.end, SearchEnd::InvalidSearch);
    assert!(none.probes.is_empty());
}

#[test]
fn capacity_counts_errors_against_the_budget() {
    let slo = Slo::p99_under_us(10_000.0);
    let outcome = ProbeOutcome {
        p99_us: 1_000.0,
        error_rate: 0.001,
    };
    assert!(!slo.is_met(&outcome), "0.1% errors is not under 0.1%");
    assert!(slo.is_met(&ProbeOutcome {
        error_rate: 0.0009,
        ..outcome
    }));
}

#[test]
fn a_probe_error_ends_the_search() {
    let slo = Slo::p99_under_us(10_000.0);
    let mut calls = 0;
    let result = capacity_search(&search(1000.0), &slo, |_| {
        calls += 1;
        if calls == 3 {
            Err("contestant crashed")
        } else {
            Ok(ProbeOutcome {
                p99_us: 1.0,
                error_rate: 0.0,
            })
        }
    });
    assert_eq!(result, Err("contestant crashed"));
}

// ---- properties ----

fn samples(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(1.0..1e6_f64, 1..max_len)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn median_lies_within_the_samples(s in samples(60)) {
        let m = median(&s).unwrap();
        let lo = s.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(lo <= m && m <= hi);
    }

    #[test]
    fn quantile_is_monotone(s in samples(40), p in 0.0..1.0_f64, q in 0.0..1.0_f64) {
        let (p, q) = if p <= q { (p, q) } else { (q, p) };
        prop_assert!(quantile(&s, p).unwrap() <= quantile(&s, q).unwrap());
    }

    #[test]
    fn mad_ignores_shifts_and_scales_with_the_data(s in samples(40), shift in -1e3..1e3_f64, k in 0.1..10.0_f64) {
        let m = mad(&s).unwrap();
        prop_assert!(m >= 0.0);
        let shifted: Vec<f64> = s.iter().map(|x| x + shift).collect();
        let scaled: Vec<f64> = s.iter().map(|x| x * k).collect();
        prop_assert!((mad(&shifted).unwrap() - m).abs() <= 1e-6 * (1.0 + m));
        prop_assert!((mad(&scaled).unwrap() - k * m).abs() <= 1e-6 * (1.0 + k * m));
    }

    #[test]
    fn ci_contains_the_median_and_keeps_its_promise(s in samples(200), conf in 0.5..0.999_f64) {
        let ci = median_ci(&s, conf).unwrap();
        prop_assert!(ci.lo <= ci.point && ci.point <= ci.hi);
        prop_assert!(s.contains(&ci.lo) && s.contains(&ci.hi));
        if ci.short_of_confidence {
            let lo = s.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert_eq!((ci.lo, ci.hi), (lo, hi));
            prop_assert!(ci.coverage < conf);
        } else {
            prop_assert!(ci.coverage >= conf - 1e-12);
        }
    }

    #[test]
    fn ci_widens_as_confidence_rises(s in samples(200), a in 0.5..0.999_f64, b in 0.5..0.999_f64) {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        let narrow = median_ci(&s, low).unwrap();
        let wide = median_ci(&s, high).unwrap();
        prop_assert!(wide.lo <= narrow.lo && narrow.hi <= wide.hi);
    }

    #[test]
    fn overlap_is_symmetric_and_reflexive(a in samples(20), b in samples(20)) {
        let ca = median_ci(&a, 0.95).unwrap();
        let cb = median_ci(&b, 0.95).unwrap();
        prop_assert!(overlaps(&ca, &ca));
        prop_assert_eq!(overlaps(&ca, &cb), overlaps(&cb, &ca));
    }

    #[test]
    fn should_stop_respects_min_and_max(s in samples(15), min in 1usize..8, extra in 0usize..8) {
        let max = min + extra;
        let d = should_stop(&s, 0.03, min, max);
        if s.len() >= max {
            prop_assert!(d.is_stop());
        } else if s.len() < min {
            prop_assert_eq!(d, Decision::BelowMinRounds);
        }
        if matches!(d, Decision::Converged { .. }) {
            prop_assert!(s.len() >= 6);
        }
    }

    #[test]
    fn identical_samples_are_not_significant(s in prop::collection::vec(900.0..1100.0_f64, 3..12)) {
        let c = compare(&s, &s, DEFAULT_NOISE_THRESHOLD).unwrap();
        prop_assert_eq!(c.change, Change::NonSignificant);
        prop_assert!(c.ratio.contains(1.0));
    }

    #[test]
    fn a_shifted_copy_compares_as_changed(s in prop::collection::vec(1000.0..1050.0_f64, 3..12), up in 1.2..3.0_f64) {
        let faster: Vec<f64> = s.iter().map(|x| x * up).collect();
        let slower: Vec<f64> = s.iter().map(|x| x / up).collect();
        prop_assert_eq!(compare(&s, &faster, DEFAULT_NOISE_THRESHOLD).unwrap().change, Change::Improved);
        prop_assert_eq!(compare(&s, &slower, DEFAULT_NOISE_THRESHOLD).unwrap().change, Change::Regressed);
    }

    #[test]
    fn capacity_never_overstates_a_monotone_knee(knee in 20.0..900_000.0_f64, start in 10.0..1e6_f64) {
        let slo = Slo::p99_under_us(10_000.0);
        let cap = capacity_search(&search(start), &slo, knee_system(knee)).unwrap();
        prop_assert!(cap.probes.len() <= 30);
        prop_assert_eq!(cap.end, SearchEnd::Resolved);
        let found = cap.rate_per_s.unwrap();
        prop_assert!(found <= knee && found * 1.02 >= knee, "knee {} found {}", knee, found);
    }
}

#[test]
fn the_knee_is_the_first_point_within_ten_percent_of_the_best() {
    // 1, 16, 64, 256, 1024 connections: throughput flattens from 64 on.
    let rps = [
        Some(900.0),
        Some(9_000.0),
        Some(18_500.0),
        Some(20_000.0),
        Some(19_000.0),
    ];
    assert_eq!(knee(&rps), Some(2));
    // A missing point is never the knee; the best alone can be it.
    assert_eq!(knee(&[None, Some(100.0), Some(50.0)]), Some(1));
    assert_eq!(knee(&[Some(10.0), Some(100.0)]), Some(1));
    assert_eq!(knee(&[None, Some(f64::NAN)]), None);
    assert_eq!(knee(&[]), None);
}
