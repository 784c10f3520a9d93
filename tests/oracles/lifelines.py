#!/usr/bin/env python3
"""Lifeline protection zones against shapely in a projected CRS (pyproj), run by .ci/run
(issue #27 §2).

Writes random lifelines (gas mains of each pressure class with a pipe diameter, pipelines,
power lines of each voltage band and without one, water and heating mains, a
MultiLineString), random enterprises with their own influence radius, and sensitive sites
into a temporary folder, many of them placed *exactly* at a zone's width from a line, 2 mm
inside and 2 mm outside it (measured by pyproj in the metric CRS riskmap reports in
summary.json). Then builds with riskmap and checks, with shapely distances in that CRS:

* lifelines.csv lists exactly the (enterprise, lifeline) pairs in a protection or control
  zone or within the enterprise's radius, with the same relation and distance (1 cm);
* each line feature of lifelines.geojson names the same enterprises and sites in its
  protection and control zones, and the same counts by level within near_m;
* the protection polygons: points well inside (1 % of the width) are inside, points well
  outside are outside, and the area is shapely's buffer area within 1 %.

The rule: inside when the distance to the centre line is at most body + width + 1 mm.
Exits 1 with one line per finding.

usage: lifelines.py RISKMAP_BIN
"""
import csv
import json
import math
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from pyproj import Transformer
import shapely
from shapely.geometry import LineString, MultiLineString, Point, shape

ROOT = Path(__file__).resolve().parents[2]
TOL = 0.001
POWER = [(10, 5), (110, 10), (330, 15), (500, 20), (750, 25), (1000, 30)]
GAS = {"中压A": (0.5, 5), "中压B": (0.5, 5), "次高压A": (1.5, 15), "次高压B": (1.5, 15), "高压B": (5, 50), "高压A": (5, 50)}
LEVELS = ["重大风险", "较大风险", "一般风险", "低风险"]
LEVEL_KEYS = ["red", "orange", "yellow", "blue"]


def widths(props):
    """(protect, control) each side of the centre line, as the published rules say."""
    ty = props["类型"]
    body = 0.0
    if "管径" in props:
        body = float(props["管径"].lstrip("DN")) / 2000.0
    if ty == "高压输电线路":
        kv = props.get("电压等级")
        w = POWER[0][1]
        if kv:
            v = float(kv.rstrip("kV"))
            w = next((p for u, p in POWER if v <= u), POWER[-1][1])
        return body + w, None
    if ty == "长输油气管道":
        return body + 5, body + 200
    if ty == "燃气管道":
        p, c = GAS.get(props.get("压力级制", ""), (0.5, 5))
        return body + p, body + c
    return body + 1.5, None


