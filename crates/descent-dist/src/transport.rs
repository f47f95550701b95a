//! The [`Transport`]: how a round's messages move between the server and the nodes (federated
//! clients or decentralized peers), and the in-process backend [`InProcess`].
//!
//! The trait is deliberately narrow so that an MPI backend (one rank per node or per group of
//! nodes, launched with `mpirun`) can implement it without touching the algorithms:
//!
//! - [`Transport::broadcast_gather`]: the server sends one payload to a set of nodes; each node
//!   that receives it runs the algorithm's node-side closure on its own state and replies (or
//!   drops out of the round); the server gets the replies in ascending sender order. Fewer
//!   replies than the caller's minimum is an error.
//! - [`Transport::exchange`]: every node sends payloads to chosen out-neighbours (directed,
//!   possibly time-varying graphs), then every node processes its inbox, sorted by sender.
//! - [`Transport::exchange_acked`]: the same, but a message that could not be delivered (a
//!   link failing for one round, a node that dropped out) comes back to its sender, as a
//!   missing acknowledgement tells an MPI sender. Push-sum needs this: a sender that keeps the
//!   undelivered share loses no mass.
//!
//! Node state lives with the transport (in-process: all nodes; MPI: the rank's own nodes), so
//! the closures get `&mut N`. Every message carries its round number and sender; the traffic of
//! each call is counted in bytes ([`Wire::wire_bytes`] of the payload plus a
//! [`HEADER_BYTES`]-byte header), which is how "PUF adds no communication" is measured.
//!
//! Every payload has a little-endian byte encoding ([`Wire::encode`], [`Wire::decode`], exactly
//! `wire_bytes()` long), so a backend that moves bytes decodes owned copies of the messages the
//! algorithms send; the in-process backend passes references and never encodes.

pub use crate::faults::Faults;
use descent_core::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The sender id of the server.
pub const SERVER: usize = usize::MAX;

/// Bytes of a message header: round (u64) and sender (u64).
pub const HEADER_BYTES: u64 = 16;

/// Something that can be sent: its size on the wire (for traffic accounting) and its
/// little-endian byte encoding, so that a backend that moves bytes (MPI: one rank per node or
/// group of nodes) can send every message the algorithms use without changing the trait.
///
/// The format: u64 and f64 as 8 little-endian bytes (f64 by its bit pattern, so NaN payloads and
/// −0 survive), a `Vec<f64>` as its u64 length followed by the values. A message is framed by the
/// transport (MPI knows a message's length), and [`Wire::decode`] must consume it exactly.
/// `wire_bytes()` always equals the length `encode` appends. The in-process backend passes
/// references and never encodes.
pub trait Wire: Sized {
    /// Payload bytes: exactly the number of bytes [`Wire::encode`] appends.
    fn wire_bytes(&self) -> u64;
    /// Appends the little-endian encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads a value from exactly `bytes`; a truncated buffer or trailing bytes are an
    /// [`Error::Data`] naming the message type and the byte offset.
    fn decode(bytes: &[u8]) -> Result<Self>;
}

/// Appends `v` as 8 little-endian bytes.
pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends the bit pattern of `v` as 8 little-endian bytes.
pub fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_bits().to_le_bytes());
}

/// Appends a length-prefixed f64 slice (u64 count, then the values): 8 + 8·len bytes.
pub fn put_f64s(out: &mut Vec<u8>, v: &[f64]) {
    out.reserve(8 + 8 * v.len());
    put_u64(out, v.len() as u64);
    for x in v {
        put_f64(out, *x);
    }
}

/// Bytes of a length-prefixed f64 slice of `len` values.
pub fn f64s_bytes(len: usize) -> u64 {
    8 + 8 * len as u64
}

/// The u64 of 8 little-endian bytes.
fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    u64::from_le_bytes(a)
}

