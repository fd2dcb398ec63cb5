"""Synthetic shops for the demo and the benchmarks, generated with fixed seeds."""
