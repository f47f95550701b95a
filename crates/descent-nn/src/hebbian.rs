//! Online learning rules whose code has a rotational symmetry, the models of P1 (representational
//! drift, P1 §2.3): Oja's subspace rule and online similarity matching (Hebbian/anti-Hebbian, not
//! gradient flows, exposed as [`UpdateField`] problems), and the linear autoencoder and supervised
//! two-layer linear network trained by per-sample SGD with weight decay.
//!
//! Every rule implements [`OnlineRule`]: its increment Δ(params; x, y) per unit learning rate (for
//! the two SGD models Δ = −∇ℓ of the regularised per-sample loss), a fused in-place
//! [`OnlineRule::step`] `params += η·Δ` for hot loops (no allocation, plain loops: at n = 10,
//! m = 2 a GEMM call costs more than the whole step), the encoder whose rows map a stimulus to its
//! representation (W, M⁻¹W or W1), and the analytic fixed point for a flat relevant variance λ∥
//! with basis U = I (P1 pitfall 10: start there).
//!
//! [`OnlineProblem`] binds a rule to a [`Stream`] of fresh samples as a descent problem offering
//! UpdateField (d = −Δ, so `sgd(lr=η)` applies exactly `params += η·Δ`) and Stochastic (one fresh
//! sample per resample): P1's online learning through the generic optimizer path.

use descent_core::linalg::solve_small;
use descent_core::{Error, Layout, Problem, Result, Stochastic, UpdateField};
use descent_data::Stream;
use descent_data::dataset::Targets;

/// An online learning rule on flat row-major parameters (P1 §2.3).
pub trait OnlineRule: Send {
    /// A short description, e.g. `oja(n=10, m=2)`.
    fn name(&self) -> String;
    /// Input dimension n.
    fn n_inputs(&self) -> usize;
    /// Target dimension (0 for the unsupervised rules).
    fn n_targets(&self) -> usize {
        0
    }
    /// Code dimension m (rows of the encoder): the dimension of the symmetry group O(m).
    fn code_dim(&self) -> usize;
    /// The parameter blocks.
    fn layout(&self) -> Layout;
    /// Writes the increment Δ per unit learning rate for sample (x, y) into `out`.
    fn increment(&mut self, params: &[f64], x: &[f64], y: &[f64], out: &mut [f64]);
    /// `params += eta·Δ(params; x, y)` in place, without allocating (equal to
    /// [`OnlineRule::increment`] up to rounding).
    fn step(&mut self, params: &mut [f64], x: &[f64], y: &[f64], eta: f64);
    /// Writes the m × n encoder E (row-major) whose product E s is the representation of a
    /// stimulus s: W (Oja), F = M⁻¹W (similarity matching), W1 (autoencoder, two-layer net).
    fn encoder(&mut self, params: &[f64], out: &mut [f64]);
    /// The analytic fixed point when the inputs have variance `var_rel` on the first m
    /// coordinates (basis U = I); an error when none exists (e.g. weight decay ≥ `var_rel`).
    fn fixed_point(&self, var_rel: f64) -> Result<Vec<f64>>;
}

fn check_dims(model: &str, n: usize, m: usize) -> Result<()> {
    if m == 0 {
        return Err(Error::invalid(format!("{model}.m"), m, "an integer >= 1"));
    }
    if n < m {
        return Err(Error::invalid(
            format!("{model}.n"),
            n,
            format!("an integer >= m = {m}"),
        ));
    }
    Ok(())
}

fn check_non_negative(field: &str, v: f64) -> Result<f64> {
    if v >= 0.0 && v.is_finite() {
        Ok(v)
    } else {
        Err(Error::invalid(field, v, "a finite number >= 0"))
    }
}

fn check_var_rel(var_rel: f64) -> Result<()> {
    if var_rel > 0.0 && var_rel.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid("var_rel", var_rel, "a finite number > 0"))
    }
}

/// y = A x for a row-major r × c matrix.
#[inline(always)]
fn matvec(a: &[f64], x: &[f64], y: &mut [f64]) {
    let c = x.len();
    for (yi, row) in y.iter_mut().zip(a.chunks_exact(c)) {
        let mut s = 0.0;
        for (aij, xj) in row.iter().zip(x) {
            s += aij * xj;
        }
        *yi = s;
    }
}

