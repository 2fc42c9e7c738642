//! Finding fields in the source text: from a field path to its position, and from a position
//! (as a parser reports it) back to the field.

use toml::de::{DeTable, DeValue};

/// A field's dotted path and the byte span of its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// `section.key`.
    pub path: String,
    /// Byte span of the key in the source.
    pub key: std::ops::Range<usize>,
}

/// The span of the key `path` (e.g. `["model", "robots"]`) in `text`, if it is there.
pub fn key_span(text: &str, path: &[&str]) -> Option<std::ops::Range<usize>> {
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

/// The innermost field whose key or value covers byte `offset`.
pub fn field_at(text: &str, offset: usize) -> Option<Found> {
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
    fn finds_the_field_at_a_value() {
        let at = DOC.find("-5").unwrap();
        assert_eq!(field_at(DOC, at).unwrap().path, "model.robots");
    }
}
