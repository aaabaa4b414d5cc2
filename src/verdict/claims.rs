//! Claims files (`claims/*.toml`): claims about stacks, each quoted and turned into measurable
//! tests, or listed as not measurable with the reason. The format is documented at the top of
//! `claims/nodejs-vs-python-2025.toml`; this file checks it and builds a [`ClaimsFile`].

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::toml_file::Checker;
use super::{Error, FileKind, Source};

/// The claims file built into the binary and judged in every report.
pub const DEFAULT_CLAIMS: &str = "nodejs-vs-python-2025";

/// Largest margin a test may ask for (10 = the favoured side 11 times better).
const MAX_MARGIN: f64 = 10.0;

/// What a test compares. Which direction is better is fixed per measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Median requests per second over trials, with its 95% interval.
    Throughput,
    /// Median over trials of each trial's corrected p99 latency (µs); lower is better.
    P99,
    /// Server CPU milliseconds per 1,000 responses; lower is better.
    #[serde(rename = "cpu_per_1k")]
    CpuPer1k,
    /// Mean PSS of the contestant's processes during the trials (bytes); lower is better.
    Pss,
    /// Highest constant rate with p99 under the SLO and < 0.1% errors, with its interval.
    Capacity,
    /// Dollars per million requests at capacity under the SLO, priced with the default
    /// pricing file; lower is better.
    CostPerMillion,
    /// Memory (PSS) per 1,000 idle connections held, at the most connections held; lower is
    /// better.
    #[serde(rename = "idle_pss_per_1k")]
    IdlePssPer1k,
    /// p99 of a light probe while the most idle connections are held (µs); lower is better.
    IdleProbeP99,
    /// WebSocket messages per second (echo round trips or fan-out deliveries), with interval.
    WsMessages,
    /// Fan-out deliveries over expected deliveries (1.0 = every message reached everyone).
    WsDelivered,
    /// Throughput at the most workers over (workers x throughput at one worker).
    ScalingEfficiency,
    /// The audit's security score (Mozilla HTTP Observatory's rubric, 0-100).
    AuditScore,
    /// Packages installed from the lockfile, direct and transitive; lower is better.
    Dependencies,
}

/// How far a figure can be trusted when comparing two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// A median with its 95% interval.
    Interval,
    /// A figure of a noisy measurement without an interval.
    Point,
    /// A count: the same on every run.
    Exact,
}

impl Measure {
    /// Every measure with its name in files.
    pub const ALL: [(Measure, &'static str); 13] = [
        (Measure::Throughput, "throughput"),
        (Measure::P99, "p99"),
        (Measure::CpuPer1k, "cpu_per_1k"),
        (Measure::Pss, "pss"),
        (Measure::Capacity, "capacity"),
        (Measure::CostPerMillion, "cost_per_million"),
        (Measure::IdlePssPer1k, "idle_pss_per_1k"),
        (Measure::IdleProbeP99, "idle_probe_p99"),
        (Measure::WsMessages, "ws_messages"),
        (Measure::WsDelivered, "ws_delivered"),
        (Measure::ScalingEfficiency, "scaling_efficiency"),
        (Measure::AuditScore, "audit_score"),
        (Measure::Dependencies, "dependencies"),
    ];

    /// The name used in files.
    pub fn name(self) -> &'static str {
        Measure::ALL
            .iter()
            .find(|(m, _)| *m == self)
            .map(|(_, n)| *n)
            .expect("every measure is listed in ALL")
    }

    /// Whether a higher figure is better.
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Measure::Throughput
                | Measure::Capacity
                | Measure::WsMessages
                | Measure::WsDelivered
                | Measure::ScalingEfficiency
                | Measure::AuditScore
        )
    }

    /// How far its figures can be trusted.
    pub fn precision(self) -> Precision {
        match self {
            Measure::Throughput
            | Measure::Capacity
            | Measure::CostPerMillion
            | Measure::WsMessages => Precision::Interval,
            Measure::AuditScore | Measure::Dependencies | Measure::WsDelivered => Precision::Exact,
            _ => Precision::Point,
        }
    }

    /// The figure's unit, as shown after a number.
    pub fn unit(self) -> &'static str {
        match self {
            Measure::Throughput | Measure::Capacity => "req/s",
            Measure::P99 | Measure::IdleProbeP99 => "µs p99",
            Measure::CpuPer1k => "CPU-ms per 1k requests",
            Measure::Pss => "MiB PSS",
            Measure::CostPerMillion => "$ per million requests",
            Measure::IdlePssPer1k => "MiB PSS per 1k idle connections",
            Measure::WsMessages => "messages/s",
            Measure::WsDelivered => "delivered/expected",
            Measure::ScalingEfficiency => "scaling efficiency",
            Measure::AuditScore => "security score",
            Measure::Dependencies => "packages",
        }
    }

    /// What to run to get the figure, for "not measured" messages.
    pub fn how_to_measure(self) -> &'static str {
        match self {
            Measure::Throughput | Measure::P99 | Measure::CpuPer1k | Measure::Pss => {
                "a `faceoff run` of a suite with this workload"
            }
            Measure::Capacity | Measure::CostPerMillion => {
                "capacity under the SLO, from `faceoff run --suite scale`"
            }
            Measure::IdlePssPer1k | Measure::IdleProbeP99 => {
                "idle-connection scale, from `faceoff run --suite scale`"
            }
            Measure::WsMessages | Measure::WsDelivered => {
                "WebSocket workloads (ws-echo, ws-room), from `faceoff run`"
            }
            Measure::ScalingEfficiency => "a worker sweep, from `faceoff run --suite scale`",
            Measure::AuditScore | Measure::Dependencies => "the audit stored with the run",
        }
    }
}

