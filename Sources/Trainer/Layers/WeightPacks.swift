import Foundation
import Runtime

/// The Linear weights of one optimizer step packed for its arithmetic (`trm-train --precision`):
/// W for the forward products and Wᵀ for the input gradients, each packed once and reused by every
/// application of the shared network in the step (H_cycles·(L_cycles + 1) of them) and by every
/// thread. The weights do not change within a step; `ParameterSet` drops its packs whenever its
/// tensors change.
///
/// In bf16 every Linear product (forward, input gradient and weight gradient) multiplies operands
/// rounded to bf16 with fp32 sums, the official code's bf16 forward and backward; the master
/// weights, gradients, optimizer state, norms, attention, the scan and the losses stay fp32
/// (docs/precision.md, "Training").
public final class WeightPacks: @unchecked Sendable {
    /// The arithmetic of the step's Linear products.
    public let precision: Precision
    private let lock = NSLock()
    private var forward: [String: PackedMatMulWeights] = [:]
    private var transposed: [String: PackedMatMulWeights] = [:]

    public init(precision: Precision) { self.precision = precision }

    /// `weight` [n, k] (tensor `name`) packed for y = x·Wᵀ; nil where fp32 products stay on OpenBLAS.
    func forward(_ name: String, _ weight: [Float], n: Int, k: Int) -> PackedMatMulWeights? {
        cached(name, in: \.forward) { try Self.pack(weight, n: n, k: k, rowStride: k, colStride: 1, precision: self.precision) }
    }

    /// Wᵀ [k, n] of `weight` [n, k] packed for dX = dY·W; nil where fp32 products stay on OpenBLAS.
    func transposed(_ name: String, _ weight: [Float], n: Int, k: Int) -> PackedMatMulWeights? {
        cached(name, in: \.transposed) { try Self.pack(weight, n: k, k: n, rowStride: 1, colStride: k, precision: self.precision) }
    }

    private func cached(
        _ name: String, in table: ReferenceWritableKeyPath<WeightPacks, [String: PackedMatMulWeights]>,
        _ make: () throws -> PackedMatMulWeights?
    ) -> PackedMatMulWeights? {
        lock.lock()
        defer { lock.unlock() }
        if let hit = self[keyPath: table][name] { return hit }
        guard let packed = Self.checked(make) else { return nil }
        self[keyPath: table][name] = packed
        return packed
    }

    /// The matrix [n, k] with element [j, p] at w[j·rowStride + p·colStride] packed for `precision`,
    /// the panels split over the trainer's threads; nil for fp32 without `F32Gemm`.
    static func pack(
        _ w: [Float], n: Int, k: Int, rowStride: Int, colStride: Int, precision: Precision
    ) throws -> PackedMatMulWeights? {
        try w.withUnsafeBufferPointer { buffer in
            try PackedMatMulWeights.pack(
                buffer, n: n, k: k, rowStride: rowStride, colStride: colStride, precision: precision
            ) { panels, body in TrainerThreads.parts(panels, minPerPart: 4, body) }
        }
    }

    /// `make()`, where a failure can only be a programming error (the layers checked every size) or
    /// an allocation the machine cannot give, which the trainer cannot continue after either.
    static func checked(_ make: () throws -> PackedMatMulWeights?) -> PackedMatMulWeights? {
        do { return try make() } catch { preconditionFailure("WeightPacks: \(error)") }
    }
}
