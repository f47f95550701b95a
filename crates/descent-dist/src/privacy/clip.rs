//! Per-sample gradient clipping as an oracle adapter (DESIGN §3 level 1; DP-SGD's clipping,
//! P9 §2.2 step 3).
//!
//! [`PerSampleClip`] wraps any [`PerSampleGradients`] problem and is again a problem whose
//! gradient is the per-sample-clipped one, ḡ = (1/b) Σ_{i∈S} min(1, C/‖gᵢ‖) gᵢ. It never
//! materialises the per-sample gradients: one pass for the norms ‖gᵢ‖, then one
//! `weighted_grad` with weights min(1, C/‖gᵢ‖)/b ("ghost clipping").
//!
//! S is the problem's current batch, or a subset of it chosen with
//! [`PerSampleClip::select`] (a Poisson sample: the problem's batch is then the whole local
//! dataset, and only the selected samples are evaluated, through the problem's
//! `subset_grad_norms` / `subset_weighted_grad`, so a step costs b rather than m when the
//! problem evaluates subsets directly); b is the divisor given with the subset (the EXPECTED
//! batch size q·m under Poisson sampling, P9 pitfall 5), or the batch length.

use descent_core::{
    Caps, Error, Function, Gradient, Layout, PerSampleGradients, Problem, Result, Stochastic,
};

/// What one clipped evaluation saw.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClipStats {
    /// Samples in S.
    pub selected: usize,
    /// Samples of S whose gradient norm exceeded C (scaled down).
    pub clipped: usize,
    /// Σ_{i∈S} min(1, C/‖gᵢ‖) ℓᵢ: the loss whose gradient the clipped sum is (weights fixed).
    pub weighted_loss: f64,
}

/// Per-sample clipping to norm C over a [`PerSampleGradients`] problem (see the module docs).
#[derive(Debug, Clone)]
pub struct PerSampleClip<P> {
    inner: P,
    clip: f64,
    /// Positions in the inner batch; `None` = the whole batch.
    subset: Option<Vec<usize>>,
    /// b; `None` = the batch length.
    divisor: Option<f64>,
    norms: Vec<f64>,
    weights: Vec<f64>,
    scratch: Vec<f64>,
    last: ClipStats,
}

/// Checks a clipping norm: finite and > 0.
pub fn check_clip(field: &str, clip: f64) -> Result<f64> {
    if clip > 0.0 && clip.is_finite() {
        Ok(clip)
    } else {
        Err(Error::invalid(field, clip, "a finite clipping norm C > 0"))
    }
}

impl<P: PerSampleGradients> PerSampleClip<P> {
    /// Clips every per-sample gradient of `inner` to norm `clip` (> 0, finite).
    pub fn new(inner: P, clip: f64) -> Result<Self> {
        check_clip("clip", clip)?;
        let d = inner.dim();
        Ok(PerSampleClip {
            inner,
            clip,
            subset: None,
            divisor: None,
            norms: Vec::new(),
            weights: Vec::new(),
            scratch: vec![0.0; d],
            last: ClipStats::default(),
        })
    }

    /// The clipping norm C.
    pub fn clip(&self) -> f64 {
        self.clip
    }

    /// Changes C (a decaying clip schedule C_s = C₀κ^s).
    pub fn set_clip(&mut self, clip: f64) -> Result<()> {
        self.clip = check_clip("clip", clip)?;
        Ok(())
    }

