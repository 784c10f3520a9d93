//! Render: Web Mercator tile math, drawing of the layers into tiles, palette PNG encoding.

pub mod draw;
pub mod overview;
pub mod png;
pub mod raster;
pub mod tile;

use crate::analyze::Analysis;
use crate::crs::Crs;
use crate::pipeline::Dataset;
use crate::style::Style;
use geo::{BoundingRect, Intersects};
use resvg::tiny_skia::{Pixmap, PremultipliedColorU8};
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
}

impl Layer {
    pub const ALL: [Layer; 5] = [
        Layer::Surface,
        Layer::Grid,
        Layer::Areas,
        Layer::Points,
        Layer::Composite,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Layer::Surface => "surface",
            Layer::Grid => "grid",
            Layer::Areas => "areas",
            Layer::Points => "points",
            Layer::Composite => "composite",
        }
    }
    pub fn title_zh(self) -> &'static str {
        match self {
            Layer::Surface => "风险分区",
            Layer::Grid => "网格风险",
            Layer::Areas => "区县风险",
            Layer::Points => "企业风险点",
            Layer::Composite => "四色风险综合图",
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
                format!("unknown layer `{s}`; layers are surface, grid, areas, points, composite")
            })
    }
}

/// Everything needed to draw any tile of any layer; shared by the parallel workers.
pub struct Renderer<'a> {
    pub ds: &'a Dataset,
    pub an: &'a Analysis,
    pub style: &'a Style,
    pyramid: Option<raster::ClassPyramid>,
    palette: raster::SurfacePalette,
    cells: crate::index::BoxTree,
    /// Every district boundary segment (WGS84), to tell tiles a boundary crosses from tiles
    /// wholly inside one district (drawn as one solid colour).
    edges: RTree<GeomWithData<rstar::primitives::Line<[f64; 2]>, usize>>,
}

/// A rendered tile: encoded PNG, or nothing when fully transparent.
pub type Rendered = Option<Vec<u8>>;

impl<'a> Renderer<'a> {
    pub fn new(ds: &'a Dataset, an: &'a Analysis, style: &'a Style) -> Renderer<'a> {
        let cells =
            crate::index::box_tree(an.grid.iter().flatten().map(|c| c.shape.bounding_rect()));
        let mut segs = Vec::new();
        for (k, a) in an.areas.iter().flatten().enumerate() {
            for p in &a.shape.0 {
                for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                    for w in ring.0.windows(2) {
                        segs.push(GeomWithData::new(
                            rstar::primitives::Line::new([w[0].x, w[0].y], [w[1].x, w[1].y]),
                            k,
                        ));
                    }
                }
            }
        }
        Renderer {
            ds,
            an,
            style,
            pyramid: an.surface.as_ref().map(raster::ClassPyramid::new),
            palette: raster::SurfacePalette::new(style),
            cells,
            edges: RTree::bulk_load(segs),
        }
    }

    /// WGS84 bbox where a tile in `crs` may draw (its bounds, unshifted and padded by the
    /// GCJ-02 offset, ≈ 0.01°).
    fn wgs_bbox(tile: Tile, crs: Crs) -> [f64; 4] {
        let b = tile.bounds();
        let pad = if crs == Crs::Wgs84 || crs == Crs::Cgcs2000 {
            0.0
        } else {
            0.012
        };
        [b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad]
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
            .index
            .in_bbox(b[0] - deg, b[1] - deg, b[2] + deg, b[3] + deg);
        v.sort_unstable();
        v
    }

    fn cells_in(&self, tile: Tile, crs: Crs) -> Vec<&crate::analyze::grid::Cell> {
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

    fn areas_touching(&self, tile: Tile, crs: Crs) -> Vec<&crate::analyze::areas::AreaStats> {
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
            Layer::Composite => {
                self.surface_may(tile, crs)
                    || !self.points_in(tile, crs, size).is_empty()
                    || !self.areas_touching(tile, crs).is_empty()
            }
        }
    }