/// y = Aᵀ x for a row-major r × c matrix (x of length r, y of length c).
#[inline(always)]
fn matvec_t(a: &[f64], x: &[f64], y: &mut [f64]) {
    let c = y.len();
    y.fill(0.0);
    for (row, xi) in a.chunks_exact(c).zip(x) {
        for (yj, aij) in y.iter_mut().zip(row) {
            *yj += aij * xi;
        }
    }
}

/// A ← s·A + η·u vᵀ (row-major, rows = u.len()).
#[inline(always)]
fn scale_add_outer(a: &mut [f64], s: f64, eta: f64, u: &[f64], v: &[f64]) {
    let c = v.len();
    for (row, ui) in a.chunks_exact_mut(c).zip(u) {
        let e = eta * ui;
        for (aij, vj) in row.iter_mut().zip(v) {
            *aij = s * *aij + e * vj;
        }
    }
}

/// `c·[I_m 0]` as an m × n row-major matrix.
fn scaled_selection(m: usize, n: usize, c: f64) -> Vec<f64> {
    let mut w = vec![0.0; m * n];
    (0..m).for_each(|i| w[i * n + i] = c);
    w
}

// ---------------------------------------------------------------------------------------------
// Oja's subspace rule
// ---------------------------------------------------------------------------------------------

/// Oja's subspace rule (P1 §2.3): W is m × n, y = W x, ΔW = y xᵀ − y yᵀ W = y (x − Wᵀy)ᵀ. Its
/// fixed points are the orthonormal bases R[U∥ᵀ] of the top-m principal subspace, R ∈ O(m).
#[derive(Debug, Clone)]
pub struct Oja {
    n: usize,
    m: usize,
    y: Vec<f64>,
    v: Vec<f64>,
}

impl Oja {
    /// The rule for n inputs and m outputs (1 ≤ m ≤ n).
    pub fn new(n: usize, m: usize) -> Result<Oja> {
        check_dims("oja", n, m)?;
        Ok(Oja {
            n,
            m,
            y: vec![0.0; m],
            v: vec![0.0; n],
        })
    }
}

impl OnlineRule for Oja {
    fn name(&self) -> String {
        format!("oja(n={}, m={})", self.n, self.m)
    }
    fn n_inputs(&self) -> usize {
        self.n
    }
    fn code_dim(&self) -> usize {
        self.m
    }
    fn layout(&self) -> Layout {
        Layout::matrix(self.m, self.n)
    }
    fn increment(&mut self, w: &[f64], x: &[f64], _y: &[f64], out: &mut [f64]) {
        matvec(w, x, &mut self.y);
        matvec_t(w, &self.y, &mut self.v);
        for (vi, xi) in self.v.iter_mut().zip(x) {
            *vi = xi - *vi;
        }
        out.fill(0.0);
        scale_add_outer(out, 1.0, 1.0, &self.y, &self.v);
    }
    #[inline]
    fn step(&mut self, w: &mut [f64], x: &[f64], _y: &[f64], eta: f64) {
        matvec(w, x, &mut self.y);
        matvec_t(w, &self.y, &mut self.v);
        for (vi, xi) in self.v.iter_mut().zip(x) {
            *vi = xi - *vi;
        }
        scale_add_outer(w, 1.0, eta, &self.y, &self.v);
    }
    fn encoder(&mut self, w: &[f64], out: &mut [f64]) {
        out.copy_from_slice(w);
    }
    fn fixed_point(&self, var_rel: f64) -> Result<Vec<f64>> {
        check_var_rel(var_rel)?;
        Ok(scaled_selection(self.m, self.n, 1.0))
    }
}

// ---------------------------------------------------------------------------------------------
// Similarity matching
// ---------------------------------------------------------------------------------------------

/// Online similarity matching (P1 §2.3, after Qin et al. 2023): Hebbian feed-forward W (m × n)
/// and anti-Hebbian lateral M (m × m), output at the neural steady state y = M⁻¹ W x, updates
/// ΔW = y xᵀ − W and ΔM = (y yᵀ − M)/τ. The representation filter is F = M⁻¹W; at the fixed point
/// (flat relevant variance λ∥) W = λ∥[I 0], M = λ∥ I.
#[derive(Debug, Clone)]
pub struct SimilarityMatching {
    n: usize,
    m: usize,
    tau: f64,
    u: Vec<f64>,
    y: Vec<f64>,
    lu: Vec<f64>,
}

