import Foundation
import GraphIR
import TRMCore

/// The kernel dispatch of a session. Each instruction is split into parts over its natural work
/// items (rows, samples, (sample, head) pairs) and the parts run on the session's thread pool;
/// OpenBLAS is called single-threaded inside a part.
extension Session: PartRunner {
    /// Work items of an instruction and the fewest items worth a part of their own.
    func workItems(_ instruction: Instruction) -> (count: Int, minPerPart: Int) {
        switch instruction {
        case let .matMul(_, _, _, _, rows, _, _, _): return (rows, 32)
        case let .add(_, _, _, count, bCount), let .mul(_, _, _, count, bCount): return (count / bCount, max(1, 8192 / bCount))
        case let .scale(_, _, count, _), let .unary(_, _, _, count): return (count, 8192)
        case let .rmsNorm(_, _, rows, _, _), let .addRMSNorm(_, _, _, rows, _, _, _), let .swiGLU(_, _, rows, _),
             let .gatedRMSNorm(_, _, _, _, rows, _, _, _):
            return (rows, 32)
        case let .rope(_, _, _, _, batch, _, _, _), let .conv(_, _, _, _, batch, _, _, _, _): return (batch, 1)
        case let .attention(_, _, _, _, batch, _, heads, _), let .fusedAttention(_, _, _, _, batch, _, heads, _): return (batch * heads, 1)
        case let .ssmScan(_, _, _, _, _, _, _, batch, _, m, _): return (batch * m.heads, 1)
        default: return (1, 1)
        }
    }

    func execute(_ index: Int) throws {
        switch program[index] {
        case let .gather(table, rows, cols, indices, count, out, node):
            if let bad = Layout.gather(table, rows: rows, cols: cols, indices, count: count, out) {
                throw TRMError(.invalidInput, "\(node): index \(bad) is outside the table's \(rows) rows")
            }
        case let .scanGate(_, _, _, _, _, _, _, _, batch, shape):
            // Three phases per sample, each split over the threads: conv rows, heads, norm rows.
            for sample in 0..<batch {
                for phase in 0..<3 {
                    let items = phase == 1 ? shape.heads : shape.seq
                    pool.run(parts: min(threads, items), self, PartTag(index: index, sample: sample, phase: phase))
                }
            }
        default:
            let (count, minPerPart) = workItems(program[index])
            pool.run(parts: max(1, min(threads, count / minPerPart)), self, PartTag(index: index))
        }
    }