def main(exe: str) -> int:
    rnd = random.Random(2027)
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    to_ll = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    # lines in metres around Jinan (the sample's districts give the region: UTM 50N)
    x0, y0 = to_m.transform(117.05, 36.68)
    kinds = (
        [("燃气管道", {"压力级制": k, "管径": f"DN{d}"}) for k, d in zip(GAS, [200, 300, 400, 500, 600, 800])]
        + [("燃气管道", {})]
        + [("长输油气管道", {"管径": "DN500"}), ("长输油气管道", {})]
        + [("高压输电线路", {"电压等级": f"{v}kV"}) for v in [10, 35, 110, 220, 500, 750, 1000]]
        + [("高压输电线路", {})]
        + [("供水管道", {}), ("供热管道", {"管径": "DN1000"})]
    )
    feats, lines_m = [], []
    for k, (ty, extra) in enumerate(kinds):
        parts = []
        for _ in range(2 if k == 3 else 1):
            x, y = x0 + rnd.uniform(-8000, 8000), y0 + rnd.uniform(-8000, 8000)
            ang = rnd.uniform(0, math.tau)
            pts = [(x, y)]
            for _ in range(rnd.randint(2, 8)):
                ang += rnd.uniform(-0.8, 0.8)
                step = rnd.uniform(200, 1500)
                x, y = x + step * math.cos(ang), y + step * math.sin(ang)
                pts.append((x, y))
            parts.append([to_ll.transform(*p) for p in pts])
        props = {"编号": f"L{k + 1:02d}", "名称": f"管线{k + 1}", "类型": ty, **extra}
        geom = {"type": "LineString", "coordinates": parts[0]} if len(parts) == 1 else {"type": "MultiLineString", "coordinates": parts}
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
        # the oracle's line: the lon/lat vertices projected by pyproj
        ms = [LineString([to_m.transform(*p) for p in part]) for part in parts]
        lines_m.append(ms[0] if len(ms) == 1 else MultiLineString(ms))
    zones = [widths(f["properties"]) for f in feats]

    def at(line, w, off):
        """A point `off` metres beyond the width `w` from a random spot of the line."""
        seg = line if line.geom_type == "LineString" else line.geoms[0]
        cs = list(seg.coords)
        i = rnd.randrange(len(cs) - 1)
        (ax, ay), (bx, by) = cs[i], cs[i + 1]
        t = rnd.uniform(0.2, 0.8)
        px, py = ax + (bx - ax) * t, ay + (by - ay) * t
        L = math.hypot(bx - ax, by - ay)
        nx, ny = -(by - ay) / L, (bx - ax) / L
        s = rnd.choice([-1, 1])
        return px + s * nx * (w + off), py + s * ny * (w + off)

    pts_m = []
    for li, line in enumerate(lines_m):
        p, c = zones[li]
        for w in [p] + ([c] if c else []):
            for off in (0.0, -0.002, 0.002, -0.5 * w, 3.0 * w):
                pts_m.append(at(line, w, off))
    for _ in range(600):
        pts_m.append((x0 + rnd.uniform(-10000, 10000), y0 + rnd.uniform(-10000, 10000)))
    rnd.shuffle(pts_m)
    n_sites = 120
    sites_m, ents_m = pts_m[:n_sites], pts_m[n_sites:]
    radius = [rnd.choice([30, 60, 100, 250, 400]) for _ in ents_m]
    level = [rnd.randrange(4) for _ in ents_m]

    with tempfile.TemporaryDirectory(prefix="riskmap-lifelines-") as d:
        d = Path(d)
        (d / "lines.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
        with open(d / "ents.csv", "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(["企业编号", "企业名称", "经度", "纬度", "风险等级", "影响半径"])
            for i, (x, y) in enumerate(ents_m):
                lon, lat = to_ll.transform(x, y)
                w.writerow([f"E{i:04d}", f"企业{i}", repr(lon), repr(lat), LEVELS[level[i]], radius[i]])
        with open(d / "sites.csv", "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(["编号", "名称", "类型", "经度", "纬度"])
            for i, (x, y) in enumerate(sites_m):
                lon, lat = to_ll.transform(x, y)
                w.writerow([f"S{i:03d}", f"学校{i}", "学校", repr(lon), repr(lat)])
        s = ROOT / "data" / "sample"
        (d / "cfg.toml").write_text(
            f'[enterprises]\npath = "{d}/ents.csv"\ncrs = "wgs84"\n'
            f'[sites]\npath = "{d}/sites.csv"\ncrs = "wgs84"\n'
            f'[lifelines]\npath = "{d}/lines.geojson"\ncrs = "wgs84"\n'
            f'[boundaries]\npath = "{s}/jinan_districts_gcj02.geojson"\ncrs = "gcj02"\n'
            f'[tiles]\nenabled = false\n[overview]\nenabled = false\n[surface]\nenabled = false\n'
            f'[output]\ndir = "{d}/out"\n',
            encoding="utf-8",
        )
        subprocess.run([exe, "build", "--config", str(d / "cfg.toml"), "-q"], check=True, stdout=subprocess.DEVNULL)
        out = d / "out"
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        epsg = summary["metric_crs"]["epsg"]
        if epsg != 32650:
            print(f"riskmap measured in EPSG:{epsg}; this oracle built its points in EPSG:32650")
            return 1
        rows = list(csv.DictReader(open(out / "lifelines.csv", encoding="utf-8-sig")))
        gj = json.loads((out / "lifelines.geojson").read_text(encoding="utf-8"))
    bad = []
    # the oracle: every pair
    want = {}
    for i, (x, y) in enumerate(ents_m):
        p = Point(x, y)
        for li, line in enumerate(lines_m):
            dist = line.distance(p)
            pr, cr = zones[li]
            inp, inc, reach = dist <= pr + TOL, cr is not None and dist <= cr + TOL, dist <= radius[i]
            if inp or inc or reach:
                rel = "位于保护范围内" if inp else "位于控制范围内" if inc else "影响半径覆盖管线"
                want[(f"E{i:04d}", f"L{li + 1:02d}")] = (rel, dist)
    got = {(r["企业编号"], r["管线编号"]): (r["关系"], float(r["距中心线(米)"])) for r in rows}
    for k in sorted(set(want) | set(got)):
        if k not in got:
            bad.append(f"{k}: shapely {want[k]}, riskmap does not list it")
        elif k not in want:
            bad.append(f"{k}: riskmap {got[k]}, shapely finds it outside every zone and radius")
        elif want[k][0] != got[k][0] or abs(want[k][1] - got[k][1]) > 0.006:
            bad.append(f"{k}: shapely {want[k]}, riskmap {got[k]}")
    exact = sum(1 for (i, li), (rel, dist) in want.items() if abs(dist - zones[int(li[1:]) - 1][0]) < 1e-6)
    # per line: who is in which zone, the counts by level within near_m
    near_m = summary["lifelines"]["near_m"]
    by_id = {f["properties"]["id"]: f for f in gj["features"] if f["properties"]["role"] == "line"}
    polys = {f["properties"]["id"]: f for f in gj["features"] if f["properties"]["role"] == "protection"}
    for li, line in enumerate(lines_m):
        lid = f"L{li + 1:02d}"
        pr, cr = zones[li]
        f = by_id.get(lid)
        if f is None:
            bad.append(f"{lid}: no line feature in lifelines.geojson")
            continue
        props = f["properties"]
        if abs(props["protect_m"] - pr) > 1e-6 or (cr is None) != (props["control_m"] is None) or (cr and abs(props["control_m"] - cr) > 1e-6):
            bad.append(f"{lid}: widths {props['protect_m']}/{props['control_m']}, the rules say {pr}/{cr}")
        dists = [line.distance(Point(x, y)) for x, y in ents_m]
        inp = sorted(f"E{i:04d}" for i, dd in enumerate(dists) if dd <= pr + TOL)
        inc = sorted(f"E{i:04d}" for i, dd in enumerate(dists) if dd > pr + TOL and cr is not None and dd <= cr + TOL)
        if sorted(props["enterprises_in_protection"]) != inp:
            bad.append(f"{lid}: in protection riskmap {sorted(props['enterprises_in_protection'])}, shapely {inp}")
        if sorted(props["enterprises_in_control"]) != inc:
            bad.append(f"{lid}: in control riskmap {sorted(props['enterprises_in_control'])}, shapely {inc}")
        sd = [line.distance(Point(x, y)) for x, y in sites_m]
        sp = sorted(f"学校{i}" for i, dd in enumerate(sd) if dd <= pr + TOL)
        if sorted(props["sites_in_protection"]) != sp:
            bad.append(f"{lid}: sites in protection riskmap {sorted(props['sites_in_protection'])}, shapely {sp}")
        for k, key in enumerate(LEVEL_KEYS):
            n = sum(1 for i, dd in enumerate(dists) if dd <= near_m + TOL and level[i] == k)
            if props[f"near_{key}"] != n:
                bad.append(f"{lid}: {key} within {near_m} m riskmap {props[f'near_{key}']}, shapely {n}")
        # the polygon
        poly = shapely.transform(shape(polys[lid]["geometry"]), lambda x, y: to_m.transform(x, y), interleaved=False)
        ref = line.buffer(pr, quad_segs=64)
        if abs(poly.area - ref.area) > 0.01 * ref.area:
            bad.append(f"{lid}: protection zone {poly.area:.1f} m², shapely's buffer {ref.area:.1f} m²")
        for _ in range(50):
            q = Point(at(line, pr, -0.01 * pr))
            if line.distance(q) < 0.99 * pr and not poly.contains(q):
                bad.append(f"{lid}: a point {line.distance(q):.3f} m from the line (width {pr}) is outside the polygon")
                break
            q = Point(at(line, pr, 0.02 * pr + 0.05))
            if line.distance(q) > pr * 1.01 + 0.02 and poly.contains(q):
                bad.append(f"{lid}: a point {line.distance(q):.3f} m from the line (width {pr}) is inside the polygon")
                break
    for b in bad[:40]:
        print(b)
    if bad:
        print(f"{len(bad)} findings")
        return 1
    print(f"lifelines: {len(want)} enterprise-line pairs ({exact} exactly at a protection width), {len(lines_m)} lines, "
          f"{len(sites_m)} sites agree with shapely in EPSG:32650")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
