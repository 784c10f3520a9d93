//! Emergency command (#27): the resources table as offices write it (GBK, CRLF, Chinese
//! headers, types in their own words), every reject with its line and column, the
//! nearest help against a brute force over every resource, the fire stations' reach and
//! the gaps, and `/api/nearest` and the card through the router.

use riskmap::analyze::emergency::{assess, EmergencyConfig};
use riskmap::config::Config;
use riskmap::crs::Crs;
use riskmap::ingest::RejectKind;
use riskmap::model::{FireClass, ResourceKind};
use riskmap::pipeline::load;
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

fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8f64;
    let (p1, p2) = (a.1.to_radians(), b.1.to_radians());
    let dp = p2 - p1;
    let dl = (b.0 - a.0).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

const REGISTER: &str = "企业编号,企业名称,行业,经度,纬度,风险等级,救援队伍,救援协议单位\n\
E1,济南炼化有限公司,危险化学品,117.02,36.70,重大,无,\n\
E2,章丘刁镇化工有限公司,危险化学品,117.37,36.86,重大,有,\n\
E3,莱芜钢铁有限公司,冶金,117.66,36.22,较大,,济南市矿山救护队\n\
E4,历城建材有限公司,建材,117.10,36.68,较大,没有吧,\n\
E5,平阴小厂,机械,116.45,36.29,一般,,\n";

const RESOURCES: &str = "编号,名称,类型,级别,所属单位,联系电话,容纳人数,储备物资,专业领域,经度,纬度,坐标系\n\
F1,天桥消防救援站,消防站,特勤站,支队,0531-1,40,,,117.00,36.70,WGS84\n\
F2,章丘消防救援站,一级消防站,,支队,0531-2,30,,,117.38,36.86,WGS84\n\
F3,园区微型消防站,微型消防站,,园区,,8,,,117.66,36.23,WGS84\n\
T1,济南市矿山救护队,矿山救护队,,应急局,0531-3,40,,,117.60,36.20,WGS84\n\
T2,园区企业联合救援队,企业救援队伍,,企业,,20,,,117.36,36.85,WGS84\n\
D1,应急物资储备库,应急物资库,,应急局,,,帐篷 200 顶；棉被:500床、发电机×10台、若干手套,,117.10,36.60,GCJ-02\n\
S1,泉城广场避难场所,应急避难场所,,街道,,5000,,,117.02,36.66,WGS84\n\
H1,第一人民医院,医院,,卫健委,,800,,,117.00,36.65,WGS84\n\
X1,王工,安全生产专家,,专家库,138,,,危险化学品,117.05,36.67,WGS84\n\
X2,不明单位,待定,,,,,,,117.0,36.6,WGS84\n\
X3,缺经度的医院,医院,,,,,,,,36.6,WGS84\n\
F1,重复编号的消防站,消防站,一级站,,,,,,117.1,36.7,WGS84\n\
F4,级别写错的消防站,消防站,三级站,,,,,,117.1,36.7,WGS84\n\
X4,北京的医院,医院,,,,,,,116.397,39.916,WGS84\n";

fn cfg(dir: &Path) -> Config {
    let mut c = Config::default();
    c.enterprises.path = Some(write_gbk_crlf(dir, "企业.csv", REGISTER));
    c.resources.path = Some(write_gbk_crlf(dir, "应急资源.csv", RESOURCES));
    c.boundaries.path = Some(PathBuf::from(DISTRICTS));
    c.boundaries.crs = Some(Crs::Gcj02);
    c
}

