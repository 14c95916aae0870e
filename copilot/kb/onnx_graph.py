"""Write a BERT sentence encoder (all-MiniLM-L6-v2 and its kin) as an ONNX graph, from the safetensors weights
already on this computer, with onnx's Python API. Nothing is downloaded and nothing from PyTorch is needed.

The graph takes word-piece ids, the attention mask and token types ([batch, tokens], int64) and returns
mean-pooled unit vectors ([batch, hidden]): the same sums as `copilot.kb.encoder.Embedder`, which stays the
fallback. `quantize_int8` turns the weight matrices into int8 (dynamic, per output channel).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

OPSET = 17  # LayerNormalization is a single op from 17 on
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "embedding"
WEIGHT_MATMUL_PREFIX = "dense_"  # the MatMul nodes with a weight matrix: the only ones worth quantizing


class _Graph:
    """Collects nodes and initializers; each helper returns the name of its output."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._n = 0

    def const(self, name: str, value: npt.NDArray[Any]) -> str:
        self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], name: str | None = None, **attrs: Any) -> str:
        self._n += 1
        node_name = name or f"{op_type.lower()}_{self._n}"
        out = f"{node_name}_out"
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], name=node_name, **attrs))
        return out


def build_bert_graph(weights: dict[str, npt.NDArray[Any]], config: dict[str, Any]) -> bytes:
    """The serialized ONNX model (deterministic: the same weights give the same bytes)."""
    from onnx import TensorProto, checker, helper

    g = _Graph()
    f32 = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items() if v.dtype != np.int64}
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    size, eps = hidden // heads, float(config["layer_norm_eps"])

    def w(name: str) -> str:
        return g.const(name, f32[name])

    def layer_norm(x: str, prefix: str) -> str:
        return g.op("LayerNormalization", [x, w(f"{prefix}.weight"), w(f"{prefix}.bias")], axis=-1, epsilon=eps)

    def dense(x: str, prefix: str) -> str:
        matrix = g.const(f"{prefix}.weight.T", f32[f"{prefix}.weight"].T)
        product = g.op("MatMul", [x, matrix], name=f"{WEIGHT_MATMUL_PREFIX}{prefix}")
        return g.op("Add", [product, w(f"{prefix}.bias")])

    ids, mask, types = INPUTS
    # Embeddings: word + position + token type, then LayerNorm.
    seq_len = g.op("Shape", [ids], start=1, end=2)  # [tokens], 1-D
    zero = g.const("zero", np.array([0], dtype=np.int64))
    positions = g.op("Slice", [w("embeddings.position_embeddings.weight"), zero, seq_len, zero])
    x = g.op(
        "Add",
        [
            g.op(
                "Add",
                [
                    g.op("Gather", [w("embeddings.word_embeddings.weight"), ids]),
                    positions,
                ],
            ),
            g.op("Gather", [w("embeddings.token_type_embeddings.weight"), types]),
        ],
    )
    x = layer_norm(x, "embeddings.LayerNorm")
    # Padding gets a large negative score before the softmax: [batch, 1, 1, tokens].
    mask_f = g.op("Cast", [mask], to=TensorProto.FLOAT)
    padding = g.op("Sub", [g.const("one_f", np.array(1.0, dtype=np.float32)), mask_f])
    blocked = g.op(
        "Unsqueeze",
        [
            g.op("Mul", [padding, g.const("minus_big", np.array(-1e4, dtype=np.float32))]),
            g.const("axes_12", np.array([1, 2])),
        ],
    )
    split_shape = g.const("split_shape", np.array([0, 0, heads, size], dtype=np.int64))
    merge_shape = g.const("merge_shape", np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const("scale", np.array(1.0 / np.sqrt(size), dtype=np.float32))
    half, root2 = (
        g.const("half", np.array(0.5, dtype=np.float32)),
        g.const("root2", np.array(np.sqrt(2.0), dtype=np.float32)),
    )
    one = "one_f"
    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}."

        def heads_of(v: str, perm: list[int]) -> str:
            return g.op("Transpose", [g.op("Reshape", [v, split_shape])], perm=perm)

        q = heads_of(dense(x, f"{p}attention.self.query"), [0, 2, 1, 3])
        k = heads_of(dense(x, f"{p}attention.self.key"), [0, 2, 3, 1])
        v = heads_of(dense(x, f"{p}attention.self.value"), [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), blocked])
        probs = g.op("Softmax", [scores], axis=-1)
        context = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3]), merge_shape])
        x = layer_norm(g.op("Add", [dense(context, f"{p}attention.output.dense"), x]), f"{p}attention.output.LayerNorm")
        inner = dense(x, f"{p}intermediate.dense")
        erf = g.op("Erf", [g.op("Div", [inner, root2])])
        gelu = g.op("Mul", [g.op("Mul", [inner, half]), g.op("Add", [erf, one])])
        x = layer_norm(g.op("Add", [dense(gelu, f"{p}output.dense"), x]), f"{p}output.LayerNorm")
    # Mean over the real tokens, then unit length.
    mask3 = g.op("Unsqueeze", [mask_f, g.const("axes_2", np.array([2]))])
    axis1 = g.const("axes_1", np.array([1]))
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask3]), axis1], keepdims=0)
    count = g.op(
        "Max", [g.op("ReduceSum", [mask3, axis1], keepdims=0), g.const("tiny", np.array(1e-9, dtype=np.float32))]
    )
    pooled = g.op("Div", [summed, count])
    norm = g.op(
        "Max", [g.op("ReduceL2", [pooled], axes=[-1], keepdims=1), g.const("tiny12", np.array(1e-12, dtype=np.float32))]
    )
    g.nodes.append(helper.make_node("Div", [pooled, norm], [OUTPUT], name="unit"))

    graph = helper.make_graph(
        g.nodes,
        "sentence_encoder",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"]) for n in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", hidden])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="support-copilot")
    model.ir_version = 8
    checker.check_model(model)
    data: bytes = model.SerializeToString(deterministic=True)
    return data


def _quantized(node: str) -> bool:
    # The attention matrices only (query, key, value and its output). Measured on 300 DSTC11 articles and BANKING77
    # texts against the float graph: every matrix in int8 gave cosine mean 0.9948 / min 0.985 at 112 texts/s, and
    # the demo's "charged twice" ticket lost its billing article to second place; leaving the feed-forward matrices
    # in float gives 0.9991 / 0.998 at 71 texts/s, and the same articles as the float graph.
    return node.startswith(WEIGHT_MATMUL_PREFIX) and ".attention." in node


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of weight matrices (per output channel); activations stay float."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = [n.name for n in onnx.load(str(source)).graph.node if _quantized(n.name)]
    quantize_dynamic(
        source,
        target,
        per_channel=True,
        weight_type=QuantType.QInt8,
        nodes_to_quantize=names,
        op_types_to_quantize=["MatMul"],
    )
