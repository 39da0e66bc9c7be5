"""Bridges to other tools: scikit-learn estimators and ONNX export (optional extras, imported on demand)."""
