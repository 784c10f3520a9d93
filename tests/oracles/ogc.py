#!/usr/bin/env python3
"""The OGC services of `riskmap serve` read by independent clients (run by .ci/run after
`riskmap build`): GDAL's WMTS and OAPIF drivers (Debian gdal-bin) and OWSLib (PyPI).

* WMTS: GDAL lists every raster layer and its _gcj02 twin from the capabilities; a z12
  window GDAL cuts from `WMTS:…,layer=L,tilematrix=12` has the same pixels (band
  checksums) as the tile `/tiles/L/12/x/y.png`; OWSLib's GetTile returns that tile's bytes.
* OGC API – Features: GDAL lists the collections; `ogr2ogr` copies each collection whole
  (following the next links) and gets the GeoJSON output's feature count and ids, and a
  `-spat` box gets the brute-force count; OWSLib reads the landing page, conformance,
  collections and filtered items (level, bbox) with the brute-force counts.

Exits 1 with one line per finding.

usage: ogc.py RISKMAP_BIN OUT   (run from the folder with riskmap.toml)
"""
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from owslib.ogcapi.features import Features
from owslib.wmts import WebMapTileService

bad = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


GDAL_ENV = dict(os.environ)


def run(*args):
    r = subprocess.run(args, capture_output=True, text=True, timeout=600, env=GDAL_ENV)
    if r.returncode != 0:
        bad.append(f"{' '.join(args)[:200]}: exit {r.returncode}: {r.stderr.strip()[:300]}")
    return r.stdout


def tile_bounds_3857(z, x, y):
    size = 2 * math.pi * 6378137.0 / (1 << z)
    w = -math.pi * 6378137.0 + x * size
    n = math.pi * 6378137.0 - y * size
    return w, n - size, w + size, n


def tile_of(lon, lat, z):
    n = 1 << z
    r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)


def checksums(path, expand):
    args = ["gdal_translate", "-q", "-of", "GTiff"]
    if expand:
        args += ["-expand", "rgba"]
    out = str(path) + ".tif"
    run(*args, str(path), out)
    info = json.loads(run("gdalinfo", "-json", "-checksum", out) or "{}")
    return [b.get("checksum") for b in info.get("bands", [])]


