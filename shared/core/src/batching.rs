//! Natural batching: requests that arrive while earlier ones are at the database wait, then go
//! together in one round trip (one statement, one commit). There is no timer: on an idle
//! server a request runs at once, alone; under load as many share a round trip as are waiting.
//! A job is only ever taken after it was queued, so a read answered from a shared round trip
//! is as fresh as one made alone: it never gets a result that started before it arrived.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

type BatchFuture<R> = Pin<Box<dyn Future<Output = Vec<R>> + Send>>;
type RunBatch<J, R> = dyn Fn(Vec<J>) -> BatchFuture<R> + Send + Sync;

/// Runs queued jobs of type `J` in batches; each job gets its own `R`.
pub struct Batcher<J, R> {
    inner: Arc<Inner<J, R>>,
}

impl<J, R> Clone for Batcher<J, R> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

struct Inner<J, R> {
    queue: Mutex<Queue<J, R>>,
    max_batch: usize,
    max_in_flight: usize,
    run: Box<RunBatch<J, R>>,
    batches_run: AtomicU64,
}

struct Queue<J, R> {
    waiting: VecDeque<(J, oneshot::Sender<R>)>,
    in_flight: usize,
}

/// One error given to every job of a batch that failed as a whole (its cause chain kept).
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct SharedError(Arc<dyn std::error::Error + Send + Sync>);

impl SharedError {
    pub fn new(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(err))
    }
}

/// The worker running a job's batch stopped without an answer (the batch function panicked).
#[derive(Debug, thiserror::Error)]
#[error("the batch this request was part of stopped without an answer")]
pub struct BatchAbandoned;

impl<J: Send + 'static, R: Send + 'static> Batcher<J, R> {
    /// `run` gets up to `max_batch` jobs in arrival order and must return one result per job,
    /// in the same order. At most `max_in_flight` batches run at once.
    pub fn new<F, Fut>(max_batch: usize, max_in_flight: usize, run: F) -> Self
    where
        F: Fn(Vec<J>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<R>> + Send + 'static,
    {
        Self {
            inner: Arc::new(Inner {
                queue: Mutex::new(Queue { waiting: VecDeque::new(), in_flight: 0 }),
                max_batch: max_batch.max(1),
                max_in_flight: max_in_flight.max(1),
                run: Box::new(move |jobs| Box::pin(run(jobs))),
                batches_run: AtomicU64::new(0),
            }),
        }
    }

    /// Queues `job` and waits for its result. The batch runs in its own task, so a caller that
    /// goes away (a client hanging up) never stops the others' batch.
    pub async fn submit(&self, job: J) -> Result<R, BatchAbandoned> {
        let (reply, answer) = oneshot::channel();
        let start_worker = {
            let mut queue = self.inner.lock();
            queue.waiting.push_back((job, reply));
            let start = queue.in_flight < self.inner.max_in_flight;
            if start {
                queue.in_flight += 1;
            }
            start
        };
        if start_worker {
            tokio::spawn(Worker::start(self.inner.clone()));
        }
        answer.await.map_err(|_| BatchAbandoned)
    }

    /// How many batches have run: less than the jobs submitted when they were shared.
    pub fn batches_run(&self) -> u64 {
        self.inner.batches_run.load(Ordering::Relaxed)
    }
}

impl<J, R> Inner<J, R> {
    fn lock(&self) -> MutexGuard<'_, Queue<J, R>> {
        // Nothing panics while holding the lock, but a poisoned queue is still a valid queue.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One in-flight slot: takes batches until the queue is empty. If the batch function panics,
/// its jobs' senders are dropped (they get [`BatchAbandoned`]) and the slot is handed on, so
/// jobs still queued are not stranded.
struct Worker<J: Send + 'static, R: Send + 'static> {
    inner: Arc<Inner<J, R>>,
    released: bool,
}

impl<J: Send + 'static, R: Send + 'static> Worker<J, R> {
    async fn start(inner: Arc<Inner<J, R>>) {
        let mut worker = Self { inner, released: false };
        worker.drain().await;
    }

