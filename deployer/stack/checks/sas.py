"""SAS URLs are secrets: a URL field holding a SAS signature (`sig=`) in clear is an error.

A shared access signature grants access to storage to whoever holds the URL, so it belongs in
a secret reference like any key (`httpUrl: {secret: env:INPUT_SAS_URL}`), resolved only while
applying and shown as `(sensitive)` in plans. Checked in the fields that take a URL to storage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from deployer.stack.checks.view import StackView
from deployer.stack.loader import PathKey

URL_FIELDS = frozenset({"containerUrl", "httpUrl", "storageContainerUrl", "sasKey"})
_SIGNATURE = re.compile(r"(?:^|[?&])sig=", re.IGNORECASE)


def check(view: StackView) -> None:
    for path, key, value in _url_fields(view.data.get("batchAccounts"), ("batchAccounts",)):
        if _SIGNATURE.search(value):
            view.error(path, f"{key} holds a SAS token (sig=) in clear: a SAS grants access to whoever reads "
                       f"it, so it is a secret; write `{key}: {{secret: env:NAME}}` (or file:/keyvault:) and "
                       "keep the URL out of the stack")


def _url_fields(value: Any, path: PathKey) -> Iterator[tuple[PathKey, str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in URL_FIELDS and isinstance(item, str):
                yield (*path, key), key, item
            elif isinstance(item, dict | list):
                yield from _url_fields(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                yield from _url_fields(item, (*path, index))
