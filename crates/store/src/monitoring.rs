//! Writers for monitoring alarms (#27 §3), from the build's replay of the readings:
//! monitoring.geojson (each point at its enterprise, with its latest reading and alarm
//! state), monitoring.csv (the same as a table) and alarm_events.csv (every raise,
//! escalation, downgrade, clear, fault and recovery, with the reading behind it).

use super::geojson::{begin, end, feature, point};
use super::write_csv_bom;
use riskmap_analyze::monitoring::{Replay, Severity};
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::ingest::Reject;
use riskmap_core::model::{format_time, level_zh};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::Write;

/// Each point's row: its enterprise (None: not in the register), its facts, its latest
/// reading and state (`离线` for a fault). monitoring.geojson/.csv and the database's
/// `monitoring` table.
pub fn point_rows(ds: &Dataset, rp: &Replay) -> Vec<(Option<usize>, Map<String, Value>)> {
    let m = &rp.monitor;
    let off = m.config().utc_offset_min();
    let by_id: HashMap<&str, usize> = ds
        .enterprises
        .iter()
        .enumerate()
        .rev()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    let faults: HashMap<String, f64> = m
        .faults(rp.now_ms, None)
        .into_iter()
        .map(|f| (f.point, f.silent_s))
        .collect();
    let active: HashMap<String, _> = m
        .active(None)
        .into_iter()
        .map(|a| (a.point.clone(), a))
        .collect();
    m.points()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let e = by_id.get(p.enterprise.as_str()).copied();
            let (last, sev) = m.latest(i);
            let (h, hh) = m.thresholds(i);
            let a = active.get(&p.id);
            let mut o = Map::new();
            o.insert("point".into(), json!(p.id));
            o.insert("name".into(), json!(p.name));
            o.insert("enterprise_id".into(), json!(p.enterprise));
            o.insert(
                "enterprise".into(),
                json!(e.map(|e| ds.enterprises[e].name.clone())),
            );
            o.insert(
                "level".into(),
                json!(e.map(|e| level_zh(ds.grades[e].level))),
            );
            o.insert("quantity".into(), json!(p.quantity.key()));
            o.insert("quantity_zh".into(), json!(p.quantity.zh()));
            o.insert("unit".into(), json!(p.unit));
            o.insert("high".into(), json!(h));
            o.insert("high_high".into(), json!(hh));
            o.insert("value".into(), json!(last.map(|l| l.1)));
            o.insert("time".into(), json!(last.map(|l| format_time(l.0, off))));
            o.insert("severity".into(), json!(sev));
            o.insert(
                "state".into(),
                json!(if faults.contains_key(&p.id) && sev == Severity::Normal {
                    "离线"
                } else {
                    sev.zh()
                }),
            );
            o.insert("fault".into(), json!(faults.contains_key(&p.id)));
            o.insert(
                "silent_s".into(),
                json!(faults.get(&p.id).map(|s| s.round())),
            );
            o.insert("since".into(), json!(a.map(|a| a.since.clone())));
            o.insert("cause".into(), json!(a.and_then(|a| a.cause.clone())));
            (e, o)
        })
        .collect()
}

