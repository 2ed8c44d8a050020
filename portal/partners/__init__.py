"""Partners of the roleplay contract (e.g. Q3): JWT secret, webhook targets, allowed hosts."""
