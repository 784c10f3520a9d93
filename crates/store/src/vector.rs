//! The vector-tile pyramids (`[vector]`): one MVT tileset with the layers `enterprises`,
//! `zones`, `areas`, `grid` and `districts`, as PMTiles (`tile_type` mvt, gzip), MBTiles
//! (`format=pbf`, `json` with `vector_layers`), optionally an XYZ folder of `.pbf` files,
//! and TileJSON; a `_gcj02` twin for every other CRS of `output.crs_out`, as the rasters.
//!
//! Attributes are the GeoJSON outputs' own (the same functions build both), so a portal
//! that styles the tiles and one that reads the GeoJSON see the same values.

use crate::tiles::{Sinks, TileFormat, TileMeta};
use riskmap_analyze::Analysis;
use riskmap_core::crs::Crs;
use riskmap_core::dataset::Dataset;
use riskmap_core::model::{level_key, level_slot, level_zh, Level, LEVEL_KEYS};
use riskmap_core::Error;
use riskmap_render::mvt::{self, Feature, Geometry, Layer, Value};
use riskmap_render::tile::world;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The vector layers, in drawing order (bottom first).
pub const VECTOR_LAYERS: [&str; 8] = [
    "districts",
    "areas",
    "grid",
    "zones",
    "fire_reach",
    "lifeline_zones",
    "resources",
    "enterprises",
];

/// `[vector]`: the MVT pyramids.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct VectorConfig {
    /// Write the vector tiles in every build. Default false (true in the sample's
    /// riskmap.toml and in what `riskmap init` writes).
    pub enabled: bool,
    /// `[min, max]` zoom. Default [8, 16].
    pub zoom: [u8; 2],
    /// Layers: enterprises, zones, areas, grid, districts. Default all.
    pub layers: Vec<String>,
    /// Any of "pmtiles", "mbtiles", "xyz". Default the two archives.
    pub formats: Vec<String>,
    /// The largest gzipped tile in KB (1000 bytes, as tippecanoe's 500K): above it the
    /// densest enterprises are dropped, never a red one. Default 500.
    pub max_tile_kb: usize,
    /// Buffer around each tile in tile units (of 4096). Default 64.
    pub buffer: u32,
    /// Simplification below the top zoom, in tile units (of 4096; 8 is one pixel of a
    /// 512 px tile). Default 8.
    pub simplify: f64,
    /// The tileset's name in paths and URLs. Default "vector".
    pub name: String,
    /// A layer's last zoom when below `zoom`'s top: deeper tiles leave it out and
    /// clients overzoom it (TileJSON's per-layer `maxzoom`; the styles draw it from an
    /// overview source). Default `{ areas = 12, grid = 12, districts = 12, fire_reach =
    /// 12, lifeline_zones = 14, resources = 12 }`: district fills, 1 km cells,
    /// boundaries, kilometre-wide reach polygons and resource points need no z16 tiles of
    /// their own (a zone a few metres wide keeps its vertices at z14), and leaving them
    /// out keeps the z13+ tiles to where zones and enterprises are. `{}` carries every
    /// layer to the top zoom.
    pub layer_maxzoom: std::collections::BTreeMap<String, u8>,
}

/// The default `[vector] layer_maxzoom`.
pub fn default_layer_maxzoom() -> std::collections::BTreeMap<String, u8> {
    [
        ("areas", 12u8),
        ("grid", 12),
        ("districts", 12),
        ("fire_reach", 12),
        ("lifeline_zones", 14),
        ("resources", 12),
    ]
    .into_iter()
    .map(|(k, z)| (k.to_string(), z))
    .collect()
}

impl VectorConfig {
    /// A layer's last zoom.
    pub fn layer_top(&self, layer: &str) -> u8 {
        self.layer_maxzoom
            .get(layer)
            .map_or(self.zoom[1], |&z| z.clamp(self.zoom[0], self.zoom[1]))
    }
}

impl Default for VectorConfig {
    fn default() -> Self {
        VectorConfig {
            enabled: false,
            zoom: [8, 16],
            layers: VECTOR_LAYERS.iter().map(|s| s.to_string()).collect(),
            formats: vec!["pmtiles".into(), "mbtiles".into()],
            max_tile_kb: 500,
            buffer: 64,
            simplify: 8.0,
            name: "vector".into(),
            layer_maxzoom: default_layer_maxzoom(),
        }
    }
}

