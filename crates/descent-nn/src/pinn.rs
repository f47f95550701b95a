//! Physics-informed neural networks (P8, Guzmán-Cordero et al. 2025, spec §2.1 and §3): linear
//! PDEs with manufactured solutions, collocation samplers resampled every step, and
//! [`PinnObjective`], a descent problem offering `Function`, `Gradient`, `Stochastic` and
//! `Residuals` so that ENGD, ENGD-W, SPRING, Nyström, L-BFGS and Adam all run on it.
//!
//! Loss (spec §2.1): L(θ) = 1/(2N_Ω) Σ r_Ω² + 1/(2N_∂) Σ r_∂², with the scaled residual vector
//! r̃ = [r_Ω/√N_Ω; r_∂/√N_∂] so that L = ½‖r̃‖², ∇L = Jᵀr̃ and the ENGD Gramian is JᵀJ.

use std::f64::consts::PI;

use descent_core::{
    Error, Function, Gradient, Layout, Problem, Residuals, Result, RngStreams, Stochastic,
};
use rand::RngExt;

use crate::mlp::{Init, Mlp};
use crate::taylor::{Out, Streams, TaylorMlp};

/// The linear differential operator of an interior residual
/// r = a0·u + Σₖ cₖ ∂ₖu + s·Δ_S u + source(x) (spec §5.1 table of seeds).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearOperator {
    /// Coefficient of u.
    pub a0: f64,
    /// Coefficients of the input derivatives (length = input dimension).
    pub c: Vec<f64>,
    /// Coefficient of the partial Laplacian.
    pub s: f64,
    /// S: the coordinates the Laplacian sums over.
    pub lap_mask: Vec<bool>,
}

/// A PDE with a known (manufactured) solution on a box domain.
pub trait Pde: Send + Sync {
    /// A short name ("poisson(d=2, sin_product)").
    fn name(&self) -> String;
    /// Network input dimension (time first for time-dependent problems).
    fn dim(&self) -> usize;
    /// The interior operator.
    fn operator(&self) -> &LinearOperator;
    /// The θ-independent part of the interior residual at x (e.g. f for r = Δu + f).
    fn source(&self, x: &[f64]) -> f64;
    /// The exact solution u*(x).
    fn exact(&self, x: &[f64]) -> f64;
    /// ∇u*(x) into `g` (for H¹ errors).
    fn exact_grad(&self, x: &[f64], g: &mut [f64]);
    /// Draws an interior collocation point.
    fn sample_interior(&self, rng: &mut descent_core::rng::Rng, x: &mut [f64]);
    /// Draws the `index`-th of `count` condition (boundary / initial) points.
    fn sample_condition(
        &self,
        rng: &mut descent_core::rng::Rng,
        index: usize,
        count: usize,
        x: &mut [f64],
    );
    /// The condition target g(x) (the exact solution's trace).
    fn condition_target(&self, x: &[f64]) -> f64 {
        self.exact(x)
    }
}

/// Manufactured solutions of −Δu = f on \[0,1\]^d (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoissonSolution {
    /// u* = Π sin(π xᵢ), f = dπ²u*, zero on the boundary (problem A).
    SinProduct,
    /// u* = Σ cos(π xᵢ), f = π² Σ cos(π xᵢ) (the 5-D experiments, problem B).
    CosSum,
}

/// Poisson's equation −Δu = f on the unit cube \[0,1\]^d, residual r = Δu + f (spec §3).
#[derive(Debug, Clone)]
pub struct Poisson {
    d: usize,
    solution: PoissonSolution,
    op: LinearOperator,
}

impl Poisson {
    /// Poisson in `d ≥ 1` dimensions with the given solution.
    pub fn new(d: usize, solution: PoissonSolution) -> Result<Self> {
        if d == 0 {
            return Err(Error::invalid("poisson.dim", d, "at least 1"));
        }
        Ok(Poisson {
            d,
            solution,
            op: LinearOperator {
                a0: 0.0,
                c: vec![0.0; d],
                s: 1.0,
                lap_mask: vec![true; d],
            },
        })
    }
}

