"""Seals: an HMAC-SHA256 that binds a JSON record to the installation that wrote it.

A proof record says "this installation verified this content with these params". Any
JSON file of the right shape could say it too, so ``verify`` seals every record it
writes with a key of its own, and the gate admits a record only with a valid seal. A
seal proves that a holder of the key wrote the record; it proves nothing to another
installation (which has another key) and nothing about the proof itself, which is why
a certificate, re-checked against the model, is what travels between machines.

The key is 32 random bytes, kept as hex in ``$SEQPROVE_KEY_FILE`` if set, else
``$XDG_CONFIG_HOME/seqprove/key``, else ``~/.config/seqprove/key``. It is created on
first use with mode 0600; a key file that others can read or write is refused, since
anyone who can read it can forge records. Importing this module is cheap (no solver):
the quick path of ``verify`` checks seals too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from checker.errors import SeqproveError

KEY_ENV = "SEQPROVE_KEY_FILE"
FIELD = "mac"
"""The field of a sealed record that holds its seal (hex HMAC-SHA256)."""


class KeyFileError(SeqproveError):
    """The installation's key cannot be read or made; the message says why."""


def key_path() -> Path:
    """Where this installation's key is."""
    given = os.environ.get(KEY_ENV)
    if given:
        return Path(given)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "seqprove" / "key"


def load_key(create: bool) -> bytes | None:
    """The key, made first when ``create`` and there is none; None when there is none
    and ``create`` is false.

    Raises
    ------
    KeyFileError
        When the key file cannot be read or written, is malformed, or is open to
        other users.
    """
    path = key_path()
    if not path.exists():
        if not create:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read that one
        except OSError as exc:
            raise KeyFileError(f"cannot create the key {path}: {exc.strerror or exc}") from None
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
    try:
        mode = path.stat().st_mode
        text = path.read_text().strip()
    except OSError as exc:
        raise KeyFileError(f"cannot read the key {path}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"the key {path} is open to other users (chmod 600 it)")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise KeyFileError(f"the key {path} is not a seqprove key (hex, 32 bytes)")
    return key


def _content(record: dict[str, Any]) -> bytes:
    """The bytes a seal covers: the record without its seal, as canonical JSON."""
    body = {k: v for k, v in record.items() if k != FIELD}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def seal(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its seal under this installation's key (made if need be)."""
    key = load_key(create=True)
    assert key is not None
    mac = hmac.new(key, _content(record), hashlib.sha256).hexdigest()
    return {**{k: v for k, v in record.items() if k != FIELD}, FIELD: mac}


def seal_problem(record: dict[str, Any]) -> str | None:
    """Why ``record`` is not sealed by this installation, or None when it is."""
    given = record.get(FIELD)
    if not isinstance(given, str):
        return "it has no seal (an HMAC written by `seqprove verify`)"
    try:
        key = load_key(create=False)
    except KeyFileError as exc:
        return str(exc)
    if key is None:
        return f"this installation has no key ({key_path()}), so it wrote no record"
    expected = hmac.new(key, _content(record), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given, expected):
        return "its seal is not valid (edited, hand-written, or from another installation)"
    return None


def sealed(record: dict[str, Any]) -> bool:
    """Whether ``record`` carries a valid seal of this installation."""
    return seal_problem(record) is None
