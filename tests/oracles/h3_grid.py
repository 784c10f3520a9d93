#!/usr/bin/env python3
"""The H3 grid against Uber's h3 library (PyPI `h3`, run by .ci/run; issue #30 §2).

Builds the bundled sample with `[grid] kind = "h3"` into a temporary folder, then counts
every enterprise of the written enterprises.geojson into its H3 cell with h3-py
(`latlng_to_cell` at the configured resolution) and compares with grid.geojson: the same
cells, the same count per level and in total; each cell's polygon is the h3-py boundary
of its id (vertices within 1e-7°). Exits 1 with one line per finding.

usage: h3_grid.py RISKMAP_BIN
"""
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import h3

RES = 8
ROOT = Path(__file__).resolve().parents[2]
LEVELS = ["red", "orange", "yellow", "blue", "unassessed"]


def main(exe: str) -> int:
    s = ROOT / "data" / "sample"
    with tempfile.TemporaryDirectory(prefix="riskmap-h3-") as d:
        cfg = Path(d) / "cfg.toml"
        cfg.write_text(
            f'[enterprises]\npath = "{s}/enterprises.csv"\ncrs = "wgs84"\n'
            f'[assessments]\npath = "{s}/assessments.csv"\n'
            f'[hazards]\npath = "{s}/hidden_dangers.csv"\n'
            f'[boundaries]\npath = "{s}/jinan_districts_gcj02.geojson"\ncrs = "gcj02"\n'
            f'[grid]\nenabled = true\nkind = "h3"\nh3_resolution = {RES}\n'
            f'[tiles]\nenabled = false\n[overview]\nenabled = false\n'
            f'[output]\ndir = "{d}/out"\n',
            encoding="utf-8",
        )
        subprocess.run([exe, "build", "--config", str(cfg), "-q"], check=True, stdout=subprocess.DEVNULL)
        out = Path(d) / "out"
        ents = json.loads((out / "enterprises.geojson").read_text("utf-8"))["features"]
        grid = json.loads((out / "grid.geojson").read_text("utf-8"))["features"]
    want = collections.defaultdict(collections.Counter)
    for f in ents:
        lon, lat = f["geometry"]["coordinates"]
        want[h3.latlng_to_cell(lat, lon, RES)][f["properties"]["level"]] += 1
    bad = []
    got = {g["properties"]["id"]: g for g in grid}
    if set(got) != set(want):
        bad.append(
            f"cells: {len(got)} in grid.geojson, {len(want)} by h3-py; only riskmap {sorted(set(got) - set(want))[:3]}, only h3-py {sorted(set(want) - set(got))[:3]}"
        )
    for cell, counts in want.items():
        g = got.get(cell)
        if g is None:
            continue
        p = g["properties"]
        for lv in LEVELS:
            if p.get(lv, 0) != counts[lv]:
                bad.append(f"cell {cell}: {lv} {p.get(lv)} in grid.geojson, {counts[lv]} by h3-py")
        if p["total"] != sum(counts.values()):
            bad.append(f"cell {cell}: total {p['total']}, h3-py {sum(counts.values())}")
        ring = g["geometry"]["coordinates"][0]
        ref = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
        pts = ring[:-1] if ring[0] == ring[-1] else ring
        if len(pts) != len(ref) or any(
            min(abs(x - rx) + abs(y - ry) for rx, ry in ref) > 1e-7 for x, y in pts
        ):
            bad.append(f"cell {cell}: polygon differs from h3-py's boundary")
    for line in bad[:20]:
        print("FAIL", line)
    print(f"H3 res {RES}: {len(want)} cells, {len(ents)} enterprises counted with h3-py {h3.__version__}; {len(bad)} findings")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/release/riskmap"))
