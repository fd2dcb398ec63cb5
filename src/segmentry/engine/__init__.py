"""The use cases, over ``model``, ``rules``, ``match`` and ``store``: tenants and
keys, entity writes and imports, segments and their real-time membership, the
event feed, time passing, and reads. ``Segmentry`` (``engine/segmentry.py``) owns
the database, the clock and each tenant's state; ``Shop`` (``engine/shop.py``) is
the library's API for one tenant.
"""
