//! Response headers scored with Mozilla HTTP Observatory's published rubric, and version
//! disclosure.
//!
//! Source of the scoring: Mozilla HTTP Observatory, "Tests & scoring"
//! (<https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring>), and
//! `httpobs/docs/scoring.md` in mozilla/http-observatory, whose result names and modifiers
//! are used here as they are. X-XSS-Protection, which the Observatory dropped in 2024, is not
//! scored. A scan starts at 100;
//! each test adds a modifier; bonuses count only when the score before them is at least 90;
//! the score never drops below 0; grades come from its table (A+ from 100, A from 90, ...).
//! Tests that need HTTPS (Strict-Transport-Security, redirection to HTTPS) are reported
//! "n/a over plain HTTP" and not scored, since contestants serve plain HTTP on loopback.
//! Subresource Integrity needs external scripts, which no contestant page has: also n/a.

use serde::Serialize;

/// How one rubric test came out.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HeaderTest {
    /// The Observatory test, e.g. `content-security-policy`.
    pub test: &'static str,
    /// The Observatory result name, e.g. `csp-not-implemented`.
    pub result: &'static str,
    /// Score modifier (negative: penalty); `None` when not scored (n/a).
    pub modifier: Option<i32>,
    /// The header value seen, if any.
    pub value: Option<String>,
    /// One sentence for people.
    pub note: String,
}

impl HeaderTest {
    /// Whether this test costs points.
    pub fn is_finding(&self) -> bool {
        self.modifier.is_some_and(|m| m < 0)
    }
}

/// A version disclosed by a response header.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Disclosure {
    /// Header name (lowercase).
    pub header: String,
    /// Its value.
    pub value: String,
}

/// The headers verdict of one contestant.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderScore {
    /// 0 and up (100 + bonuses at most).
    pub score: i32,
    /// Letter grade from the Observatory table.
    pub grade: &'static str,
    /// Every rubric test, scored or not.
    pub tests: Vec<HeaderTest>,
    /// Headers that disclose the server software or its version (not scored by the
    /// Observatory; each is a finding).
    pub disclosures: Vec<Disclosure>,
}

/// The Observatory's grade table: lowest score of each grade.
const GRADES: &[(i32, &str)] = &[
    (100, "A+"),
    (90, "A"),
    (85, "A-"),
    (80, "B+"),
    (70, "B"),
    (65, "B-"),
    (60, "C+"),
    (50, "C"),
    (45, "C-"),
    (40, "D+"),
    (30, "D"),
    (25, "D-"),
    (0, "F"),
];

/// The letter grade of a score.
pub fn grade(score: i32) -> &'static str {
    GRADES
        .iter()
        .find(|(min, _)| score >= *min)
        .map(|(_, g)| *g)
        .unwrap_or("F")
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

fn test(
    test: &'static str,
    result: &'static str,
    modifier: Option<i32>,
    value: Option<&str>,
    note: impl Into<String>,
) -> HeaderTest {
    HeaderTest {
        test,
        result,
        modifier,
        value: value.map(str::to_string),
        note: note.into(),
    }
}

/// The directives of a CSP, as (name, sources) with lowercase names.
fn csp_directives(csp: &str) -> Vec<(String, Vec<String>)> {
    csp.split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some((name, words.map(|w| w.to_ascii_lowercase()).collect()))
        })
        .collect()
}