/// A uniform point on the boundary of [0,1]^d: uniform in the cube, then one random coordinate
/// set to 0 or 1 (uniform over faces, spec §3 "Sampling").
fn cube_boundary(rng: &mut descent_core::rng::Rng, x: &mut [f64]) {
    for v in x.iter_mut() {
        *v = rng.random::<f64>();
    }
    let k = rng.random_range(0..x.len());
    x[k] = if rng.random::<bool>() { 1.0 } else { 0.0 };
}

fn uniform(rng: &mut descent_core::rng::Rng, x: &mut [f64]) {
    for v in x.iter_mut() {
        *v = rng.random::<f64>();
    }
}

impl Pde for Poisson {
    fn name(&self) -> String {
        let s = match self.solution {
            PoissonSolution::SinProduct => "sin_product",
            PoissonSolution::CosSum => "cos_sum",
        };
        format!("poisson(d={}, {s})", self.d)
    }
    fn dim(&self) -> usize {
        self.d
    }
    fn operator(&self) -> &LinearOperator {
        &self.op
    }
    fn source(&self, x: &[f64]) -> f64 {
        match self.solution {
            PoissonSolution::SinProduct => self.d as f64 * PI * PI * self.exact(x),
            PoissonSolution::CosSum => PI * PI * self.exact(x),
        }
    }
    fn exact(&self, x: &[f64]) -> f64 {
        match self.solution {
            PoissonSolution::SinProduct => x.iter().map(|v| (PI * v).sin()).product(),
            PoissonSolution::CosSum => x.iter().map(|v| (PI * v).cos()).sum(),
        }
    }
    fn exact_grad(&self, x: &[f64], g: &mut [f64]) {
        match self.solution {
            PoissonSolution::SinProduct => {
                for k in 0..self.d {
                    g[k] = PI
                        * (PI * x[k]).cos()
                        * (0..self.d)
                            .filter(|&j| j != k)
                            .map(|j| (PI * x[j]).sin())
                            .product::<f64>();
                }
            }
            PoissonSolution::CosSum => {
                for k in 0..self.d {
                    g[k] = -PI * (PI * x[k]).sin();
                }
            }
        }
    }
    fn sample_interior(&self, rng: &mut descent_core::rng::Rng, x: &mut [f64]) {
        uniform(rng, x);
    }
    fn sample_condition(
        &self,
        rng: &mut descent_core::rng::Rng,
        _: usize,
        _: usize,
        x: &mut [f64],
    ) {
        cube_boundary(rng, x);
    }
}

/// Manufactured solutions of the heat equation (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeatSolution {
    /// u* = exp(−π² d t / 4) Π sin(π xᵢ).
    SinProduct,
    /// u* = e^{−t} Σ sin(2 xᵢ).
    SinSum,
}

/// The heat equation ∂ₜu − ¼Δₓu = 0 on t ∈ \[0,1\], x ∈ \[0,1\]^d; the network input is (t, x)
/// with time first. Condition points: the first half on the spatial boundary at uniform t, the
/// second half at t = 0 (spec §3).
#[derive(Debug, Clone)]
pub struct Heat {
    d: usize,
    solution: HeatSolution,
    op: LinearOperator,
}

impl Heat {
    /// Heat in `d ≥ 1` space dimensions.
    pub fn new(d: usize, solution: HeatSolution) -> Result<Self> {
        if d == 0 {
            return Err(Error::invalid("heat.dim", d, "at least 1 space dimension"));
        }
        let mut c = vec![0.0; d + 1];
        c[0] = 1.0;
        let mut lap_mask = vec![true; d + 1];
        lap_mask[0] = false;
        Ok(Heat {
            d,
            solution,
            op: LinearOperator {
                a0: 0.0,
                c,
                s: -0.25,
                lap_mask,
            },
        })
    }
}

