//! Time-varying directed communication graphs for push-sum (P9 §2.5) and their uniform
//! column-stochastic mixing weights.
//!
//! The graph of round k is a pure function of (kind, n, seed, k), so every rank of a
//! distributed run derives the same graph and knows its in-neighbours without a count exchange
//! (P9 §5.4). A [`Digraph`] holds both the out- and in-neighbour lists of one round (self loops
//! excluded: every node always keeps a share of its own mass). Each sender i splits its mass
//! uniformly, p_ji = 1/(|N_i^out| + 1) for j ∈ N_i^out ∪ {i}: the mixing matrix is
//! column-stochastic by construction (P9 pitfall 2), as SGP's `UniformMixing`.
//!
//! Kinds (spec names for [`Topology::parse`]):
//! - `exp(peers=1)`: SGP's dynamic directed exponential graph. Node r's peer list is
//!   [r+1, r−1, r+2, r−2, r+4, r−4, …] (mod n, powers of two up to ⌊log₂(n−1)⌋, duplicates
//!   removed as SGP's `_add_peers` does); in round k it sends to the `peers` consecutive entries
//!   starting at position k·peers (cycling). All nodes use the same positions, so every round is
//!   a union of shifts and the graph is regular.
//! - `exp-forward`: one peer, forward only: i → i + 2^(k mod ⌈log₂ n⌉). With n = 2^m every
//!   node holds the exact average after m rounds (P9 §3 item 3).
//! - `npeer-exp(peers=k)`: SGP's `NPeerDynamicDirectedExponentialGraph`: forward list
//!   j·(k+1)^i for j = 1..k, cycled k entries per round.
//! - `ring`: the static directed ring i → i+1.
//! - `out-regular(degree=d)`: every round each node sends to d distinct uniformly random
//!   other nodes.
//! - `erdos-renyi(p=0.3)`: every round a directed G(n, p), redrawn (deterministically) until it
//!   is strongly connected.
//! - `random-tv`: P9 §2.5: in round k node i sends to {i+1 if k ≡ 0 (mod 3)} ∪ a uniformly
//!   random set of 0–2 other nodes (its size uniform in {0, 1, 2}). Not regular, so push-sum
//!   weights move away from 1; the union over any 3 consecutive rounds contains the ring (B = 3).

use descent_core::rng::Rng;
use descent_core::{Error, Result, RngStreams, Spec};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// The names [`Topology::parse`] accepts.
pub const TOPOLOGY_NAMES: [&str; 7] = [
    "exp",
    "exp-forward",
    "npeer-exp",
    "ring",
    "out-regular",
    "erdos-renyi",
    "random-tv",
];

/// Redraws of an Erdős–Rényi round before giving up on strong connectivity.
pub const ER_MAX_ATTEMPTS: u64 = 10_000;

/// A family of (possibly time-varying) directed graphs; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TopologyKind {
    /// SGP's ±2^j peer list, `peers` out-neighbours per round (1 = SGP's default).
    Exponential {
        /// Out-neighbours per node and round.
        peers: usize,
    },
    /// One peer forward, i → i + 2^(k mod ⌈log₂ n⌉) (P9 §5.3 check 1b).
    ExponentialForward,
    /// SGP's n-peer forward list j·(peers+1)^i.
    NPeerExponential {
        /// Peers per node and round.
        peers: usize,
    },
    /// The static directed ring i → i+1.
    Ring,
    /// `degree` distinct random out-neighbours per node and round.
    RandomOutRegular {
        /// Out-degree of every node.
        degree: usize,
    },
    /// A strongly connected directed Erdős–Rényi G(n, p) per round.
    ErdosRenyi {
        /// Edge probability in (0, 1].
        p: f64,
    },
    /// P9 §2.5's random time-varying digraph (B = 3).
    RandomTimeVarying,
}

impl std::fmt::Display for TopologyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TopologyKind::Exponential { peers } => write!(f, "exp(peers={peers})"),
            TopologyKind::ExponentialForward => f.write_str("exp-forward"),
            TopologyKind::NPeerExponential { peers } => write!(f, "npeer-exp(peers={peers})"),
            TopologyKind::Ring => f.write_str("ring"),
            TopologyKind::RandomOutRegular { degree } => write!(f, "out-regular(degree={degree})"),
            TopologyKind::ErdosRenyi { p } => write!(f, "erdos-renyi(p={p})"),
            TopologyKind::RandomTimeVarying => f.write_str("random-tv"),
        }
    }
}

