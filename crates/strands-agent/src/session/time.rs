//! Timestamps in Python's `datetime.now(timezone.utc).isoformat()` form.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current UTC time as Python's `datetime.now(timezone.utc).isoformat()` writes it, e.g.
/// `2026-11-25T17:46:24.123456+00:00`.
pub fn now_iso8601() -> String {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_iso8601(since_epoch.as_secs(), since_epoch.subsec_micros())
}

/// Formats seconds since the epoch plus microseconds. Python omits the fraction when it is zero.
pub(crate) fn format_iso8601(secs: u64, micros: u32) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let rem = secs % 86_400;
    let (hour, minute, second) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let (year, month, day) = civil_from_days(days);
    if micros == 0 {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}+00:00")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{micros:06}+00:00")
    }
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python_isoformat() {
        // datetime.fromtimestamp(1764092784.123456, timezone.utc).isoformat()
        assert_eq!(
            format_iso8601(1_764_092_784, 123_456),
            "2025-11-25T17:46:24.123456+00:00"
        );
        assert_eq!(format_iso8601(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(
            format_iso8601(951_782_400, 1),
            "2000-02-29T00:00:00.000001+00:00"
        );
    }
}
