"""Storage: tables, migrations and the queries the engine needs.

Knows nothing of rules beyond the JSON records the SQL evaluator reads. Every
function takes a connection and a keyword-only ``tenant_id``; there is no
unscoped lookup (the one exception is finding the tenant an API key belongs
to, which is how a tenant is identified in the first place).
"""