/// One round's directed graph on nodes 0..n: sorted out- and in-neighbour lists, self loops
/// excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digraph {
    out: Vec<Vec<usize>>,
    inn: Vec<Vec<usize>>,
}

impl Digraph {
    /// The graph with these out-neighbour lists (sorted and de-duplicated here). Errors: an id
    /// out of range or a self loop, naming the node.
    pub fn from_out_lists(mut out: Vec<Vec<usize>>) -> Result<Digraph> {
        let n = out.len();
        let mut inn = vec![Vec::new(); n];
        for (i, list) in out.iter_mut().enumerate() {
            list.sort_unstable();
            list.dedup();
            for &j in list.iter() {
                if j >= n {
                    return Err(Error::invalid(
                        format!("out-neighbour of node {i}"),
                        j,
                        format!("a node id in 0..{n}"),
                    ));
                }
                if j == i {
                    return Err(Error::invalid(
                        format!("out-neighbour of node {i}"),
                        j,
                        "another node (self loops are implicit: every node keeps a share)",
                    ));
                }
                inn[j].push(i);
            }
        }
        // pushed in ascending i, so every in-list is sorted
        Ok(Digraph { out, inn })
    }

    /// Number of nodes.
    pub fn n(&self) -> usize {
        self.out.len()
    }

    /// Out-neighbours of `i` (ascending, without i).
    pub fn out_neighbours(&self, i: usize) -> &[usize] {
        &self.out[i]
    }

    /// In-neighbours of `i` (ascending, without i): whom i receives from this round.
    pub fn in_neighbours(&self, i: usize) -> &[usize] {
        &self.inn[i]
    }

    /// The mixing weight p_ji = 1/(|N_i^out| + 1) that sender `i` gives each out-neighbour j
    /// and keeps for itself.
    pub fn share(&self, i: usize) -> f64 {
        1.0 / (self.out[i].len() + 1) as f64
    }

    /// Number of directed edges (self loops not counted).
    pub fn edges(&self) -> usize {
        self.out.iter().map(Vec::len).sum()
    }

    /// The column-stochastic mixing matrix P (row-major n × n, P[j·n + i] = p_ji: the share of
    /// node i's mass that lands on node j).
    pub fn mixing_matrix(&self) -> Vec<f64> {
        let n = self.n();
        let mut p = vec![0.0; n * n];
        for i in 0..n {
            let s = self.share(i);
            p[i * n + i] = s;
            for &j in &self.out[i] {
                p[j * n + i] = s;
            }
        }
        p
    }

    /// True when every row of the mixing matrix also sums to 1 (then push-sum weights stay 1:
    /// such a graph cannot reveal a bug in the weight bookkeeping, P9 pitfall 3).
    pub fn is_doubly_stochastic(&self) -> bool {
        (0..self.n()).all(|j| {
            let row: f64 = self.share(j) + self.inn[j].iter().map(|&i| self.share(i)).sum::<f64>();
            (row - 1.0).abs() <= 1e-12
        })
    }

    /// The union of two graphs on the same nodes.
    pub fn union(&self, other: &Digraph) -> Result<Digraph> {
        if other.n() != self.n() {
            return Err(Error::shape("digraph union", self.n(), other.n()));
        }
        Digraph::from_out_lists(
            self.out
                .iter()
                .zip(&other.out)
                .map(|(a, b)| a.iter().chain(b).copied().collect())
                .collect(),
        )
    }

    /// True when every node reaches every other along directed edges.
    pub fn is_strongly_connected(&self) -> bool {
        let n = self.n();
        n <= 1 || (reaches_all(&self.out) && reaches_all(&self.inn))
    }
}

/// True when node 0 reaches every node along `adj`.
fn reaches_all(adj: &[Vec<usize>]) -> bool {
    let mut seen = vec![false; adj.len()];
    let mut stack = vec![0];
    seen[0] = true;
    let mut count = 1;
    while let Some(i) = stack.pop() {
        for &j in &adj[i] {
            if !seen[j] {
                seen[j] = true;
                count += 1;
                stack.push(j);
            }
        }
    }
    count == adj.len()
}

