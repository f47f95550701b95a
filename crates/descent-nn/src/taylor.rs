//! Taylor-mode forward propagation of a scalar-output [`Mlp`] (value, input gradient, input
//! Laplacian) and the exact parameter derivatives of any *linear differential-operator residual*
//!
//! ```text
//! r(x) = a0·u(x) + Σₖ cₖ ∂ₖu(x) + s·Δ_S u(x)          (P8 spec §5.1, "residual seeds")
//! ```
//!
//! as per-sample Jacobian rows or as one accumulated gradient Σₙ wₙ ∂rₙ/∂θ.
//!
//! **Streams.** Every sample carries `m = d + 2` rows through the network: the value z, the d
//! directional derivatives z'ₖ = ∂z/∂xₖ (seeded with the unit vectors) and the partial Laplacian
//! Δ_S z over the coordinate subset S (all coordinates for Poisson, space only for the heat
//! equation). Stacking the rows of all samples makes each dense layer ONE GEMM,
//! `H = Z Wᵀ` over N·m rows; the bias enters only the value rows (P8 pitfall 7).
//! A tanh layer maps (h, h'ₖ, Δh) to (σ(h), σ₁h'ₖ, σ₁Δh + σ₂ Σ_{k∈S} h'ₖ²).
//!
//! **Backward.** With adjoints (ḡ, ḡ'ₖ, Δḡ) of a layer's pre-activations, the parameter
//! derivative of a weight matrix is the rank-m sum ḡ zᵀ + Σₖ ḡ'ₖ z'ₖᵀ + Δḡ Δzᵀ, the bias gets ḡ,
//! and through the activation (σ₃ = σ''')
//!
//! ```text
//! ḡ_Δh  = σ₁ Δā
//! ḡ_h'ₖ = σ₁ ā'ₖ + [k∈S] 2σ₂ h'ₖ Δā
//! ḡ_h   = σ₁ ā + σ₂ Σₖ h'ₖ ā'ₖ + (σ₂ Δh + σ₃ Σ_{k∈S} h'ₖ²) Δā
//! ```
//!
//! The `σ₂ Δh` term of the last line is the one that is easy to miss (the spec's prototype lost
//! 20% of the Jacobian without it); the tests check every entry against finite differences and
//! against num-dual.
//!
//! A [`Streams::Value`] pass carries only the value row (boundary residuals u − g).

use descent_core::linalg::{Trans, gemm};
use descent_core::{Error, Result};

use crate::Activation;
use crate::mlp::{LayerParams, Mlp};

/// Which rows a pass carries per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streams {
    /// Only the value u (m = 1).
    Value,
    /// Value, the d input derivatives and the partial Laplacian (m = d + 2).
    Taylor,
}

/// A Taylor-mode forward/backward engine for one scalar-output MLP, with buffers sized for a
/// maximum number of samples once (no allocation per evaluation).
#[derive(Debug, Clone)]
pub struct TaylorMlp {
    mlp: Mlp,
    layers: Vec<LayerParams>,
    /// S as a mask over the input coordinates.
    lap_mask: Vec<bool>,
    max_samples: usize,
    /// Layer inputs z^{l} (stacked rows × sizes[l]) of the last forward pass.
    zs: Vec<Vec<f64>>,
    /// Pre-activations h^{l+1} (stacked rows × sizes[l+1]) of the last forward pass.
    hs: Vec<Vec<f64>>,
    gbar: Vec<f64>,
    abar: Vec<f64>,
    /// Samples and streams of the last forward pass.
    last: (usize, Streams),
    /// Whether the last forward pass ordered its rows stream by stream.
    by_stream: bool,
}

