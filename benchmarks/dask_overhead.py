"""The Dask engine's overhead: the same weekly batch in process and on a LocalCluster of 2 workers.

    python benchmarks/dask_overhead.py --customers 100000

Generates (once, cached like batch_throughput.py) N synthetic customers, then runs the whole batch twice, each in
a fresh process as `run_batch_analysis.py` does: `--engine local`, then `--engine dask` (which starts and closes
its own LocalCluster of 2 single-threaded worker processes, inside the measured time). It reports both wall times,
the driver's peak RSS, and a hash of each run's files (the generated-at lines left out), which must be equal: the
engine changes where the chunks run, not what they compute.

The last line reads `local_seconds=X dask_seconds=Y overhead=Z same_outputs=true`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from batch_throughput import BATCH_CHILD, DATA, ROOT, data_args, synthetic_data, synthetic_options


def outputs_hash(folder: Path) -> str:
    """One hash over every file the run wrote, by name; the generated-at lines are left out."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        digest.update(path.name.encode() + b"\0")
        # Line by line: a million customers' CSV is 3 GB, and a child started after this process held it would
        # inherit that peak in its ru_maxrss.
        with path.open("rb") as lines:
            for line in lines:
                if path.suffix not in (".md", ".json") or b"enerated" not in line:
                    digest.update(line)
    return digest.hexdigest()


def run(folder: Path, as_of: date, chunk_size: int, engine: str) -> tuple[float, int, str]:
    """Wall seconds, the driver's peak RSS (MiB) and the outputs' hash of one batch run in a fresh process."""
    with tempfile.TemporaryDirectory(dir=DATA) as outputs:
        argv = [*data_args(folder, as_of), "--chunk-size", str(chunk_size), "--quiet", "--no-store"]
        argv += ["--output", str(Path(outputs) / "weekly.md"), "--engine", engine]
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", BATCH_CHILD, json.dumps({}), *argv],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        wall = time.perf_counter() - started
        if child.returncode != 0 or not child.stdout.strip().endswith(" 0"):
            sys.exit(f"the {engine} batch failed:\n{child.stdout}\n{child.stderr}")
        return wall, int(child.stdout.split()[0]), outputs_hash(Path(outputs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    synthetic_options(parser, customers=100_000)
    parser.add_argument("--chunk-size", type=int, default=50_000, help="the batch's chunk size (default 50,000)")
    args = parser.parse_args()
    folder = synthetic_data(args.customers, args.seed)
    figures = {engine: run(folder, args.as_of, args.chunk_size, engine) for engine in ("local", "dask")}
    for engine, (wall, rss, digest) in figures.items():
        print(f"{engine}: {wall:.1f} s, driver peak RSS {rss:,} MiB, outputs sha256 {digest[:16]}")
    (local, _, local_hash), (dask, _, dask_hash) = figures["local"], figures["dask"]
    same = local_hash == dask_hash
    print(
        f"local_seconds={local:.1f} dask_seconds={dask:.1f} overhead={dask / local:.2f} same_outputs={str(same).lower()}"
    )
    if not same:
        sys.exit("the Dask run's outputs differ from the local run's")


if __name__ == "__main__":
    main()
