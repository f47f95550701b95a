//! One glob import for models: `use descent_nn::prelude::*;` brings the MLP, its activations,
//! initialisations and losses, the [`Model`] trait and [`SoftmaxRegression`], the model+data
//! [`Objective`] and the model builder.

pub use crate::{
    Activation, Init, Loss, Mlp, Model, ModelSpec, Objective, SoftmaxRegression, build_model,
    parse_model,
};
