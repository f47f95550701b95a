//! The IDX format of MNIST and Fashion-MNIST (LeCun et al.), plain or gzip-compressed.
//!
//! A file is: two zero bytes, a type byte (`0x08` u8, `0x09` i8, `0x0B` i16, `0x0C` i32, `0x0D`
//! f32, `0x0E` f64), a dimension count, one big-endian `u32` per dimension, then the values,
//! big-endian, row-major. Images are `n × rows × cols` (any rank ≥ 2; each sample is flattened),
//! labels are `n` integers. [`load_idx_dir`] reads the standard file names from a directory:
//! `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, and `t10k-…` for the predefined test
//! split, each optionally with `.gz`. Gzip is recognised by its magic bytes, not the name.
//!
//! Features are the raw values (MNIST: grey levels 0..255); `descent train` standardizes them.
//! Every malformed file is an [`Error::Data`] naming the file, the byte offset (in the
//! decompressed stream for `.gz` files) and the problem.

use std::io::Read;
use std::path::{Path, PathBuf};

use descent_core::{Error, Result};

use crate::dataset::{Dataset, Targets};

/// A file's bytes, decompressed when they are gzip.
pub(crate) struct FileBytes {
    pub name: String,
    pub bytes: Vec<u8>,
    pub gzip: bool,
}

impl FileBytes {
    /// Reads `path`, inflating it when it starts with the gzip magic `1f 8b`.
    ///
    /// # Errors
    ///
    /// A file that cannot be read, or a gzip stream that does not inflate.
    pub fn read(path: &Path) -> Result<FileBytes> {
        let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        FileBytes::from_raw(path.display().to_string(), raw)
    }

    /// Bytes already in memory, named `name` in errors; inflated when they are gzip.
    ///
    /// # Errors
    ///
    /// A gzip stream that does not inflate.
    pub fn from_raw(name: String, raw: Vec<u8>) -> Result<FileBytes> {
        if raw.starts_with(&[0x1f, 0x8b]) {
            let mut bytes = Vec::new();
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut bytes)
                .map_err(|e| {
                    Error::data(&name, "gzip stream", format!("cannot decompress: {e}"))
                })?;
            Ok(FileBytes {
                name,
                bytes,
                gzip: true,
            })
        } else {
            Ok(FileBytes {
                name,
                bytes: raw,
                gzip: false,
            })
        }
    }

    /// An error at byte `offset`.
    pub fn err(&self, offset: usize, message: impl Into<String>) -> Error {
        let place = if self.gzip {
            format!("byte {offset} (decompressed)")
        } else {
            format!("byte {offset}")
        };
        Error::data(&self.name, place, message)
    }
}

/// A parsed IDX array: its dimensions and its values as f64.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    /// The dimensions from the header (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// The values, row-major, as f64.
    pub values: Vec<f64>,
    /// True for the integer types (u8, i8, i16, i32).
    pub integral: bool,
}

/// Parses an IDX file (plain or gzip).
///
/// # Errors
///
/// A file that cannot be read, or bytes that are not an IDX array (bad magic, type code or sizes), naming the file and byte offset.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    parse_idx(&FileBytes::read(path.as_ref())?)
}

/// Parses IDX bytes held in memory (plain or gzip); `name` stands for the file in errors.
///
/// # Errors
///
/// Bytes that are not an IDX array, naming `name` and the byte offset.
pub fn parse_idx_bytes(name: &str, bytes: &[u8]) -> Result<IdxArray> {
    parse_idx(&FileBytes::from_raw(name.to_string(), bytes.to_vec())?)
}

pub(crate) fn parse_idx(f: &FileBytes) -> Result<IdxArray> {
    let b = &f.bytes;
    if b.len() < 4 {
        return Err(f.err(
            b.len(),
            format!(
                "truncated header: {} bytes, an IDX header needs at least 4",
                b.len()
            ),
        ));
    }
    if b[0] != 0 || b[1] != 0 {
        return Err(f.err(
            0,
            format!(
                "bad magic {:02x} {:02x}: an IDX file starts with two zero bytes",
                b[0], b[1]
            ),
        ));
    }
    let (size, integral) = match b[2] {
        0x08 | 0x09 => (1, true),
        0x0B => (2, true),
        0x0C => (4, true),
        0x0D => (4, false),
        0x0E => (8, false),
        t => {
            return Err(f.err(
                2,
                format!(
                    "bad magic: unknown data type 0x{t:02x} (expected 0x08, 0x09, 0x0B, 0x0C, \
                     0x0D or 0x0E)"
                ),
            ));
        }
    };
    let ndim = b[3] as usize;
    if ndim == 0 {
        return Err(f.err(3, "bad magic: zero dimensions"));
    }
    let header = 4 + 4 * ndim;
    if b.len() < header {
        return Err(f.err(
            b.len(),
            format!(
                "truncated header: {ndim} dimensions need {header} bytes, the file has {}",
                b.len()
            ),
        ));
    }
    let dims: Vec<usize> = (0..ndim)
        .map(|k| u32::from_be_bytes(b[4 + 4 * k..8 + 4 * k].try_into().expect("4 bytes")) as usize)
        .collect();
    let count = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let expected = count
        .and_then(|c| c.checked_mul(size))
        .unwrap_or(usize::MAX);
    let found = b.len() - header;
    if found != expected {
        return Err(f.err(
            header,
            format!(
                "wrong length: dimensions {dims:?} need {expected} bytes of data after the \
                 {header}-byte header, found {found}{}",
                if found < expected { " (truncated)" } else { "" }
            ),
        ));
    }
    let data = &b[header..];
    let mut values = Vec::with_capacity(expected / size);
    for (i, c) in data.chunks_exact(size).enumerate() {
        let v = match b[2] {
            0x08 => c[0] as f64,
            0x09 => c[0] as i8 as f64,
            0x0B => i16::from_be_bytes([c[0], c[1]]) as f64,
            0x0C => i32::from_be_bytes(c.try_into().expect("4 bytes")) as f64,
            0x0D => f32::from_be_bytes(c.try_into().expect("4 bytes")) as f64,
            _ => f64::from_be_bytes(c.try_into().expect("8 bytes")),
        };
        if !v.is_finite() {
            return Err(f.err(header + i * size, format!("value {v} is not finite")));
        }
        values.push(v);
    }
    Ok(IdxArray {
        dims,
        values,
        integral,
    })
}

