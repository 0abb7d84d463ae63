//! Dates of documents for the date window, read to seconds since 1970 by [`crate::date`], the
//! parser every command shares: a string in one of its forms, or a JSON number of Unix
//! seconds. Only the order of dates and their differences matter to the window.

use serde_json::Value;

/// Seconds since 1970-01-01T00:00:00Z of a date field's value, or why it is not a date.
pub fn parse(value: &Value) -> Result<i64, String> {
    crate::date::from_json(value).map(|ts| ts.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forms_of_dates() {
        assert_eq!(parse(&json!("1970-01-02")), Ok(86_400));
        assert_eq!(parse(&json!("2015-07-21 02:51:32")), Ok(1_437_447_092));
        assert_eq!(
            parse(&json!("2015-07-21T05:51:32.250+03:00")),
            Ok(1_437_447_092)
        );
        assert_eq!(parse(&json!(1_437_447_092)), Ok(1_437_447_092));
        assert_eq!(parse(&json!(1.5)), Ok(1));
    }

    #[test]
    fn non_dates_say_why() {
        for v in [
            json!("2015-13-01"),
            json!("2015-02-29"),
            json!("yesterday"),
            json!("2015-07-21T25:00:00"),
            json!("2015-07-21X"),
            json!("2015-07-21T02:51"),
        ] {
            let e = parse(&v).unwrap_err();
            assert!(e.contains("is not a"), "{v}: {e}");
        }
        assert!(parse(&json!(1e20)).unwrap_err().contains("is not a time"));
        assert!(parse(&json!(null)).unwrap_err().contains("null"));
        assert!(parse(&json!([1])).unwrap_err().contains("array"));
    }
}
