//! Muon (Jordan et al. 2024, reference `KellerJordan/Muon`, `muon.py`): momentum whose update
//! is orthogonalised by a quintic Newton–Schulz iteration on every matrix block of the
//! [`Layout`], with AdamW on the other blocks through [`Partition`], as Muon is used in practice;
//! optionally with P7's quantized momentum Q_M (and Q_V in the auxiliary AdamW).
//!
//! Which arithmetic matches which reference: with the default `ns_format=fp64` the Newton–Schulz
//! iteration runs in f64, as close to the exact iteration (and so to the polar factor's
//! approximation NS5 aims at) as f64 allows; `ns_format=bf16` rounds every product's output to
//! bfloat16 (round to nearest), as torch.optim.Muon and the reference `muon.py` run it
//! (`X = G.bfloat16()`, bf16 matmuls). On a 6×4 matrix problem torch.optim.Muon 2.x and the f64
//! iteration give losses 0.2–1.4 % apart by step 100 at lr 0.02 and up to 60 % apart at lr 0.1.

use descent_core::linalg::{Trans, gemm};
use descent_core::{Error, FloatFormat, Layout, Quantizer, Result, RngStreams};
use serde::{Deserialize, Serialize};

use crate::config::{Check, Config, FRACTION, LEARNING_RATE, NON_NEGATIVE};
use crate::first_order::{Adam, AdamConfig};
use crate::quantized::quantizer_seed;
use crate::registry::FromConfig;
use crate::transform::{Partition, Transform};

/// The quintic Newton–Schulz coefficients (a, b, c) of the reference ("NS5").
pub const NS_COEFFS: (f64, f64, f64) = (3.4445, -4.7750, 2.0315);

const NS_STEPS: Check = Check::new(|x| (1.0..=100.0).contains(&x), "an integer in [1, 100]");

crate::config! {
    /// Hyperparameters of [`Muon`]; defaults are the reference's (`lr = 0.02`, `β = 0.95`,
    /// Nesterov, 5 Newton–Schulz steps) and its auxiliary AdamW's (`lr = 3e-4`, `β = (0.9, 0.95)`,
    /// `ε = 1e-10`).
    #[derive(Copy)]
    pub struct MuonConfig("muon") {
        /// Learning rate of the orthogonalised updates of matrix blocks.
        lr: f64 = 0.02 => LEARNING_RATE;
        /// Momentum factor β.
        beta: f64 = 0.95 => FRACTION;
        /// Nesterov momentum.
        nesterov: bool = true;
        /// Newton–Schulz iterations.
        ns_steps: usize = 5 => NS_STEPS;
        /// Float format of every Newton–Schulz product, rounded to nearest: fp64 (exact
        /// arithmetic) or bf16 (as torch.optim.Muon and the reference run it).
        ns_format: FloatFormat = FloatFormat::FP64;
        /// Decoupled weight decay `x ← x − lr·λ·x` on every block.
        weight_decay: f64 = 0.0 => NON_NEGATIVE;
        /// The auxiliary AdamW's learning rate (non-matrix blocks); it keeps its ratio to `lr`
        /// when a schedule changes `lr`.
        adam_lr: f64 = 3e-4 => NON_NEGATIVE;
        /// The auxiliary AdamW's β₁.
        adam_beta1: f64 = 0.9 => FRACTION;
        /// The auxiliary AdamW's β₂.
        adam_beta2: f64 = 0.95 => FRACTION;
        /// The auxiliary AdamW's ε.
        adam_eps: f64 = 1e-10 => NON_NEGATIVE;
        /// Store the momentum (and AdamW's first moment) in this float format (P7's Q_M).
        m: Option<Quantizer> = None;
        /// Store AdamW's second moment in this float format (P7's Q_V).
        v: Option<Quantizer> = None;
    }
    on_set(c, name, old) {
        // keep AdamW's ratio to lr (a schedule scales both); the ratio is undefined at lr = 0,
        // so a schedule that reaches 0 restores it from the stored pair
        if name == "lr" && old > 0.0 {
            let ratio = c.adam_lr / old;
            c.adam_lr = ratio * c.lr;
        }
    }
}

impl MuonConfig {
    /// The auxiliary AdamW's config.
    fn adamw(&self) -> AdamConfig {
        AdamConfig {
            lr: self.adam_lr,
            beta1: self.adam_beta1,
            beta2: self.adam_beta2,
            eps: self.adam_eps,
            weight_decay: self.weight_decay,
            m: self.m,
            v: self.v,
            decoupled: true,
        }
    }
}

