//! The `Model` trait: per-sample gradient matrices against finite differences and the batch
//! gradient, Gauss–Newton products against the Hessian where they coincide and against an
//! explicit Jᵀ H J from finite-difference Jacobians, the Fisher identity for softmax
//! cross-entropy, `SoftmaxRegression` against the equivalent `Mlp`, and the trait's provided
//! bodies against `Mlp`'s batched overrides.

use std::sync::Arc;

use descent_core::RngStreams;
use descent_data::{Dataset, Targets};
use descent_nn::{
    Activation, Cotangent, Init, Inputs, Loss, Mlp, Model, SoftmaxRegression, TangentCotangent,
    Visit, Workspace, target_of,
};
use rand::RngExt;

fn uniform(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut rng = RngStreams::new(seed).stream("test");
    (0..n)
        .map(|_| scale * (2.0 * rng.random::<f64>() - 1.0))
        .collect()
}

/// n samples of `d` features with `k` classes.
fn classes(n: usize, d: usize, k: usize, seed: u64) -> Arc<Dataset> {
    let labels = (0..n).map(|i| (i * 7 + 3) % k).collect();
    let targets = Targets::Classes {
        labels,
        n_classes: k,
    };
    Arc::new(Dataset::new("toy", uniform(n * d, seed, 1.5), d, targets).unwrap())
}

