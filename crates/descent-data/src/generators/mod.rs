//! Seeded synthetic data: distributions that draw fresh labelled samples, as finite datasets or as
//! endless streams.
//!
//! | generator | what it draws | used by |
//! |---|---|---|
//! | [`GaussianMixture`] | classes made of Gaussian sub-clusters with chosen weights | P2 §5.1, P6 R7 |
//! | [`Teacher`] | x ~ N(0, I), y = teacher network(x) + noise | teacher–student regression |
//! | [`SpectralGaussian`] | x ~ N(0, U diag(λ) Uᵀ), split into relevant and irrelevant parts, y = P x | P1 §2.2 |
//!
//! Every generator implements [`Generator`]: [`Generator::sample`] draws a finite [`Dataset`],
//! and a [`Stream`] wraps one behind [`Stochastic::resample`] so that an online-learning problem
//! sees one fresh sample (or batch) per step without allocating. A generator's *structure*
//! (class centres, teacher weights, the basis U) is drawn once when it is built, from the
//! `"structure"` stream of its seed; the samples come from the caller's RNG, so a training and a
//! test set of the same distribution are two calls with two streams.
//!
//! As dataset specs (`descent train --data 'mixture(classes=5, dim=10)'`, see [`dataset_from_spec`]):
//!
//! ```text
//! mixture(classes=5, dim=10, n=400, weights=[0.7,0.2,0.1], sep=2, spread=1, noise=1.5, seed=0)
//! teacher(dim=10, hidden=20, outputs=1, act=tanh, noise=0.1, n=1000, seed=0)
//! gaussian(dim=10, relevant=2, var_rel=1, var_irr=0.25 | spectrum=[...] | power=1,
//!          basis=random|identity, target=projection|none, n=1000, seed=0)
//! ```
//!
//! `n` is the number of samples (per class for `mixture`); `seed` seeds both the structure and the
//! samples of the finite dataset, independently of the run seed.

use std::fmt;
use std::sync::Arc;

use descent_core::rng::Rng;
use descent_core::{Error, Result, RngStreams, Spec, Stochastic};
use rand::RngExt;
use rand_distr::{Distribution, Gamma, StandardNormal};

use crate::dataset::{Dataset, Targets};

/// The kind and width of a generator's targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetShape {
    /// Class labels in `0..n`.
    Classes(usize),
    /// Real targets of this dimension (0 for unlabelled data).
    Real(usize),
}

