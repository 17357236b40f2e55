"""Batch inference with the project's approved model, as a SageMaker pipeline."""
