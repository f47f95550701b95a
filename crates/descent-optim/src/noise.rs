//! Gaussian synaptic noise (P1 §2.3's control): after each learning update every weight receives
//! an independent N(0, η σ²) kick, as a [`Transform`] that adds √η·σ·ε to the update.

use descent_core::rng::{SimRng, std_normal};
use descent_core::{Error, Layout, Result, RngStreams};

use crate::Transform;
use crate::transform::{TransformState, check_non_negative, unknown_hyper};

/// Adds √lr·σ·ε, ε ~ N(0, I), to the update (P1 §2.3: per-entry variance η σ_syn² per step).
/// Square blocks named in `symmetric` (similarity matching's lateral M) get (N + Nᵀ)/2 instead,
/// so they stay symmetric (diagonal variance ησ², off-diagonal ησ²/2, as P1's reference code).
/// The draws come from the `"noise"` fast stream ([`RngStreams::sim`]) of the run seed.
#[derive(Debug, Clone)]
pub struct SynapticNoise {
    pub lr: f64,
    pub sigma: f64,
    /// Names of square blocks whose noise is symmetrised.
    pub symmetric: Vec<String>,
    /// (offset, side) of each symmetrised block, resolved by `build`.
    sym_blocks: Vec<(usize, usize)>,
    rng: Option<SimRng>,
    streams: Option<RngStreams>,
    draws: u64,
}

impl SynapticNoise {
    /// Noise of standard deviation √lr·σ per entry; `lr` is the learning rate η it accompanies.
    pub fn new(lr: f64, sigma: f64, symmetric: Vec<String>) -> Result<Self> {
        check_non_negative("synaptic_noise.lr", lr)?;
        check_non_negative("synaptic_noise.sigma", sigma)?;
        Ok(SynapticNoise {
            lr,
            sigma,
            symmetric,
            sym_blocks: Vec::new(),
            rng: None,
            streams: None,
            draws: 0,
        })
    }

    /// Adds the noise directly to `params` (the same draws [`Transform::update`] would add to an
    /// update): the form hot simulation loops use after a fused learning step.
    #[inline]
    pub fn add_to(&mut self, params: &mut [f64]) {
        let s = (self.lr).sqrt() * self.sigma;
        let rng = self
            .rng
            .as_mut()
            .expect("SynapticNoise::build must run before the first update");
        if self.sym_blocks.is_empty() {
            for p in params.iter_mut() {
                *p += s * std_normal(rng);
            }
            self.draws += params.len() as u64;
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
                self.draws += (k * (k + 1) / 2) as u64;
                i += k * k;
                blocks.next();
                continue;
            }
            params[i] += s * std_normal(rng);
            self.draws += 1;
            i += 1;
        }
    }
}

const HYPERS: &[&str] = &["lr", "sigma"];

impl Transform for SynapticNoise {
    fn name(&self) -> String {
        format!("synaptic_noise(lr={}, sigma={})", self.lr, self.sigma)
    }
    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.sym_blocks.clear();
        for name in &self.symmetric {
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
        self.rng = Some(streams.sim("noise", 0));
        self.streams = Some(*streams);
        self.draws = 0;
        Ok(())
    }
    fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
        self.add_to(grad);
    }
    fn hyper_names(&self) -> Vec<&'static str> {
        HYPERS.to_vec()
    }
    fn hyper(&self, name: &str) -> Option<f64> {
        match name {
            "lr" => Some(self.lr),
            "sigma" => Some(self.sigma),
            _ => None,
        }
    }
    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        match name {
            "lr" => self.lr = check_non_negative("synaptic_noise.lr", value)?,
            "sigma" => self.sigma = check_non_negative("synaptic_noise.sigma", value)?,
            _ => return Err(unknown_hyper("synaptic_noise", name, HYPERS)),
        }
        Ok(())
    }
    /// The hyperparameters and the number of normals drawn so far (the stream position).
    fn state(&self) -> TransformState {
        TransformState::new("synaptic_noise")
            .with_scalar("lr", self.lr)
            .with_scalar("sigma", self.sigma)
            .with_scalar("draws", self.draws as f64)
    }
    /// Restores the hyperparameters and replays the stream to the saved position (O(draws)).
    fn load_state(&mut self, s: &TransformState) -> Result<()> {
        s.expect_kind("synaptic_noise")?;
        self.lr = check_non_negative("synaptic_noise.lr", s.scalar("lr")?)?;
        self.sigma = check_non_negative("synaptic_noise.sigma", s.scalar("sigma")?)?;
        let draws = s.scalar("draws")?;
        let streams = self.streams.ok_or_else(|| {
            Error::invalid(
                "synaptic_noise state",
                "an unbuilt transform",
                "build first",
            )
        })?;
        let mut rng = streams.sim("noise", 0);
        for _ in 0..draws as u64 {
            std_normal(&mut rng);
        }
        self.rng = Some(rng);
        self.draws = draws as u64;
        Ok(())
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
