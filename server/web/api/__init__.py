"""The REST API: ``/api/v1``, described by its OpenAPI document at /api/v1/openapi.json."""
