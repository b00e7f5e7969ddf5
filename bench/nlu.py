"""Intent accuracy and macro-F1 per language on the held-out split, and in_danger recall.

Usage: .venv-rasa/bin/python bench/nlu.py [--model models/assistant.tar.gz]
The held-out examples (tests/nlu_heldout/) are never trained on. A retrieval intent counts as right
only when the rights topic is right too (rights/passport_taken, not just rights).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

import structlog  # noqa: E402
import yaml  # noqa: E402
from rasa.core.agent import Agent  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("th", "vi", "km")
DANGER = "in_danger"


def held_out(language: str) -> list[tuple[str, str]]:
    """(text, intent) pairs of one language's held-out files."""
    pairs = []
    for path in sorted((ROOT / "tests" / "nlu_heldout").glob(f"{language}_*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in block["examples"].splitlines():
                if line.strip():
                    pairs.append((line.strip()[2:].strip(), block["intent"]))
    return pairs


def full_intent(parsed: dict) -> str:  # type: ignore[type-arg]
    """The predicted intent, with the rights topic for the retrieval intent."""
    intent = str(parsed["intent"]["name"])
    if intent == "rights":
        picked = parsed.get("response_selector", {}).get("rights", {}).get("response", {})
        return str(picked.get("intent_response_key") or intent)
    return intent


async def evaluate(model: str, show_misses: bool) -> None:
    """Parse every held-out example and print the figures."""
    agent = Agent.load(model)
    print(f"model: {model}")
    print(
        f"{'lang':<5}{'n':>6}{'accuracy':>10}{'macro-F1':>10}{'danger recall':>15}"
        f"{'danger precision':>18}{'parse p50 ms':>14}"
    )
    all_misses: list[tuple[str, str, str, str]] = []
    for language in LANGUAGES:
        pairs = held_out(language)
        gold, predicted, times = [], [], []
        for text, intent in pairs:
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            times.append((time.perf_counter() - start) * 1000)
            gold.append(intent)
            predicted.append(full_intent(parsed))
        right = sum(g == p for g, p in zip(gold, predicted, strict=True))
        danger = [p for g, p in zip(gold, predicted, strict=True) if g == DANGER]
        flagged = [g for g, p in zip(gold, predicted, strict=True) if p == DANGER]
        recall = danger.count(DANGER) / len(danger) if danger else float("nan")
        precision = flagged.count(DANGER) / len(flagged) if flagged else float("nan")
        macro = f1_score(
            gold, predicted, average="macro", labels=sorted(set(gold)), zero_division=0
        )
        times.sort()
        print(
            f"{language:<5}{len(pairs):>6}{right / len(pairs):>10.1%}{macro:>10.3f}"
            f"{recall:>15.1%}{precision:>18.1%}{times[len(times) // 2]:>14.1f}"
        )
        all_misses += [
            (language, g, p, t) for (t, g), p in zip(pairs, predicted, strict=True) if g != p
        ]
    misses = Counter((g, p) for _, g, p, _ in all_misses)
    print("\nmost frequent confusions (gold -> predicted):")
    for (g, p), n in misses.most_common(12):
        print(f"  {n:>3}  {g} -> {p}")
    if show_misses:
        print("\nevery miss:")
        for language, g, p, t in all_misses:
            print(f"  [{language}] {g} -> {p}: {t}")


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--model", default=str(ROOT / "models" / "assistant.tar.gz"))
    parser.add_argument("--misses", action="store_true", help="print every wrongly parsed example")
    args = parser.parse_args()
    if not Path(args.model).exists():
        sys.exit(f"No model at {args.model}: run `make train` first.")
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(evaluate(args.model, args.misses))


if __name__ == "__main__":
    main()
