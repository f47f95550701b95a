//! Sharpness-aware minimization (Foret et al., ICLR 2021) as an oracle adapter (DESIGN §3 level 1).
//!
//! [`Sam`] wraps a problem and is again a problem: its gradient at w is the gradient of the
//! *same minibatch* at the ascent point w + ε̂ (Foret et al., Eq. 2–3),
//!
//! ```text
//! g  = ∇f_B(w),   ε̂ = ρ g / (‖g‖₂ + 1e-12),   ∇^SAM f_B(w) = ∇f_B(w + ε̂),
//! ```
//!
//! while its value stays f_B(w). Any transform then consumes the SAM gradient, so SAM+SGD,
//! SAM+Adam or SAM+clipping are compositions, not separate optimizers; the perturbation is never
//! written into the parameters, so "undo the perturbation before the base step" holds by
//! construction and weight decay acts in the base step only (P6 spec §6 pitfall 11).
//!
//! Adaptive SAM (ASAM, Kwon et al., ICML 2021, Eq. 9 with T_w = |w| + η elementwise) uses
//! ε̂ = ρ T_w² g / ‖T_w g‖.
//!
//! [`SamOptimizer`] is the registry's `sam(rho=0.05, base=sgd(lr=0.1, momentum=0.9))`: the base
//! transform run through [`crate::TransformOptimizer`] over a [`Sam`]-wrapped problem. Each step
//! costs two gradient evaluations (visible through [`descent_core::EvalCounter`]).

use descent_core::{
    Caps, Function, Gradient, Layout, Problem, Requires, Result, RngStreams, Spec, Stochastic,
};

use crate::config::{Config, KeyDoc, NON_NEGATIVE};
use crate::optimizer::{Optimizer, StepInfo, TransformOptimizer};
use crate::registry::{FromConfig, base_transform};
use crate::transform::Transform;

crate::config! {
    /// The perturbation of [`Sam`].
    #[derive(Copy)]
    pub struct SamConfig("sam") {
        /// Neighbourhood radius ρ (0.05 is the usual default; ASAM uses ≈ 2).
        rho: f64 = 0.05 => NON_NEGATIVE;
        /// Adaptive SAM (ASAM): scale the perturbation by T_w = |w| + eta elementwise.
        adaptive: bool = false;
        /// ASAM's η, which keeps the perturbation of zero weights nonzero.
        eta: f64 = 0.01 => NON_NEGATIVE;
    }
}

/// Scratch space of [`Sam`]: the ascent point and the first gradient. Moved in and out of the
/// adapter so repeated wrapping never allocates.
#[derive(Debug, Clone, Default)]
pub struct SamScratch {
    perturbed: Vec<f64>,
    first: Vec<f64>,
}

impl SamScratch {
    /// Scratch for `dim` parameters.
    pub fn new(dim: usize) -> Self {
        SamScratch {
            perturbed: vec![0.0; dim],
            first: vec![0.0; dim],
        }
    }
}

/// The SAM oracle adapter: offers `Function` (f at w), `Gradient` (∇f at the ascent point of
/// the same minibatch) and `Stochastic` (forwarded), as far as the inner problem offers them.
///
/// ```
/// use descent_core::{Gradient, testfns::Quadratic};
/// use descent_optim::{Sam, SamConfig};
///
/// // f = ½(x₁² + 4x₂²): the SAM gradient is ∇f at x + ρ·∇f/‖∇f‖
/// let bowl = Quadratic::diagonal(&[1.0, 4.0], &[0.0, 0.0])?;
/// let mut sam = Sam::new(bowl, SamConfig { rho: 0.1, ..Default::default() })?;
/// let mut g = [0.0; 2];
/// let f = sam.value_grad(&[1.0, 1.0], &mut g);
/// let s = 0.1 / 17f64.sqrt();
/// assert_eq!(f, 2.5); // the value stays f(x)
/// assert!((g[0] - (1.0 + s)).abs() < 1e-12 && (g[1] - 4.0 * (1.0 + 4.0 * s)).abs() < 1e-12);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct Sam<P: Problem> {
    inner: P,
    config: SamConfig,
    scratch: SamScratch,
    /// ‖ε̂‖ of the last gradient (ρ for plain SAM; 0 at a stationary point).
    last_perturbation: f64,
}

impl<P: Problem> Sam<P> {
    /// Wraps `inner`, allocating scratch for its dimension.
    ///
    /// # Errors
    ///
    /// As [`Sam::with_scratch`]: `inner` must offer a [`Gradient`].
    pub fn new(inner: P, config: SamConfig) -> Result<Self> {
        let dim = inner.layout().len();
        Self::with_scratch(inner, config, SamScratch::new(dim))
    }

