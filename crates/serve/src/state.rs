//! The state a server answers from, built from a generation's outputs (`state`,
//! `state_shared`), from a generation an update patched (`state_patched`), or from an
//! update's state before its files are written (`state_early`, `serve --watch`).

use crate::{tiles, ServeConfig, ServeParams, State};
use geo::BoundingRect;
use riskmap_analyze::Analysis;
use riskmap_core::dataset::Dataset;
use riskmap_core::index::{box_tree, PointIndex};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Build the shared state from a loaded dataset and its analysis and the outputs in
/// `out` (the MBTiles archives and GeoJSON files `build` wrote).
pub fn state(
    ds: Dataset,
    an: Analysis,
    out: &std::path::Path,
    params: &ServeParams,
) -> Result<State, riskmap_core::Error> {
    state_shared(Arc::new(ds), Arc::new(an), out, params)
}

/// [`state`] from a dataset and analysis already shared (`serve --watch` keeps them to
/// compare the next update with).
pub fn state_shared(
    ds: Arc<Dataset>,
    an: Arc<Analysis>,
    out: &std::path::Path,
    params: &ServeParams,
) -> Result<State, riskmap_core::Error> {
    state_with(ds, an, out, params, None)
}

/// [`state_shared`] for a generation an update wrote by patching the archives of the
/// generation `base` serves: its pyramids with the replaced tiles, instead of every
/// archive read again (seconds for a city's).
pub fn state_patched(
    ds: Arc<Dataset>,
    an: Arc<Analysis>,
    out: &std::path::Path,
    params: &ServeParams,
    base: &State,
    patches: &[riskmap_store::pyramid::PyramidPatch],
) -> Result<State, riskmap_core::Error> {
    let mut pyramids = base.pyramids.clone();
    for patch in patches {
        match pyramids.get_mut(&patch.name) {
            Some(p) => p.patch(&patch.changed),
            None => {
                // an archive the server does not hold: read them all
                return state_with(ds, an, out, params, None);
            }
        }
    }
    // the vector tilesets are cut whole by every update: read again from the generation
    for (name, p) in pyramids.iter_mut().filter(|(_, p)| p.is_vector()) {
        let path = out.join("mbtiles").join(format!("{name}.mbtiles"));
        match tiles::Pyramid::open(&path) {
            Ok(v) => *p = v,
            Err(_) => return state_with(ds, an, out, params, None),
        }
    }
    state_with(ds, an, out, params, Some(pyramids))
}

fn state_with(
    ds: Arc<Dataset>,
    an: Arc<Analysis>,
    out: &std::path::Path,
    params: &ServeParams,
    pyramids: Option<BTreeMap<String, tiles::Pyramid>>,
) -> Result<State, riskmap_core::Error> {
    // the R-tree now, not on the first request that needs it
    ds.index();
    let missing = |what: &str| {
        riskmap_core::Error::Input(format!(
            "{}: {what} not found — run `riskmap build` first (with [tiles] enabled, or `riskmap tiles`)",
            out.display()
        ))
    };
    let mb = out.join("mbtiles");
    if !mb.is_dir() {
        return Err(missing("mbtiles/"));
    }
    let pyramids = match pyramids {
        Some(p) => p,
        None => tiles::open_all(&mb).map_err(riskmap_core::Error::Input)?,
    };
    if pyramids.is_empty() {
        return Err(missing("mbtiles/*.mbtiles"));
    }
    let mut geojson = BTreeMap::new();
    let rd = std::fs::read_dir(out).map_err(|e| riskmap_core::Error::Io {
        path: out.to_path_buf(),
        source: e,
    })?;
    for e in rd.flatten() {
        let p = e.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if let Some(stem) = name.strip_suffix(".geojson") {
            if stem.starts_with('.') {
                continue;
            }
            let bytes = std::fs::read(&p).map_err(|e| riskmap_core::Error::Io {
                path: p.clone(),
                source: e,
            })?;
            geojson.insert(stem.to_string(), bytes::Bytes::from(bytes));
        }
    }
    if !geojson.contains_key("districts") && !ds.districts.is_empty() {
        return Err(missing("districts.geojson"));
    }
    let generation = out
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .filter(|n| n.parse::<u64>().is_ok())
        .unwrap_or_default();
    let changes = riskmap_store::changes::read_since(out, None);
    Ok(assemble(
        ds, an, params, pyramids, geojson, generation, changes,
    ))
}

