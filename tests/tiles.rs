//! Raster tiles: surface pixels against a kernel sum written out in the test, pixel truth
//! against the tile math, seams, the GCJ-02 variant, MBTiles read with SQLite, PMTiles read
//! back with the pmtiles crate's reader (and, in CI, with the Protomaps reference reader:
//! tests/oracles/archives.py), TileJSON, determinism.

use riskmap::analyze;
use riskmap::config::Config;
use riskmap::crs::{wgs84_to_gcj02, Crs};
use riskmap::pipeline::load;
use riskmap::render::tile::{pixel, tile, Tile};
use riskmap::render::{Layer, Renderer};
use std::fmt::Write as _;
use std::path::Path;

fn register(dir: &Path, pts: &[(f64, f64, &str)]) -> Config {
    let mut t = String::from("id,name,lon,lat,level\n");
    for (i, (x, y, l)) in pts.iter().enumerate() {
        writeln!(t, "E{i},企业{i},{x},{y},{l}").unwrap();
    }
    let p = dir.join("reg.csv");
    std::fs::write(&p, t).unwrap();
    let mut c = Config::default();
    c.enterprises.path = Some(p);
    c.output.dir = dir.join("out");
    // the XYZ folder too: these tests compare the archives with it
    c.tiles.formats = Some(vec!["pmtiles".into(), "mbtiles".into(), "xyz".into()]);
    c
}

fn decode(bytes: &[u8]) -> Vec<u8> {
    let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
    d.set_transformations(png::Transformations::EXPAND);
    let mut r = d.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!(
        info.color_type,
        png::ColorType::Rgba,
        "tiles decode to RGBA with standard decoders"
    );
    buf.truncate(info.buffer_size());
    buf
}

fn is_red(px: &[u8]) -> bool {
    px[0] > 200 && px[1] < 40 && px[2] < 40 && px[3] > 200
}

#[test]
fn a_red_enterprise_is_red_where_the_tile_math_says() {
    let d = tempfile::tempdir().unwrap();
    let (lon, lat) = (117.0123, 36.6789);
    let mut c = register(d.path(), &[(lon, lat, "重大")]);
    c.output.crs_out = vec![Crs::Gcj02];
    let ds = load(&c).unwrap();
    let an = analyze::run(&ds, &c.analyze_params()).unwrap();
    let r = Renderer::new(&ds, &an, &ds.style);
    for z in [10u8, 14, 16] {
        for (crs, (plon, plat)) in [
            (Crs::Wgs84, (lon, lat)),
            (Crs::Gcj02, wgs84_to_gcj02(lon, lat)),
        ] {
            let t = tile(plon, plat, z);
            let (gx, gy) = pixel(plon, plat, z, 256);
            let (px, py) = (
                (gx - t.x as f64 * 256.0) as usize,
                (gy - t.y as f64 * 256.0) as usize,
            );
            let img = decode(
                &r.render(Layer::Points, t, 256, crs)
                    .unwrap()
                    .expect("the tile has the point"),
            );
            let k = (py * 256 + px) * 4;
            assert!(
                is_red(&img[k..k + 4]),
                "z{z} {crs}: pixel ({px},{py}) of {t:?} is {:?}",
                &img[k..k + 4]
            );
            // the 8 neighbouring tiles hold no red
            for (dx, dy) in [
                (-1i64, -1i64),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ] {
                let n = Tile::new((t.x as i64 + dx) as u32, (t.y as i64 + dy) as u32, z);
                if let Some(bytes) = r.render(Layer::Points, n, 256, crs).unwrap() {
                    assert!(
                        !decode(&bytes).chunks(4).any(is_red),
                        "z{z} {crs}: red in neighbour {n:?}"
                    );
                }
            }
        }
        // the GCJ-02 pyramid moves the point by the GCJ-02 offset (≈ 500 m here)
        let (wx, wy) = pixel(lon, lat, z, 256);
        let (g0, g1) = wgs84_to_gcj02(lon, lat);
        let (gx, gy) = pixel(g0, g1, z, 256);
        let metres_per_px = 40_075_016.7 * lat.to_radians().cos() / (256.0 * 2f64.powi(z as i32));
        let shift_m = (gx - wx).hypot(gy - wy) * metres_per_px;
        assert!(shift_m > 300.0 && shift_m < 800.0, "{shift_m}");
    }
}

