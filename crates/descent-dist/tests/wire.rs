//! Every message the algorithms send through a [`Transport`] has a little-endian byte encoding:
//! it round-trips bit for bit, its `wire_bytes()` is its encoded length, a truncated buffer or
//! trailing bytes are errors naming the message type and the byte offset, and FedAvg + PUF run
//! through a transport that encodes and decodes every message (what an MPI backend does) give
//! bit-identical weights and the same traffic as the zero-copy in-process backend; so does SGP
//! (push-sum shares) with failed links.

use std::borrow::Cow;
use std::sync::Arc;

use descent_core::{Result, RngStreams};
use descent_data::{Dataset, Targets};
use descent_dist::{
    Client, ClientUpdate, FedAvg, FedAvgConfig, Gathered, InProcess, Message, PufConfig, PushMsg,
    PushSumNode, RoundMsg, SERVER, Sgp, Topology, Traffic, TransformLearner, Transport, Wire,
    unlearn,
};
use descent_nn::{Activation, Init, Loss, Mlp};

fn encoded<T: Wire>(v: &T) -> Vec<u8> {
    let mut out = vec![0xAB]; // encode appends: a byte already in the buffer stays
    v.encode(&mut out);
    assert_eq!(out[0], 0xAB);
    out.remove(0);
    assert_eq!(
        out.len() as u64,
        v.wire_bytes(),
        "wire_bytes differs from the encoded length"
    );
    out
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Values whose bit patterns a lossy encoding would change.
fn awkward() -> Vec<f64> {
    vec![
        0.1,
        -0.0,
        f64::from_bits(0x7ff8_0000_dead_beef), // NaN with a payload
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE / 3.0, // subnormal
        f64::MAX,
        -1.0e-300,
    ]
}

/// Every strict prefix of `bytes` is an error naming `ty` and a byte offset; appending a byte
/// is an error at the message's end.
fn check_truncation<T: Wire + std::fmt::Debug>(bytes: &[u8], ty: &str) {
    for cut in 0..bytes.len() {
        let e = T::decode(&bytes[..cut]).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{ty} message:byte offset ")) && e.contains("truncated"),
            "{ty} cut at {cut}: {e}"
        );
    }
    let mut long = bytes.to_vec();
    long.push(0);
    let e = T::decode(&long).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{ty} message:byte offset {}: 1 trailing bytes after the end of the message",
            bytes.len()
        )
    );
}

#[test]
fn every_message_round_trips_bit_identically_and_sizes_match() {
    let w = awkward();
    // RoundMsg: lr, epochs, weights
    let msg = RoundMsg::new(&w, f64::from_bits(0xfff4_0000_0000_0001), 7);
    let b = encoded(&msg);
    assert_eq!(b.len(), 16 + 8 + 8 * w.len());
    assert_eq!(&b[..8], &msg.lr.to_bits().to_le_bytes());
    assert_eq!(&b[8..16], &7u64.to_le_bytes());
    assert_eq!(&b[16..24], &(w.len() as u64).to_le_bytes());
    let back = RoundMsg::decode(&b).unwrap();
    assert!(matches!(back.weights, Cow::Owned(_)));
    assert_eq!(bits(&back.weights), bits(&w));
    assert_eq!(back.lr.to_bits(), msg.lr.to_bits());
    assert_eq!(back.epochs, 7);
    check_truncation::<RoundMsg<'_>>(&b, "RoundMsg");

    // ClientUpdate: n, train_loss, steps, delta
    let up = ClientUpdate {
        delta: w.iter().rev().copied().collect(),
        n: u64::MAX - 3,
        train_loss: f64::NAN,
        steps: 1 << 40,
    };
    let b = encoded(&up);
    assert_eq!(b.len(), 24 + 8 + 8 * w.len());
    let back = ClientUpdate::decode(&b).unwrap();
    assert_eq!(bits(&back.delta), bits(&up.delta));
    assert_eq!(back.train_loss.to_bits(), up.train_loss.to_bits());
    assert_eq!((back.n, back.steps), (up.n, up.steps));
    check_truncation::<ClientUpdate>(&b, "ClientUpdate");

    // the plain payloads
    let b = encoded(&w);
    assert_eq!(bits(&Vec::<f64>::decode(&b).unwrap()), bits(&w));
    check_truncation::<Vec<f64>>(&b, "Vec<f64>");
    let b = encoded(&Vec::<f64>::new());
    assert_eq!(b, 0u64.to_le_bytes());
    assert!(Vec::<f64>::decode(&b).unwrap().is_empty());
    for x in awkward() {
        let b = encoded(&x);
        assert_eq!(f64::decode(&b).unwrap().to_bits(), x.to_bits());
        check_truncation::<f64>(&b, "f64");
    }
    assert!(encoded(&()).is_empty());
    <()>::decode(&[]).unwrap();
    check_truncation::<()>(&[], "()");
}

