"""The embedded demo mosaic and synthetic scenes with injected truth, and their comparison with it."""
