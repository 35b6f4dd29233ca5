"""A PortOne V2 sandbox (``python -m sandbox --api v2``): the V2 API paths the desk uses, built from the official
SDK's types and PortOne's public OpenAPI document, seeded like the V1 sandbox. See sandbox/v2/README.md."""
