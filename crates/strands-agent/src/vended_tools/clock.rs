//! `current_time`: the current date and time in a time zone.
//!
//! Python: `strands_tools.current_time`: the same name, argument, default
//! (`DEFAULT_TIMEZONE`, else UTC) and text (`datetime.isoformat()`).

use crate::tool;

/// Gets the current date and time in ISO 8601 format, such as
/// 2026-12-03T14:32:16.123456+01:00.
///
/// # Arguments
/// * `timezone` - an IANA time zone such as Europe/Paris or America/New_York, or UTC (default: the server's DEFAULT_TIMEZONE, else UTC)
#[tool]
pub fn current_time(timezone: Option<String>) -> Result<String, String> {
    let name = timezone
        .filter(|t| !t.trim().is_empty())
        .or_else(|| std::env::var("DEFAULT_TIMEZONE").ok())
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "UTC".to_owned());
    now_in(&name).map_err(|error| format!("Error getting current time: {error}"))
}

/// Now in the zone `name`, as Python's `datetime.now(tz).isoformat()` writes it.
fn now_in(name: &str) -> Result<String, String> {
    let zone = if name.trim().eq_ignore_ascii_case("utc") {
        jiff::tz::TimeZone::UTC
    } else {
        jiff::tz::TimeZone::get(name.trim())
            .map_err(|_| format!("No time zone found with key {}", name.trim()))?
    };
    Ok(isoformat(&jiff::Timestamp::now().to_zoned(zone)))
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM`.
fn isoformat(time: &jiff::Zoned) -> String {
    let offset = time.offset().seconds();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}{sign}{:02}:{:02}",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        time.subsec_nanosecond() / 1000,
        offset / 3600,
        offset % 3600 / 60,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_python_isoformat() {
        let time: jiff::Zoned = "2026-12-03T14:32:16.123456789+01:00[Europe/Paris]"
            .parse()
            .unwrap();
        assert_eq!(isoformat(&time), "2026-12-03T14:32:16.123456+01:00");
        let time: jiff::Zoned = "2026-07-01T08:00:00-04:00[America/New_York]"
            .parse()
            .unwrap();
        assert_eq!(isoformat(&time), "2026-07-01T08:00:00.000000-04:00");
        let time: jiff::Zoned = "2026-01-01T00:00:00+05:30[Asia/Kolkata]".parse().unwrap();
        assert_eq!(isoformat(&time), "2026-01-01T00:00:00.000000+05:30");
    }

    #[test]
    fn zones_resolve_and_unknown_ones_are_errors() {
        let utc = current_time::call(Some("utc".to_owned())).unwrap();
        assert!(utc.ends_with("+00:00"), "{utc}");
        let tokyo = current_time::call(Some("Asia/Tokyo".to_owned())).unwrap();
        assert!(tokyo.ends_with("+09:00"), "{tokyo}");
        assert_eq!(
            current_time::call(Some("Mars/Olympus".to_owned())),
            Err("Error getting current time: No time zone found with key Mars/Olympus".to_owned())
        );
    }
}