impl TaylorMlp {
    /// An engine for `mlp` (scalar output) whose Laplacian runs over the coordinates with
    /// `lap_mask[k] = true`, for batches of at most `max_samples` samples.
    pub fn new(mlp: Mlp, lap_mask: Vec<bool>, max_samples: usize) -> Result<Self> {
        if mlp.n_outputs() != 1 {
            return Err(Error::invalid(
                "pinn model output width",
                mlp.n_outputs(),
                "1 (a scalar field u(x))",
            ));
        }
        if lap_mask.len() != mlp.n_inputs() {
            return Err(Error::shape(
                "Laplacian coordinate mask",
                mlp.n_inputs(),
                lap_mask.len(),
            ));
        }
        let m = mlp.n_inputs() + 2;
        let rows = max_samples.max(1) * m;
        let zs = mlp.sizes[..mlp.sizes.len() - 1]
            .iter()
            .map(|&n| vec![0.0; rows * n])
            .collect();
        let hs = mlp.sizes[1..]
            .iter()
            .map(|&n| vec![0.0; rows * n])
            .collect();
        let w = mlp.max_width();
        Ok(TaylorMlp {
            layers: mlp.layer_params(),
            mlp,
            lap_mask,
            max_samples: max_samples.max(1),
            zs,
            hs,
            gbar: vec![0.0; rows * w],
            abar: vec![0.0; rows * w],
            last: (0, Streams::Value),
            by_stream: false,
        })
    }

    /// The model.
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// Rows per sample of a pass.
    pub fn rows_per_sample(&self, streams: Streams) -> usize {
        match streams {
            Streams::Value => 1,
            Streams::Taylor => self.mlp.n_inputs() + 2,
        }
    }

