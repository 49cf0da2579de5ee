//! The one source of chaos: a seeded SplitMix64 generator. Every fault,
//! SIGKILL moment and media size derives from the run's seed, so a failing
//! run is replayed with `CHAOS_SEED=<seed>` (the decisions repeat in the same
//! order; thread timing under load is the only thing a seed cannot pin).

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to
/// choose faults; not for keys.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// An independent stream for one purpose (a connection, a device), so
    /// what one consumes does not shift the choices of another.
    pub fn stream(seed: u64, purpose: &str, index: u64) -> Rng {
        let mut r = Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for b in purpose.bytes() {
            r.0 ^= u64::from(b);
            r.next_u64();
        }
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo { lo } else { lo + self.next_u64() % (hi - lo) }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// `len` incompressible bytes, like a JPEG or a video.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// The run's seed: `CHAOS_SEED` to replay one, else a fresh one from the
/// clock and the process id (enough to differ between runs; the seed is
/// printed, so any run can be replayed).
pub fn seed() -> u64 {
    match std::env::var("CHAOS_SEED") {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("CHAOS_SEED must be an integer, not {s:?}")),
        Err(_) => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            Rng(nanos ^ (u64::from(std::process::id()) << 32)).next_u64()
        }
    }
}
