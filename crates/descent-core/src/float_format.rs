//! Simulated floating-point formats (DESIGN §3 "Numbers", P7): [`FloatFormat`] describes a binary
//! format by its exponent and mantissa widths, subnormals and overflow behaviour, and
//! [`Quantizer`] rounds `f64` values onto it, to nearest-even, toward zero, or stochastically
//! with randomness from a counter-based hash of (seed, step, index) so that runs are
//! reproducible whatever the thread count.
//!
//! Rounding is done on the integer significand of the `f64` input (no intermediate `f32` cast and
//! no floating-point division), so every `f64` is rounded exactly once, as hardware would round
//! the exact value. The relative-error model of P7 (Assumption 3.1, |Q(x) − x| ≤ q|x|) holds in
//! the normal range with q = 2^−(M+1) for nearest and q = 2^−M for stochastic and toward-zero.
//!
//! Format text (the spec grammar of [`crate::spec`]): a preset `fp32`, `tf32`, `fp16`, `bf16`,
//! `e5m2`, `e4m3` (also `fp8_e5m2`, `fp8_e4m3`), or `fmt(e=8, m=7, subnormals=true,
//! overflow=inf|saturate, finite_only=false)`; a preset also takes these keys to override one
//! field, and every form takes `round=nearest|stochastic|toward_zero` for a [`Quantizer`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rng::splitmix64;
use crate::{Error, Result, Spec};

/// What happens to values whose rounded magnitude exceeds the largest finite value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// ±infinity (IEEE 754); NaN for a format without infinities (`finite_only`).
    Inf,
    /// ±the largest finite value (saturating casts, OCP FP8 "satfinite").
    Saturate,
}

/// How a value between two representable neighbours is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Round to nearest, ties to even (IEEE 754 default; bit-exact with hardware casts).
    Nearest,
    /// Up with probability (x − lo)/(hi − lo), so E[Q(x)] = x (unbiased).
    Stochastic,
    /// Truncation of the mantissa.
    TowardZero,
}

impl Rounding {
    /// The names [`Rounding::parse`] accepts.
    pub const NAMES: [&'static str; 3] = ["nearest", "stochastic", "toward_zero"];

    /// Parses `nearest`, `stochastic` or `toward_zero` (also `rtn`, `sr`, `rtz`).
    ///
    /// # Errors
    ///
    /// A name other than `nearest`, `stochastic` or `toward_zero` (naming `field`).
    pub fn parse(field: &str, s: &str) -> Result<Rounding> {
        match s {
            "nearest" | "rtn" => Ok(Rounding::Nearest),
            "stochastic" | "sr" => Ok(Rounding::Stochastic),
            "toward_zero" | "rtz" => Ok(Rounding::TowardZero),
            other => Err(Error::invalid(
                field,
                other,
                "one of nearest, stochastic, toward_zero",
            )),
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Rounding::Nearest => "nearest",
            Rounding::Stochastic => "stochastic",
            Rounding::TowardZero => "toward_zero",
        }
    }
}

/// A binary floating-point format: sign, `exponent_bits` of biased exponent and `mantissa_bits`
/// of explicit mantissa (bias 2^(E−1) − 1). IEEE-like unless `finite_only`, in which case the
/// all-ones exponent holds finite numbers too and only the all-ones mantissa there is NaN (the
/// OCP E4M3FN convention, max 448 for E4M3). Every format is a subset of `f64`
/// (2 ≤ E ≤ 11, 0 ≤ M ≤ 52).
///
/// The fields are private so that every format is valid: build one with [`FloatFormat::new`],
/// [`FloatFormat::preset`], [`FloatFormat::from_spec`] or a constant, change the flags with the
/// `with_*` methods, and read them with the accessors. Deserializing validates too.
///
/// ```
/// use descent_core::{FloatFormat, Overflow};
///
/// let bf16 = FloatFormat::new(8, 7)?;
/// assert_eq!(bf16, FloatFormat::BF16);
/// assert_eq!((bf16.exponent_bits(), bf16.mantissa_bits()), (8, 7));
/// let saturating = FloatFormat::E5M2.with_overflow(Overflow::Saturate);
/// assert_eq!(saturating.max_finite(), 57344.0);
/// let err = FloatFormat::new(12, 7).unwrap_err().to_string();
/// assert!(err.contains("fmt.e") && err.contains("12") && err.contains("[2, 11]"), "{err}");
/// # Ok::<(), descent_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FloatFormatFields")]
pub struct FloatFormat {
    /// Exponent bits e (8 for fp32 and bf16).
    exponent_bits: u32,
    /// Explicit mantissa bits m (23 for fp32, 7 for bf16).
    mantissa_bits: u32,
    /// Gradual underflow; without it the values below 2^emin are 0 or ±2^emin.
    subnormals: bool,
    /// What a value beyond the largest finite number becomes.
    overflow: Overflow,
    /// No infinities: the top exponent holds finite values (OCP E4M3FN).
    finite_only: bool,
}

/// The serialized form of a [`FloatFormat`], validated into one on deserialization.
#[derive(Deserialize)]
struct FloatFormatFields {
    exponent_bits: u32,
    mantissa_bits: u32,
    subnormals: bool,
    overflow: Overflow,
    finite_only: bool,
}

impl TryFrom<FloatFormatFields> for FloatFormat {
    type Error = Error;

