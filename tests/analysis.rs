//! The four-color distribution: areas and grid against brute-force oracles, grid cell
//! areas, zones of lone and paired enterprises, global classification, exposure.

use geo::{Contains, GeodesicArea, Validation};
use riskmap::analyze;
use riskmap::config::{Config, GridKind};
use riskmap::crs::haversine_m;
use riskmap::model::Level;
use riskmap::pipeline::{load, Dataset};
use std::fmt::Write as _;
use std::path::Path;

/// Deterministic pseudo-random numbers.
struct Lcg(u64);
impl Lcg {
    fn f(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A register of `pts` (lon, lat, level word).
fn register(dir: &Path, pts: &[(f64, f64, &str)]) -> Config {
    let mut t = String::from("id,name,lon,lat,level\n");
    for (i, (x, y, l)) in pts.iter().enumerate() {
        writeln!(t, "E{i},企业{i},{x},{y},{l}").unwrap();
    }
    let mut c = Config::default();
    c.enterprises.path = Some(write(dir, "reg.csv", &t));
    c.output.dir = dir.join("out");
    c
}

/// Four quadrant districts sharing borders at lon 117.0 and lat 36.6, in WGS84.
fn quadrants(dir: &Path) -> std::path::PathBuf {
    let sq = |name: &str, w: f64, s: f64, e: f64, n: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{"name":"{name}","adcode":"{name}"}},"geometry":{{"type":"Polygon","coordinates":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}}}"#
        )
    };
    let fc = format!(
        r#"{{"type":"FeatureCollection","features":[{},{},{},{}]}}"#,
        sq("SW", 116.8, 36.4, 117.0, 36.6),
        sq("SE", 117.0, 36.4, 117.2, 36.6),
        sq("NW", 116.8, 36.6, 117.0, 36.8),
        sq("NE", 117.0, 36.6, 117.2, 36.8)
    );
    write(dir, "quad.geojson", &fc)
}

/// Independent point-in-square test (edges inclusive), first polygon wins.
fn oracle_quadrant(x: f64, y: f64) -> Option<&'static str> {
    let q = [
        ("SW", 116.8, 36.4, 117.0, 36.6),
        ("SE", 117.0, 36.4, 117.2, 36.6),
        ("NW", 116.8, 36.6, 117.0, 36.8),
        ("NE", 117.0, 36.6, 117.2, 36.8),
    ];
    q.iter()
        .find(|(_, w, s, e, n)| x >= *w && x <= *e && y >= *s && y <= *n)
        .map(|q| q.0)
}

const LEVELS: [&str; 5] = ["重大", "较大", "一般", "低", ""];

#[test]
fn area_counts_equal_brute_force_with_points_on_shared_borders() {
    let d = tempfile::tempdir().unwrap();
    let mut r = Lcg(42);
    let mut pts: Vec<(f64, f64, &str)> = (0..3000)
        .map(|_| {
            (
                116.8 + 0.4 * r.f(),
                36.4 + 0.4 * r.f(),
                LEVELS[(r.f() * 5.0) as usize],
            )
        })
        .collect();
    // exactly on the shared borders and the shared corner
    for k in 0..40 {
        let t = 36.41 + 0.38 * k as f64 / 40.0;
        pts.push((117.0, t, LEVELS[k % 5]));
        pts.push((116.81 + 0.38 * k as f64 / 40.0, 36.6, LEVELS[(k + 2) % 5]));
    }
    pts.push((117.0, 36.6, "重大"));
    let mut c = register(d.path(), &pts);
    c.boundaries.path = Some(quadrants(d.path()));
    let ds = load(&c).unwrap();
    assert_eq!(ds.enterprises.len(), pts.len());
    let a = analyze::run(&ds, &c.analyze_params()).unwrap();
    let areas = a.areas.unwrap();
    let mut want: std::collections::BTreeMap<&str, [usize; 5]> = Default::default();
    for (x, y, l) in &pts {
        let q = oracle_quadrant(*x, *y).unwrap();
        want.entry(q).or_default()[LEVELS.iter().position(|w| w == l).unwrap()] += 1;
    }
    let total: usize = areas.iter().map(|x| x.total()).sum();
    assert_eq!(total, pts.len(), "every enterprise counted exactly once");
    for x in &areas {
        assert_eq!(x.counts, want[x.name.as_str()], "{}", x.name);
        // 0.2° × 0.2° at 36.5°N ≈ 22.2 km × 17.9 km
        assert!(
            (x.area_km2 - 397.6).abs() < 3.0,
            "{} {}",
            x.name,
            x.area_km2
        );
        assert_eq!(
            x.level.level,
            Some(Level::Red),
            "{}: {}",
            x.name,
            x.level.reason
        );
        assert!(
            x.level.reason.starts_with("highest: "),
            "{}",
            x.level.reason
        );
    }
}

