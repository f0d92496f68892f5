import Foundation
import GraphIR
@testable import Trainer
import TRMCore

/// Finite-difference gradient check for a function of named fp32 arguments.
///
/// Method: the scalar probe is L(args) = Σ_i w_i·out_i with fixed random weights w (so dOut = w is
/// exact in fp32), summed in float64. For each argument and each of `directions` random Gaussian
/// directions v, with h = step·max(rms(arg), 1e-2), the argument is perturbed to a⁺ = fp32(a + h·v)
/// and a⁻ = fp32(a − h·v) and the central difference L(a⁺) − L(a⁻) is compared with ⟨∂L/∂a, a⁺ − a⁻⟩.
/// Using the perturbation actually applied (after fp32 rounding) removes representation error. The
/// ratio r(h) = numeric/analytic is 1 + c·h² + noise (noise: the fp32 forward's rounding divided by
/// the step), so it is taken at h and 2h and Richardson-extrapolated, R = (4·r(h) − r(2h))/3, which
/// leaves O(h⁴) truncation; a fairly large h (1e-2 of the argument's rms) then keeps noise low.
/// The check reports, per argument, the worst |R − 1| over the directions, scaled by
/// |⟨g, Δ⟩| / max(|⟨g, Δ⟩|, ‖g‖·‖Δ‖/√n) so that a direction nearly orthogonal to the gradient by
/// chance is judged against the gradient's size, not against its own tiny projection. For a wrong
/// gradient g + e this estimates ‖e‖/‖g‖.
///
/// Strongly curved layers (a gated norm over a few channels, the recursion of two Mamba-2 layers)
/// need a small step before Richardson's O(h⁴) is small, while weakly coupled scalars (dt_bias,
/// A_log) need a large one to rise above the fp32 noise floor. So `steps` may list several relative
/// steps and the smallest error per direction counts: truncation falls and noise rises as the step
/// shrinks, so the minimum brackets the true error, whereas a wrong gradient leaves an error floor
/// that no step removes (`TrainerLayerGradientTests.checkerCatchesWrongGradients`).
struct GradientCheck {
    typealias Args = [String: [Float]]
    var args: Args
    var forward: (Args) -> [Double]
    var backward: (Args, [Float]) -> Args
    /// Relative steps tried per direction; the smallest error counts (see above).
    var steps: [Float] = [1e-2]
    var directions = 3
    var seed: UInt64 = 7

    /// Worst relative error per argument name (every argument `backward` returned a gradient for).
    func run() -> [String: Double] {
        var rng = SeededRandom(seed: seed)
        let out = forward(args)
        let w = (0..<out.count).map { _ in Float(normal(&rng)) }
        let grads = backward(args, w)
        func probe(_ a: Args) -> Double {
            let o = forward(a)
            precondition(o.count == w.count)
            var s = 0.0
            for i in 0..<o.count { s += Double(w[i]) * o[i] }
            return s
        }
        var worst: [String: Double] = [:]
        for name in grads.keys.sorted() {
            let a = args[name]!, g = grads[name]!
            precondition(a.count == g.count, "gradient of \(name) has \(g.count) values, argument \(a.count)")
            let rms = (a.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(a.count, 1))).squareRoot()
            let unit = Float(max(rms, 1e-2))
            var err = 0.0
            for _ in 0..<directions {
                let v = (0..<a.count).map { _ in Float(normal(&rng)) }
                // ratio(step) = numeric / analytic = 1 + c·step² + noise; Richardson cancels the c·step² term.
                func ratio(_ step: Float) -> (Double, Double) {
                    var plus = args, minus = args
                    plus[name] = zip(a, v).map { $0 + step * $1 }
                    minus[name] = zip(a, v).map { $0 - step * $1 }
                    let numeric = probe(plus) - probe(minus)
                    var analytic = 0.0
                    for i in 0..<a.count { analytic += Double(g[i]) * Double(plus[name]![i] - minus[name]![i]) }
                    return (numeric, analytic)
                }
                var best = Double.infinity
                for step in steps {
                    let h = step * unit
                    let (n1, a1) = ratio(h), (n2, a2) = ratio(2 * h)
                    // A random v can be nearly orthogonal to the gradient, making ⟨g, Δ⟩ small by
                    // chance; the error is then measured against the typical size ‖g‖·‖Δ‖/√n instead.
                    let gNorm = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                    let dNorm = v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() * Double(h)
                    let typical = gNorm * dNorm / Double(a.count).squareRoot()
                    if a1 == 0 || a2 == 0 || typical == 0 {
                        // A zero gradient along v must come with a zero difference.
                        best = min(best, abs(n1) + abs(n2) == 0 ? 0 : 1)
                        continue
                    }
                    let r = (4 * n1 / a1 - n2 / a2) / 3
                    best = min(best, abs(r - 1) * abs(a1) / max(abs(a1), typical))
                }
                err = max(err, best)
            }
            worst[name] = err
        }
        return worst
    }
}

/// Standard normal by Box–Muller.
func normal(_ rng: inout SeededRandom) -> Double {
    let u1 = max(rng.nextUnit(), 1e-300), u2 = rng.nextUnit()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
}

/// `count` normal values × `std` (+ `mean`).
func randomArray(_ count: Int, std: Double = 1, mean: Double = 0, seed: UInt64) -> [Float] {
    var rng = SeededRandom(seed: seed)
    return (0..<count).map { _ in Float(mean + std * normal(&rng)) }
}

/// Uniform values in [lo, hi).
func uniformArray(_ count: Int, _ lo: Double, _ hi: Double, seed: UInt64) -> [Float] {
    var rng = SeededRandom(seed: seed)
    return (0..<count).map { _ in Float(lo + (hi - lo) * rng.nextUnit()) }
}

extension Array where Element == Float {
    var doubles: [Double] { map(Double.init) }
}

/// Largest |a − b|.
func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "maxAbsDiff: \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
}

/// Prints a per-argument report line (visible with `swift test`), so the measured errors are on record.
func report(_ label: String, _ errors: [String: Double]) {
    let parts = errors.keys.sorted().map { "\($0)=\(String(format: "%.1e", errors[$0]!))" }
    print("grad-check \(label): " + parts.joined(separator: " "))
}