impl SimilarityMatching {
    /// The network for n inputs, m outputs and lateral time constant τ > 0 (τ = 1 in P1's
    /// reference code).
    pub fn new(n: usize, m: usize, tau: f64) -> Result<SimilarityMatching> {
        check_dims("similarity_matching", n, m)?;
        if !(tau > 0.0 && tau.is_finite()) {
            return Err(Error::invalid(
                "similarity_matching.tau",
                tau,
                "a finite number > 0",
            ));
        }
        Ok(SimilarityMatching {
            n,
            m,
            tau,
            u: vec![0.0; m],
            y: vec![0.0; m],
            lu: vec![0.0; m * m],
        })
    }

    /// y = M⁻¹ W x into `self.y`; false when M is singular.
    #[inline]
    fn output(&mut self, p: &[f64], x: &[f64]) -> bool {
        let (n, m) = (self.n, self.m);
        matvec(&p[..m * n], x, &mut self.u);
        let mm = &p[m * n..];
        if m == 2 {
            let det = mm[0] * mm[3] - mm[1] * mm[2];
            let (u0, u1) = (self.u[0], self.u[1]);
            self.y[0] = (mm[3] * u0 - mm[1] * u1) / det;
            self.y[1] = (mm[0] * u1 - mm[2] * u0) / det;
            return det != 0.0;
        }
        self.lu.copy_from_slice(mm);
        self.y.copy_from_slice(&self.u);
        solve_small(&mut self.lu, &mut self.y, m)
    }
}

impl OnlineRule for SimilarityMatching {
    fn name(&self) -> String {
        format!(
            "similarity_matching(n={}, m={}, tau={})",
            self.n, self.m, self.tau
        )
    }
    fn n_inputs(&self) -> usize {
        self.n
    }
    fn code_dim(&self) -> usize {
        self.m
    }
    fn layout(&self) -> Layout {
        let mut l = Layout::new();
        l.push("W", &[self.m, self.n]);
        l.push("M", &[self.m, self.m]);
        l
    }
    fn increment(&mut self, p: &[f64], x: &[f64], _y: &[f64], out: &mut [f64]) {
        let (n, m) = (self.n, self.m);
        self.output(p, x);
        let (ow, om) = out.split_at_mut(m * n);
        ow.copy_from_slice(&p[..m * n]);
        scale_add_outer(ow, -1.0, 1.0, &self.y, x);
        om.copy_from_slice(&p[m * n..]);
        let y = &self.y;
        scale_add_outer(om, -1.0 / self.tau, 1.0 / self.tau, y, y);
    }
    #[inline]
    fn step(&mut self, p: &mut [f64], x: &[f64], _y: &[f64], eta: f64) {
        let (n, m) = (self.n, self.m);
        self.output(p, x);
        let (w, mm) = p.split_at_mut(m * n);
        scale_add_outer(w, 1.0 - eta, eta, &self.y, x);
        let e = eta / self.tau;
        scale_add_outer(mm, 1.0 - e, e, &self.y, &self.y);
    }
    fn encoder(&mut self, p: &[f64], out: &mut [f64]) {
        let (n, m) = (self.n, self.m);
        self.lu.copy_from_slice(&p[m * n..]);
        out.copy_from_slice(&p[..m * n]);
        if !solve_small(&mut self.lu, out, m) {
            out.fill(f64::NAN);
        }
    }
    fn fixed_point(&self, var_rel: f64) -> Result<Vec<f64>> {
        check_var_rel(var_rel)?;
        let mut p = scaled_selection(self.m, self.n, var_rel);
        p.extend(scaled_selection(self.m, self.m, var_rel));
        Ok(p)
    }
}

// ---------------------------------------------------------------------------------------------
// Linear autoencoder with weight decay
// ---------------------------------------------------------------------------------------------

/// The linear autoencoder trained by per-sample SGD with weight decay (P1 §2.3): h = W1 x
/// (W1 p × n), x̂ = W2 h (W2 n × p), ℓ = ½‖x − x̂‖² + (wd/2)(‖W1‖² + ‖W2‖²). Weight decay is
/// required for a stationary drift (P1 pitfall 5). Balanced fixed point W1 = s0[I 0], W2 = W1ᵀ,
/// s0² = 1 − wd/λ∥.
#[derive(Debug, Clone)]
pub struct LinearAutoencoder {
    n: usize,
    p: usize,
    wd: f64,
    h: Vec<f64>,
    e: Vec<f64>,
    g: Vec<f64>,
}