/// Where [`Generator::draw`] writes one sample's target.
#[derive(Debug)]
pub enum TargetMut<'a> {
    /// A class label.
    Class(&'a mut usize),
    /// A real target vector.
    Real(&'a mut [f64]),
}

/// A distribution over labelled samples that can draw as many fresh ones as asked.
pub trait Generator: Send + Sync + fmt::Debug {
    /// A short description for reports (`mixture(classes=5, dim=10, ...)`).
    fn name(&self) -> String;
    /// Features per sample.
    fn n_features(&self) -> usize;
    /// The targets each sample carries.
    fn target_shape(&self) -> TargetShape;
    /// Draws one sample: its features into `x` (length [`Generator::n_features`]) and its target
    /// into `y` (of the kind [`Generator::target_shape`] says).
    fn draw(&self, rng: &mut Rng, x: &mut [f64], y: TargetMut<'_>);

    /// Overwrites every sample of `out` with fresh draws, in place (no allocation). `out` must
    /// have been made by [`Generator::sample`] or [`empty_dataset`] for this generator.
    fn fill(&self, rng: &mut Rng, out: &mut Dataset) {
        let d = out.n_features;
        let n = out.len();
        match &mut out.targets {
            Targets::Classes { labels, .. } => {
                for (x, y) in out.features.chunks_exact_mut(d).zip(labels.iter_mut()) {
                    self.draw(rng, x, TargetMut::Class(y));
                }
            }
            Targets::Real { values, dim } => {
                for i in 0..n {
                    let y = &mut values[i * *dim..(i + 1) * *dim];
                    self.draw(
                        rng,
                        &mut out.features[i * d..(i + 1) * d],
                        TargetMut::Real(y),
                    );
                }
            }
        }
    }

    /// `n` fresh samples as a dataset named after the generator.
    fn sample(&self, n: usize, rng: &mut Rng) -> Dataset {
        let mut out = empty_dataset(self, n);
        self.fill(rng, &mut out);
        out
    }
}

/// A dataset of `n` zero samples shaped for `generator` (the buffer a [`Stream`] refills).
pub fn empty_dataset<G: Generator + ?Sized>(generator: &G, n: usize) -> Dataset {
    let d = generator.n_features();
    let targets = match generator.target_shape() {
        TargetShape::Classes(n_classes) => Targets::Classes {
            labels: vec![0; n],
            n_classes,
        },
        TargetShape::Real(dim) => Targets::Real {
            values: vec![0.0; n * dim],
            dim,
        },
    };
    Dataset {
        name: generator.name(),
        features: vec![0.0; n * d],
        n_features: d,
        targets,
    }
}

fn normal(rng: &mut Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// Index drawn from a cumulative distribution (last entry 1).
fn pick(cumulative: &[f64], rng: &mut Rng) -> usize {
    let u: f64 = rng.random();
    cumulative
        .iter()
        .position(|&c| u < c)
        .unwrap_or(cumulative.len() - 1)
}

/// Checks weights (finite, ≥ 0, positive sum) and returns their normalised cumulative sums.
fn cumulative(field: &str, weights: &[f64]) -> Result<Vec<f64>> {
    let total: f64 = weights.iter().sum();
    if weights.is_empty() || weights.iter().any(|w| !(*w >= 0.0 && w.is_finite())) || total <= 0.0 {
        return Err(Error::invalid(
            field,
            format!("{weights:?}"),
            "a non-empty list of finite weights >= 0 with a positive sum",
        ));
    }
    let mut acc = 0.0;
    let mut c: Vec<f64> = weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect();
    *c.last_mut().expect("non-empty") = 1.0;
    Ok(c)
}

mod mixture;
mod partition;
mod spec;
mod spectral;
mod teacher;

pub use mixture::*;
pub use partition::*;
pub use spec::*;
pub use spectral::*;
pub use teacher::*;

/// An endless stream of fresh batches from a [`Generator`], behind [`Stochastic::resample`]:
/// every `resample` overwrites [`Stream::batch`] with `batch_size` new samples, in place. For
/// P1's online learning use `batch_size = 1` and read `batch().row(0)`.
///
/// Like [`crate::BatchSampler`]-backed objectives, a new stream already shows the batch that the
/// first `resample` will draw (drawn on a copy of the RNG), so a problem can be evaluated at once
/// and an optimizer that resamples at the start of every step still sees batch 1 at step 1.
#[derive(Debug, Clone)]
pub struct Stream {
    generator: Arc<dyn Generator>,
    rng: Rng,
    batch: Dataset,
    resamples: u64,
}

impl Stream {
    /// A stream of `batch_size` samples per step drawn with `rng` (e.g. the run's `"batches"`
    /// stream).
    ///
    /// # Errors
    ///
    /// `batch_size` = 0.
    pub fn new(generator: Arc<dyn Generator>, batch_size: usize, rng: Rng) -> Result<Stream> {
        if batch_size == 0 {
            return Err(Error::invalid("batch_size", 0, "an integer >= 1"));
        }
        let mut batch = empty_dataset(generator.as_ref(), batch_size);
        generator.fill(&mut rng.clone(), &mut batch);
        Ok(Stream {
            generator,
            rng,
            batch,
            resamples: 0,
        })
    }

    /// A stream of the generator named by a dataset spec (`mixture(...)`, `teacher(...)`,
    /// `gaussian(...)`); the spec's `seed` fixes the structure, `rng` the samples, and its `n`
    /// is ignored.
    ///
    /// # Errors
    ///
    /// A spec that names no generator or has invalid keys, or `batch_size` = 0.
    pub fn from_spec(spec: &Spec, batch_size: usize, rng: Rng) -> Result<Stream> {
        let (g, _) = generator_from_spec(spec)?;
        Stream::new(g, batch_size, rng)
    }

    /// The current batch.
    pub fn batch(&self) -> &Dataset {
        &self.batch
    }

    /// The generator.
    pub fn generator(&self) -> &Arc<dyn Generator> {
        &self.generator
    }

    /// How many times [`Stochastic::resample`] has been called.
    pub fn resamples(&self) -> u64 {
        self.resamples
    }
}

impl Stochastic for Stream {
    fn resample(&mut self) {
        self.generator.fill(&mut self.rng, &mut self.batch);
        self.resamples += 1;
    }
}