#[test]
fn resources_from_a_gbk_crlf_file_with_every_reject_named() {
    let d = tempfile::tempdir().unwrap();
    let c = cfg(d.path());
    let ds = load(&c).unwrap();
    let ids: Vec<&str> = ds.resources.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["F1", "F2", "F3", "T1", "T2", "D1", "S1", "H1", "X1"]);
    let kind = |id: &str| ds.resources.iter().find(|r| r.id == id).unwrap();
    assert_eq!(kind("F1").kind, ResourceKind::FireStation);
    assert_eq!(kind("F1").fire_class, Some(FireClass::Special));
    // the class from the type text when there is no class column value
    assert_eq!(kind("F2").fire_class, Some(FireClass::First));
    assert_eq!(kind("F3").fire_class, Some(FireClass::Micro));
    assert_eq!(kind("T1").kind, ResourceKind::RescueTeam);
    assert_eq!(kind("T2").kind, ResourceKind::EnterpriseTeam);
    assert_eq!(kind("S1").kind, ResourceKind::Shelter);
    assert_eq!(kind("S1").capacity, Some(5000.0));
    assert_eq!(kind("X1").kind, ResourceKind::Expert);
    assert_eq!(kind("X1").expertise.as_deref(), Some("危险化学品"));
    // GCJ-02 converted to WGS84 on the way in
    let d1 = kind("D1");
    let (gx, gy) = Crs::Gcj02.from_wgs84(d1.lon, d1.lat);
    assert!((gx - 117.10).abs() < 1e-6 && (gy - 36.60).abs() < 1e-6);
    assert!((d1.lon - 117.10).abs() > 1e-4, "converted, not copied");
    // the stock as written: three items with quantities and one without
    let stock: Vec<(String, Option<f64>, String)> = d1
        .stock
        .iter()
        .map(|s| (s.item.clone(), s.quantity, s.unit.clone()))
        .collect();
    assert_eq!(
        stock,
        [
            ("帐篷".to_string(), Some(200.0), "顶".to_string()),
            ("棉被".to_string(), Some(500.0), "床".to_string()),
            ("发电机".to_string(), Some(10.0), "台".to_string()),
            ("若干手套".to_string(), None, String::new()),
        ]
    );
    // every rejected row: file, line, column, reason
    let f = c.resources.path.as_ref().unwrap().display().to_string();
    let expect = [
        ("11", "类型", RejectKind::UnknownValue),
        ("12", "经度", RejectKind::MissingValue),
        ("13", "编号", RejectKind::DuplicateId),
        ("14", "级别", RejectKind::UnknownValue),
        ("15", "经度/纬度", RejectKind::OutsideRegion),
    ];
    let got: Vec<_> = ds.rejects.iter().filter(|r| r.file == f).collect();
    for (line, col, kind) in expect {
        assert!(
            got.iter()
                .any(|r| r.line == line && r.column == col && r.kind == kind),
            "missing {kind:?} at line {line} [{col}]; got {got:#?}"
        );
    }
    assert_eq!(got.len(), expect.len(), "{got:#?}");
    // enterprises: own team 有/无, the agreement partner; a word that is neither is a
    // warning and the enterprise stays
    let e = |id: &str| ds.enterprises.iter().find(|e| e.id == id).unwrap();
    assert_eq!(e("E1").own_team, Some(false));
    assert_eq!(e("E2").own_team, Some(true));
    assert_eq!(e("E3").rescue_partner.as_deref(), Some("济南市矿山救护队"));
    assert_eq!(e("E4").own_team, None);
    assert!(
        e("E4").warnings.iter().any(|w| w.contains("没有吧")),
        "{:?}",
        e("E4").warnings
    );
}

