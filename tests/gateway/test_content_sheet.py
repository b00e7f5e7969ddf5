"""The review sheet (hotline/content_sheet.py) on a copy of content/ and domain/: exported, changed
as a reviewer would in Excel, imported; the assistant then says the new words, and a row that the
lint would refuse is refused whole. Runs in the services' environment, which has openpyxl."""

from __future__ import annotations

import csv
import io
import json
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook

from hotline import content, responses, rights
from hotline.content_sheet import main

ROOT = content.CONTENT_DIR.parent
# Three cells in three languages: a turn's Thai (two bubbles now, with Windows line ends as Excel
# writes them), a rights answer's Vietnamese (decomposed, as a Mac may type it), a button's Khmer.
MENU_TH = "คุณต้องการทำอะไรคะ?\r\n\r\nถ้าตอนนี้คุณตกอยู่ในอันตราย บอกฉันได้ทันทีเลยค่ะ"
PASSPORT_VI = (
    "Việc người khác giữ hộ chiếu hoặc giấy tờ tùy thân của bạn trái với ý muốn của bạn là một "
    "dấu hiệu của lao động cưỡng bức. Từ năm 2017, luật Thái Lan coi việc thu giữ giấy tờ tùy thân "
    "là lao động cưỡng bức. Bạn có thể yêu cầu nói chuyện với một nhân viên của đường dây nóng này "
    "tại đây, hoặc gọi:"
)
RIGHTS_KM = "សិទ្ធិខ្ញុំ"
EDITS = {
    ("turns.utter_menu", "th"): MENU_TH,
    ("rights.passport_taken.th", "vi"): unicodedata.normalize("NFD", PASSPORT_VI),
    ("buttons.my_rights", "km"): RIGHTS_KM,
}
LONG_LABEL = "สิทธิของฉันในที่ทำงานใหม่"
FORMATS = ["xlsx", "csv", "csv;"]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of content/ and domain/responses.yml that the loaders and the import use."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    (tmp_path / "domain").mkdir()
    shutil.copy(responses.RESPONSES, tmp_path / "domain" / "responses.yml")
    monkeypatch.setattr(content, "CONTENT_DIR", tmp_path / "content")
    monkeypatch.setattr(responses, "RESPONSES", tmp_path / "domain" / "responses.yml")
    content.reload()
    yield tmp_path
    content.reload()


def files(folder: Path) -> dict[str, str]:
    """Every content file and responses.yml of the copy, by name."""
    found = sorted((folder / "content").glob("*.yaml")) + [folder / "domain" / "responses.yml"]
    return {path.name: path.read_text(encoding="utf-8") for path in found}


def exported(folder: Path, form: str) -> Path:
    """The sheet as `make content-sheet` writes it, in one format ("csv;": as a Vietnamese Excel
    saves it again, with semicolons)."""
    assert main(["export", "--out", str(folder / "sheet")]) == 0
    sheet = folder / "sheet" / f"content.{form.rstrip(';')}"
    if form == "csv;":
        edit_csv(sheet, {}, delimiter=";")
    return sheet


def edit_xlsx(path: Path, edits: dict[tuple[str, str], str]) -> None:
    """Change cells by key and column, and save the workbook as Excel would (a carriage return
    kept as "_x000D_")."""
    book = load_workbook(path)
    sheet = book["texts"]
    header = [cell.value for cell in sheet[1]]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    for (key, column), text in edits.items():
        rows[key][header.index(column)].value = text.replace("\r", "_x000D_")
    book.save(path)


def edit_csv(path: Path, edits: dict[tuple[str, str], str], delimiter: str = "") -> None:
    """Change cells by key and column, and save the file as CSV UTF-8 (with this delimiter, or
    the one it had)."""
    with path.open(encoding="utf-8-sig", newline="") as stream:
        text = stream.read()
    had = ";" if ";" in text.partition("\n")[0] else ","
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=had))
    header = table[0]
    for (key, column), value in edits.items():
        row = next(row for row in table if row[0] == key)
        row[header.index(column)] = value
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream, delimiter=delimiter or had).writerows(table)


