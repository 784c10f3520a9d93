//! The alarm engine of major hazard source monitoring (#27 §3): readings in, the alarm
//! state of every point and the events of its changes out, as a DCS/SIS sets its
//! alarms — a first (高报) and a second (高高报) level, raised at once when a reading
//! reaches the threshold, cleared only after the value has stayed below it for
//! `clear_after_s` (the alarm's off-delay); a point with no reading for `stale_after_s`
//! is a fault (离线).
//!
//! The same engine replays a readings file at build time (deterministic: "now" is the
//! last reading's time) and takes live readings in `serve` (the files tailed, the
//! database polled, `POST /api/readings`); it knows no source.

use riskmap_core::ingest::rejects::RejectKind;
use riskmap_core::model::{format_time, Level, MonitoringPoint, Quantity, Reading};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// `[monitoring]`: how readings become alarms.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// Seconds a value must stay below a threshold before its alarm clears (the
    /// off-delay). Default 60.
    pub clear_after_s: f64,
    /// Seconds without a reading after which a point is a fault (离线). Default 600.
    pub stale_after_s: f64,
    /// How far ahead of the clock a reading's time may be (clock drift), in seconds;
    /// later is rejected. Default 300.
    pub future_tolerance_s: f64,
    /// Hours east of UTC of times written without an offset. Default 8 (China).
    pub utc_offset_hours: f64,
    /// Default thresholds of combustible gas, %LEL, for points that set none: GB
    /// 50493-2019 §5.5.2, first-level alarm ≤ 25 %LEL, second-level ≤ 50 %LEL.
    pub combustible_high: f64,
    pub combustible_high_high: f64,
    /// While a point is in high-high alarm, show its enterprise at least at this level
    /// (`red`, `orange` …). Default none: an alarm never changes the assessed level.
    pub high_high_shows_level: Option<Level>,
    /// The token `POST /api/readings` requires (`Authorization: Bearer …` or
    /// `X-Riskmap-Token`). Default none: posting is off.
    pub token: Option<String>,
    /// Events kept for `/api/alarms?since=` (oldest dropped). Default 10,000.
    pub keep_events: usize,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            clear_after_s: 60.0,
            stale_after_s: 600.0,
            future_tolerance_s: 300.0,
            utc_offset_hours: 8.0,
            combustible_high: 25.0,
            combustible_high_high: 50.0,
            high_high_shows_level: None,
            token: None,
            keep_events: 10_000,
        }
    }
}

impl MonitorConfig {
    pub fn validate(&self) -> Result<(), String> {
        for (k, v) in [
            ("clear_after_s", self.clear_after_s),
            ("stale_after_s", self.stale_after_s),
            ("future_tolerance_s", self.future_tolerance_s),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{k} must be a number of seconds ≥ 0, not {v}"));
            }
        }
        if !(self.utc_offset_hours.abs() <= 14.0) {
            return Err(format!(
                "utc_offset_hours {} is not an offset (−14 … 14)",
                self.utc_offset_hours
            ));
        }
        if !(self.combustible_high > 0.0 && self.combustible_high_high >= self.combustible_high) {
            return Err("combustible_high must be > 0 and ≤ combustible_high_high".into());
        }
        if self.token.as_deref().is_some_and(|t| t.trim().len() < 8) {
            return Err("token must be at least 8 characters".into());
        }
        Ok(())
    }

    pub fn utc_offset_min(&self) -> i32 {
        (self.utc_offset_hours * 60.0).round() as i32
    }
}

/// An alarm's severity.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Normal,
    High,
    HighHigh,
}

impl Severity {
    pub fn zh(self) -> &'static str {
        match self {
            Severity::Normal => "正常",
            Severity::High => "高报",
            Severity::HighHigh => "高高报",
        }
    }
}

/// The reading that raised (or last changed) an alarm.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cause {
    pub value: f64,
    pub threshold: f64,
    pub time_ms: i64,
    pub time: String,
    /// Where the reading came from (file and line, `POST` and its index).
    pub from: String,
}

