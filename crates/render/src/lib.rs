//! riskmap-render: Web Mercator tile math, drawing of the layers into tiles (surface, grid,
//! areas, points, composite; WGS84 and GCJ-02 basemaps), palette PNG encoding and the
//! overview map (SVG, rasterised with resvg and a bundled CJK font in `fonts/`).
//!
//! Owns: pixels — resvg and png live here only. Takes the dataset, its analysis and the
//! style. Must not know: the config file, where tiles are stored (the store crate writes
//! the archives) or serving.

pub mod classify;
pub mod draw;
pub mod footprint;
pub mod glyphs;
pub mod lattice;
pub mod mapstyle;
pub mod mvt;
pub mod overview;
pub mod png;
pub mod raster;
pub mod tile;

use geo::{BoundingRect, Intersects};
use resvg::tiny_skia::Pixmap;
use riskmap_analyze::Analysis;
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::style::Style;
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};
use std::str::FromStr;
use tile::Tile;

/// A tile layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// The classified risk surface (zones), from the global surface.
    Surface,
    /// Grid cells filled by level.
    Grid,
    /// Districts filled by level, with outlines.
    Areas,
    /// Enterprises as circles by level.
    Points,
    /// District outlines + surface + points.
    Composite,
    /// City lifelines coloured by kind over their protection and control zones.
    Lifelines,
}

impl Layer {
    pub const ALL: [Layer; 6] = [
        Layer::Surface,
        Layer::Grid,
        Layer::Areas,
        Layer::Points,
        Layer::Composite,
        Layer::Lifelines,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Layer::Surface => "surface",
            Layer::Grid => "grid",
            Layer::Areas => "areas",
            Layer::Points => "points",
            Layer::Composite => "composite",
            Layer::Lifelines => "lifelines",
        }
    }
    pub fn title_zh(self) -> &'static str {
        match self {
            Layer::Surface => "风险分区",
            Layer::Grid => "网格风险",
            Layer::Areas => "区县风险",
            Layer::Points => "企业风险点",
            Layer::Composite => "四色风险综合图",
            Layer::Lifelines => "城市生命线",
        }
    }
}

impl FromStr for Layer {
    type Err = String;
    fn from_str(s: &str) -> Result<Layer, String> {
        Layer::ALL
            .iter()
            .copied()
            .find(|l| l.name() == s.trim())
            .ok_or_else(|| {
                format!("unknown layer `{s}`; layers are surface, grid, areas, points, composite, lifelines")
            })
    }
}

/// Everything needed to draw any tile of any layer; shared by the parallel workers.
pub struct Renderer<'a> {
    pub ds: &'a Dataset,
    pub an: &'a Analysis,
    pub style: &'a Style,
    pyramid: Option<raster::ClassPyramid>,
    /// The square grid as a lattice (None for H3 grids).
    lattice: Option<lattice::Lattice>,
    palette: raster::SurfacePalette,
    /// The surface palette premultiplied, for blending the composite's vectors over it.
    premultiplied: Vec<png::Rgba>,
    cells: riskmap_core::index::BoxTree,
    /// Every district boundary segment (WGS84) keyed by (area, ring, segment): tells tiles
    /// a boundary crosses from tiles wholly inside one district (one solid colour), and
    /// gives the few boundary pieces a tile strokes.
    edges: RTree<GeomWithData<rstar::primitives::Line<[f64; 2]>, (u32, u32, u32)>>,
    /// Pre-rendered enterprise circles.
    sprites: draw::Sprites,
    /// Every enterprise's Web Mercator position per output CRS (`world`), by `Crs as usize`.
    world: [std::sync::OnceLock<Vec<(f64, f64)>>; 4],
    /// Every lifeline's WGS84 box padded by its widest zone: which lines a tile draws.
    lifeline_boxes: riskmap_core::index::BoxTree,
    /// Encoded one-colour tiles by (size, RGBA): most tiles inside a district or a zone.
    solids: std::sync::Mutex<std::collections::HashMap<(u32, [u8; 4]), Vec<u8>>>,
}

