//! What the server is told: `[serve]` (address, CORS, limits, basemap) and the outputs'
//! coordinate decimals.

use serde::{Deserialize, Serialize};

/// `riskmap serve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServeConfig {
    /// Listen address. Default 127.0.0.1:8080.
    pub addr: String,
    /// Origins allowed to call the server from a browser (CORS), e.g.
    /// `["https://portal.example.gov.cn"]`. Default none.
    pub cors: Vec<String>,
    /// Most features one `/api/enterprises` page returns. Default 5000.
    pub max_limit: usize,
    /// Largest bbox side, in degrees, `/api/enterprises` accepts. Default 5.
    pub max_bbox_deg: f64,
    /// Largest `/api/at` radius in metres. Default 5000.
    pub max_radius_m: f64,
    /// Optional basemap for the viewer: an XYZ URL template, its CRS (`wgs84` for
    /// Tianditu / OSM, `gcj02` for Gaode) and attribution. Default none: the district
    /// outlines are the base.
    pub basemap_url: Option<String>,
    pub basemap_crs: riskmap_core::crs::Crs,
    pub basemap_attribution: String,
    /// Basemaps the viewer offers (the first shown), each an XYZ or WMTS-KVP URL template
    /// (`{z}` `{x}` `{y}`, `{s}` for subdomains, `{key}` for the service key): 天地图's
    /// `vec_w` + `cva_w` pair, an intranet Gaode mirror, ... `[[serve.basemaps]]`.
    pub basemaps: Vec<Basemap>,
    /// The URL a portal reaches this server at, e.g. "https://gis.example.gov.cn/riskmap":
    /// TileJSON's tile URLs start with it. Default: from the proxy's `X-Forwarded-*`
    /// headers, else the request's `Host`.
    pub public_url: Option<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            addr: "127.0.0.1:8080".into(),
            cors: vec![],
            max_limit: 5000,
            max_bbox_deg: 5.0,
            max_radius_m: 5000.0,
            basemap_url: None,
            basemap_crs: riskmap_core::crs::Crs::Wgs84,
            basemap_attribution: String::new(),
            basemaps: vec![],
            public_url: None,
        }
    }
}

/// One basemap of `[[serve.basemaps]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Basemap {
    /// Its name in the viewer's layer list, e.g. "天地图矢量".
    pub name: String,
    /// URL template: `{z}/{x}/{y}` or WMTS KVP (`TILEMATRIX={z}&TILEROW={y}&TILECOL={x}`),
    /// `{s}` a subdomain, `{key}` the `key` below.
    pub url: String,
    /// The CRS its tiles are drawn in: `wgs84` (天地图, OSM; CGCS2000 is within
    /// centimetres of it) or `gcj02` (Gaode, Tencent). Layers are shifted to match.
    #[serde(default)]
    pub crs: riskmap_core::crs::Crs,
    #[serde(default)]
    pub attribution: String,
    /// Subdomains for `{s}`, e.g. "01234567" for 天地图. Default "abc".
    #[serde(default)]
    pub subdomains: Option<String>,
    /// The service key put in for `{key}` (天地图's `tk`).
    #[serde(default)]
    pub key: Option<String>,
    /// Highest zoom the service has tiles for (the viewer stretches beyond). Default 18.
    #[serde(default)]
    pub max_zoom: Option<u8>,
    /// Drawn over the one below it (labels such as 天地图's `cva_w`) rather than
    /// offered as a choice of its own.
    #[serde(default)]
    pub overlay: bool,
}

impl ServeConfig {
    /// The basemaps the viewer is given: `[[serve.basemaps]]`, else `basemap_url`, with
    /// `{key}` put in.
    pub fn basemap_list(&self) -> Vec<serde_json::Value> {
        let mut out = vec![];
        for b in &self.basemaps {
            let url = match &b.key {
                Some(k) => b.url.replace("{key}", k),
                None => b.url.clone(),
            };
            out.push(serde_json::json!({
                "name": b.name, "url": url, "crs": b.crs.as_str(),
                "attribution": b.attribution, "subdomains": b.subdomains.as_deref().unwrap_or("abc"),
                "maxzoom": b.max_zoom.unwrap_or(18), "overlay": b.overlay,
            }));
        }
        if out.is_empty() {
            if let Some(u) = &self.basemap_url {
                out.push(serde_json::json!({
                    "name": "底图", "url": u, "crs": self.basemap_crs.as_str(),
                    "attribution": self.basemap_attribution, "subdomains": "abc", "maxzoom": 18, "overlay": false,
                }));
            }
        }
        out
    }
}

/// What the server takes besides the data: `[serve]` and the outputs' coordinate decimals.
#[derive(Debug, Clone, Default)]
pub struct ServeParams {
    pub serve: ServeConfig,
    pub decimals: u32,
    /// `[monitoring]`: the alarm engine's settings and the posting token.
    pub monitoring: riskmap_analyze::monitoring::MonitorConfig,
}
