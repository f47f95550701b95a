//! Reduction mappings (P5: Markou, Ajanthan & Gould, "Sharper Convergence Rates for Nonconvex
//! Optimisation via Reduction Mappings", NeurIPS 2025) as an oracle adapter (DESIGN §3 level 1).
//!
//! Split the parameters of a problem f by layout blocks into x = (x₁, x₂) and let a map
//! Ψ: ℝ^{n₁} → ℝ^{n₂} encode what x₂ is at optimality. [`Reduction`] is the reduced problem
//!
//! ```text
//! F(x₁) = f(x₁, Ψ(x₁)),   Φ(x₁) = (x₁, Ψ(x₁)),   DΦ = [I; DΨ],
//! ∇F = ∇ₓ₁f + DΨᵀ ∇ₓ₂f                            (chain rule)
//! ∇F = ∇ₓ₁f                                       (envelope theorem, Ψ an exact argmin of f)
//! ∇²F·v = DΦᵀ ∇²f DΦ v + Σₖ [∇ₓ₂f]ₖ ∇²Ψₖ v          (the correction term vanishes for an exact
//!                                                   argmin, where ∇ₓ₂f = 0, and for affine Ψ)
//! ```
//!
//! It is an ordinary problem in x₁: `Function`, `Gradient`, and `HessianVector` when f offers
//! it and the correction term is known, so every optimizer and probe of the toolkit runs on it
//! unchanged. It also offers [`descent_core::ReductionJacobian`] (DΨ), which
//! [`GeoPrecGd`] needs for the pullback metric R = I + DΨᵀDΨ ([`metric`]).
//! For an argmin map the Hessian of F is the Schur complement H₁₁ − H₁₂H₂₂⁻¹H₂₁ (spec §2.3).
//!
//! Maps ([`maps`]): [`AffineMap`] (constant, through a point, the closed-form argmin of a
//! least-squares or quadratic problem), [`FnMap`] (a user map with its Jacobian and, optionally,
//! its second derivatives) and [`FactorElimination`] (V = YᵀU(UᵀU)⁻¹, the argmin of matrix
//! factorisation over V). Variable projection for MLPs is `descent_nn::varpro`.
//!
//! The adapter is configured by [`ReductionConfig`] (`reduction(eliminate=["x2"],
//! gradient=auto)`), declared with [`crate::config!`].

pub mod geoprec;
pub mod maps;
pub mod metric;

use std::ops::Range;

use descent_core::glob::glob_match;
use descent_core::linalg::{Trans, gemm};
use descent_core::{
    Caps, Error, Function, Gradient, HessianVector, Layout, Problem, ReductionJacobian, Requires,
    Result,
};

pub use geoprec::{GeoPrecConfig, GeoPrecGd};
pub use maps::{AffineMap, FactorElimination, FnMap};
pub use metric::{MetricSolve, PullbackSolver};

crate::spec_enum! {
    /// How [`Reduction`] forms ∇F.
    pub enum GradientRule {
        /// The envelope theorem for a map that is an exact argmin, the chain rule otherwise.
        Auto = "auto",
        /// ∇F = ∇ₓ₁f (needs an exact argmin map; no DΨ).
        Envelope = "envelope",
        /// ∇F = ∇ₓ₁f + DΨᵀ∇ₓ₂f (any map).
        Chain = "chain",
    }
}

crate::config! {
    /// The split and gradient rule of a [`Reduction`].
    pub struct ReductionConfig("reduction") {
        /// Globs of the layout blocks that form x₂, the parameters the map eliminates (e.g.
        /// ["V"] or ["layer2.*"]); the other blocks form x₁.
        eliminate: Vec<String> = Vec::new();
        /// How the reduced gradient is formed: auto (envelope for an exact-argmin map, chain
        /// rule otherwise), envelope or chain.
        gradient: GradientRule = GradientRule::Auto;
    }
    validate(c) {
        if c.eliminate.is_empty() {
            return Err(Error::invalid(
                "reduction.eliminate",
                "[]",
                "at least one block glob such as [\"x2\"]",
            ));
        }
        Ok(())
    }
}

impl ReductionConfig {
    /// Eliminates the blocks matching `globs`, gradient rule `auto`.
    pub fn eliminate(globs: &[&str]) -> Self {
        ReductionConfig {
            eliminate: globs.iter().map(|g| g.to_string()).collect(),
            gradient: GradientRule::Auto,
        }
    }
}

