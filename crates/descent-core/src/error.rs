//! The error type of the library crates. User input never panics: every failure names the field
//! or file, the value and what was expected.

use std::fmt;
use std::sync::Arc;

/// The underlying error an [`Error`] was made from (an [`std::io::Error`], a parse or
/// serialization error), kept so that [`std::error::Error::source`] and downcasting reach it.
/// Shared, so [`Error`] stays `Clone`; two sources compare equal when their messages do.
#[derive(Clone)]
pub struct Source(Arc<dyn std::error::Error + Send + Sync + 'static>);

impl Source {
    /// Keeps `err` (any error, or a plain message).
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Source(Arc::from(err.into()))
    }

    /// The kept error, e.g. to `downcast_ref::<std::io::Error>()` it.
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.0.as_ref()
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Source {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Source {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

/// Everything that can go wrong in descent's library crates. New kinds of failure may be
/// added, so a `match` needs a wildcard arm.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A spec string (`adam(lr=1e-3)`) that does not parse.
    #[error("cannot parse spec '{input}' at column {column}: {message}")]
    SpecSyntax {
        /// The text that was parsed.
        input: String,
        /// The 1-based column of the first character that does not fit.
        column: usize,
        /// What was expected there.
        message: String,
    },
    /// A name (optimizer, model, dataset, loss, ...) that is not registered.
    #[error("unknown {kind} '{name}'; valid: {}", valid.join(", "))]
    UnknownName {
        /// What kind of name (`optimizer`, `dataset`, ...).
        kind: String,
        /// The name given.
        name: String,
        /// The registered names.
        valid: Vec<String>,
    },
    /// A key that the named thing does not take.
    #[error("unknown key '{key}' for {context}; valid keys: {}", valid.join(", "))]
    UnknownKey {
        /// What the key was given to (`adam`, `partition.groups`).
        context: String,
        /// The key given.
        key: String,
        /// The keys it takes.
        valid: Vec<String>,
    },
    /// A value of the wrong type or out of range.
    #[error("invalid value for '{field}': got {value}, expected {expected}")]
    InvalidValue {
        /// The field, dotted for nested ones (`adam.lr`).
        field: String,
        /// The value given, as text.
        value: String,
        /// What would have been valid.
        expected: String,
    },
    /// Arrays whose sizes do not fit together.
    #[error("shape mismatch in {context}: expected {expected}, got {got}")]
    Shape {
        /// Which arrays.
        context: String,
        /// The size they must have.
        expected: String,
        /// The size they had.
        got: String,
    },
    /// A method asked a problem for an oracle it does not offer.
    #[error("'{method}' needs {needs}; {problem} offers {offers}")]
    Capability {
        /// The method (its spec text).
        method: String,
        /// The capabilities it needs.
        needs: String,
        /// The problem's name.
        problem: String,
        /// The capabilities the problem offers.
        offers: String,
    },
    /// A data file with a problem at a known place.
    #[error("{file}:{location}: {message}")]
    Data {
        /// The file (or data source) name.
        file: String,
        /// Where in it (`line 3, column 2`, `byte 16`).
        location: String,
        /// What is wrong there.
        message: String,
        /// The parse or decode error behind it, when there is one ([`Error::with_source`]).
        #[source]
        source: Option<Source>,
    },
    /// An I/O failure on a named path. `message` is the underlying error's text, which is also
    /// kept as the [`std::error::Error::source`] (e.g. the [`std::io::Error`], whose `kind()`
    /// a caller can inspect through [`Source::get`]).
    #[error("{path}: {message}")]
    Io {
        /// The path the operation failed on.
        path: String,
        /// The underlying error's message.
        message: String,
        #[source]
        /// The underlying error.
        source: Option<Source>,
    },
    /// A run whose loss, gradient or parameters became NaN or infinite.
    #[error("'{method}' diverged at step {step} (last finite loss {}); try a smaller learning rate", last_finite_loss.map_or("none".to_string(), |l| format!("{l:.4e}")))]
    Diverged {
        /// The method (its spec text).
        method: String,
        /// The 1-based step at which a value became non-finite.
        step: u64,
        /// The last finite loss before it, if any.
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
            source: None,
        }
    }

    /// An [`Error::Io`] on `path` from the error that occurred there (an [`std::io::Error`], a
    /// serialization error, or a plain message), which is kept as its source.
    pub fn io(
        path: impl AsRef<std::path::Path>,
        err: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        let source = Source::new(err);
        Error::Io {
            path: path.as_ref().display().to_string(),
            message: source.to_string(),
            source: Some(source),
        }
    }

    /// Attaches the underlying error to an [`Error::Data`] or [`Error::Io`] (other variants are
    /// returned unchanged: their messages say all there is).
    pub fn with_source(
        mut self,
        err: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        if let Error::Data { source, .. } | Error::Io { source, .. } = &mut self {
            *source = Some(Source::new(err));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn io_errors_keep_their_source_and_their_message() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::io("data/x.csv", io);
        assert_eq!(e.to_string(), "data/x.csv: no such file");
        let source = e.source().expect("the io::Error is kept");
        let kept = source
            .downcast_ref::<Source>()
            .and_then(|s| s.get().downcast_ref::<std::io::Error>())
            .expect("an io::Error");
        assert_eq!(kept.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(e.clone(), e);
    }

    #[test]
    fn data_errors_take_a_parse_error_as_source() {
        let parse = "1.5x".parse::<f64>().unwrap_err();
        let e =
            Error::data("t.csv", "line 3, column 2", "'1.5x' is not a number").with_source(parse);
        assert_eq!(
            e.to_string(),
            "t.csv:line 3, column 2: '1.5x' is not a number"
        );
        assert_eq!(e.source().unwrap().to_string(), "invalid float literal");
        // variants without a source are unchanged
        let v = Error::invalid("lr", -1, ">= 0");
        assert_eq!(v.clone().with_source(parse_err()), v);
    }

    fn parse_err() -> std::num::ParseIntError {
        "x".parse::<u8>().unwrap_err()
    }
}
