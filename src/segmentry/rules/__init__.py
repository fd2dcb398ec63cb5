"""The rule language: syntax tree, text and JSON forms, type checker, evaluators.

Pure: no I/O, no database connections. The SQL evaluator builds SQLAlchemy
expressions but never executes them.
"""
