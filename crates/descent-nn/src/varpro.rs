//! Variable projection for MLPs whose last layer is linear (P5's reduction by an exact argmin;
//! Golub & Pereyra's VarPro): for regression with the ½-MSE loss and a ridge penalty on the
//! head's weights,
//!
//! ```text
//! f(θ, W) = (1/N) Σᵢ ½‖W φ̃(xᵢ; θ) − yᵢ‖² + (λ/2)‖W_weight‖²,   φ̃ = (φ, 1) (bias unpenalised)
//! W*(θ) = argmin_W f(θ, W):  (Φ̃ᵀΦ̃/N + λD) W̃ = Φ̃ᵀY/N   (D = diag(1, …, 1, 0))
//! F(θ) = f(θ, W*(θ)),   ∇F = ∇_θ f(θ, W*)                 (envelope theorem)
//! ∇²F·v = H_θθ v + H_θW z,   z = −H_WW⁻¹ H_Wθ v            (the Schur complement)
//! ```
//!
//! where φ are the last hidden layer's activations. [`RidgeHead`] is the full problem f (what
//! plain GD or Adam train), [`VarPro`] the reduced problem F in the hidden-layer parameters θ
//! only: an ordinary Function/Gradient/HessianVector problem, so every optimizer and probe
//! runs on it. H_WW = (Φ̃ᵀΦ̃/N + λD) ⊗ I is the matrix the inner solve factors, so an HVP of F
//! costs two HVPs of f and one solve. Full batch: the inner least-squares problem is solved on
//! all the data.

use std::sync::Arc;

use descent_core::linalg::{Cholesky, Trans, gemm};
use descent_core::{Error, Function, Gradient, HessianVector, Layout, Problem, Result};
use descent_data::{Dataset, Targets};

use crate::engine::Workspace;
use crate::loss::Loss;
use crate::mlp::{LayerParams, Mlp};
use crate::objective::check_compatible;

/// Rows processed at once by the derivative engine.
const CHUNK: usize = 512;

/// The full problem f(θ, W) = ½-MSE + (λ/2)‖W_head‖² of an MLP on a regression dataset, full
/// batch (Function, Gradient, HessianVector).
#[derive(Debug, Clone)]
pub struct RidgeHead {
    model: Mlp,
    data: Arc<Dataset>,
    ridge: f64,
    layout: Layout,
    head: LayerParams,
    indices: Vec<usize>,
    ws: Workspace,
}

impl RidgeHead {
    /// Binds an MLP with at least one hidden layer to a regression dataset with ridge λ ≥ 0
    /// on the head's weights. Errors name the model, the data or the ridge.
    pub fn new(model: Mlp, data: Arc<Dataset>, ridge: f64) -> Result<Self> {
        if model.n_layers() < 2 {
            return Err(Error::invalid(
                "varpro model",
                model.describe(),
                "an MLP with at least one hidden layer (the last layer is the linear head)",
            ));
        }
        if !matches!(data.targets, Targets::Real { .. }) {
            return Err(Error::invalid(
                format!("varpro dataset '{}'", data.name),
                "class labels",
                "real targets (variable projection solves a least-squares head)",
            ));
        }
        if !(ridge >= 0.0 && ridge.is_finite()) {
            return Err(Error::invalid(
                "varpro.ridge",
                ridge,
                "a finite number >= 0",
            ));
        }
        check_compatible(&model, Loss::Mse, &data)?;
        let head = *model.layer_params().last().expect("at least two layers");
        Ok(RidgeHead {
            layout: model.layout(),
            ws: Workspace::new(&model, data.len().min(CHUNK)),
            indices: (0..data.len()).collect(),
            model,
            data,
            ridge,
            head,
        })
    }

    /// The model.
    pub fn model(&self) -> &Mlp {
        &self.model
    }

    /// The data.
    pub fn data(&self) -> &Arc<Dataset> {
        &self.data
    }

    /// λ.
    pub fn ridge(&self) -> f64 {
        self.ridge
    }

    /// The head's weight range in the flat parameters.
    fn head_weight(&self) -> std::ops::Range<usize> {
        self.head.weight..self.head.weight + self.head.fan_in * self.head.fan_out
    }

    /// (λ/2)‖W_head‖².
    fn penalty(&self, p: &[f64]) -> f64 {
        0.5 * self.ridge * p[self.head_weight()].iter().map(|w| w * w).sum::<f64>()
    }
}

