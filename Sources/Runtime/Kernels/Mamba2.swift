import CKernels
import Foundation

/// Mamba-2 kernels (mamba2-spec §2.1): depthwise causal conv, the selective scan, and the fused
/// scan+gate that runs conv + SiLU + dt softplus + scan + D skip + SiLU(z) gate + grouped RMSNorm
/// over one sample's in_proj output in one pass. `reverse` runs a sequence from its end (equal to
/// flipping the input and the output along L).
public enum Mamba2 {
    /// Depthwise causal cross-correlation for one sample: x and out are [seq, channels] with row
    /// strides; w is [channels, kernel] (w[c, kernel-1] multiplies the current token).
    static func conv(_ x: UnsafePointer<Float>, xStride: Int, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                     _ out: UnsafeMutablePointer<Float>, outStride: Int, seq: Int, channels: Int, kernel: Int,
                     reverse: Bool, silu: Bool) {
        for t in 0..<seq {
            let o = out + t * outStride
            for c in 0..<channels { o[c] = bias[c] }
            for k in 0..<kernel {
                // Token feeding tap k: t-(K-1)+k causal, t+(K-1)-k reversed.
                let src = reverse ? t + (kernel - 1) - k : t - (kernel - 1) + k
                guard src >= 0 && src < seq else { continue }
                let xs = x + src * xStride
                for c in 0..<channels { o[c] += w[c * kernel + k] * xs[c] }
            }
            if silu { trm_vsilu(o, o, channels) }
        }
    }

    /// x, out: [batch, seq, channels]; w: [channels, 1, kernel]; bias: [channels].
    public static func conv1dCausal(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                                    _ out: UnsafeMutablePointer<Float>, batch: Int, seq: Int, channels: Int, kernel: Int, reverse: Bool) {
        for b in 0..<batch {
            conv(x + b * seq * channels, xStride: channels, w, bias, out + b * seq * channels, outStride: channels,
                 seq: seq, channels: channels, kernel: kernel, reverse: reverse, silu: false)
        }
    }

    /// One head's recurrence from a zero state: S = exp(dt·A)·S + dt·x⊗B, y = S·C + D·x.
    /// `state` is P×N scratch. The state rows are updated with SIMD over N (B and C of a token are
    /// loaded once and reused for all P rows); N not a multiple of 8 takes the scalar path.
    @inline(__always)
    static func scanHead(x: UnsafePointer<Float>, xStride: Int, dt: UnsafePointer<Float>, dtStride: Int,
                         b: UnsafePointer<Float>, c: UnsafePointer<Float>, bcStride: Int, a: Float, d: Float,
                         y: UnsafeMutablePointer<Float>, yStride: Int, seq: Int, headDim p: Int, dState n: Int,
                         reverse: Bool, state: UnsafeMutablePointer<Float>) {
        state.update(repeating: 0, count: p * n)
        let vectors = n % 8 == 0 ? n / 8 : 0
        for step in 0..<seq {
            let t = reverse ? seq - 1 - step : step
            let dtv = dt[t * dtStride]
            let decay = Foundation.exp(dtv * a)
            let xt = x + t * xStride, bt = b + t * bcStride, ct = c + t * bcStride, yt = y + t * yStride
            if vectors > 0 {
                let sv = UnsafeMutableRawPointer(state).assumingMemoryBound(to: SIMD8<Float>.self)
                let bv = UnsafeRawPointer(bt), cv = UnsafeRawPointer(ct)
                let decayV = SIMD8<Float>(repeating: decay)
                for i in 0..<p {
                    let row = sv + i * vectors
                    let u = SIMD8<Float>(repeating: dtv * xt[i])
                    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
                    var j = 0
                    while j + 1 < vectors {
                        let b0 = bv.loadUnaligned(fromByteOffset: 32 * j, as: SIMD8<Float>.self)
                        let b1 = bv.loadUnaligned(fromByteOffset: 32 * (j + 1), as: SIMD8<Float>.self)
                        let c0 = cv.loadUnaligned(fromByteOffset: 32 * j, as: SIMD8<Float>.self)
                        let c1 = cv.loadUnaligned(fromByteOffset: 32 * (j + 1), as: SIMD8<Float>.self)
                        let s0 = decayV * row[j] + u * b0
                        let s1 = decayV * row[j + 1] + u * b1
                        row[j] = s0
                        row[j + 1] = s1
                        acc0 += s0 * c0
                        acc1 += s1 * c1
                        j += 2
                    }
                    if j < vectors {
                        let s0 = decayV * row[j] + u * bv.loadUnaligned(fromByteOffset: 32 * j, as: SIMD8<Float>.self)
                        row[j] = s0
                        acc0 += s0 * cv.loadUnaligned(fromByteOffset: 32 * j, as: SIMD8<Float>.self)
                    }
                    yt[i] = (acc0 + acc1).sum() + d * xt[i]
                }
            } else {
                for i in 0..<p {
                    let s = state + i * n
                    let u = dtv * xt[i]
                    var acc: Float = 0
                    for j in 0..<n {
                        let v = decay * s[j] + u * bt[j]
                        s[j] = v
                        acc += v * ct[j]
                    }
                    yt[i] = acc + d * xt[i]
                }
            }
        }
    }

