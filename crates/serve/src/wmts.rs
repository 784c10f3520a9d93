//! OGC WMTS 1.0.0 over the raster pyramids: `GetCapabilities` (KVP at `/wmts`, RESTful at
//! `/wmts/1.0.0/WMTSCapabilities.xml`) listing every raster layer and its `_gcj02` twin in
//! the GoogleMapsCompatible tile matrix set (EPSG:3857), and `GetTile` by KVP and REST
//! (`/wmts/1.0.0/{layer}/default/GoogleMapsCompatible/{z}/{row}/{col}.png`). Errors are
//! OWS 1.1 exception reports with a 4xx status, as WMTS clients (GDAL, OWSLib, ArcGIS,
//! QGIS) read them.

use crate::{public_base, tiles, Shared, State};
use axum::extract::{Extension, Path as AxPath, RawQuery};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use riskmap_render::tile::Tile;
use std::fmt::Write as _;

/// The tile matrix set every layer is in.
pub const TMS: &str = "GoogleMapsCompatible";
/// Scale denominator of zoom 0 in GoogleMapsCompatible (0.28 mm pixels).
const SCALE0: f64 = 559_082_264.028_717_8;
const HALF: f64 = 20_037_508.342_789_244;

/// An OWS exception report.
pub struct OwsError {
    status: StatusCode,
    code: &'static str,
    locator: String,
    text: String,
}

