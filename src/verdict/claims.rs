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
    /// Memory (PSS) added per 1,000 idle connections held, at the workload's largest count of
    /// idle connections (the same count for every contestant); lower is better.
    #[serde(rename = "idle_pss_per_1k")]
    IdlePssPer1k,
    /// p99 of a light probe while the workload's largest count of idle connections is held
    /// (µs); lower is better.
    IdleProbeP99,
    /// WebSocket messages per second (echo round trips or fan-out deliveries), with interval.
    WsMessages,
    /// WebSocket round-trip (echo) or delivery (room) latency p99, from the intended send time
    /// (µs); lower is better.
    #[serde(rename = "ws_p99")]
    WsP99,
    /// Fan-out deliveries over expected deliveries (1.0 = every message reached everyone).
    WsDelivered,
    /// Throughput at the sweep's most workers over (workers x throughput at one worker).
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
    pub const ALL: [(Measure, &'static str); 14] = [
        (Measure::Throughput, "throughput"),
        (Measure::P99, "p99"),
        (Measure::CpuPer1k, "cpu_per_1k"),
        (Measure::Pss, "pss"),
        (Measure::Capacity, "capacity"),
        (Measure::CostPerMillion, "cost_per_million"),
        (Measure::IdlePssPer1k, "idle_pss_per_1k"),
        (Measure::IdleProbeP99, "idle_probe_p99"),
        (Measure::WsMessages, "ws_messages"),
        (Measure::WsP99, "ws_p99"),
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
            Measure::P99 | Measure::IdleProbeP99 | Measure::WsP99 => "µs p99",
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

    /// What to run to get the figure, for "not measured" messages of a test that names no
    /// suite (a test that does is told to run that suite, see [`Test::source`]).
    pub fn how_to_measure(self) -> &'static str {
        match self {
            Measure::Throughput | Measure::P99 | Measure::CpuPer1k | Measure::Pss => {
                "a `faceoff run` of a suite with this workload"
            }
            Measure::Capacity | Measure::CostPerMillion => {
                "a capacity workload (`capacity = {...}`), as in the scale suite: `faceoff run --suite scale`"
            }
            Measure::IdlePssPer1k | Measure::IdleProbeP99 => {
                "an idle workload (`kind = \"idle\"`), as in the scale suite: `faceoff run --suite scale`"
            }
            Measure::WsMessages | Measure::WsP99 | Measure::WsDelivered => {
                "a WebSocket workload (ws-echo, ws-room), as in the standard suite: `faceoff run`"
            }
            Measure::ScalingEfficiency => {
                "a worker sweep (`workers = [1, 2]`), as in the cores suite: `faceoff run --suite cores`"
            }
            Measure::AuditScore | Measure::Dependencies => {
                "the audit every `faceoff run` stores unless given `--audit off`"
            }
        }
    }

    /// Whether workload `w` of a suite produces this measure's figures under the name `name`
    /// (a claims file names a worker sweep by its own name, not its points' `<name>.w<N>`).
    /// The audit measures read no workload: their workload is [`AUDIT_WORKLOAD`], which every
    /// run with an audit has.
    pub fn produced_by(self, name: &str, w: &crate::suite::Workload) -> bool {
        use crate::suite::WorkloadKind;
        let plain =
            w.name == name && w.sweep.is_empty() && w.capacity.is_none() && w.workers.is_none();
        match self {
            Measure::Throughput | Measure::P99 | Measure::CpuPer1k | Measure::Pss => {
                plain && w.kind == WorkloadKind::Http
            }
            Measure::Capacity | Measure::CostPerMillion => w.name == name && w.capacity.is_some(),
            Measure::IdlePssPer1k | Measure::IdleProbeP99 => {
                w.name == name && matches!(w.kind, WorkloadKind::Idle(_))
            }
            Measure::WsMessages | Measure::WsP99 => {
                plain
                    && matches!(
                        w.kind,
                        WorkloadKind::WsEcho { .. } | WorkloadKind::WsRoom { .. }
                    )
            }
            Measure::WsDelivered => plain && matches!(w.kind, WorkloadKind::WsRoom { .. }),
            Measure::ScalingEfficiency => w.workers.as_ref().is_some_and(|p| p.sweep == name),
            Measure::AuditScore | Measure::Dependencies => false,
        }
    }

    /// Whether the measure reads the audit rather than a workload.
    pub fn is_audit(self) -> bool {
        matches!(self, Measure::AuditScore | Measure::Dependencies)
    }
}

/// The workload name audit tests give: the audit is stored with the run, not per workload.
pub const AUDIT_WORKLOAD: &str = "audit";

impl Measure {}

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
    /// The suite whose runs hold the figures (`standard`, `scale`, `cores`, `compute`, or a
    /// user's suite name); `None` when any run with the workload will do. A run of this suite
    /// is preferred when several are judged together, and "not measured" says to run it.
    pub suite: Option<String>,
}

