//! The sample's emergency-command files (#27): resources.csv and lifelines.geojson, each
//! drawn from its own random stream so the other files stay byte-identical for a seed.

use super::*;

/// A line from `a` to `b` (WGS84) wandering as pipes and lines do: a vertex every
/// `step_km`, pushed sideways by up to about `wander_km`.
fn wander(
    rng: &mut Rng,
    a: (f64, f64),
    b: (f64, f64),
    step_km: f64,
    wander_km: f64,
) -> Vec<(f64, f64)> {
    let kx = 111.32 * a.1.to_radians().cos();
    let (dx, dy) = ((b.0 - a.0) * kx, (b.1 - a.1) * 111.32);
    let len = (dx * dx + dy * dy).sqrt().max(0.1);
    let n = ((len / step_km).ceil() as usize).max(2);
    let (nx, ny) = (-dy / len, dx / len);
    let mut off = 0.0f64;
    (0..=n)
        .map(|k| {
            let t = k as f64 / n as f64;
            // a random walk across the line, pinned at both ends
            off = if k == 0 || k == n {
                0.0
            } else {
                (off + rng.gauss() * wander_km * 0.4).clamp(-wander_km, wander_km)
            };
            let (x, y) = (dx * t + nx * off, dy * t + ny * off);
            (a.0 + x / kx, a.1 + y / 111.32)
        })
        .collect()
}

