"""Canonical forms: what makes two spellings of one Azure setting compare equal.

Both sides of a diff — the desired spec from the stack and the live REST JSON Azure returns — are
brought to one *canonical form* before they are compared (DESIGN.md principle 4, "no phantom
diffs"). This module holds the pieces every resource kind shares:

* comparison keys for scalars: `ci` (case-insensitive: vmSize, enum values, image names),
  `arm_id` (resource ids: case-insensitive, no trailing slash), `location` ("West Europe" is
  `westeurope`), `url`, `duration` (ISO 8601 `PT5M` and .NET `00:05:00` are one value), `datetime`,
  `formula` (autoscale formulas modulo layout, through `canonical_formula`);
* structural forms: `name_value_map` (Azure's ordered `[{name, value}]` metadata lists become a
  map), `keyed_by` (lists whose items have an identity, such as user accounts by name, data disks
  by LUN, become maps), `id_set` (maps keyed by resource id become a sorted list of ids);
* markers for what cannot be compared by value: `Secret` (a desired write-only value: a key or
  password resolved from a secret reference), `Fingerprint` (what the live side knows of a
  write-only value: the fingerprint the deployer recorded when it wrote it) and `Unknown` (a value
  known only after apply, such as the id of a subnet the same plan creates);
* the fingerprint scheme itself (`fingerprint`, `fingerprint_matches`);
* paths: `format_path` / `parse_path` name a place in a canonical document the way plans print
  it (`metadata.team`, `userAccounts.alice.password`, `metadata["a.b"]`, `resourceFiles[0]`).

Comparison keys never change what is displayed: a plan shows `00:05:00 -> PT10M` as the user and
Azure wrote them; only equality goes through the key. Nothing here imports an Azure SDK.

Fingerprints. A write-only value (a storage key, a CIFS password, `nodeDeallocationOption`, a job's
task list) is never returned by Azure, so the deployer records a fingerprint of the value it wrote
next to the resource (pool or job metadata, ARM tags), under `deployer.fingerprint.<path>`:

    pbkdf2-sha256$<iterations>$<salt>$<digest>

where salt is 16 random bytes drawn for every write, and digest is PBKDF2-HMAC-SHA256 of the
value's UTF-8 text with that salt (base64url without padding for both). A changed value no longer
matches (an update); an unchanged one matches (no-op). The fingerprint leaks nothing useful: the
random salt makes equal secrets on two resources (or before and after a rotation back) look
unrelated and defeats precomputed tables, and the key stretching makes guessing a weak password
from the fingerprint expensive; a random key (storage keys, SAS tokens) cannot be guessed at all.
The iteration count travels in the fingerprint, so it can be raised later without invalidating
fingerprints already recorded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from deployer.stack.formula import canonical_formula

__all__ = [
    "MISSING",
    "SENSITIVE",
    "KNOWN_AFTER_APPLY",
    "Fingerprint",
    "NotRead",
    "Secret",
    "Unknown",
    "arm_id",
    "canonical_json",
    "ci",
    "datetime_key",
    "display",
    "duration",
    "duration_ticks",
    "exact",
    "fingerprint",
    "fingerprint_matches",
    "fingerprint_text",
    "format_path",
    "formula",
    "id_set",
    "is_marker",
    "keyed_by",
    "location",
    "name_value_map",
    "parse_path",
    "prune",
    "url",
]


class _Missing:
    """The absence of a value (distinct from JSON null, which canonical forms never contain)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

#: How a secret (or a fingerprint of one) appears in every rendering and in saved plans.
SENSITIVE = "(sensitive)"
#: How a value that exists only once apply has created something appears.
KNOWN_AFTER_APPLY = "(known after apply)"
#: How a write-only value that is not secret appears on the live side (Azure does not return it).
WRITE_ONLY = "(write-only: not returned by Azure)"


