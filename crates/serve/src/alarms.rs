//! Monitoring alarms live (#27 §3): the alarm engine behind the server, fed by
//! `POST /api/readings` (with the token of `[monitoring]`) and by the feeds the CLI
//! starts (a readings file followed, a database table polled); `/api/alarms` answers
//! what is in alarm and what is silent, with the events since a number; each event goes
//! to `/api/events` as an `alarm` event. A reading is refused with its reason (unknown
//! point, not a number, ahead of the clock, a repeat), never a crash.

use crate::params::ApiError;
use crate::{json_response, Live, Shared};
use axum::body::Bytes;
use axum::extract::{Extension, RawQuery};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use riskmap_analyze::monitoring::{AlarmEvent, Monitor, MonitorConfig};
use riskmap_core::ingest::monitoring::{parse_reading, RawReading};
use riskmap_core::ingest::Reject;
use riskmap_core::model::{MonitoringPoint, Reading};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Largest `POST /api/readings` body: 4 MiB (about 40,000 readings as JSON).
pub const MAX_READINGS_BODY: usize = 4 << 20;
/// Refused readings kept for `/api/alarms` (the latest).
const KEEP_REFUSED: usize = 1000;

/// The engine and what it refused lately.
pub struct LiveMonitor {
    engine: Mutex<Monitor>,
    refused: Mutex<VecDeque<Reject>>,
    pub(crate) events: tokio::sync::broadcast::Sender<Arc<AlarmEvent>>,
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl LiveMonitor {
    pub(crate) fn new(points: Vec<MonitoringPoint>, cfg: MonitorConfig) -> LiveMonitor {
        LiveMonitor {
            engine: Mutex::new(Monitor::new(points, cfg, now_ms())),
            refused: Mutex::new(VecDeque::new()),
            events: tokio::sync::broadcast::channel(4096).0,
        }
    }

    fn engine(&self) -> std::sync::MutexGuard<'_, Monitor> {
        self.engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new generation's points (the state of the points kept is kept).
    pub(crate) fn repoint(&self, points: &[MonitoringPoint]) {
        let mut e = self.engine();
        if e.points() != points {
            e.repoint(points.to_vec());
        }
    }

    /// Take readings (and rejects from a reader), in order: (accepted, the rejects).
    pub fn ingest(&self, items: Vec<Result<Reading, Reject>>) -> (usize, Vec<Reject>) {
        let now = now_ms();
        let mut events = Vec::new();
        let mut rejects = Vec::new();
        let mut accepted = 0;
        {
            let mut e = self.engine();
            for item in items {
                match item {
                    Ok(r) => match e.ingest(&r, now) {
                        Ok(ev) => {
                            accepted += 1;
                            events.extend(ev);
                        }
                        Err(why) => rejects.push(why.into_reject(&r, e.owner(&r.point))),
                    },
                    Err(rej) => {
                        e.refused += 1;
                        rejects.push(rej);
                    }
                }
            }
        }
        if !rejects.is_empty() {
            let mut kept = self
                .refused
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for r in &rejects {
                if kept.len() == KEEP_REFUSED {
                    kept.pop_front();
                }
                kept.push_back(r.clone());
            }
        }
        self.publish(events);
        (accepted, rejects)
    }

    fn publish(&self, events: Vec<AlarmEvent>) {
        for ev in events {
            let _ = self.events.send(Arc::new(ev));
        }
    }

    /// Mark the points silent too long as faults (run every few seconds).
    pub fn check_stale(&self) {
        let ev = self.engine().check_stale(now_ms());
        self.publish(ev);
    }

    /// What `/api/alarms` and the card show.
    pub(crate) fn snapshot(&self, since: Option<u64>, enterprise: Option<&str>) -> Value {
        let now = now_ms();
        let e = self.engine();
        let refused: Vec<Reject> = if enterprise.is_none() {
            self.refused
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .rev()
                .take(100)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        json!({
            "points": e.points().iter().filter(|p| enterprise.is_none_or(|x| p.enterprise == x)).count(),
            "accepted": e.accepted,
            "refused": e.refused,
            "seq": e.seq(),
            "active": e.active(enterprise),
            "faults": e.faults(now, enterprise),
            "shown_level": enterprise.and_then(|x| e.shown_level(x)),
            "events": if enterprise.is_none() { json!(e.events_since(since.or(Some(e.seq().saturating_sub(200))))) } else { Value::Null },
            "recent_refused": refused,
            "clear_after_s": e.config().clear_after_s,
            "stale_after_s": e.config().stale_after_s,
        })
    }

    fn utc_offset_min(&self) -> i32 {
        self.engine().config().utc_offset_min()
    }

    fn token(&self) -> Option<String> {
        self.engine().config().token.clone()
    }
}

/// Handed to the CLI's feeds (a readings file followed, a table polled, webhooks of
/// alarms): readings in, events out.
#[derive(Clone)]
pub struct ReadingsHandle {
    pub(crate) live: Arc<Live>,
}

impl ReadingsHandle {
    /// Take readings (or a reader's rejects): (accepted, rejects).
    pub fn ingest(&self, items: Vec<Result<Reading, Reject>>) -> (usize, Vec<Reject>) {
        self.live.monitor.ingest(items)
    }

    /// The alarm events from now on.
    pub fn subscribe(&self) -> AlarmEvents {
        AlarmEvents(self.live.monitor.events.subscribe())
    }

    /// The enterprise name and district of an id in the generation being served.
    pub fn enterprise(&self, id: &str) -> Option<(String, Option<String>)> {
        let st = self.live.get();
        let &i = st.by_id.get(id)?;
        Some((
            st.ds.enterprises[i].name.clone(),
            st.ds.district_of(i).map(|d| d.0.to_string()),
        ))
    }
}

/// The alarm events, one at a time (blocking: for a thread of its own).
pub struct AlarmEvents(tokio::sync::broadcast::Receiver<Arc<AlarmEvent>>);

impl AlarmEvents {
    /// The next event (waiting for it); `Err(n)` when `n` were missed in a burst too fast
    /// to follow, `None` when the server is gone.
    pub fn next(&mut self) -> Option<Result<Arc<AlarmEvent>, u64>> {
        use tokio::sync::broadcast::error::RecvError;
        match self.0.blocking_recv() {
            Ok(e) => Some(Ok(e)),
            Err(RecvError::Lagged(n)) => Some(Err(n)),
            Err(RecvError::Closed) => None,
        }
    }
}

/// The token a request carries: `Authorization: Bearer …` or `X-Riskmap-Token`.
fn token_of(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        if let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
        {
            return Some(t.trim());
        }
    }
    headers
        .get("x-riskmap-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Compare in time independent of where the first difference is.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// A JSON value as a cell's text.
fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

/// The first of `keys` an object has.
fn field<'a>(o: &'a serde_json::Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| o.get(*k))
}

/// `POST /api/readings`: one reading as a JSON object, many as an array (or
/// `{"readings": [...]}`), or CSV text with a header row (`Content-Type: text/csv`).
/// Fields: `point` (测点编号), `value` (监测值), `time` (监测时间; default now),
/// optionally `enterprise_id` and `quantity`, checked against the point.
pub(crate) async fn h_post_readings(
    Extension(live): Extension<Arc<Live>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mon = &live.monitor;
    let Some(want) = mon.token() else {
        return ApiError {
            status: StatusCode::FORBIDDEN,
            error: riskmap_core::tr!(
                "未开放推送监测数据：请在 [monitoring] 中设置 token",
                "posting readings is off: set a token in [monitoring]"
            ),
            param: None,
        }
        .into_response();
    };
    match token_of(&headers) {
        Some(t) if same_secret(t, &want) => {}
        got => {
            return ApiError {
                status: StatusCode::UNAUTHORIZED,
                error: if got.is_some() {
                    riskmap_core::tr!("令牌不正确", "wrong token")
                } else {
                    riskmap_core::tr!(
                        "缺少令牌：Authorization: Bearer <token> 或 X-Riskmap-Token",
                        "no token: send Authorization: Bearer <token> or X-Riskmap-Token"
                    )
                },
                param: Some("token".into()),
            }
            .into_response()
        }
    }
    let off = mon.utc_offset_min();
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("csv") || v.starts_with("text/plain"));
    let items = if csv {
        match readings_from_csv(&body, off) {
            Ok(v) => v,
            Err(m) => return ApiError::bad("body", m).into_response(),
        }
    } else {
        match readings_from_json(&body, off) {
            Ok(v) => v,
            Err(m) => return ApiError::bad("body", m).into_response(),
        }
    };
    if items.is_empty() {
        return ApiError::bad("body", riskmap_core::tr!("没有读数", "no readings")).into_response();
    }
    let n = items.len();
    // the engine's lock is held for the batch only: a burst from many clients queues
    // on it in arrival order, nothing is dropped
    let live2 = live.clone();
    let (accepted, rejects) = tokio::task::spawn_blocking(move || live2.monitor.ingest(items))
        .await
        .unwrap_or_else(|_| (0, Vec::new()));
    let status = if accepted == 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut r = json_response(&json!({
        "received": n,
        "accepted": accepted,
        "rejected": rejects.len(),
        "errors": !rejects.is_empty(),
        "rejects": rejects.iter().map(|r| json!({
            "index": r.line, "point": r.row_id, "column": r.column, "value": r.value,
            "reason": r.kind.code(), "reason_zh": r.kind.zh(), "message": r.message,
        })).collect::<Vec<_>>(),
    }));
    *r.status_mut() = status;
    r
}