/// A reduction map Ψ: ℝ^{n₁} → ℝ^{n₂} with its Jacobian (spec §2.2). x₁ and x₂ are packed: the
/// entries of their blocks in layout order ([`Split`]).
pub trait ReductionMap: Send {
    /// (n₁, n₂).
    fn dims(&self) -> (usize, usize);
    /// A short description for problem names.
    fn name(&self) -> String;
    /// True when Ψ(x₁) is the exact minimiser of f(x₁, ·): the envelope gradient is then exact
    /// and the correction term of ∇²F vanishes.
    fn is_exact_argmin(&self) -> bool {
        false
    }
    /// True when Ψ is affine (no correction term in ∇²F).
    fn is_affine(&self) -> bool {
        false
    }
    /// True when [`ReductionMap::curvature`] is implemented.
    fn has_curvature(&self) -> bool {
        false
    }
    /// Writes Ψ(x₁).
    fn map(&mut self, x1: &[f64], x2: &mut [f64]);
    /// Writes DΨ(x₁), row-major n₂ × n₁.
    fn jacobian(&mut self, x1: &[f64], jac: &mut [f64]);
    /// Writes Σₖ wₖ ∇²Ψₖ(x₁)·v (length n₁), the correction term C(x₁)v with w = ∇ₓ₂f; only
    /// called when [`ReductionMap::has_curvature`].
    fn curvature(&mut self, _x1: &[f64], _w: &[f64], _v: &[f64], out: &mut [f64]) {
        out.fill(f64::NAN);
    }
}

impl<M: ReductionMap + ?Sized> ReductionMap for Box<M> {
    fn dims(&self) -> (usize, usize) {
        (**self).dims()
    }
    fn name(&self) -> String {
        (**self).name()
    }
    fn is_exact_argmin(&self) -> bool {
        (**self).is_exact_argmin()
    }
    fn is_affine(&self) -> bool {
        (**self).is_affine()
    }
    fn has_curvature(&self) -> bool {
        (**self).has_curvature()
    }
    fn map(&mut self, x1: &[f64], x2: &mut [f64]) {
        (**self).map(x1, x2)
    }
    fn jacobian(&mut self, x1: &[f64], jac: &mut [f64]) {
        (**self).jacobian(x1, jac)
    }
    fn curvature(&mut self, x1: &[f64], w: &[f64], v: &[f64], out: &mut [f64]) {
        (**self).curvature(x1, w, v, out)
    }
}

/// The split of a layout into x₁ (kept) and x₂ (eliminated) blocks; each part is packed in
/// layout order.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    x1: Vec<Range<usize>>,
    x2: Vec<Range<usize>>,
    n1: usize,
    n2: usize,
    reduced: Layout,
}

