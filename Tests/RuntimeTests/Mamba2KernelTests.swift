import Foundation
import GraphIR
import Testing
import TestSupport
@testable import Runtime

/// The Mamba-2 kernels against double-precision references (NMSE < 1e-10): the depthwise causal
/// conv, the selective scan per head (h_t = exp(dt_t·A)·h_{t-1} + dt_t·B_t·x_t, y_t = C_t·h_t + D·x_t
/// from a zero state, in the executor's interleaved [B, L, H·P] / [B, L, G·N] layout), and the fused
/// scan+gate's three phases split between "threads" as the executor splits them. Sizes cover the
/// tiled scan (P and N multiples of 8) and the scalar one, sequences below, at and across the
/// 64-token chunk, and channel counts off the 8-lane conv vectors.
@Suite struct Mamba2KernelTests {
    /// Depthwise conv of one [seq, channels] sequence with row stride `stride`: tap k reads token
    /// t-(K-1)+k (causal) or t+(K-1)-k (reversed); w is [channels, K].
    static func convReference(
        _ x: [Double], stride: Int, offset: Int = 0, w: [Float], bias: [Float], seq: Int,
        channels: Int, kernel: Int, reverse: Bool
    ) -> [Double] {
        var out = [Double](repeating: 0, count: seq * channels)
        for t in 0..<seq {
            for c in 0..<channels {
                var acc = Double(bias[c])
                for k in 0..<kernel {
                    let src = reverse ? t + (kernel - 1) - k : t - (kernel - 1) + k
                    if src >= 0 && src < seq { acc += Double(w[c * kernel + k]) * x[src * stride + offset + c] }
                }
                out[t * channels + c] = acc
            }
        }
        return out
    }

    @Test(arguments: [(13, 20, 4, false), (13, 20, 4, true), (9, 8, 1, false), (5, 3, 4, true), (70, 37, 3, false), (2, 16, 4, false)])
    func conv(seq: Int, channels: Int, kernel: Int, reverse: Bool) {
        let batch = 2
        let x = SampleGraphs.values(batch * seq * channels, seed: 51), w = SampleGraphs.values(channels * kernel, seed: 52)
        let bias = SampleGraphs.values(channels, seed: 53)
        var expected = [Double]()
        for b in 0..<batch {
            let xs = x[(b * seq * channels)..<((b + 1) * seq * channels)].map(Double.init)
            expected += Self.convReference(
                xs, stride: channels, w: w, bias: bias, seq: seq, channels: channels, kernel: kernel, reverse: reverse)
        }
        var workspace = [Float](repeating: .nan, count: Mamba2.convWorkspaceFloats(channels: channels, kernel: kernel))
        let what = "conv seq \(seq) C \(channels) K \(kernel) reverse \(reverse)"
        let out = KernelCheck.output(x.count, what) { o in
            workspace.withUnsafeMutableBufferPointer { ws in
                Mamba2.conv1dCausal(
                    x, w, bias, o, batch: batch, seq: seq, channels: channels, kernel: kernel, reverse: reverse,
                    workspace: ws.baseAddress!)
            }
        }
        KernelCheck.expectClose(out, expected, what)
    }

    /// One head's scan in double: x [seq] rows of P at stride xs, dt at stride dts, B and C rows
    /// of N at stride bcs; y rows of P written at stride ys into `y`.
    static func scanReference(
        x: [Double], xOffset: Int, xs: Int, dt: [Double], dtOffset: Int, dts: Int,
        bc: (b: [Double], c: [Double]), bcOffset: Int, bcs: Int, a: Float, d: Float,
        y: inout [Double], yOffset: Int, ys: Int, seq: Int, p: Int, n: Int, reverse: Bool
    ) {
        var state = [Double](repeating: 0, count: n * p)
        for step in 0..<seq {
            let t = reverse ? seq - 1 - step : step
            let dtv = dt[dtOffset + t * dts], decay = Foundation.exp(dtv * Double(a))
            for i in 0..<p {
                let xv = x[xOffset + t * xs + i]
                var acc = Double(d) * xv
                for j in 0..<n {
                    let s = decay * state[j * p + i] + bc.b[bcOffset + t * bcs + j] * dtv * xv
                    state[j * p + i] = s
                    acc += s * bc.c[bcOffset + t * bcs + j]
                }
                y[yOffset + t * ys + i] = acc
            }
        }
    }

    /// (P, N, seq, reverse): P and N multiples of 8 take the tiled path (64-token chunks), others
    /// the scalar one.
    @Test(arguments: [
        (8, 8, 1, false), (8, 16, 63, false), (16, 8, 64, true), (24, 16, 65, false), (8, 8, 130, true),
        (16, 16, 150, false), (5, 8, 70, false), (8, 3, 70, true), (12, 16, 33, false), (1, 1, 9, true),
    ])
    func scan(p: Int, n: Int, seq: Int, reverse: Bool) {
        checkScan(p: p, n: n, seq: seq, reverse: reverse, dt: (0.01, 0.5))
    }