#[test]
fn nearest_reach_and_gaps_against_brute_force() {
    let d = tempfile::tempdir().unwrap();
    let c = cfg(d.path());
    let ds = load(&c).unwrap();
    let em = assess(&ds, &EmergencyConfig::default()).unwrap();
    // nearest of each kind: the brute force over every resource of the kind
    for (i, e) in ds.enterprises.iter().enumerate() {
        for (ki, k) in em.kinds.iter().enumerate() {
            let mut all: Vec<(f64, usize)> = ds
                .resources
                .iter()
                .enumerate()
                .filter(|(_, r)| r.kind == k.kind)
                .map(|(j, r)| (haversine((e.lon, e.lat), (r.lon, r.lat)), j))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            all.truncate(3);
            let got: Vec<usize> = em.nearest[i][ki].iter().map(|h| h.idx).collect();
            let want: Vec<usize> = all.iter().map(|x| x.1).collect();
            assert_eq!(got, want, "{} {:?}", e.id, k.kind);
            for (h, w) in em.nearest[i][ki].iter().zip(&all) {
                assert!(
                    (h.distance_m - w.0).abs() < 0.5,
                    "{} vs {}",
                    h.distance_m,
                    w.0
                );
            }
        }
    }
    // reach: 4 driving minutes at 30 km/h = 2 km; the micro station does not count
    assert!((em.reach_m - 2000.0).abs() < 1e-9);
    let st: Vec<&str> = em
        .stations
        .iter()
        .map(|&i| ds.resources[i].id.as_str())
        .collect();
    assert_eq!(st, ["F1", "F2"]);
    for (i, e) in ds.enterprises.iter().enumerate() {
        let best = em
            .stations
            .iter()
            .map(|&j| haversine((e.lon, e.lat), (ds.resources[j].lon, ds.resources[j].lat)))
            .fold(f64::INFINITY, f64::min);
        assert_eq!(em.covered_by[i].is_some(), best <= 2000.0, "{}", e.id);
    }
    // E1 (1.8 km from F1) and E2 are covered; E3 only by a micro station; E4, E5 far
    let outside: Vec<&str> = em
        .outside()
        .iter()
        .map(|&i| ds.enterprises[i].id.as_str())
        .collect();
    assert_eq!(outside, ["E3", "E4", "E5"]);
    // red/orange with neither their own team nor an agreement: E1 (无) and E4 (unknown)
    let gaps: Vec<&str> = em
        .no_team
        .iter()
        .map(|&i| ds.enterprises[i].id.as_str())
        .collect();
    assert_eq!(gaps, ["E1", "E4"]);
}

