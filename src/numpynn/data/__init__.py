"""Data loading for numpynn: the IDX format, MNIST (bundled or downloaded), user CSV/NPZ, and transforms.

Users import the public names from numpynn.datasets; these modules hold the implementation.
"""