#[test]
fn grid_counts_equal_brute_force_and_cells_keep_their_area() {
    let d = tempfile::tempdir().unwrap();
    let mut r = Lcg(7);
    // spread over all of Jinan's extent
    let pts: Vec<(f64, f64, &str)> = (0..4000)
        .map(|_| {
            (
                116.2 + 1.8 * r.f(),
                36.0 + 1.55 * r.f(),
                LEVELS[(r.f() * 5.0) as usize],
            )
        })
        .collect();
    let c = register(d.path(), &pts);
    let ds = load(&c).unwrap();
    let a = analyze::run(&ds, &c.analyze_params()).unwrap();
    let cells = a.grid.unwrap();
    let total: usize = cells.iter().map(|c| c.counts.iter().sum::<usize>()).sum();
    assert_eq!(total, pts.len());
    let utm = a.frame.utm;
    for cell in &cells {
        // brute force: every enterprise against this cell, in the cell's own UTM square
        let (x0, y0): (f64, f64) = {
            let id = cell.id.trim_start_matches('E');
            let (e, n) = id.split_once("_N").unwrap();
            (e.parse().unwrap(), n.parse().unwrap())
        };
        let mut want = [0usize; 5];
        for (x, y, l) in &pts {
            let (ux, uy) = utm.forward(*x, *y);
            if ux >= x0 && ux < x0 + 1000.0 && uy >= y0 && uy < y0 + 1000.0 {
                want[LEVELS.iter().position(|w| w == l).unwrap()] += 1;
            }
        }
        assert_eq!(cell.counts, want, "cell {}", cell.id);
        let true_km2 = cell.shape.geodesic_area_unsigned() / 1e6;
        // README: "true area within 0.1 % of the requested size"
        assert!(
            (true_km2 - 1.0).abs() < 0.001,
            "cell {} is {true_km2} km²",
            cell.id
        );
    }
    // H3 alternative: every enterprise is inside the hexagon it is counted in
    let mut c2 = c.clone();
    c2.grid.kind = GridKind::H3;
    let ds2 = load(&c2).unwrap();
    let hex = analyze::run(&ds2, &c2.analyze_params())
        .unwrap()
        .grid
        .unwrap();
    assert_eq!(
        hex.iter()
            .map(|c| c.counts.iter().sum::<usize>())
            .sum::<usize>(),
        pts.len()
    );
    for cell in hex.iter().take(300) {
        let boundary_km2 = cell.shape.geodesic_area_unsigned() / 1e6;
        assert!(
            (cell.area_km2 - boundary_km2).abs() / boundary_km2 < 0.01,
            "{} vs {boundary_km2}",
            cell.area_km2
        );
        assert!(
            cell.area_km2 > 0.4 && cell.area_km2 < 1.1,
            "{}",
            cell.area_km2
        );
    }
    let mut r = Lcg(7);
    for _ in 0..500 {
        let (x, y) = (116.2 + 1.8 * r.f(), 36.0 + 1.55 * r.f());
        let _ = r.f();
        let cell = hex
            .iter()
            .find(|c| c.shape.contains(&geo::Point::new(x, y)));
        assert!(cell.is_some(), "({x}, {y}) is in no hexagon");
    }
}

