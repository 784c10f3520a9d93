//! The sample's monitoring of major hazard sources (#27 §3): monitoring_points.csv (the
//! points of the enterprises with a 重大危险源, as their DCS/SIS tags them) and
//! readings.csv (a day of readings every 20 minutes, as an online monitoring system
//! exports them), with the cases a duty officer meets: excursions that raise and clear,
//! alarms still active at the end of the day, a point gone silent, and five dirty
//! readings. Drawn from their own random stream: the other files are unchanged.

use super::{Rng, SampleOptions};
use std::fmt::Write as _;

/// The day the readings cover (local time, +08:00).
pub const DAY: &str = "2026-11-30";
/// Minutes between readings.
const STEP_MIN: u32 = 20;

struct Kind {
    quantity: &'static str,
    tag: &'static str,
    unit: &'static str,
    /// (high, high-high) as configured on the point; None leaves the default.
    thresholds: Option<(f64, f64)>,
    /// Normal value and its noise.
    base: f64,
    noise: f64,
}

const KINDS: [Kind; 5] = [
    Kind {
        quantity: "可燃气体浓度",
        tag: "GT",
        unit: "%LEL",
        thresholds: None,
        base: 2.0,
        noise: 1.5,
    },
    Kind {
        quantity: "储罐液位",
        tag: "LT",
        unit: "m",
        thresholds: Some((8.5, 9.2)),
        base: 6.0,
        noise: 0.4,
    },
    Kind {
        quantity: "压力",
        tag: "PT",
        unit: "MPa",
        thresholds: Some((1.6, 1.8)),
        base: 1.1,
        noise: 0.06,
    },
    Kind {
        quantity: "温度",
        tag: "TT",
        unit: "℃",
        thresholds: Some((60.0, 80.0)),
        base: 35.0,
        noise: 3.0,
    },
    Kind {
        quantity: "有毒气体浓度（H2S）",
        tag: "AT",
        unit: "ppm",
        thresholds: Some((10.0, 20.0)),
        base: 0.5,
        noise: 0.4,
    },
];

/// (monitoring_points.csv, readings.csv, points written, readings written).
pub(super) fn csvs(opts: &SampleOptions, hazard_ids: &[String]) -> (String, String, usize, usize) {
    let mut rng = Rng::new(opts.seed ^ 0x3070_2027);
    let n_ent = hazard_ids.len().min((opts.count / 125).clamp(10, 2000));
    let mut points =
        String::from("\u{feff}测点编号,企业编号,测点名称,监测类型,单位,高报值,高高报值\n");
    let mut list: Vec<(String, String, usize)> = Vec::new();
    for (e, id) in hazard_ids.iter().take(n_ent).enumerate() {
        let k = 1 + rng.weighted(&[40, 40, 20]);
        for j in 0..k {
            let kind = if j == 0 {
                0
            } else {
                1 + rng.below(KINDS.len() - 1)
            };
            let kd = &KINDS[kind];
            let pid = format!("{id}-{}{:03}", kd.tag, 101 + j);
            let (h, hh) = match kd.thresholds {
                Some((h, hh)) => (h.to_string(), hh.to_string()),
                // most gas detectors take the national default (GB 50493-2019: 25/50
                // %LEL), some are set tighter
                None if e % 5 == 0 => ("20".into(), "40".into()),
                None => (String::new(), String::new()),
            };
            let tank = 1 + rng.below(6);
            let name = format!(
                "{tank}#{}",
                ["罐区", "装置区", "库房", "反应釜"][rng.below(4)]
            );
            let _ = writeln!(
                points,
                "{pid},{id},{name} {}-{},{},{},{h},{hh}",
                kd.tag,
                101 + j,
                kd.quantity,
                kd.unit
            );
            list.push((pid, id.clone(), kind));
        }
    }
    let mut readings = String::from("\u{feff}测点编号,企业编号,监测值,监测时间\n");
    let steps = 24 * 60 / STEP_MIN;
    let mut n = 0usize;
    let mut dup = None;
    for (p, (pid, eid, kind)) in list.iter().enumerate() {
        let kd = &KINDS[*kind];
        let thr = kd.thresholds.unwrap_or((25.0, 50.0));
        // the day's story of this point
        let story = match p % 13 {
            3 => 1,  // an excursion past high-high in the morning, cleared
            6 => 2,  // past high in the afternoon, cleared
            9 => 3,  // past high-high at the end of the day: still in alarm
            11 => 4, // silent from noon: a fault
            _ => 0,
        };
        for s in 0..steps {
            if story == 4 && s >= steps / 2 {
                break;
            }
            let mut v = kd.base + kd.noise * rng.gauss();
            let (from, to, peak) = match story {
                1 => (26, 30, thr.1 * 1.15),
                2 => (45, 48, (thr.0 + thr.1) / 2.0),
                3 => (steps - 3, steps, thr.1 * 1.2),
                _ => (0, 0, 0.0),
            };
            if (from..to).contains(&s) {
                v = peak + kd.noise * rng.f64();
            }
            let v = v.max(0.0);
            let min = s * STEP_MIN;
            let line = format!(
                "{pid},{eid},{v:.2},{DAY} {:02}:{:02}:00",
                min / 60,
                min % 60
            );
            if p == 1 && s == 5 {
                dup = Some(line.clone());
            }
            readings.push_str(&line);
            readings.push('\n');
            n += 1;
        }
    }
    // the dirty readings a monitoring feed delivers: a point not registered, a value the
    // transmitter reports as text, a clock in the future, a time that is not one, a
    // repeated row
    if let Some((pid, eid, _)) = list.first() {
        let _ = writeln!(readings, "XX-GT999,{eid},3.1,{DAY} 08:00:00");
        let _ = writeln!(readings, "{pid},{eid},断线,{DAY} 08:00:00");
        let _ = writeln!(readings, "{pid},{eid},2.2,2099-01-01 00:00:00");
        let _ = writeln!(readings, "{pid},{eid},2.4,昨天");
    }
    if let Some(d) = dup {
        readings.push_str(&d);
        readings.push('\n');
    }
    (points, readings, list.len(), n)
}
