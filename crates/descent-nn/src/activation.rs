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
            Activation::Tanh => x.tanh(),
            Activation::Relu => x.max(0.0),
            Activation::Gelu => x * normal_cdf(x),
            Activation::Sigmoid => sigmoid(x),
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
                let t = x.tanh();
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
                let t = x.tanh();
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
                let t = x.tanh();
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
