"""The paper's experiments: data loaders, the segment protocol, sequential reference
activations and the Table I-III runners (``reproduce`` trains, with torch)."""
