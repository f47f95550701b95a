//! The error type of the library crates. User input never panics: every failure names the field
//! or file, the value and what was expected.

use std::fmt;

/// Everything that can go wrong in descent's library crates.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A spec string (`adam(lr=1e-3)`) that does not parse.
    #[error("cannot parse spec '{input}' at column {column}: {message}")]
    SpecSyntax {
        input: String,
        column: usize,
        message: String,
    },
    /// A name (optimizer, model, dataset, loss, ...) that is not registered.
    #[error("unknown {kind} '{name}'; valid: {}", valid.join(", "))]
    UnknownName {
        kind: String,
        name: String,
        valid: Vec<String>,
    },
    /// A key that the named thing does not take.
    #[error("unknown key '{key}' for {context}; valid keys: {}", valid.join(", "))]
    UnknownKey {
        context: String,
        key: String,
        valid: Vec<String>,
    },
    /// A value of the wrong type or out of range.
    #[error("invalid value for '{field}': got {value}, expected {expected}")]
    InvalidValue {
        field: String,
        value: String,
        expected: String,
    },
    /// Arrays whose sizes do not fit together.
    #[error("shape mismatch in {context}: expected {expected}, got {got}")]
    Shape {
        context: String,
        expected: String,
        got: String,
    },
    /// A method asked a problem for an oracle it does not offer.
    #[error("'{method}' needs {needs}; {problem} offers {offers}")]
    Capability {
        method: String,
        needs: String,
        problem: String,
        offers: String,
    },
    /// A data file with a problem at a known place.
    #[error("{file}:{location}: {message}")]
    Data {
        file: String,
        location: String,
        message: String,
    },
    /// An I/O failure on a named path.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// A run whose loss, gradient or parameters became NaN or infinite.
    #[error("'{method}' diverged at step {step} (last finite loss {}); try a smaller learning rate", last_finite_loss.map_or("none".to_string(), |l| format!("{l:.4e}")))]
    Diverged {
        method: String,
        step: u64,
        last_finite_loss: Option<f64>,
    },
    /// A numerical failure (a factorisation that does not exist even after regularisation).
    #[error("linear algebra: {0}")]
    Linalg(String),
}

/// `Result` with descent's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::InvalidValue`] from anything displayable.
    pub fn invalid(
        field: impl Into<String>,
        value: impl fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Error::InvalidValue {
            field: field.into(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// An [`Error::UnknownName`] listing the valid names.
    pub fn unknown_name(kind: &str, name: &str, valid: &[&str]) -> Self {
        Error::UnknownName {
            kind: kind.into(),
            name: name.into(),
            valid: valid.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// An [`Error::Shape`].
    pub fn shape(
        context: impl Into<String>,
        expected: impl fmt::Display,
        got: impl fmt::Display,
    ) -> Self {
        Error::Shape {
            context: context.into(),
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }

    /// An [`Error::Data`] at `file:location`.
    pub fn data(
        file: impl Into<String>,
        location: impl fmt::Display,
        message: impl Into<String>,
    ) -> Self {
        Error::Data {
            file: file.into(),
            location: location.to_string(),
            message: message.into(),
        }
    }

    /// An [`Error::Io`] from a path and an `std::io::Error`.
    pub fn io(path: impl AsRef<std::path::Path>, err: impl fmt::Display) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            message: err.to_string(),
        }
    }
}
