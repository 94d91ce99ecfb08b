"""Microsoft.Storage: storage accounts, blob containers and file shares (management plane).

The blob data plane, which shares the containers, is `deployer.emulator.blob`.
"""
