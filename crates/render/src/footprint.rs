//! What a change to the register touches on the map: the tiles an incremental update
//! must draw again (`riskmap update`, `serve --watch`); every other tile is the previous
//! generation's, byte for byte.
//!
//! The footprint is found from what the tiles are drawn from, compared between the two
//! runs, not predicted from the change: enterprises (position, level, drawing order),
//! the surface's values (block by block), the grid cells' and the districts' drawn
//! levels. So whatever the analysis does with a change (a 1 km disc, a merged zone, a
//! district's level), a tile whose inputs are unchanged is unchanged, and every other
//! is drawn again. Anything that changes every tile (the config, the style, the
//! boundaries, the surface's frame, enterprises drawn in another order) makes the whole
//! layer dirty. The equivalence tests (tests/live.rs) compare with full builds.

use crate::tile::Tile;
use crate::{Layer, Renderer};
use geo::BoundingRect;
use riskmap_analyze::Analysis;
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::model::level_slot;
use rstar::primitives::Rectangle;
use rstar::{RTree, RTreeObject, AABB};
use std::collections::HashMap;

/// Surface cells compared per block: a changed value marks its block (padded) dirty.
const BLOCK: usize = 32;
/// Cells around a changed block whose tiles it may reach (the bilinear quads and the
/// renderer's own two-cell margin).
const BLOCK_PAD: f64 = 3.0;

/// The parts of the map two runs draw differently.
#[derive(Default)]
pub struct Footprint {
    /// Every tile of every layer.
    pub all: bool,
    /// Every tile of these layers (surface, grid, areas, points).
    all_surface: bool,
    all_grid: bool,
    all_areas: bool,
    all_points: bool,
    /// The lifelines input changed (its layer does not depend on the register).
    all_lifelines: bool,
    /// WGS84 positions (old and new) of enterprises drawn differently.
    points: RTree<[f64; 2]>,
    /// WGS84 boxes of surface blocks whose values changed (padded).
    surface: RTree<Rectangle<[f64; 2]>>,
    /// WGS84 boxes of grid cells drawn differently.
    grid: RTree<Rectangle<[f64; 2]>>,
    /// WGS84 boxes of districts drawn differently.
    areas: RTree<Rectangle<[f64; 2]>>,
}

fn rect(b: [f64; 4]) -> Rectangle<[f64; 2]> {
    Rectangle::from_corners([b[0], b[1]], [b[2], b[3]])
}

fn rect_of(r: Option<geo::Rect<f64>>) -> Option<Rectangle<[f64; 2]>> {
    r.map(|r| rect([r.min().x, r.min().y, r.max().x, r.max().y]))
}

impl Footprint {
    /// Everything: a full render.
    pub fn everything() -> Footprint {
        Footprint {
            all: true,
            ..Default::default()
        }
    }

    /// What differs between the tiles of (`old_ds`, `old_an`) and (`ds`, `an`).
    pub fn between(old_ds: &Dataset, old_an: &Analysis, ds: &Dataset, an: &Analysis) -> Footprint {
        let hash = |d: &Dataset, kind: &str| {
            d.inputs
                .iter()
                .find(|i| i.role == kind)
                .map(|i| i.sha256.clone())
        };
        if old_ds.config_sha256 != ds.config_sha256
            || hash(old_ds, "boundaries") != hash(ds, "boundaries")
            || old_ds.region_bbox != ds.region_bbox
        {
            return Footprint::everything();
        }
        let mut f = Footprint::default();
        // the lifelines layer draws the lines and their zones, nothing of the register
        f.all_lifelines = hash(old_ds, "lifelines") != hash(ds, "lifelines");
        f.compare_points(old_ds, ds);
        f.compare_surface(old_an, an);
        f.compare_grid(old_an, an);
        f.compare_areas(old_an, an);
        f
    }

