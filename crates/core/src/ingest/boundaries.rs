//! District boundaries from GeoJSON (Polygon / MultiPolygon), converted to WGS84 and wound
//! by the right-hand rule (RFC 7946: exterior counter-clockwise, holes clockwise).

use super::IngestError;
use crate::crs::Crs;
use geo::orient::{Direction, Orient};
use geo::{BoundingRect, Coord, LineString, MultiPolygon, Polygon};
use std::path::Path;

/// A boundary polygon with its name and code.
#[derive(Debug, Clone)]
pub struct District {
    pub name: String,
    pub adcode: String,
    /// WGS84, right-hand rule.
    pub shape: MultiPolygon<f64>,
    /// Other properties of the feature, carried to outputs.
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// What is wrong with the polygon as given (an unclosed ring, a self-intersection):
    /// points in it may be assigned to the wrong district, so the run says so.
    pub warnings: Vec<String>,
}

impl District {
    pub fn bbox(&self) -> Option<[f64; 4]> {
        self.shape
            .bounding_rect()
            .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y])
    }
}

fn ring(v: &serde_json::Value, crs: Crs) -> Result<LineString<f64>, String> {
    let malformed = || {
        crate::tr!(
            "环的格式错误：应为 [经度, 纬度] 坐标数组",
            "malformed ring: expected an array of [lon, lat] positions"
        )
    };
    let pts = v.as_array().ok_or_else(malformed)?;
    let mut cs = Vec::with_capacity(pts.len());
    for p in pts {
        let (x, y) = match (
            p.get(0).and_then(|x| x.as_f64()),
            p.get(1).and_then(|y| y.as_f64()),
        ) {
            (Some(x), Some(y)) => (x, y),
            _ => return Err(malformed()),
        };
        // a projected file (metres) or garbage: say so before the CRS maths turns it
        // into NaN, which no geometry algorithm survives
        if !((-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y)) {
            let show = |v: f64| {
                if v.abs() < 1e7 {
                    v.to_string()
                } else {
                    format!("{v:e}")
                }
            };
            let (x, y) = (show(x), show(y));
            return Err(crate::tr!(
                "坐标 [{x}, {y}] 不是以度为单位的经纬度；边界须为 WGS84/CGCS2000、GCJ-02 或 BD-09 的经纬度，不能是投影坐标（米）",
                "position [{x}, {y}] is not longitude/latitude in degrees; boundaries must be WGS84/CGCS2000, GCJ-02 or BD-09 degrees, not projected metres"
            ));
        }
        let (x, y) = crs.to_wgs84(x, y);
        cs.push(Coord { x, y });
    }
    if cs.len() < 4 {
        let n = cs.len();
        return Err(crate::tr!(
            "一个环只有 {n} 个点；闭合的环至少需要 4 个",
            "a ring has {n} positions; a closed ring needs at least 4"
        ));
    }
    Ok(LineString::new(cs))
}

fn polygon(v: &serde_json::Value, crs: Crs) -> Result<Polygon<f64>, String> {
    let rings = v.as_array().ok_or_else(|| {
        crate::tr!(
            "多边形格式错误：应为环的数组",
            "malformed polygon: expected an array of rings"
        )
    })?;
    let mut it = rings.iter();
    let ext = ring(
        it.next()
            .ok_or_else(|| crate::tr!("多边形没有环", "a polygon without rings"))?,
        crs,
    )?;
    let holes = it.map(|r| ring(r, crs)).collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(ext, holes))
}

