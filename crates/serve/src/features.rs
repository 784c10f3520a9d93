//! OGC API – Features – Part 1: Core (GeoJSON), under `/ogcapi`: the landing page,
//! conformance, an OpenAPI 3.0 description, `/collections` (enterprises, areas, grid,
//! zones, exposure: whichever this build wrote), `/collections/{id}/items` with `bbox`,
//! `limit`, `offset` and next/prev links, property filters (`level`, `district`,
//! `industry`, … per collection, listed as its queryables), and `crs` / `bbox-crs` from
//! Part 2 (CRS84, EPSG:4326 with its latitude-first axes, EPSG:3857); and
//! `/collections/{id}/items/{featureId}`.
//!
//! Enterprises come straight from the dataset (its R-tree for `bbox`); the polygon
//! collections from the GeoJSON outputs the server holds, parsed on first use and
//! indexed by an R-tree of their boxes.

use crate::params::Params;
use crate::{public_base, Shared, State};
use axum::extract::{Extension, Path as AxPath, RawQuery};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use riskmap_render::tile::xy;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
pub const EPSG4326: &str = "http://www.opengis.net/def/crs/EPSG/0/4326";
pub const EPSG3857: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";

const CONFORMANCE: [&str; 4] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
];

/// A collection: its id, title, the GeoJSON output it comes from, the property that
/// names a feature, and the properties it may be filtered by.
struct Coll {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    id_key: &'static str,
    queryables: &'static [&'static str],
}

const COLLS: [Coll; 5] = [
    Coll {
        id: "enterprises",
        title: "企业 Enterprises",
        description: "Every graded enterprise with its level (重大 red / 较大 orange / 一般 yellow / 低 blue) and the reason for it",
        id_key: "id",
        queryables: &["level", "district", "industry"],
    },
    Coll {
        id: "areas",
        title: "区县 Districts by level",
        description: "Each district with its enterprises per level and the district's level (就高 or by score)",
        id_key: "adcode",
        queryables: &["level", "name", "adcode"],
    },
    Coll {
        id: "grid",
        title: "网格 Grid cells by level",
        description: "Grid cells with enterprises, their counts per level and the cell's level",
        id_key: "id",
        queryables: &["level", "district"],
    },
    Coll {
        id: "zones",
        title: "风险区域 Risk zones",
        description: "The continuous risk surface classified into the four levels and vectorised",
        id_key: "id",
        queryables: &["level"],
    },
    Coll {
        id: "exposure",
        title: "敏感目标暴露 Exposed sensitive sites",
        description: "Sensitive sites (schools, hospitals …) inside an orange or red zone or within a red/orange enterprise's radius",
        id_key: "id",
        queryables: &["level", "district", "type"],
    },
];

/// A polygon (or site) collection parsed from its GeoJSON.
pub struct Store {
    items: Vec<(String, [f64; 4], Value)>,
    by_id: HashMap<String, usize>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    extent: [f64; 4],
}

