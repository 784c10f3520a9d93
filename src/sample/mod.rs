//! The deterministic synthetic Jinan register (`riskmap sample`): enterprises clustered in
//! real industrial areas of the 12 districts, 1–6 risk points each, hidden dangers,
//! sensitive sites, and a small share of realistically dirty rows.
//!
//! The random generator is hand-written (SplitMix64) on purpose: the sample must stay
//! byte-identical for a seed across versions of any random-number crate.

mod emergency;
mod monitoring;
mod roads;

use crate::crs::Crs;
use crate::export::OutputSet;
use crate::index::DistrictIndex;
use crate::ingest::boundaries::District;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The bundled district boundaries (DataV, GCJ-02), embedded so `sample` works anywhere.
pub const JINAN_DISTRICTS_GCJ02: &str =
    include_str!("../../data/sample/jinan_districts_gcj02.geojson");
/// File name of the boundaries written beside the sample.
pub const DISTRICTS_FILE: &str = "jinan_districts_gcj02.geojson";

/// SplitMix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.f64() * n as f64) as usize % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    /// Standard normal (Box–Muller).
    pub fn gauss(&mut self) -> f64 {
        let u = self.f64().max(1e-12);
        let v = self.f64();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    /// Index drawn with the given weights.
    pub fn weighted(&mut self, w: &[u32]) -> usize {
        let total: u32 = w.iter().sum();
        let mut r = (self.f64() * total as f64) as u32;
        for (i, &x) in w.iter().enumerate() {
            if r < x {
                return i;
            }
            r -= x;
        }
        w.len() - 1
    }
}

/// Industries of the sample and their hazard class (0 high, 1 medium, 2 lower).
pub const INDUSTRIES: [(&str, u8); 10] = [
    ("危险化学品", 0),
    ("非煤矿山", 0),
    ("冶金", 0),
    ("燃气", 0),
    ("建筑施工", 1),
    ("特种设备", 1),
    ("粉尘涉爆", 1),
    ("涉氨制冷", 1),
    ("交通运输", 2),
    ("商贸", 2),
];

/// An industrial area: WGS84 centre, spread (degrees), share of enterprises, industry weights
/// in the order of [`INDUSTRIES`].
struct Park {
    name: &'static str,
    lon: f64,
    lat: f64,
    sigma: f64,
    share: u32,
    mix: [u32; 10],
}

const PARKS: [Park; 11] = [
    Park {
        name: "天桥区黄河以北（桑梓店、济北）",
        lon: 116.93,
        lat: 36.80,
        sigma: 0.03,
        share: 10,
        mix: [30, 0, 5, 5, 10, 10, 10, 10, 10, 10],
    },
    Park {
        name: "章丘刁镇化工产业园",
        lon: 117.37,
        lat: 36.86,
        sigma: 0.02,
        share: 9,
        mix: [55, 0, 0, 5, 5, 10, 10, 0, 10, 5],
    },
    Park {
        name: "莱芜钢铁基地",
        lon: 117.66,
        lat: 36.22,
        sigma: 0.03,
        share: 9,
        mix: [5, 15, 45, 5, 10, 10, 0, 0, 10, 0],
    },
    Park {
        name: "钢城钢铁基地",
        lon: 117.80,
        lat: 36.06,
        sigma: 0.02,
        share: 6,
        mix: [10, 20, 50, 0, 0, 10, 0, 0, 10, 0],
    },
    Park {
        name: "历城王舍人—临港",
        lon: 117.13,
        lat: 36.73,
        sigma: 0.03,
        share: 9,
        mix: [15, 0, 10, 5, 20, 15, 0, 5, 20, 10],
    },
    Park {
        name: "高新区—历下",
        lon: 117.13,
        lat: 36.67,
        sigma: 0.03,
        share: 9,
        mix: [0, 0, 0, 5, 25, 15, 0, 0, 10, 45],
    },
    Park {
        name: "槐荫—市中城区",
        lon: 116.96,
        lat: 36.65,
        sigma: 0.03,
        share: 9,
        mix: [0, 0, 0, 5, 25, 10, 0, 10, 15, 35],
    },
    Park {
        name: "济阳经济开发区",
        lon: 117.18,
        lat: 36.98,
        sigma: 0.03,
        share: 6,
        mix: [15, 0, 0, 5, 15, 10, 15, 20, 10, 10],
    },
    Park {
        name: "长清区",
        lon: 116.75,
        lat: 36.55,
        sigma: 0.03,
        share: 5,
        mix: [0, 20, 0, 5, 20, 10, 15, 0, 10, 20],
    },
    Park {
        name: "平阴县",
        lon: 116.45,
        lat: 36.28,
        sigma: 0.03,
        share: 4,
        mix: [15, 35, 0, 0, 15, 0, 0, 0, 15, 20],
    },
    Park {
        name: "商河县",
        lon: 117.15,
        lat: 37.31,
        sigma: 0.03,
        share: 4,
        mix: [0, 0, 0, 15, 20, 0, 20, 15, 0, 30],
    },
];
/// Share and mix of enterprises scattered over the countryside.
const BACKGROUND_SHARE: u32 = 20;
const BACKGROUND_MIX: [u32; 10] = [5, 10, 0, 10, 20, 10, 5, 5, 15, 20];

