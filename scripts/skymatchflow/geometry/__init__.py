"""Where images lie on the sky: footprints, the WCS used, pixel scan fill, overlap discovery."""
