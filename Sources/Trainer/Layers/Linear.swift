import CKernels
import Runtime

/// Fully connected layer over the last axis: y = x·Wᵀ (+ b), W stored [out, in] as PyTorch does.
///
/// Saved for backward: nothing of its own. The backward needs the input x [rows, in], which every
/// caller already holds (it is the previous layer's output), and the weight.
///
/// The `params:name:` forms take the weight from a `ParameterSet` and use its step's `WeightPacks`
/// (W and Wᵀ packed once per step, fp32 or bf16 products); without packs, and in the `weight:`
/// forms, they run fp32 and pack W per call (dX = dY·W stays on OpenBLAS there).
public struct Linear: Sendable, Hashable {
    public let inFeatures: Int
    public let outFeatures: Int

    public init(inFeatures: Int, outFeatures: Int) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear: sizes must be positive")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    /// x [rows, in] -> y [rows, out] with W = params[name] [out, in]; `bias` [out] (a tensor name)
    /// is added when given.
    public func forward(_ x: [Float], rows: Int, params: ParameterSet, name: String, bias: String? = nil) -> [Float] {
        let weight = params[name]
        checkCount(weight, outFeatures * inFeatures, "Linear weight \(name) [\(outFeatures), \(inFeatures)]")
        guard let packs = params.packs else { return forward(x, rows: rows, weight: weight, bias: bias.map { params[$0] }) }
        let packed = packs.forward(name, weight, n: outFeatures, k: inFeatures)
        return forward(x, rows: rows, weight: weight, packed: packed, bias: bias.map { params[$0] })
    }

    /// x [rows, in] -> y [rows, out]; `bias` [out] is added when given.
    public func forward(_ x: [Float], rows: Int, weight: [Float], bias: [Float]? = nil) -> [Float] {
        checkCount(weight, outFeatures * inFeatures, "Linear weight [\(outFeatures), \(inFeatures)]")
        let packed = WeightPacks.checked {
            try WeightPacks.pack(weight, n: outFeatures, k: inFeatures, rowStride: inFeatures, colStride: 1, precision: .fp32)
        }
        return forward(x, rows: rows, weight: weight, packed: packed, bias: bias)
    }

    private func forward(_ x: [Float], rows: Int, weight: [Float], packed: PackedMatMulWeights?, bias: [Float]?) -> [Float] {
        var y =
            packed.map { product(x, rows: rows, $0) }
            ?? product(x, weight, rows: rows, cols: outFeatures, inner: inFeatures, transB: true)
        if let bias {
            checkCount(bias, outFeatures, "Linear bias")
            for r in 0..<rows { for j in 0..<outFeatures { y[r * outFeatures + j] += bias[j] } }
        }
        return y
    }

    /// dY [rows, out] -> dX = dY·W [rows, in]; accumulates grads[name] [out, in] += dYᵀ·x and, with
    /// `bias`, grads[bias] [out] += Σ_rows dY. The products run in the precision of `params.packs`.
    public func backward(
        _ dY: [Float], x: [Float], rows: Int, params: ParameterSet, name: String, grads: inout ParameterSet,
        bias: String? = nil
    ) -> [Float] {
        let weight = params[name]
        checkCount(weight, outFeatures * inFeatures, "Linear weight \(name)")
        checkCount(dY, rows * outFeatures, "Linear dY")
        checkCount(x, rows * inFeatures, "Linear x")
        grads.modify(name) { dWeight in
            checkCount(dWeight, outFeatures * inFeatures, "Linear dWeight \(name)")
            accumulateWeightGradient(dY, x: x, rows: rows, precision: params.packs?.precision ?? .fp32, dWeight: &dWeight)
        }
        if let bias { grads.modify(bias) { addBiasGradient(dY, rows: rows, dBias: &$0) } }
        if let packed = params.packs?.transposed(name, weight, n: outFeatures, k: inFeatures) {
            return product(dY, rows: rows, packed)
        }
        return product(dY, weight, rows: rows, cols: inFeatures, inner: outFeatures, transB: false)
    }

