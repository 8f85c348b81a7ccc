//! A service that hits a Kafka failure it cannot ride out (a message the broker refused for good, as
//! Tansu does with requests caught by its own restart) starts itself again, as a supervisor would, so
//! a broker restart does not need one.
//!
//! The failed run has already drained and committed only what is settled, so the new run reads the
//! failed message again (at least once). A fresh process is the simplest correct reset: a new
//! idempotent producer id (an in-place epoch bump is what Tansu 0.6 cannot take), a new group member,
//! state restored from checkpoints exactly as after a crash. The service waits out a backoff first
//! (1 s doubling to 30 s; back to 1 s after a run that lasted a minute) with its HTTP side still up
//! and not ready, so SIGTERM during the wait still ends it cleanly.

use std::time::{Duration, Instant};

use super::kafka::SESSION_TIMEOUT;
use super::ops::Health;

/// How many restarts in a row came before this run, handed to the next process.
const ATTEMPT_ENV: &str = "VIGIL_RESTART_ATTEMPT";
/// A run that lasted this long was healthy: the next failure starts the backoff over.
const HEALTHY_RUN: Duration = Duration::from_secs(60);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Returned by a service whose run failed and should be started again; `main` re-executes.
#[derive(Debug)]
pub(crate) struct Restart {
    pub(crate) reason: String,
    /// This restart's place in the current run of restarts, from 1.
    pub(crate) attempt: u32,
}

impl std::fmt::Display for Restart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (restart {})", self.reason, self.attempt)
    }
}

impl std::error::Error for Restart {}

/// The wait before restart number `attempt` (from 1): 1 s, 2 s, 4 s ... at most 30 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(5);
    Duration::from_secs(1u64 << doublings).min(MAX_BACKOFF)
}

/// Which restart in a row the next one is: one more than this process's, or 1 after a healthy run.
pub(crate) fn next_attempt(previous: u32, ran_for: Duration) -> u32 {
    if ran_for >= HEALTHY_RUN {
        1
    } else {
        previous.saturating_add(1)
    }
}

/// After a failed run: `Ok(())` when restarts are off or a stop was requested during the backoff
/// (the caller then returns its error), otherwise the [`Restart`] to return. `at_least` is the
/// shortest wait: a service that could not leave its consumer group cleanly waits out its session,
/// since Tansu 0.6 gives a member that joins while a dead one is still in the group no partitions
/// (and does not rebalance when the dead one expires).
pub(crate) fn after_failure(
    reason: &str,
    enabled: bool,
    started: Instant,
    at_least: Duration,
    health: &Health,
) -> Result<(), Restart> {
    if !enabled {
        return Ok(());
    }
    let previous = std::env::var(ATTEMPT_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let attempt = next_attempt(previous, started.elapsed());
    let wait = backoff(attempt).max(at_least);
    health.set_ready(false);
    tracing::error!(
        reason,
        attempt,
        wait_seconds = wait.as_secs(),
        "the service failed; it starts again from its committed offsets after the wait"
    );
    let waiting = Instant::now();
    while waiting.elapsed() < wait {
        if health.stopping() {
            tracing::warn!("stop requested while waiting to restart: stopping instead");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(Restart {
        reason: reason.to_string(),
        attempt,
    })
}

/// [`after_failure`] for a service that abandoned its consumer without leaving the group (closing
/// would run its revocation callback, which checkpoints or flushes: nothing more may be written
/// after a failure), so it waits out the consumer session.
pub(crate) fn after_abandoned_consumer(
    result: &anyhow::Result<()>,
    enabled: bool,
    started: Instant,
    health: &Health,
) -> Result<(), Restart> {
    match result {
        Ok(()) => Ok(()),
        Err(e) => after_failure(
            &format!("{e:#}"),
            enabled,
            started,
            SESSION_TIMEOUT + Duration::from_secs(2),
            health,
        ),
    }
}

/// Replaces this process with a fresh run of the same command line. Returns only if that fails.
pub(crate) fn exec_again(restart: &Restart) -> anyhow::Error {
    use std::os::unix::process::CommandExt;
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            return anyhow::anyhow!("{restart}; cannot find the vigil binary to restart: {e}");
        }
    };
    tracing::warn!(attempt = restart.attempt, "restarting");
    let error = std::process::Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .env(ATTEMPT_ENV, restart.attempt.to_string())
        .exec();
    anyhow::anyhow!("{restart}; cannot restart {}: {error}", exe.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_thirty() {
        let waits: Vec<u64> = (1..=8).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn a_healthy_run_starts_the_backoff_over() {
        assert_eq!(next_attempt(0, Duration::from_secs(1)), 1);
        assert_eq!(next_attempt(4, Duration::from_secs(5)), 5);
        assert_eq!(next_attempt(4, HEALTHY_RUN), 1);
        assert_eq!(next_attempt(u32::MAX, Duration::ZERO), u32::MAX);
    }

    #[test]
    fn a_stop_during_the_wait_wins_over_the_restart() {
        let health = Health::default();
        health.stop();
        assert!(after_failure("boom", true, Instant::now(), Duration::ZERO, &health).is_ok());
    }

    #[test]
    fn restarts_can_be_turned_off() {
        let health = Health::default();
        assert!(after_failure("boom", false, Instant::now(), Duration::ZERO, &health).is_ok());
    }

    #[test]
    fn a_failure_without_a_stop_asks_for_a_restart() {
        let health = Health::default();
        let restart = after_failure("boom", true, Instant::now(), Duration::ZERO, &health)
            .err()
            .map(|r| r.reason);
        assert_eq!(restart.as_deref(), Some("boom"));
    }
}
