//! Every value check of the config, with the bad value and the whole message a user
//! reads; unknown keys and type errors name the key; the defaults pass.

use riskmap::config::Config;
use std::path::Path;

fn message(toml: &str) -> String {
    let p = Path::new("riskmap.toml");
    match Config::parse_str(toml, p) {
        Err(e) => e.to_string(),
        Ok(c) => match c.validate() {
            Err(e) => e.to_string(),
            Ok(()) => "ok".into(),
        },
    }
}

#[test]
fn every_value_check_names_the_key_and_says_why() {
    // the English side of the catalogue (tests/messages.rs runs the Chinese one); the
    // other test of this file prints nothing it checks
    riskmap_core::i18n::set_lang(riskmap_core::i18n::Lang::En);
    let cases: &[(&str, &str)] = &[
        ("", "ok"),
        (
            "[region]\nbbox = [118, 36, 117, 37]",
            "config: bad value for `region.bbox`: [118, 36, 117, 37] is not [west, south, east, north]",
        ),
        (
            "[region]\nbbox = [117, -95, 118, 37]",
            "config: bad value for `region.bbox`: latitudes must be within −90..90",
        ),
        (
            "[tiles]\nformats = [\"pmtiles\", \"geopackage\"]",
            "config: bad value for `tiles.formats`: `geopackage` is not one of pmtiles, mbtiles, xyz",
        ),
        (
            "[output]\ngenerations = 0",
            "config: bad value for `output.generations`: 0 must be within 1..100",
        ),
        (
            "[region]\ntolerance_m = -1",
            "config: bad value for `region.tolerance_m`: -1 must be ≥ 0",
        ),
        (
            "[influence_radius_m]\norange = 0",
            "config: bad value for `influence_radius_m.orange`: 0 must be > 0",
        ),
        (
            "[areas.level.weights]\nred = -8",
            "config: bad value for `areas.level.weights.red`: -8 must be ≥ 0",
        ),
        (
            "[grid.level.thresholds]\nyellow = -0.5",
            "config: bad value for `grid.level.thresholds.yellow`: -0.5 must be ≥ 0",
        ),
        (
            "[grid]\ncell_m = 5",
            "config: bad value for `grid.cell_m`: 5 must be within 10..100000 metres",
        ),
        (
            "[grid]\nh3_resolution = 16",
            "config: bad value for `grid.h3_resolution`: 16 must be within 0..15",
        ),
        (
            "[surface]\nresolution_m = 0.5",
            "config: bad value for `surface.resolution_m`: 0.5 must be within 1..10000 metres",
        ),
        (
            "[surface.thresholds]\nyellow = 100",
            "config: bad value for `surface.thresholds`: must rise: 0 < blue < yellow < orange < red",
        ),
        (
            "[surface.weights]\nblue = 0",
            "config: bad value for `surface.weights.blue`: 0 must be > 0",
        ),
        (
            "[overview]\nwidth = 100",
            "config: bad value for `overview.width`: 100 must be within 200..20000 pixels",
        ),
        (
            "[tiles]\nzoom = [14, 8]",
            "config: bad value for `tiles.zoom`: [14, 8] must be [min, max] within 0..22",
        ),
        (
            "[tiles]\nzoom = [8, 23]",
            "config: bad value for `tiles.zoom`: [8, 23] must be [min, max] within 0..22",
        ),
        (
            "[output]\ndecimals = 4",
            "config: bad value for `output.decimals`: 4 must be within 5..10",
        ),
        (
            "[hazards.columns]\ngrade = \"隐患级别\"\nseverity = \"严重\"",
            "config: bad value for `hazards.columns.severity`: no such field; known: id, enterprise_id, grade, status, description",
        ),
        (
            "[grading]\nopen_major_hidden_danger_redd = true",
            "config riskmap.toml: unknown key `grading.open_major_hidden_danger_redd` (see the config reference in README.md)",
        ),
    ];
    for (toml, want) in cases {
        assert_eq!(&message(toml), want, "{toml}");
    }
    // an unknown tile layer: the message lists the layers
    let m = message("[tiles]\nlayers = [\"surface\", \"heat\"]");
    assert!(
        m.starts_with("config: bad value for `tiles.layers`:") && m.contains("heat"),
        "{m}"
    );
    // a wrong type names the key and the line
    let m = message("[grid]\ncell_m = \"1 km\"");
    assert!(
        m.starts_with("config riskmap.toml:") && m.contains("cell_m"),
        "{m}"
    );
}

#[test]
fn the_shipped_config_passes() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("riskmap.toml");
    let c = Config::load(&p).unwrap();
    c.validate().unwrap();
}
