//! Mapbox Vector Tiles (MVT 2.1): layers of features cut into a pyramid of tiles, each
//! tile's geometry clipped to the tile plus a buffer, simplified to the zoom's pixel and
//! quantized to the tile's extent (4096), then protobuf-encoded (prost, with the
//! published `vector_tile.proto`) and gzipped.
//!
//! Thinning, as tippecanoe's `--drop-densest-as-needed`: where a tile's gzipped size
//! passes the limit, the layer marked `thin` drops its densest features (the smallest
//! gap to the previous feature along a space-filling curve) until it fits; features
//! marked `keep` (red enterprises) are never dropped, and the tile gains a `dropped`
//! layer with one point at its centre counting what it dropped by class.
//!
//! Takes plain features in world coordinates; knows nothing of the dataset (the store
//! crate builds the layers) or of archives.

mod geom;
pub mod proto;

use crate::tile::Tile;
pub use geom::{Polys, V};
use prost::Message;
use rayon::prelude::*;

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Uint(u64),
    Double(f64),
    Bool(bool),
}

/// A feature's geometry in world coordinates (Web Mercator as fractions of the world, y
/// down from 85.0511°N; see [`crate::tile::world`]).
#[derive(Debug, Clone)]
pub enum Geometry {
    Point(f64, f64),
    Polygons(Polys),
}

impl Geometry {
    /// Polygons from rings of (x, y) world coordinates (each polygon: exterior, then
    /// holes; rings closed or not).
    pub fn polygons(parts: Vec<Vec<Vec<(f64, f64)>>>, floor: f64) -> Geometry {
        let mut polys: Polys = Vec::with_capacity(parts.len());
        for p in parts {
            let mut rings = Vec::with_capacity(p.len());
            for r in p {
                let mut ring: Vec<V> = r.into_iter().map(|(x, y)| [x, y, 0.0]).collect();
                if ring.len() > 1
                    && (ring[0][0] != ring[ring.len() - 1][0]
                        || ring[0][1] != ring[ring.len() - 1][1])
                {
                    ring.push(ring[0]);
                }
                if ring.len() < 4 {
                    continue;
                }
                geom::importance(&mut ring, floor);
                rings.push(ring);
            }
            if !rings.is_empty() {
                polys.push(rings);
            }
        }
        Geometry::Polygons(polys)
    }
}

/// One feature: its geometry, attributes (indices into the layer's `keys`), and for
/// thinning its class (an index into the layer's `classes`), whether it is never
/// dropped, and its rank (larger is kept first).
#[derive(Debug, Clone)]
pub struct Feature {
    pub id: Option<u64>,
    pub geometry: Geometry,
    pub props: Vec<(u16, Value)>,
    pub class: usize,
    pub keep: bool,
    pub rank: f64,
}

/// A layer of the tileset.
#[derive(Debug, Clone, Default)]
pub struct Layer {
    pub name: String,
    pub keys: Vec<String>,
    pub features: Vec<Feature>,
    /// Thinned when a tile is too large (points layers).
    pub thin: bool,
    /// Names of the classes counted in the `dropped` layer.
    pub classes: Vec<String>,
    /// The layer's last zoom, when below the pyramid's: deeper tiles leave it out and
    /// clients overzoom it from this zoom (tippecanoe's per-feature `maxzoom`; TileJSON's
    /// per-layer `maxzoom` says so). At this zoom it keeps every vertex, as at the top.
    pub maxzoom: Option<u8>,
}

impl Layer {
    /// The layer's last zoom in a pyramid cut with `p`.
    pub fn top(&self, p: &Params) -> u8 {
        self.maxzoom.map_or(p.maxzoom, |z| z.min(p.maxzoom))
    }
}

/// How the pyramid is cut.
#[derive(Debug, Clone)]
pub struct Params {
    pub minzoom: u8,
    pub maxzoom: u8,
    /// Tile extent (4096).
    pub extent: u32,
    /// Buffer around each tile, in tile units.
    pub buffer: u32,
    /// Simplification tolerance in tile units below the top zoom (the top zoom keeps
    /// every vertex that is not collinear).
    pub tolerance: f64,
    /// Largest gzipped tile; the `thin` layer is thinned to fit.
    pub max_bytes: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            minzoom: 8,
            maxzoom: 16,
            extent: 4096,
            buffer: 64,
            tolerance: 8.0,
            max_bytes: 500_000,
        }
    }
}

