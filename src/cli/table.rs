//! Text tables for the terminal: every column as wide as its widest cell (a long metric name
//! widens its column instead of pushing the row out of line), the first column left-aligned,
//! the others right-aligned, two spaces between.

use std::io::{self, Write};

/// A table: a header row, then rows of the same number of cells.
pub(crate) struct Table {
    rows: Vec<Vec<String>>,
    /// Columns aligned left (by default only the first).
    left: Vec<usize>,
}

impl Table {
    /// A table with this header.
    pub(crate) fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            rows: vec![header.into_iter().map(Into::into).collect()],
            left: vec![0],
        }
    }

    /// Aligns column `k` left as well.
    pub(crate) fn left(mut self, k: usize) -> Self {
        self.left.push(k);
        self
    }

    /// Adds a row.
    pub(crate) fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The width of each column, in characters.
    fn widths(&self) -> Vec<usize> {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        (0..cols)
            .map(|k| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(k))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// Writes it, one line per row, without trailing spaces.
    pub(crate) fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let widths = self.widths();
        for row in &self.rows {
            let mut line = String::new();
            for (k, cell) in row.iter().enumerate() {
                if k > 0 {
                    line.push_str("  ");
                }
                let pad = widths[k].saturating_sub(cell.chars().count());
                if self.left.contains(&k) {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                } else {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_cell() {
        let mut t = Table::new(["metric", "mean"]);
        t.row(["a_very_long_metric_name_indeed", "1"]);
        t.row(["x", "1,234.5"]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "metric                             mean");
        assert_eq!(lines[1], "a_very_long_metric_name_indeed        1");
        assert_eq!(lines[2], "x                               1,234.5");
    }
}