#[test]
fn zones_crossing_tile_edges_have_no_seams() {
    let d = tempfile::tempdir().unwrap();
    // put a red disc (r = 1 km) right on a z14 tile corner
    let corner = Tile::new(13518, 6392, 14).ul();
    let ds = load(&register(
        d.path(),
        &[
            (corner.0, corner.1, "重大"),
            (corner.0 + 0.004, corner.1 - 0.003, "较大"),
        ],
    ))
    .unwrap();
    let an = analyze::run(&ds, &Default::default()).unwrap();
    let r = Renderer::new(&ds, &an, &ds.style);
    for layer in [Layer::Surface, Layer::Composite] {
        let get = |x: u32, y: u32| {
            r.render(layer, Tile::new(x, y, 14), 256, Crs::Wgs84)
                .unwrap()
                .map(|b| decode(&b))
                .unwrap_or(vec![0; 256 * 256 * 4])
        };
        let (tl, tr, bl, br) = (
            get(13517, 6391),
            get(13518, 6391),
            get(13517, 6392),
            get(13518, 6392),
        );
        let px = |img: &Vec<u8>, x: usize, y: usize| {
            img[(y * 256 + x) * 4..(y * 256 + x) * 4 + 4].to_vec()
        };
        let mut painted = 0;
        let mut differ = 0;
        for i in 0..256 {
            // vertical edges: last column of the left tile vs first column of the right tile
            for (a, b) in [(&tl, &tr), (&bl, &br)] {
                let (u, v) = (px(a, 255, i), px(b, 0, i));
                painted += usize::from(u[3] > 0);
                differ += usize::from(u != v);
            }
            // horizontal edges
            for (a, b) in [(&tl, &bl), (&tr, &br)] {
                let (u, v) = (px(a, i, 255), px(b, i, 0));
                painted += usize::from(u[3] > 0);
                differ += usize::from(u != v);
            }
        }
        assert!(
            painted > 200,
            "{layer:?}: the zone does cross the edges ({painted})"
        );
        assert!(
            differ <= 16,
            "{layer:?}: {differ} pixel pairs differ across the edges"
        );
    }
}