/// One encoded tile.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub tile: Tile,
    /// gzip of the protobuf.
    pub gz: Vec<u8>,
    /// Features the thin layer dropped here (inside the tile proper), by class.
    pub dropped: Vec<u64>,
    /// Still above `max_bytes` with every droppable feature dropped.
    pub oversize: bool,
}

/// Gzip, deterministic (no name, no time in the header): raw deflate from a compressor
/// kept per thread (a fresh one allocates and zeroes its window for every tile, a
/// quarter of the cutting time), between the RFC 1952 header and trailer.
pub fn gzip(b: &[u8]) -> Vec<u8> {
    use std::cell::RefCell;
    thread_local! {
        static DEFLATE: RefCell<flate2::Compress> =
            RefCell::new(flate2::Compress::new(flate2::Compression::fast(), false));
    }
    let mut out = Vec::with_capacity(b.len() / 2 + 64);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    DEFLATE.with(|d| {
        let mut d = d.borrow_mut();
        d.reset();
        let start = d.total_in();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let consumed = (d.total_in() - start) as usize;
            match d.compress_vec(&b[consumed..], &mut out, flate2::FlushCompress::Finish) {
                Ok(flate2::Status::StreamEnd) => break,
                Ok(_) => {}
                // compressing into a Vec does not fail
                Err(_) => break,
            }
        }
    });
    let mut crc = flate2::Crc::new();
    crc.update(b);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out
}

/// Decode a tile, gzipped or not.
pub fn decode(data: &[u8]) -> Result<proto::Tile, String> {
    use std::io::Read;
    let raw;
    let bytes = if data.starts_with(&[0x1f, 0x8b]) {
        let mut v = Vec::new();
        flate2::read::GzDecoder::new(data)
            .read_to_end(&mut v)
            .map_err(|e| format!("gzip: {e}"))?;
        raw = v;
        &raw[..]
    } else {
        data
    };
    proto::Tile::decode(bytes).map_err(|e| format!("protobuf: {e}"))
}

/// The finest squared tolerance any zoom up to `maxzoom` uses (vertex importances below
/// it are not computed): a quarter of a tile unit at the top zoom.
pub fn importance_floor(p: &Params) -> f64 {
    let u = 0.25 / (p.extent as f64 * f64::from(1u32 << p.maxzoom));
    u * u
}

/// A feature as a tile holds it: the layer's feature index and its geometry clipped to
/// the tile's buffered box (points are not copied).
#[derive(Clone)]
enum Piece {
    Point(u32),
    Polys(u32, std::sync::Arc<Polys>),
}

/// Cut `layers` into tiles at every zoom of `p`; tiles with nothing in them are left
/// out. Sorted by zoom, then x, then y.
pub fn pyramid(layers: &[Layer], p: &Params) -> Vec<Encoded> {
    let root: Vec<Vec<Piece>> = layers
        .iter()
        .map(|l| {
            l.features
                .iter()
                .enumerate()
                .filter_map(|(i, f)| match &f.geometry {
                    Geometry::Point(..) => Some(Piece::Point(i as u32)),
                    Geometry::Polygons(ps) if !ps.is_empty() => {
                        Some(Piece::Polys(i as u32, std::sync::Arc::new(ps.clone())))
                    }
                    Geometry::Polygons(_) => None,
                })
                .collect()
        })
        .collect();
    let mut out = descend(layers, p, Tile::new(0, 0, 0), root);
    out.sort_by_key(|e| e.tile);
    out
}

fn world_box(t: Tile, buffer: f64) -> [f64; 4] {
    let n = f64::from(1u32 << t.z);
    let (x0, y0) = (f64::from(t.x) / n, f64::from(t.y) / n);
    let b = buffer / n;
    [x0 - b, y0 - b, x0 + 1.0 / n + b, y0 + 1.0 / n + b]
}

