//! Properties of the float-format quantizer (P7's Q) over random formats E2..E11 × M0..M52 with
//! and without subnormals, saturating or not, finite-only or not: representable values are fixed
//! points of every rounding, rounding is monotone, and stochastic rounding is unbiased within its
//! sampling error.

use descent_core::{FloatFormat, Quantizer, Rounding, Spec};
use proptest::prelude::*;

/// 2^k for every k an f64 holds exactly, subnormals included (−1074 ≤ k ≤ 1023).
fn pow2(k: i32) -> f64 {
    assert!((-1074..=1023).contains(&k), "2^{k} is not an f64");
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

/// A format built through the spec grammar (the public way to set every field).
fn format() -> impl Strategy<Value = FloatFormat> {
    (2u32..=11, 0u32..=52, any::<bool>(), any::<bool>(), any::<bool>()).prop_filter_map(
        "a valid format",
        |(e, m, subnormals, saturate, finite_only)| {
            let text = format!(
                "fmt(e={e}, m={m}, subnormals={subnormals}, overflow={}, finite_only={finite_only})",
                if saturate { "saturate" } else { "inf" }
            );
            FloatFormat::from_spec(&Spec::parse(&text).expect("valid grammar")).ok()
        },
    )
}

fn rounding() -> impl Strategy<Value = Rounding> {
    prop_oneof![
        Just(Rounding::Nearest),
        Just(Rounding::TowardZero),
        Just(Rounding::Stochastic),
    ]
}

/// A representable value of `f` chosen by three random numbers: a normal value
/// (1 + frac/2^M)·2^k or, with subnormals, a subnormal frac·2^(emin−M); either sign.
fn representable(f: &FloatFormat, a: u64, b: u64, negative: bool) -> f64 {
    let m = f.mantissa_bits() as i32;
    let frac = if m == 0 { 0 } else { a % (1u64 << m) };
    let span = (f.emax() - f.emin() + 1) as u64;
    let v = if f.subnormals() && b.is_multiple_of(8) && m > 0 {
        frac as f64 * pow2(f.emin() - m)
    } else {
        let k = f.emin() + (b % span) as i32;
        let v = (1.0 + frac as f64 * pow2(-m)) * pow2(k);
        if v > f.max_finite() {
            f.max_finite()
        } else {
            v
        }
    };
    if negative { -v } else { v }
}

/// An input near the format's range: (1 + u)·2^k with k from below the smallest subnormal to
/// above the largest exponent, either sign.
fn input(f: &FloatFormat, u: f64, b: u64, negative: bool) -> f64 {
    let lo = (f.emin() - f.mantissa_bits() as i32 - 3).max(-1074);
    let hi = (f.emax() + 2).min(1023);
    let k = lo + (b % (hi - lo + 1) as u64) as i32;
    let x = (1.0 + u) * pow2(k);
    if negative { -x } else { x }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Q(v) = v for every representable v, every rounding mode and any random bits.
    #[test]
    fn representable_values_round_trip(
        f in format(), r in rounding(), a in any::<u64>(), b in any::<u64>(),
        neg in any::<bool>(), bits in any::<u64>(),
    ) {
        let v = representable(&f, a, b, neg);
        prop_assert!(v.abs() <= f.max_finite());
        let q = f.round_with(v, r, bits);
        prop_assert!(q == v && q.is_sign_negative() == v.is_sign_negative(),
            "{f}: {v:e} ({r:?}) became {q:e}");
        // and rounding is idempotent on any input: Q(Q(x)) = Q(x) where Q(x) is finite
        let x = v * 1.000_000_1;
        let once = f.round_with(x, r, bits);
        if once.is_finite() {
            prop_assert_eq!(f.round_with(once, r, bits), once);
        }
    }

    /// x ≤ y ⇒ Q(x) ≤ Q(y) for nearest, toward zero and stochastic rounding with the same
    /// random bits; nearest and toward zero are odd functions.
    #[test]
    fn rounding_is_monotone(
        f in format(), r in rounding(), u in 0.0f64..1.0, w in 0.0f64..1.0,
        b in any::<u64>(), c in any::<u64>(), nx in any::<bool>(), ny in any::<bool>(),
        bits in any::<u64>(),
    ) {
        let (x, y) = {
            let x = input(&f, u, b, nx);
            let y = input(&f, w, c, ny);
            if x <= y { (x, y) } else { (y, x) }
        };
        let (qx, qy) = (f.round_with(x, r, bits), f.round_with(y, r, bits));
        // a finite-only format without saturation has no infinity: overflow is NaN
        if !qx.is_nan() && !qy.is_nan() {
            prop_assert!(qx <= qy, "{f} ({r:?}): {x:e} → {qx:e} but {y:e} → {qy:e}");
        }
        if r != Rounding::Stochastic {
            let qm = f.round_with(-x, r, 0);
            prop_assert!(qm.to_bits() == (-qx).to_bits() || (qm.is_nan() && qx.is_nan()),
                "{f} ({r:?}): Q(-{x:e}) = {qm:e}, -Q(x) = {:e}", -qx);
        }
    }

    /// Stochastic rounding lands on the two neighbours lo ≤ |x| < hi and its mean over 2000
    /// draws is x within 5 standard errors (hi − lo)·sqrt(p(1 − p)/n), p = (|x| − lo)/(hi − lo).
    #[test]
    fn stochastic_rounding_is_unbiased(
        f in format(), u in 0.0f64..1.0, b in any::<u64>(), neg in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let x = input(&f, u, b, neg);
        prop_assume!(x.abs() >= f.min_normal() && x.abs() < f.max_finite());
        let lo = f.round_toward_zero(x.abs());
        let k = ((lo.to_bits() >> 52) as i32) - 1023; // lo is a normal f64: its exponent
        let hi = lo + pow2(k - f.mantissa_bits() as i32);
        prop_assert!(lo <= x.abs() && x.abs() < hi);
        let q = Quantizer::new(f, Rounding::Stochastic).with_seed(seed);
        let n = 2000u64;
        let mut sum = 0.0;
        for i in 0..n {
            let y = q.quantize(x, 7, i);
            prop_assert!(y.abs() == lo || y.abs() == hi, "{f}: {x:e} → {y:e}, not {lo:e} or {hi:e}");
            prop_assert_eq!(y.is_sign_negative(), neg);
            sum += y.abs() - lo;
        }
        let p = (x.abs() - lo) / (hi - lo);
        let mean = sum / n as f64 / (hi - lo); // the fraction of draws that went up
        let se = (p * (1.0 - p) / n as f64).sqrt();
        prop_assert!((mean - p).abs() <= 5.0 * se + 1e-12,
            "{f}: x = {x:e}: {mean} of the draws went up, expected {p} ± {se}");
    }
}