    /// Wraps `inner` reusing `scratch` (resized if its dimension differs).
    ///
    /// # Errors
    ///
    /// An [`descent_core::Error::Capability`] when `inner` offers no [`Gradient`] (SAM's ascent
    /// point needs one), and an invalid-value error for a config out of range.
    pub fn with_scratch(inner: P, config: SamConfig, mut scratch: SamScratch) -> Result<Self> {
        config.validate()?;
        Requires::all(Caps::GRADIENT).check("sam", &inner)?;
        let dim = inner.layout().len();
        if scratch.perturbed.len() != dim {
            scratch = SamScratch::new(dim);
        }
        Ok(Sam {
            inner,
            config,
            scratch,
            last_perturbation: 0.0,
        })
    }

    /// Returns the scratch space for reuse.
    pub fn into_scratch(self) -> SamScratch {
        self.scratch
    }

    /// ‖ε̂‖ used by the last gradient evaluation.
    pub fn last_perturbation(&self) -> f64 {
        self.last_perturbation
    }

    /// The wrapped problem.
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }
}

/// The panic of a typed oracle call on a [`Sam`] whose inner problem lacks the view.
#[cold]
#[track_caller]
fn missing(capability: &str) -> ! {
    panic!(
        "Sam: the wrapped problem does not offer {capability}; call it only for capabilities \
         in caps(), or go through Problem::as_* (None when absent)"
    )
}

impl<P: Problem> Function for Sam<P> {
    fn dim(&self) -> usize {
        self.inner.layout().len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.inner
            .as_function()
            .unwrap_or_else(|| missing("Function"))
            .value(x)
    }
}

impl<P: Problem> Gradient for Sam<P> {
    /// Returns f_B(w) and writes ∇f_B(w + ε̂) (two gradient evaluations of the inner problem).
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let SamScratch { perturbed, first } = &mut self.scratch;
        let grad = self
            .inner
            .as_gradient()
            .unwrap_or_else(|| missing("Gradient"));
        let loss = grad.value_grad(x, first);
        let cfg = self.config;
        let scale = if cfg.adaptive {
            // ε̂ = ρ T² g / ‖T g‖ with T = |w| + η.
            let tg: f64 = x
                .iter()
                .zip(first.iter())
                .map(|(w, gi)| ((w.abs() + cfg.eta) * gi).powi(2))
                .sum::<f64>()
                .sqrt();
            cfg.rho / (tg + 1e-12)
        } else {
            let n = first.iter().map(|v| v * v).sum::<f64>().sqrt();
            cfg.rho / (n + 1e-12)
        };
        let mut eps2 = 0.0;
        for ((p, w), gi) in perturbed.iter_mut().zip(x).zip(first.iter()) {
            let t2 = if cfg.adaptive {
                (w.abs() + cfg.eta).powi(2)
            } else {
                1.0
            };
            let e = scale * t2 * gi;
            eps2 += e * e;
            *p = w + e;
        }
        self.last_perturbation = eps2.sqrt();
        grad.value_grad(perturbed, g);
        loss
    }
}

impl<P: Problem> Stochastic for Sam<P> {
    fn resample(&mut self) {
        self.inner
            .as_stochastic()
            .unwrap_or_else(|| missing("Stochastic"))
            .resample()
    }
}

impl<P: Problem> Problem for Sam<P> {
    fn name(&self) -> String {
        format!("sam(rho={}) over {}", self.config.rho, self.inner.name())
    }
    fn layout(&self) -> &Layout {
        self.inner.layout()
    }
    fn caps(&self) -> Caps {
        self.inner.caps() & (Caps::FUNCTION | Caps::GRADIENT | Caps::STOCHASTIC)
    }
    fn as_function(&mut self) -> Option<&mut dyn Function> {
        self.caps().contains(Caps::FUNCTION).then_some(self as _)
    }
    fn as_gradient(&mut self) -> Option<&mut dyn Gradient> {
        self.caps().contains(Caps::GRADIENT).then_some(self as _)
    }
    fn as_stochastic(&mut self) -> Option<&mut dyn Stochastic> {
        self.caps().contains(Caps::STOCHASTIC).then_some(self as _)
    }
}

/// SAM with any base transform: `sam(rho=0.05, base=adam(lr=1e-3))`. Each step resamples once,
/// takes the SAM gradient through [`Sam`] (2 gradients) and applies the base transform.
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Problem, RngStreams, testfns::Quadratic};
/// use descent_optim::{Optimizer, SamConfig, SamOptimizer, Sgd, SgdConfig, run};
///
/// let mut bowl = Quadratic::diagonal(&[1.0, 2.0], &[0.0, 0.0])?;
/// let mut x = vec![1.0, 1.0]; // f = 1.5
/// let base = Sgd::new(SgdConfig { lr: 0.1, ..Default::default() })?;
/// let cfg = SamConfig { rho: 0.05, ..Default::default() };
/// let mut sam = SamOptimizer::new(cfg, Box::new(base), "sam(rho=0.05, base=sgd(lr=0.1))")?;
/// sam.init(bowl.layout(), &RngStreams::new(0))?;
/// let end = run(&mut sam, &mut x, &mut bowl, 200, |_| Continue(()))?;
/// // SAM's ascent step of fixed length ρ keeps it near, not at, the minimum
/// assert!(end.final_loss().unwrap() < 1e-2);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct SamOptimizer {
    config: SamConfig,
    base: TransformOptimizer,
    name: String,
    scratch: SamScratch,
}

