//! City lifelines (#27 §2): the lines table as owners send it (GBK, CRLF, a WKT column,
//! kinds, classes and voltages in their own words), every reject with its line and
//! column, the published widths, and the sample's zones, hits and segments against a
//! brute force over every (enterprise, lifeline) pair with geo's own distance in the
//! same metric frame. (Distances and buffers against shapely + pyproj:
//! tests/oracles/lifelines.py, run by .ci/run.)

use geo::{Distance, Euclidean, MapCoords};
use riskmap::analyze::lifelines::{assess, LifelineConfig, TOLERANCE_M};
use riskmap::analyze::Frame;
use riskmap::config::Config;
use riskmap::crs::Crs;
use riskmap::ingest::RejectKind;
use riskmap::model::{GasPressure, LifelineKind};
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

const REGISTER: &str = "企业编号,企业名称,经度,纬度,风险等级,影响半径\n\
E1,贴着燃气管道的企业,117.005,36.7000,重大,50\n\
E2,远处的企业,117.500,36.9000,一般,50\n";

const LINES: &str = "编号,名称,类型,压力级制,电压等级,管径,WKT,坐标系\n\
G1,中压燃气1,燃气管道,中压A,,DN300,\"LINESTRING (117.00 36.70, 117.01 36.70)\",WGS84\n\
G2,次高压燃气,次高压燃气管道,,,,\"LINESTRING (117.02 36.70, 117.03 36.71)\",\n\
P1,500kV线,高压输电线路,,500kV,,\"MULTILINESTRING ((117.0 36.65, 117.05 36.65),(117.05 36.65, 117.05 36.60))\",\n\
P2,无电压线,架空线,,,,\"LINESTRING (117.1 36.6, 117.11 36.61)\",\n\
O1,原油管道,输油管道,,,Φ325,\"LINESTRING (117.2 36.7, 117.25 36.72)\",GCJ-02\n\
X1,公路,公路,,,,\"LINESTRING (117 36, 117.1 36.1)\",\n\
X2,阀门,燃气管道,,,,POINT (117 36.7),\n\
X3,投影,供水,,,,\"LINESTRING (500000 4000000, 500100 4000000)\",\n\
G1,重复,供热,,,,\"LINESTRING (117 36.7, 117.01 36.7)\",\n\
X4,压力写错,燃气管道,超高压C,,,\"LINESTRING (117 36.7, 117.01 36.7)\",\n\
X5,空几何,供水,,,,,\n\
P3,二十千伏,电力线路,,20kV,,\"LINESTRING (117.1 36.62, 117.11 36.63)\",\n";

#[test]
fn lifelines_from_a_gbk_crlf_csv_with_wkt_and_every_reject_named() {
    let d = tempfile::tempdir().unwrap();
    let mut c = Config::default();
    c.enterprises.path = Some(write_gbk_crlf(d.path(), "企业.csv", REGISTER));
    c.lifelines.path = Some(write_gbk_crlf(d.path(), "管线.csv", LINES));
    c.boundaries.path = Some(PathBuf::from(DISTRICTS));
    c.boundaries.crs = Some(Crs::Gcj02);
    let ds = load(&c).unwrap();
    let ids: Vec<&str> = ds.lifelines.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["G1", "G2", "P1", "P2", "O1", "P3"]);
    let l = |id: &str| ds.lifelines.iter().find(|l| l.id == id).unwrap();
    assert_eq!(l("G1").kind, LifelineKind::Gas);
    assert_eq!(l("G1").pressure, Some(GasPressure::MediumA));
    // the class from the type text; without one, a warning
    assert_eq!(l("G2").pressure, Some(GasPressure::SubHighA));
    assert_eq!(l("P1").line.0.len(), 2, "both parts of the MultiLineString");
    assert_eq!(l("P1").voltage_kv, Some(500.0));
    assert!(
        l("P2").warnings.iter().any(|w| w.contains("电压")),
        "{:?}",
        l("P2").warnings
    );
    assert_eq!(l("O1").kind, LifelineKind::Pipeline);
    // GCJ-02 converted to WGS84 on the way in
    let p = l("O1").line.0[0].0[0];
    let (gx, gy) = Crs::Gcj02.from_wgs84(p.x, p.y);
    assert!((gx - 117.2).abs() < 1e-6 && (gy - 36.7).abs() < 1e-6);
    assert!((p.x - 117.2).abs() > 1e-4, "converted, not copied");
    // the published widths, each side, from the body's edge
    let z = LifelineConfig::default();
    let zone = |id: &str| z.zone_of(l(id));
    assert_eq!(
        zone("G1").protect_m,
        0.15 + 0.5,
        "DN300: 0.15 m to the wall, then 0.5 m"
    );
    assert_eq!(zone("G1").control_m, Some(0.15 + 5.0));
    assert_eq!(zone("G2").protect_m, 1.5);
    assert_eq!(zone("G2").control_m, Some(15.0));
    assert_eq!(zone("P1").protect_m, 20.0);
    assert_eq!(zone("P1").control_m, None);
    assert_eq!(zone("P2").protect_m, 5.0, "no voltage: the lowest band");
    assert_eq!(
        zone("P3").protect_m,
        10.0,
        "20 kV lies between the bands: the wider"
    );
    assert_eq!(zone("O1").protect_m, 0.1625 + 5.0);
    assert_eq!(zone("O1").control_m, Some(0.1625 + 200.0));
    // every rejected row: file, line, column, reason
    let f = c.lifelines.path.as_ref().unwrap().display().to_string();
    let expect = [
        ("7", "类型", RejectKind::UnknownValue),
        ("8", "WKT", RejectKind::NoGeometry),
        ("9", "WKT", RejectKind::NoGeometry),
        ("10", "编号", RejectKind::DuplicateId),
        ("11", "压力级制", RejectKind::UnknownValue),
        ("12", "WKT", RejectKind::NoGeometry),
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
    // E1 lies on G1 (at 117.005): inside its protection zone; E2 near no line
    let frame = Frame::new(&ds);
    let ll = assess(&ds, &frame, &z);
    let e1 = ds.enterprises.iter().position(|e| e.id == "E1").unwrap();
    let h = ll.hits[e1]
        .iter()
        .find(|h| ds.lifelines[h.lifeline].id == "G1")
        .unwrap();
    assert!(h.in_protect && h.distance_m < 0.05, "{h:?}");
    let e2 = ds.enterprises.iter().position(|e| e.id == "E2").unwrap();
    assert!(ll.hits[e2].is_empty());
}

