"""``python -m watcher``: vbank-desk's watcher process (lib/services/watcher.py)."""
