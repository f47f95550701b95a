//! Building models and losses from text (the spec grammar of descent-core, DESIGN §3).
//!
//! Models:
//!
//! - `mlp:64-128-10` — the short form: widths separated by `-`.
//! - `mlp(sizes=[64,128,10], act=tanh, bias=true, init=he)` — the long form.
//! - `mlp:128`, `mlp(hidden=[128])`, `mlp(hidden=[])` — hidden widths only; the input and
//!   output widths come from the data.
//! - `softmax-regression`, `linear` — one affine layer `d → k` with `d`, `k` from the data.
//!
//! Size rule: a list of two or more widths (`sizes=[…]` or a short form `a-b-…`) is the FULL list,
//! input first and output last, and both ends are checked against the data (an error names the
//! expected and the given width). A single width in the short form (`mlp:128`) or any
//! `hidden=[…]` list holds hidden widths only. So `mlp:128-64` means input 128 and output 64;
//! write `mlp(hidden=[128,64])` for two hidden layers.
//!
//! Defaults: `act=tanh`, `bias=true`, `init=xavier` for tanh/sigmoid/identity and `he` for
//! relu/gelu; `out_init` (the last layer's init) defaults to `init`, so
//! `mlp(hidden=[64], act=relu, out_init=lecun)` draws W1 ~ N(0, 2/d) and W2 ~ N(0, 1/64) (P2 §5.2).

use descent_core::{Error, Result, Spec};
use descent_data::Targets;

use crate::activation::{ACTIVATION_NAMES, Activation};
use crate::loss::{LOSS_NAMES, Loss};
use crate::mlp::{INIT_NAMES, Init, Mlp};

/// `descent list`: every model name with a one-line description of its parameters.
pub const MODELS: &[(&str, &str)] = &[
    (
        "mlp",
        "dense MLP, e.g. mlp:64-128-10, mlp:128 (hidden only) or mlp(sizes=[64,128,10] | hidden=[128], \
         act=tanh|relu|gelu|sigmoid|identity (tanh), bias=true, init=xavier|he|torch|lecun (xavier; he for relu/gelu), out_init (init))",
    ),
    (
        "softmax-regression",
        "one affine layer d -> k, sizes from the data (bias=true, init=xavier|he|torch|lecun)",
    ),
    (
        "linear",
        "alias of softmax-regression: one affine layer d -> k from the data",
    ),
];

const MODEL_NAMES: &[&str] = &["mlp", "softmax-regression", "linear"];

/// A model built from a spec, with the initialisation the spec chose.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// The network's shape and activations.
    pub mlp: Mlp,
    /// The init of every layer but the last.
    pub init: Init,
    /// The init of the last (output) layer; `init` unless the spec gives `out_init`.
    pub output_init: Init,
}

impl ModelSpec {
    /// Draws initial parameters ([`Mlp::init_params_with_output`]).
    pub fn init_params<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        self.mlp
            .init_params_with_output(self.init, self.output_init, rng)
    }
}

/// Parses `text` and builds the model (see [`build_model`]).
pub fn parse_model(text: &str, n_features: usize, n_outputs: usize) -> Result<ModelSpec> {
    build_model(&Spec::parse(text)?, n_features, n_outputs)
}

/// Builds a model from a spec for data with `n_features` inputs, producing `n_outputs` outputs
/// (use [`crate::output_width`] for the width a loss needs). See the module docs for the forms
/// and the size rule.
pub fn build_model(spec: &Spec, n_features: usize, n_outputs: usize) -> Result<ModelSpec> {
    match spec.name.as_str() {
        "mlp" => build_mlp(spec, n_features, n_outputs),
        "softmax-regression" | "linear" => {
            let args = spec.args(&["bias", "init"])?;
            if let Some(short) = &spec.short {
                let sizes = parse_short(&spec.name, short)?;
                if sizes.len() != 2 {
                    return Err(Error::invalid(
                        format!("{}:{short}", spec.name),
                        format!("{} widths", sizes.len()),
                        "exactly two widths (input-output)",
                    ));
                }
                check_ends(&spec.name, &sizes, n_features, n_outputs)?;
            }
            let bias = args.bool("bias", true)?;
            let init = parse_init(&args, Activation::Identity)?;
            let mlp = Mlp::new(vec![n_features, n_outputs], Activation::Identity, bias)?;
            Ok(ModelSpec {
                mlp,
                init,
                output_init: init,
            })
        }
        other => Err(Error::unknown_name("model", other, MODEL_NAMES)),
    }
}