/// What a vector run is told: `[vector]`, the output folder, the extra CRSs, and the
/// URL template and attribution of `[tiles]` (TileJSON).
#[derive(Debug, Clone, Default)]
pub struct VectorParams {
    pub vector: VectorConfig,
    pub out: PathBuf,
    pub crs_out: Vec<Crs>,
    pub url: String,
    pub attribution: String,
    pub quiet: bool,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct VectorReport {
    /// (tileset name, tiles, bytes, seconds).
    pub tilesets: Vec<(String, u64, u64, f64)>,
    /// Tiles where enterprises were dropped to fit, and how many were dropped.
    pub thinned_tiles: u64,
    pub dropped: u64,
    /// Tiles still above the limit with only red enterprises left (named in warnings).
    pub oversize: Vec<String>,
    pub outputs: Vec<PathBuf>,
}

/// Check `[vector]`: names a user can fix.
pub fn validate(cfg: &VectorConfig) -> Result<(), String> {
    for l in &cfg.layers {
        if !VECTOR_LAYERS.contains(&l.as_str()) {
            return Err(format!(
                "[vector] layers: unknown layer `{l}`; layers: {}",
                VECTOR_LAYERS.join(", ")
            ));
        }
    }
    for f in &cfg.formats {
        if !crate::pyramid::TILE_FORMATS.contains(&f.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "[vector] formats: unknown format `{f}`; formats: pmtiles, mbtiles, xyz"
            ));
        }
    }
    for (l, z) in &cfg.layer_maxzoom {
        if !VECTOR_LAYERS.contains(&l.as_str()) {
            return Err(format!(
                "[vector] layer_maxzoom: unknown layer `{l}`; layers: {}",
                VECTOR_LAYERS.join(", ")
            ));
        }
        if *z < cfg.zoom[0] {
            return Err(format!(
                "[vector] layer_maxzoom: {l} = {z} is below the first zoom {}",
                cfg.zoom[0]
            ));
        }
    }
    let [a, b] = cfg.zoom;
    if a > b || b > 22 {
        return Err(format!(
            "[vector] zoom: [{a}, {b}] is not a range within 0…22"
        ));
    }
    if cfg.name.is_empty()
        || !cfg
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "[vector] name: `{}` must be letters, digits, _ or -",
            cfg.name
        ));
    }
    Ok(())
}

fn mvt_value(v: &serde_json::Value) -> Option<Value> {
    match v {
        serde_json::Value::String(s) => Some(Value::Str(s.clone())),
        serde_json::Value::Bool(b) => Some(Value::Bool(*b)),
        serde_json::Value::Number(n) => Some(if let Some(u) = n.as_u64() {
            Value::Uint(u)
        } else if let Some(i) = n.as_i64() {
            Value::Int(i)
        } else {
            Value::Double(n.as_f64().unwrap_or(0.0))
        }),
        _ => None,
    }
}

