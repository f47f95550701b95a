//! Per-feature standardization `x ← (x − mean) / scale`, fitted on a training part and applied
//! unchanged to every other part, so no statistic of the test data leaks into training.

use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;

/// Per-feature means and scales (population standard deviations, i.e. divided by `n`, as in
/// scikit-learn's `StandardScaler`). A column that is constant in the fitted data gets mean equal
/// to its value and scale 1, so it maps to exact zeros instead of dividing by zero. Only features
/// are touched; targets are left as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Per-feature mean of the fitted data.
    pub mean: Vec<f64>,
    /// Per-feature population standard deviation (1 for constant columns).
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Computes means and scales of every feature of `data` (two passes, for accuracy).
    ///
    /// # Errors
    ///
    /// An empty dataset.
    pub fn fit(data: &Dataset) -> Result<Self> {
        let (n, d) = (data.len(), data.n_features);
        if n == 0 {
            return Err(Error::invalid(
                format!("size of dataset '{}' to standardize", data.name),
                0,
                "at least one sample",
            ));
        }
        let mut mean = vec![0.0; d];
        let mut min = vec![f64::INFINITY; d];
        let mut max = vec![f64::NEG_INFINITY; d];
        for i in 0..n {
            for (j, &x) in data.row(i).iter().enumerate() {
                mean[j] += x;
                min[j] = min[j].min(x);
                max[j] = max[j].max(x);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut var = vec![0.0; d];
        for i in 0..n {
            for (j, &x) in data.row(i).iter().enumerate() {
                var[j] += (x - mean[j]) * (x - mean[j]);
            }
        }
        let mut scale = vec![1.0; d];
        for j in 0..d {
            if min[j] == max[j] {
                mean[j] = min[j];
            } else {
                scale[j] = (var[j] / n as f64).sqrt();
            }
        }
        Ok(Standardizer { mean, scale })
    }

    /// Number of features this standardizer was fitted on.
    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// Standardizes the features of `data` in place; its feature count must match the fit.
    ///
    /// # Errors
    ///
    /// A feature count that differs from the fit's.
    pub fn transform(&self, data: &mut Dataset) -> Result<()> {
        if data.n_features != self.n_features() {
            return Err(Error::shape(
                format!("standardizing dataset '{}'", data.name),
                format!("{} features (as fitted)", self.n_features()),
                data.n_features,
            ));
        }
        for row in data.features.chunks_exact_mut(self.n_features()) {
            self.transform_row(row);
        }
        Ok(())
    }

    /// Standardizes one sample in place (`row.len()` must equal [`Standardizer::n_features`]).
    pub fn transform_row(&self, row: &mut [f64]) {
        debug_assert_eq!(row.len(), self.n_features());
        for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
            *x = (*x - m) / s;
        }
    }

    /// Undoes [`Standardizer::transform_row`] on one sample.
    pub fn inverse_row(&self, row: &mut [f64]) {
        debug_assert_eq!(row.len(), self.n_features());
        for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
            *x = *x * s + m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Targets;

    #[test]
    fn round_trip_and_feature_count_check() {
        let targets = Targets::Real {
            values: vec![0.0; 3],
            dim: 1,
        };
        let data = Dataset::new("t", vec![1.0, 0.1, 2.0, 0.1, 4.0, 0.1], 2, targets).unwrap();
        let s = Standardizer::fit(&data).unwrap();
        assert_eq!(s.scale[1], 1.0);
        let mut row = [4.0, 0.1];
        s.transform_row(&mut row);
        assert_eq!(row[1], 0.0);
        s.inverse_row(&mut row);
        assert!((row[0] - 4.0).abs() < 1e-12 && row[1] == 0.1);
        let mut other = Dataset::new(
            "u",
            vec![1.0; 3],
            3,
            Targets::Real {
                values: vec![0.0],
                dim: 1,
            },
        )
        .unwrap();
        let e = s.transform(&mut other).unwrap_err().to_string();
        assert!(e.contains("2 features (as fitted)"), "{e}");
    }
}
