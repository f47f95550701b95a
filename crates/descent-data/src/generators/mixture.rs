//! The Gaussian mixture with sub-clusters (P2 §5.1, P6 R7).

use super::*;

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
    /// The samples and their class labels.
    pub data: Dataset,
    /// Sub-cluster index (0..weights.len()) of each sample; 0 is the heaviest when the weights
    /// are sorted decreasingly, as in P2 (typical = 0, atypical = last).
    pub subcluster: Vec<usize>,
}

impl GaussianMixture {
    /// Draws the class and sub-cluster centres from `rng`. Errors name the invalid field.
    ///
    /// # Errors
    ///
    /// Zero classes or dimensions, a scale or weight that is negative or not finite, or class weights of the wrong count, naming the field.
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
    ///
    /// # Errors
    ///
    /// `counts` of another length than the number of classes.
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
