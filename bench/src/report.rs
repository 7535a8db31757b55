//! The result of a run: throughput, the latency histogram's summary, errors and the client's
//! CPU use, as text for people and as one JSON object for scripts.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

use crate::cpu::CpuUse;

/// Latencies are recorded in microseconds, from 1 µs to an hour, to 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static histogram bounds are valid")
}

/// The percentiles the bench reports, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Latency {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            count: h.len(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub workload: &'static str,
    pub servers: Vec<String>,
    pub sessions: u32,
    pub outstanding: u32,
    pub value_size: u32,
    pub keys: u32,
    /// Seconds of the measured window (after warm-up).
    pub elapsed_s: f64,
    /// Operations completed in the measured window.
    pub ops: u64,
    pub errors: u64,
    pub latency: Latency,
    pub cpu: Option<CpuUse>,
    /// Workload-specific figures, e.g. notifications per second for fan-out.
    pub extra: Vec<(&'static str, f64)>,
    /// Why the run or its figures may not be what they seem.
    pub warnings: Vec<String>,
}

impl Report {
    pub fn ops_per_sec(&self) -> f64 {
        if self.elapsed_s > 0.0 {
            self.ops as f64 / self.elapsed_s
        } else {
            0.0
        }
    }

    pub fn text(&self) -> String {
        let l = &self.latency;
        let ms = |us: u64| us as f64 / 1000.0;
        let mut s = format!(
            "{}: {:.0} ops/s ({} ops in {:.2} s), errors {}\n\
             latency ms: p50 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}  mean {:.3}\n",
            self.workload,
            self.ops_per_sec(),
            self.ops,
            self.elapsed_s,
            self.errors,
            ms(l.p50),
            ms(l.p99),
            ms(l.p999),
            ms(l.max),
            l.mean / 1000.0,
        );
        for (k, v) in &self.extra {
            let _ = writeln!(s, "{k}: {v:.3}");
        }
        if let Some(c) = &self.cpu {
            let _ = writeln!(
                s,
                "client cpu: {:.2} cores ({} threads, {} cores on the machine)",
                c.cores_used, c.threads, c.machine_cores
            );
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        s
    }

    pub fn json(&self) -> String {
        let l = &self.latency;
        let mut o = JsonObject::default();
        o.str("workload", self.workload);
        o.raw("servers", &string_array(&self.servers));
        o.num("sessions", self.sessions as f64);
        o.num("outstanding", self.outstanding as f64);
        o.num("value_size", self.value_size as f64);
        o.num("keys", self.keys as f64);
        o.num("elapsed_s", self.elapsed_s);
        o.num("ops", self.ops as f64);
        o.num("ops_per_sec", self.ops_per_sec());
        o.num("errors", self.errors as f64);
        let mut lat = JsonObject::default();
        lat.num("count", l.count as f64);
        lat.num("mean", l.mean);
        lat.num("p50", l.p50 as f64);
        lat.num("p99", l.p99 as f64);
        lat.num("p999", l.p999 as f64);
        lat.num("max", l.max as f64);
        o.raw("latency_us", &lat.finish());
        match &self.cpu {
            Some(c) => {
                let mut cpu = JsonObject::default();
                cpu.num("cores_used", c.cores_used);
                cpu.num("threads", c.threads as f64);
                cpu.num("machine_cores", c.machine_cores as f64);
                cpu.raw("saturated", if c.saturated() { "true" } else { "false" });
                o.raw("client_cpu", &cpu.finish());
            }
            None => o.raw("client_cpu", "null"),
        }
        let mut extra = JsonObject::default();
        for (k, v) in &self.extra {
            extra.num(k, *v);
        }
        o.raw("extra", &extra.finish());
        o.raw("warnings", &string_array(&self.warnings));
        o.finish()
    }
}

/// Just enough JSON writing for flat objects of numbers and strings; the bench has no other
/// use for a JSON library.
#[derive(Default)]
struct JsonObject {
    body: String,
}

impl JsonObject {
    fn raw(&mut self, key: &str, value: &str) {
        if !self.body.is_empty() {
            self.body.push(',');
        }
        let _ = write!(self.body, "{}:{value}", quote(key));
    }

    fn num(&mut self, key: &str, v: f64) {
        // JSON has no NaN or infinity.
        let text = if v.is_finite() {
            if v.fract() == 0.0 && v.abs() < 1e15 {
                format!("{}", v as i64)
            } else {
                format!("{v:.6}")
            }
        } else {
            "null".to_string()
        };
        self.raw(key, &text);
    }

    fn str(&mut self, key: &str, v: &str) {
        self.raw(key, &quote(v));
    }

    fn finish(self) -> String {
        format!("{{{}}}", self.body)
    }
}

fn string_array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(","))
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut h = new_histogram();
        for us in 1..=1000u64 {
            h.record(us).unwrap();
        }
        Report {
            workload: "get",
            servers: vec!["127.0.0.1:2181".into()],
            sessions: 4,
            outstanding: 32,
            value_size: 100,
            keys: 10,
            elapsed_s: 2.0,
            ops: 1000,
            errors: 1,
            latency: Latency::of(&h),
            cpu: Some(CpuUse {
                cores_used: 0.25,
                threads: 2,
                machine_cores: 2,
            }),
            extra: vec![("notifications_per_sec", 12.5)],
            warnings: vec!["say \"hi\"\n".into()],
        }
    }

    #[test]
    fn summary_percentiles() {
        let l = sample().latency;
        assert_eq!(l.count, 1000);
        assert_eq!(l.p50, 500);
        assert_eq!(l.p99, 990);
        assert_eq!(l.p999, 999);
        assert_eq!(l.max, 1000);
        assert!((l.mean - 500.5).abs() < 0.5);
        assert_eq!(Latency::of(&new_histogram()), Latency::default());
    }

    #[test]
    fn json_shape() {
        let j = sample().json();
        assert_eq!(
            j,
            concat!(
                r#"{"workload":"get","servers":["127.0.0.1:2181"],"sessions":4,"outstanding":32,"#,
                r#""value_size":100,"keys":10,"elapsed_s":2,"ops":1000,"ops_per_sec":500,"errors":1,"#,
                r#""latency_us":{"count":1000,"mean":500.500000,"p50":500,"p99":990,"p999":999,"max":1000},"#,
                r#""client_cpu":{"cores_used":0.250000,"threads":2,"machine_cores":2,"saturated":false},"#,
                r#""extra":{"notifications_per_sec":12.500000},"warnings":["say \"hi\"\n"]}"#
            )
        );
    }

    #[test]
    fn json_has_no_nan() {
        let mut r = sample();
        r.extra = vec![("x", f64::NAN)];
        r.cpu = None;
        let j = r.json();
        assert!(j.contains(r#""extra":{"x":null}"#), "{j}");
        assert!(j.contains(r#""client_cpu":null"#), "{j}");
    }

    #[test]
    fn text_names_every_figure() {
        let t = sample().text();
        for needle in [
            "500 ops/s",
            "errors 1",
            "p50 0.500",
            "p99 0.990",
            "p99.9 0.999",
            "max 1.000",
            "notifications_per_sec: 12.500",
            "client cpu: 0.25 cores",
            "warning: say",
        ] {
            assert!(t.contains(needle), "{needle:?} missing from {t}");
        }
    }
}
