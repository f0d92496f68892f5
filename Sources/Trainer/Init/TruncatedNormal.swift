import Foundation
import GraphIR
import TRMCore

/// JAX-style truncated normal (docs/model.md §3.2): u uniform in [erf(-2/√2), erf(2/√2)], erfinv, scaled
/// by √2·σc and clipped to ±2σc, where σc = std / 0.87962 so that the truncated distribution has
/// standard deviation `std`.
public enum TruncatedNormal {
    /// std of a unit normal truncated to ±2.
    public static let truncatedStd = 0.87962566103423978
    /// σc / std: the correction factor (1.1368472).
    public static var correction: Double { 1.0 / truncatedStd }

    /// `count` samples with standard deviation `std` (all zeros for std = 0).
    public static func sample(count: Int, std: Double, rng: inout SeededRandom) -> [Float] {
        guard std > 0 else { return [Float](repeating: 0, count: count) }
        let sigma = std * correction
        let lo = erf(-2.0 / 2.0.squareRoot()), hi = erf(2.0 / 2.0.squareRoot())
        return (0..<count).map { _ in
            let u = lo + (hi - lo) * rng.nextUnit()
            let v = erfinv(u) * 2.0.squareRoot() * sigma
            return Float(min(max(v, -2 * sigma), 2 * sigma))
        }
    }

    /// Inverse error function on (-1, 1): Giles' approximation refined by two Newton steps on erf.
    public static func erfinv(_ y: Double) -> Double {
        if y <= -1 { return -.infinity }
        if y >= 1 { return .infinity }
        var w = -log((1.0 - y) * (1.0 + y))
        var x: Double
        if w < 6.25 {
            w -= 3.125
            x = -3.6444120640178196996e-21
            for c in [
                -1.685059138182016589e-19, 1.2858480715256400167e-18, 1.115787767802518096e-17,
                -1.333171662854620906e-16, 2.0972767875968561637e-17, 6.6376381343583238325e-15,
                -4.0545662729752068639e-14, -8.1519341976054721522e-14, 2.6335093153082322977e-12,
                -1.2975133253453532498e-11, -5.4154120542946279317e-11, 1.051212273321532285e-09,
                -4.1126339803469836976e-09, -2.9070369957882005086e-08, 4.2347877827932403518e-07,
                -1.3654692000834678645e-06, -1.3882523362786468719e-05, 0.0001867342080340571352,
                -0.00074070253416626697512, -0.0060336708714301490533, 0.24015818242558961693,
                1.6536545626831027356,
            ] { x = c + x * w }
        } else {
            w = w.squareRoot() - 3.25
            x = 2.81022636e-08
            for c in [
                3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                -0.00417768164, 0.246640727, 1.50140941,
            ] { x = c + x * w }
        }
        x *= y
        for _ in 0..<2 {
            let err = erf(x) - y
            x -= err / (2.0 / Double.pi.squareRoot() * Foundation.exp(-x * x))
        }
        return x
    }
}
