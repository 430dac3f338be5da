"""mcpkit-readonly: an mcpkit plugin that serves only the read-only operations of an API.

It registers, under the name ``readonly``, a route mapper (GET and HEAD operations are kept, every
other one is excluded) and a name strategy (``get_pets``, ``get_pets_by_pet_id``, ``check_pets``).
Select them by name: ``route_mappers=["readonly"]``, ``name_strategy="readonly"``, or
``MCPKIT_ROUTE_MAPPERS=readonly`` and ``MCPKIT_NAME_STRATEGY=readonly``.
"""

from mcpkit_readonly.plugin import read_name, reads_only

__all__ = ["read_name", "reads_only"]