fn readings_from_json(body: &[u8], off: i32) -> Result<Vec<Result<Reading, Reject>>, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| riskmap_core::tr!("正文不是 JSON：{e}", "the body is not JSON: {e}"))?;
    let list: Vec<Value> = match v {
        Value::Array(a) => a,
        Value::Object(mut o) if o.contains_key("readings") => match o.remove("readings") {
            Some(Value::Array(a)) => a,
            _ => return Err("`readings` must be an array".into()),
        },
        o @ Value::Object(_) => vec![o],
        _ => {
            return Err(riskmap_core::tr!(
                "正文应为对象或数组",
                "the body must be an object or an array"
            ))
        }
    };
    let now = riskmap_core::model::format_time(now_ms(), off);
    let canonical = Arc::new(Vec::new());
    Ok(list
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let line = i.to_string();
            let Some(o) = item.as_object() else {
                return Err(Reject {
                    file: "POST /api/readings".into(),
                    line,
                    enterprise_id: String::new(),
                    row_id: String::new(),
                    column: String::new(),
                    value: item.to_string().chars().take(80).collect(),
                    kind: riskmap_core::ingest::RejectKind::MissingValue,
                    message: riskmap_core::tr!("读数应为 JSON 对象", "a reading is a JSON object"),
                });
            };
            let point = text(field(o, &["point", "point_id", "测点编号", "位号", "tag"]));
            let enterprise = text(field(o, &["enterprise_id", "enterprise", "企业编号"]));
            let quantity = text(field(o, &["quantity", "监测类型"]));
            let value = text(field(o, &["value", "监测值", "数值", "val"]));
            let time = match field(o, &["time", "timestamp", "监测时间", "时间", "ts"]) {
                None | Some(Value::Null) => now.clone(),
                v => text(v),
            };
            let raw = RawReading {
                point: &point,
                enterprise: &enterprise,
                quantity: &quantity,
                value: &value,
                time: &time,
            };
            parse_reading(&raw, off, "POST /api/readings", line, &canonical)
                // a posted reading answers with its first problem
                .map_err(|mut bad| bad.swap_remove(0))
        })
        .collect())
}

