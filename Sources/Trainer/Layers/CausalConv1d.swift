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
                                        seq, 0, seq, c, kernel, reverse ? 1 : 0, 0, tp.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// dPre [B, L, C] -> dx [B, L, C]; accumulates dWeight [C, K] and dBias [C], on
    /// `trm_conv_rows_backward` with the samples split over the trainer's threads.
    /// ∂w[c, k] = Σ_t dPre[t, c]·x[src(t, k), c];  ∂x[src(t, k), c] += w[c, k]·dPre[t, c], where
    /// src(t, k) = t − (K−1) + k (t + (K−1) − k reversed) is the token feeding tap k of output t.
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
        // Per-sample tap and bias gradients (taps transposed, [K, C]), summed over the samples in
        // order below, so the result does not depend on the thread split.
        let ck = c * kernel
        var dx = [Float](repeating: 0, count: x.count)
        var tapParts = [Float](repeating: 0, count: batch * ck), biasParts = [Float](repeating: 0, count: batch * c)
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                dPre.withUnsafeBufferPointer { gp in
                    dx.withUnsafeMutableBufferPointer { dxp in
                        tapParts.withUnsafeMutableBufferPointer { tpp in
                            biasParts.withUnsafeMutableBufferPointer { bpp in
                                TrainerThreads.parts(batch) { samples in
                                    var wt = [Float](repeating: 0, count: ck)
                                    wt.withUnsafeMutableBufferPointer { wtp in
                                        for b in samples {
                                            let o = b * seq * c
                                            trm_conv_rows_backward(
                                                xp.baseAddress! + o, c, gp.baseAddress! + o, c, wp.baseAddress!,
                                                dxp.baseAddress! + o, c, tpp.baseAddress! + b * ck, bpp.baseAddress! + b * c,
                                                seq, c, kernel, reverse ? 1 : 0, wtp.baseAddress!)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for b in 0..<batch {
            for ch in 0..<c {
                dBias[ch] += biasParts[b * c + ch]
                for k in 0..<kernel { dWeight[ch * kernel + k] += tapParts[b * ck + k * c + ch] }
            }
        }
        return dx
    }
}
