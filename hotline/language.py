"""Which language a message is written in, and which language a person asks for by name."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import yaml

LANGUAGES = ("th", "vi", "km")
LEXICON_DIR = Path(__file__).parent / "lexicon"
KHMER_SPELLINGS = LEXICON_DIR / "km_latin.yaml"

# Unicode ranges of the Thai and Khmer scripts (as regex character-class contents).
THAI_RANGE = "\u0e00-\u0e7f"
KHMER_RANGE = "\u1780-\u17ff\u19e0-\u19ff"
_THAI = re.compile(f"[{THAI_RANGE}]")
_KHMER = re.compile(f"[{KHMER_RANGE}]")
_LAO = re.compile(r"[\u0e80-\u0eff]")
_MYANMAR = re.compile(r"[\u1000-\u109f]")
_LATIN_WORD = re.compile(r"[^\W\d_]+")
# Spaces and punctuation at either end of a message, left out when it is compared with a word.
EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$")
# Letters that only Vietnamese, among the Latin-script languages people here write, uses.
_VIETNAMESE_LETTERS = re.compile(
    "[ăâđêôơưĂÂĐÊÔƠƯ"
    "àảãạằẳẵặầẩẫậèẻẽẹềểễệìỉĩịòỏõọồổỗộờởỡợùủũụừửữựỳỷỹỵ"
    "ÀẢÃẠẰẲẴẶẦẨẪẬÈẺẼẸỀỂỄỆÌỈĨỊÒỎÕỌỒỔỖỘỜỞỠỢÙỦŨỤỪỬỮỰỲỶỸỴ]"
)

# Laughter as people type it: Thai 555 (ha ha ha), haha, hihi, hehe, Vietnamese kkk and =)),
# lol, xD, Thai ฮ่าๆ and Khmer ហាហា / ហិហិ, and laughing emoji. Crying (😭) is not laughter.
LAUGHTER = re.compile(
    r"(?<![\d.,])5{3,}(?![\d.,])"
    r"|(?<![a-z])(?:a?(?:ha){2,}|(?:hi){2,}|(?:he){2,}|k{3,}|lo+l|lmao|xd+)h?(?![a-z])"
    r"|[=:]\)\)|ฮ่า|(?:ហា){2,}|(?:ហិ){2,}|[\U0001F602\U0001F923\U0001F606\U0001F639]",
    re.IGNORECASE,
)


def in_jest(text: str) -> bool:
    """Whether a message laughs ("ช่วยด้วย บอสยากมาก 555", "cuu em voi kkk")."""
    return bool(LAUGHTER.search(text))


def strip_diacritics(text: str) -> str:
    """Lowercase Latin text without tone marks or diacritics ("Hộ chiếu" -> "ho chieu")."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