fn csp_test(csp: Option<&str>) -> HeaderTest {
    let name = "content-security-policy";
    let Some(value) = csp else {
        return test(
            name,
            "csp-not-implemented",
            Some(-25),
            None,
            "no Content-Security-Policy header",
        );
    };
    let dirs = csp_directives(value);
    if dirs.is_empty() {
        return test(
            name,
            "csp-header-invalid",
            Some(-25),
            Some(value),
            "the Content-Security-Policy header is empty or invalid",
        );
    }
    let sources = |d: &str| dirs.iter().find(|(n, _)| n == d).map(|(_, s)| s.clone());
    let script = sources("script-src").or_else(|| sources("default-src"));
    let Some(script) = script else {
        return test(
            name,
            "csp-implemented-with-unsafe-inline",
            Some(-20),
            Some(value),
            "the policy has neither script-src nor default-src, so it does not restrict scripts",
        );
    };
    let has = |w: &str| script.iter().any(|s| s == w);
    if has("http:") {
        return test(
            name,
            "csp-implemented-with-insecure-scheme",
            Some(-20),
            Some(value),
            "scripts may load over plain http:",
        );
    }
    if has("'unsafe-inline'") || has("data:") || has("*") || has("https:") {
        return test(
            name,
            "csp-implemented-with-unsafe-inline",
            Some(-20),
            Some(value),
            "scripts may come from 'unsafe-inline', data: or any host",
        );
    }
    if has("'unsafe-eval'") {
        return test(
            name,
            "csp-implemented-with-unsafe-eval",
            Some(-10),
            Some(value),
            "scripts may use 'unsafe-eval'",
        );
    }
    let style_inline = sources("style-src")
        .or_else(|| sources("default-src"))
        .is_some_and(|s| s.iter().any(|w| w == "'unsafe-inline'"));
    if style_inline {
        return test(
            name,
            "csp-implemented-with-unsafe-inline-in-style-src-only",
            Some(0),
            Some(value),
            "scripts are restricted; styles may be inline",
        );
    }
    if sources("default-src").is_some_and(|s| s == ["'none'"]) {
        return test(
            name,
            "csp-implemented-with-no-unsafe-default-src-none",
            Some(10),
            Some(value),
            "default-src 'none' with no unsafe sources",
        );
    }
    test(
        name,
        "csp-implemented-with-no-unsafe",
        Some(5),
        Some(value),
        "no unsafe sources",
    )
}

fn xfo_test(xfo: Option<&str>, csp: Option<&str>) -> HeaderTest {
    let name = "x-frame-options";
    if let Some(csp) = csp {
        if csp_directives(csp)
            .iter()
            .any(|(n, _)| n == "frame-ancestors")
        {
            return test(
                name,
                "x-frame-options-implemented-via-csp",
                Some(5),
                csp.into(),
                "framing limited by CSP frame-ancestors",
            );
        }
    }
    match xfo {
        None => test(
            name,
            "x-frame-options-not-implemented",
            Some(-20),
            None,
            "neither X-Frame-Options nor CSP frame-ancestors",
        ),
        Some(v) if v.eq_ignore_ascii_case("deny") || v.eq_ignore_ascii_case("sameorigin") => test(
            name,
            "x-frame-options-sameorigin-or-deny",
            Some(0),
            Some(v),
            "framing denied or same-origin only",
        ),
        Some(v) => test(
            name,
            "x-frame-options-header-invalid",
            Some(-20),
            Some(v),
            "X-Frame-Options is neither DENY nor SAMEORIGIN",
        ),
    }
}

fn xcto_test(v: Option<&str>) -> HeaderTest {
    let name = "x-content-type-options";
    match v {
        None => test(
            name,
            "x-content-type-options-not-implemented",
            Some(-5),
            None,
            "no X-Content-Type-Options header",
        ),
        Some(v) if v.eq_ignore_ascii_case("nosniff") => test(
            name,
            "x-content-type-options-nosniff",
            Some(0),
            Some(v),
            "nosniff",
        ),
        Some(v) => test(
            name,
            "x-content-type-options-header-invalid",
            Some(-5),
            Some(v),
            "X-Content-Type-Options is not nosniff",
        ),
    }
}

