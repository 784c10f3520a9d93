//! The MapLibre styles of the vector tileset, their sprite and glyphs, made from the
//! served dataset's style and the bundled font (the same documents `build` writes beside
//! the tiles), with this server's URLs: `/styles/style.json`,
//! `/styles/style_colorblind.json`, `/sprites/{style}[@2x].json|png`,
//! `/fonts/{fontstack}/{start}-{end}.pbf`.

use crate::params::{ApiError, Params};
use crate::{public_base, Shared, State};
use axum::extract::{Extension, Path as AxPath, RawQuery};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use riskmap_core::style::Style;
use riskmap_render::mapstyle;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

fn style_named(st: &State, name: &str) -> Option<Style> {
    match name {
        "style" => Some(st.ds.style.clone()),
        "style_colorblind" | "colorblind" => Some(Style::colorblind()),
        _ => None,
    }
}

/// The vector tileset a style draws: the WGS-84 one, or its GCJ-02 twin for `crs=gcj02`
/// (for Gaode and other GCJ-02 basemaps).
fn vector_name(st: &State, gcj02: bool) -> Option<String> {
    let base = st
        .pyramids
        .iter()
        .find(|(k, p)| p.is_vector() && !k.ends_with("_gcj02"))
        .map(|(k, _)| k.clone())?;
    if !gcj02 {
        return Some(base);
    }
    let twin = format!("{base}_gcj02");
    st.pyramids
        .get(&twin)
        .filter(|p| p.is_vector())
        .map(|_| twin)
}

/// `GET /styles/{name}.json[?crs=gcj02]`.
pub(crate) async fn h_style(
    Extension(st): Extension<Shared>,
    AxPath(file): AxPath<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let q = match Params::parse(raw.as_deref()) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let gcj02 = match q.str("crs").map(|s| s.to_ascii_lowercase()) {
        None => false,
        Some(c) if c == "wgs84" || c == "epsg:4326" => false,
        Some(c) if c == "gcj02" => true,
        Some(c) => {
            return ApiError::bad(
                "crs",
                format!(
                    "crs is wgs84 or gcj02, got `{}`",
                    c.chars().take(64).collect::<String>()
                ),
            )
            .into_response()
        }
    };
    let Some(name) = file.strip_suffix(".json") else {
        return ApiError::not_found(
            "styles are /styles/style.json and /styles/style_colorblind.json",
        )
        .into_response();
    };
    let (Some(style), Some(tileset)) = (style_named(&st, name), vector_name(&st, gcj02)) else {
        return ApiError::not_found(format!(
            "no style `{}`{} (styles: style, style_colorblind; they need the vector tiles: [vector] enabled{})",
            name.chars().take(64).collect::<String>(),
            if gcj02 { " in GCJ-02" } else { "" },
            if gcj02 { ", with a GCJ-02 twin: [output] crs_out" } else { "" },
        ))
        .into_response();
    };
    let base = public_base(&st.cfg, &headers);
    let sprite = if name == "style" {
        "style"
    } else {
        "colorblind"
    };
    let urls = mapstyle::StyleUrls {
        tilejson: &format!("{base}/tiles/{tileset}.json"),
        glyphs: &format!("{base}/fonts/{{fontstack}}/{{range}}.pbf"),
        sprite: &format!("{base}/sprites/{sprite}"),
    };
    // the layers that stop below the last zoom, from the tileset's own vector_layers
    let zooms = st
        .pyramids
        .get(&tileset)
        .map(|p| {
            mapstyle::Zooms::from_vector_layers(&p.vector_layers().unwrap_or_default(), p.maxzoom)
        })
        .unwrap_or_default();
    let v = mapstyle::style(&style, &st.ds.title, &urls, st.ds.region_bbox, &zooms);
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        v.to_string(),
    )
        .into_response()
}

/// `GET /sprites/{file}`: `style.json`, `colorblind@2x.png`, ….
pub(crate) async fn h_sprite(
    Extension(st): Extension<Shared>,
    AxPath(file): AxPath<String>,
) -> Response {
    let (stem, ext) = match file.rsplit_once('.') {
        Some((s, e @ ("json" | "png"))) => (s, e),
        _ => return ApiError::not_found("sprites are /sprites/NAME[@2x].json|png").into_response(),
    };
    let (name, ratio) = match stem.strip_suffix("@2x") {
        Some(n) => (n, 2),
        None => (stem, 1),
    };
    let Some(style) = style_named(
        &st,
        if name == "colorblind" {
            "colorblind"
        } else {
            name
        },
    ) else {
        return ApiError::not_found(format!(
            "no sprite `{}`",
            name.chars().take(64).collect::<String>()
        ))
        .into_response();
    };
    let Some((index, png)) = mapstyle::sprite(&style, ratio) else {
        return ApiError::not_found(format!("style `{name}` has no patterns, so no sprite"))
            .into_response();
    };
    if ext == "json" {
        (
            [(header::CONTENT_TYPE, "application/json")],
            index.to_string(),
        )
            .into_response()
    } else {
        ([(header::CONTENT_TYPE, "image/png")], png).into_response()
    }
}

/// `GET /fonts/{fontstack}/{start}-{end}.pbf`: any fontstack is drawn with the bundled
/// font; ranges are made on first request and kept.
pub(crate) async fn h_glyphs(AxPath((stack, file)): AxPath<(String, String)>) -> Response {
    let range = file
        .strip_suffix(".pbf")
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)));
    let Some((start, end)) = range.filter(|(a, b)| a % 256 == 0 && *b == a + 255 && *b <= 0xFFFF)
    else {
        return ApiError::bad("range", format!("glyph ranges are START-END.pbf with START a multiple of 256 and END = START + 255, up to 65535; got `{}`", file.chars().take(64).collect::<String>())).into_response();
    };
    // every fontstack is drawn with the one bundled font, so the cache is keyed by the
    // range alone (at most 256 entries, whatever stacks clients ask for)
    let _ = (stack, end);
    static CACHE: OnceLock<Mutex<HashMap<u32, bytes::Bytes>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let hit = cache.lock().ok().and_then(|c| c.get(&start).cloned());
    let bytes = match hit {
        Some(b) => b,
        None => match riskmap_render::glyphs::range(
            riskmap_render::overview::BUNDLED_FONT,
            0,
            mapstyle::FONTSTACK,
            start,
        ) {
            Ok(b) => {
                let b = bytes::Bytes::from(b);
                if let Ok(mut c) = cache.lock() {
                    c.insert(start, b.clone());
                }
                b
            }
            Err(e) => return ApiError::bad("range", e).into_response(),
        },
    };
    (
        [
            (header::CONTENT_TYPE, "application/x-protobuf"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes,
    )
        .into_response()
}