    /// The wrapped problem.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// The wrapped problem, mutably.
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }

    /// Unwraps the problem.
    pub fn into_inner(self) -> P {
        self.inner
    }

    /// Restricts S to `subset` (positions in the current batch, each at most once, e.g. a
    /// Poisson sample) and divides the clipped sum by `divisor` (> 0; the expected batch size
    /// under Poisson sampling). Errors name the bad position or divisor.
    pub fn select(&mut self, subset: &[usize], divisor: f64) -> Result<()> {
        let b = self.inner.batch_len();
        if let Some(&bad) = subset.iter().find(|&&i| i >= b) {
            return Err(Error::invalid(
                "clip subset position",
                bad,
                format!("a position in the current batch 0..{b}"),
            ));
        }
        if !(divisor > 0.0 && divisor.is_finite()) {
            return Err(Error::invalid(
                "clip divisor",
                divisor,
                "a finite batch size > 0",
            ));
        }
        let s = self.subset.get_or_insert_with(Vec::new);
        s.clear();
        s.extend_from_slice(subset);
        self.divisor = Some(divisor);
        Ok(())
    }

    /// S = the whole current batch, b = its length.
    pub fn select_all(&mut self) {
        self.subset = None;
        self.divisor = None;
    }

    /// The divisor b of the current selection.
    pub fn divisor(&mut self) -> f64 {
        match self.divisor {
            Some(d) => d,
            None => self.inner.batch_len() as f64,
        }
    }

    /// Statistics of the last clipped evaluation.
    pub fn last_stats(&self) -> ClipStats {
        self.last
    }

    /// The clip factors min(1, C/‖gᵢ‖) at `x` for the samples of S, in S's order (the whole
    /// batch when no subset is selected); a zero gradient keeps factor 1. A selected subset is
    /// evaluated alone ([`PerSampleGradients::subset_grad_norms`]), so a Poisson sample of b out
    /// of m costs b when the problem overrides it.
    pub fn clip_factors(&mut self, x: &[f64]) -> &[f64] {
        let len = match &self.subset {
            None => self.inner.batch_len(),
            Some(s) => s.len(),
        };
        self.norms.resize(len, 0.0);
        match &self.subset {
            None => self.inner.per_sample_grad_norms(x, &mut self.norms),
            Some(s) => self.inner.subset_grad_norms(x, s, &mut self.norms),
        }
        let c = self.clip;
        self.weights.clear();
        self.weights
            .extend(self.norms.iter().map(|&n| if n > c { c / n } else { 1.0 }));
        self.last.clipped = self.norms.iter().filter(|&&n| n > c).count();
        self.last.selected = len;
        &self.weights
    }

    /// The per-sample gradient norms ‖gᵢ‖ of the last [`PerSampleClip::clip_factors`], for the
    /// samples of S in S's order (the whole batch when no subset is selected).
    pub fn last_norms(&self) -> &[f64] {
        &self.norms
    }

    /// Writes the clipped SUM Σ_{i∈S} min(1, C/‖gᵢ‖) gᵢ into `sum` (the quantity the Gaussian
    /// mechanism perturbs: its sensitivity is C) and returns the statistics.
    pub fn clipped_sum(&mut self, x: &[f64], sum: &mut [f64]) -> ClipStats {
        self.clip_factors(x);
        self.last.weighted_loss = match &self.subset {
            None => self.inner.weighted_grad(x, &self.weights, sum),
            Some(s) => self.inner.subset_weighted_grad(x, s, &self.weights, sum),
        };
        self.last
    }
}

impl<P: PerSampleGradients> Function for PerSampleClip<P> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    /// (1/b) Σ_{i∈S} min(1, C/‖gᵢ(x)‖) ℓᵢ(x): the value [`Gradient::value_grad`] returns.
    fn value(&mut self, x: &[f64]) -> f64 {
        let mut g = std::mem::take(&mut self.scratch);
        let v = self.value_grad(x, &mut g);
        self.scratch = g;
        v
    }
}

impl<P: PerSampleGradients> Gradient for PerSampleClip<P> {
    /// Writes the clipped mean (1/b) Σ_{i∈S} min(1, C/‖gᵢ‖) gᵢ and returns the matching
    /// weighted loss (1/b) Σ_{i∈S} min(1, C/‖gᵢ‖) ℓᵢ.
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let b = self.divisor();
        let stats = self.clipped_sum(x, g);
        let inv = 1.0 / b;
        g.iter_mut().for_each(|v| *v *= inv);
        stats.weighted_loss * inv
    }
}

impl<P: PerSampleGradients + Problem> Stochastic for PerSampleClip<P> {
    /// Draws the inner problem's next batch; the selection returns to the whole batch (the old
    /// positions index a batch that is gone).
    fn resample(&mut self) {
        descent_core::resample_if_stochastic(&mut self.inner);
        self.select_all();
    }
}

impl<P: PerSampleGradients + Problem> Problem for PerSampleClip<P> {
    fn name(&self) -> String {
        format!("clip(C={}) of {}", self.clip, self.inner.name())
    }

    fn layout(&self) -> &Layout {
        self.inner.layout()
    }

    /// Function and Gradient, plus Stochastic when the inner problem is.
    fn caps(&self) -> Caps {
        Caps::FUNCTION | Caps::GRADIENT | (self.inner.caps() & Caps::STOCHASTIC)
    }

    fn as_function(&mut self) -> Option<&mut dyn Function> {
        Some(self)
    }

    fn as_gradient(&mut self) -> Option<&mut dyn Gradient> {
        Some(self)
    }

    fn as_stochastic(&mut self) -> Option<&mut dyn Stochastic> {
        if self.inner.caps().contains(Caps::STOCHASTIC) {
            Some(self)
        } else {
            None
        }
    }
}
