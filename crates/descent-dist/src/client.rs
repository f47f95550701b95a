//! A federated [`Client`]: its local data, the model and loss, and a local optimizer (any
//! `Transform` built from a spec), trained for E epochs from the global model each round.

use std::borrow::Cow;
use std::sync::Arc;

use descent_core::{Error, Gradient, Layout, Result, RngStreams, Spec, Stochastic};
use descent_data::Dataset;
use descent_nn::{Loss, Mlp, Model, Objective, check_compatible};
use descent_optim::{Transform, build_transform};

use crate::transport::{Wire, WireReader, f64s_bytes, put_f64, put_f64s, put_u64};

/// Fixed part of a [`RoundMsg`] besides the weights: lr (f64) and epochs (u64).
pub const ROUND_MSG_HEADER: u64 = 16;

/// The server's broadcast in one round: the current global weights, the local learning rate of
/// this round and the number of local epochs (P3 §5.4: header + P floats). The weights are
/// borrowed from the server when the message stays in the process (no copy) and owned when it
/// was decoded from bytes ([`Wire::decode`], e.g. on another MPI rank).
#[derive(Debug, Clone, PartialEq)]
pub struct RoundMsg<'a> {
    /// The global model w_t (flat, the model's layout).
    pub weights: Cow<'a, [f64]>,
    /// The local learning rate of this round.
    pub lr: f64,
    /// E: local epochs over the client's data.
    pub epochs: usize,
}

impl<'a> RoundMsg<'a> {
    /// A broadcast that borrows the server's weights.
    pub fn new(weights: &'a [f64], lr: f64, epochs: usize) -> Self {
        RoundMsg {
            weights: Cow::Borrowed(weights),
            lr,
            epochs,
        }
    }
}

/// Encoding: lr (f64), epochs (u64), weights (u64 count + f64 values).
impl Wire for RoundMsg<'_> {
    fn wire_bytes(&self) -> u64 {
        ROUND_MSG_HEADER + f64s_bytes(self.weights.len())
    }
    fn encode(&self, out: &mut Vec<u8>) {
        put_f64(out, self.lr);
        put_u64(out, self.epochs as u64);
        put_f64s(out, &self.weights);
    }
    fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = WireReader::new("RoundMsg", bytes);
        let lr = r.f64("lr")?;
        let epochs = r.usize("epochs")?;
        let weights = Cow::Owned(r.f64s("weights")?);
        r.finish()?;
        Ok(RoundMsg {
            weights,
            lr,
            epochs,
        })
    }
}

/// Fixed part of a [`ClientUpdate`] besides Δ: n (u64), train_loss (f64), steps (u64).
pub const CLIENT_UPDATE_HEADER: u64 = 24;

/// A client's reply: its pseudo-gradient Δ = w_local − w_global, its sample count n_k and the
/// mean training loss and number of its local steps (P3 §5.4: P floats + n_k, plus 2 numbers).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientUpdate {
    /// The pseudo-gradient Δ = w_local − w_global (flat, the model's layout).
    pub delta: Vec<f64>,
    /// n_k: the client's training samples (the FedAvg weight).
    pub n: u64,
    /// Mean training loss over the client's local steps.
    pub train_loss: f64,
    /// Local minibatch steps taken (gradient evaluations).
    pub steps: u64,
}

/// Encoding: n (u64), train_loss (f64), steps (u64), delta (u64 count + f64 values).
impl Wire for ClientUpdate {
    fn wire_bytes(&self) -> u64 {
        CLIENT_UPDATE_HEADER + f64s_bytes(self.delta.len())
    }
    fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, self.n);
        put_f64(out, self.train_loss);
        put_u64(out, self.steps);
        put_f64s(out, &self.delta);
    }
    fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = WireReader::new("ClientUpdate", bytes);
        let n = r.u64("n")?;
        let train_loss = r.f64("train_loss")?;
        let steps = r.u64("steps")?;
        let delta = r.f64s("delta")?;
        r.finish()?;
        Ok(ClientUpdate {
            delta,
            n,
            train_loss,
            steps,
        })
    }
}

/// One federated client. Its minibatch order in round t comes from the stream
/// (seed, client id, t), so a client trained from the same weights in the same round gives the
/// same update whichever run asks (original, retrain, unlearning) and whichever thread runs it.
///
/// Any [`Model`] trains (the default is [`Mlp`]): the client is generic, so its local steps run
/// the model's own code through a monomorphised [`Objective`].
pub struct Client<M: Model = Mlp> {
    id: usize,
    data: Arc<Dataset>,
    model: M,
    loss: Loss,
    layout: Layout,
    batch_size: usize,
    transform: Box<dyn Transform>,
    /// The spec text, or the transform's name when built from a typed transform.
    transform_spec: String,
    seed: u64,
    grad: Vec<f64>,
}

