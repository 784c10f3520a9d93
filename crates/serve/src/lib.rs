//! riskmap-serve: the built outputs over HTTP — tiles from the MBTiles archives, the
//! query API, every GeoJSON output, and the offline web viewer (Leaflet vendored in
//! `viewer/`, compiled into the binary).
//!
//! Owns: axum, tokio and the viewer (nothing else in riskmap compiles them). Must not
//! know: the config file or how a generation is loaded (`riskmap serve` passes a
//! [`ServeParams`] and a [`Reload`] closure that loads one).
//!
//! Conventions (after maplibre/martin): tiles carry a strong ETag and `Cache-Control`,
//! an empty tile inside a layer's range is a transparent PNG (200), a tile outside its
//! zoom range or region is 404; JSON is compressed (gzip / br); every bad request is a
//! 400 with `{"error", "param"}`; a panic in a handler becomes a 500, never a dead server.

mod alarms;
pub mod api;
mod config;
pub mod features;
mod live;
pub mod params;
mod state;
mod styles;
pub mod tiles;
mod viewer;
pub mod wmts;

pub use alarms::{now_ms, AlarmEvents, ReadingsHandle, MAX_READINGS_BODY};
pub use config::{ServeConfig, ServeParams};
pub use live::{PendingGuard, Watch, WatchHandle};
pub use state::{state, state_early, state_patched, state_shared};

use axum::body::Body;
use axum::extract::{Extension, Path as AxPath, RawQuery, Request};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use params::{ApiError, Params};
use riskmap_analyze::Analysis;
use riskmap_core::dataset::Dataset;
use riskmap_core::index::{BoxTree, PointIndex};
use riskmap_render::tile::Tile;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Longest accepted request target (path + query), in bytes.
pub const MAX_URI: usize = 4096;
/// Largest accepted request body, in bytes.
pub const MAX_BODY: u64 = 16 * 1024;

/// Everything the handlers read; built once, shared read-only.
pub struct State {
    pub ds: Arc<Dataset>,
    pub an: Arc<Analysis>,
    pub cfg: ServeConfig,
    /// Decimals of coordinates in answers (`output.decimals`, as the files have).
    pub decimals: u32,
    pub by_id: HashMap<String, usize>,
    pub points_of: Vec<Vec<usize>>,
    pub dangers_of: Vec<Vec<usize>>,
    pub sites_index: Option<PointIndex>,
    pub zone_tree: BoxTree,
    pub cell_tree: BoxTree,
    pub pyramids: BTreeMap<String, tiles::Pyramid>,
    pub geojson: BTreeMap<String, bytes::Bytes>,
    pub transparent: [(bytes::Bytes, String); 2],
    pub meta: bytes::Bytes,
    /// The output generation served (its folder name, e.g. `000008`; empty for a folder
    /// without generations): part of every ETag, so a cached answer of one generation is
    /// never taken for another's.
    pub generation: String,
    /// The change records the generation carries (`changes/`), oldest first.
    pub changes: Vec<riskmap_store::changes::Entry>,
    /// The OGC API collections parsed from the GeoJSON (on the first request for them).
    pub features: std::sync::OnceLock<features::Stores>,
    /// `[monitoring]`: the live alarm engine's settings.
    pub monitoring: riskmap_analyze::monitoring::MonitorConfig,
}

impl State {
    /// An ETag of this generation: the content's tag with the generation in front.
    pub fn etag(&self, content: &str) -> String {
        if self.generation.is_empty() {
            return content.to_string();
        }
        format!("\"g{}-{}", self.generation, content.trim_start_matches('"'))
    }
}

/// The state requests are answered from: one generation at a time, swapped whole when
/// a new generation is loaded. A request takes the `Arc` once, when it arrives, so it
/// finishes on the generation it started on and no answer mixes two.
pub struct Live {
    current: std::sync::RwLock<Shared>,
    /// The change record of each generation switched in, to `/api/events`.
    pub(crate) events: tokio::sync::broadcast::Sender<Arc<str>>,
    /// Updates of the watcher under way (`serve --watch`): their generations are handed
    /// over, not loaded by [`follow_generations`].
    pub(crate) pending: std::sync::atomic::AtomicUsize,
    /// The monitoring alarm engine: outlives generations (a new one's points replace
    /// the old, the state of the points kept is kept).
    pub(crate) monitor: alarms::LiveMonitor,
}

