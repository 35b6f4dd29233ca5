"""The sandbox's routers, one per area; the API's routes need a token (``authorized``), injected once per router."""
