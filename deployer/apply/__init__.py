"""Applying a plan: the executor (ordered, parallel, retries, pollers) and the apply lock."""