    /// Largest batch a pass takes.
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }

    /// Forward pass over the `n` samples in `x` (row-major n × d), the rows of each sample
    /// together (what [`TaylorMlp::backward`] reads). Panics if `n` exceeds
    /// [`TaylorMlp::max_samples`] or slices do not fit (programming errors).
    pub fn forward(&mut self, params: &[f64], x: &[f64], n: usize, streams: Streams) {
        self.forward_rows(params, x, n, streams, false);
    }

    /// [`TaylorMlp::forward`] with the rows ordered stream by stream (all n value rows, then the
    /// n rows of each input derivative, then the n Laplacian rows), so that every activation
    /// loop runs over n × width numbers at once instead of width numbers per sample (the
    /// 31-point line search of ENGD spends most of its time in these loops). The same numbers
    /// as [`TaylorMlp::forward`] (each row's product and each element's activation are the same
    /// operations); [`TaylorMlp::value`], [`TaylorMlp::input_grad`] and
    /// [`TaylorMlp::laplacian`] read them, [`TaylorMlp::backward`] needs a [`TaylorMlp::forward`]
    /// pass. Panics as [`TaylorMlp::forward`] does.
    pub fn forward_by_stream(&mut self, params: &[f64], x: &[f64], n: usize, streams: Streams) {
        self.forward_rows(params, x, n, streams, true);
    }

    fn forward_rows(
        &mut self,
        params: &[f64],
        x: &[f64],
        n: usize,
        streams: Streams,
        by_stream: bool,
    ) {
        let d = self.mlp.n_inputs();
        assert!(
            n <= self.max_samples,
            "TaylorMlp: batch larger than max_samples"
        );
        assert_eq!(x.len(), n * d, "TaylorMlp: wrong input length");
        assert_eq!(params.len(), self.mlp.n_params(), "TaylorMlp: wrong params");
        let m = self.rows_per_sample(streams);
        let rows = n * m;
        // (blocks, rows per block): the layout is `blocks` blocks of m streams of `len / width`
        // rows each — one block per sample, or one block of all samples
        let (blocks, block_rows) = if by_stream { (1, n) } else { (n, 1) };
        {
            // the input rows: x, the unit vectors eₖ, 0 (in the pass's order)
            let z0 = &mut self.zs[0][..rows * d];
            z0.fill(0.0);
            for (b, zb) in z0.chunks_exact_mut(m * block_rows * d).enumerate() {
                let xs = &x[b * block_rows * d..(b + 1) * block_rows * d];
                zb[..block_rows * d].copy_from_slice(xs);
                for k in 0..m.saturating_sub(2) {
                    let stream = &mut zb[(1 + k) * block_rows * d..(2 + k) * block_rows * d];
                    stream.chunks_exact_mut(d).for_each(|e| e[k] = 1.0);
                }
            }
        }
        let n_layers = self.layers.len();
        for l in 0..n_layers {
            let lp = self.layers[l];
            let (fi, fo) = (lp.fan_in, lp.fan_out);
            let w = &params[lp.weight..lp.weight + fi * fo];
            let h = &mut self.hs[l][..rows * fo];
            let z = &self.zs[l][..rows * fi];
            gemm(h, rows, fo, fi, 1.0, z, Trans::N, w, Trans::T, 0.0);
            if let Some(b) = lp.bias {
                let b = &params[b..b + fo];
                for hb in h.chunks_exact_mut(m * block_rows * fo) {
                    for row in hb[..block_rows * fo].chunks_exact_mut(fo) {
                        row.iter_mut().zip(b).for_each(|(v, bi)| *v += bi);
                    }
                }
            }
            if l + 1 < n_layers {
                let act = self.mlp.layer_activation(l);
                let z = &mut self.zs[l + 1][..rows * fo];
                let len = block_rows * fo;
                if act == Activation::Tanh {
                    tanh_forward(&self.lap_mask, h, z, blocks, m, len);
                } else {
                    activate(act, &self.lap_mask, h, z, blocks, m, len);
                }
            }
        }
        self.last = (n, streams);
        self.by_stream = by_stream;
    }

    /// Index in the output of stream `j` of sample `s` of the last forward pass.
    fn out_index(&self, s: usize, j: usize) -> usize {
        let m = self.rows_per_sample(self.last.1);
        if self.by_stream {
            j * self.last.0 + s
        } else {
            s * m + j
        }
    }

    /// u at sample `s` of the last forward pass.
    pub fn value(&self, s: usize) -> f64 {
        self.hs[self.layers.len() - 1][self.out_index(s, 0)]
    }

    /// ∂u/∂x_k at sample `s` (needs a [`Streams::Taylor`] pass).
    pub fn input_grad(&self, s: usize, k: usize) -> f64 {
        assert_eq!(
            self.last.1,
            Streams::Taylor,
            "input_grad needs a Taylor pass"
        );
        self.hs[self.layers.len() - 1][self.out_index(s, 1 + k)]
    }

    /// Δ_S u at sample `s` (needs a [`Streams::Taylor`] pass).
    pub fn laplacian(&self, s: usize) -> f64 {
        assert_eq!(
            self.last.1,
            Streams::Taylor,
            "laplacian needs a Taylor pass"
        );
        let m = self.rows_per_sample(Streams::Taylor);
        self.hs[self.layers.len() - 1][self.out_index(s, m - 1)]
    }

    /// Back-propagates output seeds through the last forward pass. `seeds` holds m numbers per
    /// sample (the residual's coefficients [a0, c₁..c_d, s], already multiplied by any row
    /// scale; m = 1 for a value pass). With `Out::Rows(jac, stride)`, row `s` of `jac` (length
    /// `stride ≥ P`, first P entries written) receives ∂r_s/∂θ; with `Out::Sum(g)`, `g` receives
    /// Σ_s ∂r_s/∂θ (pass residual-weighted seeds to get a loss gradient Jᵀr, by GEMMs).
    pub fn backward(&mut self, params: &[f64], seeds: &[f64], out: Out<'_>) {
        assert!(
            !self.by_stream,
            "TaylorMlp::backward needs a forward pass (not forward_by_stream)"
        );
        let (n, streams) = self.last;
        let m = self.rows_per_sample(streams);
        let rows = n * m;
        assert_eq!(seeds.len(), rows, "TaylorMlp::backward: wrong seed length");
        let n_layers = self.layers.len();
        let mut out = out;
        if let Out::Sum(g) = &mut out {
            assert_eq!(g.len(), self.mlp.n_params());
            g.fill(0.0);
        }
        if let Out::Rows(jac, stride) = &out {
            assert!(*stride >= self.mlp.n_params() && jac.len() >= n * stride);
        }
        self.gbar[..rows].copy_from_slice(seeds);
        for l in (0..n_layers).rev() {
            let lp = self.layers[l];
            let (fi, fo) = (lp.fan_in, lp.fan_out);
            let z = &self.zs[l][..rows * fi];
            let gb = &self.gbar[..rows * fo];
            match &mut out {
                Out::Sum(g) => {
                    let gw = &mut g[lp.weight..lp.weight + fo * fi];
                    gemm(gw, fo, fi, rows, 1.0, gb, Trans::T, z, Trans::N, 0.0);
                    if let Some(b) = lp.bias {
                        let gbias = &mut g[b..b + fo];
                        for s in 0..n {
                            let row = &gb[s * m * fo..s * m * fo + fo];
                            gbias.iter_mut().zip(row).for_each(|(a, v)| *a += v);
                        }
                    }
                }
                Out::Rows(jac, stride) => {
                    let stride = *stride;
                    let threads = descent_core::par::threads();
                    if threads == 1 {
                        jacobian_rows(&mut jac[..n * stride], stride, lp, gb, z, m);
                    } else {
                        // each part owns whole Jacobian rows (samples): output-partitioned
                        let bounds = descent_core::par::even_bounds(n, threads, 1);
                        let mut parts = Vec::with_capacity(threads);
                        let mut rest = &mut jac[..n * stride];
                        for w in bounds.windows(2) {
                            let (head, tail) = rest.split_at_mut((w[1] - w[0]) * stride);
                            parts.push((w[0], w[1], head));
                            rest = tail;
                        }
                        descent_core::par::run_parts(parts, |_, (s0, s1, rows)| {
                            let (g, zz) =
                                (&gb[s0 * m * fo..s1 * m * fo], &z[s0 * m * fi..s1 * m * fi]);
                            jacobian_rows(rows, stride, lp, g, zz, m);
                        });
                    }
                }
            }
            if l == 0 {
                break;
            }
            let w = &params[lp.weight..lp.weight + fi * fo];
            let ab = &mut self.abar[..rows * fi];
            gemm(ab, rows, fi, fo, 1.0, gb, Trans::N, w, Trans::N, 0.0);
            let act = self.mlp.layer_activation(l - 1);
            let h = &self.hs[l - 1][..rows * fi];
            let gnew = &mut self.gbar[..rows * fi];
            if act == Activation::Tanh {
                // σ' from the forward output a = tanh h (the same tanh, so the same numbers)
                tanh_adjoint(&self.lap_mask, h, z, ab, gnew, n, m, fi);
            } else {
                activate_adjoint(act, &self.lap_mask, h, ab, gnew, n, m, fi);
            }
        }
    }
}