/// What the claim says about the favoured side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// The favoured side beats the other by more than the margin.
    Better,
    /// The favoured side reaches at least 1/(1 + margin) of the other.
    Competitive,
}

impl Expect {
    /// The ratio (favoured's goodness over the other's) the claim needs.
    pub fn threshold(self, margin: f64) -> f64 {
        match self {
            Expect::Better => 1.0 + margin,
            Expect::Competitive => 1.0 / (1.0 + margin),
        }
    }
}

/// Who stands for one side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Every contestant of this stack label; the best on the measure stands for it.
    Stack(String),
    /// These contestants by name; the best of them stands for the side.
    Contestants(Vec<String>),
}

impl Side {
    /// How the side is named in sentences.
    pub fn label(&self) -> String {
        match self {
            Side::Stack(s) => s.clone(),
            Side::Contestants(names) => names.join(" / "),
        }
    }
}

/// One measurable test of a claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Test {
    /// What is compared.
    pub measure: Measure,
    /// The workloads it is judged on, each on its own.
    pub workloads: Vec<String>,
    /// One problem size per workload, increasing; empty when the test is not per size.
    pub sizes: Vec<u64>,
    /// The side the claim favours.
    pub favoured: Side,
    /// The side it is compared with.
    pub other: Side,
    /// What the claim says.
    pub expect: Expect,
    /// The relative difference that counts as significant.
    pub margin: f64,
}

/// A claim: measurable through tests, or not measurable with the reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    /// Short unique name.
    pub id: String,
    /// What it is about.
    pub topic: String,
    /// The claim as written.
    pub quote: String,
    /// Its tests; empty when it is not measurable.
    pub tests: Vec<Test>,
    /// Why faceoff cannot measure it; `None` when it has tests.
    pub not_measurable: Option<String>,
}

/// A validated claims file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimsFile {
    /// The claims' title (e.g. the article's).
    pub title: String,
    /// Where the claims come from.
    pub source: String,
    /// `builtin:NAME` or the path given.
    pub file: String,
    /// The claims in file order.
    pub claims: Vec<Claim>,
}

