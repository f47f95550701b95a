//! Hyper-parameter optimisation as a bilevel problem (P4 App. K, spec R4): per-parameter L2
//! weights λ of any model, learned on the validation loss,
//!
//! ```text
//! lower  g(λ, w) = L_train(w) + Σⱼ exp(λⱼ) w_{rⱼ}²     (strongly convex in w for a linear model)
//! upper  f(λ, w) = L_val(w)
//! ```
//!
//! over the regularised entries r of the parameter blocks a glob selects (`*.weight`: every
//! weight, no bias). The second-order products are exact: ∇²_ww g·v = ∇²L_train·v (the model's
//! Pearlmutter HVP) + 2 diag(e^λ) v on the regularised entries, and ∇²_λw g·v = 2 e^λ ⊙ w_r ⊙ v_r
//! (a d_λ × d_w matrix, nonzero only on the diagonal of the regularised entries).

use descent_core::glob::glob_match;
use descent_core::{
    BilevelProblem, Error, Function, Gradient, HessianVector, Layout, Problem, Result,
};

use crate::objective::Objective;

/// The L2 hyper-parameter problem of a model (P4 R4). z = (λ, w): the block `lambda` (one entry
/// per regularised parameter), then the model's blocks. Stochastic when either objective is
/// (both are resampled together). Offers BilevelProblem and Stochastic.
#[derive(Debug, Clone)]
pub struct L2Hyperparameters {
    train: Objective,
    val: Objective,
    reg: Vec<usize>,
    layout: Layout,
    scratch: Vec<f64>,
    name: String,
}

impl L2Hyperparameters {
    /// λ for every entry of the model's blocks whose names match `regularize` (a glob such as
    /// `*.weight`). `train` and `val` must share the model. Errors name what does not fit.
    pub fn new(train: Objective, val: Objective, regularize: &str) -> Result<Self> {
        if train.model() != val.model() || train.loss() != val.loss() {
            return Err(Error::invalid(
                "validation objective",
                val.model().describe(),
                format!(
                    "the training objective's model and loss ({})",
                    train.model().describe()
                ),
            ));
        }
        let model_layout = train.model().layout();
        let reg: Vec<usize> = model_layout
            .blocks()
            .iter()
            .filter(|b| glob_match(regularize, &b.name))
            .flat_map(|b| b.range())
            .collect();
        if reg.is_empty() {
            return Err(Error::invalid(
                "regularize",
                regularize,
                format!(
                    "a glob matching a block of {} ({})",
                    train.model().describe(),
                    model_layout
                        .blocks()
                        .iter()
                        .map(|b| b.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let mut layout = Layout::new();
        layout.push("lambda", &[reg.len()]);
        for b in model_layout.blocks() {
            layout.push(&b.name, &b.shape);
        }
        let name = format!(
            "L2 hyper-parameters of {} (train {}, validation {})",
            train.model().describe(),
            train.data().name,
            val.data().name
        );
        Ok(L2Hyperparameters {
            scratch: vec![0.0; model_layout.len()],
            train,
            val,
            reg,
            layout,
            name,
        })
    }

    /// The training objective (lower level without the penalty).
    pub fn train(&mut self) -> &mut Objective {
        &mut self.train
    }

    /// The validation objective (upper level).
    pub fn validation(&mut self) -> &mut Objective {
        &mut self.val
    }

    /// The indices of the regularised parameters in w.
    pub fn regularized(&self) -> &[usize] {
        &self.reg
    }
}

impl BilevelProblem for L2Hyperparameters {
    fn dims(&self) -> (usize, usize) {
        (self.reg.len(), self.scratch.len())
    }
    fn upper_value(&mut self, _x: &[f64], y: &[f64]) -> f64 {
        self.val.value(y)
    }
    fn upper_grads(&mut self, _x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) -> f64 {
        gx.fill(0.0);
        self.val.value_grad(y, gy)
    }
    fn lower_grad_y(&mut self, x: &[f64], y: &[f64], gy: &mut [f64]) -> f64 {
        let mut g = self.train.value_grad(y, gy);
        for (lam, &r) in x.iter().zip(&self.reg) {
            let e = lam.exp();
            gy[r] += 2.0 * e * y[r];
            g += e * y[r] * y[r];
        }
        g
    }
    fn lower_hvp_yy(&mut self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) {
        self.train.hvp(y, v, out);
        for (lam, &r) in x.iter().zip(&self.reg) {
            out[r] += 2.0 * lam.exp() * v[r];
        }
    }
    fn lower_jvp_xy(&mut self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) {
        for ((o, lam), &r) in out.iter_mut().zip(x).zip(&self.reg) {
            *o = 2.0 * lam.exp() * y[r] * v[r];
        }
    }
}

impl descent_core::Stochastic for L2Hyperparameters {
    fn resample(&mut self) {
        descent_core::resample_if_stochastic(&mut self.train);
        descent_core::resample_if_stochastic(&mut self.val);
    }
}

impl Problem for L2Hyperparameters {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(bilevel, stochastic);
}
