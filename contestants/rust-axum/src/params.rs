//! Integer query parameters, read leniently (`/queries`, `/compute`: clamp, default 1) or strictly
//! (`/io`: in range or a 400).

use std::ops::RangeInclusive;

use serde::Deserialize;

/// `?n=N` on `/queries`, `/updates` and `/compute`, kept as text so any value is accepted.
#[derive(Deserialize)]
pub struct CountParam {
    pub n: Option<String>,
}

/// N clamped to `1..=max`; missing, empty or not an integer means 1. An integer too long for
/// `u64` is still an integer, so it clamps to `max` like any other large one.
pub fn clamped_count(raw: Option<&str>, max: u32) -> u32 {
    let Some(raw) = raw else { return 1 };
    let (negative, digits) = match raw.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, raw.strip_prefix('+').unwrap_or(raw)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || negative {
        return 1;
    }
    digits
        .parse::<u64>()
        .map_or(max, |n| n.clamp(1, u64::from(max)) as u32)
}

/// The value when it is an integer within `range`, else `None`.
pub fn strict_int(raw: Option<&str>, range: RangeInclusive<u64>) -> Option<u64> {
    let raw = raw?;
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok().filter(|n| range.contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_clamp_and_default_to_one() {
        let cases = [
            (None, 1),
            (Some(""), 1),
            (Some("foo"), 1),
            (Some("2"), 2),
            (Some("0"), 1),
            (Some("-5"), 1),
            (Some("+7"), 7),
            (Some("3.5"), 1),
            (Some("501"), 500),
            (Some("99999999999999999999999"), 500),
        ];
        for (raw, expected) in cases {
            assert_eq!(clamped_count(raw, 500), expected, "n={raw:?}");
        }
    }

    #[test]
    fn strict_ints_stay_in_range() {
        assert_eq!(strict_int(Some("0"), 0..=10_000), Some(0));
        assert_eq!(strict_int(Some("10000"), 0..=10_000), Some(10_000));
        assert_eq!(strict_int(Some("10001"), 0..=10_000), None);
        assert_eq!(strict_int(Some("-1"), 0..=10_000), None);
        assert_eq!(strict_int(Some("1.5"), 0..=10_000), None);
        assert_eq!(strict_int(Some(""), 0..=10_000), None);
        assert_eq!(strict_int(None, 0..=10_000), None);
    }
}
