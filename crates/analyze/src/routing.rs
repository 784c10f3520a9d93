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
    /// The out-edges of node `n` are `adj[off[n]..off[n + 1]]` (target, seconds, metres):
    /// the searches walk these flat arrays, not petgraph's linked edge lists.
    off: Vec<u32>,
    adj: Vec<(u32, f64, f64)>,
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
    /// The road it joins: the edge's ends (a→b as found), the fraction along it and the
    /// foot of the perpendicular (lon, lat), where the drawn route leaves the road.
    pub seg: (NodeIndex, NodeIndex),
    pub f: f64,
    pub on: (f64, f64),
}

/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_195.0;

impl Network {
    /// The graph of `roads`: a node per distinct vertex (to 1e-7°, about 1 cm), so roads
    /// meet where they share a vertex, as road registers and OpenStreetMap draw them.
    pub fn build(roads: &[Road], speeds: &RoadSpeeds) -> Network {
        let mut graph = DiGraph::new();
        let mut indexed = Vec::new();
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
                    indexed.push(graph.add_edge(na, nb, e));
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
        // one segment per stretch of road (a two-way road's way back is found from it)
        let segs = indexed
            .into_iter()
            .map(|e| {
                let (a, b) = graph.edge_endpoints(e).expect("an edge");
                rstar::primitives::GeomWithData::new(
                    rstar::primitives::Line::new(local(graph[a]), local(graph[b])),
                    e,
                )
            })
            .collect();
        let mut off = Vec::with_capacity(graph.node_count() + 1);
        let mut adj = Vec::with_capacity(graph.edge_count());
        for n in graph.node_indices() {
            off.push(adj.len() as u32);
            let mut es: Vec<(u32, f64, f64)> = graph
                .edges(n)
                .map(|e| {
                    (
                        e.target().index() as u32,
                        e.weight().secs,
                        e.weight().metres,
                    )
                })
                .collect();
            // petgraph lists a node's edges newest first; the input's order instead
            es.reverse();
            adj.extend(es);
        }
        off.push(adj.len() as u32);
        Network {
            off,
            adj,
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
        let on = (qx / o.2 + o.0, qy / M_PER_DEG + o.1);
        Some(Snap {
            access_m,
            access_secs: access_m / (self.access_kmh / 3.6),
            out,
            inn,
            seg: (a, b),
            f,
            on,
        })
    }

    /// Straight along the one road two points share, from `from` to `to` (seconds,
    /// metres), if they join the same stretch between two nodes and its direction allows;
    /// the search through the nodes would drive to an end and back.
    pub fn along(&self, from: &Snap, to: &Snap) -> Option<(f64, f64)> {
        let (a, b) = from.seg;
        // `to`'s fraction measured from a
        let tf = if to.seg == (a, b) {
            to.f
        } else if to.seg == (b, a) {
            1.0 - to.f
        } else {
            return None;
        };
        let (e, frac) = if tf >= from.f {
            (self.graph.find_edge(a, b)?, tf - from.f)
        } else {
            (self.graph.find_edge(b, a)?, from.f - tf)
        };
        let w = self.graph[e];
        Some((
            from.access_secs + frac * w.secs + to.access_secs,
            from.access_m + frac * w.metres + to.access_m,
        ))
    }

    /// The way a route drives, as (lon, lat) from the source's position to `to`'s:
    /// `from` is the source's snap, the node chain read back through the labels' `pred`.
    pub fn path(
        &self,
        labels: &Labels,
        from: ((f64, f64), &Snap),
        route: &Route,
        to: ((f64, f64), &Snap),
    ) -> Vec<(f64, f64)> {
        let mut nodes = Vec::new();
        let mut at = route.via;
        while let Some(n) = at {
            nodes.push(self.graph[n]);
            at = labels
                .at(n)
                .iter()
                .find(|l| l.source == route.idx)
                .and_then(|l| l.pred);
            if nodes.len() > self.graph.node_count() {
                break; // never: each pred was settled before its successor
            }
        }
        nodes.reverse();
        let mut out = vec![from.0, from.1.on];
        out.extend(nodes);
        out.push(to.1.on);
        out.push(to.0);
        out.dedup();
        out
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
    /// The node the source came from (None: its first node off the road it is on); the
    /// source has a label there too, so the route reads back to it.
    pub pred: Option<NodeIndex>,
}

/// A heap entry: the key packs (seconds, node, source) into one u128 so the heap compares
/// one integer (non-negative f64s order as their bits); a min-heap on time, ties by node
/// then source, so the same inputs settle in the same order. 32 bytes.
struct Item {
    key: u128,
    metres: f64,
    pred: u32,
}

impl Item {
    fn new(secs: f64, node: u32, source: u32, metres: f64, pred: u32) -> Item {
        Item {
            key: ((secs.max(0.0).to_bits() as u128) << 64)
                | ((node as u128) << 32)
                | source as u128,
            metres,
            pred,
        }
    }
    fn secs(&self) -> f64 {
        f64::from_bits((self.key >> 64) as u64)
    }
    fn node(&self) -> usize {
        ((self.key >> 32) as u32) as usize
    }
    fn source(&self) -> usize {
        (self.key as u32) as usize
    }
}

impl PartialEq for Item {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Item {}

impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        o.key.cmp(&self.key).then_with(|| o.pred.cmp(&self.pred))
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// `Item::pred` of a source's first node.
const NO_PRED: u32 = u32::MAX;

/// Every node's nearest sources: up to `k` labels per node, nearest first, in one flat
/// array (a node's are `items[n * k .. n * k + count[n]]`).
pub struct Labels {
    k: usize,
    count: Vec<u8>,
    items: Vec<Label>,
}

impl Labels {
    /// Node `n`'s labels, nearest first.
    pub fn at(&self, n: NodeIndex) -> &[Label] {
        let i = n.index();
        &self.items[i * self.k..i * self.k + self.count[i] as usize]
    }
}

/// The k best known arrivals at each node, one per source (see [`k_nearest`]).
struct Tentative {
    k: usize,
    src: Vec<u32>,
    secs: Vec<f64>,
    len: Vec<u8>,
}

impl Tentative {
    /// Whether `source` arriving at `v` after `t` seconds is among the node's k best
    /// (and is now recorded): better than its own earlier arrival, or a free slot, or
    /// better than the worst unsettled one (ties by source, as the heap pops them).
    fn offer(&mut self, v: usize, source: u32, t: f64) -> bool {
        let base = v * self.k;
        let len = self.len[v] as usize;
        if let Some(j) = self.src[base..base + len].iter().position(|&x| x == source) {
            if t < self.secs[base + j] {
                self.secs[base + j] = t;
                return true;
            }
            return false;
        }
        if len < self.k {
            self.src[base + len] = source;
            self.secs[base + len] = t;
            self.len[v] += 1;
            return true;
        }
        let worse = |a: usize, b: usize| {
            self.secs[a]
                .total_cmp(&self.secs[b])
                .then(self.src[a].cmp(&self.src[b]))
                .is_gt()
        };
        let mut w = base;
        for j in base + 1..base + self.k {
            if worse(j, w) {
                w = j;
            }
        }
        let beats = t
            .total_cmp(&self.secs[w])
            .then(source.cmp(&self.src[w]))
            .is_lt();
        if beats && self.secs[w] != f64::NEG_INFINITY {
            self.src[w] = source;
            self.secs[w] = t;
            return true;
        }
        false
    }

    /// Settle `source` at `v` popped at `t`: false when that arrival is stale, was
    /// displaced, or the source is settled there already.
    fn settle(&mut self, v: usize, source: u32, t: f64) -> bool {
        let base = v * self.k;
        let len = self.len[v] as usize;
        match self.src[base..base + len].iter().position(|&x| x == source) {
            Some(j) if self.secs[base + j] == t => {
                self.secs[base + j] = f64::NEG_INFINITY;
                true
            }
            _ => false,
        }
    }
}

/// The `k` nearest sources of every node by driving time from the source (edges in
/// their direction), nearest first: `sources` are (source id, its snap). Each node
/// settles at most `k` times, once per source.
pub fn k_nearest(net: &Network, sources: &[(usize, &Snap)], k: usize) -> Labels {
    let k = k.clamp(1, u8::MAX as usize);
    let n = net.off.len().saturating_sub(1);
    let mut labels = Labels {
        k,
        count: vec![0; n],
        items: vec![
            Label {
                source: 0,
                secs: 0.0,
                metres: 0.0,
                pred: None,
            };
            n * k
        ],
    };
    // Each node's k best known arrivals of distinct sources (settled ones marked with
    // -∞, never displaced): a relaxation not among them cannot become a label, so it is
    // not pushed — most are turned away here instead of passing through the heap.
    let mut tent = Tentative {
        k,
        src: vec![0; n * k],
        secs: vec![0.0; n * k],
        len: vec![0; n],
    };
    let mut heap = BinaryHeap::new();
    for &(source, s) in sources {
        for &(node, secs, metres) in &s.out {
            let t = s.access_secs + secs;
            if tent.offer(node.index(), source as u32, t) {
                heap.push(Item::new(
                    t,
                    node.index() as u32,
                    source as u32,
                    s.access_m + metres,
                    NO_PRED,
                ));
            }
        }
    }
    while let Some(it) = heap.pop() {
        let (v, source, secs) = (it.node(), it.source(), it.secs());
        // stale (bettered since), displaced, or settled already
        if !tent.settle(v, source as u32, secs) {
            continue;
        }
        let c = labels.count[v] as usize;
        labels.items[v * k + c] = Label {
            source,
            secs,
            metres: it.metres,
            pred: (it.pred != NO_PRED).then(|| NodeIndex::new(it.pred as usize)),
        };
        labels.count[v] += 1;
        for &(to, es, em) in &net.adj[net.off[v] as usize..net.off[v + 1] as usize] {
            let t = secs + es;
            if tent.offer(to as usize, source as u32, t) {
                heap.push(Item::new(t, to, source as u32, it.metres + em, v as u32));
            }
        }
    }
    labels
}

/// What [`service_area`] reuses from one station to the next (one per thread): the nodes
/// settled, reset by the list of those it touched rather than cleared whole.
#[derive(Default)]
pub struct AreaScratch {
    done: Vec<bool>,
    touched: Vec<u32>,
}

/// Where a vehicle from `from` gets within `budget_secs`: every node reached, and the
/// points part-way along the edges it cannot finish (a bounded Dijkstra: it stops at the
/// budget, never the whole city per station).
pub fn service_area(
    net: &Network,
    from: &Snap,
    budget_secs: f64,
    scratch: &mut AreaScratch,
) -> Vec<(f64, f64)> {
    let n = net.off.len().saturating_sub(1);
    if scratch.done.len() != n {
        scratch.done = vec![false; n];
    }
    for &t in &scratch.touched {
        scratch.done[t as usize] = false;
    }
    scratch.touched.clear();
    let mut heap = BinaryHeap::new();
    let mut out = Vec::new();
    for &(node, secs, _) in &from.out {
        if from.access_secs + secs <= budget_secs {
            heap.push(Item::new(
                from.access_secs + secs,
                node.index() as u32,
                0,
                0.0,
                NO_PRED,
            ));
        }
    }
    while let Some(it) = heap.pop() {
        let (v, secs) = (it.node(), it.secs());
        if scratch.done[v] {
            continue;
        }
        scratch.done[v] = true;
        scratch.touched.push(v as u32);
        let (x, y) = net.graph[NodeIndex::new(v)];
        out.push((x, y));
        for &(to, es, _) in &net.adj[net.off[v] as usize..net.off[v + 1] as usize] {
            let t = secs + es;
            if t <= budget_secs {
                if !scratch.done[to as usize] {
                    heap.push(Item::new(t, to, 0, 0.0, NO_PRED));
                }
            } else {
                // part of the edge: as far as the time left goes
                let f = (budget_secs - secs) / es;
                let (bx, by) = net.graph[NodeIndex::new(to as usize)];
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
    /// The node it arrives from (None: straight along the road both are on).
    #[serde(skip)]
    pub via: Option<NodeIndex>,
}

/// The routes to the point `snap` from the labels of the nodes it is reached from (the
/// rest of the edge and its access leg added), soonest first, one per source. `along`:
/// the sources on the point's own road with their time straight along it
/// ([`Network::along`]), which may beat going round through the nodes.
pub fn routes_at(labels: &Labels, snap: &Snap, along: &[(usize, f64, f64)]) -> Vec<Route> {
    let mut all: Vec<Route> = along
        .iter()
        .map(|&(idx, secs, metres)| Route {
            idx,
            secs,
            metres,
            via: None,
        })
        .collect();
    let k = snap
        .inn
        .iter()
        .map(|(n, ..)| labels.at(*n).len())
        .max()
        .filter(|&k| k > 0)
        .unwrap_or(along.len());
    for &(node, secs, metres) in &snap.inn {
        for l in labels.at(node) {
            let r = Route {
                idx: l.source,
                secs: l.secs + secs + snap.access_secs,
                metres: l.metres + metres + snap.access_m,
                via: Some(node),
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
            let got: Vec<f64> = labels.at(v).iter().map(|l| l.secs).collect();
            let want: Vec<f64> = best.iter().map(|b| b.0).collect();
            assert_eq!(got.len(), want.len(), "node {v:?}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-6, "node {v:?}: {got:?} vs {want:?}");
            }
        }
        // and to a point mid-road: the best over the ends it is reached from
        let dest = net.snap(117.0455, 36.6521).unwrap();
        let got = routes_at(&labels, &dest, &[]);
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
        let at_b = routes_at(&from_a, &b, &[]);
        assert_eq!(at_b.len(), 1);
        let from_b = k_nearest(&net, &[(0, &b)], 1);
        assert!(
            routes_at(&from_b, &a, &[]).is_empty(),
            "against the one-way"
        );
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
        let r = routes_at(&from_a, &mid, &[]);
        assert!((r[0].secs - (m / 2.0 / (40.0 / 3.6) + 30.0 / (10.0 / 3.6))).abs() < 0.05);
        assert!(
            net.snap(117.005, 36.7).is_none(),
            "11 km away: off the network"
        );
    }

    /// A resource and a point on the same stretch of road drive straight along it (not
    /// to an end and back), never against a one-way; a route's path reads back through
    /// the nodes it drove.
    #[test]
    fn same_road_straight_along_and_the_path_through_the_nodes() {
        let pts = [(117.0, 36.6), (117.02, 36.6), (117.04, 36.6)];
        let two = vec![road("a", &pts, RoadClass::Arterial, false)];
        let net = Network::build(&two, &RoadSpeeds::default());
        let res_at = (117.004, 36.6 + 5.0 / M_PER_DEG);
        let res = net.snap(res_at.0, res_at.1).unwrap();
        let pt = net.snap(117.008, 36.6).unwrap();
        let labels = k_nearest(&net, &[(7, &res)], 1);
        let round = routes_at(&labels, &pt, &[]);
        let (secs, metres) = net.along(&res, &pt).unwrap();
        let straight = routes_at(&labels, &pt, &[(7, secs, metres)]);
        let m = haversine_m(117.004, 36.6, 117.008, 36.6);
        let want = m / (40.0 / 3.6) + 5.0 / (10.0 / 3.6);
        assert!(
            (straight[0].secs - want).abs() < 0.05,
            "{straight:?} vs {want}"
        );
        assert_eq!(straight[0].via, None);
        assert!(round[0].secs > 2.0 * straight[0].secs, "{round:?}");
        // against a one-way: no straight drive back, and the point is out of reach
        let one = vec![road("a", &pts, RoadClass::Arterial, true)];
        let net1 = Network::build(&one, &RoadSpeeds::default());
        let (ahead, behind) = (
            net1.snap(117.008, 36.6).unwrap(),
            net1.snap(117.002, 36.6).unwrap(),
        );
        let r1 = net1.snap(res_at.0, res_at.1).unwrap();
        assert!(net1.along(&r1, &ahead).is_some());
        assert!(net1.along(&r1, &behind).is_none());
        // the path to a point past the middle node: the resource, its foot on the road,
        // the node, the point's foot, the point
        let far_at = (117.035, 36.6 + 3.0 / M_PER_DEG);
        let far = net.snap(far_at.0, far_at.1).unwrap();
        let r = routes_at(&labels, &far, &[])[0];
        assert!(r.via.is_some());
        let p = net.path(&labels, (res_at, &res), &r, (far_at, &far));
        assert_eq!(p.len(), 5, "{p:?}");
        assert_eq!((p[0], p[2], p[4]), (res_at, (117.02, 36.6), far_at));
        assert!(
            (p[1].0 - 117.004).abs() < 1e-9 && (p[1].1 - 36.6).abs() < 1e-9,
            "{p:?}"
        );
        assert!(
            (p[3].0 - 117.035).abs() < 1e-9 && (p[3].1 - 36.6).abs() < 1e-9,
            "{p:?}"
        );
    }
}
