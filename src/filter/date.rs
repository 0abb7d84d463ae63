//! Dates of documents for the date window: the forms feeds write, read to seconds since 1970.
//!
//! Accepted: a JSON number (Unix seconds), or a string `YYYY-MM-DD`, optionally followed by
//! `T` or a space and `HH:MM`, `:SS`, a fraction of a second, and a zone (`Z`, `+HH:MM`,
//! `+HHMM`, `+HH`). A time without a zone is taken as UTC. Only the order of dates and their
//! differences matter to the window, so a feed that writes local times throughout is fine.

use serde_json::Value;

/// Seconds since 1970-01-01T00:00:00Z of a date field's value, or why it is not a date.
pub fn parse(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite())
                    .map(|f| f.floor() as i64)
            })
            .ok_or_else(|| format!("{n} is not a time in seconds")),
        Value::String(s) => parse_str(s).ok_or_else(|| {
            format!(
                "`{s}` is not a date (expected YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS with an optional \
                 zone, or Unix seconds)"
            )
        }),
        Value::Null => Err("the field is null".into()),
        Value::Bool(_) => Err("expected a date string or Unix seconds, found a boolean".into()),
        Value::Array(_) => Err("expected a date string or Unix seconds, found an array".into()),
        Value::Object(_) => Err("expected a date string or Unix seconds, found an object".into()),
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A fixed number of ASCII digits at the start of `s`.
fn digits(s: &[u8], n: usize) -> Option<i64> {
    if s.len() < n || !s[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s[..n].iter().fold(0, |v, &b| v * 10 + i64::from(b - b'0')))
}

fn parse_str(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let y = digits(b, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let m = digits(&b[5..], 2)?;
    let d = digits(&b[8..], 2)?;
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut seconds = days_from_civil(y, m, d) * 86_400;
    let mut rest = &b[10..];
    if rest.is_empty() {
        return Some(seconds);
    }
    if rest[0] != b'T' && rest[0] != b't' && rest[0] != b' ' {
        return None;
    }
    rest = &rest[1..];
    let h = digits(rest, 2)?;
    if rest.get(2) != Some(&b':') {
        return None;
    }
    let min = digits(&rest[3..], 2)?;
    rest = &rest[5..];
    let mut sec = 0;
    if rest.first() == Some(&b':') {
        sec = digits(&rest[1..], 2)?;
        rest = &rest[3..];
        if rest.first() == Some(&b'.') || rest.first() == Some(&b',') {
            let frac = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if frac == 0 {
                return None;
            }
            rest = &rest[1 + frac..];
        }
    }
    if h > 23 || min > 59 || sec > 60 {
        return None;
    }
    seconds += h * 3600 + min * 60 + sec;
    match rest {
        [] | [b'Z' | b'z'] => Some(seconds),
        [sign @ (b'+' | b'-'), zone @ ..] => {
            let zh = digits(zone, 2)?;
            let zm = match &zone[2..] {
                [] => 0,
                [b':', m @ ..] if m.len() == 2 => digits(m, 2)?,
                m if m.len() == 2 => digits(m, 2)?,
                _ => return None,
            };
            let offset = zh * 3600 + zm * 60;
            Some(if *sign == b'+' {
                seconds - offset
            } else {
                seconds + offset
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_of_dates() {
        assert_eq!(parse(&json!("1970-01-01")), Ok(0));
        assert_eq!(parse(&json!("1970-01-02")), Ok(86_400));
        assert_eq!(parse(&json!("2015-07-21 02:51:32")), Ok(1_437_447_092));
        assert_eq!(parse(&json!("2015-07-21T02:51:32Z")), Ok(1_437_447_092));
        assert_eq!(
            parse(&json!("2015-07-21T05:51:32.250+03:00")),
            Ok(1_437_447_092)
        );
        assert_eq!(parse(&json!("2015-07-21T05:51:32+0300")), Ok(1_437_447_092));
        assert_eq!(parse(&json!("2015-07-21T02:51")), Ok(1_437_447_060));
        assert_eq!(parse(&json!("2000-02-29")), Ok(951_782_400));
        assert_eq!(parse(&json!(1_437_447_092)), Ok(1_437_447_092));
        assert_eq!(parse(&json!(1.5)), Ok(1));
    }

    #[test]
    fn non_dates_say_why() {
        for v in [
            json!("2015-13-01"),
            json!("2015-02-29"),
            json!("yesterday"),
            json!("2015-07-21T25:00"),
            json!("2015-07-21X"),
        ] {
            let e = parse(&v).unwrap_err();
            assert!(e.contains("is not a date"), "{v}: {e}");
        }
        assert!(parse(&json!(null)).unwrap_err().contains("null"));
        assert!(parse(&json!([1])).unwrap_err().contains("array"));
    }
}
