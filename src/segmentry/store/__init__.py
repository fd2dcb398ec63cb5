"""Storage: tables, migrations and the queries the engine needs.

Imports only ``model``. Knows nothing of rules: a segment's rule is stored as
opaque JSON and an entity's record as the JSON the SQL evaluator reads, and the
engine registers on each SQLite connection the functions compiled rules call.
Every function takes a connection and a keyword-only ``tenant_id``; there is no
unscoped lookup (the one exception is finding the tenant an API key belongs
to, which is how a tenant is identified in the first place).
"""