/// Parse a GeoJSON geometry object (Polygon or MultiPolygon) given in `crs` into a WGS84,
/// right-hand-rule MultiPolygon.
pub fn geometry_to_multipolygon(
    g: &serde_json::Value,
    crs: Crs,
) -> Result<MultiPolygon<f64>, String> {
    let ty = g.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let coords = g
        .get("coordinates")
        .ok_or_else(|| crate::tr!("几何没有坐标", "geometry has no coordinates"))?;
    let mp = match ty {
        "Polygon" => MultiPolygon::new(vec![polygon(coords, crs)?]),
        "MultiPolygon" => MultiPolygon::new(
            coords
                .as_array()
                .ok_or_else(|| crate::tr!("MultiPolygon 格式错误", "malformed MultiPolygon"))?
                .iter()
                .map(|p| polygon(p, crs))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        other => {
            return Err(crate::tr!(
                "几何类型 `{other}` 不是 Polygon 或 MultiPolygon",
                "geometry type `{other}` is not a Polygon or MultiPolygon"
            ))
        }
    };
    Ok(mp.orient(Direction::Default))
}

/// Rings of a Polygon / MultiPolygon's coordinates whose last position is not its first
/// (GeoJSON requires closed rings; riskmap closes them, and says so).
fn unclosed_rings(g: &serde_json::Value) -> usize {
    let ty = g.get("type").and_then(|t| t.as_str()).unwrap_or("");
    let polys: Vec<&serde_json::Value> = match (ty, g.get("coordinates")) {
        ("Polygon", Some(c)) => vec![c],
        ("MultiPolygon", Some(serde_json::Value::Array(ps))) => ps.iter().collect(),
        _ => vec![],
    };
    polys
        .iter()
        .filter_map(|p| p.as_array())
        .flatten()
        .filter_map(|r| r.as_array())
        .filter(|r| r.first() != r.last())
        .count()
}

/// Why the (converted) shape is not a valid polygon set, in words: geo's own explanation
/// for rings it can afford to check pair by pair, else what the grid check found.
fn invalidity(shape: &MultiPolygon<f64>) -> Vec<String> {
    use geo::Validation;
    let mut out = Vec::new();
    for (k, p) in shape.0.iter().enumerate() {
        if crate::geom::valid::is_valid(p) {
            continue;
        }
        let vertices: usize =
            p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>();
        let part = if shape.0.len() > 1 {
            format!("part {k}: ")
        } else {
            String::new()
        };
        if vertices <= 20_000 {
            for e in p.validation_errors().into_iter().take(3) {
                out.push(format!("{part}{e}"));
            }
        } else {
            out.push(crate::tr!(
                "{part}有环自相交或与其他环相交（{vertices} 个顶点）",
                "{part}a ring intersects itself or another ring ({vertices} vertices)"
            ));
        }
    }
    out
}

/// Read every Polygon / MultiPolygon feature of a GeoJSON file.
pub fn read_boundaries(
    path: &Path,
    crs: Crs,
    name_field: &str,
    adcode_field: &str,
) -> Result<Vec<District>, IngestError> {
    let file = path.display().to_string();
    if let Ok(m) = std::fs::metadata(path) {
        super::check_size(&file, "boundary", m.len(), super::MAX_INPUT_BYTES)?;
    }
    let bytes = std::fs::read(path).map_err(|e| IngestError::Missing {
        file: file.clone(),
        what: crate::tr!(
            "区县边界（GeoJSON Polygon/MultiPolygon）",
            "district boundaries (GeoJSON Polygon/MultiPolygon)"
        ),
        message: crate::i18n::io_error(&e),
    })?;
    boundaries_from_bytes(&file, &bytes, crs, name_field, adcode_field)
}

/// Read the Polygon / MultiPolygon features of GeoJSON text (a file's bytes, or a
/// database table's rows as PostGIS wrote them); `file` names it in messages.
pub fn boundaries_from_bytes(
    file: &str,
    bytes: &[u8],
    crs: Crs,
    name_field: &str,
    adcode_field: &str,
) -> Result<Vec<District>, IngestError> {
    let file = file.to_string();
    if bytes.is_empty() {
        return Err(IngestError::Empty {
            file,
            what: crate::tr!("区县边界", "district boundaries"),
        });
    }
    let err = |message: String| IngestError::Parse {
        file: file.clone(),
        message,
    };
    let (text, _) = super::table::decode_text(bytes)
        .ok_or_else(|| IngestError::Encoding { file: file.clone() })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| err(crate::tr!("不是有效的 JSON：{e}", "not JSON: {e}")))?;
    let feats: Vec<serde_json::Value> = match v.get("type").and_then(|t| t.as_str()) {
        Some("FeatureCollection") => v
            .get("features")
            .and_then(|f| f.as_array())
            .cloned()
            .unwrap_or_default(),
        Some("Feature") => vec![v.clone()],
        Some("Polygon") | Some("MultiPolygon") => {
            vec![serde_json::json!({"type": "Feature", "properties": {}, "geometry": v})]
        }
        _ => {
            return Err(err(crate::tr!(
                "应为由 Polygon/MultiPolygon 要素组成的 GeoJSON FeatureCollection",
                "expected a GeoJSON FeatureCollection of Polygon/MultiPolygon features"
            )))
        }
    };
    let mut out = Vec::new();
    for (i, f) in feats.iter().enumerate() {
        let g = f.get("geometry").filter(|g| !g.is_null()).ok_or_else(|| {
            err(crate::tr!(
                "第 {i} 个要素没有几何",
                "feature {i} has no geometry"
            ))
        })?;
        let shape = geometry_to_multipolygon(g, crs)
            .map_err(|m| err(crate::tr!("第 {i} 个要素：{m}", "feature {i}: {m}")))?;
        let mut warnings = Vec::new();
        let unclosed = unclosed_rings(g);
        if unclosed > 0 {
            warnings.push(crate::tr!(
                "{unclosed} 个环未闭合（末点 ≠ 首点），已由 riskmap 闭合",
                "{unclosed} ring(s) not closed (last position ≠ first); closed by riskmap"
            ));
        }
        warnings.extend(invalidity(&shape));
        let mut properties = f
            .get("properties")
            .and_then(|p| p.as_object())
            .cloned()
            .unwrap_or_default();
        let text = |v: Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => s,
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let name = text(properties.remove(name_field));
        let adcode = text(properties.remove(adcode_field));
        let name = if name.is_empty() {
            format!("#{i}")
        } else {
            name
        };
        let warnings = warnings
            .into_iter()
            .map(|w| {
                crate::tr!("{file}：第 {i} 个要素（{name}）边界无效：{w}；其附近的点可能被归入错误的区县", "{file}: feature {i} ({name}): invalid boundary: {w}; points near it may be assigned to the wrong district")
            })
            .collect();
        out.push(District {
            name,
            adcode,
            shape,
            properties,
            warnings,
        });
    }
    if out.is_empty() {
        return Err(IngestError::Empty {
            file,
            what: crate::tr!("区县边界", "district boundaries"),
        });
    }
    Ok(out)
}
