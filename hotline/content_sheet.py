"""The review sheet: every text a person reads, one row each, for native speakers to correct.

`python -m hotline.content_sheet export` writes var/content-sheet/content.xlsx and content.csv;
`python -m hotline.content_sheet import FILE` takes a reviewed sheet back: each changed text is
linted as it would ship, written into its content file (nothing else in the file changes) and
shown as a diff; domain/responses.yml is made again when a turn or a button changed. A row with a
problem is refused whole, and the import then fails.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.escape import unescape
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from hotline import content, responses
from hotline.content_lint import known_numbers, problems_of
from hotline.language import LANGUAGES
from hotline.user_texts import UserText, every_text

# The sheet's columns, and their widths in the xlsx.
COLUMNS = (
    ("key", 30),
    ("kind", 8),
    ("english", 45),
    ("th", 50),
    ("vi", 50),
    ("km", 50),
    ("source", 30),
    ("checked", 11),
    ("note", 30),
)
# The columns read back, and the content key each one writes.
EDITABLE = {"english": "en", **{language: language for language in LANGUAGES}}
SHEET = "texts"  # the workbook's sheet of texts (an import reads the first sheet without it)
GREY = PatternFill("solid", fgColor="EEEEEE")
HOW_TO = (
    "How to review these texts",
    "Correct the words in the th, vi and km columns (and english, what they mean). Do not change "
    "key: it says where the text lives.",
    "A blank line inside a cell starts a new chat message (in Excel: Alt+Enter twice).",
    "kind: bubble = a chat message, at most 300 characters between blank lines; label = a button, "
    "at most 20 characters; part = words inside another text; print = the printed leaflet.",
    "The assistant's Thai messages end with ค่ะ or คะ.",
    "Keep words in braces, such as {country_name}, as they are: the assistant fills them in.",
    "source and checked say where a fact comes from; they are not read back. If a fact is wrong, "
    "write it in note.",
    "An empty cell leaves the text as it is. Send the file back as .xlsx (or as CSV UTF-8).",
)
# Words in braces are filled in by the code: a text must keep each of them, and no stray brace.
BRACES = re.compile(r"\{[^{}]*\}|[{}]")


class SheetError(ValueError):
    """A sheet that cannot be read: the message says what to do."""


def _yaml() -> YAML:
    """Round-trip YAML that writes an unchanged content file back byte for byte."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 100000
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def rows(entries: Iterable[UserText]) -> list[list[str]]:
    """The sheet's rows for these texts, the header first."""
    found = [[name for name, _ in COLUMNS]]
    for entry in entries:
        checked = entry.checked.isoformat() if entry.checked else ""
        texts = [entry.texts[language] for language in LANGUAGES]
        found.append([entry.key, entry.kind, entry.en, *texts, entry.source, checked, ""])
    return found


def write_xlsx(table: list[list[str]], path: Path) -> None:
    """The sheet as a workbook: header bold and frozen, text wrapped, read-only columns grey."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    for values in table:
        sheet.append(values)
    wrapped = Alignment(wrap_text=True, vertical="top")
    for index, (name, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        for (cell,) in sheet.iter_rows(min_col=index, max_col=index):
            cell.alignment = wrapped
            if name not in EDITABLE and name != "note":
                cell.fill = GREY
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    help_sheet = book.create_sheet("how to")
    help_sheet.column_dimensions["A"].width = 110
    for line in HOW_TO:
        help_sheet.append([line])
    help_sheet["A1"].font = Font(bold=True)
    for (cell,) in help_sheet.iter_rows():
        cell.alignment = wrapped
    book.save(path)


def write_csv(table: list[list[str]], path: Path) -> None:
    """The sheet as CSV, UTF-8 with a byte-order mark so that Excel reads Thai and Khmer."""
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream).writerows(table)


def export(folder: Path) -> int:
    """Write content.xlsx and content.csv into the folder; say where and how many rows."""
    folder.mkdir(parents=True, exist_ok=True)
    table = rows(every_text())
    write_xlsx(table, folder / "content.xlsx")
    write_csv(table, folder / "content.csv")
    print(f"wrote {len(table) - 1} texts to {folder / 'content.xlsx'} and {folder / 'content.csv'}")
    return 0


def cleaned(value: object) -> str:
    """A cell's text as content/ keeps it: NFC, Unix line ends, no spaces around it."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text).strip()


