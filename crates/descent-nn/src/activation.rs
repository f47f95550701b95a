//! Elementwise activations with exact first and second derivatives (the second derivative feeds
//! the R-operator of the Hessian-vector product).

use std::fmt;
use std::str::FromStr;

use descent_core::{Error, Result};

/// A scalar nonlinearity applied elementwise to the hidden layers of an [`crate::Mlp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    /// σ(x) = x.
    Identity,
    /// σ(x) = tanh x.
    Tanh,
    /// σ(x) = max(0, x); the derivative at 0 is taken as 0 and σ'' = 0 everywhere (a.e. exact).
    Relu,
    /// Exact GELU, σ(x) = x·Φ(x) with Φ the standard normal CDF (not the tanh approximation).
    Gelu,
    /// σ(x) = 1 / (1 + e^{−x}).
    Sigmoid,
}

/// The names accepted by [`Activation::parse`] (for error messages and `descent list`).
pub const ACTIVATION_NAMES: &[&str] = &["identity", "linear", "tanh", "relu", "gelu", "sigmoid"];

const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

impl Activation {
    /// Parses `identity|linear`, `tanh`, `relu`, `gelu`, `sigmoid`.
    pub fn parse(name: &str) -> Result<Activation> {
        match name {
            "identity" | "linear" => Ok(Activation::Identity),
            "tanh" => Ok(Activation::Tanh),
            "relu" => Ok(Activation::Relu),
            "gelu" => Ok(Activation::Gelu),
            "sigmoid" => Ok(Activation::Sigmoid),
            other => Err(Error::unknown_name("activation", other, ACTIVATION_NAMES)),
        }
    }

    /// The canonical name (`identity`, `tanh`, `relu`, `gelu`, `sigmoid`).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Gelu => "gelu",
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// σ(x).
    #[inline]
    pub fn value(self, x: f64) -> f64 {
        match self {
            Activation::Identity => x,
            Activation::Tanh => tanh(x),
            Activation::Relu => x.max(0.0),
            Activation::Gelu => x * normal_cdf(x),
            Activation::Sigmoid => sigmoid(x),
        }
    }

    /// aᵢ = σ(zᵢ) for a whole layer; for tanh the loop is branch-free and vectorises
    /// (bit-identical to [`Activation::value`], which calls the same [`tanh`]).
    #[inline]
    pub fn apply(self, z: &[f64], a: &mut [f64]) {
        debug_assert_eq!(z.len(), a.len());
        match self {
            Activation::Tanh => tanh_slice(z, a),
            other => a.iter_mut().zip(z).for_each(|(a, &z)| *a = other.value(z)),
        }
    }

    /// σ'(x) given also a = σ(x) from the forward pass: tanh and sigmoid reuse a (1 − a² and
    /// a(1 − a), the same arithmetic as [`Activation::d1`], so the result is bit-identical) and
    /// skip a second libm call, which dominated small-net training steps.
    #[inline]
    pub fn d1_with_output(self, x: f64, a: f64) -> f64 {
        match self {
            Activation::Tanh => 1.0 - a * a,
            Activation::Sigmoid => a * (1.0 - a),
            other => other.d1(x),
        }
    }

    /// σ'(x).
    #[inline]
    pub fn d1(self, x: f64) -> f64 {
        match self {
            Activation::Identity => 1.0,
            Activation::Tanh => {
                let t = tanh(x);
                1.0 - t * t
            }
            Activation::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Gelu => normal_cdf(x) + x * normal_pdf(x),
            Activation::Sigmoid => {
                let s = sigmoid(x);
                s * (1.0 - s)
            }
        }
    }

    /// σ''(x).
    #[inline]
    pub fn d2(self, x: f64) -> f64 {
        match self {
            Activation::Identity | Activation::Relu => 0.0,
            Activation::Tanh => {
                let t = tanh(x);
                -2.0 * t * (1.0 - t * t)
            }
            Activation::Gelu => normal_pdf(x) * (2.0 - x * x),
            Activation::Sigmoid => {
                let s = sigmoid(x);
                s * (1.0 - s) * (1.0 - 2.0 * s)
            }
        }
    }

    /// σ'''(x): the Taylor-mode Jacobian of a Laplacian residual needs it (P8 §5.1, the
    /// σ3 term of the backward pass).
    #[inline]
    pub fn d3(self, x: f64) -> f64 {
        match self {
            Activation::Identity | Activation::Relu => 0.0,
            Activation::Tanh => {
                let t = tanh(x);
                let s1 = 1.0 - t * t;
                s1 * (6.0 * t * t - 2.0)
            }
            Activation::Gelu => normal_pdf(x) * (x * x * x - 4.0 * x),
            Activation::Sigmoid => {
                let s = sigmoid(x);
                s * (1.0 - s) * (1.0 - 6.0 * s + 6.0 * s * s)
            }
        }
    }

