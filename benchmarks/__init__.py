"""Benchmarks of keras_resnets against keras.applications; run `python benchmarks/run.py`."""
