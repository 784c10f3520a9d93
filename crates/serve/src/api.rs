//! The query API: enterprises (filtered, paginated GeoJSON), the enterprise card, the
//! click answer at a point, and statistics. Answers are built from the same graded
//! dataset and analysis `build` writes, indexed in memory.

use super::params::{bbox, check_lonlat, ApiError, Params};
use super::State;
use geo::Contains;
use riskmap_analyze::surface::level_of;
use riskmap_core::crs::Crs;
use riskmap_core::model::UNCLASSIFIED;
use riskmap_core::model::{level_key, level_slot, level_zh, Level, LEVEL_KEYS};
use rstar::AABB;
use serde_json::{json, Map, Value};

fn round(x: f64, d: u32) -> f64 {
    let k = 10f64.powi(d as i32);
    (x * k).round() / k
}

fn counts_json(c: &[usize; 5]) -> Value {
    let mut m = Map::new();
    for (k, n) in LEVEL_KEYS.iter().zip(c) {
        m.insert((*k).into(), json!(n));
    }
    Value::Object(m)
}

/// Which enterprises a request's `level`, `industry`, `district` and `q` select.
pub struct Filter {
    levels: Option<[bool; 5]>,
    industry: Option<String>,
    district: Option<String>,
    q: Option<String>,
}

impl Filter {
    pub fn from(p: &Params) -> Result<Filter, ApiError> {
        let levels = match p.str("level") {
            None => None,
            Some(v) => {
                let mut on = [false; 5];
                for part in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let slot = match part {
                        "unassessed" | "未评估" | "none" => 4,
                        _ => match Level::parse(part) {
                            Some(l) => level_slot(Some(l)),
                            None => {
                                return Err(ApiError::bad(
                                    "level",
                                    format!("unknown level `{part}`: red, orange, yellow, blue, unassessed (or 重大, 较大, 一般, 低, 未评估)"),
                                ))
                            }
                        },
                    };
                    on[slot] = true;
                }
                Some(on)
            }
        };
        Ok(Filter {
            levels,
            industry: p.str("industry").map(str::to_string),
            district: p.str("district").map(str::to_string),
            q: p.str("q").map(|s| s.to_lowercase()),
        })
    }

    pub fn keep(&self, st: &State, i: usize) -> bool {
        let ds = &st.ds;
        let e = &ds.enterprises[i];
        if let Some(on) = &self.levels {
            if !on[level_slot(ds.grades[i].level)] {
                return false;
            }
        }
        if let Some(ind) = &self.industry {
            if e.industry.as_deref().unwrap_or(UNCLASSIFIED) != ind {
                return false;
            }
        }
        if let Some(d) = &self.district {
            match ds.district_of(i) {
                Some((name, code)) if name == d || code == d => {}
                _ => return false,
            }
        }
        if let Some(q) = &self.q {
            let hit = e.name.to_lowercase().contains(q)
                || e.id.to_lowercase().contains(q)
                || e.credit_code
                    .as_deref()
                    .is_some_and(|c| c.to_lowercase().contains(q));
            if !hit {
                return false;
            }
        }
        true
    }
}