    /// σ'' ≡ 0: the R-operator can skip the curvature term of this activation.
    pub fn is_piecewise_linear(self) -> bool {
        matches!(self, Activation::Identity | Activation::Relu)
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Activation::parse(s)
    }
}

descent_core::simd_dispatch!(
/// a[i] = [`tanh`] z[i], compiled for AVX-512F or AVX2 when the CPU has it (bit-identical).
fn tanh_slice(z: &[f64], a: &mut [f64]) => tanh_slice_body);

#[inline(always)]
fn tanh_slice_body(z: &[f64], a: &mut [f64]) {
    a.iter_mut().zip(z).for_each(|(a, &z)| *a = tanh(z));
}

// tanh on |x| < 0.625 as x + x·z·P(z)/Q(z), z = x² (the Cephes `tanh.c` rational
// approximation, S. L. Moshier; peak relative error 2.5e-16 in IEEE double).
const TANH_P: [f64; 3] = [
    -9.643_991_794_250_523e-1,
    -9.928_772_310_019_186e1,
    -1.614_687_684_417_084_5e3,
];
const TANH_Q: [f64; 3] = [
    1.128_116_784_916_329_3e2,
    2.235_488_390_601_004_6e3,
    4.844_063_053_251_255e3,
];
/// Beyond this |x|, tanh x rounds to ±1 in f64 (1 − tanh 20 ≈ 8.5e-18 < ulp(1)/2).
const TANH_SATURATION: f64 = 20.0;

/// tanh x without a libm call and without branches, so that a loop over a slice vectorises
/// (the forward pass of a tanh MLP spends most of its non-GEMM time here). |x| < 0.625 uses
/// the Cephes rational form; otherwise tanh|x| = 1 − 2/(e^{2|x|} + 1) with `exp_nonneg`.
/// Within 2 ulp of the correctly rounded value (the test measures it against libm on a dense
/// grid); NaN propagates; ±∞ → ±1.
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    let ax = x.abs();
    let z = x * x;
    let p = (TANH_P[0] * z + TANH_P[1]) * z + TANH_P[2];
    let q = ((z + TANH_Q[0]) * z + TANH_Q[1]) * z + TANH_Q[2];
    // `if` rather than `min`, so that NaN stays NaN
    let clamped = if ax > TANH_SATURATION {
        TANH_SATURATION
    } else {
        ax
    };
    let e = exp_nonneg(2.0 * clamped);
    // one division serves the branch taken: p/q (small) or 2/(e + 1) (large); the same
    // quotients as dividing in both branches, so the same bits, one divider pass fewer
    // (blended through the bits: as two selects LLVM would split the division back into two)
    let is_small = ax < 0.625;
    let mask = 0u64.wrapping_sub(u64::from(is_small));
    let blend = |a: f64, b: f64| f64::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask));
    let t = blend(p, 2.0) / blend(q, e + 1.0);
    let small = x + x * z * t;
    let large = 1.0 - t;
    // copysign also keeps tanh(−0) = −0
    (if is_small { small } else { large }).copysign(x)
}

// e^y: y = k·ln 2 + r with |r| ≤ ln 2 / 2, e^r by the FreeBSD msun `e_exp.c` Remez form
// (Sun Microsystems 1993; error below 1 ulp), 2^k assembled from its exponent bits.
const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
const EXP_P: [f64; 5] = [
    1.666_666_666_666_660_2e-1,
    -2.777_777_777_701_559_3e-3,
    6.613_756_321_437_934e-5,
    -1.653_390_220_546_525_3e-6,
    4.138_136_797_057_238_5e-8,
];
/// 1.5·2^52: adding it rounds a double of magnitude < 2^51 to an integer held in the low
/// mantissa bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;

