//! What a contestant costs at the user's load: instances needed for a target rate, priced with
//! a pricing file (`pricing/*.toml`).
//!
//! The arithmetic, from a contestant's capacity under the SLO `C` (req/s, with its interval) and
//! the CPU cores and memory (PSS) it used at that rate:
//!
//! - instance size: the smallest vCPU size of the pricing file that holds the cores used at
//!   capacity (the server CPUs it ran on when that was not recorded), and memory of at least
//!   `min_gb_per_vcpu` x vCPU, or the PSS at capacity rounded up to `memory_step_gb` if larger
//!   (GB here are GiB, as cloud task sizes are);
//! - one instance per month: `(vCPU x vcpu_hour + GB x gb_hour) x hours_per_month`;
//! - instances: `ceil(target / (C x (1 - headroom)))`, at least one;
//! - per month: instances x one instance; per million requests: per month over the requests
//!   of a month at the target rate, `target x 3600 x hours_per_month / 1e6`.
//!
//! The interval comes from the capacity's: its upper bound gives the fewest instances (the low
//! cost), its lower bound the most (the high cost). Without a capacity there is no cost: the
//! caller says "not measured", never a guess from closed-loop throughput.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::facts::CapacityFacts;
use super::toml_file::Checker;
use super::{Error, FileKind, Source};

/// The pricing file used when none is given.
pub const DEFAULT_PRICING: &str = "aws-fargate-x86-us-east-1";

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Prices of one platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pricing {
    /// The platform, e.g. "AWS Fargate, Linux/x86, us-east-1".
    pub name: String,
    /// Where the prices come from (a URL).
    pub source: String,
    /// When they were taken (YYYY-MM-DD).
    pub date: String,
    /// Currency of every price.
    pub currency: String,
    /// `builtin:NAME` or the path given.
    pub file: String,
    /// Price of one vCPU for one hour.
    pub vcpu_hour: f64,
    /// Price of one GB of memory for one hour.
    pub gb_hour: f64,
    /// Hours billed per month.
    pub hours_per_month: f64,
    /// vCPU sizes an instance can have, ascending.
    pub vcpu_sizes: Vec<f64>,
    /// Least memory per vCPU (GB).
    pub min_gb_per_vcpu: f64,
    /// Memory is bought in steps of this (GB).
    pub memory_step_gb: f64,
}

/// A figure with the range the capacity interval gives it; `hi` is `None` when the capacity's
/// lower bound is zero (no bound on the cost).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Span {
    /// From the capacity's point estimate.
    pub point: f64,
    /// From the capacity's upper bound (the cheaper end).
    pub lo: f64,
    /// From the capacity's lower bound (the dearer end).
    pub hi: Option<f64>,
}

/// What one contestant costs for the target load on one workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostEstimate {
    /// The workload whose capacity it is priced from.
    pub workload: String,
    /// The platform priced.
    pub pricing: String,
    /// Currency of every figure.
    pub currency: String,
    /// The load priced (req/s).
    pub target_rps: f64,
    /// Share of capacity kept free.
    pub headroom: f64,
    /// Capacity under the SLO (req/s): point, lo, hi.
    pub capacity_per_s: [f64; 3],
    /// vCPU of one instance.
    pub vcpu: f64,
    /// Memory of one instance (GB).
    pub memory_gb: f64,
    /// How the size was chosen, and what was not recorded.
    pub basis: Vec<String>,
    /// One instance for a month.
    pub instance_per_month: f64,
    /// Instances needed.
    pub instances: Span,
    /// All instances for a month.
    pub per_month: Span,
    /// Per million requests at the target rate.
    pub per_million: Span,
}

