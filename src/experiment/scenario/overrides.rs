//! `--set key=value` overrides, validated like the file.

use std::str::FromStr;

use serde::de::DeserializeOwned;

use super::diagnose::Diagnosis;
use super::error::{ErrorKind, Origin, ScenarioError};

/// One `--set section.key=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    path: Vec<String>,
    value: toml::Value,
    text: String,
    via: &'static str,
}

impl FromStr for Override {
    type Err = ScenarioError;

    /// Parses `section.key=value`. The value is read as a TOML value (`1000`, `0.5`, `true`,
    /// `"text"`, `[1, 2]`); a bare word that is not one is taken as a string.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let origin = || Origin::Override {
            via: "--set".into(),
            text: s.to_string(),
            file: None,
        };
        let bad = |msg: String| {
            Err(ScenarioError::new(ErrorKind::Schema, origin(), msg)
                .hint("write --set section.key=value, e.g. --set model.robots=1000000 or --set run.seed=7"))
        };
        let Some((key, raw)) = s.split_once('=') else {
            return bad("an override needs `=` between the field and its value".into());
        };
        let mut path: Vec<String> = key.trim().split('.').map(str::to_string).collect();
        let valid = |p: &String| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if path.len() < 2 || !path.iter().all(valid) {
            return bad(format!(
                "`{}` is not a field; name it as section.key",
                key.trim()
            ));
        }
        // A sweep's grid is keyed by whole field paths: `sweep.grid.model.robots` sets the
        // key `"model.robots"` of `[sweep.grid]`.
        if path.len() > 3 && path[0] == "sweep" && path[1] == "grid" {
            let field = path.split_off(2).join(".");
            path.push(field);
        }
        let raw = raw.trim();
        if raw.is_empty() {
            return bad(format!("no value given for `{}`", key.trim()));
        }
        let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
            Ok(mut t) => t.remove("v").expect("the table has the key just written"),
            // A whole number beyond TOML's 64-bit integers: say so, with the number as given.
            Err(_) if is_integer(raw) => {
                let field = path.join(".");
                return Err(out_of_range(origin(), &field, raw));
            }
            Err(_)
                if raw
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c)) =>
            {
                toml::Value::String(raw.to_string())
            }
            Err(e) => {
                return bad(format!(
                    "cannot read the value `{raw}`: {}",
                    e.message().trim()
                ));
            }
        };
        Ok(Override {
            path,
            value,
            text: s.to_string(),
            via: "--set",
        })
    }
}

