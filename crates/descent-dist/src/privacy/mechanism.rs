//! The sender-side Gaussian mechanism of DP-SGD (P9 §2.2 steps 2–4), with Poisson subsampling
//! and per-node accounting.
//!
//! - [`PoissonSampler`]: every sample of a local dataset of size m enters the batch
//!   independently with probability q, so the batch size varies (mean q·m); this is the
//!   sampling the RDP accountant's subsampled Gaussian assumes.
//! - [`add_gaussian_noise`]: N(0, std² I) on the SUM of clipped per-sample gradients, std =
//!   σ·C (P9 pitfall 4); dividing by the expected batch size q·m comes after (pitfall 5).
//! - [`node_rng`]: the random stream of (seed, purpose, node, iteration), so a node's batch
//!   and noise in iteration k do not depend on thread scheduling, on the other nodes or on
//!   which process runs the node, and a resumed run redraws them identically (P9 check 6).
//! - [`PrivateGradient`]: clip (through [`PerSampleClip`]) + Poisson batch + noise + the
//!   node's own [`RdpAccountant`], one privatized gradient per call: the whole of DP-SGD's
//!   gradient step for a single machine, and the gradient oracle of every ADP-VRSGP node.
//!   The noise is drawn where the data lives; only the noisy result leaves (P9 §5.4).

use descent_core::rng::{Rng, std_normal};
use descent_core::{Error, PerSampleGradients, Result, RngStreams};
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::accountant::{Budget, Conversion, Epsilon, RdpAccountant, check_multiplier, check_q};
use super::clip::{ClipStats, PerSampleClip, check_clip};

/// The stream of (seed, `purpose`, node, iteration): ChaCha8 seeded from the run seed's child
/// for (`purpose`, node), on the stream of the iteration.
pub fn node_rng(seed: u64, purpose: &str, node: usize, iteration: u64) -> Rng {
    RngStreams::new(RngStreams::new(seed).child_seed(purpose, node as u64))
        .indexed("iteration", iteration)
}

/// Poisson subsampling: each of m samples is in the batch independently with probability q.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PoissonSampler {
    m: usize,
    q: f64,
}

impl PoissonSampler {
    /// A sampler over 0..m with rate q ∈ (0, 1] (m ≥ 1).
    pub fn new(m: usize, q: f64) -> Result<PoissonSampler> {
        if m == 0 {
            return Err(Error::invalid("dataset size", 0, "at least one sample"));
        }
        check_q("q", q)?;
        Ok(PoissonSampler { m, q })
    }

    /// The rate for an expected batch size `b` out of `m` samples: q = b/m, which must lie in
    /// (0, 1].
    pub fn with_expected_batch(m: usize, b: f64) -> Result<PoissonSampler> {
        if m == 0 {
            return Err(Error::invalid("dataset size", 0, "at least one sample"));
        }
        if !(b > 0.0 && b <= m as f64) {
            return Err(Error::invalid(
                "expected_batch",
                b,
                format!("an expected batch size in (0, {m}] (the local dataset size)"),
            ));
        }
        PoissonSampler::new(m, b / m as f64)
    }

    /// The rate q.
    pub fn q(&self) -> f64 {
        self.q
    }

    /// The population size m.
    pub fn m(&self) -> usize {
        self.m
    }

    /// The expected batch size q·m (the divisor of the noisy sum).
    pub fn expected_batch(&self) -> f64 {
        self.q * self.m as f64
    }

    /// Draws a batch (ascending indices) into `out` from `rng`: one uniform draw per sample.
    pub fn sample_into(&self, rng: &mut Rng, out: &mut Vec<usize>) {
        out.clear();
        if self.q == 1.0 {
            out.extend(0..self.m);
            return;
        }
        for i in 0..self.m {
            if rng.random::<f64>() < self.q {
                out.push(i);
            }
        }
    }

    /// A fresh batch.
    pub fn sample(&self, rng: &mut Rng) -> Vec<usize> {
        let mut out = Vec::with_capacity((self.expected_batch() * 1.5) as usize + 4);
        self.sample_into(rng, &mut out);
        out
    }
}

/// Adds N(0, std²) independently to every entry of `sum` (the Gaussian mechanism on the sum of
/// clipped gradients; std = σ·C).
pub fn add_gaussian_noise(sum: &mut [f64], std: f64, rng: &mut Rng) {
    if std == 0.0 {
        return;
    }
    for v in sum.iter_mut() {
        *v += std * std_normal(rng);
    }
}

