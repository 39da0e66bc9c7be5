"""LayerNorm, Embedding, Unflatten, SequencePool, the ViT token layers and clip_grad_norm_: gradient checks with a
negative control, torch equality, and the whole sequence models' state dicts loading into their torch equivalents."""

import numpy as np
import pytest

import numpynn as nn
from numpynn.gradcheck import check_layer
from numpynn.nn.models import rnn_classifier, vit

TOL = 1e-6


def _x(shape, seed=5):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("shape,normalized", [((3, 5), 5), ((2, 3, 4), (3, 4)), ((1, 6, 8), 8)], ids=str)
def test_layernorm_gradients_and_torch(shape, normalized):
    layer = nn.LayerNorm(normalized, dtype=np.float64)
    layer.params["weight"][...] = _x(layer.params["weight"].shape, 1)
    layer.params["bias"][...] = _x(layer.params["bias"].shape, 2)
    assert max(check_layer(layer, _x(shape)).values()) < TOL
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    ref = torch.nn.LayerNorm(normalized, dtype=torch.float64)
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in layer.params.items()})
    xt = torch.tensor(_x(shape), requires_grad=True)
    g = _x(shape, 3)
    ref(xt).backward(torch.from_numpy(g))
    np.testing.assert_allclose(layer.forward(_x(shape)), ref(xt).detach().numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(layer.grads["weight"], ref.weight.grad.numpy(), atol=TOL, rtol=0)


def test_negative_control_layernorm_without_the_mean_terms_is_caught():
    class Broken(nn.LayerNorm):  # treats mean and variance as constants: a classic bug
        def backward(self, grad_out):
            super().backward(grad_out)
            return (grad_out.reshape(self.xhat.shape) * self.params["weight"] * self.inv_std).reshape(self.shape)

    assert check_layer(Broken(4, dtype=np.float64), _x((3, 4)))["input"] > 1e-2


@pytest.mark.parametrize("layer,shape", [
    (lambda: nn.ClassToken(4, dtype=np.float64), (2, 3, 4)),
    (lambda: nn.PositionEmbedding(3, 4, rng=0, dtype=np.float64), (2, 3, 4)),
    (lambda: nn.PatchEmbedding(2, 4, 3, rng=0, dtype=np.float64), (2, 2, 6, 9)),
    (lambda: nn.Unflatten(1, (2, 3)), (2, 6)),
    (lambda: nn.SequencePool("last"), (2, 3, 4)), (lambda: nn.SequencePool("first"), (2, 3, 4)),
    (lambda: nn.SequencePool("mean", batch_first=False), (3, 2, 4))],
    ids=["ClassToken", "PositionEmbedding", "PatchEmbedding", "Unflatten", "SequencePool-last", "SequencePool-first",
         "SequencePool-mean"])  # stable names: the same test ids in every process (pytest-xdist compares them)
def test_token_layers_gradients(layer, shape):
    layer = layer()
    layer.needs_input_grad = True
    assert max(check_layer(layer, _x(shape)).values()) < TOL


def test_embedding_gradient_adds_repeated_ids_and_equals_torch():
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    layer = nn.Embedding(6, 3, padding_idx=0, rng=0, dtype=np.float64)
    assert not layer.params["weight"][0].any()
    ids = np.array([[1, 2, 1], [0, 5, 1]])
    ref = torch.nn.Embedding(6, 3, padding_idx=0, dtype=torch.float64)
    ref.load_state_dict({"weight": torch.from_numpy(layer.params["weight"].copy())})
    g = _x((2, 3, 3))
    ref(torch.from_numpy(ids)).backward(torch.from_numpy(g))
    np.testing.assert_allclose(layer.forward(ids.astype(np.float64)), ref(torch.from_numpy(ids)).detach().numpy())
    layer.backward(g)
    np.testing.assert_allclose(layer.grads["weight"], ref.weight.grad.numpy(), atol=TOL, rtol=0)
    with pytest.raises(ValueError, match="whole token ids in \\[0, 6\\)"):
        layer.forward(np.array([[6.0]]))


def test_clip_grad_norm_scales_like_torch():
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    model = rnn_classifier(4, 3, 5, 2, seed=0, dtype=np.float64)
    loss = nn.CrossEntropyLoss()
    loss(model.forward(_x((3, 12))), np.array([0, 1, 1]))
    model.backward(loss.backward())
    grads = {k: torch.from_numpy(v.copy()) for k, v in model.grads().items()}
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads.values()]
    for p, g in zip(params, grads.values()):
        p.grad = g
    want = torch.nn.utils.clip_grad_norm_(params, 0.1)
    assert nn.clip_grad_norm_(model, 0.1) == pytest.approx(float(want), rel=1e-12)
    for p, (name, g) in zip(params, model.grads().items()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12, err_msg=name)