def edit(path: Path, edits: dict[tuple[str, str], str]) -> None:
    """Change cells of an exported sheet, whichever its format."""
    if path.suffix == ".xlsx":
        edit_xlsx(path, edits)
    else:
        edit_csv(path, edits)


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """The lines that differ, old and new (the file keeps its number of lines)."""
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def response(made: str, name: str, language: str) -> Any:
    """One language's variation of a response in domain/responses.yml."""
    variations = yaml.safe_load(made)["responses"][name]
    return next(v for v in variations if v.get("condition", [{}])[0].get("value") == language)


@pytest.mark.parametrize("form", FORMATS)
def test_a_reviewed_sheet_comes_back_and_the_bot_says_the_new_words(
    workspace: Path, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Export, change three cells in three languages, import: the turn, the rights answer and
    the button say the new words, and only those lines of the files changed."""
    sheet = exported(workspace, form)
    before = files(workspace)
    edit(sheet, EDITS)

    assert main(["import", str(sheet)]) == 0
    said = capsys.readouterr().out

    menu_th = MENU_TH.replace("\r\n", "\n")
    assert content.turns().turns["utter_menu"].text["th"] == menu_th
    assert content.turns().buttons["my_rights"].title["km"] == RIGHTS_KM
    assert rights.answer("passport_taken", "th", "vi").startswith(PASSPORT_VI + "\n\n")
    after = files(workspace)
    made = after["responses.yml"]
    assert made == responses.render()
    assert response(made, "utter_menu", "th")["text"] == menu_th
    buttons = response(made, "utter_menu", "km")["buttons"]
    assert RIGHTS_KM in [button["title"] for button in buttons]

    assert [name for name in before if before[name] != after[name]] == [
        "rights.yaml",
        "turns.yaml",
        "responses.yml",
    ]
    assert [new for _, new in changed_lines(before["turns.yaml"], after["turns.yaml"])] == [
        f'    km: "{RIGHTS_KM}"',
        '    th: "คุณต้องการทำอะไรคะ?\\n\\nถ้าตอนนี้คุณตกอยู่ในอันตราย บอกฉันได้ทันทีเลยค่ะ"',
    ]
    assert changed_lines(before["rights.yaml"], after["rights.yaml"]) == [
        (
            next(line for line in before["rights.yaml"].splitlines() if "Bị giữ hộ chiếu" in line),
            f'      vi: "{PASSPORT_VI}"',
        ),
    ]
    quoted_menu = json.dumps(menu_th, ensure_ascii=False)
    for _, new in changed_lines(before["responses.yml"], made):
        assert quoted_menu in new or f'title: "{RIGHTS_KM}"' in new
    assert "+++ b/content/turns.yaml" in said and "+++ b/domain/responses.yml" in said
    assert "rights.passport_taken.th: states a fact from" in said
    assert "3 row(s) changed, 0 refused" in said


def test_a_row_that_breaks_the_lint_is_refused_whole(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A label of 25 characters, and a Thai turn without its particle beside a good Vietnamese
    change: both rows refused, with why, and nothing of them written; a good row still goes in."""
    sheet = exported(workspace, "xlsx")
    before = files(workspace)
    assert len(LONG_LABEL) == 25
    menu_vi = "Bạn muốn làm gì? Nếu bây giờ bạn gặp nguy hiểm, hãy báo cho tôi ngay."
    edit(
        sheet,
        {
            ("buttons.my_rights", "th"): LONG_LABEL,
            ("turns.utter_menu", "th"): "คุณต้องการทำอะไร",
            ("turns.utter_menu", "vi"): menu_vi,
            ("countries.kh", "vi"): "Cam-pu-chia",
        },
    )

    assert main(["import", str(sheet)]) == 1
    said = capsys.readouterr().out

    assert "refused row" in said
    assert "buttons.my_rights: nothing of it written\n    [th] label of 25 characters" in said
    assert "turns.utter_menu: nothing of it written\n    [th] a Thai turn ends with" in said
    assert "1 row(s) changed, 2 refused" in said
    after = files(workspace)
    assert [name for name in before if before[name] != after[name]] == ["countries.yaml"]
    assert content.turns().turns["utter_menu"].text["vi"] != menu_vi


def test_a_word_in_braces_must_stay(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """{country_name} is filled in by the assistant: a text without it is refused."""
    sheet = exported(workspace, "csv")
    before = files(workspace)
    edit(sheet, {("turns.utter_country_noted", "th"): "ตกลงค่ะ: {ประเทศ}"})

    assert main(["import", str(sheet)]) == 1
    assert "[th] keep the words in braces as they were ({country_name})" in capsys.readouterr().out
    assert files(workspace) == before


def test_an_unknown_key_is_refused(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A row whose key is no text (renamed, or added by hand) changes nothing."""
    sheet = exported(workspace, "xlsx")
    before = files(workspace)
    book = load_workbook(sheet)
    book["texts"]["A2"].value = "turns.utter_greeting"
    book["texts"]["D2"].value = "สวัสดีค่ะ"
    book.save(sheet)

    assert main(["import", str(sheet)]) == 1
    said = capsys.readouterr().out
    assert "refused row 2: turns.utter_greeting: no such text" in said
    assert "0 row(s) changed, 1 refused" in said
    assert files(workspace) == before


@pytest.mark.parametrize("form", FORMATS)
def test_an_unchanged_sheet_changes_nothing(
    workspace: Path, form: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every text comes back as it went out, blank lines and Thai and Khmer included."""
    sheet = exported(workspace, form)
    before = files(workspace)
    capsys.readouterr()

    assert main(["import", str(sheet)]) == 0
    assert capsys.readouterr().out == "no change\n"
    assert files(workspace) == before


def test_an_empty_cell_erases_nothing(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cell emptied by mistake leaves its text, and the output says so."""
    sheet = exported(workspace, "xlsx")
    before = files(workspace)
    edit(sheet, {("turns.utter_menu", "km"): ""})

    assert main(["import", str(sheet)]) == 0
    said = capsys.readouterr().out
    assert "turns.utter_menu [km]: empty cell, the text stays as it is" in said
    assert files(workspace) == before


def test_a_source_is_not_changed_from_the_sheet(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fact's source is changed in content/, with FACTS.md: an edited source cell is named."""
    sheet = exported(workspace, "csv")
    before = files(workspace)
    edit(sheet, {("rights.passport_taken.th", "source"): "a friend told me"})

    assert main(["import", str(sheet)]) == 0
    said = capsys.readouterr().out
    assert "rights.passport_taken.th: the source column is not read back" in said
    assert files(workspace) == before


def test_a_dry_run_shows_the_diff_and_writes_nothing(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run prints what would change and leaves every file as it was."""
    sheet = exported(workspace, "xlsx")
    before = files(workspace)
    edit(sheet, {("buttons.my_rights", "km"): RIGHTS_KM})

    assert main(["import", str(sheet), "--dry-run"]) == 0
    said = capsys.readouterr().out
    assert f'+    km: "{RIGHTS_KM}"' in said
    assert "1 row(s) would change, 0 refused (dry run: nothing written)" in said
    assert files(workspace) == before


def test_a_sheet_without_its_header_is_not_read(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a `key` column there is nothing to match rows to: nothing is written."""
    sheet = workspace / "texts.csv"
    sheet.write_text("turns.utter_menu,bubble,x,คุณต้องการทำอะไรคะ\n", encoding="utf-8")
    before = files(workspace)

    assert main(["import", str(sheet)]) == 1
    assert "the first row must name the columns" in capsys.readouterr().out
    assert files(workspace) == before
