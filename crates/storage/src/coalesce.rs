//! Coalescing of concurrent point reads into one query — generic, with no knowledge of the
//! store: a [`BatchRead`] says how to answer many keys with one query (the MongoDB adapters
//! send `_id: {$in: [...]}`), a [`Batcher`] decides when.
//!
//! `GET /api/auth/me` reads one user by id (and, with a cookie, one session) on every
//! request. Under load many of these reads wait at the same moment, and sending each as its own
//! query makes the database round trip — driver, socket, server — the whole cost of the
//! request. A [`Batcher`] keeps at most [`BatchLimits::max_in_flight`] queries running per
//! collection; reads asked for meanwhile queue and leave together in the next query (at most
//! [`BatchLimits::max_batch`] keys). `StoreLimits::coalesce_reads` turns it off: each read is
//! then its own query.
//!
//! Freshness is that of a plain `find`: a read is only ever answered by a query sent *after*
//! it was asked, so it sees every write that completed before it began. Nothing is cached.
//! Before taking the waiting reads, a query task lets the worker's scheduler run a few passes
//! while more reads keep arriving (requests read from the same socket wake-up); there is no
//! timer, so a lone read waits two passes.

use std::{
    collections::VecDeque,
    error::Error as StdError,
    fmt,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use altrion_domain::RepoError;
use async_trait::async_trait;
use tokio::sync::oneshot;

/// One kind of point read that can be answered for many callers by one query.
#[async_trait]
pub(crate) trait BatchRead: Send + Sync + 'static {
    /// What one caller asks for.
    type Request: Send + 'static;
    /// What one caller gets when the query succeeds.
    type Value: Send + 'static;

    /// Answers every request (at least one) with one query: one answer per request, in order
    /// (a document that cannot be mapped fails only its own callers); `Err` when the query
    /// itself failed.
    async fn read(&self, requests: &[Self::Request]) -> Result<Vec<Answer<Self>>, QueryFailed>;
}

/// What one caller of a [`BatchRead`] gets.
pub(crate) type Answer<R> = Result<<R as BatchRead>::Value, RepoError>;

/// A query that failed as a whole: every read it carried gets the error.
#[derive(Debug, Clone)]
pub(crate) struct QueryFailed {
    /// The database could not be reached in time (the API answers 503).
    unavailable: bool,
    source: Arc<dyn StdError + Send + Sync>,
}

impl QueryFailed {
    /// A failed query; `unavailable` when the store could not be reached in time (the API
    /// answers 503), else an unexpected failure.
    pub(crate) fn new(unavailable: bool, source: impl StdError + Send + Sync + 'static) -> Self {
        Self {
            unavailable,
            source: Arc::new(source),
        }
    }

    fn timed_out(after: Duration) -> Self {
        Self {
            unavailable: true,
            source: Arc::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer from the database within {after:?}"),
            )),
        }
    }

    fn to_repo_error(&self) -> RepoError {
        let source: Box<dyn StdError + Send + Sync> = Box::new(Arc::clone(&self.source));
        if self.unavailable {
            RepoError::Unavailable(source)
        } else {
            RepoError::Other(source)
        }
    }
}

/// Scheduler passes a query task waits at most for more reads to join (see `Runner::gather`).
const GATHER_PASSES: usize = 4;

/// How far a [`Batcher`] coalesces. The defaults (2 queries in flight, 100 keys each) were
/// chosen with `bench/http.sh` (docs/performance.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchLimits {
    /// Queries running at once; reads beyond wait for the next free one.
    pub max_in_flight: usize,
    /// Keys per query; 100 keeps the answer inside the driver's first reply batch (101).
    pub max_batch: usize,
    /// A query still unanswered after this fails as unavailable, so one stuck connection
    /// cannot hold every read queued behind it (the driver sets no socket timeout). An
    /// unreachable database fails sooner, after the server-selection timeout.
    pub query_timeout: Duration,
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self {
            max_in_flight: 2,
            max_batch: 100,
            query_timeout: Duration::from_secs(30),
        }
    }
}

/// Queues reads of one kind and answers them in batches; cheap to clone (shared queue).
pub(crate) struct Batcher<R: BatchRead> {
    shared: Arc<Shared<R>>,
}

impl<R: BatchRead> Clone for Batcher<R> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<R: BatchRead> fmt::Debug for Batcher<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batcher")
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

struct Shared<R: BatchRead> {
    reader: R,
    limits: BatchLimits,
    queue: Mutex<Queue<R>>,
}

struct Queue<R: BatchRead> {
    waiting: VecDeque<Waiting<R>>,
    /// Query tasks alive (each runs one query at a time).
    running: usize,
}

type Waiting<R> = (<R as BatchRead>::Request, oneshot::Sender<Answer<R>>);