#[test]
fn truncation_errors_name_the_field_and_offset() {
    let up = ClientUpdate {
        delta: vec![1.0, 2.0, 3.0],
        n: 5,
        train_loss: 0.5,
        steps: 2,
    };
    let b = encoded(&up);
    assert_eq!(
        ClientUpdate::decode(&b[..20]).unwrap_err().to_string(),
        "ClientUpdate message:byte offset 16: truncated: 'steps' needs 8 bytes, 4 remain \
         (message of 20 bytes)"
    );
    // the last value cut: the length prefix promises 3 values, 2.5 remain
    assert_eq!(
        ClientUpdate::decode(&b[..b.len() - 4])
            .unwrap_err()
            .to_string(),
        "ClientUpdate message:byte offset 32: truncated: 'delta' needs 24 bytes (3 f64), 20 \
         remain (message of 52 bytes)"
    );
    // a corrupt length cannot allocate: it is checked against what remains
    let mut bad = b.clone();
    bad[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = ClientUpdate::decode(&bad).unwrap_err().to_string();
    assert!(
        e.starts_with("ClientUpdate message:byte offset 32: truncated: 'delta' needs"),
        "{e}"
    );
    let m = RoundMsg::new(&[1.0], 0.1, 1);
    let b = encoded(&m);
    assert_eq!(
        RoundMsg::decode(&b[..3]).unwrap_err().to_string(),
        "RoundMsg message:byte offset 0: truncated: 'lr' needs 8 bytes, 3 remain (message of 3 \
         bytes)"
    );
}

/// A transport that moves bytes: every payload is encoded, checked against `wire_bytes` and
/// decoded before the receiver sees it (down, up and point to point), over the in-process nodes.
struct Encoding<N>(InProcess<N>);

fn through_bytes<T: Wire>(v: &T) -> T {
    let mut buf = Vec::new();
    v.encode(&mut buf);
    assert_eq!(buf.len() as u64, v.wire_bytes());
    T::decode(&buf).unwrap()
}

impl<N: Send> Transport<N> for Encoding<N> {
    fn n_nodes(&self) -> usize {
        self.0.n_nodes()
    }
    fn broadcast_gather<B, R, F>(
        &mut self,
        round: u64,
        to: &[usize],
        payload: &B,
        min_replies: usize,
        work: F,
    ) -> Result<Gathered<R>>
    where
        B: Wire + Sync,
        R: Wire + Send,
        F: Fn(usize, &mut N, &Message<&B>) -> Result<Option<R>> + Sync,
    {
        let received = through_bytes(payload);
        self.0
            .broadcast_gather(round, to, &received, min_replies, |k, node, m| {
                Ok(work(k, node, m)?.map(|r| through_bytes(&r)))
            })
    }
    fn exchange_acked<M, S, V>(&mut self, round: u64, send: S, receive: V) -> Result<Traffic>
    where
        M: Wire + Send + Sync,
        S: Fn(usize, &mut N) -> Vec<(usize, M)> + Sync,
        V: Fn(usize, &mut N, &[Message<M>], &[(usize, M)]) + Sync,
    {
        self.0.exchange_acked(
            round,
            |k, node| {
                send(k, node)
                    .into_iter()
                    .map(|(d, m)| (d, through_bytes(&m)))
                    .collect()
            },
            receive,
        )
    }
    fn collect<R, F>(&mut self, f: F) -> Result<Option<Vec<R>>>
    where
        R: Wire + Send,
        F: Fn(usize, &N) -> R + Sync,
    {
        self.0.collect(|k, node| through_bytes(&f(k, node)))
    }
    fn total_traffic(&self) -> Traffic {
        self.0.total_traffic()
    }
}

#[test]
fn messages_round_trip_with_their_header() {
    for sender in [0, 7, SERVER] {
        let m = Message {
            round: 12,
            sender,
            payload: vec![1.5, -0.0, f64::NAN],
        };
        let mut buf = Vec::new();
        m.encode(&mut buf);
        assert_eq!(buf.len() as u64, m.bytes());
        let back: Message<Vec<f64>> = Message::decode(&buf).unwrap();
        assert_eq!((back.round, back.sender), (12, sender));
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.payload), bits(&m.payload));
        let e = Message::<Vec<f64>>::decode(&buf[..10]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Message message:byte offset 8: truncated: 'sender' needs 8 bytes, 2 remain \
             (message of 10 bytes)"
        );
    }
}

