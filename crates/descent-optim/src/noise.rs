//! Gaussian synaptic noise (P1 §2.3's control): after each learning update every weight receives
//! an independent N(0, η σ²) kick, as a [`Transform`] that adds √η·σ·ε to the update.

use descent_core::rng::{SimRng, std_normal};
use descent_core::{Error, Layout, Result, RngStreams};
use serde::{Deserialize, Serialize};

use crate::Transform;
use crate::config::{Config, NON_NEGATIVE};
use crate::registry::FromConfig;

crate::config! {
    /// The settings of [`SynapticNoise`].
    pub struct SynapticNoiseConfig("synaptic_noise") {
        /// The learning rate η the noise accompanies (per-entry variance η·σ² per step).
        lr: f64 = 0.01 => NON_NEGATIVE;
        /// Noise scale σ.
        sigma: f64 => NON_NEGATIVE;
        /// Square blocks whose noise is symmetrised, (N + Nᵀ)/2 (similarity matching's lateral M).
        symmetric: Vec<String> = Vec::new();
    }
}

/// The state of [`SynapticNoise`]: its `"noise"` stream and the number of normals drawn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SynapticNoiseState {
    /// The noise stream (set at build).
    pub rng: Option<SimRng>,
    /// Normal draws so far.
    pub draws: u64,
}

/// Adds √lr·σ·ε, ε ~ N(0, I), to the update (P1 §2.3: per-entry variance η σ_syn² per step).
/// Square blocks named in `symmetric` (similarity matching's lateral M) get (N + Nᵀ)/2 instead,
/// so they stay symmetric (diagonal variance ησ², off-diagonal ησ²/2, as P1's reference code).
/// The draws come from the `"noise"` fast stream ([`RngStreams::sim`]) of the run seed.
///
/// ```
/// use descent_core::{Layout, RngStreams};
/// use descent_optim::{SynapticNoise, Transform};
///
/// // an update of 0 becomes pure noise of standard deviation √lr·σ = 0.1 per entry
/// let mut noise = SynapticNoise::new(0.01, 1.0, Vec::new())?;
/// noise.build(&Layout::flat(10_000), &RngStreams::new(7))?;
/// let mut u = vec![0.0; 10_000];
/// noise.update(1, &mut u, &vec![0.0; 10_000]);
/// let std = (u.iter().map(|v| v * v).sum::<f64>() / 1e4).sqrt();
/// assert!((std - 0.1).abs() < 0.005, "{std}");
/// # Ok::<(), descent_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SynapticNoise {
    cfg: SynapticNoiseConfig,
    st: SynapticNoiseState,
    /// (offset, side) of each symmetrised block, resolved by `build`.
    sym_blocks: Vec<(usize, usize)>,
}

