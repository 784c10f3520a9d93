//! City lifelines and their protection zones (#27 §2): every lifeline's protection and
//! control widths from the published rules (or the config, or its own row), the
//! enterprises and sensitive sites inside each zone, the enterprises whose influence
//! radius reaches a lifeline, and the lines cut into fixed-length segments ranked by the
//! risk around them.
//!
//! Metric work happens in the region's UTM zone ([`Frame`]): one R-tree of the lines'
//! elementary segments, each enterprise and site asks it for the segments within its
//! largest distance of interest (exact point-to-segment distances), never a scan of every
//! line per enterprise. A zone is everything within `body + width` of the centre line
//! (round ends and joins, as PostGIS's `ST_Buffer` and shapely's `buffer` draw it).

use super::Frame;
use geo::{Coord, LineString, MultiPolygon};
use rayon::prelude::*;
use riskmap_core::dataset::Dataset;
use riskmap_core::model::{level_slot, GasGroup, Level, LifelineKind};
use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;
use serde::{Deserialize, Serialize};

/// A point this far beyond a zone's width still counts as inside: the projection's own
/// error (sub-millimetre), so a point placed exactly at the width is inside whichever
/// tool measured it.
pub const TOLERANCE_M: f64 = 0.001;

/// `[lifelines]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LifelineConfig {
    /// Overhead power lines' protection zones by voltage, each side from the outer
    /// conductor (电力设施保护条例 第十条): 1–10 kV 5 m, 35–110 kV 10 m, 154–330 kV 15 m,
    /// 500 kV 20 m; 750 kV 25 m and 1000 kV 30 m are not in the regulation (riskmap's
    /// defaults, as several provinces set them). A voltage takes the first band whose
    /// `up_to_kv` it does not exceed (20 kV and 66 kV take 10 m); a line without a voltage
    /// the first band.
    pub power: Vec<PowerBand>,
    /// Long-distance oil and gas pipelines (石油天然气管道保护法 第三十条、第三十五条): no
    /// building or digging within 5 m of the centre line either side; blasting and heavy
    /// excavation controlled within 200 m.
    pub pipeline: Widths,
    /// City gas mains by pressure class (CJJ 51-2016 §3.1.3 protection and §3.1.4 control
    /// ranges, from the pipe's outer wall).
    pub gas: GasWidths,
    /// Water mains: no national width (riskmap's default 1.5 m; set the city's own).
    pub water: Widths,
    /// Heating mains: no national width (riskmap's default 1.5 m; set the city's own).
    pub heating: Widths,
    /// Enterprises within this distance of a segment count towards its risk ranking, and
    /// sensitive sites within it are listed. Default 500 m.
    pub near_m: f64,
    /// The length lines are cut into for the ranking. Default 1000 m.
    pub segment_m: f64,
}

/// One voltage band of power-line protection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PowerBand {
    pub up_to_kv: f64,
    pub protect_m: f64,
}

/// A protection width and an optional wider control width, each side, in metres.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Widths {
    pub protect_m: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_m: Option<f64>,
}

/// City gas widths by pressure group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GasWidths {
    /// 低压、中压: protection 0.5 m, control 5 m.
    pub low_medium: Widths,
    /// 次高压: protection 1.5 m, control 15 m.
    pub sub_high: Widths,
    /// 高压及以上: protection 5 m, control 50 m.
    pub high: Widths,
}

impl Default for GasWidths {
    fn default() -> Self {
        GasWidths {
            low_medium: Widths {
                protect_m: 0.5,
                control_m: Some(5.0),
            },
            sub_high: Widths {
                protect_m: 1.5,
                control_m: Some(15.0),
            },
            high: Widths {
                protect_m: 5.0,
                control_m: Some(50.0),
            },
        }
    }
}

