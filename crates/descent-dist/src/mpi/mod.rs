//! The MPI backend of the [`Transport`](crate::Transport) (feature `mpi`): one process per MPI rank
//! (launched with `mpirun`), each holding a contiguous block of the nodes, through the `mpi`
//! crate (rsmpi) over the system's Open MPI. Every message is a [`Message`] in its [`Wire`]
//! encoding (16-byte header + payload), so the algorithms do not change.
//!
//! - Federated ([`Role::Server`]): rank 0 is the server and holds no client (unless it runs
//!   alone); clients are split in blocks over ranks 1..P. In [`Transport::broadcast_gather`](crate::Transport::broadcast_gather)
//!   rank 0 sends every other rank one frame per round (the ids of its selected clients and
//!   the broadcast; only the ids when none is selected, which doubles as a heartbeat), and each
//!   rank answers with one frame holding, per selected client, its reply, a drop-out notice or
//!   its error. The other ranks run [`MpiTransport::serve`] with the same node-side closure
//!   (for FedAvg and PUF: [`crate::fedavg::client_work`]) until rank 0 calls
//!   [`MpiTransport::finish`].
//! - Decentralized ([`Role::Peers`]): every rank holds a block of nodes and runs the same
//!   driver (e.g. [`crate::Sgp::step`]). In [`Transport::exchange_acked`](crate::Transport::exchange_acked) each rank derives the
//!   round's graph from the [`Topology`] (a function of (seed, round)), posts non-blocking sends
//!   of its nodes' messages to the ranks of their out-neighbours (MPI tag = destination node)
//!   and receives exactly one message per in-neighbour on another rank, then waits once for
//!   all of them. Messages between nodes of the same rank stay in the process.
//!
//! Receives are matched probes (`MPI_Improbe` + `MPI_Mrecv`: sizes are not known in advance),
//! polled together with the sends' requests in one wait loop per call. Inboxes are sorted by
//! sender and results gathered in node order, so a run is bit-identical to
//! [`InProcess`](crate::InProcess) with the same seed; simulated [`Faults`] are drawn from the
//! same hashes on every rank.
//!
//! Failure: a wait that lasts longer than the timeout (default 60 s) ends the run with an error
//! naming the silent rank and the round ("MPI rank 2: sent nothing for ... of round 7 within
//! 5.0 s"). When sends are still pending the process cannot return (MPI owns the buffers), so
//! it prints the error and calls `MPI_Abort`, which stops every rank; a caller that gets an
//! error should do the same ([`MpiTransport::abort`]) since the other ranks may be waiting.
//! A rank that dies is noticed by mpirun within about a second; it names the rank and sends
//! the others SIGTERM, which [`MpiTransport::with_stop_report`] turns into a line naming the
//! round and the ranks each survivor was waiting for.

mod rounds;
mod watch;

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use ::mpi::topology::Communicator;
use descent_core::{Error, Result};

use crate::ranks::RANK_ROUND_BYTES;
pub use crate::ranks::RankRound;
use crate::topology::Topology;
use crate::transport::{Faults, HEADER_BYTES, Message, SERVER, Traffic, Wire, WireReader, put_u64};

pub use ::mpi::environment::Universe;
pub use ::mpi::topology::SimpleCommunicator;

/// Initialises MPI for this process: keep the universe while MPI is used (dropping it
/// finalises MPI) and pass `universe.world()` to [`MpiTransport::new`]. Errors: a second call.
pub fn initialize() -> Result<Universe> {
    ::mpi::initialize().ok_or_else(|| {
        Error::invalid(
            "MPI initialisation",
            "a second call",
            "one initialisation per process",
        )
    })
}

/// Tag of the server's per-round frame.
const TAG_DOWN: i32 = 0x7ff0;
/// Tag of a rank's reply frame.
const TAG_UP: i32 = 0x7ff1;
/// Tag of the end-of-run gathers ([`Transport::collect`](crate::Transport::collect), [`MpiTransport::gather_logs`]).
const TAG_GATHER: i32 = 0x7ff2;
/// Most nodes (point-to-point messages are tagged with the destination node; the MPI standard
/// guarantees tags up to 32767).
pub const MAX_NODES: usize = 0x7f00;

/// Kinds of the server's frame.
const KIND_ROUND: u64 = 0;
const KIND_STOP: u64 = 1;
/// Status of one client in a reply frame.
const DROPPED: u64 = 0;
const REPLIED: u64 = 1;
const FAILED: u64 = 2;