/// Newton–Schulz orthogonalisation of a row-major `p × q` matrix with `p ≤ q`, in place:
/// `X ← X/(‖X‖_F + 1e-7)`, then `steps` times `A = XXᵀ, B = bA + cA², X ← aX + BX`. The result
/// is approximately `UVᵀ` of the input's SVD (singular values land in about [0.7, 1.2]).
/// Scratch: `a` and `b` of length p², `t` of length p·q. In f64; see [`newton_schulz_in`] for
/// the low-precision arithmetic of torch.optim.Muon.
pub fn newton_schulz(
    x: &mut [f64],
    p: usize,
    q: usize,
    steps: usize,
    a: &mut [f64],
    b: &mut [f64],
    t: &mut [f64],
) {
    newton_schulz_in(x, p, q, steps, a, b, t, &FloatFormat::FP64);
}

/// [`newton_schulz`] with every result stored in `format`, rounded to nearest: the input (as
/// `G.bfloat16()` in the reference), the normalised input, and the output of each product
/// `A = XXᵀ`, `B = bA + cA²` and `X ← aX + BX` (each computed exactly in f64 from stored
/// operands, then rounded once). `fp64` rounds nothing: the f64 iteration, bit for bit.
/// `bf16` is the arithmetic of torch.optim.Muon and `KellerJordan/Muon`, up to their rounding
/// of intermediate sums inside each product.
#[allow(clippy::too_many_arguments)]
pub fn newton_schulz_in(
    x: &mut [f64],
    p: usize,
    q: usize,
    steps: usize,
    a: &mut [f64],
    b: &mut [f64],
    t: &mut [f64],
    format: &FloatFormat,
) {
    let rounded = *format != FloatFormat::FP64;
    let store = |v: &mut [f64]| {
        if rounded {
            v.iter_mut().for_each(|e| *e = format.round_nearest(*e));
        }
    };
    let (ca, cb, cc) = NS_COEFFS;
    store(x);
    let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let s = 1.0 / (norm + 1e-7);
    x.iter_mut().for_each(|v| *v *= s);
    store(x);
    let big = p * q >= 256;
    for _ in 0..steps {
        // A = X Xᵀ
        if big {
            gemm(a, p, p, q, 1.0, x, Trans::N, x, Trans::T, 0.0);
        } else {
            for i in 0..p {
                for j in 0..p {
                    a[i * p + j] = (0..q).map(|k| x[i * q + k] * x[j * q + k]).sum();
                }
            }
        }
        store(a);
        // B = bA + cA²
        if big {
            b.copy_from_slice(a);
            gemm(b, p, p, p, cc, a, Trans::N, a, Trans::N, cb);
        } else {
            for i in 0..p {
                for j in 0..p {
                    let aa: f64 = (0..p).map(|k| a[i * p + k] * a[k * p + j]).sum();
                    b[i * p + j] = cb * a[i * p + j] + cc * aa;
                }
            }
        }
        store(b);
        // X ← aX + BX
        if big {
            t.copy_from_slice(x);
            gemm(t, p, q, p, 1.0, b, Trans::N, x, Trans::N, ca);
        } else {
            for i in 0..p {
                for j in 0..q {
                    let bx: f64 = (0..p).map(|k| b[i * p + k] * x[k * q + j]).sum();
                    t[i * q + j] = ca * x[i * q + j] + bx;
                }
            }
        }
        store(t);
        x.copy_from_slice(t);
    }
}

/// The state of [`MuonOrthogonal`]: the momentum of every matrix block and the number of
/// updates (the stochastic-rounding step of Q_M).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MuonState {
    /// The momentum buffer of every matrix block.
    pub momentum: Vec<f64>,
    /// Updates since build.
    pub count: u64,
}

/// The matrix part of Muon: on each matrix block (rows r × cols c)
///
/// ```text
/// M ← Q_M(β·M + (1 − β)·G)                       (momentum, stored quantized under P7)
/// U = (1 − β)·G + β·M  if Nesterov, else M
/// O = NS5(U)  (on Uᵀ when r > c, then transposed back; in `ns_format`)
/// u = −lr·√max(1, r/c)·O − lr·λ·W
/// ```
///
/// Every block of its layout must be a matrix (use [`Muon`] for mixed layouts).
#[derive(Debug, Clone)]
pub struct MuonOrthogonal {
    cfg: MuonConfig,
    st: MuonState,
    blocks: Vec<(usize, usize, usize)>,
    x: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    t: Vec<f64>,
}