/// The attributes of each layer (a subset of its GeoJSON properties), with their
/// TileJSON field types.
fn fields(layer: &str) -> &'static [(&'static str, &'static str)] {
    const COUNTS: [(&str, &str); 6] = [
        ("red", "Number"),
        ("orange", "Number"),
        ("yellow", "Number"),
        ("blue", "Number"),
        ("unassessed", "Number"),
        ("total", "Number"),
    ];
    match layer {
        "enterprises" => &[
            ("id", "String"),
            ("name", "String"),
            ("industry", "String"),
            ("district", "String"),
            ("level", "String"),
            ("level_zh", "String"),
            ("reason_zh", "String"),
        ],
        "zones" => &[
            ("id", "String"),
            ("level", "String"),
            ("level_zh", "String"),
            ("area_km2", "Number"),
            ("enterprise_count", "Number"),
        ],
        "areas" => {
            const A: [(&str, &str); 14] = [
                ("name", "String"),
                ("adcode", "String"),
                COUNTS[0],
                COUNTS[1],
                COUNTS[2],
                COUNTS[3],
                COUNTS[4],
                COUNTS[5],
                ("open_major_hidden_dangers", "Number"),
                ("density_per_km2", "Number"),
                ("level", "String"),
                ("level_zh", "String"),
                ("reason_zh", "String"),
                ("area_km2", "Number"),
            ];
            &A
        }
        "grid" => {
            const G: [(&str, &str); 12] = [
                ("id", "String"),
                ("district", "String"),
                COUNTS[0],
                COUNTS[1],
                COUNTS[2],
                COUNTS[3],
                COUNTS[4],
                COUNTS[5],
                ("open_major_hidden_dangers", "Number"),
                ("level", "String"),
                ("level_zh", "String"),
                ("reason_zh", "String"),
            ];
            &G
        }
        "districts" => &[("name", "String"), ("adcode", "String")],
        "fire_reach" => &[
            ("id", "String"),
            ("name", "String"),
            ("class_zh", "String"),
            ("enterprises", "Number"),
            ("method", "String"),
            ("method_zh", "String"),
            ("drive_min", "Number"),
            ("reach_m", "Number"),
        ],
        "lifeline_zones" => &[
            ("id", "String"),
            ("name", "String"),
            ("type", "String"),
            ("type_zh", "String"),
            ("role", "String"),
            ("role_zh", "String"),
            ("protect_m", "Number"),
            ("control_m", "Number"),
        ],
        "resources" => &[
            ("id", "String"),
            ("name", "String"),
            ("type", "String"),
            ("type_zh", "String"),
            ("class_zh", "String"),
            ("contact", "String"),
            ("district", "String"),
        ],
        _ => &[],
    }
}

fn description(layer: &str) -> &'static str {
    match layer {
        "enterprises" => "企业 enterprises by risk level (重大 red is never dropped; see the `dropped` layer for thinned counts)",
        "zones" => "风险区域 zones of the risk surface by level",
        "areas" => "区县 districts filled by level, with counts",
        "grid" => "网格 grid cells by level, with counts",
        "districts" => "行政区划 district boundaries",
        "fire_reach" => "消防站到达范围 each counted fire station's reach (by road or straight line, as `method` says)",
        "lifeline_zones" => "城市生命线保护范围、控制范围 lifelines' protection and control zones",
        "resources" => "应急资源 emergency resources by type",
        "dropped" => "per tile, the enterprises dropped from it to keep it under the size limit, by level",
        _ => "",
    }
}

/// The `vector_layers` of the tileset (TileJSON 3.0, MBTiles `json`).
pub fn vector_layers(cfg: &VectorConfig) -> serde_json::Value {
    let mut v: Vec<serde_json::Value> = VECTOR_LAYERS
        .iter()
        .filter(|l| cfg.layers.iter().any(|x| x == *l))
        .map(|l| {
            let f: serde_json::Map<String, serde_json::Value> = fields(l)
                .iter()
                .map(|(k, t)| (k.to_string(), json!(t)))
                .collect();
            json!({"id": l, "description": description(l), "minzoom": cfg.zoom[0], "maxzoom": cfg.layer_top(l), "fields": f})
        })
        .collect();
    if cfg.layers.iter().any(|l| l == "enterprises") {
        let f: serde_json::Map<String, serde_json::Value> = LEVEL_KEYS
            .iter()
            .chain(["total"].iter())
            .map(|k| (k.to_string(), json!("Number")))
            .collect();
        v.push(json!({"id": "dropped", "description": description("dropped"), "minzoom": cfg.zoom[0], "maxzoom": cfg.layer_top("enterprises"), "fields": f}));
    }
    json!(v)
}

/// Props from a GeoJSON property map, keeping the layer's fields in their order.
fn props_of(layer: &str, m: &serde_json::Map<String, serde_json::Value>) -> Vec<(u16, Value)> {
    fields(layer)
        .iter()
        .enumerate()
        .filter_map(|(i, (k, _))| m.get(*k).and_then(mvt_value).map(|v| (i as u16, v)))
        .collect()
}

fn ring_world(r: &geo::LineString<f64>, crs: Crs) -> Vec<(f64, f64)> {
    r.0.iter()
        .map(|c| {
            let (x, y) = crs.from_wgs84(c.x, c.y);
            world(x, y)
        })
        .collect()
}

