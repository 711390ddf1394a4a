"""Checks for proof files people attach (dispute evidence, MDF claims): count, size, type by name
*and* by content, so a renamed executable is refused as firmly as a wrong extension.

One helper for every app that takes invoices, screenshots and lists; the enablement library has
its own, wider set of document types.
"""

from __future__ import annotations

import os

from django.core.exceptions import ValidationError

FILE_TOO_LARGE = "{name} is larger than {limit} MB."
FILE_TYPE = "{name}: attach a PDF, an image (PNG, JPEG), a CSV or a spreadsheet (XLSX)."
TOO_MANY_FILES = "Attach at most {count} files."
MAX_FILE_MB = 5
MAX_FILES = 5
ALLOWED_TYPES = {
    ".pdf": ("application/pdf",), ".png": ("image/png",), ".jpg": ("image/jpeg",), ".jpeg": ("image/jpeg",),
    ".csv": ("text/csv", "text/plain", "application/vnd.ms-excel"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
}
MAGIC = {".pdf": b"%PDF", ".png": b"\x89PNG", ".jpg": b"\xff\xd8", ".jpeg": b"\xff\xd8", ".xlsx": b"PK"}


def check_files(files, *, field: str = "files", max_files: int = MAX_FILES) -> None:
    """Refuse (a ``ValidationError`` on ``field``) too many files, a file over the size limit, or one
    whose extension is not allowed or whose first bytes do not match it."""
    files = list(files or [])
    if len(files) > max_files:
        raise ValidationError({field: TOO_MANY_FILES.format(count=max_files)})
    for upload in files:
        name = os.path.basename(upload.name or "file")
        extension = os.path.splitext(name)[1].lower()
        if upload.size > MAX_FILE_MB * 1024 * 1024:
            raise ValidationError({field: FILE_TOO_LARGE.format(name=name, limit=MAX_FILE_MB)})
        if extension not in ALLOWED_TYPES:
            raise ValidationError({field: FILE_TYPE.format(name=name)})
        head = upload.read(8)
        upload.seek(0)
        magic = MAGIC.get(extension)
        if magic is not None and not head.startswith(magic):
            raise ValidationError({field: FILE_TYPE.format(name=name)})
        if extension == ".csv" and b"\x00" in head:
            raise ValidationError({field: FILE_TYPE.format(name=name)})
