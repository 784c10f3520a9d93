//! Ingest as users have their files: encodings, XLSX, GeoJSON, Chinese headers, per-row
//! CRS, real dirty data, and every reject reason with its file, line and column.

use riskmap::config::Config;
use riskmap::crs::Crs;
use riskmap::ingest::RejectKind;
use riskmap::model::Level;
use riskmap::pipeline::{load, Dataset};
use std::path::{Path, PathBuf};

mod common;

const DISTRICTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/sample/jinan_districts_gcj02.geojson"
);

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A config with Jinan's districts and the given register.
fn cfg(enterprises: &Path) -> Config {
    let mut c = Config::default();
    c.enterprises.path = Some(enterprises.to_path_buf());
    c.boundaries.path = Some(PathBuf::from(DISTRICTS));
    c.boundaries.crs = Some(Crs::Gcj02);
    c
}

const REGISTER: &str = "企业编号,企业名称,行业,经度,纬度,风险等级\n\
E1,济南炼化有限公司,危险化学品,117.02,36.70,较大风险\n\
E2,章丘刁镇化工有限公司,危险化学品,117.37,36.86,重大\n\
E3,莱芜钢铁有限公司,冶金,117.66,36.22,一般\n";

fn check_register(ds: &Dataset) {
    assert_eq!(ds.enterprises.len(), 3, "{:?}", ds.rejects);
    assert!(ds.rejects.is_empty());
    let names: Vec<&str> = ds.enterprises.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "济南炼化有限公司",
            "章丘刁镇化工有限公司",
            "莱芜钢铁有限公司"
        ]
    );
    let levels: Vec<Option<Level>> = ds.grades.iter().map(|g| g.level).collect();
    assert_eq!(
        levels,
        [Some(Level::Orange), Some(Level::Red), Some(Level::Yellow)]
    );
    let districts: Vec<&str> = (0..3).map(|i| ds.district_of(i).unwrap().0).collect();
    assert_eq!(districts, ["天桥区", "章丘区", "莱芜区"]);
}

#[test]
fn utf8_bom_and_gbk_csv_read_the_same() {
    let d = tempfile::tempdir().unwrap();
    let utf8 = d.path().join("utf8.csv");
    std::fs::write(&utf8, REGISTER).unwrap();
    let bom = d.path().join("bom.csv");
    std::fs::write(&bom, format!("\u{feff}{REGISTER}")).unwrap();
    let gbk = d.path().join("gbk.csv");
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(REGISTER);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the GBK file must not also be valid UTF-8"
    );
    std::fs::write(&gbk, &bytes).unwrap();
    let tab = d.path().join("tab.txt");
    std::fs::write(&tab, REGISTER.replace(',', "\t")).unwrap();
    for (p, enc) in [
        (&utf8, "utf-8"),
        (&bom, "utf-8 bom"),
        (&gbk, "gb18030"),
        (&tab, "utf-8"),
    ] {
        let ds = load(&cfg(p)).unwrap();
        check_register(&ds);
        assert!(
            ds.inputs[1].format.starts_with(&format!("csv {enc}")),
            "{}",
            ds.inputs[1].format
        );
    }
}

#[test]
fn xlsx_with_chinese_headers() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("register.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("企业名录").unwrap();
    for (r, line) in REGISTER.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            match cell.parse::<f64>() {
                Ok(n) if c >= 3 => ws.write_number(r as u32, c as u16, n).unwrap(),
                _ => ws.write_string(r as u32, c as u16, cell).unwrap(),
            };
        }
    }
    wb.save(&p).unwrap();
    check_register(&load(&cfg(&p)).unwrap());
    // a named sheet that does not exist is an error naming the file and the sheets
    let mut c = cfg(&p);
    c.enterprises.sheet = Some("Sheet9".into());
    let e = load(&c).err().unwrap().to_string();
    assert!(e.contains("register.xlsx") && e.contains("企业名录"), "{e}");
}