impl Test {
    /// Where the figures come from, for "not measured" messages.
    pub fn source(&self) -> String {
        match self.suite.as_deref() {
            Some(s) if crate::suite::builtin_names().any(|b| b == s) => {
                let cmd = if s == crate::suite::DEFAULT_SUITE {
                    "`faceoff run`".to_string()
                } else {
                    format!("`faceoff run --suite {s}`")
                };
                format!("the {s} suite ({cmd})")
            }
            Some(s) => format!("a run of suite '{s}'"),
            None => self.measure.how_to_measure().to_string(),
        }
    }
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
    suite: Option<Spanned<String>>,
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
        let audit = w.get_ref() == AUDIT_WORKLOAD;
        if measure.is_some_and(Measure::is_audit) && !audit {
            check.of(
                w,
                format!(
                    "{} reads the audit stored with a run, not a workload; write workloads = [\"{AUDIT_WORKLOAD}\"]",
                    t.measure.get_ref()
                ),
            );
        }
    }
    if let Some(s) = &t.suite {
        check.name(s, "suite");
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
        suite: t.suite.as_ref().map(|s| s.get_ref().clone()),
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

    /// Every test of every built-in claims file names workloads that a built-in suite produces
    /// under that name, with a kind that gives the test's measure; a test that names its suite
    /// finds them in that suite.
    #[test]
    fn every_builtin_claim_names_workloads_a_builtin_suite_produces() {
        let suites: Vec<crate::suite::Plan> = crate::suite::builtin_names()
            .map(|n| crate::suite::builtin(n).unwrap())
            .collect();
        let mut checked = 0;
        for name in FileKind::Claims.builtin_names() {
            let file = load(name).unwrap();
            for claim in &file.claims {
                for test in &claim.tests {
                    let m = test.measure;
                    for w in &test.workloads {
                        let what = format!("{name}: claim '{}', {} on {w}", claim.id, m.name());
                        if m.is_audit() {
                            assert_eq!(w, AUDIT_WORKLOAD, "{what}");
                        } else {
                            let producers: Vec<&str> = suites
                                .iter()
                                .filter(|s| s.workloads.iter().any(|x| m.produced_by(w, x)))
                                .map(|s| s.name.as_str())
                                .collect();
                            assert!(!producers.is_empty(), "{what}: no built-in suite has it");
                            if let Some(s) = &test.suite {
                                assert!(
                                    producers.contains(&s.as_str()),
                                    "{what}: suite {s} does not produce it; {producers:?} do"
                                );
                            }
                        }
                        checked += 1;
                    }
                    // Built-in claims say where their figures come from.
                    let suite = test.suite.as_deref().unwrap_or_else(|| {
                        panic!("{name}: claim '{}' has a test without a suite", claim.id)
                    });
                    assert!(
                        suites.iter().any(|s| s.name == suite),
                        "{name}: claim '{}' names suite {suite}, not a built-in one",
                        claim.id
                    );
                }
            }
        }
        assert!(checked > 20, "{checked}");
    }

    #[test]
    fn kinds_decide_which_measures_a_workload_produces() {
        let plan = crate::suite::builtin("cores").unwrap();
        let point = &plan.workloads[0];
        assert_eq!(point.name, "compute.w1");
        assert!(Measure::ScalingEfficiency.produced_by("compute", point));
        assert!(!Measure::Throughput.produced_by("compute", point));
        let standard = crate::suite::builtin("standard").unwrap();
        let by = |n: &str| standard.workloads.iter().find(|w| w.name == n).unwrap();
        assert!(Measure::WsMessages.produced_by("ws-echo", by("ws-echo")));
        assert!(!Measure::WsDelivered.produced_by("ws-echo", by("ws-echo")));
        assert!(Measure::WsDelivered.produced_by("ws-room", by("ws-room")));
        assert!(!Measure::Throughput.produced_by("ws-room", by("ws-room")));
        assert!(!Measure::Capacity.produced_by("json-1024", by("json-1024")));
        let scale = crate::suite::builtin("scale").unwrap();
        let by = |n: &str| scale.workloads.iter().find(|w| w.name == n).unwrap();
        assert!(Measure::IdleProbeP99.produced_by("idle-http", by("idle-http")));
        assert!(!Measure::Throughput.produced_by("idle-http", by("idle-http")));
        assert!(Measure::CostPerMillion.produced_by("io-capacity", by("io-capacity")));
    }

    #[test]
    fn audit_tests_read_the_audit_and_a_suite_is_a_name() {
        let text = "title = \"t\"\n[[claim]]\nid = \"a\"\ntopic = \"t\"\nquote = \"q\"\n\
                    [[claim.test]]\nmeasure = \"audit_score\"\nworkloads = [\"json\"]\n\
                    suite = \"my suite\"\nfavoured = \"Node.js\"\nother = \"Python\"\n\
                    expect = \"better\"\nmargin = 0.0\n";
        let err = parse(&Source {
            label: "mine.toml".into(),
            path: "mine.toml".into(),
            text: text.into(),
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("mine.toml:8:14: audit_score reads the audit stored with a run, not a workload; write workloads = [\"audit\"]"),
            "{err}"
        );
        assert!(
            err.contains("mine.toml:9:9: suite 'my suite' must be 1 to 64 letters"),
            "{err}"
        );
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