/// monitoring.geojson: one feature per point at its enterprise (points of enterprises
/// not in the register are left out: they were rejected when read).
pub fn write_monitoring_geojson(
    w: &mut dyn Write,
    ds: &Dataset,
    rp: &Replay,
    crs: Crs,
    dec: u32,
) -> std::io::Result<()> {
    begin(w, "monitoring", crs)?;
    let mut first = true;
    for (e, props) in point_rows(ds, rp) {
        let Some(e) = e else { continue };
        let en = &ds.enterprises[e];
        feature(w, first, point(en.lon, en.lat, crs, dec), props)?;
        first = false;
    }
    end(w)
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// monitoring.csv (UTF-8 BOM): every point with its thresholds, latest reading and state.
pub fn write_monitoring_csv(w: &mut dyn Write, ds: &Dataset, rp: &Replay) -> std::io::Result<()> {
    let cols = [
        ("测点编号", "point"),
        ("测点名称", "name"),
        ("企业编号", "enterprise_id"),
        ("企业名称", "enterprise"),
        ("风险等级", "level"),
        ("监测类型", "quantity_zh"),
        ("单位", "unit"),
        ("高报值", "high"),
        ("高高报值", "high_high"),
        ("最新值", "value"),
        ("最新时间", "time"),
        ("状态", "state"),
        ("报警开始", "since"),
    ];
    let header: Vec<&str> = cols
        .iter()
        .map(|c| c.0)
        .chain(["离线秒数", "触发读数"])
        .collect();
    write_csv_bom(
        w,
        &header,
        point_rows(ds, rp).into_iter().map(|(_, o)| {
            let mut row: Vec<String> = cols.iter().map(|c| text(&o[c.1])).collect();
            row.push(text(&o["silent_s"]));
            row.push(
                o["cause"]
                    .as_object()
                    .map(|c| {
                        format!(
                            "{} ≥ {} @ {} ({})",
                            text(&c["value"]),
                            text(&c["threshold"]),
                            text(&c["time"]),
                            text(&c["from"])
                        )
                    })
                    .unwrap_or_default(),
            );
            row
        }),
    )
}

/// alarm_events.csv (UTF-8 BOM): the replay's events in order.
pub fn write_alarm_events_csv(w: &mut dyn Write, rp: &Replay) -> std::io::Result<()> {
    write_csv_bom(
        w,
        &[
            "序号",
            "时间",
            "事件",
            "测点编号",
            "企业编号",
            "监测类型",
            "状态",
            "读数",
            "阈值",
            "单位",
            "来源",
        ],
        rp.events.iter().map(|e| {
            vec![
                e.seq.to_string(),
                e.time.clone(),
                event_zh(e.kind).to_string(),
                e.point.clone(),
                e.enterprise.clone(),
                e.quantity.zh().to_string(),
                e.severity_zh.to_string(),
                e.value.map(|v| v.to_string()).unwrap_or_default(),
                e.threshold.map(|v| v.to_string()).unwrap_or_default(),
                e.unit.clone(),
                e.from.clone(),
            ]
        }),
    )
}

/// An event kind in Chinese.
pub fn event_zh(kind: &str) -> &'static str {
    match kind {
        "raise" => "报警",
        "escalate" => "升级",
        "downgrade" => "降级",
        "clear" => "消警",
        "fault" => "离线",
        "recover" => "恢复",
        _ => "其他",
    }
}

/// The readings the engine refused, as rejects (for rejects.csv beside the rows the
/// reader refused).
pub fn refusals_as_rejects(rp: &Replay) -> Vec<Reject> {
    rp.refused
        .iter()
        .map(|(r, why)| why.clone().into_reject(r, rp.monitor.owner(&r.point)))
        .collect()
}

/// summary.json's `monitoring`.
pub fn summary(rp: &Replay) -> Value {
    let m = &rp.monitor;
    let active = m.active(None);
    let off = m.config().utc_offset_min();
    json!({
        "points": m.points().len(),
        "readings_accepted": m.accepted,
        "readings_refused": m.refused,
        "as_of": format_time(rp.now_ms, off),
        "alarms": {
            "high": active.iter().filter(|a| a.severity == Severity::High).count(),
            "high_high": active.iter().filter(|a| a.severity == Severity::HighHigh).count(),
        },
        "enterprises_in_alarm": active.iter().map(|a| a.enterprise.as_str()).collect::<std::collections::BTreeSet<_>>().len(),
        "faults": m.faults(rp.now_ms, None).len(),
        "events": rp.events.len(),
        "clear_after_s": m.config().clear_after_s,
        "stale_after_s": m.config().stale_after_s,
    })
}

/// Every reject of a run: the rows the readers refused, then the readings the alarm
/// engine refused (rejects.csv, the report, the database's `rejects`, `validate`).
pub fn all_rejects<'a>(
    ds: &'a Dataset,
    analysis: &riskmap_analyze::Analysis,
) -> std::borrow::Cow<'a, [Reject]> {
    match &analysis.monitoring {
        Some(rp) if !rp.refused.is_empty() => {
            let mut all = ds.rejects.clone();
            all.extend(refusals_as_rejects(rp));
            std::borrow::Cow::Owned(all)
        }
        _ => std::borrow::Cow::Borrowed(&ds.rejects),
    }
}