    fn compare_points(&mut self, old: &Dataset, ds: &Dataset) {
        let old_at: HashMap<&str, usize> = old
            .enterprises
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.as_str(), i))
            .collect();
        let mut seen = vec![false; old.enterprises.len()];
        let mut pts = Vec::new();
        let mut last = None;
        for (i, e) in ds.enterprises.iter().enumerate() {
            let drawn = (e.lon, e.lat, level_slot(ds.grades[i].level));
            match old_at.get(e.id.as_str()) {
                Some(&j) => {
                    seen[j] = true;
                    // points of one level are drawn in register order: the kept
                    // enterprises in another order overlap differently anywhere
                    if last.is_some_and(|l| l > j) {
                        self.all_points = true;
                    }
                    last = Some(j);
                    let o = &old.enterprises[j];
                    if (o.lon, o.lat, level_slot(old.grades[j].level)) != drawn {
                        pts.push([o.lon, o.lat]);
                        pts.push([e.lon, e.lat]);
                    }
                }
                None => pts.push([e.lon, e.lat]),
            }
        }
        for (j, o) in old.enterprises.iter().enumerate() {
            if !seen[j] {
                pts.push([o.lon, o.lat]);
            }
        }
        self.points = RTree::bulk_load(pts);
    }

    fn compare_surface(&mut self, old: &Analysis, an: &Analysis) {
        let (o, s) = match (&old.surface, &an.surface) {
            (None, None) => return,
            (Some(o), Some(s)) => (o, s),
            _ => {
                self.all_surface = true;
                return;
            }
        };
        if (o.x0, o.y0, o.res, o.width, o.height, o.thresholds)
            != (s.x0, s.y0, s.res, s.width, s.height, s.thresholds)
            || o.utm.epsg() != s.utm.epsg()
        {
            self.all_surface = true;
            return;
        }
        let (bw, bh) = (s.width.div_ceil(BLOCK), s.height.div_ceil(BLOCK));
        let mut changed = vec![false; bw * bh];
        for r in 0..s.height {
            let (a, b) = (
                &o.values[r * s.width..(r + 1) * s.width],
                &s.values[r * s.width..(r + 1) * s.width],
            );
            if a == b {
                continue;
            }
            for c in 0..s.width {
                if a[c].to_bits() != b[c].to_bits() {
                    changed[(r / BLOCK) * bw + c / BLOCK] = true;
                }
            }
        }
        let mut boxes = Vec::new();
        for (k, _) in changed.iter().enumerate().filter(|c| *c.1) {
            let (bx, by) = ((k % bw) as f64, (k / bw) as f64);
            let n = BLOCK as f64;
            let (x0, y0) = (
                s.x0 + (bx * n - BLOCK_PAD) * s.res,
                s.y0 + (by * n - BLOCK_PAD) * s.res,
            );
            let (x1, y1) = (
                s.x0 + ((bx + 1.0) * n + BLOCK_PAD) * s.res,
                s.y0 + ((by + 1.0) * n + BLOCK_PAD) * s.res,
            );
            let (mut w, mut so, mut e, mut no) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for (x, y) in [
                (x0, y0),
                (x1, y0),
                (x0, y1),
                (x1, y1),
                ((x0 + x1) / 2.0, y0),
                ((x0 + x1) / 2.0, y1),
            ] {
                let (lon, lat) = s.utm.inverse(x, y);
                (w, so, e, no) = (w.min(lon), so.min(lat), e.max(lon), no.max(lat));
            }
            boxes.push(rect([w, so, e, no]));
        }
        self.surface = RTree::bulk_load(boxes);
    }

    fn compare_grid(&mut self, old: &Analysis, an: &Analysis) {
        let (o, g) = match (&old.grid, &an.grid) {
            (None, None) => return,
            (Some(o), Some(g)) => (o, g),
            _ => {
                self.all_grid = true;
                return;
            }
        };
        if old.square_cell_m != an.square_cell_m {
            self.all_grid = true;
            return;
        }
        let key = |c: &riskmap_analyze::grid::Cell| level_slot(c.level.level);
        let old_at: HashMap<&str, &riskmap_analyze::grid::Cell> =
            o.iter().map(|c| (c.id.as_str(), c)).collect();
        let new_at: HashMap<&str, &riskmap_analyze::grid::Cell> =
            g.iter().map(|c| (c.id.as_str(), c)).collect();
        let mut boxes = Vec::new();
        for c in g {
            if old_at.get(c.id.as_str()).is_none_or(|x| key(x) != key(c)) {
                boxes.extend(rect_of(c.shape.bounding_rect()));
            }
        }
        for c in o {
            if !new_at.contains_key(c.id.as_str()) {
                boxes.extend(rect_of(c.shape.bounding_rect()));
            }
        }
        self.grid = RTree::bulk_load(boxes);
    }

    fn compare_areas(&mut self, old: &Analysis, an: &Analysis) {
        let (o, a) = match (&old.areas, &an.areas) {
            (None, None) => return,
            (Some(o), Some(a)) => (o, a),
            _ => {
                self.all_areas = true;
                return;
            }
        };
        if o.len() != a.len() {
            self.all_areas = true;
            return;
        }
        // a district is drawn in its level's colour when it has enterprises
        let key = |x: &riskmap_analyze::areas::AreaStats| {
            (x.name.clone(), level_slot(x.level.level), x.total() > 0)
        };
        let boxes = o
            .iter()
            .zip(a)
            .filter(|(x, y)| key(x) != key(y))
            .flat_map(|(x, y)| {
                rect_of(x.shape.bounding_rect())
                    .into_iter()
                    .chain(rect_of(y.shape.bounding_rect()))
            })
            .collect();
        self.areas = RTree::bulk_load(boxes);
    }

    /// Whether nothing of `layer` changed (its pyramid can be kept whole).
    pub fn is_clean(&self, layer: Layer) -> bool {
        if self.all {
            return false;
        }
        let points = !self.all_points && self.points.size() == 0;
        let surface = !self.all_surface && self.surface.size() == 0;
        match layer {
            Layer::Points => points,
            Layer::Surface => surface,
            Layer::Grid => !self.all_grid && self.grid.size() == 0,
            Layer::Areas => !self.all_areas && self.areas.size() == 0,
            Layer::Composite => points && surface,
            Layer::Lifelines => !self.all_lifelines,
        }
    }

    /// The WGS84 boxes the touched tiles of `layer` lie around (the tiles themselves are
    /// those within a few pixels of them: [`Renderer::touched`]); None when the whole
    /// layer changed.
    pub fn boxes(&self, layer: Layer) -> Option<Vec<[f64; 4]>> {
        if self.all {
            return None;
        }
        fn of(t: &RTree<Rectangle<[f64; 2]>>) -> impl Iterator<Item = [f64; 4]> + '_ {
            t.iter().map(|r| {
                let e = r.envelope();
                [e.lower()[0], e.lower()[1], e.upper()[0], e.upper()[1]]
            })
        }
        let points = || self.points.iter().map(|p| [p[0], p[1], p[0], p[1]]);
        Some(match layer {
            Layer::Points if !self.all_points => points().collect(),
            Layer::Surface if !self.all_surface => of(&self.surface).collect(),
            Layer::Composite if !self.all_points && !self.all_surface => {
                of(&self.surface).chain(points()).collect()
            }
            Layer::Grid if !self.all_grid => of(&self.grid).collect(),
            Layer::Areas if !self.all_areas => of(&self.areas).collect(),
            Layer::Lifelines if !self.all_lifelines => vec![],
            _ => return None,
        })
    }

    /// How many things changed, for the log: (enterprise positions, surface blocks, grid
    /// cells, districts); None when a whole layer changed.
    pub fn counts(&self) -> Option<[usize; 4]> {
        (!(self.all || self.all_points || self.all_surface || self.all_grid || self.all_areas))
            .then(|| {
                [
                    self.points.size(),
                    self.surface.size(),
                    self.grid.size(),
                    self.areas.size(),
                ]
            })
    }
}

