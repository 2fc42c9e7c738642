//! Turning the TOML parser's and serde's messages into ones that name the field and say what
//! would be accepted.

use super::locate;

/// A parser error, translated.
#[derive(Debug, PartialEq, Eq)]
pub struct Diagnosis {
    pub message: String,
    pub field: Option<String>,
    pub hint: Option<String>,
}

/// The key text at byte `at` (a bare or quoted key) and the `[section]` it is in.
fn key_at(text: &str, at: usize) -> (String, Option<String>) {
    let rest = &text[at.min(text.len())..];
    let key: String = rest
        .trim_start_matches(['[', '"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "_-.".contains(*c))
        .collect();
    let before = &text[..at.min(text.len())];
    let section = before
        .lines()
        .rev()
        .skip(1)
        .chain(
            before
                .lines()
                .last()
                .filter(|l| !l.trim_start().starts_with('[')),
        )
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix('[')
                .and_then(|l| l.split(']').next())
                .map(|s| s.trim_matches('[').trim().to_string())
        });
    (key, section)
}

/// The whole line that holds byte `at`.
fn line_at(text: &str, at: usize) -> &str {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let end = text[at..].find('\n').map_or(text.len(), |p| at + p);
    &text[start..end]
}

fn largest(ty: &str) -> Option<u128> {
    match ty {
        "u8" => Some(u8::MAX as u128),
        "u16" => Some(u16::MAX as u128),
        "u32" => Some(u32::MAX as u128),
        "u64" => Some(u64::MAX as u128),
        "i64" => Some(i64::MAX as u128),
        _ => None,
    }
}

