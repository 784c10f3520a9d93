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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bad value is a 400 naming its parameter; good values parse.
    #[test]
    fn bad_values_name_their_parameter() {
        let p = Params::parse(Some("lon=117.1&lat=nan&limit=-3&crs=utm&x=%20%20")).unwrap();
        assert_eq!(p.req_f64("lon").unwrap(), 117.1);
        for (k, e) in [
            ("lat", p.f64("lat").unwrap_err()),
            ("limit", p.usize("limit").unwrap_err()),
            ("crs", p.crs().unwrap_err()),
            ("radius", p.req_f64("radius").unwrap_err()),
        ] {
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{k}");
            assert_eq!(e.param.as_deref(), Some(k));
        }
        // a blank value is no value
        assert_eq!(p.str("x"), None);
        assert_eq!(p.f64("x").unwrap(), None);
        assert_eq!(
            Params::parse(Some("crs=GCJ02")).unwrap().crs().unwrap(),
            riskmap_core::crs::Crs::Gcj02
        );
    }

    #[test]
    fn bbox_is_checked_side_by_side() {
        assert_eq!(
            bbox("116.8,36.5,117.2,36.8", 5.0).unwrap(),
            [116.8, 36.5, 117.2, 36.8]
        );
        for bad in [
            "116.8,36.5,117.2",      // three numbers
            "116.8,36.5,117.2,x",    // not a number
            "117.2,36.5,116.8,36.8", // west > east
            "116.8,36.8,117.2,36.8", // empty
            "116.8,-95,117.2,36.8",  // latitude out of range
            "100,30,110,36.8",       // a side over the limit
            "116.8,36.5,117.2,inf",  // infinity
        ] {
            let e = bbox(bad, 5.0).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("bbox"), "{bad}");
            assert!(!e.error.is_empty());
        }
    }

    /// The JSON error body a client reads: error, param and status.
    #[test]
    fn errors_are_json_with_the_status() {
        let r = ApiError::bad("bbox", "nope").into_response();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            r.headers()[axum::http::header::CONTENT_TYPE],
            "application/json"
        );
    }
}