impl<R: BatchRead> Batcher<R> {
    pub(crate) fn new(reader: R, limits: BatchLimits) -> Self {
        let limits = BatchLimits {
            max_in_flight: limits.max_in_flight.max(1),
            max_batch: limits.max_batch.max(1),
            ..limits
        };
        Self {
            shared: Arc::new(Shared {
                reader,
                limits,
                queue: Mutex::new(Queue {
                    waiting: VecDeque::new(),
                    running: 0,
                }),
            }),
        }
    }

    /// Answers `request` through the next query. `None` when the task running that query was
    /// dropped before answering (its runtime is shutting down); the caller may read directly.
    pub(crate) async fn read(&self, request: R::Request) -> Option<Answer<R>> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut queue = self.shared.lock();
            queue.waiting.push_back((request, reply));
            let start = queue.running < self.shared.limits.max_in_flight;
            if start {
                queue.running += 1;
            }
            start
        };
        if start {
            // A task of its own, so that a caller giving up (a client hanging up) never cancels
            // a query other callers wait on.
            let runner = Runner {
                shared: Arc::clone(&self.shared),
                done: false,
            };
            tokio::spawn(runner.run());
        }
        answer.await.ok()
    }
}

impl<R: BatchRead> Shared<R> {
    fn lock(&self) -> MutexGuard<'_, Queue<R>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One query task: sends queries while reads are waiting, then frees its slot — under the same
/// lock that saw the queue empty, so a read queued just after is never left without a task.
struct Runner<R: BatchRead> {
    shared: Arc<Shared<R>>,
    done: bool,
}

impl<R: BatchRead> Runner<R> {
    async fn run(mut self) {
        loop {
            self.gather().await;
            let (requests, replies): (Vec<_>, Vec<_>) = {
                let mut queue = self.shared.lock();
                // Callers that gave up (a client hanging up) need no query.
                queue.waiting.retain(|(_, reply)| !reply.is_closed());
                let n = queue.waiting.len().min(self.shared.limits.max_batch);
                if n == 0 {
                    queue.running -= 1;
                    self.done = true;
                    return;
                }
                queue.waiting.drain(..n).unzip()
            };
            let limit = self.shared.limits.query_timeout;
            let failed = match tokio::time::timeout(limit, self.shared.reader.read(&requests)).await
            {
                Ok(Ok(answers)) => {
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        // The caller may have given up; nothing to do then.
                        let _ = reply.send(answer);
                    }
                    continue;
                }
                Ok(Err(failed)) => failed,
                Err(_) => {
                    metrics::counter!("altrion_database_timeouts_total").increment(1);
                    QueryFailed::timed_out(limit)
                }
            };
            for reply in replies {
                let _ = reply.send(Err(failed.to_repo_error()));
            }
            if failed.unavailable {
                // The reads queued meanwhile would each wait as long to learn the same: they are
                // told now, so an outage answers 503 within the database timeout however many
                // requests pile up. (An error is never a stale answer.)
                let waiting: Vec<_> = self.shared.lock().waiting.drain(..).collect();
                for (_, reply) in waiting {
                    let _ = reply.send(Err(failed.to_repo_error()));
                }
            }
        }
    }

    /// Lets the reads readied in the same scheduler passes join the next query: yields while
    /// the queue grows, at most [`GATHER_PASSES`] times (a few microseconds, no timer).
    async fn gather(&self) {
        let mut seen = 0;
        for _ in 0..GATHER_PASSES {
            tokio::task::yield_now().await;
            let waiting = self.shared.lock().waiting.len();
            if waiting == seen {
                return;
            }
            seen = waiting;
        }
    }
}

