"""Key Vault secrets (the data plane azure-keyvault-secrets' SecretClient uses), path-style:
each vault is at `https://{host}/keyvault/{vault}`. See `routes`."""