fn descend(layers: &[Layer], p: &Params, t: Tile, pieces: Vec<Vec<Piece>>) -> Vec<Encoded> {
    let mut out = Vec::new();
    if t.z >= p.minzoom {
        if let Some(e) = encode_tile(layers, p, t, &pieces) {
            out.push(e);
        }
    }
    if t.z >= p.maxzoom {
        return out;
    }
    let kids: Vec<Vec<Encoded>> = t
        .children()
        .into_par_iter()
        .map(|c| {
            let b = world_box(c, p.buffer as f64 / p.extent as f64);
            let mut any = false;
            let sub: Vec<Vec<Piece>> = layers
                .iter()
                .zip(&pieces)
                .map(|(l, ps)| {
                    if c.z > l.top(p) {
                        return Vec::new();
                    }
                    let v: Vec<Piece> = ps
                        .iter()
                        .filter_map(|pc| match pc {
                            Piece::Point(i) => {
                                let Geometry::Point(x, y) = l.features[*i as usize].geometry else {
                                    return None;
                                };
                                (x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3])
                                    .then(|| pc.clone())
                            }
                            Piece::Polys(i, polys) => {
                                let pb = geom::bbox(polys.iter().flatten());
                                if pb[2] < b[0] || pb[0] > b[2] || pb[3] < b[1] || pb[1] > b[3] {
                                    None
                                } else if pb[0] >= b[0]
                                    && pb[2] <= b[2]
                                    && pb[1] >= b[1]
                                    && pb[3] <= b[3]
                                {
                                    Some(pc.clone())
                                } else {
                                    let c = geom::clip_polys(polys, b);
                                    (!c.is_empty())
                                        .then(|| Piece::Polys(*i, std::sync::Arc::new(c)))
                                }
                            }
                        })
                        .collect();
                    any |= !v.is_empty();
                    v
                })
                .collect();
            if any {
                descend(layers, p, c, sub)
            } else {
                Vec::new()
            }
        })
        .collect();
    out.extend(kids.into_iter().flatten());
    out
}

/// The value table's key for deduplication (floats by their bits).
#[derive(PartialEq, Eq, Hash)]
enum VKey<'a> {
    S(&'a str),
    I(i64),
    U(u64),
    D(u64),
    B(bool),
}

fn vkey(v: &Value) -> VKey<'_> {
    match v {
        Value::Str(s) => VKey::S(s),
        Value::Int(i) => VKey::I(*i),
        Value::Uint(u) => VKey::U(*u),
        Value::Double(d) => VKey::D(d.to_bits()),
        Value::Bool(b) => VKey::B(*b),
    }
}

fn pvalue(v: &Value) -> proto::Value {
    let mut o = proto::Value::default();
    match v {
        Value::Str(s) => o.string_value = Some(s.clone()),
        Value::Int(i) => {
            if *i < 0 {
                o.sint_value = Some(*i)
            } else {
                o.uint_value = Some(*i as u64)
            }
        }
        Value::Uint(u) => o.uint_value = Some(*u),
        Value::Double(d) => o.double_value = Some(*d),
        Value::Bool(b) => o.bool_value = Some(*b),
    }
    o
}

/// Builds one layer of a tile: key and value tables shared by its features.
struct LayerBuilder<'a> {
    layer: &'a Layer,
    keys: foldhash::HashMap<u16, u32>,
    key_list: Vec<String>,
    values: foldhash::HashMap<VKey<'a>, u32>,
    value_list: Vec<proto::Value>,
    features: Vec<proto::Feature>,
}

impl<'a> LayerBuilder<'a> {
    fn new(layer: &'a Layer) -> Self {
        LayerBuilder {
            layer,
            keys: Default::default(),
            key_list: Vec::new(),
            values: Default::default(),
            value_list: Vec::new(),
            features: Vec::new(),
        }
    }

    fn add(&mut self, f: &'a Feature, kind: proto::GeomType, geometry: Vec<u32>) {
        let mut tags = Vec::with_capacity(f.props.len() * 2);
        for (k, v) in &f.props {
            let n = self.keys.len() as u32;
            let ki = *self.keys.entry(*k).or_insert_with(|| {
                self.key_list.push(
                    self.layer
                        .keys
                        .get(*k as usize)
                        .cloned()
                        .unwrap_or_default(),
                );
                n
            });
            let n = self.values.len() as u32;
            let vi = *self.values.entry(vkey(v)).or_insert_with(|| {
                self.value_list.push(pvalue(v));
                n
            });
            tags.push(ki);
            tags.push(vi);
        }
        self.features.push(proto::Feature {
            id: f.id,
            tags,
            r#type: Some(kind as i32),
            geometry,
        });
    }

