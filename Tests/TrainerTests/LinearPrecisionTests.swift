import Foundation
import Runtime
import Testing
@testable import Trainer

/// Linear on a step's `WeightPacks` (fp32 and bf16 products, W and Wᵀ packed once per step):
/// forward, input gradient, weight and bias gradients against double-precision references from the
/// same operands (bf16: rounded to bf16 first, so only fp32 summation is left), thread-count
/// independence, and the packs' lifetime. The bf16 cases run on any CPU (without AVX512_BF16 the
/// products take the portable path, which rounds the same way).
@Suite struct LinearPrecisionTests {
    var rows = 50, inF = 70, outF = 100

    struct Data {
        var x: [Float], w: [Float], bias: [Float], dY: [Float], dW0: [Float], dB0: [Float]
    }

    func data() -> Data {
        Data(
            x: randomArray(rows * inF, seed: 11), w: randomArray(outF * inF, std: 0.2, seed: 12), bias: randomArray(outF, seed: 13),
            dY: randomArray(rows * outF, seed: 14), dW0: randomArray(outF * inF, seed: 15), dB0: randomArray(outF, seed: 16))
    }

    func params(_ d: Data, _ precision: Precision) -> ParameterSet {
        var p = ParameterSet(["w": d.w, "b": d.bias])
        p.packs = WeightPacks(precision: precision)
        return p
    }

    /// The operand as the product sees it.
    func operand(_ a: [Float], _ precision: Precision) -> [Double] {
        (precision == .bf16 ? BF16Gemm.widen(BF16Gemm.round(a)) : a).map(Double.init)
    }