fn zones_of(ds: &Dataset, c: &Config) -> Vec<analyze::zones::Zone> {
    analyze::run(ds, &c.analyze_params())
        .unwrap()
        .zones
        .unwrap()
}

fn check_valid(z: &analyze::zones::Zone, res: f64) {
    assert!(z.shape.is_valid(), "invalid zone polygon");
    let ext = &z.shape.exterior().0;
    assert_eq!(ext.first(), ext.last(), "ring not closed");
    let signed: f64 = ext
        .windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum::<f64>()
        / 2.0;
    assert!(signed > 0.0, "exterior ring must be counter-clockwise");
    assert!(
        z.area_km2 * 1e6 >= res * res,
        "sliver under one raster cell"
    );
}

#[test]
fn lone_red_enterprise_gives_one_red_disc() {
    let d = tempfile::tempdir().unwrap();
    let ds = load(&register(d.path(), &[(117.0, 36.65, "重大")])).unwrap();
    let z = zones_of(&ds, &Config::default());
    assert_eq!(
        z.len(),
        1,
        "one zone and nothing else: {:?}",
        z.iter().map(|z| (z.level, z.area_km2)).collect::<Vec<_>>()
    );
    assert_eq!(z[0].level, Level::Red);
    let want = std::f64::consts::PI * 1.0; // r = 1000 m
    assert!(
        (z[0].area_km2 - want).abs() / want < 0.05,
        "{} km²",
        z[0].area_km2
    );
    assert_eq!(z[0].enterprises, vec![0]);
    check_valid(&z[0], 50.0);
    // its centre is the enterprise
    assert!(z[0].shape.contains(&geo::Point::new(117.0, 36.65)));
    // the Gaussian kernel (cut at the radius) gives the same single disc
    let mut c = register(d.path(), &[(117.0, 36.65, "重大")]);
    c.surface.kernel = riskmap::config::Kernel::Gaussian;
    let z = zones_of(&load(&c).unwrap(), &c);
    assert_eq!(z.len(), 1);
    assert!(
        (z[0].area_km2 - want).abs() / want < 0.05,
        "{}",
        z[0].area_km2
    );
}

#[test]
fn lone_blue_is_blue_and_far_apart_enterprises_give_separate_zones() {
    let d = tempfile::tempdir().unwrap();
    let ds = load(&register(
        d.path(),
        &[
            (117.0, 36.65, "低"),
            (117.3, 36.65, "重大"),
            (117.6, 36.65, "重大"),
        ],
    ))
    .unwrap();
    let z = zones_of(&ds, &Config::default());
    let levels: Vec<Level> = z.iter().map(|z| z.level).collect();
    assert_eq!(
        levels.iter().filter(|l| **l == Level::Red).count(),
        2,
        "{levels:?}"
    );
    assert_eq!(
        levels.iter().filter(|l| **l == Level::Blue).count(),
        1,
        "{levels:?}"
    );
    assert_eq!(z.len(), 3, "{levels:?}");
    let blue = z.iter().find(|z| z.level == Level::Blue).unwrap();
    // r = 100 m on a 50 m raster: the outline is within half a cell of the true circle
    let (lo, hi) = (
        std::f64::consts::PI * 0.075f64.powi(2),
        std::f64::consts::PI * 0.125f64.powi(2),
    );
    assert!(
        blue.area_km2 > lo && blue.area_km2 < hi,
        "{}",
        blue.area_km2
    );
    assert!(blue.shape.contains(&geo::Point::new(117.0, 36.65)));
    for zz in &z {
        check_valid(zz, 50.0);
        assert_eq!(zz.enterprises.len(), 1);
    }
}

