import Foundation
import Testing
@testable import Trainer

/// The trainer's parallel splits (`TrainerThreads`): each layer that splits its work over threads
/// gives the same bits on 1, 2 and 3 threads (each split keeps every output's summation order;
/// only Linear's dx, on OpenBLAS, may differ by fp32 rounding), at sizes where every split really
/// makes more than one part. The layers' gradient tests check the
/// values themselves on one thread; the scan's backward is also gradient-checked on two here, since
/// its per-sample partial sums of dA and dD exist only for the split.
@Suite struct TrainerThreadsTests {
    /// `body()` with the current task's splits on `threads` threads.
    func on<T>(_ threads: Int, _ body: () -> T) -> T { TrainerThreads.$override.withValue(threads, operation: body) }

    func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }

    @Test func partsCoverTheWorkOnce() {
        for (threads, work, minPerPart) in [(1, 10, 1), (2, 10, 1), (3, 10, 4), (2, 1, 1), (4, 7, 2), (2, 0, 1)] {
            let seen = SeenRanges()
            on(threads) { TrainerThreads.parts(work, minPerPart: minPerPart) { seen.add($0) } }
            let ranges = seen.ranges.sorted { $0.lowerBound < $1.lowerBound }
            #expect(ranges.flatMap { Array($0) } == Array(0..<work), "threads \(threads), work \(work): \(ranges)")
            #expect(ranges.count == (work == 0 ? 0 : max(1, min(threads, work / minPerPart))), "threads \(threads), work \(work)")
            #expect(ranges.allSatisfy { !$0.isEmpty })
        }
    }

    @Test func linearIsTheSameOnAnyThreadCount() {
        // 100 rows (parts of ≥ 24), 300 outputs (≥ 32 rows of dW a part; 10 panels of 32 packed in parts of ≥ 4).
        let rows = 100, inF = 70, outF = 300, layer = Linear(inFeatures: inF, outFeatures: outF)
        let x = randomArray(rows * inF, seed: 1), w = randomArray(outF * inF, seed: 2), dy = randomArray(rows * outF, seed: 3)
        func run() -> (y: [Float], dx: [Float], dw: [Float]) {
            var dw = [Float](repeating: 0.5, count: outF * inF)
            let dx = layer.backward(dy, x: x, rows: rows, weight: w, dWeight: &dw)
            return (layer.forward(x, rows: rows, weight: w), dx, dw)
        }
        let one = on(1, run)
        for t in [2, 3] {
            let many = on(t, run)
            #expect(bits(many.y) == bits(one.y), "threads \(t): y")
            #expect(bits(many.dw) == bits(one.dw), "threads \(t): dW")
            // dx = dY·W runs on OpenBLAS, whose tail tiles sum in another order: fp32 rounding only.
            let worst = maxAbsDiff(many.dx, one.dx), scale = one.dx.map(abs).max()!
            #expect(worst <= 1e-5 * scale, "threads \(t): dx differs by \(worst) (largest |dx| \(scale))")
        }
    }

    @Test func optimizerAndEMAAreTheSameOnAnyThreadCount() {
        // 40,000 values: parts of ≥ 16,384 elements, so two and three threads really split.
        let n = 40_000, w = randomArray(n, seed: 20), g = randomArray(n, seed: 21)
        func run() -> [[Float]] {
            var params = ParameterSet(["w": w]), adam = AdamATan2(beta1: 0.9, beta2: 0.95, weightDecay: 0.1)
            var ema = ExponentialMovingAverage(rate: 0.9, initial: params, names: ["w"])
            for _ in 0..<2 {
                adam.step(&params, grads: ParameterSet(["w": g]), lr: 1e-3)
                ema.update(params)
            }
            return [params["w"], ema.shadow["w"]!]
        }
        let one = on(1, run)
        #expect(one[0] != w, "the step moved the weights")
        for t in [2, 3] { #expect(on(t, run).map(bits) == one.map(bits), "threads \(t)") }
    }

    @Test func attentionIsTheSameOnAnyThreadCount() {
        let seq = 9, heads = 3, d = 4, batch = 2, n = batch * seq * heads * d
        let layer = MultiHeadAttention(seq: seq, heads: heads, headDim: d)
        let q = randomArray(n, seed: 4), k = randomArray(n, seed: 5), v = randomArray(n, seed: 6), dy = randomArray(n, seed: 7)
        func run() -> [[Float]] {
            let (out, saved) = layer.forward(q: q, k: k, v: v, batch: batch)
            let g = layer.backward(dy, saved, batch: batch)
            return [out, g.dQ, g.dK, g.dV]
        }
        let one = on(1, run)
        for t in [2, 3] { #expect(on(t, run).map(bits) == one.map(bits), "threads \(t)") }
    }

    static func scanArgs(seq: Int, heads: Int, p: Int, n: Int, groups: Int, batch: Int) -> [String: [Float]] {
        [
            "x": randomArray(batch * seq * heads * p, seed: 33), "dt": uniformArray(batch * seq * heads, 0.05, 0.6, seed: 34),
            "A": uniformArray(heads, -3, -0.5, seed: 35), "B": randomArray(batch * seq * groups * n, seed: 36),
            "C": randomArray(batch * seq * groups * n, seed: 37), "D": randomArray(heads, seed: 38),
        ]
    }

    @Test(arguments: [false, true])
    func convIsTheSameOnAnyThreadCount(reverse: Bool) {
        let seq = 11, c = 21, k = 4, batch = 3, layer = CausalConv1d(seq: seq, channels: c, kernel: k, reverse: reverse)
        let x = randomArray(batch * seq * c, seed: 8), w = randomArray(c * k, seed: 9), dy = randomArray(x.count, seed: 10)
        func run() -> [[Float]] {
            var dw = randomArray(c * k, seed: 11), db = randomArray(c, seed: 12)
            let dx = layer.backward(dy, input: x, weight: w, batch: batch, dWeight: &dw, dBias: &db)
            return [dx, dw, db]
        }
        let one = on(1, run)
        for t in [2, 3] { #expect(on(t, run).map(bits) == one.map(bits), "threads \(t)") }
    }

    @Test func gatedNormIsTheSameOnAnyThreadCount() {
        // 150 rows: three blocks of the split, the last one short.
        let rows = 150, cols = 24, layer = GatedRMSNorm(rows: rows, cols: cols, groupSize: 12, eps: 1e-5)
        let y = randomArray(rows * cols, seed: 13), z = randomArray(rows * cols, seed: 14)
        let w = randomArray(cols, std: 0.3, mean: 1, seed: 15), dOut = randomArray(rows * cols, seed: 16)
        func run() -> [[Float]] {
            let (out, inv) = layer.forward(y, z, weight: w)
            var dw = randomArray(cols, seed: 17)
            let (dy, dz) = layer.backward(dOut, y: y, z: z, weight: w, invRMS: inv, dWeight: &dw)
            return [out, inv, dy, dz, dw]
        }
        let one = on(1, run)
        for t in [2, 3] { #expect(on(t, run).map(bits) == one.map(bits), "threads \(t)") }
    }

    @Test(arguments: [false, true], [SelectiveScan.Form.recurrent, .quadratic])
    func scanIsTheSameOnAnyThreadCount(reverse: Bool, form: SelectiveScan.Form) {
        let seq = 11, heads = 4, p = 3, n = 9, groups = 2, batch = 3
        let layer = SelectiveScan(
            seq: seq, heads: heads, headDim: p, dState: n, groups: groups, reverse: reverse, chunk: 4, form: form)
        let a = Self.scanArgs(seq: seq, heads: heads, p: p, n: n, groups: groups, batch: batch)
        let dy = randomArray(batch * seq * heads * p, seed: 39)
        func run() -> [[Float]] {
            let y = layer.forward(x: a["x"]!, dt: a["dt"]!, a: a["A"]!, bm: a["B"]!, cm: a["C"]!, d: a["D"]!, batch: batch)
            let g = layer.backward(dy, x: a["x"]!, dt: a["dt"]!, a: a["A"]!, bm: a["B"]!, cm: a["C"]!, d: a["D"]!, batch: batch)
            return [y, g.dx, g.dDt, g.dA, g.dB, g.dC, g.dD]
        }
        let one = on(1, run)
        for t in [2, 3] { #expect(on(t, run).map(bits) == one.map(bits), "threads \(t)") }
    }

    @Test func scanGradientOnTwoThreads() {
        let seq = 7, heads = 2, p = 2, n = 3, groups = 1, batch = 2
        let layer = SelectiveScan(seq: seq, heads: heads, headDim: p, dState: n, groups: groups, reverse: false, chunk: 3)
        let check = GradientCheck(
            args: Self.scanArgs(seq: seq, heads: heads, p: p, n: n, groups: groups, batch: batch),
            forward: { a in layer.forward(x: a["x"]!, dt: a["dt"]!, a: a["A"]!, bm: a["B"]!, cm: a["C"]!, d: a["D"]!, batch: batch).doubles
            },
            backward: { a, d in
                let g = layer.backward(d, x: a["x"]!, dt: a["dt"]!, a: a["A"]!, bm: a["B"]!, cm: a["C"]!, d: a["D"]!, batch: batch)
                return ["x": g.dx, "dt": g.dDt, "A": g.dA, "B": g.dB, "C": g.dC, "D": g.dD]
            })
        let errors = on(2) { check.run() }
        report("scan-2-threads", errors)
        #expect(!errors.isEmpty)
        for (name, e) in errors { #expect(e <= TrainerLayerGradientTests.tolerance, "\(name): relative error \(e)") }
    }
}

/// Ranges handed to a split's parts, collected from whichever threads ran them.
private final class SeenRanges: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var ranges: [Range<Int>] = []
    func add(_ r: Range<Int>) { lock.withLock { ranges.append(r) } }
}

@Suite struct TrainerMemoryTests {
    @Test func glibcAcceptsTheThresholds() {
        #if canImport(Glibc)
            #expect(TrainerMemory.retainFreedMemory(), "mallopt refused the mmap or trim threshold")
        #else
            print("TrainerMemoryTests: SKIPPED, no glibc here (the call is a no-op)")
        #endif
    }
}
