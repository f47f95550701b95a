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
//! As dataset specs (`descent train --data 'mixture(classes=5, dim=10)'`, see [`from_spec`]):
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
    Class(&'a mut usize),
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

// ---------------------------------------------------------------------------------------------
// Gaussian mixture with sub-clusters
// ---------------------------------------------------------------------------------------------

/// The parameters of a [`GaussianMixture`] (defaults: P2 §5.1's pool, 5 classes in 10-D).
#[derive(Debug, Clone, PartialEq)]
pub struct MixtureConfig {
    /// Number of classes.
    pub classes: usize,
    /// Feature dimension d.
    pub dim: usize,
    /// Sub-cluster weights within each class (normalised); `[0.7, 0.2, 0.1]` makes a typical
    /// mode and a 10 % atypical one.
    pub weights: Vec<f64>,
    /// Class-centre separation: each centre is a N(0, I) draw rescaled to norm `sep·√d/2`.
    pub sep: f64,
    /// Sub-cluster centres are `μ_c + spread·N(0, I)`.
    pub spread: f64,
    /// A sample is its sub-cluster centre plus `noise·N(0, I)`.
    pub noise: f64,
    /// Class probabilities of a fresh draw ([`Generator::draw`]); empty means uniform.
    pub class_weights: Vec<f64>,
}

impl Default for MixtureConfig {
    fn default() -> Self {
        MixtureConfig {
            classes: 5,
            dim: 10,
            weights: vec![0.7, 0.2, 0.1],
            sep: 2.0,
            spread: 1.0,
            noise: 1.5,
            class_weights: Vec::new(),
        }
    }
}

/// Gaussian-mixture classes made of sub-clusters (P2 §5.1, P6 R7): class c has centre μ_c of
/// norm `sep·√d/2`, sub-cluster j of class c has centre `μ_c + spread·ξ_cj` and weight w_j, and a
/// sample of sub-cluster (c, j) is `centre_cj + noise·ε` with ξ, ε ~ N(0, I_d).
#[derive(Debug, Clone)]
pub struct GaussianMixture {
    config: MixtureConfig,
    /// classes × dim.
    class_centres: Vec<f64>,
    /// (classes · k) × dim, class-major.
    centres: Vec<f64>,
    sub_cumulative: Vec<f64>,
    class_cumulative: Vec<f64>,
}

/// A finite draw of a [`GaussianMixture`] with each sample's sub-cluster.
#[derive(Debug, Clone)]
pub struct MixtureSample {
    pub data: Dataset,
    /// Sub-cluster index (0..weights.len()) of each sample; 0 is the heaviest when the weights
    /// are sorted decreasingly, as in P2 (typical = 0, atypical = last).
    pub subcluster: Vec<usize>,
}

impl GaussianMixture {
    /// Draws the class and sub-cluster centres from `rng`. Errors name the invalid field.
    pub fn new(config: MixtureConfig, rng: &mut Rng) -> Result<GaussianMixture> {
        if config.classes == 0 {
            return Err(Error::invalid("mixture.classes", 0, "an integer >= 1"));
        }
        if config.dim == 0 {
            return Err(Error::invalid("mixture.dim", 0, "an integer >= 1"));
        }
        for (field, v) in [
            ("mixture.sep", config.sep),
            ("mixture.spread", config.spread),
            ("mixture.noise", config.noise),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(Error::invalid(field, v, "a finite number >= 0"));
            }
        }
        let sub_cumulative = cumulative("mixture.weights", &config.weights)?;
        let class_cumulative = if config.class_weights.is_empty() {
            cumulative("mixture.class_weights", &vec![1.0; config.classes])?
        } else if config.class_weights.len() != config.classes {
            return Err(Error::invalid(
                "mixture.class_weights",
                format!("{} weights", config.class_weights.len()),
                format!("one weight per class ({})", config.classes),
            ));
        } else {
            cumulative("mixture.class_weights", &config.class_weights)?
        };
        let (c, d, k) = (config.classes, config.dim, config.weights.len());
        let radius = config.sep * (d as f64).sqrt() / 2.0;
        let mut class_centres = vec![0.0; c * d];
        for mu in class_centres.chunks_exact_mut(d) {
            mu.iter_mut().for_each(|v| *v = normal(rng));
            let norm = mu.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
            mu.iter_mut().for_each(|v| *v *= radius / norm);
        }
        let mut centres = vec![0.0; c * k * d];
        for (i, centre) in centres.chunks_exact_mut(d).enumerate() {
            let mu = &class_centres[(i / k) * d..(i / k + 1) * d];
            for (v, m) in centre.iter_mut().zip(mu) {
                *v = m + config.spread * normal(rng);
            }
        }
        Ok(GaussianMixture {
            config,
            class_centres,
            centres,
            sub_cumulative,
            class_cumulative,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MixtureConfig {
        &self.config
    }

    /// Centre μ_c of class `c`.
    pub fn class_centre(&self, c: usize) -> &[f64] {
        let d = self.config.dim;
        &self.class_centres[c * d..(c + 1) * d]
    }

    /// Centre of sub-cluster `j` of class `c`.
    pub fn centre(&self, c: usize, j: usize) -> &[f64] {
        let (d, k) = (self.config.dim, self.config.weights.len());
        &self.centres[(c * k + j) * d..(c * k + j + 1) * d]
    }

    /// One sample of class `c`: its sub-cluster is drawn by the weights; returns the sub-cluster.
    pub fn draw_class(&self, c: usize, rng: &mut Rng, x: &mut [f64]) -> usize {
        let j = pick(&self.sub_cumulative, rng);
        for (v, m) in x.iter_mut().zip(self.centre(c, j)) {
            *v = m + self.config.noise * normal(rng);
        }
        j
    }

    /// `counts[c]` samples of each class c (class-major order: all of class 0, then class 1, ...),
    /// with each sample's sub-cluster. P2's pool is `counts = [400; K] ++ [300; U]`.
    pub fn sample_per_class(&self, counts: &[usize], rng: &mut Rng) -> Result<MixtureSample> {
        if counts.len() != self.config.classes {
            return Err(Error::invalid(
                "mixture counts",
                format!("{} counts", counts.len()),
                format!("one count per class ({})", self.config.classes),
            ));
        }
        let n: usize = counts.iter().sum();
        let d = self.config.dim;
        let mut features = vec![0.0; n * d];
        let mut labels = Vec::with_capacity(n);
        let mut subcluster = Vec::with_capacity(n);
        let mut rows = features.chunks_exact_mut(d);
        for (c, &m) in counts.iter().enumerate() {
            for _ in 0..m {
                let x = rows.next().expect("n rows");
                subcluster.push(self.draw_class(c, rng, x));
                labels.push(c);
            }
        }
        let data = Dataset::new(
            self.name(),
            features,
            d,
            Targets::Classes {
                labels,
                n_classes: self.config.classes,
            },
        )?;
        Ok(MixtureSample { data, subcluster })
    }
}

impl Generator for GaussianMixture {
    fn name(&self) -> String {
        let c = &self.config;
        format!(
            "mixture(classes={}, dim={}, weights={:?}, sep={}, spread={}, noise={})",
            c.classes, c.dim, c.weights, c.sep, c.spread, c.noise
        )
    }
    fn n_features(&self) -> usize {
        self.config.dim
    }
    fn target_shape(&self) -> TargetShape {
        TargetShape::Classes(self.config.classes)
    }
    /// A class drawn by `class_weights` (uniform by default), then a sample of it.
    fn draw(&self, rng: &mut Rng, x: &mut [f64], y: TargetMut<'_>) {
        let c = pick(&self.class_cumulative, rng);
        self.draw_class(c, rng, x);
        if let TargetMut::Class(label) = y {
            *label = c;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Teacher–student regression
// ---------------------------------------------------------------------------------------------

/// The teacher network's hidden activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeacherAct {
    Tanh,
    Relu,
}

impl TeacherAct {
    fn apply(self, z: f64) -> f64 {
        match self {
            TeacherAct::Tanh => z.tanh(),
            TeacherAct::Relu => z.max(0.0),
        }
    }
}

/// The parameters of a [`Teacher`].
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherConfig {
    /// Input dimension d.
    pub dim: usize,
    /// Hidden width h; 0 makes a linear teacher y = W x / √d.
    pub hidden: usize,
    /// Output dimension.
    pub outputs: usize,
    pub act: TeacherAct,
    /// Standard deviation σ of the label noise added to each output.
    pub noise: f64,
}

impl Default for TeacherConfig {
    fn default() -> Self {
        TeacherConfig {
            dim: 10,
            hidden: 20,
            outputs: 1,
            act: TeacherAct::Tanh,
            noise: 0.1,
        }
    }
}

/// Teacher–student regression: inputs x ~ N(0, I_d) and targets
/// `y = V·act(W x / √d) / √h + σ ε` (or `y = W x / √d + σ ε` for h = 0), with the teacher's
/// weights W, V ~ N(0, 1) entrywise, drawn once. The 1/√d, 1/√h scalings keep pre-activations
/// and outputs of order one whatever the sizes (the usual committee-machine normalisation).
#[derive(Debug, Clone)]
pub struct Teacher {
    config: TeacherConfig,
    /// (h or outputs) × d.
    w: Vec<f64>,
    /// outputs × h (empty when linear).
    v: Vec<f64>,
}

impl Teacher {
    /// Draws the teacher's weights from `rng`.
    pub fn new(config: TeacherConfig, rng: &mut Rng) -> Result<Teacher> {
        if config.dim == 0 {
            return Err(Error::invalid("teacher.dim", 0, "an integer >= 1"));
        }
        if config.outputs == 0 {
            return Err(Error::invalid("teacher.outputs", 0, "an integer >= 1"));
        }
        if !(config.noise >= 0.0 && config.noise.is_finite()) {
            return Err(Error::invalid(
                "teacher.noise",
                config.noise,
                "a finite number >= 0",
            ));
        }
        let rows = if config.hidden == 0 {
            config.outputs
        } else {
            config.hidden
        };
        let w = (0..rows * config.dim).map(|_| normal(rng)).collect();
        let v = (0..config.outputs * config.hidden)
            .map(|_| normal(rng))
            .collect();
        Ok(Teacher { config, w, v })
    }

    pub fn config(&self) -> &TeacherConfig {
        &self.config
    }

    /// The first-layer weights, row-major (h × d, or outputs × d for a linear teacher).
    pub fn first_layer(&self) -> &[f64] {
        &self.w
    }

    /// The noiseless teacher output f(x) into `out` (length `outputs`).
    pub fn predict(&self, x: &[f64], out: &mut [f64]) {
        let c = &self.config;
        let sd = 1.0 / (c.dim as f64).sqrt();
        if c.hidden == 0 {
            for (o, w) in out.iter_mut().zip(self.w.chunks_exact(c.dim)) {
                *o = sd * w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
            }
            return;
        }
        let sh = 1.0 / (c.hidden as f64).sqrt();
        out.iter_mut().for_each(|o| *o = 0.0);
        for (j, w) in self.w.chunks_exact(c.dim).enumerate() {
            let a = c
                .act
                .apply(sd * w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>());
            for (k, o) in out.iter_mut().enumerate() {
                *o += sh * self.v[k * c.hidden + j] * a;
            }
        }
    }
}

impl Generator for Teacher {
    fn name(&self) -> String {
        let c = &self.config;
        let act = match c.act {
            TeacherAct::Tanh => "tanh",
            TeacherAct::Relu => "relu",
        };
        format!(
            "teacher(dim={}, hidden={}, outputs={}, act={act}, noise={})",
            c.dim, c.hidden, c.outputs, c.noise
        )
    }
    fn n_features(&self) -> usize {
        self.config.dim
    }
    fn target_shape(&self) -> TargetShape {
        TargetShape::Real(self.config.outputs)
    }
    fn draw(&self, rng: &mut Rng, x: &mut [f64], y: TargetMut<'_>) {
        x.iter_mut().for_each(|v| *v = normal(rng));
        if let TargetMut::Real(y) = y {
            self.predict(x, y);
            y.iter_mut()
                .for_each(|v| *v += self.config.noise * normal(rng));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Gaussian data with a chosen covariance spectrum and a relevant/irrelevant split (P1)
// ---------------------------------------------------------------------------------------------

/// The orthonormal basis U of a [`SpectralGaussian`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// U = I: the first `relevant` coordinates are the relevant subspace.
    Identity,
    /// A random orthogonal U (QR of a Gaussian matrix, signs fixed so R has a positive diagonal:
    /// Haar-distributed).
    Random,
}

/// What a [`SpectralGaussian`] sample carries as its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpectralTarget {
    /// y = P x with P = U∥ᵀ (m × n, orthonormal rows): P1's supervised target (§2.2).
    Projection,
    /// No target (real targets of dimension 0): unsupervised models (Oja, similarity matching).
    None,
}

/// Zero-mean Gaussian inputs with covariance `C = U diag(λ_1..λ_n) Uᵀ` (P1 §2.2). The first
/// `relevant` = m columns of U span the task-relevant subspace and the remaining n − m the
/// irrelevant one; `x = x∥ + x⊥` with x∥ = U∥U∥ᵀx ([`SpectralGaussian::split`]). P1's default is
/// a flat spectrum λ∥ = 1 on m directions and λ⊥ on n − m ([`SpectralGaussian::flat`]); its MNIST
/// substitute is λ_i ∝ i^(−1) ([`SpectralGaussian::power_law`]).
#[derive(Debug, Clone)]
pub struct SpectralGaussian {
    variances: Vec<f64>,
    std: Vec<f64>,
    relevant: usize,
    /// n × n row-major; column i is direction i. `None` for the identity.
    basis: Option<Vec<f64>>,
    target: SpectralTarget,
}

impl SpectralGaussian {
    /// Variances λ_i of the n directions (≥ 0, finite), the first `relevant` of which are the
    /// relevant subspace; U from `basis`, drawn with `rng` when random.
    pub fn new(
        variances: Vec<f64>,
        relevant: usize,
        basis: Basis,
        target: SpectralTarget,
        rng: &mut Rng,
    ) -> Result<SpectralGaussian> {
        let n = variances.len();
        if n == 0 {
            return Err(Error::invalid(
                "gaussian.spectrum",
                "an empty list",
                "at least one variance",
            ));
        }
        if let Some(v) = variances.iter().find(|v| !(**v >= 0.0 && v.is_finite())) {
            return Err(Error::invalid(
                "gaussian.spectrum",
                v,
                "variances that are finite and >= 0",
            ));
        }
        if relevant > n {
            return Err(Error::invalid(
                "gaussian.relevant",
                relevant,
                format!("at most the dimension {n}"),
            ));
        }
        let basis = match basis {
            Basis::Identity => None,
            Basis::Random => Some(random_orthogonal(n, rng)),
        };
        Ok(SpectralGaussian {
            std: variances.iter().map(|v| v.sqrt()).collect(),
            variances,
            relevant,
            basis,
            target,
        })
    }

    /// λ∥ on the `relevant` first directions and λ⊥ on the other `dim − relevant`.
    pub fn flat(
        dim: usize,
        relevant: usize,
        var_rel: f64,
        var_irr: f64,
        basis: Basis,
        target: SpectralTarget,
        rng: &mut Rng,
    ) -> Result<SpectralGaussian> {
        let mut v = vec![var_irr; dim];
        v[..relevant.min(dim)].fill(var_rel);
        SpectralGaussian::new(v, relevant, basis, target, rng)
    }

    /// λ_i = scale · i^(−exponent), i = 1..dim (P1 §5's MNIST substitute uses exponent 1).
    pub fn power_law(
        dim: usize,
        relevant: usize,
        scale: f64,
        exponent: f64,
        basis: Basis,
        target: SpectralTarget,
        rng: &mut Rng,
    ) -> Result<SpectralGaussian> {
        if !exponent.is_finite() {
            return Err(Error::invalid(
                "gaussian.power",
                exponent,
                "a finite number",
            ));
        }
        let v = (1..=dim)
            .map(|i| scale * (i as f64).powf(-exponent))
            .collect();
        SpectralGaussian::new(v, relevant, basis, target, rng)
    }

    /// Dimension n.
    pub fn dim(&self) -> usize {
        self.variances.len()
    }

    /// The variances λ_i along the basis directions.
    pub fn variances(&self) -> &[f64] {
        &self.variances
    }

    /// m, the dimension of the relevant subspace.
    pub fn relevant(&self) -> usize {
        self.relevant
    }

    /// U (row-major n × n, columns are the directions).
    pub fn basis(&self) -> Vec<f64> {
        let n = self.dim();
        self.basis.clone().unwrap_or_else(|| {
            let mut u = vec![0.0; n * n];
            (0..n).for_each(|i| u[i * n + i] = 1.0);
            u
        })
    }

    /// The covariance U diag(λ) Uᵀ (row-major n × n).
    pub fn covariance(&self) -> Vec<f64> {
        let n = self.dim();
        let u = self.basis();
        let mut c = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                c[i * n + j] = (0..n)
                    .map(|k| u[i * n + k] * self.variances[k] * u[j * n + k])
                    .sum();
            }
        }
        c
    }

    /// Coordinates of x in the basis, z = Uᵀ x (length n).
    pub fn coordinates(&self, x: &[f64], z: &mut [f64]) {
        let n = self.dim();
        match &self.basis {
            None => z.copy_from_slice(x),
            Some(u) => {
                for (k, zk) in z.iter_mut().enumerate() {
                    *zk = (0..n).map(|i| u[i * n + k] * x[i]).sum();
                }
            }
        }
    }

    /// Splits x into its relevant part x∥ = U∥U∥ᵀx and irrelevant part x⊥ = x − x∥.
    pub fn split(&self, x: &[f64], par: &mut [f64], perp: &mut [f64]) {
        let n = self.dim();
        let m = self.relevant;
        match &self.basis {
            None => {
                par[..m].copy_from_slice(&x[..m]);
                par[m..].fill(0.0);
            }
            Some(u) => {
                par.fill(0.0);
                for k in 0..m {
                    let zk: f64 = (0..n).map(|i| u[i * n + k] * x[i]).sum();
                    for i in 0..n {
                        par[i] += u[i * n + k] * zk;
                    }
                }
            }
        }
        for i in 0..n {
            perp[i] = x[i] - par[i];
        }
    }
}

impl SpectralGaussian {
    /// One sample with any generator (the hot loops of P1's drift runs use
    /// [`descent_core::rng::SimRng`]): x = U (√λ ⊙ ε), ε ~ N(0, I), and y = U∥ᵀ x, the first
    /// `y.len()` entries of √λ ⊙ ε (pass an empty `y` for no target). Never allocates for n ≤ 256.
    #[inline]
    pub fn draw_with<R: rand::Rng + ?Sized>(&self, rng: &mut R, x: &mut [f64], y: &mut [f64]) {
        let n = self.dim();
        match &self.basis {
            None => {
                for (xi, s) in x.iter_mut().zip(&self.std) {
                    *xi = s * descent_core::rng::std_normal(rng);
                }
                let m = y.len();
                y.copy_from_slice(&x[..m]);
            }
            Some(u) => {
                // z = √λ ⊙ ε on the stack up to n = 256 (no allocation per sample), then x = U z
                let mut stack = [0.0f64; 256];
                let mut heap = Vec::new();
                let z: &mut [f64] = if n <= stack.len() {
                    &mut stack[..n]
                } else {
                    heap.resize(n, 0.0);
                    &mut heap
                };
                for (zk, s) in z.iter_mut().zip(&self.std) {
                    *zk = s * descent_core::rng::std_normal(rng);
                }
                for (i, xi) in x.iter_mut().enumerate() {
                    *xi = u[i * n..(i + 1) * n]
                        .iter()
                        .zip(z.iter())
                        .map(|(a, b)| a * b)
                        .sum();
                }
                let m = y.len();
                y.copy_from_slice(&z[..m]);
            }
        }
    }
}

/// A Haar-random orthogonal n × n matrix: QR of a Gaussian matrix with Q's columns signed so
/// that R's diagonal is positive.
fn random_orthogonal(n: usize, rng: &mut Rng) -> Vec<f64> {
    let g: Vec<f64> = (0..n * n).map(|_| normal(rng)).collect();
    let (mut q, r) = descent_core::linalg::qr(&g, n, n);
    for k in 0..n {
        if r[k * n + k] < 0.0 {
            for i in 0..n {
                q[i * n + k] = -q[i * n + k];
            }
        }
    }
    q
}

impl Generator for SpectralGaussian {
    fn name(&self) -> String {
        format!(
            "gaussian(dim={}, relevant={}, spectrum={:?}, basis={})",
            self.dim(),
            self.relevant,
            self.variances,
            if self.basis.is_some() {
                "random"
            } else {
                "identity"
            }
        )
    }
    fn n_features(&self) -> usize {
        self.dim()
    }
    fn target_shape(&self) -> TargetShape {
        match self.target {
            SpectralTarget::Projection => TargetShape::Real(self.relevant),
            SpectralTarget::None => TargetShape::Real(0),
        }
    }
    /// x = U (√λ ⊙ ε), ε ~ N(0, I); y = U∥ᵀ x = the first m entries of √λ ⊙ ε.
    fn draw(&self, rng: &mut Rng, x: &mut [f64], y: TargetMut<'_>) {
        match y {
            TargetMut::Real(y) => self.draw_with(rng, x, y),
            TargetMut::Class(_) => self.draw_with(rng, x, &mut []),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Dirichlet non-IID partitions (P3 §2, P9 §5)
// ---------------------------------------------------------------------------------------------

/// A partition of a dataset's samples among K clients.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// Sample indices of each client, ascending.
    pub clients: Vec<Vec<usize>>,
    /// `histogram[k][c]`: samples of class c held by client k.
    pub histogram: Vec<Vec<usize>>,
    /// Draws needed to satisfy the minimum client size (1 when the first draw did).
    pub attempts: usize,
}

impl Partition {
    /// Per-class Dirichlet partition (Hsu et al. 2019, as P3 §2 and P9's non-IID variant): for
    /// each class c, draw p ~ Dir(α·1_K) and give client k its largest-remainder share of
    /// round(p_k·n_c) of the class's samples (shuffled), so the shares sum to n_c exactly. The
    /// whole draw is repeated while some client holds fewer than `min_size` samples (P3: 10), up
    /// to 1000 times. Small α gives clients few classes each; α → ∞ gives IID shares.
    pub fn dirichlet(
        data: &Dataset,
        clients: usize,
        alpha: f64,
        min_size: usize,
        rng: &mut Rng,
    ) -> Result<Partition> {
        let Targets::Classes { labels, n_classes } = &data.targets else {
            return Err(Error::invalid(
                "partition data",
                format!("'{}' with real targets", data.name),
                "a dataset with class labels (the Dirichlet split is per class)",
            ));
        };
        if clients == 0 {
            return Err(Error::invalid("partition.clients", 0, "an integer >= 1"));
        }
        if !(alpha > 0.0 && alpha.is_finite()) {
            return Err(Error::invalid(
                "partition.alpha",
                alpha,
                "a finite number > 0",
            ));
        }
        if min_size * clients > labels.len() {
            return Err(Error::invalid(
                "partition.min_size",
                min_size,
                format!(
                    "at most {} ({} samples over {clients} clients)",
                    labels.len() / clients,
                    labels.len()
                ),
            ));
        }
        let gamma = Gamma::new(alpha, 1.0)
            .map_err(|e| Error::invalid("partition.alpha", alpha, e.to_string()))?;
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); *n_classes];
        labels
            .iter()
            .enumerate()
            .for_each(|(i, &c)| by_class[c].push(i));
        const MAX_ATTEMPTS: usize = 1000;
        let mut p = vec![0.0; clients];
        for attempt in 1..=MAX_ATTEMPTS {
            let mut assigned: Vec<Vec<usize>> = vec![Vec::new(); clients];
            let mut histogram = vec![vec![0usize; *n_classes]; clients];
            for (c, members) in by_class.iter_mut().enumerate() {
                shuffle(members, rng);
                p.iter_mut().for_each(|v| *v = gamma.sample(rng));
                let total: f64 = p.iter().sum();
                if total > 0.0 {
                    p.iter_mut().for_each(|v| *v /= total);
                } else {
                    // every Gamma draw underflowed (α ≪ 1): the class goes to one client
                    p.fill(0.0);
                    p[rng.random_range(0..clients)] = 1.0;
                }
                let counts = largest_remainder(&p, members.len());
                let mut start = 0;
                for (k, &m) in counts.iter().enumerate() {
                    assigned[k].extend_from_slice(&members[start..start + m]);
                    histogram[k][c] = m;
                    start += m;
                }
            }
            if assigned.iter().all(|a| a.len() >= min_size) {
                assigned.iter_mut().for_each(|a| a.sort_unstable());
                return Ok(Partition {
                    clients: assigned,
                    histogram,
                    attempts: attempt,
                });
            }
        }
        Err(Error::invalid(
            "partition.min_size",
            min_size,
            format!(
                "a size every client reaches within {MAX_ATTEMPTS} Dirichlet(α={alpha}) draws; \
                 lower it or raise alpha"
            ),
        ))
    }

    /// An IID partition: a random permutation cut into K parts whose sizes differ by at most one.
    pub fn iid(data: &Dataset, clients: usize, rng: &mut Rng) -> Result<Partition> {
        if clients == 0 || clients > data.len() {
            return Err(Error::invalid(
                "partition.clients",
                clients,
                format!("an integer in 1..={} (the number of samples)", data.len()),
            ));
        }
        let n = data.len();
        let mut perm: Vec<usize> = (0..n).collect();
        shuffle(&mut perm, rng);
        let mut parts: Vec<Vec<usize>> = (0..clients)
            .map(|k| perm[k * n / clients..(k + 1) * n / clients].to_vec())
            .collect();
        parts.iter_mut().for_each(|a| a.sort_unstable());
        let histogram = histogram_of(data, &parts);
        Ok(Partition {
            clients: parts,
            histogram,
            attempts: 1,
        })
    }

    /// The samples of client `k` as a dataset named `<name>[client k]`.
    pub fn client_data(&self, data: &Dataset, k: usize) -> Dataset {
        let mut d = data.subset(&self.clients[k]);
        d.name = format!("{}[client {k}]", data.name);
        d
    }

    /// Number of samples of each client.
    pub fn sizes(&self) -> Vec<usize> {
        self.clients.iter().map(Vec::len).collect()
    }
}

/// Per-client class counts (empty rows for real targets).
fn histogram_of(data: &Dataset, parts: &[Vec<usize>]) -> Vec<Vec<usize>> {
    match &data.targets {
        Targets::Classes { labels, n_classes } => parts
            .iter()
            .map(|p| {
                let mut h = vec![0; *n_classes];
                p.iter().for_each(|&i| h[labels[i]] += 1);
                h
            })
            .collect(),
        Targets::Real { .. } => vec![Vec::new(); parts.len()],
    }
}

fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

/// Integer shares of `n` proportional to `p` (sums to 1): floors plus one for the largest
/// remainders (ties to the lower index).
fn largest_remainder(p: &[f64], n: usize) -> Vec<usize> {
    let exact: Vec<f64> = p.iter().map(|v| v * n as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|v| v.floor() as usize).collect();
    let assigned: usize = counts.iter().sum();
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &k in order.iter().take(n.saturating_sub(assigned)) {
        counts[k] += 1;
    }
    counts
}

// ---------------------------------------------------------------------------------------------
// Specs
// ---------------------------------------------------------------------------------------------

/// Spec names of the generators (rows of [`crate::DATASETS`]).
pub const GENERATORS: &[(&str, &str)] = &[
    (
        "mixture",
        "Gaussian-mixture classes with sub-clusters: mixture(classes=5, dim=10, n=400 per class, \
         weights=[0.7,0.2,0.1], sep=2, spread=1, noise=1.5, seed=0)",
    ),
    (
        "teacher",
        "teacher-student regression, x ~ N(0,I), y = V tanh(Wx/sqrt d)/sqrt h + noise: \
         teacher(dim=10, hidden=20, outputs=1, act=tanh|relu, noise=0.1, n=1000, seed=0)",
    ),
    (
        "gaussian",
        "Gaussian inputs with a chosen covariance spectrum, target y = P x on the relevant \
         subspace: gaussian(dim=10, relevant=2, var_rel=1, var_irr=0.25 | spectrum=[...] | \
         power=1, basis=random|identity, target=projection|none, n=1000, seed=0)",
    ),
];

/// How much to draw for a finite dataset from a generator spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleSize {
    /// Samples (per class for `mixture`).
    pub n: usize,
    /// Seed of the structure and of the samples.
    pub seed: u64,
}

/// The generator a spec names and the spec's sample size; errors name `generator.key`.
pub fn generator_from_spec(spec: &Spec) -> Result<(Arc<dyn Generator>, SampleSize)> {
    no_short_form(spec)?;
    let seed_of = |a: &descent_core::Args<'_>| a.usize("seed", 0).map(|s| s as u64);
    match spec.name.as_str() {
        "mixture" => {
            let (g, size) = mixture_from_spec(spec)?;
            Ok((Arc::new(g), size))
        }
        "teacher" => {
            let a = spec.args(&["dim", "hidden", "outputs", "act", "noise", "n", "seed"])?;
            let d = TeacherConfig::default();
            let act = match a.choice("act", "tanh", &["tanh", "relu"])?.as_str() {
                "relu" => TeacherAct::Relu,
                _ => TeacherAct::Tanh,
            };
            let config = TeacherConfig {
                dim: a.usize("dim", d.dim)?,
                hidden: a.usize("hidden", d.hidden)?,
                outputs: a.usize("outputs", d.outputs)?,
                act,
                noise: a.non_negative("noise", d.noise)?,
            };
            let size = SampleSize {
                n: a.usize("n", 1000)?,
                seed: seed_of(&a)?,
            };
            let g = Teacher::new(config, &mut structure_rng(size.seed))?;
            Ok((Arc::new(g), size))
        }
        "gaussian" => {
            let a = spec.args(&[
                "dim", "relevant", "var_rel", "var_irr", "spectrum", "power", "basis", "target",
                "n", "seed",
            ])?;
            let basis = match a
                .choice("basis", "random", &["random", "identity"])?
                .as_str()
            {
                "identity" => Basis::Identity,
                _ => Basis::Random,
            };
            let target = match a
                .choice("target", "projection", &["projection", "none"])?
                .as_str()
            {
                "none" => SpectralTarget::None,
                _ => SpectralTarget::Projection,
            };
            let size = SampleSize {
                n: a.usize("n", 1000)?,
                seed: seed_of(&a)?,
            };
            let relevant = a.usize("relevant", 2)?;
            let mut rng = structure_rng(size.seed);
            let forms = [a.has("spectrum"), a.has("power"), a.has("var_irr")];
            if forms.iter().filter(|f| **f).count() > 1 {
                return Err(Error::invalid(
                    "gaussian.spectrum",
                    "more than one of spectrum=, power=, var_irr=",
                    "one way to give the spectrum",
                ));
            }
            let g = if let Some(v) = a.f64_list("spectrum")? {
                if a.has("dim") && a.usize("dim", 0)? != v.len() {
                    return Err(Error::invalid(
                        "gaussian.dim",
                        a.usize("dim", 0)?,
                        format!("the length of spectrum ({})", v.len()),
                    ));
                }
                SpectralGaussian::new(v, relevant, basis, target, &mut rng)?
            } else {
                let dim = a.usize("dim", 10)?;
                let var_rel = a.non_negative("var_rel", 1.0)?;
                if a.has("power") {
                    let p = a.f64("power", 1.0)?;
                    SpectralGaussian::power_law(dim, relevant, var_rel, p, basis, target, &mut rng)?
                } else {
                    let var_irr = a.non_negative("var_irr", 0.25)?;
                    SpectralGaussian::flat(
                        dim, relevant, var_rel, var_irr, basis, target, &mut rng,
                    )?
                }
            };
            Ok((Arc::new(g), size))
        }
        other => Err(Error::unknown_name(
            "generator",
            other,
            &GENERATORS.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        )),
    }
}

/// The finite dataset a generator spec names: `n` samples (per class for `mixture`, in class
/// order) drawn from the `"samples"` stream of the spec's seed.
pub fn dataset_from_spec(spec: &Spec) -> Result<Dataset> {
    let mut data = if spec.name == "mixture" {
        // a fixed count per class, as P2's pools
        let (mix, size) = mixture_from_spec(spec)?;
        check_n(spec, size)?;
        let counts = vec![size.n; mix.config().classes];
        mix.sample_per_class(&counts, &mut samples_rng(size.seed))?
            .data
    } else {
        let (g, size) = generator_from_spec(spec)?;
        check_n(spec, size)?;
        g.sample(size.n, &mut samples_rng(size.seed))
    };
    data.name = spec.to_string();
    Ok(data)
}

fn check_n(spec: &Spec, size: SampleSize) -> Result<()> {
    if size.n == 0 {
        return Err(Error::invalid(
            format!("{}.n", spec.name),
            0,
            "an integer >= 1",
        ));
    }
    Ok(())
}

fn samples_rng(seed: u64) -> Rng {
    RngStreams::new(seed).stream("samples")
}

/// The mixture a `mixture(...)` spec names, as its concrete type (for per-class counts).
pub fn mixture_from_spec(spec: &Spec) -> Result<(GaussianMixture, SampleSize)> {
    no_short_form(spec)?;
    let a = spec.args(&[
        "classes",
        "dim",
        "n",
        "weights",
        "sep",
        "spread",
        "noise",
        "class_weights",
        "seed",
    ])?;
    let d = MixtureConfig::default();
    let config = MixtureConfig {
        classes: a.usize("classes", d.classes)?,
        dim: a.usize("dim", d.dim)?,
        weights: a.f64_list("weights")?.unwrap_or(d.weights),
        sep: a.non_negative("sep", d.sep)?,
        spread: a.non_negative("spread", d.spread)?,
        noise: a.non_negative("noise", d.noise)?,
        class_weights: a.f64_list("class_weights")?.unwrap_or_default(),
    };
    let size = SampleSize {
        n: a.usize("n", 400)?,
        seed: a.usize("seed", 0)? as u64,
    };
    Ok((
        GaussianMixture::new(config, &mut structure_rng(size.seed))?,
        size,
    ))
}

/// Generators take keyword arguments only (`mixture:x` is an error naming the form expected).
fn no_short_form(spec: &Spec) -> Result<()> {
    match &spec.short {
        Some(short) => Err(Error::invalid(
            format!("dataset '{}'", spec.name),
            format!("'{}:{short}'", spec.name),
            format!("{}(key=value, ...)", spec.name),
        )),
        None => Ok(()),
    }
}

fn structure_rng(seed: u64) -> Rng {
    RngStreams::new(seed).stream("structure")
}
