"""The partner-facing HTTP API: one NinjaAPI at /api/, a router per contract."""