fn referrer_test(v: Option<&str>) -> HeaderTest {
    let name = "referrer-policy";
    let Some(v) = v else {
        return test(
            name,
            "referrer-policy-not-implemented",
            Some(0),
            None,
            "no Referrer-Policy header (browsers default to strict-origin-when-cross-origin)",
        );
    };
    // The last policy a browser understands wins; judge that one.
    let policy = v
        .split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .next_back()
        .unwrap_or_default();
    match policy.as_str() {
        "no-referrer" | "same-origin" | "strict-origin" | "strict-origin-when-cross-origin" => {
            test(
                name,
                "referrer-policy-private",
                Some(5),
                Some(v),
                "a private referrer policy",
            )
        }
        "no-referrer-when-downgrade" => test(
            name,
            "referrer-policy-no-referrer-when-downgrade",
            Some(0),
            Some(v),
            "the browsers' old default",
        ),
        "origin" | "origin-when-cross-origin" | "unsafe-url" => test(
            name,
            "referrer-policy-unsafe",
            Some(-5),
            Some(v),
            "the policy sends the referrer to other origins",
        ),
        _ => test(
            name,
            "referrer-policy-header-invalid",
            Some(-5),
            Some(v),
            "not a referrer policy",
        ),
    }
}

fn cookies_test(headers: &[(String, String)]) -> HeaderTest {
    let name = "cookies";
    let cookies: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .collect();
    if cookies.is_empty() {
        return test(name, "cookies-not-found", Some(0), None, "no cookies set");
    }
    let lower: Vec<String> = cookies.iter().map(|c| c.to_ascii_lowercase()).collect();
    let joined = cookies.join("; ");
    if lower.iter().any(|c| !c.contains("httponly")) {
        return test(
            name,
            "cookies-session-without-httponly-flag",
            Some(-30),
            Some(&joined),
            "a cookie lacks HttpOnly",
        );
    }
    // The Secure flag cannot be expected over plain HTTP: not scored here.
    test(
        name,
        "cookies-secure-with-httponly-sessions",
        Some(0),
        Some(&joined),
        "cookies are HttpOnly (Secure is n/a over plain HTTP)",
    )
}

fn cors_test(headers: &[(String, String)], origin: &str) -> HeaderTest {
    let name = "cross-origin-resource-sharing";
    match header(headers, "access-control-allow-origin") {
        None => test(
            name,
            "cross-origin-resource-sharing-not-implemented",
            Some(0),
            None,
            "no CORS headers",
        ),
        Some(v)
            if v == origin
                && header(headers, "access-control-allow-credentials")
                    .is_some_and(|c| c.eq_ignore_ascii_case("true")) =>
        {
            test(
                name,
                "cross-origin-resource-sharing-implemented-with-universal-access",
                Some(-50),
                Some(v),
                "reflects any Origin with credentials allowed",
            )
        }
        Some(v) => test(
            name,
            "cross-origin-resource-sharing-implemented-with-public-access",
            Some(0),
            Some(v),
            "public CORS access",
        ),
    }
}

/// Scores one response's headers. `origin` is the Origin the request carried, so a reflected
/// origin can be told apart.
pub fn score(headers: &[(String, String)], origin: &str) -> HeaderScore {
    let csp = header(headers, "content-security-policy");
    let mut tests = vec![
        csp_test(csp),
        cookies_test(headers),
        cors_test(headers, origin),
        test("redirection", "n/a", None, None, "n/a over plain HTTP"),
        referrer_test(header(headers, "referrer-policy")),
        test(
            "strict-transport-security",
            "n/a",
            None,
            header(headers, "strict-transport-security"),
            "n/a over plain HTTP",
        ),
        test(
            "subresource-integrity",
            "n/a",
            None,
            None,
            "n/a: no external scripts on a contestant page",
        ),
        xcto_test(header(headers, "x-content-type-options")),
        xfo_test(header(headers, "x-frame-options"), csp),
    ];
    tests.sort_by_key(|t| t.modifier.unwrap_or(0) > 0);
    let mut score = 100;
    for t in &tests {
        match t.modifier {
            Some(m) if m < 0 => score += m,
            _ => {}
        }
    }
    // Bonuses only apply to a scan that already scores at least 90 (grade.py).
    if score >= 90 {
        score += tests
            .iter()
            .filter_map(|t| t.modifier)
            .filter(|m| *m > 0)
            .sum::<i32>();
    }
    let score = score.max(0);
    HeaderScore {
        score,
        grade: grade(score),
        tests,
        disclosures: disclosures(headers),
    }
}

