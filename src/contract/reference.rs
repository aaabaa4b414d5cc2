//! Pure pieces of the contract: the content-type patterns, faceoff's own `/compute` figures,
//! and reading the `/fortunes` table back out of HTML.

/// The kinds of body the contract names, with their Content-Type patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `^application/json(; ?charset=utf-8)?$`
    Json,
    /// `^text/html; ?charset=utf-8$`
    Html,
    /// `^text/plain(; ?charset=utf-8)?$`
    Text,
}

/// Whether `content_type` matches the contract's pattern for `kind` (case-insensitive).
pub fn content_type_ok(kind: Kind, content_type: &str) -> bool {
    let ct = content_type.to_ascii_lowercase();
    let (base, charset_required) = match kind {
        Kind::Json => ("application/json", false),
        Kind::Html => ("text/html", true),
        Kind::Text => ("text/plain", false),
    };
    let Some(rest) = ct.strip_prefix(base) else {
        return false;
    };
    match rest {
        "" => !charset_required,
        "; charset=utf-8" | ";charset=utf-8" => true,
        _ => false,
    }
}

/// faceoff's own `/compute` answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Compute {
    /// Number of values.
    pub n: u64,
    /// Their sum.
    pub sum: f64,
    /// Their mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// Computes the `/compute` figures over x_i = ((i*7919) mod 10007)/10007, i in 0..n.
pub fn compute(n: u64) -> Compute {
    let x = |i: u64| ((i * 7919) % 10007) as f64 / 10007.0;
    let (mut sum, mut min, mut max) = (0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..n {
        let v = x(i);
        sum += v;
        min = min.min(v);
        max = max.max(v);
    }
    let mean = sum / n as f64;
    let var = (0..n).map(|i| (x(i) - mean).powi(2)).sum::<f64>() / n as f64;
    Compute {
        n,
        sum,
        mean,
        std: var.sqrt(),
        min,
        max,
    }
}

/// Whether `got` is within 1e-9 relative of `want` (or 1e-12 absolute, for figures near 0).
pub fn close(got: f64, want: f64) -> bool {
    let diff = (got - want).abs();
    diff <= 1e-12 || diff <= 1e-9 * want.abs().max(got.abs())
}

/// Replaces HTML character references (named ones HTML-escaping produces, and numeric ones).
pub fn unescape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let entity = &rest[1..semi];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(|n| n.ok())
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The fixed start of the `/fortunes` page (after whitespace between tags is removed).
const FORTUNES_HEAD: &str = "<html><head><title>Fortunes</title></head><body><table>\
                             <tr><th>id</th><th>message</th></tr>";
const FORTUNES_TAIL: &str = "</table></body></html>";

/// Reads the `(id, raw message HTML)` rows out of a `/fortunes` page, checking its frame.
pub fn parse_fortunes(html: &str) -> Result<Vec<(i64, String)>, String> {
    let page = strip_space_between_tags(html);
    let page = page.trim();
    let doctype = "<!doctype html>";
    let body = match page.get(..doctype.len()) {
        Some(start) if start.eq_ignore_ascii_case(doctype) => &page[doctype.len()..],
        _ => {
            return Err(format!(
                "page does not start with <!DOCTYPE html>: {}",
                cut(page)
            ))
        }
    };
    let mut rest = body
        .strip_prefix(FORTUNES_HEAD)
        .ok_or_else(|| format!("page head is not '{FORTUNES_HEAD}': {}", cut(body)))?;
    let mut rows = Vec::new();
    while let Some(row) = rest.strip_prefix("<tr><td>") {
        let (id, after) = row
            .split_once("</td><td>")
            .ok_or_else(|| format!("row {} is malformed: {}", rows.len() + 1, cut(row)))?;
        let (message, after) = after
            .split_once("</td></tr>")
            .ok_or_else(|| format!("row {} is malformed: {}", rows.len() + 1, cut(row)))?;
        let id = id
            .trim()
            .parse()
            .map_err(|_| format!("row {} has id '{id}'", rows.len() + 1))?;
        rows.push((id, message.to_string()));
        rest = after;
    }
    if rest != FORTUNES_TAIL {
        return Err(format!(
            "expected a row or '{FORTUNES_TAIL}' after row {}, found {}",
            rows.len(),
            cut(rest)
        ));
    }
    Ok(rows)
}

fn strip_space_between_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut pending = String::new();
    let mut after_tag = false;
    for c in html.chars() {
        if after_tag && c.is_whitespace() {
            pending.push(c);
            continue;
        }
        if c != '<' {
            out.push_str(&pending);
        }
        pending.clear();
        out.push(c);
        after_tag = c == '>';
    }
    out
}

fn cut(text: &str) -> String {
    let s: String = text.chars().take(80).collect();
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert!(content_type_ok(Kind::Json, "application/json"));
        assert!(content_type_ok(
            Kind::Json,
            "application/json; charset=UTF-8"
        ));
        assert!(content_type_ok(
            Kind::Json,
            "application/json;charset=utf-8"
        ));
        assert!(!content_type_ok(
            Kind::Json,
            "application/json; charset=latin1"
        ));
        assert!(!content_type_ok(Kind::Json, "text/json"));
        assert!(content_type_ok(Kind::Html, "text/html; charset=utf-8"));
        assert!(!content_type_ok(Kind::Html, "text/html"));
        assert!(content_type_ok(Kind::Text, "text/plain"));
        assert!(content_type_ok(Kind::Text, "Text/Plain; Charset=UTF-8"));
    }

    #[test]
    fn compute_small() {
        let c = compute(3);
        // x = 0, 7919/10007, 15838 mod 10007 = 5831 → 5831/10007
        let xs = [0.0, 7919.0 / 10007.0, 5831.0 / 10007.0];
        let sum: f64 = xs.iter().sum();
        assert!(close(c.sum, sum));
        assert!(close(c.mean, sum / 3.0));
        assert_eq!(c.min, 0.0);
        assert!(close(c.max, 7919.0 / 10007.0));
        let var = xs.iter().map(|x| (x - sum / 3.0).powi(2)).sum::<f64>() / 3.0;
        assert!(close(c.std, var.sqrt()));
        assert_eq!(compute(1).std, 0.0);
    }

    #[test]
    fn closeness() {
        assert!(close(1.0, 1.0 + 1e-12));
        assert!(!close(1.0, 1.0 + 1e-6));
        assert!(close(1e-17, 0.0));
    }

    #[test]
    fn unescapes() {
        assert_eq!(
            unescape_html("&lt;b&gt; &amp; &quot;x&quot; &#39;y&#x27; &#34; & done"),
            "<b> & \"x\" 'y' \" & done"
        );
        assert_eq!(unescape_html("a &bogus; b"), "a &bogus; b");
    }

    #[test]
    fn fortunes_page() {
        let html = "<!DOCTYPE html>\n<html>\n<head><title>Fortunes</title></head>\n<body>\n\
                    <table>\n  <tr><th>id</th><th>message</th></tr>\n  \
                    <tr><td>11</td><td>&lt;script&gt;</td></tr>\n  \
                    <tr><td>0</td><td>A b</td></tr>\n</table>\n</body>\n</html>\n";
        let rows = parse_fortunes(html).unwrap();
        assert_eq!(
            rows,
            vec![(11, "&lt;script&gt;".to_string()), (0, "A b".to_string())]
        );
        assert!(parse_fortunes("<html></html>").is_err());
    }
}