impl<R: BatchRead> Drop for Runner<R> {
    /// Only does something when the task is dropped mid-way, by a runtime shutting down.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut queue = self.shared.lock();
        queue.running -= 1;
        if queue.running == 0 {
            // No task is left to send the waiting reads: their callers are told (they read
            // directly) rather than left waiting.
            queue.waiting.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::sync::Semaphore;

    use super::*;

    /// Answers each request with itself times ten (or fails every query, as unavailable or
    /// not, when `fails` says so); counts queries; each query waits for a permit so the test
    /// decides when queries finish.
    struct Reader {
        queries: AtomicUsize,
        sizes: Mutex<Vec<usize>>,
        gate: Semaphore,
        fails: Option<bool>,
    }

    #[async_trait]
    impl BatchRead for Arc<Reader> {
        type Request = u32;
        type Value = u32;

        async fn read(&self, requests: &[u32]) -> Result<Vec<Answer<Self>>, QueryFailed> {
            self.queries.fetch_add(1, Ordering::SeqCst);
            self.sizes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(requests.len());
            if let Ok(permit) = self.gate.acquire().await {
                permit.forget();
            }
            match self.fails {
                Some(unavailable) => Err(QueryFailed {
                    unavailable,
                    source: Arc::new(std::io::Error::other("query failed")),
                }),
                None => Ok(requests.iter().map(|r| Ok(r * 10)).collect()),
            }
        }
    }

    fn failing_reader(fails: Option<bool>) -> Arc<Reader> {
        Arc::new(Reader {
            queries: AtomicUsize::new(0),
            sizes: Mutex::new(Vec::new()),
            gate: Semaphore::new(0),
            fails,
        })
    }

    fn reader(open: bool) -> Arc<Reader> {
        let reader = failing_reader(None);
        if open {
            reader.gate.add_permits(Semaphore::MAX_PERMITS);
        }
        reader
    }

    fn limits(max_in_flight: usize, max_batch: usize) -> BatchLimits {
        BatchLimits {
            max_in_flight,
            max_batch,
            ..BatchLimits::default()
        }
    }

    /// `read(n)` in a task of its own: its value, `None` for an error or no answer.
    fn spawn_read(batcher: &Batcher<Arc<Reader>>, n: u32) -> tokio::task::JoinHandle<Option<u32>> {
        let batcher = batcher.clone();
        tokio::spawn(async move { batcher.read(n).await.and_then(Result::ok) })
    }

    /// `read(n)` in a task of its own, answer as given.
    fn spawn_raw(
        batcher: &Batcher<Arc<Reader>>,
        n: u32,
    ) -> tokio::task::JoinHandle<Option<Answer<Arc<Reader>>>> {
        let batcher = batcher.clone();
        tokio::spawn(async move { batcher.read(n).await })
    }

    fn is_unavailable(answer: &Option<Answer<Arc<Reader>>>) -> bool {
        matches!(answer, Some(Err(RepoError::Unavailable(_))))
    }

    /// The batch sizes the reader has seen.
    fn sizes(reader: &Reader) -> Vec<usize> {
        reader
            .sizes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Lets spawned tasks run until none can make progress (current-thread runtime).
    async fn settle() {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_lone_read_is_sent_at_once_and_answered() {
        let reader = reader(true);
        let batcher = Batcher::new(Arc::clone(&reader), BatchLimits::default());
        assert_eq!(batcher.read(7).await.and_then(Result::ok), Some(70));
        assert_eq!(reader.queries.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn reads_asked_while_queries_run_leave_together_in_the_next_one() {
        let reader = reader(false);
        let batcher = Batcher::new(Arc::clone(&reader), limits(1, 100));
        let first = spawn_read(&batcher, 1);
        settle().await;
        assert_eq!(
            reader.queries.load(Ordering::SeqCst),
            1,
            "the first read left alone"
        );
        let rest: Vec<_> = (2..=6).map(|n| spawn_read(&batcher, n)).collect();
        settle().await;
        assert_eq!(
            reader.queries.load(Ordering::SeqCst),
            1,
            "the others wait for the running query"
        );
        reader.gate.add_permits(2);
        assert_eq!(first.await.ok().flatten(), Some(10));
        for (n, task) in (2..=6).zip(rest) {
            assert_eq!(task.await.ok().flatten(), Some(n * 10));
        }
        assert_eq!(sizes(&reader), vec![1, 5]);
    }

    #[tokio::test]
    async fn reads_arriving_within_a_few_scheduler_passes_join_the_first_query() {
        let reader = reader(true);
        let batcher = Batcher::new(Arc::clone(&reader), limits(1, 100));
        let late = |passes: usize, n: u32| {
            let b = batcher.clone();
            tokio::spawn(async move {
                for _ in 0..passes {
                    tokio::task::yield_now().await;
                }
                b.read(n).await.and_then(Result::ok)
            })
        };
        let tasks = vec![late(0, 1), late(1, 2), late(2, 3)];
        for (n, task) in (1..=3).zip(tasks) {
            assert_eq!(task.await.ok().flatten(), Some(n * 10));
        }
        assert_eq!(sizes(&reader), vec![3], "one query for the three reads");
    }

    #[tokio::test]
    async fn batches_are_capped_and_queries_run_up_to_the_limit_in_parallel() {
        let reader = reader(false);
        let batcher = Batcher::new(Arc::clone(&reader), limits(2, 3));
        let tasks: Vec<_> = (0..10).map(|n| spawn_read(&batcher, n)).collect();
        settle().await;
        assert_eq!(
            reader.queries.load(Ordering::SeqCst),
            2,
            "two queries in flight"
        );
        reader.gate.add_permits(100);
        for (n, task) in (0..10).zip(tasks) {
            assert_eq!(task.await.ok().flatten(), Some(n * 10));
        }
        let sizes = sizes(&reader);
        assert_eq!(sizes.iter().sum::<usize>(), 10);
        assert!(sizes.iter().all(|&s| s <= 3), "{sizes:?}");
    }

    #[tokio::test]
    async fn a_caller_giving_up_does_not_cancel_the_query_of_the_others() {
        let reader = reader(false);
        let batcher = Batcher::new(Arc::clone(&reader), limits(1, 100));
        let quitter = spawn_read(&batcher, 1);
        let stayer = spawn_read(&batcher, 2);
        settle().await;
        quitter.abort();
        reader.gate.add_permits(100);
        assert_eq!(stayer.await.ok().flatten(), Some(20));
    }

    #[tokio::test]
    async fn an_unreachable_database_fails_the_query_and_every_read_waiting_behind_it() {
        let reader = failing_reader(Some(true));
        let batcher = Batcher::new(Arc::clone(&reader), limits(1, 1));
        let tasks: Vec<_> = (0..5).map(|n| spawn_raw(&batcher, n)).collect();
        settle().await;
        reader.gate.add_permits(100);
        for task in tasks {
            assert!(is_unavailable(&task.await.ok().flatten()));
        }
        assert_eq!(
            reader.queries.load(Ordering::SeqCst),
            1,
            "the waiting reads are told at once, not each after a query of its own"
        );
    }

    #[tokio::test]
    async fn any_other_query_error_fails_only_the_reads_it_carried() {
        let reader = failing_reader(Some(false));
        let batcher = Batcher::new(Arc::clone(&reader), limits(1, 1));
        let tasks: Vec<_> = (0..3).map(|n| spawn_raw(&batcher, n)).collect();
        settle().await;
        reader.gate.add_permits(100);
        for task in tasks {
            let answer = task.await.ok().flatten();
            assert!(
                matches!(answer, Some(Err(RepoError::Other(_)))),
                "{answer:?}"
            );
        }
        assert_eq!(reader.queries.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_query_that_never_answers_fails_as_unavailable_after_the_timeout() {
        let reader = reader(false);
        let batcher = Batcher::new(
            Arc::clone(&reader),
            BatchLimits {
                query_timeout: Duration::from_secs(3),
                ..limits(1, 100)
            },
        );
        let stuck = spawn_raw(&batcher, 1);
        settle().await;
        let queued = spawn_raw(&batcher, 2);
        // Paused time: the runtime advances the clock to the timeout once all tasks wait.
        assert!(is_unavailable(&stuck.await.ok().flatten()));
        assert!(is_unavailable(&queued.await.ok().flatten()));
    }

    #[tokio::test]
    async fn callers_that_gave_up_are_left_out_of_the_next_query() {
        let reader = reader(false);
        let batcher = Batcher::new(Arc::clone(&reader), limits(1, 100));
        let first = spawn_read(&batcher, 1);
        settle().await;
        let quitters: Vec<_> = (10..14).map(|n| spawn_read(&batcher, n)).collect();
        let stayer = spawn_read(&batcher, 2);
        settle().await;
        for quitter in &quitters {
            quitter.abort();
        }
        settle().await;
        reader.gate.add_permits(100);
        assert_eq!(first.await.ok().flatten(), Some(10));
        assert_eq!(stayer.await.ok().flatten(), Some(20));
        assert_eq!(
            sizes(&reader),
            vec![1, 1],
            "only the caller still waiting is sent"
        );
    }

    #[test]
    fn reads_left_by_a_runtime_shutting_down_are_told_not_stranded() {
        let runtime = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let reader = reader(false);
        let batcher = Batcher::new(Arc::clone(&reader), limits(1, 100));
        // The query task lives on a runtime dropped mid-query; the second read is asked from
        // another thread and runtime and queues behind it.
        let doomed = runtime();
        doomed.block_on(async {
            let b = batcher.clone();
            drop(tokio::spawn(async move { b.read(1).await }));
            settle().await;
        });
        assert_eq!(reader.queries.load(Ordering::SeqCst), 1);
        let caller = std::thread::spawn({
            let batcher = batcher.clone();
            move || runtime().block_on(batcher.read(2)).and_then(Result::ok)
        });
        while batcher.shared.lock().waiting.is_empty() {
            std::thread::yield_now();
        }
        drop(doomed);
        assert_eq!(caller.join().unwrap_or_else(|_| panic!("caller")), None);
        // The slot is free again: a new read gets a query of its own.
        reader.gate.add_permits(100);
        assert_eq!(
            runtime().block_on(batcher.read(3)).and_then(Result::ok),
            Some(30)
        );
        assert_eq!(reader.queries.load(Ordering::SeqCst), 2);
    }
}