/// One point's state.
#[derive(Debug, Clone, Default)]
struct PointState {
    /// The latest reading: time, value.
    last: Option<(i64, f64)>,
    active: Severity,
    /// When the alarm was raised (to its current severity).
    since_ms: Option<i64>,
    cause: Option<Cause>,
    /// When the value first went below the active alarm's threshold, unbroken since.
    below_since: Option<i64>,
    /// The latest reading times (repeats are rejected against them).
    recent: VecDeque<i64>,
    /// Reported as a fault (no reading for `stale_after_s`).
    stale: bool,
}

/// How many of a point's latest reading times are kept to reject repeats.
const RECENT: usize = 64;

/// A change of an alarm, or of a point's fault.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlarmEvent {
    /// Increasing from 1 over the engine's life (`/api/alarms?since=`).
    pub seq: u64,
    /// `raise` (from normal), `escalate` (high → high-high), `downgrade` (high-high →
    /// high), `clear` (back to normal), `fault` (stale), `recover` (readings again).
    pub kind: &'static str,
    pub point: String,
    pub enterprise: String,
    pub quantity: Quantity,
    pub unit: String,
    pub severity: Severity,
    pub severity_zh: &'static str,
    /// The reading behind the change (none for a fault).
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub time_ms: i64,
    pub time: String,
    pub from: String,
}

/// A reading the engine refused.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub kind: RejectKind,
    /// The canonical column it is about (`point`, `time`, `enterprise_id`, `quantity`).
    pub column: &'static str,
    pub value: String,
    pub message: String,
}

impl Refusal {
    /// The reject of reading `r` (its enterprise: the reading's, else `owner`, the
    /// point's), the column named as its source names it.
    pub fn into_reject(self, r: &Reading, owner: Option<&str>) -> riskmap_core::ingest::Reject {
        riskmap_core::ingest::Reject {
            file: r.file.clone(),
            line: r.line.clone(),
            enterprise_id: r
                .enterprise
                .clone()
                .or_else(|| owner.map(str::to_string))
                .unwrap_or_default(),
            row_id: r.point.clone(),
            column: r.column(self.column).to_string(),
            value: self.value,
            kind: self.kind,
            message: self.message,
        }
    }
}

/// An active alarm, for the map and the card.
#[derive(Debug, Clone, Serialize)]
pub struct ActiveAlarm {
    pub point: String,
    pub name: Option<String>,
    pub enterprise: String,
    pub quantity: Quantity,
    pub quantity_zh: &'static str,
    pub unit: String,
    pub severity: Severity,
    pub severity_zh: &'static str,
    pub since: String,
    pub since_ms: i64,
    pub cause: Option<Cause>,
    /// The latest value (the alarm may be clearing: below the threshold, waiting out the
    /// off-delay).
    pub value: Option<f64>,
    pub clearing: bool,
}

/// A point without readings for too long.
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    pub point: String,
    pub name: Option<String>,
    pub enterprise: String,
    pub quantity: Quantity,
    pub quantity_zh: &'static str,
    /// The latest reading's time, none if the point never reported.
    pub last: Option<String>,
    pub silent_s: f64,
}

/// The alarm engine.
pub struct Monitor {
    cfg: MonitorConfig,
    points: Vec<MonitoringPoint>,
    by_id: HashMap<String, usize>,
    /// (high, high-high) in force per point: its own, else the quantity's default.
    thresholds: Vec<(Option<f64>, Option<f64>)>,
    state: Vec<PointState>,
    events: VecDeque<AlarmEvent>,
    seq: u64,
    /// Readings taken and refused over the engine's life.
    pub accepted: u64,
    pub refused: u64,
    /// Time from which a point that never reported counts its silence (the start).
    epoch_ms: i64,
}

