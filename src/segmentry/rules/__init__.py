"""The rule language alone: its syntax tree, the text form (lexer, parser,
printer), the JSON form, the type checker against a schema, the ``MATCHES``
regular-expression subset, and ``load``, which takes what a user sends to a
checked rule in all its forms.

Pure: no I/O, no evaluation. Who matches a rule is ``match``'s job.
"""
