"""ONNX export of trained SANs (imports torch and onnx lazily, on first use)."""

__all__: list[str] = []