/// The register as an office keeps it (#31 §3): a title row and a date row above the
/// headers, Gaode GCJ-02 positions written in degrees-minutes-seconds (some with
/// full-width marks), levels as 「Ⅱ级」「重大风险（红）」「３级」. The header is found below
/// the notes, every position and level is read, and the one truly bad row (level 「Ⅴ级」)
/// is the only reject, named by its sheet row as Excel numbers it.
#[test]
fn an_office_workbook_with_title_rows_dms_and_roman_levels() {
    let dms = |v: f64, full_width: bool| {
        let d = v.trunc();
        let m = ((v - d) * 60.0).trunc();
        let s = ((v - d) * 60.0 - m) * 60.0;
        if full_width {
            format!("{d}°{m:02}′{s:05.2}″")
        } else {
            format!("{d}度{m:02}分{s:05.2}秒")
        }
    };
    let rows = [
        ("E1", "济南炼化有限公司", "危险化学品", 117.02, 36.70, "Ⅱ级"),
        (
            "E2",
            "章丘刁镇化工有限公司",
            "危险化学品",
            117.37,
            36.86,
            "重大风险（红）",
        ),
        ("E3", "莱芜钢铁有限公司", "冶金", 117.66, 36.22, "３级"),
        ("E4", "某某化工有限公司", "危险化学品", 117.10, 36.66, "Ⅴ级"),
    ];
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("名录.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "济南市安全生产风险企业名录（2026年11月）")
        .unwrap();
    ws.write_string(1, 0, "填报单位：市应急管理局    填报日期：2026-11-01")
        .unwrap();
    for (c, h) in ["企业编号", "企业名称", "行业", "经度", "纬度", "风险等级"]
        .iter()
        .enumerate()
    {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for (i, (id, name, ind, lon, lat, level)) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        let (glon, glat) = riskmap::crs::wgs84_to_gcj02(*lon, *lat);
        for (c, v) in [
            id.to_string(),
            name.to_string(),
            ind.to_string(),
            dms(glon, i % 2 == 0),
            dms(glat, i % 2 == 1),
            level.to_string(),
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(r, c as u16, v).unwrap();
        }
    }
    wb.save(&p).unwrap();
    let mut c = cfg(&p);
    c.enterprises.crs = Some(Crs::Gcj02);
    let ds = load(&c).unwrap();
    assert_eq!(ds.rejects.len(), 1, "{:?}", ds.rejects);
    let r = &ds.rejects[0];
    assert_eq!((r.line.as_str(), r.enterprise_id.as_str()), ("7", "E4"));
    assert_eq!(r.column, "风险等级");
    let levels: Vec<Option<Level>> = ds.grades.iter().map(|g| g.level).collect();
    assert_eq!(
        levels,
        [Some(Level::Orange), Some(Level::Red), Some(Level::Yellow)]
    );
    // back in WGS84 within a metre of where the enterprises are (DMS to 0.01″ ≈ 0.3 m)
    for (e, row) in ds.enterprises.iter().zip(&rows) {
        let m = riskmap::crs::haversine_m(e.lon, e.lat, row.3, row.4);
        assert!(m < 1.0, "{}: {m} m off", e.id);
    }
    let districts: Vec<&str> = (0..3).map(|i| ds.district_of(i).unwrap().0).collect();
    assert_eq!(districts, ["天桥区", "章丘区", "莱芜区"]);
    // the header row can be named too; naming a wrong one is an error that says so
    c.enterprises.header_row = Some(3);
    assert_eq!(load(&c).unwrap().enterprises.len(), 3);
    c.enterprises.header_row = Some(40);
    let e = load(&c).err().unwrap().to_string();
    assert!(e.contains("header_row = 40"), "{e}");
}

/// A register copied from Gaode without saying so (#31 §4): read as WGS84 by default,
/// the rows near district borders land in the neighbouring district; riskmap says so,
/// with the numbers and the fix, and says nothing when the CRS is stated or the
/// register really is WGS84. The register is built from the sample's enterprises: their
/// true positions, the district each truly lies in, and the GCJ-02 positions Gaode
/// would show; the rows kept are those a wrong reading moves across a border, and as
/// many that it does not.
#[test]
fn an_unstated_gcj02_register_is_questioned() {
    let (moved, kept) = common::border_rows();
    let d = tempfile::tempdir().unwrap();
    let write_register = |name: &str, gcj: bool| {
        let mut t = String::from("企业编号,企业名称,所属区县,经度,纬度\n");
        for r in moved.iter().chain(&kept) {
            let (x, y) = if gcj { r.gcj02 } else { r.wgs84 };
            t.push_str(&format!(
                "{},{},{},{x:.7},{y:.7}\n",
                r.id, r.name, r.district
            ));
        }
        write(d.path(), name, &t)
    };
    let doubt = |ds: &Dataset| {
        ds.warnings
            .iter()
            .find(|w| w.contains("坐标系未注明"))
            .cloned()
    };
    let gcj = write_register("gaode.csv", true);
    let ds = load(&cfg(&gcj)).unwrap();
    let n = moved.len() + kept.len();
    let w = doubt(&ds).unwrap_or_else(|| panic!("no CRS warning: {:?}", ds.warnings));
    assert!(
        w.contains(&format!("{}/{n}", kept.len()))
            && w.contains(&format!("{n}/{n}"))
            && w.contains("crs = \"gcj02\""),
        "{w}"
    );
    // stated: no question
    let mut c = cfg(&gcj);
    c.enterprises.crs = Some(Crs::Gcj02);
    assert_eq!(doubt(&load(&c).unwrap()), None);
    // really WGS84: no question either
    let wgs = write_register("wgs.csv", false);
    assert_eq!(doubt(&load(&cfg(&wgs)).unwrap()), None);
}

/// A DataV boundary file is read as GCJ-02 without being told (#31 §4): the districts
/// land where the stated GCJ-02 reading puts them, and summary.json's input record says
/// the CRS was assumed; a file that is not DataV's stays WGS84.
#[test]
fn datav_boundaries_are_gcj02_unless_told() {
    let d = tempfile::tempdir().unwrap();
    let reg = write(d.path(), "r.csv", REGISTER);
    let mut c = cfg(&reg);
    c.boundaries.crs = None;
    let ds = load(&c).unwrap();
    check_register(&ds);
    let b = ds.inputs.iter().find(|i| i.role == "boundaries").unwrap();
    assert_eq!(b.format, "geojson gcj02（推定：DataV 文件）");
    assert_eq!(ds.boundaries_crs, Crs::Gcj02);
    // stated, it is not "assumed"
    let ds = load(&cfg(&reg)).unwrap();
    let b = ds.inputs.iter().find(|i| i.role == "boundaries").unwrap();
    assert_eq!(b.format, "geojson gcj02");
    // a plain GeoJSON (no DataV properties) is WGS84 by default
    let text = std::fs::read_to_string(DISTRICTS)
        .unwrap()
        .replace("\"acroutes\"", "\"routes\"")
        .replace("\"parent\"", "\"up\"");
    let plain = write(d.path(), "plain.geojson", &text);
    c.boundaries.path = Some(plain);
    let ds = load(&c).unwrap();
    assert_eq!(ds.boundaries_crs, Crs::Wgs84);
}

#[test]
fn geojson_points_register() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("register.geojson");
    let mut feats = vec![];
    for line in REGISTER.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        feats.push(serde_json::json!({"type": "Feature", "properties": {"企业编号": c[0], "企业名称": c[1], "行业": c[2], "风险等级": c[5]},
            "geometry": {"type": "Point", "coordinates": [c[3].parse::<f64>().unwrap(), c[4].parse::<f64>().unwrap()]}}));
    }
    std::fs::write(
        &p,
        serde_json::json!({"type": "FeatureCollection", "features": feats}).to_string(),
    )
    .unwrap();
    check_register(&load(&cfg(&p)).unwrap());
}

