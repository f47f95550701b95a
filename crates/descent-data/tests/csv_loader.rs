//! The CSV loader on small files written by the tests: header detection, label column, target
//! kinds, and every error naming file, line, column and the offending text.

use std::io::Write;

use descent_core::Error;
use descent_data::{CsvOptions, HeaderMode, TargetKind, Targets, load_csv, load_dataset};
use tempfile::NamedTempFile;

fn file(text: &str) -> NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.flush().unwrap();
    f
}

fn path_of(f: &NamedTempFile) -> String {
    f.path().display().to_string()
}

/// Loads with default options and returns the error message, checking it is an `Error::Data`
/// that starts with the file's path.
fn data_error(text: &str, options: &CsvOptions) -> String {
    let f = file(text);
    let e = load_csv(f.path(), options).unwrap_err();
    assert!(matches!(e, Error::Data { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("{}:", path_of(&f))), "{msg}");
    msg
}

#[test]
fn header_is_detected_from_feature_cells() {
    let f = file("x1,x2,class\n1.5,2,0\n-3,4e-1,2\n");
    let d = load_csv(f.path(), &CsvOptions::default()).unwrap();
    assert_eq!((d.len(), d.n_features), (2, 2));
    assert_eq!(d.features, vec![1.5, 2.0, -3.0, 0.4]);
    assert_eq!(
        d.targets,
        Targets::Classes {
            labels: vec![0, 2],
            n_classes: 3
        }
    );
    assert_eq!(d.name, format!("csv:{}", path_of(&f)));

    // all-numeric first line: data, not a header
    let f = file("1,2,1\n3,4,0\n");
    let d = load_csv(f.path(), &CsvOptions::default()).unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d.row(0), &[1.0, 2.0]);

    // a non-numeric label name alone does not make a header under Auto ...
    let msg = data_error("1,2,label\n3,4,0\n", &CsvOptions::default());
    assert!(
        msg.contains("line 1, column 3") && msg.contains("'label'"),
        "{msg}"
    );
    // ... but an explicit header mode does
    let present = CsvOptions {
        header: HeaderMode::Present,
        ..Default::default()
    };
    let f = file("1,2,label\n3,4,0\n");
    assert_eq!(load_csv(f.path(), &present).unwrap().row(0), &[3.0, 4.0]);
}

#[test]
fn label_column_option_and_negative_indices() {
    let f = file("y,a,b\n1,10,20\n0,30,40\n1,50,60\n");
    let first = CsvOptions {
        label: 0,
        ..Default::default()
    };
    let d = load_csv(f.path(), &first).unwrap();
    assert_eq!(d.features, vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
    assert_eq!(d.n_classes(), Some(2));
    let minus_three = CsvOptions {
        label: -3,
        ..Default::default()
    };
    assert_eq!(load_csv(f.path(), &minus_three).unwrap(), d);
    // via a spec
    let spec = format!("csv:{}(label=0)", path_of(&f));
    assert_eq!(load_dataset(&spec).unwrap(), d);
}

#[test]
fn real_targets_when_labels_are_not_classes_or_when_forced() {
    let f = file("a,y\n1,0.5\n2,-1\n3,2\n");
    let d = load_csv(f.path(), &CsvOptions::default()).unwrap();
    assert_eq!(
        d.targets,
        Targets::Real {
            values: vec![0.5, -1.0, 2.0],
            dim: 1
        }
    );
    assert_eq!(d.n_outputs(), 1);

    let f = file("a,y\n1,3\n2,0\n");
    let auto = load_csv(f.path(), &CsvOptions::default()).unwrap();
    assert_eq!(auto.n_classes(), Some(4));
    let regression = CsvOptions {
        targets: TargetKind::Regression,
        ..Default::default()
    };
    let forced = load_csv(f.path(), &regression).unwrap();
    assert_eq!(
        forced.targets,
        Targets::Real {
            values: vec![3.0, 0.0],
            dim: 1
        }
    );
    let spec = format!("csv:{}(regression=true)", path_of(&f));
    assert_eq!(load_dataset(&spec).unwrap().targets, forced.targets);
}

#[test]
fn semicolons_and_skipped_rows() {
    let f = file("# exported 2024\na;b;y\n1;2;0\n");
    let spec = format!("csv:{}(skip=1, delimiter=semicolon)", path_of(&f));
    let d = load_dataset(&spec).unwrap();
    assert_eq!((d.row(0), d.n_classes()), (&[1.0, 2.0][..], Some(1)));
}

#[test]
fn malformed_cells_name_file_line_column_and_text() {
    let o = CsvOptions::default();
    let msg = data_error("a,b,y\n1,2,0\n3,abc,1\n", &o);
    assert!(
        msg.ends_with("line 3, column 2: not a number: 'abc'"),
        "{msg}"
    );
    let msg = data_error("1,2,0\n,4,1\n", &o);
    assert!(msg.ends_with("line 2, column 1: empty cell: ''"), "{msg}");
    let msg = data_error("1,2,0\n3,NaN,1\n", &o);
    assert!(
        msg.ends_with("line 2, column 2: not a finite number: 'NaN'"),
        "{msg}"
    );
    let msg = data_error("1,2,0\n3,4,1\n5,6,inf\n", &o);
    assert!(
        msg.ends_with("line 3, column 3: not a finite number: 'inf'"),
        "{msg}"
    );
}

#[test]
fn ragged_rows_name_line_and_cell_counts() {
    let msg = data_error("a,b,y\n1,2,0\n3,4\n", &CsvOptions::default());
    assert!(
        msg.ends_with("line 3: expected 3 cells (as on line 1), found 2"),
        "{msg}"
    );
    let msg = data_error("1,2,0\n3,4,1,9\n", &CsvOptions::default());
    assert!(
        msg.ends_with("line 2: expected 3 cells (as on line 1), found 4"),
        "{msg}"
    );
}

#[test]
fn empty_files_and_header_only_files_are_errors() {
    let msg = data_error("", &CsvOptions::default());
    assert!(msg.contains("the file has no rows"), "{msg}");
    let msg = data_error("\n\n", &CsvOptions::default());
    assert!(msg.contains("the file has no rows"), "{msg}");
    let msg = data_error("a,b,y\n", &CsvOptions::default());
    assert!(
        msg.contains("line 2: no data rows after the header"),
        "{msg}"
    );
    let msg = data_error("5\n6\n", &CsvOptions::default());
    assert!(msg.contains("line 1: found 1 cell(s)"), "{msg}");
}

#[test]
fn missing_files_are_io_errors_naming_the_path() {
    let e = load_csv("/nonexistent/x.csv", &CsvOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
    assert!(e.to_string().starts_with("/nonexistent/x.csv: "), "{e}");
}