impl Monitor {
    /// An engine over `points`; `start_ms` is when silence starts counting for points
    /// that never report (the server's start; at build, the first reading's time).
    pub fn new(points: Vec<MonitoringPoint>, cfg: MonitorConfig, start_ms: i64) -> Monitor {
        let by_id = points
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let thresholds = points
            .iter()
            .map(|p| match p.quantity {
                Quantity::Combustible if p.high.is_none() && p.high_high.is_none() => {
                    (Some(cfg.combustible_high), Some(cfg.combustible_high_high))
                }
                _ => (p.high, p.high_high),
            })
            .collect();
        let state = vec![PointState::default(); points.len()];
        Monitor {
            cfg,
            points,
            by_id,
            thresholds,
            state,
            events: VecDeque::new(),
            seq: 0,
            accepted: 0,
            refused: 0,
            epoch_ms: start_ms,
        }
    }

    /// The same engine over new points (a new generation's table): the state of every
    /// point still there with the same thresholds is kept.
    pub fn repoint(&mut self, points: Vec<MonitoringPoint>) {
        if points == self.points {
            return;
        }
        let mut next = Monitor::new(points, self.cfg.clone(), self.epoch_ms);
        for (i, p) in next.points.iter().enumerate() {
            if let Some(&j) = self.by_id.get(&p.id) {
                if next.thresholds[i] == self.thresholds[j]
                    && p.enterprise == self.points[j].enterprise
                {
                    next.state[i] = self.state[j].clone();
                }
            }
        }
        next.events = std::mem::take(&mut self.events);
        next.seq = self.seq;
        next.accepted = self.accepted;
        next.refused = self.refused;
        *self = next;
    }

    pub fn points(&self) -> &[MonitoringPoint] {
        &self.points
    }

    /// The enterprise of point `id`.
    pub fn owner(&self, id: &str) -> Option<&str> {
        self.by_id
            .get(id)
            .map(|&i| self.points[i].enterprise.as_str())
    }

    pub fn config(&self) -> &MonitorConfig {
        &self.cfg
    }

    /// The thresholds (high, high-high) in force at point `i`.
    pub fn thresholds(&self, i: usize) -> (Option<f64>, Option<f64>) {
        self.thresholds[i]
    }

    /// Take one reading at wall time `now_ms`: the events it causes, or why it is
    /// refused (unknown point, another enterprise's or quantity's, ahead of the clock,
    /// a repeat of a time the point has).
    pub fn ingest(&mut self, r: &Reading, now_ms: i64) -> Result<Vec<AlarmEvent>, Refusal> {
        let res = self.check_and_apply(r, now_ms);
        match &res {
            Ok(_) => self.accepted += 1,
            Err(_) => self.refused += 1,
        }
        res
    }

