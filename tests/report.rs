//! `riskmap report`: every number equals the one this test computes from
//! enterprises.geojson / areas.geojson; the HTML parses (as XML) and holds every district;
//! the XLSX (read with calamine) equals the CSVs; a second build after editing known
//! enterprises lists exactly those changes.

use riskmap::config::Config;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const LEVELS: [&str; 5] = ["red", "orange", "yellow", "blue", "unassessed"];
const LEVEL_ZH: [&str; 5] = ["重大风险", "较大风险", "一般风险", "低风险", "未评估"];

fn sample_config(out: &Path) -> Config {
    let mut c = Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/riskmap.toml"
    )))
    .unwrap();
    c.output.dir = out.to_path_buf();
    c.tiles.enabled = false;
    c.report.enabled = true;
    c
}

fn read_csv(p: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(p).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "{} has a BOM",
        p.display()
    );
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..]);
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn report_numbers_equal_the_geojson_outputs() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path();
    let cfg = sample_config(out);
    let ds = riskmap::pipeline::load(&cfg).unwrap();
    riskmap::build::build(&ds, &cfg, &riskmap::build::BuildOptions::default()).unwrap();
    let ents = json(&out.join("enterprises.geojson"));
    let feats: Vec<&serde_json::Value> = ents["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["properties"])
        .collect();
    let areas = json(&out.join("areas.geojson"));

    // headline
    let h = read_csv(&out.join("report/headline.csv"));
    for (k, l) in LEVELS.iter().enumerate() {
        let n = feats.iter().filter(|p| p["level"] == *l).count();
        let row = h.iter().find(|r| r[1] == *l).unwrap();
        assert_eq!(row[2], n.to_string(), "{l}");
        assert_eq!(row[0], LEVEL_ZH[k]);
    }
    assert_eq!(h.last().unwrap()[2], feats.len().to_string());
    // the summary paragraph at the top says the same numbers (#31 §5), and the open
    // 重大事故隐患 counted from the features
    let html_top = std::fs::read_to_string(out.join("report.html")).unwrap();
    let n = |l: &str| feats.iter().filter(|p| p["level"] == l).count();
    let want = format!(
        "本次共分级企业 {} 家：重大风险 {} 家、较大风险 {} 家、一般风险 {} 家、低风险 {} 家",
        feats.len(),
        n("red"),
        n("orange"),
        n("yellow"),
        n("blue")
    );
    assert!(html_top.contains(&want), "summary: {want}");
    let majors: u64 = feats
        .iter()
        .map(|p| p["open_major_hidden_dangers"].as_u64().unwrap_or(0))
        .sum();
    assert!(majors > 0, "the sample has open 重大事故隐患");
    assert!(
        html_top.contains(&format!("尚未整改完成的重大事故隐患 {majors} 项")),
        "{majors} open major hidden dangers"
    );

    // districts
    let t = read_csv(&out.join("report/districts.csv"));
    let (hd, rows) = (&t[0], &t[1..]);
    let area_props: Vec<&serde_json::Value> = areas["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["properties"])
        .collect();
    assert_eq!(rows.len(), area_props.len());
    for a in &area_props {
        let name = a["name"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r[col(hd, "区县")] == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        let mine: Vec<&&serde_json::Value> =
            feats.iter().filter(|p| p["district"] == name).collect();
        for (k, zh) in LEVEL_ZH.iter().enumerate() {
            let n = mine.iter().filter(|p| p["level"] == LEVELS[k]).count();
            assert_eq!(row[col(hd, zh)], n.to_string(), "{name} {zh}");
        }
        assert_eq!(row[col(hd, "合计")], mine.len().to_string());
        let majors: u64 = mine
            .iter()
            .map(|p| p["open_major_hidden_dangers"].as_u64().unwrap())
            .sum();
        assert_eq!(row[col(hd, "未整改重大隐患")], majors.to_string(), "{name}");
        let highest = LEVELS
            .iter()
            .take(4)
            .position(|l| mine.iter().any(|p| p["level"] == *l))
            .map(|k| LEVEL_ZH[k])
            .unwrap_or("未评估");
        assert_eq!(row[col(hd, "最高等级")], highest, "{name}");
        assert_eq!(
            row[col(hd, "区域等级")],
            a["level_zh"].as_str().unwrap(),
            "{name}"
        );
        let km2 = a["area_km2"].as_f64().unwrap();
        let dens: f64 = row[col(hd, "密度(家/km²)")].parse().unwrap();
        assert!(
            (dens - mine.len() as f64 / km2).abs() < 0.0006,
            "{name} density"
        );
        // the risk index: enterprises weighted 4/3/2/1 by level, per km²
        let idx: f64 = row[col(hd, "风险指数")].parse().unwrap();
        let w: usize = mine
            .iter()
            .map(|p| match p["level"].as_str().unwrap() {
                "red" => 4,
                "orange" => 3,
                "yellow" => 2,
                "blue" => 1,
                _ => 0,
            })
            .sum();
        assert!((idx - w as f64 / km2).abs() < 0.0006, "{name} risk index");
    }
    // ranked: area level never rises down the table, and within a level the risk index
    // never rises (the sample's districts are all red under 就高: the index ranks them)
    let rank = |zh: &str| LEVEL_ZH.iter().position(|x| *x == zh).unwrap();
    let order: Vec<usize> = rows.iter().map(|r| rank(&r[col(hd, "区域等级")])).collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    let idx: Vec<f64> = rows
        .iter()
        .map(|r| r[col(hd, "风险指数")].parse().unwrap())
        .collect();
    for k in 1..rows.len() {
        assert_eq!(rows[k - 1][col(hd, "排名")], k.to_string());
        if order[k] == order[k - 1] {
            assert!(idx[k] <= idx[k - 1], "ranked by risk index: {idx:?}");
        }
    }

    // industries
    let t = read_csv(&out.join("report/industries.csv"));
    let (hd, rows) = (&t[0], &t[1..]);
    let mut by: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    for p in &feats {
        let ind = p["industry"].as_str().unwrap_or("未分类").to_string();
        let k = LEVELS.iter().position(|l| p["level"] == *l).unwrap();
        by.entry(ind).or_default()[k] += 1;
    }
    assert_eq!(rows.len(), by.len());
    for (ind, c) in &by {
        let row = rows.iter().find(|r| &r[0] == ind).unwrap();
        for (k, zh) in LEVEL_ZH.iter().enumerate() {
            assert_eq!(row[col(hd, zh)], c[k].to_string(), "{ind} {zh}");
        }
    }

    // the red list: exactly the red enterprises, with their district, industry and reason
    let t = read_csv(&out.join("report/red_list.csv"));
    let (hd, rows) = (&t[0], &t[1..]);
    let reds: BTreeMap<&str, &&serde_json::Value> = feats
        .iter()
        .filter(|p| p["level"] == "red")
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    let listed: BTreeSet<&str> = rows
        .iter()
        .map(|r| r[col(hd, "企业编号")].as_str())
        .collect();
    assert_eq!(listed, reds.keys().copied().collect::<BTreeSet<_>>());
    for r in rows {
        let p = reds[r[col(hd, "企业编号")].as_str()];
        assert_eq!(r[col(hd, "区县")], p["district"].as_str().unwrap_or(""));
        assert_eq!(r[col(hd, "定级理由")], p["reason_zh"].as_str().unwrap());
        assert_eq!(
            r[col(hd, "未整改隐患")],
            p["open_hidden_dangers"].to_string()
        );
        assert_eq!(r[col(hd, "管控层级")], "企业主要负责人");
        // who to call, as the register has it (carried into enterprises.geojson)
        assert_eq!(
            r[col(hd, "安全负责人")],
            p["安全负责人"].as_str().unwrap_or("")
        );
        assert_eq!(r[col(hd, "联系电话")], p["联系电话"].as_str().unwrap_or(""));
    }
    assert!(
        rows.iter().any(|r| !r[col(hd, "联系电话")].is_empty()),
        "the sample's register has telephone numbers"
    );

    // exposure: sites in red/orange zones by type, against exposure.geojson
    let ex = json(&out.join("exposure.geojson"));
    let t = read_csv(&out.join("report/exposure.csv"));
    let (hd, rows) = (&t[0], &t[1..]);
    for r in rows {
        let kind = &r[0];
        let in_zone = |lv: &str| {
            ex["features"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| {
                    f["properties"]["type"] == kind.as_str() && f["properties"]["zone_level"] == lv
                })
                .count()
        };
        assert_eq!(
            r[col(hd, "位于重大风险区")],
            in_zone("red").to_string(),
            "{kind}"
        );
        assert_eq!(
            r[col(hd, "位于较大风险区")],
            in_zone("orange").to_string(),
            "{kind}"
        );
    }

    // the HTML parses, has every section, every district, and its tables equal the CSVs
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    for id in [
        "headline",
        "districts",
        "industries",
        "red-list",
        "exposure",
        "changes",
        "map",
        "provenance",
    ] {
        assert!(
            doc.descendants().any(|n| n.attribute("id") == Some(id)),
            "section {id}"
        );
    }
    assert!(
        html.contains("data:image/png;base64,"),
        "the overview map is embedded"
    );
    for name in [
        "headline",
        "districts",
        "industries",
        "red_list",
        "exposure",
        "exposed_sites",
        "provenance",
        "rejects",
    ] {
        let table = doc
            .descendants()
            .find(|n| n.attribute("data-table") == Some(name))
            .unwrap_or_else(|| panic!("table {name}"));
        let cells = |tr: roxmltree::Node| -> Vec<String> {
            tr.children()
                .filter(|c| c.is_element())
                .map(|c| {
                    c.descendants()
                        .filter(|x| x.is_text())
                        .map(|x| x.text().unwrap())
                        .collect::<String>()
                })
                .collect()
        };
        let trs: Vec<Vec<String>> = table
            .descendants()
            .filter(|n| n.has_tag_name("tr"))
            .map(cells)
            .collect();
        let csv = read_csv(&out.join(format!("report/{name}.csv")));
        if csv.len() > 1 {
            assert_eq!(trs, csv, "HTML table {name} equals report/{name}.csv");
        }
    }
    let dt = doc
        .descendants()
        .find(|n| n.attribute("data-table") == Some("districts"))
        .unwrap();
    let text: String = dt
        .descendants()
        .filter(|n| n.is_text())
        .map(|n| n.text().unwrap())
        .collect();
    for d in &ds.districts.districts {
        assert!(text.contains(&d.name), "{} in the districts table", d.name);
    }

    // the XLSX, read with calamine, holds the same tables
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook(out.join("report.xlsx")).unwrap();
    let sheets = wb.sheet_names().to_vec();
    let mut names = vec![
        "headline",
        "districts",
        "industries",
        "red_list",
        "exposure",
        "exposed_sites",
        "coverage",
        "lifeline_enterprises",
        "lifeline_segments",
        "monitoring_alarms",
        "provenance",
        "rejects",
        "reject_rows",
    ];
    if !ds.warnings.is_empty() {
        names.push("notes");
    }
    assert_eq!(sheets.len(), names.len(), "{sheets:?}");
    // the lifelines section lists the pairs lifelines.csv lists; the coverage gaps add up
    // to summary.json's
    assert_eq!(
        read_csv(&out.join("report/lifeline_enterprises.csv")).len(),
        read_csv(&out.join("lifelines.csv")).len()
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let cov = read_csv(&out.join("report/coverage.csv"));
    let col = |k: usize| -> u64 {
        cov.iter()
            .skip(1)
            .map(|r| r[k].parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(col(1) as usize, ds.enterprises.len());
    assert_eq!(
        Some(col(2)),
        summary["emergency"]["without_team_or_agreement"].as_u64()
    );
    assert_eq!(
        Some(col(3)),
        summary["emergency"]["outside_fire_reach"].as_u64()
    );
    // every rejected row is listed, as rejects.csv lists it (#31 §5)
    assert_eq!(
        read_csv(&out.join("report/reject_rows.csv")).len(),
        read_csv(&out.join("rejects.csv")).len()
    );
    for (sheet, name) in sheets.iter().zip(names) {
        let range = wb.worksheet_range(sheet).unwrap();
        let csv = read_csv(&out.join(format!("report/{name}.csv")));
        let got: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        assert_eq!(got.len(), csv.len(), "{sheet}");
        for (g, w) in got.iter().zip(&csv) {
            assert_eq!(g.len(), w.len(), "{sheet}: a row's cells");
            for (a, b) in g.iter().zip(w) {
                match (a.parse::<f64>(), b.parse::<f64>()) {
                    (Ok(x), Ok(y)) => assert!((x - y).abs() < 1e-9, "{sheet}: {a} vs {b}"),
                    _ => assert_eq!(a, b, "{sheet}"),
                }
            }
        }
    }
}

fn edit_csv(p: &Path, mut f: impl FnMut(&[String], &mut Vec<Vec<String>>)) {
    let bytes = std::fs::read(p).unwrap();
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body);
    let mut rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    let header = rows.remove(0);
    f(&header, &mut rows);
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(&header).unwrap();
    for row in &rows {
        w.write_record(row).unwrap();
    }
    std::fs::write(p, w.into_inner().unwrap()).unwrap();
}

#[test]
fn second_build_lists_exactly_the_changed_enterprises() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    riskmap::sample::generate(&riskmap::sample::SampleOptions {
        count: 400,
        seed: 7,
        out: data.clone(),
    })
    .unwrap();
    let out = d.path().join("out");
    let mut cfg = riskmap::bench::sample_config(&data);
    cfg.output.dir = out.clone();
    cfg.report.enabled = true;
    cfg.overview.enabled = false;
    cfg.surface.enabled = false;
    cfg.output.crs_out = vec![];
    let build = |cfg: &Config| {
        let ds = riskmap::pipeline::load(cfg).unwrap();
        riskmap::build::build(&ds, cfg, &riskmap::build::BuildOptions::default()).unwrap();
    };
    let ids_in = |file: &str, col: usize| -> BTreeSet<String> {
        std::fs::read_to_string(data.join(file))
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').nth(col).map(str::to_string))
            .collect()
    };
    let dangers_of = ids_in("hidden_dangers.csv", 1);
    let assessed = ids_in("assessments.csv", 0);
    // before the first build: one enterprise with nothing but a direct level is made 较大
    let mut down = String::new();
    edit_csv(&data.join("enterprises.csv"), |h, rows| {
        let id = h.iter().position(|c| c == "企业编号").unwrap();
        let lv = h.iter().position(|c| c == "风险等级").unwrap();
        let mh = h.iter().position(|c| c == "重大危险源等级").unwrap();
        let r = rows
            .iter_mut()
            .find(|r| {
                r[mh].is_empty() && !dangers_of.contains(&r[id]) && !assessed.contains(&r[id])
            })
            .expect("an enterprise with no assessment, hazard source or hidden danger");
        r[lv] = "较大".into();
        down = r[id].clone();
    });
    build(&cfg);
    assert!(
        !std::fs::read_to_string(out.join("report.html"))
            .unwrap()
            .contains("data-table=\"changes\""),
        "no changes on the first run"
    );
    let feats = json(&out.join("enterprises.geojson"))["features"]
        .as_array()
        .unwrap()
        .clone();
    let props: Vec<&serde_json::Value> = feats.iter().map(|f| &f["properties"]).collect();
    let down = (
        down.clone(),
        props.iter().find(|p| p["id"] == down.as_str()).unwrap()["level_zh"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    assert_eq!(down.1, "较大风险");
    // two enterprises go up to red by a direct level (就高: nothing can keep them lower)
    let ups: Vec<(String, String)> = props
        .iter()
        .filter(|p| p["level"] != "red" && p["id"] != down.0.as_str())
        .take(2)
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["level_zh"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // one without hidden dangers or assessments leaves the register
    let gone = props
        .iter()
        .find(|p| {
            p["risk_points"] == 0
                && !dangers_of.contains(p["id"].as_str().unwrap())
                && p["id"] != down.0.as_str()
                && !ups.iter().any(|u| u.0 == p["id"].as_str().unwrap())
        })
        .map(|p| p["id"].as_str().unwrap().to_string())
        .unwrap();
    edit_csv(&data.join("enterprises.csv"), |h, rows| {
        let id = h.iter().position(|c| c == "企业编号").unwrap();
        let lv = h.iter().position(|c| c == "风险等级").unwrap();
        for r in rows.iter_mut() {
            if ups.iter().any(|u| u.0 == r[id]) {
                r[lv] = "重大".into();
            }
            if r[id] == down.0 {
                r[lv] = "低".into();
            }
        }
        rows.retain(|r| r[id] != gone);
    });
    build(&cfg);
    let t = read_csv(&out.join("report/changes.csv"));
    let (hd, rows) = (&t[0], &t[1..]);
    let got: BTreeSet<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r[col(hd, "变化")].clone(),
                r[col(hd, "编号")].clone(),
                r[col(hd, "原等级/状态")].clone(),
                r[col(hd, "现等级/状态")].clone(),
            )
        })
        .collect();
    let mut want: BTreeSet<(String, String, String, String)> = ups
        .iter()
        .map(|(id, old)| ("升级".into(), id.clone(), old.clone(), "重大风险".into()))
        .collect();
    want.insert((
        "降级".into(),
        down.0.clone(),
        down.1.clone(),
        "低风险".into(),
    ));
    let gone_level = props.iter().find(|p| p["id"] == gone.as_str()).unwrap()["level_zh"]
        .as_str()
        .unwrap()
        .to_string();
    want.insert(("移除".into(), gone.clone(), gone_level, String::new()));
    assert_eq!(got, want);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("data-table=\"changes\""));
    assert!(html.contains(&format!("升级 <b>{}</b> 家", ups.len())));
    // history keeps both runs; the same diff comes from --since with the history file
    let hist = riskmap::report::history::list(&out);
    assert_eq!(hist.len(), 2, "{hist:?}");
    let ds = riskmap::pipeline::load(&cfg).unwrap();
    let an = riskmap::analyze::run(&ds, &cfg.analyze_params()).unwrap();
    let other = d.path().join("again");
    riskmap::report::write(&ds, &an, &other, Some(&hist[0])).unwrap();
    assert_eq!(read_csv(&other.join("report/changes.csv")), t);
    // a third identical build adds no snapshot and still reports the same changes
    build(&cfg);
    assert_eq!(riskmap::report::history::list(&out).len(), 2);
    assert_eq!(read_csv(&out.join("report/changes.csv")), t);
}
