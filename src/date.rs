//! Dates: one parser for every command and every field, so that a date means the same thing
//! to `index add --first-seen`, `index remove --before` and `filter --date-field`.
//!
//! The accepted forms are those of RFC 3339 and its date-only and space-separated relatives:
//!
//! - `YYYY-MM-DD` (midnight UTC),
//! - `YYYY-MM-DDTHH:MM:SS` or `YYYY-MM-DD HH:MM:SS`, with an optional fraction of a second
//!   (`.250`) and an optional offset (`Z` or `±HH:MM`); a time without offset is UTC.
//!
//! Anything else (`now`, `5000000`, `2024-02-30`, `2024-01-01ZZZ`, a time without seconds) is
//! an error that names the value. A bare number is never guessed to be a date: only a JSON
//! number in a date field, which `filter --date-field` documents as Unix seconds, is one.
//! Calendar checks and offsets are [`jiff`]'s; this module only holds the grammar.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::Offset;
use serde_json::Value;

pub use jiff::Timestamp;

/// The times a date can hold: four-digit years, and what [`Timestamp`] holds.
const RANGE: &str = "0000-01-01 to 9999-12-30, UTC";

/// The forms a date may take, for messages.
pub const FORMS: &str = "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, with an optional fraction of a \
     second and offset (Z, +03:00); a time without offset is UTC";

/// Parses a date in one of the documented forms.
///
/// ```
/// use mukarrar::date;
/// assert_eq!(date::parse("2015-07-21T05:51:32+03:00").unwrap().as_second(), 1_437_447_092);
/// assert_eq!(date::parse("2015-07-21 02:51:32").unwrap().as_second(), 1_437_447_092);
/// assert!(date::parse("2024-02-30").is_err());
/// assert!(date::parse("5000000").is_err());
/// ```
///
/// # Errors
///
/// A message that names the value and says what is wrong with it.
pub fn parse(s: &str) -> Result<Timestamp, String> {
    let not_a_date = || format!("`{s}` is not a date: use {FORMS}");
    let b = s.as_bytes();
    let num = |at: usize, n: usize| -> Option<i64> {
        let digits = b.get(at..at + n)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |v, &d| v * 10 + i64::from(d - b'0')))
    };
    let (Some(year), Some(month), Some(day)) = (num(0, 4), num(5, 2), num(8, 2)) else {
        return Err(not_a_date());
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return Err(not_a_date());
    }
    let date = Date::new(year as i16, month as i8, day as i8)
        .map_err(|e| format!("`{s}` is not a date: {e}"))?;
    if b.len() == 10 {
        return Offset::UTC
            .to_timestamp(date.to_datetime(Time::midnight()))
            .map_err(|e| format!("`{s}`: {e}"));
    }
    if b.len() < 19 {
        return Err(not_a_date());
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err(not_a_date());
    }
    let (Some(hour), Some(minute), Some(second)) = (num(11, 2), num(14, 2), num(17, 2)) else {
        return Err(not_a_date());
    };
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return Err(not_a_date());
    }
    let mut rest = &b[19..];
    let mut nanos = 0i64;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return Err(not_a_date());
        }
        nanos = frac[..n]
            .iter()
            .fold(0, |v, &d| v * 10 + i64::from(d - b'0'))
            * 10i64.pow(9 - n as u32);
        rest = &frac[n..];
    }
    let offset_seconds = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i32::from(a - b'0') * 10 + i32::from(b - b'0'))
            };
            let (Some(h), Some(m)) = (two(*h1, *h2), two(*m1, *m2)) else {
                return Err(not_a_date());
            };
            if m > 59 {
                return Err(not_a_date());
            }
            if *sign == b'-' {
                -(h * 3600 + m * 60)
            } else {
                h * 3600 + m * 60
            }
        }
        _ => return Err(not_a_date()),
    };
    let time = Time::new(hour as i8, minute as i8, second as i8, nanos as i32)
        .map_err(|e| format!("`{s}` is not a time of day: {e}"))?;
    let offset = Offset::from_seconds(offset_seconds).map_err(|e| format!("`{s}`: {e}"))?;
    offset
        .to_timestamp(DateTime::from_parts(date, time))
        .ok()
        .filter(|&ts| ts >= year_0())
        .ok_or_else(|| format!("`{s}` is outside the times a date can hold ({RANGE})"))
}

/// Unix seconds (fractions allowed) as a time.
///
/// # Errors
///
/// When the number is not finite or lies outside the years 0001–9999.
pub fn from_unix_seconds(n: &serde_json::Number) -> Result<Timestamp, String> {
    let out_of_range = || format!("{n} seconds since 1970 is not a time a date can hold ({RANGE})");
    let ts = match n.as_i64() {
        Some(s) => Timestamp::from_second(s).map_err(|_| out_of_range())?,
        None => {
            let f = n
                .as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(out_of_range)?;
            let whole = f.floor();
            if whole.abs() > 1e15 {
                return Err(out_of_range());
            }
            let nanos = ((f - whole) * 1e9) as i32;
            Timestamp::new(whole as i64, nanos).map_err(|_| out_of_range())?
        }
    };
    if ts < year_0() {
        return Err(out_of_range());
    }
    Ok(ts)
}

