/// Arguments of the instructions that work on whole sequences: RoPE, attention, the Mamba-2 conv and
/// scan, and the fused Mamba-2 layer. They split over samples or (sample, head) pairs; the fused
/// layer declares three phases per sample.

/// The RoPE cos/sin tables [seq, dim].
struct RopeTableArgs: Instruction {
    var cos, sin: ValuePointer
    var seq, dim: Int
    var theta: Float

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        Rope.table(cos: cos, sin: sin, seqLen: seq, dim: dim, theta: theta)
    }
}

/// RoPE of x [batch, seq, heads·headDim], by samples.
struct RopeArgs: Instruction {
    var x, cos, sin, out: ValuePointer
    var batch, seq, heads, headDim: Int

    var phases: [WorkPhase] { [.each(batch)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        let offset = items.lowerBound * seq * heads * headDim
        Rope.apply(x + offset, out + offset, cos: cos, sin: sin, batch: items.count, seq: seq, heads: heads, headDim: headDim)
    }
}

/// Softmax attention over [batch, seq, heads·headDim] values, by (sample, head): of separate q,
/// k, v, or fused with the qkv split and RoPE (qkv [batch, seq, 3·heads·headDim]).
struct AttentionArgs: Instruction {
    enum Inputs {
        case separate(q: ValuePointer, k: ValuePointer, v: ValuePointer)
        case fused(qkv: ValuePointer, cos: ValuePointer, sin: ValuePointer)
    }
    var inputs: Inputs
    var out: ValuePointer
    var batch, seq, heads, headDim: Int
    /// Q·Kᵀ and P·V in bf16 (`Attention.head`).
    var bf16: Bool

    var phases: [WorkPhase] { [.each(batch * heads)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        for item in items {
            switch inputs {
            case let .separate(q, k, v):
                Attention.unfusedItem(
                    item, q: q, k: k, v: v, out: out, seq: seq, heads: heads, headDim: headDim, bf16: bf16,
                    workspace: context.scratch)
            case let .fused(qkv, cos, sin):
                Attention.fusedItem(
                    item, qkv: qkv, cos: cos, sin: sin, out: out, seq: seq, heads: heads, headDim: headDim, bf16: bf16,
                    workspace: context.scratch)
            }
        }
    }
}

/// Causal depthwise conv of x [batch, seq, channels] (reversed in time with `reverse`), by samples.
struct ConvArgs: Instruction {
    var x, w, bias, out: ValuePointer
    var batch, seq, channels, kernel: Int
    var reverse: Bool

    var phases: [WorkPhase] { [.each(batch)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        let offset = items.lowerBound * seq * channels
        Mamba2.conv1dCausal(
            x + offset, w, bias, out + offset, batch: items.count, seq: seq, channels: channels, kernel: kernel,
            reverse: reverse, workspace: context.scratch)
    }
}

/// The Mamba-2 selective scan, by (sample, head).
struct SSMScanArgs: Instruction {
    var x, dt, a, bm, cm, d, out: ValuePointer
    var shape: Mamba2.ScanShape

    var phases: [WorkPhase] { [.each(shape.items)] }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        Mamba2.scanItems(items, x: x, dt: dt, a: a, bm: bm, cm: cm, d: d, y: out, shape, state: context.scratch)
    }
}

/// The fused Mamba-2 layer (Mamba2ScanGate), in three stages per sample: conv rows, then heads,
/// then norm rows, the stages of a sample sharing its intermediates. Where the threads divide the
/// batch (`wholeSamples`), one phase gives each part whole samples, which it takes through all
/// three stages in its own copy of the shared buffer: no waits between stages, and one thread's
/// memory-bound conv and norm overlap the other's compute-bound scan. Otherwise (batch 1, say)
/// every stage of every sample is a phase split over the threads, sharing `PartContext.shared`:
/// phase p is stage p % 3 of sample p / 3.
struct ScanGateArgs: Instruction {
    var zx, convW, convB, dtBias, a, d, normW, out: ValuePointer
    var batch: Int
    var shape: Mamba2.ScanGateShape
    var wholeSamples: Bool

    static let stagesPerSample = 3

    /// Whether `threads` threads run a batch of `batch` a whole sample per part.
    static func splitsBySample(batch: Int, threads: Int) -> Bool { threads > 1 && batch % threads == 0 }

    var phases: [WorkPhase] {
        if wholeSamples { return [.each(batch)] }
        let stages = [WorkPhase.each(shape.seq), .each(shape.heads), .each(shape.seq)]
        return (0..<batch).flatMap { _ in stages }
    }

    func run(phase: Int, items: Range<Int>, _ context: PartContext) {
        if wholeSamples {
            for sample in items {
                for stage in 0..<Self.stagesPerSample {
                    let all = 0..<(stage == 1 ? shape.heads : shape.seq)
                    run(sample: sample, stage: stage, items: all, context.partShared, context.scratch)
                }
            }
        } else {
            run(sample: phase / Self.stagesPerSample, stage: phase % Self.stagesPerSample, items: items, context.shared, context.scratch)
        }
    }

    private func run(sample: Int, stage: Int, items: Range<Int>, _ shared: ValuePointer, _ scratch: ValuePointer) {
        let s = shape
        let zxs = zx + sample * s.seq * s.width, outs = out + sample * s.seq * s.inner
        switch stage {
        case 0:
            Mamba2.scanGateConv(
                zx: zxs, convW: convW, convB: convB, dtBias: dtBias, shared: shared, s, rows: items, workspace: scratch)
        case 1: Mamba2.scanGateScan(a: a, d: d, shared: shared, out: outs, s, heads: items, state: scratch)
        default: Mamba2.scanGateNorm(zx: zxs, normW: normW, out: outs, s, rows: items)
        }
    }
}
