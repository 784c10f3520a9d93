//! Emergency command (#27): the nearest help to every enterprise and to any point, the
//! fire stations' reach, and the enterprises the city must look at — red and orange
//! ones with neither their own rescue team nor an agreement, and those outside every
//! station's reach.
//!
//! Distances here are great-circle metres from one R-tree per resource kind (the
//! k-nearest of [`PointIndex`], never a scan of every resource per enterprise), labelled
//! straight-line (直线距离) wherever they are shown.

use crate::routing::{k_nearest, routes_at, Network, Route, Snap};
use petgraph::graph::NodeIndex;
use rayon::prelude::*;
use riskmap_core::dataset::Dataset;
use riskmap_core::index::{Hit, PointIndex};
use riskmap_core::model::{FireClass, Level, ResourceKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// `[emergency]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EmergencyConfig {
    /// Nearest resources listed per kind for every enterprise. Default 3.
    pub nearest: usize,
    /// Fire-station reach (GB 51080-2015 §4.1.3: a station reaches the edge of its area
    /// within 5 minutes of the call).
    pub fire: FireReach,
    /// Levels whose enterprises must have a rescue team of their own or an agreement
    /// (救援协议); the others are listed as gaps. Default red and orange.
    pub gap_levels: Vec<Level>,
    /// With a road network (`[roads]`): the speeds of its classes, the access speed and
    /// snapping distance.
    pub roads: crate::routing::RoadSpeeds,
}

/// How far a fire station reaches.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FireReach {
    /// Minutes from the call to arrival at the edge of the area. Default 5.
    pub response_min: f64,
    /// Of those, minutes to turn out (出动) before driving. Default 1.
    pub turnout_min: f64,
    /// Driving speed without a road network, km/h. Default 30 (an urban fire engine's
    /// average on the way, as station planning assumes).
    pub speed_kmh: f64,
    /// Station classes that count for coverage. Default every class but 微型消防站
    /// (micro stations are first-response posts, not planned stations); a station with no
    /// class counts.
    pub classes: Vec<FireClass>,
}

impl Default for FireReach {
    fn default() -> Self {
        FireReach {
            response_min: 5.0,
            turnout_min: 1.0,
            speed_kmh: 30.0,
            classes: vec![
                FireClass::Special,
                FireClass::First,
                FireClass::Second,
                FireClass::Small,
            ],
        }
    }
}

impl FireReach {
    /// Straight-line reach in metres: the driving minutes at the speed.
    pub fn radius_m(&self) -> f64 {
        ((self.response_min - self.turnout_min).max(0.0) / 60.0) * self.speed_kmh * 1000.0
    }
}

impl Default for EmergencyConfig {
    fn default() -> Self {
        EmergencyConfig {
            nearest: 3,
            fire: FireReach::default(),
            gap_levels: vec![Level::Red, Level::Orange],
            roads: Default::default(),
        }
    }
}

impl EmergencyConfig {
    pub fn validate(&self) -> Result<(), String> {
        let f = &self.fire;
        if !(self.nearest >= 1 && self.nearest <= 50) {
            return Err(format!(
                "emergency.nearest = {} must be 1..50",
                self.nearest
            ));
        }
        if !(f.response_min.is_finite() && f.response_min > 0.0) {
            return Err("emergency.fire.response_min must be > 0".into());
        }
        if !(f.turnout_min.is_finite() && f.turnout_min >= 0.0 && f.turnout_min < f.response_min) {
            return Err("emergency.fire.turnout_min must be ≥ 0 and below response_min".into());
        }
        if !(f.speed_kmh.is_finite() && f.speed_kmh > 0.0 && f.speed_kmh <= 200.0) {
            return Err("emergency.fire.speed_kmh must be within (0, 200]".into());
        }
        self.roads.validate()
    }
}

/// The resources of one kind with their R-tree.
pub struct KindIndex {
    pub kind: ResourceKind,
    /// Positions in `Dataset::resources`.
    pub members: Vec<usize>,
    index: PointIndex,
}

impl KindIndex {
    /// The `k` nearest of this kind to (lon, lat): (resource index, metres), nearest first.
    pub fn nearest(&self, lon: f64, lat: f64, k: usize) -> Vec<Hit> {
        self.index
            .nearest(lon, lat, k)
            .into_iter()
            .map(|h| Hit {
                idx: self.members[h.idx],
                distance_m: h.distance_m,
            })
            .collect()
    }

