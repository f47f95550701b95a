//! NumPy `.npy` files (format versions 1–3, C order): a features array X of shape `(n, ...)`
//! (flattened per sample; `(n,)` is one feature) and a targets array Y of shape `(n,)`, `(n, 1)`
//! or `(n, k)`.
//!
//! Element types: floats `f4`, `f8` and integers `u1`, `i1`, `u2`, `i2`, `u4`, `i4`, `u8`, `i8`,
//! little- or big-endian (gzip-compressed files are inflated first). Targets: an integer Y, or a
//! float Y whose values are all whole and ≥ 0, gives class labels (`n_classes` = `classes` if
//! given, else the largest label + 1); otherwise, or with `regression`, real targets. Every
//! malformed file is an [`Error::Data`](descent_core::Error::Data) naming the file, the byte offset and the problem (bad
//! magic, unreadable header, Fortran order, unsupported type, wrong length, NaN or infinite
//! value, label out of range, X and Y of different lengths).

use std::path::Path;

use descent_core::Result;

use crate::dataset::{Dataset, Targets};
use crate::idx::FileBytes;

/// A parsed `.npy` array.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The array's shape from the header.
    pub shape: Vec<usize>,
    /// The values in C (row-major) order, as f64.
    pub values: Vec<f64>,
    /// True for the integer types.
    pub integral: bool,
    /// Byte offset of the first element (for error locations).
    pub data_offset: usize,
    /// Bytes per element.
    pub item_size: usize,
}

/// Reads a `.npy` file.
///
/// # Errors
///
/// A file that cannot be read, or bytes that are not a supported `.npy` array, naming the file and byte offset.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray> {
    parse_npy(&FileBytes::read(path.as_ref())?)
}

/// Parses `.npy` bytes held in memory (plain or gzip); `name` stands for the file in errors.
///
/// # Errors
///
/// Bytes that are not a supported `.npy` array, naming `name` and the byte offset.
pub fn parse_npy_bytes(name: &str, bytes: &[u8]) -> Result<NpyArray> {
    parse_npy(&FileBytes::from_raw(name.to_string(), bytes.to_vec())?)
}

fn parse_npy(f: &FileBytes) -> Result<NpyArray> {
    let b = &f.bytes;
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err(f.err(0, "bad magic: a .npy file starts with \\x93NUMPY"));
    }
    let (major, minor) = (b[6], b[7]);
    let (len, start) = match major {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
        2 | 3 if b.len() >= 12 => (
            u32::from_le_bytes(b[8..12].try_into().expect("4 bytes")) as usize,
            12,
        ),
        _ => {
            return Err(f.err(
                6,
                format!("bad magic: unsupported format version {major}.{minor} (1, 2 or 3)"),
            ));
        }
    };
    if b.len() < start + len {
        return Err(f.err(
            b.len(),
            format!("truncated header: it claims {len} bytes, the file ends first"),
        ));
    }
    let header = std::str::from_utf8(&b[start..start + len])
        .map_err(|_| f.err(start, "header is not text"))?;
    let descr = dict_value(header, "descr")
        .and_then(|v| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .ok_or_else(|| f.err(start, format!("header has no 'descr' string: {header}")))?;
    match dict_value(header, "fortran_order") {
        Some("False") => {}
        Some("True") => {
            return Err(f.err(
                start,
                "fortran_order is True; save the array in C order (np.ascontiguousarray)",
            ));
        }
        _ => return Err(f.err(start, format!("header has no fortran_order: {header}"))),
    }
    let shape_text = dict_value(header, "shape")
        .ok_or_else(|| f.err(start, format!("header has no shape: {header}")))?;
    let shape: Vec<usize> = shape_text
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            f.err(
                start,
                format!("shape {shape_text} is not a tuple of integers"),
            )
        })?;

    let bytes = descr.as_bytes();
    let (order, kind, size) = match bytes {
        [o @ (b'<' | b'>' | b'|' | b'='), k, rest @ ..] => (
            *o,
            *k,
            std::str::from_utf8(rest)
                .ok()
                .and_then(|s| s.parse::<usize>().ok()),
        ),
        _ => (b'?', b'?', None),
    };
    let supported = matches!(
        (kind, size),
        (b'f', Some(4 | 8)) | (b'i' | b'u', Some(1 | 2 | 4 | 8))
    );
    if !supported {
        return Err(f.err(
            start,
            format!(
                "unsupported element type '{descr}' (expected f4, f8, u1, i1, u2, i2, u4, i4, \
                 u8 or i8)"
            ),
        ));
    }
    let size = size.expect("checked");
    let big = order == b'>';
    let data_offset = start + len;
    let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let expected = count
        .and_then(|c| c.checked_mul(size))
        .unwrap_or(usize::MAX);
    let found = b.len() - data_offset;
    if found != expected {
        return Err(f.err(
            data_offset,
            format!(
                "wrong length: shape {shape:?} of '{descr}' needs {expected} bytes of data, \
                 found {found}{}",
                if found < expected { " (truncated)" } else { "" }
            ),
        ));
    }
    let mut values = Vec::with_capacity(expected / size);
    for (i, c) in b[data_offset..].chunks_exact(size).enumerate() {
        let mut w = [0u8; 8];
        w[..size].copy_from_slice(c);
        if big {
            w[..size].reverse();
        }
        let v = match (kind, size) {
            (b'f', 4) => f32::from_le_bytes(w[..4].try_into().expect("4")) as f64,
            (b'f', _) => f64::from_le_bytes(w),
            (b'u', _) => u64::from_le_bytes(w) as f64,
            (_, 1) => w[0] as i8 as f64,
            (_, 2) => i16::from_le_bytes([w[0], w[1]]) as f64,
            (_, 4) => i32::from_le_bytes(w[..4].try_into().expect("4")) as f64,
            _ => i64::from_le_bytes(w) as f64,
        };
        if !v.is_finite() {
            return Err(f.err(
                data_offset + i * size,
                format!("element {i} is {v} (not a finite number)"),
            ));
        }
        values.push(v);
    }
    Ok(NpyArray {
        shape,
        values,
        integral: kind != b'f',
        data_offset,
        item_size: size,
    })
}

