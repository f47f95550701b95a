//! Three small real datasets compiled into the binary, so examples, tests and quick presets need
//! no download: `digits` (1797 × 64, 10 classes), `iris` (150 × 4, 3 classes) and `wine`
//! (178 × 13, 3 classes).
//!
//! Attribution: all three come from the UCI Machine Learning Repository and are used under
//! CC BY 4.0 — Alpaydin & Kaynak, "Optical Recognition of Handwritten Digits"; Fisher, "Iris";
//! Aeberhard & Forina, "Wine" — in the CSV layout that scikit-learn ships. The licence note is
//! kept next to the files in `crates/descent-data/data/ATTRIBUTION.md`.
//!
//! Features are the raw values (digits: grey levels 0..16); standardize with
//! [`crate::Standardizer`] fitted on a training split. Each set is parsed once per process and
//! cloned afterwards.

use std::io::Read;
use std::sync::OnceLock;

use descent_core::{Error, Result};

use crate::csv::{CsvOptions, HeaderMode, TargetKind, parse_csv};
use crate::dataset::Dataset;

const DIGITS_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
const IRIS_CSV: &[u8] = include_bytes!("../data/iris.csv");
const WINE_CSV: &[u8] = include_bytes!("../data/wine_data.csv");

/// UCI optical recognition of handwritten digits: 1797 8×8 images, grey levels 0..16, labels
/// 0..9 (no header; gzip-compressed in the binary).
///
/// # Errors
///
/// Only if the embedded file is damaged (it is checked for 1797 × 64 and 10 classes).
pub fn digits() -> Result<Dataset> {
    static CACHE: OnceLock<Result<Dataset>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(DIGITS_GZ)
                .read_to_end(&mut text)
                .map_err(|e| Error::data("digits.csv.gz", "gzip stream", e.to_string()))?;
            let d = parse_csv(&text, "digits.csv.gz", "digits", &class_options(0))?;
            check_shape(&d, "digits.csv.gz", 1797, 64, 10)?;
            Ok(d)
        })
        .clone()
}

/// Fisher's iris: 150 flowers, 4 measurements in cm, 3 species (setosa, versicolor, virginica).
///
/// # Errors
///
/// Only if the embedded file is damaged.
pub fn iris() -> Result<Dataset> {
    static CACHE: OnceLock<Result<Dataset>> = OnceLock::new();
    CACHE
        .get_or_init(|| parse_with_metadata(IRIS_CSV, "iris.csv", "iris"))
        .clone()
}

/// UCI wine: 178 wines, 13 chemical measurements, 3 cultivars.
///
/// # Errors
///
/// Only if the embedded file is damaged.
pub fn wine() -> Result<Dataset> {
    static CACHE: OnceLock<Result<Dataset>> = OnceLock::new();
    CACHE
        .get_or_init(|| parse_with_metadata(WINE_CSV, "wine_data.csv", "wine"))
        .clone()
}

/// CSV options for the embedded files: no header, integer class labels in the last column.
fn class_options(skip_rows: usize) -> CsvOptions {
    CsvOptions {
        header: HeaderMode::Absent,
        targets: TargetKind::Classes,
        skip_rows,
        ..CsvOptions::default()
    }
}

/// Parses scikit-learn's layout: a first line `n_samples,n_features,class names...`, then rows.
/// The parsed shape is checked against that metadata line.
fn parse_with_metadata(bytes: &[u8], file: &str, name: &str) -> Result<Dataset> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| Error::data(file, "line 1", e.to_string()))?;
    let meta: Vec<&str> = text
        .lines()
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .collect();
    let number = |i: usize, what: &str| -> Result<usize> {
        meta.get(i).and_then(|s| s.parse().ok()).ok_or_else(|| {
            Error::data(
                file,
                format!("line 1, column {}", i + 1),
                format!("expected {what} in the metadata line"),
            )
        })
    };
    let n_samples = number(0, "n_samples")?;
    let n_features = number(1, "n_features")?;
    let n_classes = meta.len().saturating_sub(2);
    let d = parse_csv(bytes, file, name, &class_options(1))?;
    check_shape(&d, file, n_samples, n_features, n_classes)?;
    Ok(d)
}

/// The parsed dataset has the documented shape (guards against a damaged data file).
fn check_shape(
    d: &Dataset,
    file: &str,
    n: usize,
    n_features: usize,
    n_classes: usize,
) -> Result<()> {
    let got = (d.len(), d.n_features, d.n_classes());
    if got != (n, n_features, Some(n_classes)) {
        return Err(Error::shape(
            format!("embedded {file}"),
            format!("{n} samples × {n_features} features, {n_classes} classes"),
            format!(
                "{} samples × {} features, {:?} classes",
                got.0, got.1, got.2
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_mismatch_is_reported() {
        let e = parse_with_metadata(b"3,2,a,b\n1,2,0\n3,4,1\n", "x.csv", "x").unwrap_err();
        assert!(
            e.to_string().contains("3 samples × 2 features, 2 classes"),
            "{e}"
        );
        let e = parse_with_metadata(b"n,2,a\n1,2,0\n", "x.csv", "x").unwrap_err();
        assert!(e.to_string().contains("x.csv:line 1, column 1"), "{e}");
    }
}
