import CKernels
import Foundation
import Runtime

/// Non-causal multi-head attention, out = softmax(q·kᵀ/√d)·v per (sample, head), no mask
/// (docs/model.md §5). q, k, v, out are [B, S, H·d], heads head-major within a row.
///
/// Saved for backward: q, k, v and out (the caller's arrays, no copies) and the log-sum-exp of every
/// score row [B, H, S]. The S×S probabilities are NOT stored (B·H·S² floats, 27 MB per sample and
/// call at ARC size): the backward recomputes them per head and query tile as exp(score − lse),
/// FlashAttention-style, so its largest temporary is two [tile, S] blocks.
public struct MultiHeadAttention: Sendable, Hashable {
    public let seq: Int
    public let heads: Int
    public let headDim: Int
    /// Query rows per tile (bounds the score workspace).
    public static let tile = 128

    public init(seq: Int, heads: Int, headDim: Int) {
        precondition(seq > 0 && heads > 0 && headDim > 0, "MultiHeadAttention: bad sizes")
        self.seq = seq
        self.heads = heads
        self.headDim = headDim
    }

    public struct Saved: Sendable {
        public let q: [Float], k: [Float], v: [Float], out: [Float]
        /// log Σ_j exp(score[i, j]) per (sample, head, query) [B, H, S].
        public let logSumExp: [Float]
        /// The products' precision, the backward's too (MultiHeadAttentionPacked.swift).
        public let precision: Precision
    }

    var width: Int { heads * headDim }
    private var scale: Float { 1 / Float(headDim).squareRoot() }

