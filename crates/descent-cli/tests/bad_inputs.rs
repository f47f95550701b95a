//! The catalogue of bad inputs: every case runs the `descent` binary on one mistake a user can
//! make (specs, configs, data files, hyperparameter ranges, shapes, checkpoints, privacy
//! arguments) and
//! checks the exact message: it names the field or file and line, the value and what was
//! expected; the exit code is 2 (a usage error) and nothing panics. The README's
//! troubleshooting section lists the common ones.

use std::path::Path;

use assert_cmd::Command;

/// What a case expects after `error: `: the whole line, or its beginning when the rest is a
/// long list of valid names.
enum Expect {
    Line(&'static str),
    Starts(&'static str),
}
use Expect::{Line, Starts};

/// Runs `descent args...` in `dir` and checks the exit code, the absence of a panic and the
/// first `error: ` line; returns a description of what went wrong, if anything.
fn check(dir: &Path, args: &[&str], expect: &Expect) -> Option<String> {
    let out = Command::cargo_bin("descent")
        .expect("the descent binary is built")
        .current_dir(dir)
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("descent runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or("");
    let ok = match expect {
        Line(e) => line == *e,
        Starts(e) => line.starts_with(e),
    };
    let why = if stderr.contains("panicked") {
        "it panicked"
    } else if out.status.code() != Some(2) {
        "the exit code is not 2"
    } else if !ok {
        "the message differs"
    } else {
        return None;
    };
    let wanted = match expect {
        Line(e) | Starts(e) => e,
    };
    Some(format!(
        "descent {args:?}: {why} (exit {:?})\n  expected: {wanted}\n  stderr:   {stderr}",
        out.status.code()
    ))
}

/// A command line and what it must say.
type Case = (Vec<&'static str>, Expect);

/// Checks every case and reports all failures at once.
fn catalogue(dir: &Path, cases: &[Case]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(args, expect)| check(dir, args, expect))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn train(extra: &[&'static str]) -> Vec<&'static str> {
    let mut a = vec!["train", "--epochs", "1", "--out", "out"];
    a.extend_from_slice(extra);
    a
}

#[test]
fn specs_name_the_position_key_and_valid_names() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = vec![
        (
            train(&["--optimizer", "adma"]),
            Starts("unknown optimizer 'adma'; valid: sgd, adam, adamw, muon,"),
        ),
        (
            train(&["--optimizer", "adam(lr=0.1"]),
            Line(
                "cannot parse spec 'adam(lr=0.1' at column 12: expected ',' or ')', found the end of the text",
            ),
        ),
        (
            train(&["--optimizer", "adam(lrr=0.1)"]),
            Starts("unknown key 'lrr' for 'adam'; valid keys: lr, beta1, beta2, eps,"),
        ),
        (
            train(&["--optimizer", "adam(lr=1, lr=2)"]),
            Line("invalid value for 'adam.lr': got a repeated key, expected each key at most once"),
        ),
        (
            train(&["--optimizer", "adam(lr=\"x\")"]),
            Line("invalid value for 'adam.lr': got \"x\", expected a number"),
        ),
        (
            train(&["--optimizer", "sgd(lr=nan)"]),
            Line(
                "invalid value for 'sgd.lr': got nan, expected a finite number such as 0.1 or 1e-3",
            ),
        ),
        (
            train(&["--optimizer", "adäm(lr=1)"]),
            Line("cannot parse spec 'adäm(lr=1)' at column 3: unexpected trailing text, found 'ä'"),
        ),
        (
            train(&["--optimizer", "adam(lr=1é)"]),
            Line("cannot parse spec 'adam(lr=1é)' at column 10: expected ',' or ')', found 'é'"),
        ),
        (
            train(&["--optimizer", "adam(λ=1)"]),
            Line(
                "cannot parse spec 'adam(λ=1)' at column 6: expected a name starting with a letter, found 'λ'",
            ),
        ),
        (
            train(&["--model", "mlp:64-x-10"]),
            Line(
                "invalid value for 'mlp:64-x-10': got 'x', expected layer widths separated by '-', e.g. 64-128-10",
            ),
        ),
        (
            train(&["--model", "mlp:64-１２８-10"]),
            Line(
                "invalid value for 'mlp:64-１２８-10': got '１２８', expected layer widths separated by '-', e.g. 64-128-10",
            ),
        ),
        (
            train(&["--model", "mlp(act=sigmoidd)"]),
            Line(
                "invalid value for 'mlp.act': got sigmoidd, expected one of identity, linear, tanh, relu, gelu, sigmoid",
            ),
        ),
        (
            train(&["--model", "mlp(sizes=[64,10], hidden=[3])"]),
            Starts(
                "invalid value for 'mlp sizes': got mlp(sizes=[64, 10], hidden=[3]), expected exactly one of the short form (mlp:64-128-10), sizes=[...] or hidden=[...]",
            ),
        ),
        (
            train(&["--data", "digitz"]),
            Starts("unknown dataset 'digitz'; valid: digits, iris, wine, csv,"),
        ),
        (
            train(&["--loss", "hinge"]),
            Line("unknown loss 'hinge'; valid: mse, softmax-ce, logistic, auto"),
        ),
        (
            train(&[
                "--optimizer",
                "partition(groups=[group(match=\"层*\", opt=sgd)], default=adam)",
            ]),
            Starts(
                "invalid value for 'partition group match': got \"层*\", expected a glob matching a block of the layout (layer0.weight, layer0.bias,",
            ),
        ),
        (
            vec!["list", "--model", "mlp:"],
            Line("cannot parse spec 'mlp:' at column 5: expected text after ':'"),
        ),
        (
            vec!["run", "drfit"],
            Starts("unknown experiment 'drfit'; valid: drift, samosa, puf,"),
        ),
    ];
    catalogue(dir.path(), &cases);
}

#[test]
fn hyperparameter_ranges_and_shapes_name_the_value_and_the_range() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("two.csv"), "x1,x2,y\n1,2,0\n3,4,1\n5,6,0\n").unwrap();
    let cases: Vec<Case> = vec![
        (
            train(&["--optimizer", "adam(lr=-1)"]),
            Line("invalid value for 'adam.lr': got -1, expected a finite number > 0"),
        ),
        (
            train(&["--optimizer", "adam(beta1=1)"]),
            Line("invalid value for 'adam.beta1': got 1, expected a number in [0, 1)"),
        ),
        (
            train(&["--optimizer", "sam(rho=-1, base=sgd)"]),
            Line("invalid value for 'sam.rho': got -1, expected a finite number >= 0"),
        ),
        (
            train(&[
                "--optimizer",
                "chain(of=[clip_norm(max=-1), scale_by_adam])",
            ]),
            Line("invalid value for 'clip_norm.max': got -1, expected a finite number > 0"),
        ),
        (
            train(&["--test-fraction", "1.5"]),
            Line("invalid value for 'test_fraction': got 1.5, expected a number in (0, 1)"),
        ),
        (
            train(&["--batch-size", "0"]),
            Line("invalid value for 'batch_size': got 0, expected an integer >= 1"),
        ),
        (
            vec!["train", "--epochs", "0", "--out", "out"],
            Line("invalid value for 'epochs': got 0, expected an integer >= 1"),
        ),
        (
            vec![
                "compare",
                "--optimizer",
                "adam",
                "--seeds",
                "0",
                "--out",
                "out",
            ],
            Line("invalid value for '--seeds': got 0, expected an integer >= 1"),
        ),
        (
            vec![
                "compare",
                "--optimizer",
                "adam",
                "--target-accuracy",
                "1.5",
                "--out",
                "out",
            ],
            Line("invalid value for '--target-accuracy': got 1.5, expected an accuracy in (0, 1]"),
        ),
        (
            vec![
                "compare",
                "--optimizer",
                "adam",
                "--tune",
                "lr=1:0.1",
                "--out",
                "out",
            ],
            Line(
                "invalid value for '--tune': got lr=1:0.1, expected key=lo:hi:n, e.g. lr=1e-4:1e-1:7",
            ),
        ),
        (
            vec![
                "compare",
                "--optimizer",
                "adam",
                "--tune",
                "lr=1e-1:1e-4:3",
                "--out",
                "out",
            ],
            Line("invalid value for '--tune': got lr=1e-1:1e-4:3, expected 0 < lo < hi and n >= 2"),
        ),
        (
            vec!["active", "--known", "0,1,99", "--out", "out"],
            Line("invalid value for '--known': got 99, expected a class label of the data (0..=9)"),
        ),
        (
            vec!["active", "--known", "0,0", "--out", "out"],
            Line("invalid value for '--known': got class 0 twice, expected distinct class labels"),
        ),
        (
            vec!["active", "--known", "0,1", "--budget", "0", "--out", "out"],
            Line("invalid value for '--budget': got 0, expected an integer >= 1"),
        ),
        (
            train(&["--model", "mlp:32-10"]),
            Line(
                "shape mismatch in mlp input width (the data has 64 features; a single width (mlp:128) or hidden=[...] gives hidden widths only): expected 64, got 32",
            ),
        ),
        (
            train(&["--model", "softmax-regression:64-5"]),
            Line(
                "shape mismatch in softmax-regression output width (the data and loss need 10 outputs; a single width (mlp:128) or hidden=[...] gives hidden widths only): expected 10, got 5",
            ),
        ),
        (
            train(&["--data", "csv:two.csv", "--model", "mlp:3-10"]),
            Line(
                "shape mismatch in mlp input width (the data has 2 features; a single width (mlp:128) or hidden=[...] gives hidden widths only): expected 2, got 3",
            ),
        ),
        (
            train(&["--model", "mlp(sizes=[64,0,10])"]),
            Line("invalid value for 'mlp.sizes[1]': got 0, expected a layer width >= 1"),
        ),
    ];
    catalogue(dir.path(), &cases);
}

#[test]
fn configs_name_the_key_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("syntax.toml", "seeds = [1,\n");
    write("unknown.toml", "bogus = 1\n");
    write("type.toml", "seeds = \"x\"\n");
    write("cyrillic.toml", "# a comment\nключ = 1\n");
    let long = format!("seeds={}", "é".repeat(100));
    let long: &'static str = Box::leak(long.into_boxed_str());
    // the JSON text of the value, cut after 77 characters (76 of them é), never inside one
    let shown = format!(
        "invalid value for 'seeds': got \"{}..., expected an integer",
        "é".repeat(76)
    );
    let shown: &'static str = Box::leak(shown.into_boxed_str());
    let run = |extra: &[&'static str]| {
        let mut a = vec!["run", "drift", "--out", "out"];
        a.extend_from_slice(extra);
        a
    };
    let cases: Vec<Case> = vec![
        (
            run(&["--set", "seeds=x"]),
            Line("invalid value for 'seeds': got \"x\", expected an integer"),
        ),
        (
            run(&["--set", "sedes=1"]),
            Starts("unknown key 'sedes' for the config; valid keys: ae_wd, batches, burn_in,"),
        ),
        (
            run(&["--set", "seeds"]),
            Line("invalid value for '--set': got seeds, expected key=value"),
        ),
        (
            run(&["--set", "seeds=0"]),
            Line("invalid value for 'seeds': got 0, expected an integer >= 1"),
        ),
        (
            run(&["--set", "sm_tau=nan"]),
            Line("invalid value for 'sm_tau': got \"NaN\", expected a number"),
        ),
        (
            run(&["--set", "seeds.x=1"]),
            Line(
                "invalid value for 'seeds.x': got a nested key, expected a key of a table, but 'seeds' is an integer",
            ),
        ),
        (run(&["--set", long]), Line(shown)),
        (
            run(&["--set", "日本=1"]),
            Starts("unknown key '日本' for the config; valid keys: ae_wd,"),
        ),
        (
            run(&["--preset", "fast"]),
            Line("invalid value for 'preset': got fast, expected quick or full"),
        ),
        (
            run(&["--config", "syntax.toml"]),
            Line("syntax.toml:line 1, column 12: unclosed array, expected `]`"),
        ),
        (
            run(&["--config", "unknown.toml"]),
            Starts("unknown key 'bogus' for the config (in unknown.toml); valid keys: ae_wd,"),
        ),
        (
            run(&["--config", "type.toml"]),
            Line("invalid value for 'seeds (in type.toml)': got \"x\", expected an integer"),
        ),
        (
            run(&["--config", "cyrillic.toml"]),
            Line(
                "cyrillic.toml:line 2, column 1: invalid unquoted key, expected letters, numbers, `-`, `_`",
            ),
        ),
        (
            run(&["--config", "missing.toml"]),
            Line("missing.toml: No such file or directory (os error 2)"),
        ),
    ];
    catalogue(dir.path(), &cases);
}

/// An IDX file: type byte, dimensions, then `data`.
fn idx(kind: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, kind, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

/// A version-1 `.npy` file with the header dict `header` and `data`.
fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.to_string();
    while !(h.len() + 11).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.extend_from_slice(data);
    b
}

fn f64s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes the malformed data files of the two data-file catalogues into `dir`.
fn write_data_files(dir: &Path) {
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    write("word.csv", b"x1,x2,y\n1,2,0\n3,abc,1\n");
    write("ragged.csv", b"x1,x2,y\n1,2,0\n3,4,1,5\n");
    write("empty.csv", b"");
    write("header.csv", b"x1,x2,y\n");
    write("blank.csv", b"x1,x2,y\n1,,0\n");
    write("inf.csv", b"x1,x2,y\n1,inf,0\n");
    write("accent.csv", "x,y\n1,0\n2,é\n".as_bytes());
    write("latin1.csv", b"x,y\n1,0\n\xe9,1\n");
    write("three.csv", b"x1,x2,y\n1,2,0\n");
    let image = idx(8, &[2, 2, 2], &[0; 8]);
    write("labels/train-images-idx3-ubyte", &image);
    write("labels/train-labels-idx1-ubyte", &idx(8, &[2], &[0, 12]));
    write("magic/train-images-idx3-ubyte", &[1, 2, 8, 1]);
    write("magic/train-labels-idx1-ubyte", &idx(8, &[2], &[0, 1]));
    write(
        "short/train-images-idx3-ubyte",
        &idx(8, &[2, 2, 2], &[0; 5]),
    );
    write("short/train-labels-idx1-ubyte", &idx(8, &[2], &[0, 1]));
    write("cifar/data_batch_1.bin", &[0u8; 5000]);
    let mut records = vec![0u8; 2 * 3073];
    records[3073] = 11;
    write("cifar-label/data_batch_1.bin", &records);
    let x = |shape: &str| format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    write(
        "x.npy",
        &npy(
            &x("(4, 2)"),
            &f64s(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]),
        ),
    );
    write(
        "y.npy",
        &npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }",
            &i64s(&[0, 1, 0, 1]),
        ),
    );
    write(
        "y3.npy",
        &npy(
            "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
            &i64s(&[0, 1, 0]),
        ),
    );
    write(
        "fortran.npy",
        &npy(
            "{'descr': '<f8', 'fortran_order': True, 'shape': (4, 2), }",
            &[0; 64],
        ),
    );
    write(
        "complex.npy",
        &npy(
            "{'descr': '<c16', 'fortran_order': False, 'shape': (4, 2), }",
            &[0; 128],
        ),
    );
    write("short.npy", &npy(&x("(4, 2)"), &[0; 10]));
    write(
        "nan.npy",
        &npy(
            &x("(4, 2)"),
            &f64s(&[0.0, 1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0, 7.0]),
        ),
    );
    write("text.npy", b"hello world");
}

