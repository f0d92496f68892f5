import Dispatch
import Foundation
import Testing
import TestSupport
import TRMCore
@testable import Runtime

/// `BF16Gemm` and its C kernels (trm_bf16.h): the bf16 rounding, the packing, the AVX512_BF16
/// product and the portable one against double-precision references.
///
/// The product tests compare with a reference computed in double from the same bf16-rounded
/// inputs, so the only difference left is fp32 summation (NMSE ≤ 1e-10); one test compares with
/// the unrounded fp32 inputs under a bound derived from bf16's 8-bit significand. Tests that run
/// VDPBF16PS are skipped on CPUs without AVX512_BF16 (the skip message says so);
/// `isSupportedAgreesWithCPUInfo` always runs, so a wrong detection cannot skip them silently.
@Suite struct BF16GemmTests {
    static let needsBF16: Comment = "needs AVX512_BF16 (this CPU lacks it: only the portable path is tested)"

    /// A product's inputs and everything the check needs, with rows lda / ldc apart.
    struct Case {
        var m: Int, n: Int, k: Int, lda: Int, ldc: Int
        var bias: Bool = false, accumulate: Bool = false
        var x: [Float], w: [Float], b: [Float], c0: [Float]

        init(m: Int, n: Int, k: Int, lda: Int? = nil, ldc: Int? = nil, bias: Bool = false, accumulate: Bool = false, seed: UInt64 = 1) {
            (self.m, self.n, self.k, self.lda, self.ldc) = (m, n, k, lda ?? k, ldc ?? n)
            (self.bias, self.accumulate) = (bias, accumulate)
            x = SampleGraphs.values(m * self.lda, seed: seed, scale: 1)
            w = SampleGraphs.values(n * k, seed: seed + 1, scale: 1)
            b = SampleGraphs.values(n, seed: seed + 2, scale: 1)
            c0 = SampleGraphs.values(m * self.ldc, seed: seed + 3, scale: 1)
        }

        var what: String { "[\(m), \(k)]·[\(n), \(k)]ᵀ lda \(lda) ldc \(ldc)\(bias ? " +bias" : "")\(accumulate ? " +=" : "")" }

        /// The product's m·n outputs in double: from the bf16-rounded inputs (`rounded`) or the
        /// fp32 ones, plus bias and the old c as asked.
        func reference(rounded: Bool) -> [Double] {
            let xr = rounded ? BF16Gemm.widen(BF16Gemm.round(x)) : x, wr = rounded ? BF16Gemm.widen(BF16Gemm.round(w)) : w
            var out = [Double](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var s = (accumulate ? Double(c0[i * ldc + j]) : 0) + (bias ? Double(b[j]) : 0)
                    for p in 0..<k { s += Double(xr[i * lda + p]) * Double(wr[j * k + p]) }
                    out[i * n + j] = s
                }
            }
            return out
        }