fn clients() -> (Vec<Client>, Vec<f64>) {
    let model = Mlp::new(vec![3, 5, 2], Activation::Tanh, true).unwrap();
    let clients = (0..3)
        .map(|k| {
            let n = 6 + 2 * k;
            let features = (0..n * 3)
                .map(|i| (((i + k) * 7) % 11) as f64 / 11.0 - 0.4)
                .collect();
            let labels = (0..n).map(|i| (i + k) % 2).collect();
            let data = Dataset::new(
                "toy",
                features,
                3,
                Targets::Classes {
                    labels,
                    n_classes: 2,
                },
            )
            .unwrap();
            Client::new(
                k,
                Arc::new(data),
                model.clone(),
                Loss::SoftmaxCe,
                4,
                "sgd",
                5,
            )
            .unwrap()
        })
        .collect();
    let init = model.init_params(Init::Xavier, &mut RngStreams::new(1).stream("init"));
    (clients, init)
}

#[test]
fn fedavg_and_puf_over_an_encoding_transport_equal_the_in_process_run() {
    let cfg = FedAvgConfig {
        lr: 0.3,
        ..FedAvgConfig::default()
    };
    let (nodes, init) = clients();
    let mut direct = InProcess::new(nodes);
    let mut fa = FedAvg::new(cfg.clone(), init.clone(), vec![0, 1, 2], 4).unwrap();
    let ra = fa.run(&mut direct, 3, |_, _| {}).unwrap();
    let ua = unlearn(&mut fa, &mut direct, &[1], &PufConfig::regular()).unwrap();

    let (nodes, _) = clients();
    let mut wire = Encoding(InProcess::new(nodes));
    let mut fb = FedAvg::new(cfg, init.clone(), vec![0, 1, 2], 4).unwrap();
    let rb = fb.run(&mut wire, 3, |_, _| {}).unwrap();
    let ub = unlearn(&mut fb, &mut wire, &[1], &PufConfig::regular()).unwrap();

    assert_ne!(bits(fa.weights()), bits(&init), "training moved nothing");
    assert_eq!(bits(fa.weights()), bits(fb.weights()));
    assert_eq!(ra, rb);
    assert_eq!(ua.round, ub.round);
    assert_eq!(direct.total_traffic(), wire.total_traffic());
    // 4 rounds × 3 clients, down 16 + (16 + 8 + 8P), up 16 + (24 + 8 + 8P)
    let p = init.len() as u64;
    let t = wire.total_traffic();
    assert_eq!(t.down_messages, 12);
    assert_eq!(t.down_bytes, 12 * (40 + 8 * p));
    assert_eq!(t.up_bytes, 12 * (48 + 8 * p));
}

#[test]
fn push_sum_shares_round_trip_and_sgp_over_bytes_equals_the_in_process_run() {
    let m = PushMsg {
        w: 0.25,
        x: awkward(),
    };
    let b = encoded(&m);
    let back = PushMsg::decode(&b).unwrap();
    assert_eq!(back.w.to_bits(), m.w.to_bits());
    assert_eq!(bits(&back.x), bits(&m.x));
    assert_eq!(m.wire_bytes(), 8 + 8 + 8 * 8);
    check_truncation::<PushMsg>(&b, "PushMsg");

    // SGP with a gradient step on a non-regular digraph with failed links, in process and
    // through bytes: bit-identical numerators, weights and traffic
    let run = |encode: bool| {
        let (clients, init) = clients();
        let nodes: Vec<_> = clients
            .into_iter()
            .map(|c| {
                let id = c.id();
                let data = c.data().clone();
                let model = c.model().clone();
                let obj = descent_nn::Objective::new(
                    model,
                    data,
                    Loss::SoftmaxCe,
                    4,
                    &RngStreams::new(id as u64),
                )
                .unwrap();
                let l = TransformLearner::new(obj, "sgd(lr=0.2)", &RngStreams::new(0)).unwrap();
                PushSumNode::new(id, init.clone(), l)
            })
            .collect();
        let inner = InProcess::new(nodes).with_link_failures(0.2, 3).unwrap();
        let mut sgp = Sgp::new(Topology::parse("random-tv", 3, 5).unwrap());
        let snapshot = |ns: &[PushSumNode<TransformLearner<descent_nn::Objective>>]| {
            ns.iter()
                .map(|n| (bits(n.numerator()), n.weight().to_bits()))
                .collect::<Vec<_>>()
        };
        if encode {
            let mut t = Encoding(inner);
            for _ in 0..20 {
                sgp.step(&mut t).unwrap();
            }
            (snapshot(t.0.nodes()), t.total_traffic())
        } else {
            let mut t = inner;
            for _ in 0..20 {
                sgp.step(&mut t).unwrap();
            }
            (snapshot(t.nodes()), t.total_traffic())
        }
    };
    let (a, ta) = run(false);
    let (b, tb) = run(true);
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    assert!(ta.p2p_undelivered > 0 && ta.p2p_messages > 0);
    assert!(a.iter().any(|(_, w)| f64::from_bits(*w) != 1.0));
}
