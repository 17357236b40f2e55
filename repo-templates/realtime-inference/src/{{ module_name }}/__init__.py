"""Real-time inference deployment of the project's approved models."""
