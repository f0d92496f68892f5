import Foundation
import GraphIR
import TRMCore

/// The arithmetic of a session's matrix products (docs/precision.md). The `.trmg` is fp32
/// either way; `bf16` packs each MatMul's weights into bf16 panels when the session is created and
/// runs those products, and attention's QKᵀ and P·V, on VDPBF16PS with fp32 sums. The softmax, the
/// Mamba-2 scan, norms, residual sums and the recurrent carry stay fp32.
public enum Precision: String, CaseIterable, Sendable {
    case fp32
    case bf16

    /// How `precision` runs on this CPU: natively, emulated (bf16 without AVX512_BF16: the same
    /// rounding on a portable path, many times slower), or fp32.
    public var execution: String {
        switch self {
        case .fp32: return "fp32"
        case .bf16: return BF16Gemm.isSupported ? "bf16 (AVX512_BF16)" : "bf16 emulated (this CPU lacks AVX512_BF16)"
        }
    }
}

/// One matrix product's weights packed for an arithmetic: a session's MatMul, or a Linear layer of
/// the trainer (forward W and input-gradient Wᵀ, packed once per optimizer step).
public enum PackedMatMulWeights: Sendable {
    case bf16(BF16PackedWeights)
    case fp32(F32PackedWeights)

    /// The matrix w [n, k] with element [j, p] at `w[j·rowStride + p·colStride]` packed for
    /// `precision` (see `F32PackedWeights.init(_:n:k:rowStride:colStride:split:)`); nil for fp32 on a
    /// CPU where `F32Gemm` does not run (the caller keeps OpenBLAS).
    public static func pack(
        _ w: UnsafeBufferPointer<Float>, n: Int, k: Int, rowStride: Int, colStride: Int, precision: Precision,
        split: (_ panels: Int, _ body: (Range<Int>) -> Void) -> Void = { panels, body in body(0..<panels) }
    ) throws -> PackedMatMulWeights? {
        switch precision {
        case .bf16:
            return .bf16(try BF16PackedWeights(w, n: n, k: k, rowStride: rowStride, colStride: colStride, split: split))
        case .fp32:
            guard F32Gemm.isSupported else { return nil }
            return .fp32(try F32PackedWeights(w, n: n, k: k, rowStride: rowStride, colStride: colStride, split: split))
        }
    }

    /// Floats of workspace `multiply` needs on any rows (bf16: `BF16Gemm.maxWorkspaceFloats`; fp32: none).
    public var workspaceFloats: Int {
        if case .bf16 = self { return BF16Gemm.maxWorkspaceFloats }
        return 0
    }

    /// `out[i, j] = (accumulate ? out[i, j] : 0) + bias[j] + Σ_p x[i, p]·w[j, p]` for i < m, j < n
    /// (`BF16Gemm.multiply` or `F32Gemm.multiply`); `workspace` holds `workspaceFloats` floats.
    /// Calls on disjoint rows of `out` with their own workspaces may run at once.
    public func multiply(
        _ x: UnsafeBufferPointer<Float>, lda: Int, m: Int, bias: UnsafeBufferPointer<Float>? = nil,
        _ out: UnsafeMutableBufferPointer<Float>, ldc: Int, accumulate: Bool = false, workspace: UnsafeMutableBufferPointer<Float>
    ) throws {
        switch self {
        case .bf16(let w):
            try BF16Gemm.multiply(x, lda: lda, m: m, w, bias: bias, out, ldc: ldc, accumulate: accumulate, workspace: workspace)
        case .fp32(let w): try F32Gemm.multiply(x, lda: lda, m: m, w, bias: bias, out, ldc: ldc, accumulate: accumulate)
        }
    }

    /// Floats of workspace `multiplyTransposedA` needs (bf16: `BF16Gemm.transposedAWorkspaceFloats`).
    public var transposedAWorkspaceFloats: Int {
        if case .bf16 = self { return BF16Gemm.transposedAWorkspaceFloats }
        return 0
    }

    /// `out[i, j] = (accumulate ? out[i, j] : 0) + Σ_p xT[p, i]·w[j, p]` with the left operand given
    /// transposed (xT [k, m], rows `ldxT` floats apart; `F32Gemm.multiplyTransposedA`,
    /// `BF16Gemm.multiplyTransposedA`). Returns false, writing nothing, where that form does not run
    /// (bf16 without AVX512_BF16): the caller transposes xT and calls `multiply`.
    public func multiplyTransposedA(
        _ xT: UnsafeBufferPointer<Float>, ldxT: Int, m: Int, _ out: UnsafeMutableBufferPointer<Float>, ldc: Int,
        accumulate: Bool, workspace: UnsafeMutableBufferPointer<Float>
    ) throws -> Bool {
        switch self {
        case .bf16(let w):
            return try BF16Gemm.multiplyTransposedA(xT, ldxT: ldxT, m: m, w, out, ldc: ldc, accumulate: accumulate, workspace: workspace)
        case .fp32(let w):
            try F32Gemm.multiplyTransposedA(xT, ldxT: ldxT, m: m, w, out, ldc: ldc, accumulate: accumulate)
            return true
        }
    }

    public var n: Int {
        switch self {
        case .bf16(let w): return w.n
        case .fp32(let w): return w.n
        }
    }
    public var k: Int {
        switch self {
        case .bf16(let w): return w.k
        case .fp32(let w): return w.k
        }
    }
    public var bytes: Int {
        switch self {
        case .bf16(let w): return w.bytes
        case .fp32(let w): return w.bytes
        }
    }
}

/// The packed weights of a session: every MatMul's weight matrix packed once, keyed by the
/// initializer's name, with what packing cost. bf16 sessions pack into bf16 panels
/// (`BF16PackedWeights`); fp32 sessions into fp32 panels (`F32PackedWeights`) where `F32Gemm`
/// runs (AVX-512 CPUs), and pack nothing elsewhere (their MatMuls stay on OpenBLAS).
struct PackedWeightSet {
    var packed: [String: PackedMatMulWeights] = [:]
    /// Wall time of packing, and bytes of packed panels.
    var seconds = 0.0
    var bytes = 0

    /// Packs the weights of every MatMul of `model`'s graph (a weight read by several MatMuls once).
    init(model: LoadedModel, precision: Precision) throws {
        guard precision == .bf16 || F32Gemm.isSupported else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        for node in model.graph.nodes {
            guard case .matMul = node.op, packed[node.inputs[1]] == nil, let values = model.weight(node.inputs[1]) else { continue }
            let name = node.inputs[1]
            let dims = model.types[name]!.shape.sampleDims
            let w: PackedMatMulWeights =
                precision == .bf16
                ? .bf16(try BF16PackedWeights(values, n: dims[0], k: dims[1]))
                : .fp32(try F32PackedWeights(values, n: dims[0], k: dims[1]))
            packed[name] = w
            bytes += w.bytes
        }
        seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    init() {}
}
