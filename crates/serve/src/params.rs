//! Query parameters, parsed by hand so that every bad value is a 400 with a JSON error
//! naming the parameter (axum's own extractors answer plain text).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

/// An API error: status, message, and the parameter at fault.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub param: Option<String>,
}

impl ApiError {
    pub fn bad(param: &str, error: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error: error.into(),
            param: Some(param.to_string()),
        }
    }
    pub fn not_found(error: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error: error.into(),
            param: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.error,
            "param": self.param,
            "status": self.status.as_u16(),
        });
        (
            self.status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// The query string as name → value (the last value of a repeated name wins).
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|e| ApiError::bad("query", format!("malformed query string: {e}")))?;
        Ok(Params(pairs.into_iter().collect()))
    }

    /// A non-empty value.
    pub fn str(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// A finite number, if given.
    pub fn f64(&self, k: &str) -> Result<Option<f64>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => number(k, v).map(Some),
        }
    }

    /// A required finite number.
    pub fn req_f64(&self, k: &str) -> Result<f64, ApiError> {
        self.f64(k)?
            .ok_or_else(|| ApiError::bad(k, format!("`{k}` is required")))
    }

    /// A non-negative integer, if given.
    pub fn usize(&self, k: &str) -> Result<Option<usize>, ApiError> {
        match self.str(k) {
            None => Ok(None),
            Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
                ApiError::bad(k, format!("`{k}` must be a whole number ≥ 0, got `{v}`"))
            }),
        }
    }

    /// A CRS name (default WGS84).
    pub fn crs(&self) -> Result<riskmap_core::crs::Crs, ApiError> {
        match self.str("crs") {
            None => Ok(riskmap_core::crs::Crs::Wgs84),
            Some(v) => v.parse().map_err(|_| {
                ApiError::bad(
                    "crs",
                    format!("unknown crs `{v}`: wgs84, cgcs2000, gcj02 or bd09"),
                )
            }),
        }
    }
}

/// A finite number (NaN and infinities are refused).
pub fn number(k: &str, v: &str) -> Result<f64, ApiError> {
    match v.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(ApiError::bad(
            k,
            format!("`{k}` must be a finite number, got `{v}`"),
        )),
    }
}

/// Longitude and latitude within range.
pub fn check_lonlat(lon: f64, lat: f64) -> Result<(), ApiError> {
    if !(-180.0..=180.0).contains(&lon) {
        return Err(ApiError::bad(
            "lon",
            format!("lon {lon} is outside −180…180"),
        ));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(ApiError::bad("lat", format!("lat {lat} is outside −90…90")));
    }
    Ok(())
}

/// `W,S,E,N`: four finite numbers, west < east, south < north, each side at most
/// `max_deg` degrees.
pub fn bbox(v: &str, max_deg: f64) -> Result<[f64; 4], ApiError> {
    let parts: Vec<&str> = v.split(',').collect();
    if parts.len() != 4 {
        return Err(ApiError::bad(
            "bbox",
            format!("bbox must be W,S,E,N (four numbers), got `{v}`"),
        ));
    }
    let mut b = [0f64; 4];
    for (i, p) in parts.iter().enumerate() {
        b[i] = number("bbox", p)?;
    }
    check_lonlat(b[0], b[1]).map_err(|e| ApiError::bad("bbox", e.error))?;
    check_lonlat(b[2], b[3]).map_err(|e| ApiError::bad("bbox", e.error))?;
    if b[0] >= b[2] || b[1] >= b[3] {
        return Err(ApiError::bad(
            "bbox",
            format!(
                "bbox is inverted or empty: west {} must be < east {} and south {} < north {}",
                b[0], b[2], b[1], b[3]
            ),
        ));
    }
    if b[2] - b[0] > max_deg || b[3] - b[1] > max_deg {
        return Err(ApiError::bad(
            "bbox",
            format!("bbox is larger than the maximum of {max_deg}° a side ([serve] max_bbox_deg)"),
        ));
    }
    Ok(b)
}
