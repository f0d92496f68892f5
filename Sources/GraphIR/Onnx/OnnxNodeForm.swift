import TRMCore

/// How a node is written as an ONNX `NodeProto` (docs/formats.md §2.1): an op whose meaning is
/// exactly a standard ONNX op's is that op in the default domain "" (its constant operands, such as
/// Slice's bounds, become int64 initializers named `<node>.<operand>`); every other op is an
/// `ai.trm` op whose type says what it computes, with a function body (§2.3). The writer and the
/// reader share this one table.
public struct OnnxNodeForm: Sendable {
    /// "" (standard) or `TrmgFormat.domain`.
    public var domain: String
    public var opType: String
    public var attributes: [OnnxAttribute]
    /// A constant int64 operand: its name after the node's (`<node>.<name>`) and its values.
    public typealias Operand = (name: String, values: [Int])
    /// Constant int64 operands after the node's inputs, in ONNX input order; nil is an omitted
    /// optional input (written as "").
    public var operands: [Operand?]

    public var isStandard: Bool { domain.isEmpty }

    /// The ONNX operand types trm ops use: int64 vectors (`TensorProto.INT64`).
    public static let operandDataType: Int32 = 7

    /// The form of `op`; `batched` says whether its first input has the batch axis (a Reshape's
    /// ONNX shape then starts with 0, "copy the batch size").
    public init(_ op: Op, batched: Bool) {
        let trm = TrmgFormat.domain
        func custom(_ type: String) -> (String, String, [OnnxAttribute], [Operand?]) {
            (trm, type, op.attributes.map { OnnxAttribute($0.name, $0.value.onnx) }, [])
        }
        let form: (String, String, [OnnxAttribute], [Operand?])
        switch op {
        case .gather: form = ("", "Gather", [], [])
        case .add: form = ("", "Add", [], [])
        case .mul: form = ("", "Mul", [], [])
        case .softplus: form = ("", "Softplus", [], [])
        case .exp: form = ("", "Exp", [], [])
        case .sigmoid: form = ("", "Sigmoid", [], [])
        case .transpose(let perm): form = ("", "Transpose", [.ints("perm", perm)], [])
        case .concat(let axis): form = ("", "Concat", [.int("axis", axis)], [])
        case .slice(let axis, let start, let end): form = ("", "Slice", [], [("starts", [start]), ("ends", [end]), ("axes", [axis])])
        case .reshape(let shape): form = ("", "Reshape", [], [("shape", (batched ? [0] : []) + shape)])
        case .pad(let axis, let after): form = ("", "Pad", [], [("pads", [0, after]), nil, ("axes", [axis])])
        // x·Wᵀ (+ bias), W stored [N, K]: not ONNX MatMul, which multiplies by W itself.
        case .matMul(epilogue: .none): form = (trm, "Linear", [], [])
        case .matMul(epilogue: .swiGLU): form = (trm, "LinearSwiGLU", [], [])
        case .scale, .rmsNorm, .ropeTable, .rope, .attention, .swiGLU, .conv1dCausal, .silu, .ssmScan, .gatedRMSNorm, .argmax,
            .addRMSNorm, .fusedAttention, .mamba2ScanGate:
            form = custom(op.name)
        }
        domain = form.0
        opType = form.1
        attributes = form.2
        operands = form.3
    }

    /// The node's ONNX inputs: `inputs`, then each operand as the initializer `<node>.<operand>`.
    public func inputs(of node: Node) -> [String] {
        node.inputs + operands.map { $0.map { "\(node.name).\($0.name)" } ?? "" }
    }

