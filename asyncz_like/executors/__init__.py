"""Built-in executors. Each is also registered as an entry point under ``asyncz_like.executors``."""
