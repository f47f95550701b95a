//! Datasets named by a spec string, as on the command line (`--data digits`, `--data csv:x.csv`).
//!
//! | spec | dataset |
//! |---|---|
//! | `digits`, `iris`, `wine` | the embedded sets ([`crate::embedded`]) |
//! | `csv:PATH` | [`crate::load_csv`] with default options |
//! | `csv:PATH(label=0, regression=true, header=auto, skip=1, delimiter=semicolon)` | with options |
//! | `csv(path=train.csv, ...)` | the same, with a path that is a bare word |
//! | `mixture(...)`, `teacher(...)`, `gaussian(...)` | a seeded synthetic draw ([`crate::generators`]) |
//!
//! The short form keeps everything after the colon up to `(`, `,` or `)`, so a path with those
//! characters cannot be written as a spec; load such files with [`crate::load_csv`] directly.
//! Every source is one arm of [`from_spec`] and one row of [`DATASETS`]; loaders for more file
//! formats (IDX, CIFAR binary, NPY) slot in the same way.

use descent_core::{Error, Result, Spec};

use crate::csv::{CsvOptions, HeaderMode, TargetKind, load_csv};
use crate::dataset::Dataset;
use crate::embedded;
use crate::generators::{self, GENERATORS};

/// Every dataset source by spec name, with a one-line description (for `descent list`).
pub const DATASETS: &[(&str, &str)] = &[
    (
        "digits",
        "UCI handwritten digits (embedded): 1797 8x8 images, grey levels 0..16, 10 classes",
    ),
    (
        "iris",
        "Fisher's iris (embedded): 150 flowers, 4 measurements, 3 classes",
    ),
    (
        "wine",
        "UCI wine (embedded): 178 wines, 13 chemical measurements, 3 classes",
    ),
    (
        "csv",
        "a numeric CSV file, csv:PATH[(label=-1, regression=false, header=auto|true|false, \
         skip=0, delimiter=comma|semicolon|tab)]",
    ),
    GENERATORS[0],
    GENERATORS[1],
    GENERATORS[2],
];

/// Parses `text` as a spec and builds the dataset it names.
pub fn load(text: &str) -> Result<Dataset> {
    from_spec(&Spec::parse(text)?)
}

/// Builds the dataset a spec names (see the module docs for the forms).
pub fn from_spec(spec: &Spec) -> Result<Dataset> {
    match spec.name.as_str() {
        "digits" => embedded_set(spec, embedded::digits),
        "iris" => embedded_set(spec, embedded::iris),
        "wine" => embedded_set(spec, embedded::wine),
        "csv" => csv_source(spec),
        "mixture" | "teacher" | "gaussian" => generators::dataset_from_spec(spec),
        other => Err(Error::unknown_name(
            "dataset",
            other,
            &DATASETS.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        )),
    }
}

/// An embedded set takes neither a short form nor arguments.
fn embedded_set(spec: &Spec, build: fn() -> Result<Dataset>) -> Result<Dataset> {
    if let Some(short) = &spec.short {
        return Err(Error::invalid(
            format!("dataset '{}'", spec.name),
            format!("'{}:{short}'", spec.name),
            format!("just '{}' (an embedded dataset takes no path)", spec.name),
        ));
    }
    spec.args(&[])?;
    build()
}

/// `csv:PATH(...)` or `csv(path=..., ...)`.
fn csv_source(spec: &Spec) -> Result<Dataset> {
    let args = spec.args(&["path", "label", "regression", "header", "skip", "delimiter"])?;
    let path = match (&spec.short, args.spec("path")?) {
        (Some(p), None) => p.clone(),
        (None, Some(p)) => p.to_string(),
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "csv.path",
                "both csv:PATH and path=...",
                "one of them",
            ));
        }
        (None, None) => {
            return Err(Error::invalid(
                "csv.path",
                "nothing",
                "a file path: csv:PATH or csv(path=...)",
            ));
        }
    };
    let label = match args.f64_opt("label")? {
        None => -1,
        Some(x) if x.fract() == 0.0 && x.abs() < 1e9 => x as isize,
        Some(x) => {
            return Err(Error::invalid(
                "csv.label",
                x,
                "a column index (negative counts from the end)",
            ));
        }
    };
    let targets = if args.bool("regression", false)? {
        TargetKind::Regression
    } else {
        TargetKind::Auto
    };
    let header = match args
        .choice("header", "auto", &["auto", "true", "false"])?
        .as_str()
    {
        "true" => HeaderMode::Present,
        "false" => HeaderMode::Absent,
        _ => HeaderMode::Auto,
    };
    let delimiter = match args
        .choice("delimiter", "comma", &["comma", "semicolon", "tab"])?
        .as_str()
    {
        "semicolon" => b';',
        "tab" => b'\t',
        _ => b',',
    };
    let options = CsvOptions {
        label,
        header,
        targets,
        skip_rows: args.usize("skip", 0)?,
        delimiter,
    };
    load_csv(path, &options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let e = load("mnist").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown dataset 'mnist'; valid: digits, iris, wine, csv, mixture, teacher, gaussian"
        );
        assert!(
            load("iris(scale=1)")
                .unwrap_err()
                .to_string()
                .contains("unknown key")
        );
        assert!(load("iris:x").is_err());
        assert!(load("csv").unwrap_err().to_string().contains("csv.path"));
        assert!(
            load("csv:a.csv(label=0.5)")
                .unwrap_err()
                .to_string()
                .contains("csv.label")
        );
    }

    #[test]
    fn every_listed_name_dispatches() {
        for (name, _) in DATASETS {
            if let Err(Error::UnknownName { .. }) = from_spec(&Spec::named(name)) {
                panic!("{name} is listed but not dispatched");
            }
        }
        assert_eq!(load("wine").unwrap().len(), 178);
    }
}
