import CKernels
import Foundation

/// Mamba-2 kernels (docs/mamba2.md §2): depthwise causal conv, the selective scan, and the fused
/// scan+gate that runs conv + SiLU + dt softplus + scan + D skip + SiLU(z) gate + grouped RMSNorm
/// over one sample's in_proj output in one pass. `reverse` runs a sequence from its end (equal to
/// flipping the input and the output along L).
public enum Mamba2 {
    /// Floats of workspace `conv1dCausal` needs (the transposed taps).
    public static func convWorkspaceFloats(channels: Int, kernel: Int) -> Int { channels * kernel }

    /// Depthwise causal cross-correlation: x, out: [batch, seq, channels]; w: [channels, 1, kernel]
    /// (w[c, kernel-1] multiplies the current token); bias: [channels]; `workspace` holds
    /// `convWorkspaceFloats` floats.
    public static func conv1dCausal(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        _ out: UnsafeMutablePointer<Float>, batch: Int, seq: Int, channels: Int, kernel: Int, reverse: Bool,
        workspace: UnsafeMutablePointer<Float>
    ) {
        for b in 0..<batch {
            trm_conv_rows(
                x + b * seq * channels, channels, w, bias, out + b * seq * channels, channels, seq, 0, seq,
                channels, kernel, reverse ? 1 : 0, 0, workspace)
        }
    }

    /// One head's recurrence from a zero state: S = exp(dt·A)·S + dt·x⊗B, y = S·C + D·x.
    /// `state` holds `scanWorkspaceFloats` floats. The C kernel (ssm_scan.c) keeps 8-row tiles of the
    /// state in registers while it walks chunks of tokens, vectorised over the head dim, with each
    /// chunk's decay product factored out of its inner loop. The trainer's forward scan runs it too.
    @inline(__always)
    public static func scanHead(
        x: UnsafePointer<Float>, xStride: Int, dt: UnsafePointer<Float>, dtStride: Int,
        b: UnsafePointer<Float>, c: UnsafePointer<Float>, bcStride: Int, a: Float, d: Float,
        y: UnsafeMutablePointer<Float>, yStride: Int, seq: Int, headDim p: Int, dState n: Int,
        reverse: Bool, state: UnsafeMutablePointer<Float>
    ) {
        trm_ssm_scan(x, xStride, dt, dtStride, b, c, bcStride, a, d, y, yStride, seq, p, n, reverse ? 1 : 0, state)
    }

    /// Floats of per-thread workspace the fused kernel needs: the scan's, or the conv's transposed taps.
    public static func scanGateWorkspaceFloats(_ s: ScanGateShape) -> Int {
        max(scanWorkspaceFloats(headDim: s.headDim, dState: s.dState), convWorkspaceFloats(channels: s.convChannels, kernel: s.kernel))
    }

    /// Floats of workspace one `scanHead` call needs.
    public static func scanWorkspaceFloats(headDim: Int, dState: Int) -> Int { trm_ssm_scan_workspace(headDim, dState) }

    /// Floats of per-sample scratch shared by the threads of the fused kernel: conv output + dt, then
    /// each group's B|C packed for the scan (`trm_ssm_pack_bc`) where the scan runs tiled.
    public static func scanGateSharedFloats(seq: Int, heads: Int, headDim: Int, dState: Int, groups: Int) -> Int {
        let packed = trm_ssm_scan_tiled(headDim, dState) != 0 ? groups * trm_ssm_bc_packed_floats(seq, dState) : 0
        return scanGatePackedOffset(seq: seq, heads: heads, convChannels: heads * headDim + 2 * groups * dState) + packed
    }

    /// Where the packed B|C start in the shared scratch: after the conv output ([seq, convChannels])
    /// and dt ([seq, heads]).
    private static func scanGatePackedOffset(seq: Int, heads: Int, convChannels: Int) -> Int { seq * convChannels + seq * heads }

