//! Durations in settings: a whole number of seconds (`90`) or a number with a unit
//! (`"500ms"`, `"1s"`, `"15m"`, `"24h"`, `"7d"`), so env variables and TOML stay readable.

use serde::{de, Deserialize, Deserializer};
use time::Duration;

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Secs(u64),
    Text(String),
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    match Raw::deserialize(deserializer)? {
        Raw::Secs(secs) => i64::try_from(secs)
            .map(Duration::seconds)
            .map_err(|_| de::Error::custom("duration too large")),
        Raw::Text(text) => parse(&text).ok_or_else(|| {
            de::Error::custom(format!(
                "invalid duration {text:?}: use seconds or a number with ms, s, m, h or d"
            ))
        }),
    }
}

fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok()?;
    let per_unit_ms: i64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(per_unit_ms).map(Duration::milliseconds)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Deserialize)]
    struct Wrapper {
        #[serde(deserialize_with = "deserialize")]
        d: Duration,
    }

    fn read(json: &str) -> Result<Duration, serde_json::Error> {
        serde_json::from_str::<Wrapper>(&format!("{{\"d\":{json}}}")).map(|w| w.d)
    }

    #[test]
    fn accepts_seconds_and_units() {
        assert_eq!(read("90").unwrap(), Duration::seconds(90));
        assert_eq!(read("\"90\"").unwrap(), Duration::seconds(90));
        assert_eq!(read("\"500ms\"").unwrap(), Duration::milliseconds(500));
        assert_eq!(read("\"1s\"").unwrap(), Duration::seconds(1));
        assert_eq!(read("\"15m\"").unwrap(), Duration::minutes(15));
        assert_eq!(read("\"24h\"").unwrap(), Duration::hours(24));
        assert_eq!(read("\"7d\"").unwrap(), Duration::days(7));
    }

    #[test]
    fn refuses_garbage() {
        for bad in ["\"\"", "\"m\"", "\"5 weeks\"", "\"-5s\"", "\"1.5h\"", "-3"] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
