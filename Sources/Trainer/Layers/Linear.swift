import Runtime

/// Fully connected layer over the last axis: y = x·Wᵀ (+ b), W stored [out, in] as PyTorch does.
///
/// Saved for backward: nothing of its own. The backward needs the input x [rows, in], which every
/// caller already holds (it is the previous layer's output), and the weight.
public struct Linear: Sendable, Hashable {
    public let inFeatures: Int
    public let outFeatures: Int

    public init(inFeatures: Int, outFeatures: Int) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear: sizes must be positive")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    /// x [rows, in] -> y [rows, out]; `bias` [out] is added when given.
    public func forward(_ x: [Float], rows: Int, weight: [Float], bias: [Float]? = nil) -> [Float] {
        checkCount(weight, outFeatures * inFeatures, "Linear weight [\(outFeatures), \(inFeatures)]")
        var y = product(x, weight, rows: rows, cols: outFeatures, inner: inFeatures, transB: true)
        if let bias {
            checkCount(bias, outFeatures, "Linear bias")
            for r in 0..<rows { for j in 0..<outFeatures { y[r * outFeatures + j] += bias[j] } }
        }
        return y
    }

    /// dY [rows, out] -> dX = dY·W [rows, in]; accumulates dW [out, in] += dYᵀ·x.
    public func backward(_ dY: [Float], x: [Float], rows: Int, weight: [Float], dWeight: inout [Float]) -> [Float] {
        checkCount(dY, rows * outFeatures, "Linear dY")
        checkCount(x, rows * inFeatures, "Linear x")
        checkCount(weight, outFeatures * inFeatures, "Linear weight")
        checkCount(dWeight, outFeatures * inFeatures, "Linear dWeight")
        // dW[out, in] += dYᵀ · x, summed over the rows; each part owns a block of dW's rows.
        dY.withUnsafeBufferPointer { dp in
            x.withUnsafeBufferPointer { xp in
                dWeight.withUnsafeMutableBufferPointer { wp in
                    let (out, inF) = (outFeatures, inFeatures)
                    TrainerThreads.parts(out, minPerPart: 32) { block in
                        Gemm.gemm(
                            transA: true, m: block.count, n: inF, k: rows, UnsafeBufferPointer(rebasing: dp[block.lowerBound...]),
                            lda: out, xp, ldb: inF, beta: 1, UnsafeMutableBufferPointer(rebasing: wp[(block.lowerBound * inF)...]),
                            ldc: inF)
                    }
                }
            }
        }
        return product(dY, weight, rows: rows, cols: inFeatures, inner: outFeatures, transB: false)
    }

    /// As `backward(_:x:rows:weight:dWeight:)`, also accumulating dB [out] += Σ_rows dY.
    public func backward(
        _ dY: [Float], x: [Float], rows: Int, weight: [Float], dWeight: inout [Float],
        dBias: inout [Float]
    ) -> [Float] {
        checkCount(dBias, outFeatures, "Linear dBias")
        let dx = backward(dY, x: x, rows: rows, weight: weight, dWeight: &dWeight)
        for r in 0..<rows { for j in 0..<outFeatures { dBias[j] += dY[r * outFeatures + j] } }
        return dx
    }

    /// a [rows, inner] · b ([inner, cols], or [cols, inner] with `transB`) as a new array, its rows
    /// split over the trainer's threads. x·Wᵀ runs on the packed fp32 GEMM where the CPU has it
    /// (W packed once per call, shared by the parts; OpenBLAS would repack both operands per call).
    private func product(_ a: [Float], _ b: [Float], rows: Int, cols: Int, inner: Int, transB: Bool) -> [Float] {
        checkCount(a, rows * inner, "Linear input [\(rows), \(inner)]")
        let packed =
            transB && F32Gemm.isSupported
            ? b.withUnsafeBufferPointer { w in
                try? F32PackedWeights(w, n: cols, k: inner) { panels, body in TrainerThreads.parts(panels, minPerPart: 4, body) }
            } : nil
        // beta = 0 (and the packed GEMM without accumulate) writes every element, so no zero fill first.
        return [Float](unsafeUninitializedCapacity: rows * cols) { out, initialized in
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    TrainerThreads.parts(rows, minPerPart: 24) { part in
                        let x = UnsafeBufferPointer(rebasing: ap[(part.lowerBound * inner)...])
                        let y = UnsafeMutableBufferPointer(rebasing: out[(part.lowerBound * cols)...])
                        if let packed, (try? F32Gemm.multiply(x, lda: inner, m: part.count, packed, y, ldc: cols)) != nil { return }
                        Gemm.gemm(
                            transB: transB, m: part.count, n: cols, k: inner, x, lda: inner, bp, ldb: transB ? inner : cols,
                            beta: 0, y, ldc: cols)
                    }
                }
            }
            initialized = rows * cols
        }
    }
}