# --- markers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """A desired write-only secret: its reference and, when it could be resolved, its value.

    `value` is None when the reference cannot be resolved at plan time; such a secret is not
    compared (the plan warns). The value never appears in repr, renderings or saved plans.
    """

    ref: str
    value: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Fingerprint:
    """The live side of a write-only value: the fingerprint recorded when the deployer wrote it."""

    recorded: str = field(repr=False)
    sensitive: bool = True


@dataclass(frozen=True)
class Unknown:
    """A desired value known only after apply (a reference to a resource the plan creates)."""

    what: str = ""


@dataclass(frozen=True)
class NotRead:
    """A live value the reader did not read (optional extra reads): never compared."""

    what: str = ""


NOT_READ = "(not read)"


def is_marker(value: Any) -> bool:
    return isinstance(value, Secret | Fingerprint | Unknown | NotRead)


def display(value: Any) -> Any:
    """A canonical value as plans show and save it: JSON types only, secrets redacted."""
    if value is MISSING:
        return None
    if isinstance(value, Secret):
        return SENSITIVE
    if isinstance(value, Fingerprint):
        return SENSITIVE if value.sensitive else WRITE_ONLY
    if isinstance(value, Unknown):
        return KNOWN_AFTER_APPLY
    if isinstance(value, NotRead):
        return NOT_READ
    if isinstance(value, Mapping):
        return {str(k): display(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [display(v) for v in value]
    if isinstance(value, str) and "sig=" in value.lower():
        return redact_sas(value)
    return value


_SAS_SIGNATURE = re.compile(r"((?:^|[?&])sig=)[^&#\s\"']*", re.IGNORECASE)


def redact_sas(text: str) -> str:
    """`text` with every SAS signature (`sig=…`) replaced by `(sensitive)`: a live URL Azure returns
    with its SAS (a resource file's httpUrl) is shown in plans, its signature never."""
    return _SAS_SIGNATURE.sub(lambda m: m.group(1) + SENSITIVE, text)


def contains_secret(value: Any) -> bool:
    if isinstance(value, Secret):
        return True
    if isinstance(value, Fingerprint):
        return value.sensitive
    if isinstance(value, Mapping):
        return any(contains_secret(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_secret(v) for v in value)
    return False


# --- comparison keys ------------------------------------------------------------------------------

Key = Callable[[Any], Any]


def exact(value: Any) -> Any:
    return value


def ci(value: Any) -> Any:
    """Case-insensitive strings (vmSize, enum values, image publisher/offer/sku, node agent SKU)."""
    return value.casefold() if isinstance(value, str) else value


def arm_id(value: Any) -> Any:
    """Resource ids: Azure treats them case-insensitively and returns them in either case."""
    return value.strip().rstrip("/").casefold() if isinstance(value, str) else value


def location(value: Any) -> Any:
    """Azure locations: `West Europe`, `westeurope` and `WestEurope` are one location."""
    return value.replace(" ", "").casefold() if isinstance(value, str) else value


def url(value: Any) -> Any:
    """URLs of Azure endpoints: case-insensitive, with or without a trailing slash."""
    return value.strip().rstrip("/").casefold() if isinstance(value, str) else value


def url_without_query(value: Any) -> Any:
    """A URL compared without its query string (a SAS token the deployer generates)."""
    return url(value.split("?", 1)[0]) if isinstance(value, str) else value


def formula(value: Any) -> Any:
    """Autoscale formulas compared modulo whitespace, line endings and a trailing semicolon."""
    return canonical_formula(value) if isinstance(value, str) else value


_TICKS_PER_SECOND = 10_000_000
_ISO_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_TIMESPAN = re.compile(
    r"^(?:(?P<days>\d+)\.)?(?P<hours>\d{1,2}):(?P<minutes>\d{2}):(?P<seconds>\d{2}(?:\.\d{1,7})?)$"
)


def duration_ticks(text: str) -> int | None:
    """A duration in 100 ns ticks, from ISO 8601 (`PT5M`, `P1DT2H`) or .NET (`1.02:00:00`); None
    when the text is neither."""
    text = text.strip()
    if text.upper() == "P":  # how the Azure SDKs serialize timedelta(0)
        return 0
    match = _ISO_DURATION.match(text.upper())
    if match and text.upper() != "PT" and not text.upper().endswith("T"):
        parts = match.groupdict()
        weeks, days = int(parts["weeks"] or 0), int(parts["days"] or 0)
        hours, minutes = int(parts["hours"] or 0), int(parts["minutes"] or 0)
        seconds_text = parts["seconds"] or "0"
    else:
        match = _TIMESPAN.match(text)
        if not match:
            return None
        parts = match.groupdict()
        weeks, days = 0, int(parts["days"] or 0)
        hours, minutes = int(parts["hours"]), int(parts["minutes"])
        if hours > 23 or minutes > 59:
            return None
        seconds_text = parts["seconds"]
    try:
        seconds = Decimal(seconds_text)
    except InvalidOperation:  # pragma: no cover - the patterns admit only decimals
        return None
    total_seconds = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60
    return total_seconds * _TICKS_PER_SECOND + int(seconds * _TICKS_PER_SECOND)


#: .NET TimeSpan.MaxValue, Batch's "unlimited" (`P10675199DT2H48M5.4775807S`), in ticks.
UNLIMITED_TICKS = 2**63 - 1


def duration(value: Any) -> Any:
    """Durations compared by length: `PT5M` == `00:05:00` == `PT300S`; `P1DT2H` == `1.02:00:00`.
    Anything within a second of TimeSpan.MaxValue is "unlimited" (a value that went through a Python
    timedelta comes back as `P10675199DT02H48M05.477539S`)."""
    if isinstance(value, str):
        ticks = duration_ticks(value)
        if ticks is not None:
            return ("duration", UNLIMITED_TICKS if ticks >= UNLIMITED_TICKS - _TICKS_PER_SECOND else ticks)
    return value


def format_duration(ticks: int) -> str:
    """The ISO 8601 spelling of a length in ticks: `PT5M`, `P1DT2H`, `PT0S`."""
    seconds, fraction = divmod(ticks, _TICKS_PER_SECOND)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    out = "P" + (f"{days}D" if days else "")
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or fraction:
        time += str(seconds) + (f".{fraction:07d}".rstrip("0") if fraction else "") + "S"
    if time:
        out += "T" + time
    return out if out != "P" else "PT0S"


_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>[Zz]|[+-]\d{2}:?\d{2})?$"
)