    /// Reads a node back: (op, its graph inputs, whether a Reshape's input must be batched), or
    /// throws when the node is not one trm writes. `operand` gives the int64 initializer of a name.
    /// Files written before the standard domain (every op in `ai.trm` under its own name) read too.
    static func op(
        domain: String, opType: String, attributes: [String: AttributeValue], inputs: [String],
        operand: (String) -> [Int]?
    ) throws -> (op: Op, inputs: [String], batched: Bool?) {
        func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "\(opType): \(why)") }
        if domain == TrmgFormat.domain {
            guard opType == "Linear" || opType == "LinearSwiGLU" else {
                return (try Op(name: opType, attributes: attributes), inputs, nil)
            }
            guard attributes.isEmpty else { throw fail("takes no attributes") }
            return (.matMul(epilogue: opType == "Linear" ? .none : .swiGLU), inputs, nil)
        }
        guard domain.isEmpty else { throw fail("domain must be '' or '\(TrmgFormat.domain)'") }
        func only(_ allowed: [String]) throws {
            if let extra = attributes.keys.first(where: { !allowed.contains($0) }) { throw fail("unexpected attribute '\(extra)'") }
        }
        /// The operands in slots 1..., each an int64 initializer of `count` values (nil: must be "").
        func constants(_ counts: [Int?]) throws -> [[Int]] {
            guard inputs.count == 1 + counts.count else { throw fail("expected \(1 + counts.count) inputs") }
            return try zip(inputs.dropFirst(), counts).compactMap { name, count in
                guard let count else {
                    guard name.isEmpty else { throw fail("input '\(name)' must be omitted") }
                    return nil
                }
                guard let v = operand(name), count < 0 || v.count == count else {
                    throw fail("input '\(name)' must be an int64 initializer" + (count > 0 ? " of \(count) values" : ""))
                }
                return v
            }
        }
        func plain(_ op: Op, arity: Int, attributes allowed: [String] = []) throws -> (Op, [String], Bool?) {
            try only(allowed)
            guard inputs.count == arity, !inputs.contains(where: { operand($0) != nil }) else { throw fail("expected \(arity) inputs") }
            return (op, inputs, nil)
        }
        switch opType {
        case "Gather":
            guard attributes["axis"] == nil || attributes["axis"] == .int(0) else { throw fail("axis must be 0") }
            return try plain(.gather, arity: 2, attributes: ["axis"])
        case "Add": return try plain(.add, arity: 2)
        case "Mul": return try plain(.mul, arity: 2)
        case "Softplus": return try plain(.softplus, arity: 1)
        case "Exp": return try plain(.exp, arity: 1)
        case "Sigmoid": return try plain(.sigmoid, arity: 1)
        case "Transpose":
            guard case .ints(let perm)? = attributes["perm"] else { throw fail("missing 'perm'") }
            return try plain(.transpose(perm: perm), arity: 1, attributes: ["perm"])
        case "Concat":
            try only(["axis"])
            guard case .int(let axis)? = attributes["axis"], !inputs.isEmpty else { throw fail("missing 'axis'") }
            guard !inputs.contains(where: { operand($0) != nil }) else { throw fail("an int64 input") }
            return (.concat(axis: axis), inputs, nil)
        case "Slice":
            try only([])
            let c = try constants([1, 1, 1])
            return (.slice(axis: c[2][0], start: c[0][0], end: c[1][0]), [inputs[0]], nil)
        case "Reshape":
            guard attributes["allowzero"] == nil || attributes["allowzero"] == .int(0) else { throw fail("allowzero must be 0") }
            try only(["allowzero"])
            let shape = try constants([-1])[0]
            let batched = shape.first == 0
            return (.reshape(shape: Array(shape.dropFirst(batched ? 1 : 0))), [inputs[0]], batched)
        case "Pad":
            guard attributes["mode"] == nil || attributes["mode"] == .string("constant") else { throw fail("mode must be constant") }
            try only(["mode"])
            let c = try constants([2, nil, 1])
            guard c[0][0] == 0 else { throw fail("pads only at the end") }
            return (.pad(axis: c[1][0], after: c[0][1]), [inputs[0]], nil)
        default:
            throw fail("not a standard op trm reads")
        }
    }
}
