"""Run folders: their lock, the config files, the training data, building a model from a config, training."""
