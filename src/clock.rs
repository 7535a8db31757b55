//! The clock seam. Logic never reads `Instant::now()` or `SystemTime::now()`: the driver asks a
//! [`Clock`] and hands the time to the core with each input. Monotonic time comes from
//! `tokio::time`, which a simulator controls; wall time from the clock implementation.

use crate::pipeline::Now;

pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn wall_ms(&self) -> i64;
    /// Monotonic milliseconds since the clock was made.
    fn mono_ms(&self) -> u64;

    fn now(&self) -> Now {
        Now {
            wall_ms: self.wall_ms(),
            mono_ms: self.mono_ms(),
        }
    }

    /// The `tokio::time::Instant` of a monotonic deadline, for sleeping until it.
    fn instant_of(&self, mono_ms: u64) -> tokio::time::Instant;
}

/// The production clock: system wall time, tokio monotonic time.
pub struct SystemClock {
    start: tokio::time::Instant,
}

impl SystemClock {
    pub fn new() -> Self {
        SystemClock {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn wall_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
    fn mono_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
    fn instant_of(&self, mono_ms: u64) -> tokio::time::Instant {
        self.start + std::time::Duration::from_millis(mono_ms)
    }
}

/// A clock whose wall time is a fixed epoch plus tokio's (possibly simulated) elapsed time:
/// deterministic under a simulator or paused tokio time.
pub struct SimClock {
    start: tokio::time::Instant,
    epoch_ms: i64,
}

impl SimClock {
    pub fn new(epoch_ms: i64) -> Self {
        SimClock {
            start: tokio::time::Instant::now(),
            epoch_ms,
        }
    }
}

impl Clock for SimClock {
    fn wall_ms(&self) -> i64 {
        self.epoch_ms + self.mono_ms() as i64
    }
    fn mono_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
    fn instant_of(&self, mono_ms: u64) -> tokio::time::Instant {
        self.start + std::time::Duration::from_millis(mono_ms)
    }
}

/// The randomness seam: logic draws only from an `Rng` it was handed, so a simulation can
/// seed it and replay.
pub trait Rng: Send + 'static {
    fn next_u64(&mut self) -> u64;
}

/// xorshift64*: small and fast; not for secrets (session passwords are derived, as in Java).
pub struct SeededRng(u64);

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        SeededRng(seed | 1)
    }
}

impl Rng for SeededRng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}
