//! Calendar dates without a date-time dependency: the one place UTC times are broken into fields,
//! for Python's timestamp formats (session records, JSON logs, test doubles).

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC instant broken into calendar fields (proleptic Gregorian calendar), to the microsecond.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use strands_core::time::UtcTime;
///
/// let t = UtcTime::from_system_time(UNIX_EPOCH + Duration::from_micros(1_764_092_784_123_456));
/// assert_eq!((t.year, t.month, t.day, t.hour), (2025, 11, 25, 17));
/// assert_eq!(t.to_python_isoformat(), "2025-11-25T17:46:24.123456+00:00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UtcTime {
    /// The year, e.g. 2026.
    pub year: i64,
    /// The month, 1 to 12.
    pub month: u32,
    /// The day of the month, 1 to 31.
    pub day: u32,
    /// The hour, 0 to 23.
    pub hour: u32,
    /// The minute, 0 to 59.
    pub minute: u32,
    /// The second, 0 to 59.
    pub second: u32,
    /// The microseconds within the second.
    pub micros: u32,
}

impl UtcTime {
    /// The current time.
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// `time` in UTC; times before 1970 are clamped to the epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let in_day = u32::try_from(secs % 86_400).unwrap_or(0);
        let (year, month, day) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
        Self {
            year,
            month,
            day,
            hour: in_day / 3600,
            minute: in_day % 3600 / 60,
            second: in_day % 60,
            micros: since.subsec_micros(),
        }
    }

    /// Python's `datetime.isoformat()` of an aware UTC datetime:
    /// `2026-11-25T17:46:24.123456+00:00`, without the fraction when it is zero.
    pub fn to_python_isoformat(&self) -> String {
        let Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
        } = *self;
        let Ok(year @ 0..=9999) = u32::try_from(year) else {
            return format!("{year:04}-{month:02}-{day:02}T{}", self.time_of_day());
        };
        // Written digit by digit: spans stamp two of these each, so `format!` showed in profiles.
        let mut out = String::with_capacity(32);
        push_digits(&mut out, year, 4);
        out.push('-');
        push_digits(&mut out, month, 2);
        out.push('-');
        push_digits(&mut out, day, 2);
        out.push('T');
        push_digits(&mut out, hour, 2);
        out.push(':');
        push_digits(&mut out, minute, 2);
        out.push(':');
        push_digits(&mut out, second, 2);
        if micros != 0 {
            out.push('.');
            push_digits(&mut out, micros, 6);
        }
        out.push_str("+00:00");
        out
    }

    /// RFC 3339 in UTC to the second, `2026-11-25T17:46:24Z` (OCI image configs, IMDS
    /// credential documents).
    pub fn to_rfc3339_seconds(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `HH:MM:SS[.ffffff]+00:00`, the slow way (years outside 0 to 9999).
    fn time_of_day(&self) -> String {
        let Self {
            hour,
            minute,
            second,
            micros,
            ..
        } = *self;
        if micros == 0 {
            format!("{hour:02}:{minute:02}:{second:02}+00:00")
        } else {
            format!("{hour:02}:{minute:02}:{second:02}.{micros:06}+00:00")
        }
    }
}

/// `value`'s last `width` decimal digits, zero-padded.
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10u32.pow(place) % 10;
        out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
    }
}

/// The current UTC time as Python's `datetime.now(timezone.utc).isoformat()` writes it, e.g.
/// `2026-11-25T17:46:24.123456+00:00` (the timestamps of session records).
pub fn now_iso8601() -> String {
    UtcTime::now().to_python_isoformat()
}

/// Days since 1970-01-01 to `(year, month, day)`: Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of each year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, micros: u64) -> UtcTime {
        UtcTime::from_system_time(UNIX_EPOCH + Duration::from_micros(secs * 1_000_000 + micros))
    }

    #[test]
    fn isoformat_matches_python() {
        // datetime.fromtimestamp(1764092784.123456, timezone.utc).isoformat()
        assert_eq!(
            at(1_764_092_784, 123_456).to_python_isoformat(),
            "2025-11-25T17:46:24.123456+00:00"
        );
        assert_eq!(at(0, 0).to_python_isoformat(), "1970-01-01T00:00:00+00:00");
        assert_eq!(
            at(951_782_400, 1).to_python_isoformat(),
            "2000-02-29T00:00:00.000001+00:00"
        );
        assert_eq!(
            at(4_102_444_799, 0).to_python_isoformat(),
            "2099-12-31T23:59:59+00:00"
        );
        assert_eq!(
            at(951_782_400, 1).to_rfc3339_seconds(),
            "2000-02-29T00:00:00Z"
        );
        // Past Python's datetime.MAXYEAR, the fields are still written in order.
        assert_eq!(
            at(253_402_300_800, 5).to_python_isoformat(),
            "10000-01-01T00:00:00.000005+00:00"
        );
    }

    #[test]
    fn every_day_of_a_gregorian_cycle_follows_the_previous_one() {
        let mut previous = civil_from_days(0);
        for days in 1..146_097 {
            let current = civil_from_days(days);
            let next_day = (previous.0, previous.1, previous.2 + 1);
            let next_month = (previous.0, previous.1 + 1, 1);
            let next_year = (previous.0 + 1, 1, 1);
            assert!(
                current == next_day || current == next_month || current == next_year,
                "{previous:?} -> {current:?}"
            );
            previous = current;
        }
        assert_eq!(previous, (2369, 12, 31));
    }
}