/// The state of a generation `serve --watch` is writing, served before its files are
/// written: `base`'s pyramids with the update's replaced tiles, the GeoJSON outputs'
/// bytes as the files will hold them, `base`'s change records and the new one.
#[allow(clippy::too_many_arguments)]
pub fn state_early(
    ds: Arc<Dataset>,
    an: Arc<Analysis>,
    params: &ServeParams,
    base: &State,
    patches: &[riskmap_store::pyramid::PyramidPatch],
    geojson_files: &[(String, Vec<u8>)],
    entry: &riskmap_store::changes::Entry,
    generation: u64,
) -> Option<State> {
    ds.index();
    let mut pyramids = base.pyramids.clone();
    for patch in patches {
        pyramids.get_mut(&patch.name)?.patch(&patch.changed);
    }
    let geojson = geojson_files
        .iter()
        .filter_map(|(name, bytes)| {
            let stem = name.strip_suffix(".geojson")?;
            Some((stem.to_string(), bytes::Bytes::from(bytes.clone())))
        })
        .collect();
    let mut changes: Vec<_> = base
        .changes
        .iter()
        .filter(|e| e.generation < entry.generation)
        .cloned()
        .collect();
    changes.push(entry.clone());
    // the generation folder's name
    let generation = format!("{generation:06}");
    Some(assemble(
        ds, an, params, pyramids, geojson, generation, changes,
    ))
}

/// A state from its parts (the indexes built here).
fn assemble(
    ds: Arc<Dataset>,
    an: Arc<Analysis>,
    params: &ServeParams,
    pyramids: BTreeMap<String, tiles::Pyramid>,
    geojson: BTreeMap<String, bytes::Bytes>,
    generation: String,
    changes: Vec<riskmap_store::changes::Entry>,
) -> State {
    let by_id = ds
        .enterprises
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.clone(), i))
        .collect::<HashMap<_, _>>();
    let mut points_of = vec![vec![]; ds.enterprises.len()];
    for (k, p) in ds.points.iter().enumerate() {
        if let Some(&i) = by_id.get(&p.enterprise_id) {
            points_of[i].push(k);
        }
    }
    let mut dangers_of = vec![vec![]; ds.enterprises.len()];
    for (k, h) in ds.dangers.iter().enumerate() {
        if let Some(&i) = by_id.get(&h.enterprise_id) {
            dangers_of[i].push(k);
        }
    }
    let sites_index = (!ds.sites.is_empty())
        .then(|| PointIndex::new(&ds.sites.iter().map(|s| (s.lon, s.lat)).collect::<Vec<_>>()));
    let zone_tree = box_tree(an.zones.iter().flatten().map(|z| z.shape.bounding_rect()));
    let cell_tree = box_tree(an.grid.iter().flatten().map(|c| c.shape.bounding_rect()));
    let t256 = tiles::transparent_png(256);
    let t512 = tiles::transparent_png(512);
    let etag = |b: &[u8]| {
        use sha2::Digest;
        format!("\"{:x}\"", sha2::Sha256::digest(b))
    };
    let transparent = [
        (bytes::Bytes::from(t256.clone()), etag(&t256)),
        (bytes::Bytes::from(t512.clone()), etag(&t512)),
    ];
    let cfg = params.serve.clone();
    let mut meta = meta_json(&ds, &pyramids, &geojson, &cfg);
    meta["generation"] = serde_json::json!(generation);
    // the fire stations' response time the reach and the gaps stand for (the viewer's
    // labels say it)
    if let Some(em) = &an.emergency {
        meta["fire_response_min"] = serde_json::json!(em.response_min);
        meta["fire_reach_method"] = serde_json::json!(if em.roads.is_some() {
            "road_network"
        } else {
            "straight_line"
        });
    }
    State {
        ds,
        an,
        cfg,
        decimals: params.decimals,
        by_id,
        points_of,
        dangers_of,
        sites_index,
        zone_tree,
        cell_tree,
        pyramids,
        geojson,
        transparent,
        meta: bytes::Bytes::from(meta.to_string()),
        generation,
        changes,
        features: Default::default(),
        monitoring: params.monitoring.clone(),
    }
}

