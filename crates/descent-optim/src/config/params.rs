//! The [`Param`] trait: how each type of config field is read from a spec, printed, checked
//! and tuned, with its implementations for numbers, flags, float formats, quantizers,
//! schedules, string lists and choice enums.

use super::*;

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
///
/// # Errors
///
/// A spec that is not a float format, an unknown rounding, or bits out of range.
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

/// The seed that marks the unset value of a required quantizer field. Every quantizer read from a
/// spec has seed 0 until its owner sets one from the run seed at build, so no given value has it.
const UNSET_QUANTIZER_SEED: u64 = u64::MAX;

/// A quantizer that must be given (`quantize(fmt=..)`); its unset value is fp64 with the seed
/// `u64::MAX` (a float format cannot be invalid, so the seed marks it).
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
        Quantizer::new(FloatFormat::FP64, descent_core::Rounding::Nearest)
            .with_seed(UNSET_QUANTIZER_SEED)
    }
    fn is_unset(&self) -> bool {
        self.seed == UNSET_QUANTIZER_SEED && self.format == FloatFormat::FP64
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
            ///
            /// # Errors
            ///
            /// A name that is not one of the choices (listed in the error).
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
