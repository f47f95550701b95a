//! The dense multilayer perceptron: its shape, parameter layout and initialisations.
//!
//! Parameters are one flat row-major vector described by [`Mlp::layout`]: for each layer `i`,
//! `layer{i}.weight` of shape `[out, in]` and then (if `bias`) `layer{i}.bias` of shape `[out]`.
//! The derivative engine is in [`crate::engine`].

use std::fmt;
use std::str::FromStr;

use descent_core::{Error, Layout, Result};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

use crate::Activation;

/// A dense MLP `sizes[0] → sizes[1] → … → sizes[L]`. Hidden layers apply `activation` after the
/// affine map; the output layer is affine (identity activation), so the loss sees logits.
/// Built by [`Mlp::new`], which checks the widths; the fields are read through
/// [`Mlp::sizes`], [`Mlp::activation`] and [`Mlp::has_bias`].
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// Layer widths, input first, output last (at least two entries, all positive).
    pub(crate) sizes: Vec<usize>,
    /// The activation of the hidden layers.
    pub(crate) activation: Activation,
    /// Whether every layer has a bias vector.
    pub(crate) bias: bool,
}

/// How to draw initial parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Init {
    /// Glorot/Xavier uniform: W ~ U(±√(6/(in+out))), biases 0 (suits tanh, sigmoid, identity).
    Xavier,
    /// He/Kaiming normal: W ~ N(0, 2/in), biases 0 (suits ReLU and GELU).
    He,
    /// PyTorch's `nn.Linear` default: W and b ~ U(±1/√in).
    TorchUniform,
    /// LeCun normal (JAX's `lecun_normal`): W ~ N(0, 1/in), biases 0 (P2's output layer).
    Lecun,
}

/// The names accepted by [`Init::parse`].
pub const INIT_NAMES: &[&str] = &["xavier", "he", "torch", "lecun"];

impl Init {
    /// Parses `xavier` (or `glorot`), `he` (or `kaiming`), `torch` (or `torch-uniform`), `lecun`.
    pub fn parse(name: &str) -> Result<Init> {
        match name {
            "xavier" | "glorot" => Ok(Init::Xavier),
            "he" | "kaiming" => Ok(Init::He),
            "torch" | "torch-uniform" | "torch_uniform" => Ok(Init::TorchUniform),
            "lecun" => Ok(Init::Lecun),
            other => Err(Error::unknown_name("init", other, INIT_NAMES)),
        }
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Init::Xavier => "xavier",
            Init::He => "he",
            Init::TorchUniform => "torch",
            Init::Lecun => "lecun",
        }
    }

    /// The conventional choice for an activation: He for ReLU/GELU, Xavier otherwise.
    pub fn default_for(act: Activation) -> Init {
        match act {
            Activation::Relu | Activation::Gelu => Init::He,
            _ => Init::Xavier,
        }
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Init {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Init::parse(s)
    }
}

/// Where one layer's parameters sit in the flat vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerParams {
    /// Input width.
    pub fan_in: usize,
    /// Output width.
    pub fan_out: usize,
    /// Offset of the row-major `fan_out × fan_in` weight matrix.
    pub weight: usize,
    /// Offset of the bias vector, if the model has biases.
    pub bias: Option<usize>,
}

impl Mlp {
    /// An MLP with the given widths. Errors when fewer than two sizes are given or one is zero.
    pub fn new(sizes: Vec<usize>, activation: Activation, bias: bool) -> Result<Mlp> {
        if sizes.len() < 2 {
            return Err(Error::invalid(
                "mlp.sizes",
                format!("{sizes:?}"),
                "at least an input and an output size, e.g. [64, 10]",
            ));
        }
        if let Some(i) = sizes.iter().position(|&s| s == 0) {
            return Err(Error::invalid(
                format!("mlp.sizes[{i}]"),
                0,
                "a layer width >= 1",
            ));
        }
        Ok(Mlp {
            sizes,
            activation,
            bias,
        })
    }

    /// Softmax (multinomial logistic) regression: one affine layer `d → k` with bias, the logits
    /// going to a softmax cross-entropy loss. With `k = 1` and the logistic loss it is binary
    /// logistic regression; with MSE it is linear least squares.
    pub fn softmax_regression(n_features: usize, n_outputs: usize) -> Result<Mlp> {
        Mlp::new(vec![n_features, n_outputs], Activation::Identity, true)
    }

