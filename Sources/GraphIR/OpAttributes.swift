import TRMCore
/// An attribute value as stored on an ONNX node.
public enum AttributeValue: Hashable, Sendable {
    case int(Int)
    case float(Float)
    case ints([Int])
    case string(String)
}

/// Op <-> (op_type, attributes): the one table that the `.trmg` writer and reader share.
extension Op {
    /// The op's attributes, in a fixed order (so files are byte-for-byte reproducible).
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .gather, .add, .mul, .swiGLU, .silu, .softplus, .exp, .argmax, .sigmoid:
            return []
        case .matMul(let e): return [("epilogue", .string(e.rawValue))]
        case .scale(let f): return [("factor", .float(f))]
        case .rmsNorm(let eps), .addRMSNorm(let eps): return [("eps", .float(eps))]
        case .ropeTable(let s, let d, let theta):
            return [("seq_len", .int(s)), ("dim", .int(d)), ("theta", .float(theta))]
        case .rope(let h, let d), .attention(let h, let d), .fusedAttention(let h, let d):
            return [("heads", .int(h)), ("head_dim", .int(d))]
        case .transpose(let perm): return [("perm", .ints(perm))]
        case .concat(let axis): return [("axis", .int(axis))]
        case .slice(let axis, let start, let end):
            return [("axis", .int(axis)), ("start", .int(start)), ("end", .int(end))]
        case .reshape(let shape): return [("shape", .ints(shape))]
        case .pad(let axis, let after): return [("axis", .int(axis)), ("after", .int(after))]
        case .conv1dCausal(let reverse): return [("reverse", .int(reverse ? 1 : 0))]
        case .ssmScan(let m): return Op.mambaAttributes(m)
        case .gatedRMSNorm(let g, let eps): return [("group_size", .int(g)), ("eps", .float(eps))]
        case .mamba2ScanGate(let m, let k, let eps):
            return Op.mambaAttributes(m) + [("conv_kernel", .int(k)), ("eps", .float(eps))]
        }
    }

    private static func mambaAttributes(_ m: Mamba2Dims) -> [(name: String, value: AttributeValue)] {
        [
            ("heads", .int(m.heads)), ("head_dim", .int(m.headDim)), ("d_state", .int(m.dState)),
            ("groups", .int(m.groups)), ("reverse", .int(m.reverse ? 1 : 0)),
        ]
    }

    /// Rebuilds an op from its name and attributes; throws on an unknown op, a missing attribute or
    /// one of the wrong kind.
    public init(name: String, attributes: [String: AttributeValue]) throws {
        func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "op \(name): \(why)") }
        func int(_ key: String) throws -> Int {
            guard case .int(let v)? = attributes[key] else { throw fail("missing int attribute '\(key)'") }
            return v
        }
        func float(_ key: String) throws -> Float {
            guard case .float(let v)? = attributes[key] else { throw fail("missing float attribute '\(key)'") }
            return v
        }
        func ints(_ key: String) throws -> [Int] {
            guard case .ints(let v)? = attributes[key] else { throw fail("missing ints attribute '\(key)'") }
            return v
        }
        func flag(_ key: String) throws -> Bool {
            let v = try int(key)
            guard v == 0 || v == 1 else { throw fail("attribute '\(key)' must be 0 or 1") }
            return v == 1
        }
        func mamba() throws -> Mamba2Dims {
            Mamba2Dims(
                heads: try int("heads"), headDim: try int("head_dim"), dState: try int("d_state"),
                groups: try int("groups"), reverse: try flag("reverse"))
        }
        guard let kind = OpKind(rawValue: name) else { throw TRMError(.malformedFile, "unknown op '\(name)'") }
        switch kind {
        case .gather: self = .gather
        case .matMul:
            guard case .string(let s)? = attributes["epilogue"], let e = MatMulEpilogue(rawValue: s) else {
                throw fail("missing or unknown 'epilogue'")
            }
            self = .matMul(epilogue: e)
        case .add: self = .add
        case .mul: self = .mul
        case .scale: self = .scale(factor: try float("factor"))
        case .rmsNorm: self = .rmsNorm(eps: try float("eps"))
        case .ropeTable: self = .ropeTable(seqLen: try int("seq_len"), dim: try int("dim"), theta: try float("theta"))
        case .rope: self = .rope(heads: try int("heads"), headDim: try int("head_dim"))
        case .attention: self = .attention(heads: try int("heads"), headDim: try int("head_dim"))
        case .swiGLU: self = .swiGLU
        case .transpose: self = .transpose(perm: try ints("perm"))
        case .concat: self = .concat(axis: try int("axis"))
        case .slice: self = .slice(axis: try int("axis"), start: try int("start"), end: try int("end"))
        case .reshape: self = .reshape(shape: try ints("shape"))
        case .pad: self = .pad(axis: try int("axis"), after: try int("after"))
        case .conv1dCausal: self = .conv1dCausal(reverse: try flag("reverse"))
        case .silu: self = .silu
        case .softplus: self = .softplus
        case .exp: self = .exp
        case .ssmScan: self = .ssmScan(try mamba())
        case .gatedRMSNorm: self = .gatedRMSNorm(groupSize: try int("group_size"), eps: try float("eps"))
        case .argmax: self = .argmax
        case .sigmoid: self = .sigmoid
        case .addRMSNorm: self = .addRMSNorm(eps: try float("eps"))
        case .fusedAttention: self = .fusedAttention(heads: try int("heads"), headDim: try int("head_dim"))
        case .mamba2ScanGate:
            self = .mamba2ScanGate(try mamba(), convKernel: try int("conv_kernel"), eps: try float("eps"))
        }
        let expected = Set(self.attributes.map(\.name))
        if let extra = attributes.keys.first(where: { !expected.contains($0) }) {
            throw fail("unexpected attribute '\(extra)'")
        }
    }
}