/// `GET /api/enterprises`.
pub fn enterprises(st: &State, p: &Params) -> Result<Value, ApiError> {
    let crs = p.crs()?;
    let filter = Filter::from(p)?;
    let limit = p.usize("limit")?.unwrap_or(1000).min(st.cfg.max_limit);
    let offset = p.usize("offset")?.unwrap_or(0);
    let ds = &st.ds;
    let candidates: Vec<usize> = match p.str("bbox") {
        Some(v) => {
            let b = bbox(v, st.cfg.max_bbox_deg)?;
            // a bbox in GCJ-02 / BD-09: its WGS84 envelope (corners converted, padded)
            let (w, s) = crs.to_wgs84(b[0], b[1]);
            let (e, n) = crs.to_wgs84(b[2], b[3]);
            let pad = if crs == Crs::Wgs84 { 0.0 } else { 0.0005 };
            ds.index()
                .in_bbox(w - pad, s - pad, e + pad, n + pad)
                .into_iter()
                .filter(|&i| {
                    let (x, y) = crs.from_wgs84(ds.enterprises[i].lon, ds.enterprises[i].lat);
                    x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]
                })
                .collect()
        }
        None => (0..ds.enterprises.len()).collect(),
    };
    let selected: Vec<usize> = candidates
        .into_iter()
        .filter(|&i| filter.keep(st, i))
        .collect();
    let total = selected.len();
    let dec = st.decimals;
    let features: Vec<Value> = selected
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&i| {
            let e = &ds.enterprises[i];
            let g = &ds.grades[i];
            let (x, y) = crs.from_wgs84(e.lon, e.lat);
            json!({
                "type": "Feature",
                "id": e.id,
                "geometry": {"type": "Point", "coordinates": [round(x, dec), round(y, dec)]},
                "properties": {
                    "id": e.id,
                    "name": e.name,
                    "credit_code": e.credit_code,
                    "industry": e.industry,
                    "district": ds.district_of(i).map(|d| d.0),
                    "level": level_key(g.level),
                    "level_zh": level_zh(g.level),
                    "color": ds.style.color(g.level),
                    "reason_zh": g.reason_zh,
                }
            })
        })
        .collect();
    Ok(json!({
        "type": "FeatureCollection",
        "crs_name": crs.as_str(),
        "total": total,
        "limit": limit,
        "offset": offset,
        "features": features,
    }))
}

/// `GET /api/enterprises/{id}`: the enterprise card.
pub fn card(st: &State, id: &str) -> Result<Value, ApiError> {
    let &i = st
        .by_id
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("no enterprise with id `{id}`")))?;
    let ds = &st.ds;
    let e = &ds.enterprises[i];
    let g = &ds.grades[i];
    let points: Vec<Value> = st.points_of[i]
        .iter()
        .map(|&k| {
            let rp = &ds.points[k];
            json!({
                "name": rp.name,
                "method": rp.method.name(),
                "score": rp.method.score(),
                "score_symbol": rp.method.score_symbol(),
                "level": rp.level.key(),
                "level_zh": rp.level.zh(),
            })
        })
        .collect();
    let dangers: Vec<Value> = st.dangers_of[i]
        .iter()
        .map(|&k| {
            let h = &ds.dangers[k];
            json!({
                "id": h.id,
                "grade": h.grade.zh(),
                "status": h.status.zh(),
                "open": h.status.is_open(),
                "description": h.description,
            })
        })
        .collect();
    let extra: Map<String, Value> = e.extra.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let d = ds.district_of(i);
    Ok(json!({
        "id": e.id,
        "name": e.name,
        "credit_code": e.credit_code,
        "industry": e.industry,
        "district": d.map(|d| d.0),
        "adcode": d.map(|d| d.1),
        "lon": round(e.lon, 7),
        "lat": round(e.lat, 7),
        "level": level_key(g.level),
        "level_zh": level_zh(g.level),
        "color": ds.style.color(g.level),
        "reason": g.reason,
        "reason_zh": g.reason_zh,
        "rule": g.rule,
        "tier_zh": g.level.map(Level::tier_zh),
        "major_hazard": e.major_hazard.map(|h| h.zh()),
        "employees": e.employees,
        "open_hidden_dangers": g.open_hidden_dangers,
        "open_major_hidden_dangers": g.open_major_hidden_dangers,
        "radius_m": ds.radius_m(i),
        "warnings": e.warnings,
        "risk_points": points,
        "hidden_dangers": dangers,
        "emergency": emergency_of(st, i),
        "lifelines": lifelines_of(st, i),
        "extra": extra,
    }))
}

/// The card's lifelines part: each lifeline whose protection or control zone holds the
/// site or which the influence radius reaches, nearest first. Empty without lifelines.
fn lifelines_of(st: &State, i: usize) -> Value {
    let ds = &st.ds;
    let Some(ll) = &st.an.lifelines else {
        return json!([]);
    };
    json!(ll.hits[i]
        .iter()
        .map(|h| {
            let l = &ds.lifelines[h.lifeline];
            let z = &ll.zones[h.lifeline];
            json!({
                "id": l.id,
                "name": l.name,
                "type": l.kind.key(),
                "type_zh": l.kind.zh(),
                "distance_m": round(h.distance_m, 1),
                "relation": h.code(),
                "relation_zh": h.zh(),
                "in_protection": h.in_protect,
                "in_control": h.in_control,
                "radius_reaches": h.reached,
                "protect_m": round(z.protect_m, 3),
                "control_m": z.control_m.map(|c| round(c, 3)),
                "rule": z.rule,
            })
        })
        .collect::<Vec<_>>())
}