/// n samples of `d` features with real targets of dimension `k`.
fn reals(n: usize, d: usize, k: usize, seed: u64) -> Arc<Dataset> {
    let values = uniform(n * k, seed + 1, 1.0);
    let targets = Targets::Real { values, dim: k };
    Arc::new(Dataset::new("toy", uniform(n * d, seed, 1.5), d, targets).unwrap())
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Central finite differences of the loss of sample `i` alone.
fn fd_sample_grad<M: Model>(m: &M, p: &[f64], data: &Dataset, i: usize, loss: Loss) -> Vec<f64> {
    let mut ws = m.workspace(4);
    let h = 1e-6;
    let mut q = p.to_vec();
    (0..p.len())
        .map(|j| {
            q[j] = p[j] + h;
            let up = m.loss(&q, data, &[i], loss, &mut ws);
            q[j] = p[j] - h;
            let down = m.loss(&q, data, &[i], loss, &mut ws);
            q[j] = p[j];
            (up - down) / (2.0 * h)
        })
        .collect()
}

#[test]
fn per_sample_gradients_match_finite_differences_and_average_to_the_batch_gradient() {
    let data = classes(7, 3, 3, 1);
    let m = Mlp::new(vec![3, 5, 4, 3], Activation::Tanh, true).unwrap();
    let p = m.init_params(Init::TorchUniform, &mut RngStreams::new(2).stream("init"));
    let np = p.len();
    let indices = [4, 0, 6, 2, 5];
    // a workspace of 2 rows: the batch runs in three chunks
    let mut ws = m.workspace(2);
    let mut rows = vec![f64::NAN; indices.len() * np];
    let mean =
        Model::per_sample_gradients(&m, &p, &data, &indices, Loss::SoftmaxCe, &mut ws, &mut rows);
    for (k, &i) in indices.iter().enumerate() {
        let fd = fd_sample_grad(&m, &p, &data, i, Loss::SoftmaxCe);
        let e = max_abs_diff(&rows[k * np..(k + 1) * np], &fd);
        assert!(e < 1e-8, "sample {i}: {e}");
    }
    let mut g = vec![0.0; np];
    let batch = Model::loss_grad(&m, &p, &data, &indices, Loss::SoftmaxCe, &mut ws, &mut g);
    assert!((mean - batch).abs() < 1e-14, "{mean} vs {batch}");
    let avg: Vec<f64> = (0..np)
        .map(|j| rows.iter().skip(j).step_by(np).sum::<f64>() / indices.len() as f64)
        .collect();
    assert!(max_abs_diff(&avg, &g) < 1e-14);
    // and their norms are the ghost norms
    let mut norms = vec![0.0; indices.len()];
    Model::per_sample_grad_norms(
        &m,
        &p,
        &data,
        &indices,
        Loss::SoftmaxCe,
        &mut ws,
        &mut norms,
    );
    for (k, n) in norms.iter().enumerate() {
        let row = &rows[k * np..(k + 1) * np];
        let direct = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!(
            (n - direct).abs() < 1e-12 * direct.max(1.0),
            "{n} vs {direct}"
        );
    }
}

#[test]
fn softmax_regression_is_the_one_layer_mlp_and_its_ggn_is_its_hessian() {
    for (loss, data) in [
        (Loss::SoftmaxCe, classes(9, 4, 3, 3)),
        (Loss::Mse, reals(9, 4, 3, 4)),
        (Loss::Logistic, classes(9, 4, 2, 5)),
    ] {
        let k = descent_nn::output_width(loss, &data).unwrap();
        let lin = SoftmaxRegression::new(4, k).unwrap();
        let mlp = Mlp::softmax_regression(4, k).unwrap();
        assert_eq!(Model::layout(&lin), mlp.layout());
        let p = lin.init_params(Init::TorchUniform, &mut RngStreams::new(6).stream("init"));
        let same = mlp.init_params(Init::TorchUniform, &mut RngStreams::new(6).stream("init"));
        assert_eq!(p, same);
        let v = uniform(p.len(), 7, 1.0);
        let idx: Vec<usize> = (0..9).collect();
        let (mut wl, mut wm) = (lin.workspace(9), mlp.workspace(4));
        let mut a = vec![0.0; p.len()];
        let mut b = vec![0.0; p.len()];
        let la = Model::loss_grad(&lin, &p, &data, &idx, loss, &mut wl, &mut a);
        let lb = Model::loss_grad(&mlp, &p, &data, &idx, loss, &mut wm, &mut b);
        assert!(
            (la - lb).abs() < 1e-14 && max_abs_diff(&a, &b) < 1e-14,
            "{loss}"
        );
        // GGN of the linear model = the MLP engine's exact Pearlmutter HVP
        lin.ggn_vector(&p, &data, &idx, loss, &v, &mut wl, &mut a);
        Model::hvp(&mlp, &p, &data, &idx, loss, &v, &mut wm, &mut b);
        assert!(
            max_abs_diff(&a, &b) < 1e-10,
            "{loss}: {}",
            max_abs_diff(&a, &b)
        );
        mlp.ggn_vector(&p, &data, &idx, loss, &v, &mut wm, &mut b);
        assert!(max_abs_diff(&a, &b) < 1e-12, "{loss}");
        let (mut na, mut nb) = (vec![0.0; 9], vec![0.0; 9]);
        Model::per_sample_grad_norms(&lin, &p, &data, &idx, loss, &mut wl, &mut na);
        Model::per_sample_grad_norms(&mlp, &p, &data, &idx, loss, &mut wm, &mut nb);
        assert!(max_abs_diff(&na, &nb) < 1e-12, "{loss}");
    }
    assert_eq!(
        SoftmaxRegression::new(0, 3).unwrap_err().to_string(),
        "invalid value for 'softmax_regression.n_features': got 0, expected a width >= 1"
    );
}

/// Jacobian ∂o/∂p (n_out × P, row-major) of sample `i` by central differences.
fn fd_output_jacobian(m: &Mlp, p: &[f64], x: &[f64]) -> Vec<f64> {
    let (no, np) = (m.n_outputs(), p.len());
    let mut ws = m.workspace(1);
    let (mut up, mut down) = (vec![0.0; no], vec![0.0; no]);
    let mut jac = vec![0.0; no * np];
    let mut q = p.to_vec();
    let h = 1e-6;
    for j in 0..np {
        q[j] = p[j] + h;
        Model::predict(m, &q, x, &mut ws, &mut up);
        q[j] = p[j] - h;
        Model::predict(m, &q, x, &mut ws, &mut down);
        q[j] = p[j];
        for r in 0..no {
            jac[r * np + j] = (up[r] - down[r]) / (2.0 * h);
        }
    }
    jac
}

#[test]
fn ggn_vector_is_the_explicit_jt_h_j_of_a_nonlinear_mlp() {
    for (loss, data) in [
        (Loss::SoftmaxCe, classes(5, 3, 3, 8)),
        (Loss::Mse, reals(5, 3, 2, 9)),
        (Loss::Logistic, classes(5, 3, 2, 10)),
    ] {
        let k = descent_nn::output_width(loss, &data).unwrap();
        let m = Mlp::new(vec![3, 4, k], Activation::Tanh, true).unwrap();
        let p = m.init_params(Init::TorchUniform, &mut RngStreams::new(11).stream("init"));
        let (np, n) = (p.len(), data.len());
        let v = uniform(np, 12, 1.0);
        let mut o = vec![0.0; k];
        let mut ws = m.workspace(2);
        let mut explicit = vec![0.0; np];
        for i in 0..n {
            let jac = fd_output_jacobian(&m, &p, data.row(i));
            Model::predict(&m, &p, data.row(i), &mut ws, &mut o);
            let jv: Vec<f64> = jac.chunks(np).map(|r| dot(r, &v)).collect();
            let mut hjv = vec![0.0; k];
            loss.hvp(&o, target_of(&data, i), &jv, &mut hjv);
            for (r, h) in hjv.iter().enumerate() {
                for j in 0..np {
                    explicit[j] += jac[r * np + j] * h / n as f64;
                }
            }
        }
        let idx: Vec<usize> = (0..n).collect();
        let mut ggn = vec![0.0; np];
        m.ggn_vector(&p, &data, &idx, loss, &v, &mut ws, &mut ggn);
        let e = max_abs_diff(&ggn, &explicit);
        assert!(e < 1e-7, "{loss}: {e}");
        // the network is nonlinear: the Hessian differs from the GGN
        let mut h = vec![0.0; np];
        Model::hvp(&m, &p, &data, &idx, loss, &v, &mut ws, &mut h);
        assert!(max_abs_diff(&ggn, &h) > 1e-4, "{loss}");
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn softmax_ce_ggn_is_the_fisher_of_the_predictive_distribution() {
    // F v = (1/B) Σₖ Σ_c πc(xₖ) g_{k,c} (g_{k,c} · v), g_{k,c} = ∇ℓ(xₖ, label c)
    let (n, d, k) = (4, 3, 3);
    let data = classes(n, d, k, 13);
    let m = Mlp::new(vec![d, 5, k], Activation::Gelu, true).unwrap();
    let p = m.init_params(Init::TorchUniform, &mut RngStreams::new(14).stream("init"));
    let np = p.len();
    let v = uniform(np, 15, 1.0);
    let mut ws = m.workspace(8);
    let mut fisher = vec![0.0; np];
    let mut o = vec![0.0; k];
    for i in 0..n {
        Model::predict(&m, &p, data.row(i), &mut ws, &mut o);
        let z: f64 = o.iter().map(|x| x.exp()).sum();
        let relabelled = Dataset::new(
            "relabelled",
            data.row(i).repeat(k),
            d,
            Targets::Classes {
                labels: (0..k).collect(),
                n_classes: k,
            },
        )
        .unwrap();
        let mut rows = vec![0.0; k * np];
        let all: Vec<usize> = (0..k).collect();
        Model::per_sample_gradients(
            &m,
            &p,
            &relabelled,
            &all,
            Loss::SoftmaxCe,
            &mut ws,
            &mut rows,
        );
        for (c, g) in rows.chunks(np).enumerate() {
            let w = o[c].exp() / z * dot(g, &v) / n as f64;
            fisher.iter_mut().zip(g).for_each(|(f, gi)| *f += w * gi);
        }
    }
    let mut ggn = vec![0.0; np];
    let idx: Vec<usize> = (0..n).collect();
    m.ggn_vector(&p, &data, &idx, Loss::SoftmaxCe, &v, &mut ws, &mut ggn);
    assert!(
        max_abs_diff(&ggn, &fisher) < 1e-12,
        "{}",
        max_abs_diff(&ggn, &fisher)
    );
}

/// An `Mlp` seen only through the trait's required methods: the provided bodies run.
#[derive(Debug, Clone)]
struct RequiredOnly(Mlp);

impl Model for RequiredOnly {
    type Workspace = Workspace;
    fn workspace(&self, max_batch: usize) -> Workspace {
        self.0.workspace(max_batch)
    }
    fn layout(&self) -> descent_core::Layout {
        self.0.layout()
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }
    fn n_inputs(&self) -> usize {
        self.0.n_inputs()
    }
    fn n_outputs(&self) -> usize {
        self.0.n_outputs()
    }
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn init_params(&self, init: Init, rng: &mut dyn rand::Rng) -> Vec<f64> {
        self.0.init_params(init, rng)
    }
    fn forward(&self, p: &[f64], inputs: Inputs<'_>, ws: &mut Workspace, visit: &mut Visit) {
        Model::forward(&self.0, p, inputs, ws, visit)
    }
    fn backward(
        &self,
        p: &[f64],
        inputs: Inputs<'_>,
        ws: &mut Workspace,
        g: &mut [f64],
        cot: &mut Cotangent,
    ) -> f64 {
        Model::backward(&self.0, p, inputs, ws, g, cot)
    }
    fn tangent_backward(
        &self,
        p: &[f64],
        v: &[f64],
        inputs: Inputs<'_>,
        ws: &mut Workspace,
        g: &mut [f64],
        cot: &mut TangentCotangent,
    ) -> f64 {
        Model::tangent_backward(&self.0, p, v, inputs, ws, g, cot)
    }
    fn hvp(
        &self,
        p: &[f64],
        data: &Dataset,
        indices: &[usize],
        loss: Loss,
        v: &[f64],
        ws: &mut Workspace,
        out: &mut [f64],
    ) -> f64 {
        Model::hvp(&self.0, p, data, indices, loss, v, ws, out)
    }
}

#[test]
fn the_provided_bodies_agree_with_the_batched_engine() {
    let data = classes(11, 3, 4, 16);
    let mlp = Mlp::new(vec![3, 6, 4], Activation::Relu, false).unwrap();
    let plain = RequiredOnly(mlp.clone());
    let p = mlp.init_params(Init::He, &mut RngStreams::new(17).stream("init"));
    let np = p.len();
    let idx = [3, 1, 4, 1, 5, 9, 2, 6];
    let w = uniform(idx.len(), 18, 1.0);
    let (mut wa, mut wb) = (mlp.workspace(3), plain.workspace(3));
    let (mut a, mut b) = (vec![0.0; np], vec![0.0; np]);
    let loss = Loss::SoftmaxCe;
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-13 * x.abs().max(1.0);
    assert!(close(
        Model::loss(&mlp, &p, &data, &idx, loss, &mut wa),
        plain.loss(&p, &data, &idx, loss, &mut wb)
    ));
    let la = Model::loss_grad(&mlp, &p, &data, &idx, loss, &mut wa, &mut a);
    let lb = plain.loss_grad(&p, &data, &idx, loss, &mut wb, &mut b);
    assert!(close(la, lb) && max_abs_diff(&a, &b) < 1e-14);
    let la = Model::weighted_grad(&mlp, &p, &data, &idx, loss, &w, &mut wa, &mut a);
    let lb = plain.weighted_grad(&p, &data, &idx, loss, &w, &mut wb, &mut b);
    assert!(close(la, lb) && max_abs_diff(&a, &b) < 1e-14);
    let (mut ra, mut rb) = (vec![0.0; idx.len() * np], vec![0.0; idx.len() * np]);
    Model::per_sample_gradients(&mlp, &p, &data, &idx, loss, &mut wa, &mut ra);
    plain.per_sample_gradients(&p, &data, &idx, loss, &mut wb, &mut rb);
    assert!(max_abs_diff(&ra, &rb) < 1e-14);
    let (mut na, mut nb) = (vec![0.0; idx.len()], vec![0.0; idx.len()]);
    Model::per_sample_grad_norms(&mlp, &p, &data, &idx, loss, &mut wa, &mut na);
    plain.per_sample_grad_norms(&p, &data, &idx, loss, &mut wb, &mut nb);
    assert!(max_abs_diff(&na, &nb) < 1e-12);
    let ea = Model::evaluate(&mlp, &p, &data, loss, &mut wa);
    let eb = plain.evaluate(&p, &data, loss, &mut wb);
    assert!(close(ea.loss, eb.loss) && ea.accuracy == eb.accuracy);
    let rows: Vec<f64> = idx.iter().flat_map(|&i| data.row(i).to_vec()).collect();
    let (mut oa, mut ob) = (vec![0.0; idx.len() * 4], vec![0.0; idx.len() * 4]);
    Model::predict(&mlp, &p, &rows, &mut wa, &mut oa);
    plain.predict(&p, &rows, &mut wb, &mut ob);
    assert_eq!(oa, ob);
}
