"""Plain text helpers shared by the API and the pages (no models)."""

# Persian (U+06F0..U+06F9) and Arabic-Indic (U+0660..U+0669) digits → ASCII.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def normalize_digits(value: str) -> str:
    """Return value with Persian and Arabic-Indic digits as ASCII digits, trimmed."""
    return value.translate(_DIGITS).strip()
