import Foundation
import GraphIR

/// The kernel dispatch of a session: one case per instruction. Row-wise kernels are split across
/// the session's threads; kernels that call OpenBLAS run on the calling thread and let OpenBLAS
/// use the threads.
extension Session {
    func execute(_ instruction: Instruction) throws {
        let t = threads
        switch instruction {
        case let .gather(table, rows, cols, indices, count, out, node):
            if let bad = Layout.gather(table, rows: rows, cols: cols, indices, count: count, out) {
                throw TRMError(.invalidInput, "\(node): index \(bad) is outside the table's \(rows) rows")
            }
        case let .matMul(x, w, bias, out, rows, n, k, swiGLU):
            MatMulKernel.run(x: x, w: w, bias: bias, out: out, rows: rows, n: n, k: k, swiGLU: swiGLU, scratch: scratch(0))
        case let .add(a, b, out, count, bCount):
            Parallel.chunks(count / bCount, threads: t, minPerChunk: max(1, 4096 / bCount)) { r in
                Elementwise.add(a + r.lowerBound * bCount, b, out + r.lowerBound * bCount, count: r.count * bCount, bCount: bCount)
            }
        case let .mul(a, b, out, count, bCount):
            Parallel.chunks(count / bCount, threads: t, minPerChunk: max(1, 4096 / bCount)) { r in
                Elementwise.mul(a + r.lowerBound * bCount, b, out + r.lowerBound * bCount, count: r.count * bCount, bCount: bCount)
            }
        case let .scale(x, out, count, factor):
            Parallel.chunks(count, threads: t, minPerChunk: 4096) { r in
                Elementwise.scale(x + r.lowerBound, out + r.lowerBound, count: r.count, factor: factor)
            }
        case let .unary(kind, x, out, count):
            Parallel.chunks(count, threads: t, minPerChunk: 4096) { r in
                let xi = x + r.lowerBound, oi = out + r.lowerBound
                switch kind {
                case .silu: Elementwise.silu(xi, oi, count: r.count)
                case .softplus: Elementwise.softplus(xi, oi, count: r.count)
                case .exp: Elementwise.exp(xi, oi, count: r.count)
                case .sigmoid: Elementwise.sigmoid(xi, oi, count: r.count)
                }
            }
        case let .rmsNorm(x, out, rows, cols, eps):
            Parallel.chunks(rows, threads: t, minPerChunk: 16) { r in
                Norms.rmsNorm(x + r.lowerBound * cols, out + r.lowerBound * cols, rows: r.count, cols: cols, eps: eps)
            }
        case let .addRMSNorm(a, b, out, rows, cols, bCount, eps):
            Parallel.chunks(rows, threads: t, minPerChunk: 16) { r in
                let first = r.lowerBound * cols
                Norms.addRMSNorm(a + first, b, out + first, rows: r.count, cols: cols, bCount: bCount, firstRow: r.lowerBound, eps: eps)
            }
        case let .ropeTable(cos, sin, seq, dim, theta):
            Rope.table(cos: cos, sin: sin, seqLen: seq, dim: dim, theta: theta)
        case let .rope(x, cos, sin, out, batch, seq, heads, headDim):
            Rope.apply(x, out, cos: cos, sin: sin, batch: batch, seq: seq, heads: heads, headDim: headDim)
        case let .attention(q, k, v, out, batch, seq, heads, headDim):
            Attention.unfused(q: q, k: k, v: v, out: out, batch: batch, seq: seq, heads: heads, headDim: headDim, workspace: scratch(0))
        case let .fusedAttention(qkv, cos, sin, out, batch, seq, heads, headDim):
            Attention.fused(qkv: qkv, cos: cos, sin: sin, out: out, batch: batch, seq: seq, heads: heads, headDim: headDim, workspace: scratch(0))
        case let .swiGLU(x, out, rows, width):
            Parallel.chunks(rows, threads: t, minPerChunk: 16) { r in
                SwiGLU.run(x + r.lowerBound * 2 * width, out + r.lowerBound * width, rows: r.count, width: width)
            }
        case let .transpose(x, out, dims, perm):
            Layout.transpose(x, out, dims: dims, perm: perm)
        case let .concat(parts, sizes, out, outer, inner):
            Layout.concat(parts, axisSizes: sizes, out, outer: outer, inner: inner)
        case let .slice(x, out, outer, axis, inner, start, end):
            Layout.slice(x, out, outer: outer, axis: axis, inner: inner, start: start, end: end)
        case let .pad(x, out, outer, axis, inner, after):
            Layout.pad(x, out, outer: outer, axis: axis, inner: inner, after: after)
        case let .copy(x, out, count):
            if x != out { out.update(from: x, count: count) }
        case let .conv(x, w, bias, out, batch, seq, channels, kernel, reverse):
            Parallel.chunks(batch, threads: t) { r in
                Mamba2.conv1dCausal(x + r.lowerBound * seq * channels, w, bias, out + r.lowerBound * seq * channels,
                                    batch: r.count, seq: seq, channels: channels, kernel: kernel, reverse: reverse)
            }
        case let .ssmScan(x, dt, a, bm, cm, d, out, batch, seq, m, reverse):
            let e = m.heads * m.headDim, gn = m.groups * m.dState
            Parallel.indexedChunks(batch, threads: t) { chunk, r in
                let b0 = r.lowerBound
                Mamba2.ssmScan(x: x + b0 * seq * e, dt: dt + b0 * seq * m.heads, a: a, bm: bm + b0 * seq * gn, cm: cm + b0 * seq * gn,
                               d: d, out: out + b0 * seq * e, batch: r.count, seq: seq, heads: m.heads, headDim: m.headDim,
                               dState: m.dState, groups: m.groups, reverse: reverse, state: self.scratch(chunk))
            }
        case let .gatedRMSNorm(y, z, w, out, rows, cols, groupSize, eps):
            Parallel.chunks(rows, threads: t, minPerChunk: 16) { r in
                let first = r.lowerBound * cols
                Norms.gatedRMSNorm(y + first, z + first, w, out + first, rows: r.count, cols: cols, groupSize: groupSize, eps: eps)
            }
        case let .argmax(x, out, rows, cols):
            Layout.argmax(x, out, rows: rows, cols: cols)
        case let .scanGate(zx, convW, convB, dtBias, a, d, normW, out, batch, seq, m, kernel, eps, reverse):
            let width = 2 * m.heads * m.headDim + 2 * m.groups * m.dState + m.heads, e = m.heads * m.headDim
            Parallel.indexedChunks(batch, threads: t) { chunk, r in
                let ws = self.scratch(chunk)
                for b in r {
                    Mamba2.scanGate(zx: zx + b * seq * width, convW: convW, convB: convB, dtBias: dtBias, a: a, d: d, normW: normW,
                                    out: out + b * seq * e, seq: seq, heads: m.heads, headDim: m.headDim, dState: m.dState,
                                    groups: m.groups, kernel: kernel, eps: eps, reverse: reverse, workspace: ws)
                }
            }
        }
    }
}