    /// |a − ref| ≤ tol · max |ref| elementwise.
    func expectClose(_ a: [Float], _ ref: [Double], _ what: String, tol: Double = 1e-5) {
        #expect(a.count == ref.count, "\(what): count")
        let scale = ref.map(abs).max() ?? 1
        let worst = zip(a, ref).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst <= tol * scale, "\(what): off by \(worst) (largest |ref| \(scale))")
    }

    /// Even sizes, and odd ones (every product's depth odd once: bf16 pairs k with a zero partner).
    static let shapes = [(50, 70, 100), (51, 37, 99), (1, 3, 2)]

    @Test(arguments: Precision.allCases, shapes)
    func productsMatchTheReference(precision: Precision, shape: (Int, Int, Int)) {
        var t = self
        (t.rows, t.inF, t.outF) = shape
        t.check(precision)
    }

    func check(_ precision: Precision) {
        let d = data(), layer = Linear(inFeatures: inF, outFeatures: outF), p = params(d, precision)
        let x = operand(d.x, precision), w = operand(d.w, precision), dY = operand(d.dY, precision)
        // y = x·Wᵀ + b (the bias is added in fp32, outside the product).
        let y = layer.forward(d.x, rows: rows, params: p, name: "w", bias: "b")
        var yRef = [Double](repeating: 0, count: rows * outF)
        for r in 0..<rows {
            for o in 0..<outF { yRef[r * outF + o] = Double(d.bias[o]) + (0..<inF).reduce(0) { $0 + x[r * inF + $1] * w[o * inF + $1] } }
        }
        expectClose(y, yRef, "\(precision) y")

        var grads = ParameterSet(["w": d.dW0, "b": d.dB0])
        let dx = layer.backward(d.dY, x: d.x, rows: rows, params: p, name: "w", grads: &grads, bias: "b")
        var dxRef = [Double](repeating: 0, count: rows * inF), dwRef = d.dW0.map(Double.init), dbRef = d.dB0.map(Double.init)
        for r in 0..<rows { for i in 0..<inF { dxRef[r * inF + i] = (0..<outF).reduce(0) { $0 + dY[r * outF + $1] * w[$1 * inF + i] } } }
        for o in 0..<outF {
            for i in 0..<inF { dwRef[o * inF + i] += (0..<rows).reduce(0) { $0 + dY[$1 * outF + o] * x[$1 * inF + i] } }
            dbRef[o] += (0..<rows).reduce(0) { $0 + Double(d.dY[$1 * outF + o]) }
        }
        expectClose(dx, dxRef, "\(precision) dx")
        expectClose(grads["w"], dwRef, "\(precision) dW")
        expectClose(grads["b"], dbRef, "\(precision) dB")
    }

    /// bf16 really rounds: its products differ from fp32's by about bf16's 2⁻⁹ relative step, far
    /// more than the fp32 tolerance above (so a bf16 pack silently falling back to fp32 fails here).
    @Test func bf16DiffersFromFP32() {
        let d = data(), layer = Linear(inFeatures: inF, outFeatures: outF)
        let y32 = layer.forward(d.x, rows: rows, params: params(d, .fp32), name: "w")
        let y16 = layer.forward(d.x, rows: rows, params: params(d, .bf16), name: "w")
        let scale = y32.map(abs).max()!, diff = maxAbsDiff(y32, y16)
        #expect(diff > 1e-4 * scale && diff < 2e-2 * scale, "bf16 vs fp32: \(diff) of \(scale)")
    }

    @Test(arguments: Precision.allCases)
    func sameBitsOnAnyThreadCount(precision: Precision) {
        // 50 rows: two parts of ≥ 24; 100 outputs: three parts of dW rows of ≥ 32.
        let d = data(), layer = Linear(inFeatures: inF, outFeatures: outF)
        func run() -> [[Float]] {
            let p = params(d, precision)
            var grads = ParameterSet(["w": d.dW0])
            let dx = layer.backward(d.dY, x: d.x, rows: rows, params: p, name: "w", grads: &grads)
            return [layer.forward(d.x, rows: rows, params: p, name: "w"), dx, grads["w"]]
        }
        let one = TrainerThreads.$override.withValue(1, operation: run)
        for t in [2, 3] {
            let many = TrainerThreads.$override.withValue(t, operation: run)
            #expect(many.map { $0.map(\.bitPattern) } == one.map { $0.map(\.bitPattern) }, "\(precision), \(t) threads")
        }
    }

    /// fp32 packs change nothing but when W is packed: the same bits as the per-call `weight:` forms.
    @Test func fp32PacksGiveThePerCallBits() {
        let d = data(), layer = Linear(inFeatures: inF, outFeatures: outF), p = params(d, .fp32)
        #expect(
            layer.forward(d.x, rows: rows, params: p, name: "w").map(\.bitPattern)
                == layer.forward(d.x, rows: rows, weight: d.w).map(\.bitPattern))
        var grads = ParameterSet(["w": d.dW0]), dW = d.dW0
        _ = layer.backward(d.dY, x: d.x, rows: rows, params: p, name: "w", grads: &grads)
        _ = layer.backward(d.dY, x: d.x, rows: rows, weight: d.w, dWeight: &dW)
        #expect(grads["w"].map(\.bitPattern) == dW.map(\.bitPattern))
    }

    /// Packs are made once per weight and never outlive the values they were packed from.
    @Test func packsFollowTheirTensors() {
        let d = data(), layer = Linear(inFeatures: inF, outFeatures: outF)
        var p = params(d, .bf16)
        let packs = p.packs!
        let before = layer.forward(d.x, rows: rows, params: p, name: "w")
        #expect(packs.forward("w", d.w, n: outF, k: inF) != nil)
        #expect(p == ParameterSet(["w": d.w, "b": d.bias]), "packs are not part of ==")
        p["w"] = d.w.map { -$0 }
        #expect(p.packs == nil, "changing a tensor drops the packs")
        p.packs = WeightPacks(precision: .bf16)
        let after = layer.forward(d.x, rows: rows, params: p, name: "w")
        #expect(after == before.map { -$0 }, "the new weights are used")
        p.modify("b") { $0[0] += 1 }
        #expect(p.packs == nil, "modify drops the packs too")
    }
}
