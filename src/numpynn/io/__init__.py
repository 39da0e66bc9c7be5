"""Files: the safetensors container, model and checkpoint files, atomic writes."""