impl Default for LifelineConfig {
    fn default() -> Self {
        let band = |up_to_kv, protect_m| PowerBand {
            up_to_kv,
            protect_m,
        };
        LifelineConfig {
            power: vec![
                band(10.0, 5.0),
                band(110.0, 10.0),
                band(330.0, 15.0),
                band(500.0, 20.0),
                band(750.0, 25.0),
                band(1000.0, 30.0),
            ],
            pipeline: Widths {
                protect_m: 5.0,
                control_m: Some(200.0),
            },
            gas: GasWidths::default(),
            water: Widths {
                protect_m: 1.5,
                control_m: None,
            },
            heating: Widths {
                protect_m: 1.5,
                control_m: None,
            },
            near_m: 500.0,
            segment_m: 1000.0,
        }
    }
}

impl LifelineConfig {
    pub fn validate(&self) -> Result<(), String> {
        let ok = |v: f64| v.is_finite() && v >= 0.0 && v <= 10_000.0;
        let widths = |name: &str, w: &Widths| -> Result<(), String> {
            if !ok(w.protect_m) {
                return Err(format!(
                    "lifelines.{name}.protect_m must be within [0, 10000]"
                ));
            }
            if let Some(c) = w.control_m {
                if !ok(c) || c < w.protect_m {
                    return Err(format!(
                        "lifelines.{name}.control_m must be within [protect_m, 10000]"
                    ));
                }
            }
            Ok(())
        };
        widths("pipeline", &self.pipeline)?;
        widths("gas.low_medium", &self.gas.low_medium)?;
        widths("gas.sub_high", &self.gas.sub_high)?;
        widths("gas.high", &self.gas.high)?;
        widths("water", &self.water)?;
        widths("heating", &self.heating)?;
        if self.power.is_empty() {
            return Err("lifelines.power needs at least one band".into());
        }
        for w in self.power.windows(2) {
            if w[1].up_to_kv <= w[0].up_to_kv {
                return Err("lifelines.power bands must rise in up_to_kv".into());
            }
        }
        if self
            .power
            .iter()
            .any(|b| !ok(b.protect_m) || !(b.up_to_kv > 0.0))
        {
            return Err("lifelines.power: up_to_kv > 0 and protect_m within [0, 10000]".into());
        }
        if !(self.near_m.is_finite() && self.near_m >= 0.0 && self.near_m <= 50_000.0) {
            return Err("lifelines.near_m must be within [0, 50000]".into());
        }
        if !(self.segment_m.is_finite() && self.segment_m >= 10.0) {
            return Err("lifelines.segment_m must be at least 10".into());
        }
        Ok(())
    }

    /// A lifeline's widths each side of its centre line (its own body included) and
    /// the rule they come from.
    pub fn zone_of(&self, l: &riskmap_core::model::Lifeline) -> Zone {
        let (w, rule): (Widths, String) = match l.kind {
            LifelineKind::Power => {
                let kv = l.voltage_kv;
                let band = kv
                    .and_then(|v| self.power.iter().find(|b| v <= b.up_to_kv + 1e-9))
                    .or_else(|| kv.map(|_| self.power.last().expect("validated")))
                    .unwrap_or(&self.power[0]);
                let rule = match kv {
                    Some(v) => format!("电力设施保护条例 第十条（{v} kV）"),
                    None => "电力设施保护条例 第十条（电压未填，按最低一档）".to_string(),
                };
                (
                    Widths {
                        protect_m: band.protect_m,
                        control_m: None,
                    },
                    rule,
                )
            }
            LifelineKind::Pipeline => (self.pipeline.clone(), "石油天然气管道保护法".into()),
            LifelineKind::Gas => {
                let group = l.pressure.map(|p| p.group()).unwrap_or(GasGroup::LowMedium);
                let (w, zh) = match group {
                    GasGroup::LowMedium => (&self.gas.low_medium, "低压、中压"),
                    GasGroup::SubHigh => (&self.gas.sub_high, "次高压"),
                    GasGroup::High => (&self.gas.high, "高压"),
                };
                let class = l.pressure.map(|p| p.zh()).unwrap_or("压力级制未填");
                (w.clone(), format!("CJJ 51-2016 §3.1.3（{class}，{zh}）"))
            }
            LifelineKind::Water => (self.water.clone(), "配置（无国家标准）".into()),
            LifelineKind::Heating => (self.heating.clone(), "配置（无国家标准）".into()),
        };
        let protect = l.protect_m.unwrap_or(w.protect_m);
        let control = l.control_m.or(w.control_m).map(|c| c.max(protect));
        let rule = if l.protect_m.is_some() || l.control_m.is_some() {
            "数据表中的保护范围".to_string()
        } else {
            rule
        };
        Zone {
            protect_m: l.body_m + protect,
            control_m: control.map(|c| l.body_m + c),
            rule,
        }
    }
}