/// A time-varying directed topology on n nodes: the graph of round k is derived from
/// (kind, n, seed, k) alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    kind: TopologyKind,
    n: usize,
    seed: u64,
}

impl Topology {
    /// A topology of `kind` on `n` nodes; random kinds draw round k's graph from the stream
    /// (`seed`, "topology", k). Errors name the field, the value and the valid range.
    pub fn new(kind: TopologyKind, n: usize, seed: u64) -> Result<Topology> {
        if n < 2 {
            return Err(Error::invalid(
                "topology.nodes",
                n,
                "at least 2 nodes (a graph of one node has nothing to mix)",
            ));
        }
        match kind {
            TopologyKind::Exponential { peers } => {
                let list = exponential_list(0, n).len();
                if peers == 0 || peers > list {
                    return Err(Error::invalid(
                        "exp.peers",
                        peers,
                        format!(
                            "an integer in 1..={list} (the length of the ±2^j list for n = {n})"
                        ),
                    ));
                }
            }
            TopologyKind::NPeerExponential { peers } => {
                let list = npeer_list(0, n, peers.max(1)).len();
                if peers == 0 || peers > list {
                    return Err(Error::invalid(
                        "npeer-exp.peers",
                        peers,
                        format!(
                            "an integer >= 1 and at most the length of the forward list \
                             ({list} for n = {n})"
                        ),
                    ));
                }
            }
            TopologyKind::RandomOutRegular { degree } => {
                if degree == 0 || degree >= n {
                    return Err(Error::invalid(
                        "out-regular.degree",
                        degree,
                        format!("an integer in 1..={}", n - 1),
                    ));
                }
            }
            TopologyKind::ErdosRenyi { p } => {
                if !(p > 0.0 && p <= 1.0) {
                    return Err(Error::invalid(
                        "erdos-renyi.p",
                        p,
                        "an edge probability in (0, 1]",
                    ));
                }
            }
            TopologyKind::ExponentialForward
            | TopologyKind::Ring
            | TopologyKind::RandomTimeVarying => {}
        }
        Ok(Topology { kind, n, seed })
    }

    /// Parses a spec such as `exp(peers=2)`, `random-tv` or `erdos-renyi(p=0.3)` (names in
    /// [`TOPOLOGY_NAMES`]; unknown names and keys are errors listing the valid ones).
    pub fn parse(text: &str, n: usize, seed: u64) -> Result<Topology> {
        let spec = Spec::parse(text)?;
        let kind = match spec.name.as_str() {
            "exp" => TopologyKind::Exponential {
                peers: spec.args(&["peers"])?.usize("peers", 1)?,
            },
            "exp-forward" => {
                spec.args(&[])?;
                TopologyKind::ExponentialForward
            }
            "npeer-exp" => TopologyKind::NPeerExponential {
                peers: spec.args(&["peers"])?.usize("peers", 1)?,
            },
            "ring" => {
                spec.args(&[])?;
                TopologyKind::Ring
            }
            "out-regular" => TopologyKind::RandomOutRegular {
                degree: spec.args(&["degree"])?.usize("degree", 1)?,
            },
            "erdos-renyi" => TopologyKind::ErdosRenyi {
                p: spec.args(&["p"])?.f64("p", 0.3)?,
            },
            "random-tv" => {
                spec.args(&[])?;
                TopologyKind::RandomTimeVarying
            }
            other => return Err(Error::unknown_name("topology", other, &TOPOLOGY_NAMES)),
        };
        Topology::new(kind, n, seed)
    }

    /// The kind.
    pub fn kind(&self) -> TopologyKind {
        self.kind
    }