        /// Runs the product into a copy of c0 followed by a guard tail; expects the columns past n
        /// and the tail untouched, and returns the m·n outputs.
        func run(portable: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws -> [Float] {
            let packed = try BF16PackedWeights(w, n: n, k: k)
            let sentinel = Float(bitPattern: 0x7fc0_1234)
            var c = c0 + [Float](repeating: sentinel, count: 19)
            var ws = [Float](repeating: .nan, count: BF16Gemm.workspaceFloats(m: m, k: k))
            try x.withUnsafeBufferPointer { xp in
                try b.withUnsafeBufferPointer { bp in
                    try c.withUnsafeMutableBufferPointer { cp in
                        try ws.withUnsafeMutableBufferPointer { wp in
                            try BF16Gemm.multiply(
                                xp, lda: lda, m: m, packed, bias: bias ? bp : nil, cp, ldc: ldc, accumulate: accumulate,
                                workspace: wp, portable: portable)
                        }
                    }
                }
            }
            #expect(
                c[(m * ldc)...].allSatisfy { $0.bitPattern == sentinel.bitPattern }, "\(what): wrote past the end",
                sourceLocation: sourceLocation)
            var out = [Float]()
            for i in 0..<m {
                out += c[(i * ldc)..<(i * ldc + n)]
                let pad = c[(i * ldc + n)..<(i * ldc + ldc)], old = c0[(i * ldc + n)..<(i * ldc + ldc)]
                #expect(
                    pad.elementsEqual(old) { $0.bitPattern == $1.bitPattern }, "\(what): wrote between rows", sourceLocation: sourceLocation
                )
            }
            return out
        }

        /// Runs and compares with the reference on rounded inputs.
        func check(portable: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let got = try run(portable: portable, sourceLocation: sourceLocation)
            KernelCheck.expectClose(got, reference(rounded: true), what + (portable ? " (portable)" : ""), sourceLocation: sourceLocation)
        }
    }

    // MARK: detection

    /// Linux's `avx512_bf16` cpuinfo flag is set when the CPU has the instructions and the kernel
    /// enables them, which is what the cpuid + xgetbv detection checks.
    @Test func isSupportedAgreesWithCPUInfo() throws {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
            print("BF16GemmTests: no /proc/cpuinfo, cannot cross-check BF16Gemm.isSupported (\(BF16Gemm.isSupported))")
            return
        }
        let flags = info.split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ").map(String.init)) } ?? []
        let listed = ["avx512f", "avx512bw", "avx512vl", "avx512_bf16"].allSatisfy(flags.contains)
        #expect(BF16Gemm.isSupported == listed, "cpuid says \(BF16Gemm.isSupported), /proc/cpuinfo flags say \(listed)")
        if !BF16Gemm.isSupported { print("BF16GemmTests: no AVX512_BF16 here, the VDPBF16PS tests are skipped") }
    }

    // MARK: rounding

    /// Nearest-even by its definition, written differently from the C code: compare the dropped
    /// half with the halfway point.
    static func referenceRound(_ u: UInt32) -> UInt16 {
        if u & 0x7fff_ffff > 0x7f80_0000 { return UInt16(u >> 16) | 0x40 }
        let kept = u >> 16, dropped = u & 0xffff
        let up = dropped > 0x8000 || (dropped == 0x8000 && kept & 1 == 1)
        return UInt16(truncatingIfNeeded: kept + (up ? 1 : 0))
    }

    @Test(
        arguments: [
            // (fp32 bits, bf16 bits)
            (0x3f80_0000, 0x3f80),  // 1
            (0x3f80_8000, 0x3f80),  // 1 + 2^-8: halfway, kept half even → down
            (0x3f81_8000, 0x3f82),  // halfway, kept half odd → up
            (0x3f80_8001, 0x3f81),  // just above halfway → up
            (0x3f81_7fff, 0x3f81),  // just below halfway → down
            (0xbf80_8000, 0xbf80),  // -(1 + 2^-8): ties to even on the magnitude
            (0xbf81_8000, 0xbf82),
            (0x8000_0000, 0x8000),  // -0
            (0x7f7f_ffff, 0x7f80),  // largest float rounds up to +inf
            (0xff7f_ffff, 0xff80),  // and the most negative to -inf
            (0x7f7f_7fff, 0x7f7f),  // below the last halfway point: largest finite bf16
            (0x7f80_0000, 0x7f80),  // +inf
            (0xff80_0000, 0xff80),  // -inf
            (0x7fc0_0000, 0x7fc0),  // quiet NaN
            (0x7f80_0001, 0x7fc0),  // signalling NaN, payload only in the dropped half: stays NaN
            (0xff80_0001, 0xffc0),  // negative NaN keeps its sign
            (0x7fff_ffff, 0x7fff),  // NaN whose rounding would carry into the sign
            (0x0000_0001, 0x0000),  // smallest denormal → +0
            (0x0000_8000, 0x0000),  // denormal halfway, even → down
            (0x0001_8000, 0x0002),  // denormal halfway, odd → up
            (0x0001_0001, 0x0001),  // a bf16 denormal stays a denormal
            (0x007f_ffff, 0x0080),  // largest denormal rounds up to the smallest normal
            (0x8001_0000, 0x8001),  // negative denormal
            (0x0080_0000, 0x0080),  // smallest normal
        ] as [(UInt32, UInt16)])
    func roundsToNearestEven(bits: UInt32, expected: UInt16) {
        let got = BF16Gemm.round([Float(bitPattern: bits)])[0]
        #expect(got == expected, "0x\(String(bits, radix: 16)) → 0x\(String(got, radix: 16)), want 0x\(String(expected, radix: 16))")
        #expect(Self.referenceRound(bits) == expected, "the test's reference disagrees")
    }

    /// Random bit patterns (every exponent, NaNs included) through the vectorised loop, at lengths
    /// that leave every remainder.
    @Test func roundingMatchesDefinitionOnRandomBits() {
        var rng = SeededRandom(seed: 16)
        for count in [1, 7, 8, 9, 31, 33, 100_003] {
            let bits = (0..<count).map { _ in UInt32(truncatingIfNeeded: rng.next()) }
            let got = BF16Gemm.round(bits.map { Float(bitPattern: $0) })
            let bad = zip(bits, got).filter { Self.referenceRound($0) != $1 }
            #expect(
                bad.isEmpty,
                "\(bad.count) of \(count) wrong, e.g. \(bad.prefix(3).map { "0x\(String($0.0, radix: 16)) → 0x\(String($0.1, radix: 16))" })"
            )
        }
    }

    /// Widening is exact: every non-NaN bf16 survives the round trip; NaNs stay NaNs.
    @Test func widenRoundTripsEveryPattern() {
        let all = (0...0xffff).map { UInt16($0) }
        let wide = BF16Gemm.widen(all), back = BF16Gemm.round(wide)
        for (h, (f, r)) in zip(all, zip(wide, back)) {
            #expect(f.bitPattern == UInt32(h) << 16)
            if f.isNaN {
                #expect(Float(bitPattern: UInt32(r) << 16).isNaN)
            } else if r != h {
                Issue.record("0x\(String(h, radix: 16)) came back as 0x\(String(r, radix: 16))")
            }
        }
    }

    // MARK: packing and checks (no bf16 instructions)

    /// The documented layout: panel j, pair p, column c holds w[32j + c, 2p] then w[32j + c, 2p + 1];
    /// padding columns and the odd k's missing partner are zero.
    @Test func packedLayout() throws {
        let (n, k) = (33, 5)
        let w = (0..<n * k).map { Float($0) }  // integers below 256 are exact in bf16
        let packed = try BF16PackedWeights(w, n: n, k: k)
        let pairs = 3, panels = 2
        #expect(packed.packed.count == panels * 32 * pairs * 2 && packed.bytes == packed.packed.count * 2)
        let values = BF16Gemm.widen(Array(packed.packed))
        for j in 0..<panels {
            for p in 0..<pairs {
                for c in 0..<32 {
                    for h in 0..<2 {
                        let (row, col) = (32 * j + c, 2 * p + h)
                        let want: Float = row < n && col < k ? w[row * k + col] : 0
                        let got = values[((j * pairs + p) * 32 + c) * 2 + h]
                        #expect(got == want, "panel \(j) pair \(p) column \(c) half \(h): \(got), want \(want)")
                    }
                }
            }
        }
    }

    @Test func rejectsBadShapes() throws {
        let (m, n, k) = (4, 8, 6)
        let w = try BF16PackedWeights([Float](repeating: 1, count: n * k), n: n, k: k)
        let x = [Float](repeating: 1, count: m * k), bias = [Float](repeating: 0, count: n)
        var out = [Float](repeating: 0, count: m * n), ws = [Float](repeating: 0, count: BF16Gemm.workspaceFloats(m: m, k: k))
        func call(
            x xc: Int = m * k, lda: Int = k, m mm: Int = m, bias bc: Int? = nil, out oc: Int = m * n, ldc: Int = n,
            ws wc: Int = BF16Gemm.workspaceFloats(m: m, k: k)
        ) throws {
            try x.withUnsafeBufferPointer { xp in
                try bias.withUnsafeBufferPointer { bp in
                    try out.withUnsafeMutableBufferPointer { op in
                        try ws.withUnsafeMutableBufferPointer { wp in
                            try BF16Gemm.multiply(
                                UnsafeBufferPointer(rebasing: xp[..<xc]), lda: lda, m: mm, w,
                                bias: bc.map { UnsafeBufferPointer(rebasing: bp[..<$0]) },
                                UnsafeMutableBufferPointer(rebasing: op[..<oc]), ldc: ldc,
                                workspace: UnsafeMutableBufferPointer(rebasing: wp[..<wc]))
                        }
                    }
                }
            }
        }
        try call(bias: n)  // well-formed
        let bad: [(String, () throws -> Void)] = [
            ("short x", { try call(x: m * k - 1) }),
            ("lda < k", { try call(lda: k - 1) }),
            ("negative m", { try call(m: -1) }),
            ("short out", { try call(out: m * n - 1) }),
            ("ldc < n", { try call(ldc: n - 1) }),
            ("short bias", { try call(bias: n - 1) }),
            ("short workspace", { try call(ws: BF16Gemm.workspaceFloats(m: m, k: k) - 1) }),
        ]
        for (what, body) in bad {
            #expect(throws: TRMError.self, "\(what)") { try body() }
        }
        #expect(throws: TRMError.self) { try BF16PackedWeights([1, 2, 3], n: 2, k: 2) }
        #expect(throws: TRMError.self) { try BF16PackedWeights([], n: -1, k: 0) }
    }

    /// k = 0: the product is zero, so out becomes bias (or out + bias); no bf16 instruction runs.
    @Test func emptyDepth() throws {
        try Case(m: 3, n: 5, k: 0, bias: true).check()
        try Case(m: 3, n: 5, k: 0, ldc: 7, bias: true, accumulate: true).check()
        try Case(m: 2, n: 4, k: 0).check()
    }

    /// The path CPUs without AVX512_BF16 take, on every machine.
    @Test(arguments: [(1, 1, 1), (5, 33, 17), (13, 64, 257), (40, 100, 31)])
    func portablePathMatchesReference(m: Int, n: Int, k: Int) throws {
        try Case(m: m, n: n, k: k).check(portable: true)
        try Case(m: m, n: n, k: k, lda: k + 3, ldc: n + 1, bias: true, accumulate: true, seed: 9).check(portable: true)
    }

    // MARK: the AVX512_BF16 product

    /// Every remainder of the 12-row tile, the 16/32-column halves, odd k, the 256-pair K block and
    /// the 144-row M block, against the same rounded inputs in double.
    @Test(.enabled(if: BF16Gemm.isSupported, Self.needsBF16), arguments: [1, 2, 5, 11, 12, 13, 31, 97, 145])
    func matchesReferenceOnRoundedInputs(m: Int) throws {
        for n in [1, 15, 16, 17, 31, 32, 33, 64, 97] {
            for k in [1, 2, 3, 15, 17, 31, 33, 255, 511, 512, 513] {
                try Case(m: m, n: n, k: k, seed: UInt64(m * 1000 + n * 10 + k)).check()
            }
        }
    }

    /// Shapes of the models (hidden 512, SwiGLU widths) and ones past several K and M blocks.
    @Test(
        .enabled(if: BF16Gemm.isSupported, Self.needsBF16),
        arguments: [(97, 512, 512), (300, 96, 1027), (1, 2048, 512), (150, 100, 600), (20, 1536, 2048)])
    func matchesReferenceOnLargeShapes(m: Int, n: Int, k: Int) throws {
        try Case(m: m, n: n, k: k).check()
    }

    @Test(.enabled(if: BF16Gemm.isSupported, Self.needsBF16))
    func biasAccumulateAndStrides() throws {
        for (bias, accumulate) in [(true, false), (false, true), (true, true)] {
            try Case(m: 13, n: 33, k: 31, bias: bias, accumulate: accumulate).check()
            try Case(m: 150, n: 70, k: 300, lda: 301, ldc: 75, bias: bias, accumulate: accumulate, seed: 4).check()
            try Case(m: 1, n: 1, k: 1, lda: 2, ldc: 3, bias: bias, accumulate: accumulate, seed: 5).check()
        }
    }

    /// Against the unrounded fp32 inputs. bf16 keeps 8 significant bits, so rounding changes an
    /// input by a relative error of at most u = 2^-8 (half an ulp at the bottom of a binade), and a
    /// product x·w by at most 2u + u². Hence |got − exact| ≤ (2u + u²)·Σ|x·w| plus the fp32
    /// summation error, on every element: the worst case, all errors of one sign, linear in k.
    /// The errors are in fact of both signs and close to independent, with a root mean square of
    /// about 0.85·2^-9 per input (uniform within an ulp, spread over the binade), so an element's
    /// error is a random walk with standard deviation ≈ 1.2·2^-9·√Σ(x·w)², growing like √k.
    /// Checked on every element: the worst-case bound, and 8·2^-9·√Σ(x·w)² (≈ 6.7 standard
    /// deviations; the largest seen over these shapes is about 4.2).
    @Test(.enabled(if: BF16Gemm.isSupported, Self.needsBF16), arguments: [(64, 64, 64), (33, 97, 512), (16, 48, 2048)])
    func closeToFP32Product(m: Int, n: Int, k: Int) throws {
        let c = Case(m: m, n: n, k: k)
        let got = try c.run(), exact = c.reference(rounded: false)
        let u = 0x1p-8, typical = 0x1p-9
        var worstRatio = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var l1 = 0.0, l2 = 0.0
                for p in 0..<k {
                    let t = abs(Double(c.x[i * k + p]) * Double(c.w[j * k + p]))
                    l1 += t
                    l2 += t * t
                }
                let err = abs(Double(got[i * n + j]) - exact[i * n + j]), walk = typical * l2.squareRoot()
                let summation = Double(k) * 0x1p-24 * l1
                #expect(err <= (2 * u + u * u) * l1 + summation, "[\(i), \(j)]: error \(err) over the worst case")
                #expect(err <= 8 * walk, "[\(i), \(j)]: error \(err) is \(err / walk) × 2^-9·√Σ(xw)²")
                worstRatio = max(worstRatio, err / walk)
            }
        }
        print("BF16GemmTests: [\(m), \(k)]·[\(n), \(k)]ᵀ vs fp32: largest error \(worstRatio) × 2^-9·√Σ(xw)²")
    }

    /// A NaN or inf in a row of x reaches that row's outputs only.
    @Test(.enabled(if: BF16Gemm.isSupported, Self.needsBF16))
    func nonFiniteStaysInItsRow() throws {
        for portable in [false, true] {
            var c = Case(m: 14, n: 40, k: 20)
            c.x[3 * 20 + 7] = .nan
            c.x[12 * 20 + 19] = .infinity
            let got = try c.run(portable: portable)
            for i in 0..<14 {
                let row = got[(i * 40)..<(i * 40 + 40)]
                switch i {
                case 3: #expect(row.allSatisfy { $0.isNaN })
                case 12: #expect(row.allSatisfy { !$0.isFinite })
                default: #expect(row.allSatisfy { $0.isFinite }, "row \(i)")
                }
            }
        }
    }

    /// How the runtime calls it: each thread a block of rows with its own workspace. A row's sums
    /// run in the same order wherever it falls in a tile, so the result is bit-identical to one call.
    @Test(.enabled(if: BF16Gemm.isSupported, Self.needsBF16))
    func concurrentCallsOnDisjointRows() throws {
        let (m, n, k, parts) = (301, 96, 600, 4)
        let c = Case(m: m, n: n, k: k, bias: true)
        let whole = try c.run()
        let packed = try BF16PackedWeights(c.w, n: n, k: k)
        let rowsPer = (m + parts - 1) / parts
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: m * n)
        defer { out.deallocate() }
        let failures = NSLock()
        var errors: [Error] = []
        c.x.withUnsafeBufferPointer { xp in
            c.b.withUnsafeBufferPointer { bp in
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    let r0 = part * rowsPer, rows = min(rowsPer, m - r0)
                    var ws = [Float](repeating: 0, count: BF16Gemm.workspaceFloats(m: rows, k: k))
                    do {
                        try ws.withUnsafeMutableBufferPointer { wp in
                            try BF16Gemm.multiply(
                                UnsafeBufferPointer(rebasing: xp[(r0 * k)...]), lda: k, m: rows, packed, bias: bp,
                                UnsafeMutableBufferPointer(rebasing: out[(r0 * n)...]), ldc: n, workspace: wp)
                        }
                    } catch {
                        failures.lock()
                        errors.append(error)
                        failures.unlock()
                    }
                }
            }
        }
        #expect(errors.isEmpty, "\(errors)")
        #expect(Array(out).elementsEqual(whole) { $0.bitPattern == $1.bitPattern }, "row blocks differ from one call")
    }

    // MARK: measurement

    /// Prints the single-thread peaks and the GFLOP/s of this GEMM (rows split over 1 and 2
    /// threads, as the runtime splits them) and of OpenBLAS sgemm (the `Gemm` wrapper, same thread
    /// counts) at the models' shapes; no timed assertions. TRM_BF16_BENCH=1 turns it on. OpenBLAS
    /// picks its kernels from the CPU model at load time (OPENBLAS_CORETYPE overrides it), so the
    /// core it chose is printed too.
    @Test(
        .enabled(if: ProcessInfo.processInfo.environment["TRM_BF16_BENCH"] == "1", "timing; set TRM_BF16_BENCH=1"),
        .enabled(if: BF16Gemm.isSupported, Self.needsBF16))
    func bench() throws {
        let bf16Peak = Peaks.bf16(threads: 1), fmaPeak = Peaks.fma(threads: 1)
        let core = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "openblas_get_corename").map {
            String(cString: unsafeBitCast($0, to: (@convention(c) () -> UnsafePointer<CChar>).self)())
        }
        print(String(format: "BF16 bench: peaks (1 thread) VDPBF16PS %.1f GFLOP/s, fp32 FMA %.1f GFLOP/s", bf16Peak, fmaPeak))
        print("BF16 bench: OpenBLAS core \(core ?? "?")")
        for (m, n, k) in [(7328, 512, 512), (7328, 2048, 512), (7328, 512, 2048), (7328, 1536, 512), (776, 512, 512)] {
            let x = SampleGraphs.values(m * k, seed: 1), w = SampleGraphs.values(n * k, seed: 2)
            let packed = try BF16PackedWeights(w, n: n, k: k)
            let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: m * n)
            defer { out.deallocate() }
            func gflops(threads: Int) -> Double {
                let rows = (m + threads - 1) / threads
                let ws = (0..<threads).map { _ in
                    UnsafeMutableBufferPointer<Float>.allocate(capacity: BF16Gemm.workspaceFloats(m: rows, k: k))
                }
                defer { ws.forEach { $0.deallocate() } }
                var best = Double.infinity
                for _ in 0..<5 {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    x.withUnsafeBufferPointer { xp in
                        DispatchQueue.concurrentPerform(iterations: threads) { t in
                            let r0 = t * rows, count = min(rows, m - r0)
                            try? BF16Gemm.multiply(
                                UnsafeBufferPointer(rebasing: xp[(r0 * k)...]), lda: k, m: count, packed,
                                UnsafeMutableBufferPointer(rebasing: out[(r0 * n)...]), ldc: n, workspace: ws[t])
                        }
                    }
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
                }
                return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
            }
            let one = gflops(threads: 1), two = gflops(threads: 2)
            let sgemm1 = Peaks.sgemm(m: m, n: n, k: k, threads: 1), sgemm2 = Peaks.sgemm(m: m, n: n, k: k, threads: 2)
            print(
                String(
                    format:
                        "BF16 bench: M=%d N=%d K=%d  bf16 %.1f GFLOP/s (%.0f%% of bf16 peak), 2 threads %.1f  |  sgemm %.1f, 2 threads %.1f",
                    m, n, k, one, 100 * one / bf16Peak, two, sgemm1, sgemm2))
        }
    }
}