/// The real AMap-geocoded township centroids (GCJ-02), saved as a GBK CSV with Chinese
/// headers that name the CRS, load with no flags and land in the districts DataV puts
/// them in; the geocoder fallbacks that sit in the wrong district carry a warning.
#[test]
fn gbk_gcj02_townships_land_in_the_right_districts() {
    let mut r =
        csv::Reader::from_path(data("jinan_township_centroids_amap_gcj02_checked.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let mut text = String::from("企业编号,企业名称,所属区县,经度（GCJ-02）,纬度\n");
    for (i, x) in rows.iter().enumerate() {
        text.push_str(&format!(
            "T{i:03},{},{},{},{}\n",
            &x[1], &x[0], &x[3], &x[2]
        ));
    }
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("乡镇.csv");
    let (bytes, _, _) = encoding_rs::GBK.encode(&text);
    std::fs::write(&p, &bytes).unwrap();
    let ds = load(&cfg(&p)).unwrap(); // no CRS flag, no encoding flag
    assert!(
        ds.inputs[1].format.contains("gb18030") && ds.inputs[1].format.contains("gcj02"),
        "{}",
        ds.inputs[1].format
    );
    assert_eq!(ds.enterprises.len(), rows.len(), "{:?}", ds.rejects.first());
    for (i, x) in rows.iter().enumerate() {
        let got = ds.district_of(i).map(|d| d.0).unwrap_or("");
        assert_eq!(got, &x[4], "{} {}", &x[0], &x[1]);
        let label_matches = &x[6] == "True";
        let warned = ds.enterprises[i]
            .warnings
            .iter()
            .any(|w| w.contains("填写的区县为"));
        assert_eq!(
            warned, !label_matches,
            "{} {}: {:?}",
            &x[0], &x[1], ds.enterprises[i].warnings
        );
    }
    // riskmap's output against the labels: the geocoder-fallback rows (every one of
    // them sits on its district's seat, not in its own town) are the ones warned about
    let warned_fallbacks = rows
        .iter()
        .enumerate()
        .filter(|(i, x)| {
            &x[8] == "True"
                && ds.enterprises[*i]
                    .warnings
                    .iter()
                    .any(|w| w.contains("填写的区县为"))
        })
        .count();
    let labelled = rows
        .iter()
        .filter(|x| &x[8] == "True" && &x[6] == "False")
        .count();
    assert_eq!(warned_fallbacks, labelled);
    // read as WGS84 (the mistake this guards against) most of them would shift ~500 m; the
    // district of some near borders changes
    let mut c = cfg(&p);
    c.enterprises.crs = Some(Crs::Wgs84);
    let wrong = load(&c).unwrap();
    let shift: f64 = riskmap::crs::haversine_m(
        ds.enterprises[0].lon,
        ds.enterprises[0].lat,
        wrong.enterprises[0].lon,
        wrong.enterprises[0].lat,
    );
    assert!(shift > 300.0 && shift < 800.0, "{shift}");
}

/// The real EV-station register with its labelled coordinate defects: each defect gets
/// the right reject reason and every good station is kept.
#[test]
fn real_ev_stations_defects_are_rejected_with_reasons() {
    let mut c = cfg(&data("jinan_ev_charging_stations_gcj02.geojson"));
    c.enterprises.crs = Some(Crs::Gcj02);
    let ds = load(&c).unwrap();
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("jinan_ev_charging_stations_gcj02.geojson")).unwrap(),
    )
    .unwrap();
    let feats = v["features"].as_array().unwrap();
    let reason_of = |i: usize| -> Option<RejectKind> {
        ds.rejects
            .iter()
            .find(|r| r.line == format!("feature {i}"))
            .map(|r| r.kind)
    };
    let mut accepted_ok = 0;
    for (i, f) in feats.iter().enumerate() {
        let issue = f["properties"]["coord_issue"].as_str().unwrap();
        let got = reason_of(i);
        match issue {
            "ok" => {
                assert_eq!(got, None, "feature {i} is good");
                // and it is in the output, at its feature's id
                let id = format!("F{}", i + 1);
                accepted_ok += ds.enterprises.iter().filter(|e| e.id == id).count();
            }
            "zero_placeholder" => assert_eq!(got, Some(RejectKind::ZeroCoordinate), "feature {i}"),
            "lat_lng_swapped" => assert_eq!(got, Some(RejectKind::SwappedLatLon), "feature {i}"),
            "invalid_range" => {
                assert_eq!(got, Some(RejectKind::CoordinateOutOfRange), "feature {i}")
            }
            "placeholder_outside_china" | "outside_jinan" => {
                assert_eq!(got, Some(RejectKind::OutsideRegion), "feature {i}")
            }
            // integer-truncated and implausible points may still fall inside Jinan
            _ => {}
        }
    }
    let labelled_ok = feats
        .iter()
        .filter(|f| f["properties"]["coord_issue"] == "ok")
        .count();
    assert_eq!(accepted_ok, labelled_ok, "every good station is kept, once");
    assert_eq!(
        ds.enterprises
            .iter()
            .filter(|e| e.id.starts_with('F'))
            .count(),
        ds.enterprises.len(),
        "ids come from feature order"
    );
}

