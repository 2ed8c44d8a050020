"""Figures and the printed table (plain Python: the parent process prints what runners measured)."""

import statistics
from collections.abc import Iterable


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f}"


def num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("ok" if ok else "MISS")


COLUMNS = ("scenario", "rate", "p50 ms", "p99 ms", "errors", "÷ floor", "goal", "ok?")


def table(result: dict) -> str:
    """The per-database table, then the extra checks, as printed by `make bench`."""
    rows = [
        (
            row["name"],
            row["rate"],
            ms(row.get("p50")),
            ms(row.get("p99")),
            str(row.get("errors", 0)),
            num(row.get("ratio")),
            row.get("goal", ""),
            verdict(row.get("ok")),
        )
        for row in result["rows"]
    ]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    right = {1, 2, 3, 4, 5}

    def line(cells) -> str:
        return " | ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    out = [
        f"== {result['database']} — {result['rounds']} round(s) of {result['seconds']:g} s, "
        f"{result['connections']} connections, gunicorn {result['workers']} sync workers "
        f"({result['elapsed']:.0f} s)",
        line(COLUMNS),
        "-+-".join("-" * w for w in widths),
        *(line(r) for r in rows),
    ]
    if result["checks"]:
        out.append("")
        width = max(len(check["name"]) for check in result["checks"])
        for check in result["checks"]:
            goal = f"  (goal {check['goal']})" if check.get("goal") else ""
            state = verdict(check.get("ok"))
            out.append(f"{check['name'].ljust(width)}  {check['value']}{goal}  {state}".rstrip())
    for sample in result.get("samples", []):
        out.append(f"error: {sample}")
    for note in result.get("notes", []):
        out.append(f"note: {note}")
    return "\n".join(out)
