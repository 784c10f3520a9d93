//! riskmap-analyze: the four-color spatial distribution in every form planners use — per
//! district (and street), per grid cell, as a continuous kernel surface classified into
//! zones, and the exposure of sensitive sites. Metric work happens in the region's UTM zone.
//!
//! Owns: the statistics and geometries of the distribution ([`Analysis`]), h3o and contour.
//! Takes a graded [`riskmap_core::dataset::Dataset`] and an [`AnalyzeParams`]. Must not
//! know: the config file, rendering, file formats or serving.

pub mod areas;
pub mod emergency;
pub mod exposure;
pub mod grid;
pub mod lifelines;
pub mod monitoring;
pub mod params;
pub mod routing;
pub mod rule;
pub mod simplify;
pub mod surface;
pub mod zones;

pub use params::AnalyzeParams;
use rayon::prelude::*;
use riskmap_core::dataset::Dataset;
use riskmap_core::utm::Utm;
use riskmap_core::Error;

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
    /// The square grid's cell size in metres (None for H3 or no grid).
    pub square_cell_m: Option<f64>,
    pub surface: Option<surface::Surface>,
    pub zones: Option<Vec<zones::Zone>>,
    pub exposure: Option<Vec<exposure::Exposed>>,
    /// The nearest help, fire-station reach and gaps (with a resources input).
    pub emergency: Option<emergency::Emergency>,
    /// Lifelines' zones, the enterprises and sites in them, the ranked segments (with a
    /// lifelines input).
    pub lifelines: Option<lifelines::Lifelines>,
    /// The readings replayed through the alarm engine (with monitoring points).
    pub monitoring: Option<monitoring::Replay>,
    /// Seconds per stage, in order.
    pub timings: Vec<(&'static str, f64)>,
}

/// Which analysis stages a caller's outputs need (each still only when the config
/// switches it on): `riskmap tiles --layers surface` needs the surface and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub areas: bool,
    pub grid: bool,
    pub surface: bool,
    /// The zone polygons (they need the surface).
    pub zones: bool,
    pub exposure: bool,
    pub emergency: bool,
    pub lifelines: bool,
    pub monitoring: bool,
}

impl Needs {
    /// Every stage (a full build).
    pub const ALL: Needs = Needs {
        areas: true,
        grid: true,
        surface: true,
        zones: true,
        exposure: true,
        emergency: true,
        lifelines: true,
        monitoring: true,
    };
    /// No stage.
    pub const NONE: Needs = Needs {
        areas: false,
        grid: false,
        surface: false,
        zones: false,
        exposure: false,
        emergency: false,
        lifelines: false,
        monitoring: false,
    };
}

/// Run every stage `p` switches on.
pub fn run(ds: &Dataset, p: &AnalyzeParams) -> Result<Analysis, Error> {
    run_only(ds, p, Needs::ALL)
}

/// Run the stages `p` switches on and `needs` asks for.
pub fn run_only(ds: &Dataset, p: &AnalyzeParams, needs: Needs) -> Result<Analysis, Error> {
    let cfg = p;
    let mut timings = Vec::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &'static str| {
        timings.push((name, clock.elapsed().as_secs_f64()));
        clock = std::time::Instant::now();
    };
    let frame = Frame::new(ds);
    let on_areas = cfg.areas.enabled && needs.areas;
    let areas =
        (on_areas && !ds.districts.is_empty()).then(|| areas::district_stats(ds, &cfg.areas.level));
    let streets = match (&cfg.areas.streets, on_areas) {
        (Some(path), true) => Some(areas::street_stats(ds, path, &cfg.areas)?),
        _ => None,
    };
    lap("areas");
    let grid = (cfg.grid.enabled && needs.grid)
        .then(|| grid::build(ds, &frame, &cfg.grid))
        .transpose()?;
    lap("grid");
    // exposure reads the zones, when there are sites to expose
    let exposure_on = cfg.exposure.enabled && needs.exposure && !ds.sites.is_empty();
    let want_zones = needs.zones || exposure_on;
    let (surface, zones) = if cfg.surface.enabled && (needs.surface || want_zones) {
        let s = surface::build(ds, &frame, &cfg.surface)?;
        lap("surface");
        let z = want_zones
            .then(|| zones::build(ds, &frame, &s, &cfg.surface))
            .transpose()?;
        lap("zones");
        (Some(s), z)
    } else {
        (None, None)
    };
    let exposure = exposure_on.then(|| {
        exposure::assess(
            ds,
            &frame,
            zones.as_deref().unwrap_or(&[]),
            cfg.exposure.nearest,
        )
    });
    lap("exposure");
    let emergency = needs
        .emergency
        .then(|| emergency::assess(ds, &cfg.emergency))
        .flatten();
    lap("emergency");
    let lifelines = (needs.lifelines && !ds.lifelines.is_empty())
        .then(|| lifelines::assess(ds, &frame, &cfg.lifelines));
    lap("lifelines");
    let monitoring = (needs.monitoring && !ds.monitoring_points.is_empty()).then(|| {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        monitoring::replay(
            ds.monitoring_points.clone(),
            &ds.readings,
            cfg.monitoring.clone(),
            wall,
        )
    });
    lap("monitoring");
    let square_cell_m =
        (grid.is_some() && cfg.grid.kind == params::GridKind::Square).then_some(cfg.grid.cell_m);
    Ok(Analysis {
        frame,
        square_cell_m,
        areas,
        streets,
        grid,
        surface,
        zones,
        exposure,
        emergency,
        lifelines,
        monitoring,
        timings,
    })
}