impl<M: Model> std::fmt::Debug for Client<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("n", &self.data.len())
            .field("model", &self.model.describe())
            .field("optimizer", &self.transform_spec)
            .finish()
    }
}

impl<M: Model> Client<M> {
    /// A client with data `data`, training `model` under `loss` with minibatches of
    /// `batch_size` and the local optimizer `optimizer` (a transform spec with an `lr`
    /// hyperparameter, e.g. `chain(of=[sgd(lr=0.1), decoupled_weight_decay(lr=0.1,
    /// weight_decay=1e-3)])`, set every round by the server's schedule). Errors name the part
    /// that does not fit.
    pub fn new(
        id: usize,
        data: Arc<Dataset>,
        model: M,
        loss: Loss,
        batch_size: usize,
        optimizer: &str,
        seed: u64,
    ) -> Result<Client<M>> {
        let transform = build_transform(&Spec::parse(optimizer)?)?;
        let local = (transform, optimizer.to_string());
        Client::assemble(id, data, model, loss, batch_size, local, seed)
    }

    /// [`Client::new`] with a typed local optimizer instead of a spec, e.g.
    /// `Box::new(Sgd::new(SgdConfig { lr: 0.1, ..Default::default() }))`. It must have an `lr`
    /// hyperparameter (the server sets it every round); it is rebuilt at the start of every
    /// round.
    pub fn with_transform(
        id: usize,
        data: Arc<Dataset>,
        model: M,
        loss: Loss,
        batch_size: usize,
        transform: Box<dyn Transform>,
        seed: u64,
    ) -> Result<Client<M>> {
        let name = transform.name();
        Client::assemble(id, data, model, loss, batch_size, (transform, name), seed)
    }

    /// Checks the parts and builds the client; `local` is the transform and its description.
    fn assemble(
        id: usize,
        data: Arc<Dataset>,
        model: M,
        loss: Loss,
        batch_size: usize,
        local: (Box<dyn Transform>, String),
        seed: u64,
    ) -> Result<Client<M>> {
        let (transform, transform_spec) = local;
        check_compatible(&model, loss, &data)?;
        if batch_size == 0 {
            return Err(Error::invalid("client.batch_size", 0, "an integer >= 1"));
        }
        if transform.hyper("lr").is_none() {
            return Err(Error::invalid(
                "client.optimizer",
                transform_spec,
                "a transform with an 'lr' hyperparameter (the server sets it every round)",
            ));
        }
        let layout = model.layout();
        Ok(Client {
            id,
            grad: vec![0.0; layout.len()],
            data,
            model,
            loss,
            layout,
            batch_size,
            transform,
            transform_spec,
            seed,
        })
    }

    /// The client id.
    pub fn id(&self) -> usize {
        self.id
    }

    /// The model the client trains.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// Number of local samples n_k.
    pub fn n(&self) -> usize {
        self.data.len()
    }

    /// The local data.
    pub fn data(&self) -> &Arc<Dataset> {
        &self.data
    }

    /// Replaces the local data (same feature width and classes), e.g. to plant a backdoor.
    pub fn set_data(&mut self, data: Arc<Dataset>) -> Result<()> {
        check_compatible(&self.model, self.loss, &data)?;
        self.data = data;
        Ok(())
    }

    /// Minibatch steps per local epoch: ⌈n_k / B⌉.
    pub fn steps_per_epoch(&self) -> usize {
        self.data.len().div_ceil(self.batch_size)
    }