fn readings_from_csv(body: &[u8], off: i32) -> Result<Vec<Result<Reading, Reject>>, String> {
    let (text, _) = riskmap_core::ingest::table::decode_text(body).ok_or_else(|| {
        riskmap_core::tr!(
            "CSV 既不是 UTF-8 也不是 GBK",
            "the CSV is neither UTF-8 nor GBK"
        )
    })?;
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let m = riskmap_core::ingest::fields::map_columns(
        "POST /api/readings",
        &headers,
        riskmap_core::ingest::fields::READING_FIELDS,
        &Default::default(),
        &[],
    )
    .map_err(|e| e.to_string())?;
    let by_field = Arc::new(riskmap_core::ingest::monitoring::headers_of(&m, &headers));
    let mut out = Vec::new();
    for (n, rec) in r.records().enumerate() {
        let line = (n + 2).to_string();
        let rec = rec.map_err(|e| format!("line {line}: {e}"))?;
        let get = |f: &str| m.get(f).and_then(|i| rec.get(i)).unwrap_or("");
        let raw = RawReading {
            point: get("point"),
            enterprise: get("enterprise_id"),
            quantity: get("quantity"),
            value: get("value"),
            time: get("time"),
        };
        out.push(
            parse_reading(&raw, off, "POST /api/readings", line, &by_field)
                .map_err(|mut bad| bad.swap_remove(0)),
        );
    }
    Ok(out)
}

