import GraphIR

/// Floating-point operations of one step per sample: 2·m·n·k for products (matmuls and attention),
/// the recurrence's ~5·P·N per head-token for scans, one per element elsewhere.
public enum FlopCounter {
    public static func flopsPerSample(_ graph: Graph) throws -> Double {
        let types = try Verifier.verify(graph)
        var total = 0.0
        for node in graph.nodes {
            let out = types[node.outputs[0]]!.shape
            let outCount = Double(out.isBatched ? (out.elementsPerSample ?? 0) : 0)
            switch node.op {
            case .matMul(let e):
                let k = Double(types[node.inputs[1]]!.shape.sampleDims[1])
                total += 2 * k * outCount * (e == .swiGLU ? 2 : 1)
            case .attention(let h, let d), .fusedAttention(let h, let d):
                let s = Double(out.sampleDims[0])
                total += 4 * s * s * Double(h * d)
            case .ssmScan(let m), .mamba2ScanGate(let m, _, _):
                let l = Double(out.sampleDims[0])
                total += 5 * l * Double(m.heads * m.headDim * m.dState)
            default:
                total += outCount
            }
        }
        return total
    }
}
