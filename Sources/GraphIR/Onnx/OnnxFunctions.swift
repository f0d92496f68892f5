import TRMCore
/// The model-local functions of a graph (docs/formats.md §2): every `ai.trm` node (standard-domain
/// nodes, `OnnxNodeForm.isStandard`, need none) gets a body of
/// standard ONNX ops so that onnx.checker and onnxruntime can run any `.trmg` as an independent
/// oracle. Our runtime never runs them.
///
/// Each body is specialised to its node's attributes (and to the few input facts it needs, such as
/// a MatMul's optional bias) through an IR-10 `overload`: constants are literal, and no body has to
/// compute shapes from attribute references at run time.
public struct OnnxFunctionSet: Hashable, Sendable {
    /// One function per distinct (op, overload), sorted by name then overload.
    public var functions: [OnnxFunction]
    /// The overload of each graph node, in node order (nil for ops with a single body and for
    /// standard ops).
    public var nodeOverloads: [String?]

    public static let empty = OnnxFunctionSet(functions: [], nodeOverloads: [])
}

public enum OnnxFunctions {
    /// The standard opset the bodies are written against.
    public static let opset = OnnxOpset("", TrmgFormat.onnxOpset)

    /// The functions for `graph`; the same graph always gives the same functions. Throws only when
    /// a node's input types cannot be inferred (an unverified, malformed graph).
    public static func generate(for graph: Graph) throws -> OnnxFunctionSet {
        let types = lenientTypes(graph)
        var byKey: [String: OnnxFunction] = [:]
        var overloads: [String?] = []
        for node in graph.nodes {
            let form = OnnxNodeForm(node.op, batched: node.inputs.first.flatMap { types[$0] }?.shape.isBatched ?? false)
            guard !form.isStandard else {
                overloads.append(nil)
                continue
            }
            let spec = try Specialisation(node, types, form: form)
            overloads.append(spec.overload)
            let key = form.opType + "\u{0}" + (spec.overload ?? "")
            if byKey[key] == nil { byKey[key] = spec.function() }
        }
        let functions = byKey.sorted { $0.key < $1.key }.map(\.value)
        return OnnxFunctionSet(functions: functions, nodeOverloads: overloads)
    }

    /// Value types by name, skipping nodes whose types cannot be inferred: the writer also packs
    /// deliberately malformed graphs for tests, and must not fail before it gets to them.
    static func lenientTypes(_ graph: Graph) -> [String: TensorType] {
        var types: [String: TensorType] = [:]
        for v in graph.inputs { types[v.name] = v.type }
        for t in graph.initializers { types[t.name] = t.type }
        for node in graph.nodes {
            let inputs = node.inputs.compactMap { types[$0] }
            guard inputs.count == node.inputs.count, let out = try? node.op.inferTypes(inputs) else { continue }
            for (name, t) in zip(node.outputs, out) { types[name] = t }
        }
        return types
    }
}

/// What one node's body depends on: its op (with attributes) and a few facts about its inputs.
struct Specialisation {
    let op: Op
    /// The node's ONNX type and attributes.
    let form: OnnxNodeForm
    /// Input-derived facts, in a fixed order, that change the body.
    let facts: [(name: String, value: Int)]

    init(_ node: Node, _ types: [String: TensorType], form: OnnxNodeForm) throws {
        self.form = form
        func type(_ i: Int) throws -> TensorType {
            guard i < node.inputs.count, let t = types[node.inputs[i]] else {
                throw TRMError(.invalidGraph, "node '\(node.name)': cannot infer input \(i) for its ONNX function")
            }
            return t
        }
        op = node.op
        switch node.op {
        case .matMul: facts = [("bias", node.inputs.count == 3 ? 1 : 0)]
        case .conv1dCausal:
            let w = try type(1).shape.sampleDims
            guard w.count == 3 else { throw TRMError(.invalidGraph, "node '\(node.name)': conv weight must be [C, 1, K]") }
            facts = [("channels", w[0]), ("kernel", w[2])]
        case .gather, .add, .mul, .scale, .rmsNorm, .ropeTable, .rope, .attention, .swiGLU, .transpose, .concat, .slice,
            .reshape, .pad, .silu, .softplus, .exp, .ssmScan, .gatedRMSNorm, .argmax, .sigmoid, .addRMSNorm, .fusedAttention,
            .mamba2ScanGate:
            facts = []
        }
    }

    /// A readable, unique rendering of everything the body depends on; nil when nothing does.
    var overload: String? {
        let parts = form.attributes.map { "\($0.name)=\(Self.render($0.value))" } + facts.map { "\($0.name)=\($0.value)" }
        return parts.isEmpty ? nil : parts.joined(separator: ";")
    }

