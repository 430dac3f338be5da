"""The ``fastapi`` name strategy: short names for the operation ids FastAPI generates.

FastAPI's default id is ``<function name><path, non-word characters as _>_<method>``. For a path with
parameters that reads badly (``get_product_products__product_id__get``), so such an id becomes the
function name (``get_product``). Every other operationId is kept exactly: explicit
``operation_id=`` values, ids from a custom ``generate_unique_id_function``, and generated ids of
paths without parameters (``create_product_products_post``), which already read well and match the
app's OpenAPI document. The kernel then makes names valid and unique (a second ``get_product``
becomes ``get_product_2``), and ``mcp_names`` overrides win over all of this.

This module imports nothing heavy: it is loaded with the plugin.
"""

from __future__ import annotations

import re

from mcpkit.naming import default_name_strategy
from mcpkit.routing import HTTP_METHODS, Route

_NON_WORD = re.compile(r"\W")


def generated_function_name(route: Route) -> str | None:
    """The function name inside ``route``'s operationId if FastAPI generated that id, else ``None``."""
    operation_id = route.operation_id
    if not operation_id:
        return None
    path = _NON_WORD.sub("_", route.path)
    # FastAPI spells the id with one of the route's methods, not always this operation's own.
    for method in HTTP_METHODS:
        suffix = f"{path}_{method.lower()}"
        if operation_id.endswith(suffix) and len(operation_id) > len(suffix):
            return operation_id[: -len(suffix)]
    return None


def fastapi_name_strategy(route: Route) -> str:
    """The function name for a generated id of a path with parameters; else the operationId as it is."""
    if route.has_path_parameters:
        function_name = generated_function_name(route)
        if function_name:
            return function_name
    return default_name_strategy(route)
