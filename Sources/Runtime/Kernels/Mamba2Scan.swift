import GraphIR

/// The SSM scan of whole batches (the `SSMScan` op): every (sample, head) item runs `scanHead`.
extension Mamba2 {
    /// The sizes of a scan over `batch` sequences of `seq` tokens: x and y [B, L, H·P], dt [B, L, H],
    /// Bm and Cm [B, L, G·N], A and D [H]; head h reads group h / (H / G).
    public struct ScanShape: Equatable, Sendable {
        public var batch, seq: Int
        /// Heads, channels per head, state size, groups and direction (the op's attributes).
        public var dims: Mamba2Dims

        public init(batch: Int, seq: Int, dims: Mamba2Dims) {
            self.batch = batch
            self.seq = seq
            self.dims = dims
        }

        /// (sample, head) items: the unit the executor splits over threads.
        public var items: Int { batch * dims.heads }
        /// Floats of x and y.
        public var sequenceFloats: Int { batch * seq * dims.inner }
        /// Floats of Bm and Cm.
        public var stateInputFloats: Int { batch * seq * dims.groups * dims.dState }
    }

    /// Scans items `items` (item = sample·H + head) of a batch laid out as `s` says. `state` holds
    /// `scanWorkspaceFloats` floats; its contents are ignored (each head starts from a zero state).
    static func scanItems(
        _ items: Range<Int>, x: UnsafePointer<Float>, dt: UnsafePointer<Float>, a: UnsafePointer<Float>,
        bm: UnsafePointer<Float>, cm: UnsafePointer<Float>, d: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        _ s: ScanShape, state: UnsafeMutablePointer<Float>
    ) {
        let m = s.dims
        let e = m.heads * m.headDim, gn = m.groups * m.dState, perGroup = m.heads / m.groups
        for item in items {
            let b = item / m.heads, h = item % m.heads, g = h / perGroup
            scanHead(
                x: x + b * s.seq * e + h * m.headDim, xStride: e, dt: dt + b * s.seq * m.heads + h, dtStride: m.heads,
                b: bm + b * s.seq * gn + g * m.dState, c: cm + b * s.seq * gn + g * m.dState, bcStride: gn,
                a: a[h], d: d[h], y: y + b * s.seq * e + h * m.headDim, yStride: e, seq: s.seq,
                headDim: m.headDim, dState: m.dState, reverse: m.reverse, state: state)
        }
    }

    /// The whole scan on arrays, shape-checked: every item of `s` into `y` (`s.sequenceFloats`
    /// floats), with `workspace` (at least `scanWorkspaceFloats` floats) as the state.
    public static func scan(
        x: [Float], dt: [Float], a: [Float], bm: [Float], cm: [Float], d: [Float], _ s: ScanShape,
        workspace: inout [Float], y: UnsafeMutableBufferPointer<Float>
    ) {
        let m = s.dims
        precondition(m.heads > 0 && m.groups > 0 && m.heads % m.groups == 0, "scan: heads must be a multiple of groups")
        precondition(x.count == s.sequenceFloats && y.count >= s.sequenceFloats, "scan: x and y need B·L·H·P floats")
        precondition(dt.count == s.batch * s.seq * m.heads && a.count == m.heads && d.count == m.heads, "scan: dt, A or D size")
        precondition(bm.count == s.stateInputFloats && cm.count == s.stateInputFloats, "scan: Bm and Cm need B·L·G·N floats")
        precondition(workspace.count >= scanWorkspaceFloats(headDim: m.headDim, dState: m.dState), "scan: workspace too small")
        workspace.withUnsafeMutableBufferPointer { state in
            scanItems(
                0..<s.items, x: x, dt: dt, a: a, bm: bm, cm: cm, d: d, y: y.baseAddress!, s, state: state.baseAddress!)
        }
    }
}