fn polygons_world(parts: &[geo::Polygon<f64>], crs: Crs, floor: f64) -> Geometry {
    Geometry::polygons(
        parts
            .iter()
            .map(|p| {
                std::iter::once(ring_world(p.exterior(), crs))
                    .chain(p.interiors().iter().map(|r| ring_world(r, crs)))
                    .collect()
            })
            .collect(),
        floor,
    )
}

fn layer(name: &str, features: Vec<Feature>, thin: bool, maxzoom: u8) -> Layer {
    Layer {
        maxzoom: Some(maxzoom),
        name: name.into(),
        keys: fields(name).iter().map(|(k, _)| k.to_string()).collect(),
        features,
        thin,
        classes: if thin {
            LEVEL_KEYS.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        },
    }
}

fn opt_str(s: Option<&str>) -> Option<Value> {
    s.filter(|x| !x.is_empty())
        .map(|x| Value::Str(x.to_string()))
}

/// The tileset's layers in `crs`, from the dataset and its analysis.
pub fn layers(ds: &Dataset, an: &Analysis, cfg: &VectorConfig, crs: Crs, floor: f64) -> Vec<Layer> {
    use rayon::prelude::*;
    let on = |l: &str| cfg.layers.iter().any(|x| x == l);
    let mut out = Vec::new();
    for name in VECTOR_LAYERS {
        if !on(name) {
            continue;
        }
        let feats: Vec<Feature> = match name {
            "districts" => ds
                .districts
                .districts
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let m = serde_json::Map::from_iter([
                        ("name".to_string(), json!(d.name)),
                        ("adcode".to_string(), json!(d.adcode)),
                    ]);
                    Feature {
                        id: Some(i as u64 + 1),
                        geometry: polygons_world(&d.shape.0, crs, floor),
                        props: props_of(name, &m),
                        class: 0,
                        keep: false,
                        rank: 0.0,
                    }
                })
                .collect(),
            "areas" => an
                .areas
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, a)| Feature {
                    id: Some(i as u64 + 1),
                    geometry: polygons_world(&a.shape.0, crs, floor),
                    props: props_of(name, &crate::analysis::area_properties(ds, a)),
                    class: 0,
                    keep: false,
                    rank: 0.0,
                })
                .collect(),
            "grid" => an
                .grid
                .as_deref()
                .unwrap_or_default()
                .par_iter()
                .enumerate()
                .map(|(i, c)| Feature {
                    id: Some(i as u64 + 1),
                    geometry: polygons_world(std::slice::from_ref(&c.shape), crs, floor),
                    props: props_of(name, &crate::analysis::grid_properties(ds, c)),
                    class: 0,
                    keep: false,
                    rank: 0.0,
                })
                .collect(),
            "zones" => an
                .zones
                .as_deref()
                .unwrap_or_default()
                .par_iter()
                .enumerate()
                .map(|(i, z)| {
                    let m = match crate::analysis::zone_properties(ds, z, i) {
                        serde_json::Value::Object(m) => m,
                        _ => Default::default(),
                    };
                    Feature {
                        id: Some(i as u64 + 1),
                        geometry: polygons_world(std::slice::from_ref(&z.shape), crs, floor),
                        props: props_of(name, &m),
                        class: 0,
                        keep: false,
                        rank: 0.0,
                    }
                })
                .collect(),
            "enterprises" => {
                let pts: Vec<(f64, f64)> = ds
                    .enterprises
                    .iter()
                    .map(|e| {
                        let (x, y) = crs.from_wgs84(e.lon, e.lat);
                        world(x, y)
                    })
                    .collect();
                let gaps = mvt::gaps(&pts);
                ds.enterprises
                    .par_iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let g = &ds.grades[i];
                        let d = ds.district_of(i).map(|x| x.0);
                        let props = [
                            Some(Value::Str(e.id.clone())),
                            Some(Value::Str(e.name.clone())),
                            opt_str(e.industry.as_deref()),
                            opt_str(d),
                            Some(Value::Str(level_key(g.level).into())),
                            Some(Value::Str(level_zh(g.level).into())),
                            opt_str(Some(g.reason_zh.as_str())),
                        ]
                        .into_iter()
                        .enumerate()
                        .filter_map(|(k, v)| v.map(|v| (k as u16, v)))
                        .collect();
                        Feature {
                            id: Some(i as u64 + 1),
                            geometry: Geometry::Point(pts[i].0, pts[i].1),
                            props,
                            class: level_slot(g.level),
                            keep: g.level == Some(Level::Red),
                            rank: gaps[i],
                        }
                    })
                    .collect()
            }
            "fire_reach" => an
                .emergency
                .as_ref()
                .map(|em| {
                    crate::emergency::fire_reach_features(ds, em)
                        .into_iter()
                        .enumerate()
                        .map(|(i, (p, mp))| Feature {
                            id: Some(i as u64 + 1),
                            geometry: polygons_world(&mp.0, crs, floor),
                            props: props_of(name, &p),
                            class: 0,
                            keep: false,
                            rank: 0.0,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            "lifeline_zones" => an
                .lifelines
                .as_ref()
                .map(|ll| {
                    let polys = ll.zone_polygons(ds, &an.frame);
                    let mut v = Vec::new();
                    for (i, (protect, control)) in polys.iter().enumerate() {
                        for (control_zone, mp) in [(false, Some(protect)), (true, control.as_ref())]
                        {
                            let Some(mp) = mp else { continue };
                            let p = crate::lifelines::zone_properties(ds, ll, i, control_zone);
                            v.push(Feature {
                                id: Some(v.len() as u64 + 1),
                                geometry: polygons_world(&mp.0, crs, floor),
                                props: props_of(name, &p),
                                class: 0,
                                keep: false,
                                rank: 0.0,
                            });
                        }
                    }
                    v
                })
                .unwrap_or_default(),
            "resources" if an.emergency.is_some() => ds
                .resources
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let (x, y) = crs.from_wgs84(r.lon, r.lat);
                    let (x, y) = world(x, y);
                    Feature {
                        id: Some(i as u64 + 1),
                        geometry: Geometry::Point(x, y),
                        props: props_of(name, &crate::emergency::resource_properties(ds, i)),
                        class: 0,
                        keep: true,
                        rank: 0.0,
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        // the emergency layers only where their inputs are given
        if feats.is_empty() && matches!(name, "fire_reach" | "lifeline_zones" | "resources") {
            continue;
        }
        out.push(layer(
            name,
            feats,
            name == "enterprises",
            cfg.layer_top(name),
        ));
    }
    out
}

/// The mvt crate's parameters for `[vector]`.
pub fn mvt_params(cfg: &VectorConfig) -> mvt::Params {
    mvt::Params {
        minzoom: cfg.zoom[0],
        maxzoom: cfg.zoom[1],
        extent: 4096,
        buffer: cfg.buffer,
        tolerance: cfg.simplify,
        max_bytes: cfg.max_tile_kb * 1000,
    }
}

fn ioe(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: p.to_path_buf(),
        source,
    }
}

/// The TileJSON of a vector tileset: a raster layer's (`tiles::tilejson`) with `.pbf`
/// tiles, `format` and `vector_layers`.
pub fn tilejson(
    meta: &TileMeta,
    name: &str,
    vector_layers: &serde_json::Value,
) -> serde_json::Value {
    let mut v = crate::tiles::tilejson(meta, name, "");
    if let Some(url) = v["tiles"][0].as_str().map(|u| u.replace(".png", ".pbf")) {
        v["tiles"] = json!([url]);
    }
    v["format"] = json!("pbf");
    v["vector_layers"] = vector_layers.clone();
    v
}

/// The CRSs the tilesets are cut in: WGS84 and every other of `crs_out` (as the
/// raster pyramids').
pub fn crss(crs_out: &[Crs]) -> Vec<Crs> {
    crate::pyramid::crss_of(crs_out)
}

/// The tileset's file stem in `crs`: `vector`, `vector_gcj02`.
pub fn stem(cfg: &VectorConfig, crs: Crs) -> String {
    if crs == Crs::Wgs84 {
        cfg.name.clone()
    } else {
        format!("{}_{crs}", cfg.name)
    }
}

/// One cut tileset, written by [`write_tileset`].
struct Cut {
    name: String,
    meta: TileMeta,
    tiles: Vec<mvt::Encoded>,
    secs: f64,
}

/// What [`write_tileset`] wrote: (tiles, bytes, thinned tiles, dropped, oversize,
/// outputs).
type Wrote = (u64, u64, u64, u64, Vec<String>, Vec<PathBuf>);

/// Write one tileset's archives and TileJSON.
fn write_tileset(c: &Cut, params: &VectorParams, vl: &serde_json::Value) -> Result<Wrote, Error> {
    let cfg = &params.vector;
    let has = |n: &str| cfg.formats.iter().any(|x| x.eq_ignore_ascii_case(n));
    let mut sinks = Sinks::open(
        &params.out,
        &c.name,
        "",
        &c.meta,
        has("xyz"),
        has("mbtiles"),
        has("pmtiles"),
        &TileFormat::Pbf {
            vector_layers: vl.clone(),
        },
    )
    .map_err(ioe(&params.out))?;
    // PMTiles wants tile-id order (zoom, then Hilbert); the pyramid is by zoom, x, y
    let mut order: Vec<(u64, usize)> = c
        .tiles
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let id = pmtiles::TileCoord::new(e.tile.z, e.tile.x, e.tile.y)
                .map(|c| pmtiles::TileId::from(c).value())
                .unwrap_or(u64::MAX);
            (id, i)
        })
        .collect();
    order.sort_unstable();
    let (mut bytes, mut thinned, mut dropped) = (0u64, 0u64, 0u64);
    let mut oversize = Vec::new();
    for &(_, i) in &order {
        let e = &c.tiles[i];
        sinks.add(e.tile, &e.gz).map_err(ioe(&params.out))?;
        bytes += e.gz.len() as u64;
        let d: u64 = e.dropped.iter().sum();
        if d > 0 {
            thinned += 1;
            dropped += d;
        }
        if e.oversize {
            oversize.push(format!(
                "{} {}/{}/{}: {} KB with only red enterprises left",
                c.name,
                e.tile.z,
                e.tile.x,
                e.tile.y,
                e.gz.len() / 1000
            ));
        }
    }
    let n = sinks.written;
    let (mut done, replaced) = sinks.finish().map_err(ioe(&params.out))?;
    if let Some(old) = replaced {
        let _ = std::fs::remove_dir_all(old);
    }
    let tj = params.out.join("tilejson").join(format!("{}.json", c.name));
    let text = serde_json::to_vec_pretty(&tilejson(&c.meta, &c.name, vl)).unwrap_or_default();
    crate::atomic::write_atomic(&tj, &text).map_err(ioe(&tj))?;
    done.push(tj);
    Ok((n, bytes, thinned, dropped, oversize, done))
}

