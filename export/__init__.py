"""ONNX export of trained SANs (needs the ``onnx`` package: ``pip install sancodec[train]``)."""

from sancodec.export.onnx import OPSET, build_decoder, build_encoder, export_model, metadata

__all__ = ["OPSET", "build_decoder", "build_encoder", "export_model", "metadata"]