/// The parsed collections of one state (built on the first OGC API request).
#[derive(Default)]
pub struct Stores(HashMap<&'static str, Store>);

fn bbox_of(v: &Value, b: &mut [f64; 4]) {
    match v {
        Value::Array(a) if a.len() >= 2 && a[0].is_number() && a[1].is_number() => {
            let (x, y) = (a[0].as_f64().unwrap_or(0.0), a[1].as_f64().unwrap_or(0.0));
            b[0] = b[0].min(x);
            b[1] = b[1].min(y);
            b[2] = b[2].max(x);
            b[3] = b[3].max(y);
        }
        Value::Array(a) => a.iter().for_each(|c| bbox_of(c, b)),
        _ => {}
    }
}

fn parse_store(bytes: &[u8], id_key: &str) -> Option<Store> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let feats = v.get("features")?.as_array()?;
    let mut items = Vec::with_capacity(feats.len());
    let mut by_id = HashMap::new();
    let mut extent = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for (i, f) in feats.iter().enumerate() {
        let props = f.get("properties").cloned().unwrap_or(Value::Null);
        let id = props
            .get(id_key)
            .and_then(|x| match x {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !by_id.contains_key(s))
            .unwrap_or_else(|| (i + 1).to_string());
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        if let Some(c) = f.get("geometry").and_then(|g| g.get("coordinates")) {
            bbox_of(c, &mut b);
        }
        if b[0] > b[2] {
            continue;
        }
        for k in 0..2 {
            extent[k] = extent[k].min(b[k]);
            extent[k + 2] = extent[k + 2].max(b[k + 2]);
        }
        let mut feature = Map::new();
        feature.insert("type".into(), json!("Feature"));
        feature.insert("id".into(), json!(id));
        feature.insert(
            "geometry".into(),
            f.get("geometry").cloned().unwrap_or(Value::Null),
        );
        feature.insert("properties".into(), props);
        by_id.insert(id.clone(), items.len());
        items.push((id, b, Value::Object(feature)));
    }
    let tree = RTree::bulk_load(
        items
            .iter()
            .enumerate()
            .map(|(i, (_, b, _))| {
                GeomWithData::new(Rectangle::from_corners([b[0], b[1]], [b[2], b[3]]), i)
            })
            .collect(),
    );
    Some(Store {
        items,
        by_id,
        tree,
        extent,
    })
}

fn stores(st: &State) -> &Stores {
    st.features.get_or_init(|| {
        let mut m = HashMap::new();
        for c in COLLS.iter().skip(1) {
            if let Some(b) = st.geojson.get(c.id) {
                if let Some(s) = parse_store(b, c.id_key) {
                    m.insert(c.id, s);
                }
            }
        }
        Stores(m)
    })
}

/// An OGC API exception: `{"code", "description"}` (with riskmap's `error` / `param`).
struct OgcError {
    status: StatusCode,
    code: &'static str,
    param: Option<String>,
    description: String,
}

impl OgcError {
    fn bad(param: &str, description: impl Into<String>) -> OgcError {
        OgcError {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidParameterValue",
            param: Some(param.into()),
            description: description.into(),
        }
    }
    fn not_found(description: impl Into<String>) -> OgcError {
        OgcError {
            status: StatusCode::NOT_FOUND,
            code: "NotFound",
            param: None,
            description: description.into(),
        }
    }
}

impl IntoResponse for OgcError {
    fn into_response(self) -> Response {
        let v = json!({"code": self.code, "description": self.description, "error": self.description, "param": self.param});
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            v.to_string(),
        )
            .into_response()
    }
}

fn respond(v: &Value, ctype: &'static str, crs: Option<&str>) -> Response {
    let mut r = (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        v.to_string(),
    )
        .into_response();
    if let Some(c) = crs {
        if let Ok(h) = header::HeaderValue::from_str(&format!("<{c}>")) {
            r.headers_mut().insert("content-crs", h);
        }
    }
    r
}

fn link(href: String, rel: &str, ctype: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": ctype, "title": title})
}

/// The CRSs answers may be in.
#[derive(Clone, Copy, PartialEq)]
enum OutCrs {
    Crs84,
    Epsg4326,
    Epsg3857,
}

