"""What a workbook must be before a native reader sees it (security issue 12).

A 5 KB .xlsx whose one cell sits at XFD1048576 makes python-calamine ask for 512 GiB; an XML
part may declare entities; a zip may unpack to gigabytes or carry `../` names. So the bytes
are checked here, in Python, within fixed limits, and streamed, never inflated whole:

- the file: at most MAX_BYTES, a zip (an .xlsx or .ods), not encrypted;
- the zip: at most MAX_MEMBERS parts, each at most MAX_MEMBER_BYTES and all together at most
  MAX_UNPACKED once unpacked (the sizes it declares are what Python reads, and each part's
  CRC is checked), no part compressed beyond MAX_RATIO, and plain path names (no absolute
  paths, `..`, backslashes, control characters or two parts of one name);
- every XML part: well-formed UTF-8, no DOCTYPE or ENTITY declaration (external entities,
  billion laughs);
- every sheet: at most MAX_SHEETS of them; no cell beyond row MAX_ROWS or column MAX_COLUMNS
  (for .xlsx the `<dimension>` it declares and every `<c>`, where its `r` or the `<row r>`
  and the cells before it put it — an empty `<row>` alone is skipped by calamine; for .ods
  every cell holding something, after `number-rows-repeated` / `number-columns-repeated`:
  the repeated empty rows and cells LibreOffice writes to the sheet's end are fine, calamine
  skips them), and at most MAX_CELLS cells over all sheets as the reader lays them out
  (rows × columns from A1); no run of more than MAX_SPACES repeated spaces in an .ods cell;
  no comment, CDATA section or processing instruction inside an .xlsx sheet (the scan reads
  its tags from the bytes, and no spreadsheet program writes those there).

The parts that pass are packed afresh into a new zip, and only that goes to the native
reader: it reads exactly the bytes checked here (the XML parts, and an .ods's `mimetype`),
whatever another zip reader would make of the original's headers.

check() runs in the reading process (native.py, started by reader.py) just before
python-calamine, so that the checks' own time and memory are bounded with the reading's;
this module therefore imports nothing but the standard library.

The limits fit a real control-board workbook many times over (the template has 5 sheets of
a few hundred rows and at most 7 columns).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from xml.parsers import expat

TYPE_CHECKING = False  # typing and dataclasses would add a third to the reading process's start
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MAX_BYTES = 20 * 2**20  # an upload or a file in the watched folder
MAX_UNPACKED = 200 * 2**20  # what the whole zip may unpack to
MAX_MEMBER_BYTES = 100 * 2**20  # what one part may unpack to
MAX_RATIO = 200  # compression ratio beyond which a large part is a bomb, not a workbook
RATIO_FLOOR = 10 * 2**20  # the ratio counts once the zip unpacks to more than this
MAX_MEMBERS = 1000  # parts in the zip (a real .xlsx has tens, an .ods about 15)
MAX_SHEETS = 50
MAX_ROWS = 20_000  # per sheet: the last row holding a cell
MAX_COLUMNS = 200  # per sheet: the last column holding a cell (GR)
MAX_CELLS = 2_000_000  # over all sheets, rows × columns from A1, as the reader lays them out
MAX_SPACES = 1000  # an .ods `<text:s text:c="…">` run of spaces in one cell
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CHUNK = 64 * 2**10
# read first: the manifest says whether an .ods is encrypted, the others name an .xlsx's sheets
FIRST = ("META-INF/manifest.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")


class Unreadable(Exception):
    """The file cannot be read as a workbook; `key` and `kw` make the message (messages.py).
    `dangerous`: refused as a file that could hurt a reader (a limit, entities, odd names, a
    reader that had to be stopped), not merely as the wrong kind of file."""

    def __init__(self, key: str, **kw: Any):
        super().__init__(key)
        self.key, self.kw = key, kw

    @property
    def dangerous(self) -> bool:
        return self.key not in HARMLESS


HARMLESS = frozenset({"not_spreadsheet", "old_xls", "password", "corrupt"})


class Safe:
    def __init__(self, kind: str, data: bytes):
        self.kind = kind  # "xlsx" or "ods"
        self.data = data  # the checked parts, packed afresh: what the native reader gets


def preflight(data: bytes) -> None:
    """What can be told at a glance (size, kind); raise Unreadable with the reason."""
    if len(data) > MAX_BYTES:
        raise Unreadable("too_big", size=mb(len(data)), limit=mb(MAX_BYTES))
    if data.startswith(OLE_MAGIC):
        # An encrypted xlsx is an OLE container holding "EncryptedPackage"; else legacy .xls.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise Unreadable("password")
        raise Unreadable("old_xls")
    if not data.startswith(b"PK"):
        raise Unreadable("not_spreadsheet")


def check(data: bytes) -> Safe:
    """The workbook's kind and its checked parts; raise Unreadable with the reason otherwise."""
    preflight(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = _members(z)
            kind = _kind({i.filename for i in infos})
            return Safe(kind, _repack(z, infos, kind))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError, OSError, RuntimeError) as err:
        raise Unreadable("corrupt", detail=(str(err).splitlines() or [type(err).__name__])[0][:200]) from None