    /// Number of nodes.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The seed of the random kinds.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The graph of round `round`. Only `erdos-renyi` can fail: when no strongly connected
    /// draw appears in [`ER_MAX_ATTEMPTS`] attempts (p far too small for n).
    pub fn graph(&self, round: u64) -> Result<Digraph> {
        let n = self.n;
        let out: Vec<Vec<usize>> = match self.kind {
            TopologyKind::Exponential { peers } => (0..n)
                .map(|i| cycled(&exponential_list(i, n), round, peers))
                .collect(),
            TopologyKind::ExponentialForward => {
                let m = ceil_log2(n);
                let hop = 1usize << (round % m as u64);
                (0..n).map(|i| vec![(i + hop) % n]).collect()
            }
            TopologyKind::NPeerExponential { peers } => (0..n)
                .map(|i| cycled(&npeer_list(i, n, peers), round, peers))
                .collect(),
            TopologyKind::Ring => (0..n).map(|i| vec![(i + 1) % n]).collect(),
            TopologyKind::RandomOutRegular { degree } => {
                let mut rng = self.round_rng(round, 0);
                (0..n)
                    .map(|i| random_others(&mut rng, n, i, degree))
                    .collect()
            }
            TopologyKind::ErdosRenyi { p } => {
                for attempt in 0..ER_MAX_ATTEMPTS {
                    let mut rng = self.round_rng(round, attempt);
                    let out: Vec<Vec<usize>> = (0..n)
                        .map(|i| {
                            (0..n)
                                .filter(|&j| j != i && rng.random::<f64>() < p)
                                .collect()
                        })
                        .collect();
                    let g = Digraph::from_out_lists(out)?;
                    if g.is_strongly_connected() {
                        return Ok(g);
                    }
                }
                return Err(Error::invalid(
                    "erdos-renyi.p",
                    p,
                    format!(
                        "an edge probability large enough that G({n}, p) is strongly connected \
                         (no strongly connected draw in {ER_MAX_ATTEMPTS} attempts in round \
                         {round}; about p >= 2·ln(n)/n = {:.3} works)",
                        2.0 * (n as f64).ln() / n as f64
                    ),
                ));
            }
            TopologyKind::RandomTimeVarying => {
                let mut rng = self.round_rng(round, 0);
                (0..n)
                    .map(|i| {
                        let extra = rng.random_range(0..=2usize).min(n - 1);
                        let mut out = random_others(&mut rng, n, i, extra);
                        if round.is_multiple_of(3) {
                            out.push((i + 1) % n);
                        }
                        out
                    })
                    .collect()
            }
        };
        Digraph::from_out_lists(out)
    }

    /// The stream of round `round` (attempt `attempt` for Erdős–Rényi redraws).
    fn round_rng(&self, round: u64, attempt: u64) -> Rng {
        RngStreams::new(RngStreams::new(self.seed).child_seed("topology", round))
            .indexed("attempt", attempt)
    }

    /// The window B within which the union of consecutive graphs is strongly connected by
    /// construction, when the kind guarantees one (None for `out-regular`, which is only
    /// connected with high probability: check it with [`Topology::check_b_connected`]).
    pub fn connectivity_window(&self) -> Option<usize> {
        match self.kind {
            TopologyKind::Exponential { peers } => {
                Some(exponential_list(0, self.n).len().div_ceil(peers))
            }
            TopologyKind::ExponentialForward => Some(ceil_log2(self.n) as usize),
            TopologyKind::NPeerExponential { peers } => {
                Some(npeer_list(0, self.n, peers).len().div_ceil(peers))
            }
            TopologyKind::Ring | TopologyKind::ErdosRenyi { .. } => Some(1),
            TopologyKind::RandomTimeVarying => Some(3),
            TopologyKind::RandomOutRegular { .. } => None,
        }
    }

    /// Checks the push-sum assumption of B-strong connectivity over rounds `0..rounds`: the
    /// union of the graphs of every window of `b` consecutive rounds is strongly connected.
    /// The error names the first window that is not.
    pub fn check_b_connected(&self, b: usize, rounds: u64) -> Result<()> {
        if b == 0 {
            return Err(Error::invalid(
                "connectivity window B",
                0,
                "at least 1 round",
            ));
        }
        let graphs: Vec<Digraph> = (0..rounds).map(|k| self.graph(k)).collect::<Result<_>>()?;
        let last_start = rounds.saturating_sub(b as u64);
        for start in 0..=last_start {
            let end = (start + b as u64).min(rounds);
            let mut u = graphs[start as usize].clone();
            for g in &graphs[start as usize + 1..end as usize] {
                u = u.union(g)?;
            }
            if !u.is_strongly_connected() {
                return Err(Error::invalid(
                    format!("{} on {} nodes", self.kind, self.n),
                    format!("rounds {start}..{end}"),
                    format!("a strongly connected union over every {b} consecutive rounds"),
                ));
            }
        }
        Ok(())
    }
}

