//! The device's clocks, as evidence (see `custody_core::time`): the wall
//! clock (a claim the user can set), a boot id, and time since boot including
//! deep sleep (which the user cannot set).

use std::sync::Mutex;

pub trait DeviceClock: Send + Sync {
    /// Wall clock, ms since the Unix epoch (a claim).
    fn wall_ms(&self) -> i64;
    /// Identifies this boot of the device.
    fn boot_id(&self) -> String;
    /// ms since boot, including suspend (Linux/Android CLOCK_BOOTTIME).
    fn mono_ms(&self) -> u64;
}

/// The real clocks. On Linux and Android, `/proc/sys/kernel/random/boot_id`
/// and `/proc/uptime` (which counts suspended time). Elsewhere (iOS, Windows,
/// macOS) the boot id is made per launch and the monotonic clock counts from
/// launch: still monotonic and unsettable, it only means an anchor refines
/// times within one launch rather than one boot.
pub struct SystemClock {
    launch_id: String,
    launch: std::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        let mut b = [0u8; 16];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
        SystemClock { launch_id: format!("launch-{}", hex::encode(b)), launch: std::time::Instant::now() }
    }
}

impl DeviceClock for SystemClock {
    fn wall_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
    fn boot_id(&self) -> String {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| self.launch_id.clone())
    }
    fn mono_ms(&self) -> u64 {
        match std::fs::read_to_string("/proc/uptime") {
            Ok(s) => s
                .split_whitespace()
                .next()
                .and_then(|x| x.parse::<f64>().ok())
                .map(|x| (x * 1000.0) as u64)
                .unwrap_or(0),
            Err(_) => self.launch.elapsed().as_millis() as u64,
        }
    }
}

/// A clock for tests and the simulator: set, advance, set back, reboot.
pub struct ManualClock(Mutex<ManualState>);

struct ManualState {
    wall: i64,
    mono: u64,
    boot: String,
    boots: u32,
}

impl ManualClock {
    pub fn new(wall: i64, boot: &str) -> ManualClock {
        ManualClock(Mutex::new(ManualState { wall, mono: 3_600_000, boot: boot.into(), boots: 0 }))
    }
    /// Real time passes: both clocks move.
    pub fn advance(&self, ms: u64) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        s.wall += ms as i64;
        s.mono += ms;
    }
    /// Someone sets the wall clock (forward or back); uptime is unaffected.
    pub fn set_wall(&self, wall: i64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).wall = wall;
    }
    /// The phone restarts: new boot id, uptime from zero.
    pub fn reboot(&self) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        s.boots += 1;
        s.boot = format!("{}-r{}", s.boot.split("-r").next().unwrap_or("boot"), s.boots);
        s.mono = 0;
    }
}

impl DeviceClock for ManualClock {
    fn wall_ms(&self) -> i64 {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).wall
    }
    fn boot_id(&self) -> String {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).boot.clone()
    }
    fn mono_ms(&self) -> u64 {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).mono
    }
}