/// How nodes map to ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Rank 0 is the server; nodes (clients) in blocks over ranks 1..P (all on rank 0 if P = 1).
    Server,
    /// Nodes in blocks over all ranks 0..P (decentralized peers).
    Peers,
}

/// Counts of one wait: messages and bytes each way and the time spent waiting.
#[derive(Debug, Clone, Copy, Default)]
struct Moved {
    sent: (u64, u64),
    received: (u64, u64),
    wait_s: f64,
}

impl Moved {
    fn add(&mut self, o: Moved) {
        self.sent.0 += o.sent.0;
        self.sent.1 += o.sent.1;
        self.received.0 += o.received.0;
        self.received.1 += o.received.1;
        self.wait_s += o.wait_s;
    }

    fn log(&self, round: u64, start: Instant, traffic: Traffic) -> RankRound {
        RankRound {
            round,
            sent_messages: self.sent.0,
            sent_bytes: self.sent.1,
            received_messages: self.received.0,
            received_bytes: self.received.1,
            traffic_messages: traffic.messages(),
            traffic_bytes: traffic.bytes(),
            wall_s: start.elapsed().as_secs_f64(),
            wait_s: self.wait_s,
        }
    }
}

/// One outgoing MPI message: destination rank, tag, bytes.
type Outgoing = (usize, i32, Vec<u8>);

/// Node `i`'s share of `0..n` split into `parts` contiguous blocks.
fn block(n: usize, parts: usize, i: usize) -> Range<usize> {
    i * n / parts..(i + 1) * n / parts
}

/// The nodes of rank `r` of `size` under `role`.
fn nodes_of(role: Role, n: usize, size: usize, r: usize) -> Range<usize> {
    match role {
        Role::Peers => block(n, size, r),
        Role::Server if size == 1 => 0..n,
        Role::Server if r == 0 => 0..0,
        Role::Server => block(n, size - 1, r - 1),
    }
}

/// The MPI transport of one rank (see the module docs).
pub struct MpiTransport<N> {
    world: SimpleCommunicator,
    rank: usize,
    size: usize,
    n: usize,
    role: Role,
    owner: Vec<usize>,
    first: usize,
    nodes: Vec<N>,
    topology: Option<Topology>,
    faults: Faults,
    timeout: Duration,
    total: Traffic,
    log: Vec<RankRound>,
    served: u64,
    doing: Arc<Mutex<watch::Doing>>,
}

impl<N: Send> std::fmt::Debug for MpiTransport<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MpiTransport")
            .field("rank", &self.rank)
            .field("size", &self.size)
            .field("n", &self.n)
            .field("role", &self.role)
            .field("nodes", &self.local())
            .finish()
    }
}

impl<N: Send> MpiTransport<N> {
    /// The transport of this rank over `n` nodes placed by `role`; `build(k)` makes node k for
    /// every k this rank holds (and only those). Errors: no nodes, more than [`MAX_NODES`], more
    /// ranks than nodes (peers) or clients (server), or a node's construction error.
    pub fn new(
        world: SimpleCommunicator,
        role: Role,
        n: usize,
        mut build: impl FnMut(usize) -> Result<N>,
    ) -> Result<Self> {
        let size = world.size() as usize;
        let rank = world.rank() as usize;
        if n == 0 || n > MAX_NODES {
            return Err(Error::invalid(
                "MPI transport nodes",
                n,
                format!("1..={MAX_NODES}"),
            ));
        }
        let holders = match role {
            Role::Peers => size,
            Role::Server => size.saturating_sub(1).max(1),
        };
        if holders > n {
            return Err(Error::invalid(
                "MPI ranks (mpirun -np)",
                size,
                match role {
                    Role::Peers => format!("at most {n}, one rank per node or more nodes per rank"),
                    Role::Server => format!("at most {} (the server and {n} clients)", n + 1),
                },
            ));
        }
        let mut owner = vec![0; n];
        for r in 0..size {
            for k in nodes_of(role, n, size, r) {
                owner[k] = r;
            }
        }
        let mine = nodes_of(role, n, size, rank);
        let nodes = mine.clone().map(&mut build).collect::<Result<Vec<N>>>()?;
        Ok(MpiTransport {
            world,
            rank,
            size,
            n,
            role,
            owner,
            first: mine.start,
            nodes,
            topology: None,
            faults: Faults::default(),
            timeout: Duration::from_secs(60),
            total: Traffic::default(),
            log: Vec::new(),
            served: 0,
            doing: Arc::default(),
        })
    }