    fn check_and_apply(&mut self, r: &Reading, now_ms: i64) -> Result<Vec<AlarmEvent>, Refusal> {
        let Some(&i) = self.by_id.get(r.point.as_str()) else {
            return Err(Refusal {
                kind: RejectKind::UnknownPoint,
                column: "point",
                value: r.point.clone(),
                message: riskmap_core::tr!(
                    "监测点表中没有测点 `{}`",
                    "no point `{}` among the monitoring points",
                    r.point
                ),
            });
        };
        let p = &self.points[i];
        if let Some(e) = r.enterprise.as_deref().filter(|e| *e != p.enterprise) {
            return Err(Refusal {
                kind: RejectKind::PointMismatch,
                column: "enterprise_id",
                value: e.to_string(),
                message: riskmap_core::tr!(
                    "测点 `{}` 属于企业 `{}`，不是 `{e}`",
                    "point `{}` belongs to enterprise `{}`, not `{e}`",
                    p.id,
                    p.enterprise
                ),
            });
        }
        if let Some(q) = r.quantity.filter(|q| *q != p.quantity) {
            return Err(Refusal {
                kind: RejectKind::PointMismatch,
                column: "quantity",
                value: q.zh().to_string(),
                message: riskmap_core::tr!(
                    "测点 `{}` 监测{}，不是{}",
                    "point `{}` measures {}, not {}",
                    p.id,
                    p.quantity.zh(),
                    q.zh()
                ),
            });
        }
        if !r.value.is_finite() {
            return Err(Refusal {
                kind: RejectKind::UnparseableNumber,
                column: "value",
                value: r.value.to_string(),
                message: riskmap_core::tr!("监测值不是有限数", "the value is not a finite number"),
            });
        }
        let ahead = (r.time_ms - now_ms) as f64 / 1000.0;
        if ahead > self.cfg.future_tolerance_s {
            // no clock reading in the words: the same file gives the same rejects
            let tol = self.cfg.future_tolerance_s;
            return Err(Refusal {
                kind: RejectKind::FutureTime,
                column: "time",
                value: format_time(r.time_ms, self.cfg.utc_offset_min()),
                message: riskmap_core::tr!(
                    "时间晚于当前时间（允许误差 {tol} 秒）：请核对监测系统的时钟",
                    "the time is after now (beyond the {tol} s allowed): check the monitoring system's clock"
                ),
            });
        }
        let st = &mut self.state[i];
        if st.recent.contains(&r.time_ms) {
            return Err(Refusal {
                kind: RejectKind::DuplicateReading,
                column: "time",
                value: format_time(r.time_ms, self.cfg.utc_offset_min()),
                message: riskmap_core::tr!(
                    "测点 `{}` 在该时间已有读数",
                    "point `{}` already has a reading at this time",
                    r.point
                ),
            });
        }
        if st.recent.len() == RECENT {
            st.recent.pop_front();
        }
        st.recent.push_back(r.time_ms);
        // a late reading (older than the latest) is history: kept, no state change
        if st.last.is_some_and(|(t, _)| r.time_ms < t) {
            return Ok(Vec::new());
        }
        st.last = Some((r.time_ms, r.value));
        let mut out = Vec::new();
        if st.stale {
            st.stale = false;
            out.push(self.event(i, "recover", Some(r), None));
        }
        let (h, hh) = self.thresholds[i];
        let sev = match (h, hh) {
            (_, Some(hh)) if r.value >= hh => Severity::HighHigh,
            (Some(h), _) if r.value >= h => Severity::High,
            _ => Severity::Normal,
        };
        let off = self.cfg.utc_offset_min();
        let st = &mut self.state[i];
        if sev > st.active {
            let kind = if st.active == Severity::Normal {
                "raise"
            } else {
                "escalate"
            };
            st.active = sev;
            st.since_ms = Some(r.time_ms);
            st.below_since = None;
            let thr = if sev == Severity::HighHigh { hh } else { h };
            st.cause = Some(cause(r, thr.unwrap_or(f64::NAN), off));
            out.push(self.event(i, kind, Some(r), thr));
        } else if sev < st.active {
            let below = *st.below_since.get_or_insert(r.time_ms);
            if (r.time_ms - below) as f64 / 1000.0 >= self.cfg.clear_after_s {
                let kind = if sev == Severity::Normal {
                    "clear"
                } else {
                    "downgrade"
                };
                st.active = sev;
                st.below_since = None;
                if sev == Severity::Normal {
                    st.since_ms = None;
                    st.cause = None;
                } else {
                    st.since_ms = Some(r.time_ms);
                    st.cause = Some(cause(r, h.unwrap_or(f64::NAN), off));
                }
                let thr = if sev == Severity::High { h } else { None };
                out.push(self.event(i, kind, Some(r), thr));
            }
        } else {
            st.below_since = None;
        }
        Ok(out)
    }

    fn event(
        &mut self,
        i: usize,
        kind: &'static str,
        r: Option<&Reading>,
        threshold: Option<f64>,
    ) -> AlarmEvent {
        self.seq += 1;
        let p = &self.points[i];
        let st = &self.state[i];
        let time_ms = r
            .map(|r| r.time_ms)
            .unwrap_or_else(|| st.last.map_or(self.epoch_ms, |l| l.0));
        let e = AlarmEvent {
            seq: self.seq,
            kind,
            point: p.id.clone(),
            enterprise: p.enterprise.clone(),
            quantity: p.quantity,
            unit: p.unit.clone(),
            severity: st.active,
            severity_zh: st.active.zh(),
            value: r.map(|r| r.value),
            threshold,
            time_ms,
            time: format_time(time_ms, self.cfg.utc_offset_min()),
            from: r.map(from).unwrap_or_default(),
        };
        if self.events.len() >= self.cfg.keep_events.max(1) {
            self.events.pop_front();
        }
        self.events.push_back(e.clone());
        e
    }

