"""The whole ML pipeline, built once in dev and promoted unchanged to preprod and prod."""
