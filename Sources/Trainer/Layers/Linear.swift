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
        var y = Blas.xwt(x, weight, m: rows, n: outFeatures, k: inFeatures)
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
        Blas.accumulateDyTx(dY, x, into: &dWeight, m: rows, n: outFeatures, k: inFeatures)
        return Blas.dyw(dY, weight, m: rows, n: outFeatures, k: inFeatures)
    }

    /// As `backward(_:x:rows:weight:dWeight:)`, also accumulating dB [out] += Σ_rows dY.
    public func backward(_ dY: [Float], x: [Float], rows: Int, weight: [Float], dWeight: inout [Float],
                         dBias: inout [Float]) -> [Float] {
        checkCount(dBias, outFeatures, "Linear dBias")
        let dx = backward(dY, x: x, rows: rows, weight: weight, dWeight: &dWeight)
        for r in 0..<rows { for j in 0..<outFeatures { dBias[j] += dY[r * outFeatures + j] } }
        return dx
    }
}
