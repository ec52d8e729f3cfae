"""Shared test helpers: launching Debian Chromium, serving folders, fake cameras."""
