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

/// One row of `descent list`: a spec key, its default and its meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyDoc {
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
    pub fn apply(&self, field: impl FnOnce() -> String, x: f64) -> Result<()> {
        if (self.holds)(x) {
            Ok(())
        } else {
            Err(Error::invalid(field(), x, self.expected))
        }
    }

    /// Ok when `x`, written in a spec, passes.
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

/// `x` as short spec text: the shorter of plain and exponent notation (`0.01`, `1e-8`), so
/// `descent list` prints what a user would type; it parses back to the same number.
pub fn fmt_f64(x: f64) -> String {
    let plain = format!("{x}");
    let exp = format!("{x:e}");
    if exp.len() < plain.len() { exp } else { plain }
}

/// The type of a config field: how it is read from a spec, printed, checked and tuned.
/// Scalars read the key of their field; a field may stand for several keys (RBO's inner step
/// is `inner_lr` or `inner_c`).
pub trait Param: Sized + Clone {
    /// What a spec must give, for errors (`a number`, `true or false`).
    fn expected(&self) -> String;
    /// Reads the field from `args` into `self`; true when one of its keys was given.
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool>;
    /// The value as spec text; `None` when it is off (an unset option) or not given yet.
    fn text(&self) -> Option<String>;
    /// The spec keys the field reads.
    fn keys(&self, key: &'static str, out: &mut Vec<&'static str>) {
        out.push(key);
    }
    /// The `descent list` rows of the field with this value as the default.
    fn describe(&self, key: &'static str, doc: &str, out: &mut Vec<KeyDoc>) {
        out.push(KeyDoc::new(key, self.text(), doc));
    }
    /// Appends `key=value` for the spec text of a config (nothing when off).
    fn write_spec(&self, key: &'static str, out: &mut Vec<String>) {
        if let Some(t) = self.text() {
            out.push(format!("{key}={t}"));
        }
    }
    /// The number range checks apply to (`None`: no numeric value, the check is skipped).
    fn number(&self) -> Option<f64> {
        None
    }
    /// The value of a field declared without a default (required): not given yet.
    fn unset() -> Self {
        panic!("a required config field of this type is not supported")
    }
    /// True for [`Param::unset`].
    fn is_unset(&self) -> bool {
        false
    }
    /// The hyperparameter names of the field (`field` itself for a real number).
    fn tunable(&self, _field: &'static str, _out: &mut Vec<&'static str>) {}
    /// True when `name` is one of [`Param::tunable`] (without allocating).
    fn accepts(&self, _field: &'static str, _name: &str) -> bool {
        false
    }
    /// The current value of the hyperparameter `name`.
    fn get(&self, _field: &'static str, _name: &str) -> Option<f64> {
        None
    }
    /// Sets the hyperparameter `name` (one it accepts); `owner` names errors.
    fn set(&mut self, owner: &str, field: &'static str, name: &str, _value: f64) -> Result<()> {
        Err(Error::invalid(
            format!("{owner}.{field}"),
            name,
            "a tunable hyperparameter",
        ))
    }
}

impl Param for f64 {
    fn expected(&self) -> String {
        "a number".into()
    }
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
        Ok(args.f64_opt(key)?.map(|x| *self = x).is_some())
    }
    fn text(&self) -> Option<String> {
        (!self.is_nan()).then(|| fmt_f64(*self))
    }
    fn number(&self) -> Option<f64> {
        Some(*self)
    }
    fn unset() -> Self {
        f64::NAN
    }
    fn is_unset(&self) -> bool {
        self.is_nan()
    }
    fn tunable(&self, field: &'static str, out: &mut Vec<&'static str>) {
        out.push(field);
    }
    fn accepts(&self, field: &'static str, name: &str) -> bool {
        field == name
    }
    fn get(&self, field: &'static str, name: &str) -> Option<f64> {
        (field == name).then_some(*self)
    }
    fn set(&mut self, _owner: &str, _field: &'static str, _name: &str, value: f64) -> Result<()> {
        *self = value;
        Ok(())
    }
}

impl Param for bool {
    fn expected(&self) -> String {
        "true or false".into()
    }
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
        if !args.has(key) {
            return Ok(false);
        }
        *self = args.bool(key, *self)?;
        Ok(true)
    }
    fn text(&self) -> Option<String> {
        Some(if *self { "true" } else { "false" }.into())
    }
}