@cache
def _lexicon() -> dict[str, dict[str, list[str]]]:
    merged: dict[str, dict[str, list[str]]] = {}
    for path in sorted(LEXICON_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for kind, names_by_code in data.items():
            if not isinstance(names_by_code, dict):
                continue
            for code, names in names_by_code.items():
                merged.setdefault(kind, {}).setdefault(code, []).extend(names or [])
    return merged


@cache
def names(kind: str) -> dict[str, list[str]]:
    """The lexicon's names of one kind ("language_names", "country_names"), longest first."""
    return {
        code: sorted({fold(n) for n in found}, key=len, reverse=True)
        for code, found in _lexicon().get(kind, {}).items()
    }


@cache
def _vietnamese_words() -> frozenset[str]:
    data = yaml.safe_load((LEXICON_DIR / "vi_words.yaml").read_text(encoding="utf-8")) or {}
    return frozenset(strip_diacritics(w) for w in data.get("common_words", []))


@cache
def _khmer_spellings() -> dict[str, str]:
    """Each Latin spelling of a Khmer word (hotline/lexicon/km_latin.yaml) -> its first spelling."""
    data = yaml.safe_load(KHMER_SPELLINGS.read_text(encoding="utf-8")) or {}
    return {spelling: forms[0] for forms in data["spellings"] for spelling in forms}


@cache
def _khmer_words() -> frozenset[str]:
    """Latin spellings that are Khmer and not also a common English or Vietnamese word."""
    data = yaml.safe_load(KHMER_SPELLINGS.read_text(encoding="utf-8")) or {}
    shared = set(data["also_other"]) | _vietnamese_words()
    return frozenset(set(_khmer_spellings()) - shared)


def khmer_spelling(word: str) -> str:
    """The spelling a Latin-typed Khmer word folds into ("nhom" -> "knhom"); others unchanged."""
    return _khmer_spellings().get(word, word)


def fold(text: str) -> str:
    """Form in which names are compared: lowercase, Latin without diacritics."""
    return (
        strip_diacritics(text)
        if text.isascii() or _VIETNAMESE_LETTERS.search(text)
        else text.lower()
    )


def detect(text: str) -> str | None:
    """The language of a message by its script: "th", "vi", "km", or None when unsure."""
    thai = len(_THAI.findall(text))
    khmer = len(_KHMER.findall(text))
    if thai or khmer:
        return "th" if thai >= khmer else "km"
    if _LAO.search(text) or _MYANMAR.search(text):
        return None
    if _VIETNAMESE_LETTERS.search(text):
        return "vi"
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    khmer = sum(1 for w in words if w in _khmer_words())
    # Beside a Khmer word, or in a word or two, a word both languages spell alike ("phong":
    # Vietnamese room, Khmer "please") counts for neither.
    shared = _khmer_spellings() if khmer or len(words) <= 2 else {}
    vietnamese = sum(1 for w in words if w in _vietnamese_words() and w not in shared)
    # One Khmer word is enough in a short message, or when every other word is Khmer too.
    few = len(words) <= 2 or all(w in _khmer_spellings() for w in words)
    if khmer > vietnamese and (khmer >= 2 or (khmer == 1 and few)):
        return "km"
    if vietnamese > khmer and (vietnamese >= 2 or (vietnamese == 1 and len(words) <= 2)):
        return "vi"
    return None


def khmer_in_latin_letters(text: str) -> bool:
    """Whether a message is Khmer typed in Latin letters ("knhom chong tov phteah vinh")."""
    return not _KHMER.search(text) and detect(text) == "km"


def named_language(text: str) -> str | None:
    """The language a person names in a message ("nói tiếng Khmer" -> "km"), if any."""
    return find_listed(text, "language_names")


def named_country(text: str) -> str | None:
    """The country a person names ("ở Campuchia" -> "kh"), if any; "other" for any other country."""
    return find_listed(text, "country_names")


def find_listed(text: str, kind: str) -> str | None:
    """The code whose listed word of this kind appears in the text (the longest word wins)."""
    folded = fold(text)
    compact = re.sub(r"[\s\u200b]+", "", folded)
    best: tuple[int, int, str] | None = None
    for code, forms in names(kind).items():
        for form in forms:
            # Thai and Khmer are written without spaces, but people add some: compare without.
            haystack = folded if form.isascii() else compact
            match = _name_pattern(form).search(haystack)
            if match:
                # The longest name wins ("ภาษาไทย" over "ไทย"); among equals, the first.
                candidate = (-len(form), match.start(), code)
                if best is None or candidate < best:
                    best = candidate
    return best[2] if best else None


def said_alone(text: str, kind: str) -> str | None:
    """The code whose listed phrase of this kind is the whole message, punctuation, case, spaces
    and Vietnamese diacritics aside ("Quay lại!" is "quay lai")."""
    said = _bare(text)
    for code, forms in names(kind).items():
        if any(_bare(form) == said for form in forms):
            return code
    return None


def _bare(text: str) -> str:
    """Folded, without spaces or punctuation at either end."""
    return re.sub(r"[\s\u200b]+", "", EDGES.sub("", fold(text)))


@cache
def _name_pattern(form: str) -> re.Pattern[str]:
    escaped = re.escape(form)
    # Latin names stand as whole words ("lao" is not in "laodong"); Thai and Khmer have no spaces.
    return re.compile(rf"(?<![a-z]){escaped}(?![a-z])" if form.isascii() else escaped)
