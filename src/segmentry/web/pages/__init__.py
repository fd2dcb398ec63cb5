"""The pages, one module per screen family; each exposes its ``routes``."""