impl OwsError {
    fn new(code: &'static str, locator: &str, text: impl Into<String>) -> OwsError {
        OwsError {
            status: StatusCode::BAD_REQUEST,
            code,
            locator: locator.into(),
            text: text.into(),
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl IntoResponse for OwsError {
    fn into_response(self) -> Response {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ows:ExceptionReport xmlns:ows=\"http://www.opengis.net/ows/1.1\" version=\"1.1.0\" xml:lang=\"en\">\n  <ows:Exception exceptionCode=\"{}\" locator=\"{}\">\n    <ows:ExceptionText>{}</ows:ExceptionText>\n  </ows:Exception>\n</ows:ExceptionReport>\n",
            self.code,
            esc(&self.locator),
            esc(&self.text)
        );
        (
            self.status,
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            body,
        )
            .into_response()
    }
}

/// The raster layers WMTS offers: every pyramid but the vector tilesets and @2x ones.
fn layers(st: &State) -> impl Iterator<Item = (&String, &tiles::Pyramid)> {
    st.pyramids
        .iter()
        .filter(|(k, p)| !k.contains('@') && !p.is_vector())
}

fn title(name: &str) -> String {
    let (base, gcj) = match name.strip_suffix("_gcj02") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let zh = match base {
        "surface" => "风险面",
        "grid" => "网格",
        "areas" => "区县",
        "points" => "企业",
        "composite" => "综合",
        "lifelines" => "城市生命线",
        _ => base,
    };
    if gcj {
        format!("{zh} {base} (GCJ-02, for Gaode/Tencent basemaps)")
    } else {
        format!("{zh} {base}")
    }
}

/// The capabilities document, with URLs under `base`.
pub fn capabilities(st: &State, base: &str) -> String {
    let mut x = String::with_capacity(64 * 1024);
    let max_zoom = layers(st).map(|(_, p)| p.maxzoom).max().unwrap_or(18);
    let _ = write!(
        x,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:gml="http://www.opengis.net/gml" xsi:schemaLocation="http://www.opengis.net/wmts/1.0 http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd" version="1.0.0">
  <ows:ServiceIdentification>
    <ows:Title>{title}</ows:Title>
    <ows:Abstract>riskmap: the four-colour work-safety risk map (四色安全风险分布图) as WMTS layers; the _gcj02 layers are shifted onto a Gaode/Tencent (GCJ-02) basemap.</ows:Abstract>
    <ows:ServiceType>OGC WMTS</ows:ServiceType>
    <ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>
  </ows:ServiceIdentification>
  <ows:OperationsMetadata>
"#,
        title = esc(&st.ds.title)
    );
    for op in ["GetCapabilities", "GetTile"] {
        let _ = write!(
            x,
            r#"    <ows:Operation name="{op}">
      <ows:DCP><ows:HTTP>
        <ows:Get xlink:href="{base}/wmts?"><ows:Constraint name="GetEncoding"><ows:AllowedValues><ows:Value>KVP</ows:Value></ows:AllowedValues></ows:Constraint></ows:Get>
        <ows:Get xlink:href="{base}/wmts/1.0.0/"><ows:Constraint name="GetEncoding"><ows:AllowedValues><ows:Value>RESTful</ows:Value></ows:AllowedValues></ows:Constraint></ows:Get>
      </ows:HTTP></ows:DCP>
    </ows:Operation>
"#,
            base = esc(base)
        );
    }
    x.push_str("  </ows:OperationsMetadata>\n  <Contents>\n");
    for (name, p) in layers(st) {
        let b = p.bounds;
        let _ = write!(
            x,
            r#"    <Layer>
      <ows:Title>{t}</ows:Title>
      <ows:WGS84BoundingBox><ows:LowerCorner>{} {}</ows:LowerCorner><ows:UpperCorner>{} {}</ows:UpperCorner></ows:WGS84BoundingBox>
      <ows:Identifier>{name}</ows:Identifier>
      <Style isDefault="true"><ows:Identifier>default</ows:Identifier></Style>
      <Format>image/png</Format>
      <TileMatrixSetLink>
        <TileMatrixSet>{TMS}</TileMatrixSet>
        <TileMatrixSetLimits>
"#,
            b[0],
            b[1],
            b[2],
            b[3],
            t = esc(&title(name)),
        );
        for z in p.minzoom..=p.maxzoom {
            let (c0, r0, c1, r1) = limits(p, z);
            let _ = writeln!(
                x,
                "          <TileMatrixLimits><TileMatrix>{z}</TileMatrix><MinTileRow>{r0}</MinTileRow><MaxTileRow>{r1}</MaxTileRow><MinTileCol>{c0}</MinTileCol><MaxTileCol>{c1}</MaxTileCol></TileMatrixLimits>"
            );
        }
        let _ = write!(
            x,
            r#"        </TileMatrixSetLimits>
      </TileMatrixSetLink>
      <ResourceURL format="image/png" resourceType="tile" template="{}/wmts/1.0.0/{name}/{{Style}}/{{TileMatrixSet}}/{{TileMatrix}}/{{TileRow}}/{{TileCol}}.png"/>
    </Layer>
"#,
            esc(base)
        );
    }
    let _ = write!(
        x,
        r#"    <TileMatrixSet>
      <ows:Title>Google Maps Compatible (EPSG:3857)</ows:Title>
      <ows:Identifier>{TMS}</ows:Identifier>
      <ows:BoundingBox crs="urn:ogc:def:crs:EPSG::3857"><ows:LowerCorner>-{HALF} -{HALF}</ows:LowerCorner><ows:UpperCorner>{HALF} {HALF}</ows:UpperCorner></ows:BoundingBox>
      <ows:SupportedCRS>urn:ogc:def:crs:EPSG::3857</ows:SupportedCRS>
      <WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible</WellKnownScaleSet>
"#
    );
    for z in 0..=max_zoom {
        let n = 1u64 << z;
        let _ = writeln!(
            x,
            r#"      <TileMatrix><ows:Identifier>{z}</ows:Identifier><ScaleDenominator>{}</ScaleDenominator><TopLeftCorner>-{HALF} {HALF}</TopLeftCorner><TileWidth>256</TileWidth><TileHeight>256</TileHeight><MatrixWidth>{n}</MatrixWidth><MatrixHeight>{n}</MatrixHeight></TileMatrix>"#,
            SCALE0 / n as f64
        );
    }
    let _ = write!(
        x,
        r#"    </TileMatrixSet>
  </Contents>
  <ServiceMetadataURL xlink:href="{}/wmts/1.0.0/WMTSCapabilities.xml"/>
</Capabilities>
"#,
        esc(base)
    );
    x
}

/// The tiles of a layer at zoom z that may hold content: (min col, min row, max col,
/// max row) over its bounds, padded as [`tiles::Pyramid::covers`] pads them.
fn limits(p: &tiles::Pyramid, z: u8) -> (u32, u32, u32, u32) {
    let pad = 0.02;
    let b = p.bounds;
    let bb = [
        (b[0] - pad).max(-180.0),
        (b[1] - pad).max(-85.0),
        (b[2] + pad).min(180.0),
        (b[3] + pad).min(85.0),
    ];
    let a = riskmap_render::tile::tile(bb[0], bb[3], z);
    let c = riskmap_render::tile::tile(bb[2] - 1e-9, bb[1] + 1e-9, z);
    (a.x.min(c.x), a.y.min(c.y), a.x.max(c.x), a.y.max(c.y))
}

fn xml(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/xml; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// `GET /wmts/1.0.0/WMTSCapabilities.xml`.
pub(crate) async fn h_capabilities(
    Extension(st): Extension<Shared>,
    headers: HeaderMap,
) -> Response {
    xml(capabilities(&st, &public_base(&st.cfg, &headers)))
}

/// `GET /wmts?SERVICE=WMTS&REQUEST=…`: the KVP binding.
pub(crate) async fn h_kvp(
    Extension(st): Extension<Shared>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    match kvp(&st, q.as_deref(), &headers) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn kvp(st: &State, q: Option<&str>, headers: &HeaderMap) -> Result<Response, OwsError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(q.unwrap_or("")).map_err(|e| {
            OwsError::new(
                "InvalidParameterValue",
                "query",
                format!("malformed query string: {e}"),
            )
        })?;
    // parameter names are case-insensitive (OGC KVP)
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.trim())
    };
    let need = |k: &'static str| {
        get(k)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OwsError::new("MissingParameterValue", k, format!("`{k}` is required")))
    };
    let service = need("SERVICE")?;
    if !service.eq_ignore_ascii_case("WMTS") {
        return Err(OwsError::new(
            "InvalidParameterValue",
            "SERVICE",
            format!("SERVICE must be WMTS, got `{service}`"),
        ));
    }
    let request = need("REQUEST")?;
    if request.eq_ignore_ascii_case("GetCapabilities") {
        return Ok(xml(capabilities(st, &public_base(&st.cfg, headers))));
    }
    if !request.eq_ignore_ascii_case("GetTile") {
        return Err(OwsError::new(
            "OperationNotSupported",
            "REQUEST",
            format!("REQUEST `{request}`: this server does GetCapabilities and GetTile"),
        ));
    }
    if let Some(v) = get("VERSION") {
        if v != "1.0.0" {
            return Err(OwsError::new(
                "InvalidParameterValue",
                "VERSION",
                format!("VERSION must be 1.0.0, got `{v}`"),
            ));
        }
    }
    let layer = need("LAYER")?;
    let style = need("STYLE")?;
    let format = need("FORMAT")?;
    let tms = need("TILEMATRIXSET")?;
    let z = need("TILEMATRIX")?;
    let row = need("TILEROW")?;
    let col = need("TILECOL")?;
    if format != "image/png" {
        return Err(OwsError::new(
            "InvalidParameterValue",
            "FORMAT",
            format!("FORMAT must be image/png, got `{format}`"),
        ));
    }
    get_tile(st, layer, style, tms, z, row, col, headers)
}