    /// dY [rows, out] -> dX = dY·W [rows, in]; accumulates dW [out, in] += dYᵀ·x (fp32).
    public func backward(_ dY: [Float], x: [Float], rows: Int, weight: [Float], dWeight: inout [Float]) -> [Float] {
        checkCount(dY, rows * outFeatures, "Linear dY")
        checkCount(x, rows * inFeatures, "Linear x")
        checkCount(weight, outFeatures * inFeatures, "Linear weight")
        checkCount(dWeight, outFeatures * inFeatures, "Linear dWeight")
        accumulateWeightGradient(dY, x: x, rows: rows, precision: .fp32, dWeight: &dWeight)
        return product(dY, weight, rows: rows, cols: inFeatures, inner: outFeatures, transB: false)
    }

    /// As `backward(_:x:rows:weight:dWeight:)`, also accumulating dB [out] += Σ_rows dY.
    public func backward(
        _ dY: [Float], x: [Float], rows: Int, weight: [Float], dWeight: inout [Float],
        dBias: inout [Float]
    ) -> [Float] {
        let dx = backward(dY, x: x, rows: rows, weight: weight, dWeight: &dWeight)
        addBiasGradient(dY, rows: rows, dBias: &dBias)
        return dx
    }

    private func addBiasGradient(_ dY: [Float], rows: Int, dBias: inout [Float]) {
        checkCount(dBias, outFeatures, "Linear dBias")
        for r in 0..<rows { for j in 0..<outFeatures { dBias[j] += dY[r * outFeatures + j] } }
    }

    /// dW [out, in] += dYᵀ·x in `precision`: on trm's packed GEMM, or OpenBLAS where that does not run.
    private func accumulateWeightGradient(_ dY: [Float], x: [Float], rows: Int, precision: Precision, dWeight: inout [Float]) {
        if !weightGradient(dY, x: x, rows: rows, precision: precision, dWeight: &dWeight) {
            weightGradientOpenBLAS(dY, x: x, rows: rows, dWeight: &dWeight)
        }
    }

    /// dW [out, in] += dYᵀ·x on trm's packed GEMM: A = dYᵀ and B = xᵀ packed straight from x (n = in,
    /// k = rows); each part owns a block of dW's rows. The GEMM reads dY as the transpose of its A,
    /// block by block (`multiplyTransposedA`); where that form does not run (bf16 without
    /// AVX512_BF16) dYᵀ is transposed whole first. False, doing nothing, for fp32 on a CPU without
    /// `F32Gemm`.
    private func weightGradient(_ dY: [Float], x: [Float], rows: Int, precision: Precision, dWeight: inout [Float]) -> Bool {
        let (out, inF) = (outFeatures, inFeatures)
        guard rows > 0 else { return true }
        guard let xT = WeightPacks.checked({ try WeightPacks.pack(x, n: inF, k: rows, rowStride: 1, colStride: inF, precision: precision) })
        else { return false }
        if precision == .fp32 || BF16Gemm.isSupported {
            dY.withUnsafeBufferPointer { d in
                dWeight.withUnsafeMutableBufferPointer { w in
                    TrainerThreads.parts(out, minPerPart: 32) { block in
                        var workspace = [Float](repeating: 0, count: xT.transposedAWorkspaceFloats)
                        workspace.withUnsafeMutableBufferPointer { ws in
                            do {
                                let done = try xT.multiplyTransposedA(
                                    UnsafeBufferPointer(rebasing: d[block.lowerBound...]), ldxT: out, m: block.count,
                                    UnsafeMutableBufferPointer(rebasing: w[(block.lowerBound * inF)...]), ldc: inF, accumulate: true,
                                    workspace: ws)
                                precondition(done, "Linear: the transposed-A product does not run here")
                            } catch {
                                preconditionFailure("Linear: \(error)")  // every size was checked above
                            }
                        }
                    }
                }
            }
            return true
        }
        let dYT = [Float](unsafeUninitializedCapacity: out * rows) { t, done in
            dY.withUnsafeBufferPointer { d in
                TrainerThreads.parts(out, minPerPart: 64) { cols in
                    trm_transpose(d.baseAddress! + cols.lowerBound, out, rows, cols.count, t.baseAddress! + cols.lowerBound * rows, rows)
                }
            }
            done = out * rows
        }
        dYT.withUnsafeBufferPointer { a in
            dWeight.withUnsafeMutableBufferPointer { w in
                TrainerThreads.parts(out, minPerPart: 32) { block in
                    multiplyPart(a, lda: rows, block: block, xT, w, ldc: inF, accumulate: true)
                }
            }
        }
        return true
    }