/// How one private gradient is formed: clipping norm C and noise multiplier σ (std = σ·C).
/// `clip = None` is the non-private baseline: no clipping, no noise, no accounting (σ must be
/// 0 then).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReleaseSpec {
    /// C: the per-sample clipping norm (`None`: non-private).
    pub clip: Option<f64>,
    /// σ: the noise std on the clipped sum is σ·C.
    pub noise_multiplier: f64,
}

impl ReleaseSpec {
    /// Clipping to `clip` with noise std `noise_multiplier`·`clip`.
    pub fn private(clip: f64, noise_multiplier: f64) -> ReleaseSpec {
        ReleaseSpec {
            clip: Some(clip),
            noise_multiplier,
        }
    }

    /// No clipping and no noise.
    pub fn non_private() -> ReleaseSpec {
        ReleaseSpec {
            clip: None,
            noise_multiplier: 0.0,
        }
    }

    /// The absolute noise std σ·C (0 when non-private).
    pub fn std(&self) -> f64 {
        self.clip.map_or(0.0, |c| c * self.noise_multiplier)
    }

    fn validate(&self) -> Result<()> {
        check_multiplier("noise_multiplier", self.noise_multiplier)?;
        match self.clip {
            Some(c) => {
                check_clip("clip", c)?;
            }
            None if self.noise_multiplier != 0.0 => {
                return Err(Error::invalid(
                    "noise_multiplier",
                    self.noise_multiplier,
                    "0 without clipping (the noise is calibrated to the clipping norm)",
                ));
            }
            None => {}
        }
        Ok(())
    }
}

/// What one private gradient release saw.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// The iteration whose streams drew the batch and the noise.
    pub iteration: u64,
    /// Realised Poisson batch size.
    pub batch: usize,
    /// Samples whose gradient was scaled down to C.
    pub clipped: usize,
    /// The divisor: the expected batch size q·m.
    pub divisor: f64,
    /// Noise std on the sum (σ·C).
    pub std: f64,
    /// (1/b) Σ_{i∈S} min(1, C/‖gᵢ‖) ℓᵢ (unclipped mean loss of S when non-private).
    pub loss: f64,
}

/// DP-SGD's gradient oracle for one data holder: Poisson batch from the stream
/// (seed, "dp-batch", node, k), per-sample clipping, N(0, (σC)²) on the clipped sum from the
/// stream (seed, "dp-noise", node, k), division by the expected batch size q·m, and one event
/// (q, σ) in the holder's accountant per release.
///
/// The problem's CURRENT BATCH is the population the Poisson sample is drawn from, so bind the
/// whole local dataset in full-batch mode (e.g. `descent_nn::Objective` with a batch size ≥ m)
/// and never resample it.
#[derive(Debug, Clone)]
pub struct PrivateGradient<P> {
    clip: PerSampleClip<P>,
    sampler: PoissonSampler,
    seed: u64,
    node: usize,
    next: u64,
    batch: Vec<usize>,
    /// Weights of the non-private path (1 per batch sample), capacity m.
    plain_weights: Vec<f64>,
    accountant: RdpAccountant,
}

impl<P: PerSampleGradients> PrivateGradient<P> {
    /// DP-SGD over `problem` (its current batch = the local dataset of m samples) with Poisson
    /// rate `q`, for node `node` of a run with seed `seed`.
    pub fn new(mut problem: P, q: f64, seed: u64, node: usize) -> Result<Self> {
        let m = problem.batch_len();
        let sampler = PoissonSampler::new(m, q)?;
        Ok(PrivateGradient {
            clip: PerSampleClip::new(problem, 1.0)?,
            sampler,
            seed,
            node,
            next: 0,
            batch: Vec::with_capacity(m),
            plain_weights: Vec::with_capacity(m),
            accountant: RdpAccountant::new(),
        })
    }

    /// The sampler (rate, population, expected batch).
    pub fn sampler(&self) -> &PoissonSampler {
        &self.sampler
    }

    /// The problem.
    pub fn problem(&self) -> &P {
        self.clip.inner()
    }

    /// The problem, mutably (e.g. to evaluate it on test data).
    pub fn problem_mut(&mut self) -> &mut P {
        self.clip.inner_mut()
    }

