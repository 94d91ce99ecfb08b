"""Commands registered on the `deploy` app from their own modules (typer only at import time:
`deploy --help` imports no engine and no Azure SDK)."""
