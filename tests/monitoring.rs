//! Monitoring alarms of major hazard sources (#27 §3): the points and readings as a
//! monitoring system exports them (GBK, CRLF, Chinese headers), every reject with its
//! line and column; the build's replay (alarms raised and cleared after the off-delay,
//! the faults, monitoring.csv, alarm_events.csv, the refused readings in rejects.csv);
//! a readings file followed while it is written; and `POST /api/readings` through the
//! router: the token, bad readings refused with reasons, an alarm raised from a posted
//! reading reaching `/api/alarms` and the card, and a burst of 10,000 readings from many
//! clients at once taken without losing one.

use riskmap::config::Config;
use riskmap::crs::Crs;
use riskmap::ingest::monitoring::ReadingTail;
use riskmap::ingest::RejectKind;
use riskmap::pipeline::load;
use std::io::Write;
use std::path::{Path, PathBuf};

const DISTRICTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/sample/jinan_districts_gcj02.geojson"
);

fn write_gbk_crlf(dir: &Path, name: &str, text: &str) -> PathBuf {
    let crlf = text.replace('\n', "\r\n");
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&crlf);
    assert!(!unmappable);
    let p = dir.join(name);
    std::fs::write(&p, &bytes).unwrap();
    p
}

const REGISTER: &str = "企业编号,企业名称,经度,纬度,风险等级,重大危险源等级\n\
E1,济南某化工有限公司,117.005,36.7000,较大,二级\n\
E2,济南某储运有限公司,117.100,36.7500,一般,三级\n\
E3,坐标错了的企业,0,0,一般,\n";

const POINTS: &str = "测点编号,企业编号,测点名称,监测类型,单位,高报值,高高报值\n\
GT101,E1,1#罐区 GT-101,可燃气体浓度,%LEL,,\n\
LT101,E1,1#罐区 LT-101,储罐液位,m,8.5,9.2\n\
PT201,E2,2#装置 PT-201,压力,MPa,1.6,1.8\n\
AT301,E2,3#库房 AT-301,硫化氢,ppm,10,20\n\
XX1,E9,不存在的企业,压力,MPa,1,2\n\
XX2,E1,类型写错,流量,m3/h,1,2\n\
XX3,E1,报警值颠倒,温度,℃,80,60\n\
GT101,E1,重复,可燃气体浓度,%LEL,,\n\
XX4,E3,企业被拒,温度,℃,60,80\n";

/// A day of E1's and E2's readings: GT101 past 50 %LEL at 08:00 (high-high), back
/// under at 08:05 and cleared at 08:06 (60 s off-delay); LT101 over high at 09:00 and
/// still there; PT201 reports at 08:00 only, AT301 never (both silent by 10:00).
const READINGS: &str = "测点编号,企业编号,监测值,监测时间\n\
GT101,E1,3.5,2026-11-30 07:50:00\n\
GT101,E1,55.0,2026-11-30 08:00:00\n\
GT101,E1,12.0,2026-11-30 08:05:00\n\
GT101,E1,11.0,2026-11-30 08:06:00\n\
PT201,E2,1.2,2026-11-30 08:00:00\n\
LT101,E1,8.7,2026-11-30 09:00:00\n\
GT101,E1,2.0,2026-11-30 10:00:00\n\
LT101,E1,8.8,2026-11-30 10:00:00\n\
NOPE,E1,1.0,2026-11-30 09:00:00\n\
GT101,E1,断线,2026-11-30 09:00:00\n\
GT101,E1,2.2,2099-01-01 00:00:00\n\
GT101,E1,2.4,昨天\n\
GT101,E1,55.0,2026-11-30 08:00:00\n\
PT201,E1,1.0,2026-11-30 09:30:00\n";

fn cfg(dir: &Path) -> Config {
    let mut c = Config::default();
    c.enterprises.path = Some(write_gbk_crlf(dir, "企业.csv", REGISTER));
    c.monitoring_points.path = Some(write_gbk_crlf(dir, "监测点.csv", POINTS));
    c.readings.path = Some(write_gbk_crlf(dir, "监测数据.csv", READINGS));
    c.boundaries.path = Some(PathBuf::from(DISTRICTS));
    c.boundaries.crs = Some(Crs::Gcj02);
    c.output.dir = dir.join("out");
    c.report.enabled = false;
    c
}

