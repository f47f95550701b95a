//! Seeded train/test splits.
//!
//! The sample indices are shuffled once with the caller's RNG (Fisher–Yates); the test part is
//! taken from the *front* of that permutation and the training part is the rest, both kept in
//! permutation order. So the same RNG state gives the same split, and a split only depends on the
//! dataset size, the labels and the RNG, never on the feature values.
//!
//! Test size: `round(test_fraction · n)`, clamped to `1..=n-1` so both parts are non-empty.
//!
//! Stratification (the default for class targets, as in scikit-learn's `stratify=y`): each class
//! gives its first `k_c` samples in permutation order to the test part, with `k_c` the largest-
//! remainder rounding of `n_c · n_test / n`, so every class's test count is within one sample of
//! its exact share and the counts add up to `n_test`. Real targets are split without
//! stratification.

use descent_core::{Error, Result};
use rand::RngExt;

use crate::dataset::{Dataset, Targets};

/// Splits `data` into `(train, test)` with about `test_fraction` of the samples in the test part,
/// stratified by class for class targets (see the module docs for the exact rule).
///
/// # Errors
///
/// `test_fraction` outside (0, 1), fewer than 2 samples, or a part that would be empty.
pub fn split<R: rand::Rng + ?Sized>(
    data: &Dataset,
    test_fraction: f64,
    rng: &mut R,
) -> Result<(Dataset, Dataset)> {
    let stratify = matches!(data.targets, Targets::Classes { .. });
    split_with(data, test_fraction, stratify, rng)
}

/// Like [`split`], with stratification chosen explicitly; `stratify = true` needs class targets.
///
/// # Errors
///
/// As [`split`], and `stratify` without class targets.
pub fn split_with<R: rand::Rng + ?Sized>(
    data: &Dataset,
    test_fraction: f64,
    stratify: bool,
    rng: &mut R,
) -> Result<(Dataset, Dataset)> {
    let (train, test) = split_indices(data, test_fraction, stratify, rng)?;
    Ok((data.subset(&train), data.subset(&test)))
}

/// The `(train, test)` sample indices of [`split_with`], for callers that keep one dataset and
/// index into it.
///
/// # Errors
///
/// As [`split_with`].
pub fn split_indices<R: rand::Rng + ?Sized>(
    data: &Dataset,
    test_fraction: f64,
    stratify: bool,
    rng: &mut R,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(Error::invalid(
            "test_fraction",
            test_fraction,
            "a number in (0, 1)",
        ));
    }
    let n = data.len();
    if n < 2 {
        return Err(Error::invalid(
            format!("size of dataset '{}' to split", data.name),
            n,
            "at least 2 samples (both parts must be non-empty)",
        ));
    }
    let n_test = ((test_fraction * n as f64).round() as usize).clamp(1, n - 1);

    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        perm.swap(i, j);
    }

    if !stratify {
        let train = perm[n_test..].to_vec();
        perm.truncate(n_test);
        return Ok((train, perm));
    }
    let Targets::Classes { labels, n_classes } = &data.targets else {
        return Err(Error::invalid(
            "stratify",
            "true",
            format!(
                "false for dataset '{}', whose targets are real (stratification needs classes)",
                data.name
            ),
        ));
    };
    let quota = stratified_quota(labels, *n_classes, n_test);
    let mut taken = vec![0usize; *n_classes];
    let (mut train, mut test) = (Vec::with_capacity(n - n_test), Vec::with_capacity(n_test));
    for i in perm {
        let c = labels[i];
        if taken[c] < quota[c] {
            taken[c] += 1;
            test.push(i);
        } else {
            train.push(i);
        }
    }
    Ok((train, test))
}

/// Per-class test counts: largest-remainder rounding of `n_c · n_test / n` (ties to the lower
/// class index), which sums to `n_test` and keeps each count within one of its exact share.
fn stratified_quota(labels: &[usize], n_classes: usize, n_test: usize) -> Vec<usize> {
    let n = labels.len();
    let mut counts = vec![0usize; n_classes];
    labels.iter().for_each(|&c| counts[c] += 1);
    // exact share n_c·n_test/n = floor + rem/n, in integers to avoid ties decided by rounding
    let mut quota: Vec<usize> = counts.iter().map(|&c| c * n_test / n).collect();
    let mut rest: Vec<(usize, usize)> = counts
        .iter()
        .enumerate()
        .map(|(k, &c)| (c * n_test % n, k))
        .collect();
    rest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let missing = n_test - quota.iter().sum::<usize>();
    for &(_, k) in rest.iter().take(missing) {
        quota[k] += 1;
    }
    quota
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_sums_and_stays_within_one() {
        let labels: Vec<usize> = [0; 7].into_iter().chain([1; 5]).chain([2; 1]).collect();
        for n_test in 1..labels.len() {
            let q = stratified_quota(&labels, 3, n_test);
            assert_eq!(q.iter().sum::<usize>(), n_test);
            for (c, &size) in [7usize, 5, 1].iter().enumerate() {
                let exact = size as f64 * n_test as f64 / 13.0;
                assert!((q[c] as f64 - exact).abs() < 1.0, "{n_test} {q:?}");
            }
        }
    }
}