    /// Floats of per-thread workspace the fused kernel needs (the scan state).
    public static func scanGateWorkspaceFloats(headDim: Int, dState: Int) -> Int { headDim * dState }

    /// Floats of per-sample scratch shared by the threads of the fused kernel: conv output + dt.
    public static func scanGateSharedFloats(seq: Int, heads: Int, headDim: Int, dState: Int, groups: Int) -> Int {
        seq * (heads * headDim + 2 * groups * dState) + seq * heads
    }

    /// Sizes of one fused Mamba2ScanGate call.
    public struct ScanGateShape {
        public var seq, heads, headDim, dState, groups, kernel: Int
        public var eps: Float
        public var reverse: Bool
        public var inner: Int { heads * headDim }
        public var gn: Int { groups * dState }
        public var convChannels: Int { inner + 2 * gn }
        public var width: Int { 2 * inner + 2 * gn + heads }
    }

    /// Phase 1 of the fused kernel for rows `rows` of one sample: xBC' = SiLU(conv(xBC)) and
    /// dt = softplus(dt_raw + dt_bias) into `shared`.
    public static func scanGateConv(zx: UnsafePointer<Float>, convW: UnsafePointer<Float>, convB: UnsafePointer<Float>,
                                    dtBias: UnsafePointer<Float>, shared: UnsafeMutablePointer<Float>, _ s: ScanGateShape, rows: Range<Int>) {
        let cd = s.convChannels, e = s.inner, width = s.width
        let xbc = shared, dt = shared + s.seq * cd
        for t in rows {
            let o = xbc + t * cd
            for c in 0..<cd { o[c] = convB[c] }
            for k in 0..<s.kernel {
                let src = s.reverse ? t + (s.kernel - 1) - k : t - (s.kernel - 1) + k
                guard src >= 0 && src < s.seq else { continue }
                let xs = zx + src * width + e
                for c in 0..<cd { o[c] += convW[c * s.kernel + k] * xs[c] }
            }
            trm_vsilu(o, o, cd)
            let raw = zx + t * width + e + cd
            for h in 0..<s.heads { dt[t * s.heads + h] = Elementwise.softplusScalar(raw[h] + dtBias[h]) }
        }
    }

    /// Phase 2: the scan of heads `heads` into out (y), from the shared conv output.
    public static func scanGateScan(a: UnsafePointer<Float>, d: UnsafePointer<Float>, shared: UnsafeMutablePointer<Float>,
                                    out: UnsafeMutablePointer<Float>, _ s: ScanGateShape, heads: Range<Int>,
                                    state: UnsafeMutablePointer<Float>) {
        let cd = s.convChannels, e = s.inner, gn = s.gn
        let xbc = shared, dt = shared + s.seq * cd
        let perGroup = s.heads / s.groups
        for h in heads {
            let g = h / perGroup
            scanHead(x: xbc + h * s.headDim, xStride: cd, dt: dt + h, dtStride: s.heads, b: xbc + e + g * s.dState,
                     c: xbc + e + gn + g * s.dState, bcStride: cd, a: a[h], d: d[h], y: out + h * s.headDim, yStride: e,
                     seq: s.seq, headDim: s.headDim, dState: s.dState, reverse: s.reverse, state: state)
        }
    }

    /// Phase 3: y (in out) ⊙ silu(z), grouped RMSNorm, × w, in place, for rows `rows`.
    public static func scanGateNorm(zx: UnsafePointer<Float>, normW: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                                    _ s: ScanGateShape, rows: Range<Int>) {
        let e = s.inner
        for t in rows {
            Norms.gatedRow(out + t * e, zx + t * s.width, normW, out + t * e, cols: e, groupSize: e / s.groups, eps: s.eps)
        }
    }
}
