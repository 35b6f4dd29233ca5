"""Process helpers shared by tests/ and bench/."""