    /// Local training of round `round`: starting from `msg.weights`, `msg.epochs` epochs of
    /// shuffled minibatches with the local optimizer freshly built (as the authors' Keras code
    /// compiles a new optimizer per round) and its `lr` set to `msg.lr`. Returns Δ = w − w_global.
    pub fn local_update(&mut self, msg: &RoundMsg<'_>, round: u64) -> Result<ClientUpdate> {
        self.layout.check_len("global weights", msg.weights.len())?;
        let streams = RngStreams::new(
            RngStreams::new(self.seed).child_seed("client-round", ((self.id as u64) << 32) | round),
        );
        let mut obj = Objective::new(
            self.model.clone(),
            self.data.clone(),
            self.loss,
            self.batch_size,
            &streams,
        )?;
        self.transform.build(&self.layout, &streams)?;
        self.transform.set_hyper("lr", msg.lr)?;
        let mut x = msg.weights.to_vec();
        let steps = msg.epochs * obj.batches_per_epoch();
        let mut total = 0.0;
        for s in 1..=steps {
            obj.resample();
            total += obj.value_grad(&x, &mut self.grad);
            self.transform.update(s as u64, &mut self.grad, &x);
            x.iter_mut().zip(&self.grad).for_each(|(xi, u)| *xi += u);
        }
        x.iter_mut()
            .zip(msg.weights.iter())
            .for_each(|(xi, w)| *xi -= w);
        Ok(ClientUpdate {
            delta: x,
            n: self.data.len() as u64,
            train_loss: if steps > 0 {
                total / steps as f64
            } else {
                f64::NAN
            },
            steps: steps as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_data::Targets;
    use descent_nn::{Activation, Init};

    fn toy(n: usize) -> Arc<Dataset> {
        let features: Vec<f64> = (0..n * 3).map(|i| ((i * 7) % 11) as f64 / 11.0).collect();
        let labels = (0..n).map(|i| i % 2).collect();
        Arc::new(
            Dataset::new(
                "toy",
                features,
                3,
                Targets::Classes {
                    labels,
                    n_classes: 2,
                },
            )
            .unwrap(),
        )
    }

    #[test]
    fn one_full_batch_sgd_step_is_minus_lr_times_the_gradient() {
        let data = toy(8);
        let model = Mlp::new(vec![3, 4, 2], Activation::Tanh, true).unwrap();
        let mut c =
            Client::new(0, data.clone(), model.clone(), Loss::SoftmaxCe, 8, "sgd", 1).unwrap();
        let w = model.init_params(Init::Xavier, &mut RngStreams::new(3).stream("init"));
        let u = c.local_update(&RoundMsg::new(&w, 0.05, 1), 1).unwrap();
        let mut obj = Objective::new(model, data, Loss::SoftmaxCe, 8, &RngStreams::new(0)).unwrap();
        let mut g = vec![0.0; w.len()];
        obj.value_grad(&w, &mut g);
        for (d, gi) in u.delta.iter().zip(&g) {
            assert!((d + 0.05 * gi).abs() < 1e-15);
        }
        assert_eq!(u.n, 8);
    }

    #[test]
    fn a_typed_transform_gives_the_spec_built_update() {
        let data = toy(8);
        let model = Mlp::new(vec![3, 4, 2], Activation::Tanh, true).unwrap();
        let w = model.init_params(Init::Xavier, &mut RngStreams::new(4).stream("init"));
        let spec = "sgd(momentum=0.9)";
        let mut a = Client::new(0, data.clone(), model.clone(), Loss::SoftmaxCe, 3, spec, 5);
        let typed = build_transform(&Spec::parse(spec).unwrap()).unwrap();
        let mut b = Client::with_transform(0, data, model, Loss::SoftmaxCe, 3, typed, 5);
        let msg = RoundMsg::new(&w, 0.1, 2);
        let (ua, ub) = (a.as_mut().unwrap(), b.as_mut().unwrap());
        assert_eq!(
            ua.local_update(&msg, 1).unwrap(),
            ub.local_update(&msg, 1).unwrap()
        );
    }

    #[test]
    fn bad_parts_are_named_errors() {
        let model = Mlp::new(vec![3, 2], Activation::Identity, true).unwrap();
        let e = Client::new(
            0,
            toy(4),
            model.clone(),
            Loss::SoftmaxCe,
            2,
            "clip_norm(max=1)",
            0,
        )
        .unwrap_err();
        assert!(e.to_string().contains("'lr' hyperparameter"), "{e}");
        let e = Client::new(0, toy(4), model.clone(), Loss::SoftmaxCe, 0, "sgd", 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for 'client.batch_size': got 0, expected an integer >= 1"
        );
        let wide = Mlp::new(vec![5, 2], Activation::Identity, true).unwrap();
        assert!(Client::new(0, toy(4), wide, Loss::SoftmaxCe, 2, "sgd", 0).is_err());
        let mut c = Client::new(0, toy(4), model, Loss::SoftmaxCe, 2, "sgd", 0).unwrap();
        let e = c
            .local_update(&RoundMsg::new(&[0.0; 3], 0.1, 1), 1)
            .unwrap_err();
        assert!(e.to_string().contains("global weights"), "{e}");
    }
}
