//! Tests of `raster`: node spacing, the fast paths against brute force, derived tiles.

use super::*;

/// Linear nodes between exact ones stay within 1/50 px (WGS84) or 1/20 px (GCJ-02) of
/// the exact mapping, at every zoom, for 256 and 512 px tiles across Jinan.
#[test]
fn node_spacing_error() {
    let s = Surface {
        utm: riskmap_core::utm::Utm::new(50, true),
        x0: 300_000.0,
        y0: 3_950_000.0,
        res: 50.0,
        width: 0,
        height: 0,
        values: vec![],
        classes: vec![],
        thresholds: [1.0, 2.0, 3.0, 4.0],
    };
    for size in [256u32, 512] {
        for z in 8..=18u8 {
            for crs in [Crs::Wgs84, Crs::Gcj02] {
                let mut worst: f64 = 0.0;
                // tiles from the south-west to the north-east corner of Jinan
                for k in 0..=8 {
                    let f = k as f64 / 8.0;
                    let (lon, lat) = (116.2 + 1.6 * f, 36.0 + 1.6 * f);
                    let t = crate::tile::tile(lon, lat, z);
                    let exact = cell_nodes(&s, t, size, crs, 1);
                    let fast = cell_nodes(&s, t, size, crs, exact_span(z, crs));
                    // metres per pixel here, over metres per cell
                    let px_m = 40_075_016.686 * lat.to_radians().cos()
                        / (size as f64 * 2f64.powi(z as i32));
                    for (a, b) in exact.iter().zip(&fast) {
                        let d = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
                        worst = worst.max(d * s.res / px_m);
                    }
                }
                let bound = if crs == Crs::Gcj02 { 0.05 } else { 0.02 };
                assert!(worst < bound, "z{z} {size}px {crs:?}: {worst:.4} px off");
            }
        }
    }
}

/// A synthetic surface near Jinan: Epanechnikov bumps of every level, overlapping.
fn bumps() -> Surface {
    let utm = riskmap_core::utm::Utm::new(50, true);
    let (cx, cy) = utm.forward(117.0, 36.65);
    let (res, width, height) = (50.0, 400usize, 360usize);
    let (x0, y0) = (cx - 10_000.0, cy - 9_000.0);
    let mut values = vec![0f32; width * height];
    let mut seed = 7u64;
    let mut rnd = || riskmap_core::testutil::lcg(&mut seed);
    for _ in 0..300 {
        let (bx, by) = (rnd() * width as f64, rnd() * height as f64);
        let r = 5.0 + rnd() * 30.0;
        let w = [1.0, 2.0, 4.0, 8.0][(rnd() * 4.0) as usize] as f32;
        for row in 0..height {
            for col in 0..width {
                let q =
                    ((col as f64 + 0.5 - bx).powi(2) + (row as f64 + 0.5 - by).powi(2)) / (r * r);
                if q < 1.0 {
                    values[row * width + col] += w * (1.0 - q) as f32;
                }
            }
        }
    }
    let mut s = Surface {
        utm,
        x0,
        y0,
        res,
        width,
        height,
        values,
        classes: vec![],
        thresholds: [0.5, 2.0, 4.0, 8.0],
    };
    s.classes = s.values.iter().map(|&v| s.classify(v as f64)).collect();
    s
}

/// The bumps, their pyramid, a point amid them, and a plain and a hatched style (red
/// cross-hatched, and what `hatch` adds).
fn fixture(hatch: impl Fn(&mut Style)) -> (Surface, ClassPyramid, (f64, f64), [Style; 2]) {
    let s = bumps();
    let pyr = ClassPyramid::new(&s);
    let mut hatched = Style::default();
    hatched.patterns.red = Pattern::Cross;
    hatch(&mut hatched);
    let centre = s.utm.inverse(s.x0 + 10_000.0, s.y0 + 9_000.0);
    (s, pyr, centre, [Style::default(), hatched])
}

/// The surface tile drawn the slow way: every pixel from its four corners' classes,
/// each classified on its own with `class_at` (`brute_corners`: bounds-checked, no
/// pyramids, no quads, no block fills), mixed.
fn brute(s: &Surface, pal: &SurfacePalette, tile: Tile, size: u32, crs: Crs) -> Vec<u8> {
    let c = brute_corners(s, tile, size, crs);
    let n = (size + 1) as usize;
    brute_mix(pal, tile, size, |px, py| {
        let k = py as usize * n + px as usize;
        [c[k], c[k + 1], c[k + n], c[k + n + 1]]
    })
}