    async fn drain(&mut self) {
        loop {
            let batch: Vec<(J, oneshot::Sender<R>)> = {
                let mut queue = self.inner.lock();
                if queue.waiting.is_empty() {
                    queue.in_flight -= 1;
                    self.released = true;
                    return;
                }
                let take = queue.waiting.len().min(self.inner.max_batch);
                queue.waiting.drain(..take).collect()
            };
            let (jobs, replies): (Vec<J>, Vec<oneshot::Sender<R>>) = batch.into_iter().unzip();
            self.inner.batches_run.fetch_add(1, Ordering::Relaxed);
            let results = (self.inner.run)(jobs).await;
            for (reply, result) in replies.into_iter().zip(results) {
                // The caller may have gone away; its result is simply dropped.
                let _ = reply.send(result);
            }
        }
    }
}

impl<J: Send + 'static, R: Send + 'static> Drop for Worker<J, R> {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // Unwinding from a panicking batch: keep the slot for a fresh worker if jobs wait.
        let hand_on = {
            let mut queue = self.inner.lock();
            if queue.waiting.is_empty() {
                queue.in_flight -= 1;
                false
            } else {
                true
            }
        };
        if hand_on {
            tokio::spawn(Worker::start(self.inner.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::Notify;

    use super::*;

    /// A batcher whose batches return each job doubled, and the batch sizes it saw; with a
    /// `gate`, the first batch waits for it so jobs can pile up behind it.
    fn doubling(max_batch: usize, gate: Option<Arc<Notify>>) -> (Batcher<u32, u32>, Arc<Mutex<Vec<usize>>>) {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let batcher = Batcher::new(max_batch, 1, move |jobs: Vec<u32>| {
            let (gate, seen) = (gate.clone(), seen.clone());
            async move {
                let first = seen.lock().unwrap().is_empty();
                seen.lock().unwrap().push(jobs.len());
                if let (true, Some(gate)) = (first, gate) {
                    gate.notified().await;
                }
                jobs.into_iter().map(|j| j * 2).collect()
            }
        });
        (batcher, sizes)
    }

    #[tokio::test]
    async fn an_idle_batcher_runs_a_job_at_once_alone() {
        let (batcher, sizes) = doubling(100, None);
        assert_eq!(batcher.submit(7).await.unwrap(), 14);
        assert_eq!(batcher.submit(8).await.unwrap(), 16);
        assert_eq!(*sizes.lock().unwrap(), vec![1, 1]);
        assert_eq!(batcher.batches_run(), 2);
    }

    /// Submits `first`, waits until its batch is running (held at the gate), queues `rest`
    /// behind it, then opens the gate; returns every job's result, `first`'s first.
    async fn pile_up(max_batch: usize, first: u32, rest: std::ops::Range<u32>) -> (Vec<u32>, Vec<usize>) {
        let gate = Arc::new(Notify::new());
        let (batcher, sizes) = doubling(max_batch, Some(gate.clone()));
        let submit = |n: u32| {
            let batcher = batcher.clone();
            tokio::spawn(async move { batcher.submit(n).await.unwrap() })
        };
        let mut tasks = vec![submit(first)];
        while sizes.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        tasks.extend(rest.map(submit));
        tokio::time::sleep(Duration::from_millis(50)).await;
        gate.notify_one();
        let results = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
        let sizes = sizes.lock().unwrap().clone();
        assert_eq!(batcher.batches_run(), sizes.len() as u64);
        (results, sizes)
    }

    #[tokio::test]
    async fn jobs_queued_behind_a_running_batch_share_the_next_one_in_order() {
        let (results, sizes) = pile_up(100, 1, 10..20).await;
        assert_eq!(results, [1].into_iter().chain(10..20).map(|n| n * 2).collect::<Vec<_>>());
        assert_eq!(sizes, vec![1, 10]);
    }

    #[tokio::test]
    async fn a_batch_never_exceeds_max_batch() {
        let (results, sizes) = pile_up(4, 0, 1..11).await;
        assert_eq!(results, (0..11).map(|n| n * 2).collect::<Vec<_>>());
        assert_eq!(sizes, vec![1, 4, 4, 2]);
    }

    #[tokio::test]
    async fn a_panicking_batch_abandons_its_jobs_and_the_next_jobs_still_run() {
        let batcher = Batcher::new(10, 1, |jobs: Vec<u32>| async move {
            assert!(!jobs.contains(&13), "unlucky job in {jobs:?}");
            jobs
        });
        assert!(batcher.submit(13).await.is_err());
        assert_eq!(batcher.submit(5).await.unwrap(), 5);
        let results = futures::future::join_all((20..40).map(|n| batcher.submit(n))).await;
        assert!(results.into_iter().map(Result::unwrap).eq(20..40));
    }
}
