"""Azure's whole error, as the service sent it: code, message, target, and every detail.

A refusal's top line (`InvalidPropertyValue: The value provided for one of the properties in the
request body is invalid.`) rarely says what to fix; the details do (the property path and the
reason). ARM puts them in `error.details` (nested, each with code, target and message) and
`error.innererror` / `additionalInfo`; the Batch service in `values` ({key, value} pairs, e.g.
PropertyName and Reason). `describe` renders all of it, the top line first and one indented
line per detail, from the response body when it is JSON, else from the SDK's parsed error.
No Azure SDK import at module level.
"""

from __future__ import annotations

import json
from typing import Any


def describe(exc: BaseException) -> str:
    """Every line of an SDK exception's service error; the exception's text for anything else."""
    from azure.core.exceptions import HttpResponseError

    if not isinstance(exc, HttpResponseError):
        text = str(exc).strip().splitlines()
        return text[0] if text else type(exc).__name__
    body = _json_body(exc)
    lines = _from_body(body) if body is not None else []
    if not lines:
        lines = _from_sdk(exc)
    return "\n".join(lines)


def _json_body(exc: Any) -> Any:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        text = response.text()
    except Exception:  # noqa: BLE001 - a stream already consumed, or not text
        return None
    try:
        return json.loads(text) if text and text.strip() else None
    except ValueError:
        return None


def _first(text: Any) -> str:
    lines = str(text or "").strip().splitlines()
    return lines[0] if lines else ""


def _top(code: Any, message: Any, target: Any) -> str:
    line = f"{code or 'Error'}: {_first(message) or 'no message'}"
    return f"{line} (target: {target})" if target else line


def _from_body(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    if isinstance(body.get("error"), dict):  # ARM (and most Azure REST APIs)
        error = body["error"]
        lines = [_top(error.get("code"), error.get("message"), error.get("target"))]
        lines += _arm_details(error, depth=1)
        return lines
    if "code" in body and "message" in body:  # the Batch service's BatchError
        message = body["message"]
        if isinstance(message, dict):
            message = message.get("value")
        lines = [_top(body.get("code"), message, None)]
        for item in body.get("values") or []:
            if isinstance(item, dict):
                lines.append(f"    {item.get('key')}: {_first(item.get('value'))}")
        return lines
    return []


def _arm_details(error: dict[str, Any], depth: int) -> list[str]:
    lines: list[str] = []
    pad = "    " * depth
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        where = f" at {detail['target']}" if detail.get("target") else ""
        lines.append(f"{pad}{detail.get('code') or 'Detail'}{where}: {_first(detail.get('message'))}")
        lines += _arm_details(detail, depth + 1)
    inner = error.get("innererror") or error.get("innerError")
    if isinstance(inner, dict) and inner:
        lines.append(f"{pad}inner error: " + ", ".join(f"{k}={_first(v)}" for k, v in inner.items()
                                                       if not isinstance(v, dict | list)))
    for info in error.get("additionalInfo") or []:
        if isinstance(info, dict):
            lines.append(f"{pad}{info.get('type') or 'info'}: {json.dumps(info.get('info'), sort_keys=True)}")
    return lines


def _from_sdk(exc: Any) -> list[str]:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or exc.status_code or type(exc).__name__
    message = getattr(error, "message", None) or exc.message or str(exc)
    lines = [_top(code, message, getattr(error, "target", None))]
    for detail in getattr(error, "details", None) or []:
        where = f" at {detail.target}" if getattr(detail, "target", None) else ""
        code = getattr(detail, "code", None) or "Detail"
        lines.append(f"    {code}{where}: {_first(getattr(detail, 'message', ''))}")
    return lines