    fn finish(self, extent: u32) -> Option<proto::Layer> {
        (!self.features.is_empty()).then(|| proto::Layer {
            version: 2,
            name: self.layer.name.clone(),
            features: self.features,
            keys: self.key_list,
            values: self.value_list,
            extent: Some(extent),
        })
    }
}

/// Encode tile `t` from its pieces: None when no feature survives.
fn encode_tile(layers: &[Layer], p: &Params, t: Tile, pieces: &[Vec<Piece>]) -> Option<Encoded> {
    let n = f64::from(1u32 << t.z);
    let ext = f64::from(p.extent);
    let (tx, ty) = (f64::from(t.x), f64::from(t.y));
    let q = move |x: f64, y: f64| {
        (
            ((x * n - tx) * ext).round() as i64,
            ((y * n - ty) * ext).round() as i64,
        )
    };
    // a layer's last zoom keeps every vertex (clients overzoom it), the others simplify
    let sq_tol = |l: &Layer| {
        if t.z >= l.top(p) {
            0.0
        } else {
            let u = p.tolerance / (ext * n);
            u * u
        }
    };
    let min_area2 = |l: &Layer| {
        if t.z >= l.top(p) {
            1
        } else {
            (p.tolerance * p.tolerance) as i64
        }
    };
    // every layer's features, encoded once; the thin layer's points listed for thinning
    let mut encoded: Vec<Vec<(u32, proto::GeomType, Vec<u32>)>> = Vec::with_capacity(layers.len());
    for (l, ps) in layers.iter().zip(pieces) {
        let mut v = Vec::with_capacity(ps.len());
        for pc in ps {
            match pc {
                Piece::Point(i) => {
                    if let Geometry::Point(x, y) = l.features[*i as usize].geometry {
                        let (a, b) = q(x, y);
                        v.push((*i, proto::GeomType::Point, geom::point_commands(a, b)));
                    }
                }
                Piece::Polys(i, polys) => {
                    if let Some(g) = geom::polygon_commands(polys, sq_tol(l), &q, min_area2(l)) {
                        v.push((*i, proto::GeomType::Polygon, g));
                    }
                }
            }
        }
        encoded.push(v);
    }
    if encoded.iter().all(|v| v.is_empty()) {
        return None;
    }
    // the tile with the thin layers cut to the first `k[l]` of their order
    let build = |order: &[Vec<usize>], k: &[usize], dropped: Option<&[Vec<u64>]>| -> Vec<u8> {
        let mut tile = proto::Tile::default();
        for (li, (l, feats)) in layers.iter().zip(&encoded).enumerate() {
            let mut b = LayerBuilder::new(l);
            if l.thin && !order[li].is_empty() {
                let mut take: Vec<usize> = order[li][..k[li]].to_vec();
                take.sort_unstable();
                for j in take {
                    let (i, kind, g) = &feats[j];
                    b.add(&l.features[*i as usize], *kind, g.clone());
                }
            } else {
                for (i, kind, g) in feats {
                    b.add(&l.features[*i as usize], *kind, g.clone());
                }
            }
            if let Some(layer) = b.finish(p.extent) {
                tile.layers.push(layer);
            }
        }
        if let Some(d) = dropped {
            if let Some(layer) = dropped_layer(layers, d, p.extent) {
                tile.layers.push(layer);
            }
        }
        tile.encode_to_vec()
    };
    // thin layers' order: kept features first (by index), then by rank, larger first
    let all: Vec<usize> = encoded.iter().map(Vec::len).collect();
    let order: Vec<Vec<usize>> = layers
        .iter()
        .zip(&encoded)
        .map(|(l, feats)| {
            if !l.thin {
                return Vec::new();
            }
            let mut o: Vec<usize> = (0..feats.len()).collect();
            o.sort_by(|&a, &b| {
                let (fa, fb) = (
                    &l.features[feats[a].0 as usize],
                    &l.features[feats[b].0 as usize],
                );
                fb.keep
                    .cmp(&fa.keep)
                    .then(fb.rank.total_cmp(&fa.rank))
                    .then(feats[a].0.cmp(&feats[b].0))
            });
            o
        })
        .collect();
    let gz = gzip(&build(&order, &all, None));
    let thin_any = layers
        .iter()
        .zip(&encoded)
        .any(|(l, f)| l.thin && !f.is_empty());
    if gz.len() <= p.max_bytes || !thin_any {
        return Some(Encoded {
            tile: t,
            oversize: gz.len() > p.max_bytes,
            gz,
            dropped: Vec::new(),
        });
    }
    // one fraction f of every thin layer's droppable features, the largest that fits
    let must: Vec<usize> = layers
        .iter()
        .zip(&encoded)
        .map(|(l, feats)| {
            if l.thin {
                feats
                    .iter()
                    .filter(|(i, _, _)| l.features[*i as usize].keep)
                    .count()
            } else {
                0
            }
        })
        .collect();
    let ks = |f: usize, total: usize| -> Vec<usize> {
        all.iter()
            .zip(&must)
            .zip(layers)
            .map(|((&a, &m), l)| if l.thin { m + (a - m) * f / total } else { a })
            .collect()
    };
    let inside = world_box(t, 0.0);
    let dropped_of = |k: &[usize]| -> Vec<Vec<u64>> {
        layers
            .iter()
            .zip(&encoded)
            .enumerate()
            .map(|(li, (l, feats))| {
                let mut c = vec![0u64; l.classes.len()];
                if l.thin {
                    for &j in &order[li][k[li]..] {
                        let f = &l.features[feats[j].0 as usize];
                        if let Geometry::Point(x, y) = f.geometry {
                            if x >= inside[0] && x < inside[2] && y >= inside[1] && y < inside[3] {
                                if let Some(s) = c.get_mut(f.class) {
                                    *s += 1;
                                }
                            }
                        }
                    }
                }
                c
            })
            .collect()
    };
    const STEPS: usize = 1 << 16;
    let try_at = |f: usize| {
        let k = ks(f, STEPS);
        let d = dropped_of(&k);
        (gzip(&build(&order, &k, Some(&d))), d)
    };
    // the largest fraction that fits: the size grows about linearly with the features
    // kept, so each guess interpolates between the closest sizes known on either side
    // (a few encodes where halving would take a dozen)
    let mut best = try_at(0);
    let oversize = best.0.len() > p.max_bytes;
    if !oversize {
        let (mut lo, mut lo_size) = (0usize, best.0.len() as f64);
        let (mut hi, mut hi_size) = (STEPS, gz.len() as f64);
        let target = p.max_bytes as f64 * 0.98;
        for _ in 0..8 {
            if hi - lo <= STEPS / 256 {
                break;
            }
            let guess =
                lo as f64 + (target - lo_size) / (hi_size - lo_size).max(1.0) * (hi - lo) as f64;
            let mid = (guess as usize).clamp(lo + 1, hi - 1);
            let r = try_at(mid);
            let size = r.0.len() as f64;
            if r.0.len() <= p.max_bytes {
                (lo, lo_size) = (mid, size);
                best = r;
                // within 3 % of the limit: close enough
                if size >= p.max_bytes as f64 * 0.97 {
                    break;
                }
            } else {
                (hi, hi_size) = (mid, size);
            }
        }
    }
    let dropped = best.1.into_iter().zip(layers).filter(|(_, l)| l.thin).fold(
        Vec::new(),
        |mut acc: Vec<u64>, (c, _)| {
            if acc.len() < c.len() {
                acc.resize(c.len(), 0);
            }
            for (a, b) in acc.iter_mut().zip(c) {
                *a += b;
            }
            acc
        },
    );
    Some(Encoded {
        tile: t,
        gz: best.0,
        dropped,
        oversize,
    })
}