fn build_mlp(spec: &Spec, n_features: usize, n_outputs: usize) -> Result<ModelSpec> {
    let args = spec.args(&["sizes", "hidden", "act", "bias", "init", "out_init"])?;
    let act = Activation::parse(&args.choice("act", "tanh", ACTIVATION_NAMES)?)?;
    let bias = args.bool("bias", true)?;
    let init = parse_init(&args, act)?;
    let output_init = Init::parse(&args.choice("out_init", init.name(), INIT_NAMES)?)?;
    let sizes_arg = args.usize_list("sizes")?;
    let hidden_arg = args.usize_list("hidden")?;
    let given = [
        spec.short.is_some(),
        sizes_arg.is_some(),
        hidden_arg.is_some(),
    ]
    .iter()
    .filter(|g| **g)
    .count();
    if given > 1 {
        return Err(Error::invalid(
            "mlp sizes",
            spec.to_string(),
            "exactly one of the short form (mlp:64-128-10), sizes=[...] or hidden=[...]",
        ));
    }
    let full = |hidden: &[usize]| {
        let mut s = Vec::with_capacity(hidden.len() + 2);
        s.push(n_features);
        s.extend_from_slice(hidden);
        s.push(n_outputs);
        s
    };
    let sizes = if let Some(short) = &spec.short {
        let list = parse_short("mlp", short)?;
        if list.len() == 1 {
            full(&list)
        } else {
            check_ends("mlp", &list, n_features, n_outputs)?;
            list
        }
    } else if let Some(list) = sizes_arg {
        if list.len() < 2 {
            return Err(Error::invalid(
                "mlp.sizes",
                format!("{list:?}"),
                "the full list of widths, input first and output last (for hidden widths only use hidden=[...])",
            ));
        }
        check_ends("mlp", &list, n_features, n_outputs)?;
        list
    } else if let Some(list) = hidden_arg {
        full(&list)
    } else {
        return Err(Error::invalid(
            "mlp sizes",
            "none",
            "widths, e.g. mlp:64-128-10, mlp:128 or mlp(hidden=[128])",
        ));
    };
    let mlp = Mlp::new(sizes, act, bias)?;
    Ok(ModelSpec {
        mlp,
        init,
        output_init,
    })
}

fn parse_init(args: &descent_core::Args<'_>, act: Activation) -> Result<Init> {
    let default = Init::default_for(act).name();
    Init::parse(&args.choice("init", default, INIT_NAMES)?)
}

/// Parses `64-128-10`.
fn parse_short(model: &str, short: &str) -> Result<Vec<usize>> {
    short
        .split('-')
        .map(|s| {
            s.trim().parse::<usize>().map_err(|_| {
                Error::invalid(
                    format!("{model}:{short}"),
                    format!("'{s}'"),
                    "layer widths separated by '-', e.g. 64-128-10",
                )
            })
        })
        .collect()
}

/// Checks the first and last width of a full size list against the data.
fn check_ends(model: &str, sizes: &[usize], n_features: usize, n_outputs: usize) -> Result<()> {
    let hint = "; a single width (mlp:128) or hidden=[...] gives hidden widths only";
    if sizes[0] != n_features {
        return Err(Error::shape(
            format!("{model} input width (the data has {n_features} features{hint})"),
            n_features,
            sizes[0],
        ));
    }
    let last = sizes[sizes.len() - 1];
    if last != n_outputs {
        return Err(Error::shape(
            format!("{model} output width (the data and loss need {n_outputs} outputs{hint})"),
            n_outputs,
            last,
        ));
    }
    Ok(())
}

/// The default loss for a kind of target: softmax-ce for class labels, mse for real targets.
pub fn default_loss(targets: &Targets) -> Loss {
    match targets {
        Targets::Classes { .. } => Loss::SoftmaxCe,
        Targets::Real { .. } => Loss::Mse,
    }
}

/// The loss named by `name` (one of [`LOSS_NAMES`] or an alias), or the default for `targets`
/// when `name` is `None` or `"auto"`.
pub fn choose_loss(name: Option<&str>, targets: &Targets) -> Result<Loss> {
    match name {
        None | Some("auto") => Ok(default_loss(targets)),
        Some(n) => Loss::parse(n).map_err(|_| {
            let mut valid = LOSS_NAMES.to_vec();
            valid.push("auto");
            Error::unknown_name("loss", n, &valid)
        }),
    }
}
