#!/usr/bin/env python3
"""An independent decoder of riskmap's vector tiles against its GeoJSON (run by .ci/run).

Every tile of OUT/mbtiles/vector*.mbtiles is decoded with PyPI `mapbox-vector-tile` (not
the Rust code that wrote it) and compared with the GeoJSON outputs of the same build:

* enterprises: at the top zoom every enterprise of enterprises.geojson is in its tile,
  where its position rounds to the same tile unit, with the same id, name, industry,
  district, level, level_zh and reason_zh; at every zoom, inside each tile, the
  enterprises decoded plus the `dropped` layer's counts equal the GeoJSON's, level by
  level, and no red (重大) enterprise is missing;
* zones, areas, grid, districts: at the layer's last zoom (its `maxzoom` in the metadata's
  `vector_layers`: areas, grid and districts stop at 12 by default and are overzoomed by
  clients), the pieces of each feature (clipped to their tiles with shapely) add up to the
  GeoJSON polygon's area within 0.5 %, and carry its properties (within 0.5 %, or the
  half unit of quantization along the boundary); no tile deeper than a layer's `maxzoom`
  holds it;
* no gzipped tile is over 500 KB (the default limit) unless only reds are left.

The `_gcj02` twin is checked against the `.gcj02.geojson` files. Exits 1 with one line
per finding.

usage: mvt.py OUT
"""
import gzip
import json
import math
import sqlite3
import sys
from collections import Counter, defaultdict
from pathlib import Path

import mapbox_vector_tile
import shapely
from shapely.geometry import box, Polygon, MultiPolygon
from shapely.validation import make_valid

EXTENT = 4096
MAX_BYTES = 500_000
ENTERPRISE_FIELDS = ["id", "name", "industry", "district", "level", "level_zh", "reason_zh"]
LEVELS = ["red", "orange", "yellow", "blue", "unassessed"]
POLY_KEYS = {
    "zones": ["id", "level", "level_zh", "area_km2", "enterprise_count"],
    "areas": ["name", "adcode", "red", "orange", "yellow", "blue", "unassessed", "total", "level", "level_zh", "reason_zh"],
    "grid": ["id", "district", "red", "total", "level", "level_zh", "reason_zh"],
    "districts": ["name", "adcode"],
    # the emergency layers where the build has them (fire_reach.geojson: one feature per
    # counted station, MVT id = its index + 1)
    "fire_reach": ["id", "name", "method", "enterprises"],
}


def world(lon, lat):
    lat = max(min(lat, 85.0511287798066), -85.0511287798066)
    r = math.radians(lat)
    return (lon + 180.0) / 360.0, (1.0 - math.log(math.tan(r) + 1.0 / math.cos(r)) / math.pi) / 2.0


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["features"]


def decode(data):
    return mapbox_vector_tile.decode(gzip.decompress(data), default_options={"y_coord_down": True})


def piece_area(geom, sq):
    """The area of a decoded polygon inside the tile, ring by ring (a hole clipped at the
    tile's edge runs along its exterior there, which shapely's validity rejects: each
    ring is clipped alone with GEOS, holes subtracted)."""
    t, c = geom["type"], geom["coordinates"]
    if t == "Polygon":
        polys = [c]
    elif t == "MultiPolygon":
        polys = c
    else:
        return None
    a = 0.0
    x0, y0, x1, y1 = sq.bounds
    def clipped(ring):
        # a ring clipped along the tile's edge may touch itself there: buffer(0) reads
        # it as drawn (make_valid may turn such a ring into other shapes)
        return Polygon(ring).buffer(0).intersection(sq).area

    for p in polys:
        a += clipped(p[0])
        a -= sum(clipped(h) for h in p[1:])
    return a


def project(geom, z):
    """A GeoJSON polygon in global tile units at zoom z."""
    n = (1 << z) * EXTENT

    def ring(r):
        return [tuple(v * n for v in world(x, y)) for x, y in r]

    if geom["type"] == "Polygon":
        return make_valid(Polygon(ring(geom["coordinates"][0]), [ring(h) for h in geom["coordinates"][1:]]))
    return make_valid(
        MultiPolygon([Polygon(ring(p[0]), [ring(h) for h in p[1:]]) for p in geom["coordinates"]])
    )


def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))
    return a == b