/// A lifeline's zone widths each side of its centre line, in metres.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Protection zone (保护范围): the line's half-width plus the protection width.
    pub protect_m: f64,
    /// Control zone (控制范围), where the rule has one.
    pub control_m: Option<f64>,
    /// Where the widths come from.
    pub rule: String,
}

/// An enterprise's relation to one lifeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineHit {
    /// Index into `Dataset::lifelines`.
    pub lifeline: usize,
    /// Metres from the site to the centre line.
    pub distance_m: f64,
    /// The site lies in the protection zone.
    pub in_protect: bool,
    /// The site lies in the control zone.
    pub in_control: bool,
    /// The enterprise's influence radius reaches the centre line.
    pub reached: bool,
}

impl LineHit {
    /// Chinese words for the card and the report.
    pub fn zh(&self) -> &'static str {
        if self.in_protect {
            "位于保护范围内"
        } else if self.in_control {
            "位于控制范围内"
        } else {
            "影响半径覆盖管线"
        }
    }
    pub fn code(&self) -> &'static str {
        if self.in_protect {
            "in_protection_zone"
        } else if self.in_control {
            "in_control_zone"
        } else {
            "radius_reaches_line"
        }
    }
}

/// Enterprise counts by level, by [`level_slot`]: red, orange, yellow, blue, unassessed.
pub type LevelCounts = [u32; 5];

/// A fixed-length piece of a lifeline with the risk around it.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Index into `Dataset::lifelines`.
    pub lifeline: usize,
    /// 1-based position along the lifeline.
    pub ordinal: usize,
    /// WGS84.
    pub line: LineString<f64>,
    pub length_m: f64,
    /// Enterprises within `near_m`, by level.
    pub near: LevelCounts,
    /// Enterprises whose site is in this segment's protection or control zone.
    pub in_zone: Vec<usize>,
    /// Sensitive sites within `near_m`.
    pub sites: Vec<usize>,
    /// The highest level within `near_m`.
    pub level: Option<Level>,
    /// 1 = the most at risk.
    pub rank: usize,
}

/// One lifeline's findings.
#[derive(Debug, Clone, Default)]
pub struct LineStats {
    pub length_m: f64,
    /// Enterprises in the protection zone (by distance).
    pub in_protect: Vec<usize>,
    /// Enterprises in the control zone but not the protection zone.
    pub in_control: Vec<usize>,
    /// Enterprises outside both whose radius reaches the line.
    pub reached_by: Vec<usize>,
    /// Sensitive sites in the protection zone, then in the control zone.
    pub sites_in_protect: Vec<usize>,
    pub sites_in_control: Vec<usize>,
    /// Enterprises within `near_m`, by level.
    pub near: LevelCounts,
    pub level: Option<Level>,
    /// 1 = the lifeline most at risk (as segments are ranked, over the whole line).
    pub rank: usize,
}

/// Everything the lifelines stage found.
pub struct Lifelines {
    /// Aligned with `Dataset::lifelines`.
    pub zones: Vec<Zone>,
    pub lines: Vec<LineStats>,
    /// Aligned with `Dataset::enterprises`: the lifelines each one touches, nearest first.
    pub hits: Vec<Vec<LineHit>>,
    /// In order along each lifeline, lifelines in input order.
    pub segments: Vec<Segment>,
    /// The metric frame's EPSG code (distances are measured there).
    pub epsg: u16,
    pub near_m: f64,
    /// The zones' polygons (WGS84), buffered on first use.
    polygons: std::sync::OnceLock<Vec<ZonePolygons>>,
}

/// A lifeline's protection zone and, where its rule has one, control zone (WGS84).
pub type ZonePolygons = (MultiPolygon<f64>, Option<MultiPolygon<f64>>);

