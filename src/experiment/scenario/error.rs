//! Scenario errors: every one names the file (or the `--set` it came from), the line and
//! column, the field, and what would be accepted.

use std::fmt;
use std::path::Path;

/// Where a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// In the scenario file, at this 1-based line and column (if known).
    File {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
    },
    /// In the scenario file, position unknown (e.g. a field that is missing).
    FileOnly {
        /// The file.
        path: String,
    },
    /// In an override from the command line: a `--set`, or a flag such as `--threads`.
    Override {
        /// Where the override came from: `--set`, `--seed`, `--threads`, `--replications`.
        via: String,
        /// The override as given: `section.key=value`, or a flag's value.
        text: String,
        /// The scenario file it was applied to, once known.
        file: Option<String>,
    },
}

/// What kind of problem, so callers can react without parsing messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// The file is empty, binary, or not TOML.
    Syntax,
    /// A section or field is unknown, missing, or of the wrong type.
    Schema,
    /// A value is out of range or inconsistent with another.
    Invalid,
    /// The run would need more memory than allowed.
    TooLarge,
}

/// A scenario that cannot be run, and why. Small to pass around (one pointer); read its
/// [`Detail`] through `Deref` (`err.kind`, `err.field`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError(Box<Detail>);

/// What a [`ScenarioError`] says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detail {
    /// What kind of problem.
    pub kind: ErrorKind,
    /// Where.
    pub origin: Origin,
    /// The field, as `section.key`, when one is to blame.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What would be accepted, or how to fix it.
    pub hint: Option<String>,
    /// The line of the file the problem is on (for [`Origin::File`]), shown under the
    /// message with a caret at the column.
    pub line_text: Option<String>,
}

impl std::ops::Deref for ScenarioError {
    type Target = Detail;
    fn deref(&self) -> &Detail {
        &self.0
    }
}

impl std::ops::DerefMut for ScenarioError {
    fn deref_mut(&mut self) -> &mut Detail {
        &mut self.0
    }
}

impl ScenarioError {
    pub(crate) fn new(kind: ErrorKind, origin: Origin, message: impl Into<String>) -> Self {
        ScenarioError(Box::new(Detail {
            kind,
            origin,
            field: None,
            message: message.into(),
            hint: None,
            line_text: None,
        }))
    }

    pub(crate) fn io(path: &Path, err: &std::io::Error) -> Self {
        let origin = Origin::FileOnly {
            path: path.display().to_string(),
        };
        if let Some(refused) = crate::experiment::safe_fs::refusal(err) {
            let (why, hint) = refused.split();
            let e = Self::new(
                ErrorKind::Io,
                origin,
                format!("cannot read the scenario file: it {why}"),
            );
            return match hint {
                Some(h) => e.hint(h),
                None => e,
            };
        }
        let e = Self::new(
            ErrorKind::Io,
            origin,
            format!("cannot read the scenario file: {err}"),
        );
        match err.kind() {
            std::io::ErrorKind::NotFound => {
                e.hint("check the path; `microsim new MODEL FILE` writes a starter scenario")
            }
            _ => e,
        }
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The same error with the line of `text` (the scenario file's) it points at, to show.
    pub(crate) fn with_line_of(mut self, text: &str) -> Self {
        if let (Origin::File { line, .. }, None) = (&self.origin, &self.line_text) {
            self.line_text = text.lines().nth(line - 1).map(str::to_string);
        }
        self
    }

    /// The same error, saying which scenario file an override's error is about.
    pub(crate) fn in_file(mut self, path: &Path) -> Self {
        if let Origin::Override { file: f @ None, .. } = &mut self.origin {
            *f = Some(path.display().to_string());
        }
        self
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { path, line, column } => write!(f, "{path}:{line}:{column}: ")?,
            Origin::FileOnly { path } => write!(f, "{path}: ")?,
            Origin::Override {
                via,
                text,
                file: Some(path),
            } => write!(f, "{path}: {via} {text}: ")?,
            Origin::Override {
                via,
                text,
                file: None,
            } => write!(f, "{via} {text}: ")?,
        }
        f.write_str(&self.message)?;
        if let (Origin::File { line, column, .. }, Some(text)) = (&self.origin, &self.line_text) {
            write_snippet(f, *line, *column, text)?;
        }
        if let Some(field) = &self.field {
            write!(f, "\n  field: {field}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// The line, numbered, with carets under the word at `column` (1-based, in characters):
///
/// ```text
///    |
///  9 | width = 2147483648
///    | ^^^^^
/// ```
fn write_snippet(
    f: &mut fmt::Formatter<'_>,
    line: usize,
    column: usize,
    text: &str,
) -> fmt::Result {
    const LONGEST: usize = 200;
    let shown: String = text.chars().take(LONGEST).collect();
    let shown = shown.trim_end();
    let gutter = line.to_string().len();
    let skip = column.saturating_sub(1);
    let word = shown
        .chars()
        .skip(skip)
        .take_while(|c| !c.is_whitespace())
        .count()
        .max(1);
    let pad = " ".repeat(gutter);
    let lead: String = shown
        .chars()
        .take(skip)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    write!(
        f,
        "\n{pad} |\n{line} | {shown}\n{pad} | {lead}{}",
        "^".repeat(word)
    )
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offending_line_is_shown_with_a_caret() {
        let text = "[model]\nrobots = -5\n";
        let e = ScenarioError::new(
            ErrorKind::Invalid,
            Origin::File {
                path: "a.toml".into(),
                line: 2,
                column: 10,
            },
            "`robots` must be positive",
        )
        .field("model.robots")
        .with_line_of(text);
        assert_eq!(
            e.to_string(),
            "a.toml:2:10: `robots` must be positive\n  |\n2 | robots = -5\n  |          ^^\n  field: model.robots"
        );
    }

    #[test]
    fn line_and_column_are_one_based() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(line_column(t, 0), (1, 1));
        assert_eq!(line_column(t, 6), (2, 1));
        assert_eq!(line_column(t, 9), (2, 3)); // after the two-byte 'é'
    }
}
