//! A loader for numeric CSV files: one sample per row, feature columns and one label column.
//!
//! Rules (what `load_csv` does, in order):
//!
//! - **Skipped rows.** The first [`CsvOptions::skip_rows`] records are ignored (e.g. a metadata
//!   line). Blank lines are never records.
//! - **Label column.** [`CsvOptions::label`] picks it: `0` is the first column, `-1` (the default)
//!   the last, `-2` the one before it, and so on. Every other column is a feature.
//! - **Header.** With [`HeaderMode::Auto`] (the default) the first remaining line is a header if
//!   at least one of its *feature* cells does not parse as a number (so `x1,x2,y` is a header and
//!   `1.5,2,0` is data; the label cell is not consulted, because a numeric label column may be
//!   called anything). [`HeaderMode::Present`] / [`HeaderMode::Absent`] override the guess.
//! - **Targets.** With [`TargetKind::Auto`] the labels are classes when every label cell is a
//!   whole number `>= 0` (`n_classes` = largest label + 1), else one real target per row. A
//!   regression target that happens to be integer-valued (counts, ages) needs
//!   [`TargetKind::Regression`]; [`TargetKind::Classes`] makes non-class labels an error.
//! - **Errors.** A cell that is empty, not a number, NaN or infinite is an error naming the file,
//!   the line and column (both 1-based, counted in the file as written) and the offending text;
//!   a row with a different number of cells than the first data row is an error naming the line
//!   and both counts; a file without data rows is an error.

use std::path::Path;

use descent_core::{Error, Result};

use crate::dataset::{Dataset, Targets};

/// Whether the first (non-skipped) line is a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderMode {
    /// A header when one of its feature cells is not a number (see the module docs).
    #[default]
    Auto,
    /// The first line is a header, whatever it holds.
    Present,
    /// The first line is data.
    Absent,
}

/// How the label column becomes [`Targets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetKind {
    /// Classes when every label is a whole number `>= 0`, else real targets.
    #[default]
    Auto,
    /// Class labels; a label that is not a whole number `>= 0` is an error.
    Classes,
    /// One real target per row, even when every label is an integer.
    Regression,
}

/// Options of [`load_csv`]; `CsvOptions::default()` reads a comma-separated file whose last
/// column is the label, guessing the header and the target kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Index of the label column; negative counts from the end (`-1` is the last column).
    pub label: isize,
    /// Header detection.
    pub header: HeaderMode,
    /// Classes, regression or a guess.
    pub targets: TargetKind,
    /// Records to ignore at the start of the file (before header detection).
    pub skip_rows: usize,
    /// The cell separator (`b','`, `b';'`, `b'\t'`).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            label: -1,
            header: HeaderMode::Auto,
            targets: TargetKind::Auto,
            skip_rows: 0,
            delimiter: b',',
        }
    }
}

/// Loads a numeric CSV file into a [`Dataset`] named `csv:PATH` (rules in the module docs).
///
/// # Errors
///
/// A file that cannot be read, or text that does not parse by the rules (the error names the file, line and column).
pub fn load_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Dataset> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file_name = path.display().to_string();
    parse_csv(&bytes, &file_name, &format!("csv:{file_name}"), options)
}

/// Parses CSV text held in memory; `file` names the source in error messages and `name` becomes
/// the dataset's name. [`load_csv`] and the embedded datasets both go through here.
///
/// # Errors
///
/// Text that does not parse by the rules (the error names `file`, the line and the column).
pub fn parse_csv(bytes: &[u8], file: &str, name: &str, options: &CsvOptions) -> Result<Dataset> {
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .delimiter(options.delimiter)
        .from_reader(bytes);
    let mut lines = LineCounter::new(bytes);

    let mut features = Vec::new();
    let mut labels: Vec<(f64, u64)> = Vec::new(); // (value, line) for the target decision
    let mut expected: Option<(usize, u64)> = None; // (cells per row, line it was set on)
    let mut label_col = 0usize;
    let mut last_line = 0u64;
    let mut record = ::csv::StringRecord::new();
    let mut index = 0usize;

    loop {
        match rdr.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e
                    .position()
                    .map_or(last_line + 1, |p| lines.line_at(p.byte()));
                return Err(match e.kind() {
                    ::csv::ErrorKind::Utf8 { err, .. } => Error::data(
                        file,
                        format!("line {line}, column {}", err.field() + 1),
                        "not UTF-8 text (save the file as UTF-8 or ASCII)",
                    ),
                    _ => Error::data(file, format!("line {line}"), e.to_string()),
                });
            }
        }
        let line = record
            .position()
            .map_or(last_line + 1, |p| lines.line_at(p.byte()));
        last_line = line;
        index += 1;
        if index <= options.skip_rows {
            continue;
        }
        let cells = record.len();
        let Some((width, first_line)) = expected else {
            // first row after the skipped ones: fixes the width and the label column
            label_col = resolve_label(options.label, cells, file, line)?;
            expected = Some((cells, line));
            let is_header = match options.header {
                HeaderMode::Present => true,
                HeaderMode::Absent => false,
                HeaderMode::Auto => record
                    .iter()
                    .enumerate()
                    .any(|(c, t)| c != label_col && t.parse::<f64>().is_err()),
            };
            if !is_header {
                push_row(&record, label_col, file, line, &mut features, &mut labels)?;
            }
            continue;
        };
        if cells != width {
            return Err(Error::data(
                file,
                format!("line {line}"),
                format!("expected {width} cells (as on line {first_line}), found {cells}"),
            ));
        }
        push_row(&record, label_col, file, line, &mut features, &mut labels)?;
    }

    let Some((width, first_line)) = expected else {
        return Err(Error::data(
            file,
            format!("line {}", last_line + 1),
            "the file has no rows",
        ));
    };
    if labels.is_empty() {
        return Err(Error::data(
            file,
            format!("line {}", first_line + 1),
            "no data rows after the header",
        ));
    }

    let is_class = |x: f64| x >= 0.0 && x.fract() == 0.0 && x < u32::MAX as f64;
    let classes = match options.targets {
        TargetKind::Regression => false,
        TargetKind::Auto => labels.iter().all(|&(x, _)| is_class(x)),
        TargetKind::Classes => {
            if let Some(&(x, line)) = labels.iter().find(|&&(x, _)| !is_class(x)) {
                return Err(Error::data(
                    file,
                    format!("line {line}, column {}", label_col + 1),
                    format!("class label {x} is not a whole number >= 0"),
                ));
            }
            true
        }
    };
    let targets = if classes {
        let labels: Vec<usize> = labels.iter().map(|&(x, _)| x as usize).collect();
        let n_classes = labels.iter().max().map_or(0, |m| m + 1);
        Targets::Classes { labels, n_classes }
    } else {
        Targets::Real {
            values: labels.iter().map(|&(x, _)| x).collect(),
            dim: 1,
        }
    };
    Dataset::new(name, features, width - 1, targets)
}

