//! Statistics for claims and tables, written once, with one policy for non-finite values
//! (DESIGN §2.1):
//!
//! **An aggregate over a non-finite value (NaN or ±∞) is NaN**, so a claim judged on it fails
//! (`NaN <= bound` is false) instead of reading a diverged run as "zero error". Callers that
//! expect non-finite runs (a learning rate that diverges is data) split them off with
//! [`split_finite`] and report how many there were. Never fold with `f64::max`/`f64::min`:
//! those skip NaN.
//!
//! Empty inputs give NaN as well (a claim over nothing measured cannot hold).

/// True when every value is finite (and there is at least one).
fn usable(v: &[f64]) -> bool {
    !v.is_empty() && v.iter().all(|x| x.is_finite())
}

/// The arithmetic mean Σx/n (summed in order); NaN for an empty or non-finite input.
pub fn mean(v: &[f64]) -> f64 {
    if !usable(v) {
        return f64::NAN;
    }
    v.iter().sum::<f64>() / v.len() as f64
}

/// The sample standard deviation with the n − 1 denominator; 0 for a single value (no spread
/// to measure, so ± bands of one seed have zero width), NaN for an empty or non-finite input.
pub fn std(v: &[f64]) -> f64 {
    if !usable(v) {
        return f64::NAN;
    }
    if v.len() == 1 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// (mean, std) as [`mean`] and [`std()`].
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    (mean(v), std(v))
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

/// The median (the mean of the two middle values for even n); NaN for an empty or non-finite
/// input.
pub fn median(v: &[f64]) -> f64 {
    if !usable(v) {
        return f64::NAN;
    }
    let s = sorted(v);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// The q-quantile (q in [0, 1]) by linear interpolation between order statistics (numpy's
/// default, `method="linear"`); NaN for an empty or non-finite input or q outside [0, 1].
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if !usable(v) || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    let s = sorted(v);
    let pos = q * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    s[lo] + (pos - lo as f64) * (s[hi] - s[lo])
}

/// The largest value; NaN for an empty or non-finite input.
pub fn max(v: &[f64]) -> f64 {
    if !usable(v) {
        return f64::NAN;
    }
    v.iter()
        .copied()
        .fold(v[0], |a, b| if b > a { b } else { a })
}

/// The smallest value; NaN for an empty or non-finite input.
pub fn min(v: &[f64]) -> f64 {
    if !usable(v) {
        return f64::NAN;
    }
    v.iter()
        .copied()
        .fold(v[0], |a, b| if b < a { b } else { a })
}

/// The largest |x|; NaN for an empty or non-finite input.
pub fn max_abs(v: &[f64]) -> f64 {
    if !usable(v) {
        return f64::NAN;
    }
    v.iter()
        .fold(0.0, |a, b| if b.abs() > a { b.abs() } else { a })
}

/// max |aᵢ − bᵢ| over equal-length slices; NaN for a length mismatch, empty or non-finite input.
pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() || !usable(a) || !usable(b) {
        return f64::NAN;
    }
    a.iter().zip(b).fold(
        0.0,
        |m, (x, y)| if (x - y).abs() > m { (x - y).abs() } else { m },
    )
}

/// ‖a − b‖₂ / ‖b‖₂; NaN for a length mismatch, empty or non-finite input.
pub fn rel_l2_diff(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() || !usable(a) || !usable(b) {
        return f64::NAN;
    }
    let num: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum();
    let den: f64 = b.iter().map(|y| y * y).sum();
    (num / den).sqrt()
}

/// The least-squares slope of ln y against ln x; NaN unless there are at least two points, all
/// finite and > 0, with distinct x.
pub fn loglog_slope(x: &[f64], y: &[f64]) -> f64 {
    if x.len() != y.len() || x.len() < 2 || x.iter().chain(y).any(|v| !(v.is_finite() && *v > 0.0))
    {
        return f64::NAN;
    }
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let n = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = lx.iter().map(|a| (a - mx).powi(2)).sum();
    sxy / sxx
}

/// Pearson's correlation coefficient of equal-length samples; NaN for a length mismatch, fewer
/// than two points, a non-finite input or a constant sample.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    if x.len() != y.len() || x.len() < 2 || !usable(x) || !usable(y) {
        return f64::NAN;
    }
    let (mx, my) = (mean(x), mean(y));
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// The least-squares slope of ln y against x (the log-rate of a linearly converging sequence);
/// NaN unless there are at least two points, x finite, y finite and > 0, with distinct x.
pub fn semilog_slope(x: &[f64], y: &[f64]) -> f64 {
    if x.len() != y.len()
        || x.len() < 2
        || x.iter().any(|v| !v.is_finite())
        || y.iter().any(|v| !(v.is_finite() && *v > 0.0))
    {
        return f64::NAN;
    }
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    sxy / sxx
}