/// Prices the instances a contestant needs for `target_rps` with `headroom` of its capacity
/// kept free.
pub fn estimate(
    cap: &CapacityFacts,
    pricing: &Pricing,
    target_rps: f64,
    headroom: f64,
) -> CostEstimate {
    let mut basis = Vec::new();
    let cores = match cap.cpu_cores {
        Some(c) => {
            basis.push(format!("{c:.2} cores busy at capacity"));
            c
        }
        None => {
            basis.push(format!(
                "CPU at capacity not recorded: sized for the {} server CPUs it ran on",
                cap.server_cpus
            ));
            f64::from(cap.server_cpus.max(1))
        }
    };
    let vcpu = pricing
        .vcpu_sizes
        .iter()
        .copied()
        .find(|&size| size >= cores)
        .unwrap_or_else(|| {
            let largest = pricing.vcpu_sizes.last().copied().unwrap_or(1.0);
            basis.push(format!(
                "{cores:.2} cores is more than the largest size ({largest} vCPU): priced at it"
            ));
            largest
        });
    let min_gb = pricing.min_gb_per_vcpu * vcpu;
    let memory_gb = match cap.pss_bytes {
        Some(bytes) => {
            let step = pricing.memory_step_gb;
            let needed = (bytes as f64 / GIB / step).ceil() * step;
            basis.push(format!(
                "{:.0} MiB PSS at capacity",
                bytes as f64 / (1024.0 * 1024.0)
            ));
            needed.max(min_gb)
        }
        None => {
            basis.push("memory at capacity not recorded: priced at the minimum size".into());
            min_gb
        }
    };
    let instance_per_month =
        (vcpu * pricing.vcpu_hour + memory_gb * pricing.gb_hour) * pricing.hours_per_month;
    let instances_at = |capacity: f64| -> Option<f64> {
        let usable = capacity * (1.0 - headroom);
        (usable > 0.0 && usable.is_finite()).then(|| (target_rps / usable).ceil().max(1.0))
    };
    let requests_per_month_m = target_rps * 3600.0 * pricing.hours_per_month / 1e6;
    let r = cap.rate_per_s;
    let span = |f: &dyn Fn(f64) -> f64| -> Span {
        Span {
            point: instances_at(r.point).map_or(f64::INFINITY, f),
            lo: instances_at(r.hi).map_or(f64::INFINITY, f),
            hi: instances_at(r.lo).map(f),
        }
    };
    let per_month = |n: f64| n * instance_per_month;
    CostEstimate {
        workload: cap.workload.clone(),
        pricing: pricing.name.clone(),
        currency: pricing.currency.clone(),
        target_rps,
        headroom,
        capacity_per_s: [r.point, r.lo, r.hi],
        vcpu,
        memory_gb,
        basis,
        instance_per_month,
        instances: span(&|n| n),
        per_month: span(&per_month),
        per_million: span(&|n| per_month(n) / requests_per_month_m),
    }
}

