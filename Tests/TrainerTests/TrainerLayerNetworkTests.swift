import Foundation
import Testing
import GraphIR
@testable import Trainer

/// One application of the shared network (every sub-layer, post-norm) for a tiny config of each
/// preset: finite-difference check of ∂h (= ∂injection) and of every sub-layer tensor.
/// Tolerance 5e-3: the layers' 2e-3 leaves too little margin for the dt_bias of a bidirectional layer,
/// whose two scan paths partly cancel (measured 2.3e-3 there, noise-limited; everything else ≤ 5e-4).
@Suite struct TrainerLayerNetworkTests {
    static let tolerance = 5e-3

    static let cases: [(Preset, ScanDirection)] = [
        (.trmAttn, .causal), (.trMamba2Attn, .causal), (.trmMlpT, .causal), (.trMamba2MlpT, .causal),
        (.trMamba2Attn, .bidirectional),
    ]

    @Test(arguments: 0..<cases.count)
    func sharedNetworkGradient(index: Int) throws {
        let (preset, direction) = Self.cases[index]
        let config = try TrainerLayerFixtures.tinyConfig(preset, direction: direction)
        let batch = 2, net = SharedNetwork(config: config, batch: batch), n = batch * config.fullSeqLen * config.hidden
        var args = TrainerLayerFixtures.parameters(config, prefix: "L_level.", seed: 60 + UInt64(index))
        #expect(args.count == config.parameterSpecs.filter { $0.name.hasPrefix("L_level.") }.count)
        args["h"] = randomArray(n, seed: 61)
        args["injection"] = randomArray(n, std: 0.5, seed: 62)
        var check = GradientCheck(
            args: args,
            forward: { a in
                net.forward(a["h"]!, injection: a["injection"]!, params: ParameterSet(a)).out.doubles
            },
            backward: { a, d in
                let p = ParameterSet(a)
                var g = p.zeros()
                let (_, saved) = net.forward(a["h"]!, injection: a["injection"]!, params: p)
                let dh = net.backward(d, saved, params: p, grads: &g)
                g["h"] = dh
                g["injection"] = dh
                return g.tensors
            })
        check.steps = TrainerLayerMambaGradientTests.steps
        let errors = check.run()
        report("network-\(preset.rawValue)-\(direction)", errors)
        for (name, e) in errors { #expect(e <= Self.tolerance, "\(preset.rawValue): \(name) relative error \(e)") }
    }
}
