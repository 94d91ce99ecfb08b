"""Batch data plane (azure-batch 15.1 `BatchClient`, api-version 2025-06-01): jobs, tasks and job
schedules of each Batch account at `/batch/{account}`, and its pools and nodes as the data plane
shows them (batch_mgmt owns pool state). `models` holds the state and rules, `pools` the data-plane
view of batch_mgmt's pools, `routes` the HTTP surface, `errors` the service's codes."""
