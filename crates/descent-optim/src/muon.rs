//! Muon (Jordan et al. 2024, reference `KellerJordan/Muon`, `muon.py`): momentum whose update
//! is orthogonalised by a quintic Newton–Schulz iteration on every matrix block of the
//! [`Layout`], with AdamW on the other blocks through [`Partition`], as Muon is used in practice;
//! optionally with P7's quantized momentum Q_M (and Q_V in the auxiliary AdamW).

use descent_core::linalg::{Trans, gemm};
use descent_core::{Error, Layout, Quantizer, Result, RngStreams};
use serde::{Deserialize, Serialize};

use crate::first_order::{Adam, AdamConfig};
use crate::quantized::quantizer_seed;
use crate::transform::{Partition, Transform, TransformState, check_non_negative, unknown_hyper};

/// The quintic Newton–Schulz coefficients (a, b, c) of the reference ("NS5").
pub const NS_COEFFS: (f64, f64, f64) = (3.4445, -4.7750, 2.0315);

/// Hyperparameters of [`Muon`]; defaults are the reference's (`lr = 0.02`, `β = 0.95`,
/// Nesterov, 5 Newton–Schulz steps) and its auxiliary AdamW's (`lr = 3e-4`, `β = (0.9, 0.95)`,
/// `ε = 1e-10`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MuonConfig {
    pub lr: f64,
    pub beta: f64,
    pub nesterov: bool,
    pub ns_steps: usize,
    /// Decoupled weight decay `x ← x − lr·λ·x` on every block.
    pub weight_decay: f64,
    /// The auxiliary AdamW's learning rate (non-matrix blocks); it keeps its ratio to `lr`
    /// when a schedule changes `lr`.
    pub adam_lr: f64,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub adam_eps: f64,
}

impl Default for MuonConfig {
    fn default() -> Self {
        MuonConfig {
            lr: 0.02,
            beta: 0.95,
            nesterov: true,
            ns_steps: 5,
            weight_decay: 0.0,
            adam_lr: 3e-4,
            adam_beta1: 0.9,
            adam_beta2: 0.95,
            adam_eps: 1e-10,
        }
    }
}

impl MuonConfig {
    /// Checks ranges; errors name `muon.<field>`.
    pub fn validate(&self) -> Result<()> {
        check_non_negative("muon.lr", self.lr)?;
        check_non_negative("muon.weight_decay", self.weight_decay)?;
        check_non_negative("muon.adam_lr", self.adam_lr)?;
        check_non_negative("muon.adam_eps", self.adam_eps)?;
        for (k, b) in [
            ("muon.beta", self.beta),
            ("muon.adam_beta1", self.adam_beta1),
            ("muon.adam_beta2", self.adam_beta2),
        ] {
            if !(0.0..1.0).contains(&b) {
                return Err(Error::invalid(k, b, "a number in [0, 1)"));
            }
        }
        if !(1..=100).contains(&self.ns_steps) {
            return Err(Error::invalid(
                "muon.ns_steps",
                self.ns_steps,
                "an integer in [1, 100]",
            ));
        }
        Ok(())
    }
}

/// Newton–Schulz orthogonalisation of a row-major `p × q` matrix with `p ≤ q`, in place:
/// `X ← X/(‖X‖_F + 1e-7)`, then `steps` times `A = XXᵀ, B = bA + cA², X ← aX + BX`. The result
/// is approximately `UVᵀ` of the input's SVD (singular values land in about [0.7, 1.2]).
/// Scratch: `a` and `b` of length p², `t` of length p·q.
pub fn newton_schulz(
    x: &mut [f64],
    p: usize,
    q: usize,
    steps: usize,
    a: &mut [f64],
    b: &mut [f64],
    t: &mut [f64],
) {
    let (ca, cb, cc) = NS_COEFFS;
    let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let s = 1.0 / (norm + 1e-7);
    x.iter_mut().for_each(|v| *v *= s);
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
        x.copy_from_slice(t);
    }
}

/// The matrix part of Muon: on each matrix block (rows r × cols c)
///
/// ```text
/// M ← Q_M(β·M + (1 − β)·G)                       (momentum, stored quantized under P7)
/// U = (1 − β)·G + β·M  if Nesterov, else M
/// O = NS5(U)  (on Uᵀ when r > c, then transposed back)
/// u = −lr·√max(1, r/c)·O − lr·λ·W
/// ```
///
/// Every block of its layout must be a matrix (use [`Muon`] for mixed layouts).
#[derive(Debug, Clone)]
pub struct MuonOrthogonal {
    cfg: MuonConfig,
    qm: Option<Quantizer>,
    buf: Vec<f64>,
    blocks: Vec<(usize, usize, usize)>,
    x: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    t: Vec<f64>,
    count: u64,
}