/// The text of `'key': value` in a Python dict literal, up to the next top-level comma or `}`.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0i32;
    for (i, c) in rest.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
        if depth == 0 && c == ')' {
            return Some(rest[..=i].trim());
        }
    }
    None
}

/// Options of [`load_npy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NpyOptions {
    /// The number of classes; labels must lie in `0..classes`. `None`: largest label + 1.
    pub classes: Option<usize>,
    /// Real targets even when every value is a whole number.
    pub regression: bool,
}

/// Loads features from `x` and targets from `y` (rules in the module docs).
///
/// # Errors
///
/// Files that cannot be read or parsed, or arrays whose shapes or targets do not fit the rules.
pub fn load_npy(x: impl AsRef<Path>, y: impl AsRef<Path>, options: NpyOptions) -> Result<Dataset> {
    let fx = FileBytes::read(x.as_ref())?;
    let fy = FileBytes::read(y.as_ref())?;
    npy_pair(&fx, &fy, options)
}

/// [`load_npy`] on bytes held in memory: `x` and `y` are (name, bytes) pairs, the names
/// standing for the files in errors.
///
/// # Errors
///
/// As [`load_npy`].
pub fn npy_from_bytes(x: (&str, &[u8]), y: (&str, &[u8]), options: NpyOptions) -> Result<Dataset> {
    let fx = FileBytes::from_raw(x.0.to_string(), x.1.to_vec())?;
    let fy = FileBytes::from_raw(y.0.to_string(), y.1.to_vec())?;
    npy_pair(&fx, &fy, options)
}

fn npy_pair(fx: &FileBytes, fy: &FileBytes, options: NpyOptions) -> Result<Dataset> {
    let ax = parse_npy(fx)?;
    let ay = parse_npy(fy)?;
    let name = format!("npy:{},{}", fx.name, fy.name);
    if ax.shape.is_empty() {
        return Err(fx.err(
            ax.data_offset,
            "a 0-dimensional array; features need shape (n, ...)",
        ));
    }
    let n = ax.shape[0];
    let d = ax.shape[1..].iter().product::<usize>();
    if ay.shape.first() != Some(&n) || ay.shape.len() > 2 {
        return Err(fy.err(
            ay.data_offset,
            format!(
                "shape {:?}; targets need shape ({n},), ({n}, 1) or ({n}, k) to match the \
                 {n} samples of {}",
                ay.shape, fx.name
            ),
        ));
    }
    if d == 0 {
        return Err(fx.err(
            ax.data_offset,
            format!("shape {:?} has no features", ax.shape),
        ));
    }
    let k = ay.shape.get(1).copied().unwrap_or(1);
    // as for CSV: a class label is a whole number below 2^32, so `n_classes` stays small
    let whole = |v: f64| v >= 0.0 && v.fract() == 0.0 && v < u32::MAX as f64;
    let classes =
        k == 1 && !options.regression && (ay.integral || ay.values.iter().all(|&v| whole(v)));
    let targets = if classes {
        let n_classes = options.classes.unwrap_or_else(|| {
            let largest = ay.values.iter().fold(0.0f64, |m, &v| m.max(v));
            largest.min(u32::MAX as f64) as usize + 1
        });
        let mut labels = Vec::with_capacity(n);
        for (i, &v) in ay.values.iter().enumerate() {
            if !(whole(v) && v < n_classes as f64) {
                return Err(fy.err(
                    ay.data_offset + i * ay.item_size,
                    format!("label {v} of sample {i} out of range 0..{n_classes}"),
                ));
            }
            labels.push(v as usize);
        }
        Targets::Classes { labels, n_classes }
    } else {
        if options.classes.is_some() {
            return Err(fy.err(
                ay.data_offset,
                "classes= was given but the targets are not whole numbers >= 0 in one column",
            ));
        }
        Targets::Real {
            values: ay.values,
            dim: k,
        }
    };
    Dataset::new(name, ax.values, d, targets)
}
