"""segmentry's benchmark suite: every figure a ratio against a peer measured in
the same run on the same data (see README.md in this folder)."""
