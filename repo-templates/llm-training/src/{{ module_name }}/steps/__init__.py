"""Step scripts. Each runs standalone in its SageMaker container, so none imports the package."""