/// e^y for 0 ≤ y ≤ 700, branch-free (vectorisable); within 1 ulp. Used by [`tanh`].
#[inline(always)]
fn exp_nonneg(y: f64) -> f64 {
    let t = y * std::f64::consts::LOG2_E + ROUND_MAGIC;
    let k = t - ROUND_MAGIC;
    let r = (y - k * LN2_HI) - k * LN2_LO;
    let rr = r * r;
    let c =
        r - rr * (EXP_P[0] + rr * (EXP_P[1] + rr * (EXP_P[2] + rr * (EXP_P[3] + rr * EXP_P[4]))));
    let er = 1.0 - ((r * c) / (c - 2.0) - r);
    // k ≥ 0 sits in the low bits of t: 2^k has biased exponent k + 1023
    let two_k = f64::from_bits((t.to_bits().wrapping_sub(ROUND_MAGIC.to_bits()) + 1023) << 52);
    er * two_k
}

/// The logistic function 1 / (1 + e^{−x}), evaluated without overflow for either sign.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The standard normal density φ(x).
#[inline]
pub fn normal_pdf(x: f64) -> f64 {
    FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()
}

/// The standard normal CDF Φ(x) = ½·erfc(−x/√2), accurate to about one ulp of erfc (so also in
/// the far left tail, where 1 − Φ(−x) would cancel).
#[inline]
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// The error function erf(x) (see [`erfc`] for the method and accuracy).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x.abs() < 0.84375 {
        x + x * erf_small_ratio(x * x)
    } else if x > 0.0 {
        1.0 - erfc(x)
    } else {
        erfc(-x) - 1.0
    }
}

// The rational approximations below are those of FreeBSD msun's s_erf.c (as ported in the
// Rust `libm` crate, MIT), accurate to below one ulp:
//
// Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
// Developed at SunPro, a Sun Microsystems, Inc. business.
// Permission to use, copy, modify, and distribute this software is freely granted, provided
// that this notice is preserved.

#[allow(clippy::excessive_precision)] // the published msun coefficients, verbatim
const ERX: f64 = 8.45062911510467529297e-01;
#[allow(clippy::excessive_precision)] // the published msun coefficients, verbatim
const PP: [f64; 5] = [
    1.28379167095512558561e-01,
    -3.25042107247001499370e-01,
    -2.84817495755985104766e-02,
    -5.77027029648944159157e-03,
    -2.37630166566501626084e-05,
];
#[allow(clippy::excessive_precision)] // the published msun coefficients, verbatim
const QQ: [f64; 5] = [
    3.97917223959155352819e-01,
    6.50222499887672944485e-02,
    5.08130628187576562776e-03,
    1.32494738004321644526e-04,
    -3.96022827877536812320e-06,
];
#[allow(clippy::excessive_precision)] // the published msun coefficients, verbatim
const PA: [f64; 7] = [
    -2.36211856075265944077e-03,
    4.14856118683748331666e-01,
    -3.72207876035701323847e-01,
    3.18346619901161753674e-01,
    -1.10894694282396677476e-01,
    3.54783043256182359371e-02,
    -2.16637559486879084300e-03,
];
#[allow(clippy::excessive_precision)] // the published msun coefficients, verbatim
const QA: [f64; 6] = [
    1.06420880400844228286e-01,
    5.40397917702171048937e-01,
    7.18286544141962662868e-02,
    1.26171219808761642112e-01,
    1.36370839120290507362e-02,
    1.19844998467991074170e-02,
];
#[allow(clippy::excessive_precision)] // the published msun coefficients, verbatim
const RA: [f64; 8] = [
    -9.86494403484714822705e-03,
    -6.93858572707181764372e-01,
    -1.05586262253232909814e+01,
    -6.23753324503260060396e+01,
    -1.62396669462573470355e+02,
    -1.84605092906711035994e+02,
    -8.12874355063065934246e+01,
    -9.81432934416914548592e+00,
];
#[allow(clippy::excessive_precision)] // the published msun coefficients, verbatim
const SA: [f64; 8] = [
    1.96512716674392571292e+01,
    1.37657754143519042600e+02,
    4.34565877475229228821e+02,
    6.45387271733267880336e+02,
    4.29008140027567833386e+02,
    1.08635005541779435134e+02,
    6.57024977031928170135e+00,
    -6.04244152148580987438e-02,
];
#[allow(clippy::excessive_precision)] // the published msun coefficients, verbatim
const RB: [f64; 7] = [
    -9.86494292470009928597e-03,
    -7.99283237680523006574e-01,
    -1.77579549177547519889e+01,
    -1.60636384855821916062e+02,
    -6.37566443368389627722e+02,
    -1.02509513161107724954e+03,
    -4.83519191608651397019e+02,
];
#[allow(clippy::excessive_precision)] // the published msun coefficients, verbatim
const SB: [f64; 7] = [
    3.03380607434824582924e+01,
    3.25792512996573918826e+02,
    1.53672958608443695994e+03,
    3.19985821950859553908e+03,
    2.55305040643316442583e+03,
    4.74528541206955367215e+02,
    -2.24409524465858183362e+01,
];