#[test]
fn overlapping_orange_discs_add_up_to_red() {
    let d = tempfile::tempdir().unwrap();
    // a lone orange disc stays orange
    let z = zones_of(
        &load(&register(d.path(), &[(117.0, 36.65, "较大")])).unwrap(),
        &Config::default(),
    );
    assert_eq!(
        z.iter().map(|z| z.level).collect::<Vec<_>>(),
        vec![Level::Orange]
    );
    // two orange enterprises 200 m apart (radius 500 m) make a red core
    let dx = 200.0 / (111_320.0 * 36.65f64.to_radians().cos());
    let z = zones_of(
        &load(&register(
            d.path(),
            &[(117.0, 36.65, "较大"), (117.0 + dx, 36.65, "较大")],
        ))
        .unwrap(),
        &Config::default(),
    );
    let red: Vec<_> = z.iter().filter(|z| z.level == Level::Red).collect();
    assert_eq!(
        red.len(),
        1,
        "{:?}",
        z.iter().map(|z| (z.level, z.area_km2)).collect::<Vec<_>>()
    );
    assert_eq!(red[0].enterprises, vec![0, 1]);
    assert!(z.iter().any(|z| z.level == Level::Orange));
    // with combine = max they never add up
    let mut c = register(
        d.path(),
        &[(117.0, 36.65, "较大"), (117.0 + dx, 36.65, "较大")],
    );
    c.surface.combine = riskmap::config::Combine::Max;
    let z = zones_of(&load(&c).unwrap(), &c);
    assert!(z.iter().all(|z| z.level == Level::Orange));
}