/// The integer fields (counts, sizes).
macro_rules! integer_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn expected(&self) -> String {
                "a non-negative integer".into()
            }
            fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
                if !args.has(key) {
                    return Ok(false);
                }
                *self = args.usize(key, 0)? as $t;
                Ok(true)
            }
            fn text(&self) -> Option<String> {
                Some(self.to_string())
            }
            fn number(&self) -> Option<f64> {
                Some(*self as f64)
            }
        }
    )*};
}

integer_param!(usize, u64);

impl Param for Option<f64> {
    fn expected(&self) -> String {
        "a number".into()
    }
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
        let v = args.f64_opt(key)?;
        if v.is_some() {
            *self = v;
        }
        Ok(v.is_some())
    }
    fn text(&self) -> Option<String> {
        self.map(fmt_f64)
    }
    fn number(&self) -> Option<f64> {
        *self
    }
}

/// The quantizer under `key` (a float-format spec such as `bf16` or `fmt(e=8, m=7,
/// round=stochastic)`), with errors naming `optimizer.key.field`.
pub fn quantizer(args: &Args<'_>, key: &str) -> Result<Option<Quantizer>> {
    let Some(s) = args.spec(key)? else {
        return Ok(None);
    };
    Quantizer::from_spec(s)
        .map(Some)
        .map_err(|e| nest_error(e, &args.field(key)))
}

/// Renames the field of an error from a nested spec (`fmt.m`) to `outer.m` (`adam.v.m`).
fn nest_error(e: Error, outer: &str) -> Error {
    match e {
        Error::InvalidValue {
            field,
            value,
            expected,
        } => {
            let tail = field.split_once('.').map_or(field.as_str(), |(_, t)| t);
            Error::invalid(format!("{outer}.{tail}"), value, expected)
        }
        other => other,
    }
}

const FORMAT_EXPECTED: &str = "a float format: fp32, tf32, fp16, bf16, e5m2, e4m3 or fmt(e=.., m=.., round=nearest|stochastic|toward_zero)";

impl Param for Option<Quantizer> {
    fn expected(&self) -> String {
        FORMAT_EXPECTED.into()
    }
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
        let q = quantizer(args, key)?;
        if q.is_some() {
            *self = q;
        }
        Ok(q.is_some())
    }
    fn text(&self) -> Option<String> {
        self.map(|q| q.to_string())
    }
}

/// A quantizer that must be given (`quantize(fmt=..)`); its unset value has 0 exponent bits.
impl Param for Quantizer {
    fn expected(&self) -> String {
        FORMAT_EXPECTED.into()
    }
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
        Ok(quantizer(args, key)?.map(|q| *self = q).is_some())
    }
    fn text(&self) -> Option<String> {
        (!self.is_unset()).then(|| self.to_string())
    }
    fn unset() -> Self {
        Quantizer::new(
            FloatFormat {
                exponent_bits: 0,
                ..FloatFormat::FP64
            },
            descent_core::Rounding::Nearest,
        )
    }
    fn is_unset(&self) -> bool {
        self.format.exponent_bits == 0
    }
}

/// The preset name of a format, or its `fmt(..)` text.
pub fn format_name(f: &FloatFormat) -> String {
    descent_core::float_format::FORMAT_PRESETS
        .iter()
        .find(|p| FloatFormat::preset(p).ok() == Some(*f))
        .map_or_else(|| f.to_string(), |p| p.to_string())
}

impl Param for FloatFormat {
    fn expected(&self) -> String {
        "a float format: fp64, fp32, tf32, fp16, bf16, e5m2, e4m3 or fmt(e=.., m=..)".into()
    }
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
        let Some(s) = args.spec(key)? else {
            return Ok(false);
        };
        *self = FloatFormat::from_spec(s).map_err(|e| nest_error(e, &args.field(key)))?;
        Ok(true)
    }
    fn text(&self) -> Option<String> {
        Some(format_name(self))
    }
}

impl Param for Option<Schedule> {
    fn expected(&self) -> String {
        Schedule::Constant.expected()
    }
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
        let mut s = Schedule::Constant;
        let given = s.read(args, key)?;
        if given {
            *self = Some(s);
        }
        Ok(given)
    }
    fn text(&self) -> Option<String> {
        self.as_ref().and_then(Param::text)
    }
}

