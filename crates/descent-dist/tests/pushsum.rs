//! Push-sum and SGP over the in-process transport: P9 §5.3 check 1 (mass conservation, exact
//! averaging on the one-peer exponential graph, consensus of the de-biased models on the random
//! time-varying digraph while the numerators alone stay biased), consensus under failed links,
//! thread-count independence, and SGP with a transform on local quadratics.

use descent_core::{Function, Gradient, Layout, Problem, RngStreams};
use descent_dist::{
    Gossip, InProcess, PushSumNode, Sgp, Topology, TransformLearner, Transport, network_mass,
};
use rand::RngExt;

const N: usize = 8;
const D: usize = 5;

fn initial(seed: u64) -> Vec<Vec<f64>> {
    let mut rng = RngStreams::new(seed).stream("x0");
    (0..N)
        .map(|_| (0..D).map(|_| rng.random::<f64>() * 4.0 - 2.0).collect())
        .collect()
}

fn gossip_nodes(x0: &[Vec<f64>]) -> Vec<PushSumNode<Gossip>> {
    x0.iter()
        .enumerate()
        .map(|(i, x)| PushSumNode::new(i, x.clone(), Gossip))
        .collect()
}

fn average(x0: &[Vec<f64>]) -> Vec<f64> {
    (0..D)
        .map(|c| x0.iter().map(|x| x[c]).sum::<f64>() / x0.len() as f64)
        .collect()
}

/// max over nodes and coordinates of |z_i − avg| (or |x_i − avg| when `debias` is false).
fn errors(nodes: &[PushSumNode<Gossip>], avg: &[f64], debias: bool) -> Vec<f64> {
    nodes
        .iter()
        .map(|n| {
            let v = if debias {
                n.debiased()
            } else {
                n.numerator().to_vec()
            };
            v.iter()
                .zip(avg)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
        })
        .collect()
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

/// Check 1a: with no gradient step, Σx and Σw are conserved every step to 1e-12 (relative),
/// on the non-regular random TV digraph where w moves far from 1.
#[test]
fn mass_is_conserved_every_step() {
    let x0 = initial(1);
    let (sx0, _) = network_mass(&gossip_nodes(&x0));
    let mut t = InProcess::new(gossip_nodes(&x0));
    let mut sgp = Sgp::new(Topology::parse("random-tv", N, 7).unwrap());
    let (mut wmin, mut wmax, mut worst) = (1.0f64, 1.0f64, 0.0f64);
    for _ in 0..200 {
        sgp.step(&mut t).unwrap();
        let (sx, sw) = network_mass(t.nodes());
        for (a, b) in sx.iter().zip(&sx0) {
            let err = (a - b).abs() / (1.0 + b.abs());
            worst = worst.max(err);
            assert!(err <= 1e-12, "Σx drifted by {err}");
        }
        assert!((sw - N as f64).abs() <= 1e-12, "Σw = {sw}");
        for n in t.nodes() {
            wmin = wmin.min(n.weight());
            wmax = wmax.max(n.weight());
        }
    }
    eprintln!("check 1a: max relative mass error {worst:.2e}; w in [{wmin:.3}, {wmax:.3}]");
    assert!(
        wmin < 0.5 && wmax > 1.5,
        "w in [{wmin}, {wmax}]: the graph hides w-bugs"
    );
}

/// Check 1b: n = 8, one-peer forward exponential graph: exact average after 3 steps (not
/// before); SGP's ±2^j list [+1, −1, +2, −2, +4] is exact after 5.
#[test]
fn one_peer_exponential_graph_averages_exactly() {
    let x0 = initial(2);
    let avg = average(&x0);
    for (spec, exact_at) in [("exp-forward", 3), ("exp", 5)] {
        let mut t = InProcess::new(gossip_nodes(&x0));
        let mut sgp = Sgp::new(Topology::parse(spec, N, 0).unwrap());
        for step in 1..=exact_at {
            sgp.step(&mut t).unwrap();
            let e = max(&errors(t.nodes(), &avg, true));
            if step < exact_at {
                assert!(e > 1e-3, "{spec}: already exact after {step} steps ({e})");
            } else {
                eprintln!("check 1b: {spec} error after {step} steps {e:.2e}");
                assert!(e <= 1e-12, "{spec}: error {e} after {step} steps");
            }
        }
        // regular graphs keep w = 1
        assert!(t.nodes().iter().all(|n| (n.weight() - 1.0).abs() < 1e-15));
    }
}

/// Check 1c: random TV digraph: z within 1e-6 of the average after 100 steps while the
/// numerators without de-biasing stay ≥ 1e-2 away on at least one node.
#[test]
fn debiased_models_reach_consensus_on_the_random_tv_digraph() {
    let x0 = initial(3);
    let avg = average(&x0);
    let mut t = InProcess::new(gossip_nodes(&x0));
    let mut sgp = Sgp::new(Topology::parse("random-tv", N, 11).unwrap());
    for _ in 0..100 {
        sgp.step(&mut t).unwrap();
    }
    let ez = max(&errors(t.nodes(), &avg, true));
    let ex = max(&errors(t.nodes(), &avg, false));
    eprintln!("check 1c: after 100 steps error of z {ez:.2e}, of x without de-biasing {ex:.3}");
    assert!(ez <= 1e-6, "{ez}");
    assert!(ex >= 1e-2, "{ex}");
}

/// Failed links (30 % per link and round) and dropped-out nodes (10 % per round): the sender
/// keeps every undelivered share, so the mass is conserved exactly and consensus still holds.
#[test]
fn consensus_holds_and_no_mass_is_lost_when_links_fail() {
    let x0 = initial(4);
    let avg = average(&x0);
    let (sx0, _) = network_mass(&gossip_nodes(&x0));
    let mut t = InProcess::new(gossip_nodes(&x0))
        .with_link_failures(0.3, 5)
        .unwrap()
        .with_dropout(0.1, 6)
        .unwrap();
    let mut sgp = Sgp::new(Topology::parse("random-tv", N, 12).unwrap());
    let mut undelivered = 0;
    for _ in 0..300 {
        let r = sgp.step(&mut t).unwrap();
        undelivered += r.traffic.p2p_undelivered;
        let (sx, sw) = network_mass(t.nodes());
        for (a, b) in sx.iter().zip(&sx0) {
            assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()));
        }
        assert!((sw - N as f64).abs() <= 1e-12);
    }
    let ez = max(&errors(t.nodes(), &avg, true));
    let delivered = t.total_traffic().p2p_messages;
    eprintln!(
        "drops: {undelivered} of {} shares undelivered; error of z after 300 steps {ez:.2e}",
        undelivered + delivered
    );
    assert!(undelivered as f64 > 0.3 * (undelivered + delivered) as f64);
    assert!(ez <= 1e-6, "{ez}");
}

