//! The rounds of the MPI transport: the server's broadcast and gather, the point-to-point
//! exchanges of push-sum, and the end-of-run collection (see the parent module's docs).

use std::time::Instant;

use descent_core::{Error, Result};

use super::{DROPPED, KIND_ROUND, MpiTransport, Outgoing, REPLIED, TAG_DOWN, TAG_UP};
use crate::transport::{
    Gathered, HEADER_BYTES, Message, SERVER, Traffic, Transport, Wire, WireReader, check_targets,
    gathered, put_u64,
};

impl<N: Send> MpiTransport<N> {
    /// The point-to-point round behind both exchanges (see the module docs).
    fn exchange_inner<M, S, V>(&mut self, round: u64, send: S, receive: V) -> Result<Traffic>
    where
        M: Wire,
        S: Fn(usize, &mut N) -> Vec<(usize, M)>,
        V: Fn(usize, &mut N, &[Message<M>], &[(usize, M)]),
    {
        let start = Instant::now();
        let Some(topology) = &self.topology else {
            return Err(Error::invalid(
                "MPI transport topology",
                "none",
                "MpiTransport::with_topology before a point-to-point round",
            ));
        };
        let graph = topology.graph(round)?;
        let (n, first, local) = (self.n, self.first, self.local());
        let outgoing: Vec<Vec<(usize, M)>> = self
            .nodes
            .iter_mut()
            .enumerate()
            .map(|(i, node)| send(first + i, node))
            .collect();
        let mut inboxes: Vec<Vec<Message<M>>> = (0..self.nodes.len()).map(|_| Vec::new()).collect();
        let mut returned: Vec<Vec<(usize, M)>> =
            (0..self.nodes.len()).map(|_| Vec::new()).collect();
        let mut sends: Vec<Outgoing> = Vec::new();
        let mut traffic = Traffic::default();
        for (i, out) in outgoing.into_iter().enumerate() {
            let k = first + i;
            for (dest, payload) in out {
                if dest >= n || !graph.out_neighbours(k).contains(&dest) {
                    return Err(Error::invalid(
                        format!("destination of a message from node {k} in round {round}"),
                        dest,
                        format!(
                            "an out-neighbour in the round's graph {:?} (the MPI transport \
                             receives from the graph's in-neighbours only)",
                            graph.out_neighbours(k)
                        ),
                    ));
                }
                if self.faults.link_fails(round, k, dest) {
                    traffic.p2p_undelivered += 1;
                    returned[i].push((dest, payload));
                    continue;
                }
                let m = Message {
                    round,
                    sender: k,
                    payload,
                };
                traffic.p2p_messages += 1;
                traffic.p2p_bytes += m.bytes();
                if local.contains(&dest) {
                    inboxes[dest - first].push(m);
                } else {
                    let mut buf = Vec::with_capacity(m.bytes() as usize);
                    m.encode(&mut buf);
                    sends.push((self.owner[dest], dest as i32, buf));
                }
            }
        }
        let mut expect = Vec::new();
        let mut senders = Vec::new();
        for i in local.clone() {
            for &j in graph.in_neighbours(i) {
                if !local.contains(&j) && !self.faults.link_fails(round, j, i) {
                    expect.push((self.owner[j], i as i32));
                    senders.push((j, i));
                }
            }
        }
        let (frames, moved) = self.wait(round, "a push-sum message", sends, &expect)?;
        for (bytes, &(j, i)) in frames.iter().zip(&senders) {
            let m: Message<M> = Message::decode(bytes)?;
            if m.round != round || m.sender != j {
                return Err(self.protocol(format!(
                    "node {i} expected node {j}'s message of round {round}, got node {}'s of \
                     round {}",
                    m.sender, m.round
                )));
            }
            inboxes[i - first].push(m);
        }
        for (i, node) in self.nodes.iter_mut().enumerate() {
            inboxes[i].sort_by_key(|m| m.sender);
            receive(first + i, node, &inboxes[i], &returned[i]);
        }
        self.total += traffic;
        self.log.push(moved.log(round, start, traffic));
        Ok(traffic)
    }
}

