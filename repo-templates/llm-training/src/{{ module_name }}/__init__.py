"""SageMaker LLM fine-tuning (LoRA) and evaluation pipeline: step scripts, definition, runs."""
