"""The JSON log format for machines (`LOG_FORMAT=json`, docs/operations.md, "Logs").

The logging configuration loads this module before Django's apps are ready, so it imports
nothing of ours: the request log (portal.logs) counts requests for /metrics, and that reaches
the models.
"""

import json
import logging
from datetime import UTC, datetime

# The LogRecord's own attributes: anything else on a record was passed in `extra=` and is a field.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request"}


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "request_id", "message", …extra fields, "exc_info"?}."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