impl OutCrs {
    fn parse(param: &str, v: &str) -> Result<OutCrs, OgcError> {
        let t = v.trim().trim_start_matches('[').trim_end_matches(']');
        let u = t.to_ascii_uppercase();
        if t == CRS84 || u == "CRS84" || u == "OGC:CRS84" {
            Ok(OutCrs::Crs84)
        } else if t == EPSG4326 || u == "EPSG:4326" {
            Ok(OutCrs::Epsg4326)
        } else if t == EPSG3857 || u == "EPSG:3857" {
            Ok(OutCrs::Epsg3857)
        } else {
            Err(OgcError::bad(
                param,
                format!(
                    "unsupported CRS `{}`; supported: {CRS84}, {EPSG4326}, {EPSG3857}",
                    v.chars().take(100).collect::<String>()
                ),
            ))
        }
    }
    fn uri(self) -> &'static str {
        match self {
            OutCrs::Crs84 => CRS84,
            OutCrs::Epsg4326 => EPSG4326,
            OutCrs::Epsg3857 => EPSG3857,
        }
    }
    /// A lon/lat position in this CRS (axis order as the CRS defines it).
    fn of_lonlat(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            OutCrs::Crs84 => (lon, lat),
            OutCrs::Epsg4326 => (lat, lon),
            OutCrs::Epsg3857 => xy(lon, lat.clamp(-85.06, 85.06)),
        }
    }
    /// A position in this CRS to lon/lat.
    fn to_lonlat(self, a: f64, b: f64) -> (f64, f64) {
        match self {
            OutCrs::Crs84 => (a, b),
            OutCrs::Epsg4326 => (b, a),
            OutCrs::Epsg3857 => riskmap_render::tile::lnglat(a, b),
        }
    }
}

fn reproject(v: &mut Value, crs: OutCrs, dec: u32) {
    if let Value::Array(a) = v {
        if a.len() >= 2 && a[0].is_number() && a[1].is_number() {
            let (x, y) = crs.of_lonlat(a[0].as_f64().unwrap_or(0.0), a[1].as_f64().unwrap_or(0.0));
            let m = 10f64.powi(dec as i32);
            a[0] = json!((x * m).round() / m);
            a[1] = json!((y * m).round() / m);
        } else {
            a.iter_mut().for_each(|c| reproject(c, crs, dec));
        }
    }
}

fn coll(id: &str) -> Option<&'static Coll> {
    COLLS.iter().find(|c| c.id == id)
}

fn available(st: &State) -> Vec<&'static Coll> {
    COLLS
        .iter()
        .filter(|c| c.id == "enterprises" || stores(st).0.contains_key(c.id))
        .collect()
}

fn extent_of(st: &State, c: &Coll) -> [f64; 4] {
    match stores(st).0.get(c.id) {
        Some(s) if s.extent[0] <= s.extent[2] => s.extent,
        _ => st.ds.region_bbox,
    }
}

fn collection_json(st: &State, c: &Coll, base: &str) -> Value {
    let b = extent_of(st, c);
    let root = format!("{base}/ogcapi/collections/{}", c.id);
    json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [b], "crs": CRS84}},
        "crs": [CRS84, EPSG4326, EPSG3857],
        "storageCrs": CRS84,
        "queryables": c.queryables,
        "links": [
            link(root.clone(), "self", "application/json", "this collection"),
            link(format!("{root}/items"), "items", "application/geo+json", "the features (GeoJSON)"),
            link(format!("{base}/geojson/{}.geojson", c.id), "alternate", "application/geo+json", "the whole collection as one GeoJSON file"),
        ],
    })
}

/// `GET /ogcapi`: the landing page.
pub(crate) async fn h_landing(
    Extension(st): Extension<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(e) = only_f(q.as_deref()) {
        return e.into_response();
    }
    let base = public_base(&st.cfg, &headers);
    let v = json!({
        "title": st.ds.title,
        "description": "riskmap: the four-colour work-safety risk map (四色安全风险分布图) as OGC API – Features",
        "links": [
            link(format!("{base}/ogcapi"), "self", "application/json", "this document"),
            link(format!("{base}/ogcapi/api"), "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
            link(format!("{base}/ogcapi/conformance"), "conformance", "application/json", "conformance classes"),
            link(format!("{base}/ogcapi/collections"), "data", "application/json", "the collections"),
        ],
    });
    respond(&v, "application/json", None)
}

/// Only `f=json` (or nothing) is accepted where a document takes no other parameter.
fn only_f(q: Option<&str>) -> Result<(), OgcError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.unwrap_or(""))
        .map_err(|e| OgcError::bad("query", format!("malformed query string: {e}")))?;
    for (k, v) in pairs {
        if k != "f" {
            return Err(OgcError::bad(&k, format!("unknown parameter `{k}`")));
        }
        if v != "json" {
            return Err(OgcError::bad("f", format!("f must be json, got `{v}`")));
        }
    }
    Ok(())
}