impl LinearAutoencoder {
    /// n inputs, p hidden units, weight decay wd ≥ 0.
    pub fn new(n: usize, p: usize, wd: f64) -> Result<LinearAutoencoder> {
        check_dims("autoencoder", n, p)?;
        let wd = check_non_negative("autoencoder.wd", wd)?;
        Ok(LinearAutoencoder {
            n,
            p,
            wd,
            h: vec![0.0; p],
            e: vec![0.0; n],
            g: vec![0.0; p],
        })
    }

    /// The regularised per-sample loss ℓ(params; x).
    pub fn loss(&mut self, params: &[f64], x: &[f64]) -> f64 {
        self.forward(params, x);
        let sq = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
        0.5 * sq(&self.e) + 0.5 * self.wd * sq(params)
    }

    /// h = W1 x, e = x − W2 h, g = W2ᵀ e.
    #[inline(always)]
    fn forward(&mut self, params: &[f64], x: &[f64]) {
        let (w1, w2) = params.split_at(self.p * self.n);
        matvec(w1, x, &mut self.h);
        matvec(w2, &self.h, &mut self.e);
        for (ei, xi) in self.e.iter_mut().zip(x) {
            *ei = xi - *ei;
        }
        matvec_t(w2, &self.e, &mut self.g);
    }
}

impl OnlineRule for LinearAutoencoder {
    fn name(&self) -> String {
        format!("autoencoder(n={}, p={}, wd={})", self.n, self.p, self.wd)
    }
    fn n_inputs(&self) -> usize {
        self.n
    }
    fn code_dim(&self) -> usize {
        self.p
    }
    fn layout(&self) -> Layout {
        let mut l = Layout::new();
        l.push("W1", &[self.p, self.n]);
        l.push("W2", &[self.n, self.p]);
        l
    }
    fn increment(&mut self, params: &[f64], x: &[f64], _y: &[f64], out: &mut [f64]) {
        self.forward(params, x);
        out.copy_from_slice(params);
        let (o1, o2) = out.split_at_mut(self.p * self.n);
        scale_add_outer(o1, -self.wd, 1.0, &self.g, x);
        scale_add_outer(o2, -self.wd, 1.0, &self.e, &self.h);
    }
    #[inline]
    fn step(&mut self, params: &mut [f64], x: &[f64], _y: &[f64], eta: f64) {
        self.forward(params, x);
        let s = 1.0 - eta * self.wd;
        let (w1, w2) = params.split_at_mut(self.p * self.n);
        scale_add_outer(w1, s, eta, &self.g, x);
        scale_add_outer(w2, s, eta, &self.e, &self.h);
    }
    fn encoder(&mut self, params: &[f64], out: &mut [f64]) {
        out.copy_from_slice(&params[..self.p * self.n]);
    }
    fn fixed_point(&self, var_rel: f64) -> Result<Vec<f64>> {
        check_var_rel(var_rel)?;
        if self.wd >= var_rel {
            return Err(Error::invalid(
                "autoencoder.wd",
                self.wd,
                format!("less than the relevant variance {var_rel} (else W = 0)"),
            ));
        }
        let s0 = (1.0 - self.wd / var_rel).sqrt();
        let w1 = scaled_selection(self.p, self.n, s0);
        let mut params = w1.clone();
        params.resize(2 * self.p * self.n, 0.0);
        for i in 0..self.p {
            for j in 0..self.n {
                params[self.p * self.n + j * self.p + i] = w1[i * self.n + j];
            }
        }
        Ok(params)
    }
}

// ---------------------------------------------------------------------------------------------
// Supervised two-layer linear network with weight decay
// ---------------------------------------------------------------------------------------------

/// The supervised two-layer linear network trained by per-sample SGD with weight decay γ (P1
/// §2.3): h = W1 x (W1 k × n), ŷ = W2 h (W2 k × k), target y = P x,
/// ℓ = ½‖y − ŷ‖² + (γ/2)(‖W1‖² + ‖W2‖²). Balanced fixed point (P = [I 0]) W1 = w[I 0], W2 = w I,
/// w² = 1 − γ/λ∥; its residual γ·x∥ is what drives drift (P1 pitfall 6).
#[derive(Debug, Clone)]
pub struct TwoLayerLinear {
    n: usize,
    k: usize,
    gamma: f64,
    h: Vec<f64>,
    r: Vec<f64>,
    g: Vec<f64>,
}

