"""Pure-Python scoring: no Django, frozen dataclasses in and out."""