/// Headers that name the software or its version: `X-Powered-By` (any value), `X-AspNet-Version`
/// and kin, and a `Server` header that carries a version number.
pub fn disclosures(headers: &[(String, String)]) -> Vec<Disclosure> {
    let mut out = Vec::new();
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        let discloses = match lower.as_str() {
            "x-powered-by" | "x-aspnet-version" | "x-aspnetmvc-version" | "x-runtime" => true,
            "server" => value.chars().any(|c| c.is_ascii_digit()),
            _ => false,
        };
        if discloses && !out.iter().any(|d: &Disclosure| d.header == lower) {
            out.push(Disclosure {
                header: lower,
                value: value.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_headers_scores_c() {
        let s = score(&h(&[("content-type", "text/html")]), "https://x.example");
        assert_eq!(s.score, 50);
        assert_eq!(s.grade, "C");
        let findings: Vec<_> = s
            .tests
            .iter()
            .filter(|t| t.is_finding())
            .map(|t| t.test)
            .collect();
        assert_eq!(
            findings,
            [
                "content-security-policy",
                "x-content-type-options",
                "x-frame-options"
            ]
        );
    }

    #[test]
    fn helmet_defaults_score_a_plus() {
        let s = score(
            &h(&[
                ("Content-Security-Policy", "default-src 'self';base-uri 'self';frame-ancestors 'self';script-src 'self';style-src 'self' https: 'unsafe-inline'"),
                ("X-Content-Type-Options", "nosniff"),
                ("X-Frame-Options", "SAMEORIGIN"),
                ("Referrer-Policy", "no-referrer"),
            ]),
            "https://x.example",
        );
        assert_eq!((s.score, s.grade), (110, "A+"));
    }

    #[test]
    fn a_strict_policy_earns_its_bonuses() {
        let s = score(
            &h(&[
                ("Content-Security-Policy", "default-src 'self'"),
                ("X-Content-Type-Options", "nosniff"),
                ("X-Frame-Options", "DENY"),
            ]),
            "o",
        );
        assert_eq!((s.score, s.grade), (105, "A+"));
        let none = score(
            &h(&[
                (
                    "content-security-policy",
                    "default-src 'none'; frame-ancestors 'none'",
                ),
                ("x-content-type-options", "nosniff"),
            ]),
            "o",
        );
        assert_eq!(none.score, 115);
        let http = score(&h(&[("content-security-policy", "script-src http:")]), "o");
        assert_eq!(http.tests[0].result, "csp-implemented-with-insecure-scheme");
    }

    #[test]
    fn bonuses_need_ninety_first() {
        // Django's defaults: no CSP (-25); a private referrer policy's +5 does not count.
        let s = score(
            &h(&[
                ("X-Frame-Options", "DENY"),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "same-origin"),
            ]),
            "o",
        );
        assert_eq!((s.score, s.grade), (75, "B"));
    }

    #[test]
    fn unsafe_inline_scripts_and_bad_values() {
        let s = score(
            &h(&[
                (
                    "content-security-policy",
                    "script-src 'self' 'unsafe-inline'",
                ),
                ("x-frame-options", "ALLOWALL"),
                ("x-content-type-options", "sniff"),
            ]),
            "o",
        );
        assert_eq!(s.score, 100 - 20 - 20 - 5);
        assert_eq!(grade(0), "F");
        assert_eq!(grade(-3), "F");
    }

    #[test]
    fn version_disclosure() {
        let d = disclosures(&h(&[
            ("X-Powered-By", "Express"),
            ("Server", "uvicorn"),
            ("server", "nginx/1.25.3"),
        ]));
        assert_eq!(
            d,
            vec![
                Disclosure {
                    header: "x-powered-by".into(),
                    value: "Express".into()
                },
                Disclosure {
                    header: "server".into(),
                    value: "nginx/1.25.3".into()
                },
            ]
        );
    }
}