impl TwoLayerLinear {
    /// n inputs, hidden width and output dimension k, weight decay γ ≥ 0.
    pub fn new(n: usize, k: usize, gamma: f64) -> Result<TwoLayerLinear> {
        check_dims("two_layer", n, k)?;
        let gamma = check_non_negative("two_layer.gamma", gamma)?;
        Ok(TwoLayerLinear {
            n,
            k,
            gamma,
            h: vec![0.0; k],
            r: vec![0.0; k],
            g: vec![0.0; k],
        })
    }

    /// The regularised per-sample loss ℓ(params; x, y).
    pub fn loss(&mut self, params: &[f64], x: &[f64], y: &[f64]) -> f64 {
        self.forward(params, x, y);
        let sq = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>();
        0.5 * sq(&self.r) + 0.5 * self.gamma * sq(params)
    }

    /// h = W1 x, r = y − W2 h, g = W2ᵀ r.
    #[inline(always)]
    fn forward(&mut self, params: &[f64], x: &[f64], y: &[f64]) {
        let (w1, w2) = params.split_at(self.k * self.n);
        matvec(w1, x, &mut self.h);
        matvec(w2, &self.h, &mut self.r);
        for (ri, yi) in self.r.iter_mut().zip(y) {
            *ri = yi - *ri;
        }
        matvec_t(w2, &self.r, &mut self.g);
    }
}

impl OnlineRule for TwoLayerLinear {
    fn name(&self) -> String {
        format!(
            "two_layer(n={}, k={}, gamma={})",
            self.n, self.k, self.gamma
        )
    }
    fn n_inputs(&self) -> usize {
        self.n
    }
    fn n_targets(&self) -> usize {
        self.k
    }
    fn code_dim(&self) -> usize {
        self.k
    }
    fn layout(&self) -> Layout {
        let mut l = Layout::new();
        l.push("W1", &[self.k, self.n]);
        l.push("W2", &[self.k, self.k]);
        l
    }
    fn increment(&mut self, params: &[f64], x: &[f64], y: &[f64], out: &mut [f64]) {
        self.forward(params, x, y);
        out.copy_from_slice(params);
        let (o1, o2) = out.split_at_mut(self.k * self.n);
        scale_add_outer(o1, -self.gamma, 1.0, &self.g, x);
        scale_add_outer(o2, -self.gamma, 1.0, &self.r, &self.h);
    }
    #[inline]
    fn step(&mut self, params: &mut [f64], x: &[f64], y: &[f64], eta: f64) {
        self.forward(params, x, y);
        let s = 1.0 - eta * self.gamma;
        let (w1, w2) = params.split_at_mut(self.k * self.n);
        scale_add_outer(w1, s, eta, &self.g, x);
        scale_add_outer(w2, s, eta, &self.r, &self.h);
    }
    fn encoder(&mut self, params: &[f64], out: &mut [f64]) {
        out.copy_from_slice(&params[..self.k * self.n]);
    }
    fn fixed_point(&self, var_rel: f64) -> Result<Vec<f64>> {
        check_var_rel(var_rel)?;
        if self.gamma >= var_rel {
            return Err(Error::invalid(
                "two_layer.gamma",
                self.gamma,
                format!("less than the relevant variance {var_rel} (else W = 0)"),
            ));
        }
        let w = (1.0 - self.gamma / var_rel).sqrt();
        let mut p = scaled_selection(self.k, self.n, w);
        p.extend(scaled_selection(self.k, self.k, w));
        Ok(p)
    }
}

// ---------------------------------------------------------------------------------------------
// As a descent problem
// ---------------------------------------------------------------------------------------------

/// An [`OnlineRule`] on a [`Stream`] of fresh samples (batch size 1) as a descent problem: the
/// field is d = −Δ(params; x, y) on the current sample, so `sgd(lr=η)` performs the rule's own
/// step, and every `resample` draws the next sample. Offers UpdateField and Stochastic.
pub struct OnlineProblem<R: OnlineRule> {
    rule: R,
    layout: Layout,
    stream: Stream,
}