/// The card's emergency part: own team and agreement, the nearest help of each kind
/// (straight-line), the fire station reaching it, the gaps. Null without resources.
fn emergency_of(st: &State, i: usize) -> Value {
    let ds = &st.ds;
    let e = &ds.enterprises[i];
    let Some(em) = &st.an.emergency else {
        if e.own_team.is_none() && e.rescue_partner.is_none() {
            return Value::Null;
        }
        return json!({"own_team": e.own_team, "rescue_partner": e.rescue_partner});
    };
    // by road when the enterprise is on the network: soonest first, with the minutes
    let routes = em
        .roads
        .as_ref()
        .filter(|rr| rr.off_network.binary_search(&i).is_err())
        .map(|rr| &rr.routes[i]);
    let nearest: Vec<Value> = em
        .kinds
        .iter()
        .enumerate()
        .map(|(k, kind)| {
            let list: Vec<Value> = match routes {
                Some(rs) => rs[k]
                    .iter()
                    .map(|rt| {
                        let r = &ds.resources[rt.idx];
                        json!({"id": r.id, "name": r.name, "contact": r.contact, "class_zh": r.fire_class.map(|c| c.zh()),
                               "distance_m": round(riskmap_core::crs::haversine_m(e.lon, e.lat, r.lon, r.lat), 0),
                               "minutes": round(rt.secs / 60.0, 1), "road_m": round(rt.metres, 0)})
                    })
                    .collect(),
                None => em.nearest[i][k]
                    .iter()
                    .map(|h| {
                        let r = &ds.resources[h.idx];
                        json!({"id": r.id, "name": r.name, "contact": r.contact, "class_zh": r.fire_class.map(|c| c.zh()),
                               "distance_m": round(h.distance_m, 0)})
                    })
                    .collect(),
            };
            json!({"type": kind.kind.key(), "type_zh": kind.kind.zh(), "resources": list})
        })
        .collect();
    let by_road_station = em.roads.as_ref().and_then(|rr| rr.station[i]);
    let station = em.covered_by[i].map(|h| {
        let r = &ds.resources[h.idx];
        match by_road_station.filter(|rt| rt.idx == h.idx) {
            Some(rt) => json!({"id": r.id, "name": r.name, "road_m": round(rt.metres, 0), "minutes": round(rt.secs / 60.0, 1)}),
            None => json!({"id": r.id, "name": r.name, "distance_m": round(h.distance_m, 0)}),
        }
    });
    let (method, method_zh) = if routes.is_some() {
        ("road_network", "路网行车时间")
    } else {
        ("straight_line", "直线距离")
    };
    let gaps: Vec<Value> = em
        .gaps(i)
        .into_iter()
        .map(|g| json!({"code": g.code(), "zh": g.zh(em.response_min)}))
        .collect();
    json!({
        "own_team": e.own_team,
        "rescue_partner": e.rescue_partner,
        "method": method,
        "method_zh": method_zh,
        "nearest": nearest,
        "fire_station": station,
        "fire_reach_m": round(em.reach_m, 0),
        "fire_response_min": em.response_min,
        "gaps": gaps,
    })
}