/// `GET /wmts/1.0.0/{layer}/{style}/{tms}/{z}/{row}/{col}.png`.
pub(crate) async fn h_rest_tile(
    Extension(st): Extension<Shared>,
    AxPath((layer, style, tms, z, row, file)): AxPath<(
        String,
        String,
        String,
        String,
        String,
        String,
    )>,
    headers: HeaderMap,
) -> Response {
    let Some(col) = file.strip_suffix(".png") else {
        return OwsError::new(
            "InvalidParameterValue",
            "Format",
            format!("tiles are …/{{TileCol}}.png, got `{file}`"),
        )
        .into_response();
    };
    match get_tile(&st, &layer, &style, &tms, &z, &row, col, &headers) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

#[allow(clippy::too_many_arguments)]
fn get_tile(
    st: &State,
    layer: &str,
    style: &str,
    tms: &str,
    z: &str,
    row: &str,
    col: &str,
    headers: &HeaderMap,
) -> Result<Response, OwsError> {
    let Some((_, p)) = layers(st).find(|(k, _)| k.as_str() == layer) else {
        return Err(OwsError::new(
            "InvalidParameterValue",
            "LAYER",
            format!(
                "unknown layer `{}`; layers: {}",
                layer.chars().take(64).collect::<String>(),
                layers(st)
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    if style != "default" && !style.is_empty() {
        return Err(OwsError::new(
            "InvalidParameterValue",
            "STYLE",
            format!("STYLE must be `default`, got `{style}`"),
        ));
    }
    if tms != TMS {
        return Err(OwsError::new(
            "InvalidParameterValue",
            "TILEMATRIXSET",
            format!("TILEMATRIXSET must be {TMS}, got `{tms}`"),
        ));
    }
    let num = |k: &'static str, v: &str| {
        v.parse::<u32>().map_err(|_| {
            OwsError::new(
                "InvalidParameterValue",
                k,
                format!(
                    "{k} must be a whole number, got `{}`",
                    v.chars().take(32).collect::<String>()
                ),
            )
        })
    };
    let (z, row, col) = (
        num("TILEMATRIX", z)?,
        num("TILEROW", row)?,
        num("TILECOL", col)?,
    );
    if z > 30 || z < u32::from(p.minzoom) || z > u32::from(p.maxzoom) {
        return Err(OwsError::new(
            "TileOutOfRange",
            "TILEMATRIX",
            format!(
                "TileMatrix {z} is outside layer `{layer}`'s {}–{}",
                p.minzoom, p.maxzoom
            ),
        ));
    }
    let (c0, r0, c1, r1) = limits(p, z as u8);
    if row < r0 || row > r1 {
        return Err(OwsError::new(
            "TileOutOfRange",
            "TILEROW",
            format!("TileRow {row} is outside {r0}–{r1} at TileMatrix {z}"),
        ));
    }
    if col < c0 || col > c1 {
        return Err(OwsError::new(
            "TileOutOfRange",
            "TILECOL",
            format!("TileCol {col} is outside {c0}–{c1} at TileMatrix {z}"),
        ));
    }
    let t = Tile::new(col, row, z as u8);
    Ok(crate::raster_tile(st, p, t, false, headers))
}