impl<R: OnlineRule> OnlineProblem<R> {
    /// Binds the rule to the stream; errors when the stream's batch size, feature or target
    /// width do not fit the rule.
    pub fn new(rule: R, stream: Stream) -> Result<OnlineProblem<R>> {
        let b = stream.batch();
        if b.len() != 1 {
            return Err(Error::invalid(
                "stream batch_size",
                b.len(),
                "1 (online learning sees one sample per step)",
            ));
        }
        if b.n_features != rule.n_inputs() {
            return Err(Error::shape(
                "stream features",
                rule.n_inputs(),
                b.n_features,
            ));
        }
        let tdim = match &b.targets {
            Targets::Real { dim, .. } => *dim,
            Targets::Classes { .. } => usize::MAX,
        };
        if rule.n_targets() > 0 && tdim != rule.n_targets() {
            return Err(Error::invalid(
                "stream targets",
                format!("{tdim} real values per sample"),
                format!("{} (the rule's target dimension)", rule.n_targets()),
            ));
        }
        Ok(OnlineProblem {
            layout: rule.layout(),
            rule,
            stream,
        })
    }

    /// The rule.
    pub fn rule_mut(&mut self) -> &mut R {
        &mut self.rule
    }

    /// The current sample (x, y).
    pub fn sample(&self) -> (&[f64], &[f64]) {
        let b = self.stream.batch();
        let y: &[f64] = match &b.targets {
            Targets::Real { values, .. } => values,
            Targets::Classes { .. } => &[],
        };
        (b.row(0), y)
    }
}

impl<R: OnlineRule> UpdateField for OnlineProblem<R> {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn field(&mut self, params: &[f64], d: &mut [f64]) {
        let b = self.stream.batch();
        let y: &[f64] = match &b.targets {
            Targets::Real { values, .. } => &values[..self.rule.n_targets()],
            Targets::Classes { .. } => &[],
        };
        self.rule.increment(params, b.row(0), y, d);
        d.iter_mut().for_each(|v| *v = -*v);
    }
}

impl<R: OnlineRule> Stochastic for OnlineProblem<R> {
    fn resample(&mut self) {
        self.stream.resample();
    }
}