/// ⌈log₂ n⌉ for n ≥ 2.
fn ceil_log2(n: usize) -> u32 {
    usize::BITS - (n - 1).leading_zeros()
}

/// SGP's ±2^j phone book of node r: r+1, r−1, r+2, r−2, … (mod n), 2^j ≤ n−1, duplicates
/// removed in order of first appearance.
fn exponential_list(r: usize, n: usize) -> Vec<usize> {
    let mut list = Vec::new();
    let mut hop = 1;
    while hop < n {
        for peer in [(r + hop) % n, (r + n - hop % n) % n] {
            if peer != r && !list.contains(&peer) {
                list.push(peer);
            }
        }
        hop *= 2;
    }
    list
}

/// SGP's n-peer forward phone book: r + j·(peers+1)^i (mod n) for j = 1..=peers, while the
/// power stays ≤ n−1, duplicates and r itself removed.
fn npeer_list(r: usize, n: usize, peers: usize) -> Vec<usize> {
    let mut list = Vec::new();
    let mut power = 1usize;
    while power < n {
        for j in 1..=peers {
            let peer = (r + j * power) % n;
            if peer != r && !list.contains(&peer) {
                list.push(peer);
            }
        }
        power = power.saturating_mul(peers + 1);
    }
    list
}

/// `per` consecutive entries of `list` starting at position round·per (cycling).
fn cycled(list: &[usize], round: u64, per: usize) -> Vec<usize> {
    let len = list.len() as u64;
    (0..per as u64)
        .map(|j| list[((round * per as u64 + j) % len) as usize])
        .collect()
}

