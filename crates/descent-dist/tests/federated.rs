//! FedAvg and PUF end to end on a small digits federation: the parallel in-process transport is
//! bit-identical to a serial one, the update rules are exactly the spec's formulas, PUF moves no
//! extra bytes, learning-rate decay reaches the clients, dropped clients are tolerated.

use std::sync::Arc;

use descent_core::{Gradient, RngStreams};
use descent_data::{Dataset, Partition};
use descent_dist::client::RoundMsg;
use descent_dist::{
    Client, FedAvg, FedAvgConfig, InProcess, PufConfig, PufMode, accuracy, continue_without,
    recover, retrain_from_scratch, unlearn,
};
use descent_nn::{Activation, Init, Loss, Mlp, Objective};

const OPT: &str = "chain(of=[sgd(lr=0.1), decoupled_weight_decay(lr=0.1, weight_decay=0.001)])";

struct Fed {
    data: Vec<Arc<Dataset>>,
    test: Dataset,
    model: Mlp,
    init: Vec<f64>,
}

fn federation(clients: usize) -> Fed {
    let mut d = descent_data::digits().unwrap();
    d.features.iter_mut().for_each(|v| *v /= 16.0);
    let (train, test) =
        descent_data::split(&d, 0.25, &mut RngStreams::new(0).stream("split")).unwrap();
    let part = Partition::dirichlet(
        &train,
        clients,
        0.3,
        10,
        &mut RngStreams::new(1).stream("partition"),
    )
    .unwrap();
    let data = (0..clients)
        .map(|k| Arc::new(part.client_data(&train, k)))
        .collect();
    let model = Mlp::new(vec![64, 16, 10], Activation::Relu, true).unwrap();
    let init = model.init_params(Init::He, &mut RngStreams::new(7).stream("init"));
    Fed {
        data,
        test,
        model,
        init,
    }
}

fn transport(f: &Fed, opt: &str, batch: usize) -> InProcess<Client> {
    InProcess::new(
        f.data
            .iter()
            .enumerate()
            .map(|(k, d)| {
                Client::new(
                    k,
                    d.clone(),
                    f.model.clone(),
                    Loss::SoftmaxCe,
                    batch,
                    opt,
                    2,
                )
                .unwrap()
            })
            .collect(),
    )
}

fn server(f: &Fed, cfg: FedAvgConfig) -> FedAvg {
    FedAvg::new(cfg, f.init.clone(), (0..f.data.len()).collect(), 2).unwrap()
}

