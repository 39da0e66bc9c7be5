"""The documented PyTorch equivalent of a numpynn Sequential: `to_torch(model)` builds a torch.nn.Sequential
whose state_dict has exactly the numpynn model's names and shapes, so model.safetensors loads into it unchanged
(safetensors.torch.load_file + load_state_dict) and gives the same logits.

Most layers are torch's own (Linear, Conv2d, LayerNorm, TransformerEncoderLayer, Unflatten, ...). A few numpynn
layers have no single torch module, and get a small one here with the same parameter names: torch's RNN, LSTM
and GRU return (output, h_n), so `OutputOnly*` keep `output`; self-attention passes x as query, key and value;
`SequencePool`, `ClassToken`, `PositionEmbedding` and `PatchEmbedding` are a few lines each. torch is an optional
extra: this module imports it when called.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the hints only
    import torch

    from numpynn.nn.sequential import Sequential


def to_torch(model: "Sequential") -> "torch.nn.Sequential":
    """A torch.nn.Sequential mirroring `model` layer by layer, in eval mode, weights copied in its dtype."""
    import torch

    from numpynn.interop._torch_modules import build
    net = torch.nn.Sequential(*(build(layer) for layer in model.layers))
    dtype = {"float32": torch.float32, "float64": torch.float64}[str(model.dtype)]
    net = net.to(dtype)
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    return net.eval()
