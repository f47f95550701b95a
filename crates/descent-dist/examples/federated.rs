//! Federated averaging on the embedded UCI digits: 10 clients with label-skewed (Dirichlet)
//! shares of the training data, an MLP 64-32-10, 30 FedAvg rounds of one local epoch each, and
//! the global model's test accuracy after every fifth round.
//! `cargo run --release -p descent-dist --example federated`

use std::sync::Arc;

use descent_core::{Result, RngStreams};
use descent_data::{Partition, Standardizer};
use descent_dist::{Client, FedAvg, FedAvgConfig, InProcess, accuracy};
use descent_nn::{Activation, Init, Loss, Mlp, Workspace};

fn main() -> Result<()> {
    let streams = RngStreams::new(0); // one seed fixes the split, the shares, the init and the batches
    let digits = descent_data::digits()?; // 1797 images of 8 × 8 pixels, 10 classes
    let (mut train, mut test) = descent_data::split(&digits, 0.2, &mut streams.stream("split"))?;
    let standardizer = Standardizer::fit(&train)?;
    standardizer.transform(&mut train)?;
    standardizer.transform(&mut test)?;

    // each client's share of each class is Dirichlet(α = 0.5): non-IID clients
    let clients = 10;
    let shares = Partition::dirichlet(&train, clients, 0.5, 10, &mut streams.stream("partition"))?;
    let model = Mlp::new(vec![64, 32, 10], Activation::Relu, true)?;
    let nodes = (0..clients)
        .map(|k| {
            let data = Arc::new(shares.client_data(&train, k));
            Client::new(
                k,
                data,
                model.clone(),
                Loss::SoftmaxCe,
                16,
                "sgd(lr=0.1)",
                0,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let mut transport = InProcess::new(nodes);

    let init = model.init_params(Init::He, &mut streams.stream("init"));
    let cfg = FedAvgConfig {
        lr: 0.1,
        local_epochs: 1,
        ..FedAvgConfig::default()
    };
    let mut server = FedAvg::new(cfg, init, (0..clients).collect(), 0)?;
    let mut ws = Workspace::new(&model, test.len());
    let before = accuracy(&model, server.weights(), &test, &mut ws);
    println!("round  0: test accuracy {before:.3}");
    let mut last = before;
    server.run(&mut transport, 30, |s, report| {
        if report.round % 5 == 0 {
            last = accuracy(&model, s.weights(), &test, &mut ws);
            println!(
                "round {:2}: test accuracy {last:.3}, mean local loss {:.3}, {} bytes",
                report.round,
                report.train_loss,
                report.traffic.down_bytes + report.traffic.up_bytes
            );
        }
    })?;
    assert!(
        last > 0.9 && last > before,
        "FedAvg should learn the digits"
    );
    Ok(())
}