/// lifelines.geojson (#27 §2): long-distance oil and gas pipelines between the parks,
/// 500/220/110 kV power lines, gas mains of every pressure class, water and heating
/// mains near the district centres (CGCS2000, one feature in GCJ-02 by its own 坐标系);
/// one power line without a voltage and one gas main without a class (warnings), and four
/// dirty features (an unknown type, a Point, projected metres, a repeated id). Its own
/// random stream: the other files stay byte-identical for a seed.
pub(super) fn lifelines_geojson(
    opts: &SampleOptions,
    idx: &DistrictIndex,
    bbox: [f64; 4],
) -> (String, usize) {
    use serde_json::{json, Value};
    let mut rng = Rng::new(opts.seed ^ 0x11FE_2027);
    let n = opts.count.max(1);
    let centre = |d: usize| {
        let b = idx.districts[d].bbox().unwrap_or(bbox);
        ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
    };
    let nd = idx.districts.len();
    let park = |i: usize| (PARKS[i % PARKS.len()].lon, PARKS[i % PARKS.len()].lat);
    let mut feats: Vec<Value> = Vec::new();
    let mut k = 0usize;
    let coords = |pts: &[(f64, f64)]| -> Value {
        json!(pts
            .iter()
            .map(|&(x, y)| [(x * 1e6).round() / 1e6, (y * 1e6).round() / 1e6])
            .collect::<Vec<_>>())
    };
    let mut push = |feats: &mut Vec<Value>, props: Value, pts: &[(f64, f64)]| {
        k += 1;
        let mut p = props;
        p["编号"] = json!(format!("GX{k:04}"));
        feats.push(json!({
            "type": "Feature",
            "properties": p,
            "geometry": {"type": "LineString", "coordinates": coords(pts)}
        }));
    };
    let scale = (n / 5000).max(1);
    // long-distance pipelines: park to park
    let routes = [
        (1usize, 0usize, "原油管道"),
        (2, 1, "天然气长输管道"),
        (3, 4, "成品油管道"),
    ];
    for r in 0..(2 * scale).min(40) {
        let (a, b, ty) = routes[r % routes.len()];
        let (a, b) = (park(a + r / routes.len()), park(b + 2 * (r / routes.len())));
        let pts = wander(&mut rng, a, b, 1.0, 3.0);
        push(
            &mut feats,
            json!({"名称": format!("{ty}{}线", r + 1), "类型": ty, "管径": "DN500", "权属单位": "中国石化管道储运有限公司"}),
            &pts,
        );
    }
    // power lines: between parks and district centres
    let n_power = (6 * scale).min(600);
    for p in 0..n_power {
        let kv = [500, 220, 220, 110, 110, 110][p % 6];
        let a = park(rng.below(PARKS.len()));
        let b = centre(rng.below(nd));
        let pts = wander(&mut rng, a, b, 0.4, 1.5);
        let voltage = if p == 5 {
            String::new()
        } else {
            format!("{kv}kV")
        };
        push(
            &mut feats,
            json!({"名称": format!("{kv}kV第{}线", p + 1), "类型": "高压输电线路", "电压等级": voltage, "权属单位": "国网济南供电公司"}),
            &pts,
        );
    }
    // gas mains in and around the parks
    let classes = [
        "中压A",
        "中压B",
        "次高压A",
        "高压B",
        "0.4MPa",
        "",
        "中压A",
        "次高压B",
    ];
    for g in 0..(10 * scale).min(1000) {
        let pk = &PARKS[rng.below(PARKS.len())];
        let a = (
            pk.lon + pk.sigma * rng.gauss(),
            pk.lat + pk.sigma * rng.gauss(),
        );
        let b = (
            pk.lon + pk.sigma * rng.gauss(),
            pk.lat + pk.sigma * rng.gauss(),
        );
        let pts = wander(&mut rng, a, b, 0.3, 0.5);
        let class = classes[g % classes.len()];
        push(
            &mut feats,
            json!({"名称": format!("燃气管道{}", g + 1), "类型": "燃气管道", "压力级制": class, "管径": format!("DN{}", [200, 300, 400][g % 3]), "权属单位": "济南港华燃气有限公司"}),
            &pts,
        );
    }
    // water and heating mains from the district centres
    for m in 0..(6 * scale).min(600) {
        let c = centre(m % nd);
        let ang = rng.f64() * std::f64::consts::TAU;
        let len = 0.03 + 0.05 * rng.f64();
        let b = (c.0 + len * ang.cos(), c.1 + len * ang.sin() * 0.8);
        let pts = wander(&mut rng, c, b, 0.3, 0.4);
        let (ty, owner) = if m % 2 == 0 {
            ("供水管道", "济南水务集团")
        } else {
            ("供热管道", "济南热力集团")
        };
        push(
            &mut feats,
            json!({"名称": format!("{ty}{}", m + 1), "类型": ty, "管径": format!("DN{}", [600, 800, 1000][m % 3]), "权属单位": owner}),
            &pts,
        );
    }
    let good = feats.len();
    // one main given in GCJ-02, as a Gaode trace would be
    if let Some(f) = feats.last_mut() {
        f["properties"]["坐标系"] = json!("GCJ-02");
        if let Some(cs) = f["geometry"]["coordinates"].as_array_mut() {
            for c in cs {
                let (x, y) = Crs::Gcj02
                    .from_wgs84(c[0].as_f64().unwrap_or(0.0), c[1].as_f64().unwrap_or(0.0));
                *c = json!([(x * 1e6).round() / 1e6, (y * 1e6).round() / 1e6]);
            }
        }
    }
    // dirty features
    let c = centre(0);
    let line = [(c.0, c.1), (c.0 + 0.01, c.1 + 0.01)];
    push(
        &mut feats,
        json!({"名称": "绕城高速", "类型": "公路"}),
        &line,
    );
    k += 1;
    feats.push(json!({"type": "Feature", "properties": {"编号": format!("GX{k:04}"), "名称": "阀室", "类型": "燃气管道"}, "geometry": {"type": "Point", "coordinates": [c.0, c.1]}}));
    k += 1;
    feats.push(json!({"type": "Feature", "properties": {"编号": format!("GX{k:04}"), "名称": "投影坐标的管线", "类型": "供水管道"}, "geometry": {"type": "LineString", "coordinates": [[500000.0, 4050000.0], [500900.0, 4050300.0]]}}));
    feats.push(json!({"type": "Feature", "properties": {"编号": "GX0001", "名称": "重复编号的管线", "类型": "供热管道"}, "geometry": {"type": "LineString", "coordinates": coords(&line)}}));
    // one feature per line, as a person reading the file would want it
    let mut text = String::new();
    text.push_str("{\"type\":\"FeatureCollection\",\"name\":\"lifelines\",\"features\":[\n");
    for (i, f) in feats.iter().enumerate() {
        text.push_str(&f.to_string());
        text.push_str(if i + 1 < feats.len() { ",\n" } else { "\n" });
    }
    text.push_str("]}\n");
    (text, good)
}

