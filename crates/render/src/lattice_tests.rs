//! Tests of `lattice`: runs against per-pixel keys, and the tiles against tiny-skia drawing the same cell polygons.

use super::*;
use resvg::tiny_skia::Pixmap;
use riskmap_analyze::rule::AreaLevel;

/// A patch of 1 km cells near Jinan, levels mixed, some missing.
fn cells(utm: riskmap_core::utm::Utm) -> Vec<Cell> {
    let (cx, cy) = utm.forward(117.02, 36.66);
    let (bi, bj) = ((cx / 1000.0).floor() as i64, (cy / 1000.0).floor() as i64);
    let levels = riskmap_core::model::LEVELS;
    let mut out = Vec::new();
    for dj in -4..4i64 {
        for di in -4..4i64 {
            if (di * 7 + dj * 3).rem_euclid(5) == 0 {
                continue; // no enterprise there: no cell
            }
            let (x0, y0) = ((bi + di) as f64 * 1000.0, (bj + dj) as f64 * 1000.0);
            out.push(Cell {
                id: format!("E{}_N{}", x0, y0),
                counts: [1, 0, 0, 0, 0],
                open_major_hidden_dangers: 0,
                area_km2: 1.0,
                level: AreaLevel {
                    level: levels[((di + dj).rem_euclid(5)) as usize],
                    reason: String::new(),
                    reason_zh: String::new(),
                    score: None,
                },
                district: None,
                shape: riskmap_analyze::grid::square_shape(&utm, x0, y0, 1000.0),
            });
        }
    }
    out
}

fn expand(t: &LatticeTile, size: u32) -> Vec<[u8; 4]> {
    if t.indices.is_empty() {
        return vec![[0; 4]; (size * size) as usize];
    }
    t.indices.iter().map(|&i| t.palette[i as usize]).collect()
}

