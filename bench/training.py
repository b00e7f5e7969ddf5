"""Full training time and peak memory of the project's model, from nothing (Rasa's cache ignored).

Usage: .venv-rasa/bin/python bench/training.py
Trains into a temporary directory with `rasa train --force`, so models/ is left as it is.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"


def count_examples() -> int:
    """Training examples in nlu_data/ (lines that start an example)."""
    return sum(
        1
        for path in (ROOT / "nlu_data").glob("*/*.yml")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("    - ")
    )


def main() -> None:
    """Train once and print the figures."""
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = subprocess.run(
            [
                RASA,
                "train",
                "--force",
                "--domain",
                "domain",
                "--data",
                "nlu_data",
                "dialogue",
                "--config",
                "config.yml",
                "--out",
                out,
                "--fixed-model-name",
                "timing",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        seconds = time.perf_counter() - start
        if result.returncode:
            sys.exit(result.stderr[-3000:])
        size = (Path(out) / "timing.tar.gz").stat().st_size / 1e6
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"training examples: {count_examples()}, cores: {os.cpu_count()}")
    print(f"full training: {seconds / 60:.1f} min, peak memory {peak:.0f} MB, model {size:.0f} MB")


if __name__ == "__main__":
    main()