impl Lifelines {
    /// Enterprises with any hit, in register order.
    pub fn flagged(&self) -> impl Iterator<Item = (usize, &[LineHit])> {
        self.hits
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty())
            .map(|(i, h)| (i, h.as_slice()))
    }

    /// Segment indices from the most at risk.
    pub fn ranking(&self) -> Vec<usize> {
        let mut r: Vec<usize> = (0..self.segments.len()).collect();
        r.sort_by_key(|&i| self.segments[i].rank);
        r
    }

    /// Every lifeline's protection (and control) zone polygons in WGS84, buffered in the
    /// metric frame with round ends and joins (computed once, in parallel).
    pub fn zone_polygons(&self, ds: &Dataset, frame: &Frame) -> &[ZonePolygons] {
        self.polygons.get_or_init(|| {
            use geo::{Buffer, MapCoords};
            ds.lifelines
                .par_iter()
                .zip(&self.zones)
                .map(|(l, z)| {
                    let utm = project(frame, &l.line);
                    let back = |mp: MultiPolygon<f64>| {
                        mp.map_coords(|c| {
                            let (x, y) = frame.utm.inverse(c.x, c.y);
                            Coord { x, y }
                        })
                    };
                    let protect = back(utm.buffer(z.protect_m.max(0.01)));
                    let control = z.control_m.map(|c| back(utm.buffer(c.max(0.01))));
                    (protect, control)
                })
                .collect()
        })
    }
}