impl Pde for Heat {
    fn name(&self) -> String {
        let s = match self.solution {
            HeatSolution::SinProduct => "sin_product",
            HeatSolution::SinSum => "sin_sum",
        };
        format!("heat(d={}+1, {s})", self.d)
    }
    fn dim(&self) -> usize {
        self.d + 1
    }
    fn operator(&self) -> &LinearOperator {
        &self.op
    }
    fn source(&self, _: &[f64]) -> f64 {
        0.0
    }
    fn exact(&self, x: &[f64]) -> f64 {
        let t = x[0];
        match self.solution {
            HeatSolution::SinProduct => {
                (-PI * PI * self.d as f64 * t / 4.0).exp()
                    * x[1..].iter().map(|v| (PI * v).sin()).product::<f64>()
            }
            HeatSolution::SinSum => {
                (-t).exp() * x[1..].iter().map(|v| (2.0 * v).sin()).sum::<f64>()
            }
        }
    }
    fn exact_grad(&self, x: &[f64], g: &mut [f64]) {
        let t = x[0];
        match self.solution {
            HeatSolution::SinProduct => {
                let decay = (-PI * PI * self.d as f64 * t / 4.0).exp();
                let u = self.exact(x);
                g[0] = -PI * PI * self.d as f64 / 4.0 * u;
                for k in 1..=self.d {
                    g[k] = decay
                        * PI
                        * (PI * x[k]).cos()
                        * (1..=self.d)
                            .filter(|&j| j != k)
                            .map(|j| (PI * x[j]).sin())
                            .product::<f64>();
                }
            }
            HeatSolution::SinSum => {
                g[0] = -self.exact(x);
                for k in 1..=self.d {
                    g[k] = 2.0 * (-t).exp() * (2.0 * x[k]).cos();
                }
            }
        }
    }
    fn sample_interior(&self, rng: &mut descent_core::rng::Rng, x: &mut [f64]) {
        uniform(rng, x);
    }
    fn sample_condition(
        &self,
        rng: &mut descent_core::rng::Rng,
        index: usize,
        count: usize,
        x: &mut [f64],
    ) {
        if index < count / 2 {
            x[0] = rng.random::<f64>();
            cube_boundary(rng, &mut x[1..]);
        } else {
            x[0] = 0.0;
            uniform(rng, &mut x[1..]);
        }
    }
}

/// Collocation and evaluation sizes of a [`PinnObjective`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnSizes {
    /// Interior points per batch N_Ω.
    pub interior: usize,
    /// Condition (boundary/initial) points per batch N_∂.
    pub condition: usize,
    /// Fixed interior evaluation points for the L2/H1 errors (the spec uses 10·N_Ω).
    pub eval: usize,
}

/// A PINN for a [`Pde`]: an MLP u_θ, a collocation batch redrawn by `resample()` from the
/// `"batches"` stream, and a fixed evaluation set from the `"eval"` stream. Offers `Function`
/// (L), `Gradient` (Jᵀr̃ by GEMMs), `Stochastic` and `Residuals` (r̃ and its scaled Jacobian).
pub struct PinnObjective {
    pde: Box<dyn Pde>,
    layout: Layout,
    sizes: PinnSizes,
    n_params: usize,
    rng: descent_core::rng::Rng,
    x_int: Vec<f64>,
    x_cond: Vec<f64>,
    src_int: Vec<f64>,
    g_cond: Vec<f64>,
    eval_x: Vec<f64>,
    eval_u: Vec<f64>,
    eval_grad: Vec<f64>,
    interior: TaylorMlp,
    cond: TaylorMlp,
    eval: TaylorMlp,
    seeds_int: Vec<f64>,
    seeds_cond: Vec<f64>,
    wseeds_int: Vec<f64>,
    wseeds_cond: Vec<f64>,
    r: Vec<f64>,
    gtmp: Vec<f64>,
    trial: Vec<f64>,
    /// One set of engines per thread of a line search under a thread budget (made on first use).
    workers: Vec<Worker>,
}

/// The engines and buffers one thread of [`Residuals::values_along`] evaluates with.
struct Worker {
    interior: TaylorMlp,
    cond: TaylorMlp,
    r: Vec<f64>,
    trial: Vec<f64>,
}

