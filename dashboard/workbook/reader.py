"""Reading a workbook safely: size, type, encryption and unpacked size are checked before
any parser sees the bytes; then python-calamine reads every sheet as rows of values, row 1
first, so row numbers are the spreadsheet's own."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

import python_calamine

MAX_BYTES = 20 * 2**20  # an upload or a file in the watched folder
MAX_UNPACKED = 200 * 2**20  # what the zip may unpack to (an xlsx or ods is a zip)
MAX_RATIO = 200  # compression ratio beyond which a member is a bomb, not a workbook
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Unreadable(Exception):
    """The file cannot be read as a workbook; `key` and `kw` make the message."""

    def __init__(self, key: str, **kw: Any):
        super().__init__(key)
        self.key, self.kw = key, kw


@dataclass
class RawWorkbook:
    sheets: dict[str, list[list[Any]]]  # sheet name -> rows (row 1 first)


def check(data: bytes) -> str:
    """What the bytes are ("xlsx" or "ods"); raise Unreadable with the reason otherwise."""
    if len(data) > MAX_BYTES:
        raise Unreadable("too_big", size=_mb(len(data)), limit=_mb(MAX_BYTES))
    if data.startswith(OLE_MAGIC):
        # An encrypted xlsx is an OLE container holding "EncryptedPackage"; else legacy .xls.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise Unreadable("password")
        raise Unreadable("old_xls")
    if not data.startswith(b"PK"):
        raise Unreadable("not_spreadsheet")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            unpacked = sum(i.file_size for i in infos)
            worst = max((i.file_size / max(i.compress_size, 1) for i in infos), default=0)
            if unpacked > MAX_UNPACKED or worst > MAX_RATIO and unpacked > 10 * 2**20:
                raise Unreadable("bomb", size=_mb(unpacked), limit=_mb(MAX_UNPACKED))
            names = {i.filename for i in infos}
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "content.xml" in names:
                manifest = z.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
                if b"encryption-data" in manifest:  # a password-protected ODF document
                    raise Unreadable("password")
                return "ods"
    except zipfile.BadZipFile as err:
        raise Unreadable("corrupt", detail=str(err)) from None
    raise Unreadable("not_spreadsheet")


def read(data: bytes) -> RawWorkbook:
    check(data)
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = {
            name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            for name in wb.sheet_names
        }
    except Exception as err:  # calamine raises its own error types for every kind of damage
        raise Unreadable("corrupt", detail=str(err).splitlines()[0][:200]) from None
    return RawWorkbook(sheets)


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f}".replace(".", ",")