fn csv_rows(p: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(p).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn points_and_readings_from_gbk_crlf_files_replayed_into_alarms() {
    let d = tempfile::tempdir().unwrap();
    let c = cfg(d.path());
    let ds = load(&c).unwrap();
    let ids: Vec<&str> = ds.monitoring_points.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["GT101", "LT101", "PT201", "AT301"]);
    let rej = |file: &str, line: &str| -> Vec<(RejectKind, String)> {
        ds.rejects
            .iter()
            .filter(|r| r.file.ends_with(file) && r.line == line)
            .map(|r| (r.kind, r.column.clone()))
            .collect()
    };
    // the points' rejects, each with its line (header = 1) and column as written
    assert_eq!(
        rej("监测点.csv", "6"),
        [(RejectKind::UnknownEnterprise, "企业编号".into())]
    );
    assert_eq!(
        rej("监测点.csv", "7"),
        [(RejectKind::UnknownValue, "监测类型".into())]
    );
    assert_eq!(
        rej("监测点.csv", "8"),
        [(RejectKind::UnknownValue, "高高报值".into())]
    );
    assert_eq!(
        rej("监测点.csv", "9"),
        [(RejectKind::DuplicateId, "测点编号".into())]
    );
    assert_eq!(
        rej("监测点.csv", "10"),
        [(RejectKind::EnterpriseRejected, "企业编号".into())]
    );
    // the readings' own rejects: a value that is not a number, a time that is not one
    assert_eq!(
        rej("监测数据.csv", "11"),
        [(RejectKind::UnparseableNumber, "监测值".into())]
    );
    assert_eq!(
        rej("监测数据.csv", "13"),
        [(RejectKind::UnparseableTime, "监测时间".into())]
    );
    assert_eq!(ds.readings.len(), 12);

    let report = riskmap::build::build(&ds, &c, &riskmap::build::BuildOptions::default()).unwrap();
    let rp = report.analysis.monitoring.as_ref().unwrap();
    // the engine's refusals: unknown point, ahead of the clock, a repeat, another's point
    let mut refused: Vec<(String, RejectKind)> = rp
        .refused
        .iter()
        .map(|(r, why)| (r.line.clone(), why.kind))
        .collect();
    refused.sort();
    assert_eq!(
        refused,
        [
            ("10".to_string(), RejectKind::UnknownPoint),
            ("12".to_string(), RejectKind::FutureTime),
            ("14".to_string(), RejectKind::DuplicateReading),
            ("15".to_string(), RejectKind::PointMismatch),
        ]
    );
    let kinds: Vec<(&str, &str)> = rp
        .events
        .iter()
        .map(|e| (e.kind, e.point.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("raise", "GT101"),
            ("clear", "GT101"),
            ("raise", "LT101"),
            ("fault", "PT201"),
            ("fault", "AT301"),
        ]
    );
    // the clear came with the reading 60 s after the value went back under
    let clear = &rp.events[1];
    assert_eq!(clear.time, "2026-11-30 08:06:00");
    let raise = &rp.events[0];
    assert_eq!(
        (raise.value, raise.threshold),
        (Some(55.0), Some(50.0)),
        "GB 50493 default"
    );
    assert_eq!(raise.severity_zh, "高高报");

    let out = &c.output.dir;
    let rows = csv_rows(&out.join("monitoring.csv"));
    let state: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[11].as_str()))
        .collect();
    assert_eq!(
        state,
        [
            ("GT101", "正常"),
            ("LT101", "高报"),
            ("PT201", "离线"),
            ("AT301", "离线")
        ]
    );
    assert_eq!(rows[2][9], "8.8");
    assert!(rows[2][14].contains("8.7 ≥ 8.5"), "{:?}", rows[2]);
    let ev = csv_rows(&out.join("alarm_events.csv"));
    assert_eq!(ev.len(), 6);
    assert_eq!(ev[1][2], "报警");
    assert!(ev[1][10].ends_with("监测数据.csv:3"), "{:?}", ev[1]);
    // the refused readings in rejects.csv beside the readers' rejects
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    for code in [
        "unknown_point",
        "future_time",
        "duplicate_reading",
        "point_mismatch",
        "unparseable_time",
    ] {
        assert!(rejects.contains(code), "{code}");
    }
    // the engine's refusals name the columns as the file does, and say no clock reading
    assert!(rejects.contains("测点编号,NOPE,unknown_point"), "{rejects}");
    assert!(
        rejects.contains("监测时间,2099-01-01 00:00:00,future_time"),
        "{rejects}"
    );
    let gj: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("monitoring.geojson")).unwrap()).unwrap();
    let f = &gj["features"][1];
    assert_eq!(f["properties"]["point"], "LT101");
    assert_eq!(f["properties"]["state"], "高报");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let m = &summary["monitoring"];
    assert_eq!(m["points"], 4, "{summary}");
    assert_eq!(m["alarms"]["high"], 1);
    assert_eq!(m["faults"], 2);
    assert_eq!(m["as_of"], "2026-11-30 10:00:00");

    // `riskmap validate` names the engine's refusals beside the readers' rejects and
    // exits 1 for them
    let toml = format!(
        "[enterprises]\npath = {:?}\n[monitoring_points]\npath = {:?}\n[readings]\npath = {:?}\n\
         [boundaries]\npath = {:?}\ncrs = \"gcj02\"\n",
        c.enterprises.path.as_ref().unwrap(),
        c.monitoring_points.path.as_ref().unwrap(),
        c.readings.path.as_ref().unwrap(),
        c.boundaries.path.as_ref().unwrap(),
    );
    std::fs::write(d.path().join("v.toml"), toml).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_riskmap"))
        .args(["validate", "--config"])
        .arg(d.path().join("v.toml"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{said}");
    for (line, what) in [
        ("10", "unknown_point"),
        ("12", "future_time"),
        ("14", "duplicate_reading"),
        ("15", "point_mismatch"),
    ] {
        assert!(
            said.lines()
                .any(|l| l.contains(&format!("监测数据.csv:{line}")) && l.contains(what)),
            "validate names the refused reading at line {line}: {said}"
        );
    }

    // deterministic: the same inputs, the same bytes
    let first = std::fs::read(out.join("alarm_events.csv")).unwrap();
    let ds = load(&c).unwrap();
    riskmap::build::build(&ds, &c, &riskmap::build::BuildOptions::default()).unwrap();
    assert_eq!(std::fs::read(out.join("alarm_events.csv")).unwrap(), first);
}

#[test]
fn a_readings_file_followed_while_it_is_written() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("readings.csv");
    let input = riskmap::ingest::params::TableInput::default();
    let mut tail = ReadingTail::new(&p, &input, 480);
    assert!(tail.poll().unwrap().is_empty(), "no file yet");
    let gbk = |s: &str| encoding_rs::GBK.encode(s).0.into_owned();
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(&gbk(
        "测点编号,监测值,监测时间\r\nGT101,3.5,2026-11-30 07:50:00\r\nGT1",
    ))
    .unwrap();
    f.flush().unwrap();
    let got = tail.poll().unwrap();
    assert_eq!(got.len(), 1, "the half-written line waits");
    let r = got[0].as_ref().unwrap();
    assert_eq!(
        (r.point.as_str(), r.value, r.line.as_str()),
        ("GT101", 3.5, "2")
    );
    f.write_all(&gbk(
        "01,4.5,2026-11-30 07:51:00\r\nGT101,坏值,2026-11-30 07:52:00\r\n",
    ))
    .unwrap();
    f.flush().unwrap();
    let got = tail.poll().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].as_ref().unwrap().value, 4.5);
    let bad = got[1].as_ref().unwrap_err();
    assert_eq!((bad.line.as_str(), bad.column.as_str()), ("4", "监测值"));
    assert_eq!(bad.kind, RejectKind::UnparseableNumber);
    assert!(tail.poll().unwrap().is_empty());
    // rewritten (rotated): read again from its start
    std::fs::write(&p, "point,value,time\nLT101,6.1,2026-11-30 08:00:00\n").unwrap();
    let got = tail.poll().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_ref().unwrap().point, "LT101");
}

