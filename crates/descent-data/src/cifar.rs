//! CIFAR-10's binary version (`cifar-10-batches-bin`): each record is one label byte (0..9)
//! followed by 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each 32×32 row-major).
//!
//! [`load_cifar10_dir`] reads `data_batch_1.bin` … `data_batch_5.bin` (those present, at least
//! one) as the training part and `test_batch.bin`, when present, as the predefined test split,
//! from `DIR` or `DIR/cifar-10-batches-bin`. Features are the raw bytes 0..255 in the file's
//! channel-major order. A file whose length is not a whole number of records, or a label byte
//! above 9, is an [`Error::Data`] naming the file and the byte offset.

use std::path::{Path, PathBuf};

use descent_core::{Error, Result};

use crate::dataset::{Dataset, Targets};
use crate::idx::FileBytes;

/// Bytes per record: a label and 3 × 32 × 32 pixels.
pub const RECORD: usize = 1 + 3072;
const CLASSES: usize = 10;

/// Parses one batch file, appending its samples.
fn read_batch(path: &Path, features: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<()> {
    parse_batch(&FileBytes::read(path)?, features, labels)
}

/// One CIFAR-10 batch file's bytes held in memory as a dataset; `name` stands for the file in
/// errors.
///
/// # Errors
///
/// An empty file, a length that is not a whole number of 3073-byte records, or a label byte above 9, naming the file and the record.
pub fn cifar_batch_from_bytes(name: &str, bytes: &[u8]) -> Result<Dataset> {
    let f = FileBytes::from_raw(name.to_string(), bytes.to_vec())?;
    let mut features = Vec::new();
    let mut labels = Vec::new();
    parse_batch(&f, &mut features, &mut labels)?;
    classes_set(name, features, labels)
}

fn parse_batch(f: &FileBytes, features: &mut Vec<f64>, labels: &mut Vec<usize>) -> Result<()> {
    let b = &f.bytes;
    if b.is_empty() {
        return Err(f.err(0, "empty file: expected records of 3073 bytes"));
    }
    let whole = b.len() / RECORD * RECORD;
    if whole != b.len() {
        return Err(f.err(
            whole,
            format!(
                "truncated record: {} bytes left, a record is {RECORD} bytes (1 label + 3072 \
                 pixels); the file has {} bytes",
                b.len() - whole,
                b.len()
            ),
        ));
    }
    for (i, rec) in b.chunks_exact(RECORD).enumerate() {
        if rec[0] as usize >= CLASSES {
            return Err(f.err(
                i * RECORD,
                format!("label {} of record {i} out of range 0..{CLASSES}", rec[0]),
            ));
        }
        labels.push(rec[0] as usize);
        features.extend(rec[1..].iter().map(|&p| p as f64));
    }
    Ok(())
}

fn batch_set(files: &[PathBuf], name: &str) -> Result<Dataset> {
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for p in files {
        read_batch(p, &mut features, &mut labels)?;
    }
    classes_set(name, features, labels)
}

fn classes_set(name: &str, features: Vec<f64>, labels: Vec<usize>) -> Result<Dataset> {
    Dataset::new(
        name,
        features,
        RECORD - 1,
        Targets::Classes {
            labels,
            n_classes: CLASSES,
        },
    )
}

/// `(train, test)` from a CIFAR-10 binary directory (see the module docs).
///
/// # Errors
///
/// A missing directory or batch file, or a batch that does not parse (see [`cifar_batch_from_bytes`]).
pub fn load_cifar10_dir(dir: impl AsRef<Path>) -> Result<(Dataset, Option<Dataset>)> {
    let given = dir.as_ref();
    let nested = given.join("cifar-10-batches-bin");
    let dir = if nested.is_dir() { &nested } else { given };
    if !dir.is_dir() {
        return Err(Error::io(
            dir,
            "not a directory (cifar10:DIR expects data_batch_1.bin ... and test_batch.bin)",
        ));
    }
    let train: Vec<PathBuf> = (1..=5)
        .map(|k| dir.join(format!("data_batch_{k}.bin")))
        .filter(|p| p.is_file())
        .collect();
    if train.is_empty() {
        return Err(Error::io(
            dir.join("data_batch_1.bin"),
            format!(
                "not found: no data_batch_K.bin (K = 1..5) in {}",
                dir.display()
            ),
        ));
    }
    let label = format!("cifar10:{}", given.display());
    let train_set = batch_set(&train, &label)?;
    let test = dir.join("test_batch.bin");
    let test_set = if test.is_file() {
        Some(batch_set(&[test], &format!("{label} (test_batch)"))?)
    } else {
        None
    };
    Ok((train_set, test_set))
}
