//! One source of truth for the settings of every optimizer and transform (DESIGN §3, after
//! burn's derived configs): a config struct declared once with [`config!`](crate::config!) gives
//!
//! - the serde struct and its `Default` (each field's rustdoc ends with its default),
//! - the spec reader ([`Config::read`], `XConfig::from_spec`): keys, defaults, checks, errors
//!   naming `optimizer.key`, the value and what was expected,
//! - the `descent list` rows ([`Config::docs`]: key, default, one-line meaning from the field's
//!   doc comment) and the spec text of a resolved config ([`Config::spec_text`]),
//! - hyperparameter access ([`Config::tunable`], [`Config::get`], [`Config::set`]): every
//!   real-valued field is tunable, `set` validates and never allocates on success.
//!
//! [`plumbing!`](crate::plumbing!) then writes a transform's or optimizer's `hyper_names`, `hyper`, `set_hyper`,
//! `state` and `load_state` from its config, its typed state (plain serde data) and its nested
//! transform, so that adding a method is writing its config, its state struct and its update.
//!
//! The state of a transform or optimizer is a [`TransformState`]: its kind, its config, its own
//! typed state and the states of nested transforms, as JSON values (booleans are booleans,
//! counters integers, enums their names), so it round-trips bit for bit through JSON.

use std::fmt::Write as _;

use descent_core::{Args, Error, FloatFormat, Quantizer, Result, Spec, Value};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::schedule::Schedule;

mod params;
mod state;

pub use params::*;
pub use state::*;

/// One row of `descent list`: a spec key, its default and its meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyDoc {
    /// The key as written in a spec.
    pub key: &'static str,
    /// The default as spec text; `None` when the key is off unless given, or required.
    pub default: Option<String>,
    /// The key must be given.
    pub required: bool,
    /// One line: what the key means.
    pub doc: String,
}

impl KeyDoc {
    /// A row with a default (or none).
    pub fn new(key: &'static str, default: Option<String>, doc: impl Into<String>) -> Self {
        KeyDoc {
            key,
            default,
            required: false,
            doc: doc.into(),
        }
    }

    /// `key=default`, `key (required)` or `key (off)`.
    pub fn head(&self) -> String {
        match (&self.default, self.required) {
            (_, true) => format!("{} (required)", self.key),
            (Some(d), false) => format!("{}={d}", self.key),
            (None, false) => format!("{} (off)", self.key),
        }
    }
}

/// A range check of one numeric field: what must hold and what the error says was expected.
/// `in_spec` is a stricter check for values written in a spec (a learning rate must be > 0
/// there, while a schedule may set it to 0 later).
#[derive(Clone, Copy)]
pub struct Check {
    holds: Predicate,
    expected: &'static str,
    in_spec: Option<(Predicate, &'static str)>,
}

/// What a value must satisfy.
pub type Predicate = fn(f64) -> bool;

impl Check {
    /// Holds when `holds(x)`; the error says `expected`.
    pub const fn new(holds: fn(f64) -> bool, expected: &'static str) -> Check {
        Check {
            holds,
            expected,
            in_spec: None,
        }
    }

    /// The same check, with a stricter one for values written in a spec.
    pub const fn in_spec(self, holds: fn(f64) -> bool, expected: &'static str) -> Check {
        Check {
            in_spec: Some((holds, expected)),
            ..self
        }
    }

    /// Ok when `x` passes; else the error naming `field`.
    ///
    /// # Errors
    ///
    /// `x` outside the check's range, naming `field`.
    pub fn apply(&self, field: impl FnOnce() -> String, x: f64) -> Result<()> {
        if (self.holds)(x) {
            Ok(())
        } else {
            Err(Error::invalid(field(), x, self.expected))
        }
    }

