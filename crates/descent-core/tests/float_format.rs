//! `FloatFormat` against independent references: the `half` crate's `from_f32` on values
//! exactly representable in f32, an exact integer-arithmetic reference on f64 inputs, and the
//! statistics of stochastic rounding (P7 §3 (a), (c)).

use descent_core::float_format::hash_bits;
use descent_core::{FloatFormat, Overflow, Quantizer, Rounding};

/// A spread of f32 bit patterns: random ones plus every boundary family (subnormals, max,
/// halfway points) of the 16-bit formats.
fn f32_inputs() -> Vec<f32> {
    let mut v: Vec<f32> = (0..400_000u64)
        .map(|i| f32::from_bits(hash_bits(11, 0, i) as u32))
        .collect();
    // every f32 whose low 13 bits sit at or around a fp16/bf16 halfway point
    for hi in 0..(1u32 << 16) {
        for lo in [0u32, 1, 0x0fff, 0x1000, 0x1001, 0x7fff, 0x8000, 0x8001] {
            v.push(f32::from_bits((hi << 16) | lo));
        }
    }
    v
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

#[test]
fn fp16_and_bf16_equal_half_from_f32() {
    let mut checked = 0;
    for x in f32_inputs() {
        let want = half::f16::from_f32(x).to_f64();
        let got = FloatFormat::FP16.round_nearest(x as f64);
        assert!(
            same(got, want),
            "fp16 of {x:e} ({:#x}): {got:e} vs half {want:e}",
            x.to_bits()
        );
        let want = half::bf16::from_f32(x).to_f64();
        let got = FloatFormat::BF16.round_nearest(x as f64);
        assert!(
            same(got, want),
            "bf16 of {x:e} ({:#x}): {got:e} vs half {want:e}",
            x.to_bits()
        );
        checked += 1;
    }
    assert!(checked > 900_000);
}

/// v = s · 2^p with integer s.
fn decompose(v: f64) -> (u128, i32) {
    let b = v.to_bits();
    let e = ((b >> 52) & 0x7ff) as i32;
    let f = b & ((1 << 52) - 1);
    if e == 0 {
        (f as u128, -1074)
    } else {
        ((f | (1 << 52)) as u128, e - 1075)
    }
}

/// Compares 2x with a + b exactly in integers: Less, Equal or Greater.
fn cmp_twice_with_sum(x: f64, a: f64, b: f64) -> std::cmp::Ordering {
    let parts = [decompose(x), decompose(a), decompose(b)];
    let pmin = parts
        .iter()
        .filter(|p| p.0 != 0)
        .map(|p| p.1)
        .min()
        .unwrap();
    let lift = |(s, p): (u128, i32)| {
        if s == 0 {
            return 0;
        }
        let sh = (p - pmin) as u32;
        assert!(sh < 72, "exponent spread too wide for the reference");
        s << sh
    };
    (2 * lift(parts[0])).cmp(&(lift(parts[1]) + lift(parts[2])))
}

/// Whether the integer significand of the format value `v > 0` is even (ties go to it).
fn significand_is_even(f: &FloatFormat, v: f64) -> bool {
    let m = f.mantissa_bits() as i32;
    let e = (v.log2().floor() as i32).max(f.emin());
    // guard the log2 rounding at exact powers of two
    let e = if 2f64.powi(e) > v { e - 1 } else { e };
    let e = e.max(f.emin());
    let n = v / 2f64.powi(e - m);
    assert_eq!(n.fract(), 0.0);
    (n as u64).is_multiple_of(2)
}

/// The reference: the two enumerated neighbours of |x| (plus the virtual value one step past
/// the largest finite) and an exact integer comparison.
fn reference(f: &FloatFormat, values: &[f64], x: f64, rounding: Rounding) -> f64 {
    let a = x.abs();
    let max = *values.last().unwrap();
    let m = f.mantissa_bits() as i32;
    let ulp_max = f.max_finite() * 2f64.powi(-m)
        / (2.0 - 2f64.powi(-m) * if f.finite_only() { 2.0 } else { 1.0 });
    let virt = max + ulp_max;
    let i = values.partition_point(|&v| v <= a) - 1; // values[i] ≤ a
    let (lo, hi) = if i + 1 < values.len() {
        (values[i], values[i + 1])
    } else {
        (max, virt)
    };
    let r = if lo == a {
        lo
    } else {
        match rounding {
            Rounding::TowardZero => lo,
            Rounding::Nearest => match cmp_twice_with_sum(a, lo, hi) {
                std::cmp::Ordering::Less => lo,
                std::cmp::Ordering::Greater => hi,
                std::cmp::Ordering::Equal => {
                    // ties to the even significand (0 counts as even: without subnormals a
                    // tie between 0 and 2^emin goes to 0)
                    if lo == 0.0 || significand_is_even(f, lo) {
                        lo
                    } else {
                        hi
                    }
                }
            },
            Rounding::Stochastic => unreachable!(),
        }
    };
    let r = if r > max {
        match (f.overflow(), f.finite_only()) {
            (Overflow::Saturate, _) => max,
            (Overflow::Inf, false) => f64::INFINITY,
            (Overflow::Inf, true) => f64::NAN,
        }
    } else {
        r
    };
    if x < 0.0 { -r } else { r }
}

#[test]
fn f64_inputs_match_an_exact_integer_reference() {
    let no_sub = FloatFormat::e8(3).unwrap().with_subnormals(false);
    let e5m2_sat = FloatFormat::E5M2.with_overflow(Overflow::Saturate);
    let e4m3_inf = FloatFormat::E4M3.with_overflow(Overflow::Inf);
    let formats = [
        FloatFormat::FP16,
        FloatFormat::BF16,
        FloatFormat::E5M2,
        FloatFormat::E4M3,
        e5m2_sat,
        e4m3_inf,
        no_sub,
        FloatFormat::new(6, 1).unwrap(),
        FloatFormat::new(3, 0).unwrap(),
    ];
    for f in formats {
        let values = f.enumerate_non_negative();
        let lo_exp = f.emin() - f.mantissa_bits() as i32 - 3;
        let hi_exp = f.emax() + 2;
        let mut n = 0;
        for i in 0..60_000u64 {
            let h = hash_bits(5, f.mantissa_bits() as u64, i);
            let mant = 1.0 + (h >> 12) as f64 / (1u64 << 52) as f64;
            let e = lo_exp + (h % (hi_exp - lo_exp) as u64) as i32;
            let mut x = mant * 2f64.powi(e);
            // also exact halfway points between neighbours
            if i % 3 == 0 {
                let j = (h as usize >> 7) % (values.len() - 1);
                x = 0.5 * (values[j] + values[j + 1]);
            }
            if i % 2 == 1 {
                x = -x;
            }
            for r in [Rounding::Nearest, Rounding::TowardZero] {
                let want = reference(&f, &values, x, r);
                let got = f.round_with(x, r, 0);
                assert!(
                    same(got, want),
                    "{f} {r:?} of {x:e}: {got:e} vs reference {want:e}"
                );
                n += 1;
            }
        }
        assert_eq!(n, 120_000);
    }
}

#[test]
fn stochastic_rounding_is_unbiased_and_lands_on_the_two_neighbours() {
    let f = FloatFormat::e8(3).unwrap();
    let values = f.enumerate_non_negative();
    for (k, x) in [1.3f64, 0.1, -7.77e-3, 1.0e-38, 3.0e5]
        .into_iter()
        .enumerate()
    {
        let q = Quantizer::new(f, Rounding::Stochastic).with_seed(k as u64);
        let a = x.abs();
        let i = values.partition_point(|&v| v <= a) - 1;
        let (lo, hi) = (values[i], values[i + 1]);
        let n = 200_000u64;
        let mut sum = 0.0;
        let mut ups = 0u64;
        for idx in 0..n {
            let y = q.quantize(x, 3, idx);
            assert!(
                y.abs() == lo || y.abs() == hi,
                "{x:e} → {y:e} not in {{{lo:e}, {hi:e}}}"
            );
            assert_eq!(y.signum(), x.signum());
            if y.abs() == hi {
                ups += 1;
            }
            sum += y - x;
        }
        let p = (a - lo) / (hi - lo);
        let se = (hi - lo) * (p * (1.0 - p) / n as f64).sqrt();
        let mean_err = sum / n as f64;
        assert!(
            mean_err.abs() <= 3.0 * se,
            "{x:e}: mean error {mean_err:e}, 3 se {:e}",
            3.0 * se
        );
        assert!(ups > 0 && ups < n);
        // the same (seed, step, index) gives the same result; another step another draw
        assert_eq!(q.quantize(x, 3, 17), q.quantize(x, 3, 17));
    }
    // representable values are never moved
    let q = Quantizer::new(f, Rounding::Stochastic);
    for &v in &values[1..200] {
        assert_eq!(q.quantize(v, 1, 2), v);
    }
}

/// P7 §3 (c), the frozen-EMA lemma: s ← Q_rtn(β s) never decays when 1 − β < 2^−(M+2), while
/// under stochastic rounding its mean follows β^T s₀.
#[test]
fn round_to_nearest_freezes_a_decaying_ema_and_stochastic_rounding_does_not() {
    let beta: f64 = 0.999;
    let steps = 10_000u64;
    for m in [3u32, 5, 7] {
        let q = Quantizer::new(FloatFormat::e8(m).unwrap(), Rounding::Nearest);
        // warm-up with y = 1 from 0
        let mut s = 0.0;
        for t in 0..2000 {
            s = q.quantize(beta * s + (1.0 - beta), t, 0);
        }
        let s0 = s;
        assert!(s0 > 0.0);
        for t in 0..steps {
            s = q.quantize(beta * s, t, 0);
        }
        assert_eq!(s, s0, "M = {m}: the RTN EMA moved");
    }
    let q = Quantizer::new(FloatFormat::e8(7).unwrap(), Rounding::Stochastic).with_seed(4);
    let s0 = 0.5;
    let runs = 200u64;
    let mean = (0..runs)
        .map(|r| {
            let mut s = s0;
            for t in 0..steps {
                s = q.quantize(beta * s, t, r);
            }
            s
        })
        .sum::<f64>()
        / runs as f64;
    let want = beta.powi(steps as i32) * s0;
    assert!(
        (mean / want - 1.0).abs() < 0.05,
        "SR mean {mean:e} vs {want:e}"
    );
}

#[test]
fn formats_are_valid_by_construction_and_errors_name_field_value_and_range() {
    let e = FloatFormat::new(1, 7).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid value for 'fmt.e': got 1, expected exponent bits in [2, 11]"
    );
    let e = FloatFormat::new(8, 53).unwrap_err().to_string();
    assert_eq!(
        e,
        "invalid value for 'fmt.m': got 53, expected mantissa bits in [0, 52]"
    );
    // the flags change through builders and read back through accessors
    let f = FloatFormat::e8(3)
        .unwrap()
        .with_subnormals(false)
        .with_overflow(Overflow::Saturate)
        .with_finite_only(true);
    assert_eq!((f.exponent_bits(), f.mantissa_bits()), (8, 3));
    assert!(!f.subnormals() && f.finite_only() && f.overflow() == Overflow::Saturate);
    // a saved format round-trips with its field names; a tampered one is refused on load
    let json = serde_json::to_string(&FloatFormat::BF16).unwrap();
    assert_eq!(
        json,
        r#"{"exponent_bits":8,"mantissa_bits":7,"subnormals":true,"overflow":"inf","finite_only":false}"#
    );
    let back: FloatFormat = serde_json::from_str(&json).unwrap();
    assert_eq!(back, FloatFormat::BF16);
    let bad = json.replace(r#""mantissa_bits":7"#, r#""mantissa_bits":60"#);
    let e = serde_json::from_str::<FloatFormat>(&bad)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'fmt.m': got 60, expected mantissa bits in [0, 52]"),
        "{e}"
    );
}
