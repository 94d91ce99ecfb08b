"""Microsoft.Resources: resource groups (PUT, GET, HEAD, PATCH, DELETE (long-running), list)."""
