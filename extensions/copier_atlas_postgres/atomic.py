"""Write a file so that a kill or a full disk leaves the old file whole or the new one, never half.

The new text goes to a temporary file created fresh beside the file (O_EXCL and O_NOFOLLOW: never
opened through a link someone planted), with the file's own mode and owner (.env stays 600),
flushed to disk, then renamed over the file. Text is written as given: the caller keeps the file's
line endings.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomically(path: Path, text: str, *, mode: int | None = None) -> None:
    """TEXT (UTF-8, line endings as given) into PATH. An existing PATH keeps its mode and owner;
    a new one gets MODE (default: what the umask allows); a symlink at PATH is replaced by the
    file, not written through."""
    path = Path(path)
    try:
        old = path.lstat()
    except FileNotFoundError:
        old = None
    if old is not None and not path.is_symlink():
        mode = old.st_mode & 0o7777
    elif mode is None:
        mode = 0o666 & ~_umask()
    scratch = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    handle = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(handle, "wb") as out:
            os.fchmod(out.fileno(), mode)
            if old is not None and os.geteuid() == 0 and not path.is_symlink():
                os.fchown(out.fileno(), old.st_uid, old.st_gid)  # root writing a user's file
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_folder(folder: Path) -> None:
    """The rename itself reaches the disk (where the system allows opening a folder)."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