/// `/api/nearest` for any point (WGS84 and GCJ-02 in and out, types filtered, bad
/// parameters 400 naming them) and the card's emergency part, through the router.
#[test]
fn api_nearest_and_the_card() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let d = tempfile::tempdir().unwrap();
    let mut c = cfg(d.path());
    let out = d.path().join("out");
    c.output.dir = out.clone();
    c.tiles.enabled = true;
    c.tiles.zoom = [8, 9];
    c.vector.enabled = false;
    c.report.enabled = false;
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
    // the build wrote the resources, the stations' reach and the table
    for f in ["resources.geojson", "fire_reach.geojson", "emergency.csv"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let reach: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("fire_reach.geojson")).unwrap()).unwrap();
    assert_eq!(reach["features"].as_array().unwrap().len(), 2);
    let resources = ds.resources.clone();
    let state = std::sync::Arc::new(
        riskmap::serve::state(ds, report.analysis, &out, &c.serve_params()).unwrap(),
    );
    let get = |uri: &str| -> (StatusCode, serde_json::Value) {
        let app = riskmap::serve::router(state.clone());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let r = app
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let s = r.status();
            let b = r.into_body().collect().await.unwrap().to_bytes();
            (
                s,
                serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
            )
        })
    };
    // a point in 天桥区: the nearest hospital and fire station, straight-line
    let (s, v) = get("/api/nearest?lon=117.01&lat=36.69&types=hospital,fire_station&n=2");
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["method_zh"], "直线距离");
    let kinds: Vec<&str> = v["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["fire_station", "hospital"]);
    let fire = &v["kinds"][0]["resources"];
    assert_eq!(fire[0]["id"], "F1");
    assert_eq!(fire.as_array().unwrap().len(), 2);
    let f1 = resources.iter().find(|r| r.id == "F1").unwrap();
    let want = haversine((117.01, 36.69), (f1.lon, f1.lat));
    assert!((fire[0]["distance_m"].as_f64().unwrap() - want).abs() <= 1.0);
    // GCJ-02 in and out: the same resource, its coordinates shifted
    let (g0, g1) = Crs::Gcj02.from_wgs84(117.01, 36.69);
    let (s, g) = get(&format!(
        "/api/nearest?lon={g0}&lat={g1}&crs=gcj02&types=fire_station&n=1"
    ));
    assert_eq!(s, StatusCode::OK);
    assert_eq!(g["kinds"][0]["resources"][0]["id"], "F1");
    let (fx, fy) = Crs::Gcj02.from_wgs84(f1.lon, f1.lat);
    assert!((g["kinds"][0]["resources"][0]["lon"].as_f64().unwrap() - fx).abs() < 1e-6);
    assert!((g["kinds"][0]["resources"][0]["lat"].as_f64().unwrap() - fy).abs() < 1e-6);
    // Chinese type names are taken too
    let (s, v) = get("/api/nearest?lon=117.01&lat=36.69&types=专家");
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["kinds"][0]["resources"][0]["expertise"], "危险化学品");
    // bad requests: 400 naming the parameter
    for (uri, param) in [
        ("/api/nearest?lon=117&lat=36.6&types=tank", "types"),
        ("/api/nearest?lon=117&lat=36.6&n=0", "n"),
        ("/api/nearest?lon=117&lat=36.6&n=99", "n"),
        ("/api/nearest?lon=abc&lat=36.6", "lon"),
        ("/api/nearest?lat=36.6", "lon"),
    ] {
        let (s, v) = get(uri);
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {v}");
        assert_eq!(v["param"], param, "{uri}: {v}");
    }
    // the card: nearest help by kind, the station reaching it, the gaps
    let (s, card) = get("/api/enterprises/E1");
    assert_eq!(s, StatusCode::OK);
    let em = &card["emergency"];
    assert_eq!(em["own_team"], false);
    assert_eq!(em["fire_station"]["id"], "F1");
    assert_eq!(em["gaps"][0]["code"], "no_team");
    let (_, card) = get("/api/enterprises/E3");
    let em = &card["emergency"];
    assert_eq!(em["rescue_partner"], "济南市矿山救护队");
    assert!(em["fire_station"].is_null());
    assert_eq!(em["gaps"][0]["code"], "outside_fire_reach");
    let rescue = em["nearest"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["type"] == "rescue_team")
        .unwrap();
    assert_eq!(rescue["resources"][0]["id"], "T1");
}