    /// Layer widths, input first, output last (at least two, all positive).
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The activation of the hidden layers.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Whether every layer has a bias vector.
    pub fn has_bias(&self) -> bool {
        self.bias
    }

    /// Number of affine layers (L = sizes.len() − 1).
    pub fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// Input width.
    pub fn n_inputs(&self) -> usize {
        self.sizes[0]
    }

    /// Output width.
    pub fn n_outputs(&self) -> usize {
        self.sizes[self.sizes.len() - 1]
    }

    /// The widest layer (input included).
    pub fn max_width(&self) -> usize {
        self.sizes.iter().copied().max().unwrap_or(0)
    }

    /// The position of every layer's parameters, in order.
    pub fn layer_params(&self) -> Vec<LayerParams> {
        let mut off = 0;
        self.sizes
            .windows(2)
            .map(|w| {
                let (fan_in, fan_out) = (w[0], w[1]);
                let weight = off;
                off += fan_in * fan_out;
                let bias = self.bias.then(|| {
                    off += fan_out;
                    off - fan_out
                });
                LayerParams {
                    fan_in,
                    fan_out,
                    weight,
                    bias,
                }
            })
            .collect()
    }

    /// Total number of parameters.
    pub fn n_params(&self) -> usize {
        self.sizes
            .windows(2)
            .map(|w| w[0] * w[1] + if self.bias { w[1] } else { 0 })
            .sum()
    }

    /// Blocks `layer{i}.weight` (`[out, in]`, row-major) and `layer{i}.bias` (`[out]`).
    pub fn layout(&self) -> Layout {
        let mut l = Layout::new();
        for (i, w) in self.sizes.windows(2).enumerate() {
            l.push(&format!("layer{i}.weight"), &[w[1], w[0]]);
            if self.bias {
                l.push(&format!("layer{i}.bias"), &[w[1]]);
            }
        }
        l
    }

    /// Draws initial parameters (see [`Init`] for the distributions).
    pub fn init_params<R: Rng + ?Sized>(&self, init: Init, rng: &mut R) -> Vec<f64> {
        self.init_params_with_output(init, init, rng)
    }

    /// Draws initial parameters with `hidden` for every layer but the last and `output` for the
    /// last (e.g. He on ReLU layers and LeCun on the logits, P2 §5.2: W1 ~ N(0, 2/d),
    /// W2 ~ N(0, 1/64)). The layers draw in order from one `rng`, so with `output == hidden`
    /// this is [`Mlp::init_params`].
    pub fn init_params_with_output<R: Rng + ?Sized>(
        &self,
        hidden: Init,
        output: Init,
        rng: &mut R,
    ) -> Vec<f64> {
        let mut p = vec![0.0; self.n_params()];
        let last = self.n_layers() - 1;
        for (l, lp) in self.layer_params().into_iter().enumerate() {
            let init = if l == last { output } else { hidden };
            let (fi, fo) = (lp.fan_in as f64, lp.fan_out as f64);
            let w = &mut p[lp.weight..lp.weight + lp.fan_in * lp.fan_out];
            match init {
                Init::Xavier => uniform(w, (6.0 / (fi + fo)).sqrt(), rng),
                Init::He => normal(w, (2.0 / fi).sqrt(), rng),
                Init::Lecun => normal(w, (1.0 / fi).sqrt(), rng),
                Init::TorchUniform => uniform(w, 1.0 / fi.sqrt(), rng),
            }
            if let (Some(b), Init::TorchUniform) = (lp.bias, init) {
                uniform(&mut p[b..b + lp.fan_out], 1.0 / fi.sqrt(), rng);
            }
        }
        p
    }

    /// A short description such as `mlp:64-128-10(tanh)` or `linear:64-10`.
    pub fn describe(&self) -> String {
        let sizes = self
            .sizes
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("-");
        let nobias = if self.bias { "" } else { ", no bias" };
        if self.n_layers() == 1 {
            format!("linear:{sizes}{}", if self.bias { "" } else { "(no bias)" })
        } else {
            format!("mlp:{sizes}({}{nobias})", self.activation)
        }
    }

    /// The activation of layer `l` (hidden layers use [`Mlp::activation`], the last is identity).
    pub fn layer_activation(&self, l: usize) -> Activation {
        if l + 1 < self.n_layers() {
            self.activation
        } else {
            Activation::Identity
        }
    }
}

/// Fills `w` with N(0, sd²) draws.
fn normal<R: Rng + ?Sized>(w: &mut [f64], sd: f64, rng: &mut R) {
    for x in w {
        let n: f64 = StandardNormal.sample(&mut *rng);
        *x = sd * n;
    }
}