/// `GET /ogcapi/conformance`.
pub(crate) async fn h_conformance(RawQuery(q): RawQuery) -> Response {
    if let Err(e) = only_f(q.as_deref()) {
        return e.into_response();
    }
    respond(
        &json!({"conformsTo": CONFORMANCE}),
        "application/json",
        None,
    )
}

/// `GET /ogcapi/collections`.
pub(crate) async fn h_collections(
    Extension(st): Extension<Shared>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(e) = only_f(q.as_deref()) {
        return e.into_response();
    }
    let base = public_base(&st.cfg, &headers);
    let cs: Vec<Value> = available(&st)
        .into_iter()
        .map(|c| collection_json(&st, c, &base))
        .collect();
    let v = json!({
        "links": [link(format!("{base}/ogcapi/collections"), "self", "application/json", "this document")],
        "crs": [CRS84, EPSG4326, EPSG3857],
        "collections": cs,
    });
    respond(&v, "application/json", None)
}

fn find_coll(st: &State, id: &str) -> Result<&'static Coll, OgcError> {
    available(st)
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| {
            OgcError::not_found(format!(
                "no collection `{}`; collections: {}",
                id.chars().take(64).collect::<String>(),
                available(st)
                    .iter()
                    .map(|c| c.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// `GET /ogcapi/collections/{id}`.
pub(crate) async fn h_collection(
    Extension(st): Extension<Shared>,
    AxPath(id): AxPath<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(e) = only_f(q.as_deref()) {
        return e.into_response();
    }
    match find_coll(&st, &id) {
        Ok(c) => respond(
            &collection_json(&st, c, &public_base(&st.cfg, &headers)),
            "application/json",
            None,
        ),
        Err(e) => e.into_response(),
    }
}

/// `GET /ogcapi/collections/{id}/items`.
pub(crate) async fn h_items(
    Extension(st): Extension<Shared>,
    AxPath(id): AxPath<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    match items(&st, &id, q.as_deref(), &headers) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn items(st: &State, id: &str, q: Option<&str>, headers: &HeaderMap) -> Result<Response, OgcError> {
    let c = find_coll(st, id)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.unwrap_or(""))
        .map_err(|e| OgcError::bad("query", format!("malformed query string: {e}")))?;
    let mut seen = std::collections::HashSet::new();
    for (k, _) in &pairs {
        let known = matches!(
            k.as_str(),
            "limit" | "offset" | "bbox" | "bbox-crs" | "crs" | "f"
        ) || c.queryables.contains(&k.as_str());
        if !known {
            return Err(OgcError::bad(
                k,
                format!(
                    "unknown parameter `{}`; {} takes limit, offset, bbox, bbox-crs, crs and {}",
                    k.chars().take(64).collect::<String>(),
                    c.id,
                    c.queryables.join(", ")
                ),
            ));
        }
        if !seen.insert(k.clone()) {
            return Err(OgcError::bad(k, format!("`{k}` is given twice")));
        }
    }
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim());
    if let Some(f) = get("f") {
        if f != "json" {
            return Err(OgcError::bad("f", format!("f must be json, got `{f}`")));
        }
    }
    let num = |k: &str| -> Result<Option<usize>, OgcError> {
        match get(k) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
                OgcError::bad(
                    k,
                    format!(
                        "`{k}` must be a whole number ≥ 0, got `{}`",
                        v.chars().take(32).collect::<String>()
                    ),
                )
            }),
        }
    };
    let limit = num("limit")?.unwrap_or(10);
    if limit == 0 {
        return Err(OgcError::bad("limit", "limit must be at least 1"));
    }
    let limit = limit.min(st.cfg.max_limit);
    let offset = num("offset")?.unwrap_or(0);
    let out = match get("crs") {
        Some(v) => OutCrs::parse("crs", v)?,
        None => OutCrs::Crs84,
    };
    let bbox_crs = match get("bbox-crs") {
        Some(v) => OutCrs::parse("bbox-crs", v)?,
        None => OutCrs::Crs84,
    };
    let bbox = match get("bbox") {
        None | Some("") => None,
        Some(v) => {
            let n: Vec<f64> = v
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    OgcError::bad(
                        "bbox",
                        format!(
                            "bbox must be 4 numbers, got `{}`",
                            v.chars().take(100).collect::<String>()
                        ),
                    )
                })?;
            if n.len() != 4 || n.iter().any(|x| !x.is_finite()) {
                return Err(OgcError::bad(
                    "bbox",
                    "bbox must be 4 finite numbers (2D): minx,miny,maxx,maxy",
                ));
            }
            let (w, s) = bbox_crs.to_lonlat(n[0], n[1]);
            let (e, nn) = bbox_crs.to_lonlat(n[2], n[3]);
            let b = [w.min(e), s.min(nn), w.max(e), s.max(nn)];
            if (b[2] - b[0]) > 360.0 || (b[3] - b[1]) > 180.0 {
                return Err(OgcError::bad("bbox", "bbox is larger than the world"));
            }
            Some(b)
        }
    };
    let dec = st.decimals;
    let (matched, page): (usize, Vec<Value>) = if c.id == "enterprises" {
        let p = Params::parse(q).map_err(|e| OgcError::bad("query", e.error))?;
        let filter = crate::api::Filter::from(&p)
            .map_err(|e| OgcError::bad(e.param.as_deref().unwrap_or("level"), e.error))?;
        let ds = &st.ds;
        let candidates: Vec<usize> = match bbox {
            Some(b) => {
                let mut v = ds.index().in_bbox(b[0], b[1], b[2], b[3]);
                v.sort_unstable();
                v
            }
            None => (0..ds.enterprises.len()).collect(),
        };
        let sel: Vec<usize> = candidates
            .into_iter()
            .filter(|&i| filter.keep(st, i))
            .collect();
        let page = sel
            .iter()
            .skip(offset)
            .take(limit)
            .map(|&i| enterprise_feature(st, i, out, dec))
            .collect();
        (sel.len(), page)
    } else {
        let s = stores(st)
            .0
            .get(c.id)
            .ok_or_else(|| OgcError::not_found(format!("no collection `{}`", c.id)))?;
        let mut idx: Vec<usize> = match bbox {
            Some(b) => s
                .tree
                .locate_in_envelope_intersecting(&AABB::from_corners([b[0], b[1]], [b[2], b[3]]))
                .map(|g| g.data)
                .collect(),
            None => (0..s.items.len()).collect(),
        };
        idx.sort_unstable();
        let want: Vec<(&str, &str)> = c
            .queryables
            .iter()
            .filter_map(|k| get(k).filter(|v| !v.is_empty()).map(|v| (*k, v)))
            .collect();
        let sel: Vec<usize> = idx
            .into_iter()
            .filter(|&i| {
                let props = &s.items[i].2["properties"];
                want.iter().all(|(k, v)| match &props[*k] {
                    Value::String(x) => {
                        x == v || (*k == "level" && level_alias(v) == Some(x.as_str()))
                    }
                    Value::Number(n) => n.to_string() == *v,
                    _ => false,
                })
            })
            .collect();
        let page = sel
            .iter()
            .skip(offset)
            .take(limit)
            .map(|&i| stored_feature(s, i, out, dec))
            .collect();
        (sel.len(), page)
    };
    let base = public_base(&st.cfg, headers);
    let here = format!("{base}/ogcapi/collections/{}/items", c.id);
    let with_offset = |o: usize| {
        let mut q: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "offset")
            .cloned()
            .collect();
        q.push(("offset".into(), o.to_string()));
        if !q.iter().any(|(k, _)| k == "limit") {
            q.push(("limit".into(), limit.to_string()));
        }
        format!(
            "{here}?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    };
    let mut links = vec![
        link(
            with_offset(offset),
            "self",
            "application/geo+json",
            "this page",
        ),
        link(
            format!("{base}/ogcapi/collections/{}", c.id),
            "collection",
            "application/json",
            "the collection",
        ),
    ];
    if offset + page.len() < matched {
        links.push(link(
            with_offset(offset + limit),
            "next",
            "application/geo+json",
            "next page",
        ));
    }
    if offset > 0 {
        links.push(link(
            with_offset(offset.saturating_sub(limit)),
            "prev",
            "application/geo+json",
            "previous page",
        ));
    }
    let v = json!({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": page.len(),
        "features": page,
        "links": links,
    });
    Ok(respond(&v, "application/geo+json", Some(out.uri())))
}

