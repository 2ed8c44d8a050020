"""Customers (partner companies) and their client tokens."""