/// `count` distinct uniformly random nodes other than `me` (a partial Fisher–Yates).
fn random_others(rng: &mut Rng, n: usize, me: usize, count: usize) -> Vec<usize> {
    let mut pool: Vec<usize> = (0..n).filter(|&j| j != me).collect();
    for t in 0..count {
        let j = rng.random_range(t..pool.len());
        pool.swap(t, j);
    }
    pool.truncate(count);
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgp_exponential_list_matches_the_reference_phone_book() {
        // n = 8: hops 1, 2, 4; r+4 = r−4 appears once
        assert_eq!(exponential_list(0, 8), vec![1, 7, 2, 6, 4]);
        assert_eq!(exponential_list(3, 8), vec![4, 2, 5, 1, 7]);
        // n = 5: hops 1, 2 (4 > n−1 stops)... 2^2 = 4 <= 4 is included
        assert_eq!(exponential_list(0, 5), vec![1, 4, 2, 3]);
        let t = Topology::new(TopologyKind::Exponential { peers: 1 }, 8, 0).unwrap();
        let outs: Vec<usize> = (0..6).map(|k| t.graph(k).unwrap().out[0][0]).collect();
        assert_eq!(outs, vec![1, 7, 2, 6, 4, 1]);
        let t2 = Topology::new(TopologyKind::Exponential { peers: 2 }, 8, 0).unwrap();
        assert_eq!(t2.graph(1).unwrap().out_neighbours(0), &[2, 6]);
        assert_eq!(t2.graph(2).unwrap().out_neighbours(0), &[1, 4]);
        assert_eq!(npeer_list(0, 9, 2), vec![1, 2, 3, 6]);
    }

    #[test]
    fn graphs_are_column_stochastic_and_in_lists_mirror_out_lists() {
        for spec in [
            "exp",
            "exp(peers=3)",
            "exp-forward",
            "npeer-exp(peers=2)",
            "ring",
            "out-regular(degree=3)",
            "erdos-renyi(p=0.4)",
            "random-tv",
        ] {
            let t = Topology::parse(spec, 7, 11).unwrap();
            for k in 0..9 {
                let g = t.graph(k).unwrap();
                let p = g.mixing_matrix();
                for i in 0..7 {
                    let col: f64 = (0..7).map(|j| p[j * 7 + i]).sum();
                    assert!(
                        (col - 1.0).abs() < 1e-15,
                        "{spec} round {k} column {i}: {col}"
                    );
                    for &j in g.out_neighbours(i) {
                        assert!(g.in_neighbours(j).contains(&i));
                    }
                }
                assert_eq!(
                    g.edges(),
                    (0..7).map(|j| g.in_neighbours(j).len()).sum::<usize>()
                );
                assert_eq!(g, t.graph(k).unwrap(), "{spec}: round {k} not reproducible");
            }
            if let Some(b) = t.connectivity_window() {
                t.check_b_connected(b, 30).unwrap();
            }
        }
    }

    #[test]
    fn random_tv_digraph_is_not_regular_and_is_3_connected() {
        let t = Topology::parse("random-tv", 8, 3).unwrap();
        assert_eq!(t.connectivity_window(), Some(3));
        t.check_b_connected(3, 300).unwrap();
        let irregular = (0..30).filter(|&k| !t.graph(k).unwrap().is_doubly_stochastic());
        assert!(irregular.count() >= 25);
        for k in 0..30 {
            let g = t.graph(k).unwrap();
            for i in 0..8 {
                let d = g.out_neighbours(i).len();
                let ring = usize::from(k % 3 == 0);
                assert!(d <= 2 + ring, "round {k} node {i}: {d}");
                assert!(k % 3 != 0 || g.out_neighbours(i).contains(&((i + 1) % 8)));
            }
        }
        // a single round is usually not strongly connected: B = 1 fails somewhere
        let e = t.check_b_connected(1, 30).unwrap_err().to_string();
        assert!(
            e.starts_with("invalid value for 'random-tv on 8 nodes': got rounds "),
            "{e}"
        );
        assert!(e.ends_with("expected a strongly connected union over every 1 consecutive rounds"));
        // different seeds give different graphs
        let u = Topology::parse("random-tv", 8, 4).unwrap();
        assert!((0..10).any(|k| u.graph(k).unwrap() != t.graph(k).unwrap()));
    }

    #[test]
    fn exponential_and_ring_graphs_are_regular() {
        for spec in ["exp", "exp(peers=2)", "exp-forward", "ring"] {
            let t = Topology::parse(spec, 8, 0).unwrap();
            assert!(
                (0..12).all(|k| t.graph(k).unwrap().is_doubly_stochastic()),
                "{spec}"
            );
        }
        let f = Topology::parse("exp-forward", 8, 0).unwrap();
        let hops: Vec<usize> = (0..4).map(|k| f.graph(k).unwrap().out[0][0]).collect();
        assert_eq!(hops, vec![1, 2, 4, 1]);
        assert_eq!(f.connectivity_window(), Some(3));
    }

    #[test]
    fn bad_topologies_are_named_errors() {
        let msg = |s: &str, n: usize| Topology::parse(s, n, 0).unwrap_err().to_string();
        assert_eq!(
            msg("exp(peers=6)", 8),
            "invalid value for 'exp.peers': got 6, expected an integer in 1..=5 (the length of \
             the ±2^j list for n = 8)"
        );
        assert_eq!(
            msg("out-regular(degree=8)", 8),
            "invalid value for 'out-regular.degree': got 8, expected an integer in 1..=7"
        );
        assert_eq!(
            msg("erdos-renyi(p=0)", 8),
            "invalid value for 'erdos-renyi.p': got 0, expected an edge probability in (0, 1]"
        );
        assert_eq!(
            msg("ring", 1),
            "invalid value for 'topology.nodes': got 1, expected at least 2 nodes (a graph of \
             one node has nothing to mix)"
        );
        assert!(msg("star", 4).starts_with("unknown topology 'star'; valid: exp, exp-forward"));
        assert!(msg("ring(p=1)", 4).contains("unknown key 'p'"));
        let sparse = Topology::parse("erdos-renyi(p=0.001)", 30, 0).unwrap();
        let e = sparse.graph(0).unwrap_err().to_string();
        assert!(
            e.contains("no strongly connected draw in 10000 attempts in round 0"),
            "{e}"
        );
        assert!(
            Digraph::from_out_lists(vec![vec![1], vec![1]])
                .unwrap_err()
                .to_string()
                .contains("'out-neighbour of node 1': got 1, expected another node")
        );
    }
}
