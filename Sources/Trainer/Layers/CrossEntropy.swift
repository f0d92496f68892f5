import Foundation

/// Per-token classification losses of docs/model.md §8.1 with the ignore label −100. Both run in float64
/// (the reference runs stablemax in float64 and softmax cross-entropy in fp32; float64 only removes
/// rounding there).
public enum TokenLoss: String, Sendable, CaseIterable {
    /// The reference default: stablemax, s(x) = x + 1 for x ≥ 0 and 1/(1 − x) otherwise, in float64.
    case stablemax
    /// Ordinary softmax cross-entropy.
    case softmax

    public static let ignoreLabel: Int32 = -100

    /// logits [rows, V], labels [rows] -> loss per row (0 for ignored rows), in float64.
    public func forward(logits: [Float], labels: [Int32], vocab: Int) -> [Double] {
        precondition(vocab > 0 && logits.count == labels.count * vocab, "TokenLoss: logits must be [\(labels.count), \(vocab)]")
        var loss = [Double](repeating: 0, count: labels.count)
        logits.withUnsafeBufferPointer { zp in
            for (r, label) in labels.enumerated() where label != Self.ignoreLabel {
                precondition(label >= 0 && Int(label) < vocab, "TokenLoss: label \(label) out of range")
                let z = UnsafeBufferPointer(rebasing: zp[(r * vocab)..<((r + 1) * vocab)]), y = Int(label)
                switch self {
                case .stablemax:
                    var total = 0.0
                    for k in 0..<vocab { total += Self.stable(Double(z[k])) }
                    loss[r] = Foundation.log(total) - Foundation.log(Self.stable(Double(z[y])))
                case .softmax:
                    let m = Double(z.max()!)
                    var total = 0.0
                    for k in 0..<vocab { total += Foundation.exp(Double(z[k]) - m) }
                    loss[r] = m + Foundation.log(total) - Double(z[y])
                }
            }
        }
        return loss
    }

    /// dLoss [rows] (the weight of each row's loss in the total) -> dLogits [rows, V]; ignored rows
    /// get 0. Stablemax: ∂/∂z_k = s′(z_k)/Σs − [k = y]·s′(z_y)/s(z_y), with s′ = 1 for x ≥ 0 and s² otherwise.
    /// Softmax: softmax(z) − onehot(y).
    public func backward(logits: [Float], labels: [Int32], vocab: Int, dLoss: [Double]) -> [Float] {
        precondition(logits.count == labels.count * vocab && dLoss.count == labels.count, "TokenLoss: shape mismatch")
        var d = [Float](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { zp in
            for (r, label) in labels.enumerated() where label != Self.ignoreLabel {
                let z = UnsafeBufferPointer(rebasing: zp[(r * vocab)..<((r + 1) * vocab)]), y = Int(label), w = dLoss[r]
                switch self {
                case .stablemax:
                    var total = 0.0
                    for k in 0..<vocab { total += Self.stable(Double(z[k])) }
                    for k in 0..<vocab {
                        let x = Double(z[k])
                        var g = Self.stableGrad(x) / total
                        if k == y { g -= Self.stableGrad(x) / Self.stable(x) }
                        d[r * vocab + k] = Float(w * g)
                    }
                case .softmax:
                    let m = Double(z.max()!)
                    var total = 0.0
                    for k in 0..<vocab { total += Foundation.exp(Double(z[k]) - m) }
                    for k in 0..<vocab {
                        d[r * vocab + k] = Float(w * (Foundation.exp(Double(z[k]) - m) / total - (k == y ? 1 : 0)))
                    }
                }
            }
        }
        return d
    }

    /// s(x); the reference's 1e-30 in 1/(1 − x + 1e-30) is below float64 resolution there (1 − x > 1).
    @inline(__always) static func stable(_ x: Double) -> Double { x >= 0 ? x + 1 : 1 / (1 - x) }
    @inline(__always) static func stableGrad(_ x: Double) -> Double {
        if x >= 0 { return 1 }
        let s = 1 / (1 - x)
        return s * s
    }
}

/// Binary cross-entropy with logits (PyTorch's stable form), for the Q-halt head.
public enum BinaryCrossEntropy {
    /// max(x, 0) − x·y + log(1 + e^−|x|).
    public static func loss(logit x: Float, target y: Float) -> Double {
        let xd = Double(x), yd = Double(y)
        return max(xd, 0) - xd * yd + Foundation.log1p(Foundation.exp(-abs(xd)))
    }

    /// ∂loss/∂x = σ(x) − y.
    public static func gradient(logit x: Float, target y: Float) -> Double {
        1 / (1 + Foundation.exp(-Double(x))) - Double(y)
    }
}