/// Chinese level names to the level keys the files hold.
fn level_alias(v: &str) -> Option<&'static str> {
    Some(match v {
        "重大" | "重大风险" | "red" => "red",
        "较大" | "较大风险" | "orange" => "orange",
        "一般" | "一般风险" | "yellow" => "yellow",
        "低" | "低风险" | "blue" => "blue",
        "未评估" | "unassessed" => "unassessed",
        _ => return None,
    })
}

/// Feature `i` of a parsed collection in `out`.
fn stored_feature(s: &Store, i: usize, out: OutCrs, dec: u32) -> Value {
    let mut f = s.items[i].2.clone();
    if out != OutCrs::Crs84 {
        if let Some(c) = f.get_mut("geometry").and_then(|g| g.get_mut("coordinates")) {
            reproject(c, out, if out == OutCrs::Epsg3857 { 2 } else { dec });
        }
    }
    f
}

fn enterprise_feature(st: &State, i: usize, out: OutCrs, dec: u32) -> Value {
    let ds = &st.ds;
    let e = &ds.enterprises[i];
    let (x, y) = out.of_lonlat(e.lon, e.lat);
    let d = if out == OutCrs::Epsg3857 { 2 } else { dec };
    let m = 10f64.powi(d as i32);
    json!({
        "type": "Feature",
        "id": e.id,
        "geometry": {"type": "Point", "coordinates": [(x * m).round() / m, (y * m).round() / m]},
        "properties": riskmap_store::geojson::EnterpriseProps { ds, i },
    })
}

