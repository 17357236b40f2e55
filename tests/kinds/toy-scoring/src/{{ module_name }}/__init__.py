"""Toy scoring pipeline."""