/// The glyph ranges the style's labels need: Latin (0–255) and the ranges of the
/// characters of the district names.
pub fn label_ranges(ds: &Dataset) -> Vec<u32> {
    let mut r: std::collections::BTreeSet<u32> = std::collections::BTreeSet::from([0]);
    for d in &ds.districts.districts {
        for c in d.name.chars() {
            r.insert(c as u32 / 256 * 256);
        }
    }
    r.into_iter().collect()
}

/// The base of the URLs written into the styles: `[tiles] url` up to `/tiles/`.
fn url_base(url: &str) -> String {
    match url.find("/tiles/") {
        Some(i) => url[..i].to_string(),
        None => "http://127.0.0.1:8080".into(),
    }
}

/// The MapLibre styles (`style.json` in the build's style, `style_colorblind.json`), the
/// colour-blind style's sprite (`sprites/colorblind[@2x].json|png`) and the glyph ranges
/// the labels use (`fonts/{fontstack}/{range}.pbf`): the files a static web server or a
/// portal needs beside the tileset, offline.
pub fn write_styles(ds: &Dataset, params: &VectorParams) -> Result<Vec<PathBuf>, Error> {
    use riskmap_render::mapstyle;
    let out = &params.out;
    let base = url_base(&params.url);
    let mut written = Vec::new();
    let mut put = |rel: String, bytes: &[u8]| -> Result<(), Error> {
        let p = out.join(&rel);
        crate::atomic::write_atomic(&p, bytes).map_err(ioe(&p))?;
        written.push(p);
        Ok(())
    };
    let bounds = ds.region_bbox;
    for (file, style, sprite) in [
        ("style.json", ds.style.clone(), "sprites/style"),
        (
            "style_colorblind.json",
            riskmap_core::style::Style::colorblind(),
            "sprites/colorblind",
        ),
    ] {
        let urls = mapstyle::StyleUrls {
            tilejson: &format!("{base}/tiles/{}.json", params.vector.name),
            glyphs: &format!("{base}/fonts/{{fontstack}}/{{range}}.pbf"),
            sprite: &format!("{base}/{sprite}"),
        };
        let zooms = mapstyle::Zooms::from_vector_layers(
            &vector_layers(&params.vector),
            params.vector.zoom[1],
        );
        let v = mapstyle::style(&style, &ds.title, &urls, bounds, &zooms);
        put(
            file.to_string(),
            &serde_json::to_vec_pretty(&v).unwrap_or_default(),
        )?;
        for ratio in [1u32, 2] {
            if let Some((index, png)) = mapstyle::sprite(&style, ratio) {
                let suffix = if ratio == 2 { "@2x" } else { "" };
                put(
                    format!("{sprite}{suffix}.json"),
                    &serde_json::to_vec_pretty(&index).unwrap_or_default(),
                )?;
                put(format!("{sprite}{suffix}.png"), &png)?;
            }
        }
    }
    for start in label_ranges(ds) {
        let pbf = riskmap_render::glyphs::range(
            riskmap_render::overview::BUNDLED_FONT,
            0,
            mapstyle::FONTSTACK,
            start,
        )
        .map_err(Error::Input)?;
        put(
            format!("fonts/{}/{start}-{}.pbf", mapstyle::FONTSTACK, start + 255),
            &pbf,
        )?;
    }
    Ok(written)
}