    /// dW [out, in] += dYᵀ·x on OpenBLAS (fp32 where `F32Gemm` does not run); each part owns a
    /// block of dW's rows.
    private func weightGradientOpenBLAS(_ dY: [Float], x: [Float], rows: Int, dWeight: inout [Float]) {
        let (out, inF) = (outFeatures, inFeatures)
        dY.withUnsafeBufferPointer { dp in
            x.withUnsafeBufferPointer { xp in
                dWeight.withUnsafeMutableBufferPointer { wp in
                    TrainerThreads.parts(out, minPerPart: 32) { block in
                        Gemm.gemm(
                            transA: true, m: block.count, n: inF, k: rows, UnsafeBufferPointer(rebasing: dp[block.lowerBound...]),
                            lda: out, xp, ldb: inF, beta: 1, UnsafeMutableBufferPointer(rebasing: wp[(block.lowerBound * inF)...]),
                            ldc: inF)
                    }
                }
            }
        }
    }

    /// a [rows, w.k] · wᵀ as a new [rows, w.n] array on packed weights, rows split over the threads.
    private func product(_ a: [Float], rows: Int, _ w: PackedMatMulWeights) -> [Float] {
        checkCount(a, rows * w.k, "Linear input [\(rows), \(w.k)]")
        return [Float](unsafeUninitializedCapacity: rows * w.n) { out, initialized in
            a.withUnsafeBufferPointer { ap in
                TrainerThreads.parts(rows, minPerPart: 24) { part in
                    multiplyPart(ap, lda: w.k, block: part, w, out, ldc: w.n, accumulate: false)
                }
            }
            initialized = rows * w.n
        }
    }

    /// Rows `block` of out = (accumulate ? out : 0) + a·wᵀ, with a workspace of its own.
    private func multiplyPart(
        _ a: UnsafeBufferPointer<Float>, lda: Int, block: Range<Int>, _ w: PackedMatMulWeights,
        _ out: UnsafeMutableBufferPointer<Float>, ldc: Int, accumulate: Bool
    ) {
        var workspace = [Float](repeating: 0, count: w.workspaceFloats)
        workspace.withUnsafeMutableBufferPointer { ws in
            do {
                try w.multiply(
                    UnsafeBufferPointer(rebasing: a[(block.lowerBound * lda)...]), lda: lda, m: block.count,
                    UnsafeMutableBufferPointer(rebasing: out[(block.lowerBound * ldc)...]), ldc: ldc, accumulate: accumulate,
                    workspace: ws)
            } catch {
                preconditionFailure("Linear: \(error)")  // every size was checked above
            }
        }
    }

    /// a [rows, inner] · b ([inner, cols], or [cols, inner] with `transB`) on OpenBLAS as a new
    /// array, its rows split over the trainer's threads.
    private func product(_ a: [Float], _ b: [Float], rows: Int, cols: Int, inner: Int, transB: Bool) -> [Float] {
        checkCount(a, rows * inner, "Linear input [\(rows), \(inner)]")
        // beta = 0 writes every element, so no zero fill first.
        return [Float](unsafeUninitializedCapacity: rows * cols) { out, initialized in
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    TrainerThreads.parts(rows, minPerPart: 24) { part in
                        Gemm.gemm(
                            transB: transB, m: part.count, n: cols, k: inner,
                            UnsafeBufferPointer(rebasing: ap[(part.lowerBound * inner)...]),
                            lda: inner, bp, ldb: transB ? inner : cols, beta: 0,
                            UnsafeMutableBufferPointer(rebasing: out[(part.lowerBound * cols)...]), ldc: cols)
                    }
                }
            }
            initialized = rows * cols
        }
    }
}