/// The [`BatchView`] of a [`PinnObjective`], borrowing only the batch fields (so the engines
/// stay free for `&mut`).
macro_rules! batch_view {
    ($o:expr) => {
        BatchView {
            x_int: &$o.x_int,
            x_cond: &$o.x_cond,
            seeds_int: &$o.seeds_int,
            src_int: &$o.src_int,
            g_cond: &$o.g_cond,
            m: $o.pde.dim() + 2,
        }
    };
}

/// What a residual evaluation reads of the current batch.
struct BatchView<'a> {
    x_int: &'a [f64],
    x_cond: &'a [f64],
    seeds_int: &'a [f64],
    src_int: &'a [f64],
    g_cond: &'a [f64],
    m: usize,
}

impl BatchView<'_> {
    /// Forward passes at `x` on the batch; fills `r` with r̃. With `for_backward`, the passes
    /// keep each sample's rows together, as [`TaylorMlp::backward`] needs; otherwise the rows go
    /// stream by stream (faster, the same numbers).
    fn residuals(
        &self,
        x: &[f64],
        interior: &mut TaylorMlp,
        cond: &mut TaylorMlp,
        r: &mut [f64],
        for_backward: bool,
    ) {
        let (ni, nc) = (self.src_int.len(), self.g_cond.len());
        if for_backward {
            interior.forward(x, self.x_int, ni, Streams::Taylor);
            cond.forward(x, self.x_cond, nc, Streams::Value);
        } else {
            interior.forward_by_stream(x, self.x_int, ni, Streams::Taylor);
            cond.forward_by_stream(x, self.x_cond, nc, Streams::Value);
        }
        let m = self.m;
        let (si, sc) = (1.0 / (ni as f64).sqrt(), 1.0 / (nc as f64).sqrt());
        let (r_int, r_cond) = r.split_at_mut(ni);
        for (i, (ri, seeds)) in r_int
            .iter_mut()
            .zip(self.seeds_int.chunks_exact(m))
            .enumerate()
        {
            let mut v = seeds[0] * interior.value(i) + seeds[m - 1] * interior.laplacian(i);
            for k in 0..m - 2 {
                if seeds[1 + k] != 0.0 {
                    v += seeds[1 + k] * interior.input_grad(i, k);
                }
            }
            *ri = v + si * self.src_int[i];
        }
        for (j, (rj, g)) in r_cond.iter_mut().zip(self.g_cond).enumerate() {
            *rj = sc * (cond.value(j) - g);
        }
    }

    /// f(x + a·d) = ½‖r̃‖², the trial point formed in `trial`.
    #[allow(clippy::too_many_arguments)]
    fn value_at(
        &self,
        x: &[f64],
        d: &[f64],
        a: f64,
        trial: &mut [f64],
        interior: &mut TaylorMlp,
        cond: &mut TaylorMlp,
        r: &mut [f64],
    ) -> f64 {
        for ((t, xi), di) in trial.iter_mut().zip(x).zip(d) {
            *t = xi + a * di;
        }
        self.residuals(trial, interior, cond, r, false);
        0.5 * r.iter().map(|v| v * v).sum::<f64>()
    }
}

