"""The export's files: CSV for Excel in Russian, and xlsx, written row by row.

Nothing is written at `--out` until the last row is: the rows go to a temporary file in the
same folder, renamed over `--out` at the end (one rename within a file system is atomic), so
a failed or interrupted export never leaves a half file that looks complete.

A citizen's text cannot become a formula: OWASP's advice on CSV injection
(https://owasp.org/www-community/attacks/CSV_Injection) is followed in CSV (a cell starting
with = + - @, a tab or a carriage return gets a leading apostrophe, which Excel shows as
text), and every text cell of the xlsx is a string cell, never a formula.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, TextIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from handlers.export_rows import Cell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CELL_LIMIT = 32_767  # characters Excel keeps in one cell (its specifications and limits)
SHEET_TITLE = "tickets"


class Sheet(Protocol):
    def write(self, row: Sequence[Cell]) -> None: ...


def as_text(value: str) -> str:
    """A text that a spreadsheet shows as it is, never evaluates."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class CsvSheet:
    """Semicolons, as Excel expects where the decimal separator is a comma (Russian
    settings use `;` as the list separator), and quotes where a cell holds `;`, `"` or a
    line break (RFC 4180 quoting, by the csv module)."""

    def __init__(self, handle: TextIO) -> None:
        self._writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_MINIMAL,
                                  lineterminator="\r\n")

    def write(self, row: Sequence[Cell]) -> None:
        self._writer.writerow(["" if c is None else as_text(c) if isinstance(c, str) else c
                               for c in row])


class XlsxSheet:
    """openpyxl's write-only workbook: rows go to a temporary file as they come, and
    strings are written inline, so memory does not grow with the rows."""

    def __init__(self) -> None:
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(SHEET_TITLE)

    def write(self, row: Sequence[Cell]) -> None:
        self._sheet.append([self._cell(c) for c in row])

    def _cell(self, value: Cell) -> WriteOnlyCell | int | None:
        if not isinstance(value, str):
            return value
        # Control characters XML 1.0 cannot hold would stop the file being written.
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
        if len(text) > XLSX_CELL_LIMIT:
            text = text[: XLSX_CELL_LIMIT - 1] + "…"
        cell = WriteOnlyCell(self._sheet, value=text)
        cell.data_type = "s"  # openpyxl takes a string starting with = for a formula
        return cell

    def save(self, path: str) -> None:
        self._book.save(path)

    def discard(self) -> None:
        """An export given up: openpyxl's temporary file closed and removed now. Left to the
        garbage collector, its open row writer prints a traceback on stderr."""
        sheet = self._sheet
        with contextlib.suppress(Exception):
            if not sheet.closed:
                sheet.close()
        writer = sheet._writer  # openpyxl's own: no public way to drop a write-only sheet
        if writer is not None:
            with contextlib.suppress(OSError, ValueError):
                writer.cleanup()


@contextlib.contextmanager
def written(out: Path, kind: str) -> Iterator[Sheet]:
    """A sheet whose rows end up at `out` when the block ends without an error; OSError if
    the folder cannot take the file."""
    fd, part = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        if kind == "csv":
            # With a BOM Excel reads the file as UTF-8; without one, as the system's
            # code page, and Cyrillic comes out garbled.
            with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
                yield CsvSheet(handle)
                handle.flush()
                os.fsync(handle.fileno())
        else:
            os.close(fd)
            sheet = XlsxSheet()
            try:
                yield sheet
            except BaseException:
                sheet.discard()
                raise
            sheet.save(part)
            with open(part, "rb") as done:
                os.fsync(done.fileno())
        os.replace(part, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