/// A cursor over one encoded message, for [`Wire::decode`]: every read names the field, and a
/// buffer that ends early is an error naming the message type and the byte offset.
#[derive(Debug)]
pub struct WireReader<'a> {
    ty: &'static str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> WireReader<'a> {
    /// A reader over `bytes`, the encoding of a `ty` (used in error messages).
    pub fn new(ty: &'static str, bytes: &'a [u8]) -> Self {
        WireReader { ty, bytes, pos: 0 }
    }

    /// The current byte offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn take(&mut self, field: &str, need: usize) -> Result<&'a [u8]> {
        let left = self.bytes.len() - self.pos;
        if need > left {
            return Err(Error::data(
                format!("{} message", self.ty),
                format!("byte offset {}", self.pos),
                format!(
                    "truncated: '{field}' needs {need} bytes, {left} remain (message of {} bytes)",
                    self.bytes.len()
                ),
            ));
        }
        let b = &self.bytes[self.pos..self.pos + need];
        self.pos += need;
        Ok(b)
    }

    /// Reads a u64.
    pub fn u64(&mut self, field: &str) -> Result<u64> {
        Ok(le_u64(self.take(field, 8)?))
    }

    /// Reads an f64 (bit pattern).
    pub fn f64(&mut self, field: &str) -> Result<f64> {
        Ok(f64::from_bits(self.u64(field)?))
    }

    /// Reads a u64 that must fit a `usize`.
    pub fn usize(&mut self, field: &str) -> Result<usize> {
        let at = self.pos;
        let v = self.u64(field)?;
        usize::try_from(v).map_err(|_| {
            Error::data(
                format!("{} message", self.ty),
                format!("byte offset {at}"),
                format!("'{field}' = {v} does not fit this platform's usize"),
            )
        })
    }

    /// Reads a length-prefixed f64 slice.
    pub fn f64s(&mut self, field: &str) -> Result<Vec<f64>> {
        let len = self.u64(&format!("{field} length"))?;
        let left = (self.bytes.len() - self.pos) as u64;
        if len > left / 8 {
            // checked before allocating: a corrupt length cannot ask for a huge buffer
            return Err(Error::data(
                format!("{} message", self.ty),
                format!("byte offset {}", self.pos),
                format!(
                    "truncated: '{field}' needs {} bytes ({len} f64), {left} remain (message of \
                     {} bytes)",
                    len.saturating_mul(8),
                    self.bytes.len()
                ),
            ));
        }
        let b = self.take(field, 8 * len as usize)?;
        Ok(b.chunks_exact(8)
            .map(|c| f64::from_bits(le_u64(c)))
            .collect())
    }

    /// Reads `len` raw bytes (a nested message framed by its length).
    pub fn bytes(&mut self, field: &str, len: usize) -> Result<&'a [u8]> {
        self.take(field, len)
    }

    /// Ends the message: trailing bytes are an error.
    pub fn finish(self) -> Result<()> {
        if self.pos != self.bytes.len() {
            return Err(Error::data(
                format!("{} message", self.ty),
                format!("byte offset {}", self.pos),
                format!(
                    "{} trailing bytes after the end of the message",
                    self.bytes.len() - self.pos
                ),
            ));
        }
        Ok(())
    }
}

impl Wire for Vec<f64> {
    fn wire_bytes(&self) -> u64 {
        f64s_bytes(self.len())
    }
    fn encode(&self, out: &mut Vec<u8>) {
        put_f64s(out, self);
    }
    fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = WireReader::new("Vec<f64>", bytes);
        let v = r.f64s("values")?;
        r.finish()?;
        Ok(v)
    }
}

impl Wire for f64 {
    fn wire_bytes(&self) -> u64 {
        8
    }
    fn encode(&self, out: &mut Vec<u8>) {
        put_f64(out, *self);
    }
    fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = WireReader::new("f64", bytes);
        let v = r.f64("value")?;
        r.finish()?;
        Ok(v)
    }
}

