//! Travel along the road network (#27 §1): the roads as a directed graph (petgraph; a
//! two-way road is an edge each way, a one-way road one), points snapped to their
//! nearest node (an R-tree, never a scan), and the `k` nearest resources of a kind to
//! every node in one multi-source Dijkstra that keeps up to `k` labels per node, one per
//! source — not one shortest-path search per enterprise or per resource.
//!
//! Hand-written: petgraph's `dijkstra` is single-source and keeps one distance per node;
//! the k-label multi-source search is the textbook generalisation (each node settles at
//! most `k` times, once per source), a few lines over petgraph's adjacency.

use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use riskmap_core::crs::haversine_m;
use riskmap_core::model::{Road, RoadClass};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

/// `[emergency.roads]`: the speeds travel times are computed with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RoadSpeeds {
    /// km/h by class for roads without their own speed. Defaults: 高速公路 80, 快速路 60,
    /// 主干路 40, 次干路 30, 支路 20 — the lower design speeds of CJJ 37-2012 (城市道路
    /// 工程设计规范 §3.2.2) and JTG B01-2014, an emergency vehicle's pace in traffic.
    pub motorway: f64,
    pub expressway: f64,
    pub arterial: f64,
    pub secondary: f64,
    pub local: f64,
    /// km/h from a point to the road node it is snapped to (the last stretch off the
    /// network). Default 10.
    pub access_kmh: f64,
    /// A point farther than this from every road node, metres, is off the network (its
    /// help is given in straight line). Default 1000.
    pub max_snap_m: f64,
}

impl Default for RoadSpeeds {
    fn default() -> Self {
        RoadSpeeds {
            motorway: 80.0,
            expressway: 60.0,
            arterial: 40.0,
            secondary: 30.0,
            local: 20.0,
            access_kmh: 10.0,
            max_snap_m: 1000.0,
        }
    }
}

impl RoadSpeeds {
    pub fn of(&self, c: RoadClass) -> f64 {
        match c {
            RoadClass::Motorway => self.motorway,
            RoadClass::Expressway => self.expressway,
            RoadClass::Arterial => self.arterial,
            RoadClass::Secondary => self.secondary,
            RoadClass::Local => self.local,
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        for (k, v) in [
            ("motorway", self.motorway),
            ("expressway", self.expressway),
            ("arterial", self.arterial),
            ("secondary", self.secondary),
            ("local", self.local),
            ("access_kmh", self.access_kmh),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 200.0) {
                return Err(format!(
                    "emergency.roads.{k} = {v} must be within (0, 200] km/h"
                ));
            }
        }
        if !(self.max_snap_m.is_finite() && self.max_snap_m > 0.0) {
            return Err("emergency.roads.max_snap_m must be > 0".into());
        }
        Ok(())
    }
}

/// An edge: seconds and metres to drive it.
#[derive(Debug, Clone, Copy)]
pub struct Edge {
    pub secs: f64,
    pub metres: f64,
}

/// The road graph.
pub struct Network {
    /// Nodes carry their (lon, lat).
    pub graph: DiGraph<(f64, f64), Edge>,
    /// Every edge as a segment in local metres (x east, y north from `origin`), for the
    /// nearest road to a point.
    segments:
        rstar::RTree<rstar::primitives::GeomWithData<rstar::primitives::Line<[f64; 2]>, EdgeIndex>>,
    /// (lon0, lat0, metres per degree of longitude there).
    origin: (f64, f64, f64),
    pub access_kmh: f64,
    pub max_snap_m: f64,
}

/// Where a point joins the network: on its nearest road, part-way along an edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Snap {
    /// Straight-line metres from the point to the road, and seconds for them at the
    /// access speed.
    pub access_m: f64,
    pub access_secs: f64,
    /// The nodes a vehicle leaving the point can drive to first: (node, seconds,
    /// metres along the edge) — one for a one-way road, both ends for a two-way one.
    pub out: Vec<(NodeIndex, f64, f64)>,
    /// The nodes a vehicle arriving at the point comes from last, with what is left.
    pub inn: Vec<(NodeIndex, f64, f64)>,
}

