"""numpynn: neural networks in NumPy, in PyTorch's vocabulary."""

__version__ = "0.3.0"

from numpynn.errors import (
    CheckpointError,
    DataError,
    DownloadError,
    NumpynnError,
    TrainingDiverged,
    TrainingInterrupted,
)
from numpynn.gradcheck import check_layer, check_loss, check_model, numerical_gradient
from numpynn.io.checkpoint import load_model, load_training_checkpoint, save_model, save_training_checkpoint
from numpynn.metrics import accuracy, classification_report, confusion_matrix, precision_recall_f1
from numpynn.nn import functional, init
from numpynn.nn.attention import MultiheadAttention
from numpynn.nn.conv import Conv2d  # importing these modules registers their layers in LAYERS
from numpynn.nn.embedding import Embedding
from numpynn.nn.gru import GRU
from numpynn.nn.layernorm import LayerNorm
from numpynn.nn.layers import ACTIVATIONS, GELU, LAYERS, Flatten, Layer, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from numpynn.nn.losses import LOSSES, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from numpynn.nn.lstm import LSTM
from numpynn.nn.models import cnn, mlp
from numpynn.nn.normalization import BatchNorm1d, BatchNorm2d
from numpynn.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from numpynn.nn.recurrent import RNN
from numpynn.nn.regularization import Dropout
from numpynn.nn.sequence import SequencePool, Unflatten
from numpynn.nn.sequential import Sequential
from numpynn.nn.transformer import TransformerEncoderLayer
from numpynn.nn.utils import clip_grad_norm_
from numpynn.nn.vision import ClassToken, PatchEmbedding, PositionEmbedding
from numpynn.optim.optimizers import OPTIMIZERS, SGD, Adam, AdamW, Optimizer, RMSprop
from numpynn.optim.schedules import SCHEDULERS, CosineAnnealingLR, LinearLR, SequentialLR, StepLR
from numpynn.training.callbacks import ChanceLevelWarning, EarlyStopping, GradientTracker
from numpynn.training.fit import Callback, History, evaluate, fit
from numpynn.training.signals import StopRequest
from numpynn.training.state import TrainState

__all__ = [
    "ACTIVATIONS", "BCEWithLogitsLoss", "Callback", "CheckpointError", "CrossEntropyLoss", "DataError",
    "DownloadError", "Flatten", "History", "LAYERS", "LOSSES", "Layer", "LeakyReLU", "Linear", "MSELoss",
    "NumpynnError", "OPTIMIZERS", "Optimizer", "ReLU", "SGD", "Sequential", "Sigmoid", "Tanh",
    "TrainingDiverged", "accuracy", "check_layer", "check_loss", "check_model", "classification_report",
    "cnn", "confusion_matrix", "evaluate", "fit", "functional", "init", "load_model", "mlp", "numerical_gradient",
    "precision_recall_f1", "save_model",
    "Adam", "AdamW", "BatchNorm1d", "ChanceLevelWarning", "CosineAnnealingLR", "Dropout", "EarlyStopping", "GELU",
    "GradientTracker",
    "LinearLR", "RMSprop", "SCHEDULERS", "SequentialLR", "Softmax", "StepLR",
    "StopRequest", "TrainState", "TrainingInterrupted", "load_training_checkpoint", "save_training_checkpoint",
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm2d", "Conv2d", "MaxPool2d",
    "export_onnx",
    "ClassToken", "Embedding", "GRU", "LSTM", "LayerNorm", "MultiheadAttention", "PatchEmbedding",
    "PositionEmbedding", "RNN", "SequencePool", "TransformerEncoderLayer", "Unflatten", "clip_grad_norm_",
]


def __getattr__(name: str):
    """export_onnx on first use: `import numpynn` never imports onnx (an optional extra)."""
    if name == "export_onnx":
        from numpynn.interop.onnx_export import export_onnx
        return export_onnx
    raise AttributeError(f"module 'numpynn' has no attribute {name!r}")