impl Wire for () {
    fn wire_bytes(&self) -> u64 {
        0
    }
    fn encode(&self, _: &mut Vec<u8>) {}
    fn decode(bytes: &[u8]) -> Result<Self> {
        WireReader::new("()", bytes).finish()
    }
}

/// A message: the round it belongs to, who sent it ([`SERVER`] or a node id) and the payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Message<T> {
    /// The round the message belongs to.
    pub round: u64,
    /// [`SERVER`] or the sending node's id.
    pub sender: usize,
    /// The content.
    pub payload: T,
}

impl<T: Wire> Message<T> {
    /// Header plus payload bytes.
    pub fn bytes(&self) -> u64 {
        HEADER_BYTES + self.payload.wire_bytes()
    }

    /// Appends the header (round, sender as u64; [`SERVER`] as `u64::MAX`) and the payload:
    /// exactly [`Message::bytes`] bytes, what a byte-moving backend sends.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u64(out, self.round);
        put_u64(out, self.sender as u64);
        self.payload.encode(out);
    }

    /// Reads a message written by [`Message::encode`]; errors name the field and byte offset.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = WireReader::new("Message", bytes);
        let round = r.u64("round")?;
        let sender = r.usize("sender")?;
        let payload = T::decode(&bytes[r.offset()..])?;
        Ok(Message {
            round,
            sender,
            payload,
        })
    }
}

/// Checks broadcast recipients: ids in 0..n, distinct and ascending; returns the selection mask.
pub(crate) fn check_targets(n: usize, to: &[usize]) -> Result<Vec<bool>> {
    let mut selected = vec![false; n];
    for (i, &k) in to.iter().enumerate() {
        if k >= n {
            return Err(Error::invalid(
                "broadcast recipient",
                k,
                format!("a node id in 0..{n}"),
            ));
        }
        if i > 0 && to[i - 1] >= k {
            return Err(Error::invalid(
                "broadcast recipients",
                format!("{to:?}"),
                "distinct node ids in ascending order",
            ));
        }
        selected[k] = true;
    }
    Ok(selected)
}

/// Messages and bytes moved by one transport call (or accumulated over several).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traffic {
    /// Server → nodes.
    pub down_messages: u64,
    /// Payload bytes server → nodes.
    pub down_bytes: u64,
    /// Nodes → server.
    pub up_messages: u64,
    /// Payload bytes nodes → server.
    pub up_bytes: u64,
    /// Node → node, delivered.
    pub p2p_messages: u64,
    /// Payload bytes node → node, delivered.
    pub p2p_bytes: u64,
    /// Node → node messages that were not delivered (failed link, dropped-out node).
    #[serde(default)]
    pub p2p_undelivered: u64,
}

impl Traffic {
    /// All bytes sent.
    pub fn bytes(&self) -> u64 {
        self.down_bytes + self.up_bytes + self.p2p_bytes
    }
    /// All messages sent.
    pub fn messages(&self) -> u64 {
        self.down_messages + self.up_messages + self.p2p_messages
    }
}

impl std::ops::AddAssign for Traffic {
    fn add_assign(&mut self, o: Traffic) {
        self.down_messages += o.down_messages;
        self.down_bytes += o.down_bytes;
        self.up_messages += o.up_messages;
        self.up_bytes += o.up_bytes;
        self.p2p_messages += o.p2p_messages;
        self.p2p_bytes += o.p2p_bytes;
        self.p2p_undelivered += o.p2p_undelivered;
    }
}

/// What the server gets back from [`Transport::broadcast_gather`].
#[derive(Debug, Clone, PartialEq)]
pub struct Gathered<R> {
    /// The round the replies answer.
    pub round: u64,
    /// Replies in ascending sender order.
    pub replies: Vec<Message<R>>,
    /// Nodes that received the broadcast but did not reply (dropped out), ascending.
    pub dropped: Vec<usize>,
    /// Traffic of this call.
    pub traffic: Traffic,
}