fn meta_json(
    ds: &Dataset,
    pyramids: &BTreeMap<String, tiles::Pyramid>,
    geojson: &BTreeMap<String, bytes::Bytes>,
    cfg: &ServeConfig,
) -> serde_json::Value {
    use riskmap_core::model::{level_zh, Level};
    let b = ds.region_bbox;
    // the raster layers (the vector tilesets are listed apart)
    let base: Vec<&String> = pyramids
        .iter()
        .filter(|(k, p)| !k.contains('@') && !p.is_vector())
        .map(|(k, _)| k)
        .collect();
    let vector: Vec<serde_json::Value> = pyramids
        .iter()
        .filter(|(_, p)| p.is_vector())
        .map(|(k, p)| {
            serde_json::json!({
                "name": k,
                "tilejson": format!("/tiles/{k}.json"),
                "tiles": format!("/tiles/{k}/{{z}}/{{x}}/{{y}}.pbf"),
                "minzoom": p.minzoom,
                "maxzoom": p.maxzoom,
            })
        })
        .collect();
    let layers: Vec<&String> = base.iter().copied().filter(|k| !k.contains('_')).collect();
    let layers_gcj: Vec<&String> = base
        .iter()
        .copied()
        .filter(|k| k.ends_with("_gcj02"))
        .collect();
    let (minz, maxz) = pyramids
        .values()
        .filter(|p| !p.is_vector())
        .fold((u8::MAX, 0u8), |a, p| {
            (a.0.min(p.minzoom), a.1.max(p.maxzoom))
        });
    let en = |l: Option<Level>| match l {
        Some(Level::Red) => "Major",
        Some(Level::Orange) => "Significant",
        Some(Level::Yellow) => "General",
        Some(Level::Blue) => "Low",
        None => "Unassessed",
    };
    let levels: Vec<serde_json::Value> = riskmap_core::model::LEVELS
        .iter()
    .map(|&l| {
        serde_json::json!({"key": riskmap_core::model::level_key(l), "zh": level_zh(l), "en": en(l), "color": ds.style.color(l)})
    })
    .collect();
    let mut industries: Vec<&str> = ds
        .enterprises
        .iter()
        .map(|e| {
            e.industry
                .as_deref()
                .unwrap_or(riskmap_core::model::UNCLASSIFIED)
        })
        .collect();
    industries.sort_unstable();
    industries.dedup();
    let basemaps = cfg.basemap_list();
    let basemap = basemaps.iter().find(|b| b["overlay"] == false).cloned();
    serde_json::json!({
        "title": ds.title,
        "data_date": ds.data_date,
        "bounds": b,
        "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 9],
        "minzoom": if minz == u8::MAX { 0 } else { minz },
        "maxzoom": maxz,
        "tile_url": "/tiles/{layer}/{z}/{x}/{y}.png",
        "layers": layers,
        "layers_gcj02": layers_gcj,
        "vector": vector,
        "retina": pyramids.keys().any(|k| k.contains("@2x")),
        "basemap": basemap,
        "basemaps": basemaps,
        "levels": levels,
        "districts": ds.districts.districts.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
        "industries": industries,
        "geojson": geojson.keys().collect::<Vec<_>>(),
        "max_limit": cfg.max_limit,
    })
}
