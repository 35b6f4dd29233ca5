"""Test helpers: the real sandbox as a subprocess on a free loopback port (devtools/processes.py)."""

from __future__ import annotations

import os

from devtools.processes import ROOT, Sandbox, free_port, settings_for, wait_http  # noqa: F401

os.environ.setdefault("TZ", "UTC")
