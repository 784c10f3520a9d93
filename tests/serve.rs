//! `riskmap serve`: every endpoint on the sample, through the router (no socket), against
//! answers the test computes itself from the files `build` wrote (enterprises.geojson,
//! the XYZ tile directory), plus every bad-input case and path-traversal attempts.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use riskmap::config::Config;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

struct Fixture {
    out: PathBuf,
    _dir: tempfile::TempDir,
    state: Arc<riskmap::serve::State>,
    /// enterprises.geojson as written by build
    features: Vec<serde_json::Value>,
}

fn sample_config(out: &Path) -> Config {
    let mut c = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/riskmap.toml"
    )))
    .unwrap();
    c.output.dir = out.to_path_buf();
    c.tiles.zoom = [8, 11];
    c.vector.zoom = [8, 14];
    // the XYZ folder too: the tile test compares the served tiles with it
    c.tiles.formats = Some(vec!["pmtiles".into(), "mbtiles".into(), "xyz".into()]);
    c
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().to_path_buf();
        let cfg = sample_config(&out);
        let ds = riskmap::pipeline::load(&cfg).unwrap();
        let report =
            riskmap::build::build(&ds, &cfg, &riskmap::build::BuildOptions::default()).unwrap();
        riskmap::tiles::run(
            &ds,
            &report.analysis,
            &cfg.tiles_params(),
            &riskmap::tiles::TilesOptions {
                quiet: true,
                ..Default::default()
            },
        )
        .unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("enterprises.geojson")).unwrap())
                .unwrap();
        let features = v["features"].as_array().unwrap().clone();
        let state = riskmap::serve::state(ds, report.analysis, &out, &cfg.serve_params()).unwrap();
        Fixture {
            out,
            _dir: dir,
            state: Arc::new(state),
            features,
        }
    })
}

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn header(&self, k: header::HeaderName) -> Option<String> {
        self.headers
            .get(k)
            .map(|v| v.to_str().unwrap_or_default().to_string())
    }
}

fn send_req(app: axum::Router, req: Request<Body>) -> Resp {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let r = app.oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
        Resp {
            status,
            headers,
            body,
        }
    })
}

fn get(uri: &str) -> Resp {
    let app = riskmap::serve::router(fixture().state.clone());
    send_req(app, Request::get(uri).body(Body::empty()).unwrap())
}

fn bad(uri: &str, param: &str) {
    let r = get(uri);
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "{uri}: {}",
        String::from_utf8_lossy(&r.body)
    );
    let v = r.json();
    assert_eq!(v["param"], param, "{uri}: {v}");
    assert!(v["error"].as_str().unwrap().len() > 5);
}

fn level_counts(features: &[&serde_json::Value]) -> [u64; 5] {
    let mut c = [0u64; 5];
    for f in features {
        let k = ["red", "orange", "yellow", "blue", "unassessed"]
            .iter()
            .position(|l| f["properties"]["level"] == *l)
            .unwrap();
        c[k] += 1;
    }
    c
}

fn counts_of(v: &serde_json::Value) -> [u64; 5] {
    ["red", "orange", "yellow", "blue", "unassessed"].map(|k| v[k].as_u64().unwrap())
}

#[test]
fn health_meta_and_viewer() {
    let r = get("/healthz");
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], "ok");
    let m = get("/api/meta").json();
    assert_eq!(m["title"], "济南市安全生产风险四色分布图");
    let layers: Vec<&str> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        layers,
        [
            "areas",
            "composite",
            "grid",
            "lifelines",
            "points",
            "surface"
        ]
    );
    assert_eq!(m["layers_gcj02"].as_array().unwrap().len(), 6);
    assert_eq!(m["levels"].as_array().unwrap().len(), 5);
    assert_eq!(m["districts"].as_array().unwrap().len(), 12);
    assert_eq!(m["minzoom"], 8);
    assert_eq!(m["maxzoom"], 11);
    let page = get("/");
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .header(header::CONTENT_TYPE)
        .unwrap()
        .starts_with("text/html"));
    let html = String::from_utf8(page.body).unwrap();
    assert!(
        html.contains("/viewer/vendor/leaflet/leaflet.js"),
        "Leaflet is served locally"
    );
    for f in [
        "app.js",
        "app.css",
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/leaflet.css",
        "vendor/leaflet/LICENSE",
    ] {
        let r = get(&format!("/viewer/{f}"));
        assert_eq!(r.status, StatusCode::OK, "{f}");
        assert!(r.body.len() > 100, "{f}");
    }
}