/// Every pixel corner's class, (size + 1)² row-major, each on its own.
fn brute_corners(s: &Surface, tile: Tile, size: u32, crs: Crs) -> Vec<u8> {
    let nodes = size / STEP + 1;
    let nc = cell_nodes(s, tile, size, crs, exact_span(tile.z, crs));
    let n = |a: u32, b: u32| nc[(b * nodes + a) as usize];
    let mut out = Vec::new();
    for y in 0..=size {
        for x in 0..=size {
            // the corner as the block left of / above it has it (a block's far edge)
            let (bi, bj) = ((x.max(1) - 1) / STEP, (y.max(1) - 1) / STEP);
            let (u, v) = (x - bi * STEP, y - bj * STEP);
            let corners = [n(bi, bj), n(bi + 1, bj), n(bi, bj + 1), n(bi + 1, bj + 1)];
            let (fc, fr) = block_point(&corners, u as f64 / STEP as f64, v as f64 / STEP as f64);
            out.push(class_at(s, fc, fr));
        }
    }
    out
}

/// Pixels from the classes at their corners (`cls(px, py)`: top-left, top-right,
/// bottom-left, bottom-right).
fn brute_mix(
    pal: &SurfacePalette,
    tile: Tile,
    size: u32,
    cls: impl Fn(u32, u32) -> [u8; 4],
) -> Vec<u8> {
    let mut out = vec![0u8; (size * size) as usize];
    for py in 0..size {
        for px in 0..size {
            let cls = cls(px, py);
            let c = cls[0];
            out[(py * size + px) as usize] = if cls.iter().all(|&x| x == c) {
                let (gx, gy) = (
                    tile.x as i64 * size as i64 + px as i64,
                    tile.y as i64 * size as i64 + py as i64,
                );
                if c > 0 {
                    pal.ink(c, gx, gy).unwrap_or(pal.index([c; 4]))
                } else {
                    0
                }
            } else {
                pal.index(cls)
            };
        }
    }
    out
}

/// The fast path (pyramids, quads, block fills, row lookups) draws exactly what
/// classifying every pixel corner on its own draws, at every zoom, in WGS84 and
/// GCJ-02, with and without patterns. An equivalence test: it shares `cell_nodes` and
/// `class_at` with the code, and so proves the shortcuts, not the mapping; the oracle
/// from first principles (inverse Web Mercator, a kernel sum, the published
/// thresholds and colours, no riskmap code) is
/// `tests/tiles.rs::surface_tiles_match_a_kernel_sum_from_first_principles`.
#[test]
fn surface_tiles_match_brute_force() {
    let (s, pyr, centre, styles) = fixture(|h| h.patterns.orange = Pattern::Diagonal);
    let mut drawn = 0;
    for (pal, crs) in palettes_and_crss(&styles) {
        for z in [8u8, 11, 12, 13, 14, 16] {
            let t = crate::tile::tile(centre.0, centre.1, z);
            let tiles = [
                (0i64, 0i64, 256u32),
                (1, 0, 256),
                (-1, -1, 256),
                (0, 1, 512),
            ];
            for (dx, dy, size) in tiles {
                let tile = Tile::new((t.x as i64 + dx) as u32, (t.y as i64 + dy) as u32, z);
                let want = brute(&s, &pal, tile, size, crs);
                let got = flat(render_surface(&s, &pyr, &pal, tile, size, crs), size);
                let bad = want.iter().zip(&got).filter(|(a, b)| a != b).count();
                assert_eq!(
                    bad, 0,
                    "z{z} {tile:?} {size}px {crs:?}: {bad} pixels differ"
                );
                drawn += usize::from(got.iter().any(|&i| i != 0));
            }
        }
    }
    assert!(drawn > 60, "tiles with something drawn: {drawn}");
}

/// Each style's palette with each output CRS.
fn palettes_and_crss(styles: &[Style; 2]) -> Vec<(SurfacePalette, Crs)> {
    let crss = [Crs::Wgs84, Crs::Gcj02];
    styles
        .iter()
        .flat_map(|st| crss.map(|crs| (SurfacePalette::new(st), crs)))
        .collect()
}

fn flat(t: SurfaceTile, size: u32) -> Vec<u8> {
    match t {
        SurfaceTile::Empty => vec![0; (size * size) as usize],
        SurfaceTile::Solid(i) => vec![i; (size * size) as usize],
        SurfaceTile::Indices(v) => v,
    }
}