/// The `dropped` layer: one point at the tile's centre with, per class of the thin
/// layers, the number of features dropped from the tile, and their total.
fn dropped_layer(layers: &[Layer], d: &[Vec<u64>], extent: u32) -> Option<proto::Layer> {
    let mut counts: Vec<(String, u64)> = Vec::new();
    for (l, c) in layers.iter().zip(d) {
        if !l.thin {
            continue;
        }
        for (name, n) in l.classes.iter().zip(c) {
            match counts.iter_mut().find(|(k, _)| k == name) {
                Some(e) => e.1 += n,
                None => counts.push((name.clone(), *n)),
            }
        }
    }
    let total: u64 = counts.iter().map(|c| c.1).sum();
    if total == 0 {
        return None;
    }
    counts.push(("total".into(), total));
    let mid = i64::from(extent / 2);
    let mut values: Vec<proto::Value> = Vec::new();
    let mut tags = Vec::new();
    for (i, (_, n)) in counts.iter().enumerate() {
        let v = pvalue(&Value::Uint(*n));
        let vi = match values.iter().position(|x| *x == v) {
            Some(p) => p,
            None => {
                values.push(v);
                values.len() - 1
            }
        };
        tags.push(i as u32);
        tags.push(vi as u32);
    }
    Some(proto::Layer {
        version: 2,
        name: "dropped".into(),
        features: vec![proto::Feature {
            id: None,
            tags,
            r#type: Some(proto::GeomType::Point as i32),
            geometry: geom::point_commands(mid, mid),
        }],
        keys: counts.into_iter().map(|c| c.0).collect(),
        values,
        extent: Some(extent),
    })
}

