//! What a drawn file must be: a PNG that decodes and is not blank, well-formed SVG/XML, and a
//! report.html that refers only to files that exist.

use std::fs;
use std::path::Path;

use crate::SIZE;

/// Decodes a PNG: its size and the standard deviation of its luminance over all pixels.
fn png_stats(path: &Path) -> ((u32, u32), f64, f64) {
    let bytes = fs::read(path).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size().expect("a buffer size")];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let lum: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| {
            if channels >= 3 {
                0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64
            } else {
                p[0] as f64
            }
        })
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let var = lum.iter().map(|l| (l - mean) * (l - mean)).sum::<f64>() / lum.len() as f64;
    let ink = lum.iter().filter(|&&l| l < 200.0).count() as f64 / lum.len() as f64;
    ((info.width, info.height), var.sqrt(), ink)
}

pub fn assert_png_ok(path: &Path) {
    let (size, sd, ink) = png_stats(path);
    assert_eq!(size, SIZE, "{}", path.display());
    assert!(
        sd > 15.0,
        "{} looks blank: luminance sd {sd:.1}",
        path.display()
    );
    assert!(
        ink > 0.01,
        "{} has almost nothing drawn: {:.2}% dark pixels",
        path.display(),
        ink * 100.0
    );
}

/// A light well-formedness check of XML: tags nest and close, attributes are quoted, and the
/// document has one root element. Returns the text content (entities decoded) for searching.
pub fn check_xml(doc: &str) -> Result<String, String> {
    let b = doc.as_bytes();
    let mut i = 0;
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut content = String::new();
    while i < b.len() {
        if b[i] != b'<' {
            let end = doc[i..].find('<').map_or(b.len(), |j| i + j);
            let t = &doc[i..end];
            if stack.is_empty() && !t.trim().is_empty() {
                return Err(format!("text outside the root element at byte {i}"));
            }
            if t.contains('>') {
                return Err(format!("a stray `>` at byte {i}"));
            }
            let mut rest = t;
            while let Some(a) = rest.find('&') {
                content.push_str(&rest[..a]);
                let semi = rest[a..]
                    .find(';')
                    .ok_or(format!("an unterminated entity at byte {i}"))?;
                let ent = &rest[a + 1..a + semi];
                content.push_str(match ent {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    e if e.starts_with('#') => "?",
                    e => return Err(format!("unknown entity &{e};")),
                });
                rest = &rest[a + semi + 1..];
            }
            content.push_str(rest);
            content.push(' ');
            i = end;
            continue;
        }
        if doc[i..].starts_with("<?") {
            i += doc[i..].find("?>").ok_or("an unterminated <?")? + 2;
        } else if doc[i..].starts_with("<!--") {
            i += doc[i..].find("-->").ok_or("an unterminated comment")? + 3;
        } else if doc[i..].starts_with("<!") {
            i += doc[i..].find('>').ok_or("an unterminated <!")? + 1;
        } else {
            // A tag: find its end, honouring quoted attribute values.
            let mut j = i + 1;
            let mut quote = None;
            while j < b.len() {
                match (quote, b[j]) {
                    (None, b'"' | b'\'') => quote = Some(b[j]),
                    (Some(q), c) if c == q => quote = None,
                    (None, b'>') => break,
                    (None, b'<') => return Err(format!("`<` inside a tag at byte {j}")),
                    _ => {}
                }
                j += 1;
            }
            if j >= b.len() {
                return Err("an unterminated tag".into());
            }
            let tag = &doc[i + 1..j];
            if let Some(name) = tag.strip_prefix('/') {
                let name = name.trim();
                match stack.pop() {
                    Some(open) if open == name => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
            } else {
                let self_closing = tag.ends_with('/');
                let name: String = tag
                    .trim_end_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string();
                if name.is_empty() {
                    return Err(format!("an empty tag at byte {i}"));
                }
                // Attributes: name="value" pairs.
                let attrs = tag.trim_end_matches('/')[name.len()..].trim();
                let mut rest = attrs;
                while !rest.is_empty() {
                    let eq = rest
                        .find('=')
                        .ok_or(format!("attribute without value in <{name}>"))?;
                    let after = rest[eq + 1..].trim_start();
                    let q = after.chars().next().ok_or("attribute without value")?;
                    if q != '"' && q != '\'' {
                        return Err(format!("unquoted attribute in <{name}>"));
                    }
                    let close = after[1..].find(q).ok_or("unterminated attribute")?;
                    rest = after[close + 2..].trim_start();
                }
                if stack.is_empty() {
                    roots += 1;
                }
                if !self_closing {
                    stack.push(name);
                }
            }
            i = j + 1;
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements: {stack:?}"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(content)
}

/// Every `src="…"` and `href="…"` value of an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            let after = &rest[i + attr.len()..];
            let end = after.find('"').expect("a closing quote");
            out.push(after[..end].replace("&amp;", "&"));
            rest = &after[end..];
        }
    }
    out
}

pub fn assert_report_ok(dir: &Path) -> String {
    let html = fs::read_to_string(dir.join("report.html")).expect("report.html is written");
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{}",
        &html[..80.min(html.len())]
    );
    assert!(html.contains("<style>"), "the CSS is inline");
    assert!(!html.contains("<script"), "the report needs no script");
    assert!(!html.contains("<link"), "the report loads no stylesheet");
    let refs = references(&html);
    assert!(!refs.is_empty());
    assert!(
        html.split("<img src=\"")
            .skip(1)
            .all(|rest| rest.starts_with("data:image/")),
        "every image is inlined: report.html is whole when copied alone"
    );
    for r in &refs {
        assert!(
            !r.contains("://") && !r.starts_with("//"),
            "report.html refers to the network: {r}"
        );
        if r.starts_with('#') || r.starts_with("data:image/") {
            continue;
        }
        assert!(
            dir.join(r).is_file(),
            "report.html refers to a missing file: {r}"
        );
    }
    html
}
