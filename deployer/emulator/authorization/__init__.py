"""Microsoft.Authorization: role assignments at resource-group, storage-account and container scope."""
