import Foundation

/// Mamba-2's selective scan with the D skip (docs/mamba2.md §2), per sample and head h of group
/// g = h / (H/G): S(t) = exp(dt_t·A_h)·S(t−1) + dt_t·x_t ⊗ B_t[g],  y_t = S(t)·C_t[g] + D_h·x_t,
/// from S(−1) = 0. `reverse` runs t from L−1 down to 0.
///
/// Saved for backward: nothing beyond the inputs (x, dt, A, B, C, D), which the mixer recomputes.
/// Per-token states (L·P·N per head) are never stored: the backward (docs/mamba2.md §4.2/§4.1) re-runs the
/// recurrence once keeping only the state entering every chunk of `chunk` tokens, then walks the
/// chunks from the end, recomputing each chunk's states into a chunk·P·N buffer and running the
/// adjoint G_t = gy_t ⊗ C_t + a_{t+1}·G_{t+1} through it. The log-decay gradient is taken in its
/// exact form ∂ã_t = ⟨G_t, a_t·S(t−1)⟩ rather than the cumulative-sum identity, which cancels.
public struct SelectiveScan: Sendable, Hashable {
    public let seq: Int
    public let heads: Int
    public let headDim: Int
    public let dState: Int
    public let groups: Int
    public let reverse: Bool
    /// Tokens per recomputation chunk in the backward (memory chunk·P·N floats per head in flight).
    public let chunk: Int

    public init(seq: Int, heads: Int, headDim: Int, dState: Int, groups: Int, reverse: Bool, chunk: Int = 64) {
        precondition(seq > 0 && heads > 0 && headDim > 0 && dState > 0 && groups > 0 && chunk > 0, "SelectiveScan: bad sizes")
        precondition(heads % groups == 0, "SelectiveScan: heads \(heads) not a multiple of groups \(groups)")
        self.seq = seq
        self.heads = heads
        self.headDim = headDim
        self.dState = dState
        self.groups = groups
        self.reverse = reverse
        self.chunk = chunk
    }

    /// Gradients of every input.
    public struct Gradients: Sendable {
        /// [B, L, H·P], [B, L, H], [H], [B, L, G·N], [B, L, G·N], [H].
        public var dx: [Float], dDt: [Float], dA: [Float], dB: [Float], dC: [Float], dD: [Float]
    }

    private var inner: Int { heads * headDim }
    private var gn: Int { groups * dState }

    private func checkInputs(_ x: [Float], _ dt: [Float], _ a: [Float], _ bm: [Float], _ cm: [Float], _ d: [Float], _ batch: Int) {
        checkCount(x, batch * seq * inner, "SelectiveScan x [B, L, H·P]")
        checkCount(dt, batch * seq * heads, "SelectiveScan dt [B, L, H]")
        checkCount(a, heads, "SelectiveScan A"); checkCount(d, heads, "SelectiveScan D")
        checkCount(bm, batch * seq * gn, "SelectiveScan B [B, L, G·N]")
        checkCount(cm, batch * seq * gn, "SelectiveScan C [B, L, G·N]")
    }

    /// Token of scan step `step`.
    @inline(__always) private func token(_ step: Int) -> Int { reverse ? seq - 1 - step : step }

    /// Pointers to one (sample, head)'s operands.
    private struct Head {
        var x, dt, b, c: UnsafePointer<Float>
        var a, d: Float
    }

    typealias V = SIMD8<Float>

    @inline(__always) private static func load(_ p: UnsafePointer<Float>, _ j: Int) -> V {
        UnsafeRawPointer(p + j).loadUnaligned(as: V.self)
    }

    @inline(__always) private static func store(_ v: V, _ p: UnsafeMutablePointer<Float>, _ j: Int) {
        UnsafeMutableRawPointer(p + j).storeBytes(of: v, as: V.self)
    }