impl Split {
    /// x₂ = the blocks whose name matches one of `globs` (`*` any run, `?` one character).
    /// Errors name a glob that matches no block and a split that leaves either part empty.
    ///
    /// # Errors
    ///
    /// See above: a glob matching no block, or an empty part.
    pub fn from_globs(layout: &Layout, globs: &[String]) -> Result<Split> {
        let names = || {
            layout
                .blocks()
                .iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(g) = globs
            .iter()
            .find(|g| !layout.blocks().iter().any(|b| glob_match(g, &b.name)))
        {
            return Err(Error::invalid(
                "reduction.eliminate",
                format!("\"{g}\""),
                format!("a glob matching a block of the layout ({})", names()),
            ));
        }
        let (mut x1, mut x2) = (Vec::new(), Vec::new());
        let mut reduced = Layout::new();
        for b in layout.blocks() {
            if globs.iter().any(|g| glob_match(g, &b.name)) {
                x2.push(b.range());
            } else {
                x1.push(b.range());
                reduced.push(&b.name, &b.shape);
            }
        }
        let count = |r: &[Range<usize>]| r.iter().map(|r| r.len()).sum::<usize>();
        let (n1, n2) = (count(&x1), count(&x2));
        if n1 == 0 || n2 == 0 {
            return Err(Error::invalid(
                "reduction.eliminate",
                format!("{globs:?}"),
                format!(
                    "globs leaving parameters on both sides (x1 has {n1}, x2 {n2}; blocks {})",
                    names()
                ),
            ));
        }
        Ok(Split {
            x1,
            x2,
            n1,
            n2,
            reduced,
        })
    }

    /// (n₁, n₂).
    pub fn dims(&self) -> (usize, usize) {
        (self.n1, self.n2)
    }

    /// The layout of x₁ (the kept blocks).
    pub fn reduced_layout(&self) -> &Layout {
        &self.reduced
    }

    /// The indices of x₁ in the full vector, in packed order.
    pub fn x1_indices(&self) -> Vec<usize> {
        self.x1.iter().flat_map(|r| r.clone()).collect()
    }

    /// The indices of x₂ in the full vector, in packed order.
    pub fn x2_indices(&self) -> Vec<usize> {
        self.x2.iter().flat_map(|r| r.clone()).collect()
    }

    /// Packs the x₁ part of `full`.
    pub fn gather_x1(&self, full: &[f64], x1: &mut [f64]) {
        gather(&self.x1, full, x1);
    }

    /// Packs the x₂ part of `full`.
    pub fn gather_x2(&self, full: &[f64], x2: &mut [f64]) {
        gather(&self.x2, full, x2);
    }

    /// Writes x = (x₁, x₂) into `full`.
    pub fn scatter(&self, x1: &[f64], x2: &[f64], full: &mut [f64]) {
        scatter(&self.x1, x1, full);
        scatter(&self.x2, x2, full);
    }
}

fn gather(ranges: &[Range<usize>], full: &[f64], out: &mut [f64]) {
    let mut k = 0;
    for r in ranges {
        out[k..k + r.len()].copy_from_slice(&full[r.clone()]);
        k += r.len();
    }
}

fn scatter(ranges: &[Range<usize>], part: &[f64], full: &mut [f64]) {
    let mut k = 0;
    for r in ranges {
        full[r.clone()].copy_from_slice(&part[k..k + r.len()]);
        k += r.len();
    }
}

/// Scratch space of [`Reduction`], sized once.
#[derive(Debug, Clone)]
struct Scratch {
    full: Vec<f64>,
    full_g: Vec<f64>,
    full_v: Vec<f64>,
    full_hv: Vec<f64>,
    x2: Vec<f64>,
    part2: Vec<f64>,
    part1: Vec<f64>,
    jac: Vec<f64>,
    /// The x₁ at which `jac` holds DΨ (NaN: none yet).
    jac_at: Vec<f64>,
}

/// The reduced problem F(x₁) = f(x₁, Ψ(x₁)) (see the module docs). Offers `Function`;
/// `Gradient` and `ReductionJacobian` when f offers a gradient; `HessianVector` when f offers it
/// and Ψ is an exact argmin, affine, or has [`ReductionMap::curvature`]. Deterministic: an
/// argmin map solves the inner problem on all the data, so a stochastic f is not forwarded.
///
/// ```
/// use descent_core::{Gradient, Layout, Problem, testfns::Quadratic};
/// use descent_optim::{AffineMap, Reduction, ReductionConfig, Split};
///
/// // f(x) = ½(x − x*)ᵀH(x − x*), H = [[2, 1], [1, 2]], x* = (1, 1); eliminate x₂ by its argmin
/// let mut layout = Layout::new();
/// layout.push("x1", &[1]);
/// layout.push("x2", &[1]);
/// let h = vec![2.0, 1.0, 1.0, 2.0];
/// let quad = Quadratic::from_matrix(h.clone(), &[1.0, 1.0])?.with_layout(layout)?;
/// let cfg = ReductionConfig::eliminate(&["x2"]);
/// let split = Split::from_globs(quad.layout(), &cfg.eliminate)?;
/// let map = AffineMap::quadratic_argmin(&h, &[1.0, 1.0], &split)?;
/// let mut reduced = Reduction::new(quad, map, cfg)?;
/// // F(x₁) = ½ (H₁₁ − H₁₂H₂₂⁻¹H₂₁)(x₁ − 1)² = 0.75 (x₁ − 1)², the Schur complement
/// let mut g = [0.0];
/// let f = reduced.value_grad(&[0.0], &mut g);
/// assert!((f - 0.75).abs() < 1e-12 && (g[0] + 1.5).abs() < 1e-12);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct Reduction<P: Problem, M: ReductionMap> {
    inner: P,
    map: M,
    config: ReductionConfig,
    split: Split,
    envelope: bool,
    s: Scratch,
}