def mb(n: int) -> str:
    return f"{n / 2**20:.1f}".replace(".", ",")


def count(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0")  # 1 048 576


def column_letters(n: int) -> str:
    letters = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


# -- the zip ------------------------------------------------------------------------------------

_ODD_NAME = re.compile(r"(^/|^[A-Za-z]:|\\|[\x00-\x1f\x7f]|(^|/)\.\.?(/|$)|//)")


def _members(z: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        raise Unreadable("too_many_members", n=count(len(infos)), limit=count(MAX_MEMBERS))
    seen: set[str] = set()
    for i in infos:
        name = i.orig_filename  # zipfile cuts a name at a NUL; the native reader might not
        if not name or _ODD_NAME.search(name) or name in seen:
            raise Unreadable("member_name", name=re.sub(r"[\x00-\x1f\x7f]", "?", name)[:100])
        seen.add(name)
        if i.flag_bits & 0x1:
            raise Unreadable("password")
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_UNPACKED:
        raise Unreadable("bomb", size=mb(unpacked), limit=mb(MAX_UNPACKED))
    for i in infos:
        part = i.filename[:100]
        if i.file_size > MAX_MEMBER_BYTES:
            raise Unreadable("bomb_part", part=part, size=mb(i.file_size), limit=mb(MAX_MEMBER_BYTES))
        ratio = i.file_size / max(i.compress_size, 1)
        if ratio > MAX_RATIO and unpacked > RATIO_FLOOR:
            raise Unreadable("bomb_ratio", part=part, ratio=int(ratio), limit=MAX_RATIO)
    return infos


def _kind(names: set[str]) -> str:
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "content.xml" in names:
        return "ods"
    raise Unreadable("not_spreadsheet")


def _repack(z: zipfile.ZipFile, infos: list[zipfile.ZipInfo], kind: str) -> bytes:
    """Stream every part once: check it, and copy the XML parts (and an .ods's mimetype) into
    a new zip. Images, thumbnails and printer settings are left out: the reader needs none."""
    order = {"mimetype": 0} | {name: 1 for name in FIRST}
    book = Book(kind)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in sorted(infos, key=lambda i: order.get(i.filename, 2)):
            if info.is_dir() or info.file_size == 0:
                continue
            with z.open(info) as src:
                chunk = src.read(CHUNK)
                if info.filename == "mimetype" and kind == "ods":
                    dst.writestr(zipfile.ZipInfo("mimetype"), chunk[:100], zipfile.ZIP_STORED)
                    continue
                if not _looks_like_xml(chunk):
                    continue
                part = Part(info.filename, book)
                with dst.open(info.filename, "w") as w:
                    while chunk:
                        part.feed(chunk)
                        w.write(chunk)
                        chunk = src.read(CHUNK)
                part.close()
    return out.getvalue()


def _looks_like_xml(head: bytes) -> bool:
    """By content, not name: a part named .png that a relationship points at is read as XML."""
    return head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")[:1] == b"<"


# -- the XML parts ----------------------------------------------------------------------------


def _local(name: str) -> str:
    # Elements and attributes by local name, whatever the prefix or namespace: the checks see
    # every element the reader could take for a row or a cell.
    return name.rpartition(":")[2]


def _attr(attrs: dict[str, str], local: str) -> str | None:
    if local in attrs:
        return attrs[local]
    return next((v for k, v in attrs.items() if _local(k) == local), None)


class Book:
    """What the parts add up to: sheets, their names, and the cells laid out."""

    def __init__(self, kind: str):
        self.kind = kind
        self.sheets = self.cells = 0
        self.targets: dict[str, str] = {}  # xlsx: relationship id -> part name
        self.listed: list[tuple[str, str]] = []  # xlsx: (sheet name, relationship id)

    def add_sheet(self) -> None:
        self.sheets += 1
        if self.sheets > MAX_SHEETS:
            raise Unreadable("too_many_sheets", limit=MAX_SHEETS)

    def add_cells(self, rows: int, columns: int) -> None:
        self.cells += rows * columns
        if self.cells > MAX_CELLS:
            raise Unreadable("too_many_cells", n=count(self.cells), limit=count(MAX_CELLS))

    def sheet_name(self, part: str) -> str:
        return next((name for name, rid in self.listed if self.targets.get(rid) == part), part)

    def is_sheet(self, part: str) -> bool:
        """A part the workbook lists as a sheet: calamine reads it as one, whatever it is."""
        return any(self.targets.get(rid) == part for _, rid in self.listed)


class Part:
    """One XML part, fed in chunks to expat (read as UTF-8 whatever it declares, so that
    expat, the checks and the reader see the same characters). Its first element decides
    what else is checked."""

    def __init__(self, name: str, book: Book):
        self.name, self.book = name, book
        self.parser = expat.ParserCreate(encoding="UTF-8")
        self.parser.StartDoctypeDeclHandler = self._declaration
        self.parser.EntityDeclHandler = self._declaration
        self.parser.StartElementHandler = self._root
        self.sheet: Sheet | None = None

    def feed(self, chunk: bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(chunk, final)
        except expat.ExpatError as err:
            raise Unreadable("corrupt", detail=f"{self.name}: {err}") from None
        if self.sheet is not None:
            self.sheet.scan(chunk)

    def close(self) -> None:
        self.feed(b"", final=True)
        if self.sheet is not None:
            self.sheet.close()

    def _declaration(self, *_: Any) -> None:
        raise Unreadable("xml_entities", part=self.name[:100])

    def _hidden(self, *_: Any) -> None:
        raise Unreadable("corrupt", detail=f"{self.name}: a comment, CDATA section or processing instruction")

    def _root(self, name: str, attrs: dict[str, str]) -> None:
        root, book = _local(name), self.book
        handler: Callable[[str, dict[str, str]], None] | None = None
        sheet = root in ("worksheet", "dialogsheet", "macrosheet") or book.is_sheet(self.name)
        if book.kind == "xlsx" and sheet:
            book.add_sheet()
            self.sheet = XlsxSheet(book.sheet_name(self.name), book)
            # text that may look like tags to the scan; no spreadsheet program writes these here
            self.parser.CommentHandler = self._hidden
            self.parser.StartCdataSectionHandler = self._hidden
            self.parser.ProcessingInstructionHandler = self._hidden
        elif book.kind == "ods" and self.name == "content.xml":
            ods = OdsContent(book)
            self.sheet, handler, self.parser.EndElementHandler = ods, ods.start, ods.end
        elif self.name == "xl/workbook.xml":
            handler = self._workbook
        elif self.name == "xl/_rels/workbook.xml.rels":
            handler = self._relationships
        elif self.name == "META-INF/manifest.xml":
            handler = self._manifest
        self.parser.StartElementHandler = handler  # other parts are only parsed, at C speed
        if handler is not None:
            handler(name, attrs)

    def _workbook(self, name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "sheet":
            self.book.listed.append((_attr(attrs, "name") or "?", _attr(attrs, "id") or ""))
            if len(self.book.listed) > MAX_SHEETS:
                raise Unreadable("too_many_sheets", limit=MAX_SHEETS)

    def _relationships(self, name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "Relationship":
            target = attrs.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            self.book.targets[attrs.get("Id", "")] = part

    def _manifest(self, name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "encryption-data":  # a password-protected .ods
            raise Unreadable("password")


_REF = re.compile(rb"\$?([A-Za-z]+)\$?([0-9]+)")
_DIGITS = re.compile(rb"[0-9]+")


class Sheet:
    """Where a sheet's cells reach: the native reader lays them out from A1, so the sheet
    costs (last row) × (last column) cells."""

    def __init__(self, name: str, book: Book):
        self.name, self.book = name, book
        self.last_row = self.last_column = 0

    def scan(self, chunk: bytes) -> None:
        pass

    def reach(self, row: int, column: int, cell: str) -> None:
        if row > MAX_ROWS:
            raise Unreadable("too_many_rows", sheet=self.name, cell=cell, row=count(row), limit=count(MAX_ROWS))
        if column > MAX_COLUMNS:
            raise Unreadable("too_many_columns", sheet=self.name, cell=cell, column=_letters(column),
                             limit=MAX_COLUMNS, last=column_letters(MAX_COLUMNS))
        self.last_row, self.last_column = max(self.last_row, row), max(self.last_column, column)

    def close(self) -> None:
        self.book.add_cells(self.last_row, self.last_column)

    def position(self, ref: bytes) -> tuple[int, int]:
        """b"A1" -> (1, 1); a reference past the limits need not be exact."""
        m = _REF.fullmatch(ref)
        if not m:
            raise self.bad(ref)
        column = 0
        for ch in m[1].upper()[:4]:  # four letters are past any limit already
            column = column * 26 + ch - 64
        return self.number(m[2]), column

    def number(self, text: bytes) -> int:
        """A row number or a repeat count: digits only (the reader refuses others)."""
        if not _DIGITS.fullmatch(text):
            raise self.bad(text)
        return int(text) if len(text) < 10 else 10**10

    def bad(self, value: bytes) -> Unreadable:
        return Unreadable("bad_reference", sheet=self.name, value=value[:40].decode("utf-8", "replace"))


def _letters(column: int) -> str:
    return column_letters(column) if column < 10**6 else "…"


# Start tags, attributes and all (quotes respected: a value may hold ">"). `_TAG` reads one
# tag at a time; the others let a chunk where every cell and row carries its `r` first (as
# every writer puts it) be checked with a few C-speed passes instead.
_P = rb"""(?:[^\s<>/!?=:"']+:)?"""  # a namespace prefix
_TAG = re.compile(rb"<" + _P + rb"""(c|row)(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_DIMENSION = re.compile(rb"<" + _P + rb"""dimension(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_OURS = re.compile(rb"<" + _P + rb"(?:c|row|dimension)[\s/>]")  # the start of one, by name
_ANY_TAG = re.compile(rb"""<[^\s<>/]*(?:[^>"']|"[^"]*"|'[^']*')*>""")
_CELL_R = re.compile(rb'<c\s+r="([A-Za-z]{1,3})([0-9]{1,7})"')
_ROW_R = re.compile(rb'<row\s+r="([0-9]{1,7})"')
_CELL_OR_ROW = re.compile(rb"<(c|row)[ \t\r\n/>]")  # every unprefixed one (XML names end so)
_FIRST_R = re.compile(rb"""\s+r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ATTRS = re.compile(rb"""([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
MAX_TAG = 64 * 2**10  # a cell's or row's tag longer than this is no workbook's


class XlsxSheet(Sheet):
    """A worksheet part, scanned over its bytes (expat checks they are well-formed XML):
    `<dimension ref>`, `<row r>` and `<c r>`, as calamine reads them — a row without `r`
    follows the previous row, a cell without `r` the previous cell of its row; the attribute
    is `r` exactly (calamine ignores `x:r`). A row number reaches through the cells it holds."""

    def __init__(self, name: str, book: Book):
        super().__init__(name, book)
        self.row = self.column = 0
        self.carry = b""

    def scan(self, chunk: bytes) -> None:
        buf, self.carry = self.carry + chunk, b""
        cut = buf.rfind(b"<")
        if cut >= 0 and not _ANY_TAG.match(buf, cut):  # a tag cut by the chunk's end: with the next
            buf, self.carry = buf[:cut], buf[cut:]
            if len(self.carry) > MAX_TAG:
                if _OURS.match(self.carry):
                    raise self.bad(self.carry[:40])
                self.carry = b""  # some other long tag (a list of ranges): nothing to see in it
        if b"dimension" in buf:
            for m in _DIMENSION.finditer(buf):
                self.dimension(m[1])
        if not self.quick(buf):
            self.exact(buf)

    def quick(self, buf: bytes) -> bool:
        """Every cell and row in `buf` has its `r` first: their largest row and column, in C.
        Afterwards the position is taken as the largest seen (a cell without `r` in a later
        chunk then counts on from at least where calamine would put it)."""
        if b":c" in buf or b":row" in buf:  # perhaps a prefixed cell or row: the exact pass
            return False
        cells, rows, tags = _CELL_R.findall(buf), _ROW_R.findall(buf), _CELL_OR_ROW.findall(buf)
        if len(cells) != tags.count(b"c") or len(rows) != len(tags) - len(cells):
            return False
        top = max(map(int, [d for _, d in cells]), default=0)
        right = max((self.position(letters + b"1")[1] for letters in {c for c, _ in cells}), default=0)
        if top > MAX_ROWS or right > MAX_COLUMNS:
            return False  # the exact pass names the cell
        if cells:
            self.last_row, self.last_column = max(self.last_row, top), max(self.last_column, right)
        self.row = max(self.row, top, max(map(int, rows), default=0))
        self.column = max(self.column, right)
        return True

    def exact(self, buf: bytes) -> None:
        for m in _TAG.finditer(buf):
            name, r = m[1], _r(m[2])
            if name == b"c":
                if r is None:
                    row, column = max(self.row, 1), self.column + 1
                else:
                    row, column = self.position(r)
                self.column = column
                if row > self.last_row or column > self.last_column:
                    self.reach(row, column, r.decode().upper() if r else f"{_letters(column)}{row}")
            else:  # a row counts through its cells: calamine skips an empty one (a formatted row)
                self.row, self.column = (self.number(r) if r is not None else self.row + 1), 0

    def dimension(self, attrs: bytes) -> None:
        ref = next((v1 or v2 for k, v1, v2 in _ATTRS.findall(attrs) if k == b"ref"), b"")
        for end in ref.split(b":")[:2] if ref else []:
            row, column = self.position(end)
            if row > MAX_ROWS or column > MAX_COLUMNS:
                raise Unreadable("dimension", sheet=self.name, ref=ref[:40].decode("utf-8", "replace"), rows=count(MAX_ROWS),
                                 columns=MAX_COLUMNS, last=f"{column_letters(MAX_COLUMNS)}{MAX_ROWS}")


def _r(attrs: bytes) -> bytes | None:
    m = _FIRST_R.match(attrs)
    if m:
        return m[1] if m[1] is not None else m[2]
    if b"r" not in attrs:
        return None
    return next((v1 or v2 for k, v1, v2 in _ATTRS.findall(attrs) if k == b"r"), None)


class OdsContent(Sheet):
    """content.xml, through expat's callbacks: each `table:table` a sheet; a row or cell with
    `number-rows-repeated` / `number-columns-repeated` stands for that many. Only a cell that
    holds something reaches: a value type, a formula, or any element inside it (text, an
    annotation); the empty rows and cells LibreOffice repeats to the sheet's end do not."""

    def __init__(self, book: Book):
        super().__init__("", book)
        self.in_table = False
        self.row = self.column = 1  # where the next row / cell starts
        self.row_repeat = 1
        self.row_first = 0  # the row's first column that holds something (0: none yet)
        self.cell: list[int] | None = None  # [repeat, holds something, depth inside it]

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        if local == "s":
            spaces = self.most(attrs, "c")
            if spaces > MAX_SPACES:
                raise Unreadable("long_repeat", sheet=self.name, cell=f"{_letters(self.column)}{self.row}",
                                 n=count(spaces), limit=count(MAX_SPACES))
        if self.cell is not None:
            self.cell[1], self.cell[2] = 1, self.cell[2] + 1
            return
        if local == "table":
            self.close()
            self.book.add_sheet()
            self.name, self.in_table = _attr(attrs, "name") or "?", True
            self.row, self.last_row, self.last_column = 1, 0, 0
        elif not self.in_table:
            return
        elif local == "table-row":
            self.row_repeat = self.most(attrs, "number-rows-repeated")
            self.column, self.row_first = 1, 0
        elif local in ("table-cell", "covered-table-cell"):
            repeat = self.most(attrs, "number-columns-repeated")
            holds = any(_local(k) in ("value-type", "formula") for k in attrs)
            self.cell = [repeat, int(holds), 0]

    def most(self, attrs: dict[str, str], local: str) -> int:
        """A count, at least 1; the largest where two prefixes give one (calamine reads one)."""
        return max([1] + [self.number(v.encode()) for k, v in attrs.items() if _local(k) == local])

    def end(self, name: str) -> None:
        if self.cell is not None:
            if self.cell[2]:
                self.cell[2] -= 1
                return
            repeat, holds, _ = self.cell
            self.cell = None
            if holds:
                last = self.column + repeat - 1
                self.row_first = self.row_first or self.column
                self.reach(self.row, last, f"{_letters(last)}{self.row}")
            self.column += repeat
            return
        local = _local(name)
        if local == "table-row" and self.in_table:
            if self.row_first:
                last = self.row + self.row_repeat - 1
                self.reach(last, self.row_first, f"{_letters(self.row_first)}{last}")
            self.row += self.row_repeat
        elif local == "table":
            self.close()

    def close(self) -> None:
        if self.in_table:
            super().close()
        self.in_table = False