impl Live {
    pub fn new(st: Shared) -> Arc<Live> {
        Arc::new(Live {
            monitor: alarms::monitor_for(&st),
            current: std::sync::RwLock::new(st),
            events: tokio::sync::broadcast::channel(64).0,
            pending: Default::default(),
        })
    }
    /// The generation to answer the next request from.
    pub fn get(&self) -> Shared {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
    /// Switch to a newly loaded generation, and send its change record to the
    /// `/api/events` listeners.
    pub fn set(&self, st: Shared) {
        self.monitor.repoint(&st.ds.monitoring_points);
        let event = live::own_entry(&st)
            .and_then(|e| serde_json::to_string(e).ok())
            .map(Arc::<str>::from);
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = st;
        if let Some(e) = event {
            let _ = self.events.send(e);
        }
    }

    /// Switch without an event: the same generation, from its written files (served
    /// early by `serve --watch`, its event sent then).
    pub fn set_quiet(&self, st: Shared) {
        self.monitor.repoint(&st.ds.monitoring_points);
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = st;
    }
}

/// Hands each request the current generation's state.
async fn with_generation(
    axum::extract::State(live): axum::extract::State<Arc<Live>>,
    mut req: Request,
    next: Next,
) -> Response {
    let st = live.get();
    let generation = HeaderValue::from_str(&st.generation).ok();
    req.extensions_mut().insert(st);
    let mut res = next.run(req).await;
    // which generation answered: integrators can tell a rebuild from a cache
    if let Some(g) = generation.filter(|g| !g.is_empty()) {
        res.headers_mut().insert("x-riskmap-generation", g);
    }
    res
}

/// What `serve` needs beyond the dataset.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub out: PathBuf,
    pub addr: String,
}

type Shared = Arc<State>;

/// Path parameters whose rejection (a segment that is not UTF-8 once percent-decoded,
/// say) is the API's JSON 400 naming the path, not axum's plain-text one.
struct ApiPath<T>(T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match AxPath::<T>::from_request_parts(parts, state).await {
            Ok(AxPath(t)) => Ok(ApiPath(t)),
            Err(e) => {
                Err(ApiError::bad("path", format!("bad path: {}", e.body_text())).into_response())
            }
        }
    }
}

fn json_response(v: &serde_json::Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        v.to_string(),
    )
        .into_response()
}

fn api_result(r: Result<serde_json::Value, ApiError>) -> Response {
    match r {
        Ok(v) => json_response(&v),
        Err(e) => e.into_response(),
    }
}

async fn h_meta(Extension(st): Extension<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        st.meta.clone(),
    )
        .into_response()
}

async fn h_enterprises(Extension(st): Extension<Shared>, RawQuery(q): RawQuery) -> Response {
    api_result(Params::parse(q.as_deref()).and_then(|p| api::enterprises(&st, &p)))
}

async fn h_card(
    Extension(st): Extension<Shared>,
    Extension(live): Extension<Arc<Live>>,
    ApiPath(id): ApiPath<String>,
) -> Response {
    api_result(api::card(&st, &id).map(|mut card| {
        if let Some(mut m) = alarms::card_section(&live, &id) {
            alarms::place(&st, &mut m["active"]);
            card["monitoring"] = m;
        }
        card
    }))
}

async fn h_at(Extension(st): Extension<Shared>, RawQuery(q): RawQuery) -> Response {
    api_result(Params::parse(q.as_deref()).and_then(|p| api::at(&st, &p)))
}

async fn h_nearest(Extension(st): Extension<Shared>, RawQuery(q): RawQuery) -> Response {
    api_result(Params::parse(q.as_deref()).and_then(|p| api::nearest(&st, &p)))
}

async fn h_stats(Extension(st): Extension<Shared>, RawQuery(q): RawQuery) -> Response {
    api_result(Params::parse(q.as_deref()).and_then(|p| api::stats(&st, &p)))
}

async fn h_health(Extension(st): Extension<Shared>) -> Response {
    json_response(&serde_json::json!({
        "status": "ok",
        "enterprises": st.ds.enterprises.len(),
        "layers": st.pyramids.keys().collect::<Vec<_>>(),
    }))
}