/// Horner evaluation of c₀ + c₁z + … .
#[inline]
fn poly(c: &[f64], z: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * z + ci)
}

/// (erf(x) − x)/x on |x| < 0.84375, as a rational function of z = x².
#[inline]
fn erf_small_ratio(z: f64) -> f64 {
    poly(&PP, z) / (1.0 + z * poly(&QQ, z))
}

/// The complementary error function erfc(x) = 1 − erf(x), computed directly so that it keeps
/// full relative accuracy in the tail. Method and coefficients: FreeBSD msun `s_erf.c` (Sun
/// Microsystems 1993): rational approximations on [0, 0.84375], [0.84375, 1.25], [1.25, 1/0.35]
/// and [1/0.35, 28], each with error below 2⁻⁵⁷ before rounding (about 1e-16 relative).
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    if ax < 0.84375 {
        let y = erf_small_ratio(x * x);
        if x < 0.25 {
            return 1.0 - (x + x * y);
        }
        return 0.5 - (x - 0.5 + x * y);
    }
    if ax >= 28.0 {
        return if x > 0.0 { 0.0 } else { 2.0 };
    }
    let tail = if ax < 1.25 {
        let s = ax - 1.0;
        let p = poly(&PA, s);
        let q = 1.0 + s * poly(&QA, s);
        if x > 0.0 {
            return 1.0 - ERX - p / q;
        }
        return 1.0 + ERX + p / q;
    } else {
        let s = 1.0 / (ax * ax);
        let (r, q) = if ax < 1.0 / 0.35 {
            (poly(&RA, s), 1.0 + s * poly(&SA, s))
        } else {
            (poly(&RB, s), 1.0 + s * poly(&SB, s))
        };
        // split x² so that exp(−x²) keeps its accuracy: z has the low 32 bits cleared
        let z = f64::from_bits(ax.to_bits() & 0xffff_ffff_0000_0000);
        (-z * z - 0.5625).exp() * ((z - ax) * (z + ax) + r / q).exp() / ax
    };
    if x > 0.0 { tail } else { 2.0 - tail }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::excessive_precision)] // reference values quoted at full precision
    fn erf_matches_reference_values() {
        // reference values from mpmath at 30 digits
        let cases = [
            (0.1, 0.1124629160182848922032750717439),
            (0.5, 0.5204998778130465376827466538919),
            (1.0, 0.8427007929497148693412206350826),
            (2.0, 0.9953222650189527341620692563673),
        ];
        for (x, e) in cases {
            assert!((erf(x) - e).abs() <= 2e-16, "erf({x}) = {} vs {e}", erf(x));
            assert!((erf(-x) + e).abs() <= 2e-16);
        }
        let tails = [
            (3.0, 2.209049699858544137277612958232e-5),
            (5.0, 1.537459794428034850188343485383e-12),
            (10.0, 2.088487583762544757000786294957e-45),
        ];
        for (x, e) in tails {
            assert!(
                ((erfc(x) - e) / e).abs() <= 1e-15,
                "erfc({x}) = {} vs {e}",
                erfc(x)
            );
        }
        assert_eq!(erfc(0.0), 1.0);
        assert!((normal_cdf(1.0) - 0.8413447460685429485852325456320).abs() < 2e-16);
        assert!((normal_cdf(-1.0) + normal_cdf(1.0) - 1.0).abs() < 2e-16);
    }

    /// Distance in units in the last place between two finite doubles of the same sign.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// The one-division form of [`tanh`] gives the bits of the form that divides in both
    /// branches (p/q and 2/(e + 1)), which earlier results were computed with.
    #[test]
    fn tanh_with_one_division_equals_the_two_division_form_bit_for_bit() {
        fn two_divisions(x: f64) -> f64 {
            let ax = x.abs();
            let z = x * x;
            let p = (TANH_P[0] * z + TANH_P[1]) * z + TANH_P[2];
            let q = ((z + TANH_Q[0]) * z + TANH_Q[1]) * z + TANH_Q[2];
            let small = x + x * z * (p / q);
            let clamped = if ax > TANH_SATURATION {
                TANH_SATURATION
            } else {
                ax
            };
            let e = exp_nonneg(2.0 * clamped);
            let large = 1.0 - 2.0 / (e + 1.0);
            (if ax < 0.625 { small } else { large }).copysign(x)
        }
        let mut xs: Vec<f64> = (0..300_000).map(|i| i as f64 * 1e-4).collect();
        xs.extend(
            (0..4000)
                .map(|i| 1e-300 * 1.2f64.powi(i))
                .take_while(|x| *x < 1e300),
        );
        xs.extend([
            0.625,
            0.625 - 1e-16,
            0.625 + 1e-16,
            20.0,
            f64::INFINITY,
            f64::NAN,
        ]);
        for &x in &xs {
            for x in [x, -x] {
                assert_eq!(tanh(x).to_bits(), two_divisions(x).to_bits(), "at {x:e}");
            }
        }
    }

    #[test]
    fn tanh_is_within_two_ulp_of_libm() {
        let mut worst = (0u64, 0.0);
        // dense near the branch point 0.625, then geometric out to saturation and beyond
        let mut xs: Vec<f64> = (0..200_000).map(|i| i as f64 * 1e-5).collect();
        xs.extend(
            (0..4000)
                .map(|i| 1e-300 * 1.2f64.powi(i))
                .take_while(|x| *x < 40.0),
        );
        xs.extend([
            0.625,
            0.625 - 1e-16,
            0.625 + 1e-16,
            19.0,
            19.1,
            20.0,
            20.5,
            700.0,
            1e300,
        ]);
        for &x in &xs {
            for x in [x, -x] {
                let u = ulps(tanh(x), x.tanh());
                if u > worst.0 {
                    worst = (u, x);
                }
            }
        }
        assert!(worst.0 <= 2, "tanh off by {} ulp at {}", worst.0, worst.1);
        assert_eq!(tanh(f64::INFINITY), 1.0);
        assert_eq!(tanh(f64::NEG_INFINITY), -1.0);
        assert!(tanh(f64::NAN).is_nan());
        assert_eq!(tanh(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh(-0.0).to_bits(), (-0.0f64).to_bits());
    }

    #[test]
    fn exp_kernel_is_within_one_ulp_of_libm() {
        for i in 0..70_000 {
            let y = i as f64 * 1e-2 + 1e-7 * (i % 7) as f64;
            assert!(ulps(exp_nonneg(y), y.exp()) <= 1, "exp({y})");
        }
    }

    #[test]
    fn layer_apply_equals_the_scalar_value() {
        let z: Vec<f64> = (0..301).map(|i| (i as f64 - 150.0) * 0.047).collect();
        for act in [
            Activation::Identity,
            Activation::Tanh,
            Activation::Relu,
            Activation::Gelu,
            Activation::Sigmoid,
        ] {
            let mut a = vec![0.0; z.len()];
            act.apply(&z, &mut a);
            for (a, &z) in a.iter().zip(&z) {
                assert_eq!(a.to_bits(), act.value(z).to_bits(), "{act} at {z}");
            }
        }
    }

    #[test]
    fn derivative_from_the_output_is_bit_identical() {
        for act in [
            Activation::Identity,
            Activation::Tanh,
            Activation::Relu,
            Activation::Gelu,
            Activation::Sigmoid,
        ] {
            for i in -40..=40 {
                let x = i as f64 * 0.173;
                assert_eq!(
                    act.d1_with_output(x, act.value(x)),
                    act.d1(x),
                    "{act:?} at {x}"
                );
            }
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let all = [
            Activation::Identity,
            Activation::Tanh,
            Activation::Relu,
            Activation::Gelu,
            Activation::Sigmoid,
        ];
        let h = 1e-6;
        for act in all {
            for &x in &[-3.1, -1.2, -0.4, 0.3, 0.9, 2.5, 6.0] {
                let d1 = (act.value(x + h) - act.value(x - h)) / (2.0 * h);
                let d2 = (act.d1(x + h) - act.d1(x - h)) / (2.0 * h);
                assert!((d1 - act.d1(x)).abs() < 1e-8, "{act} d1 at {x}");
                assert!((d2 - act.d2(x)).abs() < 1e-8, "{act} d2 at {x}");
                let d3 = (act.d2(x + h) - act.d2(x - h)) / (2.0 * h);
                assert!((d3 - act.d3(x)).abs() < 1e-8, "{act} d3 at {x}");
            }
        }
    }

    #[test]
    fn parses_names_and_rejects_others() {
        assert_eq!(Activation::parse("linear").unwrap(), Activation::Identity);
        assert_eq!("gelu".parse::<Activation>().unwrap(), Activation::Gelu);
        let e = Activation::parse("swish").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown activation 'swish'; valid: identity, linear, tanh, relu, gelu, sigmoid"
        );
    }
}
