"""Placeholder: npm-backed fixtures (filled in by the Better Auth work)."""
