import CKernels
import Runtime

/// Mamba-2's depthwise causal convolution with bias (docs/mamba2.md §2): a cross-correlation over
/// the sequence, pre[t, c] = b[c] + Σ_k w[c, k]·x[t − (K−1) + k, c] with zeros before the start, so
/// w[c, K−1] multiplies the current token. `reverse` mirrors it (taps reach t + (K−1) − k), which
/// equals flipping the sequence, convolving and flipping back. The SiLU after it is the mixer's.
///
/// Saved for backward: nothing; the backward needs the input x, which the caller recomputes or keeps.
public struct CausalConv1d: Sendable, Hashable {
    public let seq: Int
    public let channels: Int
    public let kernel: Int
    public let reverse: Bool

    public init(seq: Int, channels: Int, kernel: Int, reverse: Bool) {
        precondition(seq > 0 && channels > 0 && kernel > 0, "CausalConv1d: bad sizes")
        self.seq = seq
        self.channels = channels
        self.kernel = kernel
        self.reverse = reverse
    }

    /// The token feeding tap k of output t, or nil outside the sequence.
    @inline(__always) private func source(_ t: Int, _ k: Int) -> Int? {
        let s = reverse ? t + (kernel - 1) - k : t - (kernel - 1) + k
        return s >= 0 && s < seq ? s : nil
    }

    /// x [B, L, C], weight [C, 1, K] (stored [C, K]), bias [C] -> pre-activation [B, L, C], on the
    /// runtime's conv kernel (`trm_conv_rows`: bias, then the taps in k order, as the graph's
    /// Mamba2ScanGate sums them), the samples split over the trainer's threads.
    public func forward(_ x: [Float], weight: [Float], bias: [Float], batch: Int) -> [Float] {
        let c = channels
        checkCount(x, batch * seq * c, "CausalConv1d input")
        checkCount(weight, c * kernel, "CausalConv1d weight")
        checkCount(bias, c, "CausalConv1d bias")
        return [Float](unsafeUninitializedCapacity: x.count) { op, initialized in
            x.withUnsafeBufferPointer { xp in
                weight.withUnsafeBufferPointer { wp in
                    bias.withUnsafeBufferPointer { bp in
                        TrainerThreads.parts(batch) { samples in
                            var taps = [Float](repeating: 0, count: Mamba2.convWorkspaceFloats(channels: c, kernel: kernel))
                            taps.withUnsafeMutableBufferPointer { tp in
                                for b in samples {
                                    trm_conv_rows(
                                        xp.baseAddress! + b * seq * c, c, wp.baseAddress!, bp.baseAddress!, op.baseAddress! + b * seq * c,
                                        c,
                                        seq, 0, seq, c, kernel, reverse ? 1 : 0, tp.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// dPre [B, L, C] -> dx [B, L, C]; accumulates dWeight [C, K] and dBias [C].
    /// ∂w[c, k] = Σ_t dPre[t, c]·x[src(t, k), c];  ∂x[src(t, k), c] += w[c, k]·dPre[t, c].
    public func backward(
        _ dPre: [Float], input x: [Float], weight: [Float], batch: Int,
        dWeight: inout [Float], dBias: inout [Float]
    ) -> [Float] {
        let c = channels
        checkCount(dPre, batch * seq * c, "CausalConv1d dPre")
        checkCount(x, batch * seq * c, "CausalConv1d input")
        checkCount(weight, c * kernel, "CausalConv1d weight")
        checkCount(dWeight, c * kernel, "CausalConv1d dWeight")
        checkCount(dBias, c, "CausalConv1d dBias")
        var dx = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                dPre.withUnsafeBufferPointer { gp in
                    dx.withUnsafeMutableBufferPointer { dxp in
                        dWeight.withUnsafeMutableBufferPointer { dwp in
                            for b in 0..<batch {
                                for t in 0..<seq {
                                    let o = (b * seq + t) * c
                                    for ch in 0..<c { dBias[ch] += gp[o + ch] }
                                    for k in 0..<kernel {
                                        guard let s = source(t, k) else { continue }
                                        let xs = (b * seq + s) * c
                                        for ch in 0..<c {
                                            dwp[ch * kernel + k] += gp[o + ch] * xp[xs + ch]
                                            dxp[xs + ch] += wp[ch * kernel + k] * gp[o + ch]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