/// `GET /api/nearest?lon=&lat=[&crs=][&types=fire_station,hospital][&n=3]`: the nearest
/// emergency resources of each kind to any point: by driving time with the route's
/// `path` along the roads where a road network is given and the point is near it,
/// straight-line otherwise.
pub fn nearest(st: &State, p: &Params) -> Result<Value, ApiError> {
    let crs = p.crs()?;
    let (lon_in, lat_in) = (p.req_f64("lon")?, p.req_f64("lat")?);
    check_lonlat(lon_in, lat_in)?;
    let n = p.usize("n")?.unwrap_or(3);
    if n == 0 || n > 20 {
        return Err(ApiError::bad("n", format!("n must be 1..20, got {n}")));
    }
    let kinds: Option<Vec<riskmap_core::model::ResourceKind>> = match p.str("types") {
        None => None,
        Some(t) => Some(
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    riskmap_core::model::ResourceKind::from_key(s).ok_or_else(|| {
                        ApiError::bad(
                            "types",
                            format!(
                                "unknown resource type `{}`; types: {}",
                                s.chars().take(40).collect::<String>(),
                                riskmap_core::model::ResourceKind::ALL
                                    .iter()
                                    .map(|k| k.key())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    let (lon, lat) = crs.to_wgs84(lon_in, lat_in);
    let ds = &st.ds;
    // by road when the point is near the network: soonest first, with the minutes
    let routes = st
        .an
        .emergency
        .as_ref()
        .and_then(|em| em.roads.as_ref())
        .and_then(|rr| rr.from_point(lon, lat).map(|(snap, rs)| (rr, snap, rs)));
    let entry = |idx: usize, extra: &[(&str, Value)]| {
        let r = &ds.resources[idx];
        let (x, y) = crs.from_wgs84(r.lon, r.lat);
        let mut m = riskmap_store::emergency::resource_properties(ds, idx);
        m.insert("lon".into(), json!(round(x, 7)));
        m.insert("lat".into(), json!(round(y, 7)));
        m.insert(
            "distance_m".into(),
            json!(round(
                riskmap_core::crs::haversine_m(lon, lat, r.lon, r.lat),
                0
            )),
        );
        for (k, v) in extra {
            m.insert((*k).into(), v.clone());
        }
        Value::Object(m)
    };
    let groups: Vec<Value> = st
        .an
        .emergency
        .iter()
        .flat_map(|em| em.kinds.iter().enumerate())
        .filter(|(_, k)| kinds.as_ref().is_none_or(|ks| ks.contains(&k.kind)))
        .map(|(p, k)| {
            let rs: Vec<Value> = match &routes {
                Some((rr, snap, rs)) => rs[p]
                    .iter()
                    .take(n)
                    .map(|rt| {
                        let r = &ds.resources[rt.idx];
                        // the way along the roads, in the answer's CRS
                        let path: Vec<[f64; 2]> = rr
                            .path(p, rt, (r.lon, r.lat), (lon, lat), snap)
                            .into_iter()
                            .map(|(x, y)| {
                                let (x, y) = crs.from_wgs84(x, y);
                                [round(x, 7), round(y, 7)]
                            })
                            .collect();
                        entry(
                            rt.idx,
                            &[
                                ("minutes", json!(round(rt.secs / 60.0, 1))),
                                ("road_m", json!(round(rt.metres, 0))),
                                ("path", json!(path)),
                            ],
                        )
                    })
                    .collect(),
                None => k
                    .nearest(lon, lat, n)
                    .into_iter()
                    .map(|h| entry(h.idx, &[]))
                    .collect(),
            };
            json!({"type": k.kind.key(), "type_zh": k.kind.zh(), "resources": rs})
        })
        .collect();
    let (method, method_zh) = if routes.is_some() {
        ("road_network", "路网行车时间")
    } else {
        ("straight_line", "直线距离")
    };
    Ok(json!({
        "lon": lon_in,
        "lat": lat_in,
        "crs": crs.as_str(),
        "method": method,
        "method_zh": method_zh,
        "kinds": groups,
    }))
}

/// Surface class at a WGS84 point (0 outside every zone).
pub fn surface_class(st: &State, lon: f64, lat: f64) -> u8 {
    let Some(s) = &st.an.surface else { return 0 };
    let (x, y) = s.utm.forward(lon, lat);
    let (c, r) = ((x - s.x0) / s.res, (y - s.y0) / s.res);
    if c < 0.0 || r < 0.0 || c >= s.width as f64 || r >= s.height as f64 {
        return 0;
    }
    s.classes[r as usize * s.width + c as usize]
}

/// `GET /api/at`: what is at a point.
pub fn at(st: &State, p: &Params) -> Result<Value, ApiError> {
    let crs = p.crs()?;
    let (lon_in, lat_in) = (p.req_f64("lon")?, p.req_f64("lat")?);
    check_lonlat(lon_in, lat_in)?;
    let radius = p.f64("radius")?.unwrap_or(500.0);
    if radius <= 0.0 || radius > st.cfg.max_radius_m {
        return Err(ApiError::bad(
            "radius",
            format!(
                "radius must be > 0 and ≤ {} m ([serve] max_radius_m), got {radius}",
                st.cfg.max_radius_m
            ),
        ));
    }
    let (lon, lat) = crs.to_wgs84(lon_in, lat_in);
    let ds = &st.ds;
    let an = &st.an;
    let pt = geo::Point::new(lon, lat);
    let env = AABB::from_point([lon, lat]);
    let class = surface_class(st, lon, lat);
    let surface = level_of(class).map(|l| json!({"level": l.key(), "level_zh": l.zh()}));
    let zone = an.zones.as_ref().and_then(|zs| {
        st.zone_tree
            .locate_in_envelope_intersecting(&env)
            .map(|g| g.data)
            .filter(|&k| zs[k].shape.contains(&pt))
            .max_by_key(|&k| (zs[k].level, std::cmp::Reverse(k)))
            .map(|k| {
                let z = &zs[k];
                // The enterprises that give the zone its colour: those of the zone's own
                // level whose influence disc covers the point clicked (the highest wins).
                let mut makers: Vec<(f64, usize)> = z
                    .enterprises
                    .iter()
                    .filter(|&&i| i < ds.enterprises.len() && ds.grades[i].level == Some(z.level))
                    .map(|&i| {
                        let e = &ds.enterprises[i];
                        let d = geo::Distance::distance(&geo::Haversine, geo::Point::new(e.lon, e.lat), pt);
                        (d, i)
                    })
                    .collect();
                // Those whose disc covers the point; where the colour comes from several
                // discs summed (none alone reaches), the nearest of the zone's level.
                makers.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let covering = makers.iter().filter(|(d, i)| *d <= ds.radius_m(*i)).count();
                makers.truncate(covering.max(1).min(makers.len()));
                let mut makers: Vec<Value> = makers
                    .iter()
                    .map(|&(d, i)| {
                        let e = &ds.enterprises[i];
                        json!({"id": e.id, "name": e.name, "distance_m": round(d, 0)})
                    })
                    .collect();
                makers.truncate(50);
                json!({"id": riskmap_store::analysis::zone_id(k), "level": z.level.key(), "level_zh": z.level.zh(),
                       "area_km2": round(z.area_km2, 3), "enterprises": z.enterprises.len(), "made_by": makers})
            })
    });
    let grid = an.grid.as_ref().and_then(|cells| {
        let mut ks: Vec<usize> = st
            .cell_tree
            .locate_in_envelope_intersecting(&env)
            .map(|g| g.data)
            .filter(|&k| cells[k].shape.contains(&pt))
            .collect();
        ks.sort_unstable();
        ks.first().map(|&k| {
            let c = &cells[k];
            json!({"id": c.id, "level": level_key(c.level.level), "level_zh": level_zh(c.level.level),
                   "reason": c.level.reason, "reason_zh": c.level.reason_zh, "total": c.counts.iter().sum::<usize>(), "levels": counts_json(&c.counts),
                   "open_major_hidden_dangers": c.open_major_hidden_dangers})
        })
    });
    let district = ds.districts.locate(lon, lat).map(|k| {
        let d = &ds.districts.districts[k];
        let stats = an
            .areas
            .as_ref()
            .and_then(|a| a.iter().find(|a| a.adcode == d.adcode && a.name == d.name));
        json!({
            "name": d.name,
            "adcode": d.adcode,
            "level": stats.map(|s| level_key(s.level.level)),
            "level_zh": stats.map(|s| level_zh(s.level.level)),
            "reason": stats.map(|s| s.level.reason.clone()),
            "reason_zh": stats.map(|s| s.level.reason_zh.clone()),
            "total": stats.map(|s| s.total()),
            "levels": stats.map(|s| counts_json(&s.counts)),
            "area_km2": stats.map(|s| round(s.area_km2, 1)),
            "open_major_hidden_dangers": stats.map(|s| s.open_major_hidden_dangers),
        })
    });
    let hits = ds.index().within(lon, lat, radius);
    let n_hits = hits.len();
    let enterprises: Vec<Value> = hits
        .iter()
        .take(50)
        .map(|h| {
            let e = &ds.enterprises[h.idx];
            let g = &ds.grades[h.idx];
            let (x, y) = crs.from_wgs84(e.lon, e.lat);
            json!({"id": e.id, "name": e.name, "level": level_key(g.level), "level_zh": level_zh(g.level),
                   "reason_zh": g.reason_zh, "industry": e.industry, "distance_m": round(h.distance_m, 1),
                   "lon": round(x, 7), "lat": round(y, 7)})
        })
        .collect();
    let sites: Vec<Value> = st
        .sites_index
        .as_ref()
        .map(|ix| {
            ix.within(lon, lat, radius)
                .iter()
                .take(50)
                .map(|h| {
                    let s = &ds.sites[h.idx];
                    let lvl = level_of(surface_class(st, s.lon, s.lat));
                    json!({"id": s.id, "name": s.name, "type": s.kind, "population": s.population,
                           "distance_m": round(h.distance_m, 1),
                           "level": lvl.map(Level::key), "level_zh": lvl.map(Level::zh)})
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({
        "lon": lon_in,
        "lat": lat_in,
        "crs": crs.as_str(),
        "wgs84": [round(lon, 7), round(lat, 7)],
        "radius_m": radius,
        "empty": n_hits == 0 && surface.is_none(),
        "surface": surface,
        "zone": zone,
        "grid": grid,
        "district": district,
        "enterprises_total": n_hits,
        "enterprises": enterprises,
        "sites": sites,
    }))
}

/// `GET /api/stats`: counts by level, district and industry (under the filters).
pub fn stats(st: &State, p: &Params) -> Result<Value, ApiError> {
    let filter = Filter::from(p)?;
    let ds = &st.ds;
    let mut total = [0usize; 5];
    let mut by_d: Vec<[usize; 5]> = vec![[0; 5]; ds.districts.districts.len()];
    let mut by_i: std::collections::BTreeMap<&str, [usize; 5]> = Default::default();
    for i in 0..ds.enterprises.len() {
        if !filter.keep(st, i) {
            continue;
        }
        let s = level_slot(ds.grades[i].level);
        total[s] += 1;
        if let Some(d) = ds.enterprises[i].district {
            by_d[d][s] += 1;
        }
        by_i.entry(
            ds.enterprises[i]
                .industry
                .as_deref()
                .unwrap_or(UNCLASSIFIED),
        )
        .or_default()[s] += 1;
    }
    let districts: Vec<Value> = ds
        .districts
        .districts
        .iter()
        .zip(&by_d)
        .map(|(d, c)| {
            // the district's level as built (the whole register, not the filters)
            let built = st
                .an
                .areas
                .as_ref()
                .and_then(|a| a.iter().find(|a| a.adcode == d.adcode && a.name == d.name))
                .map(|a| a.level.level);
            json!({"name": d.name, "adcode": d.adcode, "total": c.iter().sum::<usize>(), "levels": counts_json(c),
                   "level": built.map(level_key), "level_zh": built.map(level_zh)})
        })
        .collect();
    let mut inds: Vec<(&str, [usize; 5])> = by_i.into_iter().collect();
    inds.sort_by(|a, b| {
        b.1.iter()
            .sum::<usize>()
            .cmp(&a.1.iter().sum::<usize>())
            .then(a.0.cmp(b.0))
    });
    let industries: Vec<Value> = inds
        .iter()
        .map(
            |(n, c)| json!({"name": n, "total": c.iter().sum::<usize>(), "levels": counts_json(c)}),
        )
        .collect();
    Ok(json!({
        "total": total.iter().sum::<usize>(),
        "levels": counts_json(&total),
        "districts": districts,
        "industries": industries,
    }))
}
