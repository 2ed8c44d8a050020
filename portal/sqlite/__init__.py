"""Django's SQLite backend, waiting for SQLite's write lock in short steps (base.py)."""
