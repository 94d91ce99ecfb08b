"""batch-deployer: a declarative deployer for Azure Batch."""

__version__ = "0.1.0"
