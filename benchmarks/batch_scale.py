"""How the batch scales: wall time and peak memory for N synthetic customers at several chunk sizes.

    python benchmarks/batch_scale.py --customers 200000 --chunk-size 5000 50000

The customers are copies of data/tiered's 18 profiles under new ids, so every offer stays meaningful. The data
is written once per size to benchmarks/.data/ (ignored by git); each run is a fresh process so peak memory is its own.
"In all" includes loading and validating the JSON data; "in graph runs" is the sum of the chunks' graph runs.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "data" / "tiered"

CHILD = """
import resource, sys
from pathlib import Path
from cross_sell_upsell.cli import batch_main
from cross_sell_upsell.configuration import OrchestratorConfig
code = batch_main(sys.argv[1:], OrchestratorConfig(), Path("."), Path("."))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, code)
"""


def synthetic_data(customers: int) -> Path:
    folder = ROOT / "benchmarks" / ".data" / f"tiered_x{customers}"
    if (folder / "customers.json").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    profiles = json.loads((SOURCE / "customers.json").read_text(encoding="utf-8"))
    copies = [
        {**profiles[index % len(profiles)], "customer_id": f"S{index:07d}", "email": f"s{index}@example.com"}
        for index in range(customers)
    ]
    (folder / "catalog.json").write_text((SOURCE / "catalog.json").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "customers.json").write_text(json.dumps(copies), encoding="utf-8")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--chunk-size", type=int, nargs="+", default=[5_000, 50_000])
    args = parser.parse_args()
    data = synthetic_data(args.customers)
    print(f"{args.customers:,} customers from {data}")
    with tempfile.TemporaryDirectory() as output:
        for chunk_size in args.chunk_size:
            argv = ["--data-dir", str(data), "--as-of", "2024-03-01", "--chunk-size", str(chunk_size), "--verbose",
                    "--output", str(Path(output) / f"chunk_{chunk_size}.md")]
            started = time.perf_counter()
            child = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, check=True)
            seconds = time.perf_counter() - started
            peak_mb, code = child.stdout.split()[-2:]
            graph = sum(float(value) for value in re.findall(r" in (\d+\.\d+) s;", child.stderr))
            print(
                f"chunk size {chunk_size:>7,}: {seconds:6.1f} s in all, {graph:6.1f} s in graph runs, "
                f"peak memory {int(peak_mb):,} MB, exit code {code}"
            )


if __name__ == "__main__":
    main()