impl MuonOrthogonal {
    /// A validated transform; `qm` quantizes the stored momentum.
    pub fn new(cfg: MuonConfig, qm: Option<Quantizer>) -> Result<Self> {
        cfg.validate()?;
        Ok(MuonOrthogonal {
            cfg,
            qm,
            buf: Vec::new(),
            blocks: Vec::new(),
            x: Vec::new(),
            a: Vec::new(),
            b: Vec::new(),
            t: Vec::new(),
            count: 0,
        })
    }
}

const ORTHO_HYPERS: &[&str] = &["lr", "beta", "weight_decay"];

impl Transform for MuonOrthogonal {
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
        self.buf = vec![0.0; layout.len()];
        self.x = vec![0.0; maxn];
        self.t = vec![0.0; maxn];
        self.a = vec![0.0; maxp * maxp];
        self.b = vec![0.0; maxp * maxp];
        self.count = 0;
        if let Some(q) = &mut self.qm {
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
            weight_decay,
            ..
        } = self.cfg;
        self.count += 1;
        for &(off, r, c) in &self.blocks {
            let n = r * c;
            let (p, q, transpose) = if r > c { (c, r, true) } else { (r, c, false) };
            for i in 0..n {
                let g = grad[off + i];
                let mut m = beta * self.buf[off + i] + (1.0 - beta) * g;
                if let Some(qz) = &self.qm {
                    m = qz.quantize(m, self.count, (off + i) as u64);
                }
                self.buf[off + i] = m;
                let u = if nesterov {
                    (1.0 - beta) * g + beta * m
                } else {
                    m
                };
                let (row, col) = (i / c, i % c);
                let dst = if transpose { col * r + row } else { i };
                self.x[dst] = u;
            }
            newton_schulz(
                &mut self.x[..n],
                p,
                q,
                ns_steps,
                &mut self.a[..p * p],
                &mut self.b[..p * p],
                &mut self.t[..n],
            );
            let scale = lr * (r as f64 / c as f64).max(1.0).sqrt();
            for i in 0..n {
                let (row, col) = (i / c, i % c);
                let src = if transpose { col * r + row } else { i };
                grad[off + i] = -scale * self.x[src] - lr * weight_decay * params[off + i];
            }
        }
    }

    fn hyper_names(&self) -> Vec<&'static str> {
        ORTHO_HYPERS.to_vec()
    }

    fn hyper(&self, name: &str) -> Option<f64> {
        match name {
            "lr" => Some(self.cfg.lr),
            "beta" => Some(self.cfg.beta),
            "weight_decay" => Some(self.cfg.weight_decay),
            _ => None,
        }
    }

    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        let mut cfg = self.cfg;
        match name {
            "lr" => cfg.lr = value,
            "beta" => cfg.beta = value,
            "weight_decay" => cfg.weight_decay = value,
            _ => return Err(unknown_hyper("muon", name, ORTHO_HYPERS)),
        }
        cfg.validate()?;
        self.cfg = cfg;
        Ok(())
    }

    fn state(&self) -> TransformState {
        TransformState::new("muon_orthogonal")
            .with_scalar("lr", self.cfg.lr)
            .with_scalar("beta", self.cfg.beta)
            .with_scalar("weight_decay", self.cfg.weight_decay)
            .with_scalar("count", self.count as f64)
            .with_vector("momentum", &self.buf)
    }

    fn load_state(&mut self, s: &TransformState) -> Result<()> {
        s.expect_kind("muon_orthogonal")?;
        let mut buf = vec![0.0; self.buf.len()];
        s.vector_into("momentum", &mut buf)?;
        let cfg = MuonConfig {
            lr: s.scalar("lr")?,
            beta: s.scalar("beta")?,
            weight_decay: s.scalar("weight_decay")?,
            ..self.cfg
        };
        cfg.validate()?;
        let count = s.scalar("count")?;
        if !(count >= 0.0 && count.fract() == 0.0) {
            return Err(Error::invalid(
                "muon state count",
                count,
                "a non-negative integer",
            ));
        }
        self.cfg = cfg;
        self.count = count as u64;
        self.buf = buf;
        Ok(())
    }
}