/// The server side: the token, bad bodies and readings, an alarm from a posted reading
/// to `/api/alarms` and the card, and 10,000 readings from 50 clients at once.
#[test]
fn posted_readings_raise_alarms_and_a_burst_loses_none() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let d = tempfile::tempdir().unwrap();
    let mut c = cfg(d.path());
    c.readings.path = None;
    c.tiles.enabled = true;
    c.tiles.zoom = [8, 8];
    c.vector.enabled = false;
    c.monitoring.token = Some("s3cret-token".into());
    let ds = load(&c).unwrap();
    let report = riskmap::build::build(&ds, &c, &riskmap::build::BuildOptions::default()).unwrap();
    riskmap::tiles::run(
        &ds,
        &report.analysis,
        &c.tiles_params(),
        &riskmap::tiles::TilesOptions {
            quiet: true,
            ..Default::default()
        },
    )
    .unwrap();
    let state = std::sync::Arc::new(
        riskmap::serve::state(ds, report.analysis, &c.output.dir, &c.serve_params()).unwrap(),
    );
    // one router (one engine) for every request
    let app = riskmap::serve::router(state);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let call = |req: Request<Body>| -> (StatusCode, serde_json::Value) {
        let app = app.clone();
        rt.block_on(async move {
            let r = app.oneshot(req).await.unwrap();
            let s = r.status();
            let b = r.into_body().collect().await.unwrap().to_bytes();
            (
                s,
                serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
            )
        })
    };
    let post = |token: Option<&str>, ct: &str, body: String| {
        let mut b = Request::post("/api/readings").header("content-type", ct);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        b.body(Body::from(body)).unwrap()
    };
    let now = riskmap::model::format_time(riskmap::serve::now_ms(), 480);
    let one = format!(r#"{{"point":"GT101","value":62.5,"time":"{now}"}}"#);
    // no token, a wrong one: 401 with a JSON error
    let (s, v) = call(post(None, "application/json", one.clone()));
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert!(v["error"].is_string());
    let (s, _) = call(post(Some("wrong-token!"), "application/json", one.clone()));
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // not JSON: 400; GET: 405 with JSON
    let (s, v) = call(post(
        Some("s3cret-token"),
        "application/json",
        "{oops".into(),
    ));
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(Request::get("/api/readings").body(Body::empty()).unwrap());
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert!(v["error"].is_string());
    // one reading past high-high: accepted, the alarm is on /api/alarms and the card
    let (s, v) = call(post(Some("s3cret-token"), "application/json", one.clone()));
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["accepted"], 1);
    let (s, a) = call(Request::get("/api/alarms").body(Body::empty()).unwrap());
    assert_eq!(s, StatusCode::OK);
    assert_eq!(a["active"].as_array().unwrap().len(), 1, "{a}");
    let al = &a["active"][0];
    assert_eq!(
        (al["point"].as_str(), al["severity"].as_str()),
        (Some("GT101"), Some("high_high"))
    );
    assert_eq!(al["cause"]["value"], 62.5);
    assert_eq!(al["cause"]["from"], "POST /api/readings:0");
    assert_eq!(al["enterprise_name"], "济南某化工有限公司");
    assert!((al["lon"].as_f64().unwrap() - 117.005).abs() < 1e-9);
    assert_eq!(a["events"][0]["kind"], "raise");
    let (_, card) = call(
        Request::get("/api/enterprises/E1")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(
        card["monitoring"]["active"][0]["severity_zh"], "高高报",
        "{card}"
    );
    assert_eq!(
        card["level"], "orange",
        "an alarm does not change the assessed level"
    );
    // the bad readings of a batch: refused with reasons, the good ones taken
    let batch = format!(
        r#"[{{"point":"NOPE","value":1,"time":"{now}"}},
            {{"point":"LT101","value":"abc","time":"{now}"}},
            {{"point":"LT101","value":1,"time":"2099-01-01T00:00:00+08:00"}},
            {{"point":"GT101","value":62.5,"time":"{now}"}},
            {{"point":"LT101","value":7.1}}]"#
    );
    let (s, v) = call(post(Some("s3cret-token"), "application/json", batch));
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["accepted"].as_u64(), v["rejected"].as_u64()),
        (Some(1), Some(4)),
        "{v}"
    );
    let reasons: Vec<&str> = v["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "unknown_point",
            "unparseable_number",
            "future_time",
            "duplicate_reading"
        ]
    );
    // all refused: 422
    let (s, _) = call(post(
        Some("s3cret-token"),
        "application/json",
        r#"{"point":"NOPE","value":1}"#.into(),
    ));
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // CSV with the token in X-Riskmap-Token
    let t0 = riskmap::serve::now_ms() - 3_600_000;
    let csv = format!(
        "测点编号,监测值,监测时间\nPT201,1.7,{}\n",
        riskmap::model::format_time(t0, 480)
    );
    let req = Request::post("/api/readings")
        .header("content-type", "text/csv")
        .header("x-riskmap-token", "s3cret-token")
        .body(Body::from(csv))
        .unwrap();
    let (s, v) = call(req);
    assert_eq!(
        (s, v["accepted"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{v}"
    );

    // the burst: 10,000 readings of AT301 (distinct times), one per request, from 50
    // clients at once: every one taken, none lost
    let (_, before) = call(Request::get("/api/alarms").body(Body::empty()).unwrap());
    let accepted0 = before["accepted"].as_u64().unwrap();
    let base = riskmap::serve::now_ms() - 20_000_000;
    let results = rt.block_on(async {
        let mut tasks = Vec::new();
        for client in 0..50u64 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let mut ok = 0u64;
                for k in 0..200u64 {
                    let t = base + (client * 200 + k) as i64 * 1000;
                    let body = format!(
                        r#"{{"point":"AT301","value":{},"time":{t}}}"#,
                        (k % 7) as f64
                    );
                    let req = Request::post("/api/readings")
                        .header("content-type", "application/json")
                        .header("authorization", "Bearer s3cret-token")
                        .body(Body::from(body))
                        .unwrap();
                    let r = app.clone().oneshot(req).await.unwrap();
                    if r.status() == StatusCode::OK {
                        ok += 1;
                    }
                }
                ok
            }));
        }
        let mut n = 0;
        for t in tasks {
            n += t.await.unwrap();
        }
        n
    });
    assert_eq!(results, 10_000);
    let (_, after) = call(Request::get("/api/alarms").body(Body::empty()).unwrap());
    assert_eq!(after["accepted"].as_u64().unwrap() - accepted0, 10_000);
}