/// 0000-01-01T00:00:00Z: the earliest time a four-digit year can write (later ones, up to
/// the end of 9999, are all that [`Timestamp`] holds).
fn year_0() -> Timestamp {
    Timestamp::from_second(-62_167_219_200).expect("in range")
}

/// The time a JSON field's value gives: a date string in one of the documented forms, or a
/// number of Unix seconds.
///
/// # Errors
///
/// A message that names the value, or its JSON type when it is neither a string nor a number.
pub fn from_json(value: &Value) -> Result<Timestamp, String> {
    match value {
        Value::Number(n) => from_unix_seconds(n),
        Value::String(s) => parse(s),
        Value::Null => Err("the field is null".into()),
        Value::Bool(_) => Err("expected a date string or Unix seconds, found a boolean".into()),
        Value::Array(_) => Err("expected a date string or Unix seconds, found an array".into()),
        Value::Object(_) => Err("expected a date string or Unix seconds, found an object".into()),
    }
}

/// A time as an index stores it: `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC, milliseconds), the form
/// SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ')` writes, so that stored times compare as text.
pub fn to_stored(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secs(s: &str) -> i64 {
        parse(s).unwrap_or_else(|e| panic!("{e}")).as_second()
    }

    #[test]
    fn documented_forms() {
        assert_eq!(secs("1970-01-01"), 0);
        assert_eq!(secs("1970-01-02"), 86_400);
        assert_eq!(secs("2015-07-21 02:51:32"), 1_437_447_092);
        assert_eq!(secs("2015-07-21T02:51:32Z"), 1_437_447_092);
        assert_eq!(secs("2015-07-21t02:51:32z"), 1_437_447_092);
        assert_eq!(secs("2015-07-21T05:51:32.250+03:00"), 1_437_447_092);
        assert_eq!(secs("2015-07-20T23:51:32-03:00"), 1_437_447_092);
        assert_eq!(secs("2000-02-29"), 951_782_400);
        assert_eq!(
            parse("2015-07-21T02:51:32.123456789Z")
                .unwrap()
                .subsec_nanosecond(),
            123_456_789
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_value() {
        for s in [
            "now",
            "0",
            "1e6",
            "5000000",
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "2024-01-01ZZZ",
            "2024-01-01Z",
            "2024-01-01T",
            "2024-01-01T12:00",
            "2024-01-01T24:00:00",
            "2024-01-01T12:60:00",
            "2024-01-01T12:00:00+0300",
            "2024-01-01T12:00:00+03",
            "2024-01-01T12:00:00+03:60",
            "2024-01-01T12:00:00.",
            "2024-01-01T12:00:00.1234567890",
            " 2024-01-01",
            "2024-01-01 ",
            "24-01-01",
            "+02024-01-01",
            "2024/01/01",
            "٢٠٢٤-٠١-٠١",
            "",
        ] {
            let e = parse(s).expect_err(s);
            assert!(e.contains(&format!("`{s}`")), "{s}: {e}");
        }
    }

    #[test]
    fn json_values() {
        assert_eq!(
            from_json(&json!(1_437_447_092)).unwrap().as_second(),
            1_437_447_092
        );
        assert_eq!(from_json(&json!(1.5)).unwrap().as_second(), 1);
        assert_eq!(
            from_json(&json!("2015-07-21T02:51:32Z"))
                .unwrap()
                .as_second(),
            1_437_447_092
        );
        for v in [
            json!(1e20),
            json!(-1e20),
            json!(-62_167_219_201i64),
            json!(i64::MAX),
        ] {
            let e = from_json(&v).unwrap_err();
            assert!(e.contains("is not a time a date can hold"), "{v}: {e}");
        }
        assert!(from_json(&json!(null)).unwrap_err().contains("null"));
        assert!(from_json(&json!([1])).unwrap_err().contains("array"));
        assert!(
            from_json(&json!("1437447092")).is_err(),
            "a number as text is no date"
        );
    }

    #[test]
    fn stored_form_sorts_as_text() {
        let a = to_stored(parse("2024-01-01T00:00:00.5+01:00").unwrap());
        assert_eq!(a, "2023-12-31T23:00:00.500Z");
        let b = to_stored(parse("2024-01-01").unwrap());
        assert_eq!(b, "2024-01-01T00:00:00.000Z");
        assert!(a < b);
        assert_eq!(
            to_stored(parse("0000-01-01").unwrap()),
            "0000-01-01T00:00:00.000Z"
        );
        assert!(parse("0000-01-01T00:00:00+01:00").is_err());
        assert_eq!(
            to_stored(parse("9999-12-30").unwrap()),
            "9999-12-30T00:00:00.000Z"
        );
        assert!(parse("9999-12-31T23:59:59Z")
            .unwrap_err()
            .contains("outside"));
    }
}