impl Function for RidgeHead {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, p: &[f64]) -> f64 {
        self.model
            .loss(p, &self.data, &self.indices, Loss::Mse, &mut self.ws)
            + self.penalty(p)
    }
}

impl Gradient for RidgeHead {
    fn value_grad(&mut self, p: &[f64], g: &mut [f64]) -> f64 {
        let f = self
            .model
            .loss_grad(p, &self.data, &self.indices, Loss::Mse, &mut self.ws, g);
        let r = self.head_weight();
        for (gi, wi) in g[r.clone()].iter_mut().zip(&p[r]) {
            *gi += self.ridge * wi;
        }
        f + self.penalty(p)
    }
}

impl HessianVector for RidgeHead {
    fn hvp(&mut self, p: &[f64], v: &[f64], out: &mut [f64]) {
        self.model.hvp(
            p,
            &self.data,
            &self.indices,
            Loss::Mse,
            v,
            &mut self.ws,
            out,
        );
        let r = self.head_weight();
        for (o, vi) in out[r.clone()].iter_mut().zip(&v[r]) {
            *o += self.ridge * vi;
        }
    }
}

impl Problem for RidgeHead {
    fn name(&self) -> String {
        format!(
            "{} + mse + ridge(λ={}) on the head, on {}",
            self.model.describe(),
            self.ridge,
            self.data.name
        )
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, gradient, hvp);
}

/// The reduced problem F(θ) = min_W f(θ, W) of a [`RidgeHead`] (see the module docs): its
/// parameters are the hidden layers' blocks; the head is solved inside every evaluation (and
/// cached for repeated evaluations at the same θ).
pub struct VarPro {
    full: RidgeHead,
    trunk: Mlp,
    trunk_ws: Workspace,
    layout: Layout,
    /// Hidden width h, h + 1 with a bias, output width, samples.
    h: usize,
    hb: usize,
    out: usize,
    n: usize,
    z: Vec<f64>,
    feats: Vec<f64>,
    gram: Vec<f64>,
    coef: Vec<f64>,
    chol: Option<Cholesky>,
    /// The θ of the cached solve (NaN: none).
    at: Vec<f64>,
    x_full: Vec<f64>,
    g_full: Vec<f64>,
    v_full: Vec<f64>,
    hv_full: Vec<f64>,
    hv2: Vec<f64>,
    packed: Vec<f64>,
}

impl VarPro {
    /// The reduction of `RidgeHead::new(model, data, ridge)`; λ must be > 0 here (it keeps the
    /// inner solve well posed when features are collinear, e.g. dead ReLUs).
    pub fn new(model: Mlp, data: Arc<Dataset>, ridge: f64) -> Result<Self> {
        if !(ridge > 0.0 && ridge.is_finite()) {
            return Err(Error::invalid("varpro.ridge", ridge, "a finite number > 0"));
        }
        let full = RidgeHead::new(model, data, ridge)?;
        let sizes = &full.model.sizes;
        let trunk = Mlp::new(
            sizes[..sizes.len() - 1].to_vec(),
            full.model.activation,
            full.model.bias,
        )?;
        let (h, out, n) = (full.head.fan_in, full.head.fan_out, full.data.len());
        let hb = h + usize::from(full.model.bias);
        let np = full.layout.len();
        let nt = trunk.n_params();
        Ok(VarPro {
            trunk_ws: Workspace::new(&trunk, n.min(CHUNK)),
            layout: trunk.layout(),
            trunk,
            h,
            hb,
            out,
            n,
            z: vec![0.0; n * h],
            feats: vec![0.0; n * hb],
            gram: vec![0.0; hb * hb],
            coef: vec![0.0; hb * out],
            chol: None,
            at: vec![f64::NAN; nt],
            x_full: vec![0.0; np],
            g_full: vec![0.0; np],
            v_full: vec![0.0; np],
            hv_full: vec![0.0; np],
            hv2: vec![0.0; np],
            packed: vec![0.0; hb * out],
            full,
        })
    }

    /// The full problem f.
    pub fn full_problem(&mut self) -> &mut RidgeHead {
        &mut self.full
    }

    /// The full parameters (θ, W*(θ)).
    pub fn full_params(&mut self, theta: &[f64]) -> Vec<f64> {
        self.solve(theta);
        self.x_full.clone()
    }

