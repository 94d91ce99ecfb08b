"""Microsoft.ManagedIdentity: user-assigned managed identities (models / routes / errors)."""
