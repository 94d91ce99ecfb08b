"""Microsoft.Network: virtual networks and their subnets (what Batch pools join)."""