    fn try_from(f: FloatFormatFields) -> Result<Self> {
        let format = FloatFormat {
            exponent_bits: f.exponent_bits,
            mantissa_bits: f.mantissa_bits,
            subnormals: f.subnormals,
            overflow: f.overflow,
            finite_only: f.finite_only,
        };
        format.validate()?;
        Ok(format)
    }
}

/// The preset names [`FloatFormat::preset`] knows.
pub const FORMAT_PRESETS: &[&str] = &[
    "fp32", "tf32", "fp16", "bf16", "e5m2", "e4m3", "fp8_e5m2", "fp8_e4m3", "fp64",
];

impl FloatFormat {
    /// A validated IEEE-like format with subnormals and overflow to infinity.
    ///
    /// # Errors
    ///
    /// Bit counts outside the simulated range (see [`FloatFormat::validate`]).
    pub fn new(exponent_bits: u32, mantissa_bits: u32) -> Result<Self> {
        let f = FloatFormat {
            exponent_bits,
            mantissa_bits,
            subnormals: true,
            overflow: Overflow::Inf,
            finite_only: false,
        };
        f.validate()?;
        Ok(f)
    }

    /// IEEE binary64 (the identity on `f64`).
    pub const FP64: FloatFormat = Self::ieee(11, 52);
    /// IEEE binary32.
    pub const FP32: FloatFormat = Self::ieee(8, 23);
    /// NVIDIA TensorFloat-32: E8M10.
    pub const TF32: FloatFormat = Self::ieee(8, 10);
    /// IEEE binary16.
    pub const FP16: FloatFormat = Self::ieee(5, 10);
    /// bfloat16: E8M7.
    pub const BF16: FloatFormat = Self::ieee(8, 7);
    /// OCP FP8 E5M2 (IEEE-like, with infinities).
    pub const E5M2: FloatFormat = Self::ieee(5, 2);
    /// OCP FP8 E4M3FN: no infinities, max 448, saturating.
    pub const E4M3: FloatFormat = FloatFormat {
        exponent_bits: 4,
        mantissa_bits: 3,
        subnormals: true,
        overflow: Overflow::Saturate,
        finite_only: true,
    };

    const fn ieee(e: u32, m: u32) -> FloatFormat {
        FloatFormat {
            exponent_bits: e,
            mantissa_bits: m,
            subnormals: true,
            overflow: Overflow::Inf,
            finite_only: false,
        }
    }

    /// Exponent bits e, in [2, 11] (8 for fp32 and bf16).
    pub const fn exponent_bits(&self) -> u32 {
        self.exponent_bits
    }

    /// Explicit mantissa bits m, in [0, 52] (23 for fp32, 7 for bf16).
    pub const fn mantissa_bits(&self) -> u32 {
        self.mantissa_bits
    }