    /// The topology whose graph of round k gives every rank its in-neighbours in
    /// [`Transport::exchange`](crate::Transport::exchange) (required for point-to-point rounds). Errors: a node count that
    /// differs from the transport's.
    pub fn with_topology(mut self, topology: Topology) -> Result<Self> {
        if topology.n() != self.n {
            return Err(Error::shape(
                "MPI transport nodes vs topology",
                self.n,
                topology.n(),
            ));
        }
        self.topology = Some(topology);
        Ok(self)
    }

    /// Simulated drop-outs and link failures, the same on every rank and as
    /// [`InProcess`](crate::InProcess)'s.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// How long one wait may last before the silent rank is reported (default 60 s). It must
    /// exceed the longest time between two rounds (the server's evaluation included).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Answers the SIGTERM that mpirun sends the surviving ranks when a rank dies by printing
    /// the round and the ranks this one was waiting for ("MPI rank 1: stopped by mpirun in
    /// round 17 while waiting for a push-sum message from rank 2 ..."), then ending as SIGTERM
    /// would. Errors: the signal handler cannot be installed.
    pub fn with_stop_report(self) -> Result<Self> {
        watch::watch(self.rank, self.doing.clone())?;
        Ok(self)
    }

    /// Records what this rank waits for (the SIGTERM report).
    fn doing(&self, f: impl FnOnce(&mut watch::Doing)) {
        f(&mut self.doing.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// This rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// Number of ranks.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The node ids this rank holds.
    pub fn local(&self) -> Range<usize> {
        self.first..self.first + self.nodes.len()
    }

    /// The nodes this rank holds (node id = `local().start` + index).
    pub fn nodes(&self) -> &[N] {
        &self.nodes
    }

    /// The rank holding node `k`.
    pub fn owner(&self, k: usize) -> usize {
        self.owner[k]
    }

    /// Per-call log of this rank (messages, bytes, wall and wait time).
    pub fn log(&self) -> &[RankRound] {
        &self.log
    }

    /// Prints `e` naming this rank and stops every rank of the job (`MPI_Abort`, exit code 1):
    /// how an MPI run ends on an error, since other ranks may be waiting for this one.
    pub fn abort(&self, e: &Error) -> ! {
        eprintln!("error: MPI rank {}: {e}", self.rank);
        self.world.abort(1)
    }

    /// Sends `sends` and receives one message per `(rank, tag)` of `expect` (in order within
    /// each pair, as MPI does not overtake), all non-blocking, then waits once for all of them
    /// up to the timeout. `what` names the expected messages in the timeout error.
    fn wait(
        &self,
        round: u64,
        what: &'static str,
        sends: Vec<Outgoing>,
        expect: &[(usize, i32)],
    ) -> Result<(Vec<Vec<u8>>, Moved)> {
        let start = Instant::now();
        let deadline = start + self.timeout;
        let world = &self.world;
        let mut got: Vec<Option<Vec<u8>>> = vec![None; expect.len()];
        self.doing(|d| {
            *d = watch::Doing {
                round,
                what,
                from: watch::ranks(expect.iter().map(|e| e.0)),
                to: watch::ranks(sends.iter().map(|s| s.0)),
                waiting: true,
            }
        });
        let stalled = ::mpi::request::scope(|sc| {
            let mut pending: Vec<_> = sends
                .iter()
                .map(|(r, tag, buf)| {
                    let p = world.process_at_rank(*r as i32);
                    Some((*r, p.immediate_send_with_tag(sc, &buf[..], *tag)))
                })
                .collect();
            let mut idle = 0u32;
            loop {
                let mut progress = false;
                for slot in pending.iter_mut() {
                    if let Some((r, req)) = slot.take() {
                        match req.test() {
                            Ok(_) => progress = true,
                            Err(req) => *slot = Some((r, req)),
                        }
                    }
                }
                for i in 0..expect.len() {
                    // messages of one (rank, tag) arrive in order: receive the first pending one
                    if got[i].is_some()
                        || (0..i).any(|j| got[j].is_none() && expect[j] == expect[i])
                    {
                        continue;
                    }
                    let (src, tag) = expect[i];
                    let p = world.process_at_rank(src as i32);
                    if let Some(m) = p.immediate_matched_probe_with_tag(tag) {
                        got[i] = Some(m.matched_receive_vec::<u8>().0);
                        progress = true;
                    }
                }
                let sending = pending.iter().flatten().next().map(|(r, _)| *r);
                let receiving = (0..expect.len()).find(|&i| got[i].is_none());
                if sending.is_none() && receiving.is_none() {
                    return None;
                }
                if Instant::now() >= deadline {
                    let secs = self.timeout.as_secs_f64();
                    let e = match receiving {
                        Some(i) => Error::Io {
                            path: format!("MPI rank {}", expect[i].0),
                            message: format!(
                                "sent nothing for {what} of round {round} within {secs:.1} s \
                                 (the rank died or hangs; noticed by rank {})",
                                self.rank
                            ),
                            source: None,
                        },
                        None => Error::Io {
                            path: format!("MPI rank {}", sending.unwrap_or(0)),
                            message: format!(
                                "did not take the message of round {round} from rank {} within \
                                 {secs:.1} s (the rank died or hangs)",
                                self.rank
                            ),
                            source: None,
                        },
                    };
                    if sending.is_some() {
                        // MPI still owns the send buffers: the process cannot return
                        self.abort(&e);
                    }
                    return Some(e);
                }
                if progress {
                    idle = 0;
                    self.doing(|d| {
                        d.from = watch::ranks(
                            (0..expect.len())
                                .filter(|&i| got[i].is_none())
                                .map(|i| expect[i].0),
                        );
                        d.to = watch::ranks(pending.iter().flatten().map(|(r, _)| *r));
                    });
                } else {
                    // back off so oversubscribed ranks leave the cores to the working ones
                    idle = idle.saturating_add(1);
                    if idle < 64 {
                        std::thread::yield_now();
                    } else {
                        std::thread::sleep(Duration::from_micros(u64::from(idle.min(1000))));
                    }
                }
            }
        });
        self.doing(|d| d.waiting = false);
        if let Some(e) = stalled {
            return Err(e);
        }
        let got: Vec<Vec<u8>> = got.into_iter().flatten().collect();
        let moved = Moved {
            sent: (
                sends.len() as u64,
                sends.iter().map(|s| s.2.len() as u64).sum(),
            ),
            received: (got.len() as u64, got.iter().map(|g| g.len() as u64).sum()),
            wait_s: start.elapsed().as_secs_f64(),
        };
        Ok((got, moved))
    }

    fn protocol(&self, what: String) -> Error {
        Error::data(
            format!("MPI rank {}", self.rank),
            "frame",
            format!("{what} (do all ranks run the same command?)"),
        )
    }

    fn server_only(&self, call: &str) -> Result<()> {
        if self.rank == 0 {
            Ok(())
        } else {
            Err(Error::invalid(
                format!("MPI rank of {call}"),
                self.rank,
                "rank 0 (the server); the other ranks call MpiTransport::serve",
            ))
        }
    }

    /// Serves the server's rounds on a rank other than 0: for every round, runs `work` on each
    /// selected node of this rank (the closure the server's driver passes to
    /// [`Transport::broadcast_gather`](crate::Transport::broadcast_gather)) and replies, until rank 0 calls
    /// [`MpiTransport::finish`]. Returns the number of rounds served. Errors: called on rank 0,
    /// a silent server (timeout), a malformed frame.
    pub fn serve<B, R, F>(&mut self, work: F) -> Result<u64>
    where
        B: Wire,
        R: Wire,
        F: Fn(usize, &mut N, &Message<&B>) -> Result<Option<R>>,
    {
        if self.rank == 0 {
            return Err(Error::invalid(
                "MPI rank of serve",
                0,
                "a rank other than 0 (rank 0 is the server and drives the rounds)",
            ));
        }
        loop {
            let start = Instant::now();
            let (frames, mut moved) = self.wait(
                self.served + 1,
                "the server's frame",
                Vec::new(),
                &[(0, TAG_DOWN)],
            )?;
            let frame = &frames[0];
            let mut r = WireReader::new("server frame", frame);
            let kind = r.u64("kind")?;
            let round = r.u64("round")?;
            if kind == KIND_STOP {
                return Ok(self.served);
            }
            if kind != KIND_ROUND {
                return Err(self.protocol(format!("unknown frame kind {kind}")));
            }
            let count = r.usize("count")?;
            let mut ids = Vec::with_capacity(count.min(self.nodes.len()));
            for _ in 0..count {
                let k = r.usize("client id")?;
                if !self.local().contains(&k) {
                    return Err(self.protocol(format!("client {k} is not on this rank")));
                }
                ids.push(k);
            }
            let msg = if count > 0 {
                let m: Message<B> = Message::decode(&frame[r.offset()..])?;
                if m.round != round {
                    return Err(
                        self.protocol(format!("broadcast of round {} in round {round}", m.round))
                    );
                }
                Some(m)
            } else {
                None
            };
            let mut up = Vec::new();
            put_u64(&mut up, round);
            put_u64(&mut up, ids.len() as u64);
            for &k in &ids {
                let m = msg.as_ref().expect("a broadcast when clients are selected");
                let view = Message {
                    round,
                    sender: SERVER,
                    payload: &m.payload,
                };
                let outcome = if self.faults.drops(round, k) {
                    Ok(None)
                } else {
                    work(k, &mut self.nodes[k - self.first], &view)
                };
                put_u64(&mut up, k as u64);
                match outcome {
                    Ok(None) => {
                        put_u64(&mut up, DROPPED);
                        put_u64(&mut up, 0);
                    }
                    Ok(Some(reply)) => {
                        put_u64(&mut up, REPLIED);
                        put_u64(&mut up, HEADER_BYTES + reply.wire_bytes());
                        let m = Message {
                            round,
                            sender: k,
                            payload: reply,
                        };
                        m.encode(&mut up);
                    }
                    Err(e) => {
                        let text = e.to_string();
                        put_u64(&mut up, FAILED);
                        put_u64(&mut up, text.len() as u64);
                        up.extend_from_slice(text.as_bytes());
                    }
                }
            }
            let (_, sent) = self.wait(round, "the reply", vec![(0, TAG_UP, up)], &[])?;
            moved.add(sent);
            self.served += 1;
            self.log.push(moved.log(round, start, Traffic::default()));
        }
    }

    /// Ends the workers' [`MpiTransport::serve`] loops (rank 0, federated runs).
    pub fn finish(&mut self) -> Result<()> {
        self.server_only("finish")?;
        let sends = (1..self.size)
            .map(|r| {
                let mut f = Vec::new();
                put_u64(&mut f, KIND_STOP);
                put_u64(&mut f, 0);
                (r, TAG_DOWN, f)
            })
            .collect();
        self.wait(0, "the end of the run", sends, &[])?;
        Ok(())
    }

    /// Rank 0 receives one frame from every other rank; the others send `mine`.
    fn gather_frames(&self, mine: Vec<u8>, what: &'static str) -> Result<Option<Vec<Vec<u8>>>> {
        if self.rank == 0 {
            let expect: Vec<(usize, i32)> = (1..self.size).map(|r| (r, TAG_GATHER)).collect();
            let (frames, _) = self.wait(u64::MAX, what, Vec::new(), &expect)?;
            Ok(Some(frames))
        } else {
            self.wait(u64::MAX, what, vec![(0, TAG_GATHER, mine)], &[])?;
            Ok(None)
        }
    }

    /// Every rank's [`MpiTransport::log`], on rank 0 (index = rank); `None` on the others.
    /// Every rank must call it.
    pub fn gather_logs(&mut self) -> Result<Option<Vec<Vec<RankRound>>>> {
        let mut mine = Vec::with_capacity(8 + RANK_ROUND_BYTES * self.log.len());
        put_u64(&mut mine, self.log.len() as u64);
        self.log.iter().for_each(|l| l.encode(&mut mine));
        let Some(frames) = self.gather_frames(mine, "the per-round logs")? else {
            return Ok(None);
        };
        let mut all = vec![self.log.clone()];
        for f in &frames {
            let mut r = WireReader::new("rank log", f);
            let count = r.usize("count")?;
            let log = (0..count)
                .map(|_| RankRound::decode(&mut r))
                .collect::<Result<Vec<_>>>()?;
            r.finish()?;
            all.push(log);
        }
        Ok(Some(all))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_the_nodes_in_rank_order() {
        for (role, size) in [(Role::Peers, 4), (Role::Server, 4), (Role::Server, 1)] {
            let ranges: Vec<Range<usize>> =
                (0..size).map(|r| nodes_of(role, 10, size, r)).collect();
            let all: Vec<usize> = ranges.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(all, (0..10).collect::<Vec<_>>(), "{role:?} {size}");
        }
        assert_eq!(nodes_of(Role::Peers, 8, 4, 1), 2..4);
        assert_eq!(nodes_of(Role::Server, 10, 4, 0), 0..0);
        assert_eq!(nodes_of(Role::Server, 10, 4, 1), 0..3);
        assert_eq!(nodes_of(Role::Server, 10, 4, 3), 6..10);
    }
}
