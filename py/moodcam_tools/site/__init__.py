"""Assemble and serve the static site (stdlib only, so it runs on a bare python3)."""