async fn h_geojson(Extension(st): Extension<Shared>, ApiPath(file): ApiPath<String>) -> Response {
    let Some(name) = file.strip_suffix(".geojson") else {
        return ApiError::not_found(format!(
            "`{file}`: GeoJSON outputs are /geojson/NAME.geojson"
        ))
        .into_response();
    };
    match st.geojson.get(name) {
        Some(b) => (
            [
                (header::CONTENT_TYPE, "application/geo+json"),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            b.clone(),
        )
            .into_response(),
        None => ApiError::not_found(format!(
            "no GeoJSON output `{name}`; there are: {}",
            st.geojson.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
        .into_response(),
    }
}

fn parse_u32(name: &str, v: &str) -> Result<u32, ApiError> {
    v.parse::<u32>()
        .map_err(|_| ApiError::bad(name, format!("`{name}` must be a whole number, got `{v}`")))
}

fn tile_response(headers: &HeaderMap, bytes: bytes::Bytes, etag: &str) -> Response {
    let cache = (header::CACHE_CONTROL, "public, max-age=3600");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag.to_string())],
            [cache],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "image/png".to_string()),
            (header::ETAG, etag.to_string()),
        ],
        [cache],
        bytes,
    )
        .into_response()
}

/// A vector tile: stored gzipped, sent as stored to a client that accepts gzip
/// (`Content-Encoding: gzip`), else inflated; an empty tile is an empty 200 (a valid MVT
/// with no layers). The ETag is the content's: vector tiles are revalidated (no-cache),
/// so a tile a live update has yet to rewrite is never kept past it.
fn vector_tile_response(headers: &HeaderMap, img: Option<&tiles::Image>) -> Response {
    let etag = img.map_or_else(|| "\"empty\"".to_string(), |i| i.etag.clone());
    let cache = (header::CACHE_CONTROL, "no-cache");
    let ctype = (header::CONTENT_TYPE, "application/vnd.mapbox-vector-tile");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)], [cache]).into_response();
    }
    let Some(img) = img else {
        return ([(header::ETAG, etag)], [cache, ctype], bytes::Bytes::new()).into_response();
    };
    let gzip_ok = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q0 = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !q0
        });
    if gzip_ok {
        return (
            [(header::ETAG, etag)],
            [cache, ctype, (header::CONTENT_ENCODING, "gzip")],
            [(header::VARY, "Accept-Encoding")],
            img.bytes.clone(),
        )
            .into_response();
    }
    use std::io::Read;
    let mut raw = Vec::new();
    match flate2::read::GzDecoder::new(&img.bytes[..]).read_to_end(&mut raw) {
        Ok(_) => (
            [(header::ETAG, etag)],
            [cache, ctype],
            [(header::VARY, "Accept-Encoding")],
            bytes::Bytes::from(raw),
        )
            .into_response(),
        Err(e) => ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error: format!("stored vector tile is not gzip: {e}"),
            param: None,
        }
        .into_response(),
    }
}

