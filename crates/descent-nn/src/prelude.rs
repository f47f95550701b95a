//! One glob import for models: `use descent_nn::prelude::*;` brings the MLP, its activations,
//! initialisations and losses, the model+data [`Objective`] and the model builder.

pub use crate::{Activation, Init, Loss, Mlp, ModelSpec, Objective, build_model, parse_model};