    func runPart(_ tag: PartTag, part: Int, of parts: Int) {
        let instruction = program[tag.index]
        let total = instruction.isScanGate ? 0 : workItems(instruction).count
        let lo = total * part / parts, hi = total * (part + 1) / parts, n = hi - lo
        switch instruction {
        case .gather: break
        case let .matMul(x, w, bias, out, _, cols, k, swiGLU):
            MatMulKernel.run(x: x + lo * k, w: w, bias: bias, out: out + lo * (swiGLU ? cols / 2 : cols), rows: n, n: cols, k: k,
                             swiGLU: swiGLU, scratch: scratch(part))
        case let .add(a, b, out, _, bCount):
            Elementwise.add(a + lo * bCount, b, out + lo * bCount, count: n * bCount, bCount: bCount)
        case let .mul(a, b, out, _, bCount):
            Elementwise.mul(a + lo * bCount, b, out + lo * bCount, count: n * bCount, bCount: bCount)
        case let .scale(x, out, _, factor):
            Elementwise.scale(x + lo, out + lo, count: n, factor: factor)
        case let .unary(kind, x, out, _):
            switch kind {
            case .silu: Elementwise.silu(x + lo, out + lo, count: n)
            case .softplus: Elementwise.softplus(x + lo, out + lo, count: n)
            case .exp: Elementwise.exp(x + lo, out + lo, count: n)
            case .sigmoid: Elementwise.sigmoid(x + lo, out + lo, count: n)
            }
        case let .rmsNorm(x, out, _, cols, eps):
            Norms.rmsNorm(x + lo * cols, out + lo * cols, rows: n, cols: cols, eps: eps)
        case let .addRMSNorm(a, b, out, _, cols, bCount, eps):
            Norms.addRMSNorm(a + lo * cols, b, out + lo * cols, rows: n, cols: cols, bCount: bCount, firstRow: lo, eps: eps)
        case let .ropeTable(cos, sin, seq, dim, theta):
            Rope.table(cos: cos, sin: sin, seqLen: seq, dim: dim, theta: theta)
        case let .rope(x, cos, sin, out, _, seq, heads, headDim):
            let w = heads * headDim
            Rope.apply(x + lo * seq * w, out + lo * seq * w, cos: cos, sin: sin, batch: n, seq: seq, heads: heads, headDim: headDim)
        case let .attention(q, k, v, out, _, seq, heads, headDim):
            for item in lo..<hi {
                Attention.unfusedItem(item, q: q, k: k, v: v, out: out, seq: seq, heads: heads, headDim: headDim, workspace: scratch(part))
            }
        case let .fusedAttention(qkv, cos, sin, out, _, seq, heads, headDim):
            for item in lo..<hi {
                Attention.fusedItem(item, qkv: qkv, cos: cos, sin: sin, out: out, seq: seq, heads: heads, headDim: headDim, workspace: scratch(part))
            }
        case let .swiGLU(x, out, _, width):
            SwiGLU.run(x + lo * 2 * width, out + lo * width, rows: n, width: width)
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
        case let .conv(x, w, bias, out, _, seq, channels, kernel, reverse):
            Mamba2.conv1dCausal(x + lo * seq * channels, w, bias, out + lo * seq * channels, batch: n, seq: seq,
                                channels: channels, kernel: kernel, reverse: reverse, workspace: scratch(part))
        case let .ssmScan(x, dt, a, bm, cm, d, out, _, seq, m, reverse):
            let e = m.heads * m.headDim, gn = m.groups * m.dState
            for item in lo..<hi {
                let b = item / m.heads, h = item % m.heads, g = h / (m.heads / m.groups)
                Mamba2.scanHead(x: x + b * seq * e + h * m.headDim, xStride: e, dt: dt + b * seq * m.heads + h, dtStride: m.heads,
                                b: bm + b * seq * gn + g * m.dState, c: cm + b * seq * gn + g * m.dState, bcStride: gn,
                                a: a[h], d: d[h], y: out + b * seq * e + h * m.headDim, yStride: e, seq: seq,
                                headDim: m.headDim, dState: m.dState, reverse: reverse, state: scratch(part))
            }
        case let .gatedRMSNorm(y, z, w, out, _, cols, groupSize, eps):
            Norms.gatedRMSNorm(y + lo * cols, z + lo * cols, w, out + lo * cols, rows: n, cols: cols, groupSize: groupSize, eps: eps)
        case let .argmax(x, out, rows, cols):
            Layout.argmax(x, out, rows: rows, cols: cols)
        case let .scanGate(zx, convW, convB, dtBias, a, d, normW, out, _, s):
            let zxs = zx + tag.sample * s.seq * s.width, outs = out + tag.sample * s.seq * s.inner
            let sharedScratch = shared.floats(at: 0)
            let items = tag.phase == 1 ? s.heads : s.seq
            let range = (items * part / parts)..<(items * (part + 1) / parts)
            switch tag.phase {
            case 0: Mamba2.scanGateConv(zx: zxs, convW: convW, convB: convB, dtBias: dtBias, shared: sharedScratch, s, rows: range,
                                       workspace: scratch(part))
            case 1: Mamba2.scanGateScan(a: a, d: d, shared: sharedScratch, out: outs, s, heads: range, state: scratch(part))
            default: Mamba2.scanGateNorm(zx: zxs, normW: normW, out: outs, s, rows: range)
            }
        }
    }
}

extension Instruction {
    var isScanGate: Bool {
        if case .scanGate = self { return true }
        return false
    }
}