    /// Decays from e^-0.005 to e^-240 per token: the tiled kernel's chunks end early where the decay
    /// product leaves its range, and single tokens past that range start a chunk of their own.
    @Test(arguments: [(8, 8, 200, false), (16, 16, 150, true)])
    func scanWithExtremeDecays(p: Int, n: Int, seq: Int, reverse: Bool) {
        checkScan(p: p, n: n, seq: seq, reverse: reverse, dt: (0.01, 60))
    }

    func checkScan(p: Int, n: Int, seq: Int, reverse: Bool, dt dtRange: (Float, Float)) {
        let batch = 2, heads = 4, groups = 2, e = heads * p, gn = groups * n
        let x = SampleGraphs.values(batch * seq * e, seed: 61, scale: 1)
        let dt = KernelCheck.uniform(batch * seq * heads, dtRange.0, dtRange.1, seed: 62)
        let a = KernelCheck.uniform(heads, -4, -0.5, seed: 63), d = SampleGraphs.values(heads, seed: 64, scale: 1)
        let bm = SampleGraphs.values(batch * seq * gn, seed: 65, scale: 1), cm = SampleGraphs.values(batch * seq * gn, seed: 66, scale: 1)
        var expected = [Double](repeating: 0, count: x.count)
        let xd = x.map(Double.init), dtd = dt.map(Double.init), bcd = (bm.map(Double.init), cm.map(Double.init))
        for b in 0..<batch {
            for h in 0..<heads {
                let g = h / (heads / groups)
                Self.scanReference(
                    x: xd, xOffset: b * seq * e + h * p, xs: e, dt: dtd, dtOffset: b * seq * heads + h, dts: heads,
                    bc: bcd, bcOffset: b * seq * gn + g * n, bcs: gn, a: a[h], d: d[h],
                    y: &expected, yOffset: b * seq * e + h * p, ys: e, seq: seq, p: p, n: n, reverse: reverse)
            }
        }
        // NaN workspace: the kernel must start from a zero state of its own.
        var state = [Float](repeating: .nan, count: Mamba2.scanWorkspaceFloats(headDim: p, dState: n))
        let what = "scan P \(p) N \(n) seq \(seq) reverse \(reverse)"
        let shape = Mamba2.ScanShape(
            batch: batch, seq: seq, dims: Mamba2Dims(heads: heads, headDim: p, dState: n, groups: groups, reverse: reverse))
        let out = KernelCheck.output(x.count, what) { o in
            Mamba2.scan(
                x: x, dt: dt, a: a, bm: bm, cm: cm, d: d, shape, workspace: &state, y: UnsafeMutableBufferPointer(start: o, count: x.count))
        }
        KernelCheck.expectClose(out, expected, what)
    }

    /// The fused Mamba2ScanGate of one sample in double: conv + SiLU of xBC, dt = softplus(dt_raw +
    /// dt_bias), the scan with the D skip, then y ⊙ silu(z) normalised per group, times w.
    static func scanGateReference(
        zx: [Float], _ s: Mamba2.ScanGateShape, convW: [Float], convB: [Float], dtBias: [Float],
        a: [Float], d: [Float], normW: [Float]
    ) -> [Double] {
        let e = s.inner, cd = s.convChannels, width = s.width
        let conv = convReference(
            zx.map(Double.init), stride: width, offset: e, w: convW, bias: convB, seq: s.seq,
            channels: cd, kernel: s.kernel, reverse: s.reverse
        ).map(KernelCheck.silu)
        let dt = (0..<(s.seq * s.heads)).map { i -> Double in
            let v = Double(zx[(i / s.heads) * width + e + cd + i % s.heads]) + Double(dtBias[i % s.heads])
            return v > 20 ? v : log1p(Foundation.exp(v))
        }
        // x, B and C are the columns of the conv output: x at h·P, B at E + g·N, C at E + G·N + g·N.
        var y = [Double](repeating: 0, count: s.seq * e)
        for h in 0..<s.heads {
            let g = h / (s.heads / s.groups)
            scanReference(
                x: conv, xOffset: h * s.headDim, xs: cd, dt: dt, dtOffset: h, dts: s.heads,
                bc: (conv, Array(conv.dropFirst(s.gn))), bcOffset: e + g * s.dState, bcs: cd, a: a[h], d: d[h], y: &y,
                yOffset: h * s.headDim, ys: e,
                seq: s.seq, p: s.headDim, n: s.dState, reverse: s.reverse)
        }
        var out = [Double](repeating: 0, count: s.seq * e)
        let groupSize = e / s.groups
        for t in 0..<s.seq {
            for g0 in stride(from: 0, to: e, by: groupSize) {
                let v = (g0..<(g0 + groupSize)).map { y[t * e + $0] * KernelCheck.silu(Double(zx[t * width + $0])) }
                let inv = 1 / (v.map { $0 * $0 }.reduce(0, +) / Double(groupSize) + Double(s.eps)).squareRoot()
                for i in 0..<groupSize { out[t * e + g0 + i] = v[i] * inv * Double(normW[g0 + i]) }
            }
        }
        return out
    }