const RISK_POINTS: [&[&str]; 10] = [
    &[
        "储罐区",
        "装卸区",
        "反应釜",
        "危化品仓库",
        "管廊",
        "配电室",
        "污水处理站",
    ],
    &[
        "采场边坡",
        "排土场",
        "尾矿库",
        "爆破器材库",
        "破碎车间",
        "运输道路",
    ],
    &["高炉", "转炉", "煤气柜", "铁水包吊运", "轧钢车间", "氧气站"],
    &["门站", "调压站", "储气罐", "管网阀室", "充装间"],
    &["深基坑", "塔吊", "脚手架", "高支模", "临时用电"],
    &["锅炉房", "压力容器", "起重机械", "电梯", "叉车"],
    &["除尘系统", "打磨车间", "粉料仓", "抛光线"],
    &["液氨储罐", "制冷机房", "速冻间", "氨管道"],
    &["车辆维修车间", "油库", "停车场", "装卸平台"],
    &["营业场所", "仓库", "配电室", "厨房燃气"],
];

/// Sensitive-site types (GB 36894-2018 high-sensitivity first).
pub const SITE_TYPES: [&str; 6] = ["学校", "幼儿园", "医院", "养老院", "居民区", "人员密集场所"];

/// Options of [`generate`].
#[derive(Debug, Clone)]
pub struct SampleOptions {
    pub count: usize,
    pub seed: u64,
    pub out: PathBuf,
}

/// Files written by [`generate`].
#[derive(Debug)]
pub struct SampleReport {
    pub files: Vec<PathBuf>,
    pub enterprises: usize,
    pub assessments: usize,
    pub hidden_dangers: usize,
    pub sites: usize,
    /// Emergency resources written (the dirty rows not counted).
    pub resources: usize,
    /// City lifelines written (the dirty features not counted).
    pub lifelines: usize,
    /// Monitoring points and their readings written (the dirty readings not counted).
    pub monitoring_points: usize,
    pub readings: usize,
    /// Roads written (the dirty features not counted).
    pub roads: usize,
    pub dirty_rows: usize,
}