/// Translates `message`, reported at byte span `span` of `text`.
pub fn diagnose(text: &str, message: &str, span: Option<std::ops::Range<usize>>) -> Diagnosis {
    let at = span.as_ref().map_or(0, |s| s.start);
    let found = span
        .as_ref()
        .and_then(|_| locate::field_at(text, at))
        .map(|f| f.path);
    let (key, section) = key_at(text, at);
    let in_section =
        |s: &Option<String>| s.as_ref().map_or(String::new(), |s| format!(" in [{s}]"));
    let dotted =
        |s: &Option<String>, k: &str| s.as_ref().map_or(k.to_string(), |s| format!("{s}.{k}"));
    let d = |message: String, field: Option<String>, hint: Option<&str>| Diagnosis {
        message,
        field,
        hint: hint.map(str::to_string),
    };

    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (name, expected) = match rest.split_once(", expected ") {
            Some((name, expected)) => (
                name,
                Some(expected.strip_prefix("one of ").unwrap_or(expected)),
            ),
            None => (rest, None),
        };
        let bare = name.trim_matches('`');
        // The unknown name is a whole section when it is the first part of the field's path.
        let is_section = found
            .as_deref()
            .is_none_or(|f| f.split('.').next() == Some(bare));
        let expected = expected.map_or(String::new(), |e| format!("; expected one of {e}"));
        if is_section {
            return d(
                format!("unknown section [{bare}]{expected}"),
                Some(bare.to_string()),
                Some(
                    "the sections are [scenario], [model], [run], [montecarlo], [sweep] and [output]",
                ),
            );
        }
        let section = found
            .as_deref()
            .and_then(|f| f.rsplit_once('.'))
            .map(|(s, _)| s.to_string());
        return d(
            format!("unknown field {name}{}{expected}", in_section(&section)),
            found,
            Some("check the spelling; `microsim new MODEL` writes a file with every field"),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let accepted = rest.split_once(", expected ").map_or("", |(_, e)| e);
        let accepted = accepted.strip_prefix("one of ").unwrap_or(accepted);
        let name = found.clone().unwrap_or_else(|| "the value".into());
        let value = rest.split(',').next().unwrap_or(rest);
        return d(
            format!("`{name}` cannot be {value}"),
            found,
            Some(&format!("use {accepted}")),
        );
    }
    if message.starts_with("duplicate key") {
        if line_at(text, at).trim_start().starts_with('[') {
            return d(
                format!("section [{key}] appears twice"),
                Some(key.clone()),
                Some("merge the two sections into one"),
            );
        }
        let field = dotted(&section, &key);
        return d(
            format!("`{key}` is set twice{}", in_section(&section)),
            Some(field),
            Some("keep one of them"),
        );
    }
    let line = line_at(text, at);
    if let Some((k, v)) = line.split_once('=') {
        let v = v.split('#').next().unwrap_or("").trim();
        if v.is_empty() && !k.trim().is_empty() && !k.trim_start().starts_with('[') {
            let k = k.trim().trim_matches(['"', '\'']).to_string();
            return d(
                format!("`{k}` has no value{}", in_section(&section)),
                Some(dotted(&section, &k)),
                Some(
                    "write a value after `=`, e.g. `robots = 1000`, `order = \"by_id\"`, `histograms = true`",
                ),
            );
        }
    }
    if message.contains(" as i128") {
        let number = message.split('`').nth(1).unwrap_or("the number");
        return d(
            format!("{number} is too large: TOML integers are 64-bit"),
            found,
            Some("use a whole number up to 9223372036854775807"),
        );
    }
    if let Some(expected) = message.split("expected struct ").nth(1) {
        let field = found.clone().unwrap_or(key);
        let got = message
            .strip_prefix("invalid type: ")
            .and_then(|m| m.split(',').next())
            .unwrap_or("a value");
        let _ = expected;
        return d(
            format!("`{field}` must be a section ([{field}]), not {got}"),
            Some(field.clone()),
            Some("write it as a [section] with key = value lines under it"),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid value: integer `") {
        let (number, ty) = rest.split_once("`, expected ").unwrap_or((rest, ""));
        if number.starts_with('-') {
            let name = found.clone().unwrap_or_else(|| "the value".into());
            return d(
                format!("`{name}` cannot be negative: {number}"),
                found,
                Some("sizes and counts cannot be negative; use a whole number ≥ 0"),
            );
        }
        if let Some(max) = largest(ty.trim()) {
            let name = found.clone().unwrap_or_else(|| "the value".into());
            return d(
                format!("`{name}` is too large: {number}"),
                found,
                Some(&format!("use a whole number up to {max}")),
            );
        }
    }
    let hint = if message.contains("expected u") || message.contains("expected i") {
        Some("use a whole number, without quotes (e.g. 1000 or 1_000_000)")
    } else if message.contains("expected f64") {
        Some("use a number, e.g. 0.5")
    } else if message.contains("expected a boolean") {
        Some("use true or false")
    } else {
        None
    };
    d(message.to_string(), found, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, needle: &str) -> Option<std::ops::Range<usize>> {
        let i = text.find(needle).unwrap();
        Some(i..i + needle.len())
    }

    #[test]
    fn duplicate_keys_and_sections_are_named() {
        let t = "[model]\nrobots = 1\nrobots = 2\n";
        let d = diagnose(t, "duplicate key", at(t, "robots = 2"));
        assert_eq!(
            (d.message.as_str(), d.field.as_deref()),
            ("`robots` is set twice in [model]", Some("model.robots"))
        );
        let t = "[model]\nrobots = 1\n[model]\n";
        let d = diagnose(
            t,
            "duplicate key",
            Some(t.rfind("model").unwrap()..t.len() - 2),
        );
        assert_eq!(d.message, "section [model] appears twice");
    }

    #[test]
    fn a_missing_value_is_called_that() {
        let t = "[model]\nrobots =\n";
        let d = diagnose(
            t,
            "string values must be quoted, expected literal string",
            Some(16..16),
        );
        assert_eq!(d.message, "`robots` has no value in [model]");
        assert_eq!(d.field.as_deref(), Some("model.robots"));
    }

    #[test]
    fn too_large_numbers_say_the_limit() {
        let t = "[model]\nrounds = 5000000000\n";
        let d = diagnose(
            t,
            "invalid value: integer `5000000000`, expected u32",
            at(t, "5000000000"),
        );
        assert_eq!(d.message, "`model.rounds` is too large: 5000000000");
        assert_eq!(
            d.hint.as_deref(),
            Some("use a whole number up to 4294967295")
        );
    }

    #[test]
    fn unknown_fields_list_what_is_accepted_once() {
        let t = "[model]\nrobts = 5\n";
        let d = diagnose(
            t,
            "unknown field `robts`, expected one of `robots`, `width`",
            at(t, "robts"),
        );
        assert_eq!(
            d.message,
            "unknown field `robts` in [model]; expected one of `robots`, `width`"
        );
    }
}