fn hits(tree: &RTree<Rectangle<[f64; 2]>>, b: [f64; 4]) -> bool {
    tree.locate_in_envelope_intersecting(&AABB::from_corners([b[0], b[1]], [b[2], b[3]]))
        .next()
        .is_some()
}

fn pad(b: [f64; 4], d: f64) -> [f64; 4] {
    [b[0] - d, b[1] - d, b[2] + d, b[3] + d]
}

impl Renderer<'_> {
    /// Whether the tile of `layer` may be drawn differently under `fp` (conservative:
    /// the boxes the renderer itself reads for the tile, padded by a few pixels).
    pub fn touched(&self, fp: &Footprint, layer: Layer, tile: Tile, crs: Crs, size: u32) -> bool {
        if fp.all {
            return true;
        }
        let b = Self::wgs_bbox(tile, crs);
        let px = (b[2] - b[0]) / size as f64;
        let points = || {
            if fp.all_points {
                return true;
            }
            let r_px = self.style.point_radius(tile.z as f32) * (size as f32 / 256.0)
                + self.style.drawing.point_outline_width
                + 3.0;
            let p = pad(b, r_px as f64 * px);
            fp.points
                .locate_in_envelope_intersecting(&AABB::from_corners([p[0], p[1]], [p[2], p[3]]))
                .next()
                .is_some()
        };
        let surface = || fp.all_surface || hits(&fp.surface, pad(b, 2.0 * px));
        match layer {
            Layer::Points => points(),
            Layer::Surface => surface(),
            Layer::Composite => surface() || points(),
            Layer::Grid => {
                let w = self.style.drawing.grid_outline_width as f64 * size as f64 / 256.0 + 4.0;
                fp.all_grid || hits(&fp.grid, pad(b, w * px))
            }
            Layer::Areas => {
                let w = self.style.drawing.outline_width as f64 * size as f64 / 256.0 + 8.0;
                fp.all_areas || hits(&fp.areas, pad(b, w * px))
            }
            Layer::Lifelines => fp.all_lifelines,
        }
    }
}
