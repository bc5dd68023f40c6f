"""Document files: checked, then stored content-addressed under the deployment's home.

``$CONGVU_HOME/eoffice/files/ab/cd/<sha256>``: the same content is stored once, a file
is never overwritten with other content, and the database keeps the relative path, the
SHA-256, the size and the MIME type. A file written by a transaction that later rolls
back stays on disk unreferenced (harmless; a sweep can remove such orphans later).

What is checked before anything is written: the extension is an accepted type
(``[eoffice] accepted_types``), the content really is of that type (a ``.pdf`` starts
with ``%PDF-`` and ends with ``%%EOF``; Word/OpenDocument/… by their signatures), the
size is within ``max_file_mb``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.utils.translation import gettext as _

from congvu import deployment
from congvu.eoffice.params import EofficeParams
from congvu.errors import CongvuError

ROOT = "eoffice/files"

_MIME = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "rtf": "application/rtf",
    "txt": "text/plain",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "tif": "image/tiff",
    "tiff": "image/tiff",
}
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Upload:
    """A file as the user gave it: its name and its bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class StoredFile:
    path: str
    sha256: str
    size: int
    mime: str
    name: str


def extension(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower().lstrip(".")


def is_pdf(content: bytes) -> bool:
    """A PDF has its ``%PDF-`` header within the first 1024 bytes and ``%%EOF`` at its end
    (within the last 1024 bytes: a truncated upload is refused too)."""
    return b"%PDF-" in content[:1024] and b"%%EOF" in content[-1024:]


def _looks_like(ext: str, content: bytes) -> bool:
    if ext == "pdf":
        return is_pdf(content)
    if ext in ("docx", "xlsx", "odt", "ods"):
        return content.startswith(_ZIP)
    if ext in ("doc", "xls"):
        return content.startswith(_OLE)
    if ext == "rtf":
        return content.startswith(b"{\\rtf")
    if ext == "png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return content.startswith(b"\xff\xd8\xff")
    if ext in ("tif", "tiff"):
        return content[:4] in (b"II*\x00", b"MM\x00*")
    if ext == "txt":
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return b"\x00" not in content
    return False


def check(upload: Upload, params: EofficeParams, *, pdf_only: bool = False) -> str:
    """The MIME type of an acceptable upload, or a :class:`CongvuError` saying why not."""
    name = PurePosixPath(upload.name.replace("\\", "/")).name.strip()
    ext = extension(name)
    if not name or not upload.content:
        raise CongvuError(_("The file %(name)s is empty.") % {"name": name or "?"})
    if pdf_only and ext != "pdf":
        raise CongvuError(_("The file %(name)s must be a PDF (a scan or the electronic "
                            "original).") % {"name": name})
    if ext not in params.accepted_types or ext not in _MIME:
        raise CongvuError(_("Files of type .%(ext)s are not accepted; accepted: %(valid)s.") % {
            "ext": ext or "?", "valid": ", ".join(params.accepted_types)})
    limit = params.max_file_mb * 1024 * 1024
    if len(upload.content) > limit:
        raise CongvuError(_("The file %(name)s is too large (%(size)d MB; at most %(max)d "
                            "MB).") % {"name": name, "size": len(upload.content) // 2**20 + 1,
                                       "max": params.max_file_mb})
    if not _looks_like(ext, upload.content):
        if ext == "pdf":
            raise CongvuError(_("The file %(name)s is not a PDF (or it is damaged or "
                                "incomplete).") % {"name": name})
        raise CongvuError(_("The content of %(name)s is not a .%(ext)s file.") % {
            "name": name, "ext": ext})
    return _MIME[ext]


def absolute(path: str, home: Path | None = None) -> Path:
    """A stored file's place on disk; refuses any path outside the files folder."""
    base = ((home or deployment.home()) / ROOT).resolve()
    target = (base.parent.parent / path).resolve()
    if not target.is_relative_to(base):
        raise CongvuError(_("Invalid stored file path %(path)r.") % {"path": path})
    return target


def store(upload: Upload, params: EofficeParams, *, pdf_only: bool = False,
          home: Path | None = None) -> StoredFile:
    """Check ``upload`` and write it (once per content) under the deployment's home."""
    mime = check(upload, params, pdf_only=pdf_only)
    digest = hashlib.sha256(upload.content).hexdigest()
    relative = f"{ROOT}/{digest[:2]}/{digest[2:4]}/{digest}"
    target = absolute(relative, home)
    if not (target.is_file() and target.stat().st_size == len(upload.content)):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(upload.content)
                fh.flush()
                os.fsync(fh.fileno())
            Path(tmp).chmod(0o640)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    name = PurePosixPath(upload.name.replace("\\", "/")).name.strip()[:255]
    return StoredFile(path=relative, sha256=digest, size=len(upload.content), mime=mime,
                      name=name)


def read(path: str, sha256: str, home: Path | None = None) -> bytes:
    """A stored file's bytes, verified against its hash."""
    data = absolute(path, home).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise CongvuError(_("The stored file %(path)s does not match its checksum.") % {
            "path": path})
    return data
