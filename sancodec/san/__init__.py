"""SAN inference without torch: the model description (``spec``), the numpy sparse
activations (``sparse``), the inference engines (``runtime``) and the bundled model."""