/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_195.0;

impl Network {
    /// The graph of `roads`: a node per distinct vertex (to 1e-7°, about 1 cm), so roads
    /// meet where they share a vertex, as road registers and OpenStreetMap draw them.
    pub fn build(roads: &[Road], speeds: &RoadSpeeds) -> Network {
        let mut graph = DiGraph::new();
        let mut ids: HashMap<(i64, i64), NodeIndex> = HashMap::new();
        let mut node = |g: &mut DiGraph<(f64, f64), Edge>, x: f64, y: f64| {
            let key = ((x * 1e7).round() as i64, (y * 1e7).round() as i64);
            *ids.entry(key).or_insert_with(|| g.add_node((x, y)))
        };
        for r in roads {
            let mps = r.speed_kmh.unwrap_or_else(|| speeds.of(r.class)) / 3.6;
            for ls in &r.line.0 {
                for w in ls.0.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    let (na, nb) = (node(&mut graph, a.x, a.y), node(&mut graph, b.x, b.y));
                    if na == nb {
                        continue;
                    }
                    let metres = haversine_m(a.x, a.y, b.x, b.y);
                    let e = Edge {
                        secs: metres / mps,
                        metres,
                    };
                    graph.add_edge(na, nb, e);
                    if !r.oneway {
                        graph.add_edge(nb, na, e);
                    }
                }
            }
        }
        // local metres: equirectangular about the network's middle (snapping looks
        // a kilometre around a point, where this is within a fraction of a percent)
        let (mut x0, mut y0, mut n) = (0.0, 0.0, 0.0);
        for &(x, y) in graph.node_weights() {
            x0 += x;
            y0 += y;
            n += 1.0;
        }
        let (x0, y0) = if n > 0.0 {
            (x0 / n, y0 / n)
        } else {
            (0.0, 0.0)
        };
        let origin = (x0, y0, M_PER_DEG * y0.to_radians().cos());
        let local = |(x, y): (f64, f64)| [(x - origin.0) * origin.2, (y - origin.1) * M_PER_DEG];
        let segs = graph
            .edge_indices()
            .map(|e| {
                let (a, b) = graph.edge_endpoints(e).expect("an edge");
                rstar::primitives::GeomWithData::new(
                    rstar::primitives::Line::new(local(graph[a]), local(graph[b])),
                    e,
                )
            })
            .collect();
        Network {
            segments: rstar::RTree::bulk_load(segs),
            origin,
            graph,
            access_kmh: speeds.access_kmh,
            max_snap_m: speeds.max_snap_m,
        }
    }

    /// (lon, lat) on its nearest road within `max_snap_m` (None: off the network).
    pub fn snap(&self, lon: f64, lat: f64) -> Option<Snap> {
        let o = self.origin;
        let p = [(lon - o.0) * o.2, (lat - o.1) * M_PER_DEG];
        let seg = self.segments.nearest_neighbor(&p)?;
        let (a, b) = self.graph.edge_endpoints(seg.data)?;
        let l = seg.geom();
        let (ax, ay, bx, by) = (l.from[0], l.from[1], l.to[0], l.to[1]);
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let f = if len2 > 0.0 {
            (((p[0] - ax) * dx + (p[1] - ay) * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (qx, qy) = (ax + f * dx, ay + f * dy);
        let access_m = ((p[0] - qx).powi(2) + (p[1] - qy).powi(2)).sqrt();
        if access_m > self.max_snap_m {
            return None;
        }
        let w = self.graph[seg.data];
        let back = self.graph.find_edge(b, a).map(|e| self.graph[e]);
        // leaving: on along a→b to b; back along b→a to a if the road is two-way
        let mut out = vec![(b, (1.0 - f) * w.secs, (1.0 - f) * w.metres)];
        let mut inn = vec![(a, f * w.secs, f * w.metres)];
        if let Some(r) = back {
            out.push((a, f * r.secs, f * r.metres));
            inn.push((b, (1.0 - f) * r.secs, (1.0 - f) * r.metres));
        } else {
            // a one-way road: at (within a metre of) an end, the point is that node
            let len = len2.sqrt();
            if (1.0 - f) * len < 1.0 {
                inn.push((b, 0.0, 0.0));
            }
            if f * len < 1.0 {
                out.push((a, 0.0, 0.0));
            }
        }
        Some(Snap {
            access_m,
            access_secs: access_m / (self.access_kmh / 3.6),
            out,
            inn,
        })
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Kilometres of road (each direction of a two-way road once).
    pub fn length_km(roads: &[Road]) -> f64 {
        roads
            .iter()
            .flat_map(|r| r.line.0.iter())
            .flat_map(|l| l.0.windows(2))
            .map(|w| haversine_m(w[0].x, w[0].y, w[1].x, w[1].y))
            .sum::<f64>()
            / 1000.0
    }
}

/// A source's arrival at a node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Label {
    /// The source's own id (a resource's position in `Dataset::resources`).
    pub source: usize,
    pub secs: f64,
    pub metres: f64,
}

#[derive(PartialEq)]
struct Item {
    secs: f64,
    metres: f64,
    node: NodeIndex,
    source: usize,
}

impl Eq for Item {}

impl Ord for Item {
    // a min-heap on time, ties by node then source: the same inputs settle in the same
    // order
    fn cmp(&self, o: &Self) -> Ordering {
        o.secs
            .total_cmp(&self.secs)
            .then_with(|| o.node.cmp(&self.node))
            .then_with(|| o.source.cmp(&self.source))
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// The `k` nearest sources of every node by driving time from the source (edges in
/// their direction), nearest first: `sources` are (source id, its node, the seconds and
/// metres already spent reaching the node). Each node settles at most `k` times, once
/// per source.
pub fn k_nearest(net: &Network, sources: &[(usize, &Snap)], k: usize) -> Vec<Vec<Label>> {
    let k = k.max(1);
    let mut labels: Vec<Vec<Label>> = vec![Vec::new(); net.graph.node_count()];
    let mut heap = BinaryHeap::new();
    for &(source, s) in sources {
        for &(node, secs, metres) in &s.out {
            heap.push(Item {
                secs: s.access_secs + secs,
                metres: s.access_m + metres,
                node,
                source,
            });
        }
    }
    while let Some(Item {
        secs,
        metres,
        node,
        source,
    }) = heap.pop()
    {
        let here = &mut labels[node.index()];
        if here.len() >= k || here.iter().any(|l| l.source == source) {
            continue;
        }
        here.push(Label {
            source,
            secs,
            metres,
        });
        for e in net.graph.edges(node) {
            let to = e.target();
            let there = &labels[to.index()];
            if there.len() >= k || there.iter().any(|l| l.source == source) {
                continue;
            }
            heap.push(Item {
                secs: secs + e.weight().secs,
                metres: metres + e.weight().metres,
                node: to,
                source,
            });
        }
    }
    labels
}

/// Where a vehicle from `from` gets within `budget_secs`: every node reached with its
/// time, and the points part-way along the edges it cannot finish (a bounded Dijkstra:
/// it stops at the budget, never the whole city per station).
pub fn service_area(net: &Network, from: &Snap, budget_secs: f64) -> Vec<(f64, f64)> {
    let mut best: HashMap<NodeIndex, f64> = HashMap::new();
    let mut heap = BinaryHeap::new();
    let mut out = Vec::new();
    for &(node, secs, _) in &from.out {
        if from.access_secs + secs <= budget_secs {
            heap.push(Item {
                secs: from.access_secs + secs,
                metres: 0.0,
                node,
                source: 0,
            });
        }
    }
    while let Some(Item { secs, node, .. }) = heap.pop() {
        if best.contains_key(&node) {
            continue;
        }
        best.insert(node, secs);
        let (x, y) = net.graph[node];
        out.push((x, y));
        for e in net.graph.edges(node) {
            let to = e.target();
            let t = secs + e.weight().secs;
            if t <= budget_secs {
                if !best.contains_key(&to) {
                    heap.push(Item {
                        secs: t,
                        metres: 0.0,
                        node: to,
                        source: 0,
                    });
                }
            } else {
                // part of the edge: as far as the time left goes
                let f = (budget_secs - secs) / e.weight().secs;
                let (bx, by) = net.graph[to];
                out.push((x + (bx - x) * f, y + (by - y) * f));
            }
        }
    }
    out
}

/// A resource reached by road from a point: its id, minutes and metres along the way
/// (both access legs included).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Route {
    pub idx: usize,
    pub secs: f64,
    pub metres: f64,
}

/// The routes to the point `snap` from the labels of the nodes it is reached from (the
/// rest of the edge and its access leg added), soonest first, one per source.
pub fn routes_at(labels: &[Vec<Label>], snap: &Snap) -> Vec<Route> {
    let mut all: Vec<Route> = Vec::new();
    let k = snap
        .inn
        .iter()
        .map(|(n, ..)| labels[n.index()].len())
        .max()
        .unwrap_or(0);
    for &(node, secs, metres) in &snap.inn {
        for l in &labels[node.index()] {
            let r = Route {
                idx: l.source,
                secs: l.secs + secs + snap.access_secs,
                metres: l.metres + metres + snap.access_m,
            };
            match all.iter_mut().find(|x| x.idx == r.idx) {
                Some(x) if r.secs < x.secs => *x = r,
                Some(_) => {}
                None => all.push(r),
            }
        }
    }
    all.sort_by(|a, b| a.secs.total_cmp(&b.secs).then(a.idx.cmp(&b.idx)));
    all.truncate(k);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, MultiLineString};
    use riskmap_core::model::SourceRef;

    fn road(id: &str, pts: &[(f64, f64)], class: RoadClass, oneway: bool) -> Road {
        Road {
            id: id.into(),
            name: None,
            class,
            speed_kmh: None,
            oneway,
            line: MultiLineString(vec![LineString::from(pts.to_vec())]),
            src_crs: Default::default(),
            source: SourceRef {
                file: "r".into(),
                line: 1,
            },
        }
    }

    /// A random grid of roads (some one-way, mixed classes); every node's k labels equal
    /// the k best of one petgraph Dijkstra per source.
    #[test]
    fn k_labels_equal_one_dijkstra_per_source() {
        let mut seed = 0x2027u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let n = 12;
        let p = |i: usize, j: usize| (117.0 + i as f64 * 0.01, 36.6 + j as f64 * 0.01);
        let mut roads = Vec::new();
        for i in 0..n {
            for j in 0..n {
                let classes = RoadClass::ALL;
                if i + 1 < n && rnd() % 5 != 0 {
                    roads.push(road(
                        "h",
                        &[p(i, j), p(i + 1, j)],
                        classes[(rnd() % 5) as usize],
                        rnd() % 7 == 0,
                    ));
                }
                if j + 1 < n && rnd() % 5 != 0 {
                    roads.push(road(
                        "v",
                        &[p(i, j), p(i, j + 1)],
                        classes[(rnd() % 5) as usize],
                        rnd() % 7 == 0,
                    ));
                }
            }
        }
        let net = Network::build(&roads, &RoadSpeeds::default());
        let snaps: Vec<(usize, Snap)> = (0..9)
            .map(|s| {
                let (x, y) = p((rnd() % n as u64) as usize, (rnd() % n as u64) as usize);
                let snap = net.snap(x + 0.0031, y + 0.0002).unwrap();
                (100 + s, snap)
            })
            .collect();
        let sources: Vec<(usize, &Snap)> = snaps.iter().map(|(i, s)| (*i, s)).collect();
        let k = 3;
        let labels = k_nearest(&net, &sources, k);
        // the oracle: petgraph's Dijkstra from each end a source can drive to first,
        // the best of them per source, then the k best sources per node
        let per: Vec<Vec<(f64, _)>> = snaps
            .iter()
            .map(|(_, s)| {
                s.out
                    .iter()
                    .map(|&(node, secs, _)| {
                        (
                            s.access_secs + secs,
                            petgraph::algo::dijkstra(&net.graph, node, None, |e| e.weight().secs),
                        )
                    })
                    .collect()
            })
            .collect();
        for v in net.graph.node_indices() {
            let mut best: Vec<(f64, usize)> = snaps
                .iter()
                .zip(&per)
                .filter_map(|((id, _), outs)| {
                    outs.iter()
                        .filter_map(|(start, d)| d.get(&v).map(|t| start + t))
                        .min_by(f64::total_cmp)
                        .map(|t| (t, *id))
                })
                .collect();
            best.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            best.truncate(k);
            let got: Vec<f64> = labels[v.index()].iter().map(|l| l.secs).collect();
            let want: Vec<f64> = best.iter().map(|b| b.0).collect();
            assert_eq!(got.len(), want.len(), "node {v:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-6, "node {v:?}: {got:?} vs {want:?}");
            }
        }
        // and to a point mid-road: the best over the ends it is reached from
        let dest = net.snap(117.0455, 36.6521).unwrap();
        let got = routes_at(&labels, &dest);
        for r in &got {
            let (_, outs) = snaps
                .iter()
                .zip(&per)
                .find(|((id, _), _)| *id == r.idx)
                .unwrap();
            let want = dest
                .inn
                .iter()
                .filter_map(|&(node, secs, _)| {
                    outs.iter()
                        .filter_map(|(start, d)| d.get(&node).map(|t| start + t))
                        .min_by(f64::total_cmp)
                        .map(|t| t + secs + dest.access_secs)
                })
                .min_by(f64::total_cmp)
                .unwrap();
            assert!((r.secs - want).abs() < 1e-6, "{} vs {want}", r.secs);
        }
    }

    #[test]
    fn one_way_roads_are_driven_one_way() {
        let roads = vec![road(
            "a",
            &[(117.0, 36.6), (117.01, 36.6)],
            RoadClass::Arterial,
            true,
        )];
        let net = Network::build(&roads, &RoadSpeeds::default());
        let a = net.snap(117.0, 36.6).unwrap();
        let b = net.snap(117.01, 36.6).unwrap();
        let from_a = k_nearest(&net, &[(0, &a)], 1);
        let at_b = routes_at(&from_a, &b);
        assert_eq!(at_b.len(), 1);
        let from_b = k_nearest(&net, &[(0, &b)], 1);
        assert!(routes_at(&from_b, &a).is_empty(), "against the one-way");
        // 40 km/h over the road, within the local frame's precision
        let m = haversine_m(117.0, 36.6, 117.01, 36.6);
        assert!(
            (at_b[0].secs - m / (40.0 / 3.6)).abs() < 0.05,
            "{}",
            at_b[0].secs
        );
        // half-way along, 30 m off the road: half the time, plus 30 m at 10 km/h
        let mid = net.snap(117.005, 36.6 + 30.0 / 111_195.0).unwrap();
        assert!((mid.access_m - 30.0).abs() < 0.1);
        let r = routes_at(&from_a, &mid);
        assert!((r[0].secs - (m / 2.0 / (40.0 / 3.6) + 30.0 / (10.0 / 3.6))).abs() < 0.05);
        assert!(
            net.snap(117.005, 36.7).is_none(),
            "11 km away: off the network"
        );
    }
}