/// A rendered tile: encoded PNG, or nothing when fully transparent.
pub type Rendered = Option<Vec<u8>>;

impl<'a> Renderer<'a> {
    pub fn new(ds: &'a Dataset, an: &'a Analysis, style: &'a Style) -> Renderer<'a> {
        let cells = riskmap_core::index::box_tree(
            an.grid.iter().flatten().map(|c| c.shape.bounding_rect()),
        );
        let mut segs = Vec::new();
        for (k, a) in an.areas.iter().flatten().enumerate() {
            let rings = a
                .shape
                .0
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()));
            for (r, ring) in rings.enumerate() {
                for (i, w) in ring.0.windows(2).enumerate() {
                    segs.push(GeomWithData::new(
                        rstar::primitives::Line::new([w[0].x, w[0].y], [w[1].x, w[1].y]),
                        (k as u32, r as u32, i as u32),
                    ));
                }
            }
        }
        let lifeline_boxes =
            riskmap_core::index::box_tree(ds.lifelines.iter().enumerate().map(|(i, l)| {
                let z = an.lifelines.as_ref().map(|ll| &ll.zones[i]);
                let w = z.map_or(0.0, |z| z.control_m.unwrap_or(0.0).max(z.protect_m));
                l.line.bounding_rect().map(|r| {
                    // metres to degrees, generously (the latitude's cosine at its pole side)
                    let dlat = w / 111_000.0;
                    let lat = r.max().y.abs().max(r.min().y.abs()).min(85.0);
                    let dlon = dlat / lat.to_radians().cos();
                    geo::Rect::new(
                        geo::coord! { x: r.min().x - dlon, y: r.min().y - dlat },
                        geo::coord! { x: r.max().x + dlon, y: r.max().y + dlat },
                    )
                })
            }));
        let palette = raster::SurfacePalette::new(style);
        let premultiplied = palette
            .colors
            .iter()
            .map(|&c| png::premultiply(c))
            .collect();
        Renderer {
            ds,
            an,
            style,
            premultiplied,
            pyramid: an.surface.as_ref().map(raster::ClassPyramid::new),
            lattice: match (&an.grid, an.square_cell_m) {
                (Some(g), Some(cell_m)) => lattice::Lattice::new(g, an.frame.utm, cell_m, style),
                _ => None,
            },
            palette,
            cells,
            edges: RTree::bulk_load(segs),
            lifeline_boxes,
            solids: Default::default(),
            sprites: Default::default(),
            world: Default::default(),
        }
    }

    /// Every enterprise's Web Mercator position in `crs` as fractions of the world
    /// (`tile::world`), worked out once per CRS: a low-zoom tile draws tens of thousands
    /// of points, and projecting each one (a tan, a cos, a log) for every tile was a
    /// quarter of the points' drawing time at 100k enterprises.
    /// (Sequential on purpose: a rayon worker waiting inside its own parallel loop may
    /// pick up another tile that needs the same cell, a reentrant initialisation.)
    fn world(&self, crs: Crs) -> &[(f64, f64)] {
        self.world[crs as usize].get_or_init(|| {
            self.ds
                .enterprises
                .iter()
                .map(|e| {
                    let (lon, lat) = crs.from_wgs84(e.lon, e.lat);
                    tile::world(lon, lat)
                })
                .collect()
        })
    }

    /// A tile of one colour (cached: the same bytes for every such tile).
    fn solid(&self, size: u32, rgba: [u8; 4]) -> Result<Rendered, ::png::EncodingError> {
        if rgba[3] == 0 {
            return Ok(None);
        }
        let key = (size, rgba);
        if let Some(b) = self.solids.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(Some(b));
        }
        let b = png::encode_indexed(size, size, &vec![0u8; (size * size) as usize], &[rgba])?;
        if let Ok(mut m) = self.solids.lock() {
            m.insert(key, b.clone());
        }
        Ok(Some(b))
    }

    /// The WGS84 bbox of a tile in `crs`, padded by `pad_px` pixels (GCJ-02 tiles: the
    /// corners and edge midpoints converted, plus ~50 m for the offset's curvature).
    fn tile_env(tile: Tile, crs: Crs, size: u32, pad_px: f64) -> [f64; 4] {
        let b = tile.bounds();
        let (mut w, mut s, mut e, mut n) = (b[0], b[1], b[2], b[3]);
        let mut extra = 0.0;
        if tile.z >= 12 && !matches!(crs, Crs::Wgs84 | Crs::Cgcs2000) {
            [w, s, e, n] = Self::wgs_bbox(tile, crs);
        } else if !matches!(crs, Crs::Wgs84 | Crs::Cgcs2000) {
            let (mx, my) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
            let pts = [
                (b[0], b[1]),
                (b[2], b[1]),
                (b[0], b[3]),
                (b[2], b[3]),
                (mx, b[1]),
                (mx, b[3]),
                (b[0], my),
                (b[2], my),
            ]
            .map(|(x, y)| crs.to_wgs84(x, y));
            w = pts.iter().map(|p| p.0).fold(f64::MAX, f64::min);
            e = pts.iter().map(|p| p.0).fold(f64::MIN, f64::max);
            s = pts.iter().map(|p| p.1).fold(f64::MAX, f64::min);
            n = pts.iter().map(|p| p.1).fold(f64::MIN, f64::max);
            extra = 0.0005;
        }
        let pad = pad_px * (b[2] - b[0]) / size as f64 + extra;
        [w - pad, s - pad, e + pad, n + pad]
    }

    /// The district boundary pieces that reach into `env`, as polylines of consecutive
    /// segments (so strokes keep their joins), with the area each belongs to.
    fn boundary_runs(&self, env: [f64; 4]) -> Vec<(usize, Vec<[f64; 2]>)> {
        let mut hits: Vec<_> = self
            .edges
            .locate_in_envelope_intersecting(&AABB::from_corners(
                [env[0], env[1]],
                [env[2], env[3]],
            ))
            .map(|g| (g.data, *g.geom()))
            .collect();
        hits.sort_unstable_by_key(|h| h.0);
        let mut runs: Vec<(usize, Vec<[f64; 2]>)> = Vec::new();
        let mut prev: Option<(u32, u32, u32)> = None;
        for ((k, r, i), line) in hits {
            match (prev, runs.last_mut()) {
                (Some((pk, pr, pi)), Some(run)) if pk == k && pr == r && pi + 1 == i => {
                    run.1.push(line.to)
                }
                _ => runs.push((k as usize, vec![line.from, line.to])),
            }
            prev = Some((k, r, i));
        }
        runs
    }

    /// WGS84 bbox where a tile in `crs` may draw. A GCJ-02 tile from z12 on (< 10 km) is
    /// shifted by the offset at its centre, padded by 0.0006° (the offset varies by a few
    /// metres across such a tile); larger tiles convert their corners and edge midpoints.
    fn wgs_bbox(tile: Tile, crs: Crs) -> [f64; 4] {
        let b = tile.bounds();
        if matches!(crs, Crs::Wgs84 | Crs::Cgcs2000) {
            return b;
        }
        if tile.z < 12 {
            return Self::tile_env(tile, crs, 256, 0.0);
        }
        let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
        let (wx, wy) = crs.to_wgs84(cx, cy);
        let (dx, dy) = (wx - cx, wy - cy);
        let pad = 0.0006;
        [
            b[0] + dx - pad,
            b[1] + dy - pad,
            b[2] + dx + pad,
            b[3] + dy + pad,
        ]
    }

    /// The WGS84 bbox of a layer's content (for choosing the tiles to consider).
    pub fn content_bbox(&self, layer: Layer) -> Option<[f64; 4]> {
        let ds = self.ds;
        let pts = || {
            let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
            for e in &ds.enterprises {
                b = [
                    b[0].min(e.lon),
                    b[1].min(e.lat),
                    b[2].max(e.lon),
                    b[3].max(e.lat),
                ];
            }
            (!ds.enterprises.is_empty()).then_some(b)
        };
        match layer {
            Layer::Points => pts(),
            Layer::Grid => self
                .an
                .grid
                .as_ref()
                .filter(|g| !g.is_empty())
                .map(|_| ds.region_bbox),
            Layer::Surface => self.an.surface.as_ref().map(|s| {
                let (w, so) = s.utm.inverse(s.x0, s.y0);
                let (e, n) = s.utm.inverse(
                    s.x0 + s.width as f64 * s.res,
                    s.y0 + s.height as f64 * s.res,
                );
                [
                    w.min(ds.region_bbox[0]) - 0.05,
                    so.min(ds.region_bbox[1]) - 0.05,
                    e.max(ds.region_bbox[2]) + 0.05,
                    n.max(ds.region_bbox[3]) + 0.05,
                ]
            }),
            Layer::Areas => self
                .an
                .areas
                .as_ref()
                .filter(|a| !a.is_empty())
                .map(|_| ds.districts.bbox().unwrap_or(ds.region_bbox)),
            Layer::Composite => Some(ds.region_bbox),
            Layer::Lifelines => {
                // the tree's root envelope: every line's padded box
                (self.lifeline_boxes.size() > 0).then(|| {
                    let e = rstar::ParentNode::envelope(self.lifeline_boxes.root());
                    [e.lower()[0], e.lower()[1], e.upper()[0], e.upper()[1]]
                })
            }
        }
    }

    fn points_in(&self, tile: Tile, crs: Crs, size: u32) -> Vec<usize> {
        let b = Self::wgs_bbox(tile, crs);
        // pad by the point radius in degrees at this zoom
        let r_px = self.style.point_radius(tile.z as f32) * (size as f32 / 256.0)
            + self.style.drawing.point_outline_width
            + 1.0;
        let deg = r_px as f64 * (b[2] - b[0]) / size as f64;
        let mut v = self
            .ds
            .index()
            .in_bbox(b[0] - deg, b[1] - deg, b[2] + deg, b[3] + deg);
        v.sort_unstable();
        v
    }

    /// The lifelines a tile may draw (their zones padded by the line's stroke).
    fn lifelines_in(&self, tile: Tile, crs: Crs, size: u32) -> Vec<usize> {
        let env = Self::tile_env(tile, crs, size, 4.0 * size as f64 / 256.0);
        let mut v: Vec<usize> = self
            .lifeline_boxes
            .locate_in_envelope_intersecting(&AABB::from_corners(
                [env[0], env[1]],
                [env[2], env[3]],
            ))
            .map(|g| g.data)
            .collect();
        v.sort_unstable();
        v
    }

    fn cells_in(&self, tile: Tile, crs: Crs) -> Vec<&riskmap_analyze::grid::Cell> {
        let Some(g) = &self.an.grid else {
            return vec![];
        };
        let b = Self::wgs_bbox(tile, crs);
        let mut idx: Vec<usize> = self
            .cells
            .locate_in_envelope_intersecting(&AABB::from_corners([b[0], b[1]], [b[2], b[3]]))
            .map(|x| x.data)
            .collect();
        idx.sort_unstable();
        idx.into_iter().map(|i| &g[i]).collect()
    }

    fn areas_touching(&self, tile: Tile, crs: Crs) -> Vec<&riskmap_analyze::areas::AreaStats> {
        let b = Self::wgs_bbox(tile, crs);
        let r = geo::Rect::new(
            geo::coord! { x: b[0], y: b[1] },
            geo::coord! { x: b[2], y: b[3] },
        );
        self.an
            .areas
            .iter()
            .flatten()
            .filter(|a| {
                a.shape
                    .bounding_rect()
                    .map(|ab| ab.intersects(&r))
                    .unwrap_or(false)
            })
            .collect()
    }

    /// Cheap, conservative test: may this tile have content? (A child can only have content
    /// where its parent may: point radii and strokes shrink on the ground as zoom grows.)
    pub fn may_draw(&self, layer: Layer, tile: Tile, crs: Crs, size: u32) -> bool {
        match layer {
            Layer::Points => !self.points_in(tile, crs, size).is_empty(),
            Layer::Grid => !self.cells_in(tile, crs).is_empty(),
            Layer::Areas => !self.areas_touching(tile, crs).is_empty(),
            Layer::Surface => self.surface_may(tile, crs),
            Layer::Lifelines => !self.lifelines_in(tile, crs, size).is_empty(),
            Layer::Composite => {
                self.surface_may(tile, crs)
                    || !self.points_in(tile, crs, size).is_empty()
                    || self.boundary_crosses(tile, crs, size)
            }
        }
    }

    /// Padding in pixels that covers a district outline's stroke (and antialiasing).
    fn outline_pad(&self, size: u32) -> f64 {
        self.style.drawing.outline_width as f64 * size as f64 / 256.0 + 2.0
    }

    /// Whether a district boundary (with its stroke) reaches into the tile.
    fn boundary_crosses(&self, tile: Tile, crs: Crs, size: u32) -> bool {
        let env = Self::tile_env(tile, crs, size, self.outline_pad(size));
        self.edges
            .locate_in_envelope_intersecting(&AABB::from_corners(
                [env[0], env[1]],
                [env[2], env[3]],
            ))
            .next()
            .is_some()
    }

    fn surface_may(&self, tile: Tile, crs: Crs) -> bool {
        let (Some(s), Some(p)) = (&self.an.surface, &self.pyramid) else {
            return false;
        };
        let b = Self::wgs_bbox(tile, crs);
        let (mut c0, mut r0, mut c1, mut r1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (lon, lat) in [
            (b[0], b[1]),
            (b[2], b[1]),
            (b[0], b[3]),
            (b[2], b[3]),
            ((b[0] + b[2]) / 2.0, b[1]),
            ((b[0] + b[2]) / 2.0, b[3]),
        ] {
            let (x, y) = s.utm.forward(lon, lat);
            let (c, r) = ((x - s.x0) / s.res, (y - s.y0) / s.res);
            c0 = c0.min(c);
            c1 = c1.max(c);
            r0 = r0.min(r);
            r1 = r1.max(r);
        }
        p.range(
            c0.floor() as i64 - 2,
            r0.floor() as i64 - 2,
            c1.ceil() as i64 + 2,
            r1.ceil() as i64 + 2,
        )
        .1 > 0
    }

    /// Whether the surface layers' tiles can be derived from their children's samples.
    pub fn derives_surface(&self, layers: &[Layer]) -> bool {
        self.pyramid.is_some()
            && layers
                .iter()
                .any(|l| matches!(l, Layer::Surface | Layer::Composite))
    }

    /// The surface's palette indices for a tile, and the samples its parent takes.
    pub fn surface_shared(
        &self,
        tile: Tile,
        size: u32,
        crs: Crs,
    ) -> (raster::SurfaceTile, raster::ParentSamples) {
        self.surface_drawn(tile, size, crs, true)
    }

    /// The surface's palette indices for a tile from its children's samples (see
    /// `raster::derive_surface`), and the samples its parent takes.
    pub fn surface_derived(
        &self,
        tile: Tile,
        size: u32,
        children: [&raster::ParentSamples; 4],
    ) -> (raster::SurfaceTile, raster::ParentSamples) {
        raster::derive_surface(&self.palette, tile, size, children)
    }

    /// Draw the surface into palette indices.
    fn surface_indices(&self, tile: Tile, size: u32, crs: Crs) -> raster::SurfaceTile {
        self.surface_drawn(tile, size, crs, false).0
    }

    /// The surface drawn into a tile (`raster::draw_surface`; with `keep`, the samples
    /// its parent takes too).
    fn surface_drawn(
        &self,
        tile: Tile,
        size: u32,
        crs: Crs,
        keep: bool,
    ) -> (raster::SurfaceTile, raster::ParentSamples) {
        match (self.an.surface.as_ref(), self.pyramid.as_ref()) {
            (Some(s), Some(p)) => raster::draw_surface(s, p, &self.palette, tile, size, crs, keep),
            _ => (
                raster::SurfaceTile::Empty,
                raster::ParentSamples::Uniform(0),
            ),
        }
    }

    /// Enterprise points `idx` drawn into `pm`, their pixels marked in `dirty`.
    fn draw_points(&self, pm: &mut Pixmap, f: &draw::Frame, idx: &[usize], dirty: &mut png::Dirty) {
        let world = self.world(f.crs);
        draw::points(pm, f, self.ds, world, idx, self.style, &self.sprites, dirty);
    }

    /// The surface's palette indices for a tile, drawn once per tile and pass.
    fn shared_indices<'s>(
        &self,
        share: &'s mut SurfaceShare,
        tile: Tile,
        size: u32,
        crs: Crs,
    ) -> &'s raster::SurfaceTile {
        share
            .indices
            .get_or_insert_with(|| self.surface_indices(tile, size, crs))
    }

    /// The surface layer's tile (encoded once per tile and pass).
    fn surface_tile(
        &self,
        share: &mut SurfaceShare,
        tile: Tile,
        size: u32,
        crs: Crs,
    ) -> Result<Rendered, ::png::EncodingError> {
        if let Some(png) = &share.png {
            return Ok(png.clone());
        }
        let png = match self.shared_indices(share, tile, size, crs) {
            raster::SurfaceTile::Empty => None,
            raster::SurfaceTile::Solid(i) => {
                let i = *i;
                self.solid(size, self.palette.colors[i as usize])?
            }
            raster::SurfaceTile::Indices(ix) => {
                Some(png::encode_indexed(size, size, ix, &self.palette.colors)?)
            }
        };
        if share.keep_png {
            share.png = Some(png.clone());
        }
        Ok(png)
    }

    /// The composite's tile: the district outlines and the enterprises blended over the
    /// surface's palette indices; where neither reaches the tile, the surface tile itself.
    fn composite_tile(
        &self,
        share: &mut SurfaceShare,
        tile: Tile,
        size: u32,
        crs: Crs,
    ) -> Result<Rendered, ::png::EncodingError> {
        let idx = self.points_in(tile, crs, size);
        let env = Self::tile_env(tile, crs, size, self.outline_pad(size));
        let runs = self.boundary_runs(env);
        if idx.is_empty() && runs.is_empty() {
            // only the surface here: its palette tile is the composite tile
            return self.surface_tile(share, tile, size, crs);
        }
        // the vectors are drawn alone, then blended over the surface's indices
        let f = draw::Frame::new(tile, size, crs);
        let ix = self.shared_indices(share, tile, size, crs);
        with_canvas(size, |pm, dirty| {
            draw::outlines(pm, &f, &runs, self.style, Some(dirty));
            self.draw_points(pm, &f, &idx, dirty);
            let solid;
            let ix = match ix {
                raster::SurfaceTile::Empty => None,
                raster::SurfaceTile::Solid(i) => {
                    solid = vec![*i; (size * size) as usize];
                    Some(&solid[..])
                }
                raster::SurfaceTile::Indices(v) => Some(&v[..]),
            };
            let base = ix.map(|ix| png::Base {
                indices: ix,
                colors: &self.palette.colors,
                premultiplied: &self.premultiplied,
            });
            png::encode_over(size, size, pm.data(), base.as_ref(), dirty)
        })
    }

    /// Render one tile of several layers (bit i of `mask`: render `layers[i]` here), with the
    /// time each layer's part took. The surface and the composite share their work: a
    /// pass of both draws (and, where the composite has no vectors, encodes) the surface
    /// once per tile, and that time is the surface's. `surface`: the surface's indices
    /// when already drawn (`surface_shared`, `surface_derived`).
    pub fn render_pass(
        &self,
        layers: &[Layer],
        mask: u8,
        tile: Tile,
        size: u32,
        crs: Crs,
        surface: Option<raster::SurfaceTile>,
    ) -> Vec<Option<(Result<Rendered, ::png::EncodingError>, std::time::Duration)>> {
        let mut share = SurfaceShare {
            indices: surface,
            // the surface's PNG is kept for a composite tile that may turn out to be it
            keep_png: layers
                .iter()
                .enumerate()
                .any(|(k, &l)| l == Layer::Composite && mask & (1 << k) != 0),
            ..Default::default()
        };
        layers
            .iter()
            .enumerate()
            .map(|(k, &layer)| {
                (mask & (1 << k) != 0).then(|| {
                    let t0 = std::time::Instant::now();
                    let r = match layer {
                        Layer::Surface => self.surface_tile(&mut share, tile, size, crs),
                        Layer::Composite => self.composite_tile(&mut share, tile, size, crs),
                        _ => self.render(layer, tile, size, crs),
                    };
                    (r, t0.elapsed())
                })
            })
            .collect()
    }

    /// Render one tile of one layer into PNG bytes (None when fully transparent).
    pub fn render(
        &self,
        layer: Layer,
        tile: Tile,
        size: u32,
        crs: Crs,
    ) -> Result<Rendered, ::png::EncodingError> {
        let f = draw::Frame::new(tile, size, crs);
        match layer {
            Layer::Surface => self.surface_tile(&mut SurfaceShare::default(), tile, size, crs),
            Layer::Points => {
                let idx = self.points_in(tile, crs, size);
                if idx.is_empty() {
                    return Ok(None);
                }
                with_canvas(size, |pm, dirty| {
                    self.draw_points(pm, &f, &idx, dirty);
                    png::encode_over(size, size, pm.data(), None, dirty)
                })
            }
            Layer::Grid => {
                let cells = self.cells_in(tile, crs);
                if cells.is_empty() {
                    return Ok(None);
                }
                if let [cell] = cells[..] {
                    // a tile wholly inside one cell (outline included) is one colour
                    let b = tile.bounds();
                    let (w, s_) = crs.to_wgs84(b[0], b[1]);
                    let (e, n) = crs.to_wgs84(b[2], b[3]);
                    let pad = (self.style.drawing.grid_outline_width as f64 * size as f64 / 256.0
                        + 2.0)
                        * (e - w)
                        / size as f64;
                    let rect = geo::Rect::new(
                        geo::coord! { x: w - pad, y: s_ - pad },
                        geo::coord! { x: e + pad, y: n + pad },
                    );
                    if geo::Contains::contains(&cell.shape, &rect.to_polygon()) {
                        let [r, g, bl] = self.style.rgb(cell.level.level);
                        let al =
                            (self.style.drawing.grid_opacity.clamp(0.0, 1.0) * 255.0).round() as u8;
                        return self.solid(size, [r, g, bl, al]);
                    }
                }
                if let Some(lt) = self
                    .lattice
                    .as_ref()
                    .and_then(|l| l.render(tile, size, crs))
                {
                    return match lt.palette.len() {
                        0 | 1 => Ok(None),
                        2 if raster::all_eq(&lt.indices, 1) => self.solid(size, lt.palette[1]),
                        _ => png::encode_indexed(size, size, &lt.indices, &lt.palette).map(Some),
                    };
                }
                let Some(mut pm) = Pixmap::new(size, size) else {
                    return Ok(None);
                };
                draw::grid(&mut pm, &f, &cells, self.style);
                finish(&pm, size)
            }
            Layer::Areas => {
                if !self.boundary_crosses(tile, crs, size) {
                    // wholly inside one district (or outside all): one colour
                    let b = tile.bounds();
                    let (cx, cy) = crs.to_wgs84((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
                    let areas = self.an.areas.as_deref().unwrap_or(&[]);
                    let inside = areas
                        .iter()
                        .find(|a| geo::Contains::contains(&a.shape, &geo::Point::new(cx, cy)));
                    return match inside {
                        Some(a) if a.total() > 0 && self.style.drawing.areas_opacity > 0.0 => {
                            let [r, g, b] = self.style.rgb(a.level.level);
                            let al = (self.style.drawing.areas_opacity.clamp(0.0, 1.0) * 255.0)
                                .round() as u8;
                            self.solid(size, [r, g, b, al])
                        }
                        _ => Ok(None),
                    };
                }
                let areas = self.areas_touching(tile, crs);
                if areas.is_empty() {
                    return Ok(None);
                }
                let Some(mut pm) = Pixmap::new(size, size) else {
                    return Ok(None);
                };
                // fill each district clipped to the padded tile (its clip edges fall
                // outside the tile), then stroke only the boundary pieces near the tile
                let env = Self::tile_env(tile, crs, size, self.outline_pad(size) + 4.0);
                draw::areas_clipped(&mut pm, &f, &areas, env, self.style);
                draw::outlines(&mut pm, &f, &self.boundary_runs(env), self.style, None);
                finish(&pm, size)
            }
            Layer::Composite => self.composite_tile(&mut SurfaceShare::default(), tile, size, crs),
            Layer::Lifelines => {
                let Some(ll) = &self.an.lifelines else {
                    return Ok(None);
                };
                let idx = self.lifelines_in(tile, crs, size);
                if idx.is_empty() {
                    return Ok(None);
                }
                let Some(mut pm) = Pixmap::new(size, size) else {
                    return Ok(None);
                };
                draw::lifelines(&mut pm, &f, self.ds, &ll.zones, &idx);
                finish(&pm, size)
            }
        }
    }
}

thread_local! {
    /// This worker's transparent canvases, one per tile size.
    static CANVASES: std::cell::RefCell<Vec<Pixmap>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Run `draw` on a transparent `size`² canvas, this worker's own, reused tile after tile
/// (a new 256 KB pixmap per tile, 1 MB at 512 px, cost more in zeroing and page faults
/// than the points' drawing). `draw` marks what it draws in the `Dirty` spans; only those
/// are cleared afterwards, which leaves the canvas transparent because every drawn pixel
/// lies in them (`outline_spans_cover_the_stroke`, sprites mark their boxes; debug builds
/// check the whole canvas).
fn with_canvas<R>(size: u32, draw: impl FnOnce(&mut Pixmap, &mut png::Dirty) -> R) -> R {
    let mut pm = CANVASES
        .with(|c| {
            let mut c = c.borrow_mut();
            let i = c.iter().position(|p| p.width() == size)?;
            Some(c.swap_remove(i))
        })
        .or_else(|| Pixmap::new(size, size))
        .expect("a tile canvas of 256 or 512 px");
    let mut dirty = png::Dirty::new(size);
    let r = draw(&mut pm, &mut dirty);
    let row = size as usize * 4;
    let data = pm.data_mut();
    for (y, &(a, b)) in dirty.rows.iter().enumerate() {
        if a < b {
            data[y * row + a as usize * 4..y * row + b as usize * 4].fill(0);
        }
    }
    debug_assert!(
        data.iter().all(|&v| v == 0),
        "a pixel drawn outside the marked spans"
    );
    CANVASES.with(|c| c.borrow_mut().push(pm));
    r
}

/// What a pass has drawn of the surface for one tile: its palette indices, its PNG.
#[derive(Default)]
struct SurfaceShare {
    indices: Option<raster::SurfaceTile>,
    png: Option<Rendered>,
    keep_png: bool,
}

fn finish(pm: &Pixmap, size: u32) -> Result<Rendered, ::png::EncodingError> {
    png::encode_premultiplied(size, size, pm.data())
}
