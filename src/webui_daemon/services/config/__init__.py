"""Config: the /api/config answer and the stored /api/v1/configs pages."""