    /// Everything of this kind within `radius_m`, nearest first.
    pub fn within(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<Hit> {
        self.index
            .within(lon, lat, radius_m)
            .into_iter()
            .map(|h| Hit {
                idx: self.members[h.idx],
                distance_m: h.distance_m,
            })
            .collect()
    }
}

/// One R-tree per kind present, in [`ResourceKind::ALL`] order.
pub fn kind_indexes(ds: &Dataset) -> Vec<KindIndex> {
    ResourceKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let members: Vec<usize> = ds
                .resources
                .iter()
                .enumerate()
                .filter(|(_, r)| r.kind == kind)
                .map(|(i, _)| i)
                .collect();
            (!members.is_empty()).then(|| {
                let pts: Vec<(f64, f64)> = members
                    .iter()
                    .map(|&i| (ds.resources[i].lon, ds.resources[i].lat))
                    .collect();
                KindIndex {
                    kind,
                    members,
                    index: PointIndex::new(&pts),
                }
            })
        })
        .collect()
}

/// Why an enterprise is listed as a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gap {
    /// Red/orange with neither its own team nor an agreement.
    NoTeam,
    /// Outside every counted fire station's reach.
    OutsideFireReach,
}

impl Gap {
    pub fn code(self) -> &'static str {
        match self {
            Gap::NoTeam => "no_team",
            Gap::OutsideFireReach => "outside_fire_reach",
        }
    }

    /// In Chinese, with the response time in force (`[emergency.fire] response_min`).
    pub fn zh(self, response_min: f64) -> String {
        match self {
            Gap::NoTeam => "无自有救援队伍且无救援协议".into(),
            Gap::OutsideFireReach => format!("不在消防站{}分钟到达范围内", minutes(response_min)),
        }
    }
}

