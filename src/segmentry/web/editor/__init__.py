"""The rule editor of the segment form: one concept, two modules.

``builder``: the rows (attribute / operator / value, and groups of rows) and the
conversions between rows and a rule's JSON form. ``editing``: the editor's state
(rows or text), its buttons, where the library's errors go, and what its
template draws, the live preview included. The page that serves it is
``web/pages/editor.py``.
"""