    /// Mark the points silent for `stale_after_s` at `now_ms` as faults: the new faults'
    /// events.
    pub fn check_stale(&mut self, now_ms: i64) -> Vec<AlarmEvent> {
        let limit = (self.cfg.stale_after_s * 1000.0) as i64;
        let mut out = Vec::new();
        for i in 0..self.points.len() {
            let last = self.state[i]
                .last
                .map_or(self.epoch_ms, |l| l.0.max(self.epoch_ms));
            if !self.state[i].stale && now_ms - last > limit {
                self.state[i].stale = true;
                out.push(self.event(i, "fault", None, None));
            }
        }
        out
    }

    /// The active alarms (most severe first, then oldest), optionally of one enterprise.
    pub fn active(&self, enterprise: Option<&str>) -> Vec<ActiveAlarm> {
        let mut v: Vec<ActiveAlarm> = self
            .points
            .iter()
            .zip(&self.state)
            .filter(|(p, s)| {
                s.active != Severity::Normal && enterprise.is_none_or(|e| p.enterprise == e)
            })
            .map(|(p, s)| ActiveAlarm {
                point: p.id.clone(),
                name: p.name.clone(),
                enterprise: p.enterprise.clone(),
                quantity: p.quantity,
                quantity_zh: p.quantity.zh(),
                unit: p.unit.clone(),
                severity: s.active,
                severity_zh: s.active.zh(),
                since: format_time(s.since_ms.unwrap_or(0), self.cfg.utc_offset_min()),
                since_ms: s.since_ms.unwrap_or(0),
                cause: s.cause.clone(),
                value: s.last.map(|l| l.1),
                clearing: s.below_since.is_some(),
            })
            .collect();
        v.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.since_ms.cmp(&b.since_ms))
                .then(a.point.cmp(&b.point))
        });
        v
    }

    /// The points silent for `stale_after_s` at `now_ms` (longest silent first).
    pub fn faults(&self, now_ms: i64, enterprise: Option<&str>) -> Vec<Fault> {
        let limit = self.cfg.stale_after_s;
        let mut v: Vec<Fault> = self
            .points
            .iter()
            .zip(&self.state)
            .filter(|(p, _)| enterprise.is_none_or(|e| p.enterprise == e))
            .filter_map(|(p, s)| {
                let from = s.last.map_or(self.epoch_ms, |l| l.0.max(self.epoch_ms));
                let silent_s = (now_ms - from) as f64 / 1000.0;
                (silent_s > limit).then(|| Fault {
                    point: p.id.clone(),
                    name: p.name.clone(),
                    enterprise: p.enterprise.clone(),
                    quantity: p.quantity,
                    quantity_zh: p.quantity.zh(),
                    last: s.last.map(|l| format_time(l.0, self.cfg.utc_offset_min())),
                    silent_s,
                })
            })
            .collect();
        v.sort_by(|a, b| {
            b.silent_s
                .total_cmp(&a.silent_s)
                .then(a.point.cmp(&b.point))
        });
        v
    }

    /// The latest reading (time, value) and severity of point `i`.
    pub fn latest(&self, i: usize) -> (Option<(i64, f64)>, Severity) {
        (self.state[i].last, self.state[i].active)
    }

    /// The kept events after `since` (all kept with `None`).
    pub fn events_since(&self, since: Option<u64>) -> Vec<AlarmEvent> {
        self.events
            .iter()
            .filter(|e| since.is_none_or(|s| e.seq > s))
            .cloned()
            .collect()
    }

    /// The last event's number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The level an enterprise is shown at while in alarm, by `high_high_shows_level`
    /// (none when the rule is off or it has no high-high alarm).
    pub fn shown_level(&self, enterprise: &str) -> Option<Level> {
        let l = self.cfg.high_high_shows_level?;
        self.points
            .iter()
            .zip(&self.state)
            .any(|(p, s)| p.enterprise == enterprise && s.active == Severity::HighHigh)
            .then_some(l)
    }
}