descent_core::simd_dispatch!(
/// One layer's block of the per-sample Jacobian rows: ∂r_s/∂W = Σⱼ ḡⱼ zⱼᵀ (the rank-m sum over
/// the sample's streams, zero seeds skipped) and ∂r_s/∂b = ḡ₀, for the samples whose adjoints
/// `gb` (samples × m × fan_out) and layer inputs `z` (samples × m × fan_in) are given; `jac` holds
/// their rows (stride `stride`). Compiled for AVX-512F or AVX2 when the CPU has it (bit-identical
/// without).
fn jacobian_rows(
    jac: &mut [f64],
    stride: usize,
    lp: LayerParams,
    gb: &[f64],
    z: &[f64],
    m: usize,
) => jacobian_rows_body);

#[inline(always)]
fn jacobian_rows_body(
    jac: &mut [f64],
    stride: usize,
    lp: LayerParams,
    gb: &[f64],
    z: &[f64],
    m: usize,
) {
    let (fi, fo) = (lp.fan_in, lp.fan_out);
    {
        for ((jrow, gs), zsm) in jac
            .chunks_exact_mut(stride)
            .zip(gb.chunks_exact(m * fo))
            .zip(z.chunks_exact(m * fi))
        {
            let jw = &mut jrow[lp.weight..lp.weight + fo * fi];
            for (o, dst) in jw.chunks_exact_mut(fi).enumerate() {
                let g0 = gs[o];
                dst.iter_mut()
                    .zip(&zsm[..fi])
                    .for_each(|(a, zv)| *a = g0 * zv);
                for j in 1..m {
                    let gj = gs[j * fo + o];
                    if gj != 0.0 {
                        let zj = &zsm[j * fi..(j + 1) * fi];
                        dst.iter_mut().zip(zj).for_each(|(a, zv)| *a += gj * zv);
                    }
                }
            }
            if let Some(b) = lp.bias {
                jrow[b..b + fo].copy_from_slice(&gs[..fo]);
            }
        }
    }
}

