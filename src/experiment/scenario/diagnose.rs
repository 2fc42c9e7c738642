//! Turning the TOML parser's and serde's messages into ones that name the field and say what
//! would be accepted.

use super::locate;
use super::sections::{accepted_names, accepted_range};

/// A parser error, translated.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Diagnosis {
    pub message: String,
    pub field: Option<String>,
    pub hint: Option<String>,
    /// Where the problem is, when the parser said nothing (a byte offset into the text).
    pub at: Option<usize>,
}

/// The parser's limit on nesting: of arrays and inline tables, and of the parts of a key.
pub(super) const NESTING_LIMIT: usize = 80;

/// `at`, moved back to the start of the character it falls in.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A key as written (`robots`, `"model.items"`, `a . b`), without quotes and spaces.
fn bare_key(k: &str) -> String {
    k.trim().trim_matches(['"', '\'']).trim().to_string()
}

/// The field at byte `at`, read from the lines of the text (for a document the parser could
/// not read back): the key of the nearest `key = value` line at or above it, under the
/// nearest `[section]` header above; or that section; or, outside any section, the first word
/// of the line.
pub(super) fn line_field(text: &str, at: usize) -> Option<String> {
    let at = boundary(text, at);
    let end = text[at..].find('\n').map_or(text.len(), |p| at + p);
    let mut key: Option<String> = None;
    for line in text[..end].lines().rev() {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        if let Some(header) = t.strip_prefix('[') {
            let header = header
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("");
            let section = bare_key(header);
            return Some(match key {
                Some(k) if !section.is_empty() => format!("{section}.{k}"),
                Some(k) => k,
                None if !section.is_empty() => section,
                None => continue,
            });
        }
        if key.is_none()
            && let Some((k, _)) = t.split_once('=')
            && !bare_key(k).is_empty()
        {
            key = Some(bare_key(k));
        }
    }
    key.or_else(|| {
        let line = line_at(text, at).trim();
        let word: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "_-.".contains(*c))
            .collect();
        (!word.is_empty()).then_some(word)
    })
}

/// The `[section]` whose header is the nearest above the line that holds byte `at`.
fn section_above(text: &str, at: usize) -> Option<String> {
    let at = boundary(text, at);
    let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    text[..start].lines().rev().find_map(|l| {
        let l = l.trim();
        l.strip_prefix('[')
            .and_then(|h| h.trim_start_matches('[').split(']').next())
            .map(bare_key)
    })
}

/// The integer literal at byte `at`, as written.
fn number_at(text: &str, at: usize) -> Option<&str> {
    let rest = &text[boundary(text, at)..];
    let len = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-_".contains(c)))
        .unwrap_or(rest.len());
    (len > 0).then(|| &rest[..len])
}

/// What a whole-number field accepts: its own range where known, else that of its type `ty`
/// (`u32`, `u64`, …) up to the largest TOML integer.
pub(super) fn range_hint(field: Option<&str>, ty: &str) -> String {
    if let Some((lo, hi)) = field.and_then(accepted_range) {
        return format!("use a whole number from {lo} to {hi}");
    }
    match largest(ty.trim()) {
        Some(max) => format!("use a whole number from 0 to {}", max.min(i64::MAX as u128)),
        None => "use a whole number from 0 to 9223372036854775807".to_string(),
    }
}

