//! Running third-party decoders so that they can neither crash the app nor
//! freeze the scanner.
//!
//! Measured on real photos: rqrr panics on some inputs (an assertion in its
//! geometry code) and a single rqrr call took 55 s on one image and 175 s on
//! another. `catch_unwind` handles the first; the second needs a time bound,
//! and safe Rust cannot interrupt a running function. So each attempt runs
//! on its own thread and the caller waits at most until its deadline. An
//! attempt that overruns is abandoned: its thread finishes in the background
//! and its result is thrown away. At most [`MAX_ABANDONED`] such threads may
//! exist at once; beyond that the guard refuses new attempts (reporting
//! [`AttemptError::Saturated`]) rather than pile up threads burning the CPU.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Abandoned (overrunning) attempts allowed to run on at the same time.
pub const MAX_ABANDONED: usize = 2;

/// Why an attempt gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptError {
    /// The decoder panicked; the message is kept for diagnosis.
    Panicked(String),
    /// The attempt overran its deadline and was abandoned.
    TimedOut,
    /// Too many abandoned attempts are still running; not started.
    Saturated,
}

/// Runs closures on guarded threads. Cheap to clone; clones share the count
/// of abandoned threads.
#[derive(Clone, Default)]
pub struct Guard {
    abandoned: Arc<AtomicUsize>,
}

impl Guard {
    pub fn new() -> Guard {
        Guard::default()
    }

    /// How many abandoned attempts are still running.
    pub fn abandoned(&self) -> usize {
        self.abandoned.load(Ordering::SeqCst)
    }

    /// Run `job` on its own thread; wait until `deadline` at the latest.
    pub fn run<T, F>(&self, deadline: Instant, job: F) -> Result<T, AttemptError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        if self.abandoned() >= MAX_ABANDONED {
            return Err(AttemptError::Saturated);
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(AttemptError::TimedOut);
        }
        let (tx, rx) = mpsc::sync_channel(1);
        // Set when the caller stops waiting; the thread then counts itself
        // as abandoned until it ends.
        let gave_up = Arc::new(AtomicUsize::new(0));
        let (gave_up_t, abandoned_t) = (Arc::clone(&gave_up), Arc::clone(&self.abandoned));
        let spawned = std::thread::Builder::new().name("qr-attempt".into()).spawn(move || {
            let out = catch_unwind(AssertUnwindSafe(job)).map_err(|p| panic_message(&*p));
            let _ = tx.send(out);
            // 0 -> 2: finished before the caller gave up; nothing to undo.
            // 1 (caller gave up and counted us) -> we are done: uncount.
            if gave_up_t.swap(2, Ordering::SeqCst) == 1 {
                abandoned_t.fetch_sub(1, Ordering::SeqCst);
            }
        });
        if spawned.is_err() {
            return Err(AttemptError::Saturated);
        }
        match rx.recv_timeout(remaining) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(msg)) => Err(AttemptError::Panicked(msg)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(AttemptError::Panicked("decoder thread died".into()))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Count it before publishing "gave up", so the thread's
                // decrement can never come first.
                self.abandoned.fetch_add(1, Ordering::SeqCst);
                if gave_up.swap(1, Ordering::SeqCst) == 2 {
                    // It finished in the meantime after all.
                    self.abandoned.fetch_sub(1, Ordering::SeqCst);
                    if let Ok(Ok(v)) = rx.try_recv() {
                        return Ok(v);
                    }
                }
                Err(AttemptError::TimedOut)
            }
        }
    }
}

/// Time left until `deadline`, as a duration (zero when passed).
pub fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic without a message".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_panic_and_overrun_are_told_apart() {
        let g = Guard::new();
        let far = Instant::now() + Duration::from_secs(30);
        assert_eq!(g.run(far, || 41 + 1), Ok(42));
        let r: Result<(), _> = g.run(far, || panic!("rqrr geometry assertion"));
        assert_eq!(r, Err(AttemptError::Panicked("rqrr geometry assertion".into())));

        // An attempt that blocks until released: it overruns, is abandoned,
        // then uncounts itself when it ends.
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let r = g.run(Instant::now() + Duration::from_millis(20), move || {
            let _ = release_rx.recv();
        });
        assert_eq!(r, Err(AttemptError::TimedOut));
        assert_eq!(g.abandoned(), 1);
        drop(release_tx);
        let t0 = Instant::now();
        while g.abandoned() != 0 {
            assert!(t0.elapsed() < Duration::from_secs(10), "abandoned thread never ended");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn saturation_stops_new_attempts_until_threads_end() {
        let g = Guard::new();
        let mut releases = Vec::new();
        for _ in 0..MAX_ABANDONED {
            let (tx, rx) = mpsc::channel::<()>();
            releases.push(tx);
            let r = g.run(Instant::now() + Duration::from_millis(10), move || {
                let _ = rx.recv();
            });
            assert_eq!(r, Err(AttemptError::TimedOut));
        }
        let far = Instant::now() + Duration::from_secs(30);
        assert_eq!(g.run(far, || 1), Err(AttemptError::Saturated));
        releases.clear();
        let t0 = Instant::now();
        while g.abandoned() != 0 {
            assert!(t0.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(g.run(far, || 1), Ok(1));
        assert_eq!(g.run(Instant::now(), || 1), Err(AttemptError::TimedOut));
    }
}
