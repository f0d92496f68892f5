import TRMCore
/// Shape and dtype inference: one rule per op. Every rule checks its inputs fully and throws a
/// message naming the op, so a malformed file or a lowering bug is caught before any kernel runs.
extension Op {
    /// Largest size any single dimension may have (`TensorLimits.maxDim`).
    public static let maxDim = TensorLimits.maxDim

    /// The output types of this op applied to inputs of types `inputs`.
    public func inferTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        func fail(_ why: String) -> TRMError {
            TRMError(.invalidGraph, "\(name): \(why) (inputs \(inputs.map(\.description).joined(separator: ", ")))")
        }
        func arity(_ n: ClosedRange<Int>) throws {
            guard n.contains(inputs.count) else { throw fail("expects \(n) inputs, got \(inputs.count)") }
        }
        func float(_ i: Int) throws -> Shape {
            guard inputs[i].dtype == .float32 else { throw fail("input \(i) must be float32") }
            return inputs[i].shape
        }
        func weight(_ i: Int, _ dims: [Int]) throws {
            let s = try float(i)
            guard !s.isBatched, s.sampleDims == dims else { throw fail("input \(i) must be a weight \(dims)") }
        }
        func positive(_ values: Int...) throws {
            guard values.allSatisfy({ $0 > 0 && $0 <= Op.maxDim }) else { throw fail("attributes must be positive") }
        }
        func f(_ s: Shape) -> [TensorType] { [TensorType(.float32, s)] }
        func lastDim(_ s: Shape) throws -> Int {
            guard s.rank >= 1, let n = s.size(s.rank - 1) else { throw fail("needs a numeric last axis") }
            return n
        }
        func replacingLast(_ s: Shape, _ n: Int) -> Shape {
            var d = s.dims
            d[d.count - 1] = .fixed(n)
            return Shape(d)
        }
        func seqShape(_ i: Int, width: Int) throws -> (Int) {
            let s = try float(i)
            guard s.isBatched, s.rank == 3, s.size(2) == width else { throw fail("input \(i) must be [B, L, \(width)]") }
            return s.size(1)!
        }
        func checkAxis(_ axis: Int, _ s: Shape) throws {
            guard axis >= 0, axis < s.rank, s.size(axis) != nil else { throw fail("axis \(axis) is out of range or the batch axis") }
        }

