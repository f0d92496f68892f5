import CKernels
import Foundation

/// AdamATan2 (docs/model.md §9.2): decoupled decay, then Adam moments, and an update
/// `lr / (1 − β1^t) · atan2(m, √v / √(1 − β2^t))` with no ε. The update is invariant to the gradient's
/// scale and bounded by lr·π/2 / (1 − β1^t) per element.
public struct AdamATan2: Sendable, Equatable {
    public var beta1: Float
    public var beta2: Float
    public var weightDecay: Float
    /// Steps taken (t of the bias corrections; the first step uses t = 1).
    public var t: Int = 0
    /// First and second moments, by tensor name.
    public var m: [String: [Float]] = [:]
    public var v: [String: [Float]] = [:]

    public init(beta1: Float = 0.9, beta2: Float = 0.95, weightDecay: Float) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.weightDecay = weightDecay
    }

    /// One step over every tensor of `grads` (names absent from `grads` are left alone).
    /// Fewest elements one thread updates (smaller tensors stay on the calling thread).
    static let elementsPerPart = 16384

    public mutating func step(_ params: inout ParameterSet, grads: ParameterSet, lr: Float) {
        t += 1
        let c1 = 1 - pow(beta1, Float(t)), c2 = (1 - pow(beta2, Float(t))).squareRoot()
        let stepSize = lr / c1, decay = 1 - lr * weightDecay
        let b1 = beta1, b2 = beta2
        for name in grads.names {
            let g = grads[name]
            var mm = m.removeValue(forKey: name) ?? [Float](repeating: 0, count: g.count)
            var vv = v.removeValue(forKey: name) ?? [Float](repeating: 0, count: g.count)
            params.modify(name) { p in
                precondition(p.count == g.count && mm.count == g.count, "AdamATan2: '\(name)' has \(p.count) values, gradient \(g.count)")
                p.withUnsafeMutableBufferPointer { p in
                    mm.withUnsafeMutableBufferPointer { mm in
                        vv.withUnsafeMutableBufferPointer { vv in
                            g.withUnsafeBufferPointer { g in
                                // Elementwise, so the split over the trainer's threads changes no bits.
                                TrainerThreads.parts(p.count, minPerPart: Self.elementsPerPart) { range in
                                    guard !range.isEmpty else { return }
                                    let i = range.lowerBound
                                    trm_adam_atan2(
                                        p.baseAddress! + i, mm.baseAddress! + i, vv.baseAddress! + i, g.baseAddress! + i, range.count,
                                        b1, b2, c2, decay, stepSize)
                                }
                            }
                        }
                    }
                }
            }
            m[name] = mm
            v[name] = vv
        }
    }
}

/// Sparse SignSGD with decoupled decay for the puzzle-embedding table (docs/model.md §9.3): only the rows
/// of ids in the batch move, `row ← row·(1 − lr·wd) − lr·sign(Σ grad)`.
public struct PuzzleEmbeddingSignSGD: Sendable, Equatable {
    public var weightDecay: Float

    public init(weightDecay: Float) { self.weightDecay = weightDecay }

    public func step(table: inout [Float], rowWidth: Int, grads: [(id: Int32, gradient: [Float])], lr: Float) {
        let decay = 1 - lr * weightDecay
        for (id, g) in grads {
            let base = Int(id) * rowWidth
            precondition(g.count == rowWidth && base + rowWidth <= table.count, "PuzzleEmbeddingSignSGD: row \(id) out of range")
            for i in 0..<rowWidth {
                let s: Float = g[i] > 0 ? 1 : (g[i] < 0 ? -1 : 0)
                table[base + i] = table[base + i] * decay - lr * s
            }
        }
    }
}

/// The reference schedule (docs/model.md §9.4): linear warm-up from step 1, then cosine down to
/// `minRatio` × base over the remaining steps (minRatio 1 = constant, the reference default).
public struct LearningRateSchedule: Sendable, Equatable {
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minRatio: Double

    public init(warmupSteps: Int, totalSteps: Int, minRatio: Double = 1) {
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minRatio = minRatio
    }

    /// The factor applied to a base learning rate at `step` (counted from 1).
    public func factor(step: Int) -> Double {
        if step < warmupSteps { return Double(step) / Double(warmupSteps) }
        let progress = Double(step - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
        return minRatio + max(0, (1 - minRatio) * 0.5 * (1 + cos(Double.pi * progress)))
    }
}

/// Exponential moving average of the dense weights (docs/model.md §9.5): `shadow ← (1−rate)·θ + rate·shadow`
/// after every optimizer step, starting from the initial weights. Checkpoints hold the shadow.
public struct ExponentialMovingAverage: Sendable, Equatable {
    public var rate: Float
    public var shadow: [String: [Float]]

    public init(rate: Float, initial: ParameterSet, names: [String]) {
        self.rate = rate
        shadow = Dictionary(uniqueKeysWithValues: names.map { ($0, initial[$0]) })
    }

    public mutating func update(_ params: ParameterSet) {
        let r = rate
        for name in shadow.keys.sorted() {
            let p = params[name]
            p.withUnsafeBufferPointer { p in
                shadow[name]!.withUnsafeMutableBufferPointer { s in
                    TrainerThreads.parts(s.count, minPerPart: AdamATan2.elementsPerPart) { range in
                        for i in range { s[i] = (1 - r) * p[i] + r * s[i] }
                    }
                }
            }
        }
    }

    /// `params` with every shadowed tensor replaced by its average.
    public func apply(to params: ParameterSet) -> ParameterSet {
        var out = params
        for (name, values) in shadow { out[name] = values }
        return out
    }
}