impl SamOptimizer {
    /// SAM over `base` (a transform; its `lr` is the step size), reporting `name`.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(
        config: SamConfig,
        base: Box<dyn Transform>,
        name: impl Into<String>,
    ) -> Result<Self> {
        config.validate()?;
        let name = name.into();
        Ok(SamOptimizer {
            config,
            base: TransformOptimizer::new(base, name.clone()),
            name,
            scratch: SamScratch::default(),
        })
    }

    /// The perturbation settings.
    pub fn config(&self) -> SamConfig {
        self.config
    }
}

impl FromConfig for SamOptimizer {
    type Config = SamConfig;

    fn extra_keys() -> Vec<KeyDoc> {
        vec![KeyDoc::new(
            "base",
            Some("sgd(lr=0.01)".into()),
            "the transform applied to the SAM gradient (any transform spec)",
        )]
    }

    fn from_config(cfg: SamConfig, spec: &Spec) -> Result<Self> {
        let base = base_transform(spec)?;
        SamOptimizer::new(cfg, base, spec.to_string())
    }
}

impl Optimizer for SamOptimizer {
    crate::plumbing! { config: config, child: base, }

    fn requires(&self) -> Requires {
        Requires::all(Caps::GRADIENT)
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn init(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.scratch = SamScratch::new(layout.len());
        self.base.init(layout, streams)
    }

    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        self.requires().check(&self.name, problem)?;
        let scratch = std::mem::take(&mut self.scratch);
        let mut sam = Sam::with_scratch(problem, self.config, scratch)?;
        let result = self.base.step(x, &mut sam);
        let eps = sam.last_perturbation();
        self.scratch = sam.into_scratch();
        let mut info = result?;
        info.extras.push("perturbation_norm", eps);
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::testfns::Quadratic;

    #[test]
    fn sam_gradient_is_the_gradient_at_the_ascent_point() {
        // f = ½ Σ λᵢ (xᵢ − 0)², ∇f = Λx; at x = (1, 1) with Λ = diag(1, 4): g = (1, 4),
        // ε̂ = ρ g/‖g‖ = 0.1·(1, 4)/√17, ∇f(x + ε̂) = Λ(x + ε̂).
        let q = Quadratic::diagonal(&[1.0, 4.0], &[0.0, 0.0]).unwrap();
        let mut sam = Sam::new(
            q,
            SamConfig {
                rho: 0.1,
                ..Default::default()
            },
        )
        .unwrap();
        let mut g = [0.0; 2];
        let f = sam.value_grad(&[1.0, 1.0], &mut g);
        assert!((f - 2.5).abs() < 1e-15);
        let s = 0.1 / 17f64.sqrt();
        assert!((g[0] - (1.0 + s)).abs() < 1e-12, "{g:?}");
        assert!((g[1] - 4.0 * (1.0 + 4.0 * s)).abs() < 1e-12, "{g:?}");
        assert!((sam.last_perturbation() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn asam_scales_the_perturbation_by_the_weights() {
        let q = Quadratic::diagonal(&[1.0, 1.0], &[0.0, 0.0]).unwrap();
        let cfg = SamConfig {
            rho: 0.5,
            adaptive: true,
            eta: 0.0,
        };
        let mut sam = Sam::new(q, cfg).unwrap();
        let x = [2.0, 1.0];
        let mut g = [0.0; 2];
        sam.value_grad(&x, &mut g);
        // g = x; T g = (4, 1); ε = ρ T² g / ‖T g‖ = 0.5·(8, 1)/√17.
        let n = 17f64.sqrt();
        assert!((g[0] - (2.0 + 0.5 * 8.0 / n)).abs() < 1e-12);
        assert!((g[1] - (1.0 + 0.5 / n)).abs() < 1e-12);
    }

    #[test]
    fn bad_config_names_the_field() {
        let q = Quadratic::diagonal(&[1.0], &[0.0]).unwrap();
        let e = Sam::new(
            q,
            SamConfig {
                rho: -1.0,
                ..Default::default()
            },
        )
        .err()
        .unwrap()
        .to_string();
        assert_eq!(
            e,
            "invalid value for 'sam.rho': got -1, expected a finite number >= 0"
        );
    }
}
