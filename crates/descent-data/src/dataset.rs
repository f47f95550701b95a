//! The in-memory dataset: a row-major feature matrix and class labels or real targets.

use descent_core::{Error, Result};

/// What a dataset predicts.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Class labels in `0..n_classes`.
    Classes {
        /// The label of each sample.
        labels: Vec<usize>,
        /// The number of classes C (labels are < C).
        n_classes: usize,
    },
    /// Real targets, row-major `n × dim`.
    Real {
        /// The targets, row-major `n × dim`.
        values: Vec<f64>,
        /// The number of targets per sample.
        dim: usize,
    },
}

/// A dataset of `n` samples with `d` features each (row-major `n × d`).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// A short name for reports ("digits", "csv:path").
    pub name: String,
    /// Row-major `n × d` features.
    pub features: Vec<f64>,
    /// Number of features per sample.
    pub n_features: usize,
    /// What each sample predicts.
    pub targets: Targets,
}

impl Dataset {
    /// Builds a dataset, checking that the sizes agree and the labels are in range.
    ///
    /// # Errors
    ///
    /// Zero features, a feature count that is not a multiple of `n_features`, targets whose length differs from the sample count, or a label outside `0..n_classes`.
    pub fn new(
        name: impl Into<String>,
        features: Vec<f64>,
        n_features: usize,
        targets: Targets,
    ) -> Result<Self> {
        let name = name.into();
        if n_features == 0 || !features.len().is_multiple_of(n_features) {
            return Err(Error::shape(
                format!("dataset '{name}' features"),
                format!("a multiple of {n_features} values"),
                features.len(),
            ));
        }
        let n = features.len() / n_features;
        match &targets {
            Targets::Classes { labels, n_classes } => {
                if labels.len() != n {
                    return Err(Error::shape(
                        format!("dataset '{name}' labels"),
                        n,
                        labels.len(),
                    ));
                }
                if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| **l >= *n_classes) {
                    return Err(Error::invalid(
                        format!("dataset '{name}' label of sample {i}"),
                        l,
                        format!("a class in 0..{n_classes}"),
                    ));
                }
            }
            Targets::Real { values, dim } => {
                if values.len() != n * dim {
                    return Err(Error::shape(
                        format!("dataset '{name}' targets"),
                        n * dim,
                        values.len(),
                    ));
                }
            }
        }
        Ok(Dataset {
            name,
            features,
            n_features,
            targets,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.features.len() / self.n_features
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The features of sample `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.features[i * self.n_features..(i + 1) * self.n_features]
    }

    /// Number of classes, or `None` for real targets.
    pub fn n_classes(&self) -> Option<usize> {
        match &self.targets {
            Targets::Classes { n_classes, .. } => Some(*n_classes),
            Targets::Real { .. } => None,
        }
    }

    /// Output width a model needs: the number of classes, or the target dimension.
    pub fn n_outputs(&self) -> usize {
        match &self.targets {
            Targets::Classes { n_classes, .. } => *n_classes,
            Targets::Real { dim, .. } => *dim,
        }
    }

    /// The samples at `indices`, in that order, as a new dataset.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let d = self.n_features;
        let mut features = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            features.extend_from_slice(self.row(i));
        }
        let targets = match &self.targets {
            Targets::Classes { labels, n_classes } => Targets::Classes {
                labels: indices.iter().map(|&i| labels[i]).collect(),
                n_classes: *n_classes,
            },
            Targets::Real { values, dim } => Targets::Real {
                values: indices
                    .iter()
                    .flat_map(|&i| values[i * dim..(i + 1) * dim].iter().copied())
                    .collect(),
                dim: *dim,
            },
        };
        Dataset {
            name: self.name.clone(),
            features,
            n_features: d,
            targets,
        }
    }
}
