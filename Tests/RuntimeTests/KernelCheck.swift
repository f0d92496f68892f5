import Foundation
import GraphIR
import Testing
import TestSupport

/// ggml-style kernel checks shared by the kernel tests: a double-precision reference compared by
/// normalised mean squared error, and output buffers with a guard tail that catches writes past
/// the end and elements left unwritten.
enum KernelCheck {
    /// Σ(got − want)² / Σ want².
    static func nmse(_ got: [Float], _ want: [Double]) -> Double {
        precondition(got.count == want.count)
        var num = 0.0, den = 0.0
        for (a, b) in zip(got, want) {
            let e = Double(a) - b
            num += e * e
            den += b * b
        }
        return num / max(den, 1e-30)
    }

    /// Expects `got` finite and within `limit` NMSE of the reference.
    static func expectClose(
        _ got: [Float], _ want: [Double], _ what: String, nmse limit: Double = 1e-10,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard got.count == want.count else {
            Issue.record("\(what): \(got.count) values, the reference has \(want.count)", sourceLocation: sourceLocation)
            return
        }
        #expect(got.allSatisfy { $0.isFinite }, "\(what): non-finite output", sourceLocation: sourceLocation)
        let e = nmse(got, want)
        #expect(e < limit, "\(what): NMSE \(e)", sourceLocation: sourceLocation)
    }

    /// A NaN payload no kernel computes: marks elements not yet written.
    static let unwritten = Float(bitPattern: 0x7fc0_1234)
    static let guardFloats = 19

    /// Runs `body` on an output of `count` floats followed by a guard tail, all set to `unwritten`
    /// first; expects every output element written and the guard untouched, and returns the output.
    static func output(
        _ count: Int, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ body: (UnsafeMutablePointer<Float>) -> Void
    ) -> [Float] {
        var buffer = [Float](repeating: unwritten, count: count + guardFloats)
        buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        let out = Array(buffer[0..<count]), tail = buffer[count...]
        #expect(
            tail.allSatisfy { $0.bitPattern == unwritten.bitPattern }, "\(what): wrote past the end of the output",
            sourceLocation: sourceLocation)
        let missed = out.filter { $0.bitPattern == unwritten.bitPattern }.count
        #expect(missed == 0, "\(what): \(missed) of \(count) outputs never written", sourceLocation: sourceLocation)
        return out
    }

    /// Deterministic values in [lo, hi).
    static func uniform(_ count: Int, _ lo: Float, _ hi: Float, seed: UInt64) -> [Float] {
        SampleGraphs.values(count, seed: seed, scale: 1).map { lo + ($0 + 1) / 2 * (hi - lo) }
    }

    static func silu(_ v: Double) -> Double { v / (1 + Foundation.exp(-v)) }
}