    /// One scan step on `state` [P, N] for token t: S ← a·S + dt·x_t ⊗ B_t (and y_t when `y` is
    /// given). Returns the decay a. Rows are updated 8 lanes at a time with a scalar tail; the
    /// backward's recomputation calls this same function, so it reproduces the forward's states exactly.
    @inline(__always)
    private func step(_ s: UnsafeMutablePointer<Float>, _ hd: Head, _ t: Int, y: UnsafeMutablePointer<Float>?) -> Float {
        let p = headDim, n = dState, body = n - n % 8
        let dtv = hd.dt[t * heads], decay = Foundation.exp(dtv * hd.a)
        let xt = hd.x + t * inner, bt = hd.b + t * gn, ct = hd.c + t * gn
        let decayV = V(repeating: decay)
        for i in 0..<p {
            let row = s + i * n, u = dtv * xt[i], uV = V(repeating: u)
            var accV = V()
            var j = 0
            while j < body {
                let v = decayV * Self.load(row, j) + uV * Self.load(bt, j)
                Self.store(v, row, j)
                accV += v * Self.load(ct, j)
                j += 8
            }
            var acc = accV.sum()
            while j < n {
                let v = decay * row[j] + u * bt[j]
                row[j] = v
                acc += v * ct[j]
                j += 1
            }
            if let y { y[t * inner + i] = acc + hd.d * xt[i] }
        }
        return decay
    }