def check(out: Path, stem: str, suffix: str, bad: list) -> int:
    mb = out / "mbtiles" / f"{stem}.mbtiles"
    db = sqlite3.connect(f"file:{mb}?mode=ro", uri=True)
    md = dict(db.execute("SELECT name, value FROM metadata"))
    zmin, zmax = int(md["minzoom"]), int(md["maxzoom"])
    layer_top = {l["id"]: int(l.get("maxzoom", zmax)) for l in json.loads(md["json"])["vector_layers"]}
    tiles = {}
    for z, col, row, data in db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"):
        tiles[(z, col, (1 << z) - 1 - row)] = bytes(data)
    db.close()
    print(f"{mb.name}: {len(tiles)} tiles z{zmin}-{zmax}")
    geo = lambda name: out / f"{name}{suffix}.geojson"

    # enterprises, by tile at every zoom
    ents = load(geo("enterprises"))
    pos = [world(*f["geometry"]["coordinates"]) for f in ents]
    for z in range(zmin, zmax + 1):
        n = 1 << z
        want = defaultdict(list)
        for i, (x, y) in enumerate(pos):
            want[(z, int(x * n), int(y * n))].append(i)
        for key, idx in want.items():
            data = tiles.get(key)
            if data is None:
                bad.append(f"{stem} {key}: missing, {len(idx)} enterprises are in it")
                continue
            t = decode(data)
            feats = t.get("enterprises", {}).get("features", [])
            # inside the tile proper: the GeoJSON's enterprises of this tile (a position
            # a hair from the edge may round onto it)
            want_ids = {ents[i]["properties"]["id"] for i in idx}
            inside = [f for f in feats if f["properties"].get("id") in want_ids]
            dropped = t.get("dropped", {}).get("features", [{}])[0].get("properties", {}) if "dropped" in t else {}
            got = Counter(f["properties"].get("level") for f in inside)
            exp = Counter(ents[i]["properties"]["level"] for i in idx)
            for lv in LEVELS:
                if got.get(lv, 0) + dropped.get(lv, 0) != exp.get(lv, 0):
                    bad.append(f"{stem} {key}: {lv}: {got.get(lv, 0)} decoded + {dropped.get(lv, 0)} dropped != {exp.get(lv, 0)} in the GeoJSON")
            if dropped and dropped.get("total") != sum(dropped.get(lv, 0) for lv in LEVELS):
                bad.append(f"{stem} {key}: dropped total {dropped.get('total')} is not the sum of its levels")
            ids = {f["properties"].get("id") for f in inside}
            for i in idx:
                p = ents[i]["properties"]
                if p["level"] == "red" and p["id"] not in ids:
                    bad.append(f"{stem} {key}: red enterprise {p['id']} dropped")
            if len(data) > MAX_BYTES and any(f["properties"].get("level") != "red" for f in feats):
                bad.append(f"{stem} {key}: {len(data)} bytes gzipped with non-red enterprises left")
            if z == zmax:
                byid = {f["properties"].get("id"): f for f in inside}
                for i in idx:
                    p = ents[i]["properties"]
                    f = byid.get(p["id"])
                    if f is None:
                        bad.append(f"{stem} {key}: enterprise {p['id']} missing at the top zoom")
                        continue
                    for k in ENTERPRISE_FIELDS:
                        want_v = p.get(k)
                        if want_v == "":
                            want_v = None
                        if f["properties"].get(k) != want_v:
                            bad.append(f"{stem} {key}: {p['id']} {k} {f['properties'].get(k)!r} != {want_v!r}")
                    gx, gy = f["geometry"]["coordinates"]
                    ex = (pos[i][0] * n - key[1]) * EXTENT
                    ey = (pos[i][1] * n - key[2]) * EXTENT
                    if abs(gx - ex) > 1.0 or abs(gy - ey) > 1.0:
                        bad.append(f"{stem} {key}: {p['id']} at {gx},{gy}, the GeoJSON at {ex:.1f},{ey:.1f}")
    print(f"  enterprises: {len(ents)} checked at z{zmin}-{zmax}")

    # polygons at each layer's last zoom: pieces per feature (MVT id = GeoJSON index + 1)
    decoded = {}
    def at_zoom(zz):
        if zz not in decoded:
            decoded[zz] = {k: decode(v) for k, v in tiles.items() if k[0] == zz}
        return decoded[zz]
    sq = box(0, 0, EXTENT, EXTENT)
    for layer, keys in POLY_KEYS.items():
        path = geo(layer)
        if not path.exists():
            continue
        ztop = layer_top.get(layer, zmax)
        deeper = [k for zz in range(ztop + 1, zmax + 1) for k, t in at_zoom(zz).items() if layer in t]
        if deeper:
            bad.append(f"{stem} {layer}: maxzoom {ztop} in vector_layers, but in {len(deeper)} deeper tiles, e.g. {deeper[0]}")
        feats = load(path)
        area = defaultdict(float)
        props = {}
        for (z, x, y), t in at_zoom(ztop).items():
            for f in t.get(layer, {}).get("features", []):
                a = piece_area(f["geometry"], sq)
                if a is None:
                    bad.append(f"{stem} {layer} {z}/{x}/{y}: geometry {f['geometry']['type']}")
                    continue
                area[f["id"]] += a
                props.setdefault(f["id"], f["properties"])
        worst = 0.0
        for i, g in enumerate(feats):
            pg = project(g["geometry"], ztop)
            want = pg.area
            got = area.get(i + 1, 0.0)
            if want <= 0:
                continue
            err = abs(got - want) / want
            worst = max(worst, err)
            # quantization moves each vertex by at most half a unit on each axis: the
            # area by at most ~0.71 unit times the boundary's length
            if err > 0.005 and abs(got - want) > 0.71 * pg.length + 16:
                bad.append(f"{stem} {layer} #{i + 1}: pieces add up to {got:.0f} units², the GeoJSON polygon {want:.0f}")
            p = props.get(i + 1)
            if p is None:
                continue
            for k in keys:
                a, b = p.get(k), g["properties"].get(k)
                if b is None:
                    continue
                if not same(a, b):
                    bad.append(f"{stem} {layer} #{i + 1}: {k} {a!r} != {b!r}")
        print(f"  {layer}: {len(feats)} features at z{ztop}, areas within {worst * 100:.3f} %")
    return len(tiles)


def main(out: Path) -> int:
    bad = []
    stems = sorted(p.stem for p in (out / "mbtiles").glob("vector*.mbtiles"))
    if not stems:
        print(f"no vector tiles in {out / 'mbtiles'}")
        return 1
    total = 0
    for stem in stems:
        suffix = "." + stem.split("_", 1)[1] if "_" in stem else ""
        total += check(out, stem, suffix, bad)
    for line in bad[:50]:
        print("FAIL", line)
    print(f"{len(stems)} vector tilesets, {total} tiles decoded with mapbox-vector-tile; {len(bad)} findings")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "output")))
