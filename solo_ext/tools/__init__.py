"""Data preparation and other tools (no solo-learn import)."""