impl PinnObjective {
    /// A PINN with network `mlp` (input width = `pde.dim()`, output 1) and the given sizes; the
    /// first batch and the evaluation set are drawn from `streams`.
    pub fn new(
        mlp: Mlp,
        pde: Box<dyn Pde>,
        sizes: PinnSizes,
        streams: &RngStreams,
    ) -> Result<Self> {
        if mlp.n_inputs() != pde.dim() {
            return Err(Error::invalid(
                "pinn model input width",
                mlp.n_inputs(),
                format!("{} (the input dimension of {})", pde.dim(), pde.name()),
            ));
        }
        for (name, v) in [
            ("pinn.interior", sizes.interior),
            ("pinn.condition", sizes.condition),
            ("pinn.eval", sizes.eval),
        ] {
            if v == 0 {
                return Err(Error::invalid(name, v, "at least 1 point"));
            }
        }
        let d = pde.dim();
        let mask = pde.operator().lap_mask.clone();
        let interior = TaylorMlp::new(mlp.clone(), mask.clone(), sizes.interior)?;
        let cond = TaylorMlp::new(mlp.clone(), mask.clone(), sizes.condition)?;
        let eval = TaylorMlp::new(mlp.clone(), mask, sizes.eval)?;
        let mut eval_rng = streams.stream("eval");
        let mut eval_x = vec![0.0; sizes.eval * d];
        for p in eval_x.chunks_mut(d) {
            pde.sample_interior(&mut eval_rng, p);
        }
        let mut eval_u = vec![0.0; sizes.eval];
        let mut eval_grad = vec![0.0; sizes.eval * d];
        for (i, p) in eval_x.chunks(d).enumerate() {
            eval_u[i] = pde.exact(p);
            pde.exact_grad(p, &mut eval_grad[i * d..(i + 1) * d]);
        }
        let op = pde.operator();
        let m = d + 2;
        let sc = 1.0 / (sizes.interior as f64).sqrt();
        let mut seeds_int = vec![0.0; sizes.interior * m];
        for s in seeds_int.chunks_mut(m) {
            s[0] = op.a0 * sc;
            for k in 0..d {
                s[1 + k] = op.c[k] * sc;
            }
            s[m - 1] = op.s * sc;
        }
        let seeds_cond = vec![1.0 / (sizes.condition as f64).sqrt(); sizes.condition];
        let n_params = mlp.n_params();
        let mut obj = PinnObjective {
            layout: mlp.layout(),
            sizes,
            n_params,
            rng: streams.stream("batches"),
            x_int: vec![0.0; sizes.interior * d],
            x_cond: vec![0.0; sizes.condition * d],
            src_int: vec![0.0; sizes.interior],
            g_cond: vec![0.0; sizes.condition],
            eval_x,
            eval_u,
            eval_grad,
            interior,
            cond,
            eval,
            wseeds_int: vec![0.0; seeds_int.len()],
            wseeds_cond: vec![0.0; seeds_cond.len()],
            seeds_int,
            seeds_cond,
            r: vec![0.0; sizes.interior + sizes.condition],
            gtmp: vec![0.0; n_params],
            trial: vec![0.0; n_params],
            workers: Vec::new(),
            pde,
        };
        obj.draw_batch();
        Ok(obj)
    }

    /// PyTorch-default initial parameters (W, b ~ U(±1/√fan_in), spec §2.7) from the `"init"`
    /// stream.
    pub fn init_params(&self, streams: &RngStreams) -> Vec<f64> {
        self.interior
            .mlp()
            .init_params(Init::TorchUniform, &mut streams.stream("init"))
    }

    /// The PDE.
    pub fn pde(&self) -> &dyn Pde {
        self.pde.as_ref()
    }

    /// The network.
    pub fn mlp(&self) -> &Mlp {
        self.interior.mlp()
    }

    /// The batch and evaluation sizes.
    pub fn sizes(&self) -> PinnSizes {
        self.sizes
    }

    /// The current interior and condition points (row-major).
    pub fn batch(&self) -> (&[f64], &[f64]) {
        (&self.x_int, &self.x_cond)
    }

    /// Replaces the current batch (lengths must match the sizes).
    pub fn set_batch(&mut self, interior: &[f64], condition: &[f64]) -> Result<()> {
        if interior.len() != self.x_int.len() {
            return Err(Error::shape(
                "pinn interior batch",
                self.x_int.len(),
                interior.len(),
            ));
        }
        if condition.len() != self.x_cond.len() {
            return Err(Error::shape(
                "pinn condition batch",
                self.x_cond.len(),
                condition.len(),
            ));
        }
        self.x_int.copy_from_slice(interior);
        self.x_cond.copy_from_slice(condition);
        self.refresh_targets();
        Ok(())
    }

    fn draw_batch(&mut self) {
        let d = self.pde.dim();
        for p in self.x_int.chunks_mut(d) {
            self.pde.sample_interior(&mut self.rng, p);
        }
        let count = self.sizes.condition;
        for (i, p) in self.x_cond.chunks_mut(d).enumerate() {
            self.pde.sample_condition(&mut self.rng, i, count, p);
        }
        self.refresh_targets();
    }