/// The key text at byte `at` (a bare or quoted key) and the `[section]` it is in.
fn key_at(text: &str, at: usize) -> (String, Option<String>) {
    let at = boundary(text, at);
    let rest = &text[at..];
    let key: String = rest
        .trim_start_matches(['[', '"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "_-.".contains(*c))
        .collect();
    let before = &text[..at];
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
    let at = boundary(text, at);
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
pub(super) fn diagnose(
    text: &str,
    message: &str,
    span: Option<std::ops::Range<usize>>,
) -> Diagnosis {
    let at = boundary(text, span.as_ref().map_or(0, |s| s.start));
    let found = span
        .as_ref()
        .and_then(|_| locate::field_at(text, at))
        .map(|f| f.path)
        .or_else(|| span.as_ref().and_then(|_| line_field(text, at)));
    let (key, section) = key_at(text, at);
    let in_section =
        |s: &Option<String>| s.as_ref().map_or(String::new(), |s| format!(" in [{s}]"));
    let dotted =
        |s: &Option<String>, k: &str| s.as_ref().map_or(k.to_string(), |s| format!("{s}.{k}"));
    let d = |message: String, field: Option<String>, hint: Option<&str>| Diagnosis {
        message,
        field,
        hint: hint.map(str::to_string),
        at: None,
    };

    if span.is_none() && message == "recursion limit" {
        let hint = "a scenario's fields are `key = value` lines under a [section], e.g. [model] then robots = 1000";
        let Some((at, parts)) = locate::deep_key(text, 2) else {
            let message = format!(
                "keys and table names nest at most {} deep",
                NESTING_LIMIT - 1
            );
            return d(message, None, Some(hint));
        };
        let field = if line_at(text, at).trim_start().starts_with('[') {
            parts[..2].join(".")
        } else {
            dotted(&section_above(text, at), &parts[0])
        };
        let message = format!(
            "a key of {} parts: keys and table names nest at most {} deep",
            parts.len(),
            NESTING_LIMIT - 1
        );
        return Diagnosis {
            at: Some(at),
            ..d(message, Some(field), Some(hint))
        };
    }
    if message.starts_with("cannot recurse further") {
        return d(
            format!(
                "the value is nested too deeply: arrays and inline tables nest at most {NESTING_LIMIT} deep"
            ),
            found,
            Some(
                "a scenario's values are numbers, strings, booleans and short lists, e.g. plots = [\"cdf\"]",
            ),
        );
    }

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
    if message == "wanted string or table" || message.contains("unit variant, expected string") {
        // An enum's value given as a number, a list or a boolean.
        let name = found.clone().unwrap_or_else(|| "the value".into());
        let hint = match found.as_deref().and_then(accepted_names) {
            Some(names) => format!("use {}", names.join(" or ")),
            None => "write the name in quotes, e.g. weights = \"zipf\"".to_string(),
        };
        return d(
            format!("`{name}` must be a name in quotes"),
            found,
            Some(&hint),
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
        let hint = range_hint(found.as_deref(), "i64");
        return d(
            format!("{number} is too large: TOML integers are 64-bit"),
            found,
            Some(&hint),
        );
    }
    if message == "u64 value was too large" {
        let number = number_at(text, at).unwrap_or("the number");
        let name = found.clone().unwrap_or_else(|| "the value".into());
        let hint = range_hint(found.as_deref(), "i64");
        return d(
            format!("`{name}` is too large: {number} (TOML integers are 64-bit)"),
            found,
            Some(&hint),
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
            let hint = range_hint(found.as_deref(), ty);
            return d(
                format!("`{name}` cannot be negative: {number}"),
                found,
                Some(&hint),
            );
        }
        if largest(ty.trim()).is_some() {
            let name = found.clone().unwrap_or_else(|| "the value".into());
            let hint = range_hint(found.as_deref(), ty);
            return d(
                format!("`{name}` is too large: {number}"),
                found,
                Some(&hint),
            );
        }
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        // A table without a field it needs: name both.
        let name = rest.trim_matches('`');
        let field = found
            .as_ref()
            .map_or(name.to_string(), |t| format!("{t}.{name}"));
        let message = format!("missing field {rest}{}", in_section(&found));
        return d(
            message,
            Some(field),
            Some("add it; `microsim new MODEL` writes a file with every field"),
        );
    }
    let syntax = [
        "expected `=`",
        "expected key",
        "unquoted key",
        "expected newline",
        "must be quoted",
        "unclosed",
        "invalid basic string",
        "invalid literal string",
        "comment character",
    ];
    let hint = if message.contains("expected u") || message.contains("expected i") {
        Some("use a whole number, without quotes (e.g. 1000 or 1_000_000)")
    } else if message.contains("expected f64") {
        Some("use a number, e.g. 0.5")
    } else if message.contains("expected a boolean") {
        Some("use true or false")
    } else if message.contains("expected a string") {
        Some("use text in quotes, e.g. \"by_id\"")
    } else if message.contains("expected a sequence") || message.contains("element") {
        Some("use a list in brackets, e.g. [1, 2]")
    } else if message.contains("expected a map") {
        Some("use a table: a [section] with key = value lines, or { key = value }")
    } else if syntax.iter().any(|s| message.contains(s)) {
        Some(
            "each line is `key = value`, a [section] header or a # comment; text values go in quotes",
        )
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
            Some("use a whole number from 0 to 4294967295")
        );
    }

    #[test]
    fn negative_numbers_say_the_accepted_range() {
        let t = "[run]\nthreads = -1\n";
        let d = diagnose(t, "invalid value: integer `-1`, expected u64", at(t, "-1"));
        assert_eq!(d.message, "`run.threads` cannot be negative: -1");
        assert_eq!(d.hint.as_deref(), Some("use a whole number from 0 to 1024"));
    }

    #[test]
    fn nesting_past_the_limit_names_the_field_and_the_place() {
        let t = format!("[output]\nplots = {}{}\n", "[".repeat(90), "]".repeat(90));
        let d = diagnose(
            &t,
            "cannot recurse further; max recursion depth met",
            Some(100..101),
        );
        assert_eq!(d.field.as_deref(), Some("output.plots"));
        let t = format!("[model]\n{} = 1\n", ["a"; 90].join("."));
        let d = diagnose(&t, "recursion limit", None);
        assert_eq!((d.field.as_deref(), d.at), (Some("model.a"), Some(8)));
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