    /// Whether a district boundary (with its stroke) reaches into the tile.
    fn boundary_crosses(&self, tile: Tile, crs: Crs, size: u32) -> bool {
        let b = tile.bounds();
        let (w, s) = crs.to_wgs84(b[0], b[1]);
        let (e, n) = crs.to_wgs84(b[2], b[3]);
        let pad = (self.style.drawing.outline_width as f64 * size as f64 / 256.0 + 2.0) * (e - w)
            / size as f64;
        let env = AABB::from_corners([w - pad, s - pad], [e + pad, n + pad]);
        self.edges
            .locate_in_envelope_intersecting(&env)
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

    /// Draw the surface into palette indices (None when empty).
    fn surface_indices(&self, tile: Tile, size: u32, crs: Crs) -> Option<Vec<u8>> {
        let (s, p) = (self.an.surface.as_ref()?, self.pyramid.as_ref()?);
        match raster::render_surface(s, p, &self.palette, tile, size, crs) {
            raster::SurfaceTile::Empty => None,
            raster::SurfaceTile::Solid(i) => Some(vec![i; (size * size) as usize]),
            raster::SurfaceTile::Indices(v) => Some(v),
        }
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
            Layer::Surface => match self.surface_indices(tile, size, crs) {
                None => Ok(None),
                Some(ix) => png::encode_indexed(size, size, &ix, &self.palette.colors).map(Some),
            },
            Layer::Points => {
                let idx = self.points_in(tile, crs, size);
                if idx.is_empty() {
                    return Ok(None);
                }
                let Some(mut pm) = Pixmap::new(size, size) else {
                    return Ok(None);
                };
                draw::points(&mut pm, &f, self.ds, &idx, self.style);
                finish(&pm, size)
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
                        if al == 0 {
                            return Ok(None);
                        }
                        return png::encode_indexed(
                            size,
                            size,
                            &vec![0u8; (size * size) as usize],
                            &[[r, g, bl, al]],
                        )
                        .map(Some);
                    }
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
                            png::encode_indexed(
                                size,
                                size,
                                &vec![0u8; (size * size) as usize],
                                &[[r, g, b, al]],
                            )
                            .map(Some)
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
                draw::areas(&mut pm, &f, &areas, true, self.style);
                finish(&pm, size)
            }
            Layer::Composite => {
                let idx = self.points_in(tile, crs, size);
                if idx.is_empty() && !self.boundary_crosses(tile, crs, size) {
                    // only the surface here: its palette tile is the composite tile
                    return match self.surface_indices(tile, size, crs) {
                        None => Ok(None),
                        Some(ix) => {
                            png::encode_indexed(size, size, &ix, &self.palette.colors).map(Some)
                        }
                    };
                }
                let Some(mut pm) = Pixmap::new(size, size) else {
                    return Ok(None);
                };
                if let Some(ix) = self.surface_indices(tile, size, crs) {
                    let pal = &self.palette.colors;
                    for (px, &i) in pm.pixels_mut().iter_mut().zip(&ix) {
                        let c = pal[i as usize];
                        let a = c[3] as u16;
                        let pm_ = |v: u8| ((v as u16 * a + 127) / 255) as u8;
                        *px =
                            PremultipliedColorU8::from_rgba(pm_(c[0]), pm_(c[1]), pm_(c[2]), c[3])
                                .unwrap_or(PremultipliedColorU8::TRANSPARENT);
                    }
                }
                let areas = self.areas_touching(tile, crs);
                draw::areas(&mut pm, &f, &areas, false, self.style);

                draw::points(&mut pm, &f, self.ds, &idx, self.style);
                finish(&pm, size)
            }
        }
    }
}

fn finish(pm: &Pixmap, size: u32) -> Result<Rendered, ::png::EncodingError> {
    if pm.pixels().iter().all(|p| p.alpha() == 0) {
        return Ok(None);
    }
    png::encode_auto(size, size, &draw::rgba(pm)).map(Some)
}
