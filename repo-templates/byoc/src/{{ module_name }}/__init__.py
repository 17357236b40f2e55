"""Processing, training and inference code of the project's own SageMaker containers."""
