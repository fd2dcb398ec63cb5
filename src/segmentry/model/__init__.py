"""The entity value model, at the bottom of the tree: kinds and schemas (built-in
and custom attributes and their types), the validation, coercion and encoding of
entity values one at a time and a batch an attribute at a time, the nesting of
custom attributes in outside bodies, time values, limits and bitmaps.

Imports nothing of segmentry but ``errors``; every other layer builds on it.
"""
