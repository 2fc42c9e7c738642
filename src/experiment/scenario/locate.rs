//! Finding fields in the source text: from a field path to its position, and from a position
//! (as a parser reports it) back to the field.

use toml::de::{DeTable, DeValue};

use crate::experiment::params::PathPart;

/// A field's dotted path and the byte span of its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Found {
    /// `section.key`.
    pub path: String,
    /// Byte span of the key in the source.
    pub key: std::ops::Range<usize>,
}

/// The span of the key `path` (e.g. `["model", "robots"]`) in `text`, if it is there.
pub(crate) fn key_span(text: &str, path: &[&str]) -> Option<std::ops::Range<usize>> {
    let doc = DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let mut span = None;
    for (i, part) in path.iter().enumerate() {
        let (key, value) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *part)?;
        span = Some(key.span());
        if i + 1 < path.len() {
            match value.get_ref() {
                DeValue::Table(t) => table = t,
                _ => return None,
            }
        }
    }
    span
}

/// The span of what `steps` names in `text`: a key's span when the last step is a key, a list
/// element's span when it is an index. Keys are matched whole (a quoted `"model.items"` is one
/// key).
pub(crate) fn span_of(text: &str, steps: &[PathPart]) -> Option<std::ops::Range<usize>> {
    let doc = DeTable::parse(text).ok()?;
    let mut value: Option<&DeValue> = None;
    let mut span = None;
    for step in steps {
        match (step, value) {
            (PathPart::Key(k), None) => {
                let (key, v) = doc
                    .get_ref()
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k.as_str())?;
                span = Some(key.span());
                value = Some(v.get_ref());
            }
            (PathPart::Key(k), Some(DeValue::Table(t))) => {
                let (key, v) = t
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k.as_str())?;
                span = Some(key.span());
                value = Some(v.get_ref());
            }
            (PathPart::Index(i), Some(DeValue::Array(a))) => {
                let item = a.get(*i)?;
                span = Some(item.span());
                value = Some(item.get_ref());
            }
            _ => return None,
        }
    }
    span
}

/// The key in `text` (a `[table.header]` or a dotted `key = value`) with the most
/// dot-separated parts, if it has at least `parts`: where the parser's recursion limit on keys
/// was met, which it reports without a position. Returns the key's byte offset and its parts.
pub(crate) fn deep_key(text: &str, parts: usize) -> Option<(usize, Vec<String>)> {
    let mut offset = 0;
    let mut deepest: Option<(usize, Vec<String>)> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let key = if let Some(header) = trimmed.strip_prefix('[') {
            header.trim_start_matches('[').split(']').next()
        } else {
            trimmed.split('=').next().filter(|_| trimmed.contains('='))
        };
        if let Some(key) = key {
            let n = key.matches('.').count() + 1;
            if n >= parts && deepest.as_ref().is_none_or(|(_, d)| n > d.len()) {
                let split = key
                    .split('.')
                    .map(|p| p.trim().trim_matches(['"', '\'']).to_string())
                    .collect();
                deepest = Some((offset + indent, split));
            }
        }
        offset += line.len();
    }
    deepest
}

/// The innermost field whose key or value covers byte `offset`.
pub(super) fn field_at(text: &str, offset: usize) -> Option<Found> {
    let doc = DeTable::parse(text).ok()?;
    let mut best = None;
    walk(doc.get_ref(), &mut Vec::new(), offset, &mut best);
    best
}

fn walk<'a>(
    table: &'a DeTable<'a>,
    path: &mut Vec<&'a str>,
    offset: usize,
    best: &mut Option<Found>,
) {
    for (key, value) in table.iter() {
        let covers =
            |r: std::ops::Range<usize>| r.start <= offset && offset < r.end.max(r.start + 1);
        path.push(key.get_ref().as_ref());
        if covers(key.span()) || covers(value.span()) {
            *best = Some(Found {
                path: path.join("."),
                key: key.span(),
            });
        }
        if let DeValue::Table(t) = value.get_ref() {
            walk(t, path, offset, best);
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[scenario]\nmodel = \"x\"\n\n[model]\nrobots = -5\nwidth = 3\n";

    #[test]
    fn finds_a_key_by_path() {
        let span = key_span(DOC, &["model", "width"]).unwrap();
        assert_eq!(&DOC[span], "width");
        assert!(key_span(DOC, &["model", "height"]).is_none());
    }

    #[test]
    fn finds_quoted_keys_and_list_elements() {
        let text = "[sweep.grid]\n\"model.items\" = [10, 20]\n";
        let key = |k: &str| PathPart::Key(k.to_string());
        let at = |steps: &[PathPart]| span_of(text, steps).map(|s| &text[s]);
        assert_eq!(
            at(&[key("sweep"), key("grid"), key("model.items")]),
            Some("\"model.items\"")
        );
        let second = [
            key("sweep"),
            key("grid"),
            key("model.items"),
            PathPart::Index(1),
        ];
        assert_eq!(at(&second), Some("20"));
        assert_eq!(at(&[key("sweep"), key("grid"), key("model")]), None);
    }

    #[test]
    fn finds_a_key_past_the_recursion_limit() {
        let text = format!("[model]\nx = 1\n  {} = 1\n", ["a"; 90].join("."));
        let (at, parts) = deep_key(&text, 80).unwrap();
        assert_eq!((at, parts.len()), (16, 90));
    }

    #[test]
    fn finds_the_field_at_a_value() {
        let at = DOC.find("-5").unwrap();
        assert_eq!(field_at(DOC, at).unwrap().path, "model.robots");
    }
}
