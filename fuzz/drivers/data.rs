//! Fuzz drivers for descent-data's loaders: each feeds arbitrary bytes to the same entry point a
//! file goes through and must return (Ok or Err) without panicking. Shared by the cargo-fuzz
//! targets (`fuzz/fuzz_targets/`) and the stable corpus replay
//! (`crates/descent-data/tests/fuzz_corpus.rs`).

use descent_data::{
    CsvOptions, HeaderMode, NpyOptions, TargetKind, cifar_batch_from_bytes, idx_pair_from_bytes,
    npy_from_bytes, parse_csv, parse_idx_bytes, parse_npy_bytes,
};

/// Splits `bytes` after a 2-byte little-endian position (taken modulo the rest's length + 1)
/// into two files.
fn two_files(bytes: &[u8]) -> (&[u8], &[u8]) {
    let (head, rest) = bytes.split_at(bytes.len().min(2));
    let at = head.iter().rev().fold(0usize, |a, &b| a * 256 + b as usize) % (rest.len() + 1);
    rest.split_at(at)
}

/// CSV: the first byte picks the options (label column, header mode, target kind, skipped
/// rows, delimiter), the rest is the file.
pub fn csv(bytes: &[u8]) {
    let Some((&o, text)) = bytes.split_first() else {
        return;
    };
    let options = CsvOptions {
        label: [-1, 0, 1, -2][(o & 3) as usize],
        header: [HeaderMode::Auto, HeaderMode::Present, HeaderMode::Absent][(o >> 2) as usize % 3],
        targets: [
            TargetKind::Auto,
            TargetKind::Classes,
            TargetKind::Regression,
        ][(o >> 4) as usize % 3],
        skip_rows: (o >> 6) as usize % 2,
        delimiter: if o >> 7 == 1 { b';' } else { b',' },
    };
    if let Ok(d) = parse_csv(text, "fuzz.csv", "fuzz", &options) {
        assert_eq!(d.features.len(), d.len() * d.n_features);
    }
}

/// IDX: the input as one file, then split into an images and a labels file.
pub fn idx(bytes: &[u8]) {
    let _ = parse_idx_bytes("fuzz.idx", bytes);
    let (images, labels) = two_files(bytes);
    if let Ok(d) = idx_pair_from_bytes(("images", images), ("labels", labels), 10, "fuzz") {
        assert_eq!(d.features.len(), d.len() * d.n_features);
    }
}

/// NPY: the input as one file, then split into X and Y, loaded with and without `classes=`.
pub fn npy(bytes: &[u8]) {
    let _ = parse_npy_bytes("fuzz.npy", bytes);
    let (x, y) = two_files(bytes);
    for options in [
        NpyOptions::default(),
        NpyOptions {
            classes: Some(3),
            regression: false,
        },
        NpyOptions {
            classes: None,
            regression: true,
        },
    ] {
        if let Ok(d) = npy_from_bytes(("x.npy", x), ("y.npy", y), options) {
            assert_eq!(d.features.len(), d.len() * d.n_features);
        }
    }
}

/// CIFAR-10: the input as one batch file.
pub fn cifar(bytes: &[u8]) {
    if let Ok(d) = cifar_batch_from_bytes("fuzz.bin", bytes) {
        assert_eq!(d.n_features, 3072);
    }
}
