//! One output's bounded in-memory queue and the thread that drains it through a [`Transport`],
//! retrying with exponential backoff (and jitter) until delivery succeeds or shutdown's deadline passes.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prometheus::{IntCounter, IntGauge};

/// How a delivery failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Worth retrying: connection refused or reset, a timeout, a 5xx.
    Retry(String),
    /// Never going to work for this batch (the receiver rejected it): drop it, counted as failed.
    Reject(String),
}

/// Sends a batch of already-encoded records.
pub(crate) trait Transport: Send + 'static {
    fn deliver(&mut self, batch: &[Vec<u8>]) -> Result<(), Failure>;
}

/// The counters of one output.
#[derive(Debug, Clone)]
pub(crate) struct OutputMetrics {
    pub(crate) sent: IntCounter,
    pub(crate) failed: IntCounter,
    pub(crate) retries: IntCounter,
    pub(crate) depth: IntGauge,
}

#[derive(Debug, Default)]
struct State {
    items: VecDeque<(u64, Vec<u8>)>,
    next_seq: u64,
    closed: bool,
    deadline: Option<Instant>,
}

#[derive(Debug)]
struct Queue {
    state: Mutex<State>,
    wake: Condvar,
    capacity: usize,
    metrics: OutputMetrics,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Retry delays.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
}

/// A running output: its queue and worker thread.
#[derive(Debug)]
pub(crate) struct Output {
    name: &'static str,
    queue: Arc<Queue>,
    handle: Option<JoinHandle<()>>,
}

impl Output {
    pub(crate) fn start(
        name: &'static str,
        transport: impl Transport,
        capacity: usize,
        batch_size: usize,
        backoff: Backoff,
        metrics: OutputMetrics,
    ) -> Result<Output, std::io::Error> {
        let queue = Arc::new(Queue {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            capacity: capacity.max(1),
            metrics,
        });
        let worker_queue = queue.clone();
        let handle = std::thread::Builder::new()
            .name(format!("vigil-siem-{name}"))
            .spawn(move || run(name, &worker_queue, transport, batch_size.max(1), backoff))?;
        Ok(Output {
            name,
            queue,
            handle: Some(handle),
        })
    }

    /// Queues records; when the queue is full the oldest are dropped (and counted as failed).
    pub(crate) fn push(&self, records: Vec<Vec<u8>>) {
        if records.is_empty() {
            return;
        }
        let mut state = self.queue.lock();
        let mut dropped = 0u64;
        for record in records {
            if state.items.len() >= self.queue.capacity {
                state.items.pop_front();
                dropped += 1;
            }
            let seq = state.next_seq;
            state.next_seq += 1;
            state.items.push_back((seq, record));
        }
        self.queue.metrics.depth.set(state.items.len() as i64);
        drop(state);
        if dropped > 0 {
            self.queue.metrics.failed.inc_by(dropped);
            tracing::warn!(
                output = self.name,
                dropped,
                "SIEM queue full: oldest records dropped"
            );
        }
        self.queue.wake.notify_all();
    }

    /// Records waiting for delivery.
    pub(crate) fn depth(&self) -> usize {
        self.queue.lock().items.len()
    }

    /// Stops taking records and waits until the queue is delivered or `wait` has passed (plus at most
    /// one delivery attempt's own timeout); what is left is counted as failed.
    pub(crate) fn shutdown(mut self, wait: Duration) {
        self.close(wait);
        if let Some(handle) = self.handle.take()
            && handle.join().is_err()
        {
            tracing::error!(output = self.name, "SIEM worker panicked");
        }
    }

    fn close(&self, wait: Duration) {
        let mut state = self.queue.lock();
        state.closed = true;
        state.deadline = Some(Instant::now() + wait);
        drop(state);
        self.queue.wake.notify_all();
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if self.handle.is_some() {
            // Dropped without shutdown: let the worker give up at once, without waiting for it.
            self.close(Duration::ZERO);
        }
    }
}

fn run(
    name: &'static str,
    queue: &Queue,
    mut transport: impl Transport,
    batch_size: usize,
    backoff: Backoff,
) {
    let mut delay = backoff.initial;
    loop {
        let (batch, last_seq) = {
            let mut state = queue.lock();
            while state.items.is_empty() && !state.closed {
                state = queue.wake.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.items.is_empty() || state.deadline.is_some_and(|d| Instant::now() >= d) {
                give_up(name, queue, &mut state);
                return;
            }
            let batch: Vec<Vec<u8>> = state
                .items
                .iter()
                .take(batch_size)
                .map(|(_, r)| r.clone())
                .collect();
            let last = state
                .items
                .get(batch.len().saturating_sub(1))
                .map(|(s, _)| *s);
            (batch, last.unwrap_or(0))
        };
        let outcome = transport.deliver(&batch);
        let mut state = queue.lock();
        match outcome {
            Ok(()) => {
                remove_through(&mut state, last_seq);
                queue.metrics.sent.inc_by(batch.len() as u64);
                delay = backoff.initial;
            }
            Err(Failure::Reject(reason)) => {
                remove_through(&mut state, last_seq);
                queue.metrics.failed.inc_by(batch.len() as u64);
                tracing::error!(output = name, records = batch.len(), %reason, "SIEM receiver rejected records");
            }
            Err(Failure::Retry(reason)) => {
                queue.metrics.retries.inc();
                tracing::warn!(output = name, records = batch.len(), %reason, retry_in_ms = delay.as_millis() as u64, "SIEM delivery failed");
                let until = Instant::now() + jitter(delay);
                let until = state.deadline.map_or(until, |d| d.min(until));
                while Instant::now() < until {
                    let left = until.saturating_duration_since(Instant::now());
                    let (s, _) = queue
                        .wake
                        .wait_timeout(state, left)
                        .unwrap_or_else(|p| p.into_inner());
                    state = s;
                    if state.deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                }
                delay = (delay * 2).min(backoff.max);
            }
        }
        queue.metrics.depth.set(state.items.len() as i64);
    }
}

fn remove_through(state: &mut State, last_seq: u64) {
    while state.items.front().is_some_and(|(s, _)| *s <= last_seq) {
        state.items.pop_front();
    }
}

fn give_up(name: &'static str, queue: &Queue, state: &mut State) {
    let left = state.items.len() as u64;
    if left > 0 {
        queue.metrics.failed.inc_by(left);
        tracing::error!(
            output = name,
            records = left,
            "SIEM output shut down with undelivered records"
        );
    }
    state.items.clear();
    queue.metrics.depth.set(0);
}

/// `delay` ± up to 20 %, from the clock's nanoseconds (no need for a random generator here).
fn jitter(delay: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let fraction = 0.8 + 0.4 * (f64::from(nanos % 1000) / 1000.0);
    delay.mul_f64(fraction)
}