/// The built-in claims file, or the file at a path.
pub fn load(name_or_path: &str) -> Result<ClaimsFile, Error> {
    parse(&super::source(FileKind::Claims, name_or_path)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    title: Spanned<String>,
    source: Option<String>,
    #[serde(default, rename = "claim")]
    claims: Vec<RawClaim>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClaim {
    id: Spanned<String>,
    topic: String,
    quote: Spanned<String>,
    reason: Option<Spanned<String>>,
    #[serde(default, rename = "test")]
    tests: Vec<RawTest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    measure: Spanned<String>,
    workloads: Spanned<Vec<Spanned<String>>>,
    sizes: Option<Spanned<Vec<Spanned<i64>>>>,
    favoured: Spanned<RawSide>,
    other: Spanned<RawSide>,
    expect: Spanned<String>,
    margin: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawSide {
    Stack(String),
    Contestants(Vec<String>),
}

/// Validates a claims file.
pub fn parse(source: &Source) -> Result<ClaimsFile, Error> {
    let (raw, mut check): (RawFile, _) = Checker::parse(FileKind::Claims, source)?;
    if raw.title.get_ref().trim().is_empty() {
        check.of(&raw.title, "title must not be empty".into());
    }
    if raw.claims.is_empty() {
        check.at(
            source.text.len(),
            "the file has no claims; add a [[claim]] table".into(),
        );
    }
    let mut claims: Vec<Claim> = Vec::new();
    for c in raw.claims {
        check.name(&c.id, "claim id");
        if claims.iter().any(|k| k.id == *c.id.get_ref()) {
            check.of(
                &c.id,
                format!("claim id '{}' is used twice", c.id.get_ref()),
            );
        }
        if c.quote.get_ref().trim().is_empty() {
            check.of(&c.quote, "quote must not be empty".into());
        }
        match (&c.reason, c.tests.is_empty()) {
            (Some(reason), false) => check.of(
                reason,
                format!(
                    "claim '{}' has tests and a reason it is not measurable; keep one",
                    c.id.get_ref()
                ),
            ),
            (None, true) => check.of(
                &c.id,
                format!(
                    "claim '{}' has no [[claim.test]] and no `reason` it cannot be measured",
                    c.id.get_ref()
                ),
            ),
            _ => {}
        }
        let tests = c.tests.iter().filter_map(|t| test(t, &mut check)).collect();
        claims.push(Claim {
            id: c.id.into_inner(),
            topic: c.topic,
            quote: c.quote.into_inner(),
            tests,
            not_measurable: c.reason.map(Spanned::into_inner),
        });
    }
    let file = ClaimsFile {
        title: raw.title.into_inner(),
        source: raw.source.unwrap_or_default(),
        file: source.label.clone(),
        claims,
    };
    check.finish(file)
}

fn test(t: &RawTest, check: &mut Checker) -> Option<Test> {
    let measure = Measure::ALL
        .iter()
        .find(|(_, n)| n == t.measure.get_ref())
        .map(|(m, _)| *m);
    if measure.is_none() {
        let names: Vec<&str> = Measure::ALL.iter().map(|(_, n)| *n).collect();
        check.of(
            &t.measure,
            format!(
                "unknown measure '{}'; use one of: {}",
                t.measure.get_ref(),
                names.join(", ")
            ),
        );
    }
    let expect = match t.expect.get_ref().as_str() {
        "better" => Some(Expect::Better),
        "competitive" => Some(Expect::Competitive),
        other => {
            check.of(
                &t.expect,
                format!("expect must be \"better\" or \"competitive\", not '{other}'"),
            );
            None
        }
    };
    let margin = check.number(&t.margin, "margin", 0.0, MAX_MARGIN);
    let workloads: Vec<String> = t
        .workloads
        .get_ref()
        .iter()
        .map(|w| w.get_ref().clone())
        .collect();
    if workloads.is_empty() {
        check.of(
            &t.workloads,
            "workloads must name at least one workload".into(),
        );
    }
    for w in t.workloads.get_ref() {
        check.name(w, "workload");
    }
    let mut sizes = Vec::new();
    if let Some(s) = &t.sizes {
        if s.get_ref().len() != workloads.len() {
            check.of(
                s,
                format!(
                    "sizes has {} entries but workloads has {}; give one size per workload",
                    s.get_ref().len(),
                    workloads.len()
                ),
            );
        }
        for (i, n) in s.get_ref().iter().enumerate() {
            let v = *n.get_ref();
            if v < 1 {
                check.of(n, format!("a size must be at least 1, not {v}"));
            } else if i > 0 && v <= *s.get_ref()[i - 1].get_ref() {
                check.of(n, "sizes must increase".into());
            }
            sizes.push(v.max(1) as u64);
        }
    }
    let favoured = side(&t.favoured, "favoured", check);
    let other = side(&t.other, "other", check);
    if favoured.is_some() && favoured == other {
        check.of(&t.other, "other is the same side as favoured".into());
    }
    Some(Test {
        measure: measure?,
        workloads,
        sizes,
        favoured: favoured?,
        other: other?,
        expect: expect?,
        margin,
    })
}

fn side(raw: &Spanned<RawSide>, what: &str, check: &mut Checker) -> Option<Side> {
    match raw.get_ref() {
        RawSide::Stack(s) if s.trim().is_empty() => {
            check.of(raw, format!("{what} must name a stack or list contestants"));
            None
        }
        RawSide::Stack(s) => Some(Side::Stack(s.clone())),
        RawSide::Contestants(names) if names.is_empty() => {
            check.of(raw, format!("{what} lists no contestant"));
            None
        }
        RawSide::Contestants(names) => Some(Side::Contestants(names.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_file_is_valid_and_covers_issue_12() {
        let file = load(DEFAULT_CLAIMS).unwrap();
        let ids: Vec<&str> = file.claims.iter().map(|c| c.id.as_str()).collect();
        for id in [
            "connections",
            "realtime",
            "numpy",
            "gil",
            "compute-scaling",
            "v8",
            "security",
            "dependencies",
            "economy",
            "learning-curve",
            "ecosystem",
            "developer-cost",
        ] {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
        let numpy = file.claims.iter().find(|c| c.id == "numpy").unwrap();
        assert_eq!(numpy.tests[0].sizes, [1_000, 10_000, 1_000_000]);
        let unmeasurable = file
            .claims
            .iter()
            .filter(|c| c.not_measurable.is_some())
            .count();
        assert_eq!(unmeasurable, 3);
    }

    #[test]
    fn measures_serialize_as_their_file_names() {
        for (m, name) in Measure::ALL {
            assert_eq!(serde_json::to_value(m).unwrap(), name);
        }
    }

    #[test]
    fn the_file_on_disk_is_the_embedded_one() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/claims/nodejs-vs-python-2025.toml"
        );
        let mut from_disk = load(path).unwrap();
        from_disk.file = format!("builtin:{DEFAULT_CLAIMS}");
        assert_eq!(from_disk, load(DEFAULT_CLAIMS).unwrap());
    }
}