/// The BD-09 subset lands within a metre of the same stations in the GCJ-02 file.
#[test]
fn bd09_register_matches_gcj02_register() {
    let mut c = cfg(&data("jinan_ev_charging_stations_bd09_subset.geojson"));
    c.enterprises.crs = Some(Crs::Bd09);
    let bd = load(&c).unwrap();
    let mut c = cfg(&data("jinan_ev_charging_stations_gcj02.geojson"));
    c.enterprises.crs = Some(Crs::Gcj02);
    let gcj = load(&c).unwrap();
    // stations present in both files (by name): distance after conversion to WGS84
    let mut matched = 0;
    for e in &bd.enterprises {
        let best = gcj
            .enterprises
            .iter()
            .filter(|g| g.name == e.name)
            .map(|g| riskmap::crs::haversine_m(e.lon, e.lat, g.lon, g.lat))
            .fold(f64::INFINITY, f64::min);
        if best < 1.0 {
            matched += 1;
        } else if best.is_finite() {
            // the source itself documents one station 11.7 m off its twin
            assert!(best < 15.0, "{}: {best} m from its GCJ-02 twin", e.name);
        }
    }
    assert!(
        matched >= 10,
        "only {matched} BD-09 stations matched their GCJ-02 twin within 1 m"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn every_reject_reason_with_line_and_column() {
    let d = tempfile::tempdir().unwrap();
    let reg = write(
        d.path(),
        "reg.csv",
        "企业编号,企业名称,经度,纬度,风险等级,坐标系,从业人数,重大危险源等级\n\
         A1,正常企业,117.02,36.70,,WGS84,120,\n\
         A2,占位坐标,0,0,,,,\n\
         A3,经纬颠倒,36.70,117.02,,,,\n\
         A4,北京企业,116.397,39.916,,,,\n\
         A5,超出范围,1170.2,36.7,,,,\n\
         A6,数字错误,117.0x,36.7,,,,\n\
         A1,重复编号,117.03,36.71,,,,\n\
         A7,等级错误,117.02,36.70,高风险,,,\n\
         A8,坐标系错误,117.02,36.70,,UTM50,,\n\
         ,无编号,117.02,36.70,,,,\n\
         A9,人数错误,117.02,36.70,,,很多,\n\
         A10,危险源错误,117.02,36.70,,,,五级\n\
         A11,正常企业二,117.05,36.68,,GCJ-02,,二级\n",
    );
    let ass = write(
        d.path(),
        "ass.csv",
        "企业编号,风险点名称,评价方法,L,E,C,S,风险等级\n\
         A1,储罐区,LEC,3,6,15,,\n\
         A1,装卸区,LEC,4,6,15,,\n\
         ZZ,仓库,LS,2,,,3,\n\
         A2,仓库,LS,2,,,3,\n\
         A1,配电室,AHP,1,,,1,\n\
         A1,办公楼,直接判定,,,,,超高\n\
         A11,反应区,LS,2,,,x,\n",
    );
    let hid = write(d.path(), "hid.csv", "隐患编号,企业编号,隐患等级,整改状态\nH1,A1,重大,未整改\nH2,A1,特大,未整改\nH3,A1,一般,处理中\nH4,QQ,一般,已整改\n");
    let mut c = cfg(&reg);
    c.assessments.path = Some(ass.clone());
    c.hazards.path = Some(hid.clone());
    let ds = load(&c).unwrap();
    let ids: Vec<&str> = ds.enterprises.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["A1", "A11"]);
    let expect: &[(&Path, &str, &str, RejectKind)] = &[
        (&reg, "3", "经度/纬度", RejectKind::ZeroCoordinate),
        (&reg, "4", "经度/纬度", RejectKind::SwappedLatLon),
        (&reg, "5", "经度/纬度", RejectKind::OutsideRegion),
        (&reg, "6", "经度/纬度", RejectKind::CoordinateOutOfRange),
        (&reg, "7", "经度", RejectKind::UnparseableNumber),
        (&reg, "8", "企业编号", RejectKind::DuplicateId),
        (&reg, "9", "风险等级", RejectKind::UnknownLevel),
        (&reg, "10", "坐标系", RejectKind::UnknownCrs),
        (&reg, "11", "企业编号", RejectKind::MissingValue),
        (&reg, "12", "从业人数", RejectKind::UnparseableNumber),
        (&reg, "13", "重大危险源等级", RejectKind::UnknownValue),
        (&ass, "3", "L", RejectKind::NotInTable),
        (&ass, "4", "企业编号", RejectKind::UnknownEnterprise),
        (&ass, "5", "企业编号", RejectKind::EnterpriseRejected),
        (&ass, "6", "评价方法", RejectKind::UnknownMethod),
        (&ass, "7", "风险等级", RejectKind::UnknownLevel),
        (&ass, "8", "S", RejectKind::UnparseableNumber),
        (&hid, "3", "隐患等级", RejectKind::UnknownValue),
        (&hid, "4", "整改状态", RejectKind::UnknownValue),
        (&hid, "5", "企业编号", RejectKind::UnknownEnterprise),
    ];
    for (file, line, col, kind) in expect {
        let f = file.display().to_string();
        assert!(
            ds.rejects
                .iter()
                .any(|r| r.file == f && r.line == *line && r.column == *col && r.kind == *kind),
            "missing {kind:?} at {f}:{line} [{col}]; got {:#?}",
            ds.rejects
                .iter()
                .filter(|r| r.file == f && r.line == *line)
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(ds.rejects.len(), expect.len(), "{:#?}", ds.rejects);
    // messages people can act on
    let lvl = ds
        .rejects
        .iter()
        .find(|r| r.kind == RejectKind::UnknownLevel)
        .unwrap();
    assert!(lvl.message.contains("重大/较大/一般/低"), "{}", lvl.message);
    let nt = ds
        .rejects
        .iter()
        .find(|r| r.kind == RejectKind::NotInTable)
        .unwrap();
    assert!(
        nt.message.contains("10, 6, 3, 1, 0.5, 0.2, 0.1"),
        "{}",
        nt.message
    );
    // the one valid hidden danger forces A1 red; A11 gets its major-hazard floor
    assert_eq!(ds.grades[0].level, Some(Level::Red));
    assert_eq!(ds.grades[0].reason, "open major hidden danger #H1");
    assert_eq!(ds.grades[1].level, Some(Level::Orange));
    assert_eq!(ds.grades[1].rule, "major_hazard_floor");
}

#[test]
fn credit_code_checksum_is_a_warning_not_a_reject() {
    let d = tempfile::tempdir().unwrap();
    let reg = write(d.path(), "r.csv", "统一社会信用代码,企业名称,经度,纬度\n91310110666007217T,好代码,117.02,36.70\n91310110666007217X,坏代码,117.03,36.70\n");
    let ds = load(&cfg(&reg)).unwrap();
    assert_eq!(ds.enterprises.len(), 2);
    assert!(ds.enterprises[0].warnings.is_empty());
    assert!(
        ds.enterprises[1].warnings[0].contains("应为 `T`"),
        "{:?}",
        ds.enterprises[1].warnings
    );
}

#[test]
fn bad_files_are_errors_naming_the_file() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("nope.csv");
    let e = load(&cfg(&missing)).err().unwrap().to_string();
    assert!(e.contains("nope.csv") && e.contains("企业名录"), "{e}");
    let empty = write(d.path(), "empty.csv", "");
    let e = load(&cfg(&empty)).err().unwrap().to_string();
    assert!(e.contains("empty.csv") && e.contains("empty"), "{e}");
    let headers_only = write(d.path(), "h.csv", "企业编号,企业名称,经度,纬度\n");
    let e = load(&cfg(&headers_only)).err().unwrap().to_string();
    assert!(e.contains("h.csv"), "{e}");
    let no_lat = write(
        d.path(),
        "nolat.csv",
        "企业编号,企业名称,经度,Y坐标\nA,B,117,36.7\n",
    );
    let e = load(&cfg(&no_lat)).err().unwrap().to_string();
    assert!(e.contains("`lat`") && e.contains("columns"), "{e}");
    let binary = d.path().join("bin.csv");
    std::fs::write(&binary, [0xff, 0xfe, 0xfd, 0x00, 0x81, 0x20]).unwrap();
    assert!(load(&cfg(&binary)).is_err());
    // every row bad: an error that shows the first problem
    let bad = write(
        d.path(),
        "bad.csv",
        "企业编号,企业名称,经度,纬度\nA,B,0,0\n",
    );
    let e = load(&cfg(&bad)).err().unwrap().to_string();
    assert!(
        e.contains("1 行中没有一行可用") && e.contains("占位值"),
        "{e}"
    );
}

#[test]
fn column_mapping_in_config() {
    let d = tempfile::tempdir().unwrap();
    let reg = write(
        d.path(),
        "r.csv",
        "编号,单位,X坐标,Y坐标,备注\nA,甲公司,117.02,36.70,老厂区\n",
    );
    let mut c = cfg(&reg);
    c.enterprises.columns.insert("lon".into(), "X坐标".into());
    c.enterprises.columns.insert("lat".into(), "Y坐标".into());
    c.enterprises.columns.insert("name".into(), "单位".into());
    let ds = load(&c).unwrap();
    assert_eq!(ds.enterprises[0].name, "甲公司");
    assert_eq!(
        ds.enterprises[0].extra,
        vec![("备注".to_string(), "老厂区".to_string())]
    );
    assert_eq!(
        ds.grades[0].level, None,
        "no assessment: unassessed, never blue"
    );
}

#[test]
fn region_bbox_and_open_region() {
    let d = tempfile::tempdir().unwrap();
    let reg = write(
        d.path(),
        "r.csv",
        "id,name,lon,lat\nA,a,117.02,36.70\nB,b,118.5,36.70\n",
    );
    let mut c = Config::default();
    c.enterprises.path = Some(reg.clone());
    let ds = load(&c).unwrap();
    assert_eq!(
        ds.enterprises.len(),
        2,
        "no boundaries, no region: everything valid is kept"
    );
    // region = points' bbox padded by the largest radius (1000 m)
    assert!(
        (ds.region_bbox[0] - (117.02 - 1000.0 / 111_195.0 / 36.7f64.to_radians().cos())).abs()
            < 1e-3,
        "{:?}",
        ds.region_bbox
    );
    c.region.bbox = Some([116.0, 36.0, 118.0, 37.6]);
    let ds = load(&c).unwrap();
    assert_eq!(ds.enterprises.len(), 1);
    assert_eq!(ds.rejects[0].kind, RejectKind::OutsideRegion);
    // a stray point (a typo putting one enterprise in Ürümqi) is kept, flagged, and left
    // out of the extent the maps are drawn over (#31 §4)
    let mut t = String::from("id,name,lon,lat\n");
    for i in 0..20 {
        let (x, y) = (116.9 + 0.02 * i as f64, 36.6 + 0.01 * (i % 7) as f64);
        t.push_str(&format!("E{i},企业{i},{x},{y}\n"));
    }
    t.push_str("STRAY,录错的企业,87.6,43.8\n");
    let mut c = Config::default();
    c.enterprises.path = Some(write(d.path(), "stray.csv", &t));
    let ds = load(&c).unwrap();
    assert_eq!(ds.enterprises.len(), 21);
    let stray = ds.enterprises.iter().find(|e| e.id == "STRAY").unwrap();
    assert!(
        stray
            .warnings
            .iter()
            .any(|w| w.contains("远离名录中的其他企业")),
        "{:?}",
        stray.warnings
    );
    let others_warned = ds
        .enterprises
        .iter()
        .filter(|e| e.id != "STRAY" && !e.warnings.is_empty())
        .count();
    assert_eq!(others_warned, 0);
    assert!(
        ds.warnings.iter().any(|w| w.contains("远离")),
        "{:?}",
        ds.warnings
    );
    let b = ds.region_bbox;
    assert!(
        b[0] > 116.8 && b[2] < 117.4 && b[1] > 36.5 && b[3] < 36.7,
        "{b:?}"
    );
}