/// A list of names (quoted strings or bare words), e.g. `symmetric=["M"]`.
impl Param for Vec<String> {
    fn expected(&self) -> String {
        "a list of names such as [\"M\"]".into()
    }
    fn read(&mut self, args: &Args<'_>, key: &'static str) -> Result<bool> {
        let Some(items) = args.list(key)? else {
            return Ok(false);
        };
        *self = items
            .iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s.clone()),
                Value::Spec(s) if s.args.is_empty() && s.short.is_none() => Ok(s.name.clone()),
                other => Err(Error::invalid(args.field(key), other, self.expected())),
            })
            .collect::<Result<_>>()?;
        Ok(true)
    }
    fn text(&self) -> Option<String> {
        (!self.is_empty()).then(|| {
            let items: Vec<String> = self
                .iter()
                .map(|s| Value::Str(s.clone()).to_string())
                .collect();
            format!("[{}]", items.join(", "))
        })
    }
}

/// `Param` for an enum of named choices with `NAMES`, `parse(field, text)` and `name()`.
#[macro_export]
macro_rules! choice_param {
    ($t:ty) => {
        impl $crate::config::Param for $t {
            fn expected(&self) -> String {
                format!("one of {}", <$t>::NAMES.join(", "))
            }
            fn read(
                &mut self,
                args: &descent_core::Args<'_>,
                key: &'static str,
            ) -> descent_core::Result<bool> {
                if !args.has(key) {
                    return Ok(false);
                }
                let name = args.choice(key, self.name(), &<$t>::NAMES)?;
                *self = <$t>::parse(&args.field(key), &name)?;
                Ok(true)
            }
            fn text(&self) -> Option<String> {
                Some(self.name().to_string())
            }
        }
    };
}

/// An enum of named choices for configs: the enum (serde by name), `NAMES`, `name()`,
/// `parse(field, text)` and its [`Param`].
#[macro_export]
macro_rules! spec_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $Name:ident {
            $( $(#[doc = $doc:literal])* $Variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        $vis enum $Name {
            $( $(#[doc = $doc])* #[serde(rename = $text)] $Variant, )+
        }

        impl $Name {
            /// The spec names, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The spec name.
            pub fn name(self) -> &'static str {
                match self { $( $Name::$Variant => $text, )+ }
            }

            /// Parses a spec name; errors name `field` and list the choices.
            pub fn parse(field: &str, s: &str) -> descent_core::Result<Self> {
                match s {
                    $( $text => Ok($Name::$Variant), )+
                    other => Err(descent_core::Error::invalid(
                        field,
                        other,
                        format!("one of {}", Self::NAMES.join(", ")),
                    )),
                }
            }
        }

        $crate::choice_param!($Name);
    };
}

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
#[doc(hidden)]
pub fn check_field<P: Param>(v: &P, check: &Check, owner: &str, key: &str) -> Result<()> {
    match v.number() {
        Some(x) => check.apply(|| format!("{owner}.{key}"), x),
        None => Ok(()),
    }
}

/// Range check of one field given in a spec (for [`config!`](crate::config!)).
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

/// The state of a transform or optimizer as plain, serde-serializable data: which method wrote
/// it (`kind`, checked on load), its config (the hyperparameters when it was saved), its own
/// typed state (moments, counters, random streams; booleans and enums as themselves) and the
/// states of nested transforms in order (chain members, partition groups, a schedule's or an
/// optimizer's inner transform).
///
/// In JSON (integers stay integers, every f64 round-trips bit for bit):
///
/// ```text
/// {"kind": "sgd",
///  "config": {"lr": 0.05, "momentum": 0.9, "dampening": 0.0, "nesterov": false, "weight_decay": 0.0},
///  "state": {"momentum_buffer": [0.1, -0.2, 0.05], "has_buf": true}}
/// ```
///
/// `config`, `state` and `children` are left out when empty. Loading restores the saved config
/// too, so hyperparameters changed by a schedule or `set_hyper` come back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransformState {
    /// Which transform wrote it (`"sgd"`, `"adam"`, `"chain"`, ...).
    pub kind: String,
    /// The config it ran with.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub config: serde_json::Value,
    /// Its own state (moments, counters), typed by the transform.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub state: serde_json::Value,
    /// The states of nested transforms, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<TransformState>,
}

/// Plain data as a JSON value (states and configs are plain data, so this cannot fail).
#[doc(hidden)]
pub fn to_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("configs and states are plain data")
}