    /// Solves the head at θ (cached): x_full ← (θ, W*(θ)); a singular system gives NaN.
    fn solve(&mut self, theta: &[f64]) {
        if self.at.as_slice() == theta {
            return;
        }
        let (h, hb, out, n) = (self.h, self.hb, self.out, self.n);
        let data = &self.full.data;
        self.trunk
            .predict(theta, &data.features, &mut self.trunk_ws, &mut self.z);
        for i in 0..n {
            let row = &mut self.feats[i * hb..(i + 1) * hb];
            self.full
                .model
                .activation
                .apply(&self.z[i * h..(i + 1) * h], &mut row[..h]);
            if hb > h {
                row[h] = 1.0;
            }
        }
        let inv_n = 1.0 / n as f64;
        let (f, g) = (&self.feats, &mut self.gram);
        gemm(g, hb, hb, n, inv_n, f, Trans::T, f, Trans::N, 0.0);
        for i in 0..h {
            g[i * hb + i] += self.full.ridge;
        }
        let Targets::Real { values, .. } = &data.targets else {
            unreachable!("RidgeHead::new checked real targets")
        };
        gemm(
            &mut self.coef,
            hb,
            out,
            n,
            inv_n,
            f,
            Trans::T,
            values,
            Trans::N,
            0.0,
        );
        self.chol = Cholesky::factor(&self.gram, hb, 1e-10).ok();
        match &self.chol {
            Some(c) => c.solve_in_place(&mut self.coef, out),
            None => self.coef.fill(f64::NAN),
        }
        let nt = theta.len();
        self.x_full[..nt].copy_from_slice(theta);
        let hp = self.full.head;
        unpack(&self.coef, h, hb, out, hp, &mut self.x_full);
        self.at.copy_from_slice(theta);
    }
}

/// Writes the (hb × out) coefficient matrix W̃ into the head's blocks of `p`: weight[j, i] =
/// W̃[i, j], bias[j] = W̃[h, j].
fn unpack(coef: &[f64], h: usize, hb: usize, out: usize, hp: LayerParams, p: &mut [f64]) {
    for j in 0..out {
        for i in 0..h {
            p[hp.weight + j * h + i] = coef[i * out + j];
        }
        if let Some(b) = hp.bias {
            p[b + j] = coef[(hb - 1) * out + j];
        }
    }
}

/// The inverse of [`unpack`]: the head's blocks of `p` as an (hb × out) matrix.
fn pack(p: &[f64], h: usize, hb: usize, out: usize, hp: LayerParams, coef: &mut [f64]) {
    for j in 0..out {
        for i in 0..h {
            coef[i * out + j] = p[hp.weight + j * h + i];
        }
        if let Some(b) = hp.bias {
            coef[(hb - 1) * out + j] = p[b + j];
        }
    }
}

impl Function for VarPro {
    fn dim(&self) -> usize {
        self.layout.len()
    }
    fn value(&mut self, theta: &[f64]) -> f64 {
        self.solve(theta);
        self.full.value(&self.x_full)
    }
}

impl Gradient for VarPro {
    /// The envelope gradient ∇_θ f(θ, W*(θ)).
    fn value_grad(&mut self, theta: &[f64], g: &mut [f64]) -> f64 {
        self.solve(theta);
        let f = self.full.value_grad(&self.x_full, &mut self.g_full);
        g.copy_from_slice(&self.g_full[..theta.len()]);
        f
    }
}

impl HessianVector for VarPro {
    /// H_θθ v + H_θW z with z = −H_WW⁻¹ H_Wθ v (two HVPs of f, one solve).
    fn hvp(&mut self, theta: &[f64], v: &[f64], out: &mut [f64]) {
        self.solve(theta);
        let nt = theta.len();
        let (h, hb, no, hp) = (self.h, self.hb, self.out, self.full.head);
        self.v_full.fill(0.0);
        self.v_full[..nt].copy_from_slice(v);
        self.full.hvp(&self.x_full, &self.v_full, &mut self.hv_full);
        pack(&self.hv_full, h, hb, no, hp, &mut self.packed);
        match &self.chol {
            Some(c) => c.solve_in_place(&mut self.packed, no),
            None => self.packed.fill(f64::NAN),
        }
        self.packed.iter_mut().for_each(|z| *z = -*z);
        self.v_full.fill(0.0);
        unpack(&self.packed, h, hb, no, hp, &mut self.v_full);
        self.full.hvp(&self.x_full, &self.v_full, &mut self.hv2);
        for ((o, a), b) in out.iter_mut().zip(&self.hv_full).zip(&self.hv2) {
            *o = a + b;
        }
    }
}

impl Problem for VarPro {
    fn name(&self) -> String {
        format!("varpro of {}", self.full.name())
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, gradient, hvp);
}