/// Muon as used in practice: [`MuonOrthogonal`] on every matrix block of the layout and AdamW
/// on the others (biases, gains, flat vectors), routed by a [`Partition`]. The hyperparameter
/// `lr` drives both, keeping AdamW's `adam_lr / lr` ratio, so schedules work unchanged. With P7's
/// quantizers, `m` quantizes Muon's momentum and AdamW's first moment, `v` AdamW's second.
pub struct Muon {
    cfg: MuonConfig,
    inner: Partition,
}

impl Muon {
    /// A validated Muon with optional state quantizers.
    pub fn new(cfg: MuonConfig, qm: Option<Quantizer>, qv: Option<Quantizer>) -> Result<Self> {
        cfg.validate()?;
        let ortho = MuonOrthogonal::new(cfg, qm)?;
        let adam = Adam::new(AdamConfig {
            lr: cfg.adam_lr,
            beta1: cfg.adam_beta1,
            beta2: cfg.adam_beta2,
            eps: cfg.adam_eps,
            weight_decay: cfg.weight_decay,
            decoupled: true,
        })?
        .with_state_quantizers(qm, qv);
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
}

const MUON_HYPERS: &[&str] = &["lr", "adam_lr", "beta", "weight_decay"];

impl Transform for Muon {
    fn name(&self) -> String {
        let c = &self.cfg;
        format!(
            "muon(lr={}, beta={}, nesterov={}, ns_steps={}, weight_decay={}, adam_lr={})",
            c.lr, c.beta, c.nesterov, c.ns_steps, c.weight_decay, c.adam_lr
        )
    }

    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.inner.build(layout, streams)
    }

    fn update(&mut self, step: u64, grad: &mut [f64], params: &[f64]) {
        self.inner.update(step, grad, params);
    }

    fn hyper_names(&self) -> Vec<&'static str> {
        MUON_HYPERS.to_vec()
    }

    fn hyper(&self, name: &str) -> Option<f64> {
        match name {
            "lr" => Some(self.cfg.lr),
            "adam_lr" => Some(self.cfg.adam_lr),
            "beta" => Some(self.cfg.beta),
            "weight_decay" => Some(self.cfg.weight_decay),
            _ => None,
        }
    }

    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        let mut cfg = self.cfg;
        match name {
            "lr" => {
                // keep AdamW's ratio to lr (a schedule scales both); the ratio is undefined
                // at lr = 0, so a schedule that reaches 0 restores it from the stored pair
                let ratio = if cfg.lr > 0.0 {
                    cfg.adam_lr / cfg.lr
                } else {
                    0.0
                };
                if cfg.lr > 0.0 {
                    cfg.adam_lr = ratio * value;
                }
                cfg.lr = value;
            }
            "adam_lr" => cfg.adam_lr = value,
            "beta" => cfg.beta = value,
            "weight_decay" => cfg.weight_decay = value,
            _ => return Err(unknown_hyper("muon", name, MUON_HYPERS)),
        }
        cfg.validate()?;
        let members = self.inner.members_mut();
        match name {
            "lr" => {
                members[0].set_hyper("lr", cfg.lr)?;
                members[1].set_hyper("lr", cfg.adam_lr)?;
            }
            "adam_lr" => members[1].set_hyper("lr", cfg.adam_lr)?,
            "beta" => members[0].set_hyper("beta", cfg.beta)?,
            _ => {
                members[0].set_hyper("weight_decay", cfg.weight_decay)?;
                members[1].set_hyper("weight_decay", cfg.weight_decay)?;
            }
        }
        self.cfg = cfg;
        Ok(())
    }

    fn state(&self) -> TransformState {
        TransformState::new("muon")
            .with_scalar("lr", self.cfg.lr)
            .with_scalar("adam_lr", self.cfg.adam_lr)
            .with_child(self.inner.state())
    }

    fn load_state(&mut self, s: &TransformState) -> Result<()> {
        s.expect_kind("muon")?;
        let cfg = MuonConfig {
            lr: s.scalar("lr")?,
            adam_lr: s.scalar("adam_lr")?,
            ..self.cfg
        };
        cfg.validate()?;
        self.inner.load_state(&s.expect_children(1)?[0])?;
        self.cfg = cfg;
        Ok(())
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