/// The embedded districts, in WGS84.
pub fn jinan_districts() -> Vec<District> {
    let v: serde_json::Value = serde_json::from_str(JINAN_DISTRICTS_GCJ02).unwrap_or_default();
    let feats = v
        .get("features")
        .and_then(|f| f.as_array())
        .cloned()
        .unwrap_or_default();
    feats
        .iter()
        .filter_map(|f| {
            let shape =
                crate::ingest::boundaries::geometry_to_multipolygon(f.get("geometry")?, Crs::Gcj02)
                    .ok()?;
            let p = f.get("properties")?;
            Some(District {
                name: p.get("name")?.as_str()?.to_string(),
                adcode: p.get("adcode")?.to_string(),
                shape,
                properties: Default::default(),
                warnings: vec![],
            })
        })
        .collect()
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "郑",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
    "秀英", "建国", "志强", "海燕", "立新",
];
const PREFIX: &[&str] = &[
    "济南", "泉城", "齐鲁", "鲁中", "华泰", "恒通", "金源", "鑫达", "宏达", "永安", "润丰", "东岳",
    "黄河", "章丘", "历城", "明湖", "舜耕", "趵突", "千佛", "华山",
];
const MIDDLE: &[&str] = &[
    "新", "华", "盛", "瑞", "隆", "信", "德", "安", "泰", "源", "通", "达", "昌", "丰", "宇", "嘉",
];

fn suffix(industry: usize) -> &'static str {
    [
        "化工有限公司",
        "矿业有限公司",
        "钢铁有限公司",
        "燃气有限公司",
        "建筑工程有限公司",
        "机械设备有限公司",
        "金属制品有限公司",
        "食品冷藏有限公司",
        "物流运输有限公司",
        "商贸有限公司",
    ][industry]
}

fn credit_code(rng: &mut Rng, adcode: &str) -> String {
    const CS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut s = String::from("91");
    s.push_str(if adcode.len() == 6 { adcode } else { "370100" });
    for _ in 0..9 {
        s.push(CS[rng.below(31)] as char);
    }
    let c = crate::ingest::credit::check_char(&s).unwrap_or('0');
    s.push(c);
    s
}

/// LEC factors drawn by hazard class.
fn lec_factors(rng: &mut Rng, class: u8) -> (f64, f64, f64) {
    let l = [10.0, 6.0, 3.0, 1.0, 0.5, 0.2, 0.1];
    let e = [10.0, 6.0, 3.0, 2.0, 1.0, 0.5];
    let c = [100.0, 40.0, 15.0, 7.0, 3.0, 1.0];
    let (wl, we, wc): (&[u32], &[u32], &[u32]) = match class {
        0 => (
            &[1, 4, 22, 40, 18, 9, 6],
            &[8, 35, 27, 12, 12, 6],
            &[1, 10, 32, 32, 17, 8],
        ),
        1 => (
            &[0, 3, 16, 44, 20, 10, 7],
            &[6, 30, 30, 16, 12, 6],
            &[0, 5, 26, 38, 21, 10],
        ),
        _ => (
            &[0, 1, 12, 46, 24, 10, 7],
            &[4, 26, 32, 18, 12, 8],
            &[0, 2, 18, 42, 26, 12],
        ),
    };
    (
        l[rng.weighted(wl)],
        e[rng.weighted(we)],
        c[rng.weighted(wc)],
    )
}

fn ls_factors(rng: &mut Rng, class: u8) -> (u32, u32) {
    let (wl, ws): (&[u32], &[u32]) = match class {
        0 => (&[30, 38, 24, 7, 1], &[18, 32, 32, 15, 3]),
        1 => (&[38, 40, 18, 4, 0], &[25, 38, 28, 8, 1]),
        _ => (&[48, 38, 12, 2, 0], &[35, 40, 20, 5, 0]),
    };
    (rng.weighted(wl) as u32 + 1, rng.weighted(ws) as u32 + 1)
}

/// A point inside some district near (lon, lat) with spread sigma, by rejection sampling.
fn point_in(
    rng: &mut Rng,
    idx: &DistrictIndex,
    park: Option<(f64, f64, f64)>,
    bbox: [f64; 4],
) -> (f64, f64, usize) {
    for _ in 0..10_000 {
        let (x, y) = match park {
            Some((lon, lat, s)) => (lon + s * rng.gauss(), lat + s * rng.gauss()),
            None => (
                bbox[0] + (bbox[2] - bbox[0]) * rng.f64(),
                bbox[1] + (bbox[3] - bbox[1]) * rng.f64(),
            ),
        };
        if let Some(d) = idx.locate(x, y) {
            return (x, y, d);
        }
    }
    // unreachable with the Jinan parks; fall back to a district centre
    let d = &idx.districts[0];
    let b = d.bbox().unwrap_or(bbox);
    ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 0)
}