/// Fills `w` with U(−a, a) draws.
fn uniform<R: Rng + ?Sized>(w: &mut [f64], a: f64, rng: &mut R) {
    for x in w {
        *x = a * (2.0 * rng.random::<f64>() - 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::RngStreams;

    #[test]
    fn layout_names_blocks_row_major() {
        let m = Mlp::new(vec![3, 5, 2], Activation::Tanh, true).unwrap();
        let l = m.layout();
        let names: Vec<_> = l.blocks().iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "layer0.weight",
                "layer0.bias",
                "layer1.weight",
                "layer1.bias"
            ]
        );
        assert_eq!(l.blocks()[0].shape, vec![5, 3]);
        assert_eq!(l.blocks()[2].offset, 20);
        assert_eq!(l.len(), m.n_params());
        assert_eq!(m.n_params(), 15 + 5 + 10 + 2);
        let lp = m.layer_params();
        for (i, p) in lp.iter().enumerate() {
            assert_eq!(
                p.weight,
                l.block(&format!("layer{i}.weight")).unwrap().offset
            );
            assert_eq!(
                p.bias,
                Some(l.block(&format!("layer{i}.bias")).unwrap().offset)
            );
        }
        let nb = Mlp::new(vec![3, 5, 2], Activation::Tanh, false).unwrap();
        assert_eq!(nb.layout().blocks().len(), 2);
        assert_eq!(nb.layer_params()[1].weight, 15);
    }

    #[test]
    fn init_distributions_have_the_stated_scale() {
        let m = Mlp::new(vec![200, 300, 1], Activation::Relu, true).unwrap();
        let mut rng = RngStreams::new(3).stream("init");
        let lp = m.layer_params()[0];
        let n = 200 * 300;
        for init in [Init::Xavier, Init::He, Init::TorchUniform, Init::Lecun] {
            let p = m.init_params(init, &mut rng);
            let w = &p[lp.weight..lp.weight + n];
            let var = w.iter().map(|x| x * x).sum::<f64>() / n as f64;
            let expected = match init {
                Init::Xavier => 6.0 / 500.0 / 3.0,
                Init::He => 2.0 / 200.0,
                Init::TorchUniform => 1.0 / 200.0 / 3.0,
                Init::Lecun => 1.0 / 200.0,
            };
            assert!(
                (var / expected - 1.0).abs() < 0.03,
                "{init}: {var} vs {expected}"
            );
            let b = &p[lp.bias.unwrap()..lp.bias.unwrap() + 300];
            match init {
                Init::TorchUniform => {
                    assert!(b.iter().all(|x| x.abs() <= 1.0 / 200f64.sqrt()));
                    assert!(b.iter().any(|x| *x != 0.0));
                }
                _ => assert!(b.iter().all(|x| *x == 0.0)),
            }
        }
    }

    #[test]
    fn the_output_layer_can_have_its_own_init() {
        let m = Mlp::new(vec![100, 400, 300], Activation::Relu, true).unwrap();
        let lp = m.layer_params();
        let p = m.init_params_with_output(
            Init::He,
            Init::Lecun,
            &mut RngStreams::new(5).stream("init"),
        );
        let var = |l: LayerParams| {
            let w = &p[l.weight..l.weight + l.fan_in * l.fan_out];
            w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64
        };
        // He on layer 0 (2/100), LeCun on the output layer (1/400)
        assert!((var(lp[0]) / 0.02 - 1.0).abs() < 0.03, "{}", var(lp[0]));
        assert!((var(lp[1]) * 400.0 - 1.0).abs() < 0.03, "{}", var(lp[1]));
        let same = m.init_params(Init::He, &mut RngStreams::new(5).stream("init"));
        let split =
            m.init_params_with_output(Init::He, Init::He, &mut RngStreams::new(5).stream("init"));
        assert_eq!(same, split);
        assert_eq!(Init::parse("lecun").unwrap(), Init::Lecun);
        assert_eq!(Init::Lecun.to_string(), "lecun");
    }

    #[test]
    fn bad_sizes_are_errors() {
        let e = Mlp::new(vec![4], Activation::Tanh, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("mlp.sizes"), "{e}");
        let e = Mlp::new(vec![4, 0, 2], Activation::Tanh, true)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid value for 'mlp.sizes[1]': got 0, expected a layer width >= 1"
        );
    }
}
