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
            public_url: None,
        }
    }
}

/// What the server takes besides the data: `[serve]` and the outputs' coordinate decimals.
#[derive(Debug, Clone, Default)]
pub struct ServeParams {
    pub serve: ServeConfig,
    pub decimals: u32,
}