impl MuonOrthogonal {
    /// A validated transform; `cfg.m` quantizes the stored momentum.
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(cfg: MuonConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(MuonOrthogonal {
            cfg,
            st: MuonState::default(),
            blocks: Vec::new(),
            x: Vec::new(),
            a: Vec::new(),
            b: Vec::new(),
            t: Vec::new(),
        })
    }
}

impl Transform for MuonOrthogonal {
    crate::plumbing! { kind: "muon_orthogonal", config: cfg, state: st, }

    fn name(&self) -> String {
        format!(
            "muon_orthogonal(lr={}, beta={}, nesterov={}, ns_steps={})",
            self.cfg.lr, self.cfg.beta, self.cfg.nesterov, self.cfg.ns_steps
        )
    }

    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.blocks.clear();
        let (mut maxn, mut maxp) = (0, 0);
        for b in layout.blocks() {
            let (r, c) = b.matrix_shape().ok_or_else(|| {
                Error::invalid(
                    format!("muon block '{}'", b.name),
                    format!("shape {:?}", b.shape),
                    "a matrix (two dimensions); route other blocks to AdamW with `muon`",
                )
            })?;
            self.blocks.push((b.offset, r, c));
            maxn = maxn.max(r * c);
            maxp = maxp.max(r.min(c));
        }
        self.st = MuonState {
            momentum: vec![0.0; layout.len()],
            count: 0,
        };
        self.x = vec![0.0; maxn];
        self.t = vec![0.0; maxn];
        self.a = vec![0.0; maxp * maxp];
        self.b = vec![0.0; maxp * maxp];
        if let Some(q) = &mut self.cfg.m {
            *q = q.with_seed(quantizer_seed(streams, "quantize.m", layout));
        }
        Ok(())
    }

    fn update(&mut self, _step: u64, grad: &mut [f64], params: &[f64]) {
        let MuonConfig {
            lr,
            beta,
            nesterov,
            ns_steps,
            ns_format,
            weight_decay,
            m: qm,
            ..
        } = self.cfg;
        crate::transform::assert_update_len("muon", self.st.momentum.len(), grad, params);
        self.st.count += 1;
        let buf = &mut self.st.momentum;
        for &(off, r, c) in &self.blocks {
            let n = r * c;
            let (p, q, transpose) = if r > c { (c, r, true) } else { (r, c, false) };
            for i in 0..n {
                let g = grad[off + i];
                let mut m = beta * buf[off + i] + (1.0 - beta) * g;
                if let Some(qz) = &qm {
                    m = qz.quantize(m, self.st.count, (off + i) as u64);
                }
                buf[off + i] = m;
                let u = if nesterov {
                    (1.0 - beta) * g + beta * m
                } else {
                    m
                };
                let (row, col) = (i / c, i % c);
                let dst = if transpose { col * r + row } else { i };
                self.x[dst] = u;
            }
            newton_schulz_in(
                &mut self.x[..n],
                p,
                q,
                ns_steps,
                &mut self.a[..p * p],
                &mut self.b[..p * p],
                &mut self.t[..n],
                &ns_format,
            );
            let scale = lr * (r as f64 / c as f64).max(1.0).sqrt();
            for i in 0..n {
                let (row, col) = (i / c, i % c);
                let src = if transpose { col * r + row } else { i };
                grad[off + i] = -scale * self.x[src] - lr * weight_decay * params[off + i];
            }
        }
    }
}

/// Muon as used in practice: [`MuonOrthogonal`] on every matrix block of the layout and AdamW
/// on the others (biases, gains, flat vectors), routed by a [`Partition`]. The hyperparameter
/// `lr` drives both, keeping AdamW's `adam_lr / lr` ratio, so schedules work unchanged. With P7's
/// quantizers, `m` quantizes Muon's momentum and AdamW's first moment, `v` AdamW's second.
///
/// ```
/// use std::ops::ControlFlow::Continue;
/// use descent_core::{Function, Problem, RngStreams, testfns::MatrixParabola};
/// use descent_optim::{Muon, MuonConfig, Optimizer, TransformOptimizer, run};
///
/// let mut problem = MatrixParabola::new(4, 3, 0)?; // one 4 × 3 matrix block
/// let mut w = vec![0.0; 12];
/// let start = problem.value(&w);
/// let muon = Muon::new(MuonConfig { lr: 0.05, ..Default::default() })?;
/// let mut opt = TransformOptimizer::from_transform(Box::new(muon));
/// opt.init(problem.layout(), &RngStreams::new(0))?;
/// let end = run(&mut opt, &mut w, &mut problem, 100, |_| Continue(()))?;
/// assert!(end.final_loss().unwrap() < 0.01 * start);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct Muon {
    cfg: MuonConfig,
    inner: Partition,
}

