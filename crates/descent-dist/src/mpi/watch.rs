//! What a rank is waiting for, kept where a SIGTERM watcher can read it, so a rank that mpirun
//! stops names the round and the ranks it was waiting for.
//!
//! When a rank dies (SIGKILL, a crash), Open MPI's mpirun prints which rank died and ends the
//! job: it sends the surviving ranks SIGTERM and, about a second later, SIGKILL. mpirun knows
//! the rank but not the round; every surviving rank knows the round and whom it waits for. With
//! [`MpiTransport::with_stop_report`](super::MpiTransport::with_stop_report) a rank answers the
//! SIGTERM by printing e.g. "MPI rank 1: stopped by mpirun in round 17 while waiting for a
//! push-sum message from rank 2 ..." and then ends as SIGTERM would have ended it.

use std::sync::{Arc, Mutex};

use descent_core::{Error, Result};

/// What one rank is doing, updated by every wait and read by the SIGTERM watcher.
#[derive(Debug, Default)]
pub(super) struct Doing {
    /// The round of the current or last wait (`u64::MAX`: the end-of-run gathers).
    pub round: u64,
    /// What the wait expects (e.g. "a push-sum message"); empty before the first wait.
    pub what: &'static str,
    /// The ranks whose messages are outstanding (ascending, distinct).
    pub from: Vec<usize>,
    /// The ranks that have not yet taken this rank's messages (ascending, distinct).
    pub to: Vec<usize>,
    /// True inside a wait, false while the rank computes.
    pub waiting: bool,
}

/// Ascending distinct ranks.
pub(super) fn ranks(it: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut v: Vec<usize> = it.collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn list(ranks: &[usize]) -> String {
    let names: Vec<String> = ranks.iter().map(usize::to_string).collect();
    match ranks.len() {
        1 => format!("rank {}", names[0]),
        _ => format!("ranks {}", names.join(", ")),
    }
}

impl Doing {
    /// The line rank `rank` prints when mpirun stops it.
    pub fn report(&self, rank: usize) -> String {
        let when = match self.round {
            _ if self.what.is_empty() => "before its first round".to_string(),
            u64::MAX => "at the end of the run".to_string(),
            r => format!("in round {r}"),
        };
        let taking = format!("for {} to take its messages", list(&self.to));
        let doing = match (self.waiting, self.from.is_empty(), self.to.is_empty()) {
            (false, _, _) => "while computing (not waiting for another rank)".to_string(),
            (true, false, true) => {
                format!("while waiting for {} from {}", self.what, list(&self.from))
            }
            (true, false, false) => format!(
                "while waiting for {} from {} and {taking}",
                self.what,
                list(&self.from)
            ),
            (true, true, _) => format!("while waiting {taking}"),
        };
        format!(
            "MPI rank {rank}: stopped by mpirun {when} {doing} (another rank died or the job was \
             cancelled; mpirun's message names the rank)"
        )
    }
}

/// Starts the thread that answers this process's first SIGTERM with `doing`'s report on stderr
/// and then ends the process as SIGTERM would have. Errors: the handler cannot be installed.
pub(super) fn watch(rank: usize, doing: Arc<Mutex<Doing>>) -> Result<()> {
    use signal_hook::consts::SIGTERM;

    let mut signals =
        signal_hook::iterator::Signals::new([SIGTERM]).map_err(|e| Error::io("SIGTERM", e))?;
    std::thread::Builder::new()
        .name("mpi-stop-report".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                let text = doing
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .report(rank);
                eprintln!("error: {text}");
                let _ = signal_hook::low_level::emulate_default_handler(SIGTERM);
                std::process::exit(128 + SIGTERM);
            }
        })
        .map_err(|e| Error::io("SIGTERM watcher thread", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_name_the_round_and_the_silent_ranks() {
        let mut d = Doing::default();
        assert!(
            d.report(3)
                .contains("rank 3: stopped by mpirun before its first round")
        );
        d.round = 17;
        d.what = "a push-sum message";
        d.from = ranks([2, 1, 2].into_iter());
        d.waiting = true;
        assert_eq!(
            d.report(0),
            "MPI rank 0: stopped by mpirun in round 17 while waiting for a push-sum message \
             from ranks 1, 2 (another rank died or the job was cancelled; mpirun's message \
             names the rank)"
        );
        d.to = vec![3];
        assert!(d.report(0).contains(
            "in round 17 while waiting for a push-sum message from ranks 1, 2 and for rank 3 \
             to take its messages"
        ));
        d.from.clear();
        assert!(
            d.report(0)
                .contains("in round 17 while waiting for rank 3 to take its messages (")
        );
        d.waiting = false;
        d.round = u64::MAX;
        assert!(
            d.report(0)
                .contains("at the end of the run while computing")
        );
    }
}
