//! The offline web viewer (Leaflet vendored from npm, the app's own HTML/JS/CSS), compiled
//! into the binary so an intranet without internet serves it whole.

use crate::params::ApiError;
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};

const INDEX_HTML: &[u8] = include_bytes!("../viewer/index.html");

/// The viewer's files, compiled in (the list is `viewer/FILES.txt`).
fn asset(path: &str) -> Option<(&'static [u8], &'static str)> {
    macro_rules! files {
        ($($p:literal => $t:literal),* $(,)?) => {
            match path {
                $($p => Some((include_bytes!(concat!("../viewer/", $p)) as &[u8], $t)),)*
                _ => None,
            }
        };
    }
    files! {
        "index.html" => "text/html; charset=utf-8",
        "app.js" => "text/javascript; charset=utf-8",
        "app.css" => "text/css; charset=utf-8",
        "vendor/leaflet/leaflet.js" => "text/javascript; charset=utf-8",
        "vendor/leaflet/leaflet.css" => "text/css; charset=utf-8",
        "vendor/leaflet/LICENSE" => "text/plain; charset=utf-8",
        "vendor/leaflet/images/layers.png" => "image/png",
        "vendor/leaflet/images/layers-2x.png" => "image/png",
        "vendor/leaflet/images/marker-icon.png" => "image/png",
        "vendor/leaflet/images/marker-icon-2x.png" => "image/png",
        "vendor/leaflet/images/marker-shadow.png" => "image/png",
        "vendor/maplibre-gl/maplibre-gl.js" => "text/javascript; charset=utf-8",
        "vendor/maplibre-gl/maplibre-gl.css" => "text/css; charset=utf-8",
        "vendor/maplibre-gl/LICENSE" => "text/plain; charset=utf-8",
    }
}

/// For whoever works on the viewer: with `RISKMAP_VIEWER_DIR` set, the files are read
/// from that folder on each request (only names the compiled-in list has), so an edit
/// shows on reload without rebuilding the binary.
fn from_dev_dir(path: &str) -> Option<Vec<u8>> {
    let dir = std::env::var_os("RISKMAP_VIEWER_DIR")?;
    asset(path)?;
    std::fs::read(std::path::Path::new(&dir).join(path)).ok()
}

pub(crate) async fn h_index() -> Response {
    if let Some(b) = from_dev_dir("index.html") {
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], b).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX_HTML,
    )
        .into_response()
}

pub(crate) async fn h_asset(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches("/viewer/");
    if let (Some(b), Some((_, ct))) = (from_dev_dir(path), asset(path)) {
        return ([(header::CONTENT_TYPE, ct)], b).into_response();
    }
    match asset(path) {
        Some((bytes, ct)) => (
            [
                (header::CONTENT_TYPE, ct),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            bytes,
        )
            .into_response(),
        None => ApiError::not_found(format!(
            "no viewer file `{}`",
            path.chars().take(100).collect::<String>()
        ))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    /// Every file the viewer lists (`viewer/FILES.txt`) is compiled in and served, and
    /// nothing else.
    #[test]
    fn every_listed_file_is_served() {
        let list = include_str!("../viewer/FILES.txt");
        let mut n = 0;
        for f in list.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (bytes, ct) = super::asset(f).unwrap_or_else(|| panic!("{f} not served"));
            let on_disk = std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("viewer")
                    .join(f),
            )
            .unwrap();
            assert_eq!(bytes, &on_disk[..], "{f}");
            assert!(!ct.is_empty());
            n += 1;
        }
        assert!(n >= 5, "{n} files listed");
        assert!(super::asset("../Cargo.toml").is_none());
        assert!(super::asset("vendor/leaflet/nope.js").is_none());
    }
}