/// resources.csv (#27): fire stations of every class, professional, enterprise and
/// community rescue teams, depots with stock, shelters, hospitals and experts, placed
/// near the industrial parks and district centres; plus three dirty rows (an unknown
/// type, a missing longitude, a repeated id). Drawn from its own random stream, so the
/// other files stay byte-identical for a seed.
pub(super) fn resources_csv(
    opts: &SampleOptions,
    idx: &DistrictIndex,
    bbox: [f64; 4],
) -> (String, usize) {
    let mut rng = Rng::new(opts.seed ^ 0x5EED_2027);
    let n = opts.count;
    let shares: Vec<u32> = PARKS.iter().map(|p| p.share).collect();
    let mut s = String::from(
        "\u{feff}编号,名称,类型,级别,所属单位,联系电话,容纳人数,储备物资,专业领域,经度,纬度,坐标系\n",
    );
    let mut k = 0usize;
    let mut row = |rng: &mut Rng,
                   s: &mut String,
                   name: String,
                   ty: &str,
                   class: &str,
                   owner: &str,
                   cap: String,
                   stock: &str,
                   field: &str,
                   near: Option<(f64, f64, f64)>| {
        k += 1;
        let (lon, lat, _) = point_in(rng, idx, near, bbox);
        let gcj = rng.chance(0.4);
        let (x, y) = if gcj {
            Crs::Gcj02.from_wgs84(lon, lat)
        } else {
            (lon, lat)
        };
        let phone = format!("0531-8{:07}", rng.below(10_000_000));
        let _ = writeln!(
            s,
            "R{k:04},{name},{ty},{class},{owner},{phone},{cap},{stock},{field},{x:.6},{y:.6},{}",
            if gcj { "GCJ-02" } else { "WGS84" }
        );
    };
    let park_near = |rng: &mut Rng, spread: f64| {
        let p = rng.weighted(&shares);
        (p < PARKS.len()).then(|| (PARKS[p].lon, PARKS[p].lat, PARKS[p].sigma * spread))
    };
    let centre = |d: usize| {
        let b = idx.districts[d].bbox().unwrap_or(bbox);
        ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
    };
    let nd = idx.districts.len();
    // fire stations: one 特勤 or 一级 station per district near its centre, then more
    // near the parks; 微型消防站 in the parks
    let n_fire = (n / 50).clamp(nd, 4000);
    for f in 0..n_fire {
        let (near, class) = if f < nd {
            let (x, y) = centre(f);
            (
                Some((x, y, 0.03)),
                if f % 3 == 0 { "特勤站" } else { "一级站" },
            )
        } else {
            let c = ["一级站", "二级站", "二级站", "小型站"][rng.below(4)];
            (park_near(&mut rng, 2.0), c)
        };
        let dn = near
            .and_then(|(x, y, _)| idx.locate(x, y))
            .map(|d| {
                idx.districts[d]
                    .name
                    .trim_end_matches(['区', '县'])
                    .to_string()
            })
            .unwrap_or_else(|| "济南".into());
        row(
            &mut rng,
            &mut s,
            format!("{dn}第{}消防救援站", f + 1),
            "消防站",
            class,
            "济南市消防救援支队",
            format!("{}", [40, 30, 20, 15][f % 4]),
            "",
            "",
            near,
        );
    }
    for m in 0..(n / 250).max(6) {
        let near = park_near(&mut rng, 1.0);
        row(
            &mut rng,
            &mut s,
            format!("园区第{}微型消防站", m + 1),
            "微型消防站",
            "",
            "园区管委会",
            "8".into(),
            "",
            "",
            near,
        );
    }
    // professional teams
    let pro = [
        "国家危险化学品应急救援济南队",
        "济南市矿山救护队",
        "济南市危化品应急救援大队",
        "济南市城市燃气抢险队",
        "山东省应急救援总队济南支队",
        "济南市电力抢修队",
    ];
    for (t, name) in pro.iter().enumerate().take((n / 600).clamp(3, pro.len())) {
        let near = park_near(&mut rng, 1.5);
        row(
            &mut rng,
            &mut s,
            name.to_string(),
            "专业救援队伍",
            "",
            "济南市应急管理局",
            format!("{}", 30 + 10 * (t % 3)),
            "",
            "",
            near,
        );
    }
    for e in 0..(n / 150).max(5) {
        let near = park_near(&mut rng, 1.0);
        let cap = format!("{}", 10 + rng.below(20));
        row(
            &mut rng,
            &mut s,
            format!("园区企业联合救援队{}", e + 1),
            "企业救援队伍",
            "",
            "园区企业",
            cap,
            "",
            "",
            near,
        );
    }
    for d in 0..nd {
        let (x, y) = centre(d);
        let dn = idx.districts[d].name.clone();
        let cap = format!("{}", 15 + rng.below(15));
        row(
            &mut rng,
            &mut s,
            format!("{dn}社区应急救援队"),
            "社区救援队伍",
            "",
            &format!("{dn}应急管理局"),
            cap,
            "",
            "",
            Some((x, y, 0.05)),
        );
    }
    let stock = [
        "帐篷 200 顶；棉被 500 床；发电机 10 台",
        "防化服 80 套；空气呼吸器 60 具；堵漏器材 20 套",
        "沙袋 5000 条；抽水泵 12 台；救生衣 300 件",
        "折叠床 300 张；应急照明 150 套；饮用水 2000 箱",
    ];
    for dp in 0..(n / 800).max(4) {
        let near = park_near(&mut rng, 3.0);
        row(
            &mut rng,
            &mut s,
            format!("济南市应急物资储备库{}号", dp + 1),
            "应急物资库",
            "",
            "济南市应急管理局",
            String::new(),
            &format!("\"{}\"", stock[dp % stock.len()]),
            "",
            near,
        );
    }
    for sh in 0..(n / 150).max(10) {
        let near = if rng.chance(0.5) {
            park_near(&mut rng, 3.0)
        } else {
            None
        };
        let cap = format!("{}", 1000 + 500 * rng.below(20));
        row(
            &mut rng,
            &mut s,
            format!("应急避难场所{}号", sh + 1),
            "避难场所",
            "",
            "所在街道",
            cap,
            "",
            "",
            near,
        );
    }
    for h in 0..(n / 300).max(6) {
        let near = park_near(&mut rng, 4.0);
        let cap = format!("{}", 300 + 100 * rng.below(10));
        row(
            &mut rng,
            &mut s,
            format!("济南市第{}人民医院", h + 1),
            "医院",
            "",
            "济南市卫生健康委员会",
            cap,
            "",
            "",
            near,
        );
    }
    let fields = ["危险化学品", "矿山", "消防", "特种设备", "冶金", "建筑施工"];
    for x in 0..(n / 250).max(6) {
        let near = park_near(&mut rng, 4.0);
        row(
            &mut rng,
            &mut s,
            format!("安全生产专家{}", x + 1),
            "专家",
            "",
            "济南市安全生产专家库",
            String::new(),
            "",
            fields[x % fields.len()],
            near,
        );
    }
    let good = k;
    // dirty rows, as registers have them
    let _ = writeln!(s, "R9001,不明单位,待定,,,,,,,117.0,36.6,WGS84");
    let _ = writeln!(s, "R9002,缺经度的避难场所,避难场所,,,,500,,,,36.7,WGS84");
    let _ = writeln!(s, "R0001,重复编号的医院,医院,,,,100,,,117.1,36.65,WGS84");
    (s, good)
}
