//! Seeds in JSON as strings: a 64-bit seed is above 2⁵³ more often than not, and JSON readers
//! that hold numbers as doubles (JavaScript, jq, R's jsonlite) would round it to another seed.
//! `"seed": "11400714819323198485"` reads back exactly everywhere. Reading accepts a number
//! too (files written before seeds were strings).

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

/// Writes `seed` as a string of its decimal digits.
pub(crate) fn serialize<S: Serializer>(seed: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(seed)
}

/// Reads a seed written as a string of decimal digits or as a number.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct Seed;
    impl Visitor<'_> for Seed {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a seed: a whole number from 0 to 2^64 - 1, as a string or a number")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("a seed is not negative: {v}")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            v.parse()
                .map_err(|_| E::custom(format!("not a seed (a whole number): {v:?}")))
        }
    }
    d.deserialize_any(Seed)
}

/// The seed in a parsed JSON value (`"123"` or `123`), if it is one.
pub(crate) fn of_value(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::String(s) => s.parse().ok(),
        other => other.as_u64(),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct S {
        #[serde(with = "super")]
        seed: u64,
    }

    #[test]
    fn seeds_are_strings_and_numbers_still_read() {
        let big = S { seed: u64::MAX };
        let text = serde_json::to_string(&big).unwrap();
        assert_eq!(text, r#"{"seed":"18446744073709551615"}"#);
        assert_eq!(serde_json::from_str::<S>(&text).unwrap(), big);
        assert_eq!(
            serde_json::from_str::<S>(r#"{"seed":2008}"#).unwrap().seed,
            2008
        );
        assert!(serde_json::from_str::<S>(r#"{"seed":"x"}"#).is_err());
        assert!(serde_json::from_str::<S>(r#"{"seed":-1}"#).is_err());
    }
}