impl SynapticNoise {
    /// Noise of standard deviation √lr·σ per entry; `lr` is the learning rate η it accompanies.
    ///
    /// # Errors
    ///
    /// `lr` or `sigma` negative or not finite, naming the field.
    pub fn new(lr: f64, sigma: f64, symmetric: Vec<String>) -> Result<Self> {
        let cfg = SynapticNoiseConfig {
            lr,
            sigma,
            symmetric,
        };
        cfg.validate()?;
        Ok(SynapticNoise {
            cfg,
            st: SynapticNoiseState::default(),
            sym_blocks: Vec::new(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &SynapticNoiseConfig {
        &self.cfg
    }

    /// Adds the noise directly to `params` (the same draws [`Transform::update`] would add to an
    /// update): the form hot simulation loops use after a fused learning step.
    #[inline]
    pub fn add_to(&mut self, params: &mut [f64]) {
        let s = (self.cfg.lr).sqrt() * self.cfg.sigma;
        let rng = self
            .st
            .rng
            .as_mut()
            .expect("SynapticNoise::build must run before the first update");
        if self.sym_blocks.is_empty() {
            for p in params.iter_mut() {
                *p += s * std_normal(rng);
            }
            self.st.draws += params.len() as u64;
            return;
        }
        let mut i = 0;
        let mut blocks = self.sym_blocks.iter().peekable();
        while i < params.len() {
            if let Some(&&(off, k)) = blocks.peek()
                && off == i
            {
                // (N + Nᵀ)/2: draw the upper triangle with the right variances
                for a in 0..k {
                    params[off + a * k + a] += s * std_normal(rng);
                    for b in a + 1..k {
                        let v = s * std::f64::consts::FRAC_1_SQRT_2 * std_normal(rng);
                        params[off + a * k + b] += v;
                        params[off + b * k + a] += v;
                    }
                }
                self.st.draws += (k * (k + 1) / 2) as u64;
                i += k * k;
                blocks.next();
                continue;
            }
            params[i] += s * std_normal(rng);
            self.st.draws += 1;
            i += 1;
        }
    }
}

impl FromConfig for SynapticNoise {
    type Config = SynapticNoiseConfig;
    fn from_config(cfg: SynapticNoiseConfig, _spec: &descent_core::Spec) -> Result<Self> {
        SynapticNoise::new(cfg.lr, cfg.sigma, cfg.symmetric)
    }
}

impl Transform for SynapticNoise {
    crate::plumbing! { config: cfg, state: st, }

    fn name(&self) -> String {
        self.cfg.spec_text()
    }
    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.sym_blocks.clear();
        for name in &self.cfg.symmetric {
            let b = layout.block(name).ok_or_else(|| {
                Error::invalid(
                    "synaptic_noise.symmetric",
                    name,
                    format!(
                        "a block of the layout ({})",
                        layout
                            .blocks()
                            .iter()
                            .map(|b| b.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            match b.matrix_shape() {
                Some((r, c)) if r == c => self.sym_blocks.push((b.offset, r)),
                _ => {
                    return Err(Error::invalid(
                        "synaptic_noise.symmetric",
                        format!("{name} of shape {:?}", b.shape),
                        "a square matrix block",
                    ));
                }
            }
        }
        self.sym_blocks.sort_unstable();
        self.st = SynapticNoiseState {
            rng: Some(streams.sim("noise", 0)),
            draws: 0,
        };
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
        self.add_to(grad);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_variance_lr_sigma2_and_symmetric_blocks_stay_symmetric() {
        let mut l = Layout::new();
        l.push("W", &[2, 3]);
        l.push("M", &[2, 2]);
        let mut t = SynapticNoise::new(0.01, 0.5, vec!["M".into()]).unwrap();
        t.build(&l, &RngStreams::new(1)).unwrap();
        let n = 40_000;
        let mut sum_sq = [0.0; 10];
        for step in 1..=n {
            let mut u = vec![0.0; 10];
            t.update(step, &mut u, &[0.0; 10]);
            assert_eq!(u[7], u[8], "M stays symmetric");
            for (s, v) in sum_sq.iter_mut().zip(&u) {
                *s += v * v;
            }
        }
        let var = |i: usize| sum_sq[i] / n as f64;
        let expect = 0.01 * 0.25;
        for i in [0, 1, 2, 3, 4, 5, 6, 9] {
            assert!((var(i) / expect - 1.0).abs() < 0.04, "{i}: {}", var(i));
        }
        assert!((var(7) / (expect / 2.0) - 1.0).abs() < 0.04, "{}", var(7));
    }

    #[test]
    fn state_round_trip_resumes_the_stream_and_bad_blocks_are_named() {
        let l = Layout::matrix(2, 2);
        let s = RngStreams::new(5);
        let mut a = SynapticNoise::new(0.1, 1.0, vec![]).unwrap();
        a.build(&l, &s).unwrap();
        let mut u = [0.0; 4];
        a.update(1, &mut u, &[0.0; 4]);
        let st = a.state();
        let mut b = SynapticNoise::new(0.1, 1.0, vec![]).unwrap();
        b.build(&l, &s).unwrap();
        b.load_state(&st).unwrap();
        let (mut ua, mut ub) = ([0.0; 4], [0.0; 4]);
        a.update(2, &mut ua, &[0.0; 4]);
        b.update(2, &mut ub, &[0.0; 4]);
        assert_eq!(ua, ub);
        let mut c = SynapticNoise::new(0.1, 1.0, vec!["M".into()]).unwrap();
        let e = c.build(&l, &s).unwrap_err().to_string();
        assert!(
            e.contains("synaptic_noise.symmetric") && e.contains("(W)"),
            "{e}"
        );
        let e = SynapticNoise::new(0.1, -1.0, vec![])
            .unwrap_err()
            .to_string();
        assert!(e.contains("synaptic_noise.sigma"), "{e}");
    }
}
