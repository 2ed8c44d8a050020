"""Roleplay clusters (seed 000, "Rolevo"): content, the candidate's attempts and results."""