def _table(path: Path) -> list[list[str]]:
    if path.suffix.lower() == ".xlsx":
        book = load_workbook(path, read_only=True, data_only=True)
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        # Excel keeps a carriage return as "_x000D_", which openpyxl does not read back.
        found = [
            [cleaned(unescape(value) if isinstance(value, str) else value) for value in values]
            for values in sheet.iter_rows(values_only=True)
        ]
        book.close()
        return found
    if path.suffix.lower() == ".csv":
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as error:
            raise SheetError(f"{path} is not UTF-8: save it as 'CSV UTF-8'") from error
        # Excel writes ";" where the decimal mark is a comma (a Vietnamese Windows).
        header = text.partition("\n")[0]
        delimiter = max(",;\t", key=header.count)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return [[cleaned(value) for value in values] for values in reader]
    raise SheetError(f"{path}: read only .xlsx and .csv sheets; save it as one of them")


def read_sheet(path: Path) -> list[dict[str, str]]:
    """The rows of a reviewed sheet (.xlsx or .csv) below its header, by column name."""
    if not path.is_file():
        raise SheetError(f"{path}: no such file")
    table = _table(path)
    header = [name.lower() for name in table[0]] if table else []
    if "key" not in header:
        raise SheetError(f"{path}: the first row must name the columns, with `key` among them")
    return [dict(zip(header, values, strict=False)) for values in table[1:]]


@dataclass(frozen=True)
class Change:
    """New words for one text: by content key (en, th, vi, km)."""

    entry: UserText
    texts: dict[str, str]


@dataclass
class Review:
    """What a reviewed sheet changes, the rows it refuses, and what to tell the reviewer."""

    changes: list[Change] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _brace_problems(entry: UserText, texts: dict[str, str]) -> list[str]:
    found = []
    for language, text in texts.items():
        old = entry.en if language == "en" else entry.texts[language]
        if sorted(BRACES.findall(text)) != sorted(BRACES.findall(old)):
            kept = " ".join(BRACES.findall(old)) or "no braces"
            found.append(f"[{language}] keep the words in braces as they were ({kept})")
    return found


def review(sheet: list[dict[str, str]], entries: list[UserText]) -> Review:
    """Check each row of a reviewed sheet against the content: a row is refused whole when its key
    is unknown or a text it changes has a problem of the lint."""
    by_key = {entry.key: entry for entry in entries}
    known = known_numbers()
    found = Review()
    seen: set[str] = set()
    for number, row in enumerate(sheet, start=2):
        key = row.get("key", "")
        if not key:
            if any(row.get(column) for column in EDITABLE):
                found.refused.append(f"row {number}: no key, so no text to change")
            continue
        entry = by_key.get(key)
        if entry is None:
            found.refused.append(f"row {number}: {key}: no such text (keep the key as exported)")
            continue
        if key in seen:
            found.refused.append(f"row {number}: {key}: the same text twice in the sheet")
            continue
        seen.add(key)
        texts: dict[str, str] = {}
        for column, language in EDITABLE.items():
            if column not in row:
                continue
            old = entry.en if language == "en" else entry.texts[language]
            if not row[column]:
                if old:
                    found.notes.append(f"{key} [{language}]: empty cell, the text stays as it is")
            elif row[column] != old:
                texts[language] = row[column]
        if "source" in row and row["source"] != entry.source:
            found.notes.append(
                f"{key}: the source column is not read back; write the correction in note, "
                f"for the maintainers of content/{entry.file}"
            )
        if not texts:
            continue
        languages = {lang: text for lang, text in texts.items() if lang != "en"}
        proposed = replace(entry.with_texts(languages), en=texts.get("en", entry.en))
        problems = [
            f"[{problem.language}] {problem.message}"
            for problem in problems_of(proposed, known)
            if problem.language in texts
        ] + _brace_problems(entry, texts)
        if problems:
            lines = "".join(f"\n    {problem}" for problem in problems)
            found.refused.append(f"row {number}: {key}: nothing of it written{lines}")
            continue
        found.changes.append(Change(entry, texts))
        if entry.source:
            found.notes.append(
                f"{key}: states a fact from {entry.source}: it must still match FACTS.md"
            )
    return found