    /// The accountant of this holder's releases.
    pub fn accountant(&self) -> &RdpAccountant {
        &self.accountant
    }

    /// ε spent so far at `delta`.
    pub fn epsilon(&self, delta: f64, conversion: Conversion) -> Result<Epsilon> {
        self.accountant.epsilon(delta, conversion)
    }

    /// True when one more release with `spec` would exceed `budget`.
    pub fn would_exceed(
        &self,
        spec: ReleaseSpec,
        budget: Budget,
        conv: Conversion,
    ) -> Result<bool> {
        if spec.clip.is_none() {
            return Ok(false);
        }
        let stage = super::accountant::Stage::new(self.sampler.q(), spec.noise_multiplier, 1)?;
        self.accountant.would_exceed(stage, budget, conv)
    }

    /// The iteration the next [`PrivateGradient::release`] uses.
    pub fn next_iteration(&self) -> u64 {
        self.next
    }

    /// Continues from a checkpoint: the next release uses iteration `next` and composes onto
    /// `accountant` (the spent budget). Batches and noise come from counter-based streams of
    /// the iteration, so the releases that follow equal those of an uninterrupted run.
    pub fn restore(&mut self, next: u64, accountant: RdpAccountant) {
        self.next = next;
        self.accountant = accountant;
    }

    /// The batch of the last release (ascending positions).
    pub fn last_batch(&self) -> &[usize] {
        &self.batch
    }

    /// The next release (iteration counter + 1); see [`PrivateGradient::release_at`].
    pub fn release(&mut self, x: &[f64], spec: ReleaseSpec, out: &mut [f64]) -> Result<Release> {
        self.release_at(self.next, x, spec, out)
    }

    /// The private gradient of iteration `k` at `x` into `out`:
    /// (Σ_{i∈B} min(1, C/‖gᵢ‖) gᵢ + N(0, (σC)² I)) / (q·m) with B ~ Poisson(q) from the
    /// iteration's stream; records (q, σ) in the accountant (unless non-private). Later calls
    /// continue at k + 1. Errors: invalid C or σ (named), `out` of the wrong length.
    pub fn release_at(
        &mut self,
        k: u64,
        x: &[f64],
        spec: ReleaseSpec,
        out: &mut [f64],
    ) -> Result<Release> {
        spec.validate()?;
        let d = self.clip.inner().dim();
        if out.len() != d || x.len() != d {
            return Err(Error::shape(
                "private gradient",
                format!("parameters and output of length {d}"),
                format!("{} and {}", x.len(), out.len()),
            ));
        }
        let m = self.clip.inner_mut().batch_len();
        if m != self.sampler.m() {
            return Err(Error::invalid(
                "problem batch length",
                m,
                format!(
                    "the {} samples the Poisson sampler was built on (bind the local dataset in \
                     full-batch mode and never resample it)",
                    self.sampler.m()
                ),
            ));
        }
        let mut rng = node_rng(self.seed, "dp-batch", self.node, k);
        self.sampler.sample_into(&mut rng, &mut self.batch);
        let b = self.sampler.expected_batch();
        let stats = match spec.clip {
            Some(c) => {
                self.clip.set_clip(c)?;
                self.clip.select(&self.batch, b)?;
                self.clip.clipped_sum(x, out)
            }
            None => {
                // no clipping: weight 1 on every sample of the batch
                let w = &mut self.plain_weights;
                w.clear();
                w.resize(self.batch.len(), 1.0);
                let loss = self
                    .clip
                    .inner_mut()
                    .subset_weighted_grad(x, &self.batch, w, out);
                ClipStats {
                    selected: self.batch.len(),
                    clipped: 0,
                    weighted_loss: loss,
                }
            }
        };
        let std = spec.std();
        if spec.clip.is_some() {
            let mut noise = node_rng(self.seed, "dp-noise", self.node, k);
            add_gaussian_noise(out, std, &mut noise);
            self.accountant
                .step(self.sampler.q(), spec.noise_multiplier)?;
        }
        let inv = 1.0 / b;
        out.iter_mut().for_each(|v| *v *= inv);
        self.next = k + 1;
        Ok(Release {
            iteration: k,
            batch: stats.selected,
            clipped: stats.clipped,
            divisor: b,
            std,
            loss: stats.weighted_loss * inv,
        })
    }
}