        switch self {
        case .gather:
            try arity(2...2)
            let t = try float(0)
            guard !t.isBatched, t.rank == 2 else { throw fail("table must be an unbatched [N, D] weight") }
            guard inputs[1].dtype == .int32 else { throw fail("indices must be int32") }
            return f(Shape(inputs[1].shape.dims + [t.dims[1]]))

        case .matMul(let epilogue):
            try arity(2...3)
            let x = try float(0), w = try float(1)
            guard !w.isBatched, w.rank == 2 else { throw fail("weight must be [N, K]") }
            let n = w.sampleDims[0], k = w.sampleDims[1]
            guard try lastDim(x) == k else { throw fail("x's last axis must equal K = \(k)") }
            if inputs.count == 3 { try weight(2, [n]) }
            switch epilogue {
            case .none: return f(replacingLast(x, n))
            case .swiGLU:
                guard n % 2 == 0 else { throw fail("SwiGLU epilogue needs an even N") }
                return f(replacingLast(x, n / 2))
            }

        case .add, .mul, .addRMSNorm:
            try arity(2...2)
            let a = try float(0), b = try float(1)
            if a != b {
                guard !b.isBatched, b.rank <= a.rank, Array(a.dims.suffix(b.rank)) == b.dims else {
                    throw fail("b must have a's shape or a trailing part of it")
                }
            }
            if case .addRMSNorm = self { _ = try lastDim(a) }
            return f(a)

        case .scale, .silu, .softplus, .exp, .sigmoid:
            try arity(1...1)
            return f(try float(0))

        case .rmsNorm:
            try arity(1...1)
            let x = try float(0)
            _ = try lastDim(x)
            return f(x)

        case .ropeTable(let seqLen, let dim, let theta):
            try arity(0...0)
            try positive(seqLen, dim)
            guard dim % 2 == 0, theta > 0 else { throw fail("dim must be even and theta positive") }
            return f(Shape(fixed: [seqLen, dim])) + f(Shape(fixed: [seqLen, dim]))

        case .rope(let heads, let headDim):
            try arity(3...3)
            try positive(heads, headDim)
            guard headDim % 2 == 0 else { throw fail("headDim must be even") }
            let s = try seqShape(0, width: heads * headDim)
            try weight(1, [s, headDim])
            try weight(2, [s, headDim])
            return f(inputs[0].shape)

        case .attention(let heads, let headDim):
            try arity(3...3)
            try positive(heads, headDim)
            let s = try seqShape(0, width: heads * headDim)
            guard inputs[1].shape == inputs[0].shape, inputs[2].shape == inputs[0].shape,
                try float(1) == float(2)
            else { throw fail("q, k and v must have one shape") }
            _ = s
            return f(inputs[0].shape)

        case .fusedAttention(let heads, let headDim):
            try arity(3...3)
            try positive(heads, headDim)
            guard headDim % 2 == 0 else { throw fail("headDim must be even") }
            let s = try seqShape(0, width: 3 * heads * headDim)
            try weight(1, [s, headDim])
            try weight(2, [s, headDim])
            return f(Shape(batched: [s, heads * headDim]))

        case .swiGLU:
            try arity(1...1)
            let x = try float(0)
            let n = try lastDim(x)
            guard n % 2 == 0 else { throw fail("last axis must be even") }
            return f(replacingLast(x, n / 2))

        case .transpose(let perm):
            try arity(1...1)
            let x = inputs[0].shape
            guard perm.count == x.rank, Set(perm) == Set(0..<x.rank) else { throw fail("perm \(perm) is not a permutation of the axes") }
            if x.isBatched, perm[0] != 0 { throw fail("a batched tensor must keep its batch axis first") }
            return [TensorType(inputs[0].dtype, Shape(perm.map { x.dims[$0] }))]

        case .concat(let axis):
            try arity(1...64)
            let first = inputs[0]
            try checkAxis(axis, first.shape)
            var total = 0
            for t in inputs {
                guard t.dtype == first.dtype, t.shape.rank == first.shape.rank else { throw fail("inputs must share dtype and rank") }
                for a in 0..<t.shape.rank where a != axis {
                    guard t.shape.dims[a] == first.shape.dims[a] else { throw fail("inputs differ off the concat axis") }
                }
                guard let n = t.shape.size(axis) else { throw fail("cannot concat along the batch axis") }
                total += n
            }
            var d = first.shape.dims
            d[axis] = .fixed(total)
            return [TensorType(first.dtype, Shape(d))]

        case .slice(let axis, let start, let end):
            try arity(1...1)
            let x = inputs[0].shape
            try checkAxis(axis, x)
            guard start >= 0, end > start, end <= x.size(axis)! else { throw fail("slice \(start)..<\(end) is outside axis \(axis)") }
            var d = x.dims
            d[axis] = .fixed(end - start)
            return [TensorType(inputs[0].dtype, Shape(d))]

        case .reshape(let shape):
            try arity(1...1)
            guard shape.allSatisfy({ $0 > 0 && $0 <= Op.maxDim }) else { throw fail("target dims must be positive") }
            let x = inputs[0].shape
            let target = x.isBatched ? Shape(batched: shape) : Shape(fixed: shape)
            guard let a = x.elementsPerSample, let b = target.elementsPerSample, a == b else {
                throw fail("element count per sample changes")
            }
            return [TensorType(inputs[0].dtype, target)]

        case .pad(let axis, let after):
            try arity(1...1)
            let x = try float(0)
            try checkAxis(axis, x)
            guard after >= 0, after <= Op.maxDim else { throw fail("padding must be non-negative") }
            var d = x.dims
            d[axis] = .fixed(x.size(axis)! + after)
            return f(Shape(d))

        case .conv1dCausal:
            try arity(3...3)
            let x = try float(0)
            guard x.isBatched, x.rank == 3 else { throw fail("x must be [B, L, C]") }
            let c = x.size(2)!
            let w = try float(1)
            guard !w.isBatched, w.rank == 3, w.sampleDims[0] == c, w.sampleDims[1] == 1, w.sampleDims[2] >= 1 else {
                throw fail("w must be [C, 1, K]")
            }
            try weight(2, [c])
            return f(x)

        case .ssmScan(let m):
            try arity(6...6)
            try positive(m.heads, m.headDim, m.dState, m.groups)
            guard m.heads % m.groups == 0 else { throw fail("heads must be a multiple of groups") }
            let l = try seqShape(0, width: m.inner)
            guard try seqShape(1, width: m.heads) == l, try seqShape(3, width: m.groups * m.dState) == l,
                try seqShape(4, width: m.groups * m.dState) == l
            else { throw fail("sequence lengths differ") }
            try weight(2, [m.heads])
            try weight(5, [m.heads])
            return f(inputs[0].shape)

        case .gatedRMSNorm(let groupSize, _):
            try arity(3...3)
            let y = try float(0)
            let e = try lastDim(y)
            guard try float(1) == y else { throw fail("y and z must have one shape") }
            try weight(2, [e])
            guard groupSize > 0, e % groupSize == 0 else { throw fail("groupSize must divide \(e)") }
            return f(y)

        case .mamba2ScanGate(let m, let k, _):
            try arity(7...7)
            try positive(m.heads, m.headDim, m.dState, m.groups, k)
            guard m.heads % m.groups == 0 else { throw fail("heads must be a multiple of groups") }
            let l = try seqShape(0, width: m.inProjWidth)
            try weight(1, [m.convChannels, 1, k])
            try weight(2, [m.convChannels])
            try weight(3, [m.heads])
            try weight(4, [m.heads])
            try weight(5, [m.heads])
            try weight(6, [m.inner])
            return f(Shape(batched: [l, m.inner]))

        case .argmax:
            try arity(1...1)
            let x = try float(0)
            _ = try lastDim(x)
            return [TensorType(.int32, Shape(Array(x.dims.dropLast())))]
        }
    }
}
