"""Local stand-ins for the outside world: embedded AWS (moto) and a GitHub double on loopback.

Import the parts directly, e.g. ``from mlops_suite.local.github_double import GitHubDouble``;
nothing is imported eagerly, so each stand-in only loads what it needs.
"""

from __future__ import annotations