#[test]
fn parallel_transport_is_bit_identical_to_serial_and_learns() {
    let f = federation(10);
    let cfg = FedAvgConfig {
        fraction: 0.7,
        ..FedAvgConfig::default()
    };
    let mut par = transport(&f, OPT, 16);
    let mut ser = transport(&f, OPT, 16).serial();
    let mut a = server(&f, cfg.clone());
    let mut b = server(&f, cfg);
    let ra = a.run(&mut par, 12, |_, _| {}).unwrap();
    let rb = b.run(&mut ser, 12, |_, _| {}).unwrap();
    assert_eq!(ra, rb);
    assert!(
        a.weights()
            .iter()
            .zip(b.weights())
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
    // fraction 0.7 of 10 clients: 7 participate each round
    assert!(ra.iter().all(|r| r.participants.len() == 7));
    assert_ne!(ra[0].participants, ra[1].participants);
    let mut ws = f.model.workspace(128);
    let acc = accuracy(&f.model, a.weights(), &f.test, &mut ws);
    assert!(acc > 0.75, "test accuracy after 12 rounds {acc}"); // measured 0.797
}

#[test]
fn fedavg_is_sgd_on_the_pseudo_gradient_with_decayed_lr() {
    // one client, full batch, plain SGD, one epoch: w_{t+1} = w_t − lr_t ∇F(w_t)
    let f = federation(3);
    let mut tr = transport(&f, "sgd(lr=0.1)", 10_000);
    let cfg = FedAvgConfig {
        lr: 0.3,
        lr_decay: 0.9,
        ..FedAvgConfig::default()
    };
    let mut fed = FedAvg::new(cfg, f.init.clone(), vec![1], 0).unwrap();
    fed.run(&mut tr, 2, |_, _| {}).unwrap();
    let w2 = fed.weights().to_vec();
    let mut obj = Objective::new(
        f.model.clone(),
        f.data[1].clone(),
        Loss::SoftmaxCe,
        10_000,
        &RngStreams::new(0),
    )
    .unwrap();
    let mut g = vec![0.0; w2.len()];
    obj.value_grad(&w2, &mut g);
    let before = w2.clone();
    fed.step(&mut tr).unwrap();
    assert!((fed.lr_at(3) - 0.3 * 0.81).abs() < 1e-15);
    for ((w, b), gi) in fed.weights().iter().zip(&before).zip(&g) {
        assert!((w - (b - 0.3 * 0.81 * gi)).abs() < 1e-14);
    }
}

#[test]
fn puf_updates_follow_the_formulas_and_add_no_traffic() {
    let f = federation(5);
    let mut tr = transport(&f, OPT, 16);
    let mut fed = server(&f, FedAvgConfig::default());
    let normal = fed.run(&mut tr, 3, |_, _| {}).unwrap();
    let normal_bytes = normal[2].traffic.bytes();
    let sizes: Vec<f64> = f.data.iter().map(|d| d.len() as f64).collect();
    let w0 = fed.weights().to_vec();
    // every client's Δ of round 4 from w0, computed directly
    let msg = RoundMsg::new(&w0, fed.lr_at(4), 1);
    let mut direct: Vec<Vec<f64>> = Vec::new();
    for (k, d) in f.data.iter().enumerate() {
        let mut c =
            Client::new(k, d.clone(), f.model.clone(), Loss::SoftmaxCe, 16, OPT, 2).unwrap();
        direct.push(c.local_update(&msg, 4).unwrap().delta);
    }
    // Special, one target: w − 2 Δ_u
    let mut s = fed.clone();
    let rep = unlearn(&mut s, &mut tr, &[3], &PufConfig::special()).unwrap();
    for ((w, a), d) in s.weights().iter().zip(&w0).zip(&direct[3]) {
        assert!((w - (a - 2.0 * d)).abs() < 1e-12);
    }
    assert_eq!(s.active(), &[0, 1, 2, 4]);
    assert_eq!(rep.round.traffic.messages(), 2);
    assert!(rep.round.traffic.bytes() * 5 == normal_bytes);
    // Regular: N includes the target
    let mut r = fed.clone();
    let rep = unlearn(&mut r, &mut tr, &[3], &PufConfig::regular()).unwrap();
    assert_eq!(rep.round.traffic, normal[2].traffic);
    let n: f64 = sizes.iter().sum();
    for (i, w) in r.weights().iter().enumerate() {
        let mut e = w0[i];
        for k in 0..5 {
            let c = if k == 3 {
                -20.0 * sizes[k] / n
            } else {
                sizes[k] / n
            };
            e += c * direct[k][i];
        }
        assert!((w - e).abs() < 1e-12);
    }
    // concurrent Special = size-weighted average of the single-target negated updates
    let mut p = fed.clone();
    unlearn(&mut p, &mut tr, &[1, 3], &PufConfig::special()).unwrap();
    let (a, b) = (
        sizes[1] / (sizes[1] + sizes[3]),
        sizes[3] / (sizes[1] + sizes[3]),
    );
    for (i, w) in p.weights().iter().enumerate() {
        let single1 = w0[i] - 2.0 * direct[1][i];
        let single3 = w0[i] - 2.0 * direct[3][i];
        assert!((w - (a * single1 + b * single3)).abs() < 1e-12);
    }
    // errors
    let e = unlearn(&mut fed.clone(), &mut tr, &[7], &PufConfig::special()).unwrap_err();
    assert!(
        e.to_string()
            .contains("an active client of [0, 1, 2, 3, 4]"),
        "{e}"
    );
    let mut gone = fed.clone();
    gone.remove_clients(&[2]).unwrap();
    assert!(unlearn(&mut gone, &mut tr, &[2], &PufConfig::special()).is_err());
    assert!(
        unlearn(
            &mut fed.clone(),
            &mut tr,
            &[0, 1, 2, 3, 4],
            &PufConfig::special()
        )
        .is_err()
    );
    let bad = PufConfig {
        mode: PufMode::Special,
        eta_u: f64::NAN,
        epochs: 1,
    };
    assert!(unlearn(&mut fed.clone(), &mut tr, &[0], &bad).is_err());
}

#[test]
fn unlearning_forgets_and_recovery_reaches_the_retrained_accuracy() {
    let f = federation(5);
    let mut tr = transport(&f, OPT, 16);
    let mut fed = server(&f, FedAvgConfig::default());
    fed.run(&mut tr, 20, |_, _| {}).unwrap();
    let mut ws = f.model.workspace(128);
    let target = &f.data[0];
    let before = accuracy(&f.model, fed.weights(), target, &mut ws);
    let re = retrain_from_scratch(
        &fed,
        f.init.clone(),
        &[0, 1, 2, 3, 4],
        &[0],
        20,
        2,
        &mut tr,
        |_, _| {},
    )
    .unwrap();
    assert_eq!(re.active(), &[1, 2, 3, 4]);
    let goal = accuracy(&f.model, re.weights(), &f.test, &mut ws);
    let re_forget = accuracy(&f.model, re.weights(), target, &mut ws);
    let mut p = fed.clone();
    unlearn(&mut p, &mut tr, &[0], &PufConfig::special()).unwrap();
    let after = accuracy(&f.model, p.weights(), target, &mut ws);
    assert!(
        after < re_forget && after < before,
        "{after} {re_forget} {before}"
    );
    let rec = recover(&mut p, &mut tr, goal, 30, |w| {
        accuracy(&f.model, w, &f.test, &mut ws)
    })
    .unwrap();
    let r = rec.rounds.expect("recovered within the cap");
    assert!(r <= 15, "{r}");
    assert_eq!(rec.scores.len(), r + 1);
    assert!(rec.scores[r] >= goal);
    let nat = continue_without(&fed, &[0], 2, &mut tr, |_, _| {}).unwrap();
    assert_eq!(nat.round(), 22);
    assert_eq!(nat.active(), &[1, 2, 3, 4]);
}

#[test]
fn dropped_clients_are_tolerated_down_to_the_minimum() {
    let f = federation(10);
    let mut tr = transport(&f, OPT, 16).with_dropout(0.3, 5).unwrap();
    let mut fed = server(&f, FedAvgConfig::default());
    let reps = fed.run(&mut tr, 6, |_, _| {}).unwrap();
    let dropped: usize = reps.iter().map(|r| r.dropped.len()).sum();
    assert!(dropped > 0);
    for r in &reps {
        assert_eq!(r.participants.len() + r.dropped.len(), 10);
        assert!(r.participants.iter().all(|k| !r.dropped.contains(k)));
        assert!(!tr.drops(r.round, r.participants[0]));
    }
    let strict = FedAvgConfig {
        min_clients: 10,
        ..FedAvgConfig::default()
    };
    let mut fed = server(&f, strict);
    let e = fed.run(&mut tr, 6, |_, _| {}).unwrap_err().to_string();
    assert!(
        e.contains("expected at least 10 (the configured minimum)"),
        "{e}"
    );
    let e = FedAvg::new(
        FedAvgConfig {
            fraction: 1.5,
            ..FedAvgConfig::default()
        },
        vec![],
        vec![0],
        0,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value for 'fedavg.fraction': got 1.5, expected a number in (0, 1]"
    );
}