/// Where [`TaylorMlp::backward`] writes.
pub enum Out<'a> {
    /// Per-sample rows: (row-major buffer, row stride).
    Rows(&'a mut [f64], usize),
    /// The sum over samples.
    Sum(&'a mut [f64]),
}

/// σ₁, σ₂, σ₃ at h (one tanh for the tanh activation).
#[inline]
fn derivs(act: Activation, h: f64) -> (f64, f64, f64, f64) {
    match act {
        Activation::Tanh => {
            let a = crate::activation::tanh(h);
            let s1 = 1.0 - a * a;
            (a, s1, -2.0 * a * s1, s1 * (6.0 * a * a - 2.0))
        }
        other => (other.value(h), other.d1(h), other.d2(h), other.d3(h)),
    }
}

descent_core::simd_dispatch!(
/// [`activate`] for tanh (AVX-512F or AVX2 when the CPU has it, bit-identical without) on `n`
/// blocks of `m` rows of `w` numbers (a block per sample, rows of width `w`; or one block whose
/// rows are whole streams): the value row a = tanh h by the branch-free
/// [`crate::activation::tanh`], then the other rows eight columns at a time with σ₁ = 1 − a² and
/// σ₂ = −2aσ₁ from a (each of their inputs read once, each output written once); the same
/// arithmetic in the same order as the per-element form.
fn tanh_forward(
    mask: &[bool],
    h: &[f64],
    z: &mut [f64],
    n: usize,
    m: usize,
    w: usize,
) => tanh_forward_body);

#[inline(always)]
fn tanh_forward_body(mask: &[bool], h: &[f64], z: &mut [f64], n: usize, m: usize, w: usize) {
    const B: usize = 8;
    let full = w / B * B;
    for (hb, zb) in h[..n * m * w]
        .chunks_exact(m * w)
        .zip(z[..n * m * w].chunks_exact_mut(m * w))
    {
        // the value row as one loop (the tanh vectorises in a loop, not in a local array)
        for (a, &hv) in zb[..w].iter_mut().zip(&hb[..w]) {
            *a = crate::activation::tanh(hv);
        }
        if m == 1 {
            continue;
        }
        for i in (0..full).step_by(B) {
            taylor_columns::<B>(mask, hb, zb, m, w, i);
        }
        for i in full..w {
            taylor_columns::<1>(mask, hb, zb, m, w, i);
        }
    }
}

/// The derivative and Laplacian rows of columns `i..i + C` of one block of [`tanh_forward`]
/// (rows of length `w`, the value row a = tanh h already in `z`): local arrays, so the compiler
/// sees that the rows written are not the rows read and vectorises.
#[inline(always)]
fn taylor_columns<const C: usize>(
    mask: &[bool],
    h: &[f64],
    z: &mut [f64],
    m: usize,
    w: usize,
    i: usize,
) {
    let cols = |rows: &[f64], j: usize| -> [f64; C] {
        let mut out = [0.0; C];
        out.copy_from_slice(&rows[j * w + i..j * w + i + C]);
        out
    };
    let a = cols(z, 0);
    let d = m - 2;
    // Δz = σ₁Δh + σ₂ Σ_{k∈S} h'ₖ² (k in order; the first term stored rather than added to 0,
    // the same bits as h'² ≥ +0)
    let mut q = [0.0; C];
    let mut first = true;
    for k in 0..d {
        let hk = cols(h, 1 + k);
        let mut zk = [0.0; C];
        for j in 0..C {
            zk[j] = (1.0 - a[j] * a[j]) * hk[j];
        }
        z[(1 + k) * w + i..(1 + k) * w + i + C].copy_from_slice(&zk);
        if mask[k] {
            if first {
                for j in 0..C {
                    q[j] = hk[j] * hk[j];
                }
                first = false;
            } else {
                for j in 0..C {
                    q[j] += hk[j] * hk[j];
                }
            }
        }
    }
    let hl = cols(h, m - 1);
    let mut zl = [0.0; C];
    for j in 0..C {
        let s1 = 1.0 - a[j] * a[j];
        let s2 = -2.0 * a[j] * s1;
        zl[j] = s1 * hl[j] + s2 * q[j];
    }
    z[(m - 1) * w + i..(m - 1) * w + i + C].copy_from_slice(&zl);
}

descent_core::simd_dispatch!(
/// [`activate_adjoint`] for tanh, row by row (see [`tanh_forward`]); σ₁, σ₂, σ₃ come from the
/// forward output a (the value rows of `z`), the same numbers the per-element form computes.
#[allow(clippy::too_many_arguments)] fn tanh_adjoint(
    mask: &[bool],
    h: &[f64],
    z: &[f64],
    ab: &[f64],
    g: &mut [f64],
    n: usize,
    m: usize,
    w: usize,
) => tanh_adjoint_body);

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tanh_adjoint_body(
    mask: &[bool],
    h: &[f64],
    z: &[f64],
    ab: &[f64],
    g: &mut [f64],
    n: usize,
    m: usize,
    w: usize,
) {
    {
        let d = m.saturating_sub(2);
        let len = n * m * w;
        for ((hb, zb), (ob, gb)) in h[..len]
            .chunks_exact(m * w)
            .zip(z[..len].chunks_exact(m * w))
            .zip(
                ab[..len]
                    .chunks_exact(m * w)
                    .zip(g[..len].chunks_exact_mut(m * w)),
            )
        {
            let a = &zb[..w];
            if m == 1 {
                for ((gv, &o), &a) in gb.iter_mut().zip(ob).zip(a) {
                    *gv = (1.0 - a * a) * o;
                }
                continue;
            }
            let (g0, gr) = gb.split_at_mut(w);
            let (gk_rows, gl) = gr.split_at_mut(d * w);
            let lap_adj = &ob[(m - 1) * w..m * w];
            // g0 accumulates Σₖ h'ₖ ā'ₖ, gl accumulates Σ_{k∈S} h'ₖ² (k in order, from 0)
            g0.fill(0.0);
            gl.fill(0.0);
            for k in 0..d {
                let hk = &hb[(1 + k) * w..(2 + k) * w];
                let ak = &ob[(1 + k) * w..(2 + k) * w];
                let gk = &mut gk_rows[k * w..(k + 1) * w];
                for i in 0..w {
                    let s1 = 1.0 - a[i] * a[i];
                    g0[i] += hk[i] * ak[i];
                    gk[i] = s1 * ak[i];
                }
                if mask[k] {
                    for i in 0..w {
                        let s1 = 1.0 - a[i] * a[i];
                        let s2 = -2.0 * a[i] * s1;
                        gl[i] += hk[i] * hk[i];
                        gk[i] += 2.0 * s2 * hk[i] * lap_adj[i];
                    }
                }
            }
            let dh = &hb[(m - 1) * w..m * w];
            for i in 0..w {
                let s1 = 1.0 - a[i] * a[i];
                let s2 = -2.0 * a[i] * s1;
                let s3 = s1 * (6.0 * a[i] * a[i] - 2.0);
                g0[i] = s1 * ob[i] + s2 * g0[i] + (s2 * dh[i] + s3 * gl[i]) * lap_adj[i];
                gl[i] = s1 * lap_adj[i];
            }
        }
    }
}