fn project(frame: &Frame, m: &geo::MultiLineString<f64>) -> geo::MultiLineString<f64> {
    geo::MultiLineString::new(
        m.0.iter()
            .map(|l| {
                LineString::new(
                    l.0.iter()
                        .map(|c| {
                            let (x, y) = frame.utm.forward(c.x, c.y);
                            Coord { x, y }
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

/// Cut a metric line into pieces of `len` metres (the last one shorter), each piece's
/// positions in order; every elementary segment belongs to exactly one piece.
fn cut(l: &LineString<f64>, len: f64) -> Vec<Vec<Coord<f64>>> {
    let mut out = Vec::new();
    let mut cur = vec![l.0[0]];
    let mut used = 0.0;
    for w in l.0.windows(2) {
        let (mut a, b) = (w[0], w[1]);
        loop {
            let d = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
            if used + d <= len + 1e-9 {
                cur.push(b);
                used += d;
                break;
            }
            let t = (len - used) / d;
            let p = Coord {
                x: a.x + (b.x - a.x) * t,
                y: a.y + (b.y - a.y) * t,
            };
            cur.push(p);
            out.push(std::mem::replace(&mut cur, vec![p]));
            used = 0.0;
            a = p;
        }
    }
    if cur.len() >= 2 {
        out.push(cur);
    }
    out
}

fn length(cs: &[Coord<f64>]) -> f64 {
    cs.windows(2)
        .map(|w| ((w[1].x - w[0].x).powi(2) + (w[1].y - w[0].y).powi(2)).sqrt())
        .sum()
}

type SegTree = RTree<GeomWithData<Line<[f64; 2]>, u32>>;

/// Per (segment index), the smallest distance from `p` among elementary segments within
/// `r`, sorted by segment index.
fn near_segments(tree: &SegTree, p: [f64; 2], r: f64) -> Vec<(u32, f64)> {
    let mut v: Vec<(u32, f64)> = tree
        .locate_within_distance(p, r * r)
        .map(|g| {
            use rstar::PointDistance;
            (g.data, g.geom().distance_2(&p).sqrt())
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    v.dedup_by_key(|x| x.0);
    v
}

/// Assess every lifeline against the enterprises and sites.
pub fn assess(ds: &Dataset, frame: &Frame, cfg: &LifelineConfig) -> Lifelines {
    let zones: Vec<Zone> = ds.lifelines.iter().map(|l| cfg.zone_of(l)).collect();
    // the pieces, with their metric positions
    let mut seg_of: Vec<usize> = Vec::new(); // segment → lifeline
    let mut seg_utm: Vec<Vec<Coord<f64>>> = Vec::new();
    let mut ordinals = Vec::new();
    for (li, l) in ds.lifelines.iter().enumerate() {
        let m = project(frame, &l.line);
        let mut k = 0;
        for part in &m.0 {
            for piece in cut(part, cfg.segment_m) {
                k += 1;
                seg_of.push(li);
                seg_utm.push(piece);
                ordinals.push(k);
            }
        }
    }
    let elems: Vec<GeomWithData<Line<[f64; 2]>, u32>> = seg_utm
        .iter()
        .enumerate()
        .flat_map(|(si, cs)| {
            cs.windows(2).map(move |w| {
                GeomWithData::new(Line::new([w[0].x, w[0].y], [w[1].x, w[1].y]), si as u32)
            })
        })
        .collect();
    let tree: SegTree = RTree::bulk_load(elems);
    let widest = zones
        .iter()
        .map(|z| z.control_m.unwrap_or(0.0).max(z.protect_m))
        .fold(0.0, f64::max);
    let base_r = widest.max(cfg.near_m) + TOLERANCE_M;
    let in_zone = |d: f64, w: f64| d <= w + TOLERANCE_M;
    // each enterprise: the segments near it, its hits per lifeline
    // each enterprise: its hits per lifeline, the segments within near_m, the segments
    // whose zone holds it (one query of the tree: its radius covers the widest zone)
    let per_ent: Vec<(Vec<LineHit>, Vec<u32>, Vec<u32>)> = frame
        .xy
        .par_iter()
        .enumerate()
        .map(|(i, &(x, y))| {
            let radius = ds.radius_m(i);
            let r = base_r.max(radius + TOLERANCE_M);
            let near = near_segments(&tree, [x, y], r);
            let mut by_line: Vec<(usize, f64)> =
                near.iter().map(|&(s, d)| (seg_of[s as usize], d)).collect();
            by_line.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            by_line.dedup_by_key(|x| x.0);
            let mut hits: Vec<LineHit> = by_line
                .into_iter()
                .filter_map(|(li, d)| {
                    let z = &zones[li];
                    let h = LineHit {
                        lifeline: li,
                        distance_m: d,
                        in_protect: in_zone(d, z.protect_m),
                        in_control: z.control_m.is_some_and(|c| in_zone(d, c)),
                        reached: d <= radius,
                    };
                    (h.in_protect || h.in_control || h.reached).then_some(h)
                })
                .collect();
            hits.sort_by(|a, b| {
                a.distance_m
                    .total_cmp(&b.distance_m)
                    .then(a.lifeline.cmp(&b.lifeline))
            });
            let segs: Vec<u32> = near
                .iter()
                .filter(|&&(_, d)| d <= cfg.near_m + TOLERANCE_M)
                .map(|&(s, _)| s)
                .collect();
            let zoned: Vec<u32> = near
                .iter()
                .filter(|&&(s, d)| {
                    let z = &zones[seg_of[s as usize]];
                    in_zone(d, z.control_m.unwrap_or(0.0).max(z.protect_m))
                })
                .map(|&(s, _)| s)
                .collect();
            (hits, segs, zoned)
        })
        .collect();
    let site_r = base_r;
    let per_site: Vec<Vec<(u32, f64)>> = ds
        .sites
        .par_iter()
        .map(|s| {
            let (x, y) = frame.utm.forward(s.lon, s.lat);
            near_segments(&tree, [x, y], site_r)
        })
        .collect();
    // fold into segments and lines (in register order: deterministic lists)
    let mut segments: Vec<Segment> = seg_utm
        .iter()
        .enumerate()
        .map(|(si, cs)| Segment {
            lifeline: seg_of[si],
            ordinal: ordinals[si],
            line: LineString::new(
                cs.iter()
                    .map(|c| {
                        let (x, y) = frame.utm.inverse(c.x, c.y);
                        Coord { x, y }
                    })
                    .collect(),
            ),
            length_m: length(cs),
            near: [0; 5],
            in_zone: vec![],
            sites: vec![],
            level: None,
            rank: 0,
        })
        .collect();
    let mut lines: Vec<LineStats> = vec![LineStats::default(); ds.lifelines.len()];
    for s in &segments {
        lines[s.lifeline].length_m += s.length_m;
    }
    for (i, (hits, segs, zoned)) in per_ent.iter().enumerate() {
        let level = ds.grades[i].level;
        for &s in zoned {
            segments[s as usize].in_zone.push(i);
        }
        for &s in segs {
            let seg = &mut segments[s as usize];
            seg.near[level_slot(level)] += 1;
            seg.level = seg.level.max(level);
        }
        for h in hits {
            let st = &mut lines[h.lifeline];
            if h.in_protect {
                st.in_protect.push(i);
            } else if h.in_control {
                st.in_control.push(i);
            } else {
                st.reached_by.push(i);
            }
        }
        // the lines' own counts: an enterprise near several of a line's segments once
        let mut seen: Vec<usize> = segs.iter().map(|&s| seg_of[s as usize]).collect();
        seen.sort_unstable();
        seen.dedup();
        for li in seen {
            lines[li].near[level_slot(level)] += 1;
            lines[li].level = lines[li].level.max(level);
        }
    }
    for (si, near) in per_site.iter().enumerate() {
        for &(s, d) in near {
            if d <= cfg.near_m + TOLERANCE_M {
                segments[s as usize].sites.push(si);
            }
        }
        let mut by_line: Vec<(usize, f64)> =
            near.iter().map(|&(s, d)| (seg_of[s as usize], d)).collect();
        by_line.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        by_line.dedup_by_key(|x| x.0);
        for (li, d) in by_line {
            let z = &zones[li];
            if in_zone(d, z.protect_m) {
                lines[li].sites_in_protect.push(si);
            } else if z.control_m.is_some_and(|c| in_zone(d, c)) {
                lines[li].sites_in_control.push(si);
            }
        }
    }
    // rank: the highest level around first (就高), then the counts from red down, then the
    // sites, then the enterprises in the zone; ties in input order
    let mut order: Vec<usize> = (0..segments.len()).collect();
    let key = |s: &Segment| {
        (
            std::cmp::Reverse(s.near[0]),
            std::cmp::Reverse(s.near[1]),
            std::cmp::Reverse(s.near[2]),
            std::cmp::Reverse(s.near[3]),
            std::cmp::Reverse(s.sites.len()),
            std::cmp::Reverse(s.in_zone.len()),
        )
    };
    order.sort_by_key(|&i| (key(&segments[i]), i));
    for (r, &i) in order.iter().enumerate() {
        segments[i].rank = r + 1;
    }
    let line_key = |l: &LineStats| {
        (
            std::cmp::Reverse(l.near[0]),
            std::cmp::Reverse(l.near[1]),
            std::cmp::Reverse(l.near[2]),
            std::cmp::Reverse(l.near[3]),
            std::cmp::Reverse(l.sites_in_protect.len() + l.sites_in_control.len()),
            std::cmp::Reverse(l.in_protect.len() + l.in_control.len()),
        )
    };
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| (line_key(&lines[i]), i));
    for (r, &i) in order.iter().enumerate() {
        lines[i].rank = r + 1;
    }
    Lifelines {
        zones,
        lines,
        hits: per_ent.into_iter().map(|(h, _, _)| h).collect(),
        segments,
        epsg: frame.utm.epsg(),
        near_m: cfg.near_m,
        polygons: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_every_metre_and_position() {
        let l = LineString::from(vec![(0.0, 0.0), (2500.0, 0.0), (2500.0, 700.0)]);
        let p = cut(&l, 1000.0);
        let lens: Vec<f64> = p.iter().map(|c| length(c)).collect();
        assert_eq!(p.len(), 4);
        for (a, b) in lens.iter().zip([1000.0, 1000.0, 1000.0, 200.0]) {
            assert!((a - b).abs() < 1e-6, "{lens:?}");
        }
        assert_eq!(p[2][1], Coord { x: 2500.0, y: 0.0 }, "the corner is kept");
        assert_eq!(p[0].last(), p[1].first());
    }
}