/// f_i(x) = ½‖x − a_i‖²: the network optimum is the mean of the a_i.
struct Anchor {
    a: Vec<f64>,
    layout: Layout,
}

impl Function for Anchor {
    fn dim(&self) -> usize {
        self.a.len()
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        0.5 * x
            .iter()
            .zip(&self.a)
            .map(|(x, a)| (x - a) * (x - a))
            .sum::<f64>()
    }
}

impl Gradient for Anchor {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        for ((g, x), a) in g.iter_mut().zip(x).zip(&self.a) {
            *g = x - a;
        }
        self.value(x)
    }
}

impl Problem for Anchor {
    fn name(&self) -> String {
        "anchor".into()
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, gradient);
}

/// (numerator, weight, de-biased model) of every node after `rounds` rounds.
type Final = Vec<(Vec<f64>, f64, Vec<f64>)>;

fn sgp_run(spec: &str, parallel: bool, rounds: u64) -> Final {
    let anchors = initial(9);
    let nodes = anchors
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let p = Anchor {
                a: a.clone(),
                layout: Layout::flat(D),
            };
            let l = TransformLearner::new(p, spec, &RngStreams::new(i as u64)).unwrap();
            PushSumNode::new(i, vec![0.0; D], l)
        })
        .collect();
    let mut t = InProcess::new(nodes);
    if !parallel {
        t = t.serial();
    }
    let mut sgp = Sgp::new(Topology::parse("random-tv", N, 13).unwrap());
    for _ in 0..rounds {
        sgp.step(&mut t).unwrap();
    }
    t.nodes()
        .iter()
        .map(|n| (n.numerator().to_vec(), n.weight(), n.debiased()))
        .collect()
}

/// SGP with SGD on local quadratics over the non-regular digraph: the gradient taken at z and
/// applied to the numerator drives every z_i to the network optimum (mean of the anchors) up
/// to an O(η) neighbourhood (a constant step on the numerator moves z by η/w_i, and w_i ranges
/// over [0.05, 3] here, so η must be small), and a parallel run equals a serial one bit for bit.
#[test]
fn sgp_with_a_transform_reaches_the_network_optimum_and_is_thread_independent() {
    let opt = average(&initial(9));
    let dist = |nodes: &Final| {
        nodes
            .iter()
            .map(|n| {
                n.2.iter()
                    .zip(&opt)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max)
    };
    let coarse = sgp_run("sgd(lr=0.01)", true, 1000);
    let fine = sgp_run("sgd(lr=0.001)", true, 10_000);
    let (dc, df) = (dist(&coarse), dist(&fine));
    eprintln!("SGP on anchors: max |z_i − x*| {dc:.2e} (η = 0.01), {df:.2e} (η = 0.001)");
    assert!(dc < 0.1, "{dc}");
    assert!(df < dc / 5.0, "{df} vs {dc}");
    assert_eq!(
        sgp_run("sgd(lr=0.01)", true, 300),
        sgp_run("sgd(lr=0.01)", false, 300)
    );
}