fn layer_of<'a>(st: &'a State, layer: &str) -> Result<&'a tiles::Pyramid, ApiError> {
    st.pyramids.get(layer).ok_or_else(|| {
        ApiError::bad(
            "layer",
            format!(
                "unknown layer `{}`; layers: {}",
                layer.chars().take(64).collect::<String>(),
                st.pyramids.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

async fn h_tile(
    Extension(st): Extension<Shared>,
    ApiPath((layer, z, x, file)): ApiPath<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    match tile(&st, &layer, &z, &x, &file, &headers) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn tile(
    st: &State,
    layer: &str,
    z: &str,
    x: &str,
    file: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (y_part, vector) = match file.rsplit_once('.') {
        Some((y, "png")) => (y, false),
        Some((y, "pbf" | "mvt")) => (y, true),
        _ => {
            return Err(ApiError::bad(
                "y",
                format!("tiles are /tiles/LAYER/Z/X/Y.png (raster) or /tiles/LAYER/Z/X/Y.pbf (vector), got `{file}`"),
            ))
        }
    };
    let (y_str, retina) = match y_part.strip_suffix("@2x") {
        Some(y) => (y, true),
        None => (y_part, false),
    };
    let key = if retina {
        format!("{layer}@2x")
    } else {
        layer.to_string()
    };
    let pyr = match layer_of(st, &key) {
        Ok(p) => p,
        Err(e) if retina && st.pyramids.contains_key(layer) => {
            return Err(ApiError::not_found(format!(
                "layer `{layer}` has no @2x tiles (set [tiles] retina = true and rebuild): {}",
                e.error
            )))
        }
        Err(e) => return Err(e),
    };
    if pyr.is_vector() != vector {
        return Err(ApiError::not_found(if vector {
            format!("layer `{key}` is a raster layer: /tiles/{key}/Z/X/Y.png")
        } else {
            format!("layer `{key}` holds vector tiles: /tiles/{key}/Z/X/Y.pbf")
        }));
    }
    let z = parse_u32("z", z)?;
    if z > 22 {
        return Err(ApiError::bad("z", format!("z {z} is out of range 0…22")));
    }
    let (x, y) = (parse_u32("x", x)?, parse_u32("y", y_str)?);
    let n = 1u32 << z;
    if x >= n {
        return Err(ApiError::bad(
            "x",
            format!("x {x} is out of range 0…{} at z{z}", n - 1),
        ));
    }
    if y >= n {
        return Err(ApiError::bad(
            "y",
            format!("y {y} is out of range 0…{} at z{z}", n - 1),
        ));
    }
    let t = Tile::new(x, y, z as u8);
    if !pyr.covers(t) {
        return Err(ApiError::not_found(format!(
            "tile {z}/{x}/{y} is outside layer `{key}` (zooms {}–{}, bounds {:?})",
            pyr.minzoom, pyr.maxzoom, pyr.bounds
        )));
    }
    if vector {
        return Ok(vector_tile_response(headers, pyr.get(t).as_deref()));
    }
    Ok(raster_tile(st, pyr, t, retina, headers))
}

/// A raster tile of `pyr`: its image, or the transparent one when it has none.
fn raster_tile(
    st: &State,
    pyr: &tiles::Pyramid,
    t: Tile,
    retina: bool,
    headers: &HeaderMap,
) -> Response {
    match pyr.get(t) {
        Some(img) => tile_response(headers, img.bytes.clone(), &st.etag(&img.etag)),
        None => {
            let (b, etag) = &st.transparent[usize::from(retina)];
            tile_response(headers, b.clone(), &st.etag(etag))
        }
    }
}

/// The URL clients reach this server at: `[serve] public_url` when set, else what a
/// reverse proxy says in `X-Forwarded-Proto` / `-Host` / `-Prefix` (as martin and
/// GeoServer honour them), else the `Host` header. Values that are not a plain scheme,
/// host or path are ignored (they end up in URLs clients follow).
pub fn public_base(cfg: &ServeConfig, headers: &HeaderMap) -> String {
    if let Some(u) = cfg.public_url.as_deref().filter(|u| !u.trim().is_empty()) {
        return u.trim().trim_end_matches('/').to_string();
    }
    let first = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let plain_host = |h: &String| {
        h.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    };
    let proto = first("x-forwarded-proto")
        .map(|p| p.to_ascii_lowercase())
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| "http".into());
    let host = first("x-forwarded-host")
        .filter(plain_host)
        .or_else(|| first("host").filter(plain_host))
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let prefix = first("x-forwarded-prefix")
        .filter(|p| {
            p.starts_with('/')
                && !p.contains("//")
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/-_.~".contains(c))
        })
        .map(|p| p.trim_end_matches('/').to_string())
        .unwrap_or_default();
    format!("{proto}://{host}{prefix}")
}

async fn h_tilejson(
    Extension(st): Extension<Shared>,
    ApiPath(file): ApiPath<String>,
    headers: HeaderMap,
) -> Response {
    let Some(layer) = file.strip_suffix(".json") else {
        return ApiError::not_found(format!("`{file}`: TileJSON is /tiles/LAYER.json"))
            .into_response();
    };
    let pyr = match layer_of(&st, layer) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let root = public_base(&st.cfg, &headers);
    let (base, suffix) = match layer.split_once('@') {
        Some((b, s)) => (b, format!("@{s}")),
        None => (layer, String::new()),
    };
    let md = &pyr.metadata;
    let b = pyr.bounds;
    let ext = if pyr.is_vector() { "pbf" } else { "png" };
    let mut v = serde_json::json!({
        "tilejson": "3.0.0",
        "name": md.get("name"),
        "description": md.get("description"),
        "attribution": md.get("attribution"),
        "version": md.get("version"),
        "scheme": "xyz",
        "tiles": [format!("{root}/tiles/{base}/{{z}}/{{x}}/{{y}}{suffix}.{ext}")],
        "minzoom": pyr.minzoom,
        "maxzoom": pyr.maxzoom,
        "bounds": b,
        "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, (pyr.minzoom as u16 + pyr.maxzoom as u16) / 2],
    });
    if pyr.is_vector() {
        v["format"] = serde_json::json!("pbf");
        if let Some(layers) = pyr.vector_layers() {
            v["vector_layers"] = layers;
        }
    }
    json_response(&v)
}

/// `/api/readings` takes POST only.
async fn h_readings_method() -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "POST")],
        Body::from(r#"{"error":"POST readings here (JSON or CSV, with the token of [monitoring]); GET /api/alarms for the alarms","param":null,"status":405}"#),
    )
        .into_response()
}

async fn h_fallback(uri: Uri) -> Response {
    ApiError::not_found(format!(
        "no route for `{}`; see /api/meta, /api/stats, /api/enterprises, /api/at, /tiles/LAYER/Z/X/Y.png, /wmts, /ogcapi",
        uri.path().chars().take(200).collect::<String>()
    ))
    .into_response()
}

/// Access log (one structured line per request) and the request-target length limit.
async fn guard_and_log(req: Request, next: Next) -> Response {
    let t = Instant::now();
    let method = req.method().clone();
    let target = req.uri().to_string();
    if target.len() > MAX_URI {
        let r = ApiError {
            status: StatusCode::URI_TOO_LONG,
            error: format!("request target longer than {MAX_URI} bytes"),
            param: Some("query".into()),
        }
        .into_response();
        tracing::warn!(%method, len = target.len(), status = 414, "request");
        return r;
    }
    // no endpoint but POST /api/readings reads a body, so none reads past the limit
    // either: refuse one here
    // (axum's DefaultBodyLimit only acts when a handler takes the body)
    let body_len = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // readings are posted in batches: their own limit, checked while the body is read
    // (a chunked body too)
    let posting = method == Method::POST && req.uri().path() == "/api/readings";
    if posting {
        if body_len.is_some_and(|n| n > MAX_READINGS_BODY as u64) {
            tracing::warn!(%method, status = 413, "request");
            return alarms::too_large();
        }
    } else if body_len.is_some_and(|n| n > MAX_BODY)
        || req.headers().contains_key(header::TRANSFER_ENCODING)
    {
        tracing::warn!(%method, status = 413, "request");
        return ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error: format!("request bodies over {MAX_BODY} bytes (or chunked) are not accepted"),
            param: None,
        }
        .into_response();
    }
    if method != Method::GET && method != Method::HEAD && method != Method::OPTIONS && !posting {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD, OPTIONS")],
            Body::from(r#"{"error":"only GET and HEAD are served","param":null,"status":405}"#),
        )
            .into_response();
    }
    let r = next.run(req).await;
    tracing::info!(
        %method,
        target = %target.chars().take(300).collect::<String>(),
        status = r.status().as_u16(),
        micros = t.elapsed().as_micros() as u64,
        "request"
    );
    r
}

