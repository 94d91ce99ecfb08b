"""The Azure SDK client factory per target (azure, local emulator, served emulator).

Nothing here imports an Azure SDK at import time: `deploy --help` and `deploy validate` stay
free of them. See `clients.Clients`.
"""

from __future__ import annotations

from .clients import EMULATOR_SUBSCRIPTION, Clients
from .credentials import StaticTokenCredential

__all__ = ["EMULATOR_SUBSCRIPTION", "Clients", "StaticTokenCredential"]