#[test]
fn csv_files_name_the_file_line_column_and_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    write_data_files(dir.path());
    let cases: Vec<Case> = vec![
        (
            train(&["--data", "csv:word.csv"]),
            Line("word.csv:line 3, column 2: not a number: 'abc'"),
        ),
        (
            train(&["--data", "csv:ragged.csv"]),
            Line("ragged.csv:line 3: expected 3 cells (as on line 1), found 4"),
        ),
        (
            train(&["--data", "csv:empty.csv"]),
            Line("empty.csv:line 1: the file has no rows"),
        ),
        (
            train(&["--data", "csv:header.csv"]),
            Line("header.csv:line 2: no data rows after the header"),
        ),
        (
            train(&["--data", "csv:blank.csv"]),
            Line("blank.csv:line 2, column 2: empty cell: ''"),
        ),
        (
            train(&["--data", "csv:inf.csv"]),
            Line("inf.csv:line 2, column 2: not a finite number: 'inf'"),
        ),
        (
            train(&["--data", "csv:accent.csv"]),
            Line("accent.csv:line 3, column 2: not a number: 'é'"),
        ),
        (
            train(&["--data", "csv:latin1.csv"]),
            Line("latin1.csv:line 3, column 1: not UTF-8 text (save the file as UTF-8 or ASCII)"),
        ),
        (
            train(&["--data", "csv:three.csv(label=5)"]),
            Line(
                "invalid value for 'label': got 5, expected a column index in -3..3 for three.csv (3 columns)",
            ),
        ),
        (
            train(&["--data", "csv:données/ü.csv"]),
            Line("données/ü.csv: No such file or directory (os error 2)"),
        ),
    ];
    catalogue(dir.path(), &cases);
}