/// `/api/alarms?since=N&enterprise=ID`: the active alarms (with the enterprise's name
/// and position for the map), the faults, the events after N (the latest 200 without),
/// the counts, the latest refused readings.
pub(crate) async fn h_alarms(
    Extension(st): Extension<Shared>,
    Extension(live): Extension<Arc<Live>>,
    RawQuery(q): RawQuery,
) -> Response {
    let mut since = None;
    let mut enterprise = None;
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(q.as_deref().unwrap_or(""))
        .unwrap_or_default()
    {
        match k.as_str() {
            "since" => match v.trim().parse::<u64>() {
                Ok(n) => since = Some(n),
                Err(_) => {
                    return ApiError::bad("since", format!("`{v}`: since is an event number (seq)"))
                        .into_response()
                }
            },
            "enterprise" => enterprise = Some(v),
            _ => {
                return ApiError::bad(&k, format!("unknown parameter `{k}` (since, enterprise)"))
                    .into_response()
            }
        }
    }
    let mut v = live.monitor.snapshot(since, enterprise.as_deref());
    place(&st, &mut v["active"]);
    place(&st, &mut v["faults"]);
    json_response(&v)
}

/// Put each item's enterprise name, level and position in (from the generation served).
pub(crate) fn place(st: &crate::State, items: &mut Value) {
    let Some(list) = items.as_array_mut() else {
        return;
    };
    for a in list {
        let Some(id) = a["enterprise"].as_str().map(str::to_string) else {
            continue;
        };
        if let Some(&i) = st.by_id.get(&id) {
            let e = &st.ds.enterprises[i];
            let r = |x: f64| riskmap_store::round(x, st.decimals);
            a["enterprise_name"] = json!(e.name);
            a["level"] = json!(st.ds.grades[i].level);
            a["lon"] = json!(r(e.lon));
            a["lat"] = json!(r(e.lat));
        }
    }
}

/// The card's `monitoring`: the enterprise's alarms and faults (none: no points).
pub(crate) fn card_section(live: &Live, id: &str) -> Option<Value> {
    let v = live.monitor.snapshot(None, Some(id));
    (v["points"].as_u64() > Some(0)).then_some(v)
}

/// Serve-side parameters of the engine.
pub(crate) fn monitor_for(st: &crate::State) -> LiveMonitor {
    LiveMonitor::new(st.ds.monitoring_points.clone(), st.monitoring.clone())
}

/// A body over the limit, as the API's JSON 413.
pub(crate) fn too_large() -> Response {
    ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        error: format!("request bodies over {MAX_READINGS_BODY} bytes are not accepted"),
        param: None,
    }
    .into_response()
}