/// The server's side of a broadcast round from every addressed node's outcome in ascending
/// node order: the replies, the drop-outs and the traffic (one downlink of `payload_bytes` +
/// header per addressee, one uplink per reply). The first node error (in node order) is the
/// error. Every backend builds its [`Gathered`] here.
pub(crate) fn gathered<R: Wire>(
    round: u64,
    addressed: usize,
    payload_bytes: u64,
    outcomes: Vec<(usize, Result<Option<R>>)>,
) -> Result<Gathered<R>> {
    let mut traffic = Traffic {
        down_messages: addressed as u64,
        down_bytes: addressed as u64 * (HEADER_BYTES + payload_bytes),
        ..Traffic::default()
    };
    let mut replies = Vec::with_capacity(outcomes.len());
    let mut dropped = Vec::new();
    for (k, out) in outcomes {
        match out? {
            Some(payload) => {
                let m = Message {
                    round,
                    sender: k,
                    payload,
                };
                traffic.up_messages += 1;
                traffic.up_bytes += m.bytes();
                replies.push(m);
            }
            None => dropped.push(k),
        }
    }
    Ok(Gathered {
        round,
        replies,
        dropped,
        traffic,
    })
}

impl<R> Gathered<R> {
    /// Errors when fewer than `min_replies` of the `addressed` nodes replied.
    pub(crate) fn check_min(&self, addressed: usize, min_replies: usize) -> Result<()> {
        if self.replies.len() < min_replies {
            return Err(Error::invalid(
                format!("replies in round {}", self.round),
                format!(
                    "{} of {addressed} (dropped: {:?})",
                    self.replies.len(),
                    self.dropped
                ),
                format!("at least {min_replies} (the configured minimum)"),
            ));
        }
        Ok(())
    }
}

/// Per-round communication between a server and nodes holding state `N` (see the module docs).
pub trait Transport<N: Send> {
    /// Number of nodes.
    fn n_nodes(&self) -> usize;

    /// Sends `payload` from the server to the nodes `to` (distinct ids, ascending), runs `work`
    /// on each reached node (`Ok(None)` = the node drops out of this round) and returns the
    /// replies in ascending sender order. Errors: an id out of range or repeated, a node's
    /// error (the first in node order), or fewer than `min_replies` replies.
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
        F: Fn(usize, &mut N, &Message<&B>) -> Result<Option<R>> + Sync;

    /// Point-to-point round: every node returns `(destination, payload)` pairs for its
    /// out-neighbours from `send`; then every node runs `receive` on its inbox (sorted by
    /// sender). A destination out of range is an error naming the sender. A message the
    /// transport cannot deliver this round is lost; algorithms that must account for every
    /// message use [`Transport::exchange_acked`], which this runs with the returned messages
    /// dropped.
    fn exchange<M, S, V>(&mut self, round: u64, send: S, receive: V) -> Result<Traffic>
    where
        M: Wire + Send + Sync,
        S: Fn(usize, &mut N) -> Vec<(usize, M)> + Sync,
        V: Fn(usize, &mut N, &[Message<M>]) + Sync,
    {
        self.exchange_acked(round, send, |k, node, inbox, _returned| {
            receive(k, node, inbox)
        })
    }

    /// Like [`Transport::exchange`], but every message that was not delivered this round comes
    /// back to its sender: `receive(k, node, inbox, returned)` gets node k's inbox (sorted by
    /// sender) and the `(destination, payload)` pairs it sent that did not arrive (in the
    /// order it sent them; always empty on a transport that never loses a message).
    fn exchange_acked<M, S, V>(&mut self, round: u64, send: S, receive: V) -> Result<Traffic>
    where
        M: Wire + Send + Sync,
        S: Fn(usize, &mut N) -> Vec<(usize, M)> + Sync,
        V: Fn(usize, &mut N, &[Message<M>], &[(usize, M)]) + Sync;