    /// Gradual underflow; without it the values below 2^emin are 0 or ±2^emin.
    pub const fn subnormals(&self) -> bool {
        self.subnormals
    }

    /// What a value beyond the largest finite number becomes.
    pub const fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// No infinities: the top exponent holds finite values (OCP E4M3FN).
    pub const fn finite_only(&self) -> bool {
        self.finite_only
    }

    /// The same format with or without subnormals (every combination is valid).
    pub const fn with_subnormals(mut self, subnormals: bool) -> Self {
        self.subnormals = subnormals;
        self
    }

    /// The same format with another overflow behaviour.
    pub const fn with_overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// The same format with or without infinities (with them off, the top exponent holds
    /// finite values and only its all-ones mantissa is NaN).
    pub const fn with_finite_only(mut self, finite_only: bool) -> Self {
        self.finite_only = finite_only;
        self
    }

    /// P7's sweep format E8M`m`: f32's exponent range with `m` mantissa bits.
    ///
    /// # Errors
    ///
    /// A mantissa width outside the simulated range.
    pub fn e8(mantissa_bits: u32) -> Result<Self> {
        Self::new(8, mantissa_bits)
    }

    /// A preset by name (see [`FORMAT_PRESETS`]).
    ///
    /// # Errors
    ///
    /// A name that is not a preset; the error lists them.
    pub fn preset(name: &str) -> Result<Self> {
        Ok(match name {
            "fp64" => Self::FP64,
            "fp32" => Self::FP32,
            "tf32" => Self::TF32,
            "fp16" => Self::FP16,
            "bf16" => Self::BF16,
            "e5m2" | "fp8_e5m2" => Self::E5M2,
            "e4m3" | "fp8_e4m3" => Self::E4M3,
            other => {
                let mut valid = FORMAT_PRESETS.to_vec();
                valid.push("fmt");
                return Err(Error::unknown_name("float format", other, &valid));
            }
        })
    }

    /// Checks the widths; errors name `fmt.e` / `fmt.m`.
    ///
    /// # Errors
    ///
    /// Exponent or mantissa bits outside what an f64 can simulate exactly, naming the field.
    pub fn validate(&self) -> Result<()> {
        if !(2..=11).contains(&self.exponent_bits) {
            return Err(Error::invalid(
                "fmt.e",
                self.exponent_bits,
                "exponent bits in [2, 11]",
            ));
        }
        if self.mantissa_bits > 52 {
            return Err(Error::invalid(
                "fmt.m",
                self.mantissa_bits,
                "mantissa bits in [0, 52]",
            ));
        }
        if self.finite_only && self.exponent_bits + self.mantissa_bits < 2 {
            return Err(Error::invalid(
                "fmt.finite_only",
                "true",
                "a format with some finite values",
            ));
        }
        Ok(())
    }

    /// The exponent bias 2^(E−1) − 1.
    pub fn bias(&self) -> i32 {
        (1 << (self.exponent_bits - 1)) - 1
    }

    /// The smallest normal exponent, 1 − bias.
    pub fn emin(&self) -> i32 {
        1 - self.bias()
    }

    /// Whether the top exponent code holds finite values: in a `finite_only` format (OCP
    /// E4M3FN convention) only its all-ones mantissa is NaN, so it does when M ≥ 1; with M = 0
    /// that single code is the NaN (as in OCP MX E8M0) and the top binade has no finite value.
    fn top_exponent_is_finite(&self) -> bool {
        self.finite_only && self.mantissa_bits > 0
    }

    /// The largest exponent of a finite value.
    pub fn emax(&self) -> i32 {
        let top = (1 << self.exponent_bits) - 1;
        if self.top_exponent_is_finite() {
            top - self.bias()
        } else {
            top - 1 - self.bias()
        }
    }

