import Foundation
import Testing
@testable import Runtime

@Suite struct FastMathTests {
    @Test func expMatchesLibm() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let v = FastMath.exp(FastMath.V(repeating: x))[0], ref = Foundation.exp(x)
            worst = max(worst, abs(v - ref) / ref)
            x += 0.0137
        }
        #expect(worst < 3e-7)
        #expect(FastMath.exp(FastMath.V(repeating: -200))[0] == 0)
        #expect(FastMath.exp(FastMath.V(repeating: 100))[0] == .infinity)
        #expect(FastMath.exp(FastMath.V(repeating: 0))[0] == 1)
    }

    @Test func activationsAndTails() {
        let xs = (0..<13).map { Float($0) * 0.7 - 4 }
        var silu = [Float](repeating: 0, count: 13), sig = silu
        xs.withUnsafeBufferPointer { x in
            silu.withUnsafeMutableBufferPointer { Elementwise.silu(x.baseAddress!, $0.baseAddress!, count: 13) }
            sig.withUnsafeMutableBufferPointer { Elementwise.sigmoid(x.baseAddress!, $0.baseAddress!, count: 13) }
        }
        for (i, x) in xs.enumerated() {
            #expect(abs(silu[i] - x / (1 + Foundation.exp(-x))) < 1e-6)
            #expect(abs(sig[i] - 1 / (1 + Foundation.exp(-x))) < 1e-6)
        }
    }
}
