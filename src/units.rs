//! How faceoff writes numbers, in one place: the terminal, `bench` and every report format
//! print a latency, a count or a size the same way (`493 µs`, `1.23 ms`, `1,234,567`,
//! `12.5 KiB`): a figure, a space, its unit.

/// Formats a count with thousands separators: `1234567` → `1,234,567`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A plain number: grouped when whole (`25,000`), else up to two decimals (`2.5`).
pub fn plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let grouped = group(v.abs() as u64);
        if v < 0.0 {
            format!("-{grouped}")
        } else {
            grouped
        }
    } else {
        let text = format!("{v:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A latency in microseconds, in the unit that keeps three significant figures or so:
/// `850 µs`, `1.23 ms`, `2.50 s`.
pub fn us(v: f64) -> String {
    if v < 1_000.0 {
        format!("{v:.0} µs")
    } else if v < 1_000_000.0 {
        format!("{:.2} ms", v / 1e3)
    } else {
        format!("{:.2} s", v / 1e6)
    }
}

/// A whole number of microseconds (a histogram value), as [`us`] writes it.
pub fn us_int(v: u64) -> String {
    us(v as f64)
}

/// A latency axis tick in µs: `0`, `250 µs`, `25 ms`, `1.5 s`.
pub fn us_tick(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if v < 1_000.0 {
        format!("{} µs", plain(v))
    } else if v < 1_000_000.0 {
        format!("{} ms", plain(v / 1e3))
    } else {
        format!("{} s", plain(v / 1e6))
    }
}

/// Requests per second: whole and grouped from 100 up, one decimal below.
pub fn rps(v: f64) -> String {
    if v >= 100.0 {
        group(v.round() as u64)
    } else {
        format!("{v:.1}")
    }
}

/// A relative figure as a signed percentage: `0.234` → `+23.4%`.
pub fn signed_pct(rel: f64) -> String {
    format!("{:+.1}%", rel * 100.0)
}

/// A relative half-width as `±1.2%`.
pub fn pm_pct(rel: f64) -> String {
    format!("±{:.1}%", rel * 100.0)
}

/// Bytes in MiB with one decimal, without the unit (a table column names it): `52.0`.
pub fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// Bytes with their binary unit: `512 B`, `12.5 KiB`, `3.0 MiB`.
pub fn bytes(n: u64) -> String {
    match n {
        0..=1023 => format!("{n} B"),
        1024..=1_048_575 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// CPU milliseconds with one decimal, without the unit (a table column names it).
pub fn ms(v: f64) -> String {
    format!("{v:.1}")
}

/// A duration in seconds, short: `5 s`, `1.25 s`, `250 ms`.
pub fn secs(s: f64) -> String {
    if s < 1.0 {
        format!("{} ms", plain((s * 1e3 * 100.0).round() / 100.0))
    } else {
        format!("{} s", plain((s * 100.0).round() / 100.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_style() {
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(group(999), "999");
        assert_eq!(group(12), "12");
        assert_eq!(rps(152_340.4), "152,340");
        assert_eq!(rps(12.345), "12.3");
        assert_eq!(us(850.2), "850 µs");
        assert_eq!(us_int(950), "950 µs");
        assert_eq!(us_int(20_500), "20.50 ms");
        assert_eq!(us_int(1_500_000), "1.50 s");
        assert_eq!(us(1_234.0), "1.23 ms");
        assert_eq!(us(2_500_000.0), "2.50 s");
        assert_eq!(signed_pct(0.2345), "+23.4%");
        assert_eq!(pm_pct(0.012), "±1.2%");
        assert_eq!(mib(52 << 20), "52.0");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(12_800), "12.5 KiB");
        assert_eq!(bytes(3 << 20), "3.0 MiB");
        assert_eq!(plain(25_000.0), "25,000");
        assert_eq!(plain(2.5), "2.5");
        assert_eq!(plain(0.0), "0");
        assert_eq!(us_tick(0.0), "0");
        assert_eq!(us_tick(250.0), "250 µs");
        assert_eq!(us_tick(25_000.0), "25 ms");
        assert_eq!(us_tick(1_500_000.0), "1.5 s");
        assert_eq!(secs(1.25), "1.25 s");
        assert_eq!(secs(0.25), "250 ms");
    }
}