    /// `f(k, node)` of every node, in node order, where the server runs: in process always
    /// `Some`; on MPI rank 0 gets `Some` (the values travel as [`Wire`] messages) and the other
    /// ranks, which contribute their nodes, get `None`. For results at the end of a run (final
    /// models, privacy spent); not counted as algorithm traffic.
    fn collect<R, F>(&mut self, f: F) -> Result<Option<Vec<R>>>
    where
        R: Wire + Send,
        F: Fn(usize, &N) -> R + Sync;

    /// Traffic of every call so far.
    fn total_traffic(&self) -> Traffic;
}

/// Every node in this process. Node work runs in parallel with rayon (or serially), and results
/// are collected in node order, so a run is bit-identical whatever the thread count.
/// Optionally simulates clients dropping out: node k misses round t with probability `p`,
/// decided by a hash of (seed, t, k), so drop-outs are reproducible. In a point-to-point round
/// a dropped-out node's links all fail: nothing it sends and nothing sent to it is delivered.
/// Independently, each directed link can fail for one round ([`InProcess::with_link_failures`]).
#[derive(Debug, Clone)]
pub struct InProcess<N> {
    nodes: Vec<N>,
    parallel: bool,
    faults: Faults,
    total: Traffic,
}

impl<N: Send> InProcess<N> {
    /// A parallel in-process transport over `nodes` (node id = index).
    pub fn new(nodes: Vec<N>) -> Self {
        InProcess {
            nodes,
            parallel: true,
            faults: Faults::default(),
            total: Traffic::default(),
        }
    }

    /// Runs node work serially (the reference the parallel run must equal bit for bit).
    pub fn serial(mut self) -> Self {
        self.parallel = false;
        self
    }

    /// Each node misses each round with probability `p` in [0, 1) ([`Faults::with_dropout`]).
    pub fn with_dropout(mut self, p: f64, seed: u64) -> Result<Self> {
        self.faults = self.faults.with_dropout(p, seed)?;
        Ok(self)
    }

    /// Simulated drop-outs and link failures ([`Faults`], drawn as every backend draws them).
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Each directed link i → j fails in each point-to-point round with probability `p` in
    /// [0, 1), decided by a hash of (seed, round, i, j), so failures are reproducible. A failed
    /// link's message is lost by [`Transport::exchange`] and returned to its sender by
    /// [`Transport::exchange_acked`].
    pub fn with_link_failures(mut self, p: f64, seed: u64) -> Result<Self> {
        self.faults = self.faults.with_link_failures(p, seed)?;
        Ok(self)
    }

    /// The nodes.
    pub fn nodes(&self) -> &[N] {
        &self.nodes
    }

    /// Mutable access to the nodes (e.g. to change a client's data between experiments).
    pub fn nodes_mut(&mut self) -> &mut [N] {
        &mut self.nodes
    }

    /// True when node `k` drops out of round `round`.
    pub fn drops(&self, round: u64, k: usize) -> bool {
        self.faults.drops(round, k)
    }

    /// True when the link `from → to` fails in point-to-point round `round`.
    pub fn link_fails(&self, round: u64, from: usize, to: usize) -> bool {
        self.faults.link_fails(round, from, to)
    }