#[test]
fn stats_equal_counts_from_enterprises_geojson() {
    let f = fixture();
    let all: Vec<&serde_json::Value> = f.features.iter().collect();
    let s = get("/api/stats").json();
    assert_eq!(s["total"].as_u64().unwrap(), all.len() as u64);
    assert_eq!(counts_of(&s["levels"]), level_counts(&all));
    for d in s["districts"].as_array().unwrap() {
        let mine: Vec<&serde_json::Value> = all
            .iter()
            .copied()
            .filter(|x| x["properties"]["district"] == d["name"])
            .collect();
        assert_eq!(
            counts_of(&d["levels"]),
            level_counts(&mine),
            "{}",
            d["name"]
        );
    }
    let industry_total: u64 = s["industries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["total"].as_u64().unwrap())
        .sum();
    assert_eq!(industry_total, all.len() as u64);
    // filters
    let red = get("/api/stats?level=red").json();
    assert_eq!(red["total"], s["levels"]["red"]);
    assert_eq!(red["levels"]["blue"], 0);
    let both = get("/api/stats?level=%E9%87%8D%E5%A4%A7,orange").json(); // 重大,orange
    assert_eq!(
        both["total"].as_u64().unwrap(),
        s["levels"]["red"].as_u64().unwrap() + s["levels"]["orange"].as_u64().unwrap()
    );
    let d = get("/api/stats?district=370102").json();
    let lixia: Vec<&serde_json::Value> = all
        .iter()
        .copied()
        .filter(|x| x["properties"]["adcode"] == "370102")
        .collect();
    assert_eq!(d["total"].as_u64().unwrap(), lixia.len() as u64);
    let chem = get("/api/stats?industry=%E5%8D%B1%E9%99%A9%E5%8C%96%E5%AD%A6%E5%93%81").json(); // 危险化学品
    let n = all
        .iter()
        .filter(|x| x["properties"]["industry"] == "危险化学品")
        .count();
    // (a guard that the filter is not vacuous; the exact count is the file's, next line)
    assert!(n > 0);
    assert_eq!(chem["total"].as_u64().unwrap(), n as u64);
}

#[test]
fn enterprises_bbox_filters_and_pages_match_brute_force() {
    let f = fixture();
    let b = [116.9, 36.6, 117.1, 36.75];
    let want: Vec<&str> = f
        .features
        .iter()
        .filter(|x| {
            let c = &x["geometry"]["coordinates"];
            let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
            lon >= b[0]
                && lon <= b[2]
                && lat >= b[1]
                && lat <= b[3]
                && x["properties"]["level"] != "blue"
        })
        .map(|x| x["properties"]["id"].as_str().unwrap())
        .collect();
    assert!(want.len() > 100, "the box holds many enterprises");
    let mut got: Vec<String> = vec![];
    let mut offset = 0;
    loop {
        let v = get(&format!(
            "/api/enterprises?bbox={},{},{},{}&level=red,orange,yellow,unassessed&limit=100&offset={offset}",
            b[0], b[1], b[2], b[3]
        ))
        .json();
        assert_eq!(v["type"], "FeatureCollection");
        assert_eq!(v["total"].as_u64().unwrap(), want.len() as u64);
        let page = v["features"].as_array().unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 100);
        got.extend(
            page.iter()
                .map(|x| x["properties"]["id"].as_str().unwrap().to_string()),
        );
        offset += 100;
    }
    let mut want_sorted: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want_sorted.sort();
    let mut got_sorted = got.clone();
    got_sorted.sort();
    assert_eq!(got_sorted, want_sorted, "pages cover the box exactly once");
    // limit is capped
    let v = get("/api/enterprises?limit=999999").json();
    assert_eq!(v["limit"], 5000);
    assert_eq!(v["features"].as_array().unwrap().len(), 4964.min(5000));
    // search by name and by credit code
    let first = &f.features[10]["properties"];
    let name = first["name"].as_str().unwrap();
    let q = urlencode(name);
    let v = get(&format!("/api/enterprises?q={q}")).json();
    assert!(v["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["properties"]["id"] == first["id"]));
    let code = first["credit_code"].as_str().unwrap();
    let v = get(&format!("/api/enterprises?q={}", &code[..14])).json();
    assert_eq!(v["features"][0]["properties"]["id"], first["id"]);
    // coordinates in GCJ-02 on request
    let id = first["id"].as_str().unwrap();
    let v = get(&format!("/api/enterprises?q={id}&crs=gcj02")).json();
    let c = &v["features"][0]["geometry"]["coordinates"];
    let w = &f.features[10]["geometry"]["coordinates"];
    let (gx, gy) = riskmap::crs::wgs84_to_gcj02(w[0].as_f64().unwrap(), w[1].as_f64().unwrap());
    assert!(
        (c[0].as_f64().unwrap() - gx).abs() < 1e-6 && (c[1].as_f64().unwrap() - gy).abs() < 1e-6
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn a_red(f: &Fixture) -> &serde_json::Value {
    f.features
        .iter()
        .find(|x| {
            x["properties"]["level"] == "red"
                && x["properties"]["risk_points"].as_u64().unwrap() > 0
        })
        .unwrap()
}

#[test]
fn enterprise_card_and_unknown_id() {
    let f = fixture();
    let e = a_red(f);
    let p = &e["properties"];
    let id = p["id"].as_str().unwrap();
    let c = get(&format!("/api/enterprises/{id}")).json();
    assert_eq!(c["name"], p["name"]);
    assert_eq!(c["level_zh"], "重大风险");
    assert_eq!(c["reason_zh"], p["reason_zh"]);
    assert_eq!(c["tier_zh"], "企业主要负责人");
    assert_eq!(
        c["risk_points"].as_array().unwrap().len() as u64,
        p["risk_points"].as_u64().unwrap()
    );
    let open = c["hidden_dangers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["open"] == true)
        .count();
    assert_eq!(open as u64, p["open_hidden_dangers"].as_u64().unwrap());
    assert!(
        c["extra"].as_object().unwrap().contains_key("安全负责人"),
        "extra columns are on the card"
    );
    // the assessments file holds exactly these risk points for it
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/sample/assessments.csv"
    ))
    .unwrap();
    let rows = text
        .lines()
        .filter(|l| l.starts_with(&format!("{id},")))
        .count();
    assert!(rows >= c["risk_points"].as_array().unwrap().len());
    let r = get("/api/enterprises/NO-SUCH-ID");
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["error"].as_str().unwrap().contains("NO-SUCH-ID"));
}

#[test]
fn click_answer_at_an_enterprise_in_wgs84_and_gcj02() {
    let f = fixture();
    let e = a_red(f);
    let c = &e["geometry"]["coordinates"];
    let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let v = get(&format!("/api/at?lon={lon}&lat={lat}&radius=300")).json();
    assert_eq!(v["empty"], false);
    assert_eq!(v["enterprises"][0]["id"], e["properties"]["id"]);
    assert!(v["enterprises"][0]["distance_m"].as_f64().unwrap() < 0.05);
    assert_eq!(
        v["surface"]["level"], "red",
        "a red enterprise sits in a red zone"
    );
    assert_eq!(v["zone"]["level"], "red");
    assert_eq!(v["district"]["name"], e["properties"]["district"]);
    // the grid cell: the one of grid.geojson whose ring holds the point (ray casting
    // here), and its total the enterprises of enterprises.geojson inside that ring
    let grid: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.out.join("grid.geojson")).unwrap()).unwrap();
    let ring_of = |g: &serde_json::Value| -> Vec<(f64, f64)> {
        g["geometry"]["coordinates"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect()
    };
    let inside = |ring: &[(f64, f64)], x: f64, y: f64| -> bool {
        let mut odd = false;
        for w in ring.windows(2) {
            let ((x1, y1), (x2, y2)) = (w[0], w[1]);
            if (y1 > y) != (y2 > y) && x < x1 + (y - y1) * (x2 - x1) / (y2 - y1) {
                odd = !odd;
            }
        }
        odd
    };
    let cells: Vec<&serde_json::Value> = grid["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| inside(&ring_of(g), lon, lat))
        .collect();
    assert_eq!(cells.len(), 1, "one grid cell holds the enterprise");
    let ring = ring_of(cells[0]);
    let in_cell = f
        .features
        .iter()
        .filter(|x| {
            let q = &x["geometry"]["coordinates"];
            inside(&ring, q[0].as_f64().unwrap(), q[1].as_f64().unwrap())
        })
        .count() as u64;
    assert!(in_cell >= 1);
    assert_eq!(
        v["grid"]["total"].as_u64().unwrap(),
        in_cell,
        "{}",
        v["grid"]
    );
    assert_eq!(
        v["grid"]["id"], cells[0]["properties"]["id"],
        "{}",
        v["grid"]
    );
    // brute force: everything within 300 m
    let within = f
        .features
        .iter()
        .filter(|x| {
            let q = &x["geometry"]["coordinates"];
            riskmap::crs::haversine_m(lon, lat, q[0].as_f64().unwrap(), q[1].as_f64().unwrap())
                <= 300.0
        })
        .count();
    assert_eq!(v["enterprises_total"].as_u64().unwrap(), within as u64);
    let dists: Vec<f64> = v["enterprises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["distance_m"].as_f64().unwrap())
        .collect();
    assert!(dists.windows(2).all(|w| w[0] <= w[1]), "nearest first");
    // the same place clicked on a Gaode basemap
    let (gx, gy) = riskmap::crs::wgs84_to_gcj02(lon, lat);
    let g = get(&format!("/api/at?lon={gx}&lat={gy}&crs=gcj02&radius=300")).json();
    assert_eq!(g["enterprises"][0]["id"], e["properties"]["id"]);
    assert!(g["enterprises"][0]["distance_m"].as_f64().unwrap() < 0.05);
}

#[test]
fn click_answer_in_empty_countryside() {
    let f = fixture();
    // brute force: a point in the region with nothing within 500 m and outside every zone
    let (mut found, mut tries) = (None, 0);
    'grid: for i in 0..40 {
        for j in 0..40 {
            let (lon, lat) = (116.3 + i as f64 * 0.04, 36.1 + j as f64 * 0.03);
            let near = f.features.iter().any(|x| {
                let q = &x["geometry"]["coordinates"];
                riskmap::crs::haversine_m(lon, lat, q[0].as_f64().unwrap(), q[1].as_f64().unwrap())
                    <= 3000.0
            });
            tries += 1;
            if !near {
                let v = get(&format!("/api/at?lon={lon}&lat={lat}")).json();
                if !v["district"].is_null() {
                    found = Some(v);
                    break 'grid;
                }
            }
        }
    }
    let v = found.unwrap_or_else(|| panic!("no empty point in {tries} tries"));
    assert_eq!(v["empty"], true);
    assert!(v["surface"].is_null() && v["zone"].is_null());
    assert_eq!(v["enterprises"].as_array().unwrap().len(), 0);
}

#[test]
fn tiles_match_the_directory_with_etag_and_empty_tiles_are_transparent() {
    let f = fixture();
    // every tile of surface z10 in the XYZ directory is served byte for byte
    let dir = f.out.join("tiles/surface/10");
    let mut n = 0;
    for x in std::fs::read_dir(&dir).unwrap().flatten() {
        for y in std::fs::read_dir(x.path()).unwrap().flatten() {
            let xs = x.file_name().to_string_lossy().to_string();
            let ys = y.file_name().to_string_lossy().to_string();
            let r = get(&format!("/tiles/surface/10/{xs}/{ys}"));
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(
                r.body,
                std::fs::read(y.path()).unwrap(),
                "surface/10/{xs}/{ys}"
            );
            assert_eq!(r.header(header::CONTENT_TYPE).unwrap(), "image/png");
            assert!(r.header(header::CACHE_CONTROL).unwrap().contains("max-age"));
            n += 1;
        }
    }
    // (a guard that the loop ran; which tiles exist is specified in tests/tiles.rs against
    // the discs, here only that the server answers each with its file)
    assert!(n > 10);
    // conditional request
    let x = std::fs::read_dir(&dir).unwrap().flatten().next().unwrap();
    let y = std::fs::read_dir(x.path())
        .unwrap()
        .flatten()
        .next()
        .unwrap();
    let uri = format!(
        "/tiles/surface/10/{}/{}",
        x.file_name().to_string_lossy(),
        y.file_name().to_string_lossy()
    );
    let etag = get(&uri).header(header::ETAG).unwrap();
    let app = riskmap::serve::router(f.state.clone());
    let r = send_req(
        app,
        Request::get(&uri)
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    // an empty tile inside the range and region: a transparent 256 px PNG, 200
    let (tx, ty) = (0..1024u32)
        .flat_map(|x| (0..1024u32).map(move |y| (x, y)))
        .find(|&(x, y)| {
            let t = riskmap::render::tile::Tile::new(x, y, 10);
            let b = t.bounds();
            b[0] > 116.3
                && b[2] < 117.9
                && b[1] > 36.1
                && b[3] < 37.5
                && !dir.join(format!("{x}/{y}.png")).exists()
        })
        .unwrap();
    let r = get(&format!("/tiles/surface/10/{tx}/{ty}.png"));
    assert_eq!(r.status, StatusCode::OK);
    let mut d = png::Decoder::new(std::io::Cursor::new(&r.body));
    d.set_transformations(png::Transformations::EXPAND);
    let mut rd = d.read_info().unwrap();
    assert_eq!((rd.info().width, rd.info().height), (256, 256));
    let mut buf = vec![0; rd.output_buffer_size().unwrap()];
    rd.next_frame(&mut buf).unwrap();
    assert!(buf.chunks(4).all(|p| p[3] == 0), "fully transparent");
    // outside the zoom range, outside the region: 404
    assert_eq!(
        get("/tiles/surface/12/3400/1600.png").status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/tiles/surface/9/0/0.png").status,
        StatusCode::NOT_FOUND
    );
    // no @2x pyramid without retina
    assert_eq!(
        get(&format!("/tiles/surface/10/{tx}/{ty}@2x.png")).status,
        StatusCode::NOT_FOUND
    );
    // GCJ-02 pyramid exists too
    assert_eq!(
        get(&format!("/tiles/surface_gcj02/10/{tx}/{ty}.png")).status,
        StatusCode::OK
    );
}

#[test]
fn tilejson_uses_this_servers_host() {
    let app = riskmap::serve::router(fixture().state.clone());
    let r = send_req(
        app,
        Request::get("/tiles/composite.json")
            .header(header::HOST, "gis.example:9000")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["tilejson"], "3.0.0");
    assert_eq!(
        v["tiles"][0],
        "http://gis.example:9000/tiles/composite/{z}/{x}/{y}.png"
    );
    assert_eq!(v["minzoom"], 8);
    assert_eq!(v["maxzoom"], 11);
    assert_eq!(v["bounds"].as_array().unwrap().len(), 4);
    assert_eq!(get("/tiles/nope.json").status, StatusCode::BAD_REQUEST);
    // behind a portal's reverse proxy: the URL the browser uses (#31 §7)
    let app = riskmap::serve::router(fixture().state.clone());
    let r = send_req(
        app,
        Request::get("/tiles/surface.json")
            .header(header::HOST, "127.0.0.1:8080")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "gis.example.gov.cn")
            .header("x-forwarded-prefix", "/riskmap/")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(
        r.json()["tiles"][0],
        "https://gis.example.gov.cn/riskmap/tiles/surface/{z}/{x}/{y}.png"
    );
    // a header that is not a plain host or path is not put into a URL
    let app = riskmap::serve::router(fixture().state.clone());
    let r = send_req(
        app,
        Request::get("/tiles/surface.json")
            .header(header::HOST, "gis.example:9000")
            .header("x-forwarded-host", "evil.example/<script>")
            .header("x-forwarded-prefix", "//evil")
            .header("x-forwarded-proto", "javascript")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(
        r.json()["tiles"][0],
        "http://gis.example:9000/tiles/surface/{z}/{x}/{y}.png"
    );
    // a configured public URL wins
    let mut cfg = riskmap::serve::ServeConfig::default();
    cfg.public_url = Some("https://portal.example/map/".into());
    let h = axum::http::HeaderMap::new();
    assert_eq!(
        riskmap::serve::public_base(&cfg, &h),
        "https://portal.example/map"
    );
}

#[test]
fn geojson_outputs_are_served_and_nothing_else() {
    let f = fixture();
    let r = get("/geojson/districts.geojson");
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header(header::CONTENT_TYPE).unwrap(),
        "application/geo+json"
    );
    assert_eq!(
        r.body,
        std::fs::read(f.out.join("districts.geojson")).unwrap()
    );
    assert_eq!(get("/geojson/zones.gcj02.geojson").status, StatusCode::OK);
    assert_eq!(get("/geojson/nope.geojson").status, StatusCode::NOT_FOUND);
    // path traversal: names are looked up in a fixed table, never joined to a path
    for uri in [
        "/geojson/..%2F..%2F..%2Fetc%2Fpasswd.geojson",
        "/geojson/..%2Fsummary.json",
        "/geojson/%2Fetc%2Fpasswd",
        "/viewer/../../Cargo.toml",
        "/viewer/..%2F..%2FCargo.toml",
        "/viewer/%2E%2E/%2E%2E/Cargo.toml",
        "/tiles/..%2F..%2Fmbtiles%2Fsurface/10/1/1.png",
    ] {
        let r = get(uri);
        assert!(
            r.status == StatusCode::NOT_FOUND || r.status == StatusCode::BAD_REQUEST,
            "{uri}: {}",
            r.status
        );
        let text = String::from_utf8_lossy(&r.body);
        assert!(
            !text.contains("root:") && !text.contains("[package]"),
            "{uri} leaked a file"
        );
        assert!(r.json()["error"].is_string());
    }
}

#[test]
fn bad_requests_are_400_json_naming_the_parameter() {
    bad("/api/at?lon=abc&lat=36.6", "lon");
    bad("/api/at?lon=NaN&lat=36.6", "lon");
    bad("/api/at?lon=117&lat=inf", "lat");
    bad("/api/at?lon=117", "lat");
    bad("/api/at?lon=117&lat=95", "lat");
    bad("/api/at?lon=200&lat=36", "lon");
    bad("/api/at?lon=117&lat=36.6&radius=-1", "radius");
    bad("/api/at?lon=117&lat=36.6&radius=1e9", "radius");
    bad("/api/at?lon=117&lat=36.6&crs=mars", "crs");
    bad("/api/enterprises?bbox=1,2,3", "bbox");
    bad("/api/enterprises?bbox=117.1,36.6,117.0,36.7", "bbox");
    bad("/api/enterprises?bbox=117,36.7,117.1,36.6", "bbox");
    bad("/api/enterprises?bbox=100,20,120,40", "bbox");
    bad("/api/enterprises?bbox=117,36,x,37", "bbox");
    bad("/api/enterprises?limit=-5", "limit");
    bad("/api/enterprises?offset=ten", "offset");
    bad("/api/enterprises?level=purple", "level");
    bad("/api/stats?level=purple", "level");
    bad("/tiles/nosuchlayer/10/1/1.png", "layer");
    bad("/tiles/surface/ten/1/1.png", "z");
    bad("/tiles/surface/99/1/1.png", "z");
    bad("/tiles/surface/10/x/1.png", "x");
    bad("/tiles/surface/10/1/y.png", "y");
    bad("/tiles/surface/10/5000/1.png", "x");
    bad("/tiles/surface/10/1/5000.png", "y");
    bad("/tiles/surface/10/1/1.jpg", "y");
    // an over-long request target
    let long = format!("/api/enterprises?q={}", "a".repeat(5000));
    let r = get(&long);
    assert_eq!(r.status, StatusCode::URI_TOO_LONG);
    assert_eq!(r.json()["param"], "query");
    // only reads
    let app = riskmap::serve::router(fixture().state.clone());
    let r = send_req(
        app,
        Request::post("/api/stats")
            .body(Body::from("x".repeat(100)))
            .unwrap(),
    );
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[test]
fn garbage_never_breaks_the_server() {
    // a deterministic stream of odd requests; none may be a 5xx, and a good request
    // still works afterwards
    let parts = [
        "",
        "..",
        "%00",
        "%ff",
        "NaN",
        "-1",
        "99999999999999999999",
        "1e308",
        "💥",
        "a,b",
        ",,,",
        "%2e%2e%2f",
    ];
    let paths = [
        "/api/at?lon={}&lat={}",
        "/api/enterprises?bbox={},{},{},{}",
        "/tiles/{}/{}/{}/{}.png",
        "/api/enterprises/{}",
        "/geojson/{}.geojson",
        "/api/stats?level={}&district={}",
    ];
    let mut k = 7usize;
    for p in paths {
        for _ in 0..40 {
            let mut uri = String::new();
            for (i, piece) in p.split("{}").enumerate() {
                if i > 0 {
                    k = k.wrapping_mul(1103515245).wrapping_add(12345) % (1 << 31);
                    uri.push_str(&parts[k % parts.len()].replace('💥', "%F0%9F%92%A5"));
                }
                uri.push_str(piece);
            }
            let r = get(&uri);
            assert!(r.status.as_u16() < 500, "{uri}: {}", r.status);
        }
    }
    assert_eq!(get("/api/stats").status, StatusCode::OK);
}

#[test]
fn gzip_for_json_and_cors_only_when_configured() {
    let app = riskmap::serve::router(fixture().state.clone());
    let r = send_req(
        app,
        Request::get("/api/stats")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(r.header(header::CONTENT_ENCODING).as_deref(), Some("gzip"));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&r.body[..]), &mut text)
        .unwrap();
    assert!(text.contains("\"levels\""));
    // no CORS by default
    let app = riskmap::serve::router(fixture().state.clone());
    let r = send_req(
        app,
        Request::get("/api/stats")
            .header(header::ORIGIN, "https://portal.example")
            .body(Body::empty())
            .unwrap(),
    );
    assert!(r.header(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // an allowed portal gets the header, another origin does not
    let allowed = vec!["https://portal.example".to_string()];
    for (origin, ok) in [
        ("https://portal.example", true),
        ("https://evil.example", false),
    ] {
        let app = riskmap::serve::router_with_cors(fixture().state.clone(), &allowed);
        let r = send_req(
            app,
            Request::get("/api/stats")
                .header(header::ORIGIN, origin)
                .body(Body::empty())
                .unwrap(),
        );
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            r.header(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_some(),
            ok,
            "{origin}"
        );
    }
    // tiles and TileJSON are open to any page by default (#31 §7), the API is not
    for (path, open) in [
        ("/tiles/surface.json", true),
        ("/tiles/surface/8/0/0.png", true),
        ("/api/meta", false),
        ("/geojson/districts.geojson", false),
    ] {
        let app = riskmap::serve::router(fixture().state.clone());
        let r = send_req(
            app,
            Request::get(path)
                .header(header::ORIGIN, "https://portal.example")
                .body(Body::empty())
                .unwrap(),
        );
        assert_eq!(
            r.header(header::ACCESS_CONTROL_ALLOW_ORIGIN).as_deref(),
            open.then_some("*"),
            "{path}"
        );
    }
    // `cors = ["*"]` opens everything (and does not panic: tower-http refuses "*" in a list)
    let app = riskmap::serve::router_with_cors(fixture().state.clone(), &["*".to_string()]);
    let r = send_req(
        app,
        Request::get("/api/meta")
            .header(header::ORIGIN, "https://anyone.example")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(
        r.header(header::ACCESS_CONTROL_ALLOW_ORIGIN).as_deref(),
        Some("*")
    );
}

/// A handler that panics, behind the server's own stack of layers (`serve::with_layers`)
/// on a real socket: the client gets 500 with a JSON error, and the same server, on the
/// same runtime, keeps answering the next requests.
#[test]
fn a_panicking_handler_is_answered_500_and_the_server_keeps_serving() {
    use std::io::{Read, Write};
    let f = fixture();
    let live = riskmap::serve::Live::new(f.state.clone());
    let routes = axum::Router::new()
        .route(
            "/boom",
            axum::routing::get(|| async {
                if true {
                    panic!("a handler bug");
                }
                "unreachable"
            }),
        )
        .route("/ok", axum::routing::get(|| async { "ok" }));
    let app = riskmap::serve::with_layers(routes, live, &[]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    let get = |path: &str| -> (u16, String) {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf).to_string();
        let status = text.split(' ').nth(1).unwrap().parse().unwrap();
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
        (status, body)
    };
    for round in 0..3 {
        let (status, body) = get("/boom");
        assert_eq!(status, 500, "round {round}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], 500);
        assert!(
            v["error"].as_str().unwrap().contains("internal error"),
            "{v}"
        );
        // the server still answers, from the same process and runtime
        let (status, body) = get("/ok");
        assert_eq!((status, body.as_str()), (200, "ok"), "round {round}");
        let (status, body) = get("/no/such/route");
        assert_eq!(status, 404, "round {round}: {body}");
    }
}

/// The vector tileset: TileJSON with its layers, `.pbf` tiles gzipped to a client that
/// takes gzip and inflated for one that does not, with ETag and 304, the red enterprise
/// in its tile with its attributes, empty tiles as empty 200s, and the wrong extension
/// for a layer a 404 naming the right one.
#[test]
fn vector_tiles_are_served_gzipped_with_etag_and_their_tilejson() {
    use riskmap::render::mvt;
    let f = fixture();
    let tj = get("/tiles/vector.json");
    assert_eq!(tj.status, StatusCode::OK);
    let tj = tj.json();
    assert_eq!(tj["format"], "pbf");
    assert!(tj["tiles"][0]
        .as_str()
        .unwrap()
        .ends_with("/tiles/vector/{z}/{x}/{y}.pbf"));
    let ids: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    for l in ["enterprises", "zones", "areas", "grid", "districts"] {
        assert!(ids.contains(&l), "{l} in {ids:?}");
    }
    // a red enterprise, in its z14 tile
    let red = a_red(f);
    let c = red["geometry"]["coordinates"].as_array().unwrap();
    let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let t = riskmap::render::tile::tile(lon, lat, 14);
    let uri = format!("/tiles/vector/14/{}/{}.pbf", t.x, t.y);
    let app = riskmap::serve::router(f.state.clone());
    let gz = send_req(
        app,
        Request::get(&uri)
            .header(header::ACCEPT_ENCODING, "gzip, deflate")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(gz.status, StatusCode::OK);
    assert_eq!(gz.header(header::CONTENT_ENCODING).as_deref(), Some("gzip"));
    assert_eq!(
        gz.header(header::CONTENT_TYPE).as_deref(),
        Some("application/vnd.mapbox-vector-tile")
    );
    assert!(gz.body.starts_with(&[0x1f, 0x8b]));
    let plain = get(&uri);
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.header(header::CONTENT_ENCODING).is_none());
    let a = mvt::decode(&gz.body).unwrap();
    let b = mvt::decode(&plain.body).unwrap();
    assert_eq!(a, b, "the same tile either way");
    let layer = a.layers.iter().find(|l| l.name == "enterprises").unwrap();
    let key = |k: &str| layer.keys.iter().position(|x| x == k).unwrap() as u32;
    let found = layer.features.iter().find(|ft| {
        ft.tags.chunks(2).any(|kv| {
            kv[0] == key("id")
                && layer.values[kv[1] as usize].string_value.as_deref()
                    == red["properties"]["id"].as_str()
        })
    });
    let ft = found.expect("the red enterprise is in its tile");
    let value_of = |k: &str| {
        ft.tags
            .chunks(2)
            .find(|kv| kv[0] == key(k))
            .and_then(|kv| layer.values[kv[1] as usize].string_value.clone())
    };
    assert_eq!(value_of("level").as_deref(), Some("red"));
    assert_eq!(
        value_of("name").as_deref(),
        red["properties"]["name"].as_str()
    );
    assert_eq!(layer.extent, Some(4096));
    // conditional request
    let etag = plain.header(header::ETAG).unwrap();
    let app = riskmap::serve::router(f.state.clone());
    let r = send_req(
        app,
        Request::get(&uri)
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    // the wrong extension either way: 404 naming the right one
    let r = get(&format!("/tiles/vector/14/{}/{}.png", t.x, t.y));
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["error"].as_str().unwrap().contains(".pbf"));
    let r = get(&format!("/tiles/surface/10/{}/{}.pbf", t.x >> 4, t.y >> 4));
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["error"].as_str().unwrap().contains(".png"));
    // the GCJ-02 twin
    assert_eq!(
        get(&format!("/tiles/vector_gcj02/14/{}/{}.pbf", t.x, t.y)).status,
        StatusCode::OK
    );
    // outside the zoom range: 404; a bad y: 400
    assert_eq!(
        get(&format!("/tiles/vector/7/{}/{}.pbf", t.x >> 7, t.y >> 7)).status,
        StatusCode::NOT_FOUND
    );
    bad("/tiles/vector/14/1/abc.pbf", "y");
}

/// WMTS 1.0.0: the capabilities (KVP and RESTful) list every raster layer and its GCJ-02
/// twin in GoogleMapsCompatible with a ResourceURL template, the vector tileset is not
/// among them, GetTile by KVP and REST answer the XYZ file's bytes, and bad requests are
/// OWS exception reports with a 400.
#[test]
fn wmts_capabilities_and_get_tile_by_kvp_and_rest() {
    let f = fixture();
    let caps = get("/wmts?service=WMTS&request=GetCapabilities");
    assert_eq!(caps.status, StatusCode::OK);
    assert!(caps.header(header::CONTENT_TYPE).unwrap().contains("xml"));
    let text = String::from_utf8(caps.body.clone()).unwrap();
    let rest = get("/wmts/1.0.0/WMTSCapabilities.xml");
    assert_eq!(String::from_utf8(rest.body).unwrap(), text);
    let doc = roxmltree::Document::parse(&text).unwrap();
    let ows = "http://www.opengis.net/ows/1.1";
    let wmts = "http://www.opengis.net/wmts/1.0";
    let layers: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name((wmts, "Layer")))
        .collect();
    let ids: Vec<String> = layers
        .iter()
        .map(|l| {
            l.children()
                .find(|c| c.has_tag_name((ows, "Identifier")))
                .unwrap()
                .text()
                .unwrap()
                .to_string()
        })
        .collect();
    for l in [
        "surface",
        "grid",
        "areas",
        "points",
        "composite",
        "lifelines",
    ] {
        assert!(ids.contains(&l.to_string()), "{l} in {ids:?}");
        assert!(ids.contains(&format!("{l}_gcj02")), "{l}_gcj02 in {ids:?}");
    }
    assert!(!ids.iter().any(|i| i.starts_with("vector")), "{ids:?}");
    let tms: Vec<&str> = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name((wmts, "TileMatrixSet"))
                && n.parent()
                    .is_some_and(|p| p.has_tag_name((wmts, "Contents")))
        })
        .map(|n| {
            n.children()
                .find(|c| c.has_tag_name((ows, "Identifier")))
                .unwrap()
                .text()
                .unwrap()
        })
        .collect();
    assert_eq!(tms, ["GoogleMapsCompatible"]);
    let template = layers[0]
        .children()
        .find(|c| c.has_tag_name((wmts, "ResourceURL")))
        .unwrap()
        .attribute("template")
        .unwrap();
    assert!(
        template.ends_with("/{Style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.png"),
        "{template}"
    );
    // GetTile: a surface tile of the XYZ folder, by KVP and by REST
    let dir = f.out.join("tiles/surface/10");
    let x = std::fs::read_dir(&dir).unwrap().flatten().next().unwrap();
    let y = std::fs::read_dir(x.path())
        .unwrap()
        .flatten()
        .next()
        .unwrap();
    let (xs, ys) = (
        x.file_name().to_string_lossy().to_string(),
        y.file_name()
            .to_string_lossy()
            .trim_end_matches(".png")
            .to_string(),
    );
    let file = std::fs::read(y.path()).unwrap();
    let kvp = get(&format!("/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=surface&STYLE=default&TILEMATRIXSET=GoogleMapsCompatible&TILEMATRIX=10&TILEROW={ys}&TILECOL={xs}&FORMAT=image/png"));
    assert_eq!(kvp.status, StatusCode::OK);
    assert_eq!(kvp.body, file);
    let rest = get(&format!(
        "/wmts/1.0.0/surface/default/GoogleMapsCompatible/10/{ys}/{xs}.png"
    ));
    assert_eq!(rest.status, StatusCode::OK);
    assert_eq!(rest.body, file);
    // errors: OWS exception reports
    let exception = |uri: &str, code: &str, locator: &str| {
        let r = get(uri);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}");
        let t = String::from_utf8(r.body).unwrap();
        let d = roxmltree::Document::parse(&t).unwrap();
        let e = d
            .descendants()
            .find(|n| n.has_tag_name((ows, "Exception")))
            .unwrap();
        assert_eq!(e.attribute("exceptionCode"), Some(code), "{uri}: {t}");
        assert_eq!(e.attribute("locator"), Some(locator), "{uri}: {t}");
    };
    exception(
        "/wmts?SERVICE=WMTS&REQUEST=GetTile",
        "MissingParameterValue",
        "LAYER",
    );
    exception(
        "/wmts?REQUEST=GetCapabilities",
        "MissingParameterValue",
        "SERVICE",
    );
    exception(
        "/wmts?SERVICE=WMS&REQUEST=GetCapabilities",
        "InvalidParameterValue",
        "SERVICE",
    );
    exception(
        "/wmts?SERVICE=WMTS&REQUEST=GetFeatureInfo",
        "OperationNotSupported",
        "REQUEST",
    );
    exception(
        "/wmts/1.0.0/vector/default/GoogleMapsCompatible/10/0/0.png",
        "InvalidParameterValue",
        "LAYER",
    );
    exception(
        "/wmts/1.0.0/surface/default/GoogleMapsCompatible/3/0/0.png",
        "TileOutOfRange",
        "TILEMATRIX",
    );
    exception(
        "/wmts/1.0.0/surface/default/GoogleMapsCompatible/10/0/0.png",
        "TileOutOfRange",
        "TILEROW",
    );
    exception(
        "/wmts/1.0.0/surface/default/EPSG:4326/10/0/0.png",
        "InvalidParameterValue",
        "TILEMATRIXSET",
    );
    exception(
        &format!("/wmts/1.0.0/surface/default/GoogleMapsCompatible/10/{ys}/x.png"),
        "InvalidParameterValue",
        "TILECOL",
    );
}

/// OGC API – Features: landing page, conformance, collections, items against brute force
/// over enterprises.geojson (bbox, level and district filters, every page followed by its
/// next links), one item, CRS84 / EPSG:4326 (latitude first) / EPSG:3857, and 400 / 404
/// with a JSON exception.
#[test]
fn ogc_api_features_pages_filters_and_crs() {
    let f = fixture();
    let land = get("/ogcapi");
    assert_eq!(land.status, StatusCode::OK);
    let rels: Vec<String> = land.json()["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap().to_string())
        .collect();
    for r in ["self", "conformance", "data", "service-desc"] {
        assert!(rels.contains(&r.to_string()), "{r} in {rels:?}");
    }
    let conf = get("/ogcapi/conformance").json();
    assert!(conf["conformsTo"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        )));
    assert_eq!(get("/ogcapi/api").status, StatusCode::OK);
    let cols = get("/ogcapi/collections").json();
    let ids: Vec<&str> = cols["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for c in ["enterprises", "areas", "grid", "zones"] {
        assert!(ids.contains(&c), "{c} in {ids:?}");
    }
    // every page of red enterprises in a district, against brute force
    let district = f.features[0]["properties"]["district"]
        .as_str()
        .unwrap()
        .to_string();
    let want: Vec<String> = f
        .features
        .iter()
        .filter(|x| {
            x["properties"]["level"] == "red" && x["properties"]["district"] == district.as_str()
        })
        .map(|x| x["properties"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(want.len() > 3);
    let mut got = Vec::new();
    let mut next = Some(format!(
        "/ogcapi/collections/enterprises/items?level=red&district={}&limit=3",
        urlencode(&district)
    ));
    let mut pages = 0;
    while let Some(uri) = next.take() {
        let r = get(&uri);
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert_eq!(
            r.header(header::CONTENT_TYPE).as_deref(),
            Some("application/geo+json")
        );
        let v = r.json();
        assert_eq!(v["numberMatched"], want.len());
        for ft in v["features"].as_array().unwrap() {
            got.push(ft["id"].as_str().unwrap().to_string());
        }
        next = v["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| {
                let h = l["href"].as_str().unwrap();
                h[h.find("/ogcapi").unwrap()..].to_string()
            });
        pages += 1;
        assert!(pages < 1000);
    }
    assert_eq!(got, want);
    // bbox, against brute force over the points
    let (w, s, e, n) = (116.95, 36.6, 117.1, 36.7);
    let inside = f
        .features
        .iter()
        .filter(|x| {
            let c = x["geometry"]["coordinates"].as_array().unwrap();
            let (a, b) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
            a >= w && a <= e && b >= s && b <= n
        })
        .count();
    let v = get(&format!(
        "/ogcapi/collections/enterprises/items?bbox={w},{s},{e},{n}&limit=1"
    ))
    .json();
    assert_eq!(v["numberMatched"], inside);
    // the same box given in EPSG:4326 (latitude first)
    let v4326 = get(&format!(
        "/ogcapi/collections/enterprises/items?bbox={s},{w},{n},{e}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326&limit=1&crs=http://www.opengis.net/def/crs/EPSG/0/4326"
    ));
    assert_eq!(v4326.json()["numberMatched"], inside);
    assert_eq!(
        v4326
            .header(header::HeaderName::from_static("content-crs"))
            .as_deref(),
        Some("<http://www.opengis.net/def/crs/EPSG/0/4326>")
    );
    // one item, in CRS84 and EPSG:4326 (axes swapped) and EPSG:3857
    let red = a_red(f);
    let id = red["properties"]["id"].as_str().unwrap();
    let c = red["geometry"]["coordinates"].as_array().unwrap();
    let one = get(&format!(
        "/ogcapi/collections/enterprises/items/{}",
        urlencode(id)
    ))
    .json();
    assert_eq!(one["id"], id);
    assert_eq!(one["properties"]["level"], "red");
    assert_eq!(one["geometry"]["coordinates"][0], c[0]);
    let swapped = get(&format!(
        "/ogcapi/collections/enterprises/items/{}?crs=EPSG:4326",
        urlencode(id)
    ))
    .json();
    assert_eq!(swapped["geometry"]["coordinates"][0], c[1]);
    let merc = get(&format!(
        "/ogcapi/collections/enterprises/items/{}?crs=EPSG:3857",
        urlencode(id)
    ))
    .json();
    let (mx, _) = riskmap::render::tile::xy(c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    assert!((merc["geometry"]["coordinates"][0].as_f64().unwrap() - mx).abs() < 0.01);
    // polygon collections: all zones, as zones.geojson has them; an area by its adcode
    let zones: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.out.join("zones.geojson")).unwrap()).unwrap();
    let zn = zones["features"].as_array().unwrap().len();
    let v = get("/ogcapi/collections/zones/items?limit=1").json();
    assert_eq!(v["numberMatched"], zn);
    let red_zones = zones["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|z| z["properties"]["level"] == "red")
        .count();
    assert_eq!(
        get("/ogcapi/collections/zones/items?level=重大&limit=1").json()["numberMatched"],
        red_zones
    );
    let areas: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.out.join("areas.geojson")).unwrap()).unwrap();
    let a0 = &areas["features"][0];
    let code = a0["properties"]["adcode"].as_str().unwrap();
    let one = get(&format!("/ogcapi/collections/areas/items/{code}")).json();
    assert_eq!(one["properties"]["name"], a0["properties"]["name"]);
    assert_eq!(one["geometry"], a0["geometry"]);
    // errors
    let err = |uri: &str, status: StatusCode| {
        let r = get(uri);
        assert_eq!(
            r.status,
            status,
            "{uri}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        assert!(
            v["code"].as_str().is_some() && v["description"].as_str().unwrap().len() > 5,
            "{v}"
        );
    };
    err(
        "/ogcapi/collections/enterprises/items?colour=red",
        StatusCode::BAD_REQUEST,
    );
    err(
        "/ogcapi/collections/enterprises/items?limit=-1",
        StatusCode::BAD_REQUEST,
    );
    err(
        "/ogcapi/collections/enterprises/items?bbox=1,2,3",
        StatusCode::BAD_REQUEST,
    );
    err(
        "/ogcapi/collections/enterprises/items?crs=EPSG:9999",
        StatusCode::BAD_REQUEST,
    );
    err(
        "/ogcapi/collections/enterprises/items?level=purple",
        StatusCode::BAD_REQUEST,
    );
    err("/ogcapi/collections/nothing/items", StatusCode::NOT_FOUND);
    err(
        "/ogcapi/collections/enterprises/items/NO-SUCH-ID",
        StatusCode::NOT_FOUND,
    );
    err(
        "/ogcapi/collections/zones/items?industry=x",
        StatusCode::BAD_REQUEST,
    );
}

/// The MapLibre styles: the default one in the dataset's colours and the colour-blind one
/// with its pattern sprite, both drawing only layers the tileset has; the GCJ-02 variant
/// on the twin; the sprite images where its index says; the glyph ranges holding every
/// character of the district labels as distance fields; and `build`'s files the same
/// documents as the served ones (but for the host).
#[test]
fn styles_sprites_and_glyphs_for_maplibre() {
    let f = fixture();
    let tj = get("/tiles/vector.json").json();
    let source_layers: Vec<String> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    let style = |uri: &str| {
        let r = get(uri);
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{uri}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(
            r.header(header::CONTENT_TYPE).as_deref(),
            Some("application/json")
        );
        r.json()
    };
    let colors = &f.state.ds.style.colors;
    for (uri, patterned) in [
        ("/styles/style.json", false),
        ("/styles/style_colorblind.json", true),
    ] {
        let s = style(uri);
        assert_eq!(s["version"], 8);
        assert!(s["sources"]["riskmap"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/tiles/vector.json"));
        assert!(s["glyphs"]
            .as_str()
            .unwrap()
            .ends_with("/fonts/{fontstack}/{range}.pbf"));
        let layers = s["layers"].as_array().unwrap();
        for l in layers {
            let sl = l["source-layer"].as_str().unwrap();
            assert!(
                source_layers.iter().any(|x| x == sl),
                "{uri}: layer {} draws `{sl}`, not in the tileset's {source_layers:?}",
                l["id"]
            );
        }
        let ids: Vec<&str> = layers.iter().map(|l| l["id"].as_str().unwrap()).collect();
        for want in ["zones", "districts", "enterprises", "district-labels"] {
            assert!(ids.contains(&want), "{uri}: {want} in {ids:?}");
        }
        let ent = layers.iter().find(|l| l["id"] == "enterprises").unwrap();
        let m = ent["paint"]["circle-color"].as_array().unwrap();
        let red_at = m.iter().position(|v| v == "red").unwrap();
        if !patterned {
            assert_eq!(m[red_at + 1], colors.red.as_str(), "the dataset's red");
            assert!(s.get("sprite").is_none(), "no patterns, no sprite");
        } else {
            // the colour-blind style: every pattern a fill asks for is in the sprite,
            // at the place the index says, inside the PNG
            let sprite = s["sprite"].as_str().unwrap();
            assert!(sprite.ends_with("/sprites/colorblind"), "{sprite}");
            let pat = layers.iter().find(|l| l["id"] == "zones-pattern").unwrap();
            let wanted: Vec<&str> = pat["paint"]["fill-pattern"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v.as_str())
                .filter(|v| v.starts_with("riskmap-"))
                .collect();
            assert!(!wanted.is_empty());
            for ratio in ["", "@2x"] {
                let index = get(&format!("/sprites/colorblind{ratio}.json")).json();
                let png = get(&format!("/sprites/colorblind{ratio}.png"));
                assert_eq!(png.status, StatusCode::OK);
                let dec = png::Decoder::new(std::io::Cursor::new(png.body.clone()));
                let info = dec.read_info().unwrap().info().clone();
                for w in &wanted {
                    let e = &index[*w];
                    assert!(e.is_object(), "{w} in the sprite{ratio}: {index}");
                    let (x, y, wd, ht) = (
                        e["x"].as_u64().unwrap(),
                        e["y"].as_u64().unwrap(),
                        e["width"].as_u64().unwrap(),
                        e["height"].as_u64().unwrap(),
                    );
                    assert!(x + wd <= info.width as u64 && y + ht <= info.height as u64);
                    assert_eq!(
                        e["pixelRatio"].as_u64().unwrap(),
                        if ratio.is_empty() { 1 } else { 2 }
                    );
                }
            }
        }
        // GCJ-02: the same style on the twin tileset
        let g = style(&format!("{uri}?crs=gcj02"));
        assert!(g["sources"]["riskmap"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/tiles/vector_gcj02.json"));
        assert_eq!(g["layers"], s["layers"]);
        // build wrote the same document (its URLs are the config's, not this host's)
        let file = if patterned {
            "style_colorblind.json"
        } else {
            "style.json"
        };
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(f.out.join(file)).unwrap()).unwrap();
        assert_eq!(written["layers"], s["layers"], "{file} as served");
    }
    bad("/styles/style.json?crs=utm", "crs");
    assert_eq!(get("/styles/nope.json").status, StatusCode::NOT_FOUND);
    assert_eq!(get("/styles/style.css").status, StatusCode::NOT_FOUND);
    assert_eq!(get("/sprites/style.json").status, StatusCode::NOT_FOUND);
    assert_eq!(get("/sprites/colorblind.svg").status, StatusCode::NOT_FOUND);

    // glyphs: every character of every district label, as a distance field, from the range
    // MapLibre asks for (whatever fontstack it names)
    let mut chars: Vec<char> = f
        .state
        .ds
        .districts
        .districts
        .iter()
        .flat_map(|d| d.name.chars())
        .collect();
    chars.sort_unstable();
    chars.dedup();
    assert!(chars.len() > 5);
    for c in chars {
        let start = c as u32 / 256 * 256;
        let uri = format!(
            "/fonts/Noto%20Sans%20Regular,Arial/{start}-{}.pbf",
            start + 255
        );
        let r = get(&uri);
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        let g = riskmap::render::glyphs::decode(&r.body).unwrap();
        let gl = g.stacks[0]
            .glyphs
            .iter()
            .find(|x| x.id == c as u32)
            .unwrap_or_else(|| panic!("{c} in {uri}"));
        let bm = gl.bitmap.as_ref().expect("a bitmap");
        assert_eq!(bm.len() as u32, (gl.width + 6) * (gl.height + 6), "{c}");
        assert!(
            bm.iter().any(|&v| v > 192),
            "{c}: some pixels inside the outline"
        );
        // and build wrote that range beside the style
        let written = f.out.join(format!(
            "fonts/{}/{start}-{}.pbf",
            riskmap::render::mapstyle::FONTSTACK,
            start + 255
        ));
        assert!(written.exists(), "{}", written.display());
    }
    bad("/fonts/x/1-256.pbf", "range");
    bad("/fonts/x/0-100.pbf", "range");
    bad("/fonts/x/65536-65791.pbf", "range");
}
