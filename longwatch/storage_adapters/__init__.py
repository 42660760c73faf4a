"""Storage adapters: where packages live. Built-ins are plugins like any other."""

from longwatch.storage_adapters.base import ObjectInfo, PackageWriter, StorageAdapter

__all__ = ["ObjectInfo", "PackageWriter", "StorageAdapter"]
