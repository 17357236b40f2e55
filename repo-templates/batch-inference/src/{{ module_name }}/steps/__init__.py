"""Step scripts of the batch pipeline: pure functions, `__main__` parses arguments and does I/O."""
