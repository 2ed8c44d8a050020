"""The audit log: who changed what, written by `log.record()` in the change's transaction."""