#[test]
fn the_sample_against_a_brute_force_over_every_pair() {
    let d = tempfile::tempdir().unwrap();
    let mut c = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/riskmap.toml"
    )))
    .unwrap();
    c.output.dir = d.path().to_path_buf();
    let ds = load(&c).unwrap();
    assert!(ds.lifelines.len() >= 20, "{}", ds.lifelines.len());
    let frame = Frame::new(&ds);
    let cfg = c.lifeline_zones.clone();
    let ll = assess(&ds, &frame, &cfg);
    let project = |m: &geo::MultiLineString<f64>| {
        m.map_coords(|p| {
            let (x, y) = frame.utm.forward(p.x, p.y);
            geo::Coord { x, y }
        })
    };
    let lines: Vec<geo::MultiLineString<f64>> =
        ds.lifelines.iter().map(|l| project(&l.line)).collect();
    let mut pairs = 0;
    let mut near = vec![[0u32; 5]; lines.len()];
    for (i, &(x, y)) in frame.xy.iter().enumerate() {
        let p = geo::Point::new(x, y);
        let mut want = Vec::new();
        for (li, m) in lines.iter().enumerate() {
            let dist = Euclidean.distance(&p, m);
            let z = &ll.zones[li];
            let inp = dist <= z.protect_m + TOLERANCE_M;
            let inc = z.control_m.is_some_and(|c| dist <= c + TOLERANCE_M);
            let reach = dist <= ds.radius_m(i);
            if inp || inc || reach {
                want.push((li, dist, inp, inc, reach));
            }
            if dist <= cfg.near_m + TOLERANCE_M {
                let slot = riskmap::model::level_slot(ds.grades[i].level);
                near[li][slot] += 1;
            }
        }
        let mut got: Vec<_> = ll.hits[i]
            .iter()
            .map(|h| {
                (
                    h.lifeline,
                    h.distance_m,
                    h.in_protect,
                    h.in_control,
                    h.reached,
                )
            })
            .collect();
        got.sort_by_key(|h| h.0);
        assert_eq!(
            got.len(),
            want.len(),
            "enterprise {}: {got:?} vs {want:?}",
            ds.enterprises[i].id
        );
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(
                (g.0, g.2, g.3, g.4),
                (w.0, w.2, w.3, w.4),
                "{}",
                ds.enterprises[i].id
            );
            assert!((g.1 - w.1).abs() < 1e-6, "{g:?} vs {w:?}");
        }
        pairs += want.len();
    }
    assert!(
        pairs > 100,
        "the sample's lines pass by enterprises: {pairs}"
    );
    for (li, st) in ll.lines.iter().enumerate() {
        assert_eq!(st.near, near[li], "{}", ds.lifelines[li].id);
        // the segments add up to the line
        let len: f64 = ll
            .segments
            .iter()
            .filter(|s| s.lifeline == li)
            .map(|s| s.length_m)
            .sum();
        let whole: f64 = lines[li]
            .0
            .iter()
            .map(|l| geo::Length::length(&Euclidean, l))
            .sum();
        assert!(
            (len - whole).abs() < 1e-6 * whole.max(1.0),
            "{len} vs {whole}"
        );
        assert!((st.length_m - whole).abs() < 1e-6 * whole.max(1.0));
    }
    // the ranking: 1..n, the riskiest first (就高: a segment with a red near ranks above
    // every one without)
    let r = ll.ranking();
    assert_eq!(
        r.iter().map(|&i| ll.segments[i].rank).collect::<Vec<_>>(),
        (1..=ll.segments.len()).collect::<Vec<_>>()
    );
    let first_without_red = r.iter().position(|&i| ll.segments[i].near[0] == 0);
    if let Some(k) = first_without_red {
        assert!(r[k..].iter().all(|&i| ll.segments[i].near[0] == 0));
    }
    // a segment's counts by brute force too (the first ten of the ranking)
    for &si in r.iter().take(10) {
        let s = &ll.segments[si];
        let seg = project(&geo::MultiLineString::new(vec![s.line.clone()]));
        let mut n = [0u32; 5];
        for (i, &(x, y)) in frame.xy.iter().enumerate() {
            if Euclidean.distance(&geo::Point::new(x, y), &seg) <= cfg.near_m + TOLERANCE_M {
                let slot = riskmap::model::level_slot(ds.grades[i].level);
                n[slot] += 1;
            }
        }
        assert_eq!(
            s.near, n,
            "segment {}-{}",
            ds.lifelines[s.lifeline].id, s.ordinal
        );
    }
}

