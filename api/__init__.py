"""The HTTP face of mofront: the FastAPI app (``api.app``), one router per resource
(``api.routes``), response schemas (``api.schemas``), settings, the ``mofront`` CLI
(``api.cli``) and the Python client (``api.client``).

``api`` may import every other package of ours; nothing imports ``api``. The client
imports only httpx, pandas and numpy, so it installs and imports without torch.
"""
