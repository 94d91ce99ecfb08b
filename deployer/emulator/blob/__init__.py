"""The blob data plane: each storage account's blob endpoint, `https://{host}/blob/{account}/`.

Containers are the storage package's (`storage.models`), so a container made through the
management API is the one the blob client sees, and deleting the account deletes its blobs.
"""