fn decode(bytes: &[u8]) -> Vec<u8> {
    let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
    d.set_transformations(png::Transformations::EXPAND);
    let mut r = d.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    buf
}

/// The lifelines raster layer where the tile math says: the line in its kind's colour,
/// the control zone's faint band 45 m from the pipeline (control 200 m), nothing 270 m
/// away; in the WGS-84 and the GCJ-02 pyramid.
#[test]
fn the_lifelines_layer_draws_the_line_and_its_zones_where_they_are() {
    use riskmap::render::tile::{pixel, tile};
    use riskmap::render::{Layer, Renderer};
    let d = tempfile::tempdir().unwrap();
    let mut c = Config::default();
    c.enterprises.path = Some(write_gbk_crlf(d.path(), "企业.csv", REGISTER));
    c.lifelines.path = Some(write_gbk_crlf(d.path(), "管线.csv", LINES));
    c.boundaries.path = Some(PathBuf::from(DISTRICTS));
    c.boundaries.crs = Some(Crs::Gcj02);
    let ds = load(&c).unwrap();
    let an = riskmap::analyze::run(&ds, &c.analyze_params()).unwrap();
    let r = Renderer::new(&ds, &an, &ds.style);
    let o1 = ds.lifelines.iter().find(|l| l.id == "O1").unwrap();
    let (a, b) = (o1.line.0[0].0[0], o1.line.0[0].0[1]);
    let mid = ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
    // the line runs east-north-east at about 26°: 50 m north is 45 m from it, 300 m north 270 m
    let north = |m: f64| (mid.0, mid.1 + m / 111_195.0);
    for crs in [Crs::Wgs84, Crs::Gcj02] {
        let z = 16u8;
        let px_of = |p: (f64, f64)| {
            let (lon, lat) = crs.from_wgs84(p.0, p.1);
            let t = tile(lon, lat, z);
            let (gx, gy) = pixel(lon, lat, z, 256);
            let img = r
                .render(Layer::Lifelines, t, 256, crs)
                .unwrap()
                .map(|b| decode(&b));
            let (x, y) = (
                (gx - t.x as f64 * 256.0) as usize,
                (gy - t.y as f64 * 256.0) as usize,
            );
            img.map(|i| {
                let k = (y * 256 + x) * 4;
                [i[k], i[k + 1], i[k + 2], i[k + 3]]
            })
            .unwrap_or([0; 4])
        };
        let on = px_of(mid);
        // #6d4c41, opaque
        assert!(
            on[3] > 150 && (on[0] as i32 - 0x6d).abs() < 40 && (on[2] as i32 - 0x41).abs() < 40,
            "{crs}: {on:?} on the pipeline"
        );
        let band = px_of(north(50.0));
        assert!(
            band[3] > 10 && band[3] < 80,
            "{crs}: {band:?} in the control zone"
        );
        assert_eq!(px_of(north(300.0))[3], 0, "{crs}: outside every zone");
    }
    // the layer's extent covers the lines and their zones
    let bb = r.content_bbox(Layer::Lifelines).unwrap();
    assert!(bb[0] < mid.0 && mid.0 < bb[2] && bb[1] < mid.1 && mid.1 < bb[3]);
}
