//! Analyze: the four-color spatial distribution in every form planners use — per district
//! (and street), per grid cell, as a continuous kernel surface classified into zones, and
//! the exposure of sensitive sites. Metric work happens in the region's UTM zone.

pub mod areas;
pub mod exposure;
pub mod grid;
pub mod rule;
mod segments;
pub mod simplify;
pub mod surface;
pub mod valid;
pub mod zones;

use crate::pipeline::Dataset;
use crate::utm::Utm;
use crate::Error;
use rayon::prelude::*;

/// The metric frame: the region's UTM zone and every enterprise projected into it.
pub struct Frame {
    pub utm: Utm,
    /// Enterprise positions (easting, northing), aligned with `Dataset::enterprises`.
    pub xy: Vec<(f64, f64)>,
}

impl Frame {
    pub fn new(ds: &Dataset) -> Frame {
        let b = ds.region_bbox;
        let utm = Utm::for_lonlat((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
        // in parallel: the projection's series is trig-heavy (a 1M register took 0.3 s)
        let xy = ds
            .enterprises
            .par_iter()
            .map(|e| utm.forward(e.lon, e.lat))
            .collect();
        Frame { utm, xy }
    }
}

/// Everything the analysis stages produced.
pub struct Analysis {
    pub frame: Frame,
    pub areas: Option<Vec<areas::AreaStats>>,
    pub streets: Option<Vec<areas::AreaStats>>,
    pub grid: Option<Vec<grid::Cell>>,
    pub surface: Option<surface::Surface>,
    pub zones: Option<Vec<zones::Zone>>,
    pub exposure: Option<Vec<exposure::Exposed>>,
    /// Seconds per stage, in order.
    pub timings: Vec<(&'static str, f64)>,
}

/// Run every stage the config switches on.
pub fn run(ds: &Dataset) -> Result<Analysis, Error> {
    let cfg = &ds.config;
    let mut timings = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &'static str| {
        timings.push((name, clock.elapsed().as_secs_f64()));
        clock = std::time::Instant::now();
    };
    let frame = Frame::new(ds);
    let areas = (cfg.areas.enabled && !ds.districts.is_empty()).then(|| areas::district_stats(ds));
    let streets = match (&cfg.areas.streets, cfg.areas.enabled) {
        (Some(p), true) => Some(areas::street_stats(ds, p)?),
        _ => None,
    };
    lap("areas");
    let grid = cfg
        .grid
        .enabled
        .then(|| grid::build(ds, &frame))
        .transpose()?;
    lap("grid");
    let (surface, zones) = if cfg.surface.enabled {
        let s = surface::build(ds, &frame)?;
        lap("surface");
        let z = zones::build(ds, &frame, &s)?;
        lap("zones");
        (Some(s), Some(z))
    } else {
        (None, None)
    };
    let exposure = (cfg.exposure.enabled && !ds.sites.is_empty())
        .then(|| exposure::assess(ds, &frame, zones.as_deref().unwrap_or(&[])));
    lap("exposure");
    Ok(Analysis {
        frame,
        areas,
        streets,
        grid,
        surface,
        zones,
        exposure,
        timings,
    })
}