/// The router over a built state (also used by the tests, without a socket); CORS from
/// `[serve] cors`.
pub fn router(st: Shared) -> Router {
    let cors = st.cfg.cors.clone();
    router_with_cors(st, &cors)
}

/// The router, allowing browser calls from `cors` origins (none: no CORS headers).
pub fn router_with_cors(st: Shared, cors: &[String]) -> Router {
    router_live(Live::new(st), cors)
}

/// The router over a [`Live`] state (switched when a new generation is loaded).
pub fn router_live(live: Arc<Live>, cors: &[String]) -> Router {
    let app = Router::new()
        .route("/", get(viewer::h_index))
        .route("/index.html", get(viewer::h_index))
        .route("/viewer/{*path}", get(viewer::h_asset))
        .route("/healthz", get(h_health))
        .route("/api/meta", get(h_meta))
        .route("/api/changes", get(live::h_changes))
        .route("/api/events", get(live::h_events))
        .route("/api/stats", get(h_stats))
        .route("/api/at", get(h_at))
        .route("/api/nearest", get(h_nearest))
        .route("/api/alarms", get(alarms::h_alarms))
        .route(
            "/api/readings",
            axum::routing::post(alarms::h_post_readings)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_READINGS_BODY))
                .fallback(h_readings_method),
        )
        .route("/api/enterprises", get(h_enterprises))
        .route("/api/enterprises/{id}", get(h_card))
        .route("/geojson/{file}", get(h_geojson))
        .route("/tiles/{file}", get(h_tilejson))
        .route("/tiles/{layer}/{z}/{x}/{file}", get(h_tile))
        .route("/styles/{file}", get(styles::h_style))
        .route("/sprites/{file}", get(styles::h_sprite))
        .route("/fonts/{stack}/{file}", get(styles::h_glyphs))
        .route("/wmts", get(wmts::h_kvp))
        .route(
            "/wmts/1.0.0/WMTSCapabilities.xml",
            get(wmts::h_capabilities),
        )
        .route(
            "/wmts/1.0.0/{layer}/{style}/{tms}/{z}/{row}/{file}",
            get(wmts::h_rest_tile),
        )
        .route("/ogcapi", get(features::h_landing))
        .route("/ogcapi/", get(features::h_landing))
        .route("/ogcapi/api", get(features::h_api))
        .route("/ogcapi/conformance", get(features::h_conformance))
        .route("/ogcapi/collections", get(features::h_collections))
        .route("/ogcapi/collections/{id}", get(features::h_collection))
        .route("/ogcapi/collections/{id}/items", get(features::h_items))
        .route(
            "/ogcapi/collections/{id}/items/{fid}",
            get(features::h_item),
        )
        .fallback(h_fallback)
        .layer(Extension(live.clone()));
    with_layers(app, live, cors)
}

