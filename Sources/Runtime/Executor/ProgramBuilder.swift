import GraphIR

/// Resolves the step graph into instructions for one batch size: pointers into the weights and
/// the session arena and sizes with B substituted (the kernels' scratch is `KernelWorkspace`).
struct ProgramBuilder {
    let model: LoadedModel
    let batch: Int
    let arena: AlignedBuffer
    /// MatMul weights packed for the session's precision: those MatMuls run on them.
    let packed: PackedWeightSet
    /// The session's arithmetic: with `.bf16` attention runs its two products in bf16 too.
    let precision: Precision
    /// The session's threads: the fused Mamba-2 layer gives each a whole sample where they divide the batch.
    let threads: Int

    init(
        model: LoadedModel, batch: Int, arena: AlignedBuffer, precision: Precision = .fp32, packed: PackedWeightSet = PackedWeightSet(),
        threads: Int = 1
    ) {
        self.model = model
        self.batch = batch
        self.arena = arena
        self.precision = precision
        self.packed = packed
        self.threads = threads
    }

    /// Where value `name` lives for this batch size (`LoadedModel.pointer`).
    func pointer<T>(_ name: String, as type: T.Type = Float.self) -> UnsafeMutablePointer<T> {
        model.pointer(name, as: type, batch: batch, arena: arena)
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

    func build() -> [Step] { model.graph.nodes.map(step) }

    private func step(_ node: Node) -> Step {
        let i = node.inputs.map { pointer($0) }, o: ValuePointer = pointer(node.outputs[0])
        let x = node.inputs.first ?? ""
        let rows = { (cols: Int) in count(x) / cols }, last = { dims(x).last! }
        switch node.op {
        case .gather:
            let t = dims(node.inputs[0])
            return Step(
                GatherArgs(
                    table: i[0], rows: t[0], cols: t[1], indices: pointer(node.inputs[1], as: Int32.self),
                    count: count(node.inputs[1]), out: o, node: node.name))
        case .matMul(let epilogue):
            let w = dims(node.inputs[1])
            if let packed = packed.packed[node.inputs[1]] {
                return Step(
                    PackedMatMulArgs(
                        x: i[0], w: packed, bias: i.count > 2 ? i[2] : nil, out: o, rows: rows(w[1]), swiGLU: epilogue == .swiGLU))
            }
            return Step(
                MatMulArgs(
                    x: i[0], w: i[1], bias: i.count > 2 ? i[2] : nil, out: o, rows: rows(w[1]),
                    n: w[0], k: w[1], swiGLU: epilogue == .swiGLU))
        case .add, .mul:
            return Step(
                BinaryArgs(
                    kind: node.op == .add ? .add : .mul, a: i[0], b: i[1], out: o,
                    count: count(x), bCount: count(node.inputs[1])))
        case .scale(let f): return Step(ScaleArgs(x: i[0], out: o, count: count(x), factor: f))
        case .silu: return unary(.silu, i[0], o, count(x))
        case .softplus: return unary(.softplus, i[0], o, count(x))
        case .exp: return unary(.exp, i[0], o, count(x))
        case .sigmoid: return unary(.sigmoid, i[0], o, count(x))
        case .rmsNorm(let eps):
            return Step(RMSNormArgs(x: i[0], out: o, rows: rows(last()), cols: last(), eps: eps))
        case .addRMSNorm(let eps):
            return Step(
                AddRMSNormArgs(
                    a: i[0], b: i[1], out: o, rows: rows(last()), cols: last(),
                    bCount: count(node.inputs[1]), eps: eps))
        case .ropeTable(let s, let d, let theta):
            return Step(RopeTableArgs(cos: o, sin: pointer(node.outputs[1]), seq: s, dim: d, theta: theta))
        case .rope(let h, let hd):
            return Step(RopeArgs(x: i[0], cos: i[1], sin: i[2], out: o, batch: batch, seq: dims(x)[1], heads: h, headDim: hd))
        case .attention(let h, let hd):
            return Step(
                AttentionArgs(
                    inputs: .separate(q: i[0], k: i[1], v: i[2]), out: o, batch: batch,
                    seq: dims(x)[1], heads: h, headDim: hd, bf16: precision == .bf16))
        case .fusedAttention(let h, let hd):
            return Step(
                AttentionArgs(
                    inputs: .fused(qkv: i[0], cos: i[1], sin: i[2]), out: o, batch: batch,
                    seq: dims(x)[1], heads: h, headDim: hd, bf16: precision == .bf16))
        case .swiGLU:
            let width = last() / 2
            return Step(SwiGLUArgs(x: i[0], out: o, rows: rows(2 * width), width: width))
        case .transpose(let perm): return Step(TransposeArgs(x: i[0], out: o, dims: dims(x), perm: perm))
        case .concat(let axis):
            let (outer, _, inner) = extents(node.outputs[0], axis: axis)
            return Step(
                ConcatArgs(
                    parts: i.map { UnsafePointer($0) }, sizes: node.inputs.map { dims($0)[axis] },
                    out: o, outer: outer, inner: inner))
        case .slice(let axis, let start, let end):
            let (outer, n, inner) = extents(x, axis: axis)
            return Step(SliceArgs(x: i[0], out: o, outer: outer, axis: n, inner: inner, start: start, end: end))
        case .pad(let axis, let after):
            let (outer, n, inner) = extents(x, axis: axis)
            return Step(PadArgs(x: i[0], out: o, outer: outer, axis: n, inner: inner, after: after))
        case .reshape: return Step(CopyArgs(x: i[0], out: o, count: count(x)))
        case .conv1dCausal(let reverse):
            let d = dims(x)
            return Step(
                ConvArgs(
                    x: i[0], w: i[1], bias: i[2], out: o, batch: batch, seq: d[1], channels: d[2],
                    kernel: dims(node.inputs[1])[2], reverse: reverse))
        case .ssmScan(let m):
            return Step(
                SSMScanArgs(
                    x: i[0], dt: i[1], a: i[2], bm: i[3], cm: i[4], d: i[5], out: o,
                    shape: Mamba2.ScanShape(batch: batch, seq: dims(x)[1], dims: m)))
        case .gatedRMSNorm(let g, let eps):
            return Step(
                GatedRMSNormArgs(
                    y: i[0], z: i[1], w: i[2], out: o, rows: rows(last()), cols: last(),
                    groupSize: g, eps: eps))
        case .argmax:
            return Step(ArgmaxArgs(x: i[0], out: pointer(node.outputs[0], as: Int32.self), rows: rows(last()), cols: last()))
        case .mamba2ScanGate(let m, let k, let eps):
            let shape = KernelWorkspace.shape(m, seq: dims(x)[1], kernel: k, eps: eps)
            return Step(
                ScanGateArgs(
                    zx: i[0], convW: i[1], convB: i[2], dtBias: i[3], a: i[4], d: i[5],
                    normW: i[6], out: o, batch: batch, shape: shape,
                    wholeSamples: ScanGateArgs.splitsBySample(batch: batch, threads: threads)))
        }
    }

    private func unary(_ kind: UnaryArgs.Kind, _ x: ValuePointer, _ out: ValuePointer, _ count: Int) -> Step {
        Step(UnaryArgs(kind: kind, x: x, out: out, count: count))
    }
}