    /// The point-to-point round behind both exchanges: delivered messages go to inboxes (sorted
    /// by sender), undelivered ones back to their senders.
    fn exchange_inner<M, S, V>(&mut self, round: u64, send: S, receive: V) -> Result<Traffic>
    where
        M: Wire + Send + Sync,
        S: Fn(usize, &mut N) -> Vec<(usize, M)> + Sync,
        V: Fn(usize, &mut N, &[Message<M>], &[(usize, M)]) + Sync,
    {
        let n = self.nodes.len();
        let outgoing: Vec<Vec<(usize, M)>> = if self.parallel {
            self.nodes
                .par_iter_mut()
                .enumerate()
                .map(|(k, node)| send(k, node))
                .collect()
        } else {
            self.nodes
                .iter_mut()
                .enumerate()
                .map(|(k, node)| send(k, node))
                .collect()
        };
        let mut inboxes: Vec<Vec<Message<M>>> = (0..n).map(|_| Vec::new()).collect();
        let mut returned: Vec<Vec<(usize, M)>> = (0..n).map(|_| Vec::new()).collect();
        let mut traffic = Traffic::default();
        // senders in ascending order, so every inbox is sorted by sender
        for (k, out) in outgoing.into_iter().enumerate() {
            for (dest, payload) in out {
                if dest >= n {
                    return Err(Error::invalid(
                        format!("destination of a message from node {k} in round {round}"),
                        dest,
                        format!("a node id in 0..{n}"),
                    ));
                }
                if self.link_fails(round, k, dest) {
                    traffic.p2p_undelivered += 1;
                    returned[k].push((dest, payload));
                    continue;
                }
                let m = Message {
                    round,
                    sender: k,
                    payload,
                };
                traffic.p2p_messages += 1;
                traffic.p2p_bytes += m.bytes();
                inboxes[dest].push(m);
            }
        }
        if self.parallel {
            self.nodes
                .par_iter_mut()
                .zip(inboxes.par_iter().zip(returned.par_iter()))
                .enumerate()
                .for_each(|(k, (node, (inbox, back)))| receive(k, node, inbox, back));
        } else {
            for (k, (node, (inbox, back))) in self
                .nodes
                .iter_mut()
                .zip(inboxes.iter().zip(&returned))
                .enumerate()
            {
                receive(k, node, inbox, back);
            }
        }
        self.total += traffic;
        Ok(traffic)
    }
}

type NodeResult<R> = (usize, Result<Option<R>>);

impl<N: Send> Transport<N> for InProcess<N> {
    fn n_nodes(&self) -> usize {
        self.nodes.len()
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
        let selected = check_targets(self.nodes.len(), to)?;
        let msg = Message {
            round,
            sender: SERVER,
            payload,
        };
        let dropped_now: Vec<bool> = (0..self.nodes.len())
            .map(|k| self.drops(round, k))
            .collect();
        let run = |(k, node): (usize, &mut N)| -> Option<NodeResult<R>> {
            if !selected[k] {
                return None;
            }
            if dropped_now[k] {
                return Some((k, Ok(None)));
            }
            Some((k, work(k, node, &msg)))
        };
        let results: Vec<NodeResult<R>> = if self.parallel {
            self.nodes
                .par_iter_mut()
                .enumerate()
                .filter_map(run)
                .collect()
        } else {
            self.nodes.iter_mut().enumerate().filter_map(run).collect()
        };
        let g = gathered(round, to.len(), payload.wire_bytes(), results)?;
        self.total += g.traffic;
        g.check_min(to.len(), min_replies)?;
        Ok(g)
    }

    fn exchange_acked<M, S, V>(&mut self, round: u64, send: S, receive: V) -> Result<Traffic>
    where
        M: Wire + Send + Sync,
        S: Fn(usize, &mut N) -> Vec<(usize, M)> + Sync,
        V: Fn(usize, &mut N, &[Message<M>], &[(usize, M)]) + Sync,
    {
        self.exchange_inner(round, send, receive)
    }

    fn collect<R, F>(&mut self, f: F) -> Result<Option<Vec<R>>>
    where
        R: Wire + Send,
        F: Fn(usize, &N) -> R + Sync,
    {
        Ok(Some(
            self.nodes
                .iter()
                .enumerate()
                .map(|(k, n)| f(k, n))
                .collect(),
        ))
    }

