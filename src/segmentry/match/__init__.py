"""Who matches a rule: the columnar snapshot of a tenant's entities and the
evaluators over it (Python predicate, Polars expression, SQL clause with one
rendering per dialect), all built on the same lowered primitive tests; the rule
index that finds the few rules a change can flip and answers many rules for many
rows in one vectorised pass; and the explanation of one entity against one rule.

Imports only ``model`` and ``rules``; does no I/O of its own: the SQL evaluator
builds clauses that the engine executes, and the engine registers the SQLite
functions they call (``sql_dialects``) on its connections.
"""
