"""mlops-suite: the Python that glues the platform, the project templates and the repo templates."""

from __future__ import annotations

__version__ = "0.1.0"
