"""segmentry: a real-time segmentation engine for online shops."""

__version__ = "0.1.0"
