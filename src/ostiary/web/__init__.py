"""The HTTP layer: thin routes over the domain services, and the API's wire conventions."""
