//! What each rank of a distributed run did per round ([`RankRound`]): recorded by the MPI
//! backend and gathered to rank 0 for the report; plain data, so reports read it without MPI.

use descent_core::Result;
use serde::{Deserialize, Serialize};

use crate::transport::{WireReader, put_f64, put_u64};

/// What one rank did in one transport call (a round): MPI messages and bytes it sent and
/// received (frames included; messages between its own nodes not counted), the algorithm's
/// [`Traffic`](crate::Traffic) of the call as this rank counts it (the server: the whole round; a peer: its
/// nodes' messages, local ones included; a serving rank: none, the server counts them), wall
/// time of the call (including the nodes' work) and the time spent waiting on MPI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RankRound {
    /// The round (transport call) number.
    pub round: u64,
    /// MPI messages this rank sent.
    pub sent_messages: u64,
    /// Bytes this rank sent (frames included).
    pub sent_bytes: u64,
    /// MPI messages this rank received.
    pub received_messages: u64,
    /// Bytes this rank received (frames included).
    pub received_bytes: u64,
    /// The algorithm's messages of the call as this rank counts them.
    pub traffic_messages: u64,
    /// The algorithm's payload bytes of the call as this rank counts them.
    pub traffic_bytes: u64,
    /// Wall time of the call in seconds, the nodes' work included.
    pub wall_s: f64,
    /// Seconds of `wall_s` spent waiting on MPI.
    pub wait_s: f64,
}

/// Bytes of one encoded [`RankRound`].
pub const RANK_ROUND_BYTES: usize = 72;

impl RankRound {
    /// Appends the 72-byte little-endian encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        for v in [
            self.round,
            self.sent_messages,
            self.sent_bytes,
            self.received_messages,
            self.received_bytes,
            self.traffic_messages,
            self.traffic_bytes,
        ] {
            put_u64(out, v);
        }
        put_f64(out, self.wall_s);
        put_f64(out, self.wait_s);
    }

    /// Reads one record written by [`RankRound::encode`].
    pub fn decode(r: &mut WireReader<'_>) -> Result<Self> {
        Ok(RankRound {
            round: r.u64("round")?,
            sent_messages: r.u64("sent_messages")?,
            sent_bytes: r.u64("sent_bytes")?,
            received_messages: r.u64("received_messages")?,
            received_bytes: r.u64("received_bytes")?,
            traffic_messages: r.u64("traffic_messages")?,
            traffic_bytes: r.u64("traffic_bytes")?,
            wall_s: r.f64("wall_s")?,
            wait_s: r.f64("wait_s")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_logs_round_trip() {
        let l = RankRound {
            round: 3,
            sent_messages: 2,
            sent_bytes: 100,
            received_messages: 1,
            received_bytes: 50,
            traffic_messages: 4,
            traffic_bytes: 400,
            wall_s: 0.25,
            wait_s: 0.125,
        };
        let mut b = Vec::new();
        l.encode(&mut b);
        assert_eq!(b.len(), RANK_ROUND_BYTES);
        let mut r = WireReader::new("rank log", &b);
        assert_eq!(RankRound::decode(&mut r).unwrap(), l);
        r.finish().unwrap();
    }
}
