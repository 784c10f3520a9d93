#!/usr/bin/env python3
"""A 1M-enterprise register through `riskmap validate` within memory (run by .ci/run with
the release binary; issue #30 §3).

`riskmap sample --count 1000000` writes the register (1M enterprises, ~2.7M risk points,
hidden dangers, sites) into a temporary folder; `riskmap validate` reads it as a user
would. Checked: every row is accounted for (accepted + rejected = the rows written, as
counted here from the CSV), the exit code is 0 or 1 (1 when rows are rejected), and the
process's peak memory stays under the bound below. Exits 1 with the finding.

usage: million.py RISKMAP_BIN
"""
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COUNT = 1_000_000
# Peak resident memory allowed for validate on 1M enterprises (and their 2.7M risk
# points). Measured 2,534 MB on 2026-12-06, the same as the whole build's peak (README,
# Benchmarks: loading is the peak). The bound catches a regression such as the rows held
# twice (about 5 GB), not the last few percent.
BOUND_MB = 3072


def main(exe: str) -> int:
    with tempfile.TemporaryDirectory(prefix="riskmap-1m-") as d:
        reg = Path(d) / "reg"
        subprocess.run([exe, "sample", "--count", str(COUNT), "--out", str(reg)], check=True,
                       stdout=subprocess.DEVNULL)
        with open(reg / "enterprises.csv", "rb") as f:
            rows = sum(1 for _ in f) - 1  # no quoted line breaks in the generated register
        cfg = Path(d) / "cfg.toml"
        cfg.write_text(
            f'[enterprises]\npath = "{reg}/enterprises.csv"\n'
            f'[assessments]\npath = "{reg}/assessments.csv"\n'
            f'[hazards]\npath = "{reg}/hidden_dangers.csv"\n'
            f'[boundaries]\npath = "{reg}/jinan_districts_gcj02.geojson"\ncrs = "gcj02"\n'
            f'[output]\ndir = "{d}/out"\n',
            encoding="utf-8",
        )
        out, err = Path(d) / "stdout", Path(d) / "stderr"
        t = time.monotonic()
        with open(out, "wb") as o, open(err, "wb") as e:
            child = subprocess.Popen([exe, "validate", "--lang", "en", "--config", str(cfg)], stdout=o, stderr=e)
            # this child's own peak (wait4), not the sample step's
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        secs = time.monotonic() - t
        peak_mb = usage.ru_maxrss / 1024
        stdout, stderr = out.read_text("utf-8", "replace"), err.read_text("utf-8", "replace")
    bad = []
    if child.returncode not in (0, 1):
        bad.append(f"validate exited {child.returncode}: {stderr.strip()[-500:]}")
    m = re.search(r"read enterprises .*?: (\d+) rows, (\d+) accepted, (\d+) rejected", stdout)
    if not m:
        bad.append(f"no enterprises line in validate's output: {stdout[:500]}")
    else:
        n, ok, rej = map(int, m.groups())
        if n != rows or ok + rej != rows:
            bad.append(f"{rows} rows written, validate read {n}: {ok} accepted + {rej} rejected")
    if peak_mb > BOUND_MB:
        bad.append(f"peak memory {peak_mb:.0f} MB, bound {BOUND_MB} MB")
    for line in bad:
        print("FAIL", line)
    print(f"validate on {rows} enterprises: {secs:.1f} s, peak memory {peak_mb:.0f} MB (bound {BOUND_MB}); {len(bad)} findings")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/release/riskmap"))
