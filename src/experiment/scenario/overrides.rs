//! `--set key=value` overrides, validated like the file.

use std::str::FromStr;

use serde::de::DeserializeOwned;

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
        let bad = |msg: String| {
            Err(ScenarioError::new(ErrorKind::Schema, Origin::Override { via: "--set".into(), text: s.to_string() }, msg)
                .hint("write --set section.key=value, e.g. --set model.robots=1000000 or --set run.seed=7"))
        };
        let Some((key, raw)) = s.split_once('=') else {
            return bad("an override needs `=` between the field and its value".into());
        };
        let path: Vec<String> = key.trim().split('.').map(str::to_string).collect();
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
        let raw = raw.trim();
        if raw.is_empty() {
            return bad(format!("no value given for `{}`", key.trim()));
        }
        let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
            Ok(mut t) => t.remove("v").expect("the table has the key just written"),
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

    /// The same override, reported as coming from a `[sweep]` variant.
    pub fn from_sweep(mut self) -> Self {
        self.via = "[sweep]";
        self
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

/// Deserialises the document `text` with `overrides` applied, blaming the first override that
/// makes it fail.
pub(super) fn apply_typed<D: DeserializeOwned>(
    text: &str,
    overrides: &[Override],
) -> Result<D, ScenarioError> {
    let mut table: toml::Table = toml::from_str(text).expect("the caller parsed this text already");
    for o in overrides {
        o.apply(&mut table)?;
        if let Err(e) = table.clone().try_into::<D>() {
            // Diagnose as if the override were written in a file, so the message names it.
            let (key, sections) = o.path.split_last().expect("a path has at least two parts");
            let doc = format!("[{}]\n{key} = {}\n", sections.join("."), o.value);
            let at = doc.find(" = ").map(|i| i + 3);
            let d =
                super::diagnose::diagnose(&doc, e.message().trim(), at.map(|i| i..doc.len() - 1));
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