/// Runs of pixels filled from the keys at their ends (uniform blocks, columns and
/// rows, halved runs) give every pixel the colour its own key gives it: the tile is
/// checked pixel by pixel against `shade(key(centre))`, at z10–17 (cells of 8 px to
/// thousands), WGS84 and GCJ-02, 256 and 512 px, with the default hairline and with a
/// 5 px outline (where the two outline bands of a small cell come close).
/// An equivalence test (it shares `key` and `shade` with the code: it proves the runs,
/// not the colours); the independent oracle is `lattice_matches_tiny_skia` below, which
/// compares with tiny-skia drawing the same cell polygons, and the lines' positions
/// found from pixel centre → lon/lat → UTM.
#[test]
fn runs_match_per_pixel_keys() {
    let utm = riskmap_core::utm::Utm::new(50, true);
    let cells = cells(utm);
    let mut checked = 0;
    for width in [0.5f32, 5.0] {
        let mut style = Style::default();
        style.drawing.grid_outline_width = width;
        let lat = Lattice::new(&cells, utm, 1000.0, &style).unwrap();
        for z in 10..=17u8 {
            for crs in [Crs::Wgs84, Crs::Gcj02] {
                for size in [256u32, 512] {
                    let (lon, la) = crs.from_wgs84(117.02, 36.66);
                    let t = crate::tile::tile(lon, la, z);
                    for tile in [Tile::new(t.x, t.y, z), Tile::new(t.x + 1, t.y + 1, z)] {
                        let Some(lt) = lat.render(tile, size, crs) else {
                            continue;
                        };
                        let mine = expand(&lt, size);
                        let nodes = size / STEP + 1;
                        let nc = lat.frame.nodes(tile, size, crs, exact_span(z, crs));
                        let n = |a: u32, b: u32| nc[(b * nodes + a) as usize];
                        let hs = (width * size as f32 / 256.0 / 2.0) as f64;
                        let mut lines = 0;
                        for py in 0..size {
                            for px in 0..size {
                                let (bi, bj) = (px / STEP, py / STEP);
                                let k =
                                    [n(bi, bj), n(bi + 1, bj), n(bi, bj + 1), n(bi + 1, bj + 1)];
                                let b = Block::new(&lat, k, hs, bi * STEP, bj * STEP, size);
                                let c = b.at(Run::Row(py % STEP), px % STEP);
                                let want = match lat.shade(b.key(c)) {
                                    Px::Solid(code) => {
                                        let c = lat.solid[code as usize];
                                        if c[3] == 0 {
                                            [0; 4]
                                        } else {
                                            c
                                        }
                                    }
                                    Px::Blend(pm) => {
                                        lines += 1;
                                        super::super::png::unpremultiply(pm)
                                    }
                                };
                                assert_eq!(
                                    mine[(py * size + px) as usize],
                                    want,
                                    "z{z} {crs:?} {size} px width {width}: pixel {px},{py}"
                                );
                            }
                        }
                        if lines > 0 {
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    // (tiles with grid lines in them; the lattice hands z10 over to tiny-skia)
    assert!(checked >= 40, "{checked} tiles checked");
}

/// The lattice tile looks like tiny-skia's drawing of the same cell polygons: pixels
/// away from the grid lines are identical, the lines sit in the same place (the
/// painted area and the colour differences stay small), at z13–z17, 256 and 512 px,
/// WGS84 and GCJ-02.
#[test]
fn lattice_matches_tiny_skia() {
    let utm = riskmap_core::utm::Utm::new(50, true);
    let style = Style::default();
    let cells = cells(utm);
    let refs: Vec<&Cell> = cells.iter().collect();
    let lat = Lattice::new(&cells, utm, 1000.0, &style).unwrap();
    let mut checked = 0;
    for z in 13..=17u8 {
        for crs in [Crs::Wgs84, Crs::Gcj02] {
            for size in [256u32, 512] {
                let (lon, lat_) = crs.from_wgs84(117.02, 36.66);
                let t = crate::tile::tile(lon, lat_, z);
                let tile = Tile::new(t.x + 1, t.y, z);
                let mine = expand(&lat.render(tile, size, crs).unwrap(), size);
                let mut pm = Pixmap::new(size, size).unwrap();
                let f = crate::draw::Frame::new(tile, size, crs);
                crate::draw::grid(&mut pm, &f, &refs, &style);
                let theirs: Vec<[u8; 4]> = pm
                    .pixels()
                    .iter()
                    .map(|p| {
                        let c = p.demultiply();
                        if c.alpha() == 0 {
                            [0; 4]
                        } else {
                            [c.red(), c.green(), c.blue(), c.alpha()]
                        }
                    })
                    .collect();
                let painted = |v: &[[u8; 4]]| v.iter().filter(|p| p[3] > 0).count() as f64;
                let (a, b) = (painted(&mine), painted(&theirs));
                assert!(b > 0.0);
                assert!(
                    (a - b).abs() / b < 0.02,
                    "z{z} {crs:?} {size}: painted {a} vs {b}"
                );
                // pixels 2 px or more from every grid line (found independently:
                // pixel centre -> lon/lat -> UTM) are drawn the same
                let m_per_px = 40_075_016.7 * 36.66f64.to_radians().cos()
                    / (size as f64 * 2f64.powi(z as i32));
                let mut far = 0;
                for py in 0..size {
                    for px in 0..size {
                        let (gx, gy) = (
                            (tile.x * size + px) as f64 + 0.5,
                            (tile.y * size + py) as f64 + 0.5,
                        );
                        let (lon, la) = crate::tile::unpixel(gx, gy, z, size);
                        let (lon, la) = crs.to_wgs84(lon, la);
                        let (x, y) = utm.forward(lon, la);
                        let d = |v: f64| {
                            let f = v.rem_euclid(1000.0);
                            f.min(1000.0 - f) / m_per_px
                        };
                        if d(x).min(d(y)) >= 2.0 {
                            // (tiny-skia stores premultiplied bytes: ±1 after the round trip)
                            let k = (py * size + px) as usize;
                            let close = (0..4).all(|c| mine[k][c].abs_diff(theirs[k][c]) <= 1);
                            assert!(
                                close,
                                "z{z} {crs:?} {size}: pixel {px},{py}: {:?} vs {:?}",
                                mine[k], theirs[k]
                            );
                            far += 1;
                        }
                    }
                }
                assert!(far as f64 > 0.5 * (size * size) as f64);
                let diff: f64 = mine
                    .iter()
                    .zip(&theirs)
                    .map(|(x, y)| {
                        (0..4)
                            .map(|k| (x[k] as f64 - y[k] as f64).abs())
                            .sum::<f64>()
                    })
                    .sum::<f64>()
                    / (mine.len() as f64 * 4.0);
                assert!(diff < 4.0, "z{z} {crs:?} {size}: mean difference {diff:.2}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 20);
}
