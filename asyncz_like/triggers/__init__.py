"""Built-in triggers. Each is also registered as an entry point under ``asyncz_like.triggers``."""