#[test]
fn classification_is_global_across_windows() {
    let d = tempfile::tempdir().unwrap();
    let mut r = Lcg(3);
    let pts: Vec<(f64, f64, &str)> = (0..300)
        .map(|_| {
            (
                116.9 + 0.2 * r.f(),
                36.6 + 0.1 * r.f(),
                LEVELS[(r.f() * 4.0) as usize],
            )
        })
        .collect();
    let whole = load(&register(d.path(), &pts)).unwrap();
    let sw =
        analyze::surface::build(&whole, &analyze::Frame::new(&whole), &Default::default()).unwrap();
    // the same enterprises, with the map window cut at lon 117.0 on either side
    for bbox in [[116.85, 36.55, 117.0, 36.75], [117.0, 36.55, 117.15, 36.75]] {
        let mut c = register(d.path(), &pts);
        c.region.bbox = Some(bbox);
        c.region.tolerance_m = 0.0;
        let mut ds = load(&c).unwrap();
        // keep every enterprise (those outside the window still radiate into it)
        ds.enterprises = whole.enterprises.clone();
        ds.grades = whole.grades.clone();
        let f = analyze::Frame {
            utm: analyze::Frame::new(&whole).utm,
            xy: analyze::Frame::new(&whole).xy,
        };
        let s = analyze::surface::build(&ds, &f, &c.surface).unwrap();
        let mut compared = 0;
        for row in 0..s.height {
            for col in 0..s.width {
                let (x, y) = s.centre(col, row);
                if let Some((c2, r2)) = sw.cell_at(x, y) {
                    assert_eq!(
                        s.classes[row * s.width + col],
                        sw.classes[r2 * sw.width + c2],
                        "cell at {x},{y}"
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared > 10_000, "{compared}");
    }
}

#[test]
fn school_near_a_red_enterprise_is_exposed() {
    let d = tempfile::tempdir().unwrap();
    let mut c = register(d.path(), &[(117.0, 36.65, "重大")]);
    let m = 111_320.0 * 36.65f64.to_radians().cos();
    let sites = format!(
        "名称,类型,经度,纬度,人数\n近的学校,学校,{},36.65,800\n远的学校,学校,{},36.65,900\n",
        117.0 + 200.0 / m,
        117.0 + 1500.0 / m
    );
    c.sites.path = Some(write(d.path(), "sites.csv", &sites));
    let ds = load(&c).unwrap();
    let a = analyze::run(&ds, &c.analyze_params()).unwrap();
    let ex = a.exposure.unwrap();
    assert_eq!(ex.len(), 1, "only the near school");
    let x = &ex[0];
    assert_eq!(ds.sites[x.site].name, "近的学校");
    assert_eq!(x.zone_level, Some(Level::Red));
    assert_eq!(x.level, Level::Red);
    let want = haversine_m(117.0, 36.65, ds.sites[x.site].lon, 36.65);
    assert!((want - 200.0).abs() < 2.0);
    assert!(
        (x.nearest[0].distance_m - want).abs() < 1.0,
        "{} vs {want}",
        x.nearest[0].distance_m
    );
    assert_eq!(x.covering.len(), 1);
}

#[test]
fn streets_level_and_score_rule() {
    let d = tempfile::tempdir().unwrap();
    let mut r = Lcg(11);
    let pts: Vec<(f64, f64, &str)> = (0..500)
        .map(|_| {
            (
                116.8 + 0.4 * r.f(),
                36.4 + 0.4 * r.f(),
                LEVELS[(r.f() * 4.0) as usize],
            )
        })
        .collect();
    let mut c = register(d.path(), &pts);
    c.boundaries.path = Some(quadrants(d.path()));
    // the quadrants again, as a second (street) level, graded by score
    c.areas.streets = Some(quadrants(d.path()));
    c.areas.level.rule = riskmap::config::AreaRule::Score;
    let ds = load(&c).unwrap();
    let a = analyze::run(&ds, &c.analyze_params()).unwrap();
    let (areas, streets) = (a.areas.unwrap(), a.streets.unwrap());
    assert_eq!(streets.len(), 4);
    assert_eq!(areas.len(), streets.len());
    for (x, y) in areas.iter().zip(&streets) {
        assert_eq!(x.counts, y.counts);
        let weighted: f64 = x.counts[0] as f64 * 8.0
            + x.counts[1] as f64 * 4.0
            + x.counts[2] as f64 * 2.0
            + x.counts[3] as f64;
        let score = weighted / x.area_km2;
        assert!((x.level.score.unwrap() - score).abs() < 1e-9);
        let want = if score >= 2.0 {
            Level::Red
        } else if score >= 1.0 {
            Level::Orange
        } else if score >= 0.5 {
            Level::Yellow
        } else {
            Level::Blue
        };
        assert_eq!(x.level.level, Some(want), "{}", x.level.reason);
        assert!(x.level.reason.starts_with("score "));
    }
}

#[test]
fn surface_geotiff_reads_back_georeferenced() {
    use tiff::decoder::{Decoder, DecodingResult};
    use tiff::tags::Tag;
    let d = tempfile::tempdir().unwrap();
    let ds = load(&register(
        d.path(),
        &[(117.0, 36.65, "重大"), (117.05, 36.66, "低")],
    ))
    .unwrap();
    let a = analyze::run(&ds, &Default::default()).unwrap();
    let s = a.surface.unwrap();
    let bytes = riskmap::export::geotiff::encode(&s).unwrap();
    let mut dec = Decoder::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(dec.dimensions().unwrap(), (s.width as u32, s.height as u32));
    let scale = dec.get_tag_f64_vec(Tag::ModelPixelScaleTag).unwrap();
    assert_eq!(&scale[..2], &[50.0, 50.0]);
    let tie = dec.get_tag_f64_vec(Tag::ModelTiepointTag).unwrap();
    let keys = dec.get_tag_u16_vec(Tag::GeoKeyDirectoryTag).unwrap();
    assert!(
        keys.windows(4).any(|k| k == [3072, 0, 1, 32650]),
        "EPSG:32650 in {keys:?}"
    );
    let DecodingResult::U8(px) = dec.read_image().unwrap() else {
        panic!("not 8-bit")
    };
    // the pixel under the red enterprise, found from the georeferencing alone, is class 4
    let (x, y) = riskmap::utm::Utm::new(50, true).forward(117.0, 36.65);
    let col = ((x - tie[3]) / 50.0).floor() as usize;
    let row = ((tie[4] - y) / 50.0).floor() as usize;
    assert_eq!(px[row * s.width + col], 4);
    let (x, y) = riskmap::utm::Utm::new(50, true).forward(117.05, 36.66);
    let col = ((x - tie[3]) / 50.0).floor() as usize;
    let row = ((tie[4] - y) / 50.0).floor() as usize;
    assert_eq!(px[row * s.width + col], 1);
    assert_eq!(
        px.iter().filter(|&&v| v == 4).count(),
        s.classes.iter().filter(|&&v| v == 4).count()
    );
}

#[test]
fn every_zone_of_the_sample_is_valid() {
    let d = tempfile::tempdir().unwrap();
    let mut c = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/riskmap.toml"
    )))
    .unwrap();
    c.output.dir = d.path().to_path_buf();
    let ds = load(&c).unwrap();
    let z = zones_of(&ds, &c);
    // A bound, not the exact count (#30 asks for exact values where an oracle gives them):
    // the count is the connected pieces of each class band after the sliver and
    // simplification rules, and no code outside riskmap computes those. The zones' shapes
    // are held to their definition instead: lone and paired discs above against the
    // kernel's formula, the surface tiles in tests/tiles.rs against a kernel sum written
    // out, and every zone here valid, made by an enterprise, and every level present.
    assert!(z.len() > 500, "{} zones", z.len());
    for zz in &z {
        check_valid(zz, 50.0);
        assert!(
            !zz.enterprises.is_empty(),
            "a zone is made by some enterprise"
        );
    }
    for l in Level::ALL {
        assert!(z.iter().any(|zz| zz.level == l), "no {l} zone");
    }
}

