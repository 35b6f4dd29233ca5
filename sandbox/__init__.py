"""A local I'mport (PortOne V1) compatible server: the default backend of vbank-desk.

It follows the official spec, not vbank-desk's client, and never imports ``lib``.
"""