/// 1-based line numbers from byte offsets. The csv crate's own line count skips blank lines
/// (csv-core 0.1), and a record's byte offset points just past the previous record, before any
/// blank lines; so the offset is moved past line breaks and the `\n` before it are counted.
/// Offsets only grow while reading, so the scan is linear overall.
struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            pos: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, byte: u64) -> u64 {
        let mut target = (byte as usize).min(self.bytes.len());
        while target < self.bytes.len() && matches!(self.bytes[target], b'\n' | b'\r') {
            target += 1;
        }
        if target < self.pos {
            // not expected (offsets grow), but stay correct: count from the start
            self.pos = 0;
            self.line = 1;
        }
        let newlines = self.bytes[self.pos..target]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += newlines as u64;
        self.pos = target;
        self.line
    }
}

/// The 0-based label column for a possibly negative index, or an error when it is out of range
/// or leaves no feature column.
fn resolve_label(label: isize, cells: usize, file: &str, line: u64) -> Result<usize> {
    if cells < 2 {
        return Err(Error::data(
            file,
            format!("line {line}"),
            format!("found {cells} cell(s); need at least one feature column and a label column"),
        ));
    }
    let n = cells as isize;
    let col = if label < 0 { n + label } else { label };
    if !(0..n).contains(&col) {
        return Err(Error::invalid(
            "label",
            label,
            format!(
                "a column index in {}..{} for {file} ({cells} columns)",
                -n, n
            ),
        ));
    }
    Ok(col as usize)
}

/// Parses one data row into the feature buffer and the label list.
fn push_row(
    record: &::csv::StringRecord,
    label_col: usize,
    file: &str,
    line: u64,
    features: &mut Vec<f64>,
    labels: &mut Vec<(f64, u64)>,
) -> Result<()> {
    for (c, text) in record.iter().enumerate() {
        let x = parse_cell(text).map_err(|why| {
            Error::data(
                file,
                format!("line {line}, column {}", c + 1),
                format!("{why}: '{text}'"),
            )
        })?;
        if c == label_col {
            labels.push((x, line));
        } else {
            features.push(x);
        }
    }
    Ok(())
}

/// A finite number, or why the cell is not one.
fn parse_cell(text: &str) -> std::result::Result<f64, &'static str> {
    if text.is_empty() {
        return Err("empty cell");
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err("not a finite number"),
        Err(_) => Err("not a number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, options: &CsvOptions) -> Result<Dataset> {
        parse_csv(text.as_bytes(), "t.csv", "t", options)
    }

    #[test]
    fn label_index_counts_from_either_end() {
        let d = parse(
            "1,2,3\n4,5,6\n",
            &CsvOptions {
                label: -3,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(d.features, vec![2.0, 3.0, 5.0, 6.0]);
        assert_eq!(d.n_classes(), Some(5));
        let e = parse(
            "1,2,3\n",
            &CsvOptions {
                label: 3,
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("'label'") && e.contains("-3..3"), "{e}");
    }

    #[test]
    fn skipped_rows_keep_file_line_numbers() {
        let e = parse(
            "meta,data\n1,2\n\n3,x\n",
            &CsvOptions {
                skip_rows: 1,
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "t.csv:line 4, column 2: not a number: 'x'");
        let e = parse("a,y\r\n\r\n1,0\r\n\r\n\n2,1,3\r\n", &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.csv:line 6: expected 2 cells (as on line 1), found 3");
    }

    #[test]
    fn forced_classes_reject_fractional_labels() {
        let e = parse(
            "1,0\n2,1.5\n",
            &CsvOptions {
                targets: TargetKind::Classes,
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 2, column 2"), "{e}");
    }
}
