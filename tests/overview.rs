//! The overview map: Chinese district names render as real glyphs (not blank or tofu
//! boxes) with the font riskmap picks on this machine, and the map has its parts.

use riskmap::render::overview::{fonts, rasterize, BUNDLED_FAMILY};

fn text_image(text: &str, font: Option<&std::path::Path>) -> Vec<u8> {
    let (db, family) = fonts(font).unwrap();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="80"><rect width="100%" height="100%" fill="white"/><text x="10" y="55" font-size="48" font-family="{family}" fill="black">{text}</text></svg>"##
    );
    rasterize(&svg, db, &family).unwrap().2
}

fn ink(img: &[u8]) -> usize {
    img.chunks(4).filter(|p| p[0] < 128).count()
}

#[test]
fn district_names_render_as_distinct_glyphs() {
    let names = [
        "历下区",
        "市中区",
        "槐荫区",
        "天桥区",
        "历城区",
        "长清区",
        "章丘区",
        "济阳区",
        "莱芜区",
        "钢城区",
        "平阴县",
        "商河县",
    ];
    let imgs: Vec<Vec<u8>> = names.iter().map(|n| text_image(n, None)).collect();
    assert_eq!(names.len(), imgs.len());
    for (n, img) in names.iter().zip(&imgs) {
        assert!(
            ink(img) > 300,
            "{n} rendered blank ({} dark pixels)",
            ink(img)
        );
    }
    // missing glyphs draw the same box for every character: same-length names would
    // then give identical images
    for i in 0..imgs.len() {
        for j in i + 1..imgs.len() {
            assert!(
                imgs[i] != imgs[j],
                "{} and {} render the same: no CJK glyphs",
                names[i],
                names[j]
            );
        }
    }
    // the bundled font, named explicitly, renders the same names as real glyphs too
    let p = std::env::temp_dir().join(format!("riskmap-font-{}.ttc", std::process::id()));
    std::fs::write(&p, riskmap::render::overview::BUNDLED_FONT).unwrap();
    let a = text_image("历下区", Some(&p));
    let b = text_image("市中区", Some(&p));
    assert!(ink(&a) > 300 && a != b);
    let (_, family) = fonts(Some(&p)).unwrap();
    assert_eq!(family, BUNDLED_FAMILY);
    let _ = std::fs::remove_file(&p);
}

/// The bundled sample, loaded and analysed.
fn sample() -> (riskmap::pipeline::Dataset, riskmap::analyze::Analysis) {
    let d = tempfile::tempdir().unwrap();
    let mut c = riskmap::config::Config::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/riskmap.toml"
    )))
    .unwrap();
    c.output.dir = d.path().to_path_buf();
    let ds = riskmap::pipeline::load(&c).unwrap();
    let an = riskmap::analyze::run(&ds, &c.analyze_params()).unwrap();
    (ds, an)
}

#[test]
fn overview_has_title_legend_and_names() {
    let (ds, an) = sample();
    let o = riskmap::render::overview::Overview::new(&ds, &an, &ds.style, 1200, BUNDLED_FAMILY);
    let (svg, h) = (o.svg(), o.height);
    assert!(h > 1200);
    for s in [
        "济南市安全生产风险四色分布图",
        "数据日期",
        "重大风险 221",
        "较大风险",
        "一般风险",
        "低风险",
        "未评估",
        " km</text>",
        "北 N",
    ] {
        assert!(svg.contains(s), "overview lacks {s}");
    }
    for d in &ds.districts.districts {
        assert!(
            svg.contains(&format!(">{}</text>", d.name)),
            "no label for {}",
            d.name
        );
    }
}

/// The PNG is drawn in layers (resvg below and above the enterprises, the enterprises
/// stamped in between); resvg rendering the whole SVG is the oracle: the same picture,
/// but for antialiased disc edges.
#[test]
fn layered_png_matches_the_svg() {
    let (ds, an) = sample();
    let o = riskmap::render::overview::Overview::new(&ds, &an, &ds.style, 1600, BUNDLED_FAMILY);
    let font = || {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_font_data(riskmap::render::overview::BUNDLED_FONT.to_vec());
        db
    };
    let (w, h, ours) = o.rasterize(font(), BUNDLED_FAMILY).unwrap();
    let (w2, h2, oracle) = rasterize(&o.svg(), font(), BUNDLED_FAMILY).unwrap();
    assert_eq!((w, h), (w2, h2));
    let (mut differ, mut worst) = (0usize, 0u8);
    for (p, q) in ours.chunks(4).zip(oracle.chunks(4)) {
        let m = p.iter().zip(q).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        differ += (m > 0) as usize;
        worst = worst.max(m);
    }
    // the dots are there (the oracle's red and ours agree pixel for pixel but at edges)
    let red = |img: &[u8]| {
        img.chunks(4)
            .filter(|p| p[0] > 200 && p[1] < 60 && p[2] < 60)
            .count()
    };
    assert!(red(&oracle) > 2000, "{} red pixels", red(&oracle));
    assert!(
        // as README says: at dot edges only, by at most 32 of 255 (this map: 785 of 3.1 M
        // pixels by up to 32; the sample's: 91 of 7 M by up to 16)
        differ * 1000 < (w * h) as usize && worst <= 32,
        "{differ} of {} pixels differ, by up to {worst}",
        w * h
    );
}