/// `routes` behind the server's whole stack of layers, outermost last: the generation a
/// request is answered from, the body limit, compression, a panic answered 500 with a
/// JSON error (the server keeps serving), CORS from `cors`, and the guard and request
/// log. (Separate from the routes so the stack can be tested with a route that panics.)
pub fn with_layers(routes: Router, live: Arc<Live>, cors: &[String]) -> Router {
    use tower_http::catch_panic::CatchPanicLayer;
    use tower_http::compression::CompressionLayer;
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let cors_origins: Vec<HeaderValue> = cors
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let mut app = routes
        .layer(axum::middleware::from_fn_with_state(live, with_generation))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY as usize))
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    error: "internal error (logged); the server keeps serving".into(),
                    param: None,
                }
                .into_response()
            },
        ));
    // `cors = ["*"]`: any origin for everything (tower-http refuses "*" in a list)
    let any = cors.iter().any(|o| o.trim() == "*");
    if any || !cors_origins.is_empty() {
        let origin = if any {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(cors_origins)
        };
        app = app.layer(
            CorsLayer::new()
                .allow_origin(origin)
                .allow_methods([Method::GET, Method::HEAD, Method::POST])
                .allow_headers([
                    header::IF_NONE_MATCH,
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    HeaderName::from_static("x-riskmap-token"),
                ]),
        );
    } else {
        // without a list the tiles and TileJSON are still open to any page (a portal on
        // another host draws them, as martin's and GeoServer's tiles are); the API and
        // the GeoJSON stay same-origin until `[serve] cors` names the portals
        app = app.layer(axum::middleware::from_fn(tiles_for_any_origin));
    }
    app.layer(axum::middleware::from_fn(guard_and_log))
}

