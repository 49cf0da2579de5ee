//! Civil dates for people in China: days since 1970-01-01 to and from the
//! proleptic Gregorian calendar (H. Hinnant's algorithms, exact for every
//! `i64` day the system can meet), and times shown and entered in China
//! Standard Time (UTC+8, the regulation's time zone, no daylight saving).
//! One home for what the server's console and CLI, the app's printed forms
//! and the GNSS parser each need.

use crate::time::Millis;

/// China Standard Time's offset from UTC.
pub const CST_OFFSET_MS: Millis = 8 * 3_600_000;
const DAY_MS: Millis = 86_400_000;

/// Days since 1970-01-01 of a civil date (month 1–12, day 1–31; not checked here).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A moment in China Standard Time: year, month, day, hour, minute, second.
pub fn cst(ms: Millis) -> (i64, i64, i64, i64, i64, i64) {
    let t = ms + CST_OFFSET_MS;
    let (y, m, d) = civil_from_days(t.div_euclid(DAY_MS));
    let s = t.rem_euclid(DAY_MS) / 1000;
    (y, m, d, s / 3600, s % 3600 / 60, s % 60)
}

/// `YYYY-MM-DD HH:MM:SS` in China Standard Time.
pub fn cst_seconds(ms: Millis) -> String {
    let (y, m, d, h, min, s) = cst(ms);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}")
}

/// `YYYY-MM-DD HH:MM` in China Standard Time (forms, photo watermarks).
pub fn cst_minutes(ms: Millis) -> String {
    let (y, m, d, h, min, _) = cst(ms);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}")
}

/// `YYYY-MM-DD` in China Standard Time (the day a contract or plan names).
pub fn date_cst(ms: Millis) -> String {
    let (y, m, d, ..) = cst(ms);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The first millisecond of a day given as `YYYY-MM-DD`, China Standard
/// Time. `None` for anything that is not a real date.
pub fn start_of_day_cst(date: &str) -> Option<Millis> {
    end_of_day_cst(date).map(|e| e + 1 - DAY_MS)
}

/// The last millisecond of a day given as `YYYY-MM-DD`, China Standard
/// Time: what "valid until" a date means. `None` for anything that is not
/// a real date.
pub fn end_of_day_cst(date: &str) -> Option<Millis> {
    let p: Vec<i64> = date.trim().split('-').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let [y, m, d] = p[..] else { return None };
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // 31 February is not a date: it would name 3 March.
    if civil_from_days(days) != (y, m, d) {
        return None;
    }
    Some((days + 1) * DAY_MS - CST_OFFSET_MS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(cst_seconds(0), "1970-01-01 08:00:00");
        assert_eq!(cst_seconds(1_793_577_600_000), "2026-11-02 08:00:00");
        assert_eq!(cst_minutes(1_793_577_659_999), "2026-11-02 08:00");
    }

    #[test]
    fn the_end_of_a_day_is_its_last_millisecond_in_china() {
        assert_eq!(end_of_day_cst("1970-01-01"), Some(DAY_MS - CST_OFFSET_MS - 1));
        assert_eq!(cst_seconds(end_of_day_cst("2026-12-31").unwrap()), "2026-12-31 23:59:59");
        for bad in ["2026-13-01", "2026-02-30", "2025-02-29", "2026-1", "x", "", "2026-01-00"] {
            assert_eq!(end_of_day_cst(bad), None, "{bad}");
        }
        assert!(end_of_day_cst("2024-02-29").is_some());
    }

    proptest! {
        #[test]
        fn days_and_dates_round_trip(days in -1_000_000i64..3_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m) && (1..=31).contains(&d));
            prop_assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