/// Rank points for thinning as tippecanoe does: the distance to the previous point in
/// the order of a space-filling curve (Morton order of the world position): a point in
/// a dense cluster has a small gap and is dropped first. `pts` in world coordinates.
pub fn gaps(pts: &[(f64, f64)]) -> Vec<f64> {
    fn spread(v: u32) -> u64 {
        let mut x = u64::from(v);
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x << 2)) & 0x3333_3333_3333_3333;
        x = (x | (x << 1)) & 0x5555_5555_5555_5555;
        x
    }
    let code = |&(x, y): &(f64, f64)| {
        let s = f64::from(u32::MAX);
        let (a, b) = (
            (x.clamp(0.0, 1.0) * s) as u32,
            (y.clamp(0.0, 1.0) * s) as u32,
        );
        spread(a) | (spread(b) << 1)
    };
    let mut order: Vec<usize> = (0..pts.len()).collect();
    order.sort_by_key(|&i| (code(&pts[i]), i));
    let mut g = vec![f64::INFINITY; pts.len()];
    for w in order.windows(2) {
        let (a, b) = (pts[w[0]], pts[w[1]]);
        g[w[1]] = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point_layer(n: usize, keep_every: usize) -> Layer {
        let mut features = Vec::new();
        let mut pts = Vec::new();
        for i in 0..n {
            // a dense cluster inside one z8 tile near Jinan
            let (lon, lat) = (
                117.0 + (i % 300) as f64 * 1e-4,
                36.6 + (i / 300) as f64 * 1e-4,
            );
            pts.push(crate::tile::world(lon, lat));
        }
        let g = gaps(&pts);
        for (i, (&(x, y), gap)) in pts.iter().zip(g).enumerate() {
            features.push(Feature {
                id: Some(i as u64 + 1),
                geometry: Geometry::Point(x, y),
                props: vec![
                    (0, Value::Str(format!("E{i:06}"))),
                    (1, Value::Str(format!("企业名称{i}号有限公司"))),
                ],
                class: usize::from(i % keep_every != 0),
                keep: i % keep_every == 0,
                rank: gap,
            });
        }
        Layer {
            name: "enterprises".into(),
            keys: vec!["id".into(), "name".into()],
            features,
            thin: true,
            classes: vec!["red".into(), "other".into()],
            maxzoom: None,
        }
    }

    #[test]
    fn thinning_keeps_the_must_keep_and_counts_the_rest() {
        let l = point_layer(30_000, 50);
        let p = Params {
            minzoom: 8,
            maxzoom: 9,
            max_bytes: 100_000,
            ..Default::default()
        };
        let tiles = pyramid(std::slice::from_ref(&l), &p);
        assert!(!tiles.is_empty());
        for e in &tiles {
            assert!(e.gz.len() <= p.max_bytes, "{:?} {}", e.tile, e.gz.len());
            let mut raw = Vec::new();
            use std::io::Read;
            flate2::read::GzDecoder::new(&e.gz[..])
                .read_to_end(&mut raw)
                .unwrap();
            let t = proto::Tile::decode(&raw[..]).unwrap();
            let en = t.layers.iter().find(|x| x.name == "enterprises").unwrap();
            // every feature inside the tile proper, counted: kept + dropped = all
            let b = world_box(e.tile, 0.0);
            let inside = |f: &Feature| match f.geometry {
                Geometry::Point(x, y) => x >= b[0] && x < b[2] && y >= b[1] && y < b[3],
                _ => false,
            };
            let ids: std::collections::HashSet<u64> =
                en.features.iter().filter_map(|f| f.id).collect();
            let all_in: Vec<&Feature> = l.features.iter().filter(|f| inside(f)).collect();
            for f in &all_in {
                if f.keep {
                    assert!(
                        ids.contains(&f.id.unwrap()),
                        "a must-keep feature was dropped"
                    );
                }
            }
            let kept_in = all_in
                .iter()
                .filter(|f| ids.contains(&f.id.unwrap()))
                .count() as u64;
            let dropped: u64 = e.dropped.iter().sum();
            assert_eq!(kept_in + dropped, all_in.len() as u64);
            if dropped > 0 {
                let d = t.layers.iter().find(|x| x.name == "dropped").unwrap();
                assert_eq!(d.keys.last().unwrap(), "total");
                assert_eq!(e.dropped[0], 0, "no red dropped");
            }
        }
        assert!(tiles.iter().any(|e| e.dropped.iter().sum::<u64>() > 0));
    }

    #[test]
    fn polygons_cover_their_area_across_tiles() {
        // a square of 0.1° near Jinan: the tiles' pieces (inside each tile proper) add
        // up to its area at the top zoom
        let (a, b) = (
            crate::tile::world(117.0, 36.7),
            crate::tile::world(117.1, 36.6),
        );
        let ring = vec![(a.0, a.1), (b.0, a.1), (b.0, b.1), (a.0, b.1)];
        let p = Params {
            minzoom: 10,
            maxzoom: 12,
            ..Default::default()
        };
        let l = Layer {
            name: "zones".into(),
            keys: vec!["id".into()],
            features: vec![Feature {
                id: Some(1),
                geometry: Geometry::polygons(vec![vec![ring]], importance_floor(&p)),
                props: vec![(0, Value::Str("Z1".into()))],
                class: 0,
                keep: false,
                rank: 0.0,
            }],
            thin: false,
            classes: vec![],
            maxzoom: None,
        };
        let tiles = pyramid(std::slice::from_ref(&l), &p);
        let top: Vec<_> = tiles.iter().filter(|e| e.tile.z == 12).collect();
        let (w, h) = ((b.0 - a.0) * 4096.0 * 4096.0, (b.1 - a.1) * 4096.0 * 4096.0);
        let mut sum = 0.0;
        for e in top {
            let mut raw = Vec::new();
            use std::io::Read;
            flate2::read::GzDecoder::new(&e.gz[..])
                .read_to_end(&mut raw)
                .unwrap();
            let t = proto::Tile::decode(&raw[..]).unwrap();
            let g = &t.layers[0].features[0].geometry;
            // decode the one ring, clip to 0..4096 by its bbox (it is a rectangle)
            let pts = geom::decode_commands(g);
            let (x0, x1) = (
                pts.iter().map(|p| p.0).min().unwrap().max(0),
                pts.iter().map(|p| p.0).max().unwrap().min(4096),
            );
            let (y0, y1) = (
                pts.iter().map(|p| p.1).min().unwrap().max(0),
                pts.iter().map(|p| p.1).max().unwrap().min(4096),
            );
            sum += ((x1 - x0).max(0) * (y1 - y0).max(0)) as f64;
        }
        assert!((sum / (w * h) - 1.0).abs() < 1e-3, "{sum} vs {}", w * h);

        // the same layer stopping at z11 beside a point layer going on to z12: no z12 tile
        // holds it, the point's z12 tile exists, and at z11 it is whole
        let mut stop = l.clone();
        stop.maxzoom = Some(11);
        let c = crate::tile::world(117.05, 36.55);
        let pts = Layer {
            name: "enterprises".into(),
            keys: vec![],
            features: vec![Feature {
                id: Some(1),
                geometry: Geometry::Point(c.0, c.1),
                props: vec![],
                class: 0,
                keep: true,
                rank: 0.0,
            }],
            thin: false,
            classes: vec![],
            maxzoom: None,
        };
        let tiles = pyramid(&[stop, pts], &p);
        let layers_at = |z: u8| -> Vec<String> {
            let mut v: Vec<String> = tiles
                .iter()
                .filter(|e| e.tile.z == z)
                .flat_map(|e| decode(&e.gz).unwrap().layers.into_iter().map(|l| l.name))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        assert_eq!(layers_at(12), vec!["enterprises".to_string()]);
        assert_eq!(
            layers_at(11),
            vec!["enterprises".to_string(), "zones".to_string()]
        );
        assert_eq!(tiles.iter().filter(|e| e.tile.z == 12).count(), 1);
    }
}