/// The sample's road lattice, degrees (about 3 km).
const ROAD_STEP: f64 = 0.03;

/// A city-sized road network over the sample's region for the benchmarks: the sample's
/// lattice every `step` degrees (0.005 ≈ 500 m gives about 170,000 nodes), as GeoJSON,
/// and the roads written.
pub fn city_roads(seed: u64, step: f64) -> (String, usize) {
    let idx = DistrictIndex::new(jinan_districts());
    let bbox = idx.bbox().unwrap_or([116.2, 36.0, 118.0, 37.6]);
    let opts = SampleOptions {
        count: 0,
        seed,
        out: PathBuf::new(),
    };
    roads::roads_geojson(&opts, bbox, step)
}

/// Generate the sample into `opts.out`: enterprises.csv, assessments.csv,
/// hidden_dangers.csv, sites.csv (all UTF-8 with BOM, Chinese headers) and the districts.
pub fn generate(opts: &SampleOptions) -> std::io::Result<SampleReport> {
    let mut rng = Rng::new(opts.seed);
    let idx = DistrictIndex::new(jinan_districts());
    let bbox = idx.bbox().unwrap_or([116.2, 36.0, 118.0, 37.6]);
    let n = opts.count.max(1);
    let mut ent = String::with_capacity(n * 200);
    let mut ass = String::with_capacity(n * 250);
    let mut hid = String::new();
    ent.push_str("\u{feff}企业编号,统一社会信用代码,企业名称,行业,所属区县,经度,纬度,坐标系,重大危险源等级,从业人数,风险等级,安全负责人,联系电话,所在园区\n");
    ass.push_str("\u{feff}企业编号,风险点名称,评价方法,L,E,C,S,风险等级\n");
    hid.push_str("\u{feff}隐患编号,企业编号,隐患等级,整改状态,隐患描述\n");
    let shares: Vec<u32> = PARKS
        .iter()
        .map(|p| p.share)
        .chain([BACKGROUND_SHARE])
        .collect();
    let dirty_every = 97; // about 1 % of the rows
    let mut dirty = 0usize;
    let (mut n_ass, mut n_hid) = (0usize, 0usize);
    let mut ids: Vec<String> = Vec::with_capacity(n);
    let mut hazard_ids: Vec<String> = Vec::new();
    for i in 0..n {
        let id = format!("JN{:07}", i + 1);
        let p = rng.weighted(&shares);
        let (mix, park, park_name) = if p < PARKS.len() {
            (
                PARKS[p].mix,
                Some((PARKS[p].lon, PARKS[p].lat, PARKS[p].sigma)),
                PARKS[p].name,
            )
        } else {
            (BACKGROUND_MIX, None, "")
        };
        let ind = rng.weighted(&mix);
        let (industry, class) = INDUSTRIES[ind];
        let (lon, lat, d) = point_in(&mut rng, &idx, park, bbox);
        let district = &idx.districts[d];
        let name = format!(
            "{}{}{}{}",
            PREFIX[rng.below(PREFIX.len())],
            MIDDLE[rng.below(MIDDLE.len())],
            MIDDLE[rng.below(MIDDLE.len())],
            suffix(ind)
        );
        let gcj = rng.chance(0.4);
        let (x, y) = if gcj {
            Crs::Gcj02.from_wgs84(lon, lat)
        } else {
            (lon, lat)
        };
        let mut code = credit_code(&mut rng, &district.adcode);
        let hazard = if class == 0 && rng.chance(0.08) {
            ["一级", "二级", "三级", "四级"][rng.weighted(&[5, 20, 35, 40])]
        } else {
            ""
        };
        let employees = 10 + (rng.f64().powi(3) * 2000.0) as u32;
        let direct = if rng.chance(0.03) {
            ["较大风险", "一般风险", "低风险"][rng.below(3)]
        } else {
            ""
        };
        let mut stated = match rng.below(20) {
            0 => String::new(),
            1 => format!("济南市{}", district.name),
            _ => district.name.clone(),
        };
        if district.adcode == "370114" && rng.chance(0.1) {
            stated = "章丘市".into(); // the pre-2016 name, as old registers have it
        }
        let mut xs = format!("{x:.6}");
        let mut ys = format!("{y:.6}");
        let mut level_col = direct.to_string();
        let mut out_id = id.clone();
        // a small share of realistically dirty rows
        if i % dirty_every == 0 && i > 0 {
            dirty += 1;
            match (i / dirty_every) % 9 {
                1 => {
                    xs = "0".into();
                    ys = "0".into();
                }
                2 => std::mem::swap(&mut xs, &mut ys),
                3 => out_id = ids[rng.below(ids.len())].clone(),
                4 => level_col = "高风险".into(),
                5 => ys = "待补充".into(),
                6 => {
                    xs = "116.397128".into(); // Beijing: geocoded to the wrong city
                    ys = "39.916527".into();
                }
                7 => {
                    // a typo in the credit code: a warning, not a reject
                    let last = if code.ends_with('0') { '1' } else { '0' };
                    code.pop();
                    code.push(last);
                }
                8 => stated = ["历下区", "商河县"][rng.below(2)].into(),
                _ => dirty -= 1,
            }
        }
        let manager = format!(
            "{}{}",
            SURNAMES[rng.below(SURNAMES.len())],
            GIVEN[rng.below(GIVEN.len())]
        );
        let phone = format!("0531-8{:07}", rng.below(10_000_000));
        let _ = writeln!(
            ent,
            "{out_id},{code},{name},{industry},{stated},{xs},{ys},{},{hazard},{employees},{level_col},{manager},{phone},{park_name}",
            if gcj { "GCJ-02" } else { "WGS84" }
        );
        if out_id != id {
            continue; // the duplicate row gets no assessments of its own
        }
        ids.push(id.clone());
        if !hazard.is_empty() && i % dirty_every != 0 {
            hazard_ids.push(id.clone());
        }
        // risk points: none for ~3 % (unassessed), else 1–6
        if !rng.chance(0.03) {
            let k = 1 + rng.weighted(&[25, 25, 20, 15, 10, 5]);
            let names = RISK_POINTS[ind];
            for j in 0..k {
                let pname = names[(j + rng.below(names.len())) % names.len()];
                if rng.chance(0.65) {
                    let (l, e, c) = lec_factors(&mut rng, class);
                    let _ = writeln!(ass, "{id},{pname},LEC,{l},{e},{c},,");
                } else {
                    let (l, s) = ls_factors(&mut rng, class);
                    let _ = writeln!(ass, "{id},{pname},LS,{l},,,{s},");
                }
                n_ass += 1;
            }
        }
        // hidden dangers for ~15 %
        if rng.chance(0.15) {
            for _ in 0..1 + rng.below(3) {
                n_hid += 1;
                let major = rng.chance(if class == 0 { 0.08 } else { 0.03 });
                let status = ["已整改", "整改中", "未整改"][rng.weighted(&[60, 25, 15])];
                let what = if major {
                    "重大事故隐患：安全设施缺失"
                } else {
                    [
                        "消防通道堵塞",
                        "安全警示标志缺失",
                        "应急预案未演练",
                        "特种作业人员无证上岗",
                        "电气线路老化",
                    ][rng.below(5)]
                };
                let _ = writeln!(
                    hid,
                    "H-{n_hid:06},{id},{},{status},{what}",
                    if major { "重大" } else { "一般" }
                );
            }
        }
    }
    // dirty assessment and hidden-danger rows
    let k = (n / 2500).max(1);
    for j in 0..k {
        let id = &ids[(j * 7919) % ids.len()];
        let _ = writeln!(ass, "JN9{:06},装卸区,LEC,3,6,15,,", j + 1); // not in the register
        let _ = writeln!(ass, "{id},储罐区,LEC,4,6,15,,"); // L = 4 is not in the LEC table
        let _ = writeln!(hid, "H-X{:05},{id},重大,已处理,状态写法不规范", j + 1); // unknown status
        n_ass += 2;
        n_hid += 1;
        dirty += 3;
    }
    // sensitive sites: schools, hospitals … near towns and parks
    let mut sites = String::from("\u{feff}编号,名称,类型,经度,纬度,坐标系,人数\n");
    let n_sites = (n / 25).clamp(20, 4000);
    for s in 0..n_sites {
        let p = rng.weighted(&shares);
        let park = (p < PARKS.len()).then(|| (PARKS[p].lon, PARKS[p].lat, PARKS[p].sigma * 1.5));
        let (lon, lat, d) = point_in(&mut rng, &idx, park, bbox);
        let t = rng.weighted(&[25, 20, 10, 8, 30, 7]);
        let ty = SITE_TYPES[t];
        let pop = [1200, 200, 800, 150, 3000, 1000][t] / 2
            + rng.below([1200, 200, 800, 150, 3000, 1000][t]);
        let label = match t {
            0 => "中学",
            1 => "幼儿园",
            2 => "医院",
            3 => "养老院",
            4 => "小区",
            _ => "商场",
        };
        let dn = idx.districts[d].name.trim_end_matches(['区', '县']);
        let gcj = rng.chance(0.5);
        let (x, y) = if gcj {
            Crs::Gcj02.from_wgs84(lon, lat)
        } else {
            (lon, lat)
        };
        let _ = writeln!(
            sites,
            "S{:05},{dn}第{}{label},{ty},{x:.6},{y:.6},{},{pop}",
            s + 1,
            s + 1,
            if gcj { "GCJ-02" } else { "WGS84" }
        );
    }
    let (resources, n_resources) = emergency::resources_csv(opts, &idx, bbox);
    let (lifelines, n_lifelines) = emergency::lifelines_geojson(opts, &idx, bbox);
    let (mpoints, readings, n_points, n_readings) = monitoring::csvs(opts, &hazard_ids);
    let (roads, n_roads) = roads::roads_geojson(opts, bbox, ROAD_STEP);
    let mut set = OutputSet::new();
    let out = &opts.out;
    let w = |set: &mut OutputSet, name: &str, text: &str| {
        set.stage(&out.join(name), |f: &mut dyn Write| {
            f.write_all(text.as_bytes())
        })
    };
    w(&mut set, "enterprises.csv", &ent)?;
    w(&mut set, "assessments.csv", &ass)?;
    w(&mut set, "hidden_dangers.csv", &hid)?;
    w(&mut set, "sites.csv", &sites)?;
    w(&mut set, "resources.csv", &resources)?;
    w(&mut set, "lifelines.geojson", &lifelines)?;
    w(&mut set, "monitoring_points.csv", &mpoints)?;
    w(&mut set, "readings.csv", &readings)?;
    w(&mut set, "roads.geojson", &roads)?;
    w(&mut set, DISTRICTS_FILE, JINAN_DISTRICTS_GCJ02)?;
    let files = set.commit()?;
    Ok(SampleReport {
        files,
        enterprises: n,
        assessments: n_ass,
        hidden_dangers: n_hid,
        sites: n_sites,
        resources: n_resources,
        lifelines: n_lifelines,
        monitoring_points: n_points,
        readings: n_readings,
        roads: n_roads,
        dirty_rows: dirty + 3,
    })
}

/// Whether `dir` holds a generated sample.
pub fn is_sample_dir(dir: &Path) -> bool {
    dir.join("enterprises.csv").exists() && dir.join(DISTRICTS_FILE).exists()
}
