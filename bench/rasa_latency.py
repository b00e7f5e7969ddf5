"""Per-message latency of Rasa + actions over a scripted 200-turn conversation.

Prints p50/p99 per message over all turns, the first 20 and the last 20, and the Rasa server's
memory, for three set-ups in the same run on the same machine:
  this project      the project's model and config, the windowed Redis tracker store
  stock store       the same model with Rasa's own Redis tracker store (the whole tracker)
  rasa init config  the config `rasa init` writes (DIET, TED, UnexpecTED ...), stock Redis store,
                    trained on the same domain and rules and the first 40 Thai examples of each
                    intent (the script is Thai; with all the data this config takes more than
                    half an hour to train, and the size of the data hardly changes its speed)
The rasa-init model is trained once into models/bench/ and reused while the data is unchanged.

Usage: .venv-rasa/bin/python bench/rasa_latency.py [--turns 200] [--skip-default]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import (  # noqa: E402
    RASA,
    ROOT,
    action_server,
    environment,
    free_port,
    rasa_server,
    redis_server,
)

MODEL = ROOT / "models" / "assistant.tar.gz"
DEFAULT_MODEL = ROOT / "models" / "bench" / "rasa-init-default.tar.gz"

# One person's conversation, in Thai, repeated until the turn count is reached: greetings, rights
# questions, the screening with its answers, the menu, thanks.
SCRIPT = [
    "สวัสดีครับ",
    "นายจ้างเก็บพาสปอร์ตผมไว้ไม่ยอมคืน",
    '/choose_country{"country":"th"}',
    "ทำงานมาสามเดือนแล้วยังไม่ได้เงินเดือนเลย",
    "ต้องทำงานใช้หนี้นายหน้าอีกเท่าไหร่ถึงจะออกได้",
    "อยากเช็คว่าผมถูกค้ามนุษย์หรือเปล่า",
    "/affirm",
    "/deny",
    "/deny",
    "/affirm",
    "/affirm",
    "/unsure",
    "/skip",
    "/deny",
    "/deny",
    "/deny",
    "/deny",
    "ขอบคุณมากครับ",
    "มีเบอร์โทรที่โทรได้ไหม",
    "คุณเป็นบอทหรือเปล่า",
    "/show_menu",
    "ถ้าผมไม่มีเอกสารจะโดนจับไหม",
    "อยากกลับบ้าน ต้องทำยังไง",
    "บายครับ",
]


SAMPLE_PER_INTENT = 40


def write_sample() -> Path:
    """The first examples of each intent of the Thai data, as a Rasa NLU file."""
    blocks = []
    for path in sorted((ROOT / "nlu_data" / "th").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            lines = [line for line in block["examples"].splitlines() if line.strip()]
            kept = "\n".join(lines[:SAMPLE_PER_INTENT]) + "\n"
            blocks.append({"intent": block["intent"], "examples": kept})
    sample = DEFAULT_MODEL.parent / "nlu_sample" / "th.yml"
    sample.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True, sort_keys=False)
    if not sample.exists() or sample.read_text(encoding="utf-8") != text:
        sample.write_text(text, encoding="utf-8")
    return sample.parent


def train_default() -> None:
    """Trains the rasa-init-config model if the data changed since the last one (Rasa checks)."""
    print("training the rasa-init-config model (first time: several minutes) ...", flush=True)
    sample = write_sample()
    subprocess.run(
        [
            RASA,
            "train",
            "--domain",
            "domain",
            "--data",
            str(sample),
            "dialogue",
            "--config",
            "bench/rasa_init_config.yml",
            "--out",
            str(DEFAULT_MODEL.parent),
            "--fixed-model-name",
            DEFAULT_MODEL.stem.removesuffix(".tar"),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def play(url: str, turns: int, sender: str) -> list[float]:
    """Sends the script turn by turn; returns each message's latency in ms."""
    latencies = []
    for turn in range(turns):
        body = json.dumps({"sender": sender, "message": SCRIPT[turn % len(SCRIPT)]}).encode()
        request = urllib.request.Request(
            f"{url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def stock_endpoints(directory: Path) -> Path:
    """endpoints.yml with Rasa's own Redis tracker store instead of the windowed one."""
    text = (
        (ROOT / "endpoints.yml")
        .read_text()
        .replace("type: rasa_plugins.tracker_store.WindowedRedisTrackerStore", "type: redis")
    )
    text = "\n".join(
        line for line in text.splitlines() if "max_events" not in line and "message_key" not in line
    )
    path = directory / "endpoints-stock.yml"
    path.write_text(text)
    return path


def main() -> None:
    """Run the set-ups and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--skip-default", action="store_true", help="skip the rasa-init config")
    args = parser.parse_args()
    if not MODEL.exists():
        sys.exit("No model: run `make train` first.")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if not args.skip_default:
        train_default()
    window = args.turns // 10 if args.turns < 200 else 20
    rows = []
    with tempfile.TemporaryDirectory() as temp, redis_server() as redis_port:
        logs = Path(temp)
        env = environment(redis_port, free_port())
        setups = [
            ("this project", MODEL, ROOT / "endpoints.yml"),
            ("stock store", MODEL, stock_endpoints(logs)),
        ]
        if not args.skip_default:
            setups.append(("rasa init config", DEFAULT_MODEL, stock_endpoints(logs)))
        with action_server(env, logs):
            for name, model, endpoints in setups:
                print(f"{name}: starting Rasa, then {args.turns} turns ...", flush=True)
                with rasa_server(model, env, logs, endpoints) as (url, pid):
                    play(url, 3, f"warm-up-{name}")
                    latencies = play(url, args.turns, f"bench-{name}")
                    rows.append((name, latencies, rss_mb(pid)))
    print(f"\n{args.turns}-turn conversation, ms per message (Rasa + actions, REST channel)")
    header = (
        f"{'set-up':<18}{'p50':>7}{'p99':>7}{f'p50 1-{window}':>11}{f'p99 1-{window}':>11}"
        f"{'p50 last':>10}{'p99 last':>10}{'RSS MB':>8}"
    )
    print(header)
    for name, latencies, rss in rows:
        first, last = latencies[:window], latencies[-window:]
        print(
            f"{name:<18}{percentile(latencies, 50):>7.1f}{percentile(latencies, 99):>7.1f}"
            f"{percentile(first, 50):>11.1f}{percentile(first, 99):>11.1f}"
            f"{percentile(last, 50):>10.1f}{percentile(last, 99):>10.1f}{rss:>8.0f}"
        )


if __name__ == "__main__":
    main()