impl<P: Problem, M: ReductionMap> Reduction<P, M> {
    /// Reduces `inner` by `map` over the split `config` names. Errors: a config that does not
    /// validate, a glob matching no block, a map whose (n₁, n₂) differs from the split's, the
    /// envelope rule with a map that is not an exact argmin, and a problem without values.
    ///
    /// # Errors
    ///
    /// See above.
    pub fn new(inner: P, map: M, config: ReductionConfig) -> Result<Self> {
        use crate::config::Config;
        config.validate()?;
        Requires::all(Caps::FUNCTION).check("reduction", &inner)?;
        let split = Split::from_globs(inner.layout(), &config.eliminate)?;
        let (n1, n2) = split.dims();
        if map.dims() != (n1, n2) {
            return Err(Error::shape(
                format!("(n1, n2) of the reduction map {}", map.name()),
                format!("{:?} (the split of {})", (n1, n2), inner.name()),
                format!("{:?}", map.dims()),
            ));
        }
        let envelope = match config.gradient {
            GradientRule::Auto => map.is_exact_argmin(),
            GradientRule::Chain => false,
            GradientRule::Envelope if map.is_exact_argmin() => true,
            GradientRule::Envelope => {
                return Err(Error::invalid(
                    "reduction.gradient",
                    "envelope",
                    format!(
                        "chain or auto: the envelope gradient needs an exact argmin map, and {} \
                         is not one",
                        map.name()
                    ),
                ));
            }
        };
        let n = inner.layout().len();
        let s = Scratch {
            full: vec![0.0; n],
            full_g: vec![0.0; n],
            full_v: vec![0.0; n],
            full_hv: vec![0.0; n],
            x2: vec![0.0; n2],
            part2: vec![0.0; n2],
            part1: vec![0.0; n1],
            jac: vec![0.0; n1 * n2],
            jac_at: vec![f64::NAN; n1],
        };
        Ok(Reduction {
            inner,
            map,
            config,
            split,
            envelope,
            s,
        })
    }

    /// The split of the inner layout.
    pub fn split(&self) -> &Split {
        &self.split
    }

    /// The config it was built with.
    pub fn config(&self) -> &ReductionConfig {
        &self.config
    }

    /// True when ∇F is the envelope gradient ∇ₓ₁f (no DΨ per gradient).
    pub fn uses_envelope(&self) -> bool {
        self.envelope
    }

    /// The full point Φ(x₁) = (x₁, Ψ(x₁)).
    pub fn lift(&mut self, x1: &[f64]) -> Vec<f64> {
        self.assemble(x1);
        self.s.full.clone()
    }

    /// The x₁ part of a full point.
    pub fn project(&self, full: &[f64]) -> Vec<f64> {
        let mut x1 = vec![0.0; self.split.n1];
        self.split.gather_x1(full, &mut x1);
        x1
    }

    /// The wrapped problem f.
    pub fn inner_mut(&mut self) -> &mut P {
        &mut self.inner
    }

    /// The map Ψ.
    pub fn map_mut(&mut self) -> &mut M {
        &mut self.map
    }

    /// full ← Φ(x₁).
    fn assemble(&mut self, x1: &[f64]) {
        self.map.map(x1, &mut self.s.x2);
        self.split.scatter(x1, &self.s.x2, &mut self.s.full);
    }

    /// jac ← DΨ(x₁), recomputed only when x₁ changed (a map is a function of x₁ alone).
    fn refresh_jacobian(&mut self, x1: &[f64]) {
        if self.s.jac_at.as_slice() != x1 {
            self.map.jacobian(x1, &mut self.s.jac);
            self.s.jac_at.copy_from_slice(x1);
        }
    }

    /// out ← out + DΨᵀ·part2 (out of length n₁).
    fn add_jacobian_transpose(&self, out: &mut [f64]) {
        let (n1, n2) = self.split.dims();
        let w = &self.s.part2;
        gemm(out, n1, 1, n2, 1.0, &self.s.jac, Trans::T, w, Trans::N, 1.0);
    }
}

const VIEW: &str = "Reduction exposes a view only when the inner problem offers it";

impl<P: Problem, M: ReductionMap> Function for Reduction<P, M> {
    fn dim(&self) -> usize {
        self.split.n1
    }
    fn value(&mut self, x1: &[f64]) -> f64 {
        self.assemble(x1);
        self.inner.as_function().expect(VIEW).value(&self.s.full)
    }
}