    /// q, k, v [B, S, H·d] -> out [B, S, H·d], the products in `precision`. The (sample, head) pairs
    /// are split over the trainer's threads, each part with its own score tile; every pair writes
    /// only its own columns.
    public func forward(
        q: [Float], k: [Float], v: [Float], batch: Int, precision: Precision = .fp32
    ) -> (out: [Float], saved: Saved) {
        let n = batch * seq * width
        checkCount(q, n, "MultiHeadAttention q"); checkCount(k, n, "MultiHeadAttention k"); checkCount(v, n, "MultiHeadAttention v")
        var out = [Float](repeating: 0, count: n)
        var lse = [Float](repeating: 0, count: batch * heads * seq)
        let tileRows = min(Self.tile, seq)
        q.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    out.withUnsafeMutableBufferPointer { op in
                        lse.withUnsafeMutableBufferPointer { lp in
                            TrainerThreads.parts(batch * heads) { pairs in
                                var scores = [Float](repeating: 0, count: tileRows * seq)
                                var packed =
                                    Self.runsPacked(precision)
                                    ? PackedScratch(seq: seq, headDim: headDim, tileRows: tileRows, precision: precision) : nil
                                scores.withUnsafeMutableBufferPointer { sp in
                                    for pair in pairs {
                                        if packed != nil {
                                            forwardHeadPacked(pair, qp, kp, vp, op, lp, sp, tileRows: tileRows, scratch: &packed!)
                                        } else {
                                            forwardHead(pair, qp, kp, vp, op, lp, sp, tileRows: tileRows)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (out, Saved(q: q, k: k, v: v, out: out, logSumExp: lse, precision: precision))
    }

    /// One (sample, head) pair (pair = b·H + h) of `forward`, on the score tile `sp`.
    private func forwardHead(
        _ pair: Int, _ qp: UnsafeBufferPointer<Float>, _ kp: UnsafeBufferPointer<Float>, _ vp: UnsafeBufferPointer<Float>,
        _ op: UnsafeMutableBufferPointer<Float>, _ lp: UnsafeMutableBufferPointer<Float>, _ sp: UnsafeMutableBufferPointer<Float>,
        tileRows: Int
    ) {
        let s = sp.baseAddress!, w = width, d = headDim, b = pair / heads, h = pair % heads
        let base = b * seq * w + h * d
        var t0 = 0
        while t0 < seq {
            let rows = min(tileRows, seq - t0)
            Gemm.gemm(
                transB: true, m: rows, n: seq, k: d, alpha: scale, tail(qp, base + t0 * w), lda: w, tail(kp, base), ldb: w, beta: 0, sp,
                ldc: seq)
            for r in 0..<rows { lp[pair * seq + t0 + r] = Self.softmaxRow(s + r * seq, count: seq) }
            Gemm.gemm(
                m: rows, n: d, k: seq, UnsafeBufferPointer(sp), lda: seq, tail(vp, base), ldb: w, beta: 0, tail(op, base + t0 * w), ldc: w)
            t0 += rows
        }
    }

    /// dOut [B, S, H·d] -> (dQ, dK, dV), each [B, S, H·d].
    ///
    /// With P = softmax(scale·QKᵀ) and Δ_i = Σ_c dO[i, c]·O[i, c] (= Σ_j P_ij dP_ij):
    /// dV = Pᵀ·dO, dP = dO·Vᵀ, dScore = P ⊙ (dP − Δ), dQ = scale·dScore·K, dK = scale·dScoreᵀ·Q.
    /// The (sample, head) pairs are split over the trainer's threads as in `forward`.
    public func backward(_ dOut: [Float], _ saved: Saved, batch: Int) -> (dQ: [Float], dK: [Float], dV: [Float]) {
        let n = batch * seq * width
        checkCount(dOut, n, "MultiHeadAttention dOut")
        checkCount(saved.q, n, "MultiHeadAttention saved q")
        checkCount(saved.logSumExp, batch * heads * seq, "MultiHeadAttention saved lse")
        var dq = [Float](repeating: 0, count: n), dk = dq, dv = dq
        let tileRows = min(Self.tile, seq)
        saved.q.withUnsafeBufferPointer { qp in
            saved.k.withUnsafeBufferPointer { kp in
                saved.v.withUnsafeBufferPointer { vp in
                    saved.out.withUnsafeBufferPointer { op in
                        saved.logSumExp.withUnsafeBufferPointer { lp in
                            dOut.withUnsafeBufferPointer { gp in
                                dq.withUnsafeMutableBufferPointer { dqp in
                                    dk.withUnsafeMutableBufferPointer { dkp in
                                        dv.withUnsafeMutableBufferPointer { dvp in
                                            TrainerThreads.parts(batch * heads) { pairs in
                                                var probs = [Float](repeating: 0, count: tileRows * seq), dScores = probs
                                                var delta = [Float](repeating: 0, count: tileRows)
                                                var packed =
                                                    Self.runsPacked(saved.precision)
                                                    ? PackedScratch(
                                                        seq: seq, headDim: headDim, tileRows: tileRows, precision: saved.precision) : nil
                                                probs.withUnsafeMutableBufferPointer { pp in
                                                    dScores.withUnsafeMutableBufferPointer { dsp in
                                                        delta.withUnsafeMutableBufferPointer { dlp in
                                                            for pair in pairs {
                                                                if packed != nil {
                                                                    backwardHeadPacked(
                                                                        pair, (qp, kp, vp, op, lp, gp), (dqp, dkp, dvp), pp, dsp,
                                                                        tileRows: tileRows, scratch: &packed!)
                                                                } else {
                                                                    backwardHead(
                                                                        pair, (qp, kp, vp, op, lp, gp), (dqp, dkp, dvp), (pp, dsp, dlp),
                                                                        tileRows: tileRows)
                                                                }
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dq, dk, dv)
    }

    /// One (sample, head) pair of `backward`: inputs q, k, v, out, lse, dOut; outputs dq, dk, dv;
    /// scratch probabilities, dScores (tile × S each) and Δ (tile).
    private func backwardHead(
        _ pair: Int,
        _ inputs: (
            q: UnsafeBufferPointer<Float>, k: UnsafeBufferPointer<Float>, v: UnsafeBufferPointer<Float>, o: UnsafeBufferPointer<Float>,
            lse: UnsafeBufferPointer<Float>, g: UnsafeBufferPointer<Float>
        ),
        _ outputs: (dq: UnsafeMutableBufferPointer<Float>, dk: UnsafeMutableBufferPointer<Float>, dv: UnsafeMutableBufferPointer<Float>),
        _ scratch: (p: UnsafeMutableBufferPointer<Float>, ds: UnsafeMutableBufferPointer<Float>, delta: UnsafeMutableBufferPointer<Float>),
        tileRows: Int
    ) {
        let (qp, kp, vp, op, lp, gp) = inputs
        let (dqp, dkp, dvp) = outputs
        let (pp, dsp, delta) = scratch
        let p = pp.baseAddress!, ds = dsp.baseAddress!, w = width, d = headDim, b = pair / heads, h = pair % heads
        let base = b * seq * w + h * d
        let oh = op.baseAddress! + base, gh = gp.baseAddress! + base
        var t0 = 0
        while t0 < seq {
            let rows = min(tileRows, seq - t0)
            // Recompute the tile's probabilities from the saved log-sum-exp.
            Gemm.gemm(
                transB: true, m: rows, n: seq, k: d, alpha: scale, tail(qp, base + t0 * w), lda: w, tail(kp, base), ldb: w, beta: 0, pp,
                ldc: seq)
            for r in 0..<rows {
                let l = lp[pair * seq + t0 + r], row = p + r * seq
                for j in 0..<seq { row[j] -= l }
                trm_vexp(row, seq)
                var acc: Float = 0
                for c in 0..<d { acc += gh[(t0 + r) * w + c] * oh[(t0 + r) * w + c] }
                delta[r] = acc
            }
            // dP = dO_tile · Vᵀ, then dScore = P ⊙ (dP − Δ).
            Gemm.gemm(transB: true, m: rows, n: seq, k: d, tail(gp, base + t0 * w), lda: w, tail(vp, base), ldb: w, beta: 0, dsp, ldc: seq)
            for r in 0..<rows {
                for j in 0..<seq { ds[r * seq + j] = p[r * seq + j] * (ds[r * seq + j] - delta[r]) }
            }
            // dV += Pᵀ·dO_tile; dQ_tile = scale·dScore·K; dK += scale·dScoreᵀ·Q_tile.
            Gemm.gemm(
                transA: true, m: seq, n: d, k: rows, UnsafeBufferPointer(pp), lda: seq, tail(gp, base + t0 * w), ldb: w, beta: 1,
                tail(dvp, base), ldc: w)
            Gemm.gemm(
                m: rows, n: d, k: seq, alpha: scale, UnsafeBufferPointer(dsp), lda: seq, tail(kp, base), ldb: w, beta: 0,
                tail(dqp, base + t0 * w), ldc: w)
            Gemm.gemm(
                transA: true, m: seq, n: d, k: rows, alpha: scale, UnsafeBufferPointer(dsp), lda: seq, tail(qp, base + t0 * w), ldb: w,
                beta: 1, tail(dkp, base), ldc: w)
            t0 += rows
        }
    }

    /// In-place softmax of one row; returns its log-sum-exp (max + log Σ exp(x − max)), in C.
    static func softmaxRow(_ s: UnsafeMutablePointer<Float>, count n: Int) -> Float { trm_softmax_row_lse(s, n) }
}

/// The floats of `p` from `offset` on: one head or tile of a [B, S, H·d] buffer, for `Gemm`.
private func tail(_ p: UnsafeBufferPointer<Float>, _ offset: Int) -> UnsafeBufferPointer<Float> {
    UnsafeBufferPointer(rebasing: p[offset...])
}

private func tail(_ p: UnsafeMutableBufferPointer<Float>, _ offset: Int) -> UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(rebasing: p[offset...])
}
