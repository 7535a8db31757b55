//! The client's own CPU use, so a result produced by a saturated client is flagged instead of
//! being read as the server's limit.

use std::time::{Duration, Instant};

/// Linux reports utime and stime in clock ticks of `sysconf(_SC_CLK_TCK)`, which is 100 on
/// every mainstream architecture; reading it properly would need libc for one constant.
const CLK_TCK: f64 = 100.0;

/// Share of a core per worker thread (or of the machine) above which the client is called
/// saturated.
pub const SATURATED: f64 = 0.8;

/// User plus system CPU time of this process so far, from `/proc/self/stat`.
pub fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&stat)
}

/// utime and stime are fields 14 and 15; the command name (field 2) is in parentheses and may
/// itself hold spaces or parentheses, so fields are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<Duration> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_ascii_whitespace();
    // `after` starts at field 3 (state); utime is field 14.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_secs_f64((utime + stime) as f64 / CLK_TCK))
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A span of wall time and the CPU this process spent in it.
#[derive(Debug, Clone, Copy)]
pub struct Meter {
    wall: Instant,
    cpu: Option<Duration>,
}

/// CPU use over a span, in cores (1.0 = one core busy all the time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuUse {
    pub cores_used: f64,
    pub threads: usize,
    pub machine_cores: usize,
}

impl CpuUse {
    /// True when the client was busy enough to be the bottleneck: most of a core per worker
    /// thread, or most of the machine (which the server shares on a one-box bench).
    pub fn saturated(&self) -> bool {
        let per_thread = self.cores_used / self.threads.max(1) as f64;
        let of_machine = self.cores_used / self.machine_cores.max(1) as f64;
        per_thread > SATURATED || of_machine > SATURATED
    }
}

impl Meter {
    pub fn start() -> Meter {
        Meter {
            wall: Instant::now(),
            cpu: process_cpu(),
        }
    }

    /// CPU use since `self`, or None where /proc is not readable.
    pub fn since(&self, threads: usize) -> Option<CpuUse> {
        let cpu = process_cpu()?.checked_sub(self.cpu?)?;
        let wall = self.wall.elapsed().as_secs_f64();
        (wall > 0.0).then(|| CpuUse {
            cores_used: cpu.as_secs_f64() / wall,
            threads,
            machine_cores: cores(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime_past_a_tricky_name() {
        let line = "14436 (a b) c)) R 1 2 3 0 -1 4194304 98 0 0 0 250 50 0 0 20 0 1 0 27079";
        assert_eq!(parse_stat(line), Some(Duration::from_secs(3)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) R 1 2"), None);
    }

    #[test]
    fn reads_this_process() {
        assert!(
            process_cpu().is_some(),
            "/proc/self/stat should parse on Linux"
        );
    }

    #[test]
    fn saturation_rule() {
        let u = |cores_used, threads| CpuUse {
            cores_used,
            threads,
            machine_cores: 2,
        };
        assert!(!u(0.5, 2).saturated());
        assert!(u(0.9, 1).saturated());
        assert!(u(1.7, 4).saturated(), "most of the machine");
        assert!(!u(0.7, 1).saturated());
    }
}