#[test]
fn binary_files_name_the_file_byte_offset_and_the_value() {
    let dir = tempfile::tempdir().unwrap();
    write_data_files(dir.path());
    let d = |spec: &'static str| train(&["--data", spec, "--model", "mlp:2-2"]);
    let cases: Vec<Case> = vec![
        (
            train(&["--data", "idx:labels"]),
            Line("labels/train-labels-idx1-ubyte:byte 9: label 12 of sample 1 out of range 0..10"),
        ),
        (
            train(&["--data", "idx:magic"]),
            Line(
                "magic/train-images-idx3-ubyte:byte 0: bad magic 01 02: an IDX file starts with two zero bytes",
            ),
        ),
        (
            train(&["--data", "idx:short"]),
            Line(
                "short/train-images-idx3-ubyte:byte 16: wrong length: dimensions [2, 2, 2] need 8 bytes of data after the 16-byte header, found 5 (truncated)",
            ),
        ),
        (
            train(&["--data", "idx:nowhere"]),
            Line("nowhere: not a directory (idx:DIR expects the MNIST file layout)"),
        ),
        (
            train(&["--data", "cifar10:cifar"]),
            Line(
                "cifar/data_batch_1.bin:byte 3073: truncated record: 1927 bytes left, a record is 3073 bytes (1 label + 3072 pixels); the file has 5000 bytes",
            ),
        ),
        (
            train(&["--data", "cifar10:cifar-label"]),
            Line("cifar-label/data_batch_1.bin:byte 3073: label 11 of record 1 out of range 0..10"),
        ),
        (
            d("npy:x.npy,y3.npy"),
            Line(
                "y3.npy:byte 128: shape [3]; targets need shape (4,), (4, 1) or (4, k) to match the 4 samples of x.npy",
            ),
        ),
        (
            d("npy:fortran.npy,y.npy"),
            Line(
                "fortran.npy:byte 10: fortran_order is True; save the array in C order (np.ascontiguousarray)",
            ),
        ),
        (
            d("npy:complex.npy,y.npy"),
            Line(
                "complex.npy:byte 10: unsupported element type '<c16' (expected f4, f8, u1, i1, u2, i2, u4, i4, u8 or i8)",
            ),
        ),
        (
            d("npy:short.npy,y.npy"),
            Line(
                "short.npy:byte 128: wrong length: shape [4, 2] of '<f8' needs 64 bytes of data, found 10 (truncated)",
            ),
        ),
        (
            d("npy:nan.npy,y.npy"),
            Line("nan.npy:byte 152: element 3 is NaN (not a finite number)"),
        ),
        (
            d("npy:text.npy,y.npy"),
            Line("text.npy:byte 0: bad magic: a .npy file starts with \\x93NUMPY"),
        ),
        (
            d("npy:x.npy"),
            Line(
                "invalid value for 'npy.path': got x.npy, expected two files, npy:X.npy,Y.npy (features, then targets)",
            ),
        ),
        (
            d("npy:x.npy,y.npy(classes=1)"),
            Line("y.npy:byte 136: label 1 of sample 1 out of range 0..1"),
        ),
    ];
    catalogue(dir.path(), &cases);
}