impl<P: Problem, M: ReductionMap> Gradient for Reduction<P, M> {
    /// ∇F by the envelope theorem or the chain rule (see [`GradientRule`]).
    fn value_grad(&mut self, x1: &[f64], g: &mut [f64]) -> f64 {
        self.assemble(x1);
        let f = self
            .inner
            .as_gradient()
            .expect(VIEW)
            .value_grad(&self.s.full, &mut self.s.full_g);
        self.split.gather_x1(&self.s.full_g, g);
        if !self.envelope {
            self.refresh_jacobian(x1);
            self.split.gather_x2(&self.s.full_g, &mut self.s.part2);
            self.add_jacobian_transpose(g);
        }
        f
    }
}

impl<P: Problem, M: ReductionMap> HessianVector for Reduction<P, M> {
    /// DΦᵀ ∇²f DΦ v, plus the correction Σₖ [∇ₓ₂f]ₖ ∇²Ψₖ v for a map that is neither an exact
    /// argmin nor affine (one extra gradient of f).
    fn hvp(&mut self, x1: &[f64], v: &[f64], out: &mut [f64]) {
        let (n1, n2) = self.split.dims();
        self.assemble(x1);
        self.refresh_jacobian(x1);
        // x2 scratch now holds Ψ(x1); reuse part2 for DΨ v
        gemm(
            &mut self.s.part2,
            n2,
            1,
            n1,
            1.0,
            &self.s.jac,
            Trans::N,
            v,
            Trans::N,
            0.0,
        );
        self.split.scatter(v, &self.s.part2, &mut self.s.full_v);
        self.inner
            .as_hvp()
            .expect(VIEW)
            .hvp(&self.s.full, &self.s.full_v, &mut self.s.full_hv);
        self.split.gather_x1(&self.s.full_hv, out);
        self.split.gather_x2(&self.s.full_hv, &mut self.s.part2);
        self.add_jacobian_transpose(out);
        if !self.map.is_exact_argmin() && !self.map.is_affine() {
            self.inner
                .as_gradient()
                .expect(VIEW)
                .value_grad(&self.s.full, &mut self.s.full_g);
            self.split.gather_x2(&self.s.full_g, &mut self.s.part2);
            self.map.curvature(x1, &self.s.part2, v, &mut self.s.part1);
            out.iter_mut().zip(&self.s.part1).for_each(|(o, c)| *o += c);
        }
    }
}

impl<P: Problem, M: ReductionMap> ReductionJacobian for Reduction<P, M> {
    fn eliminated_dim(&mut self) -> usize {
        self.split.n2
    }
    fn map_jacobian(&mut self, x1: &[f64], jac: &mut [f64]) {
        self.refresh_jacobian(x1);
        jac.copy_from_slice(&self.s.jac);
    }
}

impl<P: Problem, M: ReductionMap> Problem for Reduction<P, M> {
    fn name(&self) -> String {
        format!("reduction of {} by {}", self.inner.name(), self.map.name())
    }
    fn layout(&self) -> &Layout {
        &self.split.reduced
    }
    fn caps(&self) -> Caps {
        let inner = self.inner.caps();
        let mut caps = Caps::FUNCTION;
        if inner.contains(Caps::GRADIENT) {
            caps = caps | Caps::GRADIENT | Caps::REDUCTION_JACOBIAN;
        }
        let known_correction =
            self.map.is_exact_argmin() || self.map.is_affine() || self.map.has_curvature();
        if inner.contains(Caps::HVP | Caps::GRADIENT) && known_correction {
            caps = caps | Caps::HVP;
        }
        caps
    }
    fn as_function(&mut self) -> Option<&mut dyn Function> {
        self.caps().contains(Caps::FUNCTION).then_some(self as _)
    }
    fn as_gradient(&mut self) -> Option<&mut dyn Gradient> {
        self.caps().contains(Caps::GRADIENT).then_some(self as _)
    }
    fn as_hvp(&mut self) -> Option<&mut dyn HessianVector> {
        self.caps().contains(Caps::HVP).then_some(self as _)
    }
    fn as_reduction_jacobian(&mut self) -> Option<&mut dyn ReductionJacobian> {
        self.caps()
            .contains(Caps::REDUCTION_JACOBIAN)
            .then_some(self as _)
    }
}