def main(binary: str, out: Path) -> int:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    srv = subprocess.Popen([binary, "serve", "--addr", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        meta = json.load(urllib.request.urlopen(f"{base}/api/meta"))
        raster = sorted(meta["layers"] + meta["layers_gcj02"])
        tmp = Path(tempfile.mkdtemp())
        # GDAL's WMTS driver caches tiles under the working folder unless told otherwise
        GDAL_ENV["GDAL_DEFAULT_WMS_CACHE_PATH"] = str(tmp / "gdalwmscache")

        # --- WMTS, GDAL
        caps = f"WMTS:{base}/wmts/1.0.0/WMTSCapabilities.xml"
        info = json.loads(run("gdalinfo", "-json", caps) or "{}")
        subs = info.get("metadata", {}).get("SUBDATASETS", {})
        names = {v.split("layer=")[1].split(",")[0] for k, v in subs.items() if k.endswith("_NAME") and "layer=" in v}
        if names != set(raster):
            bad.append(f"GDAL WMTS layers {sorted(names)} != the raster layers {raster}")
        ents = json.load(open(out / "enterprises.geojson", encoding="utf-8"))["features"]
        red = next(f for f in ents if f["properties"]["level"] == "red")
        lon, lat = red["geometry"]["coordinates"]
        z = 12
        x, y = tile_of(lon, lat, z)
        for layer in ["points", "surface_gcj02", "composite"]:
            if layer not in raster:
                continue
            png = tmp / f"{layer}.png"
            png.write_bytes(urllib.request.urlopen(f"{base}/tiles/{layer}/{z}/{x}/{y}.png").read())
            ds = f"WMTS:{base}/wmts/1.0.0/WMTSCapabilities.xml,layer={layer},tilematrix={z}"
            gi = json.loads(run("gdalinfo", "-json", ds) or "{}")
            gt = gi.get("geoTransform")
            if not gt:
                bad.append(f"GDAL WMTS {layer}: no geotransform")
                continue
            w, s, e, n = tile_bounds_3857(z, x, y)
            col = round((w - gt[0]) / gt[1])
            row = round((n - gt[3]) / gt[5])
            cut = tmp / f"{layer}_wmts.tif"
            run("gdal_translate", "-q", "-srcwin", str(col), str(row), "256", "256", ds, str(cut))
            got = json.loads(run("gdalinfo", "-json", "-checksum", str(cut)) or "{}")
            got_sums = [b.get("checksum") for b in got.get("bands", [])]
            pinfo = json.loads(run("gdalinfo", "-json", str(png)) or "{}")
            paletted = any(b.get("colorInterpretation") == "Palette" for b in pinfo.get("bands", []))
            want_sums = checksums(png, paletted)
            if got_sums != want_sums:
                bad.append(f"GDAL WMTS {layer} {z}/{x}/{y}: band checksums {got_sums} != the tile's {want_sums}")
            else:
                print(f"GDAL WMTS {layer} z{z} window = /tiles/{layer}/{z}/{x}/{y}.png (checksums {got_sums})")

        # --- WMTS, OWSLib
        wmts = WebMapTileService(f"{base}/wmts?service=WMTS&request=GetCapabilities", version="1.0.0")
        if set(wmts.contents) != set(raster):
            bad.append(f"OWSLib WMTS layers {sorted(wmts.contents)} != {raster}")
        if "GoogleMapsCompatible" not in wmts.tilematrixsets:
            bad.append(f"OWSLib: no GoogleMapsCompatible in {list(wmts.tilematrixsets)}")
        r = wmts.gettile(layer="points", tilematrixset="GoogleMapsCompatible", tilematrix=str(z), row=y, column=x, format="image/png")
        direct = urllib.request.urlopen(f"{base}/tiles/points/{z}/{x}/{y}.png").read()
        if r.read() != direct:
            bad.append("OWSLib GetTile points differs from /tiles/points")
        else:
            print(f"OWSLib WMTS: {len(wmts.contents)} layers; GetTile points {z}/{y}/{x} = /tiles/points/{z}/{x}/{y}.png")

        # --- OGC API Features, GDAL
        oapif = f"OAPIF:{base}/ogcapi"
        listing = run("ogrinfo", "-ro", "-q", oapif)
        for c in ["enterprises", "areas", "grid", "zones"]:
            if c not in listing:
                bad.append(f"GDAL OAPIF: collection {c} not listed: {listing[:300]}")
        for c in ["zones", "areas", "grid"]:
            src = out / f"{c}.geojson"
            if not src.exists():
                continue
            want = json.load(open(src, encoding="utf-8"))["features"]
            dst = tmp / f"{c}.geojson"
            run("ogr2ogr", "-f", "GeoJSON", str(dst), oapif, c)
            got = json.load(open(dst, encoding="utf-8"))["features"] if dst.exists() else []
            if len(got) != len(want):
                bad.append(f"GDAL OAPIF {c}: {len(got)} features, the GeoJSON {len(want)}")
            else:
                print(f"GDAL OAPIF ogr2ogr {c}: {len(got)} features = {c}.geojson")
        w, s, e, n = 116.95, 36.6, 117.1, 36.7
        inside = [f for f in ents if w <= f["geometry"]["coordinates"][0] <= e and s <= f["geometry"]["coordinates"][1] <= n]
        dst = tmp / "box.geojson"
        run("ogr2ogr", "-f", "GeoJSON", "-spat", str(w), str(s), str(e), str(n), str(dst), oapif, "enterprises")
        got = json.load(open(dst, encoding="utf-8"))["features"] if dst.exists() else []
        got_ids = sorted(f["properties"]["id"] for f in got)
        if got_ids != sorted(f["properties"]["id"] for f in inside):
            bad.append(f"GDAL OAPIF enterprises -spat: {len(got_ids)} features, brute force {len(inside)}")
        else:
            print(f"GDAL OAPIF enterprises -spat {w},{s},{e},{n}: {len(got_ids)} = brute force")

        # --- OGC API Features, OWSLib
        api = Features(f"{base}/ogcapi")
        conf = api.conformance()["conformsTo"]
        if "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" not in conf:
            bad.append(f"OWSLib: conformance {conf}")
        ids = sorted(c["id"] for c in api.collections()["collections"])
        print(f"OWSLib OGC API Features: collections {ids}")
        reds = [f for f in ents if f["properties"]["level"] == "red"]
        page = api.collection_items("enterprises", level="red", limit=5000)
        if page["numberMatched"] != len(reds) or len(page["features"]) != min(len(reds), 5000):
            bad.append(f"OWSLib items level=red: {page['numberMatched']} matched, {len(page['features'])} returned; brute force {len(reds)}")
        page = api.collection_items("enterprises", bbox=[w, s, e, n], limit=10)
        if page["numberMatched"] != len(inside):
            bad.append(f"OWSLib items bbox: {page['numberMatched']}, brute force {len(inside)}")
        one = api.collection_item("enterprises", red["properties"]["id"])
        if one["properties"]["name"] != red["properties"]["name"]:
            bad.append("OWSLib collection_item: another enterprise")
        print(f"OWSLib: level=red {len(reds)}, bbox {len(inside)}, item {red['properties']['id']}")
    finally:
        srv.terminate()
        srv.wait(timeout=10)
        if "tmp" in locals():
            shutil.rmtree(tmp, ignore_errors=True)
    for line in bad:
        print("FAIL", line)
    print(f"WMTS and OGC API Features read by GDAL and OWSLib; {len(bad)} findings")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2] if len(sys.argv) > 2 else "output")))
