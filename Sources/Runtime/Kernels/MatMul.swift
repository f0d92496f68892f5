import CKernels

/// The graph's MatMul: y = x·Wᵀ (+ bias), optionally with the SwiGLU epilogue.
public enum MatMulKernel {
    /// Rows per block of the SwiGLU epilogue: the product of one block lives in a fixed scratch.
    /// Each block is one sgemm call, which packs the whole weight matrix again, so blocks are large
    /// (256 rows cost 3 % of a trm-attn step at batch 8), yet one block's product (9 MiB at width
    /// 3072) stays in L3; 1536 rows measured slower.
    public static let epilogueBlockRows = 768

    /// Scratch floats (per thread) the SwiGLU epilogue needs for output width `n` (before halving).
    public static func scratchFloats(n: Int, swiGLU: Bool) -> Int { swiGLU ? epilogueBlockRows * n : 0 }

    /// x [rows, k], w [n, k], bias [n]?, out [rows, n] (or [rows, n/2] with SwiGLU, through `scratch`
    /// of `scratchFloats` floats).
    public static func run(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>, rows: Int, n: Int, k: Int, swiGLU: Bool,
        scratch: UnsafeMutablePointer<Float>?
    ) {
        withEpilogue(x: x, out: out, rows: rows, n: n, k: k, swiGLU: swiGLU, scratch: scratch) { x, out, m in
            product(x: x, w: w, bias: bias, out: out, rows: m, n: n, k: k)
        }
    }

    /// The same with the weights packed at session creation: in bf16 (x rounded to bf16 in the
    /// product, which sums in fp32; `gemmWorkspace` holds `BF16Gemm.maxWorkspaceFloats`) or in fp32
    /// panels (`F32Gemm`, no workspace).
    static func run(
        x: UnsafePointer<Float>, packed w: PackedMatMulWeights, bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>, rows: Int, swiGLU: Bool,
        scratch: UnsafeMutablePointer<Float>?, gemmWorkspace: UnsafeMutablePointer<Float>
    ) {
        let (n, k) = (w.n, w.k)
        if swiGLU, fusedSwiGLU(x: x, packed: w, bias: bias, out: out, rows: rows, gemmWorkspace: gemmWorkspace) { return }
        withEpilogue(x: x, out: out, rows: rows, n: n, k: k, swiGLU: swiGLU, scratch: scratch) { x, out, m in
            let a = UnsafeBufferPointer(start: x, count: m * k), c = UnsafeMutableBufferPointer(start: out, count: m * n)
            let b = bias.map { UnsafeBufferPointer(start: $0, count: n) }
            do {
                try w.multiply(
                    a, lda: k, m: m, bias: b, c, ldc: n,
                    workspace: UnsafeMutableBufferPointer(start: gemmWorkspace, count: w.workspaceFloats))
            } catch {
                preconditionFailure("MatMul on packed weights: \(error)")  // the program builder checked every shape
            }
        }
    }

    /// The SwiGLU epilogue inside the packed GEMM's register tile (the product [g | u] is never
    /// stored); false where that form does not run (see `F32Gemm.multiplySwiGLU`).
    private static func fusedSwiGLU(
        x: UnsafePointer<Float>, packed w: PackedMatMulWeights, bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>, rows: Int, gemmWorkspace: UnsafeMutablePointer<Float>
    ) -> Bool {
        let a = UnsafeBufferPointer(start: x, count: rows * w.k), c = UnsafeMutableBufferPointer(start: out, count: rows * (w.n / 2))
        let b = bias.map { UnsafeBufferPointer(start: $0, count: w.n) }
        do {
            switch w {
            case .bf16(let w):
                return try BF16Gemm.multiplySwiGLU(
                    a, lda: w.k, m: rows, w, bias: b, c, ldo: w.n / 2,
                    workspace: UnsafeMutableBufferPointer(start: gemmWorkspace, count: BF16Gemm.maxWorkspaceFloats))
            case .fp32(let w): return try F32Gemm.multiplySwiGLU(a, lda: w.k, m: rows, w, bias: b, c, ldo: w.n / 2)
            }
        } catch {
            preconditionFailure("MatMul+SwiGLU on packed weights: \(error)")  // the program builder checked every shape
        }
    }

    /// Runs `product(x, out, m)` on all rows, or with SwiGLU on blocks of `epilogueBlockRows` rows
    /// through `scratch`, each block's product halved into `out`.
    private static func withEpilogue(
        x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows: Int, n: Int, k: Int, swiGLU: Bool,
        scratch: UnsafeMutablePointer<Float>?, product: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) {
        guard swiGLU, let scratch else {
            product(x, out, rows)
            return
        }
        var r0 = 0
        while r0 < rows {
            let m = min(epilogueBlockRows, rows - r0)
            product(x + r0 * k, scratch, m)
            SwiGLU.run(scratch, out + r0 * (n / 2), rows: m, width: n / 2)
            r0 += m
        }
    }

    static func product(
        x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        out: UnsafeMutablePointer<Float>, rows: Int, n: Int, k: Int
    ) {
        Gemm.xwt(
            UnsafeBufferPointer(start: x, count: rows * k), UnsafeBufferPointer(start: w, count: n * k),
            UnsafeMutableBufferPointer(start: out, count: rows * n), m: rows, n: n, k: k)
        if let bias {
            for r in 0..<rows {
                let o = out + r * n
                for j in 0..<n { o[j] += bias[j] }
            }
        }
    }
}

/// out[r] = silu(x[r, :I]) ⊙ x[r, I:2I].
public enum SwiGLU {
    public static func run(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let g = x + r * 2 * width, o = out + r * width
            trm_swiglu(g, g + width, o, width)
        }
    }
}