#[test]
fn privacy_arguments_name_the_flag_the_value_and_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let eps = |extra: &[&'static str]| {
        let mut a = vec!["privacy", "epsilon", "--steps", "100"];
        a.extend_from_slice(extra);
        a
    };
    let noise = |extra: &[&'static str]| {
        let mut a = vec![
            "privacy",
            "noise",
            "--sampling-rate",
            "0.01",
            "--delta",
            "1e-5",
        ];
        a.extend_from_slice(extra);
        a
    };
    let q = ["--noise-multiplier", "1.1", "--sampling-rate"];
    let cases: Vec<Case> = vec![
        (
            eps(&[q[0], q[1], q[2], "1.5", "--delta", "1e-5"]),
            Line(
                "invalid value for '--sampling-rate': got 1.5, expected a sampling rate in (0, 1]",
            ),
        ),
        (
            eps(&["--noise-multiplier", "-1", q[2], "0.01", "--delta", "1e-5"]),
            Line(
                "invalid value for '--noise-multiplier[0]': got -1, expected a noise multiplier >= 0 (noise std / clipping norm)",
            ),
        ),
        (
            eps(&[q[0], q[1], q[2], "0.01", "--delta", "0"]),
            Line("invalid value for '--delta': got 0, expected a number in (0, 1)"),
        ),
        (
            eps(&[
                "--noise-multiplier",
                "1.1,0.9",
                q[2],
                "0.01",
                "--delta",
                "1e-5",
            ]),
            Line(
                "invalid value for '--noise-multiplier': got 2 values, expected 1 value or one per stage of --steps (1)",
            ),
        ),
        (
            eps(&[
                q[0],
                q[1],
                q[2],
                "0.01",
                "--delta",
                "1e-5",
                "--conversion",
                "fancy",
            ]),
            Line("unknown RDP conversion 'fancy'; valid: classic, improved"),
        ),
        (
            eps(&["--noise-multiplier", "abc", q[2], "0.01", "--delta", "1e-5"]),
            Line(
                "invalid value 'abc' for '--noise-multiplier <NOISE_MULTIPLIER>': invalid float literal",
            ),
        ),
        (
            noise(&["--epsilon", "-1", "--steps", "100"]),
            Line("invalid value for '--epsilon': got -1, expected a finite number > 0"),
        ),
        (
            noise(&["--epsilon", "1e-9", "--steps", "100"]),
            Line(
                "invalid value for '--epsilon': got 0.000000001, expected a value above 0.019489: the smallest ε that orders 2..256 certify at δ = 0.00001 (improved conversion), even with infinite noise; this target is unreachable",
            ),
        ),
        (
            noise(&["--epsilon", "1", "--noise-decay", "0", "--steps", "100,100"]),
            Line(
                "invalid value for '--noise-decay': got 0, expected a finite decay factor γ > 0 (σ_s = σ₀·γ^s)",
            ),
        ),
        (
            train(&["--privacy", "dp(epsilon=-1, delta=1e-5, clip=1)"]),
            Line("invalid value for 'dp.epsilon': got -1, expected a finite target ε > 0"),
        ),
        (
            train(&["--privacy", "dp(epsilon=4, delta=2, clip=1)"]),
            Line("invalid value for 'dp.delta': got 2, expected a number in (0, 1)"),
        ),
        (
            train(&["--privacy", "dp(epsilon=4, delta=1e-5, clip=0)"]),
            Line("invalid value for 'dp.clip': got 0, expected a finite clipping norm C > 0"),
        ),
        (
            train(&[
                "--privacy",
                "dp(epsilon=4, noise_multiplier=1, delta=1e-5, clip=1)",
            ]),
            Line(
                "invalid value for 'dp.noise_multiplier': got 1, expected no noise_multiplier= together with epsilon= (give a target ε to calibrate the noise, or the noise multiplier itself)",
            ),
        ),
        (
            train(&["--privacy", "dp(delta=1e-5, clip=1)"]),
            Line(
                "invalid value for 'dp': got neither epsilon= nor noise_multiplier=, expected a target epsilon=E (calibrates the noise) or noise_multiplier=S",
            ),
        ),
        (
            train(&["--privacy", "dpp(epsilon=4)"]),
            Line("unknown privacy mechanism 'dpp'; valid: dp"),
        ),
        (
            train(&[
                "--privacy",
                "dp(epsilon=4, delta=1e-5, clip=1, conversion=fancy)",
            ]),
            Line("invalid value for 'dp.conversion': got fancy, expected one of improved, classic"),
        ),
    ];
    catalogue(dir.path(), &cases);
}