impl Muon {
    /// A validated Muon (its state quantizers are `cfg.m` and `cfg.v`).
    ///
    /// # Errors
    ///
    /// A hyperparameter out of range (the error names the field, the value and the range).
    pub fn new(cfg: MuonConfig) -> Result<Self> {
        cfg.validate()?;
        let ortho = MuonOrthogonal::new(cfg)?;
        let adam = Adam::new(cfg.adamw())?;
        let inner = Partition::by_predicate(
            |b| b.matrix_shape().is_some(),
            Box::new(ortho),
            Box::new(adam),
        );
        Ok(Muon { cfg, inner })
    }

    /// The current hyperparameters.
    pub fn config(&self) -> &MuonConfig {
        &self.cfg
    }

    /// Hands the current hyperparameters to both parts (they were validated as Muon's).
    fn sync(&mut self) {
        let c = self.cfg;
        let adam = c.adamw();
        let [ortho, aux] = self.inner.members_mut() else {
            unreachable!("Muon partitions into two members")
        };
        let results = [
            ortho.set_hyper("lr", c.lr),
            ortho.set_hyper("beta", c.beta),
            ortho.set_hyper("weight_decay", c.weight_decay),
            aux.set_hyper("lr", adam.lr),
            aux.set_hyper("beta1", adam.beta1),
            aux.set_hyper("beta2", adam.beta2),
            aux.set_hyper("eps", adam.eps),
            aux.set_hyper("weight_decay", adam.weight_decay),
        ];
        debug_assert!(results.iter().all(Result::is_ok), "{results:?}");
    }
}

impl FromConfig for Muon {
    type Config = MuonConfig;
    fn from_config(cfg: MuonConfig, _spec: &descent_core::Spec) -> Result<Self> {
        Muon::new(cfg)
    }
}

impl Transform for Muon {
    crate::plumbing! { config: cfg, child: inner, }

    fn name(&self) -> String {
        self.cfg.spec_text()
    }

    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.inner.build(layout, streams)
    }

    fn update(&mut self, step: u64, grad: &mut [f64], params: &[f64]) {
        self.sync();
        self.inner.update(step, grad, params);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::linalg;

    #[test]
    fn newton_schulz_approximates_the_polar_factor() {
        for (p, q) in [(3usize, 5usize), (8, 8), (16, 24)] {
            let g: Vec<f64> = (0..p * q)
                .map(|i| {
                    (descent_core::float_format::hash_bits(p as u64, q as u64, i as u64) >> 11)
                        as f64
                        / (1u64 << 53) as f64
                        - 0.5
                })
                .collect();
            let mut x = g.clone();
            let (mut a, mut b, mut t) = (vec![0.0; p * p], vec![0.0; p * p], vec![0.0; p * q]);
            newton_schulz(&mut x, p, q, 5, &mut a, &mut b, &mut t);
            // singular values of the result in NS5's band
            let (_, s, _) = linalg::svd(&x, p, q).unwrap();
            for sv in &s {
                assert!((0.6..=1.25).contains(sv), "{p}x{q}: singular value {sv}");
            }
            // and the same singular vectors: X ≈ U diag(s') Vᵀ with U, V of G
            let (u, _, v) = linalg::svd(&g, p, q).unwrap();
            // UᵀXV must be diagonal (U: p × p, V: q × p)
            for i in 0..p {
                for j in 0..p {
                    let mut d = 0.0;
                    for r in 0..p {
                        for c in 0..q {
                            d += u[r * p + i] * x[r * q + c] * v[c * p + j];
                        }
                    }
                    let v = d;
                    if i != j {
                        assert!(v.abs() < 1e-8, "{p}x{q}: off-diagonal {v}");
                    }
                }
            }
        }
    }
}