    private static func render(_ v: OnnxAttributeValue) -> String {
        switch v {
        case .int(let i): return String(i)
        // Swift prints the shortest text that reads back as the same Float, so distinct values differ.
        case .float(let f): return f.description
        case .ints(let v): return v.map(String.init).joined(separator: ",")
        case .string(let s): return s
        case .floats(let v): return v.map(\.description).joined(separator: ",")
        case .tensor, .graph, .reference: return "?"
        }
    }

    private func fact(_ name: String) -> Int { facts.first { $0.name == name }!.value }

    /// The function proto for this specialisation.
    func function() -> OnnxFunction {
        let (inputs, outputs, nodes) = body()
        return OnnxFunction(
            name: form.opType, domain: TrmgFormat.domain, overload: overload, inputs: inputs,
            outputs: outputs, attributes: form.attributes.map(\.name), nodes: nodes,
            opsetImports: [OnnxFunctions.opset])
    }

    /// (inputs, outputs, nodes) of the body. Inputs are named after the op's documented operands.
    private func body() -> ([String], [String], [OnnxNode]) {
        var b = OnnxBodyBuilder()
        var inputs = ["x"]
        let out: String
        switch op {
        case .gather, .add, .mul, .transpose, .concat, .slice, .reshape, .pad, .softplus, .exp, .sigmoid:
            preconditionFailure("\(op.name) is written as the standard ONNX op (OnnxNodeForm): it has no body")
        case .matMul(let epilogue):
            inputs = fact("bias") == 1 ? ["x", "w", "bias"] : ["x", "w"]
            var y = b.one("MatMul", ["x", b.transpose("w", [1, 0])])
            if fact("bias") == 1 { y = b.add(y, "bias") }
            out = epilogue == .swiGLU ? b.swiGLU(y) : y
        case .scale(let factor): out = b.mul("x", b.scalar(factor))
        case .rmsNorm(let eps): out = b.rmsNorm("x", eps: eps)
        case .addRMSNorm(let eps):
            inputs = ["a", "b"]
            out = b.rmsNorm(b.add("a", "b"), eps: eps)
        case .ropeTable(let seqLen, let dim, let theta):
            let (cos, sin) = b.ropeTable(seqLen: seqLen, dim: dim, theta: theta)
            b.rename(cos, to: "cos")
            b.rename(sin, to: "sin")
            return ([], ["cos", "sin"], b.nodes)
        case .rope(let h, let d):
            inputs = ["x", "cos", "sin"]
            out = b.rope("x", cos: "cos", sin: "sin", heads: h, headDim: d)
        case .attention(let h, let d):
            inputs = ["q", "k", "v"]
            out = b.attention(q: "q", k: "k", v: "v", heads: h, headDim: d)
        case .fusedAttention(let h, let d):
            inputs = ["qkv", "cos", "sin"]
            let (q, k, v) = (
                b.slice("qkv", axis: 2, start: 0, end: h * d),
                b.slice("qkv", axis: 2, start: h * d, end: 2 * h * d),
                b.slice("qkv", axis: 2, start: 2 * h * d, end: 3 * h * d)
            )
            out = b.attention(
                q: b.rope(q, cos: "cos", sin: "sin", heads: h, headDim: d),
                k: b.rope(k, cos: "cos", sin: "sin", heads: h, headDim: d), v: v, heads: h, headDim: d)
        case .swiGLU: out = b.swiGLU("x")
        case .conv1dCausal(let reverse):
            inputs = ["x", "w", "bias"]
            out = b.conv1dCausal(
                "x", weight: "w", bias: "bias", channels: fact("channels"), kernel: fact("kernel"),
                reverse: reverse)
        case .silu: out = b.silu("x")
        case .argmax:
            let index = b.one("ArgMax", ["x"], [.int("axis", -1), .int("keepdims", 0), .int("select_last_index", 0)])
            out = b.one("Cast", [index], [.int("to", Int(DType.int32.onnxCode))])
        case .ssmScan(let m):
            inputs = ["x", "dt", "A", "B", "C", "D"]
            out = b.ssmScan(x: "x", dt: "dt", a: "A", bm: "B", cm: "C", d: "D", dims: m)
        case .gatedRMSNorm(let groupSize, let eps):
            inputs = ["y", "z", "w"]
            out = b.gatedRMSNorm(y: "y", z: "z", weight: "w", groupSize: groupSize, eps: eps)
        case .mamba2ScanGate(let m, let kernel, let eps):
            inputs = ["zxbcdt", "conv_w", "conv_b", "dt_bias", "A", "D", "norm_w"]
            out = b.mamba2ScanGate(
                zxbcdt: "zxbcdt", convW: "conv_w", convB: "conv_b", dtBias: "dt_bias", a: "A",
                d: "D", normW: "norm_w", dims: m, kernel: kernel, eps: eps)
        }
        // Not "y": GatedRMSNorm has an input of that name.
        b.rename(out, to: "out")
        return (inputs, ["out"], b.nodes)
    }
}