    /// The packed B|C of group `g` in the fused kernel's shared scratch, or nil where the scan of
    /// this shape is not tiled and reads B and C from the conv output.
    static func scanGatePackedBC(_ shared: UnsafeMutablePointer<Float>, _ s: ScanGateShape, group g: Int) -> UnsafeMutablePointer<Float>? {
        guard trm_ssm_scan_tiled(s.headDim, s.dState) != 0 else { return nil }
        return shared + scanGatePackedOffset(seq: s.seq, heads: s.heads, convChannels: s.convChannels)
            + g * trm_ssm_bc_packed_floats(s.seq, s.dState)
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
    /// dt = softplus(dt_raw + dt_bias) into `shared`, and those rows of every group's B|C packed.
    public static func scanGateConv(
        zx: UnsafePointer<Float>, convW: UnsafePointer<Float>, convB: UnsafePointer<Float>,
        dtBias: UnsafePointer<Float>, shared: UnsafeMutablePointer<Float>, _ s: ScanGateShape, rows: Range<Int>,
        workspace: UnsafeMutablePointer<Float>
    ) {
        let cd = s.convChannels, e = s.inner, width = s.width
        let xbc = shared, dt = shared + s.seq * cd
        trm_conv_rows(
            zx + e, width, convW, convB, xbc, cd, s.seq, rows.lowerBound, rows.upperBound, cd, s.kernel, s.reverse ? 1 : 0, 1,
            workspace)
        for t in rows {
            let raw = zx + t * width + e + cd
            for h in 0..<s.heads { dt[t * s.heads + h] = Elementwise.softplusScalar(raw[h] + dtBias[h]) }
        }
        for g in 0..<s.groups {
            guard let packed = scanGatePackedBC(shared, s, group: g) else { break }
            let b = xbc + e + g * s.dState
            trm_ssm_pack_bc(b, b + s.gn, cd, s.seq, s.dState, s.reverse ? 1 : 0, rows.lowerBound, rows.upperBound, packed)
        }
    }

    /// Phase 2: the scan of heads `heads` into out (y), from the shared conv output.
    public static func scanGateScan(
        a: UnsafePointer<Float>, d: UnsafePointer<Float>, shared: UnsafeMutablePointer<Float>,
        out: UnsafeMutablePointer<Float>, _ s: ScanGateShape, heads: Range<Int>,
        state: UnsafeMutablePointer<Float>
    ) {
        let cd = s.convChannels, e = s.inner, gn = s.gn
        let xbc = shared, dt = shared + s.seq * cd
        let perGroup = s.heads / s.groups
        for h in heads {
            let g = h / perGroup
            if let packed = scanGatePackedBC(shared, s, group: g) {
                trm_ssm_scan_packed(
                    xbc + h * s.headDim, cd, dt + h, s.heads, packed, a[h], d[h], out + h * s.headDim, e, s.seq,
                    s.headDim, s.dState, s.reverse ? 1 : 0, state)
                continue
            }
            scanHead(
                x: xbc + h * s.headDim, xStride: cd, dt: dt + h, dtStride: s.heads, b: xbc + e + g * s.dState,
                c: xbc + e + gn + g * s.dState, bcStride: cd, a: a[h], d: d[h], y: out + h * s.headDim, yStride: e,
                seq: s.seq, headDim: s.headDim, dState: s.dState, reverse: s.reverse, state: state)
        }
    }

    /// Phase 3: y (in out) ⊙ silu(z), grouped RMSNorm, × w, in place, for rows `rows`.
    public static func scanGateNorm(
        zx: UnsafePointer<Float>, normW: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
        _ s: ScanGateShape, rows: Range<Int>
    ) {
        let e = s.inner
        for t in rows {
            Norms.gatedRow(out + t * e, zx + t * s.width, normW, out + t * e, cols: e, groupSize: e / s.groups, eps: s.eps)
        }
    }
}
