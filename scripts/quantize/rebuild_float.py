"""Float weights back from a dynamically quantized ONNX graph.

The shipped plate model is onnxruntime's dynamic quantization of a float YOLOv9-t export: every
convolution became DynamicQuantizeLinear -> ConvInteger -> Cast -> Mul(scales) [-> Add(bias)], and
the NMS tail's class-offset MatMul became MatMulInteger the same way. The float original cannot be
downloaded here, so each chain is folded back into one float Conv (or MatMul) whose weights are the
dequantized int8 ones, (w - zero_point) * scale, and whose bias is the chain's Add. That is exact
arithmetic on the stored weights: the same file in gives the same bytes out on any machine.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper


def _consumers(graph: onnx.GraphProto) -> dict[str, list[onnx.NodeProto]]:
    table: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            table.setdefault(name, []).append(node)
    return table


def _only_consumer(consumers, name: str, op_type: str) -> onnx.NodeProto:
    found = consumers.get(name, [])
    if len(found) != 1 or found[0].op_type != op_type:
        raise ValueError(f"expected one {op_type} reading {name}, found {[n.op_type for n in found]}")
    return found[0]


def _scalar(inits, name: str) -> np.ndarray:
    return numpy_helper.to_array(inits[name])


def _dequantized_weight(inits, weight: str, zero_point: str, scale_mul: onnx.NodeProto, activation_scale: str) -> np.ndarray:
    # The chain's scale is Mul(activation scale, weight scale): the weight's own scale is the other input.
    weight_scale_name = next(i for i in scale_mul.input if i != activation_scale)
    q = numpy_helper.to_array(inits[weight]).astype(np.int32)
    zp = _scalar(inits, zero_point).astype(np.int32)
    scale = _scalar(inits, weight_scale_name).astype(np.float32)
    if scale.ndim == 1:  # per output channel: broadcast over the remaining weight axes
        scale = scale.reshape((-1,) + (1,) * (q.ndim - 1))
        zp = zp.reshape((-1,) + (1,) * (q.ndim - 1)) if zp.ndim == 1 else zp
    return ((q - zp).astype(np.float32) * scale).astype(np.float32)


def rebuild_float(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """Returns the float model and how many integer chains were folded."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    producers = {o: n for n in graph.node for o in n.output}
    consumers = _consumers(graph)
    replaced: dict[str, onnx.NodeProto] = {}  # name of the chain's last node -> its float replacement
    dropped: set[str] = set()
    new_inits: list[onnx.TensorProto] = []
    folded = 0

    for node in graph.node:
        if node.op_type not in ("ConvInteger", "MatMulInteger"):
            continue
        x_q, w_q, x_zp, w_zp = node.input
        quantize = producers[x_q]
        if quantize.op_type != "DynamicQuantizeLinear":
            raise ValueError(f"{node.name}: input is not dynamically quantized")
        x = quantize.input[0]
        x_scale = quantize.output[1]
        cast = _only_consumer(consumers, node.output[0], "Cast")
        out_mul = _only_consumer(consumers, cast.output[0], "Mul")
        scale_name = next(i for i in out_mul.input if i != cast.output[0])
        scale_mul = producers[scale_name]
        weight = _dequantized_weight(inits, w_q, w_zp, scale_mul, x_scale)
        base = node.name[: -len("_quant")] if node.name.endswith("_quant") else node.name + "_float"
        weight_name = f"{base}.weight"
        new_inits.append(numpy_helper.from_array(weight, weight_name))
        last, inputs = out_mul, [x, weight_name]
        if node.op_type == "ConvInteger":
            # The bias is Add(scaled output, Reshape(bias [C] -> [1, C, 1, 1])) right after the chain.
            after = consumers.get(out_mul.output[0], [])
            if len(after) == 1 and after[0].op_type == "Add":
                add = after[0]
                other = next(i for i in add.input if i != out_mul.output[0])
                reshape = producers.get(other)
                if reshape is not None and reshape.op_type == "Reshape" and reshape.input[0] in inits:
                    inputs.append(reshape.input[0])
                    dropped.add(reshape.name)
                    last = add
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            replacement = helper.make_node("Conv", inputs, [last.output[0]], name=base, **attrs)
        else:
            replacement = helper.make_node("MatMul", inputs, [last.output[0]], name=base)
        for n in (node, cast, out_mul, scale_mul, last):
            dropped.add(n.name)
        replaced[last.name] = replacement
        folded += 1

    nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        if node.name in replaced:
            nodes.append(replaced[node.name])
        elif node.name not in dropped:
            nodes.append(node)
    # DynamicQuantizeLinear nodes whose every reader was folded are now dead; so are their inputs' helpers.
    nodes = _without_dead_nodes(nodes, [o.name for o in graph.output])
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in nodes for i in n.input}
    kept = [t for t in graph.initializer if t.name in used] + [t for t in new_inits if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    left = [n.op_type for n in nodes if n.op_type in ("ConvInteger", "MatMulInteger", "DynamicQuantizeLinear")]
    if left:
        raise ValueError(f"integer nodes left after folding: {sorted(set(left))}")
    del graph.value_info[:]
    return model, folded


def _without_dead_nodes(nodes: list[onnx.NodeProto], outputs: list[str]) -> list[onnx.NodeProto]:
    needed = set(outputs)
    live: list[onnx.NodeProto] = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output):
            live.append(node)
            needed.update(i for i in node.input if i)
    return list(reversed(live))