#[test]
fn archives_match_the_directory_and_are_deterministic() {
    let d = tempfile::tempdir().unwrap();
    let pts = [
        (117.0, 36.65, "重大"),
        (117.02, 36.66, "较大"),
        (117.01, 36.64, "一般"),
        (117.03, 36.64, "低"),
    ];
    let run = |out: &Path| {
        let mut c = register(d.path(), &pts);
        c.output.dir = out.to_path_buf();
        c.tiles.zoom = [10, 14];
        c.tiles.layers = vec!["surface".into(), "points".into(), "composite".into()];
        let ds = load(&c).unwrap();
        let an = analyze::run(&ds, &c.analyze_params()).unwrap();
        riskmap::tiles::run(
            &ds,
            &an,
            &c.tiles_params(),
            &riskmap::tiles::TilesOptions {
                quiet: true,
                ..Default::default()
            },
        )
        .unwrap()
    };
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    run(&a);
    run(&b);
    // which surface tiles exist, from the discs alone (no riskmap code): a tile that
    // reaches inside some disc by more than the slack holds a classed pixel (one disc's
    // term alone passes the lowest threshold, 2 % of its weight, inside r·√0.98) and must
    // be written; a tile farther than r + slack from every disc holds nothing and must not
    // be. The slack is a pixel diagonal at the zoom plus the 50 m raster's cell diagonal.
    let radius = |w: &str| match w {
        "重大" => 1000.0,
        "较大" => 500.0,
        "一般" => 300.0,
        _ => 100.0,
    };
    let surface = xyz(&a.join("tiles/surface"));
    let mut must = 0;
    for z in 10u8..=14 {
        let n = 2f64.powi(z as i32);
        let lon_of = |x: f64| x / n * 360.0 - 180.0;
        let lat_of = |y: f64| {
            (std::f64::consts::PI * (1.0 - 2.0 * y / n))
                .sinh()
                .atan()
                .to_degrees()
        };
        let pixel_m = 40_075_016.7 * 36.65f64.to_radians().cos() / n / 256.0;
        let slack = pixel_m * 2f64.sqrt() + 50.0 * 2f64.sqrt() + 1.0;
        // every tile within 0.05° of the points
        let col = |lon: f64| ((lon + 180.0) / 360.0 * n) as u32;
        let row = |lat: f64| {
            let l = f64::to_radians(lat);
            ((1.0 - (l.tan() + 1.0 / l.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32
        };
        for x in col(116.95)..=col(117.08) {
            for y in row(36.70)..=row(36.59) {
                // metres from a point to the tile's rectangle (local equirectangular)
                let (w, e) = (lon_of(x as f64), lon_of(x as f64 + 1.0));
                let (nn, s) = (lat_of(y as f64), lat_of(y as f64 + 1.0));
                let mut inside = false;
                let mut near = false;
                for &(px, py, lv) in &pts {
                    let cx = px.clamp(w, e);
                    let cy = py.clamp(s, nn);
                    let dx = (cx - px) * 111_320.0 * py.to_radians().cos();
                    let dy = (cy - py) * 110_574.0;
                    let d = dx.hypot(dy);
                    let r = radius(lv);
                    inside |= d + slack < r * 0.98f64.sqrt();
                    near |= d < r + slack;
                }
                let got = surface.contains_key(&(z, x, y));
                if inside {
                    must += 1;
                    assert!(
                        got,
                        "surface {z}/{x}/{y} crosses a disc but was not written"
                    );
                }
                if !near {
                    assert!(
                        !got,
                        "surface {z}/{x}/{y} is far from every disc but written"
                    );
                }
            }
        }
    }
    // the tiles a disc crosses are most of those written (z10–14: from 1 to dozens per zoom)
    assert!(
        must * 10 >= surface.len() * 7,
        "{must} required of {} written",
        surface.len()
    );
    for layer in ["surface", "points", "composite"] {
        // the XYZ directory
        let files = xyz(&a.join("tiles").join(layer));
        assert!(!files.is_empty());
        for (_, bytes) in files.iter() {
            decode(bytes);
        }
        // MBTiles, read with SQLite
        let mb = a.join("mbtiles").join(format!("{layer}.mbtiles"));
        let conn = rusqlite::Connection::open(&mb).unwrap();
        let meta: std::collections::HashMap<String, String> = conn
            .prepare("SELECT name, value FROM metadata")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|x| x.unwrap())
            .collect();
        for k in [
            "name",
            "format",
            "bounds",
            "center",
            "minzoom",
            "maxzoom",
            "type",
            "attribution",
            "description",
        ] {
            assert!(meta.contains_key(k), "metadata {k} missing");
        }
        assert_eq!(meta["format"], "png");
        assert_eq!(meta["type"], "overlay");
        assert_eq!(
            (meta["minzoom"].as_str(), meta["maxzoom"].as_str()),
            ("10", "14")
        );
        let mut rows = 0;
        let mut stmt = conn
            .prepare("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
            .unwrap();
        let it = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, u8>(0)?,
                    r.get::<_, u32>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                ))
            })
            .unwrap();
        for row in it {
            let (z, x, tms_y) = {
                let r = row.as_ref().unwrap();
                (r.0, r.1, r.2)
            };
            let y = (1u32 << z) - 1 - tms_y;
            assert_eq!(
                files.get(&(z, x, y)),
                Some(&row.unwrap().3),
                "MBTiles row {z}/{x}/{tms_y} is XYZ {z}/{x}/{y}"
            );
            rows += 1;
        }
        assert_eq!(rows, files.len());
        let dup: i64 = conn.query_row("SELECT COUNT(*) FROM (SELECT zoom_level, tile_column, tile_row FROM map GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)", [], |r| r.get(0)).unwrap();
        assert_eq!(dup, 0);
        let images: i64 = conn
            .query_row("SELECT COUNT(*) FROM images", [], |r| r.get(0))
            .unwrap();
        let distinct = files
            .values()
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        assert_eq!(images as usize, distinct, "identical tiles stored once");
        // PMTiles, read back with the pmtiles crate's reader
        let pm = a.join("pmtiles").join(format!("{layer}.pmtiles"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let reader = pmtiles::AsyncPmTilesReader::new_with_path(&pm)
                .await
                .unwrap();
            let h = reader.get_header();
            assert_eq!((h.min_zoom, h.max_zoom), (10, 14));
            for ((z, x, y), bytes) in &files {
                let got = reader
                    .get_tile(pmtiles::TileCoord::new(*z, *x, *y).unwrap())
                    .await
                    .unwrap()
                    .expect("tile in PMTiles");
                assert_eq!(&got[..], &bytes[..], "PMTiles {z}/{x}/{y}");
            }
        });
        // TileJSON 3.0 required fields
        let tj: serde_json::Value = serde_json::from_slice(
            &std::fs::read(a.join("tilejson").join(format!("{layer}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(tj["tilejson"], "3.0.0");
        assert!(tj["tiles"].as_array().unwrap()[0]
            .as_str()
            .unwrap()
            .contains(&format!("/{layer}/{{z}}/{{x}}/{{y}}.png")));
        assert_eq!(tj["bounds"].as_array().unwrap().len(), 4);
        assert_eq!(tj["center"].as_array().unwrap().len(), 3);
        // two runs, the same bytes
        for f in [
            format!("mbtiles/{layer}.mbtiles"),
            format!("pmtiles/{layer}.pmtiles"),
        ] {
            assert!(
                std::fs::read(a.join(&f)).unwrap() == std::fs::read(b.join(&f)).unwrap(),
                "{f} differs between runs"
            );
        }
    }
}

/// Every file of an XYZ pyramid, by (z, x, y).
fn xyz(root: &Path) -> std::collections::BTreeMap<(u8, u32, u32), Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    for z in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let zv: u8 = z.file_name().to_string_lossy().parse().unwrap();
        for x in std::fs::read_dir(z.path()).unwrap().flatten() {
            let xv: u32 = x.file_name().to_string_lossy().parse().unwrap();
            for y in std::fs::read_dir(x.path()).unwrap().flatten() {
                let yv: u32 = y
                    .file_name()
                    .to_string_lossy()
                    .trim_end_matches(".png")
                    .parse()
                    .unwrap();
                files.insert((zv, xv, yv), std::fs::read(y.path()).unwrap());
            }
        }
    }
    files
}

/// The surface and the composite share a pass (the surface drawn once per tile): the
/// pyramids it writes are the ones each layer writes alone, tile for tile and byte for
/// byte, with the same counts. The sample has zones, district outlines and points.
#[test]
fn a_shared_pass_writes_what_each_layer_writes_alone() {
    assert_eq!(
        riskmap::tiles::passes(&[Layer::Points, Layer::Composite, Layer::Grid, Layer::Surface]),
        vec![
            vec![Layer::Points],
            vec![Layer::Surface, Layer::Composite],
            vec![Layer::Grid]
        ]
    );
    let d = tempfile::tempdir().unwrap();
    let mut c = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/riskmap.toml"
    )))
    .unwrap();
    c.tiles.zoom = [11, 13];
    c.tiles.retina = true;
    c.tiles.formats = Some(vec!["xyz".into()]);
    c.output.crs_out = vec![];
    let ds = load(&c).unwrap();
    let an = analyze::run(&ds, &c.analyze_params()).unwrap();
    let run = |out: &str, layers: &[Layer]| {
        let mut params = c.tiles_params();
        params.out = d.path().join(out);
        let r = riskmap::tiles::run(
            &ds,
            &an,
            &params,
            &riskmap::tiles::TilesOptions {
                quiet: true,
                layers: Some(layers.to_vec()),
                ..Default::default()
            },
        )
        .unwrap();
        let mut counts: Vec<_> = r.pyramids.iter().map(|p| (p.0.clone(), p.1, p.2)).collect();
        counts.sort();
        counts
    };
    let shared = run("shared", &[Layer::Surface, Layer::Composite]);
    let mut alone = run("alone", &[Layer::Surface]);
    alone.extend(run("alone", &[Layer::Composite]));
    alone.sort();
    assert_eq!(shared, alone);
    for layer in ["surface", "composite", "surface@2x", "composite@2x"] {
        let a = xyz(&d.path().join("shared/tiles").join(layer));
        let b = xyz(&d.path().join("alone/tiles").join(layer));
        // (a guard that the comparison is not of two empty sets; which surface tiles exist
        // is specified against the discs in archives_match_the_directory_and_are_deterministic)
        assert!(a.len() > 50, "{layer}: {} tiles", a.len());
        assert!(
            a == b,
            "{layer}: the shared pass differs from the layer alone"
        );
    }
    // the composite has tiles with vectors over the surface and tiles that are the
    // surface's own
    let (s, k) = (
        xyz(&d.path().join("shared/tiles/surface")),
        xyz(&d.path().join("shared/tiles/composite")),
    );
    let same = k.iter().filter(|(t, b)| s.get(t) == Some(b)).count();
    assert!(same > 0 && same < k.len(), "{same} of {}", k.len());
}

