"""Adopting an existing Azure Batch estate: `deploy import` and `deploy export`.

* `importer` — mark live resources a stack declares as owned by it (the ownership markers of
  `deployer.resources.ownership`), after showing what the stack and Azure disagree on;
* `exporter` — write the stack YAML for live resources, so an estate becomes a stack in one step.

Both read live state through the same readers as `plan` and write only markers (tags, metadata):
importing never changes a resource's settings — the next `apply` does, if the stack says so.
"""