/// With a road network (#27 §1): the roads as owners send them (GBK, CRLF, a WKT
/// column, classes in their words, one-way), the rejects named; the help reached
/// soonest by road — not the nearest in straight line when a river lies between — with
/// minutes equal to the road's length at its class's speed plus the access legs; a
/// station's reach by road; an enterprise off the network in straight line, said so.
#[test]
fn help_by_road_is_not_help_across_the_river() {
    let d = tempfile::tempdir().unwrap();
    let register = "企业编号,企业名称,经度,纬度,风险等级\n\
E1,河南岸的企业,117.05,36.601,重大\n\
E2,远离道路的企业,117.20,36.70,一般\n";
    let resources = "编号,名称,类型,级别,经度,纬度\n\
H1,对岸的医院,医院,,117.05,36.619\n\
H2,同岸的医院,医院,,117.09,36.601\n\
F1,沿路的消防站,消防站,一级站,117.06,36.6005\n";
    // two roads on either bank of a river, no bridge; dirty rows after them
    let roads = "编号,名称,道路等级,限速,单行,WKT\n\
A,南岸路,主干路,,否,\"LINESTRING (117.00 36.60, 117.05 36.60, 117.10 36.60)\"\n\
B,北岸路,主干路,,,\"LINESTRING (117.00 36.62, 117.10 36.62)\"\n\
X1,铁路,铁路,,,\"LINESTRING (117.0 36.61, 117.1 36.61)\"\n\
X2,限速写错,支路,很快,,\"LINESTRING (117.0 36.61, 117.1 36.61)\"\n\
X3,路口,支路,,,POINT (117.0 36.61)\n";
    let mut c = Config::default();
    c.enterprises.path = Some(write_gbk_crlf(d.path(), "企业.csv", register));
    c.resources.path = Some(write_gbk_crlf(d.path(), "应急资源.csv", resources));
    c.roads.path = Some(write_gbk_crlf(d.path(), "路网.csv", roads));
    c.boundaries.path = Some(PathBuf::from(DISTRICTS));
    c.boundaries.crs = Some(Crs::Gcj02);
    let ds = load(&c).unwrap();
    assert_eq!(ds.roads.len(), 2);
    let rej: Vec<(String, RejectKind, String)> = ds
        .rejects
        .iter()
        .filter(|r| r.file.ends_with("路网.csv"))
        .map(|r| (r.line.clone(), r.kind, r.column.clone()))
        .collect();
    assert_eq!(
        rej,
        [
            (
                "4".to_string(),
                RejectKind::UnknownValue,
                "道路等级".to_string()
            ),
            (
                "5".to_string(),
                RejectKind::UnparseableNumber,
                "限速".to_string()
            ),
            ("6".to_string(), RejectKind::NoGeometry, "WKT".to_string()),
        ]
    );
    let em = assess(&ds, &EmergencyConfig::default()).unwrap();
    let rr = em.roads.as_ref().expect("routed by road");
    let e1 = ds.enterprises.iter().position(|e| e.id == "E1").unwrap();
    let e2 = ds.enterprises.iter().position(|e| e.id == "E2").unwrap();
    let id = |i: usize| ds.resources[i].id.as_str();
    let hospital = em
        .kinds
        .iter()
        .position(|k| k.kind == ResourceKind::Hospital)
        .unwrap();
    // in straight line the hospital across the river is nearer …
    assert_eq!(id(em.nearest[e1][hospital][0].idx), "H1");
    // … by road only the one on this bank is reached
    let routes = &rr.routes[e1][hospital];
    assert_eq!(routes.len(), 1, "H1 cannot be reached: no bridge");
    assert_eq!(id(routes[0].idx), "H2");
    // its minutes: the road between them at 主干路's 40 km/h, plus ~111 m of access at
    // each end at 10 km/h
    let road_m = haversine((117.05, 36.60), (117.09, 36.60));
    let access =
        haversine((117.05, 36.601), (117.05, 36.60)) + haversine((117.09, 36.601), (117.09, 36.60));
    let want = road_m / (40.0 / 3.6) + access / (10.0 / 3.6);
    assert!(
        (routes[0].secs - want).abs() < 2.0,
        "{} s vs {want} s",
        routes[0].secs
    );
    assert!((routes[0].metres - (road_m + access)).abs() < 10.0);
    // the station 900 m along the road reaches E1 within its 4 driving minutes
    assert_eq!(em.covered_by[e1].map(|h| id(h.idx)), Some("F1"));
    assert!(rr.reach[0].is_some(), "the area F1 reaches by road");
    // E2 is 9 km from any road: straight line, and listed so
    assert_eq!(rr.off_network, vec![e2]);
    assert!(rr.routes[e2][hospital].is_empty());
    // the card and emergency.csv say how
    let mut c2 = c.clone();
    let out = d.path().join("out");
    c2.output.dir = out.clone();
    c2.report.enabled = false;
    riskmap::build::build(&ds, &c2, &riskmap::build::BuildOptions::default()).unwrap();
    let csv = std::fs::read_to_string(out.join("emergency.csv")).unwrap();
    let head = csv.lines().next().unwrap();
    assert!(
        head.contains("行车最快的医院") && head.contains("医院行车时间(分钟)"),
        "{head}"
    );
    let e1_row = csv.lines().find(|l| l.starts_with("E1,")).unwrap();
    assert!(e1_row.contains("同岸的医院"), "{e1_row}");
    let reach: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("fire_reach.geojson")).unwrap()).unwrap();
    assert_eq!(reach["features"][0]["properties"]["method"], "road_network");
}