/// Minutes as people write them: `5`, `4.5`.
pub fn minutes(m: f64) -> String {
    let r = (m * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// What the emergency stage produced.
pub struct Emergency {
    pub kinds: Vec<KindIndex>,
    /// Per enterprise, per kind present (in `kinds` order): the nearest resources.
    pub nearest: Vec<Vec<Vec<Hit>>>,
    /// Fire stations that count for coverage (positions in `Dataset::resources`).
    pub stations: Vec<usize>,
    /// The straight-line reach of a counted station, metres.
    pub reach_m: f64,
    /// Minutes from the call to arrival the reach stands for (`response_min`).
    pub response_min: f64,
    /// Per enterprise: the nearest counted station within reach (None: outside all).
    pub covered_by: Vec<Option<Hit>>,
    /// Enterprises of the gap levels with neither their own team nor an agreement.
    pub no_team: Vec<usize>,
    /// With a road network: travel along it.
    pub roads: Option<RoadRoutes>,
}

/// Travel by road (#27 §1): the network, each kind's `k` nearest resources at every
/// node, and every enterprise's by driving time.
pub struct RoadRoutes {
    pub net: crate::routing::Network,
    /// Per kind (in `Emergency::kinds` order), per node: the nearest resources by time.
    pub labels: Vec<crate::routing::Labels>,
    /// Per enterprise, per kind: its nearest by time (empty off the network).
    pub routes: Vec<Vec<Vec<crate::routing::Route>>>,
    /// Per enterprise: the counted station reaching it soonest, if within the driving
    /// time (None: outside by road, or off the network).
    pub station: Vec<Option<crate::routing::Route>>,
    /// Enterprises farther than `max_snap_m` from every road node (their help and
    /// reach are straight-line).
    pub off_network: Vec<usize>,
    /// Resources off the network (not reachable by road).
    pub resources_off: usize,
    /// The driving seconds a station has (response − turnout).
    pub budget_secs: f64,
    /// Per counted station (aligned with `Emergency::stations`): the area it reaches
    /// by road within `budget_secs` (the concave hull of the roads reached; None off the
    /// network or reaching too little to enclose).
    pub reach: Vec<Option<geo::Polygon<f64>>>,
    pub km: f64,
    /// Per resource (as `Dataset::resources`): where it joins the network.
    pub snaps: Vec<Option<Snap>>,
    /// Seconds spent: the network, its searches and every enterprise's routes; the
    /// stations' reach polygons (for the benchmark; never written to an output).
    pub route_secs: f64,
    pub reach_secs: f64,
    /// Per kind (as `labels`): the resources on each road, keyed by the road's ends.
    pub on_road: Vec<OnRoad>,
}

/// The resources joining each road, keyed by its two nodes (the lower index first): the
/// ones a point on that road may reach straight along it.
pub type OnRoad = HashMap<(NodeIndex, NodeIndex), Vec<usize>>;

fn road_key(s: &Snap) -> (NodeIndex, NodeIndex) {
    let (a, b) = s.seg;
    (a.min(b), a.max(b))
}

fn on_road(snaps: &[Option<Snap>], members: &[usize]) -> OnRoad {
    let mut m: OnRoad = HashMap::new();
    for &i in members {
        if let Some(s) = &snaps[i] {
            m.entry(road_key(s)).or_default().push(i);
        }
    }
    m
}

/// Help from every source on `snap`'s road, straight along it.
fn along(
    net: &Network,
    snaps: &[Option<Snap>],
    on: &OnRoad,
    snap: &Snap,
) -> Vec<(usize, f64, f64)> {
    on.get(&road_key(snap))
        .into_iter()
        .flatten()
        .filter_map(|&i| {
            let (secs, metres) = net.along(snaps[i].as_ref()?, snap)?;
            Some((i, secs, metres))
        })
        .collect()
}

impl RoadRoutes {
    /// The routes to any point: where it joins the network and per kind (as `labels`),
    /// nearest first; None off the network.
    pub fn from_point(&self, lon: f64, lat: f64) -> Option<(Snap, Vec<Vec<Route>>)> {
        let snap = self.net.snap(lon, lat)?;
        let routes = self
            .labels
            .iter()
            .zip(&self.on_road)
            .map(|(l, on)| routes_at(l, &snap, &along(&self.net, &self.snaps, on, &snap)))
            .collect();
        Some((snap, routes))
    }

    /// The way `route` (of kind `kind`, as `labels`) drives from its resource
    /// (`res_at` its position) to the point `at` that joins the network at `snap`, as
    /// (lon, lat) along the roads.
    pub fn path(
        &self,
        kind: usize,
        route: &Route,
        res_at: (f64, f64),
        at: (f64, f64),
        snap: &Snap,
    ) -> Vec<(f64, f64)> {
        match self.snaps.get(route.idx).and_then(Option::as_ref) {
            Some(from) => self
                .net
                .path(&self.labels[kind], (res_at, from), route, (at, snap)),
            None => vec![res_at, at],
        }
    }
}

impl Emergency {
    /// The nearest of `kind` for enterprise `i`.
    pub fn nearest_of(&self, i: usize, kind: ResourceKind) -> &[Hit] {
        self.kinds
            .iter()
            .position(|k| k.kind == kind)
            .map(|p| self.nearest[i][p].as_slice())
            .unwrap_or(&[])
    }

    /// Whether enterprise `i` is outside every counted station's reach (never, when no
    /// station counts).
    pub fn is_outside(&self, i: usize) -> bool {
        !self.stations.is_empty() && self.covered_by[i].is_none()
    }

    /// Enterprises outside every counted station's reach.
    pub fn outside(&self) -> Vec<usize> {
        (0..self.covered_by.len())
            .filter(|&i| self.is_outside(i))
            .collect()
    }

    /// Enterprise `i`'s gaps, in a fixed order (the card and emergency.csv list them).
    pub fn gaps(&self, i: usize) -> Vec<Gap> {
        let mut g = Vec::new();
        if self.no_team.binary_search(&i).is_ok() {
            g.push(Gap::NoTeam);
        }
        if self.is_outside(i) {
            g.push(Gap::OutsideFireReach);
        }
        g
    }

    /// How many enterprises each counted station is the nearest reaching one for, aligned
    /// with `stations`.
    pub fn covered_counts(&self) -> Vec<usize> {
        let mut n = vec![0usize; self.stations.len()];
        for h in self.covered_by.iter().flatten() {
            if let Ok(k) = self.stations.binary_search(&h.idx) {
                n[k] += 1;
            }
        }
        n
    }
}

/// Run the stage (None without resources).
pub fn assess(ds: &Dataset, cfg: &EmergencyConfig) -> Option<Emergency> {
    if ds.resources.is_empty() {
        return None;
    }
    let kinds = kind_indexes(ds);
    let k = cfg.nearest.max(1);
    let nearest: Vec<Vec<Vec<Hit>>> = ds
        .enterprises
        .par_iter()
        .map(|e| kinds.iter().map(|ki| ki.nearest(e.lon, e.lat, k)).collect())
        .collect();
    let counted = |i: usize| {
        let r = &ds.resources[i];
        r.kind == ResourceKind::FireStation
            && r.fire_class.is_none_or(|c| cfg.fire.classes.contains(&c))
    };
    let stations: Vec<usize> = (0..ds.resources.len()).filter(|&i| counted(i)).collect();
    let reach_m = cfg.fire.radius_m();
    let station_index = PointIndex::new(
        &stations
            .iter()
            .map(|&i| (ds.resources[i].lon, ds.resources[i].lat))
            .collect::<Vec<_>>(),
    );
    let covered_by: Vec<Option<Hit>> = ds
        .enterprises
        .par_iter()
        .map(|e| {
            station_index
                .nearest(e.lon, e.lat, 1)
                .into_iter()
                .find(|h| h.distance_m <= reach_m)
                .map(|h| Hit {
                    idx: stations[h.idx],
                    distance_m: h.distance_m,
                })
        })
        .collect();
    let roads = (!ds.roads.is_empty()).then(|| road_routes(ds, cfg, &kinds, &stations));
    // by road, a station reaches an enterprise within its driving time; off the network,
    // or without roads, within the straight-line reach
    let covered_by: Vec<Option<Hit>> = match &roads {
        None => covered_by,
        Some(rr) => covered_by
            .into_iter()
            .enumerate()
            .map(|(i, straight)| {
                if rr.off_network.binary_search(&i).is_ok() {
                    straight
                } else {
                    rr.station[i].map(|r| Hit {
                        idx: r.idx,
                        distance_m: r.metres,
                    })
                }
            })
            .collect(),
    };
    let no_team = (0..ds.enterprises.len())
        .filter(|&i| {
            let e = &ds.enterprises[i];
            ds.grades[i]
                .level
                .is_some_and(|l| cfg.gap_levels.contains(&l))
                && e.own_team != Some(true)
                && e.rescue_partner.is_none()
        })
        .collect();
    Some(Emergency {
        kinds,
        nearest,
        stations,
        reach_m,
        response_min: cfg.fire.response_min,
        covered_by,
        no_team,
        roads,
    })
}

/// Build the network and route every kind's resources to every node (one search per
/// kind, the kinds in parallel), then read each enterprise's routes off its node.
fn road_routes(
    ds: &Dataset,
    cfg: &EmergencyConfig,
    kinds: &[KindIndex],
    stations: &[usize],
) -> RoadRoutes {
    let t0 = std::time::Instant::now();
    let net = Network::build(&ds.roads, &cfg.roads);
    let snaps: Vec<Option<Snap>> = ds
        .resources
        .par_iter()
        .map(|r| net.snap(r.lon, r.lat))
        .collect();
    let resources_off = snaps.iter().filter(|s| s.is_none()).count();
    let k = cfg.nearest.max(1);
    let sources = |members: &[usize]| -> Vec<(usize, &crate::routing::Snap)> {
        members
            .iter()
            .filter_map(|&i| snaps[i].as_ref().map(|s| (i, s)))
            .collect()
    };
    // every kind's search and the stations' in parallel
    let mut labels: Vec<crate::routing::Labels> = kinds
        .iter()
        .map(|ki| (sources(&ki.members), k))
        .chain(std::iter::once((sources(stations), 1)))
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(src, k)| k_nearest(&net, &src, k))
        .collect();
    let station_labels = labels.pop().expect("the stations' search");
    let on_roads: Vec<OnRoad> = kinds
        .iter()
        .map(|ki| on_road(&snaps, &ki.members))
        .collect();
    let station_on = on_road(&snaps, stations);
    let budget_secs = (cfg.fire.response_min - cfg.fire.turnout_min).max(0.0) * 60.0;
    let e_snaps: Vec<Option<crate::routing::Snap>> = ds
        .enterprises
        .par_iter()
        .map(|e| net.snap(e.lon, e.lat))
        .collect();
    let off_network: Vec<usize> = (0..e_snaps.len())
        .filter(|&i| e_snaps[i].is_none())
        .collect();
    let routes = e_snaps
        .par_iter()
        .map(|s| match s {
            Some(s) => labels
                .iter()
                .zip(&on_roads)
                .map(|(l, on)| {
                    let mut r = routes_at(l, s, &along(&net, &snaps, on, s));
                    r.truncate(cfg.nearest.max(1));
                    r
                })
                .collect(),
            None => vec![Vec::new(); labels.len()],
        })
        .collect();
    let station = e_snaps
        .iter()
        .map(|s| {
            s.as_ref()
                .and_then(|s| {
                    routes_at(&station_labels, s, &along(&net, &snaps, &station_on, s))
                        .into_iter()
                        .next()
                })
                .filter(|r| r.secs <= budget_secs + 1e-9)
        })
        .collect();
    let route_secs = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let reach = stations
        .par_iter()
        .map_init(crate::routing::AreaScratch::default, |scratch, &i| {
            use geo::ConcaveHull;
            let pts = crate::routing::service_area(&net, snaps[i].as_ref()?, budget_secs, scratch);
            if pts.len() < 3 {
                return None;
            }
            let mp = geo::MultiPoint::from(pts);
            Some(mp.concave_hull())
        })
        .collect();
    let reach_secs = t1.elapsed().as_secs_f64();
    RoadRoutes {
        route_secs,
        reach_secs,
        reach,
        km: Network::length_km(&ds.roads),
        net,
        labels,
        routes,
        station,
        off_network,
        resources_off,
        budget_secs,
        snaps,
        on_road: on_roads,
    }
}