fn cause(r: &Reading, threshold: f64, utc_offset_min: i32) -> Cause {
    Cause {
        value: r.value,
        threshold,
        time_ms: r.time_ms,
        time: format_time(r.time_ms, utc_offset_min),
        from: from(r),
    }
}

fn from(r: &Reading) -> String {
    if r.line.is_empty() {
        r.file.clone()
    } else {
        format!("{}:{}", r.file, r.line)
    }
}

/// A build's replay of the readings: the engine after every reading in time order (ties
/// in input order), "now" the last reading's time; the refusals with their readings.
pub struct Replay {
    pub monitor: Monitor,
    pub now_ms: i64,
    pub refused: Vec<(Reading, Refusal)>,
    pub events: Vec<AlarmEvent>,
}

/// Replay `readings` through a new engine over `points`. Deterministic: the same
/// readings give the same state whatever the wall clock, except that a time ahead of
/// the wall clock `wall_ms` is refused as in the server.
pub fn replay(
    points: Vec<MonitoringPoint>,
    readings: &[Reading],
    cfg: MonitorConfig,
    wall_ms: i64,
) -> Replay {
    let mut order: Vec<usize> = (0..readings.len()).collect();
    order.sort_by_key(|&i| readings[i].time_ms);
    let start = order.first().map_or(0, |&i| readings[i].time_ms);
    let mut m = Monitor::new(points, cfg, start);
    let mut refused = Vec::new();
    let mut events = Vec::new();
    let mut now = start;
    for &i in &order {
        let r = &readings[i];
        if r.time_ms <= wall_ms + (m.cfg.future_tolerance_s * 1000.0) as i64 {
            now = now.max(r.time_ms);
        }
        match m.ingest(r, wall_ms) {
            Ok(ev) => events.extend(ev),
            Err(why) => refused.push((r.clone(), why)),
        }
    }
    events.extend(m.check_stale(now));
    refused.sort_by(|a, b| {
        (a.0.file.as_str(), line_key(&a.0.line)).cmp(&(b.0.file.as_str(), line_key(&b.0.line)))
    });
    Replay {
        monitor: m,
        now_ms: now,
        refused,
        events,
    }
}

