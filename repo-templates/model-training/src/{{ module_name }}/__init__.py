"""SageMaker model-training pipeline: step scripts, definition, local and cloud runs."""