/// Builds a dataset from an images file and a labels file; labels must lie in `0..classes`.
///
/// # Errors
///
/// Files that cannot be read or parsed, counts that differ, or a label outside `0..classes`.
pub fn load_idx_pair(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
    classes: usize,
    name: &str,
) -> Result<Dataset> {
    let fi = FileBytes::read(images.as_ref())?;
    let fl = FileBytes::read(labels.as_ref())?;
    idx_pair(&fi, &fl, classes, name)
}

/// [`load_idx_pair`] on bytes held in memory: `images` and `labels` are (name, bytes) pairs,
/// the names standing for the files in errors.
///
/// # Errors
///
/// As [`load_idx_pair`].
pub fn idx_pair_from_bytes(
    images: (&str, &[u8]),
    labels: (&str, &[u8]),
    classes: usize,
    name: &str,
) -> Result<Dataset> {
    let fi = FileBytes::from_raw(images.0.to_string(), images.1.to_vec())?;
    let fl = FileBytes::from_raw(labels.0.to_string(), labels.1.to_vec())?;
    idx_pair(&fi, &fl, classes, name)
}

fn idx_pair(fi: &FileBytes, fl: &FileBytes, classes: usize, name: &str) -> Result<Dataset> {
    let img = parse_idx(fi)?;
    let lab = parse_idx(fl)?;
    if img.dims.len() < 2 {
        return Err(fi.err(
            3,
            format!(
                "an images file needs at least 2 dimensions (n × features...), found {:?}",
                img.dims
            ),
        ));
    }
    if lab.dims.len() != 1 || !lab.integral {
        return Err(fl.err(
            2,
            format!(
                "a labels file holds one integer per sample (1 dimension, an integer type), \
                 found dimensions {:?}{}",
                lab.dims,
                if lab.integral { "" } else { " of a float type" }
            ),
        ));
    }
    let n = img.dims[0];
    if lab.dims[0] != n {
        return Err(fl.err(
            4,
            format!("{} labels for the {n} images of {}", lab.dims[0], fi.name),
        ));
    }
    let header = 4 + 4 * lab.dims.len();
    let size = lab_size(fl);
    let mut out = Vec::with_capacity(n);
    for (i, &l) in lab.values.iter().enumerate() {
        if l < 0.0 || l >= classes as f64 {
            return Err(fl.err(
                header + i * size,
                format!("label {l} of sample {i} out of range 0..{classes}"),
            ));
        }
        out.push(l as usize);
    }
    let d = img.values.len() / n.max(1);
    Dataset::new(
        name,
        img.values,
        d.max(1),
        Targets::Classes {
            labels: out,
            n_classes: classes,
        },
    )
}

fn lab_size(f: &FileBytes) -> usize {
    match f.bytes.get(2) {
        Some(0x0B) => 2,
        Some(0x0C) => 4,
        _ => 1,
    }
}

/// `prefix-kind` or `prefix-kind.gz` in `dir`, or an error listing both names tried.
fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    for name in [stem.to_string(), format!("{stem}.gz")] {
        let p = dir.join(&name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(Error::io(
        dir.join(stem),
        format!("not found (nor {stem}.gz) in {}", dir.display()),
    ))
}

/// The MNIST layout in `dir`: `(train, Some(test))` from `train-…` and `t10k-…`; the test pair
/// is optional (both files absent gives `None`; one of them alone is an error).
///
/// # Errors
///
/// A missing directory or training file, only one of the two test files, or files that do not load (see [`load_idx_pair`]).
pub fn load_idx_dir(dir: impl AsRef<Path>, classes: usize) -> Result<(Dataset, Option<Dataset>)> {
    let dir = dir.as_ref();
    if !dir.is_dir() {
        return Err(Error::io(
            dir,
            "not a directory (idx:DIR expects the MNIST file layout)",
        ));
    }
    let label = format!("idx:{}", dir.display());
    let train = load_idx_pair(
        find(dir, "train-images-idx3-ubyte")?,
        find(dir, "train-labels-idx1-ubyte")?,
        classes,
        &label,
    )?;
    let images = find(dir, "t10k-images-idx3-ubyte");
    let labels = find(dir, "t10k-labels-idx1-ubyte");
    let test = match (images, labels) {
        (Err(_), Err(_)) => None,
        (Ok(i), Ok(l)) => Some(load_idx_pair(i, l, classes, &format!("{label} (t10k)"))?),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => return Err(e),
    };
    match &test {
        Some(t) if t.n_features != train.n_features => Err(Error::shape(
            format!("t10k images of {label}"),
            format!(
                "{} features per sample, as the training images",
                train.n_features
            ),
            t.n_features,
        )),
        _ => Ok((train, test)),
    }
}