impl<R: OnlineRule> Problem for OnlineProblem<R> {
    fn name(&self) -> String {
        format!(
            "{} on a stream of {}",
            self.rule.name(),
            self.stream.generator().name()
        )
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(update_field, stochastic);
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::RngStreams;
    use descent_core::rng::std_normal;
    use descent_data::generators::{Basis, SpectralGaussian, SpectralTarget};
    use std::sync::Arc;

    fn rules() -> Vec<(Box<dyn OnlineRule>, f64)> {
        // (rule, λ∥ of its fixed point)
        vec![
            (Box::new(Oja::new(5, 2).unwrap()), 1.0),
            (Box::new(Oja::new(6, 3).unwrap()), 2.0),
            (Box::new(SimilarityMatching::new(5, 2, 1.0).unwrap()), 1.0),
            (Box::new(SimilarityMatching::new(6, 3, 0.5).unwrap()), 1.5),
            (Box::new(LinearAutoencoder::new(5, 2, 0.05).unwrap()), 1.0),
            (Box::new(TwoLayerLinear::new(5, 2, 0.25).unwrap()), 1.0),
            (Box::new(TwoLayerLinear::new(6, 3, 0.1).unwrap()), 2.0),
        ]
    }

    fn random(len: usize, seed: u64) -> Vec<f64> {
        let mut r = RngStreams::new(seed).sim("t", 0);
        (0..len).map(|_| std_normal(&mut r)).collect()
    }

    /// y = P x = the first k coordinates (U = I).
    fn target(rule: &dyn OnlineRule, x: &[f64]) -> Vec<f64> {
        x[..rule.n_targets()].to_vec()
    }

    #[test]
    fn fused_step_equals_params_plus_eta_increment() {
        for (mut rule, lam) in rules() {
            let d = rule.layout().len();
            let mut p = rule.fixed_point(lam).unwrap();
            p.iter_mut()
                .zip(random(d, 1))
                .for_each(|(a, b)| *a += 0.1 * b);
            let x = random(rule.n_inputs(), 2);
            let y = target(rule.as_ref(), &x);
            let mut inc = vec![0.0; d];
            rule.increment(&p, &x, &y, &mut inc);
            let mut q = p.clone();
            rule.step(&mut q, &x, &y, 0.03);
            for i in 0..d {
                assert!(
                    (q[i] - p[i] - 0.03 * inc[i]).abs() < 1e-14,
                    "{}",
                    rule.name()
                );
            }
        }
    }

    /// E[Δ] at the analytic fixed point is exactly zero: Δ(x) is a quadratic form in x plus a
    /// constant, so with covariance diag(λ) its mean is Σᵢ λᵢ (Δ(eᵢ) − Δ(0)) + Δ(0).
    #[test]
    fn the_analytic_fixed_point_is_stationary_in_expectation() {
        for (mut rule, lam) in rules() {
            let (n, d) = (rule.n_inputs(), rule.layout().len());
            let p = rule.fixed_point(lam).unwrap();
            let var: Vec<f64> = (0..n)
                .map(|i| if i < rule.code_dim() { lam } else { 0.3 })
                .collect();
            let zero = vec![0.0; n];
            let mut c = vec![0.0; d];
            rule.increment(&p, &zero, &target(rule.as_ref(), &zero), &mut c);
            let mut mean = c.clone();
            let mut inc = vec![0.0; d];
            for i in 0..n {
                let mut e = vec![0.0; n];
                e[i] = 1.0;
                rule.increment(&p, &e, &target(rule.as_ref(), &e), &mut inc);
                for k in 0..d {
                    mean[k] += var[i] * (inc[k] - c[k]);
                }
            }
            let worst = mean.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            assert!(worst < 1e-14, "{}: {worst}", rule.name());
            // and it is not trivially zero away from the fixed point
            let mut q = p.clone();
            q[0] += 0.1;
            rule.increment(&q, &zero, &target(rule.as_ref(), &zero), &mut c);
            let mut shifted = c.clone();
            for i in 0..n {
                let mut e = vec![0.0; n];
                e[i] = 1.0;
                rule.increment(&q, &e, &target(rule.as_ref(), &e), &mut inc);
                for k in 0..d {
                    shifted[k] += var[i] * (inc[k] - c[k]);
                }
            }
            assert!(shifted.iter().any(|v| v.abs() > 1e-3), "{}", rule.name());
        }
    }

    #[test]
    fn oja_update_at_the_fixed_point_is_x_par_x_perp() {
        // P1 §5 sanity: relevant-only input leaves W unchanged; a mixed input gives x∥ x⊥ᵀ
        let mut oja = Oja::new(4, 2).unwrap();
        let w = oja.fixed_point(1.0).unwrap();
        let mut inc = vec![0.0; 8];
        oja.increment(&w, &[0.7, -1.2, 0.0, 0.0], &[], &mut inc);
        assert!(inc.iter().all(|v| v.abs() < 1e-16));
        let x = [0.7, -1.2, 0.3, 2.0];
        oja.increment(&w, &x, &[], &mut inc);
        let expect = [
            0.0,
            0.0,
            0.7 * 0.3,
            0.7 * 2.0,
            0.0,
            0.0,
            -1.2 * 0.3,
            -1.2 * 2.0,
        ];
        for (a, b) in inc.iter().zip(expect) {
            assert!((a - b).abs() < 1e-15);
        }
    }

    #[test]
    fn sgd_increments_are_minus_the_loss_gradient() {
        let h = 1e-6;
        let x = random(5, 3);
        let y = x[..2].to_vec();
        let mut ae = LinearAutoencoder::new(5, 2, 0.05).unwrap();
        let mut tl = TwoLayerLinear::new(5, 2, 0.25).unwrap();
        let p_ae = random(20, 4);
        let p_tl = random(14, 5);
        let mut inc = vec![0.0; 20];
        ae.increment(&p_ae, &x, &[], &mut inc);
        for i in 0..20 {
            let (mut a, mut b) = (p_ae.clone(), p_ae.clone());
            a[i] += h;
            b[i] -= h;
            let fd = (ae.loss(&a, &x) - ae.loss(&b, &x)) / (2.0 * h);
            assert!((fd + inc[i]).abs() < 1e-7 * (1.0 + fd.abs()), "ae {i}");
        }
        let mut inc = vec![0.0; 14];
        tl.increment(&p_tl, &x, &y, &mut inc);
        for i in 0..14 {
            let (mut a, mut b) = (p_tl.clone(), p_tl.clone());
            a[i] += h;
            b[i] -= h;
            let fd = (tl.loss(&a, &x, &y) - tl.loss(&b, &x, &y)) / (2.0 * h);
            assert!((fd + inc[i]).abs() < 1e-7 * (1.0 + fd.abs()), "tl {i}");
        }
    }

    #[test]
    fn similarity_matching_encoder_is_m_inverse_w() {
        let mut sm = SimilarityMatching::new(3, 2, 1.0).unwrap();
        // W = [[1,2,3],[4,5,6]], M = [[2,1],[1,3]] → F = M⁻¹W
        let p = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 2.0, 1.0, 1.0, 3.0];
        let mut f = [0.0; 6];
        sm.encoder(&p, &mut f);
        let expect = [-0.2, 0.2, 0.6, 1.4, 1.6, 1.8];
        for (a, b) in f.iter().zip(expect) {
            assert!((a - b).abs() < 1e-14, "{f:?}");
        }
        // general-m path equals the 2×2 closed form
        let mut sm3 = SimilarityMatching::new(4, 3, 1.0).unwrap();
        let mut p3 = sm3.fixed_point(1.0).unwrap();
        p3.iter_mut()
            .zip(random(21, 9))
            .for_each(|(a, b)| *a += 0.2 * b);
        let x = random(4, 10);
        let mut f3 = vec![0.0; 12];
        sm3.encoder(&p3, &mut f3);
        sm3.output(&p3, &x);
        for i in 0..3 {
            let fx: f64 = (0..4).map(|j| f3[i * 4 + j] * x[j]).sum();
            assert!((fx - sm3.y[i]).abs() < 1e-12);
        }
    }

