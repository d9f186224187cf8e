//! Request body fields read as the OpenAPI document's JSON Schema says, where serde's defaults
//! differ: a `date-time` is RFC 3339 with `T` (or `t`) between date and time and no leap second
//! (chrono also takes a space there, and a second 60 at any minute), and an `integer` may be
//! written `295.0` (serde refuses it for an integer type). For `#[serde(deserialize_with)]`;
//! `null` or absent is `None`.

use chrono::{DateTime, Utc};
use serde::de::Error;
use serde::{Deserialize, Deserializer};

/// An optional RFC 3339 time.
pub fn time<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(raw) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    parse(&raw).map(Some).map_err(D::Error::custom)
}

/// An optional whole number (`295` or `295.0`); a fraction or a negative number is refused.
pub fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let whole = number.as_u64().or_else(|| {
        let value = number.as_f64()?;
        // Exactly representable, so the cast is exact.
        (value.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&value)).then_some(value as u64)
    });
    whole.map(Some).ok_or_else(|| D::Error::custom(format!("must be a whole number, got {number}")))
}

fn parse(raw: &str) -> Result<DateTime<Utc>, String> {
    let expected = "an RFC 3339 time, e.g. 2026-12-07T09:30:00Z";
    if !matches!(raw.as_bytes().get(10), Some(b'T' | b't')) || raw.get(17..19) == Some("60") {
        return Err(format!("not {expected}"));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|err| format!("not {expected} ({err})"))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[derive(Debug, serde::Deserialize)]
    struct Limit {
        #[serde(default, deserialize_with = "super::whole_number")]
        limit: Option<u64>,
    }

    #[test]
    fn a_whole_number_may_carry_a_zero_fraction_and_nothing_else() {
        let read = |json: &str| serde_json::from_str::<Limit>(json).map(|l| l.limit).map_err(|_| ());
        assert_eq!(read(r#"{"limit": 295}"#), Ok(Some(295)));
        assert_eq!(read(r#"{"limit": 295.0}"#), Ok(Some(295)));
        assert_eq!(read(r#"{"limit": null}"#), Ok(None));
        assert_eq!(read("{}"), Ok(None));
        for bad in [r#"{"limit": 2.5}"#, r#"{"limit": -1}"#, r#"{"limit": "5"}"#, r#"{"limit": 1e300}"#] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn takes_rfc3339_with_t_and_refuses_a_space_or_an_empty_string() {
        assert!(parse("2026-12-07T09:30:00Z").is_ok());
        assert!(parse("2026-12-07t09:30:00.123456+03:00").is_ok());
        for bad in [
            "2026-12-07 09:30:00Z",
            "",
            "2026-02-30T00:00:00Z",
            "2026-12-07T09:30:00",
            "2026-12-07T09:30:60Z",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