/// max/min of the values (how far apart values that should agree are: 1 means equal); NaN for
/// an empty or non-finite input.
pub fn spread_ratio(v: &[f64]) -> f64 {
    max(v) / min(v)
}

/// True when every value lies in [lo, hi] (NaN never does); false for an empty input.
pub fn all_within(v: &[f64], lo: f64, hi: f64) -> bool {
    !v.is_empty() && v.iter().all(|x| *x >= lo && *x <= hi)
}

/// The finite values in order, and how many were not finite: for aggregates that must report
/// diverged runs explicitly rather than fail on them.
pub fn split_finite(v: &[f64]) -> (Vec<f64>, usize) {
    let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let dropped = v.len() - finite.len();
    (finite, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f64 = f64::NAN;
    const INF: f64 = f64::INFINITY;

    #[test]
    fn values_match_hand_computations() {
        let v = [3.0, 1.0, 4.0, 1.0, 5.0];
        assert_eq!(mean(&v), 2.8);
        assert!((std(&v) - 1.7888543819998317).abs() < 1e-15); // numpy std(ddof=1)
        assert_eq!(std(&[2.0]), 0.0);
        assert_eq!(median(&v), 3.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(quantile(&v, 0.25), 1.0); // numpy.quantile(v, 0.25)
        assert_eq!(quantile(&v, 0.9), 4.6);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert_eq!(max(&v), 5.0);
        assert_eq!(min(&v), 1.0);
        assert_eq!(max_abs(&[-7.0, 3.0]), 7.0);
        assert_eq!(max_abs_diff(&[1.0, 2.0], &[1.5, 0.0]), 2.0);
        assert!((rel_l2_diff(&[3.0, 4.0], &[3.0, 3.0]) - (1.0f64 / 18.0).sqrt()).abs() < 1e-15);
        assert!((loglog_slope(&[1.0, 2.0, 4.0], &[3.0, 12.0, 48.0]) - 2.0).abs() < 1e-12);
        let decay: Vec<f64> = [0.0, 1.0, 3.0]
            .iter()
            .map(|t| 5.0 * 0.5f64.powf(*t))
            .collect();
        assert!((semilog_slope(&[0.0, 1.0, 3.0], &decay) - 0.5f64.ln()).abs() < 1e-12);
        assert_eq!(spread_ratio(&[2.0, 3.0, 6.0]), 3.0);
        assert!(all_within(&[0.5, 1.0], 0.5, 1.0));
        assert!(!all_within(&[], 0.0, 1.0));
        assert_eq!(split_finite(&[1.0, NAN, INF, 2.0]), (vec![1.0, 2.0], 2));
        // numpy.corrcoef([1, 2, 3, 4], [2, 1, 4, 3])[0, 1] = 0.6
        assert!((pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 4.0, 3.0]) - 0.6).abs() < 1e-15);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-15);
    }

    #[test]
    fn non_finite_or_empty_inputs_give_nan_never_a_skip() {
        for bad in [
            &[1.0, NAN, 3.0][..],
            &[1.0, INF][..],
            &[-INF, 1.0][..],
            &[][..],
        ] {
            for (name, f) in [
                ("mean", mean as fn(&[f64]) -> f64),
                ("std", std),
                ("median", median),
                ("max", max),
                ("min", min),
                ("max_abs", max_abs),
                ("spread_ratio", spread_ratio),
            ] {
                assert!(f(bad).is_nan(), "{name}({bad:?}) = {}", f(bad));
            }
            assert!(quantile(bad, 0.5).is_nan());
        }
        // NaN placed first, last or in the middle: f64::max folds would return 3 here
        assert!(max(&[NAN, 1.0, 3.0]).is_nan() && max(&[1.0, 3.0, NAN]).is_nan());
        assert!(max_abs_diff(&[1.0, NAN], &[1.0, 1.0]).is_nan());
        assert!(max_abs_diff(&[1.0], &[1.0, 2.0]).is_nan());
        assert!(rel_l2_diff(&[1.0, INF], &[1.0, 1.0]).is_nan());
        assert!(loglog_slope(&[1.0, 2.0], &[1.0, -1.0]).is_nan());
        assert!(loglog_slope(&[1.0], &[1.0]).is_nan());
        assert!(semilog_slope(&[1.0, 2.0], &[1.0, 0.0]).is_nan());
        assert!(semilog_slope(&[1.0, NAN], &[1.0, 0.5]).is_nan());
        assert!(semilog_slope(&[1.0], &[1.0]).is_nan());
        assert!(quantile(&[1.0, 2.0], 1.5).is_nan());
        assert!(pearson(&[1.0, NAN], &[1.0, 2.0]).is_nan());
        assert!(pearson(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
        assert!(pearson(&[1.0], &[1.0]).is_nan());
        assert!(!all_within(&[0.5, NAN], 0.0, 1.0));
    }
}
