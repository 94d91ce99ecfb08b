"""A local Azure emulator faithful enough for the unmodified Azure SDK clients.

One WSGI application (`core.create_app`) with one sub-package per service — resources/,
storage/, network/, batch_mgmt/, batch_data/, blob/ — reached two ways:

- embedded: `core.transport.EmulatorTransport` hands the SDK's requests to the app in-process
  (the `local` target; base URL `https://localhost.emulator`);
- served: `core.server.serve(port, data_dir)` over HTTPS with a generated CA (`ca.pem`).

URL layout, one host for everything:
  /subscriptions/...              ARM (and /providers/...)
  /blob/{account}/...             each storage account's blob endpoint
  /batch/{account}/...            each Batch account's endpoint (accountEndpoint = {host}/batch/{name})

State lives in SQLite under the data directory (DEPLOY_LOCAL_DIR, default ./.deploy), shared
safely by any number of embedded and served emulators. See `deployer.emulator.core`.
Importing this package imports no Azure SDK.
"""

from __future__ import annotations

EMBEDDED_BASE_URL = "https://localhost.emulator"

__all__ = ["EMBEDDED_BASE_URL"]