/// The built-in pricing file, or the file at a path.
pub fn load(name_or_path: &str) -> Result<Pricing, Error> {
    parse(&super::source(FileKind::Pricing, name_or_path)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPricing {
    name: String,
    source: Spanned<String>,
    date: Spanned<String>,
    currency: String,
    vcpu_hour: Spanned<f64>,
    gb_hour: Spanned<f64>,
    hours_per_month: Spanned<f64>,
    vcpu_sizes: Spanned<Vec<f64>>,
    min_gb_per_vcpu: Spanned<f64>,
    memory_step_gb: Spanned<f64>,
}

/// Validates a pricing file.
pub fn parse(source: &Source) -> Result<Pricing, Error> {
    let (raw, mut check): (RawPricing, _) = Checker::parse(FileKind::Pricing, source)?;
    if raw.source.get_ref().trim().is_empty() {
        check.of(
            &raw.source,
            "source must say where the prices come from".into(),
        );
    }
    let date = raw.date.get_ref();
    let date_ok = date.len() == 10
        && date.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !date_ok {
        check.of(
            &raw.date,
            format!("date must be YYYY-MM-DD (the day the prices were taken), not '{date}'"),
        );
    }
    let vcpu_hour = check.number(&raw.vcpu_hour, "vcpu_hour", 0.0, 1e6);
    let gb_hour = check.number(&raw.gb_hour, "gb_hour", 0.0, 1e6);
    let hours = check.number(&raw.hours_per_month, "hours_per_month", 1.0, 744.0);
    let min_gb = check.number(&raw.min_gb_per_vcpu, "min_gb_per_vcpu", 0.0, 1e4);
    let step = check.number(&raw.memory_step_gb, "memory_step_gb", 0.001, 1e4);
    let sizes = raw.vcpu_sizes.get_ref();
    let ascending = sizes.windows(2).all(|w| w[0] < w[1]);
    if sizes.is_empty() || !ascending || sizes.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        check.of(
            &raw.vcpu_sizes,
            "vcpu_sizes must list positive sizes in ascending order, e.g. [0.5, 1, 2]".into(),
        );
    }
    let pricing = Pricing {
        name: raw.name,
        source: raw.source.into_inner(),
        date: raw.date.into_inner(),
        currency: raw.currency,
        file: source.label.clone(),
        vcpu_hour,
        gb_hour,
        hours_per_month: hours,
        vcpu_sizes: raw.vcpu_sizes.into_inner(),
        min_gb_per_vcpu: min_gb,
        memory_step_gb: step,
    };
    check.finish(pricing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Interval;

    #[test]
    fn builtin_prices_are_the_issues() {
        let x86 = load(DEFAULT_PRICING).unwrap();
        assert_eq!((x86.vcpu_hour, x86.gb_hour), (0.04048, 0.004445));
        let arm = load("aws-fargate-arm-us-east-1").unwrap();
        assert_eq!((arm.vcpu_hour, arm.gb_hour), (0.03238, 0.00356));
        assert!(x86
            .source
            .starts_with("https://aws.amazon.com/fargate/pricing"));
    }

    /// Issue 12: the cost figures match a hand calculation to the cent.
    #[test]
    fn cost_matches_a_hand_calculation() {
        let pricing = load(DEFAULT_PRICING).unwrap();
        let cap = CapacityFacts {
            workload: "db".into(),
            contestant: "node-fastify".into(),
            slo_p99_us: 50_000.0,
            rate_per_s: Interval {
                point: 1_000.0,
                lo: 900.0,
                hi: 1_100.0,
                coverage: 0.95,
                short_of_confidence: false,
            },
            cpu_cores: Some(0.9),
            pss_bytes: Some(100 << 20),
            server_cpus: 1,
        };
        let c = estimate(&cap, &pricing, 5_000.0, 0.3);
        // 0.9 cores -> 1 vCPU; 100 MiB -> 0.5 GB, below the 2 GB minimum of 1 vCPU.
        assert_eq!((c.vcpu, c.memory_gb), (1.0, 2.0));
        // (1 x 0.04048 + 2 x 0.004445) x 730 = 0.04937 x 730 = $36.0401 a month.
        assert!((c.instance_per_month - 36.0401).abs() < 1e-9);
        // 5,000 / (1,000 x 0.7) = 7.14 -> 8; / (1,100 x 0.7) = 6.49 -> 7; / (900 x 0.7) = 7.94 -> 8.
        assert_eq!(
            (c.instances.point, c.instances.lo, c.instances.hi),
            (8.0, 7.0, Some(8.0))
        );
        let cents = |v: f64| (v * 100.0).round() / 100.0;
        // 8 x 36.0401 = 288.3208; 7 x 36.0401 = 252.2807.
        assert_eq!(cents(c.per_month.point), 288.32);
        assert_eq!(cents(c.per_month.lo), 252.28);
        // A month at 5,000 req/s: 5,000 x 3,600 x 730 = 13,140 million requests;
        // 288.3208 / 13,140 = $0.021942 per million.
        assert!((c.per_million.point - 288.3208 / 13_140.0).abs() < 1e-12);
        assert_eq!(cents(c.per_million.point * 1000.0), 21.94, "per billion");
    }

    #[test]
    fn memory_and_cpu_above_the_minimum_and_a_zero_lower_bound() {
        let pricing = load("aws-fargate-arm-us-east-1").unwrap();
        let cap = CapacityFacts {
            workload: "json".into(),
            contestant: "x".into(),
            slo_p99_us: 50_000.0,
            rate_per_s: Interval {
                point: 400.0,
                lo: 0.0,
                hi: 500.0,
                coverage: 0.95,
                short_of_confidence: false,
            },
            cpu_cores: None,
            pss_bytes: Some(9 << 30),
            server_cpus: 2,
        };
        let c = estimate(&cap, &pricing, 1_000.0, 0.0);
        // Not recorded: sized for its 2 server CPUs; 9 GiB is above the 4 GB minimum.
        assert_eq!((c.vcpu, c.memory_gb), (2.0, 9.0));
        // (2 x 0.03238 + 9 x 0.00356) x 730 = (0.06476 + 0.03204) x 730 = $70.664.
        assert!((c.instance_per_month - 70.664).abs() < 1e-9);
        assert_eq!(c.instances.point, 3.0);
        assert_eq!(c.instances.hi, None, "a zero lower bound has no cost bound");
        assert!(c.basis[0].contains("not recorded"));
    }
}