/// Whether `raw` is a decimal integer literal (`-12`, `+3`, `1_000`).
fn is_integer(raw: &str) -> bool {
    let digits = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// `field` given the whole number `number`, which no TOML integer holds.
fn out_of_range(origin: Origin, field: &str, number: &str) -> ScenarioError {
    let what = if number.starts_with('-') {
        "too small"
    } else {
        "too large"
    };
    ScenarioError::new(
        ErrorKind::Invalid,
        origin,
        format!("`{field}` is {what}: {number}"),
    )
    .field(field)
    .hint(super::diagnose::range_hint(Some(field), "i64"))
}

impl Override {
    /// An override of `field` (`section.key`) with `value`.
    pub fn new(field: &str, value: impl Into<toml::Value>) -> Self {
        let value = value.into();
        Override {
            path: field.split('.').map(str::to_string).collect(),
            text: format!("{field}={value}"),
            value,
            via: "--set",
        }
    }

    /// A command-line flag that sets `field` to a whole number (`--threads 8` sets
    /// `run.threads`); refused when the number is beyond TOML's 64-bit integers, which no
    /// field accepts.
    pub fn flag(flag: &'static str, field: &str, value: u64) -> Result<Self, ScenarioError> {
        let origin = Origin::Override {
            via: flag.into(),
            text: value.to_string(),
            file: None,
        };
        let Ok(v) = i64::try_from(value) else {
            return Err(out_of_range(origin, field, &value.to_string()));
        };
        Ok(Override {
            path: field.split('.').map(str::to_string).collect(),
            text: value.to_string(),
            value: toml::Value::Integer(v),
            via: flag,
        })
    }

    /// `--sweep FIELD=V1,V2,…`: the sweep's grid gets the axis `FIELD` with these values
    /// (each read as `--set` reads a value), as `[sweep.grid] "FIELD" = [V1, V2, …]` would.
    pub fn sweep(text: &str) -> Result<Self, ScenarioError> {
        let origin = || Origin::Override {
            via: "--sweep".into(),
            text: text.to_string(),
            file: None,
        };
        let bad = |msg: String| {
            ScenarioError::new(ErrorKind::Schema, origin(), msg)
                .hint("write --sweep section.key=V1,V2,…, e.g. --sweep model.robots=1000,2000,4000")
        };
        let Some((field, raw)) = text.split_once('=') else {
            return Err(bad(
                "a sweep needs `=` between the field and its values".into()
            ));
        };
        let field = field.trim();
        if field.split('.').count() < 2 {
            return Err(bad(format!(
                "`{field}` is not a field; name it as section.key"
            )));
        }
        let mut values = Vec::new();
        for v in raw.split(',').map(str::trim) {
            let one: Override = format!("{field}={v}").parse().map_err(|e: ScenarioError| {
                bad(format!("cannot read the value `{v}`: {}", e.message))
            })?;
            values.push(one.value);
        }
        Ok(Override {
            path: vec!["sweep".into(), "grid".into(), field.to_string()],
            value: toml::Value::Array(values),
            text: text.to_string(),
            via: "--sweep",
        })
    }

    /// The field, as `section.key`.
    pub fn field(&self) -> String {
        self.path.join(".")
    }

    /// The value.
    pub fn value(&self) -> &toml::Value {
        &self.value
    }

    /// Whether this overrides `field` (`section.key`).
    pub fn is(&self, field: &str) -> bool {
        self.path.join(".") == field
    }

    /// An error blamed on this override.
    pub fn error(&self, kind: ErrorKind, message: impl Into<String>) -> ScenarioError {
        ScenarioError::new(
            kind,
            Origin::Override {
                via: self.via.into(),
                text: self.text.clone(),
                file: None,
            },
            message,
        )
    }

    /// Sets this override's field in `table`, making sections as needed.
    pub fn apply(&self, table: &mut toml::Table) -> Result<(), ScenarioError> {
        let (last, sections) = self
            .path
            .split_last()
            .expect("a path has at least two parts");
        let mut t = table;
        for (i, part) in sections.iter().enumerate() {
            let entry = t
                .entry(part.clone())
                .or_insert_with(|| toml::Value::Table(Default::default()));
            t = match entry {
                toml::Value::Table(inner) => inner,
                _ => {
                    let at = self.path[..=i].join(".");
                    return Err(self
                        .error(
                            ErrorKind::Schema,
                            format!("`{at}` is a value, not a section"),
                        )
                        .field(at));
                }
            };
        }
        t.insert(last.clone(), self.value.clone());
        Ok(())
    }
}

/// What to say when setting `field` (`section.key`) to `value` fails to deserialise with
/// `message`: diagnosed as if the setting were written in a file, so the message names it.
pub(super) fn diagnose_setting(field: &str, value: &toml::Value, message: &str) -> Diagnosis {
    let (sections, key) = field.rsplit_once('.').unwrap_or(("", field));
    let doc = format!("[{sections}]\n{key} = {value}\n");
    let at = doc.find(" = ").map(|i| i + 3);
    super::diagnose::diagnose(&doc, message.trim(), at.map(|i| i..doc.len() - 1))
}

/// Deserialises the document of `src` with `overrides` applied, blaming the first override
/// that makes it fail.
pub(super) fn apply_typed<D: DeserializeOwned>(
    src: &super::Source,
    overrides: &[Override],
) -> Result<D, ScenarioError> {
    let mut table: toml::Table =
        toml::from_str(src.text).expect("the caller parsed this text already");
    // The file alone passed stage one; should it fail here, no override is to blame.
    if let Err(e) = table.clone().try_into::<D>() {
        let d = super::diagnose::diagnose(src.text, e.message().trim(), None);
        let field = d.field.unwrap_or_else(|| "scenario".into());
        let path: Vec<&str> = field.split('.').collect();
        let at = super::locate::key_span(src.text, &path);
        return Err(src.error(ErrorKind::Schema, at, d.message).field(field));
    }
    for o in overrides {
        o.apply(&mut table)?;
        if let Err(e) = table.clone().try_into::<D>() {
            let d = diagnose_setting(&o.field(), &o.value, e.message());
            let hint = d
                .hint
                .unwrap_or_else(|| "check the field name and the value's type".into());
            return Err(o
                .error(ErrorKind::Schema, d.message)
                .field(o.path.join("."))
                .hint(hint));
        }
    }
    Ok(table
        .try_into::<D>()
        .expect("the last override was checked"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sweeps_come_from_the_command_line() {
        let o = super::Override::sweep("model.beta=0.1, 0.2,0.3").unwrap();
        assert_eq!(o.path, ["sweep", "grid", "model.beta"]);
        assert_eq!(o.value.to_string(), "[0.1, 0.2, 0.3]");
        let o = super::Override::sweep("model.weights=uniform,zipf").unwrap();
        assert_eq!(o.value.to_string(), r#"["uniform", "zipf"]"#);
        let set: super::Override = "sweep.grid.model.robots=[100, 200]".parse().unwrap();
        assert_eq!(set.path, ["sweep", "grid", "model.robots"]);
        assert!(super::Override::sweep("robots=1,2").is_err());
        assert!(super::Override::sweep("model.robots").is_err());
    }

    use super::*;

    #[test]
    fn parses_values_of_every_type() {
        let o: Override = "model.robots=1000".parse().unwrap();
        assert_eq!(o.value, toml::Value::Integer(1000));
        let o: Override = "run.order=shuffled".parse().unwrap();
        assert_eq!(o.value, toml::Value::String("shuffled".into()));
        let o: Override = "model.p=0.25".parse().unwrap();
        assert_eq!(o.value, toml::Value::Float(0.25));
        assert!(o.is("model.p"));
    }

    #[test]
    fn numbers_beyond_toml_integers_are_refused_as_given() {
        let e = "run.seed=9223372036854775808"
            .parse::<Override>()
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("`run.seed` is too large: 9223372036854775808"),
            "{msg}"
        );
        assert!(msg.contains("from 0 to 9223372036854775807"), "{msg}");
        let e = Override::flag("--threads", "run.threads", u64::MAX).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "--threads 18446744073709551615: `run.threads` is too large: 18446744073709551615"
            ),
            "{msg}"
        );
        assert!(
            msg.contains("from 0 to 1024") && !msg.contains("-1"),
            "{msg}"
        );
        let ok = Override::flag("--seed", "run.seed", 7).unwrap();
        assert_eq!(ok.value(), &toml::Value::Integer(7));
    }

    #[test]
    fn refuses_malformed_overrides() {
        for bad in [
            "model.robots",
            "robots=5",
            "model..x=1",
            "model.robots=",
            "model.x=[1,",
            "=3",
        ] {
            assert!(bad.parse::<Override>().is_err(), "{bad}");
        }
    }
}
