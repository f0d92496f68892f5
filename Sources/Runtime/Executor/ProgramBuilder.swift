import GraphIR

/// Resolves the step graph into instructions for one batch size: pointers into the weights and
/// the session arena and sizes with B substituted (the kernels' scratch is `KernelWorkspace`).
struct ProgramBuilder {
    let model: LoadedModel
    let batch: Int
    let arena: AlignedBuffer

    init(model: LoadedModel, batch: Int, arena: AlignedBuffer) {
        self.model = model
        self.batch = batch
        self.arena = arena
    }

    func pointer(_ name: String) -> UnsafeMutablePointer<Float> {
        if let w = model.weight(name) { return w }
        return arena.floats(at: batch * model.placements[name]!.offset)
    }

    func dims(_ name: String) -> [Int] {
        model.types[name]!.shape.dims.map { if case .fixed(let n) = $0 { return n } else { return batch } }
    }

    func count(_ name: String) -> Int { dims(name).reduce(1, *) }

    /// (outer, axis, inner) extents of `name` around `axis`.
    func extents(_ name: String, axis: Int) -> (Int, Int, Int) {
        let d = dims(name)
        return (d[..<axis].reduce(1, *), d[axis], d[(axis + 1)...].reduce(1, *))
    }

    func build() -> [Instruction] {
        var list: [Instruction] = []
        for node in model.graph.nodes { list.append(instruction(node)) }
        return list
    }

    private func instruction(_ node: Node) -> Instruction {
        let i = node.inputs.map(pointer), o = pointer(node.outputs[0])
        let x = node.inputs.first ?? ""
        switch node.op {
        case .gather:
            let t = dims(node.inputs[0])
            return .gather(table: i[0], rows: t[0], cols: t[1], indices: UnsafeMutableRawPointer(i[1]).assumingMemoryBound(to: Int32.self),
                           count: count(node.inputs[1]), out: o, node: node.name)
        case .matMul(let epilogue):
            let w = dims(node.inputs[1])
            let swiGLU = epilogue == .swiGLU
            return .matMul(x: i[0], w: i[1], bias: i.count > 2 ? i[2] : nil, out: o, rows: count(x) / w[1], n: w[0], k: w[1], swiGLU: swiGLU)
        case .add: return .add(a: i[0], b: i[1], out: o, count: count(x), bCount: count(node.inputs[1]))
        case .mul: return .mul(a: i[0], b: i[1], out: o, count: count(x), bCount: count(node.inputs[1]))
        case .scale(let f): return .scale(x: i[0], out: o, count: count(x), factor: f)
        case .silu: return .unary(.silu, x: i[0], out: o, count: count(x))
        case .softplus: return .unary(.softplus, x: i[0], out: o, count: count(x))
        case .exp: return .unary(.exp, x: i[0], out: o, count: count(x))
        case .sigmoid: return .unary(.sigmoid, x: i[0], out: o, count: count(x))
        case .rmsNorm(let eps):
            let cols = dims(x).last!
            return .rmsNorm(x: i[0], out: o, rows: count(x) / cols, cols: cols, eps: eps)
        case .addRMSNorm(let eps):
            let cols = dims(x).last!
            return .addRMSNorm(a: i[0], b: i[1], out: o, rows: count(x) / cols, cols: cols, bCount: count(node.inputs[1]), eps: eps)
        case .ropeTable(let s, let d, let theta):
            return .ropeTable(cos: pointer(node.outputs[0]), sin: pointer(node.outputs[1]), seq: s, dim: d, theta: theta)
        case .rope(let h, let hd):
            return .rope(x: i[0], cos: i[1], sin: i[2], out: o, batch: batch, seq: dims(x)[1], heads: h, headDim: hd)
        case .attention(let h, let hd):
            return .attention(q: i[0], k: i[1], v: i[2], out: o, batch: batch, seq: dims(x)[1], heads: h, headDim: hd)
        case .fusedAttention(let h, let hd):
            return .fusedAttention(qkv: i[0], cos: i[1], sin: i[2], out: o, batch: batch, seq: dims(x)[1], heads: h, headDim: hd)
        case .swiGLU:
            let width = dims(x).last! / 2
            return .swiGLU(x: i[0], out: o, rows: count(x) / (2 * width), width: width)
        case .transpose(let perm): return .transpose(x: i[0], out: o, dims: dims(x), perm: perm)
        case .concat(let axis):
            let (outer, _, inner) = extents(node.outputs[0], axis: axis)
            return .concat(parts: i.map { UnsafePointer($0) }, sizes: node.inputs.map { dims($0)[axis] }, out: o, outer: outer, inner: inner)
        case .slice(let axis, let start, let end):
            let (outer, n, inner) = extents(x, axis: axis)
            return .slice(x: i[0], out: o, outer: outer, axis: n, inner: inner, start: start, end: end)
        case .pad(let axis, let after):
            let (outer, n, inner) = extents(x, axis: axis)
            return .pad(x: i[0], out: o, outer: outer, axis: n, inner: inner, after: after)
        case .reshape: return .copy(x: i[0], out: o, count: count(x))
        case .conv1dCausal(let reverse):
            let d = dims(x)
            return .conv(x: i[0], w: i[1], bias: i[2], out: o, batch: batch, seq: d[1], channels: d[2], kernel: dims(node.inputs[1])[2], reverse: reverse)
        case .ssmScan(let m):
            return .ssmScan(x: i[0], dt: i[1], a: i[2], bm: i[3], cm: i[4], d: i[5], out: o, batch: batch, seq: dims(x)[1],
                            dims: (m.heads, m.headDim, m.dState, m.groups), reverse: m.reverse)
        case .gatedRMSNorm(let g, let eps):
            let cols = dims(x).last!
            return .gatedRMSNorm(y: i[0], z: i[1], w: i[2], out: o, rows: count(x) / cols, cols: cols, groupSize: g, eps: eps)
        case .argmax:
            let cols = dims(x).last!
            return .argmax(x: i[0], out: UnsafeMutableRawPointer(o).assumingMemoryBound(to: Int32.self), rows: count(x) / cols, cols: cols)
        case .mamba2ScanGate(let m, let k, let eps):
            let shape = KernelWorkspace.shape(m, seq: dims(x)[1], kernel: k, eps: eps)
            return .scanGate(zx: i[0], convW: i[1], convB: i[2], dtBias: i[3], a: i[4], d: i[5], normW: i[6], out: o, batch: batch, shape: shape)
        }
    }
}
