/// Vectorised exp and the activations built on it. exp uses the classic range reduction
/// x = n·ln2 + r, |r| ≤ ln2/2, a degree-6 polynomial for e^r and 2^n built in the exponent bits:
/// relative error below 2e-7 over the fp32 range, inputs below -87.3 give 0, above 88.7 give inf.
public enum FastMath {
    public typealias V = SIMD8<Float>

    @inline(__always)
    public static func exp(_ x: V) -> V {
        let hi = V(repeating: 88.72283), lo = V(repeating: -87.33654)
        let xc = x.clamped(lowerBound: lo, upperBound: hi)
        // n = round(x / ln2)
        let n = (xc * V(repeating: 1.44269504088896341)).rounded(.toNearestOrEven)
        // r = x - n·ln2 in two parts for accuracy
        var r = xc - n * V(repeating: 0.693359375)
        r = r - n * V(repeating: -2.12194440e-4)
        var p = V(repeating: 1.9875691500e-4)
        p = p * r + V(repeating: 1.3981999507e-3)
        p = p * r + V(repeating: 8.3334519073e-3)
        p = p * r + V(repeating: 4.1665795894e-2)
        p = p * r + V(repeating: 1.6666665459e-1)
        p = p * r + V(repeating: 5.0000001201e-1)
        p = p * (r * r) + r + V(repeating: 1)
        // 2^n: n + 127 in the exponent field.
        let bits = (SIMD8<Int32>(n) &+ 127) &<< 23
        var result = p * unsafeBitCast(bits, to: V.self)
        result.replace(with: V(repeating: .infinity), where: x .> hi)
        result.replace(with: V(repeating: 0), where: x .< lo)
        return result
    }

    /// x·sigmoid(x).
    @inline(__always)
    public static func silu(_ x: V) -> V { x / (V(repeating: 1) + exp(-x)) }

    /// 1 / (1 + e⁻ˣ).
    @inline(__always)
    public static func sigmoid(_ x: V) -> V { V(repeating: 1) / (V(repeating: 1) + exp(-x)) }

    /// Applies `f` to `count` floats in place or from `x` to `out` (which may alias), 8 at a time.
    @inline(__always)
    public static func map(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int, _ f: (V) -> V) {
        let raw = UnsafeRawPointer(x), outRaw = UnsafeMutableRawPointer(out)
        var i = 0
        while i + 8 <= count {
            outRaw.storeBytes(of: f(raw.loadUnaligned(fromByteOffset: 4 * i, as: V.self)), toByteOffset: 4 * i, as: V.self)
            i += 8
        }
        if i < count {
            var tail = V()
            for k in 0..<(count - i) { tail[k] = x[i + k] }
            let r = f(tail)
            for k in 0..<(count - i) { out[i + k] = r[k] }
        }
    }
}