    /// x [B, L, H·P], dt [B, L, H] (after softplus), a = A [H] (negative), bm/cm [B, L, G·N], d [H]
    /// -> y [B, L, H·P].
    public func forward(x: [Float], dt: [Float], a: [Float], bm: [Float], cm: [Float], d: [Float], batch: Int) -> [Float] {
        checkInputs(x, dt, a, bm, cm, d, batch)
        var y = [Float](repeating: 0, count: x.count)
        let perGroup = heads / groups
        // (sample, head) pairs split over the trainer's threads: each writes only its own y columns.
        x.withUnsafeBufferPointer { xp in
            dt.withUnsafeBufferPointer { dtp in
                bm.withUnsafeBufferPointer { bp in
                    cm.withUnsafeBufferPointer { cp in
                        y.withUnsafeMutableBufferPointer { yp in
                            TrainerThreads.parts(batch * heads) { pairs in
                                var state = [Float](repeating: 0, count: headDim * dState)
                                state.withUnsafeMutableBufferPointer { sp in
                                    for pair in pairs {
                                        let b = pair / heads, h = pair % heads, g = h / perGroup
                                        let hd = Head(
                                            x: xp.baseAddress! + b * seq * inner + h * headDim, dt: dtp.baseAddress! + b * seq * heads + h,
                                            b: bp.baseAddress! + b * seq * gn + g * dState, c: cp.baseAddress! + b * seq * gn + g * dState,
                                            a: a[h], d: d[h])
                                        sp.update(repeating: 0)
                                        let yh = yp.baseAddress! + b * seq * inner + h * headDim
                                        for i in 0..<seq { _ = step(sp.baseAddress!, hd, token(i), y: yh) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// dY [B, L, H·P] -> gradients of all inputs (docs/mamba2.md §4.2). The samples are split over
    /// the trainer's threads: a sample's heads write only its own rows of dx, dDt, dB and dC, and
    /// each (sample, head) its own partial dA and dD, summed over the samples in order at the end,
    /// so the result does not depend on the thread count.
    public func backward(
        _ dY: [Float], x: [Float], dt: [Float], a: [Float], bm: [Float], cm: [Float], d: [Float],
        batch: Int
    ) -> Gradients {
        checkInputs(x, dt, a, bm, cm, d, batch)
        checkCount(dY, x.count, "SelectiveScan dY")
        var g = Gradients(
            dx: [Float](repeating: 0, count: x.count), dDt: [Float](repeating: 0, count: dt.count),
            dA: [Float](repeating: 0, count: heads), dB: [Float](repeating: 0, count: bm.count),
            dC: [Float](repeating: 0, count: cm.count), dD: [Float](repeating: 0, count: heads))
        var dAParts = [Double](repeating: 0, count: batch * heads), dDParts = dAParts
        let perGroup = heads / groups
        x.withUnsafeBufferPointer { xp in
            dt.withUnsafeBufferPointer { dtp in
                bm.withUnsafeBufferPointer { bp in
                    cm.withUnsafeBufferPointer { cp in
                        dY.withUnsafeBufferPointer { gyp in
                            g.dx.withUnsafeMutableBufferPointer { dxp in
                                g.dDt.withUnsafeMutableBufferPointer { ddtp in
                                    g.dB.withUnsafeMutableBufferPointer { dBp in
                                        g.dC.withUnsafeMutableBufferPointer { dCp in
                                            dAParts.withUnsafeMutableBufferPointer { dap in
                                                dDParts.withUnsafeMutableBufferPointer { ddp in
                                                    TrainerThreads.parts(batch) { samples in
                                                        var scratch = BackwardScratch(self)
                                                        for b in samples {
                                                            for h in 0..<heads {
                                                                let gb = b * seq * gn + (h / perGroup) * dState  // this head's B/C columns
                                                                let hd = Head(
                                                                    x: xp.baseAddress! + b * seq * inner + h * headDim,
                                                                    dt: dtp.baseAddress! + b * seq * heads + h, b: bp.baseAddress! + gb,
                                                                    c: cp.baseAddress! + gb, a: a[h], d: d[h])
                                                                let out = HeadGradients(
                                                                    dx: dxp.baseAddress! + b * seq * inner + h * headDim,
                                                                    dDt: ddtp.baseAddress! + b * seq * heads + h, dB: dBp.baseAddress! + gb,
                                                                    dC: dCp.baseAddress! + gb)
                                                                let (da, dd) = scratch.backwardHead(
                                                                    self, hd, dY: gyp.baseAddress! + b * seq * inner + h * headDim, out)
                                                                dap[b * heads + h] = da
                                                                ddp[b * heads + h] = dd
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
        for h in 0..<heads {
            var da = 0.0, dd = 0.0
            for b in 0..<batch { da += dAParts[b * heads + h]; dd += dDParts[b * heads + h] }
            g.dA[h] = Float(da)
            g.dD[h] = Float(dd)
        }
        return g
    }

    /// One (sample, head)'s outputs of `backward`: its columns of dx and dDt, its group's of dB and
    /// dC (accumulated over the group's heads).
    private struct HeadGradients {
        var dx, dDt, dB, dC: UnsafeMutablePointer<Float>
    }

    /// One thread's buffers for `backward`: the state entering every chunk, S(t) within one chunk,
    /// the adjoint G_t, and one token's dB and dC sums.
    private struct BackwardScratch {
        var entry, states, adjoint, dbAcc, dcAcc: [Float]

        init(_ scan: SelectiveScan) {
            let pn = scan.headDim * scan.dState, chunks = (scan.seq + scan.chunk - 1) / scan.chunk
            entry = [Float](repeating: 0, count: chunks * pn)
            states = [Float](repeating: 0, count: min(scan.chunk, scan.seq) * pn)
            adjoint = [Float](repeating: 0, count: pn)
            dbAcc = [Float](repeating: 0, count: scan.dState)
            dcAcc = dbAcc
        }

        /// The backward of one (sample, head): writes `out`, returns its (∂A, ∂D) contributions.
        mutating func backwardHead(
            _ scan: SelectiveScan, _ hd: Head, dY gyh: UnsafePointer<Float>, _ out: HeadGradients
        ) -> (dA: Double, dD: Double) {
            entry.withUnsafeMutableBufferPointer { ep in
                states.withUnsafeMutableBufferPointer { sp in
                    adjoint.withUnsafeMutableBufferPointer { gp in
                        dbAcc.withUnsafeMutableBufferPointer { dbp in
                            dcAcc.withUnsafeMutableBufferPointer { dcp in
                                scan.backwardHead(
                                    hd, gyh, out, entry: ep.baseAddress!, states: sp.baseAddress!, adjoint: gp.baseAddress!,
                                    db: dbp, dc: dcp)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `BackwardScratch.backwardHead` on its buffers.
    private func backwardHead(
        _ hd: Head, _ gyh: UnsafePointer<Float>, _ out: HeadGradients, entry e: UnsafeMutablePointer<Float>,
        states s: UnsafeMutablePointer<Float>, adjoint: UnsafeMutablePointer<Float>, db dbp: UnsafeMutableBufferPointer<Float>,
        dc dcp: UnsafeMutableBufferPointer<Float>
    ) -> (dA: Double, dD: Double) {
        let p = headDim, n = dState, pn = p * n, chunks = (seq + chunk - 1) / chunk
        var dA = 0.0, dD = 0.0
        // Pass 1: keep only the state entering every chunk.
        s.update(repeating: 0, count: pn)
        for i in 0..<seq {
            if i % chunk == 0 { (e + (i / chunk) * pn).update(from: s, count: pn) }
            _ = step(s, hd, token(i), y: nil)
        }
        adjoint.update(repeating: 0, count: pn)
        var nextDecay: Float = 0
        for c in stride(from: chunks - 1, through: 0, by: -1) {
            let lo = c * chunk, hi = min(seq, lo + chunk)
            // Recompute S(t) for the chunk's tokens from its entry state.
            s.update(from: e + c * pn, count: pn)
            for i in lo..<hi {
                if i > lo { (s + (i - lo) * pn).update(from: s + (i - lo - 1) * pn, count: pn) }
                _ = step(s + (i - lo) * pn, hd, token(i), y: nil)
            }
            for i in stride(from: hi - 1, through: lo, by: -1) {
                let t = token(i), dtv = hd.dt[t * heads], decay = Foundation.exp(dtv * hd.a)
                let st = s + (i - lo) * pn
                let prev = UnsafePointer(i > lo ? s + (i - lo - 1) * pn : e + c * pn)  // S(t−1)
                let xt = hd.x + t * inner, bt = hd.b + t * gn, ct = hd.c + t * gn, gy = gyh + t * inner
                dbp.update(repeating: 0); dcp.update(repeating: 0)
                var q: Float = 0, dot: Float = 0, dDacc: Float = 0
                let ndV = V(repeating: nextDecay), body = n - n % 8
                for r in 0..<p {
                    let gi = gy[r], xi = xt[r], grow = adjoint + r * n, srow = st + r * n, prow = prev + r * n
                    let giV = V(repeating: gi), xiV = V(repeating: xi)
                    var gbV = V(), gsV = V()
                    var j = 0
                    while j < body {
                        // G_t = a_{t+1}·G_{t+1} + gy_t ⊗ C_t, and everything that reads it.
                        let gv = ndV * Self.load(grow, j) + giV * Self.load(ct, j)
                        Self.store(gv, grow, j)
                        gbV += gv * Self.load(bt, j)
                        gsV += gv * Self.load(prow, j)
                        Self.store(Self.load(dbp.baseAddress!, j) + gv * xiV, dbp.baseAddress!, j)
                        Self.store(Self.load(dcp.baseAddress!, j) + Self.load(srow, j) * giV, dcp.baseAddress!, j)
                        j += 8
                    }
                    var gb = gbV.sum(), gs = gsV.sum()
                    while j < n {
                        let gv = nextDecay * grow[j] + gi * ct[j]
                        grow[j] = gv
                        gb += gv * bt[j]
                        gs += gv * prow[j]
                        dbp[j] += gv * xi
                        dcp[j] += srow[j] * gi
                        j += 1
                    }
                    out.dx[t * inner + r] = dtv * gb + hd.d * gi
                    q += xi * gb
                    dot += gs
                    dDacc += gi * xi
                }
                for j in 0..<n {
                    out.dB[t * gn + j] += dtv * dbp[j]
                    out.dC[t * gn + j] += dcp[j]
                }
                let dLogDecay = decay * dot  // ∂ã_t, ã_t = dt_t·A
                out.dDt[t * heads] = q + hd.a * dLogDecay
                dA += Double(dtv * dLogDecay)
                dD += Double(dDacc)
                nextDecay = decay
            }
        }
        return (dA, dD)
    }
}