    #[test]
    fn online_problem_field_is_minus_the_increment_on_the_stream_sample() {
        let mut r = RngStreams::new(1).stream("structure");
        let g = SpectralGaussian::flat(
            5,
            2,
            1.0,
            0.5,
            Basis::Identity,
            SpectralTarget::Projection,
            &mut r,
        )
        .unwrap();
        let stream = Stream::new(Arc::new(g), 1, RngStreams::new(1).stream("batches")).unwrap();
        let rule = TwoLayerLinear::new(5, 2, 0.25).unwrap();
        let p = rule.fixed_point(1.0).unwrap();
        let mut prob = OnlineProblem::new(rule, stream).unwrap();
        assert_eq!(prob.caps().to_string(), "Stochastic, UpdateField");
        let mut d = vec![0.0; 14];
        prob.field(&p, &mut d);
        let (x, y) = prob.sample();
        let (x, y) = (x.to_vec(), y.to_vec());
        assert_eq!(&y[..], &x[..2]);
        let mut inc = vec![0.0; 14];
        prob.rule_mut().increment(&p, &x, &y, &mut inc);
        assert!(d.iter().zip(&inc).all(|(a, b)| *a == -*b));
        // a new stream already shows the batch its first resample draws (descent-data Stream)
        Stochastic::resample(&mut prob);
        assert_eq!(prob.sample().0, &x[..]);
        Stochastic::resample(&mut prob);
        assert_ne!(prob.sample().0, &x[..]);
        // a stream whose batch is not 1 or whose width differs is an error naming it
        let g2 = SpectralGaussian::flat(
            4,
            2,
            1.0,
            0.5,
            Basis::Identity,
            SpectralTarget::None,
            &mut r,
        )
        .unwrap();
        let s2 = Stream::new(Arc::new(g2), 1, RngStreams::new(1).stream("batches")).unwrap();
        let e = OnlineProblem::new(Oja::new(5, 2).unwrap(), s2)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("stream features"), "{e}");
    }

    #[test]
    fn bad_hyperparameters_name_the_field() {
        let e = Oja::new(2, 3).unwrap_err().to_string();
        assert!(e.contains("oja.n") && e.contains(">= m = 3"), "{e}");
        let e = SimilarityMatching::new(5, 2, 0.0).unwrap_err().to_string();
        assert!(e.contains("similarity_matching.tau"), "{e}");
        let e = LinearAutoencoder::new(5, 2, 1.5)
            .unwrap()
            .fixed_point(1.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("autoencoder.wd"), "{e}");
        let e = TwoLayerLinear::new(5, 2, f64::NAN).unwrap_err().to_string();
        assert!(e.contains("two_layer.gamma"), "{e}");
    }
}