    /// Ok when `x`, written in a spec, passes.
    ///
    /// # Errors
    ///
    /// `x` outside the check's range, naming `field`.
    pub fn apply_in_spec(&self, field: impl FnOnce() -> String, x: f64) -> Result<()> {
        match self.in_spec {
            Some((holds, expected)) if !holds(x) => Err(Error::invalid(field(), x, expected)),
            _ => self.apply(field, x),
        }
    }
}

/// A finite number ≥ 0.
pub const NON_NEGATIVE: Check = Check::new(|x| x >= 0.0 && x.is_finite(), "a finite number >= 0");
/// A finite number > 0.
pub const POSITIVE: Check = Check::new(|x| x > 0.0 && x.is_finite(), "a finite number > 0");
/// A learning rate: > 0 in a spec, ≥ 0 when set later (a schedule may end at 0).
pub const LEARNING_RATE: Check =
    NON_NEGATIVE.in_spec(|x| x > 0.0 && x.is_finite(), "a finite number > 0");
/// A decay or momentum factor in [0, 1).
pub const FRACTION: Check = Check::new(|x| (0.0..1.0).contains(&x), "a number in [0, 1)");
/// A number in [0, 1].
pub const UNIT: Check = Check::new(|x| (0.0..=1.0).contains(&x), "a number in [0, 1]");
/// A count ≥ 1.
pub const AT_LEAST_ONE: Check = Check::new(|x| x >= 1.0, "an integer >= 1");

/// Everything generated for a config struct by [`config!`](crate::config!).
pub trait Config: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Names the config in errors (`adam.beta1`) and is the kind of its state.
    fn owner(&self) -> &'static str;
    /// The spec keys, in declaration order.
    fn keys(&self) -> Vec<&'static str>;
    /// The `descent list` rows with this config's values as the defaults.
    fn docs(&self) -> Vec<KeyDoc>;
    /// Overrides the fields given in `args` (checked; errors name `spec.key`); required keys must
    /// be given. Does not check the whole config: see [`Config::validate`].
    fn read(&mut self, args: &Args<'_>) -> Result<()>;
    /// Checks every field's range and the relations between fields; errors name `owner.key`.
    fn validate(&self) -> Result<()>;
    /// The tunable hyperparameters (every real-valued field).
    fn tunable(&self) -> Vec<&'static str>;
    /// True when `name` is tunable (allocation-free).
    fn accepts(&self, name: &str) -> bool;
    /// The current value of a tunable hyperparameter.
    fn get(&self, name: &str) -> Option<f64>;
    /// Sets a tunable hyperparameter and validates; a rejected value leaves the config as it was.
    /// Allocates only on error.
    fn set(&mut self, name: &str, value: f64) -> Result<()>;
    /// `owner(key=value, ...)` with every key that is on.
    fn spec_text(&self) -> String;
    /// The defaults under the registry name `name` (`adamw`'s differ from `adam`'s).
    fn preset(name: &str) -> Self;

    /// Reads `spec` over [`Config::preset`]`(spec.name)`; `extra` keys are allowed besides the
    /// config's own (the caller reads them), unknown keys are errors listing the valid ones.
    fn from_spec_with(spec: &Spec, extra: &[&str]) -> Result<Self> {
        let mut cfg = Self::preset(&spec.name);
        let mut keys = cfg.keys();
        keys.extend_from_slice(extra);
        let args = spec.args(&keys)?;
        cfg.read(&args)?;
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Range check of one field (for [`config!`](crate::config!)).
///
/// # Errors
///
/// A value outside the range, naming `owner.key`.
#[doc(hidden)]
pub fn check_field<P: Param>(v: &P, check: &Check, owner: &str, key: &str) -> Result<()> {
    match v.number() {
        Some(x) => check.apply(|| format!("{owner}.{key}"), x),
        None => Ok(()),
    }
}

/// Range check of one field given in a spec (for [`config!`](crate::config!)).
///
/// # Errors
///
/// A value outside the range, naming the spec's `name.key`.
#[doc(hidden)]
pub fn check_spec_field<P: Param>(v: &P, check: &Check, args: &Args<'_>, key: &str) -> Result<()> {
    match v.number() {
        Some(x) => check.apply_in_spec(|| args.field(key), x),
        None => Ok(()),
    }
}

/// The meaning of a field from its doc lines, for `descent list`: one line, markdown marks off.
#[doc(hidden)]
pub fn doc_line(lines: &[&str]) -> String {
    let joined = lines
        .iter()
        .map(|l| l.trim())
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let plain = joined.replace("[`", "").replace("`]", "").replace('`', "");
    plain.strip_suffix('.').unwrap_or(&plain).to_string()
}

/// The error for a hyperparameter name a transform does not have (allocates; error path only).
#[doc(hidden)]
pub fn unknown_hyper(owner: &str, name: &str, valid: &[&str]) -> Error {
    Error::UnknownKey {
        context: format!("hyperparameters of '{owner}'"),
        key: name.to_string(),
        valid: valid.iter().map(|s| s.to_string()).collect(),
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __cfg_key {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident, $key:ident) => {
        stringify!($key)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __cfg_default {
    ($ty:ty) => {
        <$ty as $crate::config::Param>::unset()
    };
    ($ty:ty, $default:expr) => {
        $default
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __cfg_default_doc {
    () => {
        "Required."
    };
    ($default:expr) => {
        concat!("Default: `", stringify!($default), "`.")
    };
}

/// Expands its block only for spec keys (fields not marked `@internal`).
#[doc(hidden)]
#[macro_export]
macro_rules! __cfg_if_key {
    ([] { $($code:tt)* }) => { $($code)* };
    ([$internal:ident] { $($code:tt)* }) => {};
}

/// Expands its block only for required fields (declared without a default).
#[doc(hidden)]
#[macro_export]
macro_rules! __cfg_if_required {
    ([] { $($code:tt)* }) => { $($code)* };
    ([$($default:tt)+] { $($code:tt)* }) => {};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __cfg_owner {
    ($s:ident, $owner:literal) => {{
        let _ = $s;
        $owner
    }};
    ($s:ident, $owner:literal, $c:ident, $body:block) => {{
        let $c = $s;
        $body
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __cfg_preset {
    ($name:ident) => {{
        let _ = $name;
        Self::default()
    }};
    ($name:ident, $p:ident, $body:block) => {{
        let $p = $name;
        $body
    }};
}

/// Declares a config struct and generates everything of [`Config`] from its field list:
///
/// ```text
/// config! {
///     /// Hyperparameters of [`Sgd`].
///     #[derive(Copy)]
///     pub struct SgdConfig("sgd") {
///         /// Learning rate.
///         lr: f64 = 0.01 => LEARNING_RATE;       // type, default, range check
///         /// Nesterov momentum.
///         nesterov: bool = false;
///         /// Spec key `diff`, field `difference`.
///         difference as diff: Difference = Difference::Forward;
///         /// No default: the key is required.
///         sigma: f64 => NON_NEGATIVE;
///         /// Not a spec key (fixed by the registry name, kept in the state).
///         @internal decoupled: bool = false;
///     }
///     owner(c) { if c.decoupled { "adamw" } else { "adam" } }   // optional: the error/state name
///     validate(c) { ...; Ok(()) }                              // optional: relations between fields
///     preset(name) { ... }                                     // optional: defaults per registry name
///     on_set(c, name, old) { ... }                             // optional: after a hyperparameter changed
/// }
/// ```
///
/// The first paragraph of a field's doc comment is its one-line meaning in `descent list`.
#[macro_export]
macro_rules! config {
    (
        $(#[$meta:meta])*
        $vis:vis struct $Name:ident ($owner:literal) {
            $(
                $(#[doc = $doc:literal])*
                $(@$internal:ident)?
                $field:ident $(as $key:ident)? : $ty:ty $(= $default:expr)? $(=> $check:expr)? ;
            )*
        }
        $(owner($oc:ident) $owner_body:block)?
        $(validate($vc:ident) $validate_body:block)?
        $(preset($pn:ident) $preset_body:block)?
        $(on_set($hc:ident, $hn:ident, $ho:ident) $on_set_body:block)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        $vis struct $Name {
            $(
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = $crate::__cfg_default_doc!($($default)?)]
                pub $field: $ty,
            )*
        }

        impl Default for $Name {
            fn default() -> Self {
                $Name {
                    $( $field: $crate::__cfg_default!($ty $(, $default)?), )*
                }
            }
        }

        impl $Name {
            /// Each defaulted field with its default as written in the declaration (the text the
            /// rustdoc of the field shows), for tests that pin the rustdoc to `descent list`.
            #[doc(hidden)]
            pub const DOCUMENTED_DEFAULTS: &'static [(&'static str, &'static str)] =
                &[$( $( (stringify!($field), stringify!($default)), )? )*];

            /// Reads a spec of this config (keys, defaults and checks as declared); unknown keys
            /// are errors listing the valid ones.
            ///
            /// # Errors
            ///
            /// An unknown key (listing the valid ones), a value of the wrong type, a required key missing, or a value out of range, naming `name.key`.
            pub fn from_spec(spec: &descent_core::Spec) -> descent_core::Result<Self> {
                <Self as $crate::config::Config>::from_spec_with(spec, &[])
            }

            #[allow(unused_variables, clippy::needless_return)]
            fn __after_set(&mut self, name: &str, old: f64) {
                $( let ($hc, $hn, $ho) = (self, name, old); $on_set_body )?
            }
        }

        impl $crate::config::Config for $Name {
            fn owner(&self) -> &'static str {
                $crate::__cfg_owner!(self, $owner $(, $oc, $owner_body)?)
            }

            fn keys(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $( $crate::__cfg_if_key!([$($internal)?] {
                    $crate::config::Param::keys(
                        &self.$field, $crate::__cfg_key!($field $(, $key)?), &mut out,
                    );
                }); )*
                out
            }

            fn docs(&self) -> Vec<$crate::config::KeyDoc> {
                let mut out: Vec<$crate::config::KeyDoc> = Vec::new();
                $( $crate::__cfg_if_key!([$($internal)?] {
                    let doc = $crate::config::doc_line(&[$($doc),*]);
                    $crate::config::Param::describe(
                        &self.$field, $crate::__cfg_key!($field $(, $key)?), &doc, &mut out,
                    );
                    $crate::__cfg_if_required!([$($default)?] {
                        if let Some(last) = out.last_mut() {
                            last.required = true;
                        }
                    });
                }); )*
                out
            }

            fn read(&mut self, args: &descent_core::Args<'_>) -> descent_core::Result<()> {
                $( $crate::__cfg_if_key!([$($internal)?] {
                    let key = $crate::__cfg_key!($field $(, $key)?);
                    if $crate::config::Param::read(&mut self.$field, args, key)? {
                        $( $crate::config::check_spec_field(&self.$field, &$check, args, key)?; )?
                    }
                    $crate::__cfg_if_required!([$($default)?] {
                        if $crate::config::Param::is_unset(&self.$field) {
                            return Err(descent_core::Error::invalid(
                                args.field(key),
                                "nothing",
                                format!("{} (required)", $crate::config::Param::expected(&self.$field)),
                            ));
                        }
                    });
                }); )*
                Ok(())
            }

            fn validate(&self) -> descent_core::Result<()> {
                let owner = $crate::config::Config::owner(self);
                $( {
                    let key = $crate::__cfg_key!($field $(, $key)?);
                    $( $crate::config::check_field(&self.$field, &$check, owner, key)?; )?
                    let _ = key;
                } )*
                let _ = owner;
                $( {
                    let $vc = self;
                    let checked: descent_core::Result<()> = $validate_body;
                    checked?;
                } )?
                Ok(())
            }

            fn tunable(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $( $crate::__cfg_if_key!([$($internal)?] {
                    $crate::config::Param::tunable(&self.$field, stringify!($field), &mut out);
                }); )*
                out
            }

            fn accepts(&self, name: &str) -> bool {
                $( $crate::__cfg_if_key!([$($internal)?] {
                    if $crate::config::Param::accepts(&self.$field, stringify!($field), name) {
                        return true;
                    }
                }); )*
                false
            }

            fn get(&self, name: &str) -> Option<f64> {
                $( $crate::__cfg_if_key!([$($internal)?] {
                    if let Some(v) = $crate::config::Param::get(&self.$field, stringify!($field), name) {
                        return Some(v);
                    }
                }); )*
                None
            }

            fn set(&mut self, name: &str, value: f64) -> descent_core::Result<()> {
                let owner = $crate::config::Config::owner(self);
                $( $crate::__cfg_if_key!([$($internal)?] {
                    if $crate::config::Param::accepts(&self.$field, stringify!($field), name) {
                        let before = self.$field.clone();
                        let old = $crate::config::Param::get(&self.$field, stringify!($field), name)
                            .unwrap_or(f64::NAN);
                        $crate::config::Param::set(
                            &mut self.$field, owner, stringify!($field), name, value,
                        )?;
                        if let Err(e) = $crate::config::Config::validate(self) {
                            self.$field = before;
                            return Err(e);
                        }
                        self.__after_set(name, old);
                        return Ok(());
                    }
                }); )*
                Err($crate::config::unknown_hyper(
                    owner,
                    name,
                    &$crate::config::Config::tunable(self),
                ))
            }

            fn spec_text(&self) -> String {
                let mut parts: Vec<String> = Vec::new();
                $( $crate::__cfg_if_key!([$($internal)?] {
                    $crate::config::Param::write_spec(
                        &self.$field, $crate::__cfg_key!($field $(, $key)?), &mut parts,
                    );
                }); )*
                let owner = $crate::config::Config::owner(self);
                if parts.is_empty() {
                    owner.to_string()
                } else {
                    format!("{owner}({})", parts.join(", "))
                }
            }

            fn preset(name: &str) -> Self {
                $crate::__cfg_preset!(name $(, $pn, $preset_body)?)
            }
        }
    };
}

/// The `descent list` block of one entry: `name  summary` and one indented row per key.
pub fn describe(name: &str, summary: &str, keys: &[KeyDoc], out: &mut String) {
    let _ = writeln!(out, "  {name}  {summary}");
    let width = keys.iter().map(|k| k.head().len()).max().unwrap_or(0);
    for k in keys {
        let _ = writeln!(out, "      {:width$}  {}", k.head(), k.doc);
    }
}