    /// The largest finite value: (2 − 2^−M)·2^emax, or (2 − 2^(1−M))·2^emax when the top
    /// mantissa of a `finite_only` format is NaN (448 for E4M3FN). A `finite_only` format with
    /// M = 0 has one code per exponent, the top one NaN, so its largest finite value is
    /// 2^(2^E − 2 − bias) (2^127 for E8M0, as OCP MX specifies), not 0.
    pub fn max_finite(&self) -> f64 {
        let m = self.mantissa_bits as i32;
        let top = if self.top_exponent_is_finite() {
            (1u64 << (m + 1)) - 2
        } else {
            (1u64 << (m + 1)) - 1
        };
        scale(top, self.emax() - m)
    }

    /// The smallest positive normal value 2^emin.
    pub fn min_normal(&self) -> f64 {
        scale(1, self.emin())
    }

    /// The smallest positive value (2^(emin−M) with subnormals, else 2^emin).
    pub fn min_positive(&self) -> f64 {
        if self.subnormals {
            scale(1, self.emin() - self.mantissa_bits as i32)
        } else {
            self.min_normal()
        }
    }

    /// Machine epsilon 2^−M (the spacing of values in [1, 2)).
    pub fn epsilon(&self) -> f64 {
        scale(1, -(self.mantissa_bits as i32))
    }

    /// The relative-error bound q of P7's Assumption 3.1 in the normal range: 2^−(M+1) for
    /// nearest, 2^−M for stochastic rounding and truncation.
    pub fn relative_error(&self, rounding: Rounding) -> f64 {
        match rounding {
            Rounding::Nearest => self.epsilon() / 2.0,
            Rounding::Stochastic | Rounding::TowardZero => self.epsilon(),
        }
    }

    /// Rounds to nearest, ties to even.
    pub fn round_nearest(&self, x: f64) -> f64 {
        self.round_with(x, Rounding::Nearest, 0)
    }

    /// Truncates toward zero.
    pub fn round_toward_zero(&self, x: f64) -> f64 {
        self.round_with(x, Rounding::TowardZero, 0)
    }

    /// Rounds stochastically using the 64 random bits `bits` (up with probability
    /// (x − lo)/(hi − lo), exact to 2^−64).
    pub fn round_stochastic(&self, x: f64, bits: u64) -> f64 {
        self.round_with(x, Rounding::Stochastic, bits)
    }

    /// Rounds `x` onto the format. `bits` is used by stochastic rounding only.
    pub fn round_with(&self, x: f64, rounding: Rounding, bits: u64) -> f64 {
        if x.is_nan() {
            return x;
        }
        if x.is_infinite() {
            return self.overflowed(x.is_sign_negative());
        }
        if x == 0.0 {
            return x;
        }
        let raw = x.to_bits();
        let neg = raw >> 63 == 1;
        let biased = ((raw >> 52) & 0x7ff) as i32;
        let frac = raw & ((1u64 << 52) - 1);
        // x = s · 2^p exactly, s < 2^53.
        let (s, p, e) = if biased == 0 {
            let e = -1022 - (frac.leading_zeros() as i32 - 11);
            (frac, -1074, e)
        } else {
            (frac | (1u64 << 52), biased - 1075, biased - 1023)
        };
        let m = self.mantissa_bits as i32;
        let emin = self.emin();
        // exponent of the target grid's spacing
        let q = if e >= emin {
            e - m
        } else if self.subnormals {
            emin - m
        } else {
            emin
        };
        let k = q - p; // bits to drop
        let n: u64 = if k <= 0 {
            return self.check_range(x, neg, rounding);
        } else if k >= 64 + 54 {
            // far below half the spacing: only stochastic rounding can go up, with
            // probability < 2^-64, which 64 random bits cannot express
            0
        } else {
            let s = s as u128;
            let kk = k as u32;
            let n = (s >> kk) as u64;
            let r = s & ((1u128 << kk) - 1);
            let half = 1u128 << (kk - 1);
            let up = match rounding {
                Rounding::TowardZero => false,
                Rounding::Nearest => r > half || (r == half && n & 1 == 1),
                Rounding::Stochastic => {
                    // up iff u < r / 2^k with u uniform on 64-bit fractions
                    let threshold = if kk <= 64 {
                        r << (64 - kk)
                    } else {
                        r >> (kk - 64)
                    };
                    (bits as u128) < threshold
                }
            };
            n + up as u64
        };
        let v = scale(n, q);
        let v = if neg { -v } else { v };
        self.check_range(v, neg, rounding)
    }

