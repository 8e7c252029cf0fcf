"""botocore's data loader, reading the same files for less CPU (`aws.share_botocore_data`
makes it the one loader of the process).

A first client of a process loads DynamoDB's model (557 KB of JSON) and botocore's
endpoints (1.2 MB) among others: about 45 ms of CPU, a quarter of what a first
request costs past the import. Two parts of that are botocore's way of loading,
not the data:

- its JSON file loader builds every object as an `OrderedDict`
  (`object_pairs_hook`), twice the time of the plain `dict` that `json` builds,
  which keeps the file's order as well (Python 3.7+) and is what botocore's own
  model classes read (`botocore.model` builds its ordered members from either);
- `load_service_model` checks a service is known by listing every service folder
  of every search path and looking for the type's file in each (some 450 folders,
  for each type of file a client loads) where looking in the service's own
  folders tells the same.

Same files, same search paths, the same data and errors: `test_cold_start.py`
checks that a client built through this loader has the same model and endpoints.
"""

from __future__ import annotations

import json
import os
from typing import Any

from botocore.exceptions import DataNotFoundError
from botocore.loaders import JSONFileLoader, Loader, instance_cache


class PlainJSONFileLoader(JSONFileLoader):  # type: ignore[misc]  # botocore: untyped
    """botocore's JSON file loader, its objects plain dicts (ordered as the file)."""

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as fp:
            payload = fp.read().decode("utf-8")
        return json.loads(payload)


class DataLoader(Loader):  # type: ignore[misc]
    """botocore's `Loader`, with the file loader above and `load_service_model`
    looking for the service in its own folders first."""

    FILE_LOADER_CLASS = PlainJSONFileLoader

    @instance_cache  # type: ignore[untyped-decorator]
    def load_service_model(
        self, service_name: str, type_name: str, api_version: str | None = None
    ) -> Any:
        """As botocore's: the model of the latest (or the given) API version, with its
        extras. A service is known for `type_name` when one of its version folders
        holds that file (`list_api_versions`), which is what `list_available_services`
        finds too by listing every service; an unknown one goes to botocore's own
        method, which raises its error naming every known service."""
        try:
            versions = self.list_api_versions(service_name, type_name)
        except DataNotFoundError:
            return super().load_service_model(service_name, type_name, api_version)
        version = api_version if api_version is not None else max(versions)
        model = self.load_data(os.path.join(service_name, version, type_name))
        extras = self._find_extras(service_name, type_name, version)
        self._extras_processor.process(model, extras)
        return model


def create_loader(search_path_string: str | None = None) -> Loader:
    """botocore's `create_loader`: a `DataLoader` on the search paths botocore's
    would have (AWS_DATA_PATH's, then ~/.aws/models and botocore's data)."""
    from botocore.loaders import create_loader as botocores

    paths = botocores(search_path_string).search_paths
    return DataLoader(extra_search_paths=list(paths), include_default_search_paths=False)