def _models():
    return {"lstm": (rnn_classifier(6, 4, 5, 3, num_layers=2, bidirectional=True, seed=1), (4, 24)),
            "gru-mean": (rnn_classifier(6, 4, 5, 3, kind="gru", pool="mean", seed=2), (1, 24)),
            "vit": (vit((1, 8, 8), 4, 8, 2, 2, 16, 3, dropout=0.1, seed=3), (3, 1, 8, 8))}


@pytest.mark.parametrize("name", ["lstm", "gru-mean", "vit"])
def test_model_file_loads_into_the_torch_equivalent_with_the_same_logits(name, tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is an optional extra")
    from safetensors.torch import load_file

    from numpynn.interop._torch_modules import build
    model, shape = _models()[name]
    x = _x(shape).astype(np.float32)
    model.train()
    loss = nn.CrossEntropyLoss()  # one training step, so no weight is still at its initial value
    optimizer = nn.Adam(model, lr=0.01)
    loss(model.forward(x), np.arange(shape[0]) % 3)
    model.backward(loss.backward())
    optimizer.step()
    nn.save_model(tmp_path / "model.safetensors", model)
    loaded, _ = nn.load_model(tmp_path / "model.safetensors")
    net = torch.nn.Sequential(*(build(layer) for layer in loaded.layers))  # the documented torch equivalent
    net.load_state_dict(load_file(tmp_path / "model.safetensors"))
    with torch.no_grad():
        want = net.eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(loaded.predict_logits(x), want, atol=1e-5)
    np.testing.assert_array_equal(loaded.predict_logits(x), model.predict_logits(x))


def test_sequential_trains_a_sequence_model_and_checks_its_input():
    model, _ = _models()["lstm"]
    x = _x((40, 24)).astype(np.float32)
    y = np.argmax(x.reshape(40, 6, 4)[:, :, :3].sum(axis=1), axis=1)  # the class is in the sequence's sums
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.Adam(model, lr=0.05), x, y, epochs=15, batch_size=10, verbose=0)
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    with pytest.raises(ValueError, match="24"):
        model.predict(np.zeros((2, 20), np.float32))
    assert model.forward(x[:2]).dtype == np.float32


def test_token_and_step_models_predict_and_export_at_any_length(tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")
    tokens = nn.Sequential(nn.Embedding(10, 4, rng=0), nn.LSTM(4, 5, batch_first=True, rng=1),
                           nn.SequencePool("mean"), nn.Linear(5, 3, rng=2))
    ids = np.random.default_rng(0).integers(0, 10, (3, 6)).astype(np.float32)
    nn.export_onnx(tokens, tmp_path / "t.onnx", input_shape=(6,))
    session = ort.InferenceSession(str(tmp_path / "t.onnx"))
    got = session.run(["logits"], {session.get_inputs()[0].name: ids})[0]
    np.testing.assert_allclose(got, tokens.predict_logits(ids), atol=1e-5)
    steps = nn.Sequential(nn.GRU(4, 5, batch_first=True, rng=1), nn.SequencePool("last"), nn.Linear(5, 3, rng=2))
    assert steps.predict(np.zeros((2, 7, 4), np.float32)).shape == (2,)  # (N, T, D) input of any length