def datetime_key(value: Any) -> Any:
    """Instants compared in UTC to the 100 ns tick: `2025-01-01T00:00:00Z` ==
    `2025-01-01T01:00:00.0000000+01:00`. A time without a zone is taken as UTC."""
    if not isinstance(value, str):
        return value
    match = _DATETIME.match(value.strip())
    if not match:
        return value
    zone = match["zone"] or "Z"
    if zone in ("Z", "z"):
        offset = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    time = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
    try:
        instant = datetime.fromisoformat(f"{match['date']}T{time}").replace(tzinfo=offset)
    except ValueError:
        return value
    ticks = int(((match["fraction"] or "") + "0000000")[:7])
    return ("datetime", instant.astimezone(UTC).replace(tzinfo=None).isoformat(), ticks)


# --- structural forms ------------------------------------------------------------------------------


def name_value_map(value: Any) -> Any:
    """Azure's ordered `[{name, value}]` (metadata, environment settings) as a map; a map stays.
    Order carries no meaning to Azure, so `[a, b]` and `[b, a]` are one value."""
    if isinstance(value, list):
        out: dict[str, Any] = {}
        for item in value:
            if isinstance(item, Mapping) and "name" in item:
                out[str(item["name"])] = item.get("value", "")
        return out
    return value


def keyed_by(key: Callable[[Mapping[str, Any]], Any], *, fold: Key = exact) -> Callable[[Any], Any]:
    """A list of objects with an identity (user accounts by name, data disks by LUN) as a map from
    that identity, so order does not matter and a plan names the item that changed."""

    def form(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out: dict[str, Any] = {}
        for index, item in enumerate(value):
            ident = key(item) if isinstance(item, Mapping) else None
            name = str(fold(ident)) if ident is not None else f"#{index}"
            out[name] = item
        return out

    return form


def field_key(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda item: item.get(name)


def id_set(value: Any) -> Any:
    """Resource ids given as a map keyed by id (`userAssignedIdentities` in REST) or as a list (in
    stacks): a sorted list of ids, compared case-insensitively."""
    if isinstance(value, Mapping):
        value = list(value)
    if isinstance(value, list):
        return sorted({arm_id(v): v for v in value if isinstance(v, str)}.values(), key=arm_id)
    return value


def prune(value: Any) -> Any:
    """Drop nulls and empty objects and lists, recursively: Azure omits what is empty."""
    if isinstance(value, Mapping):
        out = {k: prune(v) for k, v in value.items()}
        out = {k: v for k, v in out.items() if v is not MISSING}
        return out if out else MISSING
    if isinstance(value, list):
        items = [prune(v) for v in value]
        items = [v for v in items if v is not MISSING]
        return items if items else MISSING
    if value is None:
        return MISSING
    return value


# --- fingerprints -----------------------------------------------------------------------------------

_SCHEME = "pbkdf2-sha256"
#: Stretching for new fingerprints; each check costs one derivation at the recorded count.
FINGERPRINT_ITERATIONS = 20_000


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint_text(value: Any) -> str:
    """The text a fingerprint is taken of: a string as is, anything else as canonical JSON."""
    return value if isinstance(value, str) else canonical_json(value)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fingerprint(value: Any, *, salt: bytes | None = None, iterations: int = FINGERPRINT_ITERATIONS) -> str:
    """A salted, stretched SHA-256 fingerprint of a resolved value, to record on the resource."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", fingerprint_text(value).encode("utf-8"), salt, iterations)
    return f"{_SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def fingerprint_matches(value: Any, recorded: str) -> bool:
    """Whether `recorded` is a fingerprint of `value`. A malformed fingerprint matches nothing."""
    parts = recorded.split("$") if isinstance(recorded, str) else []
    if len(parts) != 4 or parts[0] != _SCHEME or not parts[1].isdigit():
        return False
    iterations = int(parts[1])
    if not 1 <= iterations <= 10_000_000:
        return False
    try:
        salt, digest = _unb64(parts[2]), _unb64(parts[3])
    except (ValueError, TypeError):
        return False
    actual = hashlib.pbkdf2_hmac("sha256", fingerprint_text(value).encode("utf-8"), salt, iterations)
    return hmac.compare_digest(actual, digest)


# --- paths ------------------------------------------------------------------------------------------

_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
Path = tuple[str | int, ...]


def format_path(parts: Iterable[str | int]) -> str:
    """`("metadata", "team")` -> `metadata.team`; keys that are not plain names are quoted:
    `metadata["a.b"]`; list positions are `[0]`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE.match(part):
            out += ("." if out else "") + part
        else:
            out += "[" + json.dumps(part, ensure_ascii=False) + "]"
    return out


_PATH_TOKEN = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def parse_path(text: str) -> Path:
    """The inverse of `format_path`; raises ValueError for text that is not a path."""
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        match = _PATH_TOKEN.match(text, position)
        if not match or (match.group(0).startswith(".") and not parts):
            raise ValueError(f"not a path: {text!r}")
        if match.group(1) is not None:
            parts.append(match.group(1))
        elif match.group(2) is not None:
            parts.append(int(match.group(2)))
        else:
            parts.append(json.loads(match.group(3)))
        position = match.end()
    if not parts:
        raise ValueError("an empty path")
    return tuple(parts)