    /// (heads, P, N, groups, seq, reverse, parts): `parts` threads each take a share of the rows
    /// (phases 0 and 2) and of the heads (phase 1), as ScanGateArgs splits them.
    @Test(arguments: [
        (4, 8, 8, 2, 70, false, 1), (4, 8, 8, 2, 70, true, 3), (3, 6, 5, 1, 19, false, 2), (2, 16, 16, 1, 64, true, 2),
        (2, 16, 16, 1, 150, false, 2), (6, 8, 5, 3, 65, false, 4),
    ])
    func scanGate(heads: Int, p: Int, n: Int, groups: Int, seq: Int, reverse: Bool, parts: Int) {
        checkScanGate(heads: heads, p: p, n: n, groups: groups, seq: seq, reverse: reverse, parts: parts, dtBias: (-3, -1), a: (-4, -0.5))
    }

    /// Decays down to e^-300 per token through the packed B|C the heads share: chunks end early at
    /// offsets that are not multiples of 64 (the 16-wide AVX-512 tiles and the 8-wide ones).
    @Test(arguments: [(2, 16, 16, 1, 150, false, 2), (2, 16, 16, 1, 150, true, 1), (4, 8, 8, 2, 200, true, 3)])
    func scanGateWithExtremeDecays(heads: Int, p: Int, n: Int, groups: Int, seq: Int, reverse: Bool, parts: Int) {
        checkScanGate(heads: heads, p: p, n: n, groups: groups, seq: seq, reverse: reverse, parts: parts, dtBias: (2, 5), a: (-60, -1))
    }

    func checkScanGate(
        heads: Int, p: Int, n: Int, groups: Int, seq: Int, reverse: Bool, parts: Int, dtBias dtRange: (Float, Float),
        a aRange: (Float, Float)
    ) {
        let s = Mamba2.ScanGateShape(seq: seq, heads: heads, headDim: p, dState: n, groups: groups, kernel: 4, eps: 1e-5, reverse: reverse)
        let batch = 2
        let zx = SampleGraphs.values(batch * seq * s.width, seed: 71, scale: 1)
        let convW = SampleGraphs.values(s.convChannels * s.kernel, seed: 72), convB = SampleGraphs.values(s.convChannels, seed: 73)
        let dtBias = KernelCheck.uniform(heads, dtRange.0, dtRange.1, seed: 74)
        let a = KernelCheck.uniform(heads, aRange.0, aRange.1, seed: 75)
        let d = SampleGraphs.values(heads, seed: 76, scale: 1), normW = KernelCheck.uniform(s.inner, 0.5, 1.5, seed: 77)
        var expected = [Double]()
        for b in 0..<batch {
            expected += Self.scanGateReference(
                zx: Array(zx[(b * seq * s.width)..<((b + 1) * seq * s.width)]), s, convW: convW, convB: convB,
                dtBias: dtBias, a: a, d: d, normW: normW)
        }
        var shared = [Float](
            repeating: .nan, count: Mamba2.scanGateSharedFloats(seq: seq, heads: heads, headDim: p, dState: n, groups: groups))
        var workspaces = [[Float]](repeating: [Float](repeating: .nan, count: Mamba2.scanGateWorkspaceFloats(s)), count: parts)
        func range(_ items: Int, _ part: Int) -> Range<Int> { (items * part / parts)..<(items * (part + 1) / parts) }
        let what = "scanGate H \(heads) P \(p) N \(n) G \(groups) seq \(seq) reverse \(reverse) parts \(parts)"
        let out = KernelCheck.output(batch * seq * s.inner, what) { o in
            zx.withUnsafeBufferPointer { zp in
                shared.withUnsafeMutableBufferPointer { sh in
                    for b in 0..<batch {
                        let zxs = zp.baseAddress! + b * seq * s.width, outs = o + b * seq * s.inner
                        for part in 0..<parts {
                            workspaces[part].withUnsafeMutableBufferPointer { ws in
                                Mamba2.scanGateConv(
                                    zx: zxs, convW: convW, convB: convB, dtBias: dtBias, shared: sh.baseAddress!, s,
                                    rows: range(seq, part), workspace: ws.baseAddress!)
                            }
                        }
                        for part in 0..<parts {
                            workspaces[part].withUnsafeMutableBufferPointer { ws in
                                Mamba2.scanGateScan(
                                    a: a, d: d, shared: sh.baseAddress!, out: outs, s, heads: range(heads, part), state: ws.baseAddress!)
                            }
                        }
                        for part in 0..<parts { Mamba2.scanGateNorm(zx: zxs, normW: normW, out: outs, s, rows: range(seq, part)) }
                    }
                }
            }
        }
        KernelCheck.expectClose(out, expected, what)
    }
}