/// A line label in numeric order where it is a number.
fn line_key(l: &str) -> (u64, &str) {
    (l.parse().unwrap_or(u64::MAX), l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskmap_core::model::SourceRef;

    fn point(id: &str, q: Quantity, h: Option<f64>, hh: Option<f64>) -> MonitoringPoint {
        MonitoringPoint {
            id: id.into(),
            enterprise: "E1".into(),
            quantity: q,
            name: None,
            unit: q.unit().into(),
            high: h,
            high_high: hh,
            source: SourceRef {
                file: "p.csv".into(),
                line: 2,
            },
        }
    }

    fn reading(p: &str, v: f64, s: i64) -> Reading {
        Reading {
            point: p.into(),
            enterprise: None,
            quantity: None,
            value: v,
            time_ms: s * 1000,
            file: "r.csv".into(),
            line: s.to_string(),
            columns: Default::default(),
        }
    }

    #[test]
    fn raise_escalate_off_delay_and_clear() {
        let cfg = MonitorConfig {
            clear_after_s: 60.0,
            ..Default::default()
        };
        let mut m = Monitor::new(
            vec![point("T1", Quantity::Level, Some(8.0), Some(9.0))],
            cfg,
            0,
        );
        let now = 10_000_000;
        let kinds = |ev: Vec<AlarmEvent>| ev.iter().map(|e| e.kind).collect::<Vec<_>>();
        assert_eq!(
            kinds(m.ingest(&reading("T1", 7.0, 0), now).unwrap()),
            Vec::<&str>::new()
        );
        assert_eq!(
            kinds(m.ingest(&reading("T1", 8.0, 10), now).unwrap()),
            ["raise"]
        );
        assert_eq!(m.active(None)[0].severity, Severity::High);
        assert_eq!(
            kinds(m.ingest(&reading("T1", 9.5, 20), now).unwrap()),
            ["escalate"]
        );
        // below high-high from t=30; 59 s later still high-high (clearing), at 60 s down
        assert!(m.ingest(&reading("T1", 8.5, 30), now).unwrap().is_empty());
        assert!(m.ingest(&reading("T1", 8.2, 89), now).unwrap().is_empty());
        assert!(m.active(None)[0].clearing);
        // back above interrupts the off-delay
        assert!(m.ingest(&reading("T1", 9.1, 95), now).unwrap().is_empty());
        assert!(m.ingest(&reading("T1", 5.0, 100), now).unwrap().is_empty());
        let ev = m.ingest(&reading("T1", 5.0, 160), now).unwrap();
        assert_eq!(kinds(ev.clone()), ["clear"]);
        assert!(m.active(None).is_empty());
        assert_eq!(ev[0].value, Some(5.0));
        let seqs: Vec<u64> = m.events_since(Some(1)).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [2, 3]);
    }

    #[test]
    fn refusals_and_defaults() {
        let mut m = Monitor::new(
            vec![point("G1", Quantity::Combustible, None, None)],
            MonitorConfig::default(),
            0,
        );
        let now = 1_000_000;
        assert_eq!(m.thresholds(0), (Some(25.0), Some(50.0)));
        assert_eq!(
            m.ingest(&reading("X", 1.0, 1), now).unwrap_err().kind,
            RejectKind::UnknownPoint
        );
        m.ingest(&reading("G1", 30.0, 1), now).unwrap();
        assert_eq!(
            m.ingest(&reading("G1", 30.0, 1), now).unwrap_err().kind,
            RejectKind::DuplicateReading
        );
        assert_eq!(
            m.ingest(&reading("G1", 1.0, 1000 + 301), now)
                .unwrap_err()
                .kind,
            RejectKind::FutureTime
        );
        assert!(m.ingest(&reading("G1", 1.0, 1000 + 299), now).is_ok());
        let mut other = reading("G1", 1.0, 2);
        other.enterprise = Some("E2".into());
        assert_eq!(
            m.ingest(&other, now).unwrap_err().kind,
            RejectKind::PointMismatch
        );
        assert_eq!((m.accepted, m.refused), (2, 4));
        // the late reading (t=5 < 1299) is kept as history: the alarm stays as it was
        assert!(m.ingest(&reading("G1", 0.0, 5), now).unwrap().is_empty());
    }

    #[test]
    fn stale_points_are_faults_until_they_report() {
        let cfg = MonitorConfig {
            stale_after_s: 600.0,
            ..Default::default()
        };
        let mut m = Monitor::new(
            vec![
                point("A", Quantity::Pressure, Some(1.0), None),
                point("B", Quantity::Pressure, Some(1.0), None),
            ],
            cfg,
            0,
        );
        m.ingest(&reading("A", 0.5, 100), 1_000_000).unwrap();
        assert!(m.check_stale(600_000).is_empty());
        let ev = m.check_stale(601_000);
        assert_eq!(
            ev.iter().map(|e| e.point.as_str()).collect::<Vec<_>>(),
            ["B"]
        );
        assert_eq!(m.faults(701_000, None).len(), 2);
        assert_eq!(m.check_stale(701_000).len(), 1);
        let ev = m.ingest(&reading("B", 0.5, 702), 1_000_000).unwrap();
        assert_eq!(ev[0].kind, "recover");
        assert_eq!(m.faults(702_000, None).len(), 1);
    }
}
