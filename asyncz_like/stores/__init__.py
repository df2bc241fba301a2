"""Built-in stores. Each is also registered as an entry point under ``asyncz_like.stores``."""