    fn refresh_targets(&mut self) {
        let d = self.pde.dim();
        for (i, p) in self.x_int.chunks(d).enumerate() {
            self.src_int[i] = self.pde.source(p);
        }
        for (i, p) in self.x_cond.chunks(d).enumerate() {
            self.g_cond[i] = self.pde.condition_target(p);
        }
    }

    /// Forward passes on the current batch; fills `self.r` with r̃ (see [`BatchView::residuals`]
    /// for `for_backward`).
    fn forward_residuals(&mut self, x: &[f64], for_backward: bool) {
        let view = batch_view!(self);
        view.residuals(
            x,
            &mut self.interior,
            &mut self.cond,
            &mut self.r,
            for_backward,
        );
    }

    /// The unscaled interior residuals r_Ω at the current batch (for tests and diagnostics).
    pub fn interior_residuals(&mut self, x: &[f64]) -> Vec<f64> {
        self.forward_residuals(x, false);
        let s = (self.sizes.interior as f64).sqrt();
        self.r[..self.sizes.interior]
            .iter()
            .map(|v| v * s)
            .collect()
    }

    /// Absolute RMS error √(mean (u_θ − u*)²) over the fixed evaluation set (spec §2.7).
    pub fn l2_error(&mut self, x: &[f64]) -> f64 {
        let n = self.sizes.eval;
        self.eval
            .forward_by_stream(x, &self.eval_x, n, Streams::Value);
        let sse: f64 = (0..n)
            .map(|i| (self.eval.value(i) - self.eval_u[i]).powi(2))
            .sum();
        (sse / n as f64).sqrt()
    }

    /// H¹ error √(mean ((u_θ − u*)² + ‖∇u_θ − ∇u*‖²)) over the evaluation set.
    pub fn h1_error(&mut self, x: &[f64]) -> f64 {
        let n = self.sizes.eval;
        let d = self.pde.dim();
        self.eval
            .forward_by_stream(x, &self.eval_x, n, Streams::Taylor);
        let mut sse = 0.0;
        for i in 0..n {
            sse += (self.eval.value(i) - self.eval_u[i]).powi(2);
            for k in 0..d {
                sse += (self.eval.input_grad(i, k) - self.eval_grad[i * d + k]).powi(2);
            }
        }
        (sse / n as f64).sqrt()
    }

    /// u_θ at arbitrary points (row-major n × d, any n): the points go through the evaluation
    /// workspace in chunks of at most `eval` rows, so the count is not limited by its size.
    /// Errors if `x` is not a parameter vector of this network or `points.len()` is not a
    /// multiple of the input dimension d.
    pub fn predict(&mut self, x: &[f64], points: &[f64]) -> Result<Vec<f64>> {
        if x.len() != self.n_params {
            return Err(Error::shape(
                "pinn predict parameters",
                format!("{} parameters", self.n_params),
                x.len(),
            ));
        }
        let d = self.pde.dim();
        if !points.len().is_multiple_of(d) {
            return Err(Error::invalid(
                "pinn predict points length",
                points.len(),
                format!("a multiple of the input dimension d = {d} (row-major n × d)"),
            ));
        }
        let mut out = Vec::with_capacity(points.len() / d);
        for chunk in points.chunks(self.sizes.eval * d) {
            let n = chunk.len() / d;
            self.eval.forward_by_stream(x, chunk, n, Streams::Value);
            out.extend((0..n).map(|i| self.eval.value(i)));
        }
        Ok(out)
    }
}

impl Function for PinnObjective {
    fn dim(&self) -> usize {
        self.n_params
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.forward_residuals(x, false);
        0.5 * self.r.iter().map(|v| v * v).sum::<f64>()
    }
}