/// Cut and write the tilesets (each one's archives written while the next is cut).
pub fn run(ds: &Dataset, an: &Analysis, params: &VectorParams) -> Result<VectorReport, Error> {
    let cfg = &params.vector;
    validate(cfg).map_err(Error::Input)?;
    let p = mvt_params(cfg);
    let vl = vector_layers(cfg);
    let mut report = VectorReport::default();
    let debug = std::env::var_os("RISKMAP_DEBUG").is_some();
    std::thread::scope(|scope| -> Result<(), Error> {
        let mut writers = Vec::new();
        for crs in crss(&params.crs_out) {
            let t0 = Instant::now();
            let name = stem(cfg, crs);
            let lays = layers(ds, an, cfg, crs, mvt::importance_floor(&p));
            let built = t0.elapsed().as_secs_f64();
            let tiles = mvt::pyramid(&lays, &p);
            let secs = t0.elapsed().as_secs_f64();
            if debug {
                eprintln!(
                    "vector: {name}: layers {built:.2} s, cut {:.2} s",
                    secs - built
                );
            }
            let meta = TileMeta {
                name: format!("{} 矢量瓦片", ds.title),
                description: format!(
                    "riskmap vector tiles (MVT 2.1): {} ({}).",
                    cfg.layers.join(", "),
                    if crs == Crs::Wgs84 {
                        "WGS84 / EPSG:3857".to_string()
                    } else {
                        format!("{crs} shifted for a {crs} basemap")
                    }
                ),
                attribution: params.attribution.clone(),
                bounds: crate::pyramid::bounds_in(ds.region_bbox, crs),
                minzoom: cfg.zoom[0],
                maxzoom: cfg.zoom[1],
                url: params.url.clone(),
            };
            let cut = Cut {
                name,
                meta,
                tiles,
                secs,
            };
            let vl = &vl;
            writers.push(scope.spawn(move || {
                let t = Instant::now();
                let r = write_tileset(&cut, params, vl);
                (cut.name, cut.secs + t.elapsed().as_secs_f64(), r)
            }));
        }
        for w in writers {
            let (name, secs, r) = w
                .join()
                .map_err(|_| Error::Input("vector tile writer thread panicked".into()))?;
            let (n, bytes, thinned, dropped, oversize, outputs) = r?;
            if debug {
                eprintln!("vector: {name}: {n} tiles, {bytes} bytes");
            }
            report.thinned_tiles += thinned;
            report.dropped += dropped;
            report.oversize.extend(oversize);
            report.outputs.extend(outputs);
            report.tilesets.push((name, n, bytes, secs));
        }
        Ok(())
    })?;
    report.outputs.extend(write_styles(ds, params)?);
    Ok(report)
}
