"""The built-in step runners; importing this package registers them."""

from __future__ import annotations

from . import condition, fail, model, processing, register, training, transform

__all__ = ["condition", "fail", "model", "processing", "register", "training", "transform"]
