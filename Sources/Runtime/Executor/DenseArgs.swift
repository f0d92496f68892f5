/// Arguments of the row-wise and elementwise instructions: MatMul, the elementwise ops, the norms
/// and SwiGLU. Each splits over rows (or elements); a part runs its slice of them.
extension WorkPhase {
    /// Row-wise kernels: parts of at least 32 rows.
    static func rows(_ n: Int) -> WorkPhase { WorkPhase(items: n, minPerPart: 32) }
    /// Independent items (samples, heads), one or more per part.
    static func each(_ n: Int) -> WorkPhase { WorkPhase(items: n, minPerPart: 1) }
}

/// y = x·Wᵀ (+ bias), optionally with the SwiGLU epilogue (then `out` is [rows, n/2]).
struct MatMulArgs: Instruction {
    var x, w: ValuePointer, bias: ValuePointer?, out: ValuePointer
    var rows, n, k: Int
    var swiGLU: Bool

    var phases: [WorkPhase] { [.rows(rows)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        let lo = items.lowerBound
        MatMulKernel.run(
            x: x + lo * k, w: w, bias: bias, out: out + lo * (swiGLU ? n / 2 : n), rows: items.count, n: n, k: k,
            swiGLU: swiGLU, scratch: context.scratch)
    }
}

/// MatMulArgs with the weights packed at session creation (bf16, or fp32 on AVX-512 CPUs); each
/// thread's scratch holds the SwiGLU block (`scratchFloats`) and then the bf16 GEMM's workspace.
struct PackedMatMulArgs: Instruction {
    var x: ValuePointer, w: PackedMatMulWeights, bias: ValuePointer?, out: ValuePointer
    var rows: Int
    var swiGLU: Bool

    var phases: [WorkPhase] { [.rows(rows)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        let lo = items.lowerBound
        MatMulKernel.run(
            x: x + lo * w.k, packed: w, bias: bias, out: out + lo * (swiGLU ? w.n / 2 : w.n), rows: items.count, swiGLU: swiGLU,
            scratch: context.scratch, gemmWorkspace: context.scratch + MatMulKernel.scratchFloats(n: w.n, swiGLU: swiGLU))
    }
}

/// out = a ⊕ b, with b ([bCount]) repeated over a ([count]); split over the repeats.
struct BinaryArgs: Instruction {
    enum Kind { case add, mul }
    var kind: Kind
    var a, b, out: ValuePointer
    var count, bCount: Int

    var phases: [WorkPhase] { [WorkPhase(items: count / bCount, minPerPart: max(1, 8192 / bCount))] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        let offset = items.lowerBound * bCount, n = items.count * bCount
        switch kind {
        case .add: Elementwise.add(a + offset, b, out + offset, count: n, bCount: bCount)
        case .mul: Elementwise.mul(a + offset, b, out + offset, count: n, bCount: bCount)
        }
    }
}

/// out = factor · x over `count` elements.
struct ScaleArgs: Instruction {
    var x, out: ValuePointer
    var count: Int
    var factor: Float

    var phases: [WorkPhase] { [WorkPhase(items: count, minPerPart: 8192)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        Elementwise.scale(x + items.lowerBound, out + items.lowerBound, count: items.count, factor: factor)
    }
}

/// out = f(x) over `count` elements.
struct UnaryArgs: Instruction {
    enum Kind { case silu, softplus, exp, sigmoid }
    var kind: Kind
    var x, out: ValuePointer
    var count: Int

    var phases: [WorkPhase] { [WorkPhase(items: count, minPerPart: 8192)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        let x = x + items.lowerBound, out = out + items.lowerBound, n = items.count
        switch kind {
        case .silu: Elementwise.silu(x, out, count: n)
        case .softplus: Elementwise.softplus(x, out, count: n)
        case .exp: Elementwise.exp(x, out, count: n)
        case .sigmoid: Elementwise.sigmoid(x, out, count: n)
        }
    }
}

/// RMSNorm of each of `rows` rows of `cols`.
struct RMSNormArgs: Instruction {
    var x, out: ValuePointer
    var rows, cols: Int
    var eps: Float

    var phases: [WorkPhase] { [.rows(rows)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        let lo = items.lowerBound
        Norms.rmsNorm(x + lo * cols, out + lo * cols, rows: items.count, cols: cols, eps: eps)
    }
}

/// RMSNorm(a + b) by rows, b ([bCount]) repeated over a.
struct AddRMSNormArgs: Instruction {
    var a, b, out: ValuePointer
    var rows, cols, bCount: Int
    var eps: Float

    var phases: [WorkPhase] { [.rows(rows)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        let lo = items.lowerBound
        Norms.addRMSNorm(a + lo * cols, b, out + lo * cols, rows: items.count, cols: cols, bCount: bCount, firstRow: lo, eps: eps)
    }
}

/// out[r] = silu(x[r, :width]) ⊙ x[r, width:] by rows.
struct SwiGLUArgs: Instruction {
    var x, out: ValuePointer
    var rows, width: Int

    var phases: [WorkPhase] { [.rows(rows)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        let lo = items.lowerBound
        SwiGLU.run(x + lo * 2 * width, out + lo * width, rows: items.count, width: width)
    }
}

/// y ⊙ silu(z), RMSNorm over groups of `groupSize`, × w, by rows.
struct GatedRMSNormArgs: Instruction {
    var y, z, w, out: ValuePointer
    var rows, cols, groupSize: Int
    var eps: Float

    var phases: [WorkPhase] { [.rows(rows)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        let lo = items.lowerBound
        Norms.gatedRMSNorm(y + lo * cols, z + lo * cols, w, out + lo * cols, rows: items.count, cols: cols, groupSize: groupSize, eps: eps)
    }
}
