"""Step scripts of the pipeline: pure functions, `__main__` parses arguments and does I/O."""