    fn total_traffic(&self) -> Traffic {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nodes that hold a number; work replies with a pseudo-random function of it.
    fn gather_sum(parallel: bool) -> (Vec<f64>, Gathered<f64>) {
        let nodes: Vec<f64> = (0..37).map(|k| k as f64 * 0.1).collect();
        let mut t = InProcess::new(nodes);
        if !parallel {
            t = t.serial();
        }
        let g = t
            .broadcast_gather(3, &[1, 4, 5, 30], &vec![2.0; 5], 4, |k, node, msg| {
                assert_eq!(msg.round, 3);
                assert_eq!(msg.sender, SERVER);
                *node = (*node * msg.payload[0] + k as f64).sin();
                Ok(Some(*node))
            })
            .unwrap();
        (t.nodes().to_vec(), g)
    }

    #[test]
    fn gather_returns_replies_in_sender_order_and_counts_bytes() {
        let (nodes, g) = gather_sum(true);
        let senders: Vec<usize> = g.replies.iter().map(|m| m.sender).collect();
        assert_eq!(senders, vec![1, 4, 5, 30]);
        assert_eq!(g.replies[1].payload, (0.4f64 * 2.0 + 4.0).sin());
        assert_eq!(nodes[4], g.replies[1].payload);
        assert_eq!(nodes[2], 0.2); // not addressed, untouched
        // 4 downlinks of 16 + (8 + 40) bytes, 4 uplinks of 16 + 8
        assert_eq!(g.traffic.down_bytes, 4 * 64);
        assert_eq!(g.traffic.up_bytes, 4 * 24);
        assert_eq!(g.traffic.messages(), 8);
        let (serial_nodes, serial) = gather_sum(false);
        assert_eq!(serial, g);
        assert_eq!(serial_nodes, nodes);
    }

    #[test]
    fn bad_recipients_and_too_few_replies_are_named_errors() {
        let mut t = InProcess::new(vec![0.0; 3]);
        let ok = |_: usize, _: &mut f64, _: &Message<&f64>| Ok(Some(1.0));
        let e = t.broadcast_gather(1, &[0, 3], &1.0, 0, ok).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for 'broadcast recipient': got 3, expected a node id in 0..3"
        );
        let e = t.broadcast_gather(1, &[1, 1], &1.0, 0, ok).unwrap_err();
        assert!(
            e.to_string()
                .contains("distinct node ids in ascending order")
        );
        let half = |k: usize, _: &mut f64, _: &Message<&f64>| Ok((k != 1).then_some(1.0));
        let g = t.broadcast_gather(2, &[0, 1, 2], &1.0, 2, half).unwrap();
        assert_eq!(g.dropped, vec![1]);
        assert_eq!(g.replies.len(), 2);
        let e = t
            .broadcast_gather(2, &[0, 1, 2], &1.0, 3, half)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for 'replies in round 2': got 2 of 3 (dropped: [1]), expected at \
             least 3 (the configured minimum)"
        );
        let fail = |k: usize, _: &mut f64, _: &Message<&f64>| {
            if k == 2 {
                Err(Error::invalid("x", k, "y"))
            } else {
                Ok(Some(0.0))
            }
        };
        assert!(t.broadcast_gather(4, &[0, 2], &1.0, 0, fail).is_err());
    }

    #[test]
    fn simulated_dropouts_are_reproducible_and_near_their_rate() {
        let t = InProcess::new(vec![(); 50]).with_dropout(0.3, 9).unwrap();
        let count = (0..40u64)
            .flat_map(|r| (0..50).map(move |k| (r, k)))
            .filter(|&(r, k)| t.drops(r, k))
            .count();
        let rate = count as f64 / 2000.0;
        assert!((rate - 0.3).abs() < 0.04, "{rate}");
        let u = InProcess::new(vec![(); 50]).with_dropout(0.3, 9).unwrap();
        assert!((0..50).all(|k| t.drops(7, k) == u.drops(7, k)));
        assert!(InProcess::new(vec![(); 2]).with_dropout(1.0, 0).is_err());
    }

    #[test]
    fn acked_exchange_returns_undelivered_messages_to_their_sender() {
        // every node sends its id + 0.5 to every other node; failed links and dropped-out nodes
        // bounce, so each node's delivered + returned messages account for all it sent
        type Log = (Vec<(usize, f64)>, Vec<(usize, f64)>);
        let run = |parallel: bool| {
            let mut t = InProcess::new(vec![Log::default(); 6])
                .with_link_failures(0.3, 4)
                .unwrap()
                .with_dropout(0.2, 8)
                .unwrap();
            if !parallel {
                t = t.serial();
            }
            let send = |k: usize, _: &mut Log| {
                (0..6)
                    .filter(|&j| j != k)
                    .map(|j| (j, k as f64 + 0.5))
                    .collect()
            };
            let traffic = t
                .exchange_acked(9, send, |_, node, inbox, back| {
                    node.0.extend(inbox.iter().map(|m| (m.sender, m.payload)));
                    node.1.extend(back.iter().copied());
                })
                .unwrap();
            (t, traffic)
        };
        let (t, traffic) = run(true);
        assert_eq!(traffic.p2p_messages + traffic.p2p_undelivered, 30);
        assert!(traffic.p2p_undelivered > 0 && traffic.p2p_messages > 0);
        for (k, (inbox, back)) in t.nodes().iter().enumerate() {
            for (j, v) in back {
                assert!(t.link_fails(9, k, *j));
                assert_eq!(*v, k as f64 + 0.5);
            }
            for (s, v) in inbox {
                assert!(!t.link_fails(9, *s, k));
                assert_eq!(*v, *s as f64 + 0.5);
            }
        }
        let returned: usize = t.nodes().iter().map(|n| n.1.len()).sum();
        assert_eq!(returned as u64, traffic.p2p_undelivered);
        let (u, serial) = run(false);
        assert_eq!(serial, traffic);
        assert_eq!(u.nodes(), t.nodes());
        // the plain exchange loses the same messages
        let mut lossy = InProcess::new(vec![0usize; 6])
            .with_link_failures(0.3, 4)
            .unwrap()
            .with_dropout(0.2, 8)
            .unwrap();
        let plain = lossy
            .exchange(
                9,
                |k, _| (0..6).filter(|&j| j != k).map(|j| (j, 1.0)).collect(),
                |_, node, inbox: &[Message<f64>]| *node = inbox.len(),
            )
            .unwrap();
        assert_eq!(plain, traffic);
        assert!(
            InProcess::new(vec![(); 2])
                .with_link_failures(-0.1, 0)
                .unwrap_err()
                .to_string()
                .contains("'transport.link_failure': got -0.1, expected a probability in [0, 1)")
        );
    }

    #[test]
    fn exchange_delivers_to_out_neighbours_sorted_by_sender() {
        for parallel in [true, false] {
            // directed ring plus a chord 0 -> 2: node k sends k+1 to (k+1) mod n
            let mut t = InProcess::new(vec![Vec::<(usize, f64)>::new(); 4]);
            if !parallel {
                t = t.serial();
            }
            let traffic = t
                .exchange(
                    5,
                    |k, _| {
                        let mut out = vec![((k + 1) % 4, k as f64 + 1.0)];
                        if k == 0 {
                            out.push((2, 10.0));
                        }
                        out
                    },
                    |_, node, inbox| {
                        node.extend(inbox.iter().map(|m| {
                            assert_eq!(m.round, 5);
                            (m.sender, m.payload)
                        }))
                    },
                )
                .unwrap();
            assert_eq!(t.nodes()[2], vec![(0, 10.0), (1, 2.0)]);
            assert_eq!(t.nodes()[0], vec![(3, 4.0)]);
            assert_eq!(traffic.p2p_messages, 5);
            assert_eq!(traffic.p2p_bytes, 5 * 24);
            assert_eq!(t.total_traffic(), traffic);
        }
        let mut t = InProcess::new(vec![0.0; 2]);
        let e = t
            .exchange(1, |_, _| vec![(7, 1.0)], |_, _, _: &[Message<f64>]| {})
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("destination of a message from node 0")
        );
    }
}
