"""Intent accuracy and macro-F1 per language on the held-out split, in_danger recall, romanized
Khmer, and how often everyday hyperbole reads as danger.

Usage: .venv-rasa/bin/python bench/nlu.py [--model models/assistant.tar.gz] [--misses] [--check]
The held-out examples (tests/nlu_heldout/) are never trained on. A retrieval intent counts as right
only when the rights topic is right too (rights/passport_taken, not just rights).
- `{th,vi,km}_core.yml` and `_rights.yml`: the held-out split of each language;
- `km_romanized.yml`: Khmer typed in Latin letters ("knhom chong tov phteah vinh");
- `{th,vi,km}_hyperbole.yml`: jokes, games, school, pets and the news ("homework is killing me
  555"): none of them is danger, and each one read as in_danger is a false alarm.
With --check it exits with an error when a figure misses its target (make test runs it).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

import structlog  # noqa: E402
import yaml  # noqa: E402
from rasa.core.agent import Agent  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = ROOT / "tests" / "nlu_heldout"
LANGUAGES = ("th", "vi", "km")
DANGER = "in_danger"
# The targets make test holds the model to (README, "Benchmarks").
MIN_ACCURACY = 0.95
MIN_ROMANIZED_ACCURACY = 0.90
MIN_DANGER_RECALL = 0.98
MAX_FALSE_ALARMS = 0.02


@dataclass
class Scores:
    """What one held-out set measured."""

    name: str
    n: int
    accuracy: float
    macro_f1: float
    danger_recall: float
    danger_precision: float
    false_alarms: float
    parse_p50_ms: float
    misses: list[tuple[str, str, str]]


def read_examples(paths: list[Path]) -> list[tuple[str, str]]:
    """(text, intent) pairs of Rasa NLU files."""
    pairs = []
    for path in paths:
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in block["examples"].splitlines():
                if line.strip():
                    pairs.append((line.strip()[2:].strip(), block["intent"]))
    return pairs


def held_out(language: str) -> list[tuple[str, str]]:
    """(text, intent) pairs of one language's held-out split (its core and rights files)."""
    return read_examples([HELD_OUT / f"{language}_core.yml", HELD_OUT / f"{language}_rights.yml"])


def full_intent(parsed: dict) -> str:  # type: ignore[type-arg]
    """The predicted intent, with the rights topic for the retrieval intent."""
    intent = str(parsed["intent"]["name"])
    if intent == "rights":
        picked = parsed.get("response_selector", {}).get("rights", {}).get("response", {})
        return str(picked.get("intent_response_key") or intent)
    return intent


async def score(agent: Agent, name: str, pairs: list[tuple[str, str]]) -> Scores:
    """Parse every example of one set and measure it."""
    gold, predicted, times = [], [], []
    for text, intent in pairs:
        start = time.perf_counter()
        parsed = await agent.parse_message(text)
        times.append((time.perf_counter() - start) * 1000)
        gold.append(intent)
        predicted.append(full_intent(parsed))
    both = list(zip(gold, predicted, strict=True))
    danger = [p for g, p in both if g == DANGER]
    flagged = [g for g, p in both if p == DANGER]
    calm = [p for g, p in both if g != DANGER]
    times.sort()
    return Scores(
        name=name,
        n=len(pairs),
        accuracy=sum(g == p for g, p in both) / len(pairs),
        macro_f1=float(
            f1_score(gold, predicted, average="macro", labels=sorted(set(gold)), zero_division=0)
        ),
        danger_recall=danger.count(DANGER) / len(danger) if danger else float("nan"),
        danger_precision=flagged.count(DANGER) / len(flagged) if flagged else float("nan"),
        false_alarms=calm.count(DANGER) / len(calm) if calm else float("nan"),
        parse_p50_ms=times[len(times) // 2],
        misses=[(g, p, t) for (t, g), p in zip(pairs, predicted, strict=True) if g != p],
    )


def failures(splits: list[Scores], romanized: Scores, hyperbole: list[Scores]) -> list[str]:
    """Each figure that misses its target, said in a line."""
    found = []
    for s in splits:
        if s.accuracy < MIN_ACCURACY:
            found.append(f"{s.name}: accuracy {s.accuracy:.1%} < {MIN_ACCURACY:.0%}")
    for s in [*splits, romanized]:
        if not s.danger_recall >= MIN_DANGER_RECALL:
            found.append(f"{s.name}: in_danger recall {s.danger_recall:.1%} < 98%")
    if romanized.accuracy < MIN_ROMANIZED_ACCURACY:
        found.append(f"{romanized.name}: accuracy {romanized.accuracy:.1%} < 90%")
    for s in hyperbole:
        if not s.false_alarms <= MAX_FALSE_ALARMS:
            found.append(f"{s.name}: {s.false_alarms:.1%} read as in_danger > 2%")
    return found


async def evaluate(model: str, show_misses: bool, check: bool) -> None:
    """Parse every held-out example, print the figures, and with `check` fail on a missed one."""
    agent = Agent.load(model)
    print(f"model: {model}")
    print(
        f"{'set':<14}{'n':>6}{'accuracy':>10}{'macro-F1':>10}{'danger recall':>15}"
        f"{'danger precision':>18}{'parse p50 ms':>14}"
    )
    splits = [await score(agent, language, held_out(language)) for language in LANGUAGES]
    romanized = await score(agent, "km romanized", read_examples([HELD_OUT / "km_romanized.yml"]))
    for s in [*splits, romanized]:
        print(
            f"{s.name:<14}{s.n:>6}{s.accuracy:>10.1%}{s.macro_f1:>10.3f}{s.danger_recall:>15.1%}"
            f"{s.danger_precision:>18.1%}{s.parse_p50_ms:>14.1f}"
        )
    hyperbole = [
        await score(
            agent, f"{language} hyperbole", read_examples([HELD_OUT / f"{language}_hyperbole.yml"])
        )
        for language in LANGUAGES
    ]
    print(f"\n{'set':<16}{'n':>6}{'read as in_danger':>20}")
    for s in hyperbole:
        alarms = round(s.false_alarms * s.n)
        print(f"{s.name:<16}{s.n:>6}{alarms:>11} ({s.false_alarms:>5.1%})")
    every = [*splits, romanized, *hyperbole]
    misses = Counter((g, p) for s in every for g, p, _ in s.misses)
    print("\nmost frequent confusions (gold -> predicted):")
    for (g, p), n in misses.most_common(12):
        print(f"  {n:>3}  {g} -> {p}")
    if show_misses:
        print("\nevery miss:")
        for s in every:
            for g, p, t in s.misses:
                print(f"  [{s.name}] {g} -> {p}: {t}")
    if check:
        missed = failures(splits, romanized, hyperbole)
        if missed:
            sys.exit("NLU targets missed:\n  " + "\n  ".join(missed))
        print("\nNLU targets met.")


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--model", default=str(ROOT / "models" / "assistant.tar.gz"))
    parser.add_argument("--misses", action="store_true", help="print every wrongly parsed example")
    parser.add_argument("--check", action="store_true", help="fail when a target is missed")
    args = parser.parse_args()
    if not Path(args.model).exists():
        sys.exit(f"No model at {args.model}: run `make train` first.")
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(evaluate(args.model, args.misses, args.check))


if __name__ == "__main__":
    main()