/// The activation's Taylor-mode forward map on `n` blocks of `m` rows of `w` numbers each (row j
/// of a block: stream j — the value, the input derivatives, the Laplacian — of one sample, or
/// of all samples of the pass).
fn activate(
    act: Activation,
    mask: &[bool],
    h: &[f64],
    z: &mut [f64],
    n: usize,
    m: usize,
    w: usize,
) {
    let d = m.saturating_sub(2);
    for s in 0..n {
        let hb = &h[s * m * w..(s + 1) * m * w];
        let zb = &mut z[s * m * w..(s + 1) * m * w];
        for i in 0..w {
            let (a, s1, s2, _) = derivs(act, hb[i]);
            zb[i] = a;
            if m == 1 {
                continue;
            }
            let mut sq = 0.0;
            for k in 0..d {
                let hp = hb[(1 + k) * w + i];
                zb[(1 + k) * w + i] = s1 * hp;
                if mask[k] {
                    sq += hp * hp;
                }
            }
            zb[(m - 1) * w + i] = s1 * hb[(m - 1) * w + i] + s2 * sq;
        }
    }
}

/// The adjoint of [`activate`]: from adjoints `ab` of the activation outputs to adjoints `g` of
/// its inputs (see the module docs for the formulas).
#[allow(clippy::too_many_arguments)]
fn activate_adjoint(
    act: Activation,
    mask: &[bool],
    h: &[f64],
    ab: &[f64],
    g: &mut [f64],
    n: usize,
    m: usize,
    w: usize,
) {
    let d = m.saturating_sub(2);
    for s in 0..n {
        let hb = &h[s * m * w..(s + 1) * m * w];
        let ob = &ab[s * m * w..(s + 1) * m * w];
        let gb = &mut g[s * m * w..(s + 1) * m * w];
        for i in 0..w {
            let (_, s1, s2, s3) = derivs(act, hb[i]);
            if m == 1 {
                gb[i] = s1 * ob[i];
                continue;
            }
            let lap_adj = ob[(m - 1) * w + i];
            let dh = hb[(m - 1) * w + i];
            let mut cross = 0.0;
            let mut sq = 0.0;
            for k in 0..d {
                let hp = hb[(1 + k) * w + i];
                let ap = ob[(1 + k) * w + i];
                cross += hp * ap;
                let mut gk = s1 * ap;
                if mask[k] {
                    sq += hp * hp;
                    gk += 2.0 * s2 * hp * lap_adj;
                }
                gb[(1 + k) * w + i] = gk;
            }
            gb[(m - 1) * w + i] = s1 * lap_adj;
            gb[i] = s1 * ob[i] + s2 * cross + (s2 * dh + s3 * sq) * lap_adj;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row-wise tanh kernels are the per-element forms bit for bit.
    #[test]
    fn tanh_rows_equal_the_per_element_forms_bit_for_bit() {
        let (n, w) = (7, 13);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 6.0 - 3.0
        };
        for (m, mask) in [
            (1, vec![]),
            (4, vec![true, true]),
            (5, vec![true, false, true]),
        ] {
            let h: Vec<f64> = (0..n * m * w).map(|_| next()).collect();
            let ab: Vec<f64> = (0..n * m * w).map(|_| next()).collect();
            let (mut z1, mut z2) = (vec![0.0; h.len()], vec![0.0; h.len()]);
            activate(Activation::Tanh, &mask, &h, &mut z1, n, m, w);
            tanh_forward(&mask, &h, &mut z2, n, m, w);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&z1), bits(&z2), "forward, m = {m}");
            let (mut g1, mut g2) = (vec![0.0; h.len()], vec![0.0; h.len()]);
            activate_adjoint(Activation::Tanh, &mask, &h, &ab, &mut g1, n, m, w);
            tanh_adjoint(&mask, &h, &z2, &ab, &mut g2, n, m, w);
            assert_eq!(bits(&g1), bits(&g2), "adjoint, m = {m}");
        }
    }

    /// A pass with the rows stream by stream gives the numbers of the pass with each sample's
    /// rows together, bit for bit (tanh and a non-tanh activation; Poisson and heat masks).
    #[test]
    fn stream_major_pass_equals_the_sample_major_pass_bit_for_bit() {
        for (act, sizes, mask) in [
            (Activation::Tanh, vec![2, 32, 32, 1], vec![true, true]),
            (
                Activation::Tanh,
                vec![3, 24, 17, 1],
                vec![false, true, true],
            ),
            (Activation::Sigmoid, vec![2, 9, 1], vec![true, true]),
        ] {
            let mlp = Mlp::new(sizes, act, true).unwrap();
            let d = mlp.n_inputs();
            let n = 37;
            let mut engine = TaylorMlp::new(mlp.clone(), mask, n).unwrap();
            let params: Vec<f64> = (0..mlp.n_params())
                .map(|i| (i as f64 * 0.37).sin() * 0.8)
                .collect();
            let x: Vec<f64> = (0..n * d).map(|i| (i as f64 * 0.71).cos()).collect();
            for streams in [Streams::Value, Streams::Taylor] {
                let read = |e: &TaylorMlp| {
                    let mut out = Vec::new();
                    for s in 0..n {
                        out.push(e.value(s).to_bits());
                        if streams == Streams::Taylor {
                            out.extend((0..d).map(|k| e.input_grad(s, k).to_bits()));
                            out.push(e.laplacian(s).to_bits());
                        }
                    }
                    out
                };
                engine.forward(&params, &x, n, streams);
                let by_sample = read(&engine);
                engine.forward_by_stream(&params, &x, n, streams);
                assert_eq!(read(&engine), by_sample, "{act:?}, {streams:?}");
            }
        }
    }
}