/// `Access-Control-Allow-Origin: *` on tiles and TileJSON.
async fn tiles_for_any_origin(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let tiles = ["/tiles/", "/wmts", "/styles/", "/sprites/", "/fonts/"]
        .iter()
        .any(|p| path.starts_with(p));
    let mut r = next.run(req).await;
    if tiles {
        r.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    r
}

/// Serve until interrupted.
/// Loads the state of a generation folder (the dataset its summary says it was built
/// from, its archives and GeoJSON).
pub type Reload = Box<dyn Fn(&std::path::Path) -> Result<State, String> + Send>;

/// Serve `st`; with `reload`, follow the output folder `opts.out`: when its `current`
/// generation changes, the new one is loaded beside the old (requests keep being
/// answered from the old) and switched in whole. A generation that fails to load is
/// logged and the old one stays.
pub fn run(
    st: State,
    opts: &ServeOptions,
    reload: Option<Reload>,
) -> Result<(), riskmap_core::Error> {
    run_watching(st, opts, reload, None)
}

/// [`run`], with a watcher (`serve --watch`) running beside the server that publishes
/// the generations it writes through its [`WatchHandle`].
pub fn run_watching(
    st: State,
    opts: &ServeOptions,
    reload: Option<Reload>,
    watch: Option<Watch>,
) -> Result<(), riskmap_core::Error> {
    run_with_feeds(st, opts, reload, watch, Vec::new())
}

/// Runs beside the server with a [`ReadingsHandle`]: a readings file followed, a table
/// polled, the alarm webhooks.
pub type Feed = Box<dyn FnOnce(ReadingsHandle) + Send>;

/// [`run_watching`], with the monitoring feeds running beside the server (each in its
/// own thread) and the stale points checked every 5 s.
pub fn run_with_feeds(
    st: State,
    opts: &ServeOptions,
    reload: Option<Reload>,
    watch: Option<Watch>,
    feeds: Vec<Feed>,
) -> Result<(), riskmap_core::Error> {
    let _ = tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
    let live = Live::new(Arc::new(st));
    if let Some(reload) = reload {
        let (live, root) = (live.clone(), opts.out.clone());
        std::thread::spawn(move || follow_generations(&live, &root, reload));
    }
    if let Some(watch) = watch {
        let h = WatchHandle { live: live.clone() };
        std::thread::spawn(move || watch(h));
    }
    for feed in feeds {
        let h = ReadingsHandle { live: live.clone() };
        std::thread::spawn(move || feed(h));
    }
    {
        let live = live.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(5));
            live.monitor.check_stale();
        });
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| riskmap_core::Error::Input(format!("tokio runtime: {e}")))?;
    let addr = opts.addr.clone();
    let (layers, tiles_n, cors) = {
        let st = live.get();
        let tiles_n: usize = st.pyramids.values().map(|p| p.len()).sum();
        (st.pyramids.len(), tiles_n, st.cfg.cors.clone())
    };
    let app = router_live(live, &cors);
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| {
                let e = riskmap_core::i18n::io_error(&e);
                riskmap_core::Error::Input(riskmap_core::tr!("无法监听 {addr}：{e}", "cannot listen on {addr}: {e}"))
            })?;
        eprintln!(
            "{}",
            riskmap_core::tr!(
                "riskmap serve：http://{addr}/ （{layers} 个瓦片包，内存索引 {tiles_n} 张瓦片；按 Ctrl-C 停止）",
                "riskmap serve: http://{addr}/  ({layers} tile archives, {tiles_n} tiles in memory index; Ctrl-C stops)"
            )
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| riskmap_core::Error::Input(riskmap_core::tr!("服务出错：{e}", "server: {e}")))
    })
}

/// Poll the output folder's `current` link (twice a second: a rename is all there is to
/// see) and load each new generation.
fn follow_generations(live: &Live, root: &std::path::Path, reload: Reload) {
    use riskmap_store::generations::{current_dir, current_number};
    let mut seen = current_number(root);
    loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let now = current_number(root);
        if now == seen || now.is_none() {
            continue;
        }
        // the watcher is writing: it hands its generation over (looked at again after)
        if live.pending.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            continue;
        }
        seen = now;
        // a generation the watcher already switched in (with its dataset)
        if now.map(|n| format!("{n:06}")) == Some(live.get().generation.clone()) {
            continue;
        }
        let dir = current_dir(root);
        let t = Instant::now();
        match reload(&dir) {
            Ok(st) => {
                live.set(Arc::new(st));
                let (g, s) = (now.unwrap_or(0), t.elapsed().as_secs_f64());
                eprintln!(
                    "{}",
                    riskmap_core::tr!(
                        "riskmap serve：已切换到第 {g} 代（加载用时 {s:.1} 秒）",
                        "riskmap serve: now serving generation {g} ({s:.1} s to load)"
                    )
                );
            }
            Err(e) => {
                let g = now.unwrap_or(0);
                eprintln!(
                    "{}",
                    riskmap_core::tr!(
                        "riskmap serve：第 {g} 代未能加载，继续发布上一代：{e}",
                        "riskmap serve: generation {g} not loaded, still serving the previous one: {e}"
                    )
                )
            }
        }
    }
}
