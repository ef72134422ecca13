//! RFC 3339 timestamps for the credentials document, without a date-time dependency.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use strands_core::time::UtcTime;

/// `now + ahead` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds), the format IMDS uses for
/// `Expiration` and `LastUpdated`.
pub(super) fn rfc3339_after(now: SystemTime, ahead: Duration) -> String {
    let seconds = now
        .checked_add(ahead)
        .unwrap_or(now)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    rfc3339(seconds)
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(unix_seconds: u64) -> String {
    UtcTime::from_system_time(UNIX_EPOCH + Duration::from_secs(unix_seconds)).to_rfc3339_seconds()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn expiration_is_an_hour_ahead() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            rfc3339_after(now, Duration::from_secs(3600)),
            "2023-11-14T23:13:20Z"
        );
    }
}