/// Surface tiles against the surface's definition, written out here from README and
/// domain.md and sharing no code with riskmap: each pixel corner → longitude/latitude by
/// the inverse Web Mercator formula → metres from every enterprise (a local
/// equirectangular projection) → the Epanechnikov sum w·(1 − d²/r²) with the default
/// weights 216000/3600/60/1 → the class whose threshold (2 % of each weight) it reaches.
/// riskmap samples a 50 m raster bilinearly, so a corner is judged only where the sum is
/// further from every threshold than the sum can move within a cell diagonal (a bound
/// from the kernel's gradient); a pixel whose four corners are so judged one class must
/// be drawn in that class's colour (domain.md §1) at the surface opacity 0.6, or clear.
#[test]
fn surface_tiles_match_a_kernel_sum_from_first_principles() {
    let d = tempfile::tempdir().unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let words = ["重大", "较大", "一般", "低"];
    // overlapping discs near the centre, and a yellow and a blue alone nearby (inside the
    // z12 tiles checked), so every class has pixels far from any threshold
    let mut pts: Vec<(f64, f64, &str)> = (0..40)
        .map(|i| {
            (
                117.0 + (rnd() - 0.5) * 0.05,
                36.65 + (rnd() - 0.5) * 0.04,
                words[i % 4],
            )
        })
        .collect();
    pts.push((117.05, 36.61, "一般"));
    pts.push((116.96, 36.69, "低"));
    pts.push((117.06, 36.69, "一般"));
    let mut c = register(d.path(), &pts);
    // a radius per level, so a level's disc is not every other's
    c.influence_radius_m.red = 1500.0;
    c.influence_radius_m.orange = 1000.0;
    c.influence_radius_m.yellow = 800.0;
    c.influence_radius_m.blue = 500.0;
    let ds = load(&c).unwrap();
    let an = analyze::run(&ds, &c.analyze_params()).unwrap();
    let r = Renderer::new(&ds, &an, &ds.style);

    // README's default rule, transcribed: (weight, threshold, radius) per class 1..=4
    let rule = [
        (1.0, 0.02, 500.0),
        (60.0, 1.2, 800.0),
        (3600.0, 72.0, 1000.0),
        (216_000.0, 4320.0, 1500.0),
    ];
    let class_of = |w: &str| 4 - words.iter().position(|x| *x == w).unwrap();
    // domain.md §1 colours, class 1 blue … 4 red
    let rgb = [[0, 0, 255], [255, 255, 0], [255, 128, 0], [255, 0, 0]];
    let alpha = (0.6f64 * 255.0).round() as u8;
    const R: f64 = 6_378_137.0;
    let (lat0, lon0) = (36.65f64.to_radians(), 117.0f64.to_radians());
    let metres = |lon: f64, lat: f64| {
        (
            R * lat0.cos() * (lon.to_radians() - lon0),
            R * (lat.to_radians() - lat0),
        )
    };
    let sites: Vec<((f64, f64), usize)> = pts
        .iter()
        .map(|&(x, y, w)| (metres(x, y), class_of(w)))
        .collect();
    // the sum at a point and how far the rendered sum may be from it (cell diagonal
    // 50·√2 m, a metre of mapping slack, 1 % for the projection and f32 sums)
    let reach = 50.0 * 2f64.sqrt() + 1.0;
    let sum_and_slack = |p: (f64, f64)| -> (f64, f64) {
        let (mut v, mut slack) = (0.0, 0.0);
        for &((x, y), cls) in &sites {
            let (w, _, r) = rule[cls - 1];
            let dd = (p.0 - x).hypot(p.1 - y);
            if dd < r {
                v += w * (1.0 - dd * dd / (r * r));
            }
            if dd < r + reach {
                slack += w * 2.0 * r.min(dd + reach) / (r * r) * reach;
            }
        }
        (v, slack + 0.01 * v + 1e-9)
    };
    let judged = |p: (f64, f64)| -> Option<usize> {
        let (v, slack) = sum_and_slack(p);
        let mut cls = 0;
        for (k, &(_, t, _)) in rule.iter().enumerate() {
            if (v - t).abs() <= slack {
                return None;
            }
            if v > t {
                cls = k + 1;
            }
        }
        Some(cls)
    };
    // the inverse Web Mercator of a global pixel position (OSM wiki)
    let lonlat = |gx: f64, gy: f64, z: u8| {
        let n = 256.0 * 2f64.powi(z as i32);
        let lon = gx / n * 360.0 - 180.0;
        let lat = (std::f64::consts::PI * (1.0 - 2.0 * gy / n))
            .sinh()
            .atan()
            .to_degrees();
        (lon, lat)
    };
    let mut seen = [0usize; 5];
    let mut checked = 0usize;
    let mut total = 0usize;
    for z in [12u8, 14, 16] {
        let n = 2f64.powi(z as i32);
        let cx = ((117.0 + 180.0) / 360.0 * n) as u32;
        let lat = 36.65f64.to_radians();
        let cy =
            ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
        for (dx, dy) in [(0i64, 0i64), (1, 0), (0, 1), (-1, -1)] {
            let t = Tile::new((cx as i64 + dx) as u32, (cy as i64 + dy) as u32, z);
            let img = match r.render(Layer::Surface, t, 256, Crs::Wgs84).unwrap() {
                Some(b) => decode(&b),
                None => vec![0; 256 * 256 * 4],
            };
            // each corner judged once
            let corners: Vec<Option<usize>> = (0..=256u32)
                .flat_map(|y| (0..=256u32).map(move |x| (x, y)))
                .map(|(x, y)| {
                    let (lon, lat) = lonlat((t.x * 256 + x) as f64, (t.y * 256 + y) as f64, z);
                    judged(metres(lon, lat))
                })
                .collect();
            for py in 0..256usize {
                for px in 0..256usize {
                    total += 1;
                    let k = |x: usize, y: usize| corners[y * 257 + x];
                    let four = [k(px, py), k(px + 1, py), k(px, py + 1), k(px + 1, py + 1)];
                    let Some(cls) = four[0] else { continue };
                    if four.iter().any(|&q| q != Some(cls)) {
                        continue;
                    }
                    checked += 1;
                    seen[cls] += 1;
                    let got = &img[(py * 256 + px) * 4..][..4];
                    let want = if cls == 0 {
                        [got[0], got[1], got[2], 0]
                    } else {
                        let c = rgb[cls - 1];
                        [c[0], c[1], c[2], alpha]
                    };
                    assert_eq!(got, want, "z{z} {t:?} pixel ({px},{py}): class {cls}");
                }
            }
        }
    }
    // the judged pixels are most of the tiles and hold every class
    assert!(
        checked * 10 >= total * 7,
        "{checked} of {total} pixels judged"
    );
    assert!(
        seen.iter().all(|&n| n > 0),
        "pixels judged per class: {seen:?}"
    );
}