def edited(changes: list[Change]) -> dict[Path, tuple[str, str]]:
    """Each content file the changes touch: its text before and after them."""
    by_file: dict[str, list[Change]] = {}
    for change in changes:
        by_file.setdefault(change.entry.file, []).append(change)
    yaml = _yaml()
    found = {}
    for name, file_changes in by_file.items():
        path = content.CONTENT_DIR / name
        before = path.read_text(encoding="utf-8")
        data = yaml.load(before)
        for change in file_changes:
            texts = data
            for step in change.entry.path:
                texts = texts[step]
            for language, text in change.texts.items():
                quoted = DoubleQuotedScalarString(text)
                if language in texts:
                    texts[language] = quoted
                else:  # a text without its English meaning yet: `en` comes first
                    texts.insert(0, language, quoted)
        after = io.StringIO()
        yaml.dump(data, after)
        found[path] = (before, after.getvalue())
    return found


def diff(path: Path, before: str, after: str) -> str:
    """A unified diff of one file, named as git names it."""
    name = path.relative_to(content.CONTENT_DIR.parent).as_posix()
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{name}",
        tofile=f"b/{name}",
    )
    return "".join(lines)


def import_sheet(path: Path, dry_run: bool = False) -> int:
    """Take a reviewed sheet back into content/ (and domain/responses.yml), showing the diff;
    fail when a row was refused."""
    found = review(read_sheet(path), every_text())
    for line in found.refused:
        print(f"refused {line}")
    for line in found.notes:
        print(f"note: {line}")
    files = edited(found.changes)
    for file, (before, after) in files.items():
        print(diff(file, before, after), end="")
    if dry_run:
        if any(file.name == "turns.yaml" for file in files):
            print("domain/responses.yml would be made again from content/turns.yaml")
    elif files:
        for file, (_, after) in files.items():
            file.write_text(after, encoding="utf-8")
        content.reload()
        made = responses.render()
        current = responses.RESPONSES.read_text(encoding="utf-8")
        if made != current:
            print(diff(responses.RESPONSES, current, made), end="")
            responses.RESPONSES.write_text(made, encoding="utf-8")
    changed = len(found.changes)
    summary = f"{changed} row(s) changed, {len(found.refused)} refused"
    if not changed and not found.refused:
        summary = "no change"
    if dry_run:
        summary = summary.replace("changed", "would change") + " (dry run: nothing written)"
    elif changed:
        summary += "; restart the assistant (make run retrains it) to say the new words"
    print(summary)
    return 1 if found.refused else 0


def main(argv: list[str] | None = None) -> int:
    """Export the review sheet, or import a reviewed one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    exporting = commands.add_parser("export", help="write the sheet (.xlsx and .csv)")
    default = content.CONTENT_DIR.parent / "var" / "content-sheet"
    exporting.add_argument("--out", type=Path, default=default, help=f"folder (default {default})")
    importing = commands.add_parser("import", help="take a reviewed sheet back into content/")
    importing.add_argument("file", type=Path, help="the reviewed .xlsx or .csv")
    importing.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    args = parser.parse_args(argv)
    if args.command == "export":
        return export(args.out)
    try:
        return import_sheet(args.file, args.dry_run)
    except SheetError as error:
        print(error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
