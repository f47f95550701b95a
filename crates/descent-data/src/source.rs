//! Datasets named by a spec string, as on the command line (`--data digits`, `--data csv:x.csv`).
//!
//! | spec | dataset |
//! |---|---|
//! | `digits`, `iris`, `wine` | the embedded sets ([`crate::embedded`]) |
//! | `csv:PATH` | [`crate::load_csv`] with default options |
//! | `csv:PATH(label=0, regression=true, header=auto, skip=1, delimiter=semicolon)` | with options |
//! | `csv(path=train.csv, ...)` | the same, with a path that is a bare word |
//! | `mixture(...)`, `teacher(...)`, `gaussian(...)` | a seeded synthetic draw ([`crate::generators`]) |
//! | `idx:DIR(classes=10)` | MNIST/Fashion-MNIST IDX files, `t10k-…` as the test split ([`crate::idx`]) |
//! | `cifar10:DIR` | CIFAR-10 binary batches, `test_batch.bin` as the test split ([`crate::cifar`]) |
//! | `npy:X.npy,Y.npy(classes=10, regression=false)` | NumPy arrays ([`crate::npy`]) |
//!
//! [`load_source`] also returns a source's predefined test split (`idx`, `cifar10`), which
//! `descent train` uses instead of a random split; [`load`] returns the training part only.
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
    (
        "idx",
        "MNIST/Fashion-MNIST IDX files in a directory, idx:DIR[(classes=10)]: \
         train-images-idx3-ubyte, train-labels-idx1-ubyte (.gz or not); t10k-* is the test split",
    ),
    (
        "cifar10",
        "CIFAR-10 binary batches, cifar10:DIR (data_batch_1..5.bin; test_batch.bin is the test \
         split)",
    ),
    (
        "npy",
        "NumPy arrays, npy:X.npy,Y.npy[(classes=K, regression=false)] (f4/f8/integer, C order)",
    ),
];

/// A dataset and, when the source defines one, its predefined test split.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSource {
    /// The dataset (the training part when a test split exists).
    pub train: Dataset,
    /// The source's own test split (MNIST's t10k, CIFAR's test_batch), if any.
    pub test: Option<Dataset>,
}

/// Parses `text` as a spec and loads the source with its predefined test split, if any.
///
/// # Errors
///
/// Text that is not a spec, an unknown source, or a source that does not load.
pub fn load_source(text: &str) -> Result<DataSource> {
    source_from_spec(&parse_source_spec(text)?)
}

/// Like [`from_spec`], keeping a predefined test split.
///
/// # Errors
///
/// An unknown source or key, or a source that does not load.
pub fn source_from_spec(spec: &Spec) -> Result<DataSource> {
    match spec.name.as_str() {
        "idx" => {
            let args = spec.args(&["classes"])?;
            let dir = short_path(spec, "DIR")?;
            let (train, test) = crate::idx::load_idx_dir(dir, positive_classes(&args, 10)?)?;
            Ok(DataSource { train, test })
        }
        "cifar10" => {
            spec.args(&[])?;
            let (train, test) = crate::cifar::load_cifar10_dir(short_path(spec, "DIR")?)?;
            Ok(DataSource { train, test })
        }
        _ => Ok(DataSource {
            train: from_spec(spec)?,
            test: None,
        }),
    }
}

/// `npy:X.npy,Y.npy(...)` has a comma in its short form, which the spec grammar ends the short
/// form at; it is parsed here as `npy(...)` with the short form `X.npy,Y.npy`.
fn parse_source_spec(text: &str) -> Result<Spec> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix("npy:") {
        let (paths, opts) = match rest.find('(') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let mut spec = Spec::parse(&format!("npy{opts}"))?;
        spec.short = Some(paths.trim().to_string());
        return Ok(spec);
    }
    Spec::parse(t)
}

fn short_path<'a>(spec: &'a Spec, what: &str) -> Result<&'a str> {
    spec.short.as_deref().ok_or_else(|| {
        Error::invalid(
            format!("{}.path", spec.name),
            "nothing",
            format!("{}:{what}", spec.name),
        )
    })
}

fn positive_classes(args: &descent_core::Args<'_>, default: usize) -> Result<usize> {
    let c = args.usize("classes", default)?;
    if c == 0 {
        return Err(Error::invalid("classes", 0, "an integer >= 1"));
    }
    Ok(c)
}

/// `npy:X.npy,Y.npy(classes=K, regression=true)`.
fn npy_source(spec: &Spec) -> Result<Dataset> {
    let args = spec.args(&["classes", "regression"])?;
    let paths = short_path(spec, "X.npy,Y.npy")?;
    let Some((x, y)) = paths.split_once(',') else {
        return Err(Error::invalid(
            "npy.path",
            paths,
            "two files, npy:X.npy,Y.npy (features, then targets)",
        ));
    };
    let options = crate::npy::NpyOptions {
        classes: if args.has("classes") {
            Some(positive_classes(&args, 1)?)
        } else {
            None
        },
        regression: args.bool("regression", false)?,
    };
    crate::npy::load_npy(x.trim(), y.trim(), options)
}

/// Parses `text` as a spec and builds the dataset it names (the training part of a source with
/// a predefined test split; see [`load_source`]).
///
/// # Errors
///
/// As [`load_source`].
pub fn load(text: &str) -> Result<Dataset> {
    from_spec(&parse_source_spec(text)?)
}

/// Builds the dataset a spec names (see the module docs for the forms).
///
/// # Errors
///
/// An unknown source or key, or a source that does not load.
pub fn from_spec(spec: &Spec) -> Result<Dataset> {
    match spec.name.as_str() {
        "digits" => embedded_set(spec, embedded::digits),
        "iris" => embedded_set(spec, embedded::iris),
        "wine" => embedded_set(spec, embedded::wine),
        "csv" => csv_source(spec),
        "mixture" | "teacher" | "gaussian" => generators::dataset_from_spec(spec),
        "idx" | "cifar10" => Ok(source_from_spec(spec)?.train),
        "npy" => npy_source(spec),
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
            "unknown dataset 'mnist'; valid: digits, iris, wine, csv, mixture, teacher, gaussian, \
             idx, cifar10, npy"
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
