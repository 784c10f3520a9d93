#!/usr/bin/env python3
"""Independent readers of riskmap's tile archives (run by .ci/run after `riskmap build`).

Every PMTiles archive under OUT/pmtiles/ is read with the Protomaps reference reader (PyPI
`pmtiles`, not the Rust crate riskmap writes with) and compared with the MBTiles archive
of the same layer (OUT/mbtiles/), read with Python's sqlite3: the same tiles, byte for byte; the header's
counts, zooms, bounds and tile type agree with the archive's contents and the MBTiles
metadata; every tile of a raster archive is a PNG, every tile of a vector archive (PMTiles
tile type MVT) gzipped, with `format=pbf` and `vector_layers` in the MBTiles metadata (the
tiles' contents are checked by mvt.py). Exits 1 with one line per finding.

usage: archives.py OUT
"""
import json
import sqlite3
import sys
from pathlib import Path

from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

PNG = b"\x89PNG\r\n\x1a\n"


def main(out: Path) -> int:
    bad = []
    tiles_dir = out / "pmtiles"
    pms = sorted(tiles_dir.glob("*.pmtiles"))
    if not pms:
        print(f"no PMTiles archives in {tiles_dir}")
        return 1
    total = 0
    for pm in pms:
        mb = out / "mbtiles" / (pm.stem + ".mbtiles")
        with open(pm, "rb") as f:
            get = MmapSource(f)
            r = Reader(get)
            h = r.header()
            meta = r.metadata()
            pm_tiles = {}
            for (z, x, y), data in all_tiles(get):
                if (z, x, y) in pm_tiles:
                    bad.append(f"{pm.name}: tile {z}/{x}/{y} listed twice")
                pm_tiles[(z, x, y)] = bytes(data)
            # the directory agrees with point lookups
            for (z, x, y), data in list(pm_tiles.items())[::max(1, len(pm_tiles) // 200)]:
                if r.get(z, x, y) != data:
                    bad.append(f"{pm.name}: get({z},{x},{y}) differs from the directory walk")
        total += len(pm_tiles)
        vector = h["tile_type"] == TileType.MVT
        if vector:
            if h["tile_compression"] != Compression.GZIP:
                bad.append(f"{pm.name}: vector tiles compressed as {h['tile_compression']}, not gzip")
        elif h["tile_type"] != TileType.PNG:
            bad.append(f"{pm.name}: tile type {h['tile_type']}, not PNG or MVT")
        elif h["tile_compression"] not in (Compression.NONE, Compression.UNKNOWN):
            bad.append(f"{pm.name}: PNG tiles compressed again ({h['tile_compression']})")
        if h["addressed_tiles_count"] != len(pm_tiles):
            bad.append(
                f"{pm.name}: header addresses {h['addressed_tiles_count']} tiles, the directory {len(pm_tiles)}"
            )
        contents = len(set(pm_tiles.values()))
        if h["tile_contents_count"] != contents:
            bad.append(
                f"{pm.name}: header says {h['tile_contents_count']} distinct contents, found {contents}"
            )
        zs = {z for z, _, _ in pm_tiles}
        if pm_tiles and (h["min_zoom"], h["max_zoom"]) != (min(zs), max(zs)):
            bad.append(f"{pm.name}: header zooms {h['min_zoom']}-{h['max_zoom']}, tiles {min(zs)}-{max(zs)}")
        if not (h["min_lon_e7"] < h["max_lon_e7"] and h["min_lat_e7"] < h["max_lat_e7"]):
            bad.append(f"{pm.name}: empty header bounds")
        for k, data in pm_tiles.items():
            if not data.startswith(b"\x1f\x8b" if vector else PNG):
                bad.append(f"{pm.name}: tile {k} is not {'gzip' if vector else 'a PNG'}")
                break
        if vector and not (isinstance(meta, dict) and meta.get("vector_layers")):
            bad.append(f"{pm.name}: no vector_layers in the metadata")
        if not isinstance(meta, dict):
            bad.append(f"{pm.name}: metadata is not a JSON object")
        if not mb.exists():
            bad.append(f"{pm.name}: no {mb.name} beside it")
            continue
        db = sqlite3.connect(f"file:{mb}?mode=ro", uri=True)
        mb_tiles = {}
        for z, col, row, data in db.execute(
            "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"
        ):
            mb_tiles[(z, col, (1 << z) - 1 - row)] = bytes(data)  # TMS rows
        md = dict(db.execute("SELECT name, value FROM metadata"))
        db.close()
        if set(mb_tiles) != set(pm_tiles):
            only_pm = sorted(set(pm_tiles) - set(mb_tiles))[:3]
            only_mb = sorted(set(mb_tiles) - set(pm_tiles))[:3]
            bad.append(
                f"{pm.name}: {len(pm_tiles)} tiles vs {len(mb_tiles)} in {mb.name} (only PMTiles {only_pm}, only MBTiles {only_mb})"
            )
        differ = [k for k in pm_tiles if k in mb_tiles and pm_tiles[k] != mb_tiles[k]]
        if differ:
            bad.append(f"{pm.name}: {len(differ)} tiles differ from {mb.name}, e.g. {differ[:3]}")
        if md.get("format") != ("pbf" if vector else "png"):
            bad.append(f"{mb.name}: metadata format {md.get('format')!r}")
        if vector:
            try:
                ids = [l["id"] for l in json.loads(md.get("json", "{}"))["vector_layers"]]
                if not ids:
                    bad.append(f"{mb.name}: empty vector_layers")
            except (ValueError, KeyError, TypeError) as e:
                bad.append(f"{mb.name}: metadata json has no vector_layers ({e})")
        for key, want in (("minzoom", h["min_zoom"]), ("maxzoom", h["max_zoom"])):
            if key in md and int(md[key]) != want:
                bad.append(f"{mb.name}: {key} {md[key]}, PMTiles header {want}")
        if "bounds" in md:
            b = [float(v) for v in md["bounds"].split(",")]
            hb = [h["min_lon_e7"] / 1e7, h["min_lat_e7"] / 1e7, h["max_lon_e7"] / 1e7, h["max_lat_e7"] / 1e7]
            if any(abs(p - q) > 1e-6 for p, q in zip(b, hb)):
                bad.append(f"{mb.name}: bounds {b}, PMTiles header {hb}")
        print(f"{pm.name}: {len(pm_tiles)} tiles, {contents} distinct, z{h['min_zoom']}-{h['max_zoom']}: equal to {mb.name}")
    for line in bad:
        print("FAIL", line)
    print(f"{len(pms)} archives, {total} tiles read with the pmtiles reference reader; {len(bad)} findings")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "output")))