/// `descent active` on iris with `extra` flags; `--known`, `--strategy` and `--budget` get
/// defaults unless `extra` sets them.
fn active(extra: &[&'static str]) -> Vec<&'static str> {
    let flags = "active --data iris --seeds 1 --initial 5 --rounds 2 --epochs 2 --out act";
    let mut a: Vec<&'static str> = flags.split_whitespace().collect();
    for (flag, value) in [
        ("--known", "0,1"),
        ("--strategy", "random"),
        ("--budget", "5"),
    ] {
        if !extra.contains(&flag) {
            a.extend([flag, value]);
        }
    }
    a.extend_from_slice(extra);
    a
}

#[test]
fn checkpoints_of_other_runs_name_the_setting_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("descent")
            .unwrap()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&active(&["--checkpoint-every", "1"]));
    run(&train(&[
        "--data",
        "iris",
        "--model",
        "mlp:4-3",
        "--checkpoint-every",
        "4",
    ]));
    let ck = "act/checkpoint/0-seed0/checkpoint.json";
    let cases: Vec<Case> = vec![
        (
            active(&["--resume", "act", "--budget", "6"]),
            Line(
                "act/checkpoint/0-seed0/checkpoint.json: this checkpoint was written with --budget 5, this run has 6; resume with the same settings or start a new run",
            ),
        ),
        (
            active(&["--resume", "act", "--strategy", "entropy"]),
            Line(
                "act/checkpoint/0-seed0/checkpoint.json: this checkpoint was written with --strategy 'random', this run has 'entropy'; resume with the same settings or start a new run",
            ),
        ),
        (
            active(&["--resume", "act", "--known", "0,2"]),
            Line(
                "act/checkpoint/0-seed0/checkpoint.json: this checkpoint was written with --known [0, 1], this run has [0, 2]; resume with the same settings or start a new run",
            ),
        ),
        (
            active(&["--checkpoint-every", "0"]),
            Line(
                "invalid value for '--checkpoint-every': got 0, expected a number of query rounds >= 1",
            ),
        ),
        (
            active(&["--resume", "out"]),
            Line(
                "out/checkpoint: no checkpoint of a study's run here (expected <run>/checkpoint.json folders)",
            ),
        ),
    ];
    catalogue(dir.path(), &cases);
    // a damaged file: its byte count no longer matches the header
    let path = dir.path().join(ck);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() - 10);
    std::fs::write(&path, &bytes).unwrap();
    let e = check(
        dir.path(),
        &active(&["--resume", "act"]),
        &Starts("act/checkpoint/0-seed0/checkpoint.json: truncated: the header announces"),
    );
    assert!(e.is_none(), "{}", e.unwrap());
}