/// A tile's samples for its parent are its even corners' classes.
fn even(corners: &[u8], size: u32) -> ParentSamples {
    let n = (size + 1) as usize;
    let g: Vec<u8> = (0..=size as usize / 2)
        .flat_map(|r| (0..=size as usize / 2).map(move |c| corners[2 * r * n + 2 * c]))
        .collect();
    if g.iter().all(|&c| c == g[0]) {
        ParentSamples::Uniform(g[0])
    } else {
        ParentSamples::Grid(g)
    }
}

/// Tiles derived from their children's samples, over two zooms, draw exactly what
/// classifying each pixel corner where the lowest zoom's tile puts it draws; what a
/// drawn tile gives its parent is its even corners' classes; and derived tiles stay
/// within a few zone-edge pixels of drawing the tile itself (whose nodes are
/// coarser).
#[test]
fn derived_tiles_match_brute_force() {
    let (s, pyr, centre, styles) = fixture(|h| h.patterns.yellow = Pattern::Dots);
    let mut drawn = 0;
    for (pal, crs) in palettes_and_crss(&styles) {
        for (z, size) in [(8u8, 256u32), (11, 256), (12, 512), (13, 256)] {
            let g = crate::tile::tile(centre.0, centre.1, z);
            let g = Tile::new(g.x, g.y + (z % 2) as u32, z);
            // the grandchildren drawn, the children and the tile derived
            let mut corners = std::collections::HashMap::new();
            let mut derived = Vec::new();
            for c in g.children() {
                let mut samples = Vec::new();
                for gc in c.children() {
                    let want = brute_corners(&s, gc, size, crs);
                    let (_, got) = draw_surface(&s, &pyr, &pal, gc, size, crs, true);
                    assert_eq!(got, even(&want, size), "z{} {gc:?} {crs:?}", gc.z);
                    corners.insert(gc, want);
                    samples.push(got);
                }
                let k = [&samples[0], &samples[1], &samples[2], &samples[3]];
                derived.push((c, derive_surface(&pal, c, size, k)));
            }
            // a derived tile's corner (x, y) is its child's (2x mod size, …),
            // a grandchild's (4x mod size, …)
            let oracle = |t: Tile, depth: u32| {
                let m = 1u32 << depth;
                let corner = |x: u32, y: u32| {
                    let (gx, gy) = (x * m, y * m);
                    let (cx, cy) = ((gx.max(1) - 1) / size, (gy.max(1) - 1) / size);
                    let c = Tile::new(t.x * m + cx, t.y * m + cy, t.z + depth as u8);
                    let n = (size + 1) as usize;
                    let (u, v) = ((gx - cx * size) as usize, (gy - cy * size) as usize);
                    corners[&c][v * n + u]
                };
                brute_mix(&pal, t, size, |px, py| {
                    [(0, 0), (1, 0), (0, 1), (1, 1)].map(|(i, j)| corner(px + i, py + j))
                })
            };
            for (c, (tile, _)) in &derived {
                let got = flat(tile.clone(), size);
                assert_eq!(got, oracle(*c, 1), "z{} {c:?} {size}px {crs:?}", c.z);
            }
            let k: Vec<&ParentSamples> = derived.iter().map(|d| &d.1 .1).collect();
            let got = flat(
                derive_surface(&pal, g, size, [k[0], k[1], k[2], k[3]]).0,
                size,
            );
            assert_eq!(got, oracle(g, 2), "z{z} {g:?} {size}px {crs:?}");
            let direct = flat(render_surface(&s, &pyr, &pal, g, size, crs), size);
            let differ = got.iter().zip(&direct).filter(|(a, b)| a != b).count();
            let lit = direct.iter().filter(|&&i| i != 0).count();
            // only zone-edge pixels (whose corners are not one class) differ
            let interior: Vec<u8> = (0..5u8)
                .map(|c| pal.index([c; 4]))
                .chain((0..5).map(|c| (pal.ink_base + c) as u8))
                .collect();
            let inner = got
                .iter()
                .zip(&direct)
                .filter(|(a, b)| a != b && interior.contains(a) && interior.contains(b))
                .count();
            assert_eq!(inner, 0, "z{z} {g:?}: differences off the zone edges");
            assert!(
                differ * 50 <= lit,
                "z{z} {g:?}: {differ} of {lit} px differ"
            );
            drawn += usize::from(lit > 0);
        }
    }
    assert!(drawn >= 12, "tiles with something drawn: {drawn}");
}