type NodeOutcome<R> = (usize, Result<Option<R>>);

impl<N: Send> Transport<N> for MpiTransport<N> {
    fn n_nodes(&self) -> usize {
        self.n
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
        let start = Instant::now();
        self.server_only("broadcast_gather")?;
        check_targets(self.n, to)?;
        let msg = Message {
            round,
            sender: SERVER,
            payload,
        };
        let mut outcomes: Vec<NodeOutcome<R>> = Vec::with_capacity(to.len());
        let msg_bytes = HEADER_BYTES + payload.wire_bytes();
        let mut body = Vec::with_capacity(msg_bytes as usize);
        put_u64(&mut body, round);
        put_u64(&mut body, SERVER as u64);
        payload.encode(&mut body);
        let mut sends = Vec::new();
        let mut expect = Vec::new();
        for r in 0..self.size {
            let ids: Vec<usize> = to.iter().copied().filter(|&k| self.owner[k] == r).collect();
            if r == 0 {
                for &k in &ids {
                    let out = if self.faults.drops(round, k) {
                        Ok(None)
                    } else {
                        work(k, &mut self.nodes[k - self.first], &msg)
                    };
                    outcomes.push((k, out));
                }
                continue;
            }
            let mut f = Vec::with_capacity(24 + 8 * ids.len() + body.len());
            put_u64(&mut f, KIND_ROUND);
            put_u64(&mut f, round);
            put_u64(&mut f, ids.len() as u64);
            ids.iter().for_each(|&k| put_u64(&mut f, k as u64));
            if !ids.is_empty() {
                f.extend_from_slice(&body);
            }
            sends.push((r, TAG_DOWN, f));
            expect.push((r, TAG_UP));
        }
        let (frames, moved) = self.wait(round, "the clients' replies", sends, &expect)?;
        for (frame, &(r, _)) in frames.iter().zip(&expect) {
            let mut rd = WireReader::new("reply frame", frame);
            let got = rd.u64("round")?;
            if got != round {
                return Err(
                    self.protocol(format!("rank {r} replied for round {got} in round {round}"))
                );
            }
            for _ in 0..rd.usize("count")? {
                let k = rd.usize("client id")?;
                let status = rd.u64("status")?;
                let len = rd.usize("length")?;
                let bytes = rd.bytes("reply", len)?;
                let out = match status {
                    DROPPED => Ok(None),
                    REPLIED => Message::<R>::decode(bytes).map(|m| Some(m.payload)),
                    _ => Err(Error::Io {
                        path: format!("MPI rank {r}, client {k}"),
                        message: String::from_utf8_lossy(bytes).into_owned(),
                        source: None,
                    }),
                };
                outcomes.push((k, out));
            }
            rd.finish()?;
        }
        outcomes.sort_by_key(|o| o.0);
        let g = gathered(round, to.len(), payload.wire_bytes(), outcomes)?;
        self.total += g.traffic;
        self.log.push(moved.log(round, start, g.traffic));
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
        let first = self.first;
        let values: Vec<R> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| f(first + i, node))
            .collect();
        let mut mine = Vec::new();
        if self.rank != 0 {
            put_u64(&mut mine, values.len() as u64);
            for v in &values {
                put_u64(&mut mine, v.wire_bytes());
                v.encode(&mut mine);
            }
        }
        let Some(frames) = self.gather_frames(mine, "the nodes' results")? else {
            return Ok(None);
        };
        let mut all = values;
        for f in &frames {
            let mut r = WireReader::new("collected values", f);
            for _ in 0..r.usize("count")? {
                let len = r.usize("length")?;
                all.push(R::decode(r.bytes("value", len)?)?);
            }
            r.finish()?;
        }
        if all.len() != self.n {
            return Err(self.protocol(format!(
                "collected {} values of {} nodes",
                all.len(),
                self.n
            )));
        }
        Ok(Some(all))
    }

    fn total_traffic(&self) -> Traffic {
        self.total
    }
}
