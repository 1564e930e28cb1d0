//! The helpful-vote queue: votes that arrive together are applied together, a batch to one
//! transaction (group commit). One worker per instance takes whatever has queued while the
//! previous batch was being written, so under load batches grow by themselves and each vote
//! shares a transaction's fixed cost; when idle a vote is written alone, at once.

use marquee_store::{Store, StoreError, StoreResult, VoteChange, VoteRejection, VoteTally};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// The most votes one transaction takes: big enough that a full queue drains in a few batches,
/// small enough that one batch never holds the writer for long.
const MAX_BATCH: usize = 256;

type Answer = Result<VoteTally, VoteRejection>;

struct Pending {
    change: VoteChange,
    reply: oneshot::Sender<Result<Answer, Arc<StoreError>>>,
}

#[derive(Clone)]
pub struct VoteQueue {
    tx: mpsc::Sender<Pending>,
}

impl VoteQueue {
    /// Starts the workers (as many as the backend has use for); they stop when the last handle
    /// is dropped.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..store.write_concurrency().max(1) {
            tokio::spawn(work(store.clone(), rx.clone()));
        }
        Self { tx }
    }

    /// Applies one vote, in whichever batch it lands.
    pub async fn apply(&self, change: VoteChange) -> StoreResult<VoteTally> {
        let (reply, answer) = oneshot::channel();
        if self.tx.send(Pending { change, reply }).await.is_err() {
            return Err(stopped());
        }
        match answer.await {
            Ok(Ok(answer)) => Ok(answer?),
            Ok(Err(e)) => Err(StoreError::backend(std::io::Error::other(e.to_string()))),
            Err(_) => Err(stopped()),
        }
    }
}

fn stopped() -> StoreError {
    StoreError::backend(std::io::Error::other(
        "the vote was not applied: the vote queue stopped",
    ))
}

async fn work(store: Arc<dyn Store>, rx: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // One worker at a time waits on the queue and takes everything in it; the others are busy
    // writing their batches meanwhile, or wait their turn here.
    while rx.lock().await.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let changes: Vec<VoteChange> = batch.iter().map(|p| p.change).collect();
        match store.apply_votes(&changes).await {
            Ok(answers) => {
                for (pending, answer) in batch.drain(..).zip(answers) {
                    // The voter may have gone (a closed connection); the vote stands anyway.
                    let _ = pending.reply.send(Ok(answer));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, votes = changes.len(), "a vote batch failed");
                let e = Arc::new(e);
                for pending in batch.drain(..) {
                    let _ = pending.reply.send(Err(e.clone()));
                }
            }
        }
        // Anything left undrained (a short answer list) is dropped and its caller told.
        batch.clear();
    }
}