    /// IEEE 754: truncation never overflows to infinity, it stops at the largest finite value.
    fn check_range(&self, v: f64, neg: bool, rounding: Rounding) -> f64 {
        if v.abs() > self.max_finite() {
            if rounding == Rounding::TowardZero {
                return if neg {
                    -self.max_finite()
                } else {
                    self.max_finite()
                };
            }
            self.overflowed(neg)
        } else {
            v
        }
    }

    fn overflowed(&self, neg: bool) -> f64 {
        let v = match (self.overflow, self.finite_only) {
            (Overflow::Saturate, _) => self.max_finite(),
            (Overflow::Inf, false) => f64::INFINITY,
            (Overflow::Inf, true) => return f64::NAN,
        };
        if neg { -v } else { v }
    }

    /// Every non-negative finite value of the format in increasing order (for tests and
    /// small formats; `2^(E+M)` values).
    pub fn enumerate_non_negative(&self) -> Vec<f64> {
        let m = self.mantissa_bits as i32;
        let mut out = vec![0.0];
        if self.subnormals {
            for f in 1..(1u64 << m) {
                out.push(scale(f, self.emin() - m));
            }
        }
        for e in self.emin()..=self.emax() {
            for f in 0..(1u64 << m) {
                let v = scale((1u64 << m) | f, e - m);
                if v <= self.max_finite() {
                    out.push(v);
                }
            }
        }
        out
    }

    /// Builds a format from a spec: a preset name (optionally with overrides) or
    /// `fmt(e=.., m=.., subnormals=.., overflow=inf|saturate, finite_only=..)`. The key `round`
    /// is allowed (and ignored here) so that [`Quantizer::from_spec`] can share the text.
    ///
    /// # Errors
    ///
    /// An unknown preset or key, or bits out of range.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        let a = spec.args(&["e", "m", "subnormals", "overflow", "finite_only", "round"])?;
        let base = if spec.name == "fmt" {
            let e = a.usize("e", 8)?;
            let m = a.usize("m", 23)?;
            if !a.has("m") {
                return Err(Error::invalid(
                    "fmt.m",
                    "nothing",
                    "mantissa bits (required), e.g. fmt(e=8, m=7)",
                ));
            }
            FloatFormat {
                exponent_bits: e.min(1_000_000) as u32,
                mantissa_bits: m.min(1_000_000) as u32,
                ..Self::FP32
            }
        } else {
            let mut p = Self::preset(&spec.name)?;
            if a.has("e") {
                p.exponent_bits = a.usize("e", 8)?.min(1_000_000) as u32;
            }
            if a.has("m") {
                p.mantissa_bits = a.usize("m", 23)?.min(1_000_000) as u32;
            }
            p
        };
        let overflow = match a
            .choice(
                "overflow",
                match base.overflow {
                    Overflow::Inf => "inf",
                    Overflow::Saturate => "saturate",
                },
                &["inf", "saturate"],
            )?
            .as_str()
        {
            "saturate" => Overflow::Saturate,
            _ => Overflow::Inf,
        };
        let f = FloatFormat {
            subnormals: a.bool("subnormals", base.subnormals)?,
            finite_only: a.bool("finite_only", base.finite_only)?,
            overflow,
            ..base
        };
        f.validate()?;
        Ok(f)
    }
}

impl fmt::Display for FloatFormat {
    /// The spec text [`FloatFormat::from_spec`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fmt(e={}, m={}", self.exponent_bits, self.mantissa_bits)?;
        if !self.subnormals {
            f.write_str(", subnormals=false")?;
        }
        if self.overflow == Overflow::Saturate {
            f.write_str(", overflow=saturate")?;
        }
        if self.finite_only {
            f.write_str(", finite_only=true")?;
        }
        f.write_str(")")
    }
}