impl Gradient for PinnObjective {
    /// ∇L = Jᵀr̃, by back-propagating residual-weighted seeds (GEMMs, no Jacobian formed).
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        self.forward_residuals(x, true);
        let f = 0.5 * self.r.iter().map(|v| v * v).sum::<f64>();
        let (ni, nc) = (self.sizes.interior, self.sizes.condition);
        let m = self.pde.dim() + 2;
        for i in 0..ni {
            for j in 0..m {
                self.wseeds_int[i * m + j] = self.seeds_int[i * m + j] * self.r[i];
            }
        }
        self.interior.backward(x, &self.wseeds_int, Out::Sum(g));
        for j in 0..nc {
            self.wseeds_cond[j] = self.seeds_cond[j] * self.r[ni + j];
        }
        self.cond
            .backward(x, &self.wseeds_cond, Out::Sum(&mut self.gtmp));
        g.iter_mut().zip(&self.gtmp).for_each(|(a, b)| *a += b);
        f
    }
}

impl Stochastic for PinnObjective {
    fn resample(&mut self) {
        self.draw_batch();
    }
}

impl Residuals for PinnObjective {
    fn n_residuals(&mut self) -> usize {
        self.sizes.interior + self.sizes.condition
    }
    fn residuals(&mut self, x: &[f64], r: &mut [f64]) {
        self.forward_residuals(x, false);
        r.copy_from_slice(&self.r);
    }
    fn residual_jacobian(&mut self, x: &[f64], r: &mut [f64], jac: &mut [f64]) {
        self.forward_residuals(x, true);
        r.copy_from_slice(&self.r);
        let p = self.n_params;
        let ni = self.sizes.interior;
        assert_eq!(
            jac.len(),
            (ni + self.sizes.condition) * p,
            "pinn Jacobian length"
        );
        let (top, bottom) = jac.split_at_mut(ni * p);
        self.interior
            .backward(x, &self.seeds_int, Out::Rows(top, p));
        self.cond
            .backward(x, &self.seeds_cond, Out::Rows(bottom, p));
    }
    /// The 31 trial values of a line search as forward passes over the whole batch, each the
    /// same computation as [`Function::value`] at the same trial point (so the same bits).
    /// Under a thread budget (`descent_core::par`) the step sizes are split into contiguous
    /// groups, one set of engines per thread: each value is still computed by one thread in the
    /// same way, so the values are bit-identical for every thread count.
    fn values_along(&mut self, x: &[f64], d: &[f64], alphas: &[f64], values: &mut [f64]) {
        assert_eq!(
            alphas.len(),
            values.len(),
            "values_along: one value per step size"
        );
        let threads = descent_core::par::threads().min(alphas.len());
        if threads <= 1 {
            let view = batch_view!(self);
            for (v, &a) in values.iter_mut().zip(alphas) {
                *v = view.value_at(
                    x,
                    d,
                    a,
                    &mut self.trial,
                    &mut self.interior,
                    &mut self.cond,
                    &mut self.r,
                );
            }
            return;
        }
        while self.workers.len() < threads {
            self.workers.push(Worker {
                interior: self.interior.clone(),
                cond: self.cond.clone(),
                r: vec![0.0; self.r.len()],
                trial: vec![0.0; self.n_params],
            });
        }
        let bounds = descent_core::par::even_bounds(alphas.len(), threads, 1);
        let view = batch_view!(self);
        let mut parts = Vec::with_capacity(threads);
        let mut rest = &mut *values;
        for (w, worker) in bounds.windows(2).zip(self.workers.iter_mut()) {
            let (head, tail) = rest.split_at_mut(w[1] - w[0]);
            parts.push((&alphas[w[0]..w[1]], head, worker));
            rest = tail;
        }
        descent_core::par::run_parts(parts, |_, (alphas, values, wk)| {
            for (v, &a) in values.iter_mut().zip(alphas) {
                *v = view.value_at(
                    x,
                    d,
                    a,
                    &mut wk.trial,
                    &mut wk.interior,
                    &mut wk.cond,
                    &mut wk.r,
                );
            }
        });
    }
}

impl Problem for PinnObjective {
    fn name(&self) -> String {
        format!(
            "pinn {} on {}",
            self.interior.mlp().describe(),
            self.pde.name()
        )
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, gradient, stochastic, residuals);
}