/// Each command computes only what its outputs are drawn from: surface tiles get the
/// surface and no zone polygons, grid or district statistics; points tiles nothing; the
/// report its district statistics and the exposure (which reads the zones). What is
/// computed equals what a full run computes.
#[test]
fn only_the_stages_the_outputs_need() {
    use riskmap::analyze::Needs;
    use riskmap::render::Layer;
    let d = tempfile::tempdir().unwrap();
    let mut c = register(d.path(), &[(117.0, 36.65, "重大"), (117.1, 36.7, "较大")]);
    c.boundaries.path = Some(quadrants(d.path()));
    let sites = "名称,类型,经度,纬度\n学校,学校,117.001,36.65\n";
    c.sites.path = Some(write(d.path(), "sites.csv", sites));
    let ds = load(&c).unwrap();
    let full = analyze::run(&ds, &c.analyze_params()).unwrap();
    let stages = |a: &analyze::Analysis| {
        (
            a.areas.is_some(),
            a.grid.is_some(),
            a.surface.is_some(),
            a.zones.is_some(),
            a.exposure.is_some(),
        )
    };
    assert_eq!(stages(&full), (true, true, true, true, true));
    let surface = analyze::run_only(
        &ds,
        &c.analyze_params(),
        riskmap::tiles::needs(&[Layer::Surface]),
    )
    .unwrap();
    assert_eq!(stages(&surface), (false, false, true, false, false));
    assert_eq!(
        surface.surface.as_ref().unwrap().values,
        full.surface.as_ref().unwrap().values
    );
    let points = analyze::run_only(
        &ds,
        &c.analyze_params(),
        riskmap::tiles::needs(&[Layer::Points]),
    )
    .unwrap();
    assert_eq!(stages(&points), (false, false, false, false, false));
    let grid_areas = analyze::run_only(
        &ds,
        &c.analyze_params(),
        riskmap::tiles::needs(&[Layer::Grid, Layer::Areas]),
    )
    .unwrap();
    assert_eq!(stages(&grid_areas), (true, true, false, false, false));
    let report = Needs {
        areas: true,
        exposure: true,
        ..Needs::NONE
    };
    let r = analyze::run_only(&ds, &c.analyze_params(), report).unwrap();
    assert_eq!(stages(&r), (true, false, true, true, true));
    assert_eq!(r.exposure.unwrap().len(), full.exposure.unwrap().len());
}