/// n · 2^q exactly (n < 2^54, −1126 < q < 1024, result representable in f64).
fn scale(n: u64, q: i32) -> f64 {
    let n = n as f64;
    if q >= -1022 {
        n * pow2(q.min(1023))
    } else {
        n * pow2(q + 200) * pow2(-200)
    }
}

/// 2^q for −1074 ≤ q ≤ 1023, built from bits.
fn pow2(q: i32) -> f64 {
    if q >= -1022 {
        f64::from_bits(((q + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (q + 1074))
    }
}

/// 64 random bits from a counter-based hash of (seed, step, index): equal inputs give equal
/// bits, so stochastic rounding needs no RNG state and is independent of evaluation order.
#[inline]
pub fn hash_bits(seed: u64, step: u64, index: u64) -> u64 {
    splitmix64(splitmix64(seed ^ splitmix64(step)) ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A format plus a rounding mode and a seed: the quantizer Q of P7 applied to one component
/// (weights, gradients, first or second moment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quantizer {
    /// The simulated format.
    pub format: FloatFormat,
    /// How values between two representable numbers are rounded.
    pub rounding: Rounding,
    /// Seed of the stochastic-rounding hash (set by the owner from its run seed).
    pub seed: u64,
}

impl Quantizer {
    /// A quantizer with seed 0 (see [`Quantizer::with_seed`]).
    pub fn new(format: FloatFormat, rounding: Rounding) -> Self {
        Quantizer {
            format,
            rounding,
            seed: 0,
        }
    }

    /// The same quantizer with another stochastic-rounding seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Builds from a format spec with an optional `round=` key (default nearest), e.g.
    /// `fmt(e=8, m=7, round=stochastic)` or `bf16(round=nearest)`.
    ///
    /// # Errors
    ///
    /// An unknown format, key or rounding mode.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        let format = FloatFormat::from_spec(spec)?;
        let a = spec.args(&["e", "m", "subnormals", "overflow", "finite_only", "round"])?;
        let round = a.choice(
            "round",
            "nearest",
            &["nearest", "stochastic", "toward_zero", "rtn", "sr", "rtz"],
        )?;
        Ok(Quantizer::new(
            format,
            Rounding::parse(&format!("{}.round", spec.name), &round)?,
        ))
    }

    /// Q(x) for element `index` at `step` (the pair feeds the stochastic-rounding hash).
    #[inline]
    pub fn quantize(&self, x: f64, step: u64, index: u64) -> f64 {
        let bits = if self.rounding == Rounding::Stochastic {
            hash_bits(self.seed, step, index)
        } else {
            0
        };
        self.format.round_with(x, self.rounding, bits)
    }

    /// Quantizes a slice in place; element i uses index `offset + i`.
    pub fn quantize_slice(&self, xs: &mut [f64], step: u64, offset: u64) {
        for (i, x) in xs.iter_mut().enumerate() {
            *x = self.quantize(*x, step, offset + i as u64);
        }
    }
}

impl fmt::Display for Quantizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.format.to_string();
        write!(f, "{}, round={})", &s[..s.len() - 1], self.rounding.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_constants() {
        assert_eq!(FloatFormat::E4M3.max_finite(), 448.0);
        assert_eq!(FloatFormat::E5M2.max_finite(), 57344.0);
        assert_eq!(FloatFormat::FP16.max_finite(), 65504.0);
        assert_eq!(FloatFormat::FP32.max_finite(), f32::MAX as f64);
        assert_eq!(FloatFormat::BF16.max_finite(), 3.3895313892515355e38);
        assert_eq!(FloatFormat::FP64.max_finite(), f64::MAX);
        assert_eq!(FloatFormat::FP16.min_positive(), 2f64.powi(-24));
        assert_eq!(FloatFormat::E4M3.min_positive(), 2f64.powi(-9));
        assert_eq!(FloatFormat::FP32.min_normal(), f32::MIN_POSITIVE as f64);
        assert_eq!(FloatFormat::E4M3.enumerate_non_negative().len(), 127);
        assert_eq!(FloatFormat::E5M2.enumerate_non_negative().len(), 124);
    }

    #[test]
    fn overflow_modes() {
        let e4 = FloatFormat::E4M3;
        assert_eq!(e4.round_nearest(460.0), 448.0);
        assert_eq!(e4.round_nearest(1e6), 448.0);
        assert_eq!(e4.round_nearest(-f64::INFINITY), -448.0);
        let mut e4_inf = e4;
        e4_inf.overflow = Overflow::Inf;
        assert!(e4_inf.round_nearest(1e6).is_nan());
        assert_eq!(e4_inf.round_nearest(460.0), 448.0);
        let e5 = FloatFormat::E5M2;
        assert_eq!(e5.round_nearest(61440.0), f64::INFINITY); // tie above max rounds to even = inf
        assert_eq!(e5.round_nearest(61439.0), 57344.0);
        let mut e5s = e5;
        e5s.overflow = Overflow::Saturate;
        assert_eq!(e5s.round_nearest(-1e9), -57344.0);
    }

    #[test]
    fn finite_only_without_mantissa_bits_keeps_its_finite_powers_of_two() {
        // E8M0 (OCP MX scale format): 255 codes 2^-127..2^127 and one NaN; no zero is stored
        // there, but the simulated format keeps 0 as every format here does.
        let spec = Spec::parse("fmt(e=8, m=0, finite_only=true, overflow=saturate)").unwrap();
        let e8m0 = FloatFormat::from_spec(&spec).unwrap();
        assert_eq!(e8m0.emax(), 127);
        assert_eq!(e8m0.max_finite(), 2f64.powi(127));
        assert_eq!(e8m0.round_nearest(1e38), 2f64.powi(126)); // 1e38 = 1.18·2^126
        assert_eq!(e8m0.round_nearest(3.0), 4.0); // tie 1.5·2^1 to even mantissa
        assert_eq!(e8m0.round_nearest(-5.0), -4.0);
        assert_eq!(e8m0.round_nearest(3e38), 2f64.powi(127)); // 2^128 saturates
        assert_eq!(e8m0.round_toward_zero(f64::MAX), 2f64.powi(127));
        let mut nan_on_overflow = e8m0;
        nan_on_overflow.overflow = Overflow::Inf;
        assert!(nan_on_overflow.round_nearest(3e38).is_nan());
        assert_eq!(nan_on_overflow.round_nearest(1.5e38), 2f64.powi(127));
        // E3M0 finite-only: 8 codes, one NaN, so 7 finite non-negative values up to 2^3
        let mut e3m0 = FloatFormat::new(3, 0).unwrap();
        e3m0.finite_only = true;
        assert_eq!(
            e3m0.enumerate_non_negative(),
            vec![0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
        );
        // with mantissa bits the top binade keeps all codes but the all-ones NaN
        let mut e3m1 = FloatFormat::new(3, 1).unwrap();
        e3m1.finite_only = true;
        assert_eq!(e3m1.max_finite(), 16.0);
        assert_eq!(e3m1.enumerate_non_negative().len(), 16 - 1);
    }

    #[test]
    fn subnormals_and_flush() {
        let f = FloatFormat::FP16;
        let tiny = 2f64.powi(-24);
        assert_eq!(f.round_nearest(tiny * 0.5), 0.0); // tie to even (0)
        assert_eq!(f.round_nearest(tiny * 0.51), tiny);
        assert_eq!(f.round_nearest(tiny * 1.5), 2.0 * tiny);
        let mut nf = f;
        nf.subnormals = false;
        let mn = 2f64.powi(-14);
        assert_eq!(nf.round_nearest(mn * 0.4), 0.0);
        assert_eq!(nf.round_nearest(mn * 0.6), mn);
        assert_eq!(nf.round_toward_zero(mn * 0.99), 0.0);
        assert_eq!(f.round_nearest(-0.0).to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn spec_parsing_and_errors() {
        let q =
            Quantizer::from_spec(&Spec::parse("fmt(e=8, m=7, round=stochastic)").unwrap()).unwrap();
        assert_eq!(q.format, FloatFormat::BF16);
        assert_eq!(q.rounding, Rounding::Stochastic);
        assert_eq!(q.to_string(), "fmt(e=8, m=7, round=stochastic)");
        let q = Quantizer::from_spec(&Spec::parse("e4m3").unwrap()).unwrap();
        assert_eq!(q.format, FloatFormat::E4M3);
        assert_eq!(q.rounding, Rounding::Nearest);
        let f =
            FloatFormat::from_spec(&Spec::parse("bf16(m=3, overflow=saturate)").unwrap()).unwrap();
        assert_eq!((f.exponent_bits, f.mantissa_bits), (8, 3));
        assert_eq!(f.overflow, Overflow::Saturate);
        let back = FloatFormat::from_spec(&Spec::parse(&f.to_string()).unwrap()).unwrap();
        assert_eq!(back, f);
        let e = |t: &str| {
            Quantizer::from_spec(&Spec::parse(t).unwrap())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("fmt(e=12, m=3)"),
            "invalid value for 'fmt.e': got 12, expected exponent bits in [2, 11]"
        );
        assert_eq!(
            e("fmt(e=8, m=60)"),
            "invalid value for 'fmt.m': got 60, expected mantissa bits in [0, 52]"
        );
        assert_eq!(
            e("fmt(e=8)"),
            "invalid value for 'fmt.m': got nothing, expected mantissa bits (required), e.g. fmt(e=8, m=7)"
        );
        assert_eq!(
            e("fmt(m=3, round=up)"),
            "invalid value for 'fmt.round': got up, expected one of nearest, stochastic, toward_zero, rtn, sr, rtz"
        );
        assert!(e("fp7").starts_with("unknown float format 'fp7'; valid: fp32, tf32"));
        assert!(e("fmt(m=3, exp=2)").starts_with("unknown key 'exp' for 'fmt'"));
    }

    #[test]
    fn relative_error_bounds_hold_in_the_normal_range() {
        // P7 §3 (a): max |Q(x) − x|/|x| ≤ 2^−(M+1) (nearest), 2^−M (stochastic, truncation).
        for m in [1u32, 3, 7, 10] {
            let f = FloatFormat::e8(m).unwrap();
            let mut worst = [0.0f64; 3];
            for i in 0..20_000u64 {
                let x = (1.0 + (hash_bits(1, 2, i) >> 11) as f64 / (1u64 << 53) as f64)
                    * 2f64.powi((i % 60) as i32 - 30);
                for (w, r) in worst.iter_mut().zip([
                    Rounding::Nearest,
                    Rounding::Stochastic,
                    Rounding::TowardZero,
                ]) {
                    let y = f.round_with(x, r, hash_bits(3, 4, i));
                    *w = w.max((y - x).abs() / x);
                }
            }
            let eps = 2f64.powi(-(m as i32));
            // the bounds are attained up to the factor 1/(1 + q) (the worst x is just above 1)
            assert!(
                worst[0] <= eps / 2.0 && worst[0] >= 0.99 * (eps / 2.0) / (1.0 + eps / 2.0),
                "{worst:?}"
            );
            assert!(
                worst[1] <= eps && worst[1] >= 0.9 * eps / (1.0 + eps),
                "{worst:?}"
            );
            assert!(
                worst[2] <= eps && worst[2] >= 0.9 * eps / (1.0 + 2.0 * eps),
                "{worst:?}"
            );
        }
    }

    #[test]
    fn fp32_and_fp64_presets_equal_casts() {
        for i in 0..50_000u64 {
            let bits = hash_bits(9, 0, i);
            let x = f64::from_bits(bits);
            if !x.is_finite() {
                continue;
            }
            let want = (x as f32) as f64;
            let got = FloatFormat::FP32.round_nearest(x);
            assert_eq!(got.to_bits(), want.to_bits(), "x = {x:e}");
            assert_eq!(FloatFormat::FP64.round_nearest(x).to_bits(), x.to_bits());
        }
    }
}
