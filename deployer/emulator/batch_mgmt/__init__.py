"""Microsoft.Batch management plane (azure-mgmt-batch 19, api-version 2025-06-01): Batch accounts,
pools, applications and application packages. `models` holds the state and rules (and the helpers
the data plane reads), `routes` the HTTP surface, `errors` Azure's codes."""