impl TransformState {
    /// An empty state of this kind.
    pub fn new(kind: &str) -> Self {
        TransformState {
            kind: kind.to_string(),
            ..Default::default()
        }
    }

    /// Adds a nested state.
    pub fn with_child(mut self, child: TransformState) -> Self {
        self.children.push(child);
        self
    }

    /// Ok when the state was written by a transform of this kind.
    pub fn expect_kind(&self, kind: &str) -> Result<()> {
        if self.kind == kind {
            Ok(())
        } else {
            Err(Error::invalid(
                "transform state",
                format!("a state of kind '{}'", self.kind),
                format!("a state of kind '{kind}'"),
            ))
        }
    }

    /// The nested states, which must number `n`.
    pub fn expect_children(&self, n: usize) -> Result<&[TransformState]> {
        if self.children.len() == n {
            Ok(&self.children)
        } else {
            Err(Error::shape(
                format!("{} state children", self.kind),
                n,
                self.children.len(),
            ))
        }
    }

    /// The saved config as a value of `current`'s type, validated.
    pub fn read_config<C: Config>(&self, _current: &C) -> Result<C> {
        let cfg: C = serde_json::from_value(self.config.clone()).map_err(|e| {
            Error::invalid(
                format!("{} state config", self.kind),
                e,
                "the config of this transform",
            )
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The saved own state as a value of `current`'s type, whose vectors must have the same
    /// lengths as `current`'s and whose `dim` entries (parameter counts) the same values.
    pub fn read_state<T: Serialize + DeserializeOwned>(&self, current: &T) -> Result<T> {
        same_shape(&self.kind, "", &to_value(current), &self.state)?;
        serde_json::from_value(self.state.clone()).map_err(|e| {
            Error::invalid(
                format!("{} state", self.kind),
                e,
                "the state of this transform",
            )
        })
    }

    /// The resolved configuration tree (kinds, configs and nested configs, without the moments
    /// and counters): what a report logs beside its results.
    pub fn resolved(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("kind".into(), self.kind.clone().into());
        if !self.config.is_null() {
            m.insert("config".into(), self.config.clone());
        }
        if !self.children.is_empty() {
            m.insert(
                "children".into(),
                self.children.iter().map(|c| c.resolved()).collect(),
            );
        }
        serde_json::Value::Object(m)
    }
}

/// Arrays must keep their lengths, objects are compared key by key, and a `dim` entry (a
/// parameter count) must keep its value.
fn same_shape(
    kind: &str,
    path: &str,
    current: &serde_json::Value,
    saved: &serde_json::Value,
) -> Result<()> {
    use serde_json::Value as J;
    match (current, saved) {
        (J::Array(a), J::Array(b)) => {
            if a.len() != b.len() {
                return Err(Error::shape(
                    format!("{kind} state vector '{path}'"),
                    a.len(),
                    b.len(),
                ));
            }
            Ok(())
        }
        (J::Object(a), J::Object(b)) => {
            for (k, va) in a {
                let Some(vb) = b.get(k) else { continue };
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if k == "dim" && va != vb {
                    return Err(Error::shape(
                        format!("{kind} state '{p}' (parameter count)"),
                        va,
                        vb,
                    ));
                }
                same_shape(kind, &p, va, vb)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Reads a value of the same type as `like` from a JSON value (type inference for
/// [`plumbing!`](crate::plumbing!)).
#[doc(hidden)]
pub fn read_like<T: DeserializeOwned>(_like: &T, kind: &str, v: &serde_json::Value) -> Result<T> {
    serde_json::from_value(v.clone())
        .map_err(|e| Error::invalid(format!("{kind} state"), e, "a state of this transform"))
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plumb {
    // the config as a place
    (@cfg $s:ident [self]) => { (*$s) };
    (@cfg $s:ident [$f:ident]) => { $s.$f };

    (kind $s:ident [] $cfg:tt) => { $crate::config::Config::owner(&$crate::__plumb!(@cfg $s $cfg)) };
    (kind $s:ident [$kind:expr] $cfg:tt) => { $kind };

    (cfg_names $s:ident [] $out:ident) => {};
    (cfg_names $s:ident $cfg:tt $out:ident) => {
        $out.extend($crate::config::Config::tunable(&$crate::__plumb!(@cfg $s $cfg)));
    };
    (child_names $s:ident [] $out:ident) => {};
    (child_names $s:ident [$c:ident] $out:ident) => {
        for n in $s.$c.hyper_names() {
            if !$out.contains(&n) {
                $out.push(n);
            }
        }
    };

    (cfg_get $s:ident [] $name:ident) => {};
    (cfg_get $s:ident $cfg:tt $name:ident) => {
        if let Some(v) = $crate::config::Config::get(&$crate::__plumb!(@cfg $s $cfg), $name) {
            return Some(v);
        }
    };
    (child_get $s:ident [] $name:ident) => {};
    (child_get $s:ident [$c:ident] $name:ident) => {
        if let Some(v) = $s.$c.hyper($name) {
            return Some(v);
        }
    };

    (cfg_set $s:ident [] $name:ident $value:ident) => {};
    (cfg_set $s:ident $cfg:tt $name:ident $value:ident) => {
        if $crate::config::Config::accepts(&$crate::__plumb!(@cfg $s $cfg), $name) {
            return $crate::config::Config::set(&mut $crate::__plumb!(@cfg $s $cfg), $name, $value);
        }
    };
    (child_set $s:ident [] $name:ident $value:ident) => {};
    (child_set $s:ident [$c:ident] $name:ident $value:ident) => {
        return $s.$c.set_hyper($name, $value);
    };

    (cfg_value $s:ident []) => { serde_json::Value::Null };
    (cfg_value $s:ident $cfg:tt) => { $crate::config::to_value(&$crate::__plumb!(@cfg $s $cfg)) };
    (st_value $s:ident []) => { serde_json::Value::Null };
    (st_value $s:ident [$st:ident]) => { $crate::config::to_value(&$s.$st) };
    (members_names $s:ident [] $out:ident) => {};
    (members_names $s:ident [$m:ident] $out:ident) => {
        $out.extend($crate::transform::union_hyper_names(&$s.$m));
    };
    (members_get $s:ident [] $name:ident) => {};
    (members_get $s:ident [$m:ident] $name:ident) => {
        return $s.$m.iter().find_map(|m| m.hyper($name));
    };
    (members_set $s:ident $kind:tt [] $name:ident $value:ident) => {};
    (members_set $s:ident [$kind:expr] [$m:ident] $name:ident $value:ident) => {
        return $crate::transform::forward_hyper($kind, &mut $s.$m, $name, $value);
    };

    (children $s:ident [] []) => { Vec::new() };
    (children $s:ident [$c:ident] []) => { vec![$s.$c.state()] };
    (children $s:ident [] [$m:ident]) => { $s.$m.iter().map(|m| m.state()).collect() };
    (n_children $s:ident [] []) => { 0 };
    (n_children $s:ident [$c:ident] []) => { 1 };
    (n_children $s:ident [] [$m:ident]) => { $s.$m.len() };

    (cfg_read $s:ident [] $saved:ident $v:ident) => { let $v = (); };
    (cfg_read $s:ident $cfg:tt $saved:ident $v:ident) => {
        let $v = $saved.read_config(&$crate::__plumb!(@cfg $s $cfg))?;
    };
    (st_read $s:ident [] $saved:ident $v:ident) => { let $v = (); };
    (st_read $s:ident [$st:ident] $saved:ident $v:ident) => {
        let $v = $saved.read_state(&$s.$st)?;
    };
    (check $s:ident [] $v:ident) => { let _ = &$v; };
    (check $s:ident [$check:path] $v:ident) => { $check(&*$s, &$v)?; };
    (child_load $s:ident [] [] $children:ident) => { let _ = $children; };
    (child_load $s:ident [$c:ident] [] $children:ident) => { $s.$c.load_state(&$children[0])?; };
    (child_load $s:ident [] [$m:ident] $children:ident) => {
        for (m, c) in $s.$m.iter_mut().zip($children) {
            m.load_state(c)?;
        }
    };
    (cfg_commit $s:ident [] $v:ident) => { let _ = $v; };
    (cfg_commit $s:ident $cfg:tt $v:ident) => { $crate::__plumb!(@cfg $s $cfg) = $v; };
    (st_commit $s:ident [] $v:ident) => { let _ = $v; };
    (st_commit $s:ident [$st:ident] $v:ident) => { $s.$st = $v; };
}

/// Writes the hyperparameter and state plumbing of a [`crate::Transform`] or
/// [`crate::Optimizer`] impl from its parts, all optional, in this order:
///
/// ```text
/// plumbing! {
///     kind: "transform_optimizer",  // the state kind (default: the config's owner)
///     config: cfg,                  // a field implementing Config, or `self` for a config type
///     state: st,                    // a field of plain serde data (moments, counters)
///     child: base,                  // a nested transform or optimizer: state child 0; the
///                                   // hyperparameters the config lacks are forwarded to it
///     members: members,             // or nested transforms (a Vec, needs `kind`): states in
///                                   // order; a hyperparameter goes to every member having it
///     check: Self::check_state,     // fn(&Self, &State) -> Result<()>, before a load commits
/// }
/// ```
///
/// It generates `hyper_names`, `hyper`, `set_hyper` (allocation-free on success), `state` and
/// `load_state` (kind, children, config and state shapes checked before anything changes).
#[macro_export]
macro_rules! plumbing {
    (
        $(kind: $kind:expr,)?
        $(config: $cfg:tt,)?
        $(state: $st:ident,)?
        $(child: $child:ident,)?
        $(members: $members:ident,)?
        $(check: $check:path,)?
    ) => {
        $crate::plumbing!(
            @methods [$($kind)?] [$($cfg)?] [$($st)?] [$($child)?] [$($members)?] [$($check)?]
        );
    };
    (@methods $kind:tt $cfg:tt $st:tt $child:tt $members:tt $check:tt) => {
        fn hyper_names(&self) -> Vec<&'static str> {
            #[allow(unused_mut)]
            let mut out: Vec<&'static str> = Vec::new();
            $crate::__plumb!(cfg_names self $cfg out);
            $crate::__plumb!(child_names self $child out);
            $crate::__plumb!(members_names self $members out);
            out
        }

        #[allow(unreachable_code)]
        fn hyper(&self, name: &str) -> Option<f64> {
            $crate::__plumb!(cfg_get self $cfg name);
            $crate::__plumb!(child_get self $child name);
            $crate::__plumb!(members_get self $members name);
            let _ = name;
            None
        }

        #[allow(unreachable_code)]
        fn set_hyper(&mut self, name: &str, value: f64) -> descent_core::Result<()> {
            $crate::__plumb!(cfg_set self $cfg name value);
            $crate::__plumb!(child_set self $child name value);
            $crate::__plumb!(members_set self $kind $members name value);
            let _ = value;
            Err($crate::config::unknown_hyper(
                $crate::__plumb!(kind self $kind $cfg),
                name,
                &self.hyper_names(),
            ))
        }

        fn state(&self) -> $crate::config::TransformState {
            $crate::config::TransformState {
                kind: $crate::__plumb!(kind self $kind $cfg).to_string(),
                config: $crate::__plumb!(cfg_value self $cfg),
                state: $crate::__plumb!(st_value self $st),
                children: $crate::__plumb!(children self $child $members),
            }
        }

        #[allow(clippy::let_unit_value)]
        fn load_state(
            &mut self,
            saved: &$crate::config::TransformState,
        ) -> descent_core::Result<()> {
            saved.expect_kind($crate::__plumb!(kind self $kind $cfg))?;
            let children = saved.expect_children($crate::__plumb!(n_children self $child $members))?;
            $crate::__plumb!(cfg_read self $cfg saved new_config);
            $crate::__plumb!(st_read self $st saved new_state);
            $crate::__plumb!(check self $check new_state);
            $crate::__plumb!(child_load self $child $members children);
            $crate::__plumb!(cfg_commit self $cfg new_config);
            $crate::__plumb!(st_commit self $st new_state);
            Ok(())
        }
    };
}

/// Deserializes plain data (for tests and tools reading saved states).
pub fn from_value<T: for<'de> Deserialize<'de>>(v: &serde_json::Value) -> Result<T> {
    serde_json::from_value(v.clone())
        .map_err(|e| Error::invalid("state", e, "plain data of the expected type"))
}

/// The `descent list` block of one entry: `name  summary` and one indented row per key.
pub fn describe(name: &str, summary: &str, keys: &[KeyDoc], out: &mut String) {
    let _ = writeln!(out, "  {name}  {summary}");
    let width = keys.iter().map(|k| k.head().len()).max().unwrap_or(0);
    for k in keys {
        let _ = writeln!(out, "      {:width$}  {}", k.head(), k.doc);
    }
}