/// `GET /ogcapi/collections/{id}/items/{fid}`.
pub(crate) async fn h_item(
    Extension(st): Extension<Shared>,
    AxPath((id, fid)): AxPath<(String, String)>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    match item(&st, &id, &fid, q.as_deref(), &headers) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn item(
    st: &State,
    id: &str,
    fid: &str,
    q: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, OgcError> {
    let c = find_coll(st, id)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.unwrap_or(""))
        .map_err(|e| OgcError::bad("query", format!("malformed query string: {e}")))?;
    let mut out = OutCrs::Crs84;
    for (k, v) in &pairs {
        match k.as_str() {
            "crs" => out = OutCrs::parse("crs", v)?,
            "f" if v == "json" => {}
            _ => {
                return Err(OgcError::bad(
                    k,
                    format!("unknown parameter `{k}`; an item takes crs"),
                ))
            }
        }
    }
    let missing = || {
        OgcError::not_found(format!(
            "no feature `{}` in {}",
            fid.chars().take(64).collect::<String>(),
            c.id
        ))
    };
    let mut f = if c.id == "enterprises" {
        let &i = st.by_id.get(fid).ok_or_else(missing)?;
        enterprise_feature(st, i, out, st.decimals)
    } else {
        let s = stores(st).0.get(c.id).ok_or_else(missing)?;
        let &i = s.by_id.get(fid).ok_or_else(missing)?;
        stored_feature(s, i, out, st.decimals)
    };
    let base = public_base(&st.cfg, headers);
    f["links"] = json!([
        link(
            format!(
                "{base}/ogcapi/collections/{}/items/{}",
                c.id,
                urlencode(fid)
            ),
            "self",
            "application/geo+json",
            "this feature"
        ),
        link(
            format!("{base}/ogcapi/collections/{}", c.id),
            "collection",
            "application/json",
            "the collection"
        ),
    ]);
    Ok(respond(&f, "application/geo+json", Some(out.uri())))
}

fn urlencode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// `GET /ogcapi/api`: the OpenAPI 3.0 description of these paths.
pub(crate) async fn h_api(Extension(st): Extension<Shared>, headers: HeaderMap) -> Response {
    let base = public_base(&st.cfg, &headers);
    let p = |name: &str, desc: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "description": desc, "schema": schema});
    let coll_ids: Vec<&str> = available(&st).iter().map(|c| c.id).collect();
    let ok = |d: &str, t: &str| json!({"200": {"description": d, "content": {t: {}}}, "400": {"description": "bad parameter"}, "404": {"description": "not found"}});
    let v = json!({
        "openapi": "3.0.3",
        "info": {"title": format!("{} — OGC API Features", st.ds.title), "version": env!("CARGO_PKG_VERSION")},
        "servers": [{"url": format!("{base}/ogcapi")}],
        "paths": {
            "/": {"get": {"summary": "landing page", "operationId": "getLandingPage", "responses": ok("landing page", "application/json")}},
            "/conformance": {"get": {"summary": "conformance classes", "operationId": "getConformance", "responses": ok("conformance", "application/json")}},
            "/collections": {"get": {"summary": "the collections", "operationId": "getCollections", "responses": ok("collections", "application/json")}},
            "/collections/{collectionId}": {"get": {"summary": "one collection", "operationId": "describeCollection",
                "parameters": [{"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string", "enum": coll_ids}}],
                "responses": ok("collection", "application/json")}},
            "/collections/{collectionId}/items": {"get": {"summary": "features", "operationId": "getFeatures",
                "parameters": [
                    {"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string", "enum": coll_ids}},
                    p("limit", "features per page (default 10)", json!({"type": "integer", "minimum": 1, "maximum": st.cfg.max_limit, "default": 10})),
                    p("offset", "features to skip", json!({"type": "integer", "minimum": 0, "default": 0})),
                    p("bbox", "minx,miny,maxx,maxy", json!({"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}})),
                    p("bbox-crs", "CRS of bbox", json!({"type": "string", "format": "uri"})),
                    p("crs", "CRS of the answer", json!({"type": "string", "format": "uri"})),
                    p("level", "red, orange, yellow, blue, unassessed (or 重大, 较大, 一般, 低)", json!({"type": "string"})),
                    p("district", "district name (or adcode for enterprises)", json!({"type": "string"})),
                    p("industry", "industry (enterprises)", json!({"type": "string"})),
                ],
                "responses": ok("features", "application/geo+json")}},
            "/collections/{collectionId}/items/{featureId}": {"get": {"summary": "one feature", "operationId": "getFeature",
                "parameters": [
                    {"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string", "enum": coll_ids}},
                    {"name": "featureId", "in": "path", "required": true, "schema": {"type": "string"}},
                    p("crs", "CRS of the answer", json!({"type": "string", "format": "uri"})),
                ],
                "responses": ok("feature", "application/geo+json")}},
        },
    });
    respond(&v, "application/vnd.oai.openapi+json;version=3.0", None)
}

/// A query that `coll` filters on `k` (for tests and docs).
pub fn queryables(collection: &str) -> &'static [&'static str] {
    coll(collection).map(|c| c.queryables).unwrap_or(&[])
}
